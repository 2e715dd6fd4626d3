"""Pure parts of the local cluster: command lines, pid files, mounts, images, provisioning."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

from bootstrap.cluster import addons, daemons
from bootstrap.cluster.components import (
    START_ORDER,
    Binaries,
    apiserver_argv,
    component_table,
    kubelet_argv,
    network_policies_argv,
)
from bootstrap.cluster.images import import_argv, toolbox_spec
from bootstrap.cluster.layout import PROVISIONER_NAME, ClusterLayout, ClusterNetwork
from bootstrap.cluster.leftovers import is_our_shim, mounts_under
from bootstrap.cluster.lifecycle import can_lower_oom_scores, is_cgroup_v1
from bootstrap.cluster.network import containment_rules, other_bridges
from bootstrap.cluster.oci import ImageFile, ImageSpec, write_image_archive
from bootstrap.cluster.pki import ClusterPki, certificate_specs
from bootstrap.cluster.provisioner import volume_for_claim, wants_volume
from bootstrap.cluster.versions import containerd_program
from bootstrap.gobuild import build_argv, go_binary_name

BINS = Binaries(
    Path("/b/k8s"), Path("/b/etcd"), Path("/b/containerd"), Path("/b/coredns"), Path("/b/netpol")
)


def test_apiserver_should_enforce_node_and_rbac_authorization(tmp_path: Path) -> None:
    argv = apiserver_argv(BINS, ClusterPki(tmp_path), ClusterNetwork())
    assert "--authorization-mode=Node,RBAC" in argv, argv
    assert "--enable-admission-plugins=NodeRestriction" in argv, argv
    assert "--bind-address=10.200.0.1" in argv, "the apiserver listens on the node address only"


def test_kubelet_should_register_under_the_fixed_node_name(tmp_path: Path) -> None:
    argv = kubelet_argv(BINS, ClusterLayout(tmp_path), ClusterNetwork())
    assert argv[0] == "/b/k8s/kubelet", argv
    assert "--hostname-override=airkube" in argv, argv


def test_go_build_should_be_static_tagged_and_trimmed(tmp_path: Path) -> None:
    argv = build_argv("go", containerd_program("v2.4.2"), tmp_path)
    assert argv[:3] == ["go", "build", "-trimpath"], argv
    assert argv[argv.index("-tags") + 1] == "no_btrfs,no_devmapper,no_zfs", argv
    assert f"{tmp_path}/" in argv, "binaries go to the output folder"


def test_etcd_certificates_should_come_from_their_own_authority() -> None:
    specs = {spec.stem: spec for spec in certificate_specs(ClusterNetwork())}
    assert specs["etcd-server"].authority == "etcd-ca", "a cluster cert must not open etcd"
    assert specs["admin"].authority == "ca", specs["admin"]
    assert "10.96.0.1" in specs["apiserver"].ip_addresses, "pods reach it on the service IP"


def test_containment_should_reject_pod_traffic_leaving_the_pod_network() -> None:
    rules = [" ".join(rule.spec) for rule in containment_rules(ClusterNetwork())]
    assert rules[0] == "-s 10.244.0.0/16 -d 10.244.0.0/16 -j ACCEPT", rules
    assert rules[1].startswith("-s 10.244.0.0/16 -j REJECT"), rules


def test_mounts_under_should_list_deepest_first_and_only_ours() -> None:
    mountinfo = "\n".join(
        [
            "1 0 8:1 / / rw - ext4 /dev/root rw",
            "2 1 0:5 / /run/airkube/a rw - tmpfs tmpfs rw",
            "3 2 0:6 / /run/airkube/a/b\\040c rw - overlay overlay rw",
            "4 1 0:7 / /run/airkubeX rw - tmpfs tmpfs rw",
        ]
    )
    found = mounts_under(mountinfo, [Path("/run/airkube")])
    assert found == ["/run/airkube/a/b c", "/run/airkube/a"], found


def test_shim_detection_should_match_only_our_containerd() -> None:
    ours = ["/x/containerd-shim-runc-v2", "-namespace", "k8s.io", "-address", "/run/airkube/c.sock"]
    assert is_our_shim(ours, Path("/run/airkube/c.sock")), "our own shim"
    assert not is_our_shim(
        [*ours[:-1], "/run/containerd/containerd.sock"], Path("/run/airkube/c.sock")
    )
    assert not is_our_shim(["/bin/sleep", "/run/airkube/c.sock"], Path("/run/airkube/c.sock"))


def test_pid_file_should_not_trust_a_reused_pid(tmp_path: Path) -> None:
    daemon = daemons.Daemon("sleeper", (), tmp_path / "log", tmp_path / "pid")
    daemon.pid_file.write_text(json.dumps({"pid": 1, "start_time": "not-the-real-one"}))
    assert daemons.running_pid(daemon) is None, "a different start time means another process"


def test_daemon_should_start_once_and_stop(tmp_path: Path) -> None:
    daemon = daemons.Daemon(
        "sleeper",
        (sys.executable, "-c", "import time; time.sleep(60)"),
        tmp_path / "l",
        tmp_path / "p",
    )
    pid = daemons.start(daemon)
    try:
        assert daemons.start(daemon) == pid, "a running daemon is not started twice"
    finally:
        assert daemons.stop(daemon, timeout=5), "stop reports that it was running"
    assert daemons.running_pid(daemon) is None, "stopped"
    assert not daemon.pid_file.exists(), "pid file removed"


def test_daemon_env_should_drop_proxies() -> None:
    env = daemons.daemon_env([Path("/opt/x")], {"HOME": "/root", "HTTPS_PROXY": "http://p:3128"})
    assert "HTTPS_PROXY" not in env, "the cluster never talks through a proxy"
    assert env["PATH"].startswith("/opt/x:"), env["PATH"]


def test_image_archives_should_hold_the_files_in_both_layouts(tmp_path: Path) -> None:
    payload = tmp_path / "hello"
    payload.write_bytes(b"#!/bin/true\n")
    spec = ImageSpec(
        "airkube.local/hello:1", [ImageFile("/bin/hello", payload)], {"/bin/hi": "hello"}
    )
    oci = write_image_archive(spec, tmp_path / "oci.tar", layout="oci")
    docker = write_image_archive(spec, tmp_path / "docker.tar", layout="docker")
    with tarfile.open(oci) as archive:
        index = json.load(archive.extractfile("index.json"))  # type: ignore[arg-type]
    annotations = index["manifests"][0]["annotations"]
    assert annotations["io.containerd.image.name"] == "airkube.local/hello:1", annotations
    with tarfile.open(docker) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
        with tarfile.open(fileobj=archive.extractfile(manifest[0]["Layers"][0])) as layer:
            names = sorted(layer.getnames())
    assert names == ["bin", "bin/hello", "bin/hi"], names
    assert manifest[0]["RepoTags"] == ["airkube.local/hello:1"], manifest


def test_toolbox_should_link_every_applet_to_busybox() -> None:
    spec = toolbox_spec(Path("/bin/busybox"), ["sh", "wget", "busybox"])
    assert spec.symlinks == {"/bin/sh": "busybox", "/bin/wget": "busybox"}, spec.symlinks


def test_import_should_unpack_into_the_kubernetes_namespace() -> None:
    argv = import_argv(Path("/c/ctr"), Path("/run/c.sock"), Path("/tmp/i.tar"))
    assert argv[argv.index("--namespace") + 1] == "k8s.io", "the kubelet only sees k8s.io"
    assert argv[-1] == "/tmp/i.tar", argv


CLAIM = {
    "metadata": {
        "name": "data",
        "namespace": "team",
        "uid": "1234",
        "annotations": {"volume.kubernetes.io/storage-provisioner": PROVISIONER_NAME},
    },
    "spec": {
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": "airkube-local",
    },
    "status": {"phase": "Pending"},
}


def test_provisioner_should_claim_only_pending_claims_of_its_class() -> None:
    assert wants_volume(CLAIM), "pending claim annotated for us"
    other = {**CLAIM, "metadata": {**CLAIM["metadata"], "annotations": {}}}
    assert not wants_volume(other), "claims of another provisioner are left alone"


def test_provisioner_volume_should_be_prebound_with_the_claims_modes() -> None:
    volume = volume_for_claim(CLAIM, Path("/v/team-data-1234"), "Delete")
    assert volume["spec"]["claimRef"]["uid"] == "1234", volume["spec"]["claimRef"]
    assert volume["spec"]["accessModes"] == ["ReadWriteMany"], volume["spec"]
    assert volume["spec"]["hostPath"]["path"] == "/v/team-data-1234", volume["spec"]


def test_cli_should_offer_the_cluster_actions() -> None:
    for action in ("up", "down", "status", "kubeconfig"):
        done = subprocess.run(
            [sys.executable, "-m", "bootstrap.cli", "cluster", action, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"'cluster {action} --help' failed: {done.stderr}"


def test_go_binary_name_should_skip_the_major_version_suffix() -> None:
    assert go_binary_name("go.etcd.io/etcd/server/v3") == "server", "go names it after 'server'"
    assert go_binary_name("github.com/coredns/coredns") == "coredns", "plain last element"


def test_oom_score_capability_should_be_read_from_the_effective_set() -> None:
    assert can_lower_oom_scores("CapEff:\t000001ffffffffff\n"), "all capabilities"
    assert not can_lower_oom_scores("CapEff:\t000001fffeffffff\n"), "CAP_SYS_RESOURCE missing"


def test_cgroup_version_should_follow_the_unified_hierarchy_marker(tmp_path: Path) -> None:
    assert is_cgroup_v1(tmp_path), "no cgroup.controllers file: v1"
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    assert not is_cgroup_v1(tmp_path), "cgroup.controllers present: v2"


def test_forwarding_is_left_on_while_another_bridge_exists() -> None:
    listed = (
        "5: airkube-cni0: <BROADCAST,MULTICAST,UP> mtu 1500\n"
        "7: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500\n"
    )
    assert other_bridges(listed) == ["docker0"], "the cluster's own bridge does not count"


def test_every_component_should_have_exactly_one_place_in_the_start_order(tmp_path: Path) -> None:
    table = component_table(ClusterLayout(tmp_path), ClusterNetwork(), BINS)
    assert sorted(START_ORDER) == sorted(table), "up, down and status walk STAGES only"
    assert len(set(START_ORDER)) == len(START_ORDER)
    assert START_ORDER.index("containerd") < START_ORDER.index("kube-apiserver")
    assert START_ORDER.index("kube-apiserver") < START_ORDER.index("kubelet")


def test_a_changed_config_file_should_restart_the_components_that_read_it(tmp_path: Path) -> None:
    layout = ClusterLayout(tmp_path)
    table = component_table(layout, ClusterNetwork(), BINS)
    readers = {name for name, c in table.items() if layout.config / "kubelet.yaml" in c.reads}
    assert readers == {"kubelet"}
    written = {path for c in table.values() for path in c.reads}
    assert layout.kubeconfig_for("storage-provisioner") in written


def test_the_policy_enforcer_should_watch_as_its_own_least_privileged_user(tmp_path: Path) -> None:
    argv = network_policies_argv(BINS, ClusterLayout(tmp_path))
    assert argv[0] == "/b/netpol/kube-network-policies"
    assert f"--kubeconfig={tmp_path}" in " ".join(argv) and "--disable-nri" in argv, argv
    rules = next(
        o["rules"]
        for o in addons.rbac_objects()
        if o["kind"] == "ClusterRole" and o["metadata"]["name"] == addons.NETWORK_POLICIES_USER
    )
    verbs = {verb for rule in rules for verb in rule["verbs"]}
    assert verbs == {"list", "watch"}, rules
