"""`airkube pod-template`: templates rendered from the chart per mode, checked by Airflow."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap import helm, kubeconform, paths, podtemplates, values
from bootstrap.errors import AirkubeError
from tests.conftest import DEFAULT_KUBE_VERSION

GIT_REPO = {
    "dags": {
        "gitSync": {"repo": "https://git.example.org/dags.git"},
        "gitBundle": {"repo": "https://git.example.org/dags.git"},
    }
}
VALUES_CASES = {
    "defaults": {},
    "local": values.load_file(paths.VALUES_DIR / "local.yaml"),
    "production": values.load_file(paths.VALUES_DIR / "production.yaml"),
}


@pytest.mark.parametrize("mode", sorted(podtemplates.MODES))
@pytest.mark.parametrize("case", sorted(VALUES_CASES))
def test_every_mode_should_yield_an_airflow_valid_template(
    helm_client: helm.Helm, mode: str, case: str
) -> None:
    given = values.merge(VALUES_CASES[case], GIT_REPO)
    checked = podtemplates.generate(helm_client, given, mode)
    assert checked[0].name == "default"
    assert all(item.judged_by_airflow for item in checked), (
        "Airflow is installed in the test environment"
    )
    for item in checked:
        assert podtemplates.rule_violations(item.template) == []
    volumes = {v["name"] for v in checked[0].template["spec"]["volumes"]}
    assert ("dags" in volumes) == (mode in ("volume", "git-sync")), f"{mode}: dag volume"
    assert ("dag-bundles" in volumes) == (mode == "git-bundle"), f"{mode}: bundle volume"


def test_named_templates_should_come_after_the_default(helm_client: helm.Helm) -> None:
    names = [
        item.name
        for item in podtemplates.generate(helm_client, VALUES_CASES["production"], "image")
    ]
    assert names == ["default", "highmem"]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (
            {"spec": {"containers": [{"name": "base", "image": "x"}], "restartPolicy": "Never"}},
            "metadata.name",
        ),
        (
            {
                "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "main", "image": "x"}], "restartPolicy": "Never"},
            },
            "not 'base'",
        ),
        (
            {
                "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "base"}], "restartPolicy": "Never"},
            },
            "no image",
        ),
        (
            {
                "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "base", "image": "x"}], "restartPolicy": "Always"},
            },
            "restartPolicy",
        ),
        ({"metadata": {"name": "p"}, "spec": {"restartPolicy": "Never"}}, "containers is empty"),
    ],
)
def test_rule_violations_should_name_the_field(template: dict[str, Any], problem: str) -> None:
    assert any(problem in found for found in podtemplates.rule_violations(template))
    with pytest.raises(AirkubeError, match="breaks Airflow's rules"):
        podtemplates.check("bad", template)


def test_unknown_mode_should_list_the_modes() -> None:
    with pytest.raises(AirkubeError, match="image, volume, git-sync, git-bundle"):
        podtemplates.chart_mode("s3")


def test_write_should_place_one_file_or_a_folder(helm_client: helm.Helm, tmp_path: Path) -> None:
    checked = podtemplates.generate(helm_client, {}, "image")
    (single,) = podtemplates.write(checked, tmp_path / "pod.yaml")
    assert yaml.safe_load(single.read_text())["spec"]["containers"][0]["name"] == "base"
    several = podtemplates.generate(helm_client, VALUES_CASES["production"], "volume")
    written = podtemplates.write(several, tmp_path / "out")
    assert sorted(p.name for p in written) == ["default.yaml", "highmem.yaml"]
    assert not list(tmp_path.rglob("*.partial")), "no temporary files are left behind"


def test_require_valid_pods_should_name_each_refused_pod_and_the_field(
    helm_client: helm.Helm, validator: kubeconform.Kubeconform
) -> None:
    (default,) = podtemplates.generate(helm_client, {}, "image")
    podtemplates.require_valid_pods(
        {"default": default.template}, validator, kube_version=DEFAULT_KUBE_VERSION
    )
    broken = copy.deepcopy(default.template)
    broken["spec"]["containers"][0]["resource"] = broken["spec"]["containers"][0]["resources"]
    with pytest.raises(AirkubeError) as caught:
        podtemplates.require_valid_pods(
            {"default": default.template, "broken": broken},
            validator,
            kube_version=DEFAULT_KUBE_VERSION,
        )
    message = str(caught.value)
    assert "pod template 'broken'" in message and "'default'" not in message
    assert "'resource'" in message
