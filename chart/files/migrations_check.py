"""Wait until the metadata database's schema is the one this image's Airflow expects.

The same verdict as `airflow db check-migrations`: every Alembic version table (Airflow's own and
those of the external DB managers, such as FAB's) holds exactly the heads of the migrations this
image ships. The heads come from a record the airkube image writes at build time with Airflow's
own code; this script only reads the version tables (with psycopg2 on Postgres, SQLAlchemy
elsewhere), so a pod start costs a fraction of a CPU-second instead of the Airflow CLI's four or
so, in every component of every rollout.

When the image has no record (another image), the connection is not a plain setting (a `_cmd` or
`_secret` variant), or the configuration adds a DB manager the record does not cover, it hands
over to `airflow db check-migrations`, which decides the same question the slow way.

Usage: python migrations_check.py TIMEOUT_SECONDS [RECORD_FILE]
"""

from __future__ import annotations

import json
import os
import sys
import time

from airkube_db import (
    Settings,
    first_line,
    libpq_connection,
    read_database,
    sqlalchemy_connection,
)

RECORD_FILE = "/usr/local/share/airkube/migration-heads.json"
RECORD_KEYS = {
    "airflow_version",
    "version_tables",
    "db_managers",
    "auth_managers",
    "default_auth_manager",
}
REPORT_EVERY_SECONDS = 10


def airflow_fallback(timeout: int, reason: str) -> None:
    print(f"{reason}; asking `airflow db check-migrations`", flush=True)
    command = ["airflow", "db", "check-migrations", "--migration-wait-timeout", str(timeout)]
    os.execvp(command[0], command)


def load_record(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.keys() >= RECORD_KEYS else None


def uncovered_managers(record: dict, settings: Settings) -> list[str]:
    """DB managers this configuration brings in that the image's record has no heads for."""
    known = set(record["db_managers"])
    configured = settings.get("database", "external_db_managers") or ""
    wanted = [name.strip() for name in configured.split(",") if name.strip()]
    auth_managers = record["auth_managers"]
    auth_manager = settings.get("core", "auth_manager") or record["default_auth_manager"]
    if auth_manager not in auth_managers:
        return [f"the DB manager of auth manager {auth_manager}"]
    if auth_managers[auth_manager]:
        wanted.append(auth_managers[auth_manager])
    return [name for name in wanted if name not in known]


def database_heads(url: str, tables: list[str]) -> dict[str, set[str]]:
    """Each version table's rows; a table that does not exist yet holds none."""
    return read_database(
        url,
        lambda libpq_url: _database_heads_libpq(libpq_url, tables),
        lambda other_url: _database_heads_sqlalchemy(other_url, tables),
    )


def _database_heads_libpq(url: str, tables: list[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    with libpq_connection(url) as connection:
        # Each query in its own transaction: a missing table must not abort the next one.
        connection.autocommit = True
        with connection.cursor() as cursor:
            for table in tables:
                # Unqualified, as Alembic names it: the connection's search_path decides.
                cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{table}"',))
                if not cursor.fetchone()[0]:
                    found[table] = set()
                    continue
                cursor.execute(f'SELECT version_num FROM "{table}"')
                found[table] = {row[0] for row in cursor.fetchall()}
    return found


def _database_heads_sqlalchemy(url: str, tables: list[str]) -> dict[str, set[str]]:
    import sqlalchemy

    found: dict[str, set[str]] = {}
    with sqlalchemy_connection(url) as connection:
        present = sqlalchemy.inspect(connection)
        for table in tables:
            if not present.has_table(table):
                found[table] = set()
                continue
            version_table = sqlalchemy.table(table, sqlalchemy.column("version_num"))
            rows = connection.execute(sqlalchemy.select(version_table.c.version_num))
            found[table] = {row[0] for row in rows}
    return found


def differences(expected: dict[str, list[str]], found: dict[str, set[str]]) -> list[str]:
    return [
        f"{table} holds {sorted(found[table]) or 'nothing'}, the image needs {sorted(heads)}"
        for table, heads in expected.items()
        if found[table] != set(heads)
    ]


def wait(url: str, expected: dict[str, list[str]], timeout: int, version: str) -> int:
    deadline = time.monotonic() + max(timeout, 1)
    next_report = time.monotonic()
    while True:
        try:
            pending = differences(expected, database_heads(url, list(expected)))
        except Exception as error:
            pending = [f"cannot read the database: {first_line(error)}"]
        if not pending:
            print(f"the database schema is at Airflow {version}'s migration heads", flush=True)
            return 0
        now = time.monotonic()
        if now >= deadline:
            print(
                f"There are still unapplied migrations after {timeout} seconds: "
                + "; ".join(pending),
                file=sys.stderr,
            )
            return 1
        if now >= next_report:
            print("waiting for migrations: " + "; ".join(pending), flush=True)
            next_report = now + REPORT_EVERY_SECONDS
        time.sleep(1)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or not argv[0].isdigit():
        print("usage: migrations_check.py TIMEOUT_SECONDS [RECORD_FILE]", file=sys.stderr)
        return 2
    timeout = int(argv[0])
    record = load_record(argv[1] if len(argv) == 2 else RECORD_FILE)
    if record is None:
        airflow_fallback(timeout, "this image has no record of its migration heads")
    settings = Settings()
    url = settings.get("database", "sql_alchemy_conn")
    if url is None:
        airflow_fallback(timeout, "[database] sql_alchemy_conn is not a plain setting here")
    uncovered = uncovered_managers(record, settings)
    if uncovered:
        airflow_fallback(timeout, f"the image's record does not cover {', '.join(uncovered)}")
    return wait(url, record["version_tables"], timeout, record["airflow_version"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
