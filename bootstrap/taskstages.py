"""Where a task's start time goes: each task pod's life as the Kubernetes API reports it
(created, scheduled, container started, container exited) and the task instance's own times
from Airflow, joined into stages.

The pod's moments are when a watch event first showed them, so they carry the kubelet's status
report delay (its pod lifecycle relist runs every second); Airflow's times are the task's own.
Both clocks are this machine's when the cluster is local.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import watch

from bootstrap import kube
from bootstrap.background import Background

#: The stages in order, each named by its two ends.
STAGES = (
    "queued → pod created",
    "pod created → scheduled",
    "scheduled → container started",
    "container started → running",
    "running → end",
    "end → container exit",
)
QUEUED_TO_RUNNING = "queued → running"
#: The annotations the KubernetesExecutor puts on each task pod to find its task instance again.
_KEY_ANNOTATIONS = ("dag_id", "task_id", "run_id", "map_index", "try_number")

TaskKey = tuple[str, str, str, int, int]


def task_key(dag_id: str, task_id: str, run_id: str, map_index: int, try_number: int) -> TaskKey:
    return (dag_id, task_id, run_id, int(map_index), int(try_number))


def pod_task_key(annotations: Mapping[str, str]) -> TaskKey | None:
    """The task instance a worker pod runs, from the executor's annotations (None for any
    other pod)."""
    if not all(name in annotations for name in ("dag_id", "task_id", "run_id", "try_number")):
        return None
    found = {name: annotations.get(name, "-1") for name in _KEY_ANNOTATIONS}
    return task_key(
        found["dag_id"],
        found["task_id"],
        found["run_id"],
        int(found["map_index"]),
        int(found["try_number"]),
    )


def instance_key(instance: Mapping[str, Any]) -> TaskKey:
    """The same key for a task instance as the Airflow REST API returns it."""
    return task_key(
        instance["dag_id"],
        instance["task_id"],
        instance["dag_run_id"],
        instance.get("map_index", -1),
        instance["try_number"],
    )


@dataclass
class PodLife:
    """When one task pod was first seen in each state (seconds since the epoch)."""

    created: float | None = None
    scheduled: float | None = None
    started: float | None = None
    exited: float | None = None

    def observe(self, pod: Any, now: float) -> None:
        """Record what ``pod`` (a client model from a watch event) shows for the first time."""
        if self.created is None:
            self.created = now
        if self.scheduled is None and pod.spec.node_name:
            self.scheduled = now
        for status in (pod.status.container_statuses or [])[:1]:
            state = status.state
            if self.started is None and (state.running or state.terminated):
                self.started = now
            if self.exited is None and state.terminated:
                self.exited = now


class TaskPods(Background):
    """Watches the worker pods of ``namespace`` while open (a context manager); ``lives`` maps
    each task instance to its pod's life."""

    # A watch call ends within its 60 s timeout.
    join_seconds = 70

    def __init__(self, clients: kube.KubeClients, namespace: str, selector: str) -> None:
        super().__init__()
        self.clients = clients
        self.namespace = namespace
        self.selector = selector
        self.lives: dict[TaskKey, PodLife] = {}
        self._watch = watch.Watch()

    def _life(self, pod: Any) -> PodLife | None:
        key = pod_task_key(pod.metadata.annotations or {})
        return None if key is None else self.lives.setdefault(key, PodLife())

    def run(self) -> None:
        while not self.stopping.is_set():
            # A dropped watch (API server busy, timeout) resumes; states seen late stay late.
            with contextlib.suppress(Exception):
                for event in self._watch.stream(
                    self.clients.core.list_namespaced_pod,
                    self.namespace,
                    label_selector=self.selector,
                    timeout_seconds=60,
                ):
                    life = self._life(event["object"])
                    if life is not None:
                        life.observe(event["object"], time.time())
                    if self.stopping.is_set():
                        return

    def stop(self) -> None:
        super().stop()
        self._watch.stop()


def node_summary(clients: kube.KubeClients, node: str) -> dict[str, Any]:
    """The kubelet's stats summary of ``node``, read raw (preloaded, the client would hand back
    a Python repr instead of JSON)."""
    response = clients.core.connect_get_node_proxy_with_path(
        node, "stats/summary", _preload_content=False
    )
    return dict(json.loads(response.data))


def timestamp(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def task_stages(instance: Mapping[str, Any], life: PodLife) -> dict[str, float]:
    """Seconds in each stage for one task, where both ends are known; plus queued → running."""
    moments = [
        timestamp(instance.get("queued_when")),
        life.created,
        life.scheduled,
        life.started,
        timestamp(instance.get("start_date")),
        timestamp(instance.get("end_date")),
        life.exited,
    ]
    found = {
        stage: end - start
        for stage, start, end in zip(STAGES, moments, moments[1:], strict=False)
        if start is not None and end is not None
    }
    queued, running = moments[0], moments[4]
    if queued is not None and running is not None:
        found[QUEUED_TO_RUNNING] = running - queued
    return found


def percentile(samples: Iterable[float], fraction: float) -> float:
    """The ``fraction`` quantile by linear interpolation (0.5 is the median)."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples to summarise")
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(per_task: Iterable[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """p50 and p95 of each stage over the tasks that have it, in stage order."""
    tasks = list(per_task)
    summary = {}
    for stage in (*STAGES, QUEUED_TO_RUNNING):
        samples = [task[stage] for task in tasks if stage in task]
        if samples:
            summary[stage] = {
                "p50": round(percentile(samples, 0.5), 2),
                "p95": round(percentile(samples, 0.95), 2),
                "samples": len(samples),
            }
    return summary
