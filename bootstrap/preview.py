"""The pods the KubernetesExecutor would launch for a DAG's tasks, built by Airflow's own code.

Like ``airflow kubernetes generate-dag-yaml``, without a database or a cluster: the DAG file is
parsed by Airflow's DagBag, each task's ``executor_config`` is read the way the executor reads it,
and ``PodGenerator.construct_pod`` merges the chart's pod template, the executor's own fields and
the task's ``pod_override``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bootstrap import helm, podtemplates
from bootstrap.errors import AirkubeError

# The executor passes each task its workload as the base container's args; the real JSON is
# made per try at run time, so the preview shows its shape with a placeholder.
WORKLOAD_ARGS = [
    "python",
    "-m",
    "airflow.sdk.execution_time.execute_workload",
    "--json-string",
    "<workload>",
]


@dataclass(frozen=True)
class TaskPod:
    """One task and the pod spec the executor would submit for it."""

    dag_id: str
    task_id: str
    template: str
    pod: dict[str, Any]


def load_dags(dag_file: Path) -> dict[str, Any]:
    """The DAGs of one file, parsed by Airflow; an import error is ours to report."""
    if not dag_file.is_file():
        raise AirkubeError(f"DAG file {dag_file} does not exist")
    if not podtemplates.airflow_available():
        raise AirkubeError(
            "Airflow is not importable here",
            hint="install the airflow extra: uv pip install 'airkube[airflow]' (make setup does)",
        )
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dag_file), safe_mode=False)
    if bag.import_errors:
        detail = next(iter(bag.import_errors.values())).strip().splitlines()[-1]
        raise AirkubeError(f"Airflow could not import {dag_file}: {detail}")
    if not bag.dags:
        raise AirkubeError(f"{dag_file} defines no DAG")
    return dict(bag.dags)


def template_name(executor_config: Mapping[str, Any], available: Mapping[str, Any]) -> str:
    """Which of the chart's templates a task asked for with ``pod_template_file``."""
    requested = executor_config.get("pod_template_file")
    if not requested:
        return "default"
    path = Path(str(requested))
    if str(path.parent) != podtemplates.MOUNT_DIR or path.stem not in available:
        names = ", ".join(f"{podtemplates.MOUNT_DIR}/{name}.yaml" for name in sorted(available))
        raise AirkubeError(
            f"pod_template_file {requested} is not one of the chart's templates",
            hint=f"use one of {names}, or add it under workers.podTemplates",
        )
    return path.stem


def task_pods(
    client: helm.Helm,
    chart_values: Mapping[str, Any],
    dag_file: Path,
    *,
    task_id: str | None = None,
    release_namespace: str = "airflow",
) -> list[TaskPod]:
    """Every task's pod (or only ``task_id``'s), in DAG order, in the namespace the chart's
    executor config sends task pods to."""
    dags = load_dags(dag_file)
    templates = podtemplates.render_pod_templates(client, chart_values)
    namespace = podtemplates.worker_namespace(
        client, chart_values, release_namespace=release_namespace
    )
    for name, template in templates.items():
        podtemplates.check(name, template, use_airflow=False)

    from airflow.providers.cncf.kubernetes.kubernetes_helper_functions import create_unique_id
    from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator

    pods: list[TaskPod] = []
    for dag_id, dag in sorted(dags.items()):
        for task in dag.tasks:
            if task_id and task.task_id != task_id:
                continue
            executor_config = dict(task.executor_config or {})
            name = template_name(executor_config, templates)
            try:
                override = PodGenerator.from_obj(executor_config)
            except Exception as error:
                # The executor refuses these too, but only when the task is queued.
                raise AirkubeError(
                    f"{dag_id}.{task.task_id}: Airflow refuses its executor_config: {error}",
                    hint='give executor_config={"pod_override": k8s.V1Pod(...)} '
                    "(from kubernetes.client import models as k8s); plain dicts and the old "
                    '"KubernetesExecutor" form are not read by Airflow 3',
                ) from error
            pod = PodGenerator.construct_pod(
                dag_id=dag_id,
                task_id=task.task_id,
                pod_id=create_unique_id(dag_id, task.task_id, unique=False),
                try_number=1,
                kube_image="",
                date=None,
                run_id="manual__preview",
                args=list(WORKLOAD_ARGS),
                pod_override_object=override,
                base_worker_pod=podtemplates.load_with_airflow(templates[name]),
                namespace=namespace,
                scheduler_job_id="preview",
            )
            serialized = PodGenerator.serialize_pod(pod)
            pods.append(
                TaskPod(
                    dag_id, task.task_id, name, {"apiVersion": "v1", "kind": "Pod", **serialized}
                )
            )
    if task_id and not pods:
        raise AirkubeError(f"no task {task_id!r} in {dag_file}")
    return pods
