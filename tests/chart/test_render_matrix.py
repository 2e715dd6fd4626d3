"""Every values file lints strictly and renders to valid objects for every supported Kubernetes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootstrap import helm, paths, tools, values
from tests.conftest import VALUES_FILES, Render


def test_values_files_exist_for_every_use() -> None:
    names = {path.stem for path in VALUES_FILES}
    expected = {"dags-in-image", "dags-in-volume", "git-sync", "local", "production", "okteto"}
    assert expected <= names, f"missing values files: {sorted(expected - names)}"


@pytest.mark.parametrize(
    "values_file", [None, *VALUES_FILES], ids=lambda p: p.name if p else "defaults"
)
def test_should_pass_helm_lint_strict(helm_client: helm.Helm, values_file: Path | None) -> None:
    given = values.load_file(values_file) if values_file else {}
    report = helm_client.lint(paths.CHART_DIR, given)
    assert "0 chart(s) failed" in report, report


@pytest.mark.parametrize("kube_version", tools.KUBERNETES_VERSIONS)
@pytest.mark.parametrize(
    "values_file", [None, *VALUES_FILES], ids=lambda p: p.name if p else "defaults"
)
def test_should_render_valid_objects(
    render: Render, values_file: Path | None, kube_version: str
) -> None:
    objects = render(files=[values_file] if values_file else [], kube_version=kube_version)
    kinds = {obj["kind"] for obj in objects}
    assert {"Deployment", "ConfigMap", "ServiceAccount"} <= kinds, (
        f"unexpectedly few kinds: {kinds}"
    )


def test_should_refuse_kubernetes_older_than_supported(helm_client: helm.Helm) -> None:
    with pytest.raises(Exception, match="kubeVersion"):
        helm_client.template(paths.CHART_DIR, {}, kube_version="1.29.0")


def test_the_charts_own_values_should_hold_each_key_once() -> None:
    # The strict loader refuses a key given twice, which YAML forbids and helm keeps silently.
    assert values.load_file(paths.CHART_DIR / "values.yaml")["scheduler"]["replicas"] >= 1
