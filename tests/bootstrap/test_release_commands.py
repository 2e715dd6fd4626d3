"""The release commands' handlers, given a context whose release is the rendered chart and whose
Kubernetes API is a stand-in holding one pod per rendered workload."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from bootstrap import cli, helm
from bootstrap.commands.context import Context
from bootstrap.release import Release, Target
from tests.fakes import RenderedCluster


class RenderedContext(Context):
    """The release ``release``/``namespace`` name, as ``helm template`` renders it."""

    def __init__(self, client: helm.Helm, chart_values: dict[str, object]) -> None:
        self.client = client
        self.chart_values = chart_values
        self.cluster: RenderedCluster | None = None

    def helm(self) -> helm.Helm:
        return self.client

    def kubeconfig(self, given: Path | None) -> Path | None:
        return given

    def release(self, args: argparse.Namespace) -> Release:
        rendered = Release.from_render(self.client, self.chart_values, self.target(args))
        self.cluster = RenderedCluster(rendered.objects, namespace=rendered.namespace)
        return Release(
            rendered.target,
            rendered.values,
            rendered.objects,
            clients=self.cluster.clients,  # type: ignore[arg-type]
        )

    def clients(self, target: Target) -> Any:
        rendered = Release.from_render(self.client, self.chart_values, target)
        return RenderedCluster(rendered.objects, namespace=target.namespace).clients


class InstalledHelm(helm.Helm):
    """The real helm for rendering; ``current`` answers as for an installed release."""

    def current(self, *, release: str, namespace: str, kubeconfig: Path | None = None) -> Any:
        return helm.Revision(release, namespace, revision=3, status="deployed", app_version="3")


def run(capsys: pytest.CaptureFixture[str], context: Context, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv), context=context)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_logs_should_read_the_component_pod_of_a_renamed_release(
    capsys: pytest.CaptureFixture[str], helm_client: helm.Helm
) -> None:
    context = RenderedContext(helm_client, {"fullnameOverride": "warehouse"})
    code, out, _ = run(
        capsys, context, "logs", "triggerer", "--release", "etl", "--namespace", "data"
    )
    assert code == 0
    assert out == "log of warehouse-triggerer-pod/triggerer"


def test_logs_of_an_unknown_component_should_name_the_choices(
    capsys: pytest.CaptureFixture[str], helm_client: helm.Helm
) -> None:
    code, _, err = run(capsys, RenderedContext(helm_client, {}), "logs", "webserver")
    assert code == 1
    assert "unknown component 'webserver'" in err and "scheduler" in err


def test_status_should_list_every_component_of_a_renamed_release(
    capsys: pytest.CaptureFixture[str], helm_client: helm.Helm
) -> None:
    context = RenderedContext(InstalledHelm(helm_client.binary), {"fullnameOverride": "warehouse"})
    code, out, _ = run(capsys, context, "status", "--release", "etl", "--namespace", "data")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "release etl: revision 3, deployed"
    for name in ("warehouse-scheduler", "warehouse-api-server", "warehouse-postgresql"):
        assert any(name in line and "[ready]" in line for line in lines), out
    assert any("warehouse-migrate-" in line for line in lines), out


def test_target_should_come_from_the_release_options(helm_client: helm.Helm) -> None:
    parser = cli.build_parser()
    args = parser.parse_args(["smoke", "--release", "etl", "--namespace", "data"])
    target = RenderedContext(helm_client, {}).target(args)
    assert target == Target(name="etl", namespace="data", kubeconfig=None)
