"""The helm wrapper with a fake runner: argv and error handling."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from bootstrap import helm, paths
from bootstrap.errors import AirkubeError
from tests.fakes import FakeRunner, failed, ok


def test_template_should_pass_one_values_file_and_the_options() -> None:
    seen: dict[str, object] = {}

    def answer(argv: list[str]):
        seen["values"] = yaml.safe_load(Path(argv[argv.index("--values") + 1]).read_text())
        return ok("kind: ConfigMap\n")

    runner = FakeRunner({("helm", "template"): answer})
    client = helm.Helm("helm", runner=runner)
    out = client.template(
        Path("chart"),
        {"dags": {"mode": "volume"}},
        release="r",
        namespace="ns",
        kube_version="1.33.0",
        show_only=["templates/a.yaml"],
    )
    assert out == "kind: ConfigMap\n"
    argv = runner.calls[0]
    assert argv[:4] == ["helm", "template", "r", "chart"]
    assert argv[argv.index("--namespace") + 1] == "ns"
    assert argv[argv.index("--kube-version") + 1] == "1.33.0"
    assert argv[argv.index("--show-only") + 1] == "templates/a.yaml"
    assert seen["values"] == {"dags": {"mode": "volume"}}


def test_template_failure_should_surface_helms_message_only() -> None:
    stderr = (
        "Error: execution error at (airkube/templates/checks.yaml:2:4): \n"
        "dags.gitSync.repo is empty while dags.mode=gitSync: set it\n"
        "\nUse --debug flag to render out invalid YAML\n"
    )
    client = helm.Helm("helm", runner=FakeRunner({("helm", "template"): failed(stderr)}))
    with pytest.raises(AirkubeError) as caught:
        client.template(Path("chart"), {})
    assert str(caught.value) == (
        "helm template of release airflow: the chart refused the values: "
        "dags.gitSync.repo is empty while dags.mode=gitSync: set it"
    )


def test_parse_documents_should_skip_empty_ones() -> None:
    assert helm.parse_documents("---\n# only a comment\n---\nkind: A\n---\n") == [{"kind": "A"}]


def upgrade_failing_with(stderr: str) -> AirkubeError:
    """The error a plain ``helm upgrade`` that printed ``stderr`` and failed becomes."""
    client = helm.Helm("helm", runner=FakeRunner({("helm", "upgrade"): failed(stderr)}))
    with pytest.raises(AirkubeError) as caught:
        client.upgrade(
            Path("chart"), {}, release="r", namespace="ns", timeout=datetime.timedelta(minutes=1)
        )
    return caught.value


def test_a_plain_upgrade_refused_by_a_chart_check_should_name_the_value() -> None:
    stderr = (
        "Error: UPGRADE FAILED: execution error at (airkube/templates/checks.yaml:4:4): \n"
        "postgresql.persistence.size: the database volume was created with 2Gi and a "
        "StatefulSet's volume template cannot change; keep postgresql.persistence.size at 2Gi\n"
    )
    caught = upgrade_failing_with(stderr)
    assert str(caught) == (
        "helm upgrade of release r: the chart refused the values: postgresql.persistence.size: "
        "the database volume was created with 2Gi and a StatefulSet's volume template cannot "
        "change; keep postgresql.persistence.size at 2Gi"
    )


def test_a_plain_upgrade_refused_by_the_cluster_should_list_object_and_field() -> None:
    stderr = (
        'Error: UPGRADE FAILED: cannot patch "r-migrate-1" with kind Job: Job.batch "r-migrate-1" '
        'is invalid: spec.template: Invalid value: core.PodTemplateSpec{Name:"x{"}: field is '
        "immutable\n"
    )
    caught = upgrade_failing_with(stderr)
    assert caught.args[0] == (
        "helm upgrade of release r was refused by the cluster:\n"
        "  Job r-migrate-1: spec.template: field is immutable"
    )
    assert "kubectl delete job r-migrate-1" in caught.hint


def test_pyhelm3s_typed_errors_should_read_as_sentences_with_a_hint() -> None:
    from pyhelm3 import errors as pyhelm3_errors

    unreachable = pyhelm3_errors.ConnectionError(
        1, b"", b'Error: Kubernetes cluster unreachable: Get "https://10.0.0.1:6443/version": EOF\n'
    )
    error = helm._failure("helm upgrade --install of release r", unreachable)
    assert error.args[0] == (
        "helm upgrade --install of release r: helm cannot reach the Kubernetes API "
        '(Kubernetes cluster unreachable: Get "https://10.0.0.1:6443/version": EOF)'
    )
    assert "kubeconfig" in error.hint

    exists = pyhelm3_errors.ResourceAlreadyExistsError(
        1, b"", b'Error: ConfigMap "r-config" in namespace "ns" exists and cannot be imported\n'
    )
    error = helm._failure("helm upgrade --install of release r", exists)
    assert "already exists outside this release" in str(error)
    assert "r-config" in str(error)


def test_a_numeric_image_tag_should_be_refused_with_how_to_quote_it(helm_client: helm.Helm) -> None:
    # What an unquoted `tag: 3.10` in a values file becomes.
    with pytest.raises(AirkubeError) as caught:
        helm_client.template(paths.CHART_DIR, {"images": {"airflow": {"tag": 3.1}}})
    assert "/images/airflow/tag': got number, want string" in str(caught.value)
    assert 'quote image tags in values files (tag: "3.10")' in caught.value.hint


@pytest.mark.parametrize("tag", ["0800", "08000000", "1e3", "2026-01-01"])
def test_string_values_should_reach_helm_as_strings(helm_client: helm.Helm, tag: str) -> None:
    # PyYAML writes these unquoted, and helm's YAML would read numbers or dates from them.
    manifest = helm_client.template(
        paths.CHART_DIR,
        {"images": {"airflow": {"tag": tag}}},
        show_only=["templates/scheduler/scheduler-deployment.yaml"],
    )
    (deployment,) = helm.parse_documents(manifest)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f":{tag}")


def test_values_helm_cannot_read_should_be_refused_naming_the_fix() -> None:
    with pytest.raises(AirkubeError) as caught:
        helm.values_text({"workers": {"podsCreationBatchSize": float("inf")}})
    assert ".inf" in caught.value.hint
    assert helm.values_text({"when": datetime.date(2026, 1, 1)}) == '{"when": "2026-01-01"}'


def test_values_with_characters_no_manifest_carries_should_be_refused_before_helm(
    helm_client: helm.Helm,
) -> None:
    with pytest.raises(AirkubeError) as caught:
        helm_client.template(paths.CHART_DIR, {"config": {"core": {"x": "a\x9fb"}}})
    assert "values key config.core.x holds the character U+009F" in str(caught.value)
