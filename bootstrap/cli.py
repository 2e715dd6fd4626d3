"""The ``airkube`` command line: assembles the command groups, sets up logging, and turns our
one error type (and a refusal by the Kubernetes API) into a few lines on stderr and exit 1.

Each group lives in ``bootstrap/commands/<group>.py``: its parsers and its handlers, which parse,
call the core and print. Nothing here builds, renders or talks to a cluster itself.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from bootstrap import progress
from bootstrap.commands import chart, cluster, dev, image, release
from bootstrap.commands.context import Context
from bootstrap.errors import AirkubeError

Handler = Callable[[argparse.Namespace, Context], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airkube",
        description="Deploy Apache Airflow 3 with the KubernetesExecutor on Kubernetes.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command run")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in (chart, release, dev, image, cluster):
        group.register(sub)
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


def main(argv: Sequence[str] | None = None, *, context: Context | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    progress.setup_logging(verbose=args.verbose)
    if not args.verbose:
        # pyhelm3 logs every helm command at INFO, and expected failures (a release that is not
        # installed yet) at WARNING; that is -v material. Our own errors report real failures.
        logging.getLogger("pyhelm3").setLevel(logging.ERROR)
    handler: Handler = args.handler
    try:
        return handler(args, context or Context())
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
