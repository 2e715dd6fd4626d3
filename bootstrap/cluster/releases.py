"""The cluster's programs as their projects publish them: release archives at pinned versions,
checked against the sha256 each project publishes beside the archive.

Where the internet is reachable this turns a cold ``cluster up`` from compiling Kubernetes for
twenty minutes into a download. A mirror (any HTTP server with the same paths under
``<mirror>/<host>/``) stands in for the upstream hosts, which is also how the tests serve it.
Only when an archive cannot be fetched does the cluster fall back to building from the Go
modules; an archive that does not match its published checksum is refused, never used and never
silently replaced by a build.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import platform
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from bootstrap.errors import AirkubeError
from bootstrap.gobuild import FINGERPRINT_FILE, GoProgram

log = logging.getLogger(__name__)

MIRROR_ENV = "AIRKUBE_RELEASE_MIRROR"
#: How long one connection may stay silent before the download counts as unavailable.
READ_TIMEOUT_SECONDS = 60
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReleaseArchive:
    """One published archive holding some of a program's binaries."""

    program: str
    version: str
    url: str
    checksum_url: str
    """The project's own checksum file: a bare digest or ``<digest>  <file name>`` lines."""
    members: dict[str, str]
    """Binary name → its path inside the archive."""

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


class DownloadUnavailable(AirkubeError):
    """The archive could not be fetched (no route, no DNS, HTTP error): building is the
    fallback."""


def machine_arch(machine: str | None = None) -> str:
    """The release archives' name for this CPU."""
    found = (machine or platform.machine()).lower()
    names = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
    if found not in names:
        raise DownloadUnavailable(f"no release archives are published for {found} here")
    return names[found]


def release_archive(program: GoProgram, arch: str) -> ReleaseArchive | None:
    """Where ``program``'s project publishes it for linux/``arch``; None when it does not
    (the NetworkPolicy enforcer ships as a container image only, and may carry kernel edits)."""
    version = program.version
    bare = version.lstrip("v")
    if program.name == "kubernetes":
        url = f"https://dl.k8s.io/{version}/kubernetes-server-linux-{arch}.tar.gz"
        members = {name: f"kubernetes/server/bin/{name}" for name in program.commands}
        return ReleaseArchive(program.name, version, url, url + ".sha256", members)
    if program.name == "etcd":
        base = f"https://github.com/etcd-io/etcd/releases/download/{version}"
        folder = f"etcd-{version}-linux-{arch}"
        members = {name: f"{folder}/{name}" for name in program.commands}
        return ReleaseArchive(
            program.name, version, f"{base}/{folder}.tar.gz", f"{base}/SHA256SUMS", members
        )
    if program.name == "containerd":
        base = f"https://github.com/containerd/containerd/releases/download/{version}"
        url = f"{base}/containerd-{bare}-linux-{arch}.tar.gz"
        members = {name: f"bin/{name}" for name in program.commands}
        return ReleaseArchive(program.name, version, url, url + ".sha256sum", members)
    if program.name == "coredns":
        base = f"https://github.com/coredns/coredns/releases/download/{version}"
        url = f"{base}/coredns_{bare}_linux_{arch}.tgz"
        return ReleaseArchive(program.name, version, url, url + ".sha256", {"coredns": "coredns"})
    return None


def through_mirror(url: str, mirror: str | None) -> str:
    """``url`` as the mirror serves it: ``<mirror>/<host><path>``; unchanged without one."""
    if not mirror:
        return url
    parsed = urllib.parse.urlsplit(url)
    return f"{mirror.rstrip('/')}/{parsed.netloc}{parsed.path}"


def published_digest(checksum_text: str, file_name: str) -> str:
    """The sha256 a checksum file gives for ``file_name``: a bare digest, or the line naming
    the file (``sha256sum`` format, with or without the binary-mode ``*``)."""
    lines = [line.split() for line in checksum_text.splitlines() if line.strip()]
    for fields in lines:
        if len(fields) == 1 and len(lines) == 1:
            return _checked_digest(fields[0], file_name)
        if len(fields) == 2 and fields[1].lstrip("*").rsplit("/", 1)[-1] == file_name:
            return _checked_digest(fields[0], file_name)
    raise AirkubeError(f"the published checksums name no {file_name}")


def _checked_digest(text: str, file_name: str) -> str:
    digest = text.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise AirkubeError(f"the published checksum of {file_name} is not a sha256: {text!r}")
    return digest


def _open(url: str) -> http.client.HTTPResponse:
    try:
        response = urllib.request.urlopen(url, timeout=READ_TIMEOUT_SECONDS)
        return cast(http.client.HTTPResponse, response)
    except urllib.error.HTTPError as error:
        message = f"{url} cannot be fetched: HTTP {error.code} {error.reason}"
        raise DownloadUnavailable(message) from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadUnavailable(f"{url} cannot be fetched: {reason}") from error


def fetch_text(url: str) -> str:
    with _open(url) as response:
        return str(response.read().decode())


def fetch_file(url: str, target: Path, report: Callable[[str], None]) -> str:
    """Stream ``url`` into ``target``; its sha256. Reports every tenth of the way."""
    digest = hashlib.sha256()
    with _open(url) as response, target.open("wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done, next_report = 0, 0.1
        try:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if total and done / total >= next_report:
                    report(f"{done / 1e6:.0f} of {total / 1e6:.0f} MB")
                    next_report += 0.1
        except (TimeoutError, OSError) as error:
            raise DownloadUnavailable(f"{url} stopped after {done} bytes: {error}") from error
    return digest.hexdigest()


@dataclass(frozen=True)
class Installed:
    """What a release install left in the program's folder (its stamp)."""

    url: str
    sha256: str


def is_installed(folder: Path, archive: ReleaseArchive) -> bool:
    """Whether ``folder`` holds exactly this archive's binaries from an earlier install."""
    stamp = folder / FINGERPRINT_FILE
    if not stamp.is_file():
        return False
    recorded = json.loads(stamp.read_text())
    if recorded.get("release") != archive.url:
        return False
    return all((folder / name).is_file() for name in archive.members)


def install(
    archive: ReleaseArchive,
    folder: Path,
    *,
    mirror: str | None = None,
    report: Callable[[str], None] = lambda text: None,
) -> Installed:
    """Download ``archive`` (through ``mirror`` when given), check it against the published
    sha256, and put its binaries into ``folder``.

    Raises ``DownloadUnavailable`` when it cannot be fetched (the caller may build instead) and
    a plain ``AirkubeError`` when it does not match: then ``folder`` is left as it was.
    """
    source = through_mirror(archive.url, mirror)
    expected = published_digest(
        fetch_text(through_mirror(archive.checksum_url, mirror)), archive.file_name
    )
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}-") as work:
        downloaded = Path(work) / archive.file_name
        report(f"downloading {source}")
        found = fetch_file(source, downloaded, report)
        if found != expected:
            raise AirkubeError(
                f"{archive.file_name} from {source} has sha256 {found}, but its project "
                f"publishes {expected}; it was not used",
                hint="a proxy or mirror changed the file: fix the mirror, or build from source "
                "with 'airkube cluster up --binaries source'",
            )
        staged = Path(work) / "bin"
        _extract(downloaded, archive, staged)
        installed = Installed(url=archive.url, sha256=found)
        # Never equal to a source build's fingerprint, so neither kind is taken for the other.
        stamp = {"fingerprint": f"release {found}", "release": archive.url, "sha256": found}
        (staged / FINGERPRINT_FILE).write_text(json.dumps(stamp, indent=2) + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        staged.replace(folder)
    return installed


def _extract(downloaded: Path, archive: ReleaseArchive, staged: Path) -> None:
    staged.mkdir()
    wanted = {path: name for name, path in archive.members.items()}
    with tarfile.open(downloaded) as tar:
        for member in tar:
            name = wanted.pop(member.name.removeprefix("./"), None)
            if name is None:
                continue
            if not member.isfile():
                raise AirkubeError(f"{archive.file_name}: {member.name} is not a regular file")
            source = tar.extractfile(member)
            assert source is not None
            target = staged / name
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out)
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    if wanted:
        raise AirkubeError(
            f"{archive.file_name} holds no {', '.join(sorted(wanted))}",
            hint="the project changed its archive layout; build from source with "
            "'airkube cluster up --binaries source'",
        )


def mirror_path(root: Path, url: str) -> Path:
    """Where a mirror rooted at ``root`` keeps ``url``."""
    return root / through_mirror(url, "/").lstrip("/")


def pack(archive: ReleaseArchive, binaries: Path, root: Path) -> Path:
    """Lay ``archive`` out under ``root`` as a mirror serves it, from the binaries in the
    ``binaries`` folder, with its checksum file: one machine's builds become another's
    downloads. The archive's path."""
    target = mirror_path(root, archive.url)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Fast compression: these binaries hardly shrink, and a mirror is read on the same network.
    with tarfile.open(target, "w:gz", compresslevel=1) as tar:
        for name, member in archive.members.items():
            tar.add(binaries / name, arcname=member)
    with target.open("rb") as packed:
        digest = hashlib.file_digest(packed, "sha256").hexdigest()
    checksums = mirror_path(root, archive.checksum_url)
    # A shared checksum file (etcd's SHA256SUMS) keeps the lines of other files.
    lines = checksums.read_text().splitlines() if checksums.is_file() else []
    kept = [line for line in lines if line.split()[-1:] != [archive.file_name]]
    checksums.write_text("\n".join([*kept, f"{digest}  {archive.file_name}"]) + "\n")
    return target


def mirror_from_env() -> str | None:
    return os.environ.get(MIRROR_ENV) or None
