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


def at(seconds: int) -> str:
    return f"2026-11-21T10:{seconds // 60:02d}:{seconds % 60:02d}Z"


def test_idle_rates_should_come_from_pods_sampled_anew() -> None:
    first = cpufloor.reading(summary(0, at(0), {"a": (0, at(0)), "b": (0, at(0))}))
    second = cpufloor.reading(summary(0, at(20), {"a": (2_000_000_000, at(10)), "b": (5, at(0))}))
    assert cpufloor.rates(first, second) == {"bench/a": 0.2}


def test_task_pods_should_get_the_cgroups_growth_less_the_steady_pods() -> None:
    # The cgroup is read at 0 s and 100 s; the scheduler, idle at 0.05 cores, at 5 s and 90 s.
    before = cpufloor.reading(
        summary(100_000_000_000, at(0), {"scheduler": (50_000_000_000, at(5))})
    )
    after = cpufloor.reading(
        summary(
            # 30 CPU-seconds more in all.
            130_000_000_000,
            at(100),
            {
                # 4 CPU-seconds counted between its own readings, and 0.05 x (10 - -5) more:
                # 4.75 of the 30 are the scheduler's.
                "scheduler": (54_000_000_000, at(90)),
                # Came up in the window: its CPU is among the transient.
                "new-pod": (1_000_000_000, at(100)),
            },
        )
    )
    transient = cpufloor.transient_cpu_seconds(before, after, {"bench/scheduler": 0.05})
    assert transient == pytest.approx(25.25)


def test_a_summary_without_the_pods_cgroup_should_say_so() -> None:
    with pytest.raises(AirkubeError, match="pods cgroup"):
        cpufloor.reading({"node": {"systemContainers": []}, "pods": []})


def test_readings_out_of_order_should_be_refused() -> None:
    one = cpufloor.reading(summary(1, "2026-11-21T10:00:00Z", {}))
    with pytest.raises(AirkubeError, match="not later"):
        cpufloor.transient_cpu_seconds(one, one, {})
