"""A task whose first try runs long enough for a test to delete its pod; the retry is quick."""

from __future__ import annotations

import datetime
import time

import pendulum
from airflow.sdk import dag, get_current_context, task


@dag(
    dag_id="e2e_worker_retry",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
)
def e2e_worker_retry() -> None:
    @task(retries=1, retry_delay=datetime.timedelta(seconds=5))
    def long_first_try() -> int:
        try_number = get_current_context()["ti"].try_number
        time.sleep(300 if try_number == 1 else 1)
        return try_number

    long_first_try()


e2e_worker_retry()
