"""Where airkube keeps what it builds and downloads: outside the repository, reused across runs."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHART_DIR = REPO_ROOT / "chart"
VALUES_DIR = REPO_ROOT / "values"
DOCKER_DIR = REPO_ROOT / "docker"
DAGS_DIR = REPO_ROOT / "dags"
# Charts of the services the local cluster runs for development and tests (not the product).
DEV_CHARTS_DIR = REPO_ROOT / "dev"


def cache_dir() -> Path:
    """The cache root: ``$AIRKUBE_CACHE``, else ``$XDG_CACHE_HOME/airkube``, else
    ``~/.cache/airkube``."""
    explicit = os.environ.get("AIRKUBE_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "airkube"
