"""The CPU floor of a task: what one task pod consumes, from the kubelet's statistics.

Task pods live a few seconds, less than the kubelet's statistics interval, so most are never
sampled on their own. What the kubelet does count without gaps is the cumulative CPU of the
cgroup that holds every pod: over a window in which task pods came and went, its growth minus
the growth of the pods present at both ends is what the task pods used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bootstrap import kube
from bootstrap.errors import AirkubeError
from bootstrap.idle import PodSample, parse_time, pod_samples
from bootstrap.taskstages import node_summary


@dataclass(frozen=True)
class PodsCpu:
    """One reading: the pods cgroup's cumulative CPU and every pod's, with their times."""

    core_nanoseconds: int
    seconds: float
    pods: dict[str, PodSample]


def reading(summary: Mapping[str, Any]) -> PodsCpu:
    """The reading in one node's stats summary."""
    for container in summary.get("node", {}).get("systemContainers", []):
        cpu = container.get("cpu") or {}
        if container.get("name") == "pods" and "usageCoreNanoSeconds" in cpu:
            return PodsCpu(
                int(cpu["usageCoreNanoSeconds"]),
                parse_time(cpu["time"]),
                pod_samples(summary, None),
            )
    raise AirkubeError(
        "the kubelet's stats summary has no CPU figure for its pods cgroup",
        hint="the kubelet runs with --cgroups-per-qos=false, or its stats are not ready yet",
    )


def read(clients: kube.KubeClients) -> PodsCpu:
    """The reading of the cluster's single node (the CPU floor is measured on one node)."""
    nodes = clients.core.list_node().items
    if len(nodes) != 1:
        raise AirkubeError(
            f"the CPU floor is measured on a single node; the cluster has {len(nodes)}"
        )
    return reading(node_summary(clients, nodes[0].metadata.name))


def transient_cpu_seconds(before: PodsCpu, after: PodsCpu) -> float:
    """CPU-seconds of the pods that were not there at both readings.

    A pod present at both is subtracted at its own rate over the cgroup's window: the kubelet
    samples each cgroup on its own schedule, so their times differ by a few seconds."""
    window = after.seconds - before.seconds
    if window <= 0:
        raise AirkubeError("the second CPU reading is not later than the first")
    total = (after.core_nanoseconds - before.core_nanoseconds) / 1e9
    steady = 0.0
    for key, end in after.pods.items():
        start = before.pods.get(key)
        if start is None or end.seconds <= start.seconds:
            continue
        rate = (
            (end.cpu_core_nanoseconds - start.cpu_core_nanoseconds)
            / 1e9
            / (end.seconds - start.seconds)
        )
        steady += max(rate, 0.0) * window
    return max(total - steady, 0.0)
