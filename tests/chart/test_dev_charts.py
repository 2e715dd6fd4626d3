"""The services the local cluster runs beside Airflow for tests (``dev/``): their charts render
valid, hardened objects that keep passwords and keys in Secrets, and the object store's
connection is one Airflow reads."""

from __future__ import annotations

import json

import pytest

from bootstrap import devcharts, helm, kubeconform, objectstore
from bootstrap.errors import AirkubeError
from tests.conftest import DEFAULT_KUBE_VERSION

STORE = objectstore.ObjectStore(
    release="objectstore",
    namespace="objectstore",
    access_key="airkubeAK",
    secret_key="very-secret-key",
    buckets=("airflow-logs",),
)
VALUES = {
    "image": {"repository": "airkube/objectstore", "tag": "v1.8.0-abc"},
    "credentials": {"accessKey": STORE.access_key, "secretKey": STORE.secret_key},
}


def test_the_chart_should_render_a_hardened_store_with_its_keys_in_a_secret(
    helm_client: helm.Helm, validator: kubeconform.Kubeconform
) -> None:
    manifest = helm_client.template(
        objectstore.CHART, VALUES, release="objectstore", namespace="objectstore"
    )
    assert validator.findings(manifest, kube_version=DEFAULT_KUBE_VERSION) == []
    objects = {item["kind"]: item for item in helm.parse_documents(manifest)}
    assert set(objects) == {"Secret", "Service", "Deployment"}
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert STORE.secret_key not in json.dumps(objects["Deployment"])
    env = {item["name"]: item for item in container["env"]}
    assert env["ROOT_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "objectstore"
    assert env["BUCKETS"]["value"] == "airflow-logs"


def test_the_chart_should_refuse_to_run_without_keys(helm_client: helm.Helm) -> None:
    with pytest.raises(AirkubeError) as caught:
        helm_client.template(objectstore.CHART, {"image": VALUES["image"]})
    assert "/credentials/accessKey" in str(caught.value)


def test_airflow_should_read_the_connection_as_an_s3_client_of_the_store() -> None:
    from airflow.models.connection import Connection

    connection = Connection.from_json(STORE.connection_text(), conn_id="remote_logs")
    assert (connection.conn_type, connection.login, connection.password) == (
        "aws",
        STORE.access_key,
        STORE.secret_key,
    )
    extra = connection.extra_dejson
    assert extra["endpoint_url"] == "http://objectstore.objectstore.svc:7070"
    assert extra["config_kwargs"] == {"s3": {"addressing_style": "path"}}


def test_the_postgres_chart_should_render_a_hardened_server_with_its_password_in_a_secret(
    helm_client: helm.Helm, validator: kubeconform.Kubeconform
) -> None:
    chart_values = {
        "image": {"repository": "airkube/postgres", "tag": "17-abc"},
        "superuserPassword": "not-in-the-pod-spec",
    }
    manifest = helm_client.template(devcharts.chart("postgres"), chart_values, release="pg")
    assert validator.findings(manifest, kube_version=DEFAULT_KUBE_VERSION) == []
    objects = {item["kind"]: item for item in helm.parse_documents(manifest)}
    assert set(objects) == {"Secret", "Service", "Deployment"}
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 999
    assert "not-in-the-pod-spec" not in json.dumps(objects["Deployment"])
