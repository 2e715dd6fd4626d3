"""``airkube cluster ...``: the local single-node Kubernetes."""

from __future__ import annotations

import argparse
from pathlib import Path

from bootstrap import cluster
from bootstrap.cluster import releases
from bootstrap.cluster.provenance import BINARY_SOURCES, fill_mirror
from bootstrap.cluster.versions import go_programs
from bootstrap.commands.context import Context


def up(args: argparse.Namespace, context: Context) -> int:
    info = cluster.up(source=args.binaries, mirror=args.release_mirror)
    for origin in info.provenance:
        if not origin.path.startswith("cached"):
            print(origin.sentence())
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


def mirror(args: argparse.Namespace, context: Context) -> int:
    layout = cluster.ClusterLayout.default()
    for path in fill_mirror(go_programs(), layout.bin_root, args.folder):
        print(f"packed: {path}")
    print(
        f"serve it (for example: python3 -m http.server -d {args.folder} 8000) and on the "
        f"other machine: {releases.MIRROR_ENV}=http://<this host>:8000 airkube cluster up"
    )
    return 0


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
    up_parser = actions.add_parser(
        "up",
        help="get what is missing, start the cluster, wait for a Ready node",
        description="Idempotent: a second 'up' only checks. The first run downloads the pinned "
        "release archives of Kubernetes, etcd, containerd and CoreDNS (checked against the "
        "sha256 each project publishes); where they cannot be fetched, it compiles them from "
        "their Go modules instead (tens of minutes). It says which path each took.",
    )
    up_parser.add_argument(
        "--binaries",
        choices=BINARY_SOURCES,
        default="auto",
        help="auto: release archives where published, else build; source: build everything",
    )
    up_parser.add_argument(
        "--release-mirror",
        metavar="URL",
        default=None,
        help="fetch the release archives from URL/<host>/<path> instead of the upstream hosts "
        f"(default: ${releases.MIRROR_ENV})",
    )
    up_parser.set_defaults(handler=up)
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
    mirror_parser = actions.add_parser(
        "mirror",
        help="pack the cached binaries as their projects' release archives, for other machines",
        description="Writes each published program's release archive and checksum file under "
        "FOLDER/<host>/<path>, from the binaries this machine has (run 'cluster up' first). "
        "Served over HTTP, it is a --release-mirror for machines that cannot reach the "
        "upstream hosts.",
    )
    mirror_parser.add_argument("folder", type=Path, metavar="FOLDER")
    mirror_parser.set_defaults(handler=mirror)
    actions.add_parser(
        "kubeconfig",
        help="print the path of the cluster administrator's kubeconfig",
        description="For example: export KUBECONFIG=$(airkube cluster kubeconfig)",
    ).set_defaults(handler=kubeconfig)
