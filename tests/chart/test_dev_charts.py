"""The services the local cluster runs beside Airflow for tests (``dev/``): their charts render
valid, hardened objects that keep passwords and keys in Secrets, the object store's connection
is one Airflow reads, and the git server's keys are made once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bootstrap import devcharts, gitserver, helm, kubeconform, objectstore
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


def test_the_git_server_chart_should_render_a_hardened_server_with_its_keys_in_a_secret(
    helm_client: helm.Helm, validator: kubeconform.Kubeconform, tmp_path: Path
) -> None:
    keys = gitserver.ensure_keys(tmp_path, ["gitserver.git.svc.cluster.local"])
    chart_values = {
        "image": {"repository": "airkube/gitserver", "tag": "dev-abc"},
        "https": {
            "username": gitserver.USERNAME,
            "password": keys.password,
            "certificate": keys.tls.cert.read_text(),
            "key": keys.tls.key.read_text(),
        },
        "ssh": {
            "hostKey": keys.host_key.read_text(),
            "authorizedKeys": keys.public(keys.client_key),
        },
    }
    manifest = helm_client.template(
        devcharts.chart("gitserver"), chart_values, release="gitserver", namespace="git"
    )
    assert validator.findings(manifest, kube_version=DEFAULT_KUBE_VERSION) == []
    objects = {item["kind"]: item for item in helm.parse_documents(manifest)}
    assert set(objects) == {"Secret", "Service", "Deployment", "PersistentVolumeClaim"}
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    for secret in (keys.password, keys.tls.key.read_text(), keys.host_key.read_text()):
        assert secret.strip() not in json.dumps(objects["Deployment"])
    ports = {port["name"]: port["port"] for port in objects["Service"]["spec"]["ports"]}
    assert ports == {"ssh": 22, "https": 443}


def test_git_server_keys_should_be_made_once_and_name_the_host(tmp_path: Path) -> None:
    from cryptography import x509

    host = "gitserver.git.svc.cluster.local"
    first = gitserver.ensure_keys(tmp_path, [host])
    made = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    gitserver.ensure_keys(tmp_path, [host])
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == made
    certificate = x509.load_pem_x509_certificate(first.tls.cert.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {host, "localhost"} <= set(names.get_values_for_type(x509.DNSName))
    assert first.public(first.host_key).startswith("ssh-ed25519 ")
    assert oct(first.client_key.stat().st_mode & 0o777) == "0o600"
    server = gitserver.GitServer(release="gitserver", namespace="git", keys=first)
    assert server.known_hosts == f"{host} {first.public(first.host_key)}"
    assert server.ssh_url("dags") == f"git@{host}:dags.git"


@pytest.mark.parametrize("over", ["https", "ssh"])
def test_a_repository_url_should_lead_back_to_the_local_server_that_serves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, over: str
) -> None:
    monkeypatch.setenv("AIRKUBE_CACHE", str(tmp_path))
    keys = gitserver.ensure_keys(tmp_path / "gitserver" / "git-gitserver", ["x"])
    server = gitserver.GitServer(release="gitserver", namespace="git", keys=keys)
    url = server.https_url("team-dags") if over == "https" else server.ssh_url("team-dags")
    assert gitserver.serving(url) == (server, "team-dags")


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/example/dags.git",
        "https://other.git.svc.cluster.local/dags.git",
        "git@github.com:example/dags.git",
        "https://gitserver.git.svc.example.org/dags.git",
    ],
)
def test_other_repositories_should_not_be_taken_for_the_local_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("AIRKUBE_CACHE", str(tmp_path))
    gitserver.ensure_keys(tmp_path / "gitserver" / "git-gitserver", ["x"])
    assert gitserver.serving(url) is None
