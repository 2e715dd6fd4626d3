"""The idle measurement's arithmetic, on kubelet stats summaries shaped as the kubelet sends."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap import bench, idle
from bootstrap.errors import AirkubeError


def summary(namespace: str, pods: dict[str, tuple[int, str, int]]) -> dict[str, Any]:
    """A stats summary: pod name -> (cumulative CPU ns, reading time, working set bytes)."""
    return {
        "node": {"nodeName": "airkube"},
        "pods": [
            {
                "podRef": {"name": name, "namespace": namespace, "uid": name},
                "cpu": {"time": stamp, "usageNanoCores": 1, "usageCoreNanoSeconds": used},
                "memory": {"time": stamp, "workingSetBytes": memory},
            }
            for name, (used, stamp, memory) in pods.items()
        ],
    }


START, END = "2026-11-22T10:00:00Z", "2026-11-22T10:02:00Z"  # 120 s apart


def test_cpu_should_be_the_counter_difference_over_the_window() -> None:
    before = idle.pod_samples(
        summary(
            "airflow",
            {
                "scheduler-a": (10_000_000_000, START, 1),
                "api-server-a": (5_000_000_000, START, 1),
                "restarted": (90_000_000_000, START, 1),
            },
        ),
        "airflow",
    )
    after = idle.pod_samples(
        summary(
            "airflow",
            {
                # 3.6 CPU-seconds in 120 s: 30 mCPU.
                "scheduler-a": (13_600_000_000, END, 300_000_000),
                "api-server-a": (5_360_000_000, END, 200_000_000),
                "restarted": (1_000_000_000, END, 1),  # counter reset: left out
                "new-pod": (1_000_000_000, END, 1),  # not in the first sample: left out
            },
        ),
        "airflow",
    )
    components = {
        "scheduler-a": "scheduler",
        "api-server-a": "api-server",
        "restarted": "triggerer",
        "new-pod": "dag-processor",
    }
    usage = idle.usage_by_component(before, after, components)
    assert usage == {
        "api-server": idle.ComponentUsage(millicores=3.0, memory_bytes=200_000_000),
        "scheduler": idle.ComponentUsage(millicores=30.0, memory_bytes=300_000_000),
    }


def test_pods_of_other_namespaces_and_without_cpu_figures_should_be_ignored() -> None:
    data = summary("airflow", {"scheduler-a": (1, START, 1)})
    data["pods"].append({"podRef": {"name": "x", "namespace": "kube-system"}, "cpu": {}})
    data["pods"].append({"podRef": {"name": "starting", "namespace": "airflow"}})
    assert set(idle.pod_samples(data, "airflow")) == {"scheduler-a"}


def test_two_pods_of_one_component_should_add_up() -> None:
    before = idle.pod_samples(summary("a", {"s1": (0, START, 1), "s2": (0, START, 1)}), "a")
    after = idle.pod_samples(
        summary("a", {"s1": (1_200_000_000, END, 10), "s2": (2_400_000_000, END, 20)}), "a"
    )
    usage = idle.usage_by_component(before, after, {"s1": "scheduler", "s2": "scheduler"})
    assert usage["scheduler"].millicores == pytest.approx(30.0)
    assert usage["scheduler"].memory_bytes == 30


def test_bench_should_report_the_control_plane_without_task_pods() -> None:
    figures = bench.idle_figures(
        {
            "scheduler": idle.ComponentUsage(33.0, 400),
            "triggerer": idle.ComponentUsage(20.4, 300),
            "worker": idle.ComponentUsage(500.0, 900),
        }
    )
    assert figures["control_plane_millicores"] == 53.4
    assert figures["control_plane_memory_bytes"] == 700
    assert set(figures["components"]) == {"scheduler", "triggerer"}
    results = bench.Results(measured_at="2026-11-22T10:00:00+00:00", idle=figures)
    table = bench.markdown_table(results)
    assert (
        "| idle, no task running, over 120 s: release CPU | 53 mCPU (scheduler 33, triggerer 20) |"
        in table
    )


def test_bench_should_refuse_an_idle_window_with_nothing_measured() -> None:
    with pytest.raises(AirkubeError, match="no component pod"):
        bench.idle_figures({"worker": idle.ComponentUsage(5.0, 1)})
