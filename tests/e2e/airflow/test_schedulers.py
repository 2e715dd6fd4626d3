"""Two schedulers sharing the KubernetesExecutor's work, on the real cluster.

The 20-task DAG runs once with one scheduler, then the shared release is switched by upgrade to
two, the DAG runs again and one scheduler pod is deleted while tasks run. Every task must run
exactly once (one pod, one try), no task pod may be left behind, and adopting the deleted
scheduler's pods must not turn into the schedulers relabelling each other's pods. The release
is switched back to one scheduler at the end.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from bootstrap import deploy, helm, values
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
    trigger,
)
from tests.e2e.waiting import wait_for

BURST = "airkube_bench_parallel"
TASKS = 20
ADOPTION = re.compile(r"[Aa]ttempting to adopt pod (\S+)")


def burst(settings: deploy.DeploySettings, kube: KubeClients, *, kill_a_scheduler: bool) -> float:
    """Run the 20-task DAG (deleting a scheduler once tasks run); its wall time. Asserts every
    task ran exactly once and no pod is left."""
    with api_session(settings, kube) as api, PodObserver(kube) as observer:
        started = time.monotonic()
        run_id = trigger(api, BURST)
        if kill_a_scheduler:
            wait_for(
                "a few tasks to run",
                lambda: (
                    sum(
                        ti["state"] in ("running", "success")
                        for ti in instances(api, BURST, run_id).values()
                    )
                    >= 3
                ),
            )
            victim = component_pods(kube, "scheduler")[0].metadata.name
            kube.core.delete_namespaced_pod(victim, NAMESPACE)
        state = wait_for("the burst to finish", lambda: finished(api, BURST, run_id), timeout=900)
        wall = time.monotonic() - started
        tis = instances(api, BURST, run_id)
    assert state == "success", f"the run ended {state}: {tis}"
    assert len(tis) == TASKS and all(ti["state"] == "success" for ti in tis.values()), tis
    tries = {task: ti["try_number"] for task, ti in tis.items() if ti["try_number"] != 1}
    assert not tries, f"tasks started more than once: {tries}"
    pods = Counter(
        info["labels"].get("task_id")
        for info in observer.seen.values()
        if info["labels"].get("dag_id") == BURST
    )
    twice = {task: count for task, count in pods.items() if count != 1}
    assert len(pods) == TASKS and not twice, f"tasks with other than one pod: {twice or pods}"
    wait_for("no task pod of the run left", lambda: run_pods_gone(kube, BURST, run_id))
    return wall


@pytest.fixture(scope="module")
def one_scheduler_wall(
    release: deploy.DeployResult, settings: deploy.DeploySettings, kube: KubeClients
) -> float:
    assert len(component_pods(kube, "scheduler")) == 1
    return burst(settings, kube, kill_a_scheduler=False)


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
    wall = burst(settings, kube, kill_a_scheduler=True)
    adopted: Counter[str] = Counter()
    for pod in component_pods(kube, "scheduler"):
        log = kube.core.read_namespaced_pod_log(pod.metadata.name, NAMESPACE, container="scheduler")
        adopted.update(ADOPTION.findall(log))
    storm = {pod: count for pod, count in adopted.items() if count > 1}
    assert not storm, f"task pods adopted over and over: {storm}"
    assert sum(adopted.values()) <= TASKS, adopted
    print(
        f"\n{TASKS}-task burst: one scheduler {one_scheduler_wall:.1f}s, two schedulers with one "
        f"deleted mid-run {wall:.1f}s; {sum(adopted.values())} pods adopted"
    )
