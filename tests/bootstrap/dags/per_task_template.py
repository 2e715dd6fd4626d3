"""A DAG whose tasks pick a named pod template and refine it with a pod_override."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task
from kubernetes.client import models as k8s


@dag(
    dag_id="per_task_template",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
)
def per_task_template() -> None:
    @task(
        executor_config={
            "pod_template_file": "/opt/airflow/pod_templates/highmem.yaml",
            "pod_override": k8s.V1Pod(
                metadata=k8s.V1ObjectMeta(labels={"step": "train"}),
                spec=k8s.V1PodSpec(
                    containers=[
                        k8s.V1Container(name="base", env=[k8s.V1EnvVar(name="EPOCHS", value="3")])
                    ]
                ),
            ),
        }
    )
    def train() -> None:
        pass

    @task
    def publish() -> None:
        pass

    train() >> publish()


per_task_template()
