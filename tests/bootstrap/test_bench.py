"""The benchmark's arithmetic and its outputs (pure parts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bootstrap import bench, taskstages
from bootstrap.errors import AirkubeError


def test_percentiles_should_interpolate() -> None:
    samples = [float(n) for n in range(1, 21)]
    assert bench.percentile(samples, 0.5) == pytest.approx(10.5)
    assert bench.percentile(samples, 0.95) == pytest.approx(19.05)
    assert bench.percentile([3.0], 0.95) == 3.0
    with pytest.raises(AirkubeError):
        bench.percentile([], 0.5)


def test_seconds_between_should_read_both_of_airflows_time_formats() -> None:
    assert bench.seconds_between("2026-11-21T10:00:00Z", "2026-11-21T10:00:02.5Z") == 2.5
    assert bench.seconds_between("2026-11-21T10:00:00+00:00", "2026-11-21T10:00:04+00:00") == 4
    assert bench.seconds_between(None, "2026-11-21T10:00:04Z") is None


def burst_instance(index: int, queued: str, ended: str) -> dict[str, Any]:
    return {
        "dag_id": bench.BURST_DAG,
        "task_id": bench.BURST_TASK,
        "dag_run_id": "manual__1",
        "map_index": index,
        "try_number": 1,
        "queued_when": queued,
        "end_date": ended,
    }


def test_the_burst_should_be_timed_from_first_queued_to_last_ended_against_the_floor() -> None:
    run = bench.DagRun(
        bench.BURST_DAG,
        "manual__1",
        [
            # The task that maps the burst is not part of it.
            {"task_id": "indexes", "queued_when": "2026-11-21T09:59:00Z", "end_date": None},
            burst_instance(0, "2026-11-21T10:00:00Z", "2026-11-21T10:00:20Z"),
            burst_instance(1, "2026-11-21T10:00:01Z", "2026-11-21T10:00:30Z"),
        ],
    )
    figures = bench.burst_figures(run, [], floor_cpu_seconds=3.0, cores=2)
    assert figures["tasks"] == 2
    assert figures["wall_seconds"] == 30.0
    assert figures["floor_seconds"] == 3.0
    assert figures["wall_over_floor"] == 10.0
    assert figures["throughput_tasks_per_minute"] == 4.0


def test_a_burst_without_its_times_should_be_refused() -> None:
    run = bench.DagRun(bench.BURST_DAG, "r", [burst_instance(0, "2026-11-21T10:00:00Z", "")])
    with pytest.raises(AirkubeError, match="lacks queued or end times"):
        bench.burst_figures(run, [], floor_cpu_seconds=3.0, cores=2)


def sample_results() -> bench.Results:
    stages = {stage: {"p50": 1.0 + n, "p95": 2.0 + n} for n, stage in enumerate(taskstages.STAGES)}
    stages[taskstages.QUEUED_TO_RUNNING] = {"p50": 3.2, "p95": 6.1}
    return bench.Results(
        measured_at="2026-11-21T10:00:00+00:00",
        machine={"cpus": 2, "cpu_model": "test", "memory_bytes": 8 * 1024**3},
        kubernetes_version="v1.37.0",
        image={"size_bytes": 563_000_000, "cold_build_seconds": 90.0, "warm_build_seconds": 0.8},
        images={"airflow": 563_000_000, "postgres": 370_000_000},
        install_to_ready_seconds=104.0,
        single={
            "tasks": 10,
            "queued_to_running": stages[taskstages.QUEUED_TO_RUNNING],
            "stages": stages,
        },
        burst={
            "tasks": 20,
            "wall_seconds": 57.5,
            "floor_seconds": 25.0,
            "wall_over_floor": 2.3,
            "throughput_tasks_per_minute": 20.9,
            "scheduler_peak_memory_bytes": 300 * 1024**2,
            "queued_to_running": {"p50": 36.7, "p95": 37.5},
            "stages": stages,
        },
        per_task_cpu_seconds={"mean": 2.5, "tasks": 10, "window_seconds": 80.0},
        breakdown={
            "single": {stage: 1.0 for stage in taskstages.STAGES},
            "burst": {stage: 5.0 for stage in taskstages.STAGES},
        },
        peak_memory_bytes=4 * 1024**3,
    )


def test_results_should_be_written_as_json_and_png(tmp_path: Path) -> None:
    results = sample_results()
    json_path, png_path = bench.write(results, tmp_path)
    written = json.loads(json_path.read_text())
    assert written["single"]["queued_to_running"]["p50"] == 3.2
    assert written["burst"]["wall_over_floor"] == 2.3
    assert list(written["breakdown"]["single"]) == list(taskstages.STAGES)
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_table_should_say_what_each_figure_is() -> None:
    table = bench.markdown_table(sample_results())
    assert (
        "| one task alone, queued → running, p50 / p95 (10 tasks, one after another) "
        "| 3.2 s / 6.1 s |" in table
    )
    assert "|   stage scheduled → container started, p50 / p95 | 3.0 s / 4.0 s |" in table
    assert (
        "| CPU one no-op task pod consumes (the floor; mean of the single tasks) "
        "| 2.50 CPU-seconds |" in table
    )
    assert "| 58 s / 25 s = 2.30 |" in table
    assert "| postgres image size | 370 MB |" in table
    assert "| scheduler's peak memory during the burst | 300 MiB |" in table
    assert "4.00 GiB (target ≤ 6 GiB)" in table
