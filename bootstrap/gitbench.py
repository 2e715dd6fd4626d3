"""What each DAG mode that fetches from git adds to a task pod's start, against image mode.

A repository of realistic size is published to the local git server: the project's DAGs, plus
SAMPLE_FILES generated DAG files over SAMPLE_COMMITS commits (``.airflowignore`` keeps the
generated ones from the parser, so parsing load does not blur the figures; they still weigh on
every clone). A benchmark release runs the sequential no-op DAG in image mode, then is switched
by upgrade to gitSync and to gitBundle, on the same Airflow image. Per task: queued to done.
A git mode's median minus image mode's is what it adds to every task start: git-sync clones the
repository in an init container before the task; a GitDagBundle clones it and checks out the
run's commit in the task runner.
"""

from __future__ import annotations

import datetime
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bootstrap import bench, deploy, gitserver, helm, images, kube, paths, smoke, values
from bootstrap.airflow_api import AirflowApi, ApiError, quote
from bootstrap.errors import AirkubeError
from bootstrap.release import Release, Target

SAMPLE_FILES = 200
SAMPLE_COMMITS = 50
SEQUENTIAL_DAG = "airkube_bench_sequential"
RUNS_PER_MODE = 2
MODES = ("image", "gitSync", "gitBundle")
GENERATED = "generated"
# The bundle Airflow makes of the DAG folder in the other modes.
DAGS_FOLDER_BUNDLE = "dags-folder"
# A DAG file of the size teams write: a docstring, defaults, a few tasks and their wiring.
SAMPLE_DAG = '''"""Sample pipeline {index}: extract, transform, load (revision {revision})."""

from __future__ import annotations

import datetime

import pendulum
from airflow.sdk import dag, task

SOURCE = "source_{index:03d}"
REVISION = {revision}
DEFAULT_ARGS = {{
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": datetime.timedelta(minutes=5),
}}


@dag(
    dag_id="sample_{index:03d}",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["sample", SOURCE],
)
def sample_{index:03d}() -> None:
    @task
    def extract() -> list[dict[str, int]]:
        """Read the day's rows of the source."""
        return [{{"id": row, "value": row * REVISION}} for row in range(100)]

    @task
    def transform(rows: list[dict[str, int]]) -> list[dict[str, int]]:
        """Keep the rows worth loading and mark them."""
        return [{{**row, "kept": 1}} for row in rows if row["value"] % 3 == 0]

    @task
    def load(rows: list[dict[str, int]]) -> int:
        """Write the rows to the warehouse; how many were written."""
        return len(rows)

    load(transform(extract()))


sample_{index:03d}()
'''


def sample_snapshots(
    folder: Path, *, commits: int = SAMPLE_COMMITS, files: int = SAMPLE_FILES
) -> Iterator[tuple[Path, str]]:
    """The sample repository's history, one snapshot per commit, all written into ``folder``.

    Every commit holds the project's DAGs and ``files`` generated DAG files; the first writes
    them all, each later one rewrites its share, so every file changes once after it was
    written."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(paths.DAGS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / ".airflowignore").write_text(f"{GENERATED}/\n")
    generated = folder / GENERATED
    generated.mkdir()
    for commit in range(commits):
        for index in range(files):
            if commit == 0 or index % max(commits - 1, 1) + 1 == commit:
                text = SAMPLE_DAG.format(index=index, revision=commit)
                (generated / f"sample_{index:03d}.py").write_text(text)
        yield folder, f"Sample DAGs, revision {commit}"


def bundle_of(api: AirflowApi, dag_id: str) -> str | None:
    """The DAG bundle Airflow last parsed ``dag_id`` from; None while it knows no such DAG."""
    try:
        return api.get(f"/api/v2/dags/{quote(dag_id)}").get("bundle_name")
    except ApiError as error:
        if error.status == 404:
            return None
        raise


def task_start_seconds(instances: list[dict[str, Any]]) -> list[float]:
    """Seconds from queued to done, per task instance that has both times."""
    found = [bench.seconds_between(ti.get("queued_when"), ti.get("end_date")) for ti in instances]
    return [value for value in found if value is not None]


def summarize(seconds_by_mode: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Per mode: the median and 95th percentile of a task's queued-to-done seconds, and what
    the mode adds to image mode's median."""
    baseline = bench.percentile(seconds_by_mode["image"], 0.5)
    summary = {}
    for mode, samples in seconds_by_mode.items():
        median = bench.percentile(samples, 0.5)
        summary[mode] = {
            "p50": round(median, 2),
            "p95": round(bench.percentile(samples, 0.95), 2),
            "samples": len(samples),
            "extra_p50": round(median - baseline, 2),
        }
    return summary


def run_sequential(api: AirflowApi, bundle: str, timeout: datetime.timedelta) -> list[float]:
    """Once the sequential DAG is parsed from ``bundle``, run it RUNS_PER_MODE times; every
    task's seconds. (A run made before the dag-processor moved the DAG to a switched mode's
    bundle would look for the previous one.)"""
    deadline = time.monotonic() + timeout.total_seconds()
    while bundle_of(api, SEQUENTIAL_DAG) != bundle:
        if time.monotonic() > deadline:
            raise AirkubeError(f"{SEQUENTIAL_DAG} was not parsed from bundle {bundle} in {timeout}")
        time.sleep(2)
    seconds: list[float] = []
    for _ in range(RUNS_PER_MODE):
        result = smoke.run_dag(api, SEQUENTIAL_DAG, timeout=timeout)
        if not result.succeeded:
            raise AirkubeError(f"{SEQUENTIAL_DAG} run {result.run_id} ended {result.state}")
        run = f"/api/v2/dags/{quote(SEQUENTIAL_DAG)}/dagRuns/{quote(result.run_id)}"
        seconds += task_start_seconds(api.get(f"{run}/taskInstances")["task_instances"])
    return seconds


def measure(
    client: helm.Helm,
    *,
    kubeconfig: Path | None,
    namespace: str = "airkube-bench",
    on_event: Callable[[str], None] = lambda text: None,
) -> dict[str, Any]:
    """Publish the sample repository, run the release in each mode; the summary and the
    repository's shape. The release is installed fresh and removed after."""
    on_event("images: Airflow with the git provider and the DAGs, git-sync, the git server")
    built = {
        image.name: image.reference
        for image in images.build_images(
            ["airflow"],
            images.BuildOptions(dags_dir=paths.DAGS_DIR, providers=("git",), record=False),
        )
        + images.build_images(["git-sync", "gitserver"], images.BuildOptions(record=False))
    }
    postgres = images.built_images().get("postgres")
    images.load_into_cluster([*built.values(), *([postgres] if postgres else [])])

    on_event(f"repository: {SAMPLE_FILES} generated DAG files over {SAMPLE_COMMITS} commits")
    server = gitserver.install(client, built["gitserver"], kubeconfig=kubeconfig)
    folder = paths.cache_dir() / "bench" / "sample-repository"
    server.publish_history(sample_snapshots(folder), gitserver.REPOSITORY, kubeconfig=kubeconfig)

    target = Target(name="bench-git", namespace=namespace, kubeconfig=kubeconfig)
    settings = deploy.DeploySettings(target=target)
    clients = kube.clients(kubeconfig)
    deploy.remove(client, settings)
    base = values.merge(
        values.load_file(paths.VALUES_DIR / "local.yaml"),
        deploy.image_values({**images.built_images(), **built}),
    )
    by_mode = {
        "image": {"dags": {"mode": "image"}},
        **{
            mode: gitserver.release_values(server, clients, namespace, mode=mode)
            for mode in MODES[1:]
        },
    }
    seconds: dict[str, list[float]] = {}
    try:
        for mode in MODES:
            on_event(f"{mode}: deploy, then {RUNS_PER_MODE} runs of {SEQUENTIAL_DAG}")
            deploy.deploy(client, values.merge(base, by_mode[mode]), settings)
            with Release.open(client, target, clients=clients).connected_api() as api:
                bundle = "dags" if mode == "gitBundle" else DAGS_FOLDER_BUNDLE
                seconds[mode] = run_sequential(api, bundle, datetime.timedelta(minutes=10))
    finally:
        on_event("cleanup: removing the benchmark release")
        deploy.remove(client, settings)
    return {
        "repository": {"generated_dag_files": SAMPLE_FILES, "commits": SAMPLE_COMMITS},
        "task_queued_to_done_seconds": summarize(seconds),
    }


def markdown_table(results: dict[str, Any]) -> str:
    """The README's table: per mode, a no-op task's queued-to-done seconds and the extra."""
    shape = results["repository"]
    lines = [
        f"| DAG mode ({shape['generated_dag_files']} extra DAG files, {shape['commits']} commits)"
        " | task queued → done, p50 / p95 | added to each task start (p50) |",
        "|---|---|---|",
    ]
    for mode, figures in results["task_queued_to_done_seconds"].items():
        extra = "baseline" if mode == "image" else f"{figures['extra_p50']:+.1f} s"
        lines.append(f"| {mode} | {figures['p50']:.1f} s / {figures['p95']:.1f} s | {extra} |")
    return "\n".join(lines)
