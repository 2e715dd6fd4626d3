"""`airkube pods`: the pods the executor would launch, built by Airflow's PodGenerator."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootstrap import helm, paths, preview
from bootstrap.errors import AirkubeError

HERE = Path(__file__).parent
NAMED = {"workers": {"podTemplates": {"highmem": {"resources": {"limits": {"memory": "16Gi"}}}}}}


def env_of(pod: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in pod["spec"]["containers"][0].get("env", [])}


def test_smoke_dag_should_give_one_pod_per_task(helm_client: helm.Helm) -> None:
    pods = preview.task_pods(helm_client, {}, paths.DAGS_DIR / "smoke.py")
    assert [p.task_id for p in pods] == [
        "parallel_0",
        "parallel_1",
        "parallel_2",
        "with_pod_override",
        "read_dag_folder_file",
        "report",
    ]
    for item in pods:
        pod = item.pod
        assert pod["kind"] == "Pod"
        assert pod["metadata"]["namespace"] == "airflow"
        assert pod["metadata"]["labels"]["dag_id"] == "airkube_smoke"
        assert pod["metadata"]["labels"]["task_id"] == item.task_id
        assert pod["spec"]["containers"][0]["name"] == "base"
        assert pod["spec"]["containers"][0]["args"][:3] == [
            "python",
            "-m",
            "airflow.sdk.execution_time.execute_workload",
        ]
    override = next(p for p in pods if p.task_id == "with_pod_override").pod
    assert env_of(override)["AIRKUBE_SMOKE_OVERRIDE"] == "applied"
    assert override["metadata"]["labels"]["airkube.io/smoke"] == "override"
    assert "AIRKUBE_SMOKE_OVERRIDE" not in env_of(pods[0].pod)


def test_named_template_and_override_should_both_apply(helm_client: helm.Helm) -> None:
    pods = {
        p.task_id: p
        for p in preview.task_pods(helm_client, NAMED, HERE / "dags" / "per_task_template.py")
    }
    train, publish = pods["train"], pods["publish"]
    assert (train.template, publish.template) == ("highmem", "default")
    assert train.pod["spec"]["containers"][0]["resources"]["limits"]["memory"] == "16Gi"
    assert train.pod["metadata"]["labels"]["airkube.io/pod-template"] == "highmem"
    assert train.pod["metadata"]["labels"]["step"] == "train"
    assert env_of(train.pod)["EPOCHS"] == "3"
    assert publish.pod["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi"


def test_task_filter_and_worker_namespace(helm_client: helm.Helm) -> None:
    (only,) = preview.task_pods(
        helm_client,
        {"workers": {"namespace": "tasks"}},
        paths.DAGS_DIR / "smoke.py",
        task_id="report",
    )
    assert only.task_id == "report"
    assert only.pod["metadata"]["namespace"] == "tasks"


def test_unknown_template_should_list_the_available_ones(helm_client: helm.Helm) -> None:
    with pytest.raises(AirkubeError, match=r"gpu\.yaml is not one of the chart's templates"):
        preview.task_pods(helm_client, {}, HERE / "dags" / "unknown_template.py")


def test_unknown_task_and_missing_file_should_be_clear(
    helm_client: helm.Helm, tmp_path: Path
) -> None:
    with pytest.raises(AirkubeError, match="no task 'nope'"):
        preview.task_pods(helm_client, {}, paths.DAGS_DIR / "smoke.py", task_id="nope")
    with pytest.raises(AirkubeError, match="does not exist"):
        preview.task_pods(helm_client, {}, tmp_path / "missing.py")
    broken = tmp_path / "broken.py"
    broken.write_text("import not_a_module_anywhere\n")
    with pytest.raises(AirkubeError, match="could not import"):
        preview.task_pods(helm_client, {}, broken)


@pytest.mark.parametrize(
    "executor_config",
    [
        '{"pod_override": {"spec": {"containers": [{"name": "base"}]}}}',
        '{"KubernetesExecutor": {"request_memory": "1Gi"}}',
    ],
    ids=["plain dict", "old KubernetesExecutor form"],
)
def test_executor_config_airflow_refuses_should_be_refused_naming_the_task(
    helm_client: helm.Helm, tmp_path: Path, executor_config: str
) -> None:
    dag_file = tmp_path / "override.py"
    dag_file.write_text(
        "import pendulum\n"
        "from airflow.sdk import dag, task\n\n\n"
        '@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"))\n'
        "def overrides():\n"
        f"    @task(executor_config={executor_config})\n"
        "    def heavy():\n"
        "        pass\n\n"
        "    heavy()\n\n\n"
        "overrides()\n"
    )
    with pytest.raises(AirkubeError) as caught:
        preview.task_pods(helm_client, {}, dag_file)
    assert "overrides.heavy: Airflow refuses its executor_config" in str(caught.value)
    assert "k8s.V1Pod" in str(caught.value)
