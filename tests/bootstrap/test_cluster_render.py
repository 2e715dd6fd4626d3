"""The cluster's generated text: Go wrapper modules, component configs, kubeconfigs."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml

from bootstrap.cluster.configs import UNREACHABLE_REGISTRY, render_all
from bootstrap.cluster.layout import ClusterLayout, ClusterNetwork
from bootstrap.cluster.pki import ClusterPki
from bootstrap.cluster.render import render
from bootstrap.cluster.versions import etcd_program, kubernetes_program
from bootstrap.errors import AirkubeError
from bootstrap.gobuild import parse_upstream_go_mod, render_wrapper_go_mod

UPSTREAM_GO_MOD = """\
// generated header
module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
\tgithub.com/blang/semver/v4 v4.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go // local
\tgithub.com/example/forked => github.com/example/fork v1.0.0
)
"""


@pytest.fixture
def rendered(tmp_path: Path) -> dict[str, str]:
    layout = ClusterLayout(root=tmp_path / "cluster", run_root=tmp_path / "run")
    files = render_all(
        layout,
        ClusterNetwork(),
        ClusterPki(layout.pki),
        runc=Path("/usr/sbin/runc"),
        cni_bin_dir=Path("/usr/lib/cni"),
        cgroup_v1=True,
        pause_image="airkube.local/pause:1",
    )
    return {path.name: text for path, text in files.items()}


class TestGoWrapper:
    def test_should_read_go_directive_godebug_and_local_replacements(self) -> None:
        go, godebug, local = parse_upstream_go_mod(UPSTREAM_GO_MOD)
        assert go == "1.26.0", "the go directive is copied from upstream"
        assert godebug == ["godebug default=go1.26"], "godebug lines are copied"
        assert local == ["k8s.io/api", "k8s.io/client-go"], "only folder replacements count"

    def test_should_replace_staging_modules_with_published_releases(self) -> None:
        text = render_wrapper_go_mod(kubernetes_program("v1.37.0"), UPSTREAM_GO_MOD)
        assert "require k8s.io/kubernetes v1.37.0" in text, text
        assert "k8s.io/api => k8s.io/api v0.37.0" in text, text
        assert "k8s.io/client-go => k8s.io/client-go v0.37.0" in text, text
        assert "github.com/example" not in text, "non-staging replacements are not copied"
        assert "\tk8s.io/kubernetes/cmd/kubelet\n" in text, "each command is a tool package"
        assert "godebug default=go1.26" in text, text

    def test_should_leave_out_replace_block_without_staging(self) -> None:
        text = render_wrapper_go_mod(etcd_program("v3.7.3"), UPSTREAM_GO_MOD)
        assert "replace" not in text, "etcd's own folder replacements must not be copied"
        assert "require go.etcd.io/etcd/server/v3 v3.7.3" in text, text

    def test_should_set_version_ldflags_for_both_version_packages(self) -> None:
        flags = " ".join(kubernetes_program("v1.37.0").ldflags)
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
            assert f"-X {package}.gitVersion=v1.37.0" in flags, flags
            assert f"-X {package}.gitMinor=37" in flags, flags


class TestRender:
    def test_should_name_a_missing_value(self) -> None:
        with pytest.raises(AirkubeError, match="Missing configuration value: dns_ip"):
            render("resolv.conf.j2")

    def test_containerd_config_should_be_valid_toml_and_pull_from_nowhere(
        self, rendered: dict[str, str]
    ) -> None:
        config = tomllib.loads(rendered["containerd.toml"])
        assert config["version"] == 3, "containerd 2 reads config version 3"
        images = config["plugins"]["io.containerd.cri.v1.images"]
        assert images["pinned_images"]["sandbox"] == "airkube.local/pause:1", images
        hosts = tomllib.loads(rendered["hosts.toml"])
        assert hosts["server"] == UNREACHABLE_REGISTRY, "registries resolve to loopback only"

    def test_kubelet_config_should_allow_cgroup_v1_and_use_cluster_dns(
        self, rendered: dict[str, str]
    ) -> None:
        kubelet = yaml.safe_load(rendered["kubelet.yaml"])
        assert kubelet["failCgroupV1"] is False, "this host runs cgroup v1"
        assert kubelet["authorization"]["mode"] == "Webhook", kubelet["authorization"]
        assert kubelet["authentication"]["anonymous"]["enabled"] is False, "no anonymous kubelet"
        assert kubelet["clusterDNS"] == [str(ClusterNetwork().dns_ip)], kubelet["clusterDNS"]

    def test_cni_config_should_not_masquerade_pod_traffic(self, rendered: dict[str, str]) -> None:
        conflist = json.loads(rendered["10-airkube.conflist"])
        bridge = conflist["plugins"][0]
        assert bridge["ipMasq"] is False, "pods must not reach outside through the host"
        assert bridge["ipam"]["ranges"] == [[{"subnet": "10.244.0.0/24"}]], bridge["ipam"]

    def test_corefile_should_not_forward(self, rendered: dict[str, str]) -> None:
        corefile = rendered["Corefile"]
        assert "forward" not in corefile.replace("# ", "").split("{", 1)[1], corefile
        assert "kubernetes cluster.local" in corefile, corefile

    def test_kubeconfigs_should_point_at_the_node_address(self, rendered: dict[str, str]) -> None:
        admin = yaml.safe_load(rendered["kubeconfig"])
        assert admin["clusters"][0]["cluster"]["server"] == "https://10.200.0.1:6443", admin
        kubelet = yaml.safe_load(rendered["kubelet.kubeconfig"])
        assert kubelet["users"][0]["name"] == "system:node:airkube", "Node authorizer identity"
