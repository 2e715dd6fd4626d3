"""``airkube deploy | smoke | status | logs | down``: a release on a cluster."""

from __future__ import annotations

import argparse
from pathlib import Path

from bootstrap import dagsync, deploy, gitserver, images, logs, progress, smoke, values
from bootstrap.commands.context import (
    Context,
    chart_values,
    release_options,
    timeout_option,
    values_options,
)
from bootstrap.errors import AirkubeError


def deploy_release(args: argparse.Namespace, context: Context) -> int:
    wanted = deploy.with_images(
        chart_values(args),
        airflow_image=args.airflow_image,
        built=images.built_images() if args.built_images else None,
    )
    settings = deploy.DeploySettings(target=context.target(args), timeout=args.timeout)
    target = settings.target
    if args.git_server:
        server_image = built_image("gitserver")
        server_values = gitserver.serve(
            context.helm(),
            server_image,
            args.git_server,
            release_namespace=target.namespace,
            mode="gitBundle" if wanted.get("dags", {}).get("mode") == "gitBundle" else "gitSync",
            kubeconfig=target.kubeconfig,
            on_event=lambda text: print(text, flush=True),
        )
        wanted = values.merge(wanted, server_values)
    print(f"deploying release {target.name} to namespace {target.namespace}", flush=True)
    with progress.ReadinessView(f"release {target.name}") as view:
        result = deploy.deploy(context.helm(), wanted, settings, on_change=view.update)
    print(
        f"release {result.release.name} revision {result.release.revision}: every component "
        f"ready after {result.seconds:.0f}s"
    )
    if result.release.notes:
        print(result.release.notes.rstrip())
    if args.push_dags:
        sent = dagsync.push(context.release(args), args.push_dags)
        print(f"copied {len(sent)} files from {args.push_dags} into the DAG volume")
    return 0


def built_image(name: str) -> str:
    """The reference of the ``name`` image ``airkube image build`` made last."""
    reference = images.built_images().get(name)
    if reference is None:
        raise AirkubeError(
            f"the {name} image has not been built",
            hint=f"run: airkube image build --image {name} --load",
        )
    return reference


def smoke_run(args: argparse.Namespace, context: Context) -> int:
    result = smoke.smoke(
        context.release(args),
        dag_id=args.dag,
        timeout=args.timeout,
        admin_secret=args.admin_secret,
        on_event=lambda text: print(text, flush=True),
    )
    print(f"{result.dag_id} run {result.run_id}: {result.state} in {result.seconds:.0f}s")
    for task in result.tasks:
        print(f"  {task.task_id:<28} {task.state:<10} pod {task.pod or '-'}")
    return 0 if result.succeeded else 1


def status(args: argparse.Namespace, context: Context) -> int:
    target = context.target(args)
    revision = context.helm().current(
        release=target.name, namespace=target.namespace, kubeconfig=target.kubeconfig
    )
    if revision is None:
        print(f"release {target.name} is not installed in namespace {target.namespace}")
        return 1
    print(f"release {revision.name}: revision {revision.revision}, {revision.status}")
    states = deploy.release_state(context.clients(target), target)
    for state in states:
        print(progress.readiness_line(state))
    return 0 if all(state.ready for state in states) else 1


def read_logs(args: argparse.Namespace, context: Context) -> int:
    print(logs.read(context.release(args), args.target, tail=args.tail), end="")
    return 0


def down(args: argparse.Namespace, context: Context) -> int:
    target = context.target(args)
    if deploy.remove(context.helm(), deploy.DeploySettings(target=target)):
        print(
            f"release {target.name} removed; kept: its Secrets and the embedded Postgres's data "
            "volume, if it had one (delete the namespace to remove everything)"
        )
    else:
        print(f"release {target.name} was not installed in namespace {target.namespace}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    deploy_parser = sub.add_parser(
        "deploy",
        help="helm upgrade --install the chart and wait until Airflow is up",
        description="Install or upgrade the chart (through pyhelm3, one merged values dict), then "
        "wait "
        "until the migration finished and every component is ready, showing each as it changes. "
        "A pod that cannot start ends the wait with its events and last log lines.",
    )
    values_options(deploy_parser)
    release_options(deploy_parser)
    timeout_option(deploy_parser, minutes=15, what="to wait for readiness")
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
    dag_source = deploy_parser.add_mutually_exclusive_group()
    dag_source.add_argument(
        "--push-dags",
        type=Path,
        metavar="DIR",
        help="then copy this DAG folder into the DAG volume (dags.mode=volume)",
    )
    dag_source.add_argument(
        "--git-server",
        type=Path,
        metavar="DIR",
        help="first install the local git server, publish this DAG folder to it and point "
        "dags.gitSync at it over HTTPS (dags.gitBundle when dags.mode=gitBundle; else it sets "
        "dags.mode=gitSync); its login and CA are put into the release namespace",
    )
    deploy_parser.set_defaults(handler=deploy_release)

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
    timeout_option(smoke_parser, minutes=10, what="the run may take")
    release_options(smoke_parser)
    smoke_parser.set_defaults(handler=smoke_run)

    status_parser = sub.add_parser("status", help="the release and the readiness of each component")
    release_options(status_parser)
    status_parser.set_defaults(handler=status)

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
    release_options(logs_parser)
    logs_parser.set_defaults(handler=read_logs)

    down_parser = sub.add_parser(
        "down", help="uninstall the release (Secrets and database data are kept)"
    )
    release_options(down_parser)
    down_parser.set_defaults(handler=down)
