"""volume mode on the real cluster (switched by upgrade): DAGs copied into the shared claim run in
task pods that mount it, and the dev loop brings an edited DAG into Airflow without a rebuild."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from bootstrap import dagsync, deploy, devloop, helm, values
from bootstrap.kube import KubeClients
from tests.e2e.airflow.helpers import (
    NAMESPACE,
    RELEASE,
    api_session,
    base_values,
    merged_dag_folder,
    open_release,
    run,
)
from tests.e2e.waiting import wait_for

DEV_DAG = """
import pendulum
from airflow.sdk import dag, task


@dag(dag_id="e2e_dev_loop", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
     catchup=False, tags=["{tag}"])
def e2e_dev_loop():
    @task
    def hello():
        return "{tag}"

    hello()


e2e_dev_loop()
"""


@pytest.fixture(scope="module")
def volume_release(
    release: deploy.DeployResult,
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> deploy.DeployResult:
    chart_values = values.merge(base_values(built_images), {"dags": {"mode": "volume"}})
    upgraded = deploy.deploy(helm_on_cluster, chart_values, settings)
    dagsync.push(open_release(settings, kube), merged_dag_folder())
    return upgraded


def test_smoke_dag_should_run_from_the_volume(
    volume_release: deploy.DeployResult, settings: deploy.DeploySettings, kube: KubeClients
) -> None:
    assert open_release(settings, kube).dag_mode == "volume"
    with api_session(settings, kube) as api:
        result = run(api, "airkube_smoke")
    assert result.succeeded, (
        f"smoke run in volume mode: {[(t.task_id, t.state) for t in result.tasks]}"
    )
    template = kube.core.read_namespaced_config_map(f"{RELEASE}-pod-templates", NAMESPACE).data[
        "default.yaml"
    ]
    assert f"claimName: {RELEASE}-dags" in template, "task pods do not mount the DAG claim"


def test_dev_loop_should_bring_an_edited_dag_into_airflow(
    volume_release: deploy.DeployResult,
    settings: deploy.DeploySettings,
    kube: KubeClients,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "dags"
    shutil.copytree(merged_dag_folder(), folder)
    dag_file = folder / "e2e_dev_loop.py"
    dag_file.write_text(DEV_DAG.format(tag="first"))
    events: list[str] = []
    failures: list[BaseException] = []
    dev = devloop.DevSettings(folder=folder)
    handle = open_release(settings, kube)

    def no_rebuild() -> None:
        raise AssertionError("volume mode must not rebuild the image")

    with handle.connected_api() as api:

        def loop() -> None:
            try:
                devloop.watch(
                    api, handle, dev, reload_image=no_rebuild, on_event=events.append, rounds=1
                )
            except BaseException as error:  # surfaced to the test below
                failures.append(error)

        watcher = threading.Thread(target=loop, daemon=True)
        watcher.start()

        def first_version_parsed() -> bool:
            assert not failures, failures
            return any("e2e_dev_loop.py: parsed" in e for e in events)

        wait_for("the dev loop to report the first version parsed", first_version_parsed)

        dag_file.write_text(DEV_DAG.format(tag="second"))
        watcher.join(timeout=300)
        assert not failures, failures
        assert not watcher.is_alive(), f"the edit was not picked up: {events}"
        assert "modified: e2e_dev_loop.py" in events, events
        parsed = [e for e in events if "e2e_dev_loop.py: parsed" in e]
        assert len(parsed) == 2 and "e2e_dev_loop" in parsed[-1], events

        tags = [t["name"] for t in api.get("/api/v2/dags/e2e_dev_loop")["tags"]]
        assert tags == ["second"], f"Airflow still has the old version: {tags}"
        result = run(api, "e2e_dev_loop")
        assert result.succeeded, result
