"""Liveness of an Airflow job process, judged from its heartbeat in the metadata database.

The same verdict as `airflow jobs check --job-type <type> --local`: this host's newest running job
of that type must have heartbeated within Airflow's health-check threshold. That command starts
the whole Airflow CLI (over three CPU-seconds a check); this reads the same row with the database
driver alone (SQLAlchemy for databases other than Postgres), so a probe costs a small fraction of
that and can run often enough to catch a hung process quickly.

Usage: python heartbeat_check.py TriggererJob|DagProcessorJob
"""

from __future__ import annotations

import datetime
import socket
import sys

from airkube_db import (
    Settings,
    first_line,
    libpq_connection,
    read_database,
    sqlalchemy_connection,
)

# Where each job type's threshold lives in airflow.cfg; the chart writes both options there.
THRESHOLD_OPTIONS = {
    "TriggererJob": ("triggerer", "triggerer_health_check_threshold"),
    "DagProcessorJob": ("dag_processor", "health_check_threshold"),
}
DEFAULT_HOSTNAME_CALLABLE = "airflow.utils.net.getfqdn"


def this_host(settings: Settings) -> str:
    """The hostname Airflow recorded for jobs started in this container."""
    callable_path = settings.get("core", "hostname_callable") or DEFAULT_HOSTNAME_CALLABLE
    if callable_path != DEFAULT_HOSTNAME_CALLABLE:
        module_name, _, attribute = callable_path.replace(":", ".").rpartition(".")
        module = __import__(module_name, fromlist=[attribute])
        return getattr(module, attribute)()
    # Airflow's default: the canonical name the resolver gives for this host's name, if any.
    name = socket.gethostname()
    try:
        entries = socket.getaddrinfo(name, None, 0, socket.SOCK_DGRAM, 0, socket.AI_CANONNAME)
    except OSError:
        return name
    return next((entry[3] for entry in entries if entry[3]), name)


def newest_heartbeat(
    url: str, schema: str | None, job_type: str, hostname: str
) -> datetime.datetime | None:
    """The latest heartbeat of this host's running jobs of that type, or None when there is none."""
    return read_database(
        url,
        lambda libpq_url: _newest_heartbeat_libpq(libpq_url, schema, job_type, hostname),
        lambda other_url: _newest_heartbeat_sqlalchemy(other_url, schema, job_type, hostname),
    )


def _newest_heartbeat_libpq(
    url: str, schema: str | None, job_type: str, hostname: str
) -> datetime.datetime | None:
    from psycopg2 import sql

    table = sql.Identifier(schema, "job") if schema else sql.Identifier("job")
    query = sql.SQL(
        "SELECT latest_heartbeat FROM {} WHERE state = 'running' AND job_type = %s"
        " AND hostname = %s ORDER BY latest_heartbeat DESC LIMIT 1"
    ).format(table)
    with libpq_connection(url) as connection, connection.cursor() as cursor:
        cursor.execute(query, (job_type, hostname))
        row = cursor.fetchone()
    return None if row is None else row[0]


def _newest_heartbeat_sqlalchemy(
    url: str, schema: str | None, job_type: str, hostname: str
) -> datetime.datetime | None:
    import sqlalchemy

    job = sqlalchemy.table(
        "job",
        sqlalchemy.column("job_type"),
        sqlalchemy.column("hostname"),
        sqlalchemy.column("state"),
        sqlalchemy.column("latest_heartbeat", sqlalchemy.DateTime),
        schema=schema or None,
    )
    query = (
        sqlalchemy.select(job.c.latest_heartbeat)
        .where(job.c.state == "running", job.c.job_type == job_type, job.c.hostname == hostname)
        .order_by(job.c.latest_heartbeat.desc())
        .limit(1)
    )
    with sqlalchemy_connection(url) as connection:
        return connection.execute(query).scalar()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in THRESHOLD_OPTIONS:
        print(f"usage: heartbeat_check.py {'|'.join(THRESHOLD_OPTIONS)}", file=sys.stderr)
        return 2
    job_type = argv[0]
    settings = Settings()
    section, option = THRESHOLD_OPTIONS[job_type]
    threshold = settings.get(section, option)
    url = settings.get("database", "sql_alchemy_conn")
    if threshold is None or url is None:
        missing = f"[{section}] {option}" if threshold is None else "[database] sql_alchemy_conn"
        print(f"{missing} is not set in airflow.cfg or the environment", file=sys.stderr)
        return 1
    hostname = this_host(settings)
    try:
        heartbeat = newest_heartbeat(
            url, settings.get("database", "sql_alchemy_schema"), job_type, hostname
        )
    except Exception as error:
        print(f"cannot read the job table: {first_line(error)}", file=sys.stderr)
        return 1
    if heartbeat is None:
        print(f"no running {job_type} on host {hostname}", file=sys.stderr)
        return 1
    if heartbeat.tzinfo is None:
        # Airflow stores UTC; a database without time zones hands it back naive.
        heartbeat = heartbeat.replace(tzinfo=datetime.UTC)
    age = (datetime.datetime.now(datetime.UTC) - heartbeat).total_seconds()
    if age >= float(threshold):
        print(
            f"{job_type} on host {hostname} last heartbeat {age:.0f} s ago; the limit is "
            f"[{section}] {option} = {threshold} s",
            file=sys.stderr,
        )
        return 1
    print(f"{job_type} on host {hostname} heartbeat {age:.0f} s ago")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
