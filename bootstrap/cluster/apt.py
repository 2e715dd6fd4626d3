"""Debian packages the cluster runs on: checked against their pins, installed when missing."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping

from bootstrap.errors import AirkubeError
from bootstrap.process import run

log = logging.getLogger(__name__)


def installed_version(package: str) -> str | None:
    done = run(["dpkg-query", "--show", "--showformat=${Version}", package], check=False)
    return done.stdout.strip() or None if done.returncode == 0 else None


def install_argv(packages: Mapping[str, str]) -> list[str]:
    """``apt-get install`` of exactly the pinned versions (pure)."""
    return [
        "apt-get",
        "install",
        "--yes",
        "--no-install-recommends",
        *(f"{name}={version}" for name, version in sorted(packages.items())),
    ]


def ensure_packages(pins: Mapping[str, str]) -> None:
    """Install any pinned package that is missing or at another version."""
    if not shutil.which("dpkg-query"):
        raise AirkubeError(
            "the local cluster needs Debian packages but this is not a Debian-like system",
            hint="install " + ", ".join(f"{n} {v}" for n, v in pins.items()),
        )
    wanted = {name: version for name, version in pins.items() if installed_version(name) != version}
    if not wanted:
        return
    if os.geteuid() != 0:
        raise AirkubeError(
            "missing packages: " + ", ".join(sorted(wanted)),
            hint="run as root or install them: sudo " + " ".join(install_argv(wanted)),
        )
    log.info("installing Debian packages: %s", ", ".join(sorted(wanted)))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "--quiet"], env=env)
    run(install_argv(wanted), env=env)
