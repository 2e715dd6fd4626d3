"""Wait until the metadata database accepts Airflow's connection, or say why it never will.

The migration Job runs this before `airflow db migrate`. A server that is still starting (refused,
timed out, "starting up") is waited for, up to the timeout. An answer that waiting does not change
(a host name no resolver knows, a password the server refuses, a missing database or user, a TLS
mode the server does not speak) ends the wait once it has held for a short grace, with the value
to fix: the rollout then fails within a minute with that message instead of running into its own
timeout. The URL is never printed: it may hold the password.

Usage: python database_wait.py TIMEOUT_SECONDS embedded|external|connectionSecret
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from airkube_db import (
    Settings,
    first_line,
    libpq_connection,
    read_database,
    sqlalchemy_connection,
)

SOURCES = ("embedded", "external", "connectionSecret")
# How long an answer that waiting does not change must hold before the wait ends: a user or
# database created by another tool at the same moment still gets its chance.
GRACE_SECONDS = 20
REPORT_EVERY_SECONDS = 10
CONNECT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Refusal:
    """A kind of answer waiting does not change: the pattern of the driver's message, and the fix
    for each source of the connection (a source without one waits instead)."""

    name: str
    pattern: str
    fixes: dict[str, str]


URL_FIX = "the URL under key 'connection' in the Secret externalDatabase.connectionSecret names"
REFUSALS = (
    Refusal(
        "unknown host",
        r"could not translate host name .*(name or service not known|no address associated)",
        {
            "external": "set externalDatabase.host to a name the cluster's DNS resolves",
            "connectionSecret": f"fix the host in {URL_FIX}",
        },
    ),
    Refusal(
        "password refused",
        r"password authentication failed|no password supplied",
        {
            "external": (
                "put externalDatabase.user's password under the key externalDatabase.passwordSecret"
                ".key of the Secret externalDatabase.passwordSecret.name"
            ),
            "connectionSecret": f"fix the user or password in {URL_FIX}",
            "embedded": (
                "the embedded database's volume was initialised with another password (a claim "
                "kept from an earlier install whose Secret is gone?): put that password in the "
                "Secret postgresql.auth.existingSecret names, or delete the claim to start empty"
            ),
        },
    ),
    Refusal(
        "unknown user",
        r'role ".*" does not exist',
        {
            "external": "set externalDatabase.user to a user the server has, or create it",
            "connectionSecret": f"fix the user in {URL_FIX}",
        },
    ),
    Refusal(
        "unknown database",
        r'database ".*" does not exist',
        {
            "external": "set externalDatabase.database to a database the server has, or create it",
            "connectionSecret": f"fix the database in {URL_FIX}",
        },
    ),
    Refusal(
        "client refused",
        r"no pg_hba\.conf entry",
        {
            "external": (
                "allow the cluster's pod addresses in the server's pg_hba.conf; if it only "
                "accepts TLS, set externalDatabase.sslmode to require"
            ),
            "connectionSecret": "allow the cluster's pod addresses in the server's pg_hba.conf",
        },
    ),
    Refusal(
        "TLS refused",
        r"server does not support ssl",
        {
            "external": "set externalDatabase.sslmode to prefer or disable",
            "connectionSecret": f"fix the sslmode in {URL_FIX}",
        },
    ),
)
UNREACHABLE_FIX = {
    "embedded": "look at the embedded Postgres pod: it may still be starting, or failing",
    "external": (
        "check externalDatabase.host and .port, that the server is up, and that "
        "networkPolicies.externalDatabase.peers lets the pods reach it"
    ),
    "connectionSecret": (
        f"check the host and port in {URL_FIX}, that the server is up, and that "
        "networkPolicies.externalDatabase.peers lets the pods reach it"
    ),
}


def refusal_of(message: str, source: str) -> Refusal | None:
    """The kind of refusal ``message`` reports, if waiting cannot change it for ``source``.

    A host the embedded database's Service names resolves once the Service exists, so an
    unknown host there is the cluster's DNS still settling, not a value to fix."""
    for refusal in REFUSALS:
        if source in refusal.fixes and re.search(refusal.pattern, message, re.IGNORECASE):
            return refusal
    return None


def server_of(url: str) -> str:
    """host:port of the URL, without its credentials."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.hostname or '(no host)'}:{port or 'default port'}"


def connect(url: str) -> None:
    """Open and close one connection; raise what the driver raised."""

    def with_libpq(libpq_url: str) -> None:
        with libpq_connection(libpq_url, connect_timeout=CONNECT_TIMEOUT_SECONDS):
            pass

    def with_sqlalchemy(other_url: str) -> None:
        with sqlalchemy_connection(other_url):
            pass

    read_database(url, with_libpq, with_sqlalchemy)


def wait(
    url: str,
    source: str,
    timeout: int,
    *,
    clock: Callable[[], float] = time.monotonic,
    pause: Callable[[float], None] = time.sleep,
) -> int:
    server = server_of(url)
    deadline = clock() + max(timeout, 1)
    next_report = clock()
    # The refusal the last answers gave, and since when it has held.
    ongoing: Refusal | None = None
    since = next_report
    while True:
        try:
            connect(url)
        except Exception as error:
            message = first_line(error)
        else:
            print(f"the database at {server} accepts connections", flush=True)
            return 0
        now = clock()
        refusal = refusal_of(message, source)
        if refusal is not ongoing:
            ongoing, since = refusal, now
        if refusal is not None and now - since >= GRACE_SECONDS:
            print(
                f"The database at {server} refuses Airflow ({refusal.name}): {message}\n"
                f"To fix: {refusal.fixes[source]}.",
                file=sys.stderr,
                flush=True,
            )
            return 1
        if now >= deadline:
            print(
                f"The database at {server} did not accept a connection in {timeout} seconds: "
                f"{message}\nTo fix: {UNREACHABLE_FIX[source]}.",
                file=sys.stderr,
                flush=True,
            )
            return 1
        if now >= next_report:
            print(f"waiting for the database at {server}: {message}", flush=True)
            next_report = now + REPORT_EVERY_SECONDS
        pause(2)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[0].isdigit() or argv[1] not in SOURCES:
        print(
            f"usage: database_wait.py TIMEOUT_SECONDS {'|'.join(SOURCES)}",
            file=sys.stderr,
        )
        return 2
    url = Settings().get("database", "sql_alchemy_conn")
    if not url:
        print("[database] sql_alchemy_conn is not set in this container", file=sys.stderr)
        return 2
    return wait(url, argv[1], int(argv[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
