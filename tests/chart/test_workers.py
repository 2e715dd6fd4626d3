"""The worker pod template: every knob reaches the task pod, named templates sit beside it."""

from __future__ import annotations

from typing import Any

import yaml

from tests.chart.test_dag_modes import pod_template
from tests.conftest import Render, by_kind_name

KNOBS: dict[str, Any] = {
    "resources": {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"cpu": "2", "memory": "3Gi"},
    },
    "nodeSelector": {"pool": "tasks"},
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
                ]
            }
        }
    },
    "tolerations": [
        {"key": "dedicated", "operator": "Equal", "value": "airflow", "effect": "NoSchedule"}
    ],
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "worker"}},
        }
    ],
    "priorityClassName": "batch-low",
    "runtimeClassName": "gvisor",
    "podSecurityContext": {"runAsUser": 50001},
    "containerSecurityContext": {"readOnlyRootFilesystem": True},
    "env": [{"name": "TEAM", "value": "data"}],
    "envFrom": [{"configMapRef": {"name": "task-settings"}}],
    "extraVolumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}],
    "extraVolumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
    "extraInitContainers": [
        {"name": "prepare", "image": "busybox:1.36", "command": ["true"], "restartPolicy": "Always"}
    ],
    "extraContainers": [{"name": "proxy", "image": "envoyproxy/envoy:v1.31.0"}],
    "labels": {"team": "data"},
    "annotations": {"cost-center": "42"},
    "terminationGracePeriodSeconds": 300,
    "image": {"repository": "example/tasks", "tag": "7"},
}


def test_every_knob_should_reach_the_task_pod(render: Render) -> None:
    pod = pod_template(render({"workers": KNOBS}))
    spec, base = pod["spec"], pod["spec"]["containers"][0]
    for kind in ("requests", "limits"):
        assert base["resources"][kind] == base["resources"][kind] | KNOBS["resources"][kind]
    assert spec["nodeSelector"] == KNOBS["nodeSelector"]
    assert spec["affinity"] == KNOBS["affinity"]
    assert spec["tolerations"] == KNOBS["tolerations"]
    assert spec["topologySpreadConstraints"] == KNOBS["topologySpreadConstraints"]
    assert spec["priorityClassName"] == "batch-low"
    assert spec["runtimeClassName"] == "gvisor"
    assert spec["securityContext"]["runAsUser"] == 50001
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert base["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in base["volumeMounts"], (
        "a read-only root needs a writable /tmp"
    )
    assert {"name": "TEAM", "value": "data"} in base["env"]
    assert base["envFrom"] == KNOBS["envFrom"]
    assert {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}} in spec["volumes"]
    assert {"name": "scratch", "mountPath": "/scratch"} in base["volumeMounts"]
    assert [c["name"] for c in spec["initContainers"]] == ["prepare"]
    assert [c["name"] for c in spec["containers"]] == ["base", "proxy"]
    assert pod["metadata"]["labels"]["team"] == "data"
    assert pod["metadata"]["annotations"] == {"cost-center": "42"}
    assert spec["terminationGracePeriodSeconds"] == 300
    assert base["image"] == "example/tasks:7"


def test_task_pods_should_get_no_database_or_keys(render: Render) -> None:
    base = pod_template(render())["spec"]["containers"][0]
    names = {e["name"] for e in base["env"]}
    assert names == {"AIRFLOW_HOME", "AIRFLOW_CONFIG", "AIRFLOW__CORE__DAGS_FOLDER"}, (
        f"task pods should only get the config and DAG locations: {names}"
    )


def test_task_pods_should_run_as_the_worker_account_without_token(render: Render) -> None:
    spec = pod_template(render())["spec"]
    assert spec["serviceAccountName"] == "airflow-worker"
    assert spec["automountServiceAccountToken"] is False


def test_image_should_default_to_the_airflow_image(render: Render) -> None:
    base = pod_template(
        render({"images": {"airflow": {"repository": "acme/airflow", "tag": "3.3.2-7"}}})
    )["spec"]["containers"][0]
    assert base["image"] == "acme/airflow:3.3.2-7"


def test_named_templates_should_merge_over_the_workers_block(render: Render) -> None:
    objects = render(
        {
            "workers": {
                "nodeSelector": {"pool": "tasks"},
                "podTemplates": {
                    "highmem": {
                        "resources": {"requests": {"memory": "8Gi"}, "limits": {"memory": "16Gi"}},
                        "labels": {"size": "big"},
                    },
                    "gpu": {
                        "nodeSelector": {"pool": "gpu"},
                        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}],
                    },
                },
            }
        }
    )
    data = by_kind_name(objects, "ConfigMap", "airflow-pod-templates")["data"]
    assert set(data) == {"default.yaml", "highmem.yaml", "gpu.yaml"}
    highmem, gpu = yaml.safe_load(data["highmem.yaml"]), yaml.safe_load(data["gpu.yaml"])
    assert highmem["spec"]["nodeSelector"] == {"pool": "tasks"}, "inherits the workers block"
    assert highmem["spec"]["containers"][0]["resources"]["limits"] == {
        "cpu": "1",
        "memory": "16Gi",
        "ephemeral-storage": "4Gi",
    }, "maps merge key by key"
    assert highmem["metadata"]["labels"]["size"] == "big"
    assert highmem["metadata"]["labels"]["airkube.io/pod-template"] == "highmem"
    assert gpu["spec"]["nodeSelector"] == {"pool": "gpu"}, "overrides the workers block"
    assert gpu["spec"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    for name, template in (("highmem", highmem), ("gpu", gpu)):
        assert template["spec"]["containers"][0]["name"] == "base", name


def test_sidecars_should_keep_to_the_restricted_profile_unless_they_say_otherwise(
    render: Render,
) -> None:
    sidecars = [
        {"name": "plain", "image": "example/proxy:1"},
        {"name": "own-user", "image": "example/proxy:1", "securityContext": {"runAsUser": 1234}},
    ]
    pod = pod_template(render({"workers": {"extraContainers": sidecars}}))
    plain, own = pod["spec"]["containers"][1:]
    for context in (plain["securityContext"], own["securityContext"]):
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert (
        own["securityContext"]["runAsUser"] == 1234 and "runAsUser" not in plain["securityContext"]
    )


def test_a_looser_pod_security_level_should_let_host_volumes_through(render: Render) -> None:
    host = {"name": "host", "hostPath": {"path": "/var/data"}}
    given = {"podSecurityLevel": "baseline", "workers": {"extraVolumes": [host]}}
    assert host in pod_template(render(given))["spec"]["volumes"]
