"""The ``airkube`` command line: parses arguments, calls the core, prints, sets the exit code.

Nothing here builds, renders or talks to a cluster itself; every command hands plain values to a
core function and prints what comes back. ``AirkubeError`` becomes one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from bootstrap.errors import AirkubeError

Handler = Callable[[argparse.Namespace], int]


def _add_image_commands(sub: argparse._SubParsersAction) -> None:
    """``airkube image ...``: build and load images."""


def _add_cluster_commands(sub: argparse._SubParsersAction) -> None:
    """``airkube cluster ...``: the local single-node Kubernetes."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airkube",
        description="Deploy Apache Airflow 3 with the KubernetesExecutor on Kubernetes.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command run")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_image_commands(sub)
    _add_cluster_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except AirkubeError as error:
        print(f"airkube: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("airkube: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
