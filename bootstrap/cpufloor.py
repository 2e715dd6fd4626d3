"""The CPU floor of a task: what one task pod consumes, from the kubelet's statistics.

Task pods live a few seconds, less than the kubelet's statistics interval, so most are never
sampled on their own. What the kubelet does count without gaps is the cumulative CPU of the
cgroup that holds every pod: over a window in which task pods came and went, its growth minus
the growth of the pods present at both ends is what the task pods used.

The kubelet samples each cgroup on its own schedule, so a steady pod's two readings are a few
seconds off the window's ends. The window is therefore opened and closed while nothing runs,
and a steady pod's count is carried to the window's ends at its idle rate, measured just before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bootstrap import kube
from bootstrap.errors import AirkubeError
from bootstrap.idle import PodSample, parse_time, pod_samples
from bootstrap.polling import poll
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


def rates(first: PodsCpu, second: PodsCpu) -> dict[str, float]:
    """Each pod's CPU rate (cores) between two readings where the kubelet sampled it anew."""
    found = {}
    for key, end in second.pods.items():
        start = first.pods.get(key)
        if start is not None and end.seconds > start.seconds:
            used = (end.cpu_core_nanoseconds - start.cpu_core_nanoseconds) / 1e9
            found[key] = max(used, 0.0) / (end.seconds - start.seconds)
    return found


def transient_cpu_seconds(
    before: PodsCpu, after: PodsCpu, idle_rates: Mapping[str, float]
) -> float:
    """CPU-seconds of the pods that were not there at both readings: the cgroup's growth less
    each steady pod's own count, carried to the cgroup's times at its ``idle_rates``."""
    if after.seconds <= before.seconds:
        raise AirkubeError("the second CPU reading is not later than the first")
    total = (after.core_nanoseconds - before.core_nanoseconds) / 1e9
    steady = 0.0
    for key, end in after.pods.items():
        start = before.pods.get(key)
        if start is None:
            continue
        counted = (end.cpu_core_nanoseconds - start.cpu_core_nanoseconds) / 1e9
        uncounted = (after.seconds - end.seconds) - (before.seconds - start.seconds)
        steady += counted + idle_rates.get(key, 0.0) * uncounted
    return max(total - steady, 0.0)


def read_after(clients: kube.KubeClients, moment: float, pods: Iterable[str]) -> PodsCpu:
    """The first reading in which the kubelet sampled the pods cgroup, and each of ``pods`` still
    running, after ``moment``."""

    def fresh() -> PodsCpu | None:
        found = read(clients)
        if found.seconds <= moment:
            return None
        stale = [key for key in pods if key in found.pods and found.pods[key].seconds <= moment]
        return None if stale else found

    return poll(
        "the kubelet's next statistics of the pods cgroup and every pod",
        fresh,
        timeout=120,
        interval=2,
    )
