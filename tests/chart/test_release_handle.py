"""The Python side's knowledge of a release, held to the rendered chart.

The ``Release`` handle is built from ``helm template`` (no cluster): with a 50-character release
name (the chart truncates names) and with ``fullnameOverride``. Its names must be objects the
chart renders, and its selectors must pick exactly one component's pods. The core commands then
run against a stand-in API that holds pods made from the rendered templates, so a rename in
``_names.tpl`` or ``_labels.tpl`` that the Python side does not follow fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap import dagsync, helm, kube, logs
from bootstrap.release import Release, Target
from tests.fakes import RenderedCluster, selects

LONG_RELEASE = "r" * 50
CASES = {
    "long release name": (LONG_RELEASE, {}),
    "fullnameOverride": (LONG_RELEASE, {"fullnameOverride": "warehouse-airflow"}),
}
COMPONENT_WORKLOADS = {
    "scheduler": "Deployment",
    "api-server": "Deployment",
    "dag-processor": "Deployment",
    "triggerer": "Deployment",
    "postgresql": "StatefulSet",
    "migrate": "Job",
    "create-user": "Job",
}


def pod_templates(objects: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """The labels of every pod the release would run, by where the pod comes from."""
    found = {
        f"{item['kind']}/{item['metadata']['name']}": item["spec"]["template"]["metadata"]["labels"]
        for item in objects
        if item["kind"] in ("Deployment", "StatefulSet", "Job")
    }
    for item in objects:
        if item["kind"] == "ConfigMap" and item["metadata"]["name"].endswith("pod-templates"):
            for key, text in item["data"].items():
                found[f"task pod/{key}"] = yaml.safe_load(text)["metadata"]["labels"]
    return found


@pytest.fixture(params=list(CASES), ids=list(CASES))
def rendered(request: pytest.FixtureRequest, helm_client: helm.Helm) -> Release:
    name, overrides = CASES[request.param]
    return Release.from_render(
        helm_client, overrides, Target(name=name, namespace="airflow"), clients=None
    )


def test_names_should_be_objects_the_chart_renders(rendered: Release) -> None:
    names = {(item["kind"], item["metadata"]["name"]) for item in rendered.objects}
    for component, kind in COMPONENT_WORKLOADS.items():
        name = rendered.object_name(kind, component)
        assert (kind, name) in names
        assert len(name) <= 63, name
    secret = rendered.admin_secret
    assert ("Secret", secret) in names
    (admin,) = [
        o for o in rendered.objects if o["kind"] == "Secret" and o["metadata"]["name"] == secret
    ]
    assert "password" in admin["data"]


def test_each_selector_should_pick_exactly_its_components_pods(rendered: Release) -> None:
    templates = pod_templates(rendered.objects)
    for component, kind in COMPONENT_WORKLOADS.items():
        chosen = {
            where
            for where, labels in templates.items()
            if selects(rendered.selector(component), labels)
        }
        assert chosen == {f"{kind}/{rendered.object_name(kind, component)}"}, component
    task_pods = {
        w for w, labels in templates.items() if selects(rendered.selector("worker"), labels)
    }
    assert task_pods == {w for w in templates if w.startswith("task pod/")}
    assert all(selects(rendered.selector(), labels) for labels in templates.values())


def test_api_server_port_should_be_the_one_its_service_targets(rendered: Release) -> None:
    (service,) = [
        o
        for o in rendered.objects
        if o["kind"] == "Service"
        and o["metadata"]["name"] == rendered.object_name("Service", "api-server")
    ]
    targets = {port["targetPort"] for port in service["spec"]["ports"]}
    assert rendered.api_server_port == 8080
    assert targets & {"http", rendered.api_server_port}, targets


def test_existing_secret_and_worker_namespaces_should_come_from_the_values(
    helm_client: helm.Helm,
) -> None:
    release = Release.from_render(
        helm_client,
        {
            "auth": {"admin": {"existingSecret": "our-admin"}},
            "workers": {"multiNamespace": {"enabled": True, "namespaces": ["etl", "ml"]}},
            "dags": {"mode": "gitSync", "gitSync": {"repo": "https://git.example.org/dags.git"}},
        },
        Target(name="airflow", namespace="airflow"),
    )
    assert release.admin_secret == "our-admin"
    assert release.worker_namespaces == ["etl", "ml"]
    assert release.dag_mode == "gitSync"
    assert Release.from_render(helm_client, {}, Target()).worker_namespaces == ["airflow"]


def test_commands_should_find_the_pods_of_a_release_with_any_naming(
    rendered: Release, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = RenderedCluster(rendered.objects, namespace=rendered.namespace)

    def exec_in(
        clients: Any, namespace: str, pod: str, container: str, *args: Any, **kw: Any
    ) -> Any:
        cluster.execs.append((pod, container))
        return kube.ExecResult("", "", 0)

    # The exec stream itself is the Kubernetes client's; what matters here is which pod it targets.
    monkeypatch.setattr(dagsync.kube, "exec_in", exec_in)
    release = Release(
        rendered.target,
        rendered.values,
        rendered.objects,
        clients=cluster.clients,  # type: ignore[arg-type]
    )
    scheduler = release.object_name("Deployment", "scheduler")
    assert logs.read(release, "scheduler", tail=5) == f"log of {scheduler}-pod/scheduler"
    migrate = release.object_name("Job", "migrate")
    assert logs.read(release, "migrate", tail=5) == f"log of {migrate}-pod/migrate"
    (tmp_path / "a_dag.py").write_text("# a DAG\n")
    assert dagsync.push(release, tmp_path) == ["a_dag.py"]
    dag_processor = release.object_name("Deployment", "dag-processor")
    assert cluster.execs == [(f"{dag_processor}-pod", "dag-processor")]
    assert release.admin_credentials()[0] == "admin"
