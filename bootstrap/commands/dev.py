"""``airkube dev | bench``: the DAG development loop and the performance baseline."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bootstrap import bench, cluster, devloop, gitbench
from bootstrap.commands.context import Context, chart_values, release_options, values_options


def dev(args: argparse.Namespace, context: Context) -> int:
    release = context.release(args)
    reload_image = devloop.image_reloader(context.helm(), release, args.dags, chart_values(args))
    print("watching for DAG changes; Ctrl-C stops", flush=True)
    with release.connected_api() as api:
        devloop.watch(
            api,
            release,
            devloop.DevSettings(folder=args.dags),
            reload_image=reload_image,
            on_event=lambda text: print(f"{time.strftime('%H:%M:%S')} {text}", flush=True),
        )
    return 0


def measure(args: argparse.Namespace, context: Context) -> int:
    if args.git_modes:
        return measure_git_modes(args, context)
    pids = [component.pid for component in cluster.status() if component.pid]
    results = bench.measure(
        context.helm(),
        kubeconfig=context.kubeconfig(args.kubeconfig),
        daemon_pids=pids,
        plan=bench.Plan(
            burst_tasks=args.tasks,
            values=chart_values(args),
            cold_build=not args.quick,
            idle=not args.quick,
        ),
        on_event=lambda text: print(text, flush=True),
    )
    json_path, png_path = bench.write(results, args.output)
    print(bench.markdown_table(results))
    print(f"wrote {json_path} and {png_path}")
    return 0


def measure_git_modes(args: argparse.Namespace, context: Context) -> int:
    results = gitbench.measure(
        context.helm(),
        kubeconfig=context.kubeconfig(args.kubeconfig),
        on_event=lambda text: print(text, flush=True),
    )
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "git-modes.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(gitbench.markdown_table(results))
    print(f"wrote {path}")
    return 0


def burst_size(text: str) -> int:
    """``--tasks``: what the burst DAG's parameter accepts."""
    try:
        tasks = int(text)
    except ValueError:
        tasks = 0
    if not 1 <= tasks <= bench.MAX_BURST_TASKS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the burst takes 1 to {bench.MAX_BURST_TASKS} tasks"
        )
    return tasks


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "dev",
        help="watch a DAG folder and push every change into the running release",
        description="Watch the DAG folder; on every change push it into the running release "
        "(copied "
        "into the DAG volume in volume mode; a rebuilt image and an upgrade in image mode) and "
        "report "
        "when the dag-processor has parsed each changed file, or its import error.",
    )
    parser.add_argument(
        "--dags", type=Path, default=Path("dags"), metavar="DIR", help="DAG folder (default: dags)"
    )
    values_options(parser)
    release_options(parser)
    parser.set_defaults(handler=dev)

    parser = sub.add_parser(
        "bench",
        help="measure where task start time goes, the CPU floor, idle cost, images and memory",
        description="On the local cluster: cold and warm image builds, helm install until every "
        "component is ready; ten no-op tasks one at a time and a burst of no-op tasks at once, "
        "each task's time split into stages (queued, pod created, scheduled, container started, "
        "running, ended, container exited) from pod watch events and Airflow's times; the CPU "
        "one task pod consumes (the floor) and the burst's wall time against it; peak memory; "
        "each component's CPU and memory idle. Writes results.json and results.png.",
    )
    parser.add_argument(
        "--tasks",
        type=burst_size,
        default=bench.BURST_TASKS,
        metavar="N",
        help=f"tasks in the burst (default {bench.BURST_TASKS}); a larger burst, e.g. 100, "
        f"measures throughput and the scheduler's memory (at most {bench.PARALLELISM} run at once)",
    )
    parser.add_argument("--output", type=Path, default=Path("bench"), help="folder for the results")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="leave out the cold image build and the idle window: for comparing settings",
    )
    values_options(parser)
    parser.add_argument(
        "--git-modes",
        action="store_true",
        help="measure instead what each git DAG mode adds to a task's start, against image mode, "
        "on a sample repository in the local git server (writes git-modes.json)",
    )
    parser.add_argument(
        "--kubeconfig", type=Path, metavar="FILE", help="cluster (default: the local one)"
    )
    parser.set_defaults(handler=measure)
