"""The CLI: commands listed, bad input answered with one line naming the problem and the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap import cli, paths
from bootstrap.commands.context import Context


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, context: Context | None = None
) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv), context=context)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_should_list_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("tools", "pod-template", "pods", "image", "cluster"):
        assert command in out, f"{command} missing from --help"


def test_unknown_mode_should_be_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "pod-template", "--mode", "s3")
    assert code == 2
    assert "invalid choice: 's3'" in err and "git-sync" in err


def test_a_burst_size_outside_the_dags_range_should_be_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "bench", "--tasks", "0")
    assert code == 2
    assert "the burst takes 1 to 1000 tasks" in err


def test_missing_values_file_should_name_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "pod-template", "--mode", "image", "-f", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert err.strip().count("\n") == 0, f"one line expected: {err!r}"
    assert "nope.yaml does not exist" in err


def test_malformed_set_should_show_the_form(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "pod-template", "--mode", "image", "--set", "dags.mode")
    assert code == 1
    assert "KEY=VALUE" in err


def test_missing_helm_and_go_should_say_what_to_install(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRKUBE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    code, _, err = run(capsys, "pod-template", "--mode", "image")
    assert code == 1
    assert "helm v3.22.0 cannot be built" in err and "install Go" in err
    assert err.strip().count("\n") == 0, f"one line expected: {err!r}"


def test_failed_render_should_write_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "pod.yaml"
    code, _, err = run(capsys, "pod-template", "--mode", "git-sync", "-o", str(target))
    assert code == 1
    assert "dags.gitSync.repo" in err
    assert not target.exists() and not list(tmp_path.iterdir())


def test_pod_template_should_write_all_modes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(
        capsys,
        "pod-template",
        "--all",
        "-o",
        str(tmp_path),
        "--set",
        "dags.gitSync.repo=https://x/y.git",
        "--set",
        "dags.gitBundle.repo=https://x/y.git",
    )
    assert code == 0, err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.yaml")) == [
        "git-bundle/default.yaml",
        "git-sync/default.yaml",
        "image/default.yaml",
        "volume/default.yaml",
    ]
    assert "loaded by Airflow's PodGenerator" in err


def test_pods_should_print_only_yaml_on_stdout_and_no_airflow_chatter() -> None:
    # A separate process: what matters is that nothing but the pods reaches stdout, and that
    # what Airflow logs while it is imported does not reach stderr.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bootstrap.cli",
            "pods",
            "--dag",
            str(paths.DAGS_DIR / "smoke.py"),
            "--task",
            "with_pod_override",
        ],
        cwd=paths.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    assert done.stdout.startswith(
        "# airkube_smoke.with_pod_override (template: default)\n---\napiVersion: v1\nkind: Pod\n"
    ), done.stdout[:500]
    (pod,) = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    assert pod["metadata"]["labels"]["task_id"] == "with_pod_override"


def test_a_refused_api_call_should_read_as_object_field_reason_and_hint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from kubernetes.client.exceptions import ApiException

    from bootstrap import deploy

    refusal = ApiException(status=422, reason="Unprocessable Entity")
    refusal.body = json.dumps(
        {
            "kind": "Status",
            "message": 'Job.batch "airflow-migrate-1" is invalid: spec.template: Invalid value: '
            'core.PodTemplateSpec{Spec:core.PodSpec{Containers:[]core.Container{{Name:"m"}}}}: '
            "field is immutable",
            "details": {
                "name": "airflow-migrate-1",
                "kind": "jobs",
                "causes": [
                    {
                        "field": "spec.template",
                        "message": "Invalid value: core.PodTemplateSpec{Spec:core.PodSpec{}}: "
                        "field is immutable",
                    }
                ],
            },
        }
    )

    def refused(*_args: object, **_kwargs: object) -> bool:
        raise refusal

    class NoHelm(Context):
        def helm(self) -> Any:
            return None

    monkeypatch.setattr(deploy, "remove", refused)
    code, _, err = run(capsys, "down", "--kubeconfig", "/dev/null", context=NoHelm())
    assert code == 1
    assert err.splitlines() == [
        "airkube: error: a Kubernetes API call of `airkube down` was refused by the cluster:",
        "  Job airflow-migrate-1: spec.template: field is immutable",
        err.splitlines()[2],
    ]
    assert err.splitlines()[2].startswith("  hint: a Job's pod template cannot change in place")
    assert "PodSpec" not in err


def test_pods_should_refuse_a_pod_override_the_api_server_would_refuse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Airflow merges any V1Pod it is given, untyped; only the Pod schema sees a port by name.
    # Whatever the DAG file or Airflow's logging print while parsing goes to stderr: stdout is
    # the pods' YAML alone.
    dag_file = tmp_path / "quantity.py"
    dag_file.write_text(
        "print('parsing quantity.py')\n"
        "import pendulum\n"
        "from airflow.sdk import dag, task\n"
        "from kubernetes.client import models as k8s\n\n"
        "PORT = k8s.V1ContainerPort(container_port='http')\n"
        "OVERRIDE = k8s.V1Pod(spec=k8s.V1PodSpec(containers=[\n"
        "    k8s.V1Container(name='base', ports=[PORT])]))\n\n\n"
        '@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"))\n'
        "def sized():\n"
        "    @task(executor_config={'pod_override': OVERRIDE})\n"
        "    def greedy():\n"
        "        pass\n\n"
        "    @task\n"
        "    def modest():\n"
        "        pass\n\n"
        "    greedy() >> modest()\n\n\n"
        "sized()\n"
    )
    code, out, err = run(capsys, "pods", "--dag", str(dag_file))
    assert code == 1 and out == ""
    assert "not a valid Pod for Kubernetes 1.37.0" in err
    assert "task 'sized.greedy'" in err and "sized.modest" not in err
    assert "/spec/containers/0/ports/0/containerPort: got string, want integer" in err
    assert "parsing quantity.py" in err


def test_pod_template_should_say_it_validated_against_the_version_asked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(
        capsys, "pod-template", "--mode", "image", "--kube-version", "1.30.0", "-o", str(tmp_path)
    )
    assert code == 0, err
    assert "a valid Pod for Kubernetes 1.30.0" in err


def test_deploy_from_the_local_git_server_should_ask_for_its_image_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRKUBE_CACHE", str(tmp_path))
    code, _, err = run(capsys, "deploy", "--git-server", "dags", "--kubeconfig", "/nonexistent")
    assert code == 1
    assert "the gitserver image has not been built" in err
    assert "airkube image build --image gitserver --load" in err


def test_deploy_should_take_one_source_of_dags(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "deploy", "--git-server", "dags", "--push-dags", "dags")
    assert code == 2
    assert "not allowed with argument" in err
