"""Clone the configured DAG bundles once, before the dag-processor starts.

The dag-processor itself only logs a bundle it cannot clone and keeps running, parsing nothing:
a wrong password or an unknown host key would look like a healthy release with no DAGs. Run as
its init container (same image, environment and bundle volume), this script makes such a
release fail at deploy time with git's own message, and leaves a warm clone behind.

Usage: python bundle_init.py
"""

from __future__ import annotations

import sys


def causes(error: BaseException) -> list[str]:
    """The error and what caused it, each as its text (git's stderr is in the cause)."""
    found: list[str] = []
    current: BaseException | None = error
    while current is not None:
        found.append(f"{type(current).__name__}: {current}".strip())
        current = current.__cause__ or current.__context__
    return found


def main() -> int:
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    failed = False
    for bundle in DagBundlesManager().get_all_dag_bundles():
        try:
            bundle.initialize()
        except Exception as error:  # any failure means the dag-processor would parse nothing
            failed = True
            print(f"bundle {bundle.name}: cannot be cloned", file=sys.stderr)
            for line in causes(error):
                print(f"  {line}", file=sys.stderr)
        else:
            current = bundle.get_current_version()
            # A BundleVersion in this Airflow, a plain string in others.
            print(f"bundle {bundle.name}: ready at version {getattr(current, 'version', current)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
