"""A release on a Postgres it does not own, end to end on the local cluster.

A Postgres server runs outside any release (``dev/postgres``, the same image as the embedded
one, in a namespace of its own); the test creates a database and a user whose password holds
every character a URL would need escaped. A second release deploys with ``postgresql.enabled:
false`` through ``externalDatabase`` and a password Secret, runs a DAG, is switched by upgrade to
``externalDatabase.connectionSecret`` (a complete URL) and runs one again. Uninstalling it
leaves the database and what Airflow wrote there.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from bootstrap import cluster, deploy, helm, values
from bootstrap.kube import KubeClients, ensure_namespace, put_secret
from bootstrap.release import Target
from tests.e2e.airflow.helpers import api_session, base_values, run
from tests.e2e.airflow.outside import DB_HOST, fresh_database, postgres_server, psql

NAMESPACE = "airkube-e2e-ext"
RELEASE = "ext"
DATABASE = "airflow_ext"
USER = "airflow_ext"
# What a URL would need escaped, and quotes a careless shell or SQL line would trip on.
PASSWORD = "p@ss:w/rd?#%&=+ 'q\"" + secrets.token_hex(4)
PROBE = "e2e_upgrade_probe"


@pytest.fixture(scope="module")
def database(
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    local_cluster: cluster.ClusterInfo,
    kube: KubeClients,
) -> None:
    """A fresh server with an empty database and its user, and the release namespace's Secret."""
    postgres_server(helm_on_cluster, built_images["postgres"], local_cluster.kubeconfig)
    fresh_database(kube, DATABASE, USER, PASSWORD)
    ensure_namespace(kube.core, NAMESPACE)
    put_secret(kube.core, NAMESPACE, "ext-db-password", {"password": PASSWORD})
    url = f"postgresql+psycopg2://{USER}:{quote(PASSWORD, safe='')}@{DB_HOST}:5432/{DATABASE}"
    put_secret(kube.core, NAMESPACE, "ext-db-url", {"connection": f"{url}?sslmode=disable"})


@pytest.fixture(scope="module")
def settings_ext(local_cluster: cluster.ClusterInfo) -> deploy.DeploySettings:
    target = Target(name=RELEASE, namespace=NAMESPACE, kubeconfig=local_cluster.kubeconfig)
    return deploy.DeploySettings(target=target, timeout=datetime.timedelta(minutes=15))


def external(built_images: dict[str, str], database: dict[str, Any]) -> dict[str, Any]:
    return values.merge(
        base_values(built_images),
        # One schedulable node: no claim the two releases would both need.
        {"logs": {"persistence": {"enabled": False}}},
        {"postgresql": {"enabled": False}, "externalDatabase": database},
    )


def by_fields(password_secret: str) -> dict[str, Any]:
    """externalDatabase by its fields, the password from ``password_secret``."""
    return {
        "host": DB_HOST,
        "database": DATABASE,
        "user": USER,
        "passwordSecret": {"name": password_secret, "key": "password"},
        "sslmode": "disable",
    }


@pytest.fixture(scope="module")
def released(
    database: None,
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    settings_ext: deploy.DeploySettings,
) -> Iterator[None]:
    yield
    deploy.remove(helm_on_cluster, settings_ext)


def run_probe(settings: deploy.DeploySettings, kube: KubeClients, step: str) -> None:
    with api_session(settings, kube) as api:
        result = run(api, PROBE)
    assert result.succeeded, f"{step}: the DAG run ended {result.state}: {result.tasks}"


def test_a_wrong_password_should_fail_the_deploy_early_naming_the_secret_to_fix(
    database: None,
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    local_cluster: cluster.ClusterInfo,
    kube: KubeClients,
) -> None:
    """The server's refusal ends the wait well within the deploy's timeout (a timeout would
    read "not ready after"), with the migration Job's verdict and the value to change."""
    put_secret(kube.core, NAMESPACE, "ext-db-wrong", {"password": "not-" + PASSWORD})
    target = Target(
        name=f"{RELEASE}-wrong", namespace=NAMESPACE, kubeconfig=local_cluster.kubeconfig
    )
    settings = deploy.DeploySettings(target=target, timeout=datetime.timedelta(minutes=15))
    wrong = by_fields("ext-db-wrong")
    try:
        with pytest.raises(deploy.DeployFailed) as failed:
            deploy.deploy(helm_on_cluster, external(built_images, wrong), settings)
    finally:
        deploy.remove(helm_on_cluster, settings)
    message = str(failed.value)
    assert "-migrate-" in message and "cannot become ready" in message, message
    assert f"{DB_HOST}:5432 refuses Airflow (password refused)" in message, message
    assert f'password authentication failed for user "{USER}"' in message, message
    assert "the Secret externalDatabase.passwordSecret.name" in message, message


def test_a_release_should_run_on_an_external_database_and_leave_it_on_uninstall(
    released: None,
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    settings_ext: deploy.DeploySettings,
    kube: KubeClients,
) -> None:
    fields = by_fields("ext-db-password")
    installed = deploy.deploy(helm_on_cluster, external(built_images, fields), settings_ext)
    assert all(state.ready for state in installed.components), installed.components
    assert not kube.apps.list_namespaced_stateful_set(NAMESPACE).items, "a Postgres was deployed"
    run_probe(settings_ext, kube, "password Secret")

    by_url = {"connectionSecret": "ext-db-url"}
    upgraded = deploy.deploy(helm_on_cluster, external(built_images, by_url), settings_ext)
    assert all(state.ready for state in upgraded.components), upgraded.components
    run_probe(settings_ext, kube, "connection Secret")

    assert deploy.remove(helm_on_cluster, settings_ext)
    runs = psql(kube, f"SELECT count(*) FROM dag_run WHERE dag_id = '{PROBE}';", database=DATABASE)
    assert int(runs) == 2, f"the external database should keep both runs, holds {runs}"
    admin = psql(kube, "SELECT count(*) FROM ab_user WHERE username = 'admin';", database=DATABASE)
    assert admin == "1", "the admin user was not created in the external database"
