"""Uninstall and reinstall on the real cluster: the database volume and the generated Secrets
are kept, and the reinstalled release finds its data.

The reinstall uses the base values, so this module ends the release's story where the session's
``release`` fixture starts it: the next run's first deploy then has nothing to change.
"""

from __future__ import annotations

import base64
import uuid

from bootstrap import deploy, helm, paths
from bootstrap.kube import KubeClients
from tests.e2e.airflow.helpers import (
    NAMESPACE,
    RELEASE,
    api_session,
    base_values,
    component_pods,
    secret_data,
    set_variable,
)

JOB_COMPONENTS = ("scheduler", "triggerer", "dag-processor")


def test_uninstall_should_keep_the_database_and_reinstall_should_find_it(
    release: deploy.DeployResult,
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    settings: deploy.DeploySettings,
    kube: KubeClients,
) -> None:
    marker = uuid.uuid4().hex
    with api_session(settings, kube) as api:
        set_variable(api, "e2e_reinstall", marker)
    secrets_before = secret_data(kube)
    # Airflow records each job under its pod's name; stopped while the database is up, a
    # component ends its job instead of leaving it "running".
    hosts = [pod.metadata.name for c in JOB_COMPONENTS for pod in component_pods(kube, c)]
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
        kubeconfig=settings.target.kubeconfig,
    )
    deploy.wait_until_ready(kube, settings.target, timeout=settings.timeout)
    assert secret_data(kube) == secrets_before, "reinstall generated new secrets"
    with api_session(settings, kube) as api:
        assert api.get("/api/v2/variables/e2e_reinstall")["value"] == marker, (
            "the database did not survive"
        )
        for host in hosts:
            jobs = api.get(f"/api/v2/jobs?hostname={host}")["jobs"]
            assert jobs, f"no job recorded for {host}"
            running = [j["job_type"] for j in jobs if j["state"] == "running"]
            assert not running, f"{host} was stopped with its jobs still running: {running}"
    password = base64.b64decode(secrets_before[f"{RELEASE}-admin"]["password"]).decode()
    assert password, "the admin password Secret is empty"
