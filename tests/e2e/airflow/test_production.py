"""values/production.yaml deployed whole on the local cluster, with only what one node needs on
top.

The release (a namespace of its own) runs on the external Postgres, clones its DAGs with git-sync
from the cluster's git server, ships task logs to the object store, and runs two schedulers and
two api-servers; the Secrets the file names are created as its comments say. What is layered on
top is in ``local_layer``, each part with its reason. The smoke DAG runs to success and its task
logs reach the bucket, through the file's NetworkPolicies, which the cluster enforces: each
server outside the release is let in by address and port, nothing else.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from bootstrap import cluster, deploy, gitserver, helm, images, objectstore, paths, values
from bootstrap.kube import KubeClients, ensure_namespace, put_secret
from tests.e2e.airflow.helpers import (
    api_session,
    build_and_load,
    merged_dag_folder,
    release_settings,
    run,
)
from tests.e2e.airflow.outside import (
    DB_FLOW,
    DB_HOST,
    LOG_BUCKET,
    bucket_files,
    fresh_database,
    object_store,
    postgres_server,
)
from tests.e2e.waiting import wait_for

NAMESPACE = "airkube-e2e-prod"
RELEASE = "prod"
SMALL = {"requests": {"cpu": "50m", "memory": "256Mi"}}


def production() -> dict[str, Any]:
    return values.load_file(paths.VALUES_DIR / "production.yaml")


def local_cluster_values() -> dict[str, Any]:
    return values.load_file(paths.VALUES_DIR / "local.yaml")


def local_layer(
    mode_images: dict[str, str],
    database: dict[str, str],
    git: dict[str, Any],
    store: objectstore.ObjectStore,
) -> dict[str, Any]:
    """What the local cluster needs on top of the production file, and why."""
    return values.merge(
        # No registry here: the images built for this cluster (Airflow with the Amazon provider
        # the file's s3 logs need, and git-sync).
        {"images": deploy.image_values(mode_images)["images"]},
        # The external database's host and names; the local server has no TLS, so no sslmode
        # require.
        {"externalDatabase": {**database, "sslmode": "disable"}},
        # The cluster's git server instead of the example repository (its login Secret and CA,
        # and the NetworkPolicy flow to it).
        git,
        # Where the NetworkPolicies let the release reach the other servers: the local
        # cluster's API server, the Postgres and the object store, each by namespace and port.
        {
            "networkPolicies": {
                "kubernetesApi": local_cluster_values()["networkPolicies"]["kubernetesApi"],
                "externalDatabase": {"peers": DB_FLOW["peers"]},
                "logStore": store.network_flow(),
            }
        },
        # The object store's bucket instead of the example one; its endpoint is in the
        # connection Secret the file names.
        {"logs": {"remote": {"baseFolder": f"s3://{LOG_BUCKET}/prod-logs"}}},
        # One node with two cores: the file's requests (a core per scheduler and api-server)
        # would leave pods pending. Limits stay as the file sets them.
        {
            component: {"resources": SMALL}
            for component in ("apiServer", "scheduler", "dagProcessor", "workers")
        },
    )


@pytest.fixture(scope="module")
def settings_prod(local_cluster: cluster.ClusterInfo) -> deploy.DeploySettings:
    return release_settings(local_cluster.kubeconfig, RELEASE, NAMESPACE)


@pytest.fixture(scope="module")
def prepared(
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    local_cluster: cluster.ClusterInfo,
    kube: KubeClients,
    settings_prod: deploy.DeploySettings,
) -> Iterator[dict[str, Any]]:
    """Everything outside the release that the file expects, and the values to deploy."""
    file = production()
    kubeconfig = local_cluster.kubeconfig
    ensure_namespace(kube.core, NAMESPACE)

    db = file["externalDatabase"]
    password = secrets.token_urlsafe(12) + "@:/?#"
    postgres_server(helm_on_cluster, built_images["postgres"], kubeconfig)
    fresh_database(kube, "airflow_prod", "airflow_prod", password)
    put_secret(kube.core, NAMESPACE, db["passwordSecret"]["name"], {"password": password})

    fernet = base64.urlsafe_b64encode(os.urandom(32)).decode()
    keys = {"fernet-key": fernet, "jwt-secret": secrets.token_urlsafe(32)}
    keys["api-secret-key"] = secrets.token_urlsafe(32)
    put_secret(kube.core, NAMESPACE, file["secrets"]["existingSecret"], keys)
    admin = {"password": secrets.token_urlsafe(16)}
    put_secret(kube.core, NAMESPACE, file["auth"]["admin"]["existingSecret"], admin)

    store = object_store(helm_on_cluster, LOG_BUCKET, kubeconfig)
    logs_secret = file["logs"]["remote"]["connectionSecret"]["name"]
    put_secret(kube.core, NAMESPACE, logs_secret, {"connection": store.connection_text()})

    server = gitserver.install(
        helm_on_cluster,
        build_and_load("gitserver", images.BuildOptions(record=False)),
        kubeconfig=kubeconfig,
    )
    folder = merged_dag_folder()
    try:
        server.publish(folder, gitserver.REPOSITORY, kubeconfig=kubeconfig, message="production")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    git = gitserver.release_values(server, kube, NAMESPACE)

    mode_images = {
        "airflow": build_and_load(
            "airflow", images.BuildOptions(providers=("amazon",), record=False)
        ),
        "git-sync": build_and_load("git-sync", images.BuildOptions(record=False)),
    }
    database = {"host": DB_HOST, "database": "airflow_prod", "user": "airflow_prod"}
    layer = local_layer(mode_images, database, git, store)
    yield {"store": store, "values": values.merge(file, layer)}
    deploy.remove(helm_on_cluster, settings_prod)


def test_the_production_file_should_run_the_smoke_dag_with_its_logs_in_the_bucket(
    prepared: dict[str, Any],
    helm_on_cluster: helm.Helm,
    settings_prod: deploy.DeploySettings,
    kube: KubeClients,
) -> None:
    installed = deploy.deploy(helm_on_cluster, prepared["values"], settings_prod)
    ready = {state.name: state.detail for state in installed.components}
    assert ready[f"{RELEASE}-scheduler"].startswith("2/2"), ready
    assert ready[f"{RELEASE}-api-server"].startswith("2/2"), ready
    assert not kube.apps.list_namespaced_stateful_set(NAMESPACE).items, "a Postgres was deployed"
    budgets = client.PolicyV1Api(kube.api_client).list_namespaced_pod_disruption_budget(NAMESPACE)
    guarded = {item.metadata.name for item in budgets.items}
    assert {f"{RELEASE}-scheduler", f"{RELEASE}-api-server"} <= guarded, guarded

    started = time.monotonic()
    with api_session(settings_prod, kube) as api:
        result = run(api, "airkube_smoke")
    assert result.succeeded, f"the smoke run ended {result.state}: {result.tasks}"
    stored = wait_for(
        "the smoke run's task logs in the bucket",
        lambda: [
            key
            for key in bucket_files(kube, prepared["store"], LOG_BUCKET)
            if key.startswith("prod-logs/") and "dag_id=airkube_smoke" in key
        ],
    )
    print(
        f"\nproduction.yaml: ready in {installed.seconds:.0f}s, smoke run "
        f"{time.monotonic() - started:.0f}s, {len(stored)} task logs in the bucket"
    )
