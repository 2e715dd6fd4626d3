"""Task logs in an S3-compatible object store, end to end on the local cluster.

The shared release is switched by upgrade to an image built with the Amazon provider, remote logs
on and the logs claim off, the connection read from a Secret; a task runs, its pod goes, and its
log is then both a file in the store's bucket and readable through Airflow's API. The release is
switched back at the end. Deploying remote logs on the default image (no Amazon provider) is
refused before helm runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from bootstrap import cluster, deploy, helm, images, objectstore, values
from bootstrap.errors import AirkubeError
from bootstrap.kube import KubeClients
from tests.e2e.airflow.helpers import (
    NAMESPACE,
    RELEASE,
    api_session,
    base_values,
    build_and_load,
    finished,
    instances,
    merged_dag_folder,
    run_pods_gone,
    switched_release,
    trigger,
)
from tests.e2e.airflow.outside import LOG_BUCKET as BUCKET
from tests.e2e.airflow.outside import bucket_files, object_store
from tests.e2e.waiting import wait_for

PROBE = "e2e_upgrade_probe"
CONNECTION_SECRET = "e2e-remote-logs"
CONN_ID = "remote_logs"


def remote_logs() -> dict[str, Any]:
    return {
        "logs": {
            "persistence": {"enabled": False},
            "remote": {
                "enabled": True,
                "baseFolder": f"s3://{BUCKET}/logs",
                "connId": CONN_ID,
                "connectionSecret": {"name": CONNECTION_SECRET},
            },
        }
    }


@pytest.fixture(scope="module")
def store(
    helm_on_cluster: helm.Helm, local_cluster: cluster.ClusterInfo
) -> objectstore.ObjectStore:
    return object_store(helm_on_cluster, BUCKET, local_cluster.kubeconfig)


@pytest.fixture(scope="module")
def shipping(
    release: deploy.DeployResult,
    store: objectstore.ObjectStore,
    built_images: dict[str, str],
    helm_on_cluster: helm.Helm,
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> Iterator[deploy.DeployResult]:
    """The shared release, switched to shipping its task logs to the store."""
    amazon = build_and_load(
        "airflow",
        images.BuildOptions(dags_dir=merged_dag_folder(), providers=("amazon",), record=False),
    )
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": CONNECTION_SECRET, "namespace": NAMESPACE},
        "stringData": {"connection": store.connection_text()},
    }
    remove_secret(kube)
    kube.core.create_namespaced_secret(NAMESPACE, secret)
    chart_values = values.merge(
        base_values(built_images),
        deploy.image_values({"airflow": amazon}),
        remote_logs(),
    )
    with switched_release(helm_on_cluster, chart_values, settings, built_images) as shipped:
        yield shipped
    remove_secret(kube)


def remove_secret(kube: KubeClients) -> None:
    try:
        kube.core.delete_namespaced_secret(CONNECTION_SECRET, NAMESPACE)
    except ApiException as error:
        if error.status != 404:
            raise


def test_remote_logs_on_an_image_without_their_provider_should_be_refused_before_helm(
    release: deploy.DeployResult,
    built_images: dict[str, str],
    helm_on_cluster: helm.Helm,
    settings: deploy.DeploySettings,
) -> None:
    before = helm_on_cluster.current(
        release=RELEASE, namespace=NAMESPACE, kubeconfig=settings.target.kubeconfig
    )
    with pytest.raises(AirkubeError) as refused:
        deploy.deploy(
            helm_on_cluster, values.merge(base_values(built_images), remote_logs()), settings
        )
    assert "needs apache-airflow-providers-amazon" in str(refused.value)
    assert "--provider amazon" in refused.value.hint
    after = helm_on_cluster.current(
        release=RELEASE, namespace=NAMESPACE, kubeconfig=settings.target.kubeconfig
    )
    assert before is not None and after is not None and after.revision == before.revision


def test_a_task_log_should_reach_the_bucket_and_read_back_once_its_pod_is_gone(
    shipping: deploy.DeployResult,
    store: objectstore.ObjectStore,
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> None:
    assert all(state.ready for state in shipping.components), shipping.components
    with api_session(settings, kube) as api:
        run_id = trigger(api, PROBE, {"step": "remote logs"})
        state = wait_for("the probe run", lambda: finished(api, PROBE, run_id), timeout=600)
        ti = instances(api, PROBE, run_id)["report"]
        assert state == "success", f"the run ended {state}: {ti}"
        ended = time.monotonic()
        wait_for("the task pod to be deleted", lambda: run_pods_gone(kube, PROBE, run_id))
        line = "upgrade step remote logs ran in pod"
        stored = wait_for(
            "the task's log in the bucket",
            lambda: {
                key: text
                for key, text in bucket_files(kube, store, BUCKET).items()
                if f"dag_id={PROBE}" in key and line in text
            },
        )
        in_bucket = time.monotonic() - ended
        log = api.task_log(PROBE, run_id, "report", int(ti["try_number"]))
        read_back = time.monotonic() - ended
    assert line in log, f"the log read back through the API lacks the task's line:\n{log[-1500:]}"
    (key,) = stored
    assert key.startswith("logs/"), key
    print(f"\nlog round trip: in the bucket {in_bucket:.1f}s, read back {read_back:.1f}s: {key}")
