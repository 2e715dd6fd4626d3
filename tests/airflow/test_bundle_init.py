"""The dag-processor's bundle init container (chart/files/bundle_init.py) clones with Airflow's
own GitDagBundle, configured by the airflow.cfg the chart renders, from a real repository; and
the git-mode benchmark's sample DAG is one Airflow parses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bootstrap import git, gitbench, helm, paths, podtemplates

SCRIPT = paths.CHART_DIR / "files" / "bundle_init.py"


def run_init(helm_client: helm.Helm, tmp_path: Path, repo: str) -> subprocess.CompletedProcess:
    config = tmp_path / "airflow.cfg"
    config.write_text(
        podtemplates.render_airflow_cfg(
            helm_client, {"dags": {"mode": "gitBundle", "gitBundle": {"repo": repo}}}
        )
    )
    home = tmp_path / "home"
    home.mkdir()
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        AIRFLOW_CONFIG=str(config),
        AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH=str(tmp_path / "bundles"),
    )
    return subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def repository(tmp_path: Path) -> tuple[str, str]:
    """A bare repository holding the project's DAGs; its URL and head commit."""
    bare = tmp_path / "dags.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    remote = git.Remote(url=bare.as_uri())
    return remote.url, git.publish(paths.DAGS_DIR, remote, work=tmp_path / "work", message="DAGs")


def test_a_reachable_repository_should_be_cloned_at_its_head(
    helm_client: helm.Helm, tmp_path: Path, repository: tuple[str, str]
) -> None:
    url, head = repository
    done = run_init(helm_client, tmp_path, url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"bundle dags: ready at version {head}" in done.stdout
    assert (tmp_path / "bundles" / "dags" / "tracking_repo" / "smoke.py").is_file()


def test_a_refused_clone_should_fail_with_gits_own_message(
    helm_client: helm.Helm, tmp_path: Path
) -> None:
    done = run_init(helm_client, tmp_path, (tmp_path / "missing.git").as_uri())
    assert done.returncode == 1
    assert "bundle dags: cannot be cloned" in done.stderr
    assert "does not appear to be a git repository" in done.stderr, done.stderr[-2000:]


def test_the_benchmarks_sample_dag_should_be_one_airflow_parses(tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "sample.py").write_text(gitbench.SAMPLE_DAG.format(index=7, revision=3))
    bag = DagBag(str(tmp_path))
    assert not bag.import_errors
    assert sorted(bag.dags) == ["sample_007"]
    assert len(bag.dags["sample_007"].tasks) == 3
