"""Run a DAG through the Airflow REST API and follow its task pods.

The release handle gives the logged-in API session (a port-forward to the api-server). The DAG
is unpaused, triggered once and followed until it finishes; each task's state and the worker pod
that ran it (Airflow records the pod name as the task instance's hostname) are reported as they
change.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bootstrap.airflow_api import AirflowApi, ApiError, quote
from bootstrap.errors import AirkubeError
from bootstrap.release import Release

FINISHED = {"success", "failed"}
TASK_DONE = {"success", "failed", "skipped", "upstream_failed", "removed"}


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    state: str
    pod: str
    try_number: int


@dataclass(frozen=True)
class SmokeResult:
    dag_id: str
    run_id: str
    state: str
    tasks: list[TaskResult]
    seconds: float

    @property
    def succeeded(self) -> bool:
        return self.state == "success" and all(
            t.state in ("success", "skipped") for t in self.tasks
        )


def wait_for_dag(
    api: AirflowApi, dag_id: str, deadline: float, on_event: Callable[[str], None]
) -> None:
    """Wait until the dag-processor has parsed the DAG and it has no import error."""
    announced = False
    while True:
        try:
            # A stale DAG is one the dag-processor no longer finds in its folder (the folder may
            # just have been replaced, as when a release switches DAG modes): not ready yet.
            if not api.get(f"/api/v2/dags/{quote(dag_id)}").get("is_stale"):
                return
        except ApiError as error:
            if error.status != 404:
                raise
        errors = api.get("/api/v2/importErrors").get("import_errors", [])
        for item in errors:
            if (
                dag_id in item.get("stack_trace", "")
                or Path(item.get("filename", "")).stem in dag_id
            ):
                raise AirkubeError(
                    f"DAG {dag_id} failed to import: {item.get('stack_trace', '').strip()[-800:]}"
                )
        if not announced:
            on_event(f"waiting for the dag-processor to parse {dag_id}")
            announced = True
        if time.monotonic() > deadline:
            raise AirkubeError(
                f"DAG {dag_id} did not appear in Airflow",
                hint="check the DAG folder and the output of 'airkube logs dag-processor'",
            )
        time.sleep(3)


def task_results(api: AirflowApi, dag_id: str, run_id: str) -> list[TaskResult]:
    answer = api.get(f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances")
    return [
        TaskResult(
            task_id=item["task_id"],
            state=item.get("state") or "none",
            pod=item.get("hostname") or "",
            try_number=int(item.get("try_number") or 0),
        )
        for item in sorted(answer.get("task_instances", []), key=lambda t: t["task_id"])
    ]


def trigger(
    api: AirflowApi,
    dag_id: str,
    deadline: float,
    on_event: Callable[[str], None],
    conf: dict[str, Any] | None = None,
) -> str:
    """Unpause and trigger the DAG once it is parsed; its run id. A DAG that vanishes between
    the check and the trigger (its folder being re-scanned) is waited for again."""
    while True:
        wait_for_dag(api, dag_id, deadline, on_event)
        try:
            api.patch(f"/api/v2/dags/{quote(dag_id)}", {"is_paused": False})
            body = {"logical_date": None, "conf": conf or {}}
            run = api.post(f"/api/v2/dags/{quote(dag_id)}/dagRuns", body)
            return str(run["dag_run_id"])
        except ApiError as error:
            if error.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(3)


def run_dag(
    api: AirflowApi,
    dag_id: str,
    *,
    timeout: datetime.timedelta,
    on_event: Callable[[str], None] = lambda text: None,
    conf: dict[str, Any] | None = None,
) -> SmokeResult:
    """Unpause, trigger once (with ``conf`` as the run's parameters), follow until the run
    finishes."""
    started = time.monotonic()
    deadline = started + timeout.total_seconds()
    run_id = trigger(api, dag_id, deadline, on_event, conf)
    on_event(f"triggered {dag_id} run {run_id}")
    seen: dict[str, str] = {}
    while True:
        state = api.get(f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}")["state"]
        tasks = task_results(api, dag_id, run_id)
        for task in tasks:
            line = f"{task.state} {task.pod}"
            if seen.get(task.task_id) != line:
                seen[task.task_id] = line
                where = f" in pod {task.pod}" if task.pod else ""
                on_event(f"  {task.task_id}: {task.state}{where}")
        if state in FINISHED and all(t.state in TASK_DONE for t in tasks):
            return SmokeResult(dag_id, run_id, state, tasks, time.monotonic() - started)
        if time.monotonic() > deadline:
            raise AirkubeError(f"DAG run {run_id} still {state} after {timeout}")
        time.sleep(2)


def smoke(
    release: Release,
    *,
    dag_id: str = "airkube_smoke",
    timeout: datetime.timedelta = datetime.timedelta(minutes=10),
    admin_secret: str | None = None,
    on_event: Callable[[str], None] = lambda text: None,
) -> SmokeResult:
    """Trigger ``dag_id`` on the deployed release and wait for its result."""
    with release.connected_api(admin_secret=admin_secret) as api:
        return run_dag(api, dag_id, timeout=timeout, on_event=on_event)
