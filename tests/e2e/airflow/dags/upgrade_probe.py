"""One quick task per upgrade step: it prints which step it ran after, so the test can find that
line in the task's log once the pod is gone."""

from __future__ import annotations

import os
import socket

import pendulum
from airflow.sdk import dag, get_current_context, task


@dag(
    dag_id="e2e_upgrade_probe",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"step": "none"},
)
def e2e_upgrade_probe() -> None:
    @task
    def report() -> str:
        step = get_current_context()["params"]["step"]
        line = f"upgrade step {step} ran in pod {socket.gethostname()}"
        print(line)
        return line

    report()


@dag(
    dag_id="e2e_named_template",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
)
def e2e_named_template() -> None:
    # The template only exists once the upgrade matrix has added it to the release.
    @task(executor_config={"pod_template_file": "/opt/airflow/pod_templates/added.yaml"})
    def in_the_added_template() -> str:
        value = os.environ.get("ADDED_TEMPLATE")
        if value != "1":
            raise RuntimeError(f"the added pod template did not apply: ADDED_TEMPLATE={value!r}")
        # The template sets only a memory request; the limit is inherited from workers.resources.
        memory = (os.environ.get("ADDED_MEMORY_REQUEST"), os.environ.get("ADDED_MEMORY_LIMIT"))
        if memory != ("600", "1024"):
            raise RuntimeError(f"memory request and limit (MiB) are {memory}, not 600 and 1024")
        return value

    in_the_added_template()


e2e_upgrade_probe()
e2e_named_template()
