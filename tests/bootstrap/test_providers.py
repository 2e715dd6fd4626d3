"""Remote task logs and git bundles need their provider in the images: deploy checks before
helm runs.

The releases are rendered by the real chart. The image is stood in for by this interpreter: the
listing script really runs, against the providers installed here (no Amazon provider among them).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from bootstrap import helm, providers
from bootstrap.docker import DockerClient
from bootstrap.errors import AirkubeError
from bootstrap.process import Completed
from bootstrap.release import Release, Target
from tests.fakes import RecordingRunner

S3_LOGS = {"logs": {"remote": {"enabled": True, "baseFolder": "s3://logs/airflow", "connId": "s3"}}}
IMAGE_ID = "sha256:" + "ab" * 32


class ImageHere(RecordingRunner):
    """A Docker engine holding every image, each answering with this interpreter's providers."""

    def __init__(self, present: bool = True) -> None:
        super().__init__()
        self.present = present

    def answer(self, argv: list[str], env: Mapping[str, str]) -> Completed:
        if argv[1:3] == ["image", "inspect"]:
            return Completed(
                tuple(argv), 0 if self.present else 1, IMAGE_ID if self.present else "", ""
            )
        assert argv[1:2] == ["run"] and "--entrypoint" in argv, argv
        script = argv[-1]
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        return Completed(tuple(argv), 0, done.stdout, "")


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRKUBE_CACHE", str(tmp_path))


def planned(helm_client: helm.Helm, overrides: dict) -> Release:
    return Release.from_render(helm_client, overrides, Target())


def test_s3_logs_on_an_image_without_the_amazon_provider_should_be_refused(
    helm_client: helm.Helm,
) -> None:
    runner = ImageHere()
    with pytest.raises(AirkubeError) as caught:
        providers.require_providers(planned(helm_client, S3_LOGS), DockerClient(runner))
    message = str(caught.value)
    assert (
        "logs.remote.baseFolder s3://logs/airflow needs apache-airflow-providers-amazon" in message
    )
    assert "the image of the components" in message
    assert caught.value.hint.startswith(
        "build the image with it: airkube image build --provider amazon"
    )


def test_an_image_with_the_provider_should_pass_and_be_asked_once(
    helm_client: helm.Helm, tmp_path: Path
) -> None:
    runner = ImageHere()
    release = planned(helm_client, S3_LOGS)
    record = tmp_path / "images" / "providers" / f"{'ab' * 32}.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps(["apache-airflow-providers-amazon"]))
    providers.require_providers(release, DockerClient(runner))
    assert not [call for call in runner.calls if call[1] == "run"]


def test_the_listing_should_be_what_the_image_holds_and_be_remembered(tmp_path: Path) -> None:
    runner = ImageHere()
    found = providers.image_providers("airkube/airflow:x", DockerClient(runner))
    assert found is not None and "apache-airflow-providers-cncf-kubernetes" in found
    assert "apache-airflow-providers-amazon" not in found
    assert providers.image_providers("airkube/airflow:x", DockerClient(runner)) == found
    assert len([call for call in runner.calls if call[1] == "run"]) == 1


def test_an_image_the_engine_lacks_should_be_named_as_not_checked(
    helm_client: helm.Helm, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        providers.require_providers(
            planned(helm_client, S3_LOGS), DockerClient(ImageHere(present=False))
        )
    assert "not checked" in caplog.text and "apache-airflow-providers-amazon" in caplog.text


def test_without_remote_logs_no_image_should_be_asked(helm_client: helm.Helm) -> None:
    runner = ImageHere()
    providers.require_providers(planned(helm_client, {}), DockerClient(runner))
    assert runner.calls == []


def test_a_git_bundle_on_an_image_without_the_git_provider_should_be_refused(
    helm_client: helm.Helm, tmp_path: Path
) -> None:
    record = tmp_path / "images" / "providers" / f"{'ab' * 32}.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps(["apache-airflow-providers-cncf-kubernetes"]))
    bundle = {"dags": {"mode": "gitBundle", "gitBundle": {"repo": "https://git.example.org/d"}}}
    with pytest.raises(AirkubeError) as caught:
        providers.require_providers(planned(helm_client, bundle), DockerClient(ImageHere()))
    assert "dags.mode=gitBundle needs apache-airflow-providers-git" in str(caught.value)
    assert "no DAG would be parsed" in str(caught.value)
    assert "airkube image build --provider git" in caught.value.hint
