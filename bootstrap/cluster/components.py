"""The cluster's daemons: the command line of each (pure functions: paths in, argv out) and the
table ``up``, ``down`` and ``status`` walk: every component with its health probe, the config
files it reads, and the order of starting and stopping."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bootstrap
from bootstrap import gobuild
from bootstrap.cluster import daemons
from bootstrap.cluster.configs import COREDNS_READY_PORT
from bootstrap.cluster.health import Probe, check, socket_accepts
from bootstrap.cluster.layout import NODE_NAME, ClusterLayout, ClusterNetwork
from bootstrap.cluster.pki import ClusterPki
from bootstrap.cluster.versions import (
    containerd_program,
    coredns_program,
    etcd_program,
    host_network_policies_program,
    kubernetes_program,
)

ADMISSION_PLUGINS = ("NodeRestriction",)
NETWORK_POLICIES_METRICS = "127.0.0.1:10262"
#: The netfilter queue the enforcer reads packets from (any id no other program uses).
NETWORK_POLICIES_QUEUE = 100


@dataclass(frozen=True)
class Binaries:
    """Where each built program lives."""

    kubernetes: Path
    etcd: Path
    containerd: Path
    coredns: Path
    network_policies: Path

    def kube(self, name: str) -> str:
        return str(self.kubernetes / name)


def containerd_argv(bins: Binaries, config: Path) -> list[str]:
    return [str(bins.containerd / "containerd"), "--config", str(config)]


def etcd_argv(
    bins: Binaries, layout: ClusterLayout, pki: ClusterPki, net: ClusterNetwork
) -> list[str]:
    server = pki.pair("etcd-server")
    client_url = f"https://127.0.0.1:{net.etcd_client_port}"
    peer_url = f"https://127.0.0.1:{net.etcd_peer_port}"
    return [
        str(bins.etcd / "etcd"),
        f"--name={NODE_NAME}",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client_url}",
        f"--advertise-client-urls={client_url}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster={NODE_NAME}={peer_url}",
        "--listen-metrics-urls=http://127.0.0.1:2381",
        f"--cert-file={server.cert}",
        f"--key-file={server.key}",
        f"--trusted-ca-file={pki.etcd_ca.cert}",
        "--client-cert-auth=true",
        f"--peer-cert-file={server.cert}",
        f"--peer-key-file={server.key}",
        f"--peer-trusted-ca-file={pki.etcd_ca.cert}",
        "--peer-client-cert-auth=true",
        "--snapshot-count=10000",
        "--quota-backend-bytes=2147483648",
    ]


def apiserver_argv(bins: Binaries, pki: ClusterPki, net: ClusterNetwork) -> list[str]:
    serving = pki.pair("apiserver")
    kubelet_client = pki.pair("apiserver-kubelet-client")
    etcd_client = pki.pair("apiserver-etcd-client")
    return [
        bins.kube("kube-apiserver"),
        f"--advertise-address={net.node_ip}",
        f"--bind-address={net.node_ip}",
        f"--secure-port={net.apiserver_port}",
        f"--etcd-servers=https://127.0.0.1:{net.etcd_client_port}",
        f"--etcd-cafile={pki.etcd_ca.cert}",
        f"--etcd-certfile={etcd_client.cert}",
        f"--etcd-keyfile={etcd_client.key}",
        f"--client-ca-file={pki.ca.cert}",
        f"--tls-cert-file={serving.cert}",
        f"--tls-private-key-file={serving.key}",
        f"--kubelet-client-certificate={kubelet_client.cert}",
        f"--kubelet-client-key={kubelet_client.key}",
        f"--kubelet-certificate-authority={pki.ca.cert}",
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        "--authorization-mode=Node,RBAC",
        # The defaults stay on; NodeRestriction is the one kubeadm adds for Node authorization.
        f"--enable-admission-plugins={','.join(ADMISSION_PLUGINS)}",
        f"--service-cluster-ip-range={net.service_cidr}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki.service_account_public}",
        f"--service-account-signing-key-file={pki.service_account_key}",
        "--allow-privileged=true",
        "--anonymous-auth=true",
        "--profiling=false",
        "--endpoint-reconciler-type=lease",
    ]


def controller_manager_argv(
    bins: Binaries, layout: ClusterLayout, pki: ClusterPki, net: ClusterNetwork
) -> list[str]:
    kubeconfig = layout.kubeconfig_for("controller-manager")
    return [
        bins.kube("kube-controller-manager"),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        "--leader-elect=false",
        "--use-service-account-credentials=true",
        "--allocate-node-cidrs=true",
        f"--cluster-cidr={net.pod_cidr}",
        "--node-cidr-mask-size=24",
        f"--service-cluster-ip-range={net.service_cidr}",
        f"--cluster-signing-cert-file={pki.ca.cert}",
        f"--cluster-signing-key-file={pki.ca.key}",
        f"--root-ca-file={pki.ca.cert}",
        f"--service-account-private-key-file={pki.service_account_key}",
        f"--client-ca-file={pki.ca.cert}",
        "--profiling=false",
    ]


def scheduler_argv(bins: Binaries, layout: ClusterLayout) -> list[str]:
    kubeconfig = layout.kubeconfig_for("scheduler")
    return [
        bins.kube("kube-scheduler"),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        "--leader-elect=false",
        "--profiling=false",
    ]


def kubelet_argv(bins: Binaries, layout: ClusterLayout, net: ClusterNetwork) -> list[str]:
    return [
        bins.kube("kubelet"),
        f"--config={layout.config / 'kubelet.yaml'}",
        f"--kubeconfig={layout.kubeconfig_for('kubelet')}",
        f"--root-dir={layout.kubelet_root}",
        f"--hostname-override={NODE_NAME}",
        f"--node-ip={net.node_ip}",
        "--node-labels=node.kubernetes.io/instance-type=airkube-local",
    ]


def kube_proxy_argv(bins: Binaries, layout: ClusterLayout) -> list[str]:
    return [bins.kube("kube-proxy"), f"--config={layout.config / 'kube-proxy.yaml'}"]


def kube_proxy_cleanup_argv(bins: Binaries) -> list[str]:
    """kube-proxy removes every rule it ever made, then exits."""
    return [bins.kube("kube-proxy"), "--cleanup"]


def coredns_argv(bins: Binaries, layout: ClusterLayout) -> list[str]:
    return [str(bins.coredns / "coredns"), "-conf", str(layout.config / "Corefile")]


def network_policies_argv(bins: Binaries, layout: ClusterLayout) -> list[str]:
    # containerd runs without NRI here, so pod addresses come from the API server.
    return [
        str(bins.network_policies / "kube-network-policies"),
        f"--kubeconfig={layout.kubeconfig_for('network-policies')}",
        f"--hostname-override={NODE_NAME}",
        f"--nfqueue-id={NETWORK_POLICIES_QUEUE}",
        f"--metrics-bind-address={NETWORK_POLICIES_METRICS}",
        "--disable-nri",
        "--v=2",
    ]


# ---------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Component:
    """One daemon of the cluster: how it runs, how its health is judged, what it reads."""

    daemon: daemons.Daemon
    probe: Callable[[], tuple[bool, str]]
    ready_timeout: float
    reads: tuple[Path, ...] = ()
    """Config files it reads only at start: a change to one needs a restart."""


#: The start order, by stage: ``up`` starts each stage, then does what the next one needs
#: (the pause image once the runtime runs, the add-ons once the API server answers); ``down``
#: stops the stages, and the components within them, in reverse.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("runtime", ("containerd",)),
    ("control plane", ("etcd", "kube-apiserver")),
    ("controllers", ("kube-controller-manager", "kube-scheduler")),
    ("node", ("kubelet", "kube-proxy", "network-policies", "coredns", "storage-provisioner")),
)
START_ORDER = tuple(name for _, names in STAGES for name in names)


def binaries(layout: ClusterLayout) -> Binaries:
    """Where the pinned builds live (whether or not they are built yet)."""
    return Binaries(
        kubernetes=gobuild.output_dir(layout.bin_root, kubernetes_program()),
        etcd=gobuild.output_dir(layout.bin_root, etcd_program()),
        containerd=gobuild.output_dir(layout.bin_root, containerd_program()),
        coredns=gobuild.output_dir(layout.bin_root, coredns_program()),
        network_policies=gobuild.output_dir(layout.bin_root, host_network_policies_program()),
    )


def component_table(
    layout: ClusterLayout, net: ClusterNetwork, bins: Binaries
) -> dict[str, Component]:
    pki = ClusterPki(layout.pki)
    admin = pki.pair("admin")
    etcd_client = pki.pair("etcd-healthcheck-client")

    def daemon(
        name: str,
        argv: list[str],
        *,
        extra_path: tuple[Path, ...] = (),
        extra_env: tuple[tuple[str, str], ...] = (),
    ) -> daemons.Daemon:
        return daemons.Daemon(
            name=name,
            argv=tuple(argv),
            log_file=layout.logs / f"{name}.log",
            pid_file=layout.pids / f"{name}.pid",
            extra_path=extra_path,
            extra_env=extra_env,
        )

    def http(probe: Probe) -> Callable[[], tuple[bool, str]]:
        return lambda: check(probe)

    def containerd_probe() -> tuple[bool, str]:
        if not socket_accepts(layout.containerd_socket):
            return False, "socket not accepting connections"
        return True, "ok"

    def enforcer_probe() -> tuple[bool, str]:
        # Its metrics page is its only endpoint; the page itself is no status line.
        answered, detail = check(Probe(f"http://{NETWORK_POLICIES_METRICS}/metrics"))
        return answered, "metrics answer" if answered else detail

    package_root = Path(bootstrap.__file__).resolve().parent.parent
    provisioner = daemon(
        "storage-provisioner",
        [
            sys.executable,
            "-m",
            "bootstrap.cluster.provisioner",
            "--kubeconfig",
            str(layout.kubeconfig_for("storage-provisioner")),
            "--root",
            str(layout.volumes),
            "--heartbeat",
            str(layout.pids / "storage-provisioner.heartbeat"),
        ],
        extra_env=(("PYTHONPATH", str(package_root)),),
    )

    def provisioner_probe() -> tuple[bool, str]:
        heartbeat = layout.pids / "storage-provisioner.heartbeat"
        try:
            age = time.time() - heartbeat.stat().st_mtime
        except FileNotFoundError:
            return False, "no reconcile pass yet"
        return age < 15, f"last pass {age:.0f} s ago"

    return {
        "containerd": Component(
            daemon(
                "containerd",
                containerd_argv(bins, layout.config / "containerd.toml"),
                extra_path=(bins.containerd,),
            ),
            containerd_probe,
            30,
            reads=(layout.config / "containerd.toml",),
        ),
        "etcd": Component(
            daemon("etcd", etcd_argv(bins, layout, pki, net)),
            http(
                Probe(
                    f"https://127.0.0.1:{net.etcd_client_port}/health",
                    pki.etcd_ca.cert,
                    etcd_client.cert,
                    etcd_client.key,
                )
            ),
            60,
        ),
        "kube-apiserver": Component(
            daemon("kube-apiserver", apiserver_argv(bins, pki, net)),
            http(Probe(f"{net.apiserver_url}/readyz", pki.ca.cert, admin.cert, admin.key)),
            120,
        ),
        "kube-controller-manager": Component(
            daemon("kube-controller-manager", controller_manager_argv(bins, layout, pki, net)),
            http(Probe("https://127.0.0.1:10257/healthz", verify=False)),
            60,
            reads=(layout.kubeconfig_for("controller-manager"),),
        ),
        "kube-scheduler": Component(
            daemon("kube-scheduler", scheduler_argv(bins, layout)),
            http(Probe("https://127.0.0.1:10259/healthz", verify=False)),
            60,
            reads=(layout.kubeconfig_for("scheduler"),),
        ),
        "kubelet": Component(
            daemon("kubelet", kubelet_argv(bins, layout, net), extra_path=(bins.containerd,)),
            http(Probe("http://127.0.0.1:10248/healthz")),
            90,
            reads=(layout.config / "kubelet.yaml", layout.kubeconfig_for("kubelet")),
        ),
        "kube-proxy": Component(
            daemon("kube-proxy", kube_proxy_argv(bins, layout)),
            http(Probe("http://127.0.0.1:10256/healthz")),
            60,
            reads=(layout.config / "kube-proxy.yaml", layout.kubeconfig_for("kube-proxy")),
        ),
        "network-policies": Component(
            daemon("network-policies", network_policies_argv(bins, layout)),
            enforcer_probe,
            60,
            reads=(layout.kubeconfig_for("network-policies"),),
        ),
        "coredns": Component(
            daemon("coredns", coredns_argv(bins, layout)),
            http(Probe(f"http://127.0.0.1:{COREDNS_READY_PORT}/ready")),
            60,
            reads=(layout.config / "Corefile", layout.kubeconfig_for("coredns")),
        ),
        "storage-provisioner": Component(
            provisioner,
            provisioner_probe,
            30,
            reads=(layout.kubeconfig_for("storage-provisioner"),),
        ),
    }
