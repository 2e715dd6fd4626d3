"""What a release costs while no task runs: CPU and memory per component, from the kubelet's
resource statistics (the Summary API that metrics-server also reads).

CPU is the difference of each pod's cumulative CPU time between two samples ``seconds`` apart,
so one number covers every probe, heartbeat and loop of the window; memory is the working set at
the end of it.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bootstrap.release import COMPONENT_LABEL, Release
from bootstrap.taskstages import node_summary


@dataclass(frozen=True)
class PodSample:
    """One pod's cumulative CPU time and working set, as the kubelet reported them."""

    cpu_core_nanoseconds: int
    memory_working_set_bytes: int
    seconds: float
    """When the kubelet took the CPU reading (seconds since the epoch)."""


@dataclass(frozen=True)
class ComponentUsage:
    millicores: float
    memory_bytes: int


def parse_time(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def pod_samples(summary: Mapping[str, Any], namespace: str | None) -> dict[str, PodSample]:
    """The pods of ``namespace`` in a kubelet stats summary, by name; of every namespace, by
    ``namespace/name``, when it is None (pods without CPU figures yet are left out)."""
    found: dict[str, PodSample] = {}
    for pod in summary.get("pods", []):
        ref = pod.get("podRef", {})
        cpu = pod.get("cpu") or {}
        if namespace not in (None, ref.get("namespace")) or "usageCoreNanoSeconds" not in cpu:
            continue
        key = ref["name"] if namespace else f"{ref.get('namespace')}/{ref['name']}"
        found[key] = PodSample(
            cpu_core_nanoseconds=int(cpu["usageCoreNanoSeconds"]),
            memory_working_set_bytes=int((pod.get("memory") or {}).get("workingSetBytes", 0)),
            seconds=parse_time(cpu["time"]),
        )
    return found


def usage_by_component(
    before: Mapping[str, PodSample],
    after: Mapping[str, PodSample],
    components: Mapping[str, str],
) -> dict[str, ComponentUsage]:
    """mCPU and memory per component over the window between two samples.

    Only pods present in both samples count (a pod that restarted in between has a new name or
    a reset counter, and is left out rather than reported as negative); ``components`` maps pod
    names to their component."""
    totals: dict[str, tuple[float, int]] = {}
    for name, end in after.items():
        start = before.get(name)
        component = components.get(name)
        if start is None or component is None or end.seconds <= start.seconds:
            continue
        used = end.cpu_core_nanoseconds - start.cpu_core_nanoseconds
        if used < 0:
            continue
        millicores = used / 1e6 / (end.seconds - start.seconds)
        cpu, memory = totals.get(component, (0.0, 0))
        totals[component] = (cpu + millicores, memory + end.memory_working_set_bytes)
    return {
        component: ComponentUsage(round(cpu, 1), memory)
        for component, (cpu, memory) in sorted(totals.items())
    }


def measure(release: Release, seconds: float = 120) -> dict[str, ComponentUsage]:
    """Sample every node's kubelet twice, ``seconds`` apart, and sum the release's pods by
    component."""
    clients = release.clients
    nodes = [node.metadata.name for node in clients.core.list_node().items]

    def sample() -> dict[str, PodSample]:
        merged: dict[str, PodSample] = {}
        for node in nodes:
            merged.update(pod_samples(node_summary(clients, node), release.namespace))
        return merged

    before = sample()
    time.sleep(seconds)
    after = sample()
    pods = clients.core.list_namespaced_pod(release.namespace, label_selector=release.selector())
    components = {
        pod.metadata.name: (pod.metadata.labels or {}).get(COMPONENT_LABEL, "")
        for pod in pods.items
    }
    return usage_by_component(before, after, components)
