"""The Docker wrapper: argv it builds, and how it finds, installs and starts the engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from bootstrap.docker import (
    DOCKER_IO_VERSION,
    DockerClient,
    Engine,
    dockerd_argv,
)
from bootstrap.errors import AirkubeError
from bootstrap.process import Completed
from tests.fakes import RecordingRunner


class ScriptedRunner(RecordingRunner):
    """Answers each command from (argv prefix, returncode, stdout) rules; anything else succeeds."""

    def __init__(
        self, rules: Sequence[tuple[Sequence[str], int, str]] = (), stderr: str = ""
    ) -> None:
        super().__init__()
        self.rules = [(tuple(prefix), code, out) for prefix, code, out in rules]
        self.stderr = stderr

    def answer(self, argv: list[str], env: Mapping[str, str]) -> Completed:
        code, out = next(
            ((c, o) for prefix, c, o in self.rules if tuple(argv[: len(prefix)]) == prefix),
            (0, ""),
        )
        return Completed(tuple(argv), code, out, self.stderr if code else "")


def which_from(found: Mapping[str, str]):  # type: ignore[no-untyped-def]
    return lambda name: found.get(name)


class TestDockerClient:
    def test_should_build_with_sorted_args_labels_and_classic_builder(self, tmp_path: Path):
        runner = ScriptedRunner()
        DockerClient(runner=runner).build(
            tmp_path,
            tag="airkube/airflow:3.3.2-abc",
            build_args={"UV_VERSION": "1", "BASE_IMAGE": "base:1"},
            labels={"b": "2", "a": "1"},
        )
        assert runner.calls == [
            [
                "docker",
                "build",
                "--tag",
                "airkube/airflow:3.3.2-abc",
                "--build-arg",
                "BASE_IMAGE=base:1",
                "--build-arg",
                "UV_VERSION=1",
                "--label",
                "a=1",
                "--label",
                "b=2",
                "--rm",
                "--force-rm",
                str(tmp_path),
            ]
        ]
        env = runner.envs[0]
        assert env is not None and env["DOCKER_BUILDKIT"] == "0"

    def test_should_report_a_missing_image_as_none(self):
        runner = ScriptedRunner([(("docker", "image", "inspect"), 1, "")])
        assert DockerClient(runner=runner).image_id("nope:1") is None

    def test_should_read_the_image_size_in_bytes(self):
        runner = ScriptedRunner([(("docker", "image", "inspect"), 0, "123456\n")])
        assert DockerClient(runner=runner).image_size("x:1") == 123456
        assert runner.calls[0] == ["docker", "image", "inspect", "--format", "{{.Size}}", "x:1"]

    def test_should_treat_a_failed_pull_as_unavailable_not_as_an_error(self):
        runner = ScriptedRunner([(("docker", "pull"), 1, "")])
        assert DockerClient(runner=runner).pull("python:3.12-slim-bookworm") is False

    def test_should_run_without_network_and_pass_args_after_the_image(self):
        runner = ScriptedRunner()
        DockerClient(runner=runner).run("img:1", ["echo", "a b", "c"], user="50000")
        assert runner.calls[0] == [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--user",
            "50000",
            "img:1",
            "echo",
            "a b",
            "c",
        ]

    def test_should_import_with_changes_and_return_the_new_id(self, tmp_path: Path):
        runner = ScriptedRunner([(("docker", "image", "inspect"), 0, "sha256:abc\n")])
        image = DockerClient(runner=runner).import_rootfs(
            tmp_path / "root.tar", "base:1", changes=["ENV LANG=C.UTF-8"]
        )
        assert image == "sha256:abc"
        assert runner.calls[0] == [
            "docker",
            "import",
            "--change",
            "ENV LANG=C.UTF-8",
            str(tmp_path / "root.tar"),
            "base:1",
        ]

    def test_should_leave_no_partial_archive_when_save_fails(self, tmp_path: Path):
        runner = ScriptedRunner([(("docker", "save"), 1, "")])
        output = tmp_path / "image.tar"
        with pytest.raises(AirkubeError):
            DockerClient(runner=runner).save(["img:1"], output)
        assert list(tmp_path.iterdir()) == []


class TestEngine:
    def test_should_reuse_an_engine_that_answers(self, tmp_path: Path):
        runner = ScriptedRunner([(("/usr/bin/docker", "version"), 0, "20.10.24\n")])
        started: list[Sequence[str]] = []
        engine = Engine(
            runner=runner,
            which=which_from({"docker": "/usr/bin/docker", "dockerd": "/usr/sbin/dockerd"}),
            start_daemon=lambda argv, log: started.append(argv) or 1,
            prepare_host=lambda: None,
            is_root=lambda: True,
            state_dir=tmp_path,
        )
        info = engine.ensure()
        assert info.server_version == "20.10.24"
        assert not info.started_by_us
        assert started == []

    def test_should_start_dockerd_with_its_state_in_the_cache_and_wait(self, tmp_path: Path):
        answers = iter([1, 1, 1, 0])
        calls: list[list[str]] = []

        def runner(argv: Sequence[str], **_: object) -> Completed:
            calls.append(list(argv))
            code = next(answers)
            return Completed(tuple(argv), code, "20.10.24\n" if code == 0 else "", "")

        started: list[Sequence[str]] = []
        engine = Engine(
            runner=runner,
            which=which_from({"docker": "/usr/bin/docker", "dockerd": "/usr/sbin/dockerd"}),
            start_daemon=lambda argv, log: started.append(argv) or 1,
            prepare_host=lambda: None,
            is_root=lambda: True,
            state_dir=tmp_path,
            sleep=lambda _: None,
        )
        info = engine.ensure()
        assert info.started_by_us
        assert started == [dockerd_argv("/usr/sbin/dockerd", tmp_path)]
        assert ["--data-root", str(tmp_path / "data")] == started[0][1:3]

    def test_should_install_the_pinned_docker_io_when_missing(self, tmp_path: Path):
        found: dict[str, str] = {}
        installed: list[Mapping[str, str]] = []

        def install(pins: Mapping[str, str]) -> None:
            installed.append(pins)
            found.update(docker="/usr/bin/docker", dockerd="/usr/sbin/dockerd")

        runner = ScriptedRunner([(("/usr/bin/docker", "version"), 0, "20.10.24\n")])
        engine = Engine(
            runner=runner,
            which=lambda name: found.get(name),
            start_daemon=lambda argv, log: 1,
            prepare_host=lambda: None,
            is_root=lambda: True,
            install=install,
            state_dir=tmp_path,
        )
        engine.ensure()
        assert installed == [{"docker.io": DOCKER_IO_VERSION}]

    def test_should_fail_in_one_line_naming_the_fix_when_docker_is_missing(self, tmp_path: Path):
        engine = Engine(runner=ScriptedRunner(), which=which_from({}), state_dir=tmp_path)
        with pytest.raises(AirkubeError) as caught:
            engine.ensure(allow_install=False)
        message = str(caught.value)
        assert "\n" not in message
        assert "no Docker engine is installed" in message
        assert "apt-get install docker.io" in message

    def test_should_name_the_install_fix_when_the_client_is_missing(self, tmp_path: Path):
        with pytest.raises(AirkubeError) as caught:
            Engine(which=which_from({}), state_dir=tmp_path).client()
        assert str(caught.value).startswith("'docker' was not found on PATH (install Docker")

    def test_should_fail_with_the_daemon_log_when_it_never_answers(self, tmp_path: Path):
        (tmp_path / "dockerd.log").write_text("starting\nfailed to start daemon: boom\n")
        now = iter(range(1000))
        engine = Engine(
            runner=ScriptedRunner([(("/usr/bin/docker", "version"), 1, "")]),
            which=which_from({"docker": "/usr/bin/docker", "dockerd": "/usr/sbin/dockerd"}),
            start_daemon=lambda argv, log: 1,
            prepare_host=lambda: None,
            is_root=lambda: True,
            state_dir=tmp_path,
            timeout=5,
            sleep=lambda _: None,
            clock=lambda: float(next(now)),
        )
        with pytest.raises(AirkubeError) as caught:
            engine.ensure()
        assert "did not answer within 5s" in str(caught.value)
        assert "failed to start daemon: boom" in str(caught.value)

    def test_should_say_so_when_the_socket_refuses_the_user(self, tmp_path: Path):
        runner = ScriptedRunner(
            [(("/usr/bin/docker", "version"), 1, "")],
            stderr="permission denied while trying to connect to the Docker daemon socket",
        )
        engine = Engine(
            runner=runner, which=which_from({"docker": "/usr/bin/docker"}), state_dir=tmp_path
        )
        with pytest.raises(AirkubeError, match=r"socket refuses this user.*'docker' group"):
            engine.ensure()

    def test_should_not_try_to_start_dockerd_without_root(self, tmp_path: Path):
        started: list[Sequence[str]] = []
        engine = Engine(
            runner=ScriptedRunner([(("/usr/bin/docker", "version"), 1, "")]),
            which=which_from({"docker": "/usr/bin/docker", "dockerd": "/usr/sbin/dockerd"}),
            start_daemon=lambda argv, log: started.append(argv) or 1,
            state_dir=tmp_path,
            is_root=lambda: False,
        )
        with pytest.raises(AirkubeError, match="starting one needs root"):
            engine.ensure()
        assert started == []
