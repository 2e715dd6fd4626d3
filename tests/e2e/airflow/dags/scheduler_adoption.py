"""Parallel tasks that run long enough for a test to replace the scheduler under them."""

from __future__ import annotations

import time

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="e2e_scheduler_adoption",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
)
def e2e_scheduler_adoption() -> None:
    @task
    def steady(index: int) -> int:
        time.sleep(60)
        return index

    for index in range(3):
        steady.override(task_id=f"steady_{index}")(index)


e2e_scheduler_adoption()
