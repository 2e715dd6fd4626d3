"""A task held at a gate before Airflow starts in its pod, so a test can delete the pod at a
known point: before the task reported running (the gate still closed) or after (the gate opened
and the task seen running). The gate is a named pipe the pod's shell blocks reading; the test
opens it by writing to it (if the test writes first, the path is a plain file and the gate is
already open). The first try then holds again, running, at a second pipe: however fast the task
would be, "running" lasts until the test deletes the pod or lets it finish."""

from __future__ import annotations

import contextlib
import datetime
import os
import stat
from pathlib import Path

import pendulum
from airflow.sdk import dag, get_current_context, task
from kubernetes.client import models as k8s

GATE = "/tmp/airkube-gate"
FINISH = Path("/tmp/airkube-finish")
# The executor sets the base container's args to the task command; this command waits for the
# gate, then runs those args as the image's entrypoint would (tini stays PID 1).
GATED = k8s.V1Pod(
    spec=k8s.V1PodSpec(
        containers=[
            k8s.V1Container(
                name="base",
                command=[
                    "/usr/bin/tini",
                    "--",
                    "sh",
                    "-c",
                    f"mkfifo {GATE} 2>/dev/null; if [ -p {GATE} ]; then read -r _ < {GATE}; fi; "
                    'exec "$@"',
                    "gate",
                ],
            )
        ]
    )
)


@dag(
    dag_id="e2e_worker_retry",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
)
def e2e_worker_retry() -> None:
    @task(
        retries=1,
        retry_delay=datetime.timedelta(seconds=1),
        # Bounds a run whose test died while the first try held.
        execution_timeout=datetime.timedelta(minutes=15),
        executor_config={"pod_override": GATED},
    )
    def gated() -> int:
        try_number = int(get_current_context()["ti"].try_number)
        if try_number == 1:
            with contextlib.suppress(FileExistsError):
                os.mkfifo(FINISH)
            if stat.S_ISFIFO(FINISH.stat().st_mode):
                FINISH.read_text()
        return try_number

    gated()


e2e_worker_retry()
