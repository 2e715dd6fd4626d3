"""The pinned tool installer: version checks, argv and schema conversion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bootstrap import tools
from bootstrap.errors import AirkubeError
from tests.fakes import FakeRunner, ok


def test_go_version_should_be_read_from_its_banner() -> None:
    assert tools.parse_go_version("go version go1.26.8 linux/amd64") == (1, 26)
    with pytest.raises(AirkubeError):
        tools.parse_go_version("bash: go: command not found")


def test_helm_should_be_built_with_its_real_version_and_kubernetes_defaults() -> None:
    argv = tools.go_install_argv("/usr/bin/go", tools.HELM)
    assert argv[-1] == "helm.sh/helm/v3/cmd/helm@v3.22.0"
    ldflags = next(a for a in argv if a.startswith("-ldflags="))
    assert "internal/version.version=v3.22.0" in ldflags
    assert "chartutil.k8sVersionMinor=37" in ldflags


def test_missing_go_should_say_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRKUBE_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(AirkubeError) as caught:
        tools.ensure_go_tool(tools.HELM, runner=FakeRunner())
    assert "'go' was not found" in str(caught.value)
    assert "install Go" in str(caught.value)


def test_old_go_should_be_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRKUBE_CACHE", str(tmp_path))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text("#!/bin/sh\n")
    go.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    runner = FakeRunner({(str(go), "version"): ok("go version go1.19.2 linux/amd64")})
    with pytest.raises(AirkubeError, match="too old"):
        tools.ensure_go_tool(tools.HELM, runner=runner)


def test_a_current_binary_should_not_be_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRKUBE_CACHE", str(tmp_path))
    tools.KUBECONFORM.directory.mkdir(parents=True)
    tools.KUBECONFORM.binary.write_text("")
    runner = FakeRunner({(str(tools.KUBECONFORM.binary), "-v"): ok("v0.8.0\n")})
    assert tools.ensure_go_tool(tools.KUBECONFORM, runner=runner) == tools.KUBECONFORM.binary
    assert len(runner.calls) == 1, "only the version check ran"


def test_standalone_schema_should_carry_every_reachable_definition() -> None:
    definitions = {
        "A": {"properties": {"b": {"$ref": "#/$defs/B"}}},
        "B": {"type": "string"},
        "Unused": {"type": "integer"},
    }
    schema = {"$id": "x", "properties": {"a": {"$ref": "/api/_definitions.json#/$defs/A"}}}
    standalone = tools.standalone_schema(schema, definitions)
    assert standalone["properties"]["a"] == {"$ref": "#/$defs/A"}
    assert set(standalone["$defs"]) == {"A", "B"}
    assert "$id" not in standalone
    json.dumps(standalone)


def test_missing_definition_should_be_an_error() -> None:
    with pytest.raises(AirkubeError, match="Missing"):
        tools.standalone_schema({"$ref": "/api/_definitions.json#/$defs/Missing"}, {})
