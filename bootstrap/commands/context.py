"""What a handler gets besides its parsed arguments: the way to helm, the cluster and the release.

Tests give handlers a context of their own (a fake helm runner, a fake ``Release``).
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import Any

from bootstrap import helm, kube, kubeconform
from bootstrap.release import Release, Target


class Context:
    def helm(self) -> helm.Helm:
        """The pinned helm (built into the cache on first use)."""
        from bootstrap import tools

        return helm.Helm(tools.ensure_go_tool(tools.HELM))

    def validator(self, kube_version: str) -> kubeconform.Kubeconform:
        """The pinned kubeconform with the offline schemas of ``kube_version`` (both prepared
        in the cache on first use)."""
        from bootstrap import tools

        tools.ensure_schemas([kube_version])
        return kubeconform.Kubeconform(
            tools.ensure_go_tool(tools.KUBECONFORM), tools.kubeconform_schema_location()
        )

    def kubeconfig(self, given: Path | None) -> Path | None:
        """The kubeconfig asked for, else the usual defaults, else the local cluster's."""
        from bootstrap import cluster

        if given or kube.default_kubeconfig():
            return given
        local = cluster.kubeconfig_path()
        return local if local.is_file() else None

    def clients(self, target: Target) -> kube.KubeClients:
        """Kubernetes API clients for the target's cluster."""
        return kube.clients(target.kubeconfig)

    def target(self, args: argparse.Namespace) -> Target:
        """The release named by --release, --namespace and --kubeconfig."""
        return Target(
            name=args.release, namespace=args.namespace, kubeconfig=self.kubeconfig(args.kubeconfig)
        )

    def release(self, args: argparse.Namespace) -> Release:
        """The installed release the command is about."""
        return Release.open(self.helm(), self.target(args))


def kube_version_option(parser: argparse.ArgumentParser) -> None:
    """The Kubernetes version whose Pod schema the printed pods are validated against."""
    from bootstrap import tools

    parser.add_argument(
        "--kube-version",
        default=tools.KUBERNETES_VERSIONS[-1],
        choices=tools.KUBERNETES_VERSIONS,
        metavar="VERSION",
        help="validate the pods as Pods of this Kubernetes version "
        f"(default {tools.KUBERNETES_VERSIONS[-1]}; {tools.KUBERNETES_VERSIONS[0]} and later)",
    )


def values_options(parser: argparse.ArgumentParser) -> None:
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


def chart_values(args: argparse.Namespace) -> dict[str, Any]:
    """The values of -f and --set, merged as helm merges them."""
    from bootstrap import values

    return values.combine(args.values_files, args.set_values)


def release_options(parser: argparse.ArgumentParser) -> None:
    """Which release, where: the options every command on a deployed release takes."""
    parser.add_argument("--release", default="airflow", help="Helm release name (default: airflow)")
    parser.add_argument("--namespace", default="airflow", help="namespace (default: airflow)")
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        metavar="FILE",
        help="cluster to use; default: $KUBECONFIG, ~/.kube/config, else the local cluster's",
    )


def timeout_option(parser: argparse.ArgumentParser, *, minutes: int, what: str) -> None:
    """``--timeout SECONDS``: how long ``what`` may take, ``minutes`` by default."""
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=datetime.timedelta(minutes=minutes),
        metavar="SECONDS",
        help=f"how long {what} (default: {minutes * 60})",
    )


def seconds(text: str) -> datetime.timedelta:
    """An argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the timeout must be positive")
    return datetime.timedelta(seconds=value)
