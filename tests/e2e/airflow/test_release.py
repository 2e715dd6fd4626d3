"""The chart on the real cluster: ready, the smoke DAG runs task by task in its own pod, RBAC
holds, `helm test` passes. (That task logs outlive their pods is checked after every step of
the upgrade matrix, test_upgrade.py.)"""

from __future__ import annotations

from typing import Any

from bootstrap import cluster, deploy, helm, paths
from bootstrap.airflow_api import AirflowApi
from bootstrap.kube import KubeClients
from bootstrap.kube import exec_in as exec_in_container
from bootstrap.release import COMPONENT_LABEL
from tests.e2e.airflow.helpers import (
    NAMESPACE,
    RELEASE,
    PodObserver,
    component_pods,
    exec_in,
    run,
    task_pods,
)
from tests.e2e.waiting import wait_for

SMOKE = "airkube_smoke"


def test_every_component_should_be_ready(release: deploy.DeployResult) -> None:
    names = {state.name for state in release.components}
    for component in ("api-server", "scheduler", "dag-processor", "triggerer", "postgresql"):
        assert f"{RELEASE}-{component}" in names, f"{component} missing from {sorted(names)}"
    assert all(state.ready for state in release.components), release.components
    notes = release.release.notes
    assert f"port-forward svc/{RELEASE}-api-server 8080:8080" in notes, notes
    assert f"get secret {RELEASE}-admin" in notes, notes


def test_smoke_dag_should_run_each_task_in_its_own_pod(api: AirflowApi, kube: KubeClients) -> None:
    with PodObserver(kube) as observer:
        result = run(api, SMOKE)
    states = {t.task_id: t.state for t in result.tasks}
    assert result.succeeded, f"smoke run {result.run_id} ended {result.state}: {states}"
    pods = [t.pod for t in result.tasks]
    assert all(pods) and len(set(pods)) == len(pods), f"each task should run in its own pod: {pods}"
    run_pods = {
        name: info for name, info in observer.seen.items() if info["labels"].get("dag_id") == SMOKE
    }
    assert set(pods) <= set(run_pods), (
        f"pods Airflow reports {pods} were not all seen via the API: {sorted(run_pods)}"
    )
    for name, info in run_pods.items():
        assert info["containers"][0] == "base", (
            f"{name}: first container is {info['containers'][0]}"
        )
        assert info["labels"].get(COMPONENT_LABEL) == "worker", name
    override = next(
        info for info in run_pods.values() if info["labels"].get("task_id") == "with_pod_override"
    )
    assert override["env"].get("AIRKUBE_SMOKE_OVERRIDE") == "applied"
    names = set(pods)
    wait_for(
        f"the task pods {sorted(names)} to be deleted after success",
        lambda: not {p.metadata.name for p in task_pods(kube, SMOKE)} & names,
        timeout=120,
    )


def test_notes_should_warn_when_task_logs_would_vanish(
    helm_on_cluster: helm.Helm, local_cluster: cluster.ClusterInfo
) -> None:
    def notes(overrides: dict[str, Any]) -> str:
        return helm_on_cluster.install_notes(
            paths.CHART_DIR,
            overrides,
            release="notes",
            namespace=NAMESPACE,
            kubeconfig=local_cluster.kubeconfig,
        )

    assert "WARNING: task logs are neither" in notes({})
    assert "WARNING" not in notes({"logs": {"persistence": {"enabled": True}}})
    shipped = notes({"logs": {"remote": {"enabled": True, "baseFolder": "s3://b/logs"}}})
    assert "WARNING" not in shipped
    assert "needs apache-airflow-providers-amazon in\nthe image apache/airflow:" in shipped
    assert "airkube image build --provider amazon" in shipped
    assert "REQUIRED" not in notes({})
    image = {"images": {"airflow": {"repository": "acme/airflow", "tag": "3.3.2-7"}}}
    assert "Airflow 3.3.2-7 (acme/airflow:3.3.2-7) is being deployed" in notes(image)
    exposed: dict[str, Any] = {"apiServer": {"ingress": {"enabled": True}}}
    assert "lets no ingress controller in" in notes(
        exposed | {"networkPolicies": {"enabled": True}}
    )
    controller = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "nginx"}}}
    listed = {"enabled": True, "apiServer": {"extraIngressFrom": [controller]}}
    assert "ingress controller" not in notes(exposed | {"networkPolicies": listed})


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
    assert output.count("Succeeded") >= 2, output


# Rewrites the image's record with one head changed, for the check to find it missing.
TAMPER = """
import json, sys
record = json.load(open("/usr/local/share/airkube/migration-heads.json"))
record["version_tables"][sys.argv[1]] = ["0000feed0000"]
json.dump(record, open("/tmp/tampered-heads.json", "w"))
"""


def test_migration_check_should_read_postgres_as_airflow_does(
    release: deploy.DeployResult, kube: KubeClients
) -> None:
    (pod,) = component_pods(kube, "scheduler")
    name = pod.metadata.name
    script = "/opt/airflow/config/migrations_check.py"
    current = exec_in_container(kube, NAMESPACE, name, "scheduler", ["python", script, "1"])
    assert current.returncode == 0, current.stdout + current.stderr
    assert "migration heads" in current.stdout and "asking" not in current.stdout, current.stdout
    airflow = exec_in_container(
        kube, NAMESPACE, name, "scheduler", ["airflow", "db", "check-migrations", "-t", "1"]
    )
    assert airflow.returncode == 0, airflow.stderr

    for table in ("alembic_version", "alembic_version_fab"):
        exec_in(kube, name, "scheduler", ["python", "-c", TAMPER, table])
        behind = exec_in_container(
            kube, NAMESPACE, name, "scheduler", ["python", script, "1", "/tmp/tampered-heads.json"]
        )
        assert behind.returncode == 1, behind.stdout + behind.stderr
        assert f"{table} holds" in behind.stderr and "0000feed0000" in behind.stderr, behind.stderr
