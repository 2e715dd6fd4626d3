"""Checks from inside its own pod that a named pod template and a pod_override both applied."""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
from airflow.sdk import dag, task
from kubernetes.client import models as k8s

OVERRIDE = k8s.V1Pod(
    metadata=k8s.V1ObjectMeta(labels={"airkube.io/override": "applied"}),
    spec=k8s.V1PodSpec(
        containers=[
            k8s.V1Container(
                name="base",
                env=[k8s.V1EnvVar(name="OVERRIDE_ENV", value="applied")],
                volume_mounts=[
                    k8s.V1VolumeMount(name="podinfo", mount_path="/etc/podinfo"),
                    k8s.V1VolumeMount(name="scratch", mount_path="/scratch"),
                ],
            )
        ],
        volumes=[
            k8s.V1Volume(
                name="podinfo",
                downward_api=k8s.V1DownwardAPIVolumeSource(
                    items=[
                        k8s.V1DownwardAPIVolumeFile(
                            path="labels",
                            field_ref=k8s.V1ObjectFieldSelector(field_path="metadata.labels"),
                        )
                    ]
                ),
            ),
            k8s.V1Volume(name="scratch", empty_dir=k8s.V1EmptyDirVolumeSource()),
        ],
    ),
)


@dag(
    dag_id="e2e_pod_features",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
)
def e2e_pod_features() -> None:
    @task(
        executor_config={
            "pod_template_file": "/opt/airflow/pod_templates/probe.yaml",
            "pod_override": OVERRIDE,
        }
    )
    def inside_the_pod() -> str:
        problems = []
        if os.environ.get("OVERRIDE_ENV") != "applied":
            problems.append("the pod_override's env var is missing")
        if os.environ.get("PROBE_TEMPLATE") != "probe":
            problems.append("the named template's env var is missing")
        labels = Path("/etc/podinfo/labels").read_text()
        for expected in (
            'airkube.io/override="applied"',
            'airkube.io/pod-template="probe"',
            'airkube.io/probe="yes"',
        ):
            if expected not in labels:
                problems.append(f"label {expected} not visible through the downward API")
        Path("/scratch/written").write_text("ok")
        if problems:
            raise RuntimeError("; ".join(problems))
        return labels

    inside_the_pod()


e2e_pod_features()
