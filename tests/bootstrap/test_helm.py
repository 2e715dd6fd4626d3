"""The helm wrapper with a fake runner: argv and error handling."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bootstrap import helm
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
    assert str(caught.value) == "helm: dags.gitSync.repo is empty while dags.mode=gitSync: set it"


def test_parse_documents_should_skip_empty_ones() -> None:
    assert helm.parse_documents("---\n# only a comment\n---\nkind: A\n---\n") == [{"kind": "A"}]
