"""The CPU floor from the kubelet's count of the pods cgroup (pure parts)."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap import cpufloor
from bootstrap.errors import AirkubeError


def summary(pods_cpu_ns: int, at: str, pods: dict[str, tuple[int, str]]) -> dict[str, Any]:
    """A kubelet stats summary with the pods cgroup and some pods (CPU in core-nanoseconds)."""
    return {
        "node": {
            "systemContainers": [
                {"name": "kubelet", "cpu": {"time": at, "usageCoreNanoSeconds": 1}},
                {"name": "pods", "cpu": {"time": at, "usageCoreNanoSeconds": pods_cpu_ns}},
            ]
        },
        "pods": [
            {
                "podRef": {"namespace": "bench", "name": name},
                "cpu": {"time": time, "usageCoreNanoSeconds": used},
            }
            for name, (used, time) in pods.items()
        ],
    }


def test_task_pods_should_get_the_cgroups_growth_less_the_steady_pods() -> None:
    before = cpufloor.reading(
        summary(
            100_000_000_000,
            "2026-11-21T10:00:00Z",
            {"scheduler": (50_000_000_000, "2026-11-21T10:00:00Z")},
        )
    )
    after = cpufloor.reading(
        summary(
            # 30 CPU-seconds more in all, over 100 s.
            130_000_000_000,
            "2026-11-21T10:01:40Z",
            {
                # 0.05 CPU over its own 90 s: 5 CPU-seconds over the cgroup's 100 s.
                "scheduler": (54_500_000_000, "2026-11-21T10:01:30Z"),
                # Came up in the window: its CPU is not subtracted, it is among the transient.
                "new-pod": (1_000_000_000, "2026-11-21T10:01:40Z"),
            },
        )
    )
    assert "bench/scheduler" in after.pods
    assert cpufloor.transient_cpu_seconds(before, after) == pytest.approx(25.0)


def test_a_summary_without_the_pods_cgroup_should_say_so() -> None:
    with pytest.raises(AirkubeError, match="pods cgroup"):
        cpufloor.reading({"node": {"systemContainers": []}, "pods": []})


def test_readings_out_of_order_should_be_refused() -> None:
    one = cpufloor.reading(summary(1, "2026-11-21T10:00:00Z", {}))
    with pytest.raises(AirkubeError, match="not later"):
        cpufloor.transient_cpu_seconds(one, one)
