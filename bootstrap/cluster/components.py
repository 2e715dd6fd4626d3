"""The command line of every daemon the cluster runs (pure: paths in, argv out)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bootstrap.cluster.layout import NODE_NAME, ClusterLayout, ClusterNetwork
from bootstrap.cluster.pki import ClusterPki

ADMISSION_PLUGINS = ("NodeRestriction",)


@dataclass(frozen=True)
class Binaries:
    """Where each built program lives."""

    kubernetes: Path
    etcd: Path
    containerd: Path
    coredns: Path

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
