"""Logs of a release: a component's pod log, or a task's log read back through Airflow."""

from __future__ import annotations

from pathlib import Path

from bootstrap import kube
from bootstrap.airflow_api import quote
from bootstrap.errors import AirkubeError

COMPONENTS = (
    "scheduler",
    "api-server",
    "dag-processor",
    "triggerer",
    "postgresql",
    "migrate",
    "create-user",
)


def component_log(
    clients: kube.KubeClients, release: str, namespace: str, component: str, *, tail: int
) -> str:
    selector = f"app.kubernetes.io/instance={release},app.kubernetes.io/component={component}"
    pods = clients.core.list_namespaced_pod(namespace, label_selector=selector).items
    if not pods:
        raise AirkubeError(f"no {component} pod of release {release!r} in {namespace!r}")
    pod = sorted(pods, key=lambda p: p.metadata.creation_timestamp)[-1]
    container = (
        component if component not in ("migrate", "create-user") else pod.spec.containers[0].name
    )
    names = [c.name for c in pod.spec.containers]
    container = container if container in names else names[0]
    return str(
        clients.core.read_namespaced_pod_log(
            pod.metadata.name, namespace, container=container, tail_lines=tail
        )
    )


def task_log(
    release: str, namespace: str, kubeconfig: Path | None, dag_id: str, task_id: str
) -> str:
    """The task's log in the DAG's latest run, as Airflow serves it (pod gone or not)."""
    from bootstrap import smoke

    settings = smoke.SmokeSettings(release=release, namespace=namespace, kubeconfig=kubeconfig)
    clients = kube.clients(kubeconfig)
    with smoke.connected_api(clients, settings) as api:
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


def read(
    target: str, *, release: str, namespace: str, kubeconfig: Path | None, tail: int = 200
) -> str:
    """``component`` or ``dag_id/task_id``."""
    if "/" in target:
        dag_id, _, task_id = target.partition("/")
        return task_log(release, namespace, kubeconfig, dag_id, task_id)
    if target not in COMPONENTS:
        raise AirkubeError(
            f"unknown component {target!r}",
            hint=f"use one of {', '.join(COMPONENTS)} or DAG_ID/TASK_ID",
        )
    return component_log(kube.clients(kubeconfig), release, namespace, target, tail=tail)
