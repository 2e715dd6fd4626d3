"""Two schedulers sharing the KubernetesExecutor's work, on the real cluster.

The 20-task DAG runs once with one scheduler, then the shared release is switched by upgrade to
two, the DAG runs again and one scheduler pod is deleted while tasks run. Every task must run
exactly once (one pod, one try), no task pod may be left behind, and adopting the deleted
scheduler's pods must not turn into the schedulers relabelling each other's pods: a pod may pass
from the dead scheduler to a live one, never back to a scheduler that held it before. The
release is switched back to one scheduler at the end.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bootstrap import deploy, helm, values
from bootstrap.airflow_api import AirflowApi, quote
from bootstrap.kube import KubeClients
from tests.e2e.airflow.helpers import (
    NAMESPACE,
    PodObserver,
    api_session,
    base_values,
    component_pods,
    finished,
    instances,
    run_pods_gone,
    switched_release,
    task_pods,
    trigger,
)
from tests.e2e.waiting import wait_for

BURST = "airkube_bench_parallel"
TASKS = 20


@dataclass(frozen=True)
class Burst:
    wall: float
    owners: dict[str, list[str]]
    """Per task pod, the scheduler jobs that held it in turn."""
    requeued: int
    """Tasks queued in a scheduler that was deleted before it launched them: Airflow counts
    a new try for them, though the first never started."""


def scheduler_holding_pods(api: AirflowApi, kube: KubeClients) -> str | None:
    """The scheduler pod whose job holds at least two unfinished task pods of the burst, if one
    does: deleting it leaves pods only adoption can finish."""
    held = Counter(
        (pod.metadata.labels or {}).get("airflow-worker")
        for pod in task_pods(kube, BURST)
        if pod.status.phase in ("Pending", "Running")
    )
    for pod in component_pods(kube, "scheduler"):
        jobs = api.get(f"/api/v2/jobs?job_type=SchedulerJob&hostname={pod.metadata.name}")["jobs"]
        if sum(held[str(job["id"])] for job in jobs) >= 2:
            return str(pod.metadata.name)
    return None


def started_tries(api: AirflowApi, run_id: str, task: str) -> int:
    """How many tries of ``task`` began to run (a try re-queued before any pod ran it did not)."""
    path = f"/api/v2/dags/{BURST}/dagRuns/{quote(run_id)}/taskInstances/{task}/tries"
    return sum(one["start_date"] is not None for one in api.get(path)["task_instances"])


def burst(settings: deploy.DeploySettings, kube: KubeClients, *, kill_a_scheduler: bool) -> Burst:
    """Run the 20-task DAG (deleting a scheduler that holds task pods once it does). Asserts
    every task started exactly once, in one pod, and no pod is left."""
    with api_session(settings, kube) as api, PodObserver(kube) as observer:
        started = time.monotonic()
        run_id = trigger(api, BURST)
        if kill_a_scheduler:
            victim = wait_for(
                "a scheduler to hold running task pods", lambda: scheduler_holding_pods(api, kube)
            )
            kube.core.delete_namespaced_pod(victim, NAMESPACE)
        state = wait_for("the burst to finish", lambda: finished(api, BURST, run_id), timeout=900)
        wall = time.monotonic() - started
        tis = instances(api, BURST, run_id)
        assert state == "success", f"the run ended {state}: {tis}"
        assert len(tis) == TASKS and all(ti["state"] == "success" for ti in tis.values()), tis
        starts = {task: started_tries(api, run_id, task) for task in tis}
        wait_for("no task pod of the run left", lambda: run_pods_gone(kube, BURST, run_id))
    again = {task: count for task, count in starts.items() if count != 1}
    assert not again, f"tasks started other than once: {again}"
    pods = Counter(
        info["labels"].get("task_id")
        for info in observer.seen.values()
        if info["labels"].get("dag_id") == BURST
    )
    twice = {task: count for task, count in pods.items() if count != 1}
    assert len(pods) == TASKS and not twice, f"tasks with other than one pod: {twice or pods}"
    requeued = sum(ti["try_number"] > 1 for ti in tis.values())
    return Burst(wall, observer.owners, requeued)


@pytest.fixture(scope="module")
def one_scheduler_wall(
    release: deploy.DeployResult, settings: deploy.DeploySettings, kube: KubeClients
) -> float:
    assert len(component_pods(kube, "scheduler")) == 1
    return burst(settings, kube, kill_a_scheduler=False).wall


@pytest.fixture(scope="module")
def two_schedulers(
    one_scheduler_wall: float,
    built_images: dict[str, str],
    helm_on_cluster: helm.Helm,
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> Iterator[None]:
    two = values.merge(base_values(built_images), {"scheduler": {"replicas": 2}})
    with switched_release(helm_on_cluster, two, settings, built_images) as upgraded:
        assert all(state.ready for state in upgraded.components), upgraded.components
        yield


def test_two_schedulers_should_run_each_task_once_and_survive_losing_one(
    one_scheduler_wall: float,
    two_schedulers: None,
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> None:
    run = burst(settings, kube, kill_a_scheduler=True)
    back_again = {pod: held for pod, held in run.owners.items() if len(held) != len(set(held))}
    assert not back_again, f"task pods relabelled back and forth between schedulers: {back_again}"
    adopted = sum(len(held) > 1 for held in run.owners.values())
    assert adopted, "no task pod of the deleted scheduler was adopted, yet none was left behind"
    print(
        f"\n{TASKS}-task burst: one scheduler {one_scheduler_wall:.1f}s, two schedulers with one "
        f"deleted mid-run {run.wall:.1f}s; {adopted} pods adopted, {run.requeued} tasks "
        "re-queued before they started"
    )
