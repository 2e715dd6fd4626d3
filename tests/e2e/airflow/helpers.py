"""Constants and plain helpers of the Airflow e2e tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import datetime
import shutil
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import watch

from bootstrap import deploy, docker, helm, images, paths, smoke, tools, values
from bootstrap.airflow_api import AirflowApi, quote
from bootstrap.kube import KubeClients
from bootstrap.kube import exec_in as exec_in_container
from bootstrap.release import Release, Target

RELEASE = "e2e"
# The label the KubernetesExecutor puts on every task pod it starts.
TASK_POD_LABEL = "kubernetes_executor=True"
NAMESPACE = "airkube-e2e"
# The release's selectors come from the handle, as the product's own commands get them.
TARGET = Target(name=RELEASE, namespace=NAMESPACE)
TEST_DAGS = Path(__file__).parent / "dags"
# The Secrets the chart generates once and keeps across upgrades and uninstalls.
KEPT_SECRETS = (f"{RELEASE}-airflow-secrets", f"{RELEASE}-postgresql", f"{RELEASE}-admin")
# A named template the test DAGs select with executor_config.
PROBE_TEMPLATE = {
    "labels": {"airkube.io/probe": "yes"},
    "env": [{"name": "PROBE_TEMPLATE", "value": "probe"}],
}


def merged_dag_folder() -> Path:
    """The project's DAGs and the test DAGs in one folder, as the image bakes them."""
    folder = paths.cache_dir() / "e2e" / "dags"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(paths.DAGS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for dag in TEST_DAGS.glob("*.py"):
        shutil.copy2(dag, folder / dag.name)
    return folder


def build_and_load(name: str, options: images.BuildOptions) -> str:
    """Build the image ``name`` (cached) and load it into the cluster; its reference."""
    docker.ensure_engine()
    (built,) = images.build_images([name], options)
    images.load_into_cluster([built.reference])
    return built.reference


def release_settings(kubeconfig: Path, release: str, namespace: str) -> deploy.DeploySettings:
    """How the tests deploy and wait for ``release`` in ``namespace``."""
    target = Target(name=release, namespace=namespace, kubeconfig=kubeconfig)
    return deploy.DeploySettings(target=target, timeout=datetime.timedelta(minutes=15))


def base_values(built: dict[str, str]) -> dict[str, Any]:
    return values.merge(
        values.load_file(paths.VALUES_DIR / "local.yaml"),
        deploy.image_values(built),
        {
            "dags": {"mode": "image"},
            "workers": {"podTemplates": {"probe": PROBE_TEMPLATE}},
            # A replaced scheduler adopts orphaned task pods on this timer (Airflow's default is
            # five minutes); shorter, the adoption test sees it within seconds.
            "config": {"scheduler": {"orphaned_tasks_check_interval": 10}},
        },
    )


def run(api: AirflowApi, dag_id: str, minutes: float = 10) -> smoke.SmokeResult:
    """Trigger ``dag_id`` and wait for its end; the result says which pod ran each task."""
    return smoke.run_dag(api, dag_id, timeout=datetime.timedelta(minutes=minutes))


def exec_in(kube: KubeClients, pod: str, container: str, command: list[str]) -> str:
    """Run a command in a container of the e2e release; what it printed."""
    done = exec_in_container(kube, NAMESPACE, pod, container, command)
    assert done.returncode == 0, f"{command} exited {done.returncode}: {done.stderr}"
    return done.stdout


def component_pods(kube: KubeClients, component: str) -> list[Any]:
    return [
        pod
        for pod in kube.core.list_namespaced_pod(
            NAMESPACE, label_selector=TARGET.selector(component)
        ).items
        # A pod being deleted, or one that ended (evicted, or stopped with its node), is no
        # longer one of the component's replicas.
        if pod.metadata.deletion_timestamp is None
        and pod.status.phase not in ("Failed", "Succeeded")
    ]


def secret_data(kube: KubeClients) -> dict[str, dict[str, str]]:
    """The data of every kept Secret, by name."""
    return {
        name: dict(kube.core.read_namespaced_secret(name, NAMESPACE).data) for name in KEPT_SECRETS
    }


@contextmanager
def switched_release(
    helm_client: helm.Helm,
    chart_values: dict[str, Any],
    settings: deploy.DeploySettings,
    built_images: dict[str, str],
) -> Iterator[deploy.DeployResult]:
    """The shared release upgraded to ``chart_values`` for the block, then back to the base
    values: also when the switch itself fails half-way, so the next module finds the release
    settled as the session fixture left it."""
    try:
        yield deploy.deploy(helm_client, chart_values, settings)
    finally:
        deploy.deploy(helm_client, base_values(built_images), settings)


def set_variable(api: AirflowApi, key: str, value: str) -> None:
    """Create the Airflow variable ``key`` or overwrite its value."""
    existing = {v["key"] for v in api.get("/api/v2/variables")["variables"]}
    if key in existing:
        api.patch(f"/api/v2/variables/{quote(key)}", {"key": key, "value": value})
    else:
        api.post("/api/v2/variables", {"key": key, "value": value})


def task_pods(kube: KubeClients, dag_id: str) -> list[Any]:
    return list(kube.core.list_namespaced_pod(NAMESPACE, label_selector=f"dag_id={dag_id}").items)


def run_pods_gone(kube: KubeClients, dag_id: str, run_id: str) -> bool:
    """True once no task pod of that DAG run is left."""
    return not [
        p for p in task_pods(kube, dag_id) if (p.metadata.annotations or {}).get("run_id") == run_id
    ]


def open_release(settings: deploy.DeploySettings, kube: KubeClients) -> Release:
    """The handle on the e2e release as it is installed now."""
    return Release.open(helm.Helm(tools.ensure_go_tool(tools.HELM)), settings.target, clients=kube)


_FOR_SESSIONS: dict[Target, Release] = {}


def api_session(
    settings: deploy.DeploySettings, kube: KubeClients
) -> AbstractContextManager[AirflowApi]:
    """An authenticated REST client on the ready api-server pod of the e2e release.

    The handle is opened once: what a session needs of it (the admin Secret, the api-server's
    port and selector) stays the same across the upgrades the tests make, and each open costs
    three helm calls."""
    if settings.target not in _FOR_SESSIONS:
        _FOR_SESSIONS[settings.target] = open_release(settings, kube)
    return _FOR_SESSIONS[settings.target].connected_api()


def trigger(api: AirflowApi, dag_id: str, conf: dict[str, Any] | None = None) -> str:
    """Unpause and trigger ``dag_id`` (with ``conf``); the run id."""
    api.patch(f"/api/v2/dags/{quote(dag_id)}", {"is_paused": False})
    body: dict[str, Any] = {"logical_date": None}
    if conf:
        body["conf"] = conf
    return str(api.post(f"/api/v2/dags/{quote(dag_id)}/dagRuns", body)["dag_run_id"])


def instances(api: AirflowApi, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    """The run's task instances by task id."""
    answer = api.get(f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances")
    return {ti["task_id"]: ti for ti in answer["task_instances"]}


def finished(api: AirflowApi, dag_id: str, run_id: str) -> str | None:
    """The run's final state, or None while it runs."""
    state = api.get(f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}")["state"]
    return str(state) if state in ("success", "failed") else None


@dataclass
class PodObserver:
    """Records every task pod the executor creates while it runs, from a watch on the API."""

    kube: KubeClients
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    owners: dict[str, list[str]] = field(default_factory=dict)
    """Per pod, each scheduler job that held it in turn (the executor's ``airflow-worker``
    label, which adoption rewrites)."""
    _stop: threading.Event = field(default_factory=threading.Event)

    def _record(self, pod: Any) -> None:
        self.seen.setdefault(
            pod.metadata.name,
            {
                "labels": dict(pod.metadata.labels or {}),
                "containers": [c.name for c in pod.spec.containers],
                "env": {e.name: e.value for e in pod.spec.containers[0].env or []},
            },
        )
        owner = (pod.metadata.labels or {}).get("airflow-worker")
        held = self.owners.setdefault(pod.metadata.name, [])
        if owner and (not held or held[-1] != owner):
            held.append(owner)

    def _watch(self) -> None:
        listing = self.kube.core.list_namespaced_pod(NAMESPACE, label_selector=TASK_POD_LABEL)
        version = listing.metadata.resource_version
        while not self._stop.is_set():
            for event in watch.Watch().stream(
                self.kube.core.list_namespaced_pod,
                NAMESPACE,
                label_selector=TASK_POD_LABEL,
                resource_version=version,
                timeout_seconds=2,
            ):
                self._record(event["object"])
                version = event["object"].metadata.resource_version

    def __enter__(self) -> PodObserver:
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
