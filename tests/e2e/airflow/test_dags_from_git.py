"""DAGs from git, end to end against the project's git server in the cluster, in both git modes:
git-sync (gitSync) and Airflow's own GitDagBundle (gitBundle).

The server holds the project's DAGs plus one generated DAG whose task prints a marker written
into its source. For each mode the shared release is switched by upgrade to clone over HTTPS
(basic auth, the server's private CA trusted through the mode's caBundle): the DAG runs in task
pods that got the repository from git. A new commit changes the marker; once the dag-processor
has parsed the new version, a new run's task prints the new marker; the dev loop commits a
change there the same way. A wrong password and an unknown host key each fail the deploy fast,
naming the Secret. Then the release clones over SSH (host key checked against known_hosts) and
the DAG runs again. The release is switched back at the end of each mode.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bootstrap import cluster, deploy, devloop, gitserver, helm, images, values
from bootstrap.airflow_api import AirflowApi, ApiError, quote
from bootstrap.gitbench import DAGS_FOLDER_BUNDLE, bundle_of
from bootstrap.kube import KubeClients, put_secret
from bootstrap.release import Release
from tests.e2e.airflow.helpers import (
    NAMESPACE,
    api_session,
    base_values,
    build_and_load,
    finished,
    merged_dag_folder,
    switched_release,
    trigger,
)
from tests.e2e.waiting import wait_for

DAG_ID = "e2e_git_marker"
PRINTED = "git marker "
REPOSITORY = "dags"
PERIOD_SECONDS = 5
SSH_LOGIN = "e2e-git-ssh"
WRONG_LOGIN = "e2e-git-wrong-login"
MODES = ("gitSync", "gitBundle")
# The init container that fetches the DAGs first, in each mode.
FETCHER = {"gitSync": "git-sync-init", "gitBundle": "git-bundle-init"}
DECLARED_DAG_ID = re.compile(r'^\s*dag_id="([^"]+)"', re.MULTILINE)
MARKER_DAG = '''"""Prints the marker written into this file when the test published it."""

import pendulum
from airflow.sdk import dag, task

MARKER = "{marker}"


@dag(
    dag_id="{dag_id}",
    description=MARKER,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
)
def e2e_git_marker() -> None:
    @task
    def report() -> str:
        print(f"git marker {{MARKER}}")
        return MARKER

    report()


e2e_git_marker()
'''


def publish(server: gitserver.GitServer, kubeconfig: Path, marker: str) -> str:
    """Push the DAGs with a marker DAG holding ``marker``; the commit id."""
    folder = merged_dag_folder()
    (folder / "e2e_git_marker.py").write_text(MARKER_DAG.format(marker=marker, dag_id=DAG_ID))
    try:
        return server.publish(folder, REPOSITORY, kubeconfig=kubeconfig, message=marker)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def git_values(built_images: dict[str, str], mode_images: dict[str, str], *more: Any) -> Any:
    """The release's values in the mode ``more`` sets, fetching every PERIOD_SECONDS."""
    chart_values = values.merge(base_values(built_images), deploy.image_values(mode_images), *more)
    mode = chart_values["dags"]["mode"]
    poll: dict[str, Any] = (
        {"period": f"{PERIOD_SECONDS}s"}
        if mode == "gitSync"
        else {"refreshInterval": PERIOD_SECONDS}
    )
    return values.merge(chart_values, {"dags": {mode: poll}})


def https_login(kube: KubeClients, mode: str, password: str) -> tuple[str, dict[str, Any]]:
    """A login Secret for HTTPS in the mode's form; its name and the mode's settings using it."""
    if mode == "gitSync":
        login = {"username": gitserver.USERNAME, "password": password}
        put_secret(kube.core, NAMESPACE, WRONG_LOGIN, login)
        return WRONG_LOGIN, {"credentialsSecret": WRONG_LOGIN}
    connection = {"conn_type": "git", "login": gitserver.USERNAME, "password": password}
    put_secret(kube.core, NAMESPACE, WRONG_LOGIN, {"connection": json.dumps(connection)})
    return WRONG_LOGIN, {"connectionSecret": {"name": WRONG_LOGIN}}


def ssh_login(
    kube: KubeClients, mode: str, server: gitserver.GitServer, known_hosts: str
) -> dict[str, Any]:
    """The key Secret for SSH in the mode's form, and the mode's settings that clone over SSH
    with host keys checked against ``known_hosts``."""
    key = server.keys.client_key.read_text()
    ssh = {"repo": server.ssh_url(REPOSITORY), "knownHosts": known_hosts, "caBundle": {"name": ""}}
    if mode == "gitSync":
        put_secret(kube.core, NAMESPACE, SSH_LOGIN, {"ssh-key": key})
        return {**ssh, "sshKeySecret": SSH_LOGIN, "credentialsSecret": ""}
    extra = {"private_key": key, "strict_host_key_checking": "yes"}
    connection = json.dumps({"conn_type": "git", "extra": extra})
    put_secret(kube.core, NAMESPACE, SSH_LOGIN, {"connection": connection})
    return {**ssh, "connectionSecret": {"name": SSH_LOGIN}}


def run_marker(api: AirflowApi) -> tuple[str, float]:
    """Run the marker DAG; what its task printed, and the seconds from trigger to the end."""
    started = time.monotonic()
    run_id = trigger(api, DAG_ID)
    state = wait_for("the marker run to finish", lambda: finished(api, DAG_ID, run_id))
    assert state == "success", f"the marker run ended {state}"
    log = api.task_log(DAG_ID, run_id, "report", 1)
    printed = [
        line.split("git marker ", 1)[1].strip()
        for line in log.splitlines()
        if "git marker " in line
    ]
    assert printed, f"the task printed no marker:\n{log[-1500:]}"
    return printed[0], time.monotonic() - started


def parsed_marker(api: AirflowApi) -> str | None:
    """The marker of the DAG version Airflow holds now (its description), once parsed."""
    try:
        return str(api.get(f"/api/v2/dags/{quote(DAG_ID)}")["description"])
    except ApiError as error:
        if error.status == 404:
            return None
        raise


def image_dag_ids() -> list[str]:
    """The DAGs baked into the shared release's image (the file name is not the id)."""
    folder = merged_dag_folder()
    try:
        texts = [path.read_text() for path in folder.glob("*.py")]
        return sorted(found for text in texts for found in DECLARED_DAG_ID.findall(text))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server(helm_on_cluster: helm.Helm, local_cluster: cluster.ClusterInfo) -> gitserver.GitServer:
    image = build_and_load("gitserver", images.BuildOptions(record=False))
    return gitserver.install(helm_on_cluster, image, kubeconfig=local_cluster.kubeconfig)


@pytest.fixture(scope="module", params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def mode_images(mode: str) -> dict[str, str]:
    """What the mode adds to the images: git-sync's own, or the git provider in Airflow's."""
    if mode == "gitSync":
        return {"git-sync": build_and_load("git-sync", images.BuildOptions(record=False))}
    options = images.BuildOptions(providers=("git",), record=False)
    return {"airflow": build_and_load("airflow", options)}


@pytest.fixture(scope="module")
def https(server: gitserver.GitServer, kube: KubeClients, mode: str) -> dict[str, Any]:
    """The values that clone from the server over HTTPS, with their Secret and ConfigMap."""
    return gitserver.release_values(server, kube, NAMESPACE, REPOSITORY, mode=mode)


@pytest.fixture(scope="module")
def over_https(
    release: deploy.DeployResult,
    server: gitserver.GitServer,
    https: dict[str, Any],
    mode_images: dict[str, str],
    built_images: dict[str, str],
    helm_on_cluster: helm.Helm,
    settings: deploy.DeploySettings,
    local_cluster: cluster.ClusterInfo,
    kube: KubeClients,
) -> Iterator[str]:
    """The shared release cloning over HTTPS in the mode; the marker it was published with.

    Back in image mode, the DAGs the other tests run wait until they are parsed from the DAG
    folder again: a run made while Airflow still holds them from the git bundle would send its
    tasks to a bundle the release no longer has."""
    marker = uuid.uuid4().hex
    publish(server, local_cluster.kubeconfig, marker)
    chart_values = git_values(built_images, mode_images, https)
    with switched_release(helm_on_cluster, chart_values, settings, built_images):
        yield marker
    with api_session(settings, kube) as api:

        def from_the_folder(dag_id: str) -> bool:
            return bundle_of(api, dag_id) == DAGS_FOLDER_BUNDLE

        for dag_id in image_dag_ids():
            wait_for(
                f"{dag_id} to be parsed from the image's DAG folder again",
                functools.partial(from_the_folder, dag_id),
            )


@pytest.fixture
def deploy_git(
    over_https: str,
    https: dict[str, Any],
    mode: str,
    mode_images: dict[str, str],
    built_images: dict[str, str],
    helm_on_cluster: helm.Helm,
    settings: deploy.DeploySettings,
) -> Callable[[dict[str, Any]], deploy.DeployResult]:
    """Upgrade the release (already switched to the mode) to the HTTPS values changed by other
    settings of the mode."""
    return lambda changed: deploy.deploy(
        helm_on_cluster,
        git_values(built_images, mode_images, https, {"dags": {mode: changed}}),
        settings,
    )


def test_a_pushed_commit_should_reach_new_task_pods_over_https(
    over_https: str,
    mode: str,
    server: gitserver.GitServer,
    settings: deploy.DeploySettings,
    local_cluster: cluster.ClusterInfo,
    kube: KubeClients,
) -> None:
    with api_session(settings, kube) as api:
        wait_for("the marker DAG to be parsed from git", lambda: parsed_marker(api) == over_https)
        printed, _ = run_marker(api)
        assert printed == over_https, "the task ran other code than the published commit"

        newer = uuid.uuid4().hex
        pushed = time.monotonic()
        publish(server, local_cluster.kubeconfig, newer)
        wait_for("the pushed version to be parsed", lambda: parsed_marker(api) == newer)
        parsed = time.monotonic() - pushed
        printed, run_seconds = run_marker(api)
        assert printed == newer, f"a run after the push printed {printed}, not {newer}"
    print(
        f"\n{mode}: push -> new DAG version parsed {parsed:.1f}s (period {PERIOD_SECONDS}s); "
        f"-> a run of the new code done {parsed + run_seconds:.1f}s"
    )


def test_the_dev_loop_should_commit_a_change_to_the_local_server(
    over_https: str,
    mode: str,
    helm_on_cluster: helm.Helm,
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> None:
    folder = merged_dag_folder()
    newer = uuid.uuid4().hex
    (folder / "e2e_git_marker.py").write_text(MARKER_DAG.format(marker=newer, dag_id=DAG_ID))
    release = Release.open(helm_on_cluster, settings.target, clients=kube)
    events: list[str] = []

    def no_image_in_git_mode() -> None:
        raise AssertionError("the dev loop rebuilt an image in gitSync mode")

    try:
        with api_session(settings, kube) as api:
            picked = devloop.watch(
                api,
                release,
                devloop.DevSettings(folder=folder, interval=0.2),
                reload_image=no_image_in_git_mode,
                on_event=events.append,
                rounds=0,
            )
            assert parsed_marker(api) == newer, "Airflow holds another version than the pushed"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    marker_file = next(pick for pick in picked if pick.path == "e2e_git_marker.py")
    assert marker_file.import_error is None and DAG_ID in marker_file.dag_ids, marker_file
    assert not any("commit and push" in event for event in events), events
    print(f"\n{mode}: dev loop: a change committed and parsed after {marker_file.seconds:.1f}s")


REFUSALS = [
    ("wrong password", "https", "Authentication failed"),
    ("unknown host key", "ssh", "Host key verification failed"),
]


@pytest.mark.parametrize(("case", "protocol", "git_says"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_clone_should_fail_the_deploy_fast_naming_the_secret(
    deploy_git: Callable[[dict[str, Any]], deploy.DeployResult],
    server: gitserver.GitServer,
    settings: deploy.DeploySettings,
    kube: KubeClients,
    tmp_path: Path,
    mode: str,
    case: str,
    protocol: str,
    git_says: str,
) -> None:
    if protocol == "https":
        secret, changed = https_login(kube, mode, password="not-the-password")
    else:
        secret = SSH_LOGIN
        stranger = gitserver.ensure_keys(tmp_path, [server.host])
        changed = ssh_login(
            kube, mode, server, f"{server.host} {stranger.public(stranger.host_key)}"
        )
    started = time.monotonic()
    with pytest.raises(deploy.DeployFailed) as refused:
        deploy_git(changed)
    seconds = time.monotonic() - started
    message = str(refused.value)
    assert FETCHER[mode] in message and git_says in message, message
    assert secret in refused.value.hint, refused.value.hint
    assert seconds < settings.timeout.total_seconds() / 2, f"{case}: refused after {seconds:.0f}s"
    print(f"\n{mode}: {case}: deploy refused after {seconds:.0f}s")


def test_the_dags_should_come_over_ssh_with_the_host_key_checked(
    deploy_git: Callable[[dict[str, Any]], deploy.DeployResult],
    server: gitserver.GitServer,
    settings: deploy.DeploySettings,
    kube: KubeClients,
    mode: str,
) -> None:
    deploy_git(ssh_login(kube, mode, server, server.known_hosts))
    with api_session(settings, kube) as api:
        printed, _ = run_marker(api)
    assert printed, "the task over ssh printed no marker"
