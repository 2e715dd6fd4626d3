"""Builds pinned programs from their Go modules into the cache, once per pin.

Each program gets a small wrapper module (``templates/go.mod.j2``) that requires the upstream
module and lists its commands as ``tool`` packages, so ``go mod tidy`` can resolve a complete
``go.sum``. The binaries land in ``<cache>/cluster/bin/<name>-<version>/`` with a fingerprint;
a changed pin builds into a new folder, an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import asdict
from pathlib import Path

from bootstrap.cluster.layout import ClusterLayout
from bootstrap.cluster.render import render
from bootstrap.cluster.versions import GoProgram
from bootstrap.errors import AirkubeError
from bootstrap.process import Completed, require_program, run

log = logging.getLogger(__name__)

FINGERPRINT_FILE = ".airkube-build.json"
_HEARTBEAT_SECONDS = 60
_GO_HINT = "install Go 1.26 or newer from https://go.dev/dl/ or your package manager"


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
    staging = local_replacements if program.staging_version else []
    return render(
        "go.mod.j2",
        name=program.name,
        module=program.module,
        version=program.version,
        go_directive=go_directive,
        godebug_lines=godebug_lines,
        staging_modules=staging,
        staging_version=program.staging_version,
        packages=sorted(set(program.commands.values())),
    )


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
    payload = json.dumps({"program": asdict(program), "go": go_version}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def output_dir(layout: ClusterLayout, program: GoProgram) -> Path:
    return layout.bin_root / f"{program.name}-{program.version}"


def is_built(layout: ClusterLayout, program: GoProgram, go_version: str) -> bool:
    out = output_dir(layout, program)
    stamp = out / FINGERPRINT_FILE
    if not stamp.is_file():
        return False
    recorded = json.loads(stamp.read_text()).get("fingerprint")
    binaries_present = all((out / name).is_file() for name in program.commands)
    return recorded == fingerprint(program, go_version) and binaries_present


def go_version(go: str) -> str:
    return run([go, "env", "GOVERSION"]).stdout.strip()


def ensure_built(layout: ClusterLayout, program: GoProgram) -> Path:
    """Build ``program`` unless the cache already holds this exact build; return its folder."""
    go = require_program("go", hint=_GO_HINT)
    toolchain = go_version(go)
    out = output_dir(layout, program)
    if is_built(layout, program, toolchain):
        log.debug("%s %s: cached in %s", program.name, program.version, out)
        return out
    work = layout.build_root / f"{program.name}-{program.version}"
    work.mkdir(parents=True, exist_ok=True)
    env = _go_env(program)
    log.info("%s %s: fetching the module source", program.name, program.version)
    info = json.loads(
        run([go, "mod", "download", "-json", f"{program.module}@{program.version}"], env=env).stdout
    )
    upstream = Path(info["GoMod"]).read_text()
    go_mod = render_wrapper_go_mod(program, upstream)
    # ``go mod tidy`` rewrites go.mod with the full requirement list; starting again from the
    # template each time keeps the result a function of the pin alone.
    (work / "go.mod").write_text(go_mod)
    run([go, "mod", "tidy"], env=env, cwd=work)
    out.mkdir(parents=True, exist_ok=True)
    (out / FINGERPRINT_FILE).unlink(missing_ok=True)
    log.info(
        "%s %s: compiling %s%s",
        program.name,
        program.version,
        ", ".join(program.commands),
        " (a first build takes tens of minutes on two cores)" if program.staging_version else "",
    )
    started = time.monotonic()
    _run_with_heartbeat(build_argv(go, program, out), env=env, cwd=work, label=program.name)
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


def _go_env(program: GoProgram) -> dict[str, str]:
    env = dict(os.environ)
    env["CGO_ENABLED"] = "1" if program.cgo else "0"
    env.setdefault("GOFLAGS", "-buildvcs=false")
    if "-buildvcs" not in env["GOFLAGS"]:
        env["GOFLAGS"] += " -buildvcs=false"
    return env


def _run_with_heartbeat(argv: list[str], *, env: dict[str, str], cwd: Path, label: str) -> None:
    """Run a long build, logging a line every minute so the user sees it is alive."""
    outcome: list[Completed | BaseException] = []

    def target() -> None:
        try:
            outcome.append(run(argv, env=env, cwd=cwd))
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=target, name=f"go-build-{label}", daemon=True)
    started = time.monotonic()
    worker.start()
    while worker.is_alive():
        worker.join(_HEARTBEAT_SECONDS)
        if worker.is_alive():
            minutes = (time.monotonic() - started) / 60
            log.info("%s: still compiling, %.0f min so far", label, minutes)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
