"""okteto.yml: its structure, and that it deploys with the very make targets `make up` runs."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import yaml

from bootstrap import paths

MANIFEST: dict[str, Any] = yaml.safe_load((paths.REPO_ROOT / "okteto.yml").read_text())
SECTIONS = {"name", "icon", "build", "deploy", "dependencies", "destroy", "dev", "external", "test"}


def make_targets(command: str) -> list[str]:
    """The targets of a `make ...` command line (its words that are not VAR=value)."""
    words = shlex.split(command)
    assert words[0] == "make", f"not a make command: {command}"
    return [word for word in words[1:] if "=" not in word and not word.startswith("-")]


def up_targets() -> list[str]:
    """The targets the Makefile's `up` recipe runs through $(MAKE)."""
    text = (paths.REPO_ROOT / "Makefile").read_text()
    recipe = re.search(r"^up:.*?\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert recipe, "the Makefile has no up target"
    targets: list[str] = []
    for line in recipe.group(1).splitlines():
        if "$(MAKE)" in line:
            targets += make_targets(
                line.strip().replace("$(MAKE)", "make").split(" KUBECONFIG=")[0]
            )
    return targets


def test_manifest_should_use_only_okteto_sections() -> None:
    assert set(MANIFEST) <= SECTIONS, f"unknown sections: {set(MANIFEST) - SECTIONS}"
    assert {"build", "deploy", "dev", "destroy"} <= set(MANIFEST)


def test_build_should_point_at_the_image_sources() -> None:
    airflow = MANIFEST["build"]["airflow"]
    context = paths.REPO_ROOT / airflow["context"]
    assert (context / airflow.get("dockerfile", "Dockerfile")).is_file()
    assert context == paths.DOCKER_DIR


def test_every_command_should_be_named_and_a_make_target() -> None:
    for section in ("deploy", "destroy"):
        for step in MANIFEST[section]["commands"]:
            assert step["name"] and step["command"], step
            assert make_targets(step["command"]), step


def test_deploy_should_run_the_same_targets_as_make_up() -> None:
    okteto = [t for step in MANIFEST["deploy"]["commands"] for t in make_targets(step["command"])]
    up = up_targets()
    # Okteto builds the image itself (build section) on its own cluster; the rest is shared.
    shared = [t for t in up if t not in ("cluster-up", "image")]
    assert [t for t in okteto if t != "setup"] == shared, (
        f"okteto deploys {okteto}, make up runs {up}"
    )


def test_deploy_command_should_expand_to_the_okteto_values(tmp_path: Path) -> None:
    step = next(s for s in MANIFEST["deploy"]["commands"] if "deploy" in make_targets(s["command"]))
    words = shlex.split(
        step["command"].replace(
            "${OKTETO_BUILD_AIRFLOW_IMAGE}", "registry.example/airflow:okteto-1"
        )
    )
    dry = subprocess.run(
        [*words, "-n", "-o", ".venv/.airkube-setup"],
        cwd=paths.REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in dry.splitlines() if "airkube deploy" in line)
    assert "-f values/okteto.yaml" in line
    assert "--set dags.mode=volume" in line
    assert "--airflow-image registry.example/airflow:okteto-1" in line
    assert "--push-dags dags" in line
    assert (paths.VALUES_DIR / "okteto.yaml").is_file()


def test_dev_should_sync_dags_into_the_dag_processor(render) -> None:
    ((name, container),) = MANIFEST["dev"].items()
    objects = render(files=[paths.VALUES_DIR / "okteto.yaml"])
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    assert name in deployments, f"dev container {name} is not a Deployment the chart renders"
    spec = deployments[name]["spec"]["template"]["spec"]
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "dags")
    local, remote = container["sync"][0].split(":")
    assert (paths.REPO_ROOT / local).resolve() == paths.DAGS_DIR
    assert remote == mount["mountPath"]
    assert container["command"] == spec["containers"][0]["args"], (
        "okteto up keeps the component running"
    )
