"""Tries, from inside its task pod, the connections the run's conf lists and prints whether
each one opened: what the task pod's NetworkPolicy lets out."""

from __future__ import annotations

import socket

import pendulum
from airflow.sdk import dag, get_current_context, task

# A refused flow is dropped, not rejected: give up on it after this long.
SECONDS = 3


def verdict(host: str, port: int) -> str:
    try:
        with socket.create_connection((host, port), timeout=SECONDS):
            return "open"
    except OSError as error:
        return f"closed ({type(error).__name__})"


@dag(
    dag_id="e2e_network_probe",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
)
def e2e_network_probe() -> None:
    @task
    def connect() -> dict[str, str]:
        targets = (get_current_context()["dag_run"].conf or {}).get("targets", [])
        results = {}
        for target in targets:
            name, host, port = target["name"], target["host"], int(target["port"])
            results[name] = verdict(host, port)
            print(f"probe {name} {host}:{port} {results[name]}")
        return results

    connect()


e2e_network_probe()
