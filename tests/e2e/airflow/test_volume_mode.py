"""volume mode on the real cluster, on a second release whose names all come from
``fullnameOverride`` and whose release name is 50 characters long: the user's commands
(``airkube deploy --push-dags``, ``smoke``, ``logs``, the dev loop, ``down``) must find every
object through the release handle, never by spelling ``<release>-<component>``. DAGs copied into
the shared claim run in task pods that mount it, and the dev loop brings an edited DAG into
Airflow without a rebuild.

Its dag-processor and triggerer run with a tighter liveness than the defaults (set through
values, as a user would), so freezing them proves within a minute that the heartbeat probe
restarts a hung process.

The release keeps its data volume and Secrets when ``down`` removes it at the end, as a user's
would, so the next run installs onto a migrated database.
"""

from __future__ import annotations

import shutil
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap import deploy, devloop, helm, values
from bootstrap.cli import main
from bootstrap.kube import KubeClients
from bootstrap.kube import exec_in as exec_in_container
from bootstrap.release import Release, Target
from tests.e2e.airflow.helpers import base_values, merged_dag_folder, run
from tests.e2e.waiting import wait_for

RENAMED = "e2e-volume-mode-with-a-release-name-of-fifty-chars"
RENAMED_NAMESPACE = "airkube-e2e-renamed"
FULLNAME = "renamed"
HEARTBEAT_COMPONENTS = {"dag-processor": "dagProcessor", "triggerer": "triggerer"}
# A heartbeat older than 15 s fails a check; two failed checks 5 s apart restart the process.
# Airflow heartbeats every 5 s, so a running process never comes near it.
TIGHT_LIVENESS: dict[str, Any] = {
    **{
        key: {"livenessProbe": {"periodSeconds": 5, "timeoutSeconds": 5, "failureThreshold": 2}}
        for key in HEARTBEAT_COMPONENTS.values()
    },
    "config": {
        "dag_processor": {"health_check_threshold": 15},
        "triggerer": {"triggerer_health_check_threshold": 15},
    },
}

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
def renamed_target(settings: deploy.DeploySettings) -> Target:
    assert len(RENAMED) == 50
    return Target(name=RENAMED, namespace=RENAMED_NAMESPACE, kubeconfig=settings.target.kubeconfig)


def cli(target: Target, *argv: str) -> list[str]:
    """``airkube ARGV --release ... --namespace ... --kubeconfig ...``: the options of every
    release command."""
    return [
        *argv,
        "--release",
        target.name,
        "--namespace",
        target.namespace,
        "--kubeconfig",
        str(target.kubeconfig),
    ]


@pytest.fixture(scope="module")
def renamed_release(
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    renamed_target: Target,
    tmp_path_factory: pytest.TempPathFactory,
) -> Release:
    chart_values = values.merge(
        base_values(built_images),
        {"dags": {"mode": "volume"}, "fullnameOverride": FULLNAME},
        TIGHT_LIVENESS,
    )
    values_file = tmp_path_factory.mktemp("renamed") / "values.yaml"
    values_file.write_text(values.dump_yaml(chart_values))
    deployed = main(
        cli(
            renamed_target,
            "deploy",
            "-f",
            str(values_file),
            "--push-dags",
            str(merged_dag_folder()),
        )
    )
    assert deployed == 0, "airkube deploy of the renamed release failed (its output is above)"
    return Release.open(helm_on_cluster, renamed_target)


def test_smoke_should_run_from_the_volume_on_the_renamed_release(
    renamed_release: Release,
    renamed_target: Target,
    kube: KubeClients,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert renamed_release.dag_mode == "volume"
    assert renamed_release.object_name("Deployment", "scheduler") == f"{FULLNAME}-scheduler"
    template = kube.core.read_namespaced_config_map(
        f"{FULLNAME}-pod-templates", RENAMED_NAMESPACE
    ).data["default.yaml"]
    claims = {
        volume["persistentVolumeClaim"]["claimName"]
        for volume in yaml.safe_load(template)["spec"]["volumes"]
        if "persistentVolumeClaim" in volume
    }
    assert f"{FULLNAME}-dags" in claims, f"task pods do not mount the DAG claim: {claims}"

    assert main(cli(renamed_target, "smoke")) == 0, capsys.readouterr().out
    printed = capsys.readouterr().out
    assert "airkube_smoke run" in printed and ": success in" in printed, printed


def test_logs_should_read_a_task_and_a_component_of_the_renamed_release(
    renamed_release: Release, renamed_target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(cli(renamed_target, "logs", "airkube_smoke/report")) == 0
    task_log = capsys.readouterr().out
    assert "task 0 ran in pod" in task_log, task_log[-1500:]
    assert main(cli(renamed_target, "logs", "scheduler", "--tail", "50")) == 0
    assert capsys.readouterr().out.strip(), "the scheduler's log was empty"


def test_dev_loop_should_bring_an_edited_dag_into_the_renamed_release(
    renamed_release: Release, tmp_path: Path
) -> None:
    folder = tmp_path / "dags"
    shutil.copytree(merged_dag_folder(), folder)
    dag_file = folder / "e2e_dev_loop.py"
    dag_file.write_text(DEV_DAG.format(tag="first"))
    events: list[str] = []
    failures: list[BaseException] = []
    dev = devloop.DevSettings(folder=folder)
    handle = renamed_release

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


# Stops every process of the component's Airflow command (the main process and its forks share
# its command line): alive to the kernel, silent to the database, as a deadlocked process is.
FREEZE = textwrap.dedent(
    """
    import os, signal, sys
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().decode().split("\\0")
        except OSError:
            continue
        if len(argv) > 2 and argv[1].endswith("/airflow") and argv[2] == sys.argv[1]:
            os.kill(int(pid), signal.SIGSTOP)
            print(pid)
    """
)


def container_status(kube: KubeClients, pod: str, container: str) -> Any:
    status = kube.core.read_namespaced_pod(pod, RENAMED_NAMESPACE).status
    return next(s for s in status.container_statuses if s.name == container)


def restarted_and_ready(
    kube: KubeClients, pod: str, container: str, restarts: int
) -> Callable[[], Any]:
    """A probe for wait_for: the container's status once it restarted and is ready again."""

    def probe() -> Any:
        status = container_status(kube, pod, container)
        return status if status.restart_count > restarts and status.ready else None

    return probe


def liveness_failures(kube: KubeClients, pod: str) -> list[str]:
    events = kube.core.list_namespaced_event(
        RENAMED_NAMESPACE, field_selector=f"involvedObject.name={pod},reason=Unhealthy"
    ).items
    return [e.message for e in events if "Liveness probe failed" in (e.message or "")]


def test_hung_dag_processor_and_triggerer_should_be_restarted_by_their_liveness_probe(
    renamed_release: Release, kube: KubeClients
) -> None:
    pods = {}
    for component in HEARTBEAT_COMPONENTS:
        probe = renamed_release.find("Deployment", component)[0]["spec"]["template"]["spec"]
        liveness = next(c for c in probe["containers"] if c["name"] == component)["livenessProbe"]
        assert liveness["periodSeconds"] == 5, f"the values did not reach the probe: {liveness}"
        (pod,) = renamed_release.pods(component)
        name = pod.metadata.name
        pods[component] = (name, container_status(kube, name, component).restart_count)
        frozen = exec_in_container(
            kube, RENAMED_NAMESPACE, name, component, ["python", "-c", FREEZE, component]
        )
        assert frozen.returncode == 0 and frozen.stdout.split(), (
            f"no airflow {component} process found to freeze in {name}: {frozen.stderr}"
        )

    for component, (name, restarts) in pods.items():
        back = wait_for(
            f"the hung {component} to be restarted and report a heartbeat again",
            restarted_and_ready(kube, name, component, restarts),
        )
        assert back.restart_count == restarts + 1, f"{component} restarted more than once: {back}"
        failures = liveness_failures(kube, name)
        assert any("last heartbeat" in message for message in failures), (
            f"the {component} restart should come from its heartbeat check: {failures}"
        )


def test_down_should_remove_the_renamed_release_and_keep_its_data(
    renamed_release: Release, renamed_target: Target, helm_on_cluster: helm.Helm, kube: KubeClients
) -> None:
    assert main(cli(renamed_target, "down")) == 0
    assert (
        helm_on_cluster.current(
            release=RENAMED, namespace=RENAMED_NAMESPACE, kubeconfig=renamed_target.kubeconfig
        )
        is None
    ), "the release is still installed"
    wait_for(
        "the renamed release's pods to be gone",
        lambda: not kube.core.list_namespaced_pod(RENAMED_NAMESPACE).items,
        timeout=180,
    )
    claims = {
        c.metadata.name
        for c in kube.core.list_namespaced_persistent_volume_claim(RENAMED_NAMESPACE).items
    }
    assert f"data-{FULLNAME}-postgresql-0" in claims, f"the database volume was removed: {claims}"
    secrets = {s.metadata.name for s in kube.core.list_namespaced_secret(RENAMED_NAMESPACE).items}
    assert {f"{FULLNAME}-airflow-secrets", f"{FULLNAME}-admin"} <= secrets, secrets
