"""Fixtures shared by every tier: the pinned toolset and a chart renderer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from bootstrap import helm, kubeconform, paths, tools, values

DEFAULT_KUBE_VERSION = tools.KUBERNETES_VERSIONS[-1]
VALUES_FILES = sorted(paths.VALUES_DIR.glob("*.yaml"))
CLUSTER_TIER = Path(__file__).parent / "e2e"

Render = Callable[..., list[dict[str, Any]]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The cluster tier goes first: it is the longest, and its tests share one cluster and one
    release, so they run in their own order on one worker (see the scheduler below)."""
    cluster = [item for item in items if CLUSTER_TIER in item.path.parents]
    for item in cluster:
        item.add_marker(pytest.mark.cluster)
    others = [item for item in items if CLUSTER_TIER not in item.path.parents]
    items[:] = cluster + others


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n 2`` (as ``make test`` runs): the whole cluster tier is one unit of work for one
    worker, every other test its own unit for whichever worker is free."""
    from xdist.scheduler import LoadScopeScheduling

    prefix = f"{CLUSTER_TIER.relative_to(config.rootpath).as_posix()}/"

    class ClusterTierOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "cluster tier" if nodeid.startswith(prefix) else nodeid

    config.option.loadscopereorder = False
    return ClusterTierOnOneWorker(config, log)


@pytest.fixture(scope="session")
def toolset() -> tools.Toolset:
    """helm, kubeconform and the schemas, installed (pinned) into the cache when missing."""
    return tools.ensure_all()


@pytest.fixture(scope="session")
def helm_client(toolset: tools.Toolset) -> helm.Helm:
    return helm.Helm(toolset.helm)


@pytest.fixture(scope="session")
def validator(toolset: tools.Toolset) -> kubeconform.Kubeconform:
    return kubeconform.Kubeconform(toolset.kubeconform, toolset.schema_location)


@pytest.fixture(scope="session")
def render(helm_client: helm.Helm, validator: kubeconform.Kubeconform) -> Render:
    """``render(values, files=..., show_only=..., kube_version=...)``: the chart's objects.

    Every render is also validated with kubeconform -strict, so each test doubles as a check
    that what it looks at is a valid Kubernetes object.
    """

    def render_chart(
        overrides: Mapping[str, Any] | None = None,
        *,
        files: Sequence[Path] = (),
        show_only: Sequence[str] = (),
        kube_version: str = DEFAULT_KUBE_VERSION,
        namespace: str = "airflow",
        release: str = "airflow",
    ) -> list[dict[str, Any]]:
        merged = values.merge(*(values.load_file(path) for path in files), overrides or {})
        manifest = helm_client.template(
            paths.CHART_DIR,
            merged,
            release=release,
            namespace=namespace,
            kube_version=kube_version,
            show_only=show_only,
        )
        findings = validator.findings(manifest, kube_version=kube_version)
        assert not findings, f"kubeconform -strict rejected rendered objects: {findings}"
        objects = helm.parse_documents(manifest)
        # The worker pod templates sit inside a ConfigMap, where kubeconform cannot see them;
        # a broken one would only show when a task starts. Each must be a valid Pod itself.
        templates = "\n---\n".join(worker_templates(objects))
        if templates:
            findings = validator.findings(templates, kube_version=kube_version)
            assert not findings, f"kubeconform -strict rejected a worker pod template: {findings}"
        return objects

    return render_chart


def worker_templates(objects: Sequence[dict[str, Any]]) -> list[str]:
    """The worker pod templates (YAML Pods) inside the rendered pod-templates ConfigMap."""
    return [
        text
        for obj in objects
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"].endswith("-pod-templates")
        for text in obj.get("data", {}).values()
    ]


def by_kind_name(objects: Sequence[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` named ``name``; fails listing what exists."""
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    present = sorted((o["kind"], o["metadata"]["name"]) for o in objects)
    raise AssertionError(f"no {kind} {name!r} among {present}")
