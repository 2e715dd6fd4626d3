"""Upgrade, rollback and uninstall: data, connections, variables and every generated secret
survive; encrypted values still decrypt."""

from __future__ import annotations

import base64
import datetime
import json
import shutil

from bootstrap import deploy, docker, helm, images, paths, smoke, values
from bootstrap.kube import KubeClients
from tests.e2e.airflow.helpers import (
    NAMESPACE,
    RELEASE,
    api_session,
    base_values,
    component_pods,
    exec_in,
    merged_dag_folder,
)

SECRETS = (f"{RELEASE}-airflow-secrets", f"{RELEASE}-postgresql", f"{RELEASE}-admin")
CONNECTION = {
    "connection_id": "e2e_conn",
    "conn_type": "http",
    "host": "example.org",
    "password": "s3cr3t-value",
}


def secret_data(kube: KubeClients) -> dict[str, dict[str, str]]:
    return {name: dict(kube.core.read_namespaced_secret(name, NAMESPACE).data) for name in SECRETS}


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


def scheduler_image(kube: KubeClients) -> str:
    deployment = kube.apps.read_namespaced_deployment(f"{RELEASE}-scheduler", NAMESPACE)
    return str(deployment.spec.template.spec.containers[0].image)


def test_upgrade_then_rollback_should_keep_data_and_keys(
    release: deploy.DeployResult,
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> None:
    with api_session(settings, kube) as api:
        existing = {c["connection_id"] for c in api.get("/api/v2/connections")["connections"]}
        if "e2e_conn" not in existing:
            api.post("/api/v2/connections", CONNECTION)
        if _has_variable(api):
            api.patch("/api/v2/variables/e2e_var", {"key": "e2e_var", "value": "kept"})
        else:
            api.post("/api/v2/variables", {"key": "e2e_var", "value": "kept"})
        runs_before = api.get("/api/v2/dags/airkube_smoke/dagRuns")["total_entries"]
    secrets_before = secret_data(kube)
    old_image = scheduler_image(kube)
    revision_before = helm_on_cluster.current(
        release=RELEASE, namespace=NAMESPACE, kubeconfig=settings.kubeconfig
    )
    assert revision_before is not None

    # A new image tag (the DAG folder gains a file) and a changed value.
    folder = merged_dag_folder()
    shutil.copy2(
        folder / "smoke_data" / "greeting.txt", folder / "smoke_data" / "upgrade-marker.txt"
    )
    docker.ensure_engine()
    (new,) = images.build_images(["airflow"], images.BuildOptions(dags_dir=folder, record=False))
    images.load_into_cluster([new.reference])
    upgraded_values = values.merge(
        base_values({**built_images, "airflow": new.reference}),
        {"config": {"core": {"parallelism": 31}}},
    )
    upgraded = deploy.deploy(helm_on_cluster, upgraded_values, settings)
    assert upgraded.release.revision > revision_before.revision
    assert scheduler_image(kube) == new.reference != old_image
    assert secret_data(kube) == secrets_before, "generated secrets changed on upgrade"
    assert connection_password(kube) == CONNECTION["password"], (
        "the encrypted password no longer decrypts"
    )
    with api_session(settings, kube) as api:
        assert api.get("/api/v2/variables/e2e_var")["value"] == "kept"
        assert api.get("/api/v2/dags/airkube_smoke/dagRuns")["total_entries"] >= runs_before
        result = smoke.run_dag(api, "airkube_smoke", timeout=datetime.timedelta(minutes=10))
        assert result.succeeded, f"the smoke DAG failed after the upgrade: {result}"

    helm_on_cluster.rollback(
        release=RELEASE,
        namespace=NAMESPACE,
        revision=revision_before.revision,
        kubeconfig=settings.kubeconfig,
    )
    deploy.wait_until_ready(kube, RELEASE, NAMESPACE, timeout=settings.timeout)
    assert scheduler_image(kube) == old_image, "rollback did not restore the previous image"
    assert secret_data(kube) == secrets_before, "generated secrets changed on rollback"
    assert connection_password(kube) == CONNECTION["password"]


def _has_variable(api) -> bool:  # type: ignore[no-untyped-def]
    keys = {v["key"] for v in api.get("/api/v2/variables")["variables"]}
    return "e2e_var" in keys


def test_uninstall_should_keep_the_database_and_reinstall_should_find_it(
    release: deploy.DeployResult,
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> None:
    secrets_before = secret_data(kube)
    assert deploy.remove(helm_on_cluster, settings), "the release was not installed"
    left = {p.metadata.name for p in kube.core.list_namespaced_pod(NAMESPACE).items}
    assert not left, f"pods left after uninstall: {sorted(left)}"
    claims = {
        c.metadata.name for c in kube.core.list_namespaced_persistent_volume_claim(NAMESPACE).items
    }
    assert f"data-{RELEASE}-postgresql-0" in claims, f"the database volume was removed: {claims}"
    assert secret_data(kube) == secrets_before, "kept secrets changed on uninstall"

    # Reinstall with plain `helm install --wait` semantics: the migration is no hook, so the wait
    # cannot deadlock on a Job that needs the database the same release creates.
    helm_on_cluster.upgrade_install(
        paths.CHART_DIR,
        base_values(built_images),
        release=RELEASE,
        namespace=NAMESPACE,
        timeout=settings.timeout,
        wait=True,
        kubeconfig=settings.kubeconfig,
    )
    deploy.wait_until_ready(kube, RELEASE, NAMESPACE, timeout=settings.timeout)
    assert secret_data(kube) == secrets_before, "reinstall generated new secrets"
    with api_session(settings, kube) as api:
        assert api.get("/api/v2/variables/e2e_var")["value"] == "kept", (
            "the database did not survive"
        )
    password = base64.b64decode(secrets_before[f"{RELEASE}-admin"]["password"]).decode()
    assert password, "the admin password Secret is empty"
