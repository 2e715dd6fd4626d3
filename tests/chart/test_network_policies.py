"""With networkPolicies on, every pod the chart makes is isolated in both directions, and the
flows the policies allow are exactly the ones Airflow needs, judged by evaluating the rendered
policies the way a network plugin does (pod peers; address blocks match no pod here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import VALUES_FILES, Render, worker_templates

ON = {"networkPolicies": {"enabled": True}}
NAMESPACE = "airflow"


@dataclass(frozen=True)
class Pod:
    kind: str
    name: str
    namespace: str
    labels: Mapping[str, str]

    @property
    def component(self) -> str:
        return self.labels.get("app.kubernetes.io/component", "")


def pods_of(objects: Sequence[dict[str, Any]], worker_namespaces: Sequence[str]) -> list[Pod]:
    """Every pod the release makes: workloads' templates, helm test pods, task pods."""
    found = []
    for obj in objects:
        meta = obj["metadata"]
        namespace = meta.get("namespace", NAMESPACE)
        if obj["kind"] in {"Deployment", "StatefulSet", "Job"}:
            labels = obj["spec"]["template"]["metadata"]["labels"]
            found.append(Pod(obj["kind"], meta["name"], namespace, labels))
        elif obj["kind"] == "Pod":
            found.append(Pod("Pod", meta["name"], namespace, meta["labels"]))
    for text in worker_templates(objects):
        template = yaml.safe_load(text)
        for namespace in worker_namespaces:
            labels = template["metadata"]["labels"]
            found.append(Pod("task pod", template["metadata"]["name"], namespace, labels))
    return found


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A Kubernetes LabelSelector against a set of labels (an empty selector selects all)."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        present, values = key in labels, expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def peer_matches(peer: Mapping[str, Any], policy_namespace: str, pod: Pod) -> bool:
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        namespace_labels = {"kubernetes.io/metadata.name": pod.namespace}
        if not matches(peer["namespaceSelector"], namespace_labels):
            return False
    elif pod.namespace != policy_namespace:
        return False
    return matches(peer.get("podSelector"), pod.labels)


def rule_allows(
    rule: Mapping[str, Any], peers_key: str, namespace: str, other: Pod, port: int
) -> bool:
    ports = rule.get("ports") or []
    if ports and not any(p.get("port") == port for p in ports):
        return False
    peers = rule.get(peers_key) or []
    return not peers or any(peer_matches(peer, namespace, other) for peer in peers)


def direction_allows(
    policies: Sequence[dict[str, Any]], pod: Pod, other: Pod, port: int, policy_type: str
) -> bool:
    """Whether ``pod``'s own policies let the connection in (Ingress) or out (Egress)."""
    key, peers_key = ("ingress", "from") if policy_type == "Ingress" else ("egress", "to")
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and policy_type in p["spec"].get("policyTypes", [])
        and matches(p["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    return any(
        rule_allows(rule, peers_key, pod.namespace, other, port)
        for policy in selecting
        for rule in policy["spec"].get(key) or []
    )


def connects(policies: Sequence[dict[str, Any]], source: Pod, target: Pod, port: int) -> bool:
    return direction_allows(policies, source, target, port, "Egress") and direction_allows(
        policies, target, source, port, "Ingress"
    )


def rendered(render: Render, overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> tuple:
    objects = render({**ON, **(overrides or {})}, **kwargs)
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    return objects, policies


def one(pods: Sequence[Pod], component: str, namespace: str = NAMESPACE) -> Pod:
    found = [p for p in pods if p.component == component and p.namespace == namespace]
    assert found, f"no {component} pod in {namespace} among {[p.name for p in pods]}"
    return found[0]


def reaching(
    policies: Sequence[dict[str, Any]], peer: Mapping[str, Any], port: int = 0
) -> set[str]:
    """The components whose egress names ``peer`` (on ``port``, when given)."""
    return {
        policy["metadata"]["labels"]["app.kubernetes.io/component"]
        for policy in policies
        for rule in policy["spec"]["egress"]
        if peer in (rule.get("to") or [])
        and (not port or any(p["port"] == port for p in rule.get("ports") or []))
    }


@pytest.mark.parametrize(
    "values_file", [None, *VALUES_FILES], ids=lambda p: p.name if p else "defaults"
)
def test_every_pod_should_be_selected_by_an_ingress_and_an_egress_policy(
    render: Render, values_file: Path | None
) -> None:
    objects, policies = rendered(render, files=[values_file] if values_file else [])
    namespaces = sorted(
        {o["metadata"]["namespace"] for o in objects if o["kind"] == "ServiceAccount"}
    )
    pods = pods_of(objects, namespaces if len(namespaces) > 1 else [NAMESPACE])
    assert len(pods) >= 6, pods
    for pod in pods:
        for policy_type in ("Ingress", "Egress"):
            selecting = [
                p["metadata"]["name"]
                for p in policies
                if p["metadata"]["namespace"] == pod.namespace
                and policy_type in p["spec"]["policyTypes"]
                and matches(p["spec"]["podSelector"], pod.labels)
            ]
            assert selecting, f"{pod.kind} {pod.name} in {pod.namespace}: no {policy_type} policy"


def test_each_pod_should_be_selected_by_its_own_policy_only(render: Render) -> None:
    objects, policies = rendered(render)
    for pod in pods_of(objects, [NAMESPACE]):
        selecting = [
            p["metadata"]["name"]
            for p in policies
            if p["metadata"]["namespace"] == pod.namespace
            and matches(p["spec"]["podSelector"], pod.labels)
        ]
        assert len(selecting) == 1, (pod.name, selecting)


# (source component, target component, port, allowed)
FLOWS = [
    ("worker", "api-server", 8080, True),
    ("worker", "postgresql", 5432, False),
    ("worker", "scheduler", 8974, False),
    ("worker", "triggerer", 8794, False),
    ("api-server", "worker", 8793, False),
    ("scheduler", "postgresql", 5432, True),
    ("dag-processor", "postgresql", 5432, True),
    ("triggerer", "postgresql", 5432, True),
    ("api-server", "postgresql", 5432, True),
    ("migrate", "postgresql", 5432, True),
    ("create-user", "postgresql", 5432, True),
    ("test", "postgresql", 5432, True),
    ("test", "api-server", 8080, True),
    ("dag-processor", "api-server", 8080, True),
    ("triggerer", "api-server", 8080, True),
    ("api-server", "triggerer", 8794, True),
    ("api-server", "scheduler", 8974, False),
    ("migrate", "api-server", 8080, False),
    ("postgresql", "api-server", 8080, False),
    ("api-server", "api-server", 5432, False),
]


@pytest.mark.parametrize(("source", "target", "port", "allowed"), FLOWS)
def test_flows_between_the_releases_pods(
    render: Render, source: str, target: str, port: int, allowed: bool
) -> None:
    """Both ends decide: an allowed flow is let out and let in; a refused one neither (so one
    policy's mistake is not hidden by the other's)."""
    objects, policies = rendered(render)
    pods = pods_of(objects, [NAMESPACE])
    out = direction_allows(policies, one(pods, source), one(pods, target), port, "Egress")
    into = direction_allows(policies, one(pods, target), one(pods, source), port, "Ingress")
    assert (out, into) == (allowed, allowed), f"{source} -> {target}:{port}: out {out}, in {into}"


def test_task_pods_in_other_namespaces_should_reach_only_the_execution_api(
    render: Render,
) -> None:
    workers = {"multiNamespace": {"enabled": True, "namespaces": ["team-a", "team-b"]}}
    objects, policies = rendered(render, {"workers": workers})
    pods = pods_of(objects, ["team-a", "team-b"])
    api_server, database = one(pods, "api-server"), one(pods, "postgresql")
    for namespace in ("team-a", "team-b"):
        task = one(pods, "worker", namespace)
        assert connects(policies, task, api_server, 8080), namespace
        assert not connects(policies, task, database, 5432), namespace
    stranger = Pod("Pod", "stranger", "team-c", {**one(pods, "worker", "team-a").labels})
    assert not connects(policies, stranger, api_server, 8080)


def test_a_pod_of_another_release_or_namespace_should_not_reach_the_api_server(
    render: Render,
) -> None:
    objects, policies = rendered(render)
    pods = pods_of(objects, [NAMESPACE])
    api_server, scheduler = one(pods, "api-server"), one(pods, "scheduler")
    elsewhere = Pod("Pod", "elsewhere", "other", dict(scheduler.labels))
    other_release = Pod(
        "Pod", "other", NAMESPACE, {**scheduler.labels, "app.kubernetes.io/instance": "other"}
    )
    unlabelled = Pod("Pod", "plain", NAMESPACE, {})
    for stranger in (elsewhere, other_release, unlabelled):
        assert not connects(policies, stranger, api_server, 8080), stranger.name


def test_the_ingress_controller_peers_should_reach_the_api_server_only(render: Render) -> None:
    controller = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}
    objects, policies = rendered(
        render,
        {"networkPolicies": {"enabled": True, "apiServer": {"extraIngressFrom": [controller]}}},
    )
    pods = pods_of(objects, [NAMESPACE])
    ingress_pod = Pod("Pod", "nginx", "ingress", {"app": "nginx"})
    assert connects(policies, ingress_pod, one(pods, "api-server"), 8080)
    assert not connects(policies, ingress_pod, one(pods, "postgresql"), 5432)


@pytest.mark.parametrize(
    ("mode", "fetchers"),
    [
        ("gitSync", {"dag-processor", "triggerer", "worker"}),
        ("gitBundle", {"dag-processor", "worker"}),
        ("image", set()),
    ],
)
def test_only_the_pods_that_fetch_dags_should_reach_git(
    render: Render, mode: str, fetchers: set[str]
) -> None:
    dags: dict[str, Any] = {"mode": mode}
    if mode == "gitSync":
        dags["gitSync"] = {"repo": "https://git.example.com/dags.git"}
    if mode == "gitBundle":
        dags["gitBundle"] = {"repo": "https://git.example.com/dags.git"}
    git_server = {"ipBlock": {"cidr": "192.0.2.10/32"}}
    overrides = {"dags": dags, "networkPolicies": {"enabled": True, "git": {"peers": [git_server]}}}
    _, policies = rendered(render, overrides)
    assert reaching(policies, git_server) == fetchers


def test_the_external_database_should_be_reached_on_its_port_by_its_clients_only(
    render: Render,
) -> None:
    database = {"ipBlock": {"cidr": "192.0.2.20/32"}}
    overrides = {
        "postgresql": {"enabled": False},
        "externalDatabase": {
            "host": "db.example.com",
            "port": 6432,
            "passwordSecret": {"name": "db"},
        },
        "networkPolicies": {"enabled": True, "externalDatabase": {"peers": [database]}},
    }
    _, policies = rendered(render, overrides)
    assert reaching(policies, database, 6432) == {
        "api-server",
        "scheduler",
        "dag-processor",
        "triggerer",
        "jobs",
        "test",
    }


def test_remote_logs_should_open_the_log_store_to_airflow_pods(render: Render) -> None:
    store = {"ipBlock": {"cidr": "192.0.2.30/32"}}
    logs = {"remote": {"enabled": True, "baseFolder": "s3://bucket/logs", "connId": "logs"}}
    overrides = {"logs": logs, "networkPolicies": {"enabled": True, "logStore": {"peers": [store]}}}
    _, policies = rendered(render, overrides)
    assert reaching(policies, store) == {
        "api-server",
        "scheduler",
        "dag-processor",
        "triggerer",
        "worker",
    }


def test_user_egress_rules_should_reach_their_pods(render: Render) -> None:
    warehouse = {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"port": 5439}]}
    secrets = {"to": [{"ipBlock": {"cidr": "10.30.0.0/16"}}], "ports": [{"port": 8200}]}
    overrides = {
        "networkPolicies": {"enabled": True, "extraEgress": [secrets]},
        "workers": {"networkPolicy": {"extraEgress": [warehouse]}},
    }
    _, policies = rendered(render, overrides)
    egress = {
        p["metadata"]["labels"]["app.kubernetes.io/component"]: p["spec"]["egress"]
        for p in policies
    }
    assert warehouse in egress["worker"] and secrets not in egress["worker"]
    for component in ("api-server", "scheduler", "dag-processor", "triggerer"):
        assert secrets in egress[component] and warehouse not in egress[component]


def test_the_kubernetes_api_should_be_open_to_the_scheduler_and_the_log_reader_only(
    render: Render,
) -> None:
    api = {"ipBlock": {"cidr": "10.200.0.1/32"}}
    for log_reading, expected in ((True, {"scheduler", "api-server"}), (False, {"scheduler"})):
        overrides = {
            "apiServer": {"podLogReading": log_reading},
            "networkPolicies": {"enabled": True, "kubernetesApi": {"peers": [api]}},
        }
        _, policies = rendered(render, overrides)
        assert reaching(policies, api) == expected, log_reading


def test_postgres_should_open_no_connection_itself(render: Render) -> None:
    _, policies = rendered(render)
    postgres = next(p for p in policies if p["metadata"]["name"] == "airflow-postgresql")
    assert postgres["spec"]["egress"] == []
