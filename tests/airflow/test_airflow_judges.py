"""Airflow's own code reads what the chart generates: pod templates and airflow.cfg."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import models as k8s

from bootstrap import helm, kubeconform, paths, podtemplates, values
from tests.conftest import DEFAULT_KUBE_VERSION, VALUES_FILES, by_kind_name

CASES = [None, *VALUES_FILES]


def case_id(path: Path | None) -> str:
    return path.name if path else "defaults"


def given(path: Path | None) -> dict[str, Any]:
    return values.load_file(path) if path else {}


def example_override() -> k8s.V1Pod:
    """A pod_override in the shape of Airflow's example_kubernetes_executor DAG: an extra volume
    and mount, a sidecar, resources and labels."""
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(labels={"release": "stable"}),
        spec=k8s.V1PodSpec(
            containers=[
                k8s.V1Container(
                    name="base",
                    resources=k8s.V1ResourceRequirements(
                        requests={"cpu": "200m", "memory": "300Mi"}, limits={"memory": "600Mi"}
                    ),
                    volume_mounts=[
                        k8s.V1VolumeMount(mount_path="/foo/", name="example-kubernetes-test-volume")
                    ],
                ),
                k8s.V1Container(
                    name="sidecar",
                    image="ubuntu",
                    args=['echo "retrieved from mount" > /shared/test.txt'],
                    command=["bash", "-cx"],
                    volume_mounts=[
                        k8s.V1VolumeMount(mount_path="/shared/", name="shared-empty-dir")
                    ],
                ),
            ],
            volumes=[
                k8s.V1Volume(
                    name="example-kubernetes-test-volume",
                    host_path=k8s.V1HostPathVolumeSource(path="/tmp/"),
                ),
                k8s.V1Volume(name="shared-empty-dir", empty_dir=k8s.V1EmptyDirVolumeSource()),
            ],
        ),
    )


@pytest.mark.parametrize("values_file", CASES, ids=case_id)
def test_pod_generator_should_build_task_pods_from_every_template(
    helm_client: helm.Helm, validator: kubeconform.Kubeconform, values_file: Path | None
) -> None:
    from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator

    chart_values = given(values_file)
    templates = podtemplates.render_pod_templates(helm_client, chart_values)
    assert "default" in templates
    kube_image = _executor_image(helm_client, chart_values)
    for name, template in templates.items():
        base_pod = podtemplates.load_with_airflow(template)
        pod = PodGenerator.construct_pod(
            dag_id="example_kubernetes_executor",
            task_id="start_task",
            pod_id="example-pod",
            try_number=1,
            kube_image=kube_image,
            date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
            args=[
                "python",
                "-m",
                "airflow.sdk.execution_time.execute_workload",
                "--json-string",
                "{}",
            ],
            pod_override_object=example_override(),
            base_worker_pod=base_pod,
            namespace="airflow",
            scheduler_job_id="1",
            run_id="manual__2026-01-01",
        )
        where = f"{case_id(values_file)}:{name}"
        base = pod.spec.containers[0]
        assert base.name == "base", where
        assert base.image == template["spec"]["containers"][0]["image"], where
        assert base.args[:3] == ["python", "-m", "airflow.sdk.execution_time.execute_workload"], (
            where
        )
        assert base.resources.requests == {"cpu": "200m", "memory": "300Mi"}, where
        assert {m.name for m in base.volume_mounts} >= {
            "config",
            "example-kubernetes-test-volume",
        }, where
        assert [c.name for c in pod.spec.containers][-1] == "sidecar", where
        assert {"example-kubernetes-test-volume", "shared-empty-dir", "config"} <= {
            v.name for v in pod.spec.volumes
        }, where
        assert pod.metadata.labels["release"] == "stable", where
        assert pod.metadata.labels["app.kubernetes.io/component"] == "worker", where
        assert pod.spec.restart_policy == "Never", where
        problems = validator.pod_problems(
            PodGenerator.serialize_pod(pod), kube_version=DEFAULT_KUBE_VERSION
        )
        assert not problems, f"{where}: the pod Airflow builds is not a valid Pod: {problems}"


def _executor_image(helm_client: helm.Helm, chart_values: dict[str, Any]) -> str:
    """The image the KubernetesExecutor puts on every task pod, as its own config class reads it
    from the rendered airflow.cfg."""
    from airflow.configuration import AirflowConfigParser
    from airflow.providers.cncf.kubernetes.kube_config import KubeConfig

    parser = AirflowConfigParser()
    parser.read_string(podtemplates.render_airflow_cfg(helm_client, chart_values))
    image = KubeConfig(parser).kube_image  # type: ignore[arg-type]
    assert image, "airflow.cfg gives the executor no worker image"
    return str(image)


@pytest.fixture(scope="module")
def airflow_options() -> dict[str, set[str]]:
    """Every option Airflow (core and installed providers) knows, by section."""
    from airflow.configuration import conf

    return {
        section: set(spec.get("options", {}))
        for section, spec in conf.configuration_description.items()
    }


@pytest.mark.parametrize("values_file", CASES, ids=case_id)
def test_airflow_should_read_the_rendered_config(
    render, helm_client: helm.Helm, airflow_options: dict[str, set[str]], values_file: Path | None
) -> None:
    from airflow.configuration import AirflowConfigParser

    chart_values = given(values_file)
    text = podtemplates.render_airflow_cfg(helm_client, chart_values)
    parser = AirflowConfigParser()
    parser.read_string(text)

    assert parser.get("core", "executor") == "KubernetesExecutor"
    template_file = parser.get("kubernetes_executor", "pod_template_file")
    scheduler = by_kind_name(render(chart_values), "Deployment", "airflow-scheduler")
    mounts = {
        m["name"]: m["mountPath"]
        for m in scheduler["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    }
    assert Path(template_file).parent == Path(mounts["pod-templates"]), (
        "pod_template_file must be where the templates are mounted"
    )
    assert Path(template_file).name == "default.yaml"

    for section in parser.sections():
        for option in parser.options(section):
            if option in parser.defaults():
                continue
            assert option in airflow_options.get(section, set()), (
                f"[{section}] {option} is not an Airflow option"
            )


# Options the official chart sets that task code and DAG authors read, and the value each must have
# here (defaults render with images.airflow = apache/airflow and the chart's appVersion).
OFFICIAL_OPTIONS = {
    ("core", "executor"): "KubernetesExecutor",
    ("core", "dags_folder"): "/opt/airflow/dags",
    ("core", "load_examples"): "False",
    ("logging", "remote_logging"): "False",
    ("logging", "colored_console_log"): "False",
    ("metrics", "statsd_on"): "False",
    ("kubernetes_executor", "namespace"): "airflow",
    ("kubernetes_executor", "pod_template_file"): "/opt/airflow/pod_templates/default.yaml",
    ("kubernetes_executor", "worker_container_repository"): "apache/airflow",
    ("kubernetes_executor", "worker_container_tag"): "3.3.2",
    ("kubernetes_executor", "multi_namespace_mode"): "False",
}


def test_options_task_code_reads_should_be_set_as_the_official_chart_sets_them(
    helm_client: helm.Helm,
) -> None:
    from airflow.configuration import AirflowConfigParser

    parser = AirflowConfigParser()
    parser.read_string(podtemplates.render_airflow_cfg(helm_client, {}))
    found = {key: parser.get(*key, fallback=None) for key in OFFICIAL_OPTIONS}
    assert found == OFFICIAL_OPTIONS


def test_worker_image_options_should_follow_the_task_image(helm_client: helm.Helm) -> None:
    chart_values = {
        "images": {"airflow": {"repository": "acme/airflow", "tag": "3.3.2-7"}},
        "workers": {"image": {"tag": "3.3.2-tasks"}},
    }
    assert _executor_image(helm_client, chart_values) == "acme/airflow:3.3.2-tasks"


def test_percent_signs_should_reach_airflow_literally(helm_client: helm.Helm) -> None:
    from airflow.configuration import AirflowConfigParser

    log_format = "[%(asctime)s] %(levelname)s - %(message)s"
    text = podtemplates.render_airflow_cfg(
        helm_client, {"config": {"logging": {"log_format": log_format}}}
    )
    parser = AirflowConfigParser()
    parser.read_string(text)
    assert parser.get("logging", "log_format") == log_format


def test_chart_mount_paths_should_match_the_preview_tool() -> None:
    assert podtemplates.MOUNT_DIR == "/opt/airflow/pod_templates"
    assert (paths.CHART_DIR / podtemplates.POD_TEMPLATES_SOURCE).is_file()


GIT_CONNECTIONS = {
    "https": (
        "https://git.example.org/team/dags.git",
        {"conn_type": "git", "login": "robot", "password": "s3cret"},
    ),
    "ssh": (
        "git@git.example.org:team/dags.git",
        {"conn_type": "git", "extra": {"private_key": "KEY", "strict_host_key_checking": "yes"}},
    ),
}


@pytest.mark.parametrize("protocol", sorted(GIT_CONNECTIONS))
def test_airflow_should_build_the_git_bundle_from_the_rendered_config(
    helm_client: helm.Helm,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    protocol: str,
) -> None:
    """Airflow's bundle manager reads the rendered bundle list and builds the GitDagBundle with
    the connection in the form values.yaml documents for dags.gitBundle.connectionSecret."""
    from airflow.configuration import AirflowConfigParser
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.providers.git.bundles.git import GitDagBundle

    repo, connection = GIT_CONNECTIONS[protocol]
    bundle_values = {
        "repo": repo,
        "ref": "release",
        "subPath": "pipelines",
        "knownHosts": "git.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyOnly",
    }
    text = podtemplates.render_airflow_cfg(
        helm_client, {"dags": {"mode": "gitBundle", "gitBundle": bundle_values}}
    )
    parser = AirflowConfigParser()
    parser.read_string(text)
    monkeypatch.setenv(
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST",
        parser.get("dag_processor", "dag_bundle_config_list"),
    )
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_CONN_AIRKUBE_GIT", json.dumps(connection))

    bundle = DagBundlesManager().get_bundle("dags")
    assert isinstance(bundle, GitDagBundle)
    assert (bundle.repo_url, bundle.tracking_ref, bundle.subdir) == (repo, "release", "pipelines")
    assert bundle.hook is not None, "the bundle found no connection"
    if protocol == "https":
        assert (bundle.hook.user_name, bundle.hook.auth_token) == ("robot", "s3cret")
    else:
        command = bundle.hook._build_ssh_command("/key")
        # Host keys are checked against the system-wide file the chart mounts.
        assert "StrictHostKeyChecking=yes" in command
        assert "UserKnownHostsFile" not in command
