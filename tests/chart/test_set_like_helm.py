"""`airkube --set` against helm's own: the same arguments, on the same -f values, must give the
values helm itself would give a chart. Helm renders them back as JSON from a one-line chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bootstrap import helm, values
from bootstrap.errors import AirkubeError

CASES = [
    ["images.airflow.tag=3.10"],
    ["images.airflow.tag=3.3.2"],
    ["git.ref=0123", "auth.username=no", "flag=yes", "off=off"],
    ["a=True", "b=FALSE", "c=null", "d=NULL", "e=0", "f=007", "g=+5", "h=-5", "i=1e3"],
    ["big=99999999999999999999", "small=-9223372036854775808"],
    ["a="],
    ["a={}", "b={1,x,true}", "c={a\\,b,c}"],
    ["a.b.c=1,d=2"],
    ["v=a\\,b", "w=x=y", "nodeSelector.kubernetes\\.io/os=linux"],
    ["list[1].name=x", "nested[0][1]=z"],
    ["items[1].size=5"],
    ["items[3]=new"],
    ["map.inner=1", "map.other=2"],
    ["map=replaced"],
]
FILE_VALUES = {"items": [{"size": 1}, {"size": 2}], "map": {"kept": True, "inner": 0}}


@pytest.fixture(scope="module")
def echo_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chart = tmp_path_factory.mktemp("echo")
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: echo\nversion: 0.1.0\n")
    (chart / "templates").mkdir()
    (chart / "templates" / "values.txt").write_text("{{ toJson .Values }}\n")
    return chart


def helm_values(helm_client: helm.Helm, chart: Path, values_file: Path, sets: list[str]) -> dict:
    argv = [str(helm_client.binary), "template", str(chart), "--values", str(values_file)]
    for text in sets:
        argv += ["--set", text]
    printed = helm_client.runner(argv).stdout
    return json.loads(printed.strip().splitlines()[-1])


@pytest.mark.parametrize("sets", CASES, ids=lambda sets: " ".join(sets))
def test_set_should_give_what_helm_gives(
    helm_client: helm.Helm, echo_chart: Path, tmp_path: Path, sets: list[str]
) -> None:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(FILE_VALUES))
    assert values.combine([values_file], sets) == helm_values(
        helm_client, echo_chart, values_file, sets
    )


@pytest.mark.parametrize("text", ["dags.mode", "=x", "a..b=1", "a.=1", "a[x]=1", "a={1,2"])
def test_set_should_refuse_what_names_no_value_or_an_empty_key(text: str) -> None:
    with pytest.raises(AirkubeError, match="--set"):
        values.parse_set(text)


def test_a_values_file_with_a_key_twice_should_be_refused_naming_both_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("scheduler:\n  replicas: 2\nworkers: {}\nscheduler:\n  replicas: 3\n")
    with pytest.raises(AirkubeError) as caught:
        values.load_file(path)
    assert "found the key 'scheduler' again (first on line 1)" in str(caught.value)
    assert "line 4" in str(caught.value)
