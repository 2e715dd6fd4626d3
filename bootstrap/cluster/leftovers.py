"""Finding and removing what a crashed or stopped cluster leaves on the host: mounts under its
own folders and container shims of its own containerd."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterable
from pathlib import Path

from bootstrap.process import run

log = logging.getLogger(__name__)

SHIM_NAME = "containerd-shim-runc-v2"


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def mounts_under(mountinfo: str, roots: Iterable[Path]) -> list[str]:
    """Mount points at or below any of ``roots``, deepest first so parents go last (pure)."""
    prefixes = [str(root).rstrip("/") for root in roots]
    found = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        point = _unescape(fields[4])
        if any(point == prefix or point.startswith(prefix + "/") for prefix in prefixes):
            found.append(point)
    return sorted(set(found), key=lambda p: (p.count("/"), p), reverse=True)


def unmount_under(roots: Iterable[Path]) -> int:
    """Detach every mount below ``roots``; return how many there were."""
    points = mounts_under(Path("/proc/self/mountinfo").read_text(), roots)
    for point in points:
        log.debug("unmounting %s", point)
        run(["umount", "--lazy", point], check=False)
    return len(points)


def is_our_shim(cmdline: list[str], socket: Path) -> bool:
    """Whether a process command line is a runc shim serving our containerd (pure)."""
    if not cmdline or Path(cmdline[0]).name != SHIM_NAME:
        return False
    return str(socket) in cmdline


def our_shim_pids(socket: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if is_our_shim(raw.decode(errors="replace").split("\0"), socket):
            pids.append(int(entry.name))
    return pids


def kill_shims(socket: Path) -> int:
    """Kill shims (and with them their containers) left by our containerd."""
    pids = our_shim_pids(socket)
    for pid in pids:
        log.debug("killing leftover shim %d", pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)


def pod_cgroup_dirs(cgroup_root: Path = Path("/sys/fs/cgroup")) -> list[Path]:
    """The kubelet's pod cgroup trees: one per v1 hierarchy, or the single v2 one."""
    candidates = [cgroup_root / "kubepods", *cgroup_root.glob("*/kubepods")]
    return [path for path in candidates if path.is_dir()]


def kill_pod_processes(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """Kill every process still inside a pod cgroup (containers outlive a killed shim)."""
    pids: set[int] = set()
    for tree in pod_cgroup_dirs(cgroup_root):
        for procs in tree.rglob("cgroup.procs"):
            try:
                pids.update(int(pid) for pid in procs.read_text().split())
            except OSError:
                continue
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)


def remove_empty_pod_cgroups(cgroup_root: Path = Path("/sys/fs/cgroup")) -> None:
    """Remove the pod cgroup folders once nothing runs in them (deepest first)."""
    for tree in pod_cgroup_dirs(cgroup_root):
        folders = sorted(
            (p for p in tree.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
        )
        for folder in [*folders, tree]:
            with contextlib.suppress(OSError):
                folder.rmdir()
