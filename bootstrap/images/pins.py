"""The versions and names airkube's images are built with: change a pin here and every image
that depends on it gets a new content tag."""

from __future__ import annotations

AIRFLOW_VERSION = "3.3.2"


UV_VERSION = "0.13.8"


AIRFLOW_UID = 50000


AIRFLOW_GID = 50000


POSTGRES_VERSION = "15"


GIT_SYNC_VERSION = "v4.6.0"


GIT_SYNC_MODULE = "k8s.io/git-sync"


GIT_SYNC_GIT_URL = "https://github.com/kubernetes/git-sync"


DEFAULT_BASE_IMAGE = "python:3.12-slim-bookworm"


DEBIAN_SUITE = "bookworm"


DEBOOTSTRAP_VERSION = "1.0.128+nmu2+deb12u2"


# Bumped whenever the recipe below changes, so a cached root filesystem is not reused.
LOCAL_BASE_REVISION = 2


LOCAL_BASE_REFERENCE = f"airkube/debian:{DEBIAN_SUITE}-minbase-r{LOCAL_BASE_REVISION}"


DEFAULT_APT_MIRROR = "http://deb.debian.org/debian"


IMAGE_NAMES = ("airflow", "postgres", "git-sync")


# What "all" builds: every deployment needs these; git-sync only the git-sync DAG mode, and
# building it needs github.com besides the Go module proxy.
ALL_IMAGES = ("airflow", "postgres")


IMAGE_REPOSITORIES = {
    "airflow": "airkube/airflow",
    "postgres": "airkube/postgres",
    "git-sync": "airkube/git-sync",
}
