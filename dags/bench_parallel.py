"""Twenty no-op tasks that may all run at once: the benchmark's measure of the executor."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

PARALLEL_TASKS = 20


@dag(
    dag_id="airkube_bench_parallel",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_tasks=PARALLEL_TASKS,
    tags=["airkube", "bench"],
)
def airkube_bench_parallel() -> None:
    @task
    def noop(index: int) -> int:
        return index

    for index in range(PARALLEL_TASKS):
        noop.override(task_id=f"noop_{index:02d}")(index)


airkube_bench_parallel()
