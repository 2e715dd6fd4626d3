"""Day-2 operations on the real cluster: a matrix of routine upgrades, each followed by a green
DAG run, one plain `helm upgrade` and a `helm rollback`, and changes refused before they reach
the cluster. Data, connections, variables and every generated secret survive; encrypted values
still decrypt."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from bootstrap import deploy, docker, helm, images, paths, values
from bootstrap.airflow_api import AirflowApi
from bootstrap.errors import AirkubeError
from bootstrap.kube import KubeClients
from tests.e2e.airflow.helpers import (
    NAMESPACE,
    RELEASE,
    api_session,
    base_values,
    component_pods,
    exec_in,
    finished,
    instances,
    merged_dag_folder,
    run_pods_gone,
    secret_data,
    set_variable,
    trigger,
)
from tests.e2e.waiting import wait_for

CONNECTION = {
    "connection_id": "e2e_conn",
    "conn_type": "http",
    "host": "example.org",
    "password": "s3cr3t-value",
}
PROBE = "e2e_upgrade_probe"


def scheduler_image(kube: KubeClients) -> str:
    deployment = kube.apps.read_namespaced_deployment(f"{RELEASE}-scheduler", NAMESPACE)
    return str(deployment.spec.template.spec.containers[0].image)


def keys(kube: KubeClients) -> dict[str, str]:
    """The fernet key and JWT secret every component reads."""
    data = kube.core.read_namespaced_secret(f"{RELEASE}-airflow-secrets", NAMESPACE).data
    return {key: data[key] for key in ("fernet-key", "jwt-secret")}


@dataclass(frozen=True)
class ProbeRun:
    """A run of the probe DAG: which step it followed and where its log should be."""

    step: str
    run_id: str
    try_number: int


@dataclass
class Matrix:
    """What the steps share: the values so far, the keys at the start, the runs made."""

    chart_values: dict[str, Any]
    keys: dict[str, str]
    runs: list[ProbeRun] = field(default_factory=list)
    # The logs claim is dropped with logs.persistence off, taking the logs on it along.
    logs_since: int = 0


def run_probe(api: AirflowApi, kube: KubeClients, step: str) -> ProbeRun:
    """Trigger the probe DAG for ``step``; it must succeed and its pod be gone."""
    run_id = trigger(api, PROBE, {"step": step})
    state = wait_for(
        f"the probe run after {step}", lambda: finished(api, PROBE, run_id), timeout=600
    )
    ti = instances(api, PROBE, run_id)["report"]
    assert state == "success", f"{step}: the DAG run after the upgrade ended {state}: {ti}"
    wait_for(
        f"the probe's pod after {step} to be deleted",
        lambda: run_pods_gone(kube, PROBE, run_id),
        timeout=120,
    )
    return ProbeRun(step, run_id, int(ti["try_number"]))


def assert_log_readable(api: AirflowApi, run: ProbeRun, now: str) -> None:
    log = api.task_log(PROBE, run.run_id, "report", run.try_number)
    assert f"upgrade step {run.step} ran in pod" in log, (
        f"after {now}: the log of the run after {run.step} is not readable:\n{log[-1500:]}"
    )


def assert_history_clean(
    helm_client: helm.Helm, settings: deploy.DeploySettings, step: str
) -> None:
    history = helm_client.history(
        release=RELEASE, namespace=NAMESPACE, kubeconfig=settings.target.kubeconfig
    )
    states = [(item.revision, item.status) for item in history]
    assert history and history[-1].status == "deployed", f"{step}: helm history {states}"
    assert not [s for s in states if s[1] not in ("deployed", "superseded")], (
        f"{step}: a revision did not deploy cleanly: {states}"
    )


@pytest.fixture(scope="module")
def matrix(
    release: deploy.DeployResult,
    built_images: dict[str, str],
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> Matrix:
    chart_values = base_values(built_images)
    with api_session(settings, kube) as api:
        existing = {c["connection_id"] for c in api.get("/api/v2/connections")["connections"]}
        if "e2e_conn" not in existing:
            api.post("/api/v2/connections", CONNECTION)
        set_variable(api, "e2e_var", "kept")
        first = run_probe(api, kube, "install")
    return Matrix(chart_values=chart_values, keys=keys(kube), runs=[first])


def new_image_tag() -> str:
    """An Airflow image with a new tag (its DAG folder gains a file), loaded into the cluster.

    The tag reads as a number in YAML ("3.<digits>0", which YAML would make "3.<digits>"), so
    the step proves that such a tag, given as ``--set`` gives it, reaches the pods unchanged."""
    folder = merged_dag_folder()
    shutil.copy2(
        folder / "smoke_data" / "greeting.txt", folder / "smoke_data" / "upgrade-marker.txt"
    )
    docker.ensure_engine()
    (new,) = images.build_images(["airflow"], images.BuildOptions(dags_dir=folder, record=False))
    repository, _, built_tag = new.reference.rpartition(":")
    numeric_looking = f"3.{int(hashlib.sha256(built_tag.encode()).hexdigest()[:8], 16)}0"
    assert isinstance(yaml.safe_load(numeric_looking), float), numeric_looking
    docker.DockerClient().tag(new.reference, f"{repository}:{numeric_looking}")
    images.load_into_cluster([f"{repository}:{numeric_looking}"])
    return numeric_looking


# A named template that sets only requests: the limits it inherits from workers.resources
# must hold them, and the task reads both back through the downward API.
REQUEST_ONLY_TEMPLATE = {
    "env": [
        {"name": "ADDED_TEMPLATE", "value": "1"},
        *(
            {
                "name": f"ADDED_MEMORY_{bound.upper()}",
                "valueFrom": {
                    "resourceFieldRef": {"resource": f"{bound}s.memory", "divisor": "1Mi"}
                },
            }
            for bound in ("request", "limit")
        ),
    ],
    "resources": {"requests": {"memory": "600Mi"}},
}


# Each step changes the values so far (the image tag step builds a new image first).
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("job resources", {"migrations": {"resources": {"requests": {"memory": "600Mi"}}}}),
    ("logs.persistence off", {"logs": {"persistence": {"enabled": False}}}),
    ("logs.persistence on", {"logs": {"persistence": {"enabled": True}}}),
    ("admin e-mail", {"auth": {"admin": {"email": "ops@example.org"}}}),
    ("imagePullSecrets", {"imagePullSecrets": [{"name": "e2e-registry"}]}),
    ("named pod template", {"workers": {"podTemplates": {"added": REQUEST_ONLY_TEMPLATE}}}),
    ("two schedulers", {"scheduler": {"replicas": 2}}),
    ("one scheduler", {"scheduler": {"replicas": 1}}),
    ("image tag", {}),
    ("parallelism", {"config": {"core": {"parallelism": 31}}}),
]


@pytest.mark.parametrize(("step", "change"), STEPS, ids=[step for step, _ in STEPS])
def test_routine_upgrade_should_succeed_and_keep_everything(
    matrix: Matrix,
    step: str,
    change: dict[str, Any],
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> None:
    if step == "image tag":
        old_image = scheduler_image(kube)
        new_tag = new_image_tag()
        change = values.parse_set(f"images.airflow.tag={new_tag}")
    matrix.chart_values = values.merge(matrix.chart_values, change)
    upgraded = deploy.deploy(helm_on_cluster, matrix.chart_values, settings)
    assert all(state.ready for state in upgraded.components), upgraded.components
    assert_history_clean(helm_on_cluster, settings, step)
    assert keys(kube) == matrix.keys, f"{step}: the fernet key or JWT secret changed"
    jobs = kube.batch.list_namespaced_job(
        NAMESPACE, label_selector=settings.target.selector()
    ).items
    assert len(jobs) == 2, (
        f"{step}: replaced Jobs were left behind: {[j.metadata.name for j in jobs]}"
    )
    persistent_logs = bool(matrix.chart_values["logs"]["persistence"]["enabled"])
    with api_session(settings, kube) as api:
        if persistent_logs and matrix.logs_since < len(matrix.runs):
            assert_log_readable(api, matrix.runs[-1], step)
        probe = run_probe(api, kube, step)
        if persistent_logs:
            assert_log_readable(api, probe, step)
        else:
            # Without a shared claim or remote logging a log leaves with its pod; the install
            # notes say so. The claim and the logs on it were dropped with the value.
            assert "WARNING: task logs are neither" in upgraded.release.notes
            matrix.logs_since = len(matrix.runs) + 1
        if step == "named pod template":
            run_id = trigger(api, "e2e_named_template")
            state = wait_for(
                "the named template's run", lambda: finished(api, "e2e_named_template", run_id)
            )
            assert state == "success", f"{step}: the task in the added template failed"
    matrix.runs.append(probe)
    if step == "image tag":
        assert scheduler_image(kube) != old_image
        assert scheduler_image(kube).endswith(f":{new_tag}"), scheduler_image(kube)
    if step in ("two schedulers", "one scheduler"):
        expected = matrix.chart_values["scheduler"]["replicas"]
        assert len(component_pods(kube, "scheduler")) == expected


def connection_password(kube: KubeClients) -> str:
    """The connection as the scheduler reads it from the database, decrypted with the fernet key."""
    (scheduler,) = component_pods(kube, "scheduler")
    output = exec_in(
        kube,
        scheduler.metadata.name,
        "scheduler",
        ["airflow", "connections", "get", "e2e_conn", "-o", "json"],
    )
    start = output.index("[")
    return str(json.loads(output[start:])[0]["password"])


def test_plain_helm_upgrade_then_rollback_should_keep_data_and_keys(
    matrix: Matrix,
    helm_on_cluster: helm.Helm,
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> None:
    before = helm_on_cluster.current(
        release=RELEASE, namespace=NAMESPACE, kubeconfig=settings.target.kubeconfig
    )
    assert before is not None
    secrets_before = secret_data(kube)
    # The admin's e-mail reaches only the create-user Job: helm replaces that Job, and the
    # rollback replaces it back.
    changed = values.merge(matrix.chart_values, {"auth": {"admin": {"email": "helm@example.org"}}})
    helm_on_cluster.upgrade(
        paths.CHART_DIR,
        changed,
        release=RELEASE,
        namespace=NAMESPACE,
        timeout=settings.timeout,
        kubeconfig=settings.target.kubeconfig,
    )
    deploy.wait_until_ready(kube, settings.target, timeout=settings.timeout)
    assert_history_clean(helm_on_cluster, settings, "helm upgrade")

    helm_on_cluster.rollback(
        release=RELEASE,
        namespace=NAMESPACE,
        revision=before.revision,
        kubeconfig=settings.target.kubeconfig,
    )
    deploy.wait_until_ready(kube, settings.target, timeout=settings.timeout)
    assert_history_clean(helm_on_cluster, settings, "helm rollback")
    assert secret_data(kube) == secrets_before, "generated secrets changed on upgrade or rollback"
    assert connection_password(kube) == CONNECTION["password"], (
        "the encrypted password no longer decrypts"
    )
    with api_session(settings, kube) as api:
        assert api.get("/api/v2/variables/e2e_var")["value"] == "kept"
        assert_log_readable(api, matrix.runs[-1], "helm rollback")
        matrix.runs.append(run_probe(api, kube, "helm rollback"))


# Changes the API server would refuse on live objects, and what the refusal must say.
REFUSED = [
    ({"postgresql": {"persistence": {"size": "3Gi"}}}, ["postgresql.persistence.size", "2Gi"]),
    ({"nameOverride": "airflow"}, ["nameOverride", "selector cannot change", '"airkube"']),
]


@pytest.mark.parametrize(("change", "words"), REFUSED, ids=["postgres volume", "nameOverride"])
def test_a_change_the_cluster_would_refuse_should_be_refused_before_anything_changes(
    matrix: Matrix,
    helm_on_cluster: helm.Helm,
    settings: deploy.DeploySettings,
    change: dict[str, Any],
    words: list[str],
) -> None:
    before = helm_on_cluster.current(
        release=RELEASE, namespace=NAMESPACE, kubeconfig=settings.target.kubeconfig
    )
    assert before is not None
    with pytest.raises(AirkubeError) as refused:
        deploy.deploy(helm_on_cluster, values.merge(matrix.chart_values, change), settings)
    message = str(refused.value)
    assert all(word in message for word in words), message
    assert len(message) < 600, f"the error should be a few lines: {message}"
    after = helm_on_cluster.current(
        release=RELEASE, namespace=NAMESPACE, kubeconfig=settings.target.kubeconfig
    )
    assert after is not None and after.revision == before.revision, "the refused upgrade ran"
