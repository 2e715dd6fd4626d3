"""Parallel tasks that keep running until the test lets them finish, so a scheduler can be
replaced under them and its successor has to adopt running pods."""

from __future__ import annotations

import time
from pathlib import Path

import pendulum
from airflow.sdk import dag, task

FINISH_FILE = Path("/tmp/airkube-finish")
# A bound so a test that dies midway leaves no task running forever.
LONGEST_SECONDS = 900


@dag(
    dag_id="e2e_scheduler_adoption",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
)
def e2e_scheduler_adoption() -> None:
    @task
    def steady(index: int) -> int:
        deadline = time.monotonic() + LONGEST_SECONDS
        while not FINISH_FILE.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("nobody let the task finish")
            time.sleep(0.5)
        return index

    for index in range(3):
        steady.override(task_id=f"steady_{index}")(index)


e2e_scheduler_adoption()
