"""The local cluster behaves like a real Kubernetes: nodes, images, Services, DNS, volumes,
RBAC, and a restart that keeps everything."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from bootstrap import cluster
from bootstrap.cluster.layout import ClusterLayout
from bootstrap.cluster.network import containment_rules
from bootstrap.cluster.provenance import fill_mirror, obtain
from bootstrap.cluster.releases import machine_arch, mirror_path, release_archive
from bootstrap.cluster.versions import (
    CONTAINERD,
    COREDNS,
    ETCD,
    KUBERNETES,
    coredns_program,
    go_programs,
)
from bootstrap.errors import AirkubeError
from bootstrap.kube import KubeClients, clients, pod_log
from tests.e2e.pods import connection_verdict, pod, run_to_completion, wait_phase
from tests.e2e.waiting import wait_for
from tests.release_mirror import serving

pytestmark = pytest.mark.cluster

T = TypeVar("T")


def pvc(name: str, mode: str = "ReadWriteMany") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": [mode], "resources": {"requests": {"storage": "64Mi"}}},
    }


def volume_pod(name: str, image: str, claim: str, script: str) -> dict[str, Any]:
    return pod(
        name,
        image,
        script,
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
        container={"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
    )


def wait_bound(kube: KubeClients, namespace: str, name: str) -> None:
    wait_for(
        f"claim {namespace}/{name} to bind",
        lambda: (
            kube.core.read_namespaced_persistent_volume_claim(name, namespace).status.phase
            == "Bound"
        ),
        timeout=60,
    )


def test_node_is_ready_at_the_pinned_version(kube: KubeClients) -> None:
    nodes = kube.core.list_node().items
    assert len(nodes) == 1, f"one node expected, found {[n.metadata.name for n in nodes]}"
    ready = {c.type: c.status for c in nodes[0].status.conditions}.get("Ready")
    assert ready == "True", (
        f"node {nodes[0].metadata.name} is not Ready: {nodes[0].status.conditions}"
    )
    version = kube.version.get_code().git_version
    assert version == KUBERNETES, f"server reports {version}, the pin is {KUBERNETES}"
    kubelet = nodes[0].status.node_info.kubelet_version
    assert kubelet == KUBERNETES, f"kubelet reports {kubelet}, the pin is {KUBERNETES}"


def test_default_storage_class_is_ours(kube: KubeClients) -> None:
    classes = {sc.metadata.name: sc for sc in kube.storage.list_storage_class().items}
    assert cluster.STORAGE_CLASS in classes, f"missing StorageClass, found {sorted(classes)}"
    annotations = classes[cluster.STORAGE_CLASS].metadata.annotations or {}
    default = annotations.get("storageclass.kubernetes.io/is-default-class")
    assert default == "true", f"{cluster.STORAGE_CLASS} is not the default class: {annotations}"


def test_locally_built_image_runs_to_completion_with_logs(
    kube: KubeClients, namespace: str, toolbox_image: str
) -> None:
    started = time.monotonic()
    kube.core.create_namespaced_pod(
        namespace, pod("hello", toolbox_image, "echo hello from $(uname -s)")
    )
    wait_phase(kube, namespace, "hello", {"Running", "Succeeded"})
    latency = time.monotonic() - started
    wait_phase(kube, namespace, "hello", {"Succeeded"})
    logs = pod_log(kube.core, namespace, "hello")
    assert logs.strip() == "hello from Linux", f"unexpected logs: {logs!r}"
    print(f"pod create -> running: {latency:.2f} s")


def test_service_is_reachable_by_dns_name_and_dns_stays_inside(
    kube: KubeClients, namespace: str, toolbox_image: str
) -> None:
    server = pod(
        "web",
        toolbox_image,
        "mkdir -p /www && echo served-by-web > /www/index.html && exec httpd -f -p 8080 -h /www",
        container={
            "ports": [{"containerPort": 8080}],
            "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1},
        },
    )
    kube.core.create_namespaced_pod(namespace, server)
    kube.core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )
    wait_for(
        "pod web to be ready",
        lambda: any(
            c.type == "Ready" and c.status == "True"
            for c in kube.core.read_namespaced_pod("web", namespace).status.conditions or []
        ),
    )
    # Static busybox's wget crashes in glibc's service lookup; nslookup asks cluster DNS itself
    # and nc needs no lookup at all.
    name = f"web.{namespace}.svc.cluster.local"
    script = (
        f"address=$(nslookup {name} | "
        "awk '/^Name:/ {found=1} found && /^Address/ {print $2}'); "
        'echo "resolved=$address"; '
        'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 "$address" 80 && '
        "if nslookup -timeout=2 example.com >/dev/null 2>&1; "
        "then echo LEAKED; else echo CONTAINED; fi"
    )
    logs = run_to_completion(kube, namespace, pod("client", toolbox_image, script))
    lines = logs.split()
    assert any(line.startswith("resolved=10.96.") for line in lines), f"no Service IP: {logs!r}"
    assert "served-by-web" in lines, f"the Service did not answer by its DNS name: {logs!r}"
    assert "CONTAINED" in lines, f"cluster DNS resolved a name outside the cluster: {logs!r}"


def test_pods_reach_the_api_server_through_the_kubernetes_service(
    kube: KubeClients, namespace: str, toolbox_image: str
) -> None:
    # The KubernetesExecutor's scheduler launches worker pods through this address.
    service_ip = kube.core.read_namespaced_service("kubernetes", "default").spec.cluster_ip
    script = f"echo | nc -w 3 {service_ip} 443 >/dev/null && echo reachable"
    logs = run_to_completion(kube, namespace, pod("api-client", toolbox_image, script))
    assert logs.strip() == "reachable", f"{service_ip}:443 is not reachable from a pod: {logs!r}"


def test_pod_traffic_to_other_machines_is_refused_on_this_one(
    kube: KubeClients, namespace: str, toolbox_image: str
) -> None:
    # Check the refusing rule is in place first, so this test never sends a packet out.
    for rule in containment_rules(cluster.ClusterNetwork()):
        present = subprocess.run(["iptables", "-w", "5", "-C", rule.chain, *rule.spec], check=False)
        assert present.returncode == 0, f"containment rule missing: {rule}"
    # 198.51.100.0/24 is reserved for documentation: nothing real answers there anyway.
    script = "nc -w 2 198.51.100.1 80 </dev/null 2>&1; echo rc=$?"
    logs = run_to_completion(kube, namespace, pod("egress", toolbox_image, script))
    assert "Network is unreachable" in logs, f"traffic to another machine was not refused: {logs!r}"


def test_network_policies_are_enforced_both_ways(
    kube: KubeClients, namespace: str, toolbox_image: str
) -> None:
    statuses = {status.name: status for status in cluster.status()}
    assert statuses["network-policies"].healthy, statuses["network-policies"]
    server = pod(
        "guarded",
        toolbox_image,
        "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www",
        container={"readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}},
    )
    kube.core.create_namespaced_pod(namespace, server)
    wait_for(
        "pod guarded to be ready",
        lambda: any(
            c.type == "Ready" and c.status == "True"
            for c in kube.core.read_namespaced_pod("guarded", namespace).status.conditions or []
        ),
    )
    address = kube.core.read_namespaced_pod("guarded", namespace).status.pod_ip

    def verdict(name: str, labels: dict[str, str], expect: str) -> str:
        body = pod(name, toolbox_image, connection_verdict(address, 8080, expect))
        body["metadata"]["labels"] |= labels
        return run_to_completion(kube, namespace, body).strip()

    assert verdict("before", {}, "open") == "open", "no policy yet: the server must answer"
    networking = client.NetworkingV1Api(kube.api_client)
    only_friends = {
        "metadata": {"name": "only-friends"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "guarded"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"role": "friend"}}}],
                    "ports": [{"port": 8080}],
                }
            ],
        },
    }
    networking.create_namespaced_network_policy(namespace, only_friends)
    assert verdict("stranger", {}, "closed") == "closed", "ingress policy not enforced"
    assert verdict("friend", {"role": "friend"}, "open") == "open", "an allowed peer was refused"
    no_way_out = {
        "metadata": {"name": "no-way-out"},
        "spec": {
            "podSelector": {"matchLabels": {"role": "friend", "jailed": "yes"}},
            "policyTypes": ["Egress"],
            "egress": [],
        },
    }
    networking.create_namespaced_network_policy(namespace, no_way_out)
    jailed = verdict("jailed", {"role": "friend", "jailed": "yes"}, "closed")
    assert jailed == "closed", "egress policy not enforced"


def test_read_write_many_volume_is_shared_between_pods(
    kube: KubeClients, namespace: str, toolbox_image: str
) -> None:
    kube.core.create_namespaced_persistent_volume_claim(namespace, pvc("shared"))
    wait_bound(kube, namespace, "shared")
    writer = volume_pod(
        "writer", toolbox_image, "shared", "echo written-by-writer > /data/note; sleep 300"
    )
    kube.core.create_namespaced_pod(namespace, writer)
    wait_phase(kube, namespace, "writer", {"Running"})
    reader = volume_pod(
        "reader",
        toolbox_image,
        "shared",
        "for i in $(seq 100); do test -s /data/note && break; sleep 0.1; done; cat /data/note",
    )
    logs = run_to_completion(kube, namespace, reader)
    assert logs.strip() == "written-by-writer", f"the second pod read {logs!r}"
    modes = kube.core.read_namespaced_persistent_volume_claim(
        "shared", namespace
    ).status.access_modes
    assert modes == ["ReadWriteMany"], f"bound with access modes {modes}"


def test_deleting_a_claim_deletes_its_volume_and_folder(kube: KubeClients, namespace: str) -> None:
    kube.core.create_namespaced_persistent_volume_claim(namespace, pvc("scratch", "ReadWriteOnce"))
    wait_bound(kube, namespace, "scratch")
    claim = kube.core.read_namespaced_persistent_volume_claim("scratch", namespace)
    volume = kube.core.read_persistent_volume(claim.spec.volume_name)
    folder = Path(volume.spec.host_path.path)
    assert folder.is_dir(), f"the volume's folder {folder} does not exist"
    kube.core.delete_namespaced_persistent_volume_claim("scratch", namespace)

    def volume_gone() -> bool:
        try:
            kube.core.read_persistent_volume(claim.spec.volume_name)
        except ApiException as error:
            return error.status == 404
        return False

    wait_for(f"volume {claim.spec.volume_name} to be deleted", volume_gone, timeout=60)
    assert not folder.exists(), f"the folder {folder} outlived its volume"


def test_rbac_denies_a_service_account_until_it_has_a_role(
    kube: KubeClients, namespace: str
) -> None:
    kube.core.create_namespaced_service_account(namespace, {"metadata": {"name": "robot"}})
    user = f"system:serviceaccount:{namespace}:robot"

    def allowed() -> bool:
        review = kube.authorization.create_subject_access_review(
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SubjectAccessReview",
                "spec": {
                    "user": user,
                    "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"],
                    "resourceAttributes": {
                        "namespace": namespace,
                        "verb": "create",
                        "resource": "pods",
                    },
                },
            }
        )
        return bool(review.status.allowed)

    assert not allowed(), f"{user} may create pods without any Role"
    kube.rbac.create_namespaced_role(
        namespace,
        {
            "metadata": {"name": "pod-creator"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}],
        },
    )
    kube.rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": "robot-creates-pods"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "pod-creator",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": namespace}],
        },
    )
    wait_for(f"{user} to be allowed to create pods once bound", allowed, timeout=30)


def test_down_then_up_brings_back_the_same_cluster_with_its_data(
    kube: KubeClients, namespace: str, toolbox_image: str
) -> None:
    kube.core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "marker"}, "data": {"k": "v"}}
    )
    kube.core.create_namespaced_persistent_volume_claim(namespace, pvc("keep", "ReadWriteOnce"))
    wait_bound(kube, namespace, "keep")
    run_to_completion(
        kube, namespace, volume_pod("before", toolbox_image, "keep", "echo kept > /data/file")
    )
    uid_before = kube.core.read_namespace(namespace).metadata.uid

    stopped = cluster.down()
    assert "kube-apiserver" in stopped and "containerd" in stopped, f"down stopped only {stopped}"
    assert all(not item.healthy for item in cluster.status()), "a component survived down"
    started = time.monotonic()
    info = cluster.up()
    print(f"up after down: {time.monotonic() - started:.1f} s")

    again = clients(info.kubeconfig)
    assert again.core.read_namespace(namespace).metadata.uid == uid_before, (
        "a different cluster came back"
    )
    data = again.core.read_namespaced_config_map("marker", namespace).data
    assert data == {"k": "v"}, f"the ConfigMap lost its data: {data}"
    logs = run_to_completion(
        again, namespace, volume_pod("after", toolbox_image, "keep", "cat /data/file")
    )
    assert logs.strip() == "kept", f"the volume lost its data across down/up: {logs!r}"


def test_up_recovers_after_every_component_crashed(
    kube: KubeClients, namespace: str, toolbox_image: str
) -> None:
    for pid_file in ClusterLayout.default().pids.glob("*.pid"):
        pid = json.loads(pid_file.read_text())["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    time.sleep(1)
    assert all(not item.healthy for item in cluster.status()), "a component survived SIGKILL"
    info = cluster.up()
    logs = run_to_completion(
        clients(info.kubeconfig), namespace, pod("revived", toolbox_image, "echo alive")
    )
    assert logs.strip() == "alive", f"a pod after crash recovery printed {logs!r}"


def test_second_up_is_fast_and_changes_nothing(local_cluster: cluster.ClusterInfo) -> None:
    before = {item.name: item.pid for item in cluster.status()}
    started = time.monotonic()
    info = cluster.up()
    elapsed = time.monotonic() - started
    after = {item.name: item.pid for item in cluster.status()}
    assert before == after, f"a second up restarted components: {before} -> {after}"
    fetched = [
        origin.sentence() for origin in info.provenance if origin.path in ("build", "release")
    ]
    assert not fetched, f"a second up built or downloaded again: {fetched}"
    assert elapsed < 30, f"a warm up took {elapsed:.1f} s"


#: What each published program prints for its version, and the flag that asks it.
VERSION_BANNERS = {
    "kube-apiserver": ("--version", f"Kubernetes {KUBERNETES}"),
    "kubelet": ("--version", f"Kubernetes {KUBERNETES}"),
    "etcd": ("--version", f"etcd Version: {ETCD.lstrip('v')}"),
    "containerd": ("--version", CONTAINERD.lstrip("v")),
    "coredns": ("-version", f"CoreDNS-{COREDNS.lstrip('v')}"),
}


def test_the_cluster_programs_should_install_from_release_archives_of_this_build(
    local_cluster: cluster.ClusterInfo, tmp_path: Path
) -> None:
    """The download path end to end, with the real binaries: packed in each project's own
    release layout, served over HTTP, fetched, checked and unpacked into a fresh cache; and
    refused, leaving nothing, when an archive is not what its checksum file says."""
    # The enforcer has no published binary (and is left out of the mirror).
    programs = [p for p in go_programs() if release_archive(p, machine_arch()) is not None]
    packed = fill_mirror(go_programs(), ClusterLayout.default().bin_root, tmp_path / "mirror")
    assert len(packed) == len(programs) == 4, packed
    fresh = tmp_path / "bin"
    with serving(tmp_path / "mirror") as mirror:
        origins = {
            program.name: obtain(
                program, bin_root=fresh, build_root=tmp_path / "work", mirror=mirror.url
            ).path
            for program in programs
        }
        coredns = coredns_program()
        archive = release_archive(coredns, machine_arch())
        assert archive is not None
        served = mirror_path(mirror.root, archive.url)
        served.write_bytes(served.read_bytes() + b"\0")
        other = tmp_path / "other-bin"
        with pytest.raises(AirkubeError, match="it was not used"):
            obtain(coredns, bin_root=other, build_root=tmp_path / "work", mirror=mirror.url)
        assert not list(other.rglob("*")), list(other.rglob("*"))
    assert set(origins.values()) == {"release"}, origins
    for name, (flag, banner) in VERSION_BANNERS.items():
        [binary] = list(fresh.glob(f"*/{name}"))
        shown = subprocess.run([binary, flag], capture_output=True, text=True, check=True)
        assert banner in shown.stdout, f"{binary} {flag} printed {shown.stdout!r}"
