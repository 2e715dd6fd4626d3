"""Base images: the public Python image when a registry serves it, else a Debian root filesystem
made here with debootstrap and imported into Docker once."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from bootstrap import apt, filelock
from bootstrap.docker import DockerClient
from bootstrap.errors import AirkubeError
from bootstrap.images.cache import images_dir
from bootstrap.images.context import BuildOptions
from bootstrap.images.pins import (
    DEBIAN_SUITE,
    DEBOOTSTRAP_VERSION,
    DEFAULT_APT_MIRROR,
    DEFAULT_BASE_IMAGE,
    LOCAL_BASE_REFERENCE,
    LOCAL_BASE_REVISION,
    local_base_reference,
)
from bootstrap.process import Runner, run

log = logging.getLogger(__name__)

APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))


def apt_mirror_from_sources(texts: Iterable[str], suite: str = DEBIAN_SUITE) -> str | None:
    """The first Debian mirror serving ``suite`` in apt source files (one-line or deb822)."""
    for text in texts:
        for line in text.splitlines():
            words = [w for w in line.split("#", 1)[0].split() if not w.startswith("[")]
            is_match = len(words) >= 3 and words[0] == "deb" and words[2] == suite
            if is_match and words[1].startswith("http"):
                return words[1]
        for stanza in re.split(r"\n\s*\n", text):
            fields = dict(
                (key.strip().lower(), value.strip())
                for key, _, value in (
                    line.partition(":") for line in stanza.splitlines() if ":" in line
                )
                if not key.startswith("#")
            )
            types = fields.get("types", "").split()
            if suite in fields.get("suites", "").split() and "deb" in types:
                uri = fields.get("uris", "").split()
                if uri and uri[0].startswith("http"):
                    return uri[0]
    return None


def host_apt_mirror() -> str:
    """The Debian mirror this host's apt uses, else deb.debian.org."""
    texts: list[str] = []
    for source in APT_SOURCES:
        candidates = sorted(source.glob("*")) if source.is_dir() else [source]
        for candidate in candidates:
            if candidate.suffix in {".list", ".sources"} or candidate == source:
                try:
                    texts.append(candidate.read_text())
                except OSError:
                    continue
    return apt_mirror_from_sources(texts) or DEFAULT_APT_MIRROR


def ensure_local_base(
    *,
    docker: DockerClient | None = None,
    runner: Runner = run,
    mirror: str | None = None,
    suite: str = DEBIAN_SUITE,
) -> str:
    """The locally made Debian ``suite`` base image (debootstrap minbase + docker import), made
    once.

    The root filesystem tarball is kept in the cache so a wiped Docker data root only costs an
    import, not another debootstrap.
    """
    docker = docker or DockerClient(runner=runner)
    reference = local_base_reference(suite)
    if docker.image_id(reference):
        return reference
    with filelock.exclusive(
        images_dir() / "debian-base.lock", waiting="waiting for another airkube to make the base"
    ):
        if not docker.image_id(reference):
            _make_local_base(docker, suite, mirror=mirror, runner=runner)
    return reference


def _make_local_base(
    docker: DockerClient, suite: str, *, mirror: str | None, runner: Runner
) -> None:
    tarball = images_dir() / f"debian-{suite}-minbase-r{LOCAL_BASE_REVISION}.tar"
    if not tarball.is_file():
        _debootstrap_tarball(tarball, suite, mirror=mirror or host_apt_mirror(), runner=runner)
    reference = local_base_reference(suite)
    log.info("importing %s as %s", tarball, reference)
    docker.import_rootfs(
        tarball,
        reference,
        changes=[
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ENV LANG=C.UTF-8",
            'CMD ["bash"]',
        ],
    )


def _debootstrap_tarball(tarball: Path, suite: str, *, mirror: str, runner: Runner) -> None:
    if shutil.which("debootstrap") is None:
        apt.ensure_packages({"debootstrap": DEBOOTSTRAP_VERSION}, runner=runner)
    tarball.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=tarball.parent))
    partial = tarball.with_name(tarball.name + ".partial")
    try:
        rootfs = work / "rootfs"
        log.info("making a Debian %s root filesystem from %s", suite, mirror)
        runner(["debootstrap", "--variant=minbase", suite, str(rootfs), mirror])
        _trim_rootfs(rootfs, suite, mirror)
        runner(
            [
                "tar",
                "--numeric-owner",
                "--one-file-system",
                "-C",
                str(rootfs),
                "-cf",
                str(partial),
                ".",
            ]
        )
        partial.replace(tarball)
    finally:
        partial.unlink(missing_ok=True)
        # An interrupted debootstrap leaves /proc (and more) mounted inside the root filesystem;
        # deleting through those mounts would reach the host's, so unmount first.
        _unmount_below(work, runner)
        shutil.rmtree(work, ignore_errors=True)


def _unmount_below(directory: Path, runner: Runner) -> None:
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    prefix = str(directory.resolve()) + "/"
    points = [line.split()[1] for line in mounts if len(line.split()) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
        runner(["umount", "--lazy", point], check=False)


# Documentation, manuals and translations are dead weight in a container; copyright notices
# stay. dpkg honours this for every package installed later, too.
_DPKG_SLIM_CONFIG = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""


def _trim_rootfs(rootfs: Path, suite: str, mirror: str) -> None:
    """Make the debootstrap tree an image: no host details, caches, logs or docs."""
    for cache in ("var/cache/apt", "var/lib/apt/lists", "var/log"):
        for entry in (rootfs / cache).rglob("*"):
            if entry.is_file() and not entry.is_symlink():
                entry.unlink()
    # debootstrap copies these from the host; the container engine provides its own.
    (rootfs / "etc/resolv.conf").write_text("")
    (rootfs / "etc/hostname").write_text("localhost\n")
    (rootfs / "etc/dpkg/dpkg.cfg.d/airkube-slim").write_text(_DPKG_SLIM_CONFIG)
    for folder in ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale"):
        for entry in sorted((rootfs / folder).rglob("*"), reverse=True):
            keep = entry.name in {"copyright", "locale.alias"}
            if entry.is_dir() and not entry.is_symlink():
                if not any(entry.iterdir()):
                    entry.rmdir()
            elif not keep:
                entry.unlink()
    (rootfs / "etc/apt/sources.list").write_text(
        f"deb {mirror} {suite} main\ndeb {mirror} {suite}-updates main\n"
    )


def resolve_base(options: BuildOptions, docker: DockerClient, runner: Runner) -> str:
    """The base image reference the Airflow image builds on, present locally on return."""
    if options.local_base:
        return ensure_local_base(docker=docker, runner=runner, mirror=options.apt_mirror)
    wanted = options.base_image or DEFAULT_BASE_IMAGE
    if docker.image_id(wanted) or docker.pull(wanted):
        return wanted
    if options.base_image is not None:
        raise AirkubeError(
            f"base image {wanted} is neither present locally nor pullable",
            hint="load it with 'docker load', or build with --local-base",
        )
    log.warning(
        "%s cannot be pulled (no registry reachable); building on the locally made Debian "
        "base %s instead",
        wanted,
        LOCAL_BASE_REFERENCE,
    )
    return ensure_local_base(docker=docker, runner=runner, mirror=options.apt_mirror)
