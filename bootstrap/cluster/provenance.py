"""Where each of the cluster's programs comes from: what the cache already holds, else its
project's release archive, else a build from its Go source; and a sentence saying which."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bootstrap import gobuild
from bootstrap.cluster import releases
from bootstrap.errors import AirkubeError

log = logging.getLogger(__name__)

#: ``auto`` downloads what is published and builds the rest; ``source`` builds everything.
BinarySource = Literal["auto", "source"]
BINARY_SOURCES: tuple[BinarySource, ...] = ("auto", "source")


@dataclass(frozen=True)
class Provenance:
    program: str
    version: str
    path: Literal["cached release", "cached build", "release", "build"]
    detail: str = ""

    def sentence(self) -> str:
        said = f"{self.program} {self.version}: {self.path}"
        return f"{said} ({self.detail})" if self.detail else said


def obtain(
    program: gobuild.GoProgram,
    *,
    bin_root: Path,
    build_root: Path,
    source: BinarySource = "auto",
    mirror: str | None = None,
    arch: str | None = None,
) -> Provenance:
    """Put ``program``'s binaries in its cache folder and say how they got there."""
    folder = gobuild.output_dir(bin_root, program)
    archive = None
    if source == "auto":
        try:
            archive = releases.release_archive(program, arch or releases.machine_arch())
        except releases.DownloadUnavailable as error:
            log.info("%s: %s", program.name, error)
    if archive is not None and releases.is_installed(folder, archive):
        return Provenance(program.name, program.version, "cached release", archive.url)
    _, toolchain = gobuild.go_toolchain()
    if gobuild.is_built(bin_root, program, toolchain):
        return Provenance(program.name, program.version, "cached build")
    fallback = ""
    if archive is not None:
        try:
            installed = releases.install(
                archive,
                folder,
                mirror=mirror,
                report=lambda text: log.info("%s %s: %s", program.name, program.version, text),
            )
            return Provenance(
                program.name, program.version, "release", f"sha256 {installed.sha256[:12]}…"
            )
        except releases.DownloadUnavailable as error:
            fallback = f"no release download: {error.args[0]}"
            log.warning("%s %s: %s; building from source", program.name, program.version, error)
    elif source == "source":
        fallback = "from source as asked"
    else:
        fallback = "its project publishes no binary for it"
    gobuild.ensure_built(program, bin_root=bin_root, build_root=build_root)
    return Provenance(program.name, program.version, "build", fallback)


def fill_mirror(programs: tuple[gobuild.GoProgram, ...], bin_root: Path, root: Path) -> list[Path]:
    """Pack the binaries in the cache as their projects publish them, under ``root``: a mirror
    that machines without the internet can ``cluster up`` from."""
    arch = releases.machine_arch()
    packed = []
    for program in programs:
        archive = releases.release_archive(program, arch)
        if archive is None:
            continue
        folder = gobuild.output_dir(bin_root, program)
        missing = [name for name in archive.members if not (folder / name).is_file()]
        if missing:
            raise AirkubeError(
                f"{program.name} {program.version} is not in the cache ({', '.join(missing)})",
                hint="run 'airkube cluster up' first",
            )
        packed.append(releases.pack(archive, folder, root))
    return packed
