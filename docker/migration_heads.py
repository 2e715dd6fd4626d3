"""Write, as JSON, the migration heads this image's Airflow expects in the metadata database.

Run once while the image is built, with Airflow's own code: the heads of Airflow's migrations and
of every DB manager the installed providers declare (FAB's, for one), plus which DB manager each
auth manager this image can run brings along. The chart's migrations_check.py compares the
database's version tables with this record on every pod start instead of starting the Airflow
CLI, and hands over to `airflow db check-migrations` for anything the record does not cover.
"""

from __future__ import annotations

import importlib
import json
import sys

AUTH_MANAGERS = [
    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
    "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
]


def record() -> dict:
    from airflow import __version__
    from airflow.configuration import conf
    from airflow.utils.db import _get_alembic_config, _get_script_object
    from airflow.utils.db_manager import RunDBManager

    tables = {"alembic_version": sorted(_get_script_object(_get_alembic_config()).get_heads())}
    managers = RunDBManager()._managers
    for manager in managers:
        tables[manager.version_table_name] = sorted(manager(None).get_script_object().get_heads())
    auth_managers = {}
    for path in AUTH_MANAGERS:
        module, _, name = path.rpartition(".")
        try:
            auth_manager = getattr(importlib.import_module(module), name)
        except ImportError:
            continue
        auth_managers[path] = auth_manager.get_db_manager()
    return {
        "airflow_version": __version__,
        "version_tables": tables,
        "db_managers": sorted(f"{m.__module__}.{m.__qualname__}" for m in managers),
        "auth_managers": auth_managers,
        "default_auth_manager": conf.get_default_value("core", "auth_manager"),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: migration_heads.py OUTPUT_FILE", file=sys.stderr)
        return 2
    # A file, not stdout: Airflow's import logs its warnings on stdout.
    with open(argv[0], "w", encoding="utf-8") as handle:
        json.dump(record(), handle, indent=2, sort_keys=True)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
