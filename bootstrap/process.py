"""Running external programs: one place that starts child processes.

The wrappers for helm, docker and the cluster binaries build argv lists and hand them to a
``Runner``. Tests inject a fake runner instead of patching ``subprocess``.
"""

from __future__ import annotations

import logging
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bootstrap.errors import AirkubeError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Completed:
    """What a finished command left behind."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class Runner(Protocol):
    """Runs one command to completion."""

    def __call__(
        self,
        argv: Sequence[str],
        *,
        input_text: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
        stream: bool = False,
    ) -> Completed: ...


def require_program(name: str, *, hint: str) -> str:
    """Return the absolute path of ``name`` on PATH, or fail saying how to install it."""
    found = shutil.which(name)
    if not found:
        raise AirkubeError(f"'{name}' was not found on PATH", hint=hint)
    return found


def run(
    argv: Sequence[str],
    *,
    input_text: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
    stream: bool = False,
) -> Completed:
    """Run ``argv``; raise ``AirkubeError`` with the command and its stderr when it fails.

    With ``stream`` the child's output goes straight to the terminal (long builds show
    progress) and is not captured.
    """
    argv = [str(part) for part in argv]
    log.debug("running: %s", shlex.join(argv))
    try:
        proc = subprocess.run(
            argv,
            input=input_text,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            text=True,
            stdout=None if stream else subprocess.PIPE,
            stderr=None if stream else subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise AirkubeError(f"cannot run {argv[0]}: not found") from exc
    done = Completed(tuple(argv), proc.returncode, proc.stdout or "", proc.stderr or "")
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-20:]
        raise AirkubeError(
            f"command failed (exit {done.returncode}): {shlex.join(argv)}"
            + ("\n" + "\n".join(detail) if detail else "")
        )
    return done
