"""A burst of no-op tasks that may all run at once, as many as the run's ``tasks`` parameter
asks (20 unless it says otherwise): the benchmark's measure of the executor under load.

The tasks are mapped from one small task, so any size of burst is the same DAG file.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

DEFAULT_TASKS = 20
#: Above any burst the benchmark runs; Airflow's parallelism setting is the real cap.
MAX_ACTIVE_TASKS = 1024


@dag(
    dag_id="airkube_bench_burst",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_tasks=MAX_ACTIVE_TASKS,
    params={"tasks": Param(DEFAULT_TASKS, type="integer", minimum=1, maximum=1000)},
    tags=["airkube", "bench"],
)
def airkube_bench_burst() -> None:
    @task
    def indexes() -> list[int]:
        return list(range(int(get_current_context()["params"]["tasks"])))

    @task(max_active_tis_per_dagrun=MAX_ACTIVE_TASKS)
    def noop(index: int) -> int:
        return index

    noop.expand(index=indexes())


airkube_bench_burst()
