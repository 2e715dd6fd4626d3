"""Debian packages airkube needs on the host (the Docker engine, debootstrap, the local cluster's
runtime pieces), each at a pinned version: checked with dpkg, installed with apt-get when missing
or at another version."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping

from bootstrap.errors import AirkubeError
from bootstrap.process import Runner, run

log = logging.getLogger(__name__)

# A fresh machine may still be running its own apt (unattended upgrades): wait, do not fail.
_LOCK_WAIT = ("-o", "DPkg::Lock::Timeout=600")


def installed_version(package: str, runner: Runner = run) -> str | None:
    done = runner(["dpkg-query", "--show", "--showformat=${Version}", package], check=False)
    return done.stdout.strip() or None if done.returncode == 0 else None


def install_argv(pins: Mapping[str, str]) -> list[str]:
    """``apt-get install`` of exactly the pinned versions (pure)."""
    return [
        "apt-get",
        *_LOCK_WAIT,
        "install",
        "--yes",
        "--no-install-recommends",
        *(f"{name}={version}" for name, version in sorted(pins.items())),
    ]


def ensure_packages(pins: Mapping[str, str], *, runner: Runner = run) -> None:
    """Install every pinned package that is missing or at another version."""
    if shutil.which("dpkg-query") is None or shutil.which("apt-get") is None:
        raise AirkubeError(
            "Debian packages are needed but this is not a Debian-like system",
            hint="install " + ", ".join(f"{n} {v}" for n, v in sorted(pins.items())),
        )
    wanted = {
        name: version
        for name, version in pins.items()
        if installed_version(name, runner) != version
    }
    if not wanted:
        return
    if os.geteuid() != 0:
        raise AirkubeError(
            "missing packages: " + ", ".join(sorted(wanted)),
            hint="run as root, or install them: sudo " + " ".join(install_argv(wanted)),
        )
    log.info("installing Debian packages: %s", ", ".join(sorted(wanted)))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if runner(install_argv(wanted), env=env, check=False).returncode != 0:
        # A stale package index is the usual cause on a fresh machine; refresh once.
        runner(["apt-get", *_LOCK_WAIT, "update", "--quiet"], env=env)
        runner(install_argv(wanted), env=env)
