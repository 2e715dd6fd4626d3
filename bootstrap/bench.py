"""The performance baseline: install time, task start latency, parallel wall time, image build,
the whole stack's memory while 20 task pods run, and what the release costs idle.

Every figure is measured on the running local cluster (or any cluster the kubeconfig names);
results go to ``bench/results.json`` and a chart to ``bench/results.png``.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bootstrap import deploy, helm, idle, images, kube, paths, smoke, values
from bootstrap.airflow_api import AirflowApi, quote
from bootstrap.errors import AirkubeError
from bootstrap.release import Release, Target

BENCH_DAG = "airkube_bench_parallel"
MEMORY_TARGET_BYTES = 6 * 1024**3
IDLE_WINDOW_SECONDS = 120


@dataclass
class Results:
    measured_at: str
    kubernetes_version: str = ""
    image: dict[str, Any] = field(default_factory=dict)
    install_to_ready_seconds: float = 0.0
    queued_to_running_seconds: dict[str, float] = field(default_factory=dict)
    parallel_dag_wall_seconds: float = 0.0
    parallel_tasks: int = 0
    peak_memory_bytes: int = 0
    memory_target_bytes: int = MEMORY_TARGET_BYTES
    idle: dict[str, Any] = field(default_factory=dict)
    """CPU (mCPU) and memory per component with no task running, over ``window_seconds``."""


def percentile(samples: list[float], fraction: float) -> float:
    """The ``fraction`` quantile by linear interpolation (0.5 is the median)."""
    if not samples:
        raise AirkubeError("no samples to summarise")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    parse = datetime.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def task_latencies(instances: list[dict[str, Any]]) -> list[float]:
    """Seconds from queued to running, per task instance that has both times."""
    found = [seconds_between(ti.get("queued_when"), ti.get("start_date")) for ti in instances]
    return [value for value in found if value is not None]


class MemorySampler:
    """Samples the memory of the whole stack: the working set of every pod in ``namespace``
    (kubelet summary) plus the resident memory of the cluster's own processes."""

    def __init__(
        self,
        clients: kube.KubeClients,
        daemon_pids: list[int],
        namespace: str,
        interval: float = 1.0,
    ) -> None:
        self.clients = clients
        self.namespace = namespace
        self.daemon_pids = daemon_pids
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def sample(self) -> int:
        total = sum(_rss_bytes(pid) for pid in self.daemon_pids)
        for node in self.clients.core.list_node().items:
            # Read raw: with preloaded content the client hands back a Python repr, not JSON.
            response = self.clients.core.connect_get_node_proxy_with_path(
                node.metadata.name, "stats/summary", _preload_content=False
            )
            data = json.loads(response.data)
            for pod in data.get("pods", []):
                if pod.get("podRef", {}).get("namespace") == self.namespace:
                    total += int((pod.get("memory") or {}).get("workingSetBytes") or 0)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            # A sample lost to a busy API server is skipped, not fatal.
            with contextlib.suppress(Exception):
                self.peak = max(self.peak, self.sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def run_parallel_dag(
    api: AirflowApi, timeout: datetime.timedelta
) -> tuple[float, list[float], int]:
    """Trigger the benchmark DAG once; its wall time, per-task latencies and task count."""
    result = smoke.run_dag(api, BENCH_DAG, timeout=timeout)
    if not result.succeeded:
        raise AirkubeError(f"benchmark run {result.run_id} ended {result.state}")
    run = api.get(f"/api/v2/dags/{quote(BENCH_DAG)}/dagRuns/{quote(result.run_id)}")
    wall = seconds_between(run.get("start_date"), run.get("end_date")) or result.seconds
    instances = api.get(
        f"/api/v2/dags/{quote(BENCH_DAG)}/dagRuns/{quote(result.run_id)}/taskInstances?limit=100"
    )["task_instances"]
    return wall, task_latencies(instances), len(instances)


def measure(
    client: helm.Helm,
    *,
    kubeconfig: Path | None,
    daemon_pids: list[int],
    namespace: str = "airkube-bench",
    on_event: Callable[[str], None] = lambda text: None,
) -> Results:
    """Run every measurement; the release is installed fresh in ``namespace`` and removed after."""
    results = Results(measured_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))
    clients = kube.clients(kubeconfig)
    results.kubernetes_version = clients.version.get_code().git_version

    on_event("image: cold build (no layer cache), then warm")
    cold = images.build_images(
        ["airflow"], images.BuildOptions(dags_dir=paths.DAGS_DIR, no_cache=True, record=False)
    )[0]
    warm = images.build_images(["airflow"], images.BuildOptions(dags_dir=paths.DAGS_DIR))[0]
    images.load_into_cluster(
        [
            warm.reference,
            *[ref for name, ref in images.built_images().items() if name == "postgres"],
        ]
    )
    results.image = {
        "reference": warm.reference,
        "size_bytes": warm.size_bytes,
        "cold_build_seconds": round(cold.seconds, 1),
        "warm_build_seconds": round(warm.seconds, 2),
    }

    on_event("install: helm upgrade --install until every component is ready")
    target = Target(name="bench", namespace=namespace, kubeconfig=kubeconfig)
    settings = deploy.DeploySettings(target=target)
    deploy.remove(client, settings)
    chart_values = values.merge(
        values.load_file(paths.VALUES_DIR / "local.yaml"),
        deploy.image_values(images.built_images()),
        {"dags": {"mode": "image"}, "config": {"core": {"parallelism": 32}}},
    )
    installed = deploy.deploy(client, chart_values, settings)
    results.install_to_ready_seconds = round(installed.seconds, 1)

    on_event(f"run: {BENCH_DAG} with memory sampling")
    with (
        Release.open(client, target, clients=clients).connected_api() as api,
        MemorySampler(clients, daemon_pids, namespace) as sampler,
    ):
        wall, latencies, count = run_parallel_dag(api, datetime.timedelta(minutes=15))
    results.parallel_dag_wall_seconds = round(wall, 1)
    results.parallel_tasks = count
    results.queued_to_running_seconds = {
        "p50": round(percentile(latencies, 0.5), 2),
        "p95": round(percentile(latencies, 0.95), 2),
        "samples": len(latencies),
    }
    results.peak_memory_bytes = sampler.peak

    on_event(f"idle: CPU and memory per component over {IDLE_WINDOW_SECONDS} s, no task running")
    handle = Release.open(client, target, clients=clients)
    deploy.wait_for_no_pods(handle, target.selector("worker"), datetime.timedelta(minutes=5))
    results.idle = idle_figures(idle.measure(handle, IDLE_WINDOW_SECONDS))
    on_event("cleanup: removing the benchmark release")
    deploy.remove(client, settings)
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


def write(results: Results, folder: Path) -> tuple[Path, Path]:
    """``results.json`` and a bar chart of the timings, ``results.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "results.json"
    json_path.write_text(json.dumps(asdict(results), indent=2) + "\n")

    labels = [
        "install → ready",
        "task latency p50",
        "task latency p95",
        "20-task DAG",
        "image cold build",
    ]
    seconds = [
        results.install_to_ready_seconds,
        results.queued_to_running_seconds.get("p50", 0),
        results.queued_to_running_seconds.get("p95", 0),
        results.parallel_dag_wall_seconds,
        results.image.get("cold_build_seconds", 0),
    ]
    figure, (timing, memory) = plt.subplots(
        1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 1]}
    )
    bars = timing.barh(labels, seconds, color="#4c72b0")
    timing.bar_label(bars, fmt="%.1f s", padding=3)
    timing.set_xlabel("seconds")
    timing.invert_yaxis()
    gib = results.peak_memory_bytes / 1024**3
    memory.bar(["peak"], [gib], color="#55a868")
    memory.axhline(
        results.memory_target_bytes / 1024**3, color="#c44e52", linestyle="--", label="target"
    )
    memory.set_ylabel("GiB")
    memory.legend()
    figure.suptitle(f"airkube baseline ({results.kubernetes_version}, {results.measured_at})")
    figure.tight_layout()
    png_path = folder / "results.png"
    figure.savefig(png_path, dpi=110)
    plt.close(figure)
    return json_path, png_path


def markdown_table(results: Results) -> str:
    """The README's table of the latest figures."""
    latency = results.queued_to_running_seconds
    rows = [
        ("helm install → all components ready", f"{results.install_to_ready_seconds:.0f} s"),
        (
            f"task queued → running, p50 / p95"
            f" ({latency.get('samples', 0)} tasks started together)",
            f"{latency.get('p50', 0):.1f} s / {latency.get('p95', 0):.1f} s",
        ),
        (
            f"DAG of {results.parallel_tasks} parallel no-op tasks, wall time",
            f"{results.parallel_dag_wall_seconds:.0f} s",
        ),
        ("Airflow image size", f"{results.image.get('size_bytes', 0) / 1e6:.0f} MB"),
        (
            "image build, cold / warm",
            f"{results.image.get('cold_build_seconds', 0):.0f} s"
            f" / {results.image.get('warm_build_seconds', 0):.1f} s",
        ),
        (
            "peak memory, cluster + Airflow, during the 20-task DAG",
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
