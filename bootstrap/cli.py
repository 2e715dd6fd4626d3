"""The ``airkube`` command line: parses arguments, calls the core, prints, sets the exit code.

Nothing here builds, renders or talks to a cluster itself; every command hands plain values to a
core function and prints what comes back. ``AirkubeError`` becomes one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bootstrap.errors import AirkubeError

Handler = Callable[[argparse.Namespace], int]


def _add_image_commands(sub: argparse._SubParsersAction) -> None:
    """``airkube image ...``: build and load images."""
    from pathlib import Path

    from bootstrap import docker, images

    def image_names(args: argparse.Namespace) -> list[str]:
        chosen = args.image or ["airflow"]
        if "all" in chosen:
            chosen = [*images.ALL_IMAGES, *chosen]
        return [name for name in dict.fromkeys(chosen) if name != "all"]

    def describe(built: images.BuiltImage) -> str:
        how = "up to date" if built.cache_hit else "built"
        return (
            f"{built.name}: {built.reference}  {built.size_bytes / 1e6:.0f} MB  "
            f"{how} in {built.seconds:.1f}s (base {built.base_image})"
        )

    def load(references: list[str]) -> None:
        for archive in images.load_into_cluster(references):
            print(f"loaded into the local cluster: {archive.name}")

    def build(args: argparse.Namespace) -> int:
        options = images.BuildOptions(
            base_image=args.base_image,
            local_base=args.local_base,
            dags_dir=args.dags,
            requirements=args.requirements,
            ca_certs=tuple(args.ca_cert),
            trust_host_cas=args.host_ca,
            apt_mirror=args.apt_mirror,
            no_cache=args.no_cache,
        )
        images.check_inputs(options)
        engine = docker.ensure_engine()
        logging.getLogger(__name__).info("Docker engine %s", engine.server_version)
        results = images.build_images(image_names(args), options)
        for built in results:
            print(describe(built))
        if args.load:
            load([built.reference for built in results])
        return 0

    def load_command(args: argparse.Namespace) -> int:
        recorded = images.built_images()
        names = image_names(args)
        missing = [name for name in names if name not in recorded]
        if missing:
            raise AirkubeError(
                f"not built yet: {', '.join(missing)}",
                hint=f"run: airkube image build --image {missing[0]}",
            )
        docker.ensure_engine()
        load([recorded[name] for name in names])
        return 0

    def list_command(args: argparse.Namespace) -> int:
        for name, reference in sorted(images.built_images().items()):
            print(f"{name}\t{reference}")
        return 0

    image_choices = [*images.IMAGE_NAMES, "all"]
    image_help = (
        "airflow, postgres or git-sync; repeat for several; 'all' is airflow and postgres "
        "(default: airflow)"
    )

    image = sub.add_parser(
        "image",
        help="build and load the container images",
        description="Build the Airflow image (and the Postgres and git-sync images the local "
        "cluster cannot pull), tag them by content, and load them into the local cluster.",
    )
    image_sub = image.add_subparsers(dest="image_command", metavar="SUBCOMMAND", required=True)

    build_parser = image_sub.add_parser(
        "build",
        help="build images (an unchanged rebuild is a cache hit)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=f"""\
Build images with the local Docker engine (started, and installed from Debian's docker.io
when missing). Each image is tagged by a hash of everything it is built from, so an unchanged
rebuild returns at once; the references built last are what 'airkube deploy' uses.

Base image of the Airflow image:
  by default           {images.DEFAULT_BASE_IMAGE} from the registry; when no registry is
                       reachable, a Debian {images.DEBIAN_SUITE} base made locally with
                       debootstrap from the host's apt mirror (a warning says so)
  --base-image REF     any Debian {images.DEBIAN_SUITE} based image, present or pullable;
                       no fallback
  --local-base         the locally made Debian base, without trying a registry
The Postgres and git-sync images always build on the locally made Debian base. git-sync is
built from its Go module at its release commit, which needs github.com and the Go module
proxy; 'all' leaves it out.

CA certificates: the build trusts the CAs added to this host's trust store
({images.HOST_CA_DIR}/*.crt) plus every --ca-cert, before any pip or uv call, so builds
work behind TLS-intercepting proxies; they stay in the image's trust store.
Use --no-host-ca to leave the host's CAs out.""",
    )
    build_parser.add_argument(
        "--image", action="append", choices=image_choices, metavar="NAME", help=image_help
    )
    base = build_parser.add_mutually_exclusive_group()
    base.add_argument(
        "--base-image", metavar="REF", help="base image of the Airflow image (see above)"
    )
    base.add_argument(
        "--local-base",
        action="store_true",
        help="build the Airflow image on the locally made Debian base",
    )
    build_parser.add_argument(
        "--dags", type=Path, metavar="DIR", help="bake this DAG folder into /opt/airflow/dags"
    )
    build_parser.add_argument(
        "--requirements",
        type=Path,
        metavar="FILE",
        help="extra pip requirements to install (the pinned Airflow set constrains them)",
    )
    build_parser.add_argument(
        "--ca-cert",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="extra PEM CA certificate to trust during the build and in the image; repeatable",
    )
    build_parser.add_argument(
        "--no-host-ca",
        dest="host_ca",
        action="store_false",
        help=f"do not copy the host's added CAs ({images.HOST_CA_DIR}) into the image",
    )
    build_parser.add_argument(
        "--apt-mirror",
        metavar="URL",
        help="Debian mirror for the locally made base (default: the one the host's apt uses)",
    )
    build_parser.add_argument(
        "--no-cache", action="store_true", help="rebuild every layer even if the tag exists"
    )
    build_parser.add_argument(
        "--load",
        action="store_true",
        help="then load the images into the local cluster (as 'airkube image load')",
    )
    build_parser.set_defaults(handler=build)

    load_parser = image_sub.add_parser(
        "load",
        help="load the images built last into the local cluster",
        description="Save the images built last (docker save, kept in the cache) and import "
        "them into the local cluster's container runtime, so pods start without a registry.",
    )
    load_parser.add_argument(
        "--image", action="append", choices=image_choices, metavar="NAME", help=image_help
    )
    load_parser.set_defaults(handler=load_command)

    list_parser = image_sub.add_parser(
        "list",
        help="print the image references built last",
        description="Print NAME<TAB>REFERENCE for each image built last.",
    )
    list_parser.set_defaults(handler=list_command)


def _add_cluster_commands(sub: argparse._SubParsersAction) -> None:
    """``airkube cluster ...``: the local single-node Kubernetes."""
    from bootstrap import cluster

    def cluster_up(args: argparse.Namespace) -> int:
        info = cluster.up()
        print(f"cluster is up: Kubernetes {info.version} at {info.server} ({info.seconds:.1f} s)")
        print(f"kubeconfig: {info.kubeconfig}")
        print(f"try: kubectl --kubeconfig {info.kubeconfig} get nodes")
        return 0

    def cluster_down(args: argparse.Namespace) -> int:
        stopped = cluster.down()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0

    def cluster_status(args: argparse.Namespace) -> int:
        report = cluster.status()
        width = max(len(item.name) for item in report)
        for item in report:
            state = "healthy" if item.healthy else "DOWN" if item.pid is None else "UNHEALTHY"
            pid = str(item.pid) if item.pid else "-"
            print(f"{item.name:<{width}}  {state:<9}  pid {pid:<7}  {item.detail[:60]}")
        healthy = all(item.healthy for item in report)
        if not healthy:
            print(f"logs: {report[0].log_file.parent}")
        return 0 if healthy else 1

    def cluster_kubeconfig(args: argparse.Namespace) -> int:
        print(cluster.kubeconfig_path())
        return 0

    parser = sub.add_parser(
        "cluster",
        help="the local single-node Kubernetes",
        description="A real single-node Kubernetes on this machine, built from source once and "
        "cached. Needs root (containerd, kubelet, iptables).",
    )
    actions = parser.add_subparsers(dest="cluster_command", metavar="ACTION", required=True)
    actions.add_parser(
        "up",
        help="build what is missing, start the cluster, wait for a Ready node",
        description="Idempotent: a second 'up' only checks. The first run compiles Kubernetes, "
        "etcd, containerd and CoreDNS from their Go modules (tens of minutes).",
    ).set_defaults(handler=cluster_up)
    actions.add_parser(
        "down",
        help="stop every cluster process and remove its network plumbing (data is kept)",
        description="Stops exactly what 'up' started. Volumes, images and etcd data stay, so "
        "the next 'up' brings back the same cluster.",
    ).set_defaults(handler=cluster_down)
    actions.add_parser(
        "status",
        help="show each component's process and health (exit 1 if any is down)",
        description="One line per component: health, pid and the probe's answer.",
    ).set_defaults(handler=cluster_status)
    actions.add_parser(
        "kubeconfig",
        help="print the path of the cluster administrator's kubeconfig",
        description="For example: export KUBECONFIG=$(airkube cluster kubeconfig)",
    ).set_defaults(handler=cluster_kubeconfig)


def _values_options(parser: argparse.ArgumentParser) -> None:
    """The -f/--set pair every chart-rendering command takes, as helm spells them."""
    parser.add_argument(
        "-f",
        "--values",
        dest="values_files",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a values file (repeatable; later files win, as with helm -f)",
    )
    parser.add_argument(
        "--set",
        dest="set_values",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one value, e.g. workers.resources.limits.memory=2Gi (repeatable; wins over files)",
    )


def _chart_values(args: argparse.Namespace) -> dict[str, Any]:
    from bootstrap import values

    return values.combine(args.values_files, args.set_values)


def _helm() -> Any:
    from bootstrap import helm, tools

    return helm.Helm(tools.ensure_go_tool(tools.HELM))


def _add_tool_commands(sub: argparse._SubParsersAction) -> None:
    """``airkube tools``: the pinned helm, kubeconform and offline schemas."""

    def install(args: argparse.Namespace) -> int:
        from bootstrap import tools

        found = tools.ensure_all()
        print(f"helm         {tools.HELM.version}  {found.helm}")
        print(f"kubeconform  {tools.KUBECONFORM.version}  {found.kubeconform}")
        print(
            f"schemas      Kubernetes {', '.join(tools.KUBERNETES_VERSIONS)}  {tools.schemas_dir()}"
        )
        return 0

    parser = sub.add_parser(
        "tools",
        help="install the pinned helm, kubeconform and offline Kubernetes schemas",
        description="Build helm and kubeconform at their pinned versions from their Go modules and "
        "prepare the offline Kubernetes schemas, all in the cache; a second run only checks "
        "versions.",
    )
    parser.set_defaults(handler=install)


def _add_chart_commands(sub: argparse._SubParsersAction) -> None:
    """``airkube pod-template`` and ``airkube pods``: what the chart makes of task pods."""

    def pod_template(args: argparse.Namespace) -> int:
        from bootstrap import podtemplates

        if args.all == bool(args.mode):
            raise AirkubeError(
                "give either --mode MODE or --all", hint="e.g. airkube pod-template --mode volume"
            )
        if args.all and not args.output:
            raise AirkubeError("--all writes one folder per mode", hint="add -o DIR")
        chart_values = _chart_values(args)
        client = _helm()
        modes = list(podtemplates.MODES) if args.all else [args.mode]
        rendered = {mode: podtemplates.generate(client, chart_values, mode) for mode in modes}
        for mode, checked in rendered.items():
            judged = (
                "loaded by Airflow's PodGenerator"
                if checked[0].judged_by_airflow
                else "Airflow not importable: rules checked only"
            )
            if args.output is None:
                print("---\n".join(podtemplates.to_yaml(item.template) for item in checked), end="")
                continue
            target = args.output / mode if args.all else args.output
            for path in podtemplates.write(checked, target):
                print(f"{mode}: wrote {path} ({judged})", file=sys.stderr)
        return 0

    def pods(args: argparse.Namespace) -> int:
        import yaml

        from bootstrap import preview

        found = preview.task_pods(
            _helm(),
            _chart_values(args),
            args.dag,
            task_id=args.task,
            release_namespace=args.namespace,
        )
        for item in found:
            print(f"# {item.dag_id}.{item.task_id} (template: {item.template})")
            print("---")
            print(yaml.safe_dump(item.pod, sort_keys=False), end="")
        return 0

    template_parser = sub.add_parser(
        "pod-template",
        help="render the worker pod template for a DAG mode from the chart",
        description="Render the KubernetesExecutor's pod_template_file for a DAG mode from the "
        "chart, "
        "check Airflow's rules (first container 'base' with an image, metadata.name, restartPolicy "
        "Never) and load it with Airflow's PodGenerator when Airflow is importable. Named "
        "templates "
        "(workers.podTemplates) are written beside the default one.",
    )
    template_parser.add_argument("--mode", choices=["image", "volume", "git-sync"], help="DAG mode")
    template_parser.add_argument(
        "--all", action="store_true", help="all three modes, one folder each under -o DIR"
    )
    template_parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="PATH",
        help="file (.yaml) or folder to write; default: print to stdout",
    )
    _values_options(template_parser)
    template_parser.set_defaults(handler=pod_template)

    pods_parser = sub.add_parser(
        "pods",
        help="show the exact pods the executor would launch for a DAG's tasks",
        description="Parse a DAG file with Airflow and build each task's pod the way the "
        "KubernetesExecutor does: the chart's pod template, merged with the task's executor_config "
        "(pod_template_file, pod_override) by Airflow's PodGenerator. Needs no database or "
        "cluster.",
    )
    pods_parser.add_argument("--dag", type=Path, required=True, metavar="FILE", help="the DAG file")
    pods_parser.add_argument("--task", metavar="ID", help="only this task")
    pods_parser.add_argument(
        "--namespace", default="airflow", help="the release namespace (default: airflow)"
    )
    _values_options(pods_parser)
    pods_parser.set_defaults(handler=pods)


def _release_options(parser: argparse.ArgumentParser) -> None:
    """Which release, where: the options every command on a deployed release takes."""
    parser.add_argument("--release", default="airflow", help="Helm release name (default: airflow)")
    parser.add_argument("--namespace", default="airflow", help="namespace (default: airflow)")
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        metavar="FILE",
        help="cluster to use; default: $KUBECONFIG, ~/.kube/config, else the local cluster's",
    )


def _kubeconfig(args: argparse.Namespace) -> Path | None:
    """The kubeconfig asked for, else the usual defaults, else the local cluster's."""
    from bootstrap import cluster, kube

    if args.kubeconfig or kube.default_kubeconfig():
        return args.kubeconfig
    local = cluster.kubeconfig_path()
    return local if local.is_file() else None


def _target(args: argparse.Namespace) -> Any:
    """The release the command is about, from --release, --namespace and --kubeconfig."""
    from bootstrap.release import Target

    return Target(name=args.release, namespace=args.namespace, kubeconfig=_kubeconfig(args))


def _release(args: argparse.Namespace) -> Any:
    """The installed release the command is about (its values and objects read through helm)."""
    from bootstrap.release import Release

    return Release.open(_helm(), _target(args))


def _minutes(text: str) -> datetime.timedelta:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("the timeout must be positive")
    return datetime.timedelta(seconds=seconds)


def _add_release_commands(sub: argparse._SubParsersAction) -> None:
    """``airkube deploy | smoke | status | logs | down``: a release on a cluster."""

    def show(state: Any) -> None:
        mark = "ready" if state.ready else "....."
        print(f"  [{mark}] {state.kind:<11} {state.name:<32} {state.detail}", flush=True)

    def deploy_command(args: argparse.Namespace) -> int:
        from bootstrap import dagsync, deploy, images, values

        chart_values = _chart_values(args)
        if args.airflow_image:
            chart_values = values.merge(
                chart_values, deploy.image_values({"airflow": args.airflow_image})
            )
        if args.built_images:
            recorded = images.built_images()
            if not recorded:
                raise AirkubeError(
                    "no images built yet", hint="run: airkube image build --image all"
                )
            chart_values = values.merge(chart_values, deploy.image_values(recorded))
        settings = deploy.DeploySettings(target=_target(args), timeout=args.timeout)
        target = settings.target
        print(f"deploying release {target.name} to namespace {target.namespace}", flush=True)
        result = deploy.deploy(_helm(), chart_values, settings, on_change=show)
        print(
            f"release {result.release.name} revision {result.release.revision}: every component "
            f"ready after {result.seconds:.0f}s"
        )
        if result.release.notes:
            print(result.release.notes.rstrip())
        if args.push_dags:
            sent = dagsync.push(_release(args), args.push_dags)
            print(f"copied {len(sent)} files from {args.push_dags} into the DAG volume")
        return 0

    def smoke_command(args: argparse.Namespace) -> int:
        from bootstrap import smoke

        result = smoke.smoke(
            _release(args),
            dag_id=args.dag,
            timeout=args.timeout,
            admin_secret=args.admin_secret,
            on_event=lambda text: print(text, flush=True),
        )
        print(f"{result.dag_id} run {result.run_id}: {result.state} in {result.seconds:.0f}s")
        for task in result.tasks:
            print(f"  {task.task_id:<28} {task.state:<10} pod {task.pod or '-'}")
        return 0 if result.succeeded else 1

    def status_command(args: argparse.Namespace) -> int:
        from bootstrap import deploy, kube

        kubeconfig = _kubeconfig(args)
        release = _helm().current(
            release=args.release, namespace=args.namespace, kubeconfig=kubeconfig
        )
        if release is None:
            print(f"release {args.release} is not installed in namespace {args.namespace}")
            return 1
        print(f"release {release.name}: revision {release.revision}, {release.status}")
        states = deploy.release_state(kube.clients(kubeconfig), _target(args))
        for state in states:
            show(state)
        return 0 if all(state.ready for state in states) else 1

    def logs_command(args: argparse.Namespace) -> int:
        from bootstrap import logs

        print(logs.read(_release(args), args.target, tail=args.tail), end="")
        return 0

    def down_command(args: argparse.Namespace) -> int:
        from bootstrap import deploy

        settings = deploy.DeploySettings(target=_target(args))
        if deploy.remove(_helm(), settings):
            print(
                f"release {args.release} removed; kept: its Secrets and the Postgres data volume "
                "(delete the namespace to remove everything)"
            )
        else:
            print(f"release {args.release} was not installed in namespace {args.namespace}")
        return 0

    deploy_parser = sub.add_parser(
        "deploy",
        help="helm upgrade --install the chart and wait until Airflow is up",
        description="Install or upgrade the chart (through pyhelm3, one merged values dict), then "
        "wait "
        "until the migration finished and every component is ready, showing each as it changes. "
        "A pod that cannot start ends the wait with its events and last log lines.",
    )
    _values_options(deploy_parser)
    _release_options(deploy_parser)
    deploy_parser.add_argument(
        "--timeout",
        type=_minutes,
        default=datetime.timedelta(minutes=15),
        metavar="SECONDS",
        help="how long to wait for readiness (default: 900)",
    )
    deploy_parser.add_argument(
        "--built-images",
        action="store_true",
        help="use the images 'airkube image build' made last (local clusters)",
    )
    deploy_parser.add_argument(
        "--airflow-image",
        metavar="REF",
        help="the Airflow image to run, e.g. registry.example/airflow:3.3.2-1 (sets "
        "images.airflow)",
    )
    deploy_parser.add_argument(
        "--push-dags",
        type=Path,
        metavar="DIR",
        help="then copy this DAG folder into the DAG volume (dags.mode=volume)",
    )
    deploy_parser.set_defaults(handler=deploy_command)

    smoke_parser = sub.add_parser(
        "smoke",
        help="trigger a DAG through the REST API and follow its task pods",
        description="Port-forward to the api-server, log in as the admin user, unpause and trigger "
        "the "
        "DAG, and follow it to the end: each task's state and the worker pod that ran it. "
        "Exits non-zero if any task failed.",
    )
    smoke_parser.add_argument(
        "--dag", default="airkube_smoke", help="DAG id (default: airkube_smoke)"
    )
    smoke_parser.add_argument(
        "--admin-secret",
        metavar="NAME",
        help="Secret with the admin password (default: the one the release uses)",
    )
    smoke_parser.add_argument(
        "--timeout",
        type=_minutes,
        default=datetime.timedelta(minutes=10),
        metavar="SECONDS",
        help="how long the run may take (default: 600)",
    )
    _release_options(smoke_parser)
    smoke_parser.set_defaults(handler=smoke_command)

    status_parser = sub.add_parser("status", help="the release and the readiness of each component")
    _release_options(status_parser)
    status_parser.set_defaults(handler=status_command)

    logs_parser = sub.add_parser(
        "logs",
        help="logs of a component, or of a task from the Airflow API",
        description="TARGET is a component (scheduler, api-server, dag-processor, triggerer, "
        "postgresql, "
        "migrate) for its pod's log, or DAG_ID/TASK_ID for the task's log in the latest run, read "
        "through the Airflow API (so it works after the task's pod is gone).",
    )
    logs_parser.add_argument("target", help="component, or DAG_ID/TASK_ID")
    logs_parser.add_argument("--tail", type=int, default=200, help="last lines of a component log")
    _release_options(logs_parser)
    logs_parser.set_defaults(handler=logs_command)

    down_parser = sub.add_parser(
        "down", help="uninstall the release (Secrets and database data are kept)"
    )
    _release_options(down_parser)
    down_parser.set_defaults(handler=down_command)


def _add_dev_commands(sub: argparse._SubParsersAction) -> None:
    """``airkube dev``: the local DAG development loop."""

    def dev_command(args: argparse.Namespace) -> int:
        from bootstrap import deploy, devloop, images, values

        release = _release(args)
        settings = devloop.DevSettings(folder=args.dags)

        def reload_image() -> None:
            # Image mode: the DAGs are part of the image, so a change is a new image and an upgrade.
            built = images.build_images(["airflow"], images.BuildOptions(dags_dir=args.dags))
            images.load_into_cluster([image.reference for image in built])
            chart_values = values.merge(
                _chart_values(args),
                deploy.image_values({image.name: image.reference for image in built}),
            )
            deploy.deploy(_helm(), chart_values, deploy.DeploySettings(target=release.target))

        print("watching for DAG changes; Ctrl-C stops", flush=True)
        with release.connected_api() as api:
            devloop.watch(
                api,
                release,
                settings,
                reload_image=reload_image,
                on_event=lambda text: print(f"{time.strftime('%H:%M:%S')} {text}", flush=True),
            )
        return 0

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
    _values_options(parser)
    _release_options(parser)
    parser.set_defaults(handler=dev_command)


def _add_bench_command(sub: argparse._SubParsersAction) -> None:
    """``airkube bench``: the performance baseline."""

    def bench_command(args: argparse.Namespace) -> int:
        from bootstrap import bench, cluster

        pids = [component.pid for component in cluster.status() if component.pid]
        results = bench.measure(
            _helm(),
            kubeconfig=_kubeconfig(args),
            daemon_pids=pids,
            on_event=lambda text: print(text, flush=True),
        )
        json_path, png_path = bench.write(results, args.output)
        print(bench.markdown_table(results))
        print(f"wrote {json_path} and {png_path}")
        return 0

    parser = sub.add_parser(
        "bench",
        help="measure install time, task latency, parallel wall time, image build and memory",
        description="On the local cluster: cold and warm image builds, helm install until every "
        "component is ready, queued-to-running latency and wall time of a DAG of 20 parallel "
        "no-op tasks, and the peak memory of cluster plus Airflow meanwhile. Writes results.json "
        "and results.png.",
    )
    parser.add_argument("--output", type=Path, default=Path("bench"), help="folder for the results")
    parser.add_argument(
        "--kubeconfig", type=Path, metavar="FILE", help="cluster (default: the local one)"
    )
    parser.set_defaults(handler=bench_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airkube",
        description="Deploy Apache Airflow 3 with the KubernetesExecutor on Kubernetes.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command run")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_tool_commands(sub)
    _add_chart_commands(sub)
    _add_release_commands(sub)
    _add_dev_commands(sub)
    _add_bench_command(sub)
    _add_image_commands(sub)
    _add_cluster_commands(sub)
    return parser


def _report(error: AirkubeError) -> None:
    """One line for a one-line error; a multi-line one keeps its lines and puts the hint last."""
    message = str(error.args[0]) if error.args else ""
    if "\n" not in message:
        print(f"airkube: error: {error}", file=sys.stderr)
        return
    print(f"airkube: error: {message}", file=sys.stderr)
    if error.hint:
        print(f"  hint: {error.hint}", file=sys.stderr)


def _api_refusal(args: argparse.Namespace, error: Exception) -> AirkubeError | None:
    """A Kubernetes API error any command let through, as readable lines; None for others."""
    from kubernetes.client.exceptions import ApiException

    from bootstrap import refusals

    if not isinstance(error, ApiException):
        return None
    action = f"a Kubernetes API call of `airkube {args.command}`"
    return refusals.explain_api_exception(
        action, int(error.status or 0), str(error.reason or ""), error.body
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # pyhelm3 logs every helm command at INFO, and expected failures (a release that is not
        # installed yet) at WARNING; that is -v material. Our own errors report real failures.
        logging.getLogger("pyhelm3").setLevel(logging.ERROR)
    handler: Handler = args.handler
    try:
        return handler(args)
    except AirkubeError as error:
        _report(error)
        return 1
    except Exception as error:
        refused = _api_refusal(args, error)
        if refused is None:
            raise
        _report(refused)
        return 1
    except KeyboardInterrupt:
        print("airkube: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
