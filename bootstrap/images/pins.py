"""The versions and names airkube's images are built with: change a pin here and every image
that depends on it gets a new content tag."""

from __future__ import annotations

from bootstrap import paths
from bootstrap.gobuild import GoProgram, SourceArchive

AIRFLOW_VERSION = "3.3.2"


UV_VERSION = "0.13.8"


AIRFLOW_UID = 50000


AIRFLOW_GID = 50000


# The chart's default image is the official postgres:<major>.<minor>; the image built here must
# run the same major, or a data volume kept across a switch cannot be read.
POSTGRES_VERSION = "17"


# The Debian release whose archive ships postgresql-<POSTGRES_VERSION>.
POSTGRES_DEBIAN_SUITE = "trixie"


GIT_SYNC_VERSION = "v4.7.1"


# The Go module proxy does not serve k8s.io/git-sync (and Go refuses its v4 tags as module
# versions: the module path has no /v4), so the binary is built from the release snapshot, whose
# dependencies are vendored.
GIT_SYNC_PROGRAM = GoProgram(
    name="git-sync",
    module="k8s.io/git-sync",
    version=GIT_SYNC_VERSION,
    commands={"git-sync": "k8s.io/git-sync"},
    ldflags=(f"-X k8s.io/git-sync/pkg/version.VERSION={GIT_SYNC_VERSION}",),
    archive=SourceArchive(
        file_name=f"git-sync-{GIT_SYNC_VERSION}.tar.gz",
        sha256="0d602cc2a01b45ff94af36212c3ee680713c75c3beead2473541030de013b9af",
        repository="https://github.com/kubernetes/git-sync",
    ),
)


GIT_SYNC_UPSTREAM_IMAGE = f"registry.k8s.io/git-sync/git-sync:{GIT_SYNC_VERSION}"


DEFAULT_BASE_IMAGE = "python:3.12-slim-bookworm"


DEBIAN_SUITE = "bookworm"


DEBOOTSTRAP_VERSION = "1.0.128+nmu2+deb12u2"


# Bumped whenever the recipe below changes, so a cached root filesystem is not reused.
LOCAL_BASE_REVISION = 2


def local_base_reference(suite: str = DEBIAN_SUITE) -> str:
    """The tag of the Debian base made locally for ``suite``."""
    return f"airkube/debian:{suite}-minbase-r{LOCAL_BASE_REVISION}"


LOCAL_BASE_REFERENCE = local_base_reference()


DEFAULT_APT_MIRROR = "http://deb.debian.org/debian"


VERSITYGW_VERSION = "v1.8.0"


# The object store for development and tests (S3 remote task logs on the local cluster).
VERSITYGW_PROGRAM = GoProgram(
    name="versitygw",
    module="github.com/versity/versitygw",
    version=VERSITYGW_VERSION,
    commands={"versitygw": "github.com/versity/versitygw/cmd/versitygw"},
)


# The project's HTTPS front of the development git server (docker/gitserver/https).
GIT_HTTPS_PROGRAM = GoProgram(
    name="git-https",
    module="airkube.local/git-https",
    version="local",
    commands={"git-https": "airkube.local/git-https"},
    source=paths.DOCKER_DIR / "gitserver" / "https",
)


IMAGE_NAMES = ("airflow", "postgres", "git-sync", "objectstore", "gitserver")


# What "all" builds: every deployment needs these; git-sync only the git-sync DAG mode, and
# building it needs github.com besides the Go module proxy.
ALL_IMAGES = ("airflow", "postgres")


IMAGE_REPOSITORIES = {
    "airflow": "airkube/airflow",
    "postgres": "airkube/postgres",
    "git-sync": "airkube/git-sync",
    "objectstore": "airkube/objectstore",
    "gitserver": "airkube/gitserver",
}
