"""Builds pinned programs from Go source into the cache, once per pin: the local cluster's
components, helm, kubeconform and git-sync all go through here.

A program comes either from the Go module proxy or, where the proxy does not serve it, from an
upstream source archive in the folder ``$AIRKUBE_SOURCES`` names (checked against its sha256).
Proxy builds get a small wrapper module that requires the upstream module and lists its
commands as ``tool`` packages, so ``go mod tidy`` can resolve a complete ``go.sum``. The
binaries land in ``<bin_root>/<name>-<version>/`` with a fingerprint; a changed pin builds into a
new folder, an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tarfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bootstrap import progress
from bootstrap.errors import AirkubeError
from bootstrap.process import Runner, require_program, run

log = logging.getLogger(__name__)

# Every pinned program's go.mod asks for Go 1.26 (containerd for 1.26.6, which a 1.26 toolchain
# fetches by itself when the proxy serves it).
GO_MINIMUM = (1, 26)
SOURCES_ENV = "AIRKUBE_SOURCES"
FINGERPRINT_FILE = ".airkube-build.json"


@dataclass(frozen=True)
class SourceArchive:
    """An upstream release snapshot (``git archive --prefix=<name>-<tag>/ <tag>``)."""

    file_name: str
    sha256: str
    repository: str
    """Where the snapshot is made from, for the message when it is missing."""


@dataclass(frozen=True)
class SourceEdit:
    """One exact replacement in an upstream file, expected ``count`` times: when upstream's text
    moved, the build stops instead of building something else."""

    path: str
    old: str
    new: str
    count: int = 1


@dataclass(frozen=True)
class GoProgram:
    """One family of binaries built from Go source at a pinned version.

    ``commands`` maps each output binary name to the package that holds its ``main``.
    ``staging_version`` is set for modules that point dependencies at in-repo folders
    (Kubernetes): those are replaced by their published release. ``archive`` is set for
    programs the module proxy does not serve; ``source`` for the project's own programs.
    """

    name: str
    module: str
    version: str
    commands: dict[str, str]
    ldflags: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    staging_version: str = ""
    cgo: bool = False
    archive: SourceArchive | None = None
    source: Path | None = None
    """A module of this repository, built from its folder (no download)."""
    overlay: Path | None = None
    """Files of this repository added to the upstream tree (none may exist there already)."""
    edits: tuple[SourceEdit, ...] | None = None
    """Replacements in the upstream tree, applied after the overlay."""
    proxy_fallback: bool | None = None
    """Without the archive in the sources folder, take the module's source from the proxy."""
    variant: str | None = None
    """Names a changed build (overlay, edits): it gets a folder of its own, so a daemon running
    one build is restarted when another replaces it."""


def parse_go_version(text: str) -> tuple[int, int]:
    """``go version go1.26.8 linux/amd64`` or ``go1.26.8`` or ``1.26.0`` -> (1, 26)."""
    match = re.search(r"(?:go)?(\d+)\.(\d+)", text)
    if not match:
        raise AirkubeError(f"cannot read the Go version from {text.strip()!r}")
    return int(match.group(1)), int(match.group(2))


def go_toolchain(runner: Runner = run) -> tuple[str, str]:
    """The Go command and its version, checked against :data:`GO_MINIMUM`."""
    wanted = f"Go {GO_MINIMUM[0]}.{GO_MINIMUM[1]} or newer"
    go = require_program("go", hint=f"install {wanted} (go.dev/dl or your OS packages)")
    version = runner([go, "env", "GOVERSION"]).stdout.strip()
    if parse_go_version(version) < GO_MINIMUM:
        raise AirkubeError(
            f"{version} is too old to build the pinned programs", hint=f"install {wanted}"
        )
    return go, version


def parse_upstream_go_mod(text: str) -> tuple[str, list[str], list[str]]:
    """Read an upstream go.mod: its ``go`` directive, its ``godebug`` lines, and the modules
    it replaces with folders inside its own repository."""
    go_directive = ""
    godebug_lines: list[str] = []
    local_replacements: list[str] = []
    block = ""
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if line == ")":
            block = ""
            continue
        if line.endswith("("):
            block = line[:-1].strip()
            continue
        if not block and line.startswith("go "):
            go_directive = line.split()[1]
        elif block == "godebug":
            godebug_lines.append(f"godebug {line}")
        elif not block and line.startswith("godebug "):
            godebug_lines.append(line)
        else:
            replaced = line.removeprefix("replace ").strip() if not block else line
            if (block == "replace" or line.startswith("replace ")) and "=>" in replaced:
                source, target = (part.strip() for part in replaced.split("=>", 1))
                if target.startswith(("./", "../")):
                    local_replacements.append(source.split()[0])
    return go_directive, godebug_lines, local_replacements


def render_wrapper_go_mod(program: GoProgram, upstream_go_mod: str) -> str:
    """The wrapper module's go.mod for ``program`` (pure)."""
    go_directive, godebug_lines, local_replacements = parse_upstream_go_mod(upstream_go_mod)
    if not go_directive:
        raise AirkubeError(f"{program.module} {program.version}: go.mod has no go directive")
    lines = [f"// Generated by airkube: builds {program.module} {program.version}.", ""]
    lines += [f"module airkube.local/build/{program.name}", "", f"go {go_directive}", ""]
    lines += godebug_lines + ([""] if godebug_lines else [])
    lines += [f"require {program.module} {program.version}", ""]
    if program.staging_version and local_replacements:
        # Upstream points these at folders of its own repository; the published releases of
        # the same version resolve from the proxy.
        lines.append("replace (")
        lines += [f"\t{m} => {m} {program.staging_version}" for m in local_replacements]
        lines += [")", ""]
    lines.append("tool (")
    lines += [f"\t{package}" for package in sorted(set(program.commands.values()))]
    lines.append(")")
    return "\n".join(lines) + "\n"


def build_argv(go: str, program: GoProgram, output_dir: Path) -> list[str]:
    """The ``go build`` command line for ``program`` (pure)."""
    argv = [
        go,
        "build",
        "-trimpath",
        "-ldflags",
        " ".join(("-s", "-w", *program.ldflags)),
    ]
    if program.tags:
        argv += ["-tags", ",".join(program.tags)]
    argv += ["-o", f"{output_dir}/"]
    argv += sorted(set(program.commands.values()))
    return argv


def go_binary_name(package: str) -> str:
    """The file name ``go build -o DIR/`` gives a command: a ``/vN`` suffix is skipped (pure)."""
    parts = package.rstrip("/").split("/")
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        return parts[-2]
    return parts[-1]


def fingerprint(program: GoProgram, go_version: str) -> str:
    """What identifies one build: the program's pin and flags, and the Go toolchain."""
    # Unset options are left out, so builds fingerprinted before an option existed still count.
    pin = {key: value for key, value in asdict(program).items() if value is not None}
    # The content, not the folder: every checkout of the same code shares one build.
    for key in ("source", "overlay"):
        if pin.get(key) is not None:
            pin[key] = source_digest(pin[key])
    payload = json.dumps({"program": pin, "go": go_version}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def source_digest(folder: Path) -> str:
    """sha256 over the names and bytes of every file below ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def output_dir(bin_root: Path, program: GoProgram) -> Path:
    suffix = f"+{program.variant}" if program.variant else ""
    return bin_root / f"{program.name}-{program.version}{suffix}"


def is_built(bin_root: Path, program: GoProgram, go_version: str) -> bool:
    out = output_dir(bin_root, program)
    stamp = out / FINGERPRINT_FILE
    if not stamp.is_file():
        return False
    recorded = json.loads(stamp.read_text()).get("fingerprint")
    binaries_present = all((out / name).is_file() for name in program.commands)
    return recorded == fingerprint(program, go_version) and binaries_present


def source_archive(archive: SourceArchive, *, program: str, sources: str | None) -> Path:
    """The archive in the sources folder, its sha256 checked; a clear error when it is not."""
    snapshot = archive.file_name.removesuffix(".tar.gz")
    how = (
        f"put {archive.file_name} ('git archive --prefix={snapshot}/ <tag>' of "
        f"{archive.repository}) in a folder and point {SOURCES_ENV} at it"
    )
    if not sources:
        raise AirkubeError(
            f"{program} is built from its source archive and {SOURCES_ENV} is not set", hint=how
        )
    path = Path(sources).expanduser() / archive.file_name
    if not path.is_file():
        raise AirkubeError(f"{path} does not exist", hint=how)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != archive.sha256:
        raise AirkubeError(
            f"{path} has sha256 {digest}, not the pinned {archive.sha256}",
            hint=f"replace it with the release snapshot; {how}",
        )
    return path


def unpack(archive: Path, work: Path) -> Path:
    """Extract a ``git archive`` snapshot into ``work``; return its single top folder."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(work, filter="data")
    tops = [entry for entry in work.iterdir() if entry.is_dir()]
    if len(tops) != 1 or not (tops[0] / "go.mod").is_file():
        raise AirkubeError(f"{archive} is not one Go module in one top-level folder")
    return tops[0]


def ensure_built(
    program: GoProgram, *, bin_root: Path, build_root: Path, runner: Runner = run
) -> Path:
    """Build ``program`` unless the cache already holds this exact build; return its folder."""
    try:
        return _ensure_built(program, bin_root=bin_root, build_root=build_root, runner=runner)
    except AirkubeError as error:
        raise AirkubeError(
            f"{program.name} {program.version} cannot be built: {error.args[0]}", hint=error.hint
        ) from error


def _ensure_built(program: GoProgram, *, bin_root: Path, build_root: Path, runner: Runner) -> Path:
    go, toolchain = go_toolchain(runner)
    out = output_dir(bin_root, program)
    if is_built(bin_root, program, toolchain):
        log.debug("%s %s: cached in %s", program.name, program.version, out)
        return out
    work = build_root / f"{program.name}-{program.version}"
    env = _go_env(program)
    if program.source is not None:
        source = program.source
    elif program.archive is not None and not uses_proxy(program):
        archive = source_archive(
            program.archive, program=program.name, sources=os.environ.get(SOURCES_ENV)
        )
        log.info("%s %s: unpacking %s", program.name, program.version, archive)
        source = unpack(archive, work)
    elif program.archive is not None:
        log.info("%s %s: fetching the module source", program.name, program.version)
        source = _module_tree(go, program, work, env, runner)
    else:
        work.mkdir(parents=True, exist_ok=True)
        source = work
        log.info("%s %s: fetching the module source", program.name, program.version)
        download = [go, "mod", "download", "-json", f"{program.module}@{program.version}"]
        info = json.loads(runner(download, env=env).stdout)
        go_mod = render_wrapper_go_mod(program, Path(info["GoMod"]).read_text())
        # ``go mod tidy`` rewrites go.mod with the full requirement list; starting again from
        # the template each time keeps the result a function of the pin alone.
        (work / "go.mod").write_text(go_mod)
        runner([go, "mod", "tidy"], env=env, cwd=work)
    apply_changes(program, source)
    out.mkdir(parents=True, exist_ok=True)
    (out / FINGERPRINT_FILE).unlink(missing_ok=True)
    if program.staging_version:
        log.info("%s: a first build takes tens of minutes on two cores", program.name)
    started = time.monotonic()
    label = f"{program.name} {program.version}: compiling {', '.join(program.commands)}"
    with progress.working(label):
        runner(build_argv(go, program, out), env=env, cwd=source)
    for name, package in program.commands.items():
        produced = out / go_binary_name(package)
        if produced.name != name and produced.is_file():
            produced.replace(out / name)
    missing = [name for name in program.commands if not (out / name).is_file()]
    if missing:
        raise AirkubeError(f"{program.name} build produced no {', '.join(missing)} in {out}")
    stamp = {"fingerprint": fingerprint(program, toolchain), "go": toolchain}
    (out / FINGERPRINT_FILE).write_text(json.dumps(stamp, indent=2) + "\n")
    log.info("%s %s: built in %.0f s", program.name, program.version, time.monotonic() - started)
    return out


def uses_proxy(program: GoProgram) -> bool:
    """Whether the module proxy stands in for a source archive the sources folder lacks."""
    assert program.archive is not None
    sources = os.environ.get(SOURCES_ENV) or ""
    present = bool(sources) and (Path(sources).expanduser() / program.archive.file_name).is_file()
    return bool(program.proxy_fallback) and not present


def _module_tree(
    go: str, program: GoProgram, work: Path, env: dict[str, str], runner: Runner
) -> Path:
    """A writable copy of the module's source as the proxy serves it (its own go.mod/go.sum)."""
    download = [go, "mod", "download", "-json", f"{program.module}@{program.version}"]
    folder = Path(json.loads(runner(download, env=env).stdout)["Dir"])
    shutil.rmtree(work, ignore_errors=True)
    tree = work / folder.name
    # The module cache is read-only; the copy is edited and built in place.
    shutil.copytree(folder, tree, copy_function=shutil.copyfile)
    return tree


def apply_changes(program: GoProgram, tree: Path) -> None:
    """Add ``program.overlay`` to the unpacked upstream ``tree`` and apply its edits."""
    if program.overlay is not None:
        for added in sorted(p for p in program.overlay.rglob("*") if p.is_file()):
            target = tree / added.relative_to(program.overlay)
            if target.exists():
                raise AirkubeError(f"{target} already exists upstream; the overlay would hide it")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(added, target)
    for edit in program.edits or ():
        path = tree / edit.path
        text = path.read_text()
        found = text.count(edit.old)
        if found != edit.count:
            raise AirkubeError(
                f"{edit.path}: the text to replace occurs {found} times, not {edit.count}",
                hint="the upstream source is not the pinned one; check the archive or the pin",
            )
        path.write_text(text.replace(edit.old, edit.new))


def _go_env(program: GoProgram) -> dict[str, str]:
    env = dict(os.environ)
    env["CGO_ENABLED"] = "1" if program.cgo else "0"
    env.setdefault("GOFLAGS", "-buildvcs=false")
    if "-buildvcs" not in env["GOFLAGS"]:
        env["GOFLAGS"] += " -buildvcs=false"
    return env
