"""Faults the KubernetesExecutor must survive: a task pod deleted before or after its task
reported running, a scheduler replaced mid-run. (A hung dag-processor and triggerer are
restarted by their liveness probes on the second release, test_volume_mode.py.)

Every wait is on an observed state. The task pods of ``e2e_worker_retry`` hold at a gate until
the test opens it, and its first try holds again once running, so "before" and "after the task
reported running" are states the test controls, not races against how fast the machine runs
Airflow.
"""

from __future__ import annotations

from typing import Any

from bootstrap.airflow_api import AirflowApi, quote
from bootstrap.kube import KubeClients
from tests.e2e.airflow.helpers import (
    NAMESPACE,
    component_pods,
    exec_in,
    finished,
    instances,
    run_pods_gone,
    task_pods,
    trigger,
)
from tests.e2e.waiting import wait_for

GATED_DAG = "e2e_worker_retry"
GATED_TASK = "gated"
# Writing to the DAGs' named pipes lets the waiting task go (see the DAGs' docstrings).
GATE = "/tmp/airkube-gate"
FINISH = "/tmp/airkube-finish"


def running_pods(kube: KubeClients, dag_id: str, run_id: str | None = None) -> list[Any]:
    """Task pods of ``dag_id`` (of ``run_id``) whose base container runs, not being deleted."""
    return [
        pod
        for pod in task_pods(kube, dag_id)
        if pod.status.phase == "Running"
        and pod.metadata.deletion_timestamp is None
        and (run_id is None or (pod.metadata.annotations or {}).get("run_id") == run_id)
        and any(s.name == "base" and s.state.running for s in pod.status.container_statuses or [])
    ]


def gated_pod(kube: KubeClients, run_id: str, *, not_named: str = "") -> Any:
    """The run's task pod once it is running and held at the gate (another one than not_named)."""
    (pod,) = wait_for(
        f"a running task pod of run {run_id}",
        lambda: [p for p in running_pods(kube, GATED_DAG, run_id) if p.metadata.name != not_named],
    )
    return pod


def open_gate(kube: KubeClients, pod: Any) -> None:
    release(kube, pod, GATE)


def release(kube: KubeClients, pod: Any, pipe: str) -> None:
    """Write a line to ``pipe`` in the pod's base container, which lets its reader go."""
    exec_in(kube, pod.metadata.name, "base", ["sh", "-c", f"echo go > {pipe}"])


def gated_instance(api: AirflowApi, run_id: str) -> dict[str, Any]:
    return instances(api, GATED_DAG, run_id)[GATED_TASK]


def delete_now(kube: KubeClients, pod: Any) -> None:
    kube.core.delete_namespaced_pod(pod.metadata.name, NAMESPACE, grace_period_seconds=0)


def test_pod_deleted_before_the_task_ran_should_be_relaunched_without_using_a_try(
    api: AirflowApi, kube: KubeClients
) -> None:
    run_id = trigger(api, GATED_DAG)
    first = gated_pod(kube, run_id)
    before = gated_instance(api, run_id)
    assert before["state"] == "queued", f"the gate should hold the task before running: {before}"
    delete_now(kube, first)

    relaunched = gated_pod(kube, run_id, not_named=first.metadata.name)
    assert gated_instance(api, run_id)["state"] == "queued"
    open_gate(kube, relaunched)
    release(kube, relaunched, FINISH)

    state = wait_for("the run to finish", lambda: finished(api, GATED_DAG, run_id))
    ti = gated_instance(api, run_id)
    assert state == "success", f"run ended {state}: {ti}"
    assert ti["try_number"] == 1, f"a pod that never ran the task must not use a try: {ti}"
    assert ti["hostname"] == relaunched.metadata.name, ti
    assert wait_for(
        "the task pods to be deleted", lambda: run_pods_gone(kube, GATED_DAG, run_id), timeout=120
    )


def test_pod_deleted_after_the_task_ran_should_fail_that_try_and_the_retry_succeed(
    api: AirflowApi, kube: KubeClients
) -> None:
    run_id = trigger(api, GATED_DAG)
    first = gated_pod(kube, run_id)
    open_gate(kube, first)
    wait_for(
        "the task to report running from its pod",
        lambda: (
            (ti := gated_instance(api, run_id))["state"] == "running"
            and ti["hostname"] == first.metadata.name
        ),
    )
    delete_now(kube, first)

    retry = gated_pod(kube, run_id, not_named=first.metadata.name)
    assert retry.metadata.labels.get("try_number") == "2", retry.metadata.labels
    open_gate(kube, retry)

    state = wait_for("the run to finish", lambda: finished(api, GATED_DAG, run_id))
    ti = gated_instance(api, run_id)
    assert state == "success", f"run ended {state}: {ti}"
    assert ti["try_number"] == 2, f"the killed try should be followed by exactly one retry: {ti}"
    tries = api.get(
        f"/api/v2/dags/{GATED_DAG}/dagRuns/{quote(run_id)}/taskInstances/{GATED_TASK}/tries"
    )
    first_try = next(t for t in tries["task_instances"] if t["try_number"] == 1)
    assert first_try["state"] in ("failed", "up_for_retry"), f"the killed try: {first_try}"
    assert wait_for(
        "no orphan task pod", lambda: run_pods_gone(kube, GATED_DAG, run_id), timeout=120
    )


def test_replaced_scheduler_should_adopt_running_task_pods(
    api: AirflowApi, kube: KubeClients
) -> None:
    dag_id = "e2e_scheduler_adoption"
    run_id = trigger(api, dag_id)
    wait_for(
        "three tasks to report running",
        lambda: (
            (tis := instances(api, dag_id, run_id))
            and len(tis) == 3
            and all(ti["state"] == "running" for ti in tis.values())
        ),
    )
    pods = running_pods(kube, dag_id, run_id)
    before = {p.metadata.name for p in pods}
    assert len(before) == 3, f"three running task pods expected: {sorted(before)}"
    launched_by = {p.metadata.labels["airflow-worker"] for p in pods}
    (scheduler,) = component_pods(kube, "scheduler")
    kube.core.delete_namespaced_pod(scheduler.metadata.name, NAMESPACE)

    # The tasks keep running (they wait for the test) until the new scheduler has adopted every
    # pod: the executor relabels a pod it adopts with its own scheduler job id.
    def adopted() -> bool:
        current = [p for p in task_pods(kube, dag_id) if p.metadata.name in before]
        return len(current) == 3 and all(
            p.metadata.labels["airflow-worker"] not in launched_by for p in current
        )

    wait_for("the new scheduler to adopt the running task pods", adopted, timeout=420)
    for pod in pods:
        release(kube, pod, FINISH)

    state = wait_for(
        "the run to finish under the new scheduler", lambda: finished(api, dag_id, run_id)
    )
    tis = instances(api, dag_id, run_id)
    assert state == "success", f"run ended {state}: {[(t, ti['state']) for t, ti in tis.items()]}"
    assert all(ti["try_number"] == 1 for ti in tis.values()), f"a task ran twice: {tis}"
    hosts = {ti["hostname"] for ti in tis.values()}
    assert hosts == before, (
        f"the tasks should have finished in the pods that were running: {hosts} vs {before}"
    )
    assert wait_for(
        "the adopted pods to be deleted", lambda: run_pods_gone(kube, dag_id, run_id), timeout=120
    )
