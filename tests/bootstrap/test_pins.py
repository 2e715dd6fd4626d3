"""Every version airkube pins is written in `bootstrap/images/pins.py`; the chart, the
Dockerfiles, the Python project, the image's lock and the setup script repeat some of them
because their formats cannot import Python. These tests hold every copy to the pin."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from bootstrap import paths
from bootstrap.images import pins

CHART = yaml.safe_load((paths.CHART_DIR / "Chart.yaml").read_text())
VALUES = yaml.safe_load((paths.CHART_DIR / "values.yaml").read_text())
ANNOTATED_IMAGES = {
    entry["name"]: entry["image"]
    for entry in yaml.safe_load(CHART["annotations"]["artifacthub.io/images"])
}


def dockerfile_defaults(dockerfile: Path) -> dict[str, str]:
    """``ARG NAME=default`` lines of a Dockerfile; an ARG without a default maps to ''."""
    defaults: dict[str, str] = {}
    for line in dockerfile.read_text().splitlines():
        match = re.fullmatch(r"ARG\s+(\w+)(?:=(\S*))?\s*", line.strip())
        if match:
            defaults.setdefault(match.group(1), match.group(2) or "")
    return defaults


def requirement_pins(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)==([^\s;#]+).*", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def image_tag(reference: str) -> str:
    return reference.rsplit(":", 1)[1]


AIRFLOW_DOCKERFILE = dockerfile_defaults(paths.DOCKER_DIR / "Dockerfile")
POSTGRES_DOCKERFILE = dockerfile_defaults(paths.DOCKER_DIR / "postgres" / "Dockerfile")
GIT_SYNC_DOCKERFILE = dockerfile_defaults(paths.DOCKER_DIR / "git-sync" / "Dockerfile")
PYPROJECT = tomllib.loads((paths.REPO_ROOT / "pyproject.toml").read_text())
IMAGE_LOCK = requirement_pins((paths.DOCKER_DIR / "requirements.lock").read_text().splitlines())
# What an image built with one of the optional providers (--provider NAME) holds on top.
PROVIDER_LOCKS = {
    lock.stem: requirement_pins(lock.read_text().splitlines())
    for lock in sorted((paths.DOCKER_DIR / "provider-locks").glob("*.lock"))
}
IMAGE_TOP_LEVEL = requirement_pins((paths.DOCKER_DIR / "requirements.in").read_text().splitlines())
PROJECT_AIRFLOW_EXTRA = requirement_pins(PYPROJECT["project"]["optional-dependencies"]["airflow"])
PROJECT_LOCK = {
    package["name"]: package["version"]
    for package in tomllib.loads((paths.REPO_ROOT / "uv.lock").read_text())["package"]
}


@pytest.mark.parametrize(
    ("where", "found"),
    [
        ("Chart.yaml appVersion", CHART["appVersion"]),
        ("Chart.yaml artifacthub.io/images", image_tag(ANNOTATED_IMAGES["airflow"])),
        ("docker/Dockerfile ARG AIRFLOW_VERSION", AIRFLOW_DOCKERFILE["AIRFLOW_VERSION"]),
        ("docker/requirements.in", IMAGE_TOP_LEVEL["apache-airflow"]),
        ("docker/requirements.lock", IMAGE_LOCK["apache-airflow"]),
        ("pyproject.toml [airflow] extra", PROJECT_AIRFLOW_EXTRA["apache-airflow"]),
        ("uv.lock", PROJECT_LOCK["apache-airflow"]),
    ],
)
def test_airflow_should_be_pinned_alike_everywhere(where, found):
    assert found == pins.AIRFLOW_VERSION, f"{where} says Airflow {found}"


def test_chart_docs_link_should_name_the_pinned_airflow():
    links = CHART["annotations"]["artifacthub.io/links"]
    assert f"/apache-airflow/{pins.AIRFLOW_VERSION}/" in links


@pytest.mark.parametrize("package", sorted(PROJECT_AIRFLOW_EXTRA))
def test_airflow_judge_should_run_the_images_packages(package):
    # Airflow's own code judges what the chart renders; it must be the code the image runs, by
    # default or with the optional provider that brings the package.
    image = (
        IMAGE_LOCK
        if package in IMAGE_LOCK
        else next((pins for pins in PROVIDER_LOCKS.values() if package in pins), {})
    )
    assert package in image, f"{package} is in the [airflow] extra but in no image lock"
    assert PROJECT_AIRFLOW_EXTRA[package] == image[package]


@pytest.mark.parametrize(
    ("where", "found"),
    [
        ("values.yaml images.gitSync.tag", VALUES["images"]["gitSync"]["tag"]),
        ("Chart.yaml artifacthub.io/images", image_tag(ANNOTATED_IMAGES["git-sync"])),
        (
            "docker/git-sync/Dockerfile ARG GIT_SYNC_VERSION",
            GIT_SYNC_DOCKERFILE["GIT_SYNC_VERSION"],
        ),
    ],
)
def test_git_sync_should_be_pinned_alike_everywhere(where, found):
    assert found == pins.GIT_SYNC_VERSION, f"{where} says git-sync {found}"


@pytest.mark.parametrize(
    ("where", "found"),
    [
        ("values.yaml images.postgres.tag", VALUES["images"]["postgres"]["tag"].split(".")[0]),
        ("Chart.yaml artifacthub.io/images", image_tag(ANNOTATED_IMAGES["postgres"]).split(".")[0]),
        ("docker/postgres/Dockerfile ARG PG_MAJOR", POSTGRES_DOCKERFILE["PG_MAJOR"]),
    ],
)
def test_postgres_major_should_be_the_same_in_the_chart_and_the_local_image(where, found):
    assert found == pins.POSTGRES_VERSION, f"{where} says Postgres {found}"


def test_postgres_chart_tag_should_match_its_annotation():
    assert image_tag(ANNOTATED_IMAGES["postgres"]) == VALUES["images"]["postgres"]["tag"]


def test_postgres_image_should_default_to_the_debian_release_that_ships_its_major():
    assert pins.POSTGRES_DEBIAN_SUITE in POSTGRES_DOCKERFILE["BASE_IMAGE"]


@pytest.mark.parametrize(
    ("where", "found"),
    [
        ("docker/Dockerfile ARG UV_VERSION", AIRFLOW_DOCKERFILE["UV_VERSION"]),
        (
            "scripts/setup.sh UV_VERSION",
            re.search(
                r"^UV_VERSION=(\S+)$",
                (paths.REPO_ROOT / "scripts" / "setup.sh").read_text(),
                re.MULTILINE,
            ).group(1),  # type: ignore[union-attr]
        ),
    ],
)
def test_uv_should_be_pinned_alike_everywhere(where, found):
    assert found == pins.UV_VERSION, f"{where} says uv {found}"


@pytest.mark.parametrize(
    ("where", "found"),
    [
        ("docker/Dockerfile ARG AIRFLOW_UID", AIRFLOW_DOCKERFILE["AIRFLOW_UID"]),
        ("docker/Dockerfile ARG AIRFLOW_GID", AIRFLOW_DOCKERFILE["AIRFLOW_GID"]),
        ("values.yaml securityContext.runAsUser", str(VALUES["securityContext"]["runAsUser"])),
        ("values.yaml securityContext.runAsGroup", str(VALUES["securityContext"]["runAsGroup"])),
    ],
)
def test_airflow_identity_should_be_the_same_in_the_image_and_the_chart(where, found):
    assert found == str(pins.AIRFLOW_UID) == str(pins.AIRFLOW_GID), f"{where} says {found}"


@pytest.mark.parametrize(
    ("dockerfile", "defaults"),
    [
        ("docker/Dockerfile", AIRFLOW_DOCKERFILE),
        ("docker/postgres/Dockerfile", POSTGRES_DOCKERFILE),
        ("docker/git-sync/Dockerfile", GIT_SYNC_DOCKERFILE),
    ],
)
def test_every_build_argument_should_have_a_default(dockerfile, defaults):
    # A plain `docker build` (or Okteto's) passes no build arguments.
    missing = sorted(name for name, default in defaults.items() if not default)
    assert not missing, f"{dockerfile}: ARG without a default: {', '.join(missing)}"


def test_airflow_image_should_default_to_the_pinned_base():
    assert AIRFLOW_DOCKERFILE["BASE_IMAGE"] == pins.DEFAULT_BASE_IMAGE
