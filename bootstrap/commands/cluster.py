"""``airkube cluster ...``: the local single-node Kubernetes."""

from __future__ import annotations

import argparse

from bootstrap import cluster
from bootstrap.commands.context import Context


def up(args: argparse.Namespace, context: Context) -> int:
    info = cluster.up()
    print(f"cluster is up: Kubernetes {info.version} at {info.server} ({info.seconds:.1f} s)")
    print(f"kubeconfig: {info.kubeconfig}")
    print(f"try: kubectl --kubeconfig {info.kubeconfig} get nodes")
    return 0


def down(args: argparse.Namespace, context: Context) -> int:
    stopped = cluster.down()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def status(args: argparse.Namespace, context: Context) -> int:
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


def kubeconfig(args: argparse.Namespace, context: Context) -> int:
    print(cluster.kubeconfig_path())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
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
    ).set_defaults(handler=up)
    actions.add_parser(
        "down",
        help="stop every cluster process and remove its network plumbing (data is kept)",
        description="Stops exactly what 'up' started. Volumes, images and etcd data stay, so "
        "the next 'up' brings back the same cluster.",
    ).set_defaults(handler=down)
    actions.add_parser(
        "status",
        help="show each component's process and health (exit 1 if any is down)",
        description="One line per component: health, pid and the probe's answer.",
    ).set_defaults(handler=status)
    actions.add_parser(
        "kubeconfig",
        help="print the path of the cluster administrator's kubeconfig",
        description="For example: export KUBECONFIG=$(airkube cluster kubeconfig)",
    ).set_defaults(handler=kubeconfig)
