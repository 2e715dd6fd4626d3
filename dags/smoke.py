"""The smoke DAG `airkube smoke` runs: every task in its own pod, started by the KubernetesExecutor.

- three independent tasks run in parallel,
- one task carries a pod_override and checks from inside its pod that it applied,
- one task reads a data file that travels with the DAG folder (baked, on the volume or in git).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pendulum
from airflow.sdk import dag, task
from kubernetes.client import models as k8s

DAG_FOLDER = Path(__file__).resolve().parent

OVERRIDE = k8s.V1Pod(
    metadata=k8s.V1ObjectMeta(labels={"airkube.io/smoke": "override"}),
    spec=k8s.V1PodSpec(
        containers=[
            k8s.V1Container(
                name="base",
                env=[k8s.V1EnvVar(name="AIRKUBE_SMOKE_OVERRIDE", value="applied")],
            )
        ]
    ),
)


@dag(
    dag_id="airkube_smoke",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["airkube", "smoke"],
)
def airkube_smoke() -> None:
    @task
    def parallel(index: int) -> str:
        # The pod name is the hostname: proof of which worker pod ran the task.
        return f"task {index} ran in pod {socket.gethostname()}"

    @task(executor_config={"pod_override": OVERRIDE})
    def with_pod_override() -> str:
        value = os.environ.get("AIRKUBE_SMOKE_OVERRIDE")
        if value != "applied":
            raise RuntimeError(f"pod_override did not apply: AIRKUBE_SMOKE_OVERRIDE={value!r}")
        return value

    @task
    def read_dag_folder_file() -> str:
        greeting = (DAG_FOLDER / "smoke_data" / "greeting.txt").read_text().strip()
        if not greeting:
            raise RuntimeError("the data file beside the DAG is empty")
        return greeting

    @task
    def report(results: list[str]) -> None:
        for line in results:
            print(line)

    ran = [parallel.override(task_id=f"parallel_{index}")(index) for index in range(3)]
    report([*ran, with_pod_override(), read_dag_folder_file()])


airkube_smoke()
