"""Faults the KubernetesExecutor must survive: a task pod deleted mid-task, a scheduler replaced
mid-run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bootstrap.airflow_api import AirflowApi, quote
from bootstrap.kube import KubeClients
from tests.e2e.airflow.helpers import NAMESPACE, component_pods, task_pods


def trigger(api: AirflowApi, dag_id: str) -> str:
    api.patch(f"/api/v2/dags/{quote(dag_id)}", {"is_paused": False})
    return str(
        api.post(f"/api/v2/dags/{quote(dag_id)}/dagRuns", {"logical_date": None})["dag_run_id"]
    )


def wait_until(what: str, probe: Callable[[], Any], seconds: float = 300) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what}")


def instances(api: AirflowApi, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    answer = api.get(f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances")
    return {ti["task_id"]: ti for ti in answer["task_instances"]}


def finished(api: AirflowApi, dag_id: str, run_id: str) -> str | None:
    state = api.get(f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}")["state"]
    return state if state in ("success", "failed") else None


def running_pods(kube: KubeClients, dag_id: str) -> list[Any]:
    return [
        p
        for p in task_pods(kube, dag_id)
        if p.status.phase == "Running" and p.metadata.deletion_timestamp is None
    ]


def test_deleted_task_pod_should_fail_that_try_and_the_retry_succeed(
    api: AirflowApi, kube: KubeClients
) -> None:
    dag_id = "e2e_worker_retry"
    run_id = trigger(api, dag_id)
    (pod,) = wait_until("the first try's pod to run", lambda: running_pods(kube, dag_id))
    time.sleep(5)  # let the task process start inside the pod
    kube.core.delete_namespaced_pod(pod.metadata.name, NAMESPACE, grace_period_seconds=0)

    state = wait_until("the run to finish", lambda: finished(api, dag_id, run_id), seconds=400)
    ti = instances(api, dag_id, run_id)["long_first_try"]
    assert state == "success", (
        f"run ended {state}; task {ti['state']} after {ti['try_number']} tries"
    )
    assert ti["try_number"] == 2, (
        f"expected the killed try to be followed by exactly one retry: {ti}"
    )
    tries = api.get(
        f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id)}/taskInstances/long_first_try/tries"
    )
    first = next(t for t in tries["task_instances"] if t["try_number"] == 1)
    assert first["state"] in ("failed", "up_for_retry"), f"the killed try should be failed: {first}"
    left = wait_until(
        "task pods to be cleaned up", lambda: not running_pods(kube, dag_id) or None, seconds=120
    )
    assert left, "an orphan task pod is still running"


def test_replaced_scheduler_should_adopt_running_task_pods(
    api: AirflowApi, kube: KubeClients
) -> None:
    dag_id = "e2e_scheduler_adoption"
    run_id = trigger(api, dag_id)
    pods = wait_until(
        "three task pods to run", lambda: (p := running_pods(kube, dag_id)) and len(p) == 3 and p
    )
    before = {p.metadata.name for p in pods}
    (scheduler,) = component_pods(kube, "scheduler")
    kube.core.delete_namespaced_pod(scheduler.metadata.name, NAMESPACE)

    state = wait_until(
        "the run to finish under a new scheduler",
        lambda: finished(api, dag_id, run_id),
        seconds=420,
    )
    tis = instances(api, dag_id, run_id)
    assert state == "success", f"run ended {state}: {[(t, ti['state']) for t, ti in tis.items()]}"
    assert all(ti["try_number"] == 1 for ti in tis.values()), f"a task ran twice: {tis}"
    hosts = {ti["hostname"] for ti in tis.values()}
    assert hosts == before, (
        f"the tasks should have finished in the pods that were running: {hosts} vs {before}"
    )
    (new_scheduler,) = component_pods(kube, "scheduler")
    assert new_scheduler.metadata.name != scheduler.metadata.name
