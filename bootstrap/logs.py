"""Logs of a release: a component's pod log, or a task's log read back through Airflow."""

from __future__ import annotations

from bootstrap import kube
from bootstrap.airflow_api import quote
from bootstrap.errors import AirkubeError
from bootstrap.release import Release

COMPONENTS = (
    "scheduler",
    "api-server",
    "dag-processor",
    "triggerer",
    "postgresql",
    "migrate",
    "create-user",
)


def component_log(release: Release, component: str, *, tail: int) -> str:
    """The last ``tail`` lines of the newest pod of ``component``."""
    pods = release.pods(component)
    if not pods:
        raise AirkubeError(
            f"no {component} pod of release {release.name} in namespace {release.namespace}"
        )
    pod = pods[-1]
    names = [c.name for c in pod.spec.containers]
    container = component if component in names else names[0]
    return kube.pod_log(
        release.clients.core,
        release.namespace,
        pod.metadata.name,
        container=container,
        tail_lines=tail,
    )


def task_log(release: Release, dag_id: str, task_id: str) -> str:
    """The task's log in the DAG's latest run, as Airflow serves it (pod gone or not)."""
    with release.connected_api() as api:
        runs = api.get(f"/api/v2/dags/{quote(dag_id)}/dagRuns?order_by=-run_after&limit=1")[
            "dag_runs"
        ]
        if not runs:
            raise AirkubeError(f"DAG {dag_id} has no runs yet")
        run_id = runs[0]["dag_run_id"]
        instance = api.get(
            f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task_id)}"
        )
        attempt = max(int(instance.get("try_number") or 1), 1)
        return api.task_log(dag_id, run_id, task_id, attempt)


def read(release: Release, target: str, *, tail: int = 200) -> str:
    """``component`` or ``dag_id/task_id``."""
    if "/" in target:
        dag_id, _, task_id = target.partition("/")
        return task_log(release, dag_id, task_id)
    if target not in COMPONENTS:
        raise AirkubeError(
            f"unknown component {target!r}",
            hint=f"use one of {', '.join(COMPONENTS)} or DAG_ID/TASK_ID",
        )
    return component_log(release, target, tail=tail)
