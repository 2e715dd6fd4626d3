"""The performance baseline: install time, task start latency, parallel wall time, image build,
the whole stack's memory while 20 task pods run, and what the release costs idle.

Every figure is measured on the running local cluster (or any cluster the kubeconfig names);
results go to ``bench/results.json`` and a chart to ``bench/results.png``.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bootstrap import (
    cpufloor,
    deploy,
    helm,
    idle,
    images,
    kube,
    paths,
    smoke,
    taskstages,
    values,
)
from bootstrap.airflow_api import AirflowApi, quote
from bootstrap.background import Background
from bootstrap.errors import AirkubeError
from bootstrap.release import Release, Target

SINGLE_DAG = "airkube_bench_sequential"
SEQUENTIAL_TASKS = 5
BURST_DAG = "airkube_bench_burst"
BURST_TASK = "noop"
SINGLE_TASKS = 10
BURST_TASKS = 20
#: The burst DAG's ``tasks`` parameter allows up to this many.
MAX_BURST_TASKS = 1000
#: Airflow's cap on running tasks for the benchmark's release: above the default burst.
PARALLELISM = 32
MEMORY_TARGET_BYTES = 6 * 1024**3
IDLE_WINDOW_SECONDS = 120


@dataclass
class Results:
    measured_at: str
    machine: dict[str, Any] = field(default_factory=dict)
    """Where it ran: CPU cores and model, memory."""
    kubernetes_version: str = ""
    image: dict[str, Any] = field(default_factory=dict)
    images: dict[str, int] = field(default_factory=dict)
    """Size in bytes of each image the release runs."""
    install_to_ready_seconds: float = 0.0
    single: dict[str, Any] = field(default_factory=dict)
    """Tasks that start alone: ``queued_to_running`` and each stage's p50/p95."""
    burst: dict[str, Any] = field(default_factory=dict)
    """``tasks`` no-op tasks at once: wall time against the CPU floor, stages, throughput."""
    per_task_cpu_seconds: dict[str, float] = field(default_factory=dict)
    """The CPU floor: what one no-op task pod consumes on average, from the kubelet's count of
    the pods cgroup over the single tasks' window (see ``cpufloor``)."""
    breakdown: dict[str, dict[str, float]] = field(default_factory=dict)
    """Each stage's median, single and burst: where start time goes."""
    peak_memory_bytes: int = 0
    memory_target_bytes: int = MEMORY_TARGET_BYTES
    idle: dict[str, Any] = field(default_factory=dict)
    """CPU (mCPU) and memory per component with no task running, over ``window_seconds``."""


def percentile(samples: list[float], fraction: float) -> float:
    """The ``fraction`` quantile by linear interpolation (0.5 is the median)."""
    if not samples:
        raise AirkubeError("no samples to summarise")
    return taskstages.percentile(samples, fraction)


def seconds_between(start: str | None, end: str | None) -> float | None:
    begun, ended = taskstages.timestamp(start), taskstages.timestamp(end)
    return None if begun is None or ended is None else ended - begun


class MemorySampler(Background):
    """Samples the memory of the whole stack: the working set of every pod in ``namespace``
    (kubelet summary) plus the resident memory of the cluster's own processes; and the peak of
    the scheduler's pods alone."""

    def __init__(
        self,
        clients: kube.KubeClients,
        daemon_pids: list[int],
        namespace: str,
        interval: float = 1.0,
    ) -> None:
        super().__init__()
        self.clients = clients
        self.namespace = namespace
        self.daemon_pids = daemon_pids
        self.interval = interval
        self.peak = 0
        self.scheduler_peak = 0

    def sample(self) -> tuple[int, int]:
        total = sum(_rss_bytes(pid) for pid in self.daemon_pids)
        scheduler = 0
        for node in self.clients.core.list_node().items:
            for pod in taskstages.node_summary(self.clients, node.metadata.name).get("pods", []):
                ref = pod.get("podRef", {})
                if ref.get("namespace") != self.namespace:
                    continue
                used = int((pod.get("memory") or {}).get("workingSetBytes") or 0)
                total += used
                if "-scheduler-" in ref.get("name", ""):
                    scheduler += used
        return total, scheduler

    def run(self) -> None:
        while not self.stopping.is_set():
            # A sample lost to a busy API server is skipped, not fatal.
            with contextlib.suppress(Exception):
                total, scheduler = self.sample()
                self.peak = max(self.peak, total)
                self.scheduler_peak = max(self.scheduler_peak, scheduler)
            self.stopping.wait(self.interval)


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def machine() -> dict[str, Any]:
    """The CPU and memory the figures were measured on."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpus": os.cpu_count() or 0, "cpu_model": model, "memory_bytes": memory}


@dataclass(frozen=True)
class DagRun:
    dag_id: str
    run_id: str
    instances: list[dict[str, Any]]


def run_and_collect(
    api: AirflowApi, dag_id: str, timeout: datetime.timedelta, conf: dict[str, Any] | None = None
) -> DagRun:
    """Trigger ``dag_id`` once, wait for its success, and return its task instances."""
    result = smoke.run_dag(api, dag_id, timeout=timeout, conf=conf)
    if not result.succeeded:
        raise AirkubeError(f"benchmark run {result.run_id} of {dag_id} ended {result.state}")
    path = f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(result.run_id)}/taskInstances"
    found: list[dict[str, Any]] = []
    while True:
        page = api.get(f"{path}?limit=100&offset={len(found)}")
        found.extend(page["task_instances"])
        if len(found) >= page["total_entries"] or not page["task_instances"]:
            return DagRun(dag_id, result.run_id, found)


def stages_of(
    runs: list[DagRun], pods: taskstages.TaskPods, task_id: str | None = None
) -> list[dict[str, float]]:
    """Each task instance's seconds per stage (only ``task_id``'s when given), joined with its
    pod's life."""
    per_task = []
    for run in runs:
        for instance in run.instances:
            if task_id is not None and instance["task_id"] != task_id:
                continue
            life = pods.lives.get(taskstages.instance_key(instance), taskstages.PodLife())
            per_task.append(taskstages.task_stages(instance, life))
    return per_task


def burst_figures(
    run: DagRun, per_task: list[dict[str, float]], floor_cpu_seconds: float, cores: int
) -> dict[str, Any]:
    """Wall time of the burst, from its first task queued to its last task ended, against the
    floor: the time ``cores`` CPUs need for that many tasks' CPU if nothing else ran."""
    tasks = [ti for ti in run.instances if ti["task_id"] == BURST_TASK]
    queued = [taskstages.timestamp(ti.get("queued_when")) for ti in tasks]
    ended = [taskstages.timestamp(ti.get("end_date")) for ti in tasks]
    if not tasks or None in queued or None in ended:
        raise AirkubeError(f"the burst run {run.run_id} lacks queued or end times")
    wall = max(e for e in ended if e is not None) - min(q for q in queued if q is not None)
    floor = len(tasks) * floor_cpu_seconds / cores
    stages = taskstages.summarise(per_task)
    return {
        "tasks": len(tasks),
        "wall_seconds": round(wall, 1),
        "floor_seconds": round(floor, 1),
        "wall_over_floor": round(wall / floor, 2) if floor else None,
        "throughput_tasks_per_minute": round(len(tasks) / wall * 60, 1),
        "queued_to_running": stages.get(taskstages.QUEUED_TO_RUNNING, {}),
        "stages": stages,
    }


@dataclass(frozen=True)
class Plan:
    """What to measure, and on which settings."""

    single_tasks: int = SINGLE_TASKS
    burst_tasks: int = BURST_TASKS
    values: dict[str, Any] = field(default_factory=dict)
    """Chart values over the benchmark's own (values/local.yaml, DAGs in the image)."""
    cold_build: bool = True
    idle: bool = True


def measure(
    client: helm.Helm,
    *,
    kubeconfig: Path | None,
    daemon_pids: list[int],
    namespace: str = "airkube-bench",
    plan: Plan = Plan(),
    on_event: Callable[[str], None] = lambda text: None,
) -> Results:
    """Run every measurement; the release is installed fresh in ``namespace`` and removed after."""
    results = Results(
        measured_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        machine=machine(),
    )
    clients = kube.clients(kubeconfig)
    results.kubernetes_version = clients.version.get_code().git_version

    built = images.build_images(
        ["airflow", "postgres"], images.BuildOptions(dags_dir=paths.DAGS_DIR)
    )
    images.load_into_cluster([image.reference for image in built])
    warm = built[0]
    results.image = {
        "reference": warm.reference,
        "size_bytes": warm.size_bytes,
        "warm_build_seconds": round(warm.seconds, 2),
    }
    results.images = {image.name: image.size_bytes for image in built}

    on_event("install: helm upgrade --install until every component is ready")
    target = Target(name="bench", namespace=namespace, kubeconfig=kubeconfig)
    settings = deploy.DeploySettings(target=target)
    deploy.remove(client, settings)
    chart_values = values.merge(
        values.load_file(paths.VALUES_DIR / "local.yaml"),
        deploy.image_values(images.built_images()),
        {"dags": {"mode": "image"}, "config": {"core": {"parallelism": PARALLELISM}}},
        plan.values,
    )
    installed = deploy.deploy(client, chart_values, settings)
    results.install_to_ready_seconds = round(installed.seconds, 1)
    handle = Release.open(client, target, clients=clients)
    timeout = datetime.timedelta(minutes=30)

    with (
        handle.connected_api() as api,
        taskstages.TaskPods(clients, namespace, target.selector("worker")) as pods,
    ):
        # The CPU floor's window: no task pod before it starts, all of them gone when it ends.
        deploy.wait_for_no_pods(handle, target.selector("worker"), datetime.timedelta(minutes=5))
        on_event("idle rates of the running pods, for the CPU floor's window")
        idle_start = cpufloor.read(clients)
        cpu_before = cpufloor.read_after(clients, time.time(), idle_start.pods)
        idle_rates = cpufloor.rates(idle_start, cpu_before)
        singles: list[DagRun] = []
        while len(singles) * SEQUENTIAL_TASKS < plan.single_tasks:
            on_event(f"single: {SINGLE_DAG}, {SEQUENTIAL_TASKS} tasks one after another")
            singles.append(run_and_collect(api, SINGLE_DAG, timeout))
        deploy.wait_for_no_pods(handle, target.selector("worker"), datetime.timedelta(minutes=5))
        cpu_after = cpufloor.read_after(clients, time.time(), cpu_before.pods)
        # A burst queues at once only when the first run's settling (parsing, first logins)
        # is over: the single tasks above pay it.
        on_event(f"burst: {BURST_DAG} with {plan.burst_tasks} tasks, memory sampled")
        with MemorySampler(clients, daemon_pids, namespace) as sampler:
            burst = run_and_collect(api, BURST_DAG, timeout, {"tasks": plan.burst_tasks})
            deploy.wait_for_no_pods(
                handle, target.selector("worker"), datetime.timedelta(minutes=5)
            )
    single_stages = stages_of(singles, pods)
    single_pods = len(single_stages)
    floor = cpufloor.transient_cpu_seconds(cpu_before, cpu_after, idle_rates) / single_pods
    results.per_task_cpu_seconds = {
        "mean": round(floor, 2),
        "tasks": single_pods,
        "window_seconds": round(cpu_after.seconds - cpu_before.seconds, 1),
    }
    summary = taskstages.summarise(single_stages)
    results.single = {
        "tasks": len(single_stages),
        "queued_to_running": summary.get(taskstages.QUEUED_TO_RUNNING, {}),
        "stages": summary,
    }
    cores = results.machine["cpus"]
    results.burst = burst_figures(burst, stages_of([burst], pods, BURST_TASK), floor, cores)
    results.burst["scheduler_peak_memory_bytes"] = sampler.scheduler_peak
    results.peak_memory_bytes = sampler.peak
    results.breakdown = {
        "single": {stage: summary[stage]["p50"] for stage in taskstages.STAGES if stage in summary},
        "burst": {
            stage: figures["p50"]
            for stage, figures in results.burst["stages"].items()
            if stage in taskstages.STAGES
        },
    }

    if plan.idle:
        on_event(
            f"idle: CPU and memory per component over {IDLE_WINDOW_SECONDS} s, no task running"
        )
        results.idle = idle_figures(idle.measure(handle, IDLE_WINDOW_SECONDS))
    on_event("cleanup: removing the benchmark release")
    deploy.remove(client, settings)
    if plan.cold_build:
        # Last: a build without its layer cache gives the image new layers, and importing
        # those into the cluster would load the node while the tasks above are timed.
        on_event("image: cold build (no layer cache)")
        cold = images.build_images(
            ["airflow"], images.BuildOptions(dags_dir=paths.DAGS_DIR, no_cache=True, record=False)
        )[0]
        results.image["cold_build_seconds"] = round(cold.seconds, 1)
    return results


def idle_figures(usage: dict[str, idle.ComponentUsage]) -> dict[str, Any]:
    """The idle section of the results: the control plane's total and each component."""
    control_plane = {name: figures for name, figures in usage.items() if name != "worker"}
    if not control_plane:
        raise AirkubeError(
            "the idle measurement found no component pod in both of its kubelet samples",
            hint="a component restarted during the window, or the kubelet's stats summary is "
            "empty: check 'airkube status' and run the benchmark again",
        )
    return {
        "window_seconds": IDLE_WINDOW_SECONDS,
        "control_plane_millicores": round(sum(u.millicores for u in control_plane.values()), 1),
        "control_plane_memory_bytes": sum(u.memory_bytes for u in control_plane.values()),
        "components": {name: asdict(figures) for name, figures in control_plane.items()},
    }


STAGE_COLOURS = ("#8172b2", "#937860", "#4c72b0", "#dd8452", "#55a868", "#c44e52")


def write(results: Results, folder: Path) -> tuple[Path, Path]:
    """``results.json``, and ``results.png``: where a task's start goes, as stacked bars of the
    stage medians for a single task and for the burst, beside the idle CPU per component."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "results.json"
    json_path.write_text(json.dumps(asdict(results), indent=2) + "\n")

    figure, (timing, idle_cpu) = plt.subplots(
        1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [3, 1]}
    )
    rows = [
        (
            f"single task (p50 of {results.single.get('tasks', 0)})",
            results.breakdown.get("single", {}),
        ),
        (f"burst of {results.burst.get('tasks', 0)} (p50)", results.breakdown.get("burst", {})),
    ]
    for row, (label, stages) in enumerate(rows):
        left = 0.0
        for stage, colour in zip(taskstages.STAGES, STAGE_COLOURS, strict=True):
            width = stages.get(stage, 0.0)
            timing.barh(label, width, left=left, color=colour, label=stage if row == 0 else None)
            if width >= 1.0:
                timing.text(left + width / 2, row, f"{width:.1f}", ha="center", va="center")
            left += width
    timing.set_xlabel("seconds (stage medians, stacked)")
    timing.invert_yaxis()
    timing.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize="small")
    components = results.idle.get("components", {})
    idle_cpu.bar(list(components), [c["millicores"] for c in components.values()], color="#4c72b0")
    if not components:
        idle_cpu.text(0.5, 0.5, "idle not measured", ha="center", va="center")
        idle_cpu.set_axis_off()
    idle_cpu.set_ylabel("idle mCPU")
    idle_cpu.tick_params(axis="x", labelrotation=45)
    cpus = results.machine.get("cpus", "?")
    figure.suptitle(
        f"airkube task start ({results.kubernetes_version}, {cpus} CPUs, {results.measured_at})"
    )
    figure.tight_layout()
    png_path = folder / "results.png"
    figure.savefig(png_path, dpi=110)
    plt.close(figure)
    return json_path, png_path


def _p50_p95(figures: dict[str, Any]) -> str:
    return f"{figures.get('p50', 0):.1f} s / {figures.get('p95', 0):.1f} s"


def markdown_table(results: Results) -> str:
    """The README's table of the latest figures, each saying what it measures."""
    single, burst = results.single, results.burst
    cores = results.machine.get("cpus", 0)
    rows = [
        ("helm install → all components ready", f"{results.install_to_ready_seconds:.0f} s"),
        (
            f"one task alone, queued → running, p50 / p95 ({single.get('tasks', 0)} tasks, "
            "one after another)",
            _p50_p95(single.get("queued_to_running", {})),
        ),
        *[
            (f"  stage {stage}, p50 / p95", _p50_p95(figures))
            for stage, figures in single.get("stages", {}).items()
            if stage in taskstages.STAGES
        ],
        (
            "CPU one no-op task pod consumes (the floor; mean of the single tasks)",
            f"{results.per_task_cpu_seconds.get('mean', 0):.2f} CPU-seconds",
        ),
        (
            f"burst of {burst.get('tasks', 0)} no-op tasks at once, queued → running p50 / p95",
            _p50_p95(burst.get("queued_to_running", {})),
        ),
        (
            "burst wall time (first queued → last ended) / the floor "
            f"({burst.get('tasks', 0)} tasks times the CPU floor over {cores} cores)",
            f"{burst.get('wall_seconds', 0):.0f} s / {burst.get('floor_seconds', 0):.0f} s "
            f"= {burst.get('wall_over_floor') or 0:.2f}",
        ),
        ("burst throughput", f"{burst.get('throughput_tasks_per_minute', 0):.0f} tasks/min"),
        (
            "scheduler's peak memory during the burst",
            f"{burst.get('scheduler_peak_memory_bytes', 0) / 1024**2:.0f} MiB",
        ),
        *[
            (f"{name} image size", f"{size / 1e6:.0f} MB")
            for name, size in sorted(results.images.items())
        ],
        (
            "Airflow image build, cold / warm",
            f"{results.image.get('cold_build_seconds', 0):.0f} s"
            f" / {results.image.get('warm_build_seconds', 0):.1f} s",
        ),
        (
            "peak memory, cluster + Airflow, during the burst",
            f"{results.peak_memory_bytes / 1024**3:.2f} GiB (target ≤ 6 GiB)",
        ),
    ]
    if results.idle:
        components = results.idle["components"]
        each = ", ".join(f"{name} {c['millicores']:.0f}" for name, c in components.items())
        rows.append(
            (
                f"idle, no task running, over {results.idle['window_seconds']} s: release CPU",
                f"{results.idle['control_plane_millicores']:.0f} mCPU ({each})",
            )
        )
    lines = [
        "| measure | result |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in rows],
    ]
    return "\n".join(lines)
