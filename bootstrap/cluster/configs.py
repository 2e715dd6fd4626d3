"""Every configuration file the cluster's components read, rendered from the templates."""

from __future__ import annotations

from pathlib import Path

from bootstrap.cluster.layout import (
    CLUSTER_DOMAIN,
    CNI_BRIDGE,
    CNI_NETWORK_NAME,
    NODE_NAME,
    ClusterLayout,
    ClusterNetwork,
)
from bootstrap.cluster.pki import ClusterPki
from bootstrap.cluster.render import render

COREDNS_HEALTH_PORT = 10280
COREDNS_READY_PORT = 10281
CLUSTER_NAME = "airkube"
#: Where registries resolve to: the discard port on loopback, where nothing listens.
UNREACHABLE_REGISTRY = "https://127.0.0.1:9"

#: kubeconfig name -> (certificate stem, user name)
KUBECONFIG_USERS = {
    "controller-manager": ("controller-manager", "system:kube-controller-manager"),
    "scheduler": ("scheduler", "system:kube-scheduler"),
    "kubelet": ("kubelet-client", f"system:node:{NODE_NAME}"),
    "kube-proxy": ("kube-proxy", "system:kube-proxy"),
    "coredns": ("coredns", "airkube:coredns"),
    "storage-provisioner": ("storage-provisioner", "airkube:storage-provisioner"),
    "network-policies": ("network-policies", "airkube:network-policies"),
}


def kubeconfig_text(pki: ClusterPki, net: ClusterNetwork, stem: str, user: str) -> str:
    pair = pki.pair(stem)
    return render(
        "kubeconfig.yaml.j2",
        cluster_name=CLUSTER_NAME,
        server=net.apiserver_url,
        ca_file=pki.ca.cert,
        user=user,
        cert_file=pair.cert,
        key_file=pair.key,
    )


def render_all(
    layout: ClusterLayout,
    net: ClusterNetwork,
    pki: ClusterPki,
    *,
    runc: Path,
    cni_bin_dir: Path,
    cgroup_v1: bool,
    pause_image: str,
    restrict_oom_score_adj: bool = False,
) -> dict[Path, str]:
    """Every config file, by the path it is written to (pure)."""
    files: dict[Path, str] = {}
    for name, (stem, user) in KUBECONFIG_USERS.items():
        files[layout.kubeconfig_for(name)] = kubeconfig_text(pki, net, stem, user)
    files[layout.admin_kubeconfig] = kubeconfig_text(pki, net, "admin", "airkube-admin")
    files[layout.config / "containerd.toml"] = render(
        "containerd.toml.j2",
        root=layout.containerd_root,
        state=layout.containerd_state,
        socket=layout.containerd_socket,
        pause_image=pause_image,
        restrict_oom_score_adj=restrict_oom_score_adj,
        registry_config_dir=layout.config / "registries",
        runc=runc,
        runc_root=layout.run_root / "runc",
        cni_bin_dir=cni_bin_dir,
        cni_conf_dir=layout.cni_conf_dir,
    )
    files[layout.config / "registries" / "_default" / "hosts.toml"] = render(
        "registry-hosts.toml.j2", unreachable_url=UNREACHABLE_REGISTRY
    )
    files[layout.cni_conf_dir / "10-airkube.conflist"] = render(
        "cni.conflist.j2",
        network_name=CNI_NETWORK_NAME,
        bridge=CNI_BRIDGE,
        ipam_dir=layout.cni_ipam_dir,
        pod_subnet=net.node_pod_cidr,
    )
    files[layout.config / "resolv.conf"] = render("resolv.conf.j2", dns_ip=net.dns_ip)
    serving = pki.pair("kubelet-server")
    files[layout.config / "kubelet.yaml"] = render(
        "kubelet-config.yaml.j2",
        node_ip=net.node_ip,
        containerd_socket=layout.containerd_socket,
        cgroup_v1=cgroup_v1,
        ca_file=pki.ca.cert,
        serving_cert=serving.cert,
        serving_key=serving.key,
        cluster_domain=CLUSTER_DOMAIN,
        dns_ip=net.dns_ip,
        resolv_conf=layout.config / "resolv.conf",
        node_pod_cidr=net.node_pod_cidr,
        pod_logs_dir=layout.pod_logs,
    )
    files[layout.config / "kube-proxy.yaml"] = render(
        "kube-proxy-config.yaml.j2",
        kubeconfig=layout.kubeconfig_for("kube-proxy"),
        node_name=NODE_NAME,
        pod_cidr=net.pod_cidr,
        node_ip=net.node_ip,
    )
    files[layout.config / "Corefile"] = render(
        "Corefile.j2",
        cluster_domain=CLUSTER_DOMAIN,
        listen_ip=net.dns_ip,
        health_port=COREDNS_HEALTH_PORT,
        ready_port=COREDNS_READY_PORT,
        kubeconfig=layout.kubeconfig_for("coredns"),
        context=CLUSTER_NAME,
    )
    return files


def write_changed(files: dict[Path, str]) -> list[Path]:
    """Write the files whose content differs; return those that changed."""
    changed = []
    for path, text in files.items():
        if path.is_file() and path.read_text() == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        changed.append(path)
    return changed
