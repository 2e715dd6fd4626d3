"""Parallel tasks that keep running until the test lets them finish, so a scheduler can be
replaced under them and its successor has to adopt running pods."""

from __future__ import annotations

import contextlib
import datetime
import os
import stat
from pathlib import Path

import pendulum
from airflow.sdk import dag, task

# The task blocks reading this pipe until the test writes to it. If the test wrote first, the
# path is a plain file and the task is free to finish at once.
FINISH = Path("/tmp/airkube-finish")


@dag(
    dag_id="e2e_scheduler_adoption",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
)
def e2e_scheduler_adoption() -> None:
    # The timeout bounds a run whose test died before letting the tasks finish.
    @task(execution_timeout=datetime.timedelta(minutes=15))
    def steady(index: int) -> int:
        with contextlib.suppress(FileExistsError):
            os.mkfifo(FINISH)
        if stat.S_ISFIFO(FINISH.stat().st_mode):
            FINISH.read_text()
        return index

    for index in range(3):
        steady.override(task_id=f"steady_{index}")(index)


e2e_scheduler_adoption()
