"""The exact set of objects a default install creates, so nothing appears or vanishes unnoticed."""

from __future__ import annotations

from tests.conftest import Render

DEFAULT_OBJECTS = {
    ("ConfigMap", "airflow-config"),
    ("ConfigMap", "airflow-pod-templates"),
    ("ConfigMap", "airflow-scripts"),
    ("Deployment", "airflow-api-server"),
    ("Deployment", "airflow-dag-processor"),
    ("Deployment", "airflow-scheduler"),
    ("Deployment", "airflow-triggerer"),
    ("Job", "airflow-create-user-{create_user}"),
    ("Job", "airflow-migrate-{migrate}"),
    ("Pod", "airflow-test-api-server"),
    ("Pod", "airflow-test-database"),
    ("Role", "airflow-pod-launcher"),
    ("Role", "airflow-pod-log-reader"),
    ("RoleBinding", "airflow-pod-launcher"),
    ("RoleBinding", "airflow-pod-log-reader"),
    ("Secret", "airflow-admin"),
    ("Secret", "airflow-airflow-secrets"),
    ("Secret", "airflow-postgresql"),
    ("Service", "airflow-api-server"),
    ("Service", "airflow-postgresql"),
    ("Service", "airflow-postgresql-headless"),
    ("ServiceAccount", "airflow-api-server"),
    ("ServiceAccount", "airflow-dag-processor"),
    ("ServiceAccount", "airflow-jobs"),
    ("ServiceAccount", "airflow-postgresql"),
    ("ServiceAccount", "airflow-scheduler"),
    ("ServiceAccount", "airflow-triggerer"),
    ("ServiceAccount", "airflow-worker"),
    ("StatefulSet", "airflow-postgresql"),
}


def test_should_render_exactly_the_default_objects(render: Render) -> None:
    objects = render()
    # Job names end in a hash of their spec; the test pins the rest of each name.
    suffixes = {
        o["metadata"]["name"].rsplit("-", 1)[0].removeprefix("airflow-").replace("-", "_"): (
            o["metadata"]["name"].rsplit("-", 1)[1]
        )
        for o in objects
        if o["kind"] == "Job"
    }
    expected = {(kind, name.format(**suffixes)) for kind, name in DEFAULT_OBJECTS}
    rendered = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert rendered == expected, (
        f"unexpected: {sorted(rendered - expected)}; missing: {sorted(expected - rendered)}"
    )


def test_should_put_every_namespaced_object_in_the_release_namespace(render: Render) -> None:
    for obj in render(namespace="data-platform"):
        assert obj["metadata"].get("namespace") == "data-platform", (
            f"{obj['kind']} {obj['metadata']['name']} is not in the release namespace"
        )


def test_version_label_should_name_the_airflow_image_deployed(render: Render) -> None:
    tag = "3.3.2-" + "x" * 60  # longer than a label value may be
    given = {"images": {"airflow": {"repository": "acme/airflow", "tag": tag}}}
    objects = render(given)
    versions = {
        obj["metadata"].get("labels", {}).get("app.kubernetes.io/version")
        for obj in objects
        if obj["metadata"].get("labels", {}).get("app.kubernetes.io/version")
    }
    assert versions == {tag[:63]}, versions


def test_api_base_url_should_follow_the_ingress_host(render: Render) -> None:
    cfg = {"enabled": True, "host": "airflow.acme.test", "tlsSecret": "airflow-tls"}
    objects = render({"apiServer": {"ingress": cfg}})
    config = next(o for o in objects if o["kind"] == "ConfigMap" and "airflow.cfg" in o["data"])
    assert "base_url = https://airflow.acme.test/" in config["data"]["airflow.cfg"]
