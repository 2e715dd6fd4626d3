"""The one module that talks to Docker: the engine itself, and the docker commands we need.

``ensure_engine()`` makes a Docker engine answer on this machine: it reuses a running one, and
otherwise installs Debian's ``docker.io`` (pinned) and starts ``dockerd`` in the background with
its data, log and pid file under the airkube cache. ``DockerClient`` wraps the few docker
commands the image build uses; every call goes through an injectable ``Runner``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bootstrap import apt, filelock, paths
from bootstrap.errors import AirkubeError
from bootstrap.process import Completed, Runner, run

log = logging.getLogger(__name__)

# Debian bookworm's engine; the daemon API it speaks (1.41) suits newer docker clients too.
DOCKER_IO_PACKAGE = "docker.io"
DOCKER_IO_VERSION = "20.10.24+dfsg1-1+deb12u1+b6"
DOCKER_INSTALL_HINT = (
    f"install Docker: 'apt-get install {DOCKER_IO_PACKAGE}' on Debian/Ubuntu, "
    "or Docker Engine/Desktop from docs.docker.com"
)
ENGINE_START_TIMEOUT = 60.0
IP_FORWARD_SYSCTL = Path("/proc/sys/net/ipv4/ip_forward")

Which = Callable[[str], "str | None"]
DaemonStarter = Callable[[Sequence[str], Path], int]


def engine_dir() -> Path:
    """Where the engine airkube starts keeps its data root, log and pid file."""
    return paths.cache_dir() / "docker"


def dockerd_argv(dockerd: str, state: Path) -> list[str]:
    """The engine airkube starts: images and pid file under ``state``, the usual socket."""
    return [
        dockerd,
        "--data-root",
        str(state / "data"),
        "--pidfile",
        str(state / "dockerd.pid"),
        "--host",
        "unix:///var/run/docker.sock",
    ]


def spawn_daemon(argv: Sequence[str], log_file: Path) -> int:
    """Start ``argv`` detached from this process (own session), output appended to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return child.pid


@dataclass(frozen=True)
class EngineInfo:
    """A Docker engine that answers."""

    server_version: str
    started_by_us: bool


@dataclass
class Engine:
    """Finds, installs and starts the Docker engine. Collaborators are injectable for tests."""

    runner: Runner = run
    which: Which = shutil.which
    start_daemon: DaemonStarter = spawn_daemon
    install: Callable[[Mapping[str, str]], None] | None = None
    state_dir: Path = field(default_factory=engine_dir)
    timeout: float = ENGINE_START_TIMEOUT
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    prepare_host: Callable[[], None] = field(default=lambda: _keep_forward_policy())
    is_root: Callable[[], bool] = field(default=lambda: os.geteuid() == 0)

    def client(self) -> str:
        found = self.which("docker")
        if not found:
            raise AirkubeError("'docker' was not found on PATH", hint=DOCKER_INSTALL_HINT)
        return found

    def server_version(self) -> str | None:
        """The engine's version, or None when no engine answers."""
        done = self.runner(
            [self.client(), "version", "--format", "{{.Server.Version}}"], check=False
        )
        version = done.stdout.strip()
        if done.returncode == 0 and version:
            return version
        if "permission denied" in done.stderr.lower():
            raise AirkubeError(
                "the Docker engine runs but its socket refuses this user",
                hint="add the user to the 'docker' group and log in again, or run as root",
            )
        return None

    def ensure(self, *, allow_install: bool = True) -> EngineInfo:
        """Return the running engine, installing and starting one when needed."""
        if self.which("docker") and (version := self.server_version()):
            return EngineInfo(version, started_by_us=False)
        with filelock.exclusive(
            self.state_dir / "start.lock", waiting="waiting for another airkube to start Docker"
        ):
            # Another airkube process may have started it while we waited for the lock.
            if self.which("docker") and (version := self.server_version()):
                return EngineInfo(version, started_by_us=False)
            dockerd = self._installed_dockerd(allow_install=allow_install)
            if not self.is_root():
                raise AirkubeError(
                    "no Docker engine is running, and starting one needs root",
                    hint="start Docker (for example: sudo service docker start), or run as root",
                )
            self._start(dockerd)
            return EngineInfo(self._wait(), started_by_us=True)

    def _installed_dockerd(self, *, allow_install: bool) -> str:
        dockerd = self.which("dockerd")
        if dockerd and self.which("docker"):
            return dockerd
        if not allow_install:
            raise AirkubeError("no Docker engine is installed", hint=DOCKER_INSTALL_HINT)
        installer = self.install or (lambda pins: apt.ensure_packages(pins, runner=self.runner))
        installer({DOCKER_IO_PACKAGE: DOCKER_IO_VERSION})
        dockerd = self.which("dockerd")
        if not dockerd or not self.which("docker"):
            raise AirkubeError(
                "docker.io was installed but dockerd/docker are not on PATH",
                hint="add /usr/sbin and /usr/bin to PATH",
            )
        return dockerd

    def _start(self, dockerd: str) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        _clear_stale_pidfile(self.state_dir / "dockerd.pid")
        self.prepare_host()
        log_file = self.state_dir / "dockerd.log"
        log.info("starting dockerd (log: %s)", log_file)
        self.start_daemon(dockerd_argv(dockerd, self.state_dir), log_file)

    def _wait(self) -> str:
        deadline = self.clock() + self.timeout
        while self.clock() < deadline:
            if version := self.server_version():
                return version
            self.sleep(0.5)
        tail = _tail(self.state_dir / "dockerd.log")
        raise AirkubeError(
            f"dockerd did not answer within {self.timeout:.0f}s"
            + (f"; its log ends with: {tail}" if tail else ""),
            hint=f"see {self.state_dir / 'dockerd.log'}",
        )


def _clear_stale_pidfile(pidfile: Path) -> None:
    """dockerd refuses to start while its pid file names a process; drop it if that one is gone."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        pidfile.unlink(missing_ok=True)
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
    except PermissionError:
        pass


def _keep_forward_policy() -> None:
    """Turn on IPv4 forwarding before dockerd starts.

    When dockerd has to enable forwarding itself it also sets the FORWARD chain's policy to
    DROP, which silently breaks the pod network of a Kubernetes node on the same host.
    """
    try:
        if IP_FORWARD_SYSCTL.read_text().strip() != "1":
            IP_FORWARD_SYSCTL.write_text("1\n")
    except OSError as exc:
        log.debug("could not enable IPv4 forwarding: %s", exc)


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def ensure_engine(*, allow_install: bool = True, runner: Runner = run) -> EngineInfo:
    """Make sure a Docker engine answers; install Debian's docker.io and start it if needed."""
    return Engine(runner=runner).ensure(allow_install=allow_install)


@dataclass(frozen=True)
class DockerClient:
    """The docker commands the image build needs, as argv lists handed to ``runner``."""

    runner: Runner = run
    binary: str = "docker"

    def _argv(self, *args: str) -> list[str]:
        return [self.binary, *args]

    def _env(self) -> dict[str, str]:
        # The classic builder works with every client/daemon pairing we meet (a new CLI without
        # the buildx plugin in front of Debian's 20.10 daemon) and caches layers the same way.
        return {**os.environ, "DOCKER_BUILDKIT": "0"}

    def image_id(self, reference: str) -> str | None:
        """The local image's id, or None when it is not present."""
        done = self.runner(
            self._argv("image", "inspect", "--format", "{{.Id}}", reference), check=False
        )
        return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None

    def image_size(self, reference: str) -> int:
        """The image's size in bytes, as ``docker images`` reports it."""
        done = self.runner(self._argv("image", "inspect", "--format", "{{.Size}}", reference))
        return int(done.stdout.strip())

    def pull(self, reference: str) -> bool:
        """Try to pull; False (not an error) when no registry serves it."""
        done = self.runner(self._argv("pull", "--quiet", reference), check=False)
        if done.returncode != 0:
            log.debug("pull of %s failed: %s", reference, done.stderr.strip())
        return done.returncode == 0

    def build(
        self,
        context: Path,
        *,
        tag: str,
        dockerfile: Path | None = None,
        build_args: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        no_cache: bool = False,
        stream: bool = True,
    ) -> Completed:
        """``docker build``; the build log streams to the terminal unless ``stream`` is off."""
        argv = self._argv("build", "--tag", tag)
        if dockerfile is not None:
            argv += ["--file", str(dockerfile)]
        for key, value in sorted((build_args or {}).items()):
            argv += ["--build-arg", f"{key}={value}"]
        for key, value in sorted((labels or {}).items()):
            argv += ["--label", f"{key}={value}"]
        if no_cache:
            argv.append("--no-cache")
        argv += ["--rm", "--force-rm", str(context)]
        return self.runner(argv, env=self._env(), stream=stream)

    def import_rootfs(self, tarball: Path, reference: str, *, changes: Sequence[str] = ()) -> str:
        """``docker import`` a root filesystem tarball; returns the new image id."""
        argv = self._argv("import")
        for change in changes:
            argv += ["--change", change]
        argv += [str(tarball), reference]
        self.runner(argv)
        image = self.image_id(reference)
        if image is None:
            raise AirkubeError(f"docker import did not produce {reference}")
        return image

    def tag(self, source: str, target: str) -> None:
        """Give the local image ``source`` the further name ``target``."""
        self.runner(self._argv("tag", source, target))

    def save(self, references: Sequence[str], output: Path) -> None:
        """``docker save`` the images into one tarball, written atomically."""
        partial = output.with_name(output.name + ".partial")
        try:
            self.runner(self._argv("save", "--output", str(partial), *references))
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)

    def run(
        self,
        image: str,
        args: Sequence[str] = (),
        *,
        user: str | None = None,
        entrypoint: str | None = None,
        network: str = "none",
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> Completed:
        """Run a throwaway container and capture its output."""
        argv = self._argv("run", "--rm", "--network", network)
        if user is not None:
            argv += ["--user", user]
        if entrypoint is not None:
            argv += ["--entrypoint", entrypoint]
        for key, value in sorted((env or {}).items()):
            argv += ["--env", f"{key}={value}"]
        return self.runner([*argv, image, *args], check=check)

    def start(
        self,
        image: str,
        args: Sequence[str] = (),
        *,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        tmpfs: Sequence[str] = (),
    ) -> str:
        """Start a detached container on the default network; returns its id."""
        argv = self._argv("run", "--detach")
        if user is not None:
            argv += ["--user", user]
        for key, value in sorted((env or {}).items()):
            argv += ["--env", f"{key}={value}"]
        for mount in tmpfs:
            argv += ["--tmpfs", mount]
        done = self.runner([*argv, image, *args])
        return done.stdout.strip()

    def exec(self, container: str, args: Sequence[str], *, check: bool = True) -> Completed:
        """Run a command inside a running container."""
        return self.runner(self._argv("exec", container, *args), check=check)

    def stop(self, container: str, *, timeout: int = 10) -> None:
        """Send the image's stop signal, and SIGKILL after ``timeout`` seconds."""
        self.runner(self._argv("stop", "--time", str(timeout), container))

    def logs(self, container: str) -> str:
        done = self.runner(self._argv("logs", container), check=False)
        return done.stdout + done.stderr

    def remove_container(self, container: str) -> None:
        self.runner(self._argv("rm", "--force", container), check=False)
