"""Values merging and --set parsing (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bootstrap import kubeconform, values
from bootstrap.errors import AirkubeError
from tests.conftest import DEFAULT_KUBE_VERSION


class TestMerge:
    def test_should_merge_maps_and_replace_lists_like_helm(self) -> None:
        first = {"workers": {"env": [{"name": "A"}], "labels": {"a": "1"}}}
        second = {"workers": {"env": [{"name": "B"}], "labels": {"b": "2"}}}
        merged = values.merge(first, second)
        assert merged == {"workers": {"env": [{"name": "B"}], "labels": {"a": "1", "b": "2"}}}
        assert first["workers"]["labels"] == {"a": "1"}, "inputs are not modified"

    def test_later_scalars_should_win(self) -> None:
        assert values.merge({"dags": {"mode": "image"}}, {"dags": {"mode": "volume"}}) == {
            "dags": {"mode": "volume"}
        }


class TestParseSet:
    @pytest.mark.parametrize(
        ("pair", "expected"),
        [
            ("dags.mode=volume", {"dags": {"mode": "volume"}}),
            ("scheduler.replicas=2", {"scheduler": {"replicas": 2}}),
            ("rbac.create=false", {"rbac": {"create": False}}),
            ("images.airflow.tag=", {"images": {"airflow": {"tag": ""}}}),
            (
                "workers.multiNamespace.namespaces={a,b}",
                {"workers": {"multiNamespace": {"namespaces": ["a", "b"]}}},
            ),
            (
                "workers.nodeSelector.kubernetes\\.io/os=linux",
                {"workers": {"nodeSelector": {"kubernetes.io/os": "linux"}}},
            ),
            ("config.core.dags_folder=/a=b", {"config": {"core": {"dags_folder": "/a=b"}}}),
        ],
    )
    def test_should_type_values_like_helm(self, pair: str, expected: dict) -> None:
        assert values.parse_set(pair) == expected


class TestFiles:
    def test_missing_file_should_name_the_path(self, tmp_path: Path) -> None:
        with pytest.raises(AirkubeError, match="does not exist"):
            values.load_file(tmp_path / "nope.yaml")

    def test_top_level_list_should_be_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "list.yaml"
        path.write_text("- a\n")
        with pytest.raises(AirkubeError, match="mapping"):
            values.load_file(path)

    def test_combine_should_apply_files_then_sets(self, tmp_path: Path) -> None:
        path = tmp_path / "v.yaml"
        path.write_text("dags:\n  mode: volume\nscheduler:\n  replicas: 2\n")
        combined = values.combine([path], ["scheduler.replicas=3"])
        assert combined == {"dags": {"mode": "volume"}, "scheduler": {"replicas": 3}}


GO_AMBIGUOUS = ["0800", "08000000", "1e3", "1_000", ".5", "-1", "y", "N", "on", "~", "null", ""]


@pytest.mark.parametrize("text", GO_AMBIGUOUS)
def test_dumped_strings_should_stay_strings_for_go_readers(
    validator: kubeconform.Kubeconform, text: str
) -> None:
    # kubeconform reads YAML as helm and kubectl do; a ConfigMap's data must be strings.
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    manifest = values.dump_yaml({**configmap, "data": {"k": text}})
    assert validator.findings(manifest, kube_version=DEFAULT_KUBE_VERSION) == []
    assert yaml.safe_load(manifest)["data"]["k"] == text


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"workers": {"env": [{"name": "A", "value": "x\x85y\x80"}]}}, "workers.env[0].value"),
        ({"labels": {"team\x7f": "data"}}, "labels.team\x7f"),
    ],
)
def test_characters_yaml_cannot_carry_should_be_refused_naming_the_key(
    given: values.Values, named: str
) -> None:
    # Helm parses each rendered manifest as YAML, which has no form for these characters.
    with pytest.raises(AirkubeError) as caught:
        values.require_yaml_text(given)
    assert f"values key {named} holds the character U+00" in str(caught.value)
    values.require_yaml_text({"workers": {"env": [{"name": "A", "value": "tab\tnel\x85é€😀"}]}})
