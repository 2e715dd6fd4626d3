"""One Airflow release on the local cluster, shared by the e2e tests of this folder.

The images are built with the project's DAGs plus the test DAGs of ``dags/`` here baked in;
the release is installed once per session (an upgrade in place on warm runs). Tests observe
Airflow through its REST API and the task pods through the Kubernetes API.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap import cluster, deploy, docker, helm, images, tools
from bootstrap.airflow_api import AirflowApi
from bootstrap.errors import AirkubeError
from bootstrap.kube import KubeClients
from tests.e2e.airflow.helpers import (
    NAMESPACE,
    RELEASE,
    api_session,
    base_values,
    merged_dag_folder,
    release_settings,
)

HERE = Path(__file__).parent
# Ends the release's story: it reinstalls with the base values, which the next session's
# first deploy then finds unchanged.
LAST_MODULE = HERE / "test_reinstall.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the reinstall module behind every other test of this folder."""
    last = [item for item in items if item.path == LAST_MODULE]
    if not last:
        return
    rest = [item for item in items if item.path != LAST_MODULE]
    ours = [index for index, item in enumerate(rest) if HERE in item.path.parents]
    cut = ours[-1] + 1 if ours else len(rest)
    items[:] = rest[:cut] + last + rest[cut:]


@pytest.fixture(scope="session")
def helm_on_cluster() -> helm.Helm:
    return helm.Helm(tools.ensure_go_tool(tools.HELM))


@pytest.fixture(scope="session")
def built_images(local_cluster: cluster.ClusterInfo) -> dict[str, str]:
    try:
        docker.ensure_engine()
        built = images.build_images(
            ["airflow", "postgres"], images.BuildOptions(dags_dir=merged_dag_folder())
        )
        images.load_into_cluster([image.reference for image in built])
    except AirkubeError as error:
        pytest.fail(f"the e2e images could not be built or loaded: {error}", pytrace=False)
    return {image.name: image.reference for image in built}


@pytest.fixture(scope="session")
def settings(local_cluster: cluster.ClusterInfo) -> deploy.DeploySettings:
    return release_settings(local_cluster.kubeconfig, RELEASE, NAMESPACE)


@pytest.fixture(scope="session")
def release(
    helm_on_cluster: helm.Helm, built_images: dict[str, str], settings: deploy.DeploySettings
) -> deploy.DeployResult:
    try:
        return deploy.deploy(helm_on_cluster, base_values(built_images), settings)
    except AirkubeError as error:
        pytest.fail(f"the chart did not become ready on the local cluster: {error}", pytrace=False)


@pytest.fixture
def api(
    release: deploy.DeployResult, kube: KubeClients, settings: deploy.DeploySettings
) -> Iterator[AirflowApi]:
    """An authenticated REST client, port-forwarded to the api-server pod that is ready now."""
    with api_session(settings, kube) as client:
        yield client
