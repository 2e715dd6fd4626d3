"""Which Airflow providers an image holds, and whether the release's settings that need one can
work: remote task logs and git DAG bundles.

The chart cannot see inside an image, so a release that ships task logs to ``s3://`` on an
image without the Amazon provider renders fine and then fails in every component, when Airflow
loads its logging config; a gitBundle release without the git provider parses no DAG.
``airkube deploy`` knows the image and checks it first: it asks the image itself (a throwaway
container lists the installed provider distributions) and remembers the answer by image id.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from bootstrap import paths
from bootstrap.docker import DockerClient
from bootstrap.errors import AirkubeError
from bootstrap.release import Release

log = logging.getLogger(__name__)

PACKAGE_PREFIX = "apache-airflow-providers-"

# Airflow picks its remote task log handler by the folder's scheme; each lives in a provider.
REMOTE_LOG_PROVIDERS = {
    "s3://": "amazon",
    "cloudwatch://": "amazon",
    "gs://": "google",
    "stackdriver://": "google",
    "wasb": "microsoft-azure",
    "oss://": "alibaba",
    "hdfs://": "apache-hdfs",
}

_LIST_PROVIDERS = (
    "import importlib.metadata as m, json\n"
    "names = {(d.metadata['Name'] or '').lower().replace('_', '-') for d in m.distributions()}\n"
    f"print(json.dumps(sorted(n for n in names if n.startswith({PACKAGE_PREFIX!r}))))\n"
)


def remote_log_provider(release: Release) -> tuple[str, str] | None:
    """The remote log folder and the provider its handler lives in, when remote logs are on."""
    section = release.airflow_config["logging"]
    if not section.getboolean("remote_logging", fallback=False):
        return None
    folder = section.get("remote_base_log_folder", "")
    for scheme, provider in REMOTE_LOG_PROVIDERS.items():
        if folder.startswith(scheme):
            return folder, provider
    return None


def image_providers(reference: str, docker: DockerClient) -> set[str] | None:
    """The provider packages installed in a local image (``apache-airflow-providers-*``), or
    None when the local Docker engine does not have that image."""
    try:
        image_id = docker.image_id(reference)
    except OSError:
        return None
    if image_id is None:
        return None
    record = paths.cache_dir() / "images" / "providers" / f"{image_id.removeprefix('sha256:')}.json"
    if record.is_file():
        return set(json.loads(record.read_text()))
    done = docker.run(reference, ["-c", _LIST_PROVIDERS], entrypoint="python")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(found) + "\n")
    return set(found)


@dataclass(frozen=True)
class Need:
    """A provider a release's settings need in its images, and what breaks without it."""

    setting: str
    provider: str
    without: str


def needed_providers(release: Release) -> list[Need]:
    """The providers the release's values need inside its images."""
    needs = []
    remote = remote_log_provider(release)
    if remote is not None:
        folder, provider = remote
        needs.append(
            Need(
                f"logs.remote.baseFolder {folder}",
                provider,
                "every component would fail to load Airflow's logging config",
            )
        )
    if release.dag_mode == "gitBundle":
        needs.append(
            Need(
                "dags.mode=gitBundle",
                "git",
                "the dag-processor could not load the bundle and no DAG would be parsed",
            )
        )
    return needs


def require_providers(release: Release, docker: DockerClient) -> None:
    """Refuse a release whose settings need a provider its images lack."""
    for need in needed_providers(release):
        package = PACKAGE_PREFIX + need.provider
        for runs, image in release.airflow_images.items():
            found = image_providers(image, docker)
            if found is None:
                log.warning(
                    "not checked: %s (%s) is not in the local Docker engine; %s needs %s in it",
                    image,
                    runs,
                    need.setting,
                    package,
                )
            elif package not in found:
                raise AirkubeError(
                    f"{need.setting} needs {package}, which the image of the {runs} ({image}) "
                    f"does not hold: {need.without}",
                    hint=f"build the image with it: airkube image build --provider "
                    f"{need.provider} (or deploy an image that has it)",
                )
