"""Where the local cluster keeps its files, and the addresses it uses.

Everything persistent (binaries, certificates, etcd data, images, volumes) lives under
``<cache>/cluster``; runtime state that must not survive a machine restart (containerd's
sockets and task state) lives under ``/run/airkube``.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from bootstrap.paths import cache_dir

NODE_NAME = "airkube"
CLUSTER_DOMAIN = "cluster.local"
STORAGE_CLASS = "airkube-local"
PROVISIONER_NAME = "airkube.local/host-directory"
CNI_NETWORK_NAME = "airkube"
CNI_BRIDGE = "airkube-cni0"
#: Every iptables chain of our own starts with this, so cleanup finds exactly ours.
CHAIN_PREFIX = "AIRKUBE-"

_NODE_IP = IPv4Address("10.200.0.1")
_POD_CIDR = IPv4Network("10.244.0.0/16")
_NODE_POD_CIDR = IPv4Network("10.244.0.0/24")
_SERVICE_CIDR = IPv4Network("10.96.0.0/16")


@dataclass(frozen=True)
class ClusterNetwork:
    """Addresses used only on this machine.

    The node address sits on the loopback device: pods reach it through the bridge (the host
    accepts packets for any local address), nothing outside can route to it.
    """

    node_ip: IPv4Address = _NODE_IP
    pod_cidr: IPv4Network = _POD_CIDR
    node_pod_cidr: IPv4Network = _NODE_POD_CIDR
    service_cidr: IPv4Network = _SERVICE_CIDR
    apiserver_port: int = 6443
    etcd_client_port: int = 2379
    etcd_peer_port: int = 2380

    @property
    def kubernetes_service_ip(self) -> IPv4Address:
        """The first service address, which the apiserver claims for ``kubernetes.default``."""
        return self.service_cidr.network_address + 1

    @property
    def dns_ip(self) -> IPv4Address:
        """Cluster DNS answers on the node address, so pods reach it without a Service."""
        return self.node_ip

    @property
    def apiserver_url(self) -> str:
        return f"https://{self.node_ip}:{self.apiserver_port}"


@dataclass(frozen=True)
class ClusterLayout:
    """Every path the cluster uses, derived from one root."""

    root: Path
    run_root: Path = Path("/run/airkube")

    @classmethod
    def default(cls) -> ClusterLayout:
        return cls(root=cache_dir() / "cluster")

    @property
    def bin_root(self) -> Path:
        return self.root / "bin"

    @property
    def build_root(self) -> Path:
        return self.root / "build"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def cni_conf_dir(self) -> Path:
        return self.config / "cni"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def etcd_data(self) -> Path:
        return self.data / "etcd"

    @property
    def containerd_root(self) -> Path:
        return self.data / "containerd"

    @property
    def containerd_state(self) -> Path:
        return self.run_root / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd_state / "containerd.sock"

    @property
    def kubelet_root(self) -> Path:
        return self.data / "kubelet"

    @property
    def pod_logs(self) -> Path:
        return self.data / "pod-logs"

    @property
    def cni_ipam_dir(self) -> Path:
        return self.data / "cni-ipam"

    @property
    def volumes(self) -> Path:
        """Host folders behind the PersistentVolumes the provisioner creates."""
        return self.data / "volumes"

    @property
    def images(self) -> Path:
        """Image archives made locally (pause, the test image)."""
        return self.root / "images"

    @property
    def state_file(self) -> Path:
        """What ``up`` changed on the host that ``down`` must undo."""
        return self.root / "host-state.json"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    def kubeconfig_for(self, component: str) -> Path:
        return self.config / f"{component}.kubeconfig"
