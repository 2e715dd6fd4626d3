"""``airkube tools | pod-template | pods``: the pinned tools, and what the chart makes of task
pods."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from bootstrap import podtemplates, preview, tools
from bootstrap.commands.context import Context, chart_values, kube_version_option, values_options
from bootstrap.errors import AirkubeError


def output_only_on_stdout() -> contextlib.AbstractContextManager[object]:
    """While a command computes what it prints, stray prints go to stderr: stdout is YAML a user
    pipes to a file, and DAG files or Airflow's logging (set up to print to stdout) write there."""
    return contextlib.redirect_stdout(sys.stderr)


def install_tools(args: argparse.Namespace, context: Context) -> int:
    found = tools.ensure_all()
    print(f"helm         {tools.HELM.version}  {found.helm}")
    print(f"kubeconform  {tools.KUBECONFORM.version}  {found.kubeconform}")
    print(f"schemas      Kubernetes {', '.join(tools.KUBERNETES_VERSIONS)}  {tools.schemas_dir()}")
    return 0


def pod_template(args: argparse.Namespace, context: Context) -> int:
    if args.all == bool(args.mode):
        raise AirkubeError(
            "give either --mode MODE or --all", hint="e.g. airkube pod-template --mode volume"
        )
    if args.all and not args.output:
        raise AirkubeError("--all writes one folder per mode", hint="add -o DIR")
    wanted = chart_values(args)
    client = context.helm()
    modes = list(podtemplates.MODES) if args.all else [args.mode]
    validator = context.validator(args.kube_version)
    with output_only_on_stdout():
        rendered = {mode: podtemplates.generate(client, wanted, mode) for mode in modes}
        for mode, checked in rendered.items():
            podtemplates.require_valid_pods(
                {f"{mode}/{item.name}": item.template for item in checked},
                validator,
                kube_version=args.kube_version,
            )
    for mode, checked in rendered.items():
        judged = (
            "loaded by Airflow's PodGenerator"
            if checked[0].judged_by_airflow
            else "Airflow not importable: rules checked only"
        ) + f"; a valid Pod for Kubernetes {args.kube_version}"
        if args.output is None:
            print("---\n".join(podtemplates.to_yaml(item.template) for item in checked), end="")
            continue
        target = args.output / mode if args.all else args.output
        for path in podtemplates.write(checked, target):
            print(f"{mode}: wrote {path} ({judged})", file=sys.stderr)
    return 0


def pods(args: argparse.Namespace, context: Context) -> int:
    with output_only_on_stdout():
        found = preview.task_pods(
            context.helm(),
            chart_values(args),
            args.dag,
            task_id=args.task,
            release_namespace=args.namespace,
        )
        podtemplates.require_valid_pods(
            {f"{item.dag_id}.{item.task_id}": item.pod for item in found},
            context.validator(args.kube_version),
            kube_version=args.kube_version,
            what="task",
        )
    for item in found:
        print(f"# {item.dag_id}.{item.task_id} (template: {item.template})")
        print("---")
        print(podtemplates.to_yaml(item.pod), end="")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "tools",
        help="install the pinned helm, kubeconform and offline Kubernetes schemas",
        description="Build helm and kubeconform at their pinned versions from their Go modules and "
        "prepare the offline Kubernetes schemas, all in the cache; a second run only checks "
        "versions.",
    )
    parser.set_defaults(handler=install_tools)

    template_parser = sub.add_parser(
        "pod-template",
        help="render the worker pod template for a DAG mode from the chart",
        description="Render the KubernetesExecutor's pod_template_file for a DAG mode from the "
        "chart, check Airflow's rules (first container 'base' with an image, metadata.name, "
        "restartPolicy Never) and load it with Airflow's PodGenerator when Airflow is importable. "
        "Named templates (workers.podTemplates) are written beside the default one. Nothing is "
        "printed unless every template is a valid Pod (kubeconform -strict).",
    )
    template_parser.add_argument(
        "--mode",
        choices=podtemplates.MODE_CHOICES,
        metavar="MODE",
        help=f"DAG mode: {', '.join(podtemplates.MODES)} (or the chart's spelling, e.g. gitBundle)",
    )
    template_parser.add_argument(
        "--all", action="store_true", help="every mode, one folder each under -o DIR"
    )
    template_parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="PATH",
        help="file (.yaml) or folder to write; default: print to stdout",
    )
    values_options(template_parser)
    kube_version_option(template_parser)
    template_parser.set_defaults(handler=pod_template)

    pods_parser = sub.add_parser(
        "pods",
        help="show the exact pods the executor would launch for a DAG's tasks",
        description="Parse a DAG file with Airflow and build each task's pod the way the "
        "KubernetesExecutor does: the chart's pod template, merged with the task's executor_config "
        "(pod_template_file, pod_override) by Airflow's PodGenerator, and validate each as a Pod "
        "(kubeconform -strict). Needs no database or cluster.",
    )
    pods_parser.add_argument("--dag", type=Path, required=True, metavar="FILE", help="the DAG file")
    pods_parser.add_argument("--task", metavar="ID", help="only this task")
    pods_parser.add_argument(
        "--namespace", default="airflow", help="the release namespace (default: airflow)"
    )
    values_options(pods_parser)
    kube_version_option(pods_parser)
    pods_parser.set_defaults(handler=pods)
