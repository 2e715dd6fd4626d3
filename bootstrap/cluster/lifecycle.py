"""Bringing the local cluster up, down, and reporting on it.

``up`` is idempotent: every step first checks whether its work is already done (built binary,
certificate, config file, running process, imported image), so a second ``up`` only probes.
A previous crash is recognised by containerd not running: its leftover shims, containers,
mounts and addresses are cleared before anything starts again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bootstrap import apt, filelock, gobuild
from bootstrap.cluster import daemons, leftovers, network, releases
from bootstrap.cluster.addons import apply_addons
from bootstrap.cluster.components import (
    STAGES,
    START_ORDER,
    Binaries,
    Component,
    binaries,
    component_table,
    kube_proxy_cleanup_argv,
)
from bootstrap.cluster.configs import render_all, write_changed
from bootstrap.cluster.health import socket_accepts, wait_until
from bootstrap.cluster.images import (
    PAUSE_IMAGE,
    build_pause_archive,
    ctr_argv,
    image_present,
    import_archive,
)
from bootstrap.cluster.layout import NODE_NAME, ClusterLayout, ClusterNetwork
from bootstrap.cluster.pki import ensure_pki
from bootstrap.cluster.provenance import BinarySource, Provenance, obtain
from bootstrap.cluster.versions import (
    DEBIAN_PACKAGES,
    KUBERNETES,
    go_programs,
)
from bootstrap.errors import AirkubeError
from bootstrap.kube import clients
from bootstrap.process import require_program, run

log = logging.getLogger(__name__)

CNI_BIN_DIR = Path("/usr/lib/cni")


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    healthy: bool
    detail: str
    log_file: Path


@dataclass(frozen=True)
class ClusterInfo:
    kubeconfig: Path
    server: str
    version: str
    seconds: float
    provenance: tuple[Provenance, ...] = ()


def is_cgroup_v1(cgroup_root: Path = Path("/sys/fs/cgroup")) -> bool:
    """cgroup v2 has one unified hierarchy with a ``cgroup.controllers`` file at its root."""
    return not (cgroup_root / "cgroup.controllers").is_file()


_CAP_SYS_RESOURCE = 24


def can_lower_oom_scores(status_text: str | None = None) -> bool:
    """Whether this process holds CAP_SYS_RESOURCE, which lowering an OOM score needs."""
    text = status_text if status_text is not None else Path("/proc/self/status").read_text()
    for line in text.splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> _CAP_SYS_RESOURCE & 1)
    return False


def kubeconfig_path(layout: ClusterLayout | None = None) -> Path:
    """The cluster administrator's kubeconfig (it exists once ``up`` has run)."""
    return (layout or ClusterLayout.default()).admin_kubeconfig


def _require_root() -> None:
    if os.geteuid() != 0:
        raise AirkubeError(
            "the local cluster needs root (it runs containerd, the kubelet and iptables)",
            hint="run it as root, for example: sudo airkube cluster up",
        )


def _ensure_prerequisites() -> None:
    gobuild.go_toolchain()
    require_program("gcc", hint="install it with: apt-get install gcc libc6-dev")
    apt.ensure_packages(DEBIAN_PACKAGES)
    for program in ("iptables", "iptables-save", "ip", "umount"):
        require_program(program, hint="install it with: apt-get install iptables iproute2 mount")
    if not (CNI_BIN_DIR / "bridge").is_file():
        raise AirkubeError(
            f"the CNI plugins are missing from {CNI_BIN_DIR}",
            hint="install them with: apt-get install containernetworking-plugins",
        )


def build(
    layout: ClusterLayout | None = None, *, source: BinarySource = "auto", mirror: str | None = None
) -> tuple[Binaries, tuple[Provenance, ...]]:
    """Find in the cache, download or build every pinned program; where they are, and how
    each got there."""
    layout = layout or ClusterLayout.default()
    mirror = mirror or releases.mirror_from_env()
    found = []
    for program in go_programs():
        origin = obtain(
            program,
            bin_root=layout.bin_root,
            build_root=layout.build_root,
            source=source,
            mirror=mirror,
        )
        log.info("%s", origin.sentence())
        found.append(origin)
    return binaries(layout), tuple(found)


def _clear_crash_leftovers(layout: ClusterLayout, components: dict[str, Component]) -> None:
    """When containerd is not running, nothing it started may still be running either."""
    if daemons.running_pid(components["containerd"].daemon) is not None:
        return
    killed = leftovers.kill_shims(layout.containerd_socket) + leftovers.kill_pod_processes()
    unmounted = leftovers.unmount_under(
        [layout.run_root, layout.kubelet_root, layout.containerd_root]
    )
    if killed or unmounted:
        log.info("cleared a previous run: %d processes, %d mounts", killed, unmounted)
    # Pod addresses of pods that no longer exist; the kubelet recreates the pods.
    shutil.rmtree(layout.cni_ipam_dir, ignore_errors=True)
    shutil.rmtree(layout.run_root, ignore_errors=True)


def _start(component: Component) -> None:
    daemons.start(component.daemon)
    name = component.daemon.name

    def ready() -> bool:
        if daemons.running_pid(component.daemon) is None:
            raise AirkubeError(
                f"{name} exited during startup; last log lines:\n"
                + daemons.log_tail(component.daemon),
                hint=f"full log: {component.daemon.log_file}",
            )
        return component.probe()[0]

    wait_until(
        name,
        ready,
        timeout=component.ready_timeout,
        on_timeout=lambda: daemons.log_tail(component.daemon),
    )


def _wait_node_ready(layout: ClusterLayout, timeout: float = 120) -> None:
    kube = clients(layout.admin_kubeconfig)

    def ready() -> bool:
        try:
            node = kube.core.read_node(NODE_NAME)
        except Exception:
            return False
        return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])

    wait_until(f"node {NODE_NAME}", ready, timeout=timeout, interval=0.5)


def _exclusive(layout: ClusterLayout) -> contextlib.AbstractContextManager[None]:
    """One ``up`` or ``down`` at a time: test sessions and users may call them concurrently."""
    return filelock.exclusive(
        layout.root / ".lock", waiting="waiting for another airkube cluster command to finish"
    )


def up(
    layout: ClusterLayout | None = None,
    net: ClusterNetwork | None = None,
    *,
    source: BinarySource = "auto",
    mirror: str | None = None,
) -> ClusterInfo:
    """Get what is missing (downloaded where published, else built), start what is not
    running, and wait for a Ready node."""
    layout = layout or ClusterLayout.default()
    _require_root()
    with _exclusive(layout):
        return _up(layout, net or ClusterNetwork(), source=source, mirror=mirror)


def _up(
    layout: ClusterLayout, net: ClusterNetwork, *, source: BinarySource, mirror: str | None
) -> ClusterInfo:
    started = time.monotonic()
    _ensure_prerequisites()
    bins, provenance = build(layout, source=source, mirror=mirror)
    pki = ensure_pki(layout, net)
    pause_archive = build_pause_archive(layout)
    runc = Path(require_program("runc", hint="install it with: apt-get install runc"))
    files = render_all(
        layout,
        net,
        pki,
        runc=runc,
        cni_bin_dir=CNI_BIN_DIR,
        cgroup_v1=is_cgroup_v1(),
        pause_image=PAUSE_IMAGE,
        restrict_oom_score_adj=not can_lower_oom_scores(),
    )
    changed = write_changed(files)
    components = component_table(layout, net, bins)
    # Judge a crash before restarting anything: a config restart is not a crash.
    _clear_crash_leftovers(layout, components)
    _restart_changed(components, changed)
    for folder in (layout.logs, layout.pids, layout.volumes, layout.etcd_data.parent):
        folder.mkdir(parents=True, exist_ok=True)
    layout.etcd_data.mkdir(mode=0o700, exist_ok=True)
    network.set_up(layout, net)
    ctr = bins.containerd / "ctr"

    def import_pause_image() -> None:
        if not image_present(ctr, layout.containerd_socket, PAUSE_IMAGE):
            import_archive(ctr, layout.containerd_socket, pause_archive)

    after_stage: dict[str, Callable[[], None]] = {
        "runtime": import_pause_image,
        "control plane": lambda: apply_addons(clients(layout.admin_kubeconfig)),
    }
    for stage, names in STAGES:
        for name in names:
            _start(components[name])
        after_stage.get(stage, lambda: None)()
    _wait_node_ready(layout)
    version = clients(layout.admin_kubeconfig).version.get_code().git_version
    elapsed = time.monotonic() - started
    log.info("cluster is up (Kubernetes %s) in %.1f s", version, elapsed)
    return ClusterInfo(layout.admin_kubeconfig, net.apiserver_url, version, elapsed, provenance)


def _restart_changed(components: dict[str, Component], changed: list[Path]) -> None:
    """A changed config only takes effect after a restart of the component that reads it."""
    for name, component in components.items():
        if set(component.reads) & set(changed) and daemons.running_pid(component.daemon):
            log.info("%s configuration changed; restarting it", name)
            daemons.stop(component.daemon)


def _remove_containers(ctr: Path, socket: Path) -> None:
    """Stop every container our containerd runs, so their shims and mounts go away cleanly."""
    if not socket_accepts(socket):
        return
    listed = run(ctr_argv(ctr, socket, "tasks", "list", "--quiet"), check=False)
    for task in listed.stdout.split():
        run(ctr_argv(ctr, socket, "tasks", "delete", "--force", task), check=False)


def down(layout: ClusterLayout | None = None, net: ClusterNetwork | None = None) -> list[str]:
    """Stop every component ``up`` started and remove its host plumbing; data is kept."""
    layout = layout or ClusterLayout.default()
    _require_root()
    with _exclusive(layout):
        return _down(layout, net or ClusterNetwork())


def _down(layout: ClusterLayout, net: ClusterNetwork) -> list[str]:
    bins = binaries(layout)
    components = component_table(layout, net, bins)

    def clear_node() -> None:
        # With the kubelet gone nothing restarts the pods' containers; kube-proxy's rules go too.
        _remove_containers(bins.containerd / "ctr", layout.containerd_socket)
        if (bins.kubernetes / "kube-proxy").is_file():
            run(kube_proxy_cleanup_argv(bins), check=False)

    after_stop: dict[str, Callable[[], None]] = {"node": clear_node}
    stopped = []
    for stage, names in reversed(STAGES):
        for name in reversed(names):
            if daemons.stop(components[name].daemon):
                stopped.append(name)
        after_stop.get(stage, lambda: None)()
    leftovers.kill_shims(layout.containerd_socket)
    leftovers.kill_pod_processes()
    leftovers.unmount_under([layout.run_root, layout.kubelet_root, layout.containerd_root])
    leftovers.remove_empty_pod_cgroups()
    network.tear_down(layout, net)
    shutil.rmtree(layout.cni_ipam_dir, ignore_errors=True)
    shutil.rmtree(layout.run_root, ignore_errors=True)
    return stopped


def status(
    layout: ClusterLayout | None = None, net: ClusterNetwork | None = None
) -> list[ComponentStatus]:
    """Each component's process and health, in start order."""
    layout = layout or ClusterLayout.default()
    net = net or ClusterNetwork()
    components = component_table(layout, net, binaries(layout))
    report = []
    for name in START_ORDER:
        component = components[name]
        pid = daemons.running_pid(component.daemon)
        healthy, detail = component.probe() if pid else (False, "not running")
        report.append(
            ComponentStatus(
                name, pid, healthy and pid is not None, detail, component.daemon.log_file
            )
        )
    return report


def pinned_version() -> str:
    return KUBERNETES
