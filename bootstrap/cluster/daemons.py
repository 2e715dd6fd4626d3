"""Starting and stopping the cluster's background processes, tracked by pid files.

A pid file records the pid *and* the process start time, so a pid reused by an unrelated
process after a crash or a restart is never mistaken for ours (and never signalled).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bootstrap.errors import AirkubeError

log = logging.getLogger(__name__)

#: Variables passed to every daemon. Proxy settings are deliberately left out: the cluster
#: only ever talks to this machine.
_PASSED_ENV = ("HOME", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class Daemon:
    """One background process: its name, command line, log and pid file."""

    name: str
    argv: tuple[str, ...]
    log_file: Path
    pid_file: Path
    extra_path: tuple[Path, ...] = ()
    extra_env: tuple[tuple[str, str], ...] = ()


def daemon_env(
    extra_path: Sequence[Path] = (), base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a daemon starts with (pure given ``base``)."""
    source = os.environ if base is None else base
    env = {key: source[key] for key in _PASSED_ENV if key in source}
    system_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    env["PATH"] = ":".join([*(str(path) for path in extra_path), system_path])
    return env


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name may contain spaces and parentheses; fields resume after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return fields[19]


def running_pid(daemon: Daemon) -> int | None:
    """The pid of ``daemon`` if the process its pid file names is still that process."""
    try:
        record = json.loads(daemon.pid_file.read_text())
    except (FileNotFoundError, ValueError):
        return None
    pid = int(record.get("pid", 0))
    if pid <= 0 or _start_time(pid) != record.get("start_time"):
        return None
    return pid


def _recorded_argv(daemon: Daemon) -> list[str] | None:
    try:
        argv = json.loads(daemon.pid_file.read_text()).get("argv")
    except (FileNotFoundError, ValueError):
        return None
    return list(argv) if isinstance(argv, list) else None


def start(daemon: Daemon) -> int:
    """Start ``daemon`` in its own session unless it already runs; return its pid.

    A daemon running with another command line (a new pin, a changed flag) is restarted.
    """
    pid = running_pid(daemon)
    if pid is not None and _recorded_argv(daemon) == list(daemon.argv):
        log.debug("%s already running (pid %d)", daemon.name, pid)
        return pid
    if pid is not None:
        log.info("%s command line changed; restarting it", daemon.name)
        stop(daemon)
    daemon.pid_file.unlink(missing_ok=True)
    daemon.log_file.parent.mkdir(parents=True, exist_ok=True)
    daemon.pid_file.parent.mkdir(parents=True, exist_ok=True)
    log.info("starting %s", daemon.name)
    log.debug("%s: %s", daemon.name, " ".join(daemon.argv))
    with daemon.log_file.open("ab") as output:
        output.write(f"\n--- airkube: starting {daemon.name} at {time.ctime()}\n".encode())
        output.flush()
        try:
            process = subprocess.Popen(
                list(daemon.argv),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**daemon_env(daemon.extra_path), **dict(daemon.extra_env)},
                start_new_session=True,
                close_fds=True,
            )
        except OSError as error:
            raise AirkubeError(f"cannot start {daemon.name}: {error}") from error
    start_time = _start_time(process.pid)
    record = {"pid": process.pid, "start_time": start_time, "argv": list(daemon.argv)}
    daemon.pid_file.write_text(json.dumps(record) + "\n")
    return process.pid


def stop(daemon: Daemon, *, timeout: float = 20.0) -> bool:
    """Stop ``daemon`` (TERM, then KILL after ``timeout``); return whether it was running."""
    pid = running_pid(daemon)
    if pid is None:
        daemon.pid_file.unlink(missing_ok=True)
        return False
    log.info("stopping %s (pid %d)", daemon.name, pid)
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid, daemon):
            break
        time.sleep(0.1)
    else:
        log.warning("%s did not stop within %.0f s; killing it", daemon.name, timeout)
        _signal(pid, signal.SIGKILL)
        while _alive(pid, daemon):
            time.sleep(0.1)
    daemon.pid_file.unlink(missing_ok=True)
    return True


def _alive(pid: int, daemon: Daemon) -> bool:
    _reap(pid)
    return running_pid(daemon) == pid


def _reap(pid: int) -> None:
    """Collect the exit status when the daemon is our own child, so it does not linger."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _signal(pid: int, signo: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signo)


def log_tail(daemon: Daemon, lines: int = 15) -> str:
    """The last lines of the daemon's log, for error messages."""
    try:
        text = daemon.log_file.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
