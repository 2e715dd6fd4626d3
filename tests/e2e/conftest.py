"""The local cluster for end-to-end tests: brought up once per session through the core.

``up`` is idempotent and cached, so a warm run only checks the cluster. When the cluster
cannot come up the tests fail with the reason; they are never skipped.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from bootstrap import cluster
from bootstrap.cluster.images import TOOLBOX_IMAGE, build_toolbox_archive
from bootstrap.errors import AirkubeError
from bootstrap.kube import KubeClients, clients

T = TypeVar("T")


def wait_for(
    what: str, probe: Callable[[], T | None], *, timeout: float = 120, interval: float = 0.5
) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="session")
def local_cluster() -> cluster.ClusterInfo:
    try:
        return cluster.up()
    except AirkubeError as error:
        pytest.fail(f"the local cluster did not come up: {error}", pytrace=False)


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
