"""The chart on the real local cluster: install, smoke-run a DAG through real task pods.

One release is installed per session (an upgrade in place on warm runs) with the DAGs baked
into a freshly built image; the tests observe Airflow through its REST API and the task pods
through the Kubernetes API.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bootstrap import cluster, deploy, docker, helm, images, paths, smoke, tools, values
from bootstrap.errors import AirkubeError
from bootstrap.kube import KubeClients

RELEASE = "e2e"
NAMESPACE = "airkube-e2e"


@dataclass
class PodObserver:
    """Records every task pod the executor creates while it runs (polling the API)."""

    kube: KubeClients
    namespace: str
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _poll(self) -> None:
        while not self._stop.is_set():
            pods = self.kube.core.list_namespaced_pod(
                self.namespace, label_selector="kubernetes_executor=True"
            )
            for pod in pods.items:
                self.seen.setdefault(
                    pod.metadata.name,
                    {
                        "labels": dict(pod.metadata.labels or {}),
                        "containers": [c.name for c in pod.spec.containers],
                        "env": {e.name: e.value for e in pod.spec.containers[0].env or []},
                    },
                )
            time.sleep(0.5)

    def __enter__(self) -> PodObserver:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture(scope="session")
def helm_on_cluster() -> helm.Helm:
    return helm.Helm(tools.ensure_go_tool(tools.HELM))


@pytest.fixture(scope="session")
def release(
    local_cluster: cluster.ClusterInfo, helm_on_cluster: helm.Helm
) -> Iterator[deploy.DeployResult]:
    try:
        docker.ensure_engine()
        built = images.build_images(
            ["airflow", "postgres"], images.BuildOptions(dags_dir=paths.DAGS_DIR)
        )
        images.load_into_cluster([image.reference for image in built])
    except AirkubeError as error:
        pytest.fail(
            f"the images for the e2e release could not be built or loaded: {error}", pytrace=False
        )
    chart_values = values.merge(
        values.load_file(paths.VALUES_DIR / "local.yaml"),
        deploy.image_values({image.name: image.reference for image in built}),
        {"dags": {"mode": "image"}},
    )
    settings = deploy.DeploySettings(
        release=RELEASE,
        namespace=NAMESPACE,
        timeout=datetime.timedelta(minutes=15),
        kubeconfig=local_cluster.kubeconfig,
    )
    try:
        yield deploy.deploy(helm_on_cluster, chart_values, settings)
    except AirkubeError as error:
        pytest.fail(f"the chart did not become ready on the local cluster: {error}", pytrace=False)


def test_every_component_should_be_ready(release: deploy.DeployResult) -> None:
    names = {state.name for state in release.components}
    for component in ("api-server", "scheduler", "dag-processor", "triggerer", "postgresql"):
        assert f"{RELEASE}-{component}" in names, f"{component} missing from {sorted(names)}"
    assert all(state.ready for state in release.components), release.components
    notes = release.release.notes
    assert f"port-forward svc/{RELEASE}-api-server 8080:8080" in notes, notes
    assert f"get secret {RELEASE}-admin" in notes, notes


def test_smoke_dag_should_run_each_task_in_its_own_pod(
    release: deploy.DeployResult, local_cluster: cluster.ClusterInfo, kube: KubeClients
) -> None:
    settings = smoke.SmokeSettings(
        release=RELEASE,
        namespace=NAMESPACE,
        kubeconfig=local_cluster.kubeconfig,
        timeout=datetime.timedelta(minutes=10),
    )
    with PodObserver(kube, NAMESPACE) as observer:
        result = smoke.smoke(settings)
    states = {t.task_id: t.state for t in result.tasks}
    assert result.succeeded, f"smoke run {result.run_id} ended {result.state}: {states}"
    pods = [t.pod for t in result.tasks]
    assert all(pods) and len(set(pods)) == len(pods), f"each task should run in its own pod: {pods}"
    run_pods = {
        name: info
        for name, info in observer.seen.items()
        if info["labels"].get("dag_id") == "airkube_smoke"
    }
    assert set(pods) <= set(run_pods), (
        f"pods Airflow reports {pods} were not all seen via the API: {sorted(run_pods)}"
    )
    for name, info in run_pods.items():
        assert info["containers"][0] == "base", (
            f"{name}: first container is {info['containers'][0]}"
        )
        assert info["labels"].get("app.kubernetes.io/component") == "worker", name
    override = next(
        info
        for name, info in run_pods.items()
        if info["labels"].get("task_id") == "with_pod_override"
    )
    assert override["env"].get("AIRKUBE_SMOKE_OVERRIDE") == "applied"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        left = {
            p.metadata.name
            for p in kube.core.list_namespaced_pod(
                NAMESPACE, label_selector="dag_id=airkube_smoke"
            ).items
        }
        if not left & set(pods):
            break
        time.sleep(2)
    assert not left & set(pods), (
        f"task pods were not deleted after success: {sorted(left & set(pods))}"
    )


def test_rbac_should_hold(release: deploy.DeployResult, kube: KubeClients) -> None:
    def allowed(account: str, verb: str, resource: str) -> bool:
        review = kube.authorization.create_subject_access_review(
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SubjectAccessReview",
                "spec": {
                    "user": f"system:serviceaccount:{NAMESPACE}:{account}",
                    "resourceAttributes": {
                        "namespace": NAMESPACE,
                        "verb": verb,
                        "resource": resource,
                    },
                },
            }
        )
        return bool(review.status.allowed)

    scheduler = f"{RELEASE}-scheduler"
    for verb in ("create", "watch", "delete", "patch"):
        assert allowed(scheduler, verb, "pods"), f"scheduler cannot {verb} pods"
    assert not allowed(scheduler, "get", "secrets"), "scheduler can read Secrets"
    assert not allowed(scheduler, "list", "secrets"), "scheduler can list Secrets"
    worker = f"{RELEASE}-worker"
    assert not allowed(worker, "create", "pods"), "task pods' ServiceAccount can create pods"
    assert not allowed(worker, "get", "secrets"), "task pods' ServiceAccount can read Secrets"


def test_helm_test_should_pass(
    release: deploy.DeployResult, helm_on_cluster: helm.Helm, local_cluster: cluster.ClusterInfo
) -> None:
    output = helm_on_cluster.test(
        release=RELEASE, namespace=NAMESPACE, kubeconfig=local_cluster.kubeconfig
    )
    assert "Phase:          Succeeded" in output or "Succeeded" in output, output
