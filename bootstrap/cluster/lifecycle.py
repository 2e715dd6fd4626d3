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
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bootstrap
from bootstrap import filelock
from bootstrap.cluster import apt, daemons, gobuild, leftovers, network
from bootstrap.cluster.addons import apply_addons
from bootstrap.cluster.components import (
    Binaries,
    apiserver_argv,
    containerd_argv,
    controller_manager_argv,
    coredns_argv,
    etcd_argv,
    kube_proxy_argv,
    kube_proxy_cleanup_argv,
    kubelet_argv,
    scheduler_argv,
)
from bootstrap.cluster.configs import COREDNS_READY_PORT, render_all, write_changed
from bootstrap.cluster.health import Probe, check, socket_accepts, wait_until
from bootstrap.cluster.images import (
    PAUSE_IMAGE,
    build_pause_archive,
    ctr_argv,
    image_present,
    import_archive,
)
from bootstrap.cluster.layout import NODE_NAME, ClusterLayout, ClusterNetwork
from bootstrap.cluster.pki import ClusterPki, ensure_pki
from bootstrap.cluster.versions import (
    DEBIAN_PACKAGES,
    KUBERNETES,
    containerd_program,
    coredns_program,
    etcd_program,
    kubernetes_program,
)
from bootstrap.errors import AirkubeError
from bootstrap.kube import clients
from bootstrap.process import require_program, run

log = logging.getLogger(__name__)

CNI_BIN_DIR = Path("/usr/lib/cni")
#: Start order; ``down`` stops in reverse.
ORDER = (
    "containerd",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "coredns",
    "storage-provisioner",
)


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


@dataclass(frozen=True)
class _Component:
    daemon: daemons.Daemon
    probe: Callable[[], tuple[bool, str]]
    ready_timeout: float


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


def _binaries(layout: ClusterLayout) -> Binaries:
    """Where the pinned builds live (whether or not they are built yet)."""
    return Binaries(
        kubernetes=gobuild.output_dir(layout, kubernetes_program()),
        etcd=gobuild.output_dir(layout, etcd_program()),
        containerd=gobuild.output_dir(layout, containerd_program()),
        coredns=gobuild.output_dir(layout, coredns_program()),
    )


def _components(
    layout: ClusterLayout, net: ClusterNetwork, bins: Binaries
) -> dict[str, _Component]:
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
        "containerd": _Component(
            daemon(
                "containerd",
                containerd_argv(bins, layout.config / "containerd.toml"),
                extra_path=(bins.containerd,),
            ),
            containerd_probe,
            30,
        ),
        "etcd": _Component(
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
        "kube-apiserver": _Component(
            daemon("kube-apiserver", apiserver_argv(bins, pki, net)),
            http(Probe(f"{net.apiserver_url}/readyz", pki.ca.cert, admin.cert, admin.key)),
            120,
        ),
        "kube-controller-manager": _Component(
            daemon("kube-controller-manager", controller_manager_argv(bins, layout, pki, net)),
            http(Probe("https://127.0.0.1:10257/healthz", verify=False)),
            60,
        ),
        "kube-scheduler": _Component(
            daemon("kube-scheduler", scheduler_argv(bins, layout)),
            http(Probe("https://127.0.0.1:10259/healthz", verify=False)),
            60,
        ),
        "kubelet": _Component(
            daemon("kubelet", kubelet_argv(bins, layout, net), extra_path=(bins.containerd,)),
            http(Probe("http://127.0.0.1:10248/healthz")),
            90,
        ),
        "kube-proxy": _Component(
            daemon("kube-proxy", kube_proxy_argv(bins, layout)),
            http(Probe("http://127.0.0.1:10256/healthz")),
            60,
        ),
        "coredns": _Component(
            daemon("coredns", coredns_argv(bins, layout)),
            http(Probe(f"http://127.0.0.1:{COREDNS_READY_PORT}/ready")),
            60,
        ),
        "storage-provisioner": _Component(
            provisioner,
            provisioner_probe,
            30,
        ),
    }


def _require_root() -> None:
    if os.geteuid() != 0:
        raise AirkubeError(
            "the local cluster needs root (it runs containerd, the kubelet and iptables)",
            hint="run it as root, for example: sudo airkube cluster up",
        )


def _ensure_prerequisites() -> None:
    require_program("go", hint="install Go 1.26 or newer (https://go.dev/dl/) and put it on PATH")
    require_program("gcc", hint="install it with: apt-get install gcc libc6-dev")
    apt.ensure_packages(DEBIAN_PACKAGES)
    for program in ("iptables", "iptables-save", "ip", "umount"):
        require_program(program, hint="install it with: apt-get install iptables iproute2 mount")
    if not (CNI_BIN_DIR / "bridge").is_file():
        raise AirkubeError(
            f"the CNI plugins are missing from {CNI_BIN_DIR}",
            hint="install them with: apt-get install containernetworking-plugins",
        )


def build(layout: ClusterLayout | None = None) -> Binaries:
    """Build (or find in the cache) every pinned program; return where they are."""
    layout = layout or ClusterLayout.default()
    for program in (kubernetes_program(), etcd_program(), containerd_program(), coredns_program()):
        gobuild.ensure_built(layout, program)
    return _binaries(layout)


def _clear_crash_leftovers(layout: ClusterLayout, components: dict[str, _Component]) -> None:
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


def _start(component: _Component) -> None:
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


def up(layout: ClusterLayout | None = None, net: ClusterNetwork | None = None) -> ClusterInfo:
    """Build what is missing, start what is not running, and wait for a Ready node."""
    layout = layout or ClusterLayout.default()
    _require_root()
    with _exclusive(layout):
        return _up(layout, net or ClusterNetwork())


def _up(layout: ClusterLayout, net: ClusterNetwork) -> ClusterInfo:
    started = time.monotonic()
    _ensure_prerequisites()
    bins = build(layout)
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
    components = _components(layout, net, bins)
    # Judge a crash before restarting anything: a config restart is not a crash.
    _clear_crash_leftovers(layout, components)
    _restart_changed(components, changed, layout)
    for folder in (layout.logs, layout.pids, layout.volumes, layout.etcd_data.parent):
        folder.mkdir(parents=True, exist_ok=True)
    layout.etcd_data.mkdir(mode=0o700, exist_ok=True)
    network.set_up(layout, net)
    _start(components["containerd"])
    ctr = bins.containerd / "ctr"
    if not image_present(ctr, layout.containerd_socket, PAUSE_IMAGE):
        import_archive(ctr, layout.containerd_socket, pause_archive)
    for name in ("etcd", "kube-apiserver"):
        _start(components[name])
    apply_addons(clients(layout.admin_kubeconfig))
    for name in ORDER[3:]:
        _start(components[name])
    _wait_node_ready(layout)
    version = clients(layout.admin_kubeconfig).version.get_code().git_version
    elapsed = time.monotonic() - started
    log.info("cluster is up (Kubernetes %s) in %.1f s", version, elapsed)
    return ClusterInfo(layout.admin_kubeconfig, net.apiserver_url, version, elapsed)


def _restart_changed(
    components: dict[str, _Component], changed: list[Path], layout: ClusterLayout
) -> None:
    """A changed config only takes effect after a restart of the component that reads it."""
    readers = {
        "containerd": [layout.config / "containerd.toml"],
        "kube-controller-manager": [layout.kubeconfig_for("controller-manager")],
        "kube-scheduler": [layout.kubeconfig_for("scheduler")],
        "kubelet": [layout.config / "kubelet.yaml", layout.kubeconfig_for("kubelet")],
        "kube-proxy": [layout.config / "kube-proxy.yaml", layout.kubeconfig_for("kube-proxy")],
        "coredns": [layout.config / "Corefile", layout.kubeconfig_for("coredns")],
    }
    readers["storage-provisioner"] = [layout.kubeconfig_for("storage-provisioner")]
    for name, paths in readers.items():
        if any(path in changed for path in paths) and daemons.running_pid(components[name].daemon):
            log.info("%s configuration changed; restarting it", name)
            daemons.stop(components[name].daemon)


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
    bins = _binaries(layout)
    components = _components(layout, net, bins)
    stopped = []
    for name in ("storage-provisioner", "coredns", "kubelet"):
        if daemons.stop(components[name].daemon):
            stopped.append(name)
    _remove_containers(bins.containerd / "ctr", layout.containerd_socket)
    if daemons.stop(components["kube-proxy"].daemon):
        stopped.append("kube-proxy")
    if (bins.kubernetes / "kube-proxy").is_file():
        run(kube_proxy_cleanup_argv(bins), check=False)
    for name in (
        "kube-scheduler",
        "kube-controller-manager",
        "kube-apiserver",
        "etcd",
        "containerd",
    ):
        if daemons.stop(components[name].daemon):
            stopped.append(name)
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
    components = _components(layout, net, _binaries(layout))
    report = []
    for name in ORDER:
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
