"""A release with its NetworkPolicies on, in a namespace that enforces Pod Security "restricted",
on a cluster that enforces NetworkPolicies.

Every pod of the release is admitted under the profile (task pods with a pod_override too), the
smoke DAG and ``helm test`` pass through the policies, and real connections show the fences: a
task reaches the execution API but not Postgres, the scheduler or the triggerer; a pod of
another namespace cannot reach the api-server while a pod of the release's own kind can.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from bootstrap import cluster, deploy, helm, values
from bootstrap.cluster.layout import CLUSTER_DOMAIN
from bootstrap.kube import KubeClients, ensure_namespace, pod_log
from tests.e2e.airflow.helpers import (
    api_session,
    base_values,
    finished,
    release_settings,
    run,
    trigger,
)
from tests.e2e.pods import connection_verdict, pod, run_to_completion
from tests.e2e.waiting import wait_for

NAMESPACE = "airkube-e2e-fenced"
OUTSIDE = "airkube-e2e-outside"
RELEASE = "fenced"
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}
# What "restricted" asks of a pod the test starts itself.
CONFORMING = {
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}
CONFORMING_CONTAINER = {
    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
}


@pytest.fixture(scope="module")
def settings_fenced(local_cluster: cluster.ClusterInfo) -> deploy.DeploySettings:
    return release_settings(local_cluster.kubeconfig, RELEASE, NAMESPACE)


@pytest.fixture(scope="module")
def fenced(
    helm_on_cluster: helm.Helm,
    built_images: dict[str, str],
    kube: KubeClients,
    settings_fenced: deploy.DeploySettings,
) -> Iterator[deploy.DeployResult]:
    ensure_namespace(kube.core, NAMESPACE, RESTRICTED)
    ensure_namespace(kube.core, OUTSIDE)
    given = values.merge(base_values(built_images), {"networkPolicies": {"enabled": True}})
    yield deploy.deploy(helm_on_cluster, given, settings_fenced)
    deploy.remove(helm_on_cluster, settings_fenced)


def service_host(component: str) -> str:
    return f"{RELEASE}-{component}.{NAMESPACE}.svc.{CLUSTER_DOMAIN}"


def pod_ip(kube: KubeClients, component: str) -> str:
    selector = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component={component}"
    pods = kube.core.list_namespaced_pod(NAMESPACE, label_selector=selector).items
    running = [p for p in pods if p.status.phase == "Running" and p.status.pod_ip]
    assert running, f"no running {component} pod"
    return str(running[0].status.pod_ip)


def test_the_release_should_run_as_restricted_behind_its_policies(
    fenced: deploy.DeployResult,
    helm_on_cluster: helm.Helm,
    settings_fenced: deploy.DeploySettings,
    local_cluster: cluster.ClusterInfo,
    kube: KubeClients,
) -> None:
    networking = client.NetworkingV1Api(kube.api_client)
    policies = networking.list_namespaced_network_policy(NAMESPACE).items
    assert len(policies) >= 7, [p.metadata.name for p in policies]
    with api_session(settings_fenced, kube) as api:
        smoke = run(api, "airkube_smoke")
        assert smoke.succeeded, f"the smoke run ended {smoke.state}: {smoke.tasks}"
        overridden = run(api, "e2e_pod_features")
        assert overridden.succeeded, f"the pod_override run ended {overridden.state}"
        log = api.task_log("airkube_smoke", smoke.run_id, smoke.tasks[0].task_id, 1)
        assert log.strip(), "the smoke task's log is not readable through the api-server"
    output = helm_on_cluster.test(
        release=RELEASE, namespace=NAMESPACE, kubeconfig=local_cluster.kubeconfig
    )
    assert output.count("Succeeded") >= 2, output


def test_a_pod_breaking_the_profile_should_be_refused(
    fenced: deploy.DeployResult, kube: KubeClients, toolbox_image: str
) -> None:
    with pytest.raises(ApiException) as refused:
        kube.core.create_namespaced_pod(NAMESPACE, pod("as-root", toolbox_image, "id"))
    assert refused.value.status == 403 and "restricted" in str(refused.value.body)


def test_a_task_should_reach_the_execution_api_and_nothing_else(
    fenced: deploy.DeployResult, settings_fenced: deploy.DeploySettings, kube: KubeClients
) -> None:
    targets = [
        {"name": "execution-api", "host": service_host("api-server"), "port": 8080},
        {"name": "postgres", "host": service_host("postgresql"), "port": 5432},
        {"name": "scheduler", "host": pod_ip(kube, "scheduler"), "port": 8974},
        {"name": "triggerer", "host": pod_ip(kube, "triggerer"), "port": 8794},
    ]
    with api_session(settings_fenced, kube) as api:
        run_id = trigger(api, "e2e_network_probe", {"targets": targets})
        state = wait_for(
            "the probe run to finish", lambda: finished(api, "e2e_network_probe", run_id)
        )
        log = api.task_log("e2e_network_probe", run_id, "connect", 1)
    assert state == "success", log
    verdicts = dict(re.findall(r"probe (\S+) \S+ (open|closed)", log))
    expected = {"execution-api": "open", "postgres": "closed"}
    expected |= {"scheduler": "closed", "triggerer": "closed"}
    assert verdicts == expected, log


def test_only_the_releases_own_pods_should_reach_the_api_server(
    fenced: deploy.DeployResult, kube: KubeClients, toolbox_image: str
) -> None:
    address = pod_ip(kube, "api-server")

    def verdict(namespace: str, name: str, labels: dict[str, Any], expect: str) -> str:
        body = pod(name, toolbox_image, connection_verdict(address, 8080, expect), **CONFORMING)
        body["spec"]["containers"][0] |= CONFORMING_CONTAINER
        body["metadata"]["labels"] |= labels
        try:
            return run_to_completion(kube, namespace, body).strip()
        finally:
            print(pod_log(kube.core, namespace, name))
            kube.core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)

    # The chart's helm test pods carry these labels: the policy lets them in.
    own = {
        "app.kubernetes.io/name": "airkube",
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/component": "test",
    }
    assert verdict(NAMESPACE, "own-kind", own, "open") == "open"
    assert verdict(NAMESPACE, "unlabelled", {}, "closed") == "closed"
    assert verdict(OUTSIDE, "outsider", own, "closed") == "closed"
