"""The benchmark's arithmetic and its outputs (pure parts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bootstrap import bench
from bootstrap.errors import AirkubeError


def test_percentiles_should_interpolate() -> None:
    samples = [float(n) for n in range(1, 21)]
    assert bench.percentile(samples, 0.5) == pytest.approx(10.5)
    assert bench.percentile(samples, 0.95) == pytest.approx(19.05)
    assert bench.percentile([3.0], 0.95) == 3.0
    with pytest.raises(AirkubeError):
        bench.percentile([], 0.5)


def test_latency_should_run_from_queued_to_start() -> None:
    instances = [
        {"queued_when": "2026-11-21T10:00:00Z", "start_date": "2026-11-21T10:00:02.5Z"},
        {"queued_when": "2026-11-21T10:00:00+00:00", "start_date": "2026-11-21T10:00:04+00:00"},
        {"queued_when": None, "start_date": "2026-11-21T10:00:04Z"},
    ]
    assert bench.task_latencies(instances) == [2.5, 4.0]


def test_results_should_be_written_as_json_and_png(tmp_path: Path) -> None:
    results = bench.Results(
        measured_at="2026-11-21T10:00:00+00:00",
        kubernetes_version="v1.37.0",
        image={"size_bytes": 563_000_000, "cold_build_seconds": 90.0, "warm_build_seconds": 0.8},
        install_to_ready_seconds=104.0,
        queued_to_running_seconds={"p50": 3.2, "p95": 6.1, "samples": 20},
        parallel_dag_wall_seconds=61.0,
        parallel_tasks=20,
        peak_memory_bytes=4 * 1024**3,
    )
    json_path, png_path = bench.write(results, tmp_path)
    assert json.loads(json_path.read_text())["queued_to_running_seconds"]["p95"] == 6.1
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = bench.markdown_table(results)
    assert (
        "| task queued → running, p50 / p95 (20 tasks started together) | 3.2 s / 6.1 s |" in table
    )
    assert "4.00 GiB (target ≤ 6 GiB)" in table
