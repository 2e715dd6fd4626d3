"""A DAG asking for a pod template the chart does not render."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="unknown_template",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
)
def unknown_template() -> None:
    @task(executor_config={"pod_template_file": "/opt/airflow/pod_templates/gpu.yaml"})
    def needs_gpu() -> None:
        pass

    needs_gpu()


unknown_template()
