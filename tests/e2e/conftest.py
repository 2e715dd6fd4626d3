"""The local cluster for end-to-end tests: brought up once per session through the core.

``up`` is idempotent and cached, so a warm run only checks the cluster. When the cluster
cannot come up the tests fail with the reason; they are never skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from bootstrap import cluster, filelock, paths
from bootstrap.cluster.images import TOOLBOX_IMAGE, build_toolbox_archive
from bootstrap.errors import AirkubeError
from bootstrap.kube import KubeClients, clients


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[cluster.ClusterInfo]:
    """The cluster, held for this test run alone: two runs on one machine would upgrade and
    uninstall the same releases under each other, so the second waits for the first."""
    with filelock.exclusive(
        paths.cache_dir() / "e2e" / "cluster-tier.lock",
        waiting="another test run is using the local cluster; waiting until it ends",
    ):
        try:
            info = cluster.up()
        except AirkubeError as error:
            pytest.fail(f"the local cluster did not come up: {error}", pytrace=False)
        yield info


@pytest.fixture(scope="session")
def kube(local_cluster: cluster.ClusterInfo) -> KubeClients:
    return clients(local_cluster.kubeconfig)


@pytest.fixture(scope="session")
def toolbox_image(local_cluster: cluster.ClusterInfo) -> str:
    """A busybox image packed locally in ``docker save`` layout and imported like docker's."""
    archive = build_toolbox_archive(cluster.ClusterLayout.default(), layout_kind="docker")
    cluster.import_image_archive(archive)
    return TOOLBOX_IMAGE


@pytest.fixture
def namespace(kube: KubeClients) -> Iterator[str]:
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    kube.core.create_namespace({"metadata": {"name": name}})
    yield name
    kube.core.delete_namespace(name)
