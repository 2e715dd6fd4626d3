"""Pinned versions of every piece of the local cluster.

Why these: Kubernetes 1.37 is the newest release on the Go module proxy. containerd's own support
table pairs 1.37 with containerd 2.3+/2.4+, so containerd is built from its Go module (Debian's
1.6.20 is older than even 1.33 accepts). Both still run on cgroup v1 hosts: the kubelet only when
its ``failCgroupV1`` check is switched off, containerd until at least 2029. etcd 3.7 is what
kubeadm deploys for this release; CoreDNS is the version kubeadm 1.37 ships.
"""

from __future__ import annotations

from pathlib import Path

from bootstrap.cluster import kernel
from bootstrap.gobuild import GoProgram, SourceArchive, SourceEdit

KUBERNETES = "v1.37.0"
ETCD = "v3.7.3"
CONTAINERD = "v2.4.2"
COREDNS = "v1.14.6"
#: The NetworkPolicy enforcer kind runs; built from its release snapshot or module.
NETWORK_POLICIES = "v1.1.1"

#: Debian bookworm packages the cluster runs on, with their exact versions.
DEBIAN_PACKAGES: dict[str, str] = {
    "runc": "1.1.5+ds1-1+deb12u1",
    "containernetworking-plugins": "1.1.1+ds1-3+b5",
    "iptables": "1.8.9-2",
    "conntrack": "1:1.4.7-1+b2",
    # A static shell and tool set, packed as the small test/utility image.
    "busybox-static": "1:1.35.0-4+deb12u1+b1",
}


def _kubernetes_ldflags(version: str) -> tuple[str, ...]:
    major, minor = version.lstrip("v").split(".")[:2]
    values = {
        "gitVersion": version,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
    }
    return tuple(
        f"-X {package}.{key}={value}"
        for key, value in values.items()
        for package in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version")
    )


def kubernetes_program(version: str = KUBERNETES) -> GoProgram:
    """The control plane, the node agents and kubectl."""
    minor = version.lstrip("v").split(".")[1]
    commands = (
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubelet",
        "kube-proxy",
        "kubectl",
    )
    return GoProgram(
        name="kubernetes",
        module="k8s.io/kubernetes",
        version=version,
        commands={command: f"k8s.io/kubernetes/cmd/{command}" for command in commands},
        ldflags=_kubernetes_ldflags(version),
        staging_version=f"v0.{minor}.{version.split('.')[2]}",
    )


def etcd_program(version: str = ETCD) -> GoProgram:
    return GoProgram(
        name="etcd",
        module="go.etcd.io/etcd/server/v3",
        version=version,
        commands={"etcd": "go.etcd.io/etcd/server/v3"},
    )


def containerd_program(version: str = CONTAINERD) -> GoProgram:
    return GoProgram(
        name="containerd",
        module="github.com/containerd/containerd/v2",
        version=version,
        commands={
            "containerd": "github.com/containerd/containerd/v2/cmd/containerd",
            "containerd-shim-runc-v2": (
                "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"
            ),
            "ctr": "github.com/containerd/containerd/v2/cmd/ctr",
        },
        ldflags=(f"-X github.com/containerd/containerd/v2/version.Version={version.lstrip('v')}",),
        # btrfs needs C headers; the cluster uses the overlayfs snapshotter only.
        tags=("no_btrfs", "no_devmapper", "no_zfs"),
    )


def coredns_program(version: str = COREDNS) -> GoProgram:
    return GoProgram(
        name="coredns",
        module="github.com/coredns/coredns",
        version=version,
        commands={"coredns": "github.com/coredns/coredns"},
    )


_KERNEL_OVERLAY = Path(__file__).parent / "overlays" / "kube-network-policies"
_CONTROLLER = "pkg/dataplane/controller.go"
# Both places upstream builds the nftables ``queue`` statement (the postrouting chain and the
# DNS workaround's prerouting chain).
_QUEUE_FIRST_LINE = "\tqueue := &expr.Queue{Num: uint16(c.config.QueueID)}\n"
_NFT_QUEUE_STATEMENT = f"""{_QUEUE_FIRST_LINE}\tif c.config.FailOpen {{
\t\tqueue.Flag = expr.QueueFlagBypass
\t}}
"""


def network_policies_program(
    version: str = NETWORK_POLICIES, *, nft_queue: bool = True, queue_conntrack: bool = True
) -> GoProgram:
    """kube-network-policies, the standard NetworkPolicy enforcer (nftables and nfqueue).

    Upstream's own, unless the kernel lacks what its dataplane relies on; then two changes,
    each only where needed: without nft_queue the same queue is reached through the xtables
    NFQUEUE target (nft_compat); without the nfnetlink conntrack glue, which the label marking
    an accepted connection needs, the packets of established connections pass in the kernel.
    """
    edits: list[SourceEdit] = []
    variant = []
    if not queue_conntrack:
        variant.append("ct-accept")
        accept = "\tnft.AddRule(acceptEstablished(table, chain))\n"
        edits.append(SourceEdit(_CONTROLLER, _QUEUE_FIRST_LINE, accept + _QUEUE_FIRST_LINE, 2))
    if not nft_queue:
        variant.append("xt-queue")
        xt_queue = "\tqueue := xtablesQueue(c.config.QueueID, c.config.FailOpen)\n"
        edits.append(SourceEdit(_CONTROLLER, _NFT_QUEUE_STATEMENT, xt_queue, 2))
    return GoProgram(
        name="kube-network-policies",
        module="sigs.k8s.io/kube-network-policies",
        version=version,
        commands={"kube-network-policies": "./cmd/kube-network-policies/standard"},
        archive=SourceArchive(
            file_name=f"kube-network-policies-{version}.tar.gz",
            sha256="1fc3ac372d83459c40d0aa512dc49bef6ab68985242b973c88ea174807c01477",
            repository="https://github.com/kubernetes-sigs/kube-network-policies",
        ),
        proxy_fallback=True,
        overlay=_KERNEL_OVERLAY if edits else None,
        edits=tuple(edits) or None,
        variant="-".join(variant) or None,
    )


def host_network_policies_program() -> GoProgram:
    """The enforcer build this machine's kernel needs."""
    return network_policies_program(
        nft_queue=kernel.has_nft_queue(), queue_conntrack=kernel.has_queue_conntrack()
    )


def go_programs() -> tuple[GoProgram, ...]:
    """Every Go build the cluster needs, Kubernetes first because it takes longest."""
    return (
        kubernetes_program(),
        etcd_program(),
        containerd_program(),
        coredns_program(),
        host_network_policies_program(),
    )
