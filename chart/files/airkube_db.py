"""What the chart's small checks share: Airflow's options as Airflow resolves them, and a database
connection that does not import Airflow.

The checks (heartbeat_check.py, migrations_check.py, database_wait.py) run often or on every
pod start; starting the Airflow CLI costs over three CPU-seconds, importing psycopg2 alone a few
hundredths. This module sits beside them in the release's config ConfigMap and is imported from
there.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

Result = TypeVar("Result")

CONFIG_FILE = "/opt/airflow/config/airflow.cfg"


class Settings:
    """Airflow options as Airflow resolves them: AIRFLOW__SECTION__KEY wins over airflow.cfg."""

    def __init__(self, config_file: str | None = None) -> None:
        self.parser = configparser.ConfigParser(interpolation=None)
        self.parser.read(config_file or os.environ.get("AIRFLOW_CONFIG", CONFIG_FILE))

    def get(self, section: str, option: str) -> str | None:
        from_env = os.environ.get(f"AIRFLOW__{section.upper()}__{option.upper()}")
        if from_env is not None:
            return from_env
        value = self.parser.get(section, option, fallback=None)
        # The chart doubles "%" because Airflow's own parser interpolates.
        return None if value is None else value.replace("%%", "%")


def is_postgres(url: str) -> bool:
    return url.partition("://")[0].partition("+")[0] in {"postgresql", "postgres"}


@contextmanager
def libpq_connection(url: str, connect_timeout: int | None = None) -> Iterator[Any]:
    """A psycopg2 connection from a SQLAlchemy URL (raises ImportError without psycopg2).

    ``connect_timeout`` bounds the connection attempt: without it libpq waits as long as the
    kernel retries a connection no one answers, minutes where a network policy drops packets."""
    import psycopg2

    options = {} if connect_timeout is None else {"connect_timeout": connect_timeout}
    # libpq reads the URL itself once the SQLAlchemy driver suffix is gone.
    scheme, _, rest = url.partition("://")
    connection = psycopg2.connect(f"{scheme.partition('+')[0]}://{rest}", **options)
    try:
        yield connection
    finally:
        connection.close()


@contextmanager
def sqlalchemy_connection(url: str) -> Iterator[Any]:
    """A SQLAlchemy connection with no pool, for databases other than Postgres."""
    import sqlalchemy
    import sqlalchemy.pool

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def read_database(
    url: str,
    with_libpq: Callable[[str], Result],
    with_sqlalchemy: Callable[[str], Result],
) -> Result:
    """Read with psycopg2 alone on Postgres (about a tenth of SQLAlchemy's import cost), with
    SQLAlchemy on other databases or when psycopg2 is not installed."""
    if is_postgres(url):
        try:
            return with_libpq(url)
        except ImportError:
            pass
    return with_sqlalchemy(url)


def first_line(error: BaseException) -> str:
    """An error as one line: a probe's output becomes an event message, not a traceback."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
