"""No-op tasks one after another: each pays a task pod's whole start alone, without the others
competing for the node, so modes can be compared by what one task start costs."""

from __future__ import annotations

import pendulum
from airflow.sdk import chain, dag, task

SEQUENTIAL_TASKS = 5


@dag(
    dag_id="airkube_bench_sequential",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["airkube", "bench"],
)
def airkube_bench_sequential() -> None:
    @task
    def noop(index: int) -> int:
        return index

    chain(*[noop.override(task_id=f"step_{index}")(index) for index in range(SEQUENTIAL_TASKS)])


airkube_bench_sequential()
