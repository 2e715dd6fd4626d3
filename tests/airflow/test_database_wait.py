"""The migration Job's wait for the database (chart/files/database_wait.py).

Connections go through the real driver (psycopg2, the image's) to a name no resolver knows and to
a port nothing listens on, so the messages judged are libpq's own; only time is simulated, so a
ten-minute wait takes no time. A refused password needs a real server: the cluster tier's
external-database test deploys one with a wrong password.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap import paths

sys.path.insert(0, str(paths.CHART_DIR / "files"))
import database_wait

UNKNOWN_HOST = "postgresql+psycopg2://airflow@no-such-host.invalid:5432/airflow"


class FakeClock:
    """time.monotonic and time.sleep for the wait: sleeping moves the clock on."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port that refuses connections: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def wait(url: str, source: str, timeout: int) -> tuple[int, float]:
    """The script's verdict and how long it waited, in simulated seconds."""
    clock = FakeClock()
    start = clock.now
    code = database_wait.wait(url, source, timeout, clock=clock, pause=clock.sleep)
    return code, clock.now - start


def test_an_unknown_external_host_should_end_the_wait_after_the_grace_naming_the_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, waited = wait(UNKNOWN_HOST, "external", timeout=600)
    err = capsys.readouterr().err
    assert code == 1
    assert database_wait.GRACE_SECONDS <= waited < database_wait.GRACE_SECONDS + 5
    assert "no-such-host.invalid:5432 refuses Airflow (unknown host)" in err
    assert "could not translate host name" in err, "the driver's own message must be shown"
    assert "set externalDatabase.host" in err


def test_an_unknown_host_of_the_embedded_database_should_be_waited_for_until_the_timeout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The embedded database's name is the chart's own Service: not a value the user can fix."""
    timeout = 3 * database_wait.GRACE_SECONDS
    code, waited = wait(UNKNOWN_HOST, "embedded", timeout=timeout)
    out, err = capsys.readouterr()
    assert code == 1
    assert waited >= timeout
    assert f"did not accept a connection in {timeout} seconds" in err
    assert "embedded Postgres pod" in err
    assert "waiting for the database at no-such-host.invalid:5432" in out


def test_a_refused_connection_should_be_waited_for_and_then_point_at_reachability(
    closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql+psycopg2://airflow@127.0.0.1:{closed_port}/airflow"
    code, waited = wait(url, "external", timeout=120)
    out, err = capsys.readouterr()
    assert code == 1
    assert waited >= 120
    assert "Connection refused" in err
    assert "networkPolicies.externalDatabase.peers" in err
    reports = [line for line in out.splitlines() if line.startswith("waiting for the database")]
    assert 120 / database_wait.REPORT_EVERY_SECONDS - 1 <= len(reports) <= 13, out


def test_a_database_that_accepts_should_end_the_wait_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database other than Postgres goes through SQLAlchemy; SQLite accepts at once."""
    code, waited = wait(f"sqlite:///{tmp_path / 'airflow.db'}", "connectionSecret", timeout=60)
    assert (code, waited) == (0, 0)
    assert "accepts connections" in capsys.readouterr().out


def test_the_password_in_a_connection_url_should_never_be_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+psycopg2://airflow:hunter2-secret@no-such-host.invalid/airflow"
    code, _ = wait(url, "connectionSecret", timeout=600)
    out, err = capsys.readouterr()
    assert code == 1
    assert "hunter2" not in out + err
    assert "no-such-host.invalid:default port" in err
    assert "externalDatabase.connectionSecret" in err


# Messages as the PostgreSQL server words them, behind libpq's "connection to server ... failed:".
SERVER = 'connection to server at "db.example" (10.0.0.7), port 5432 failed: FATAL:  '


@pytest.mark.parametrize(
    ("message", "source", "refusal"),
    [
        (
            SERVER + 'password authentication failed for user "airflow"',
            "external",
            "password refused",
        ),
        (
            SERVER + 'password authentication failed for user "airflow"',
            "embedded",
            "password refused",
        ),
        ("fe_sendauth: no password supplied", "external", "password refused"),
        (SERVER + 'role "airflow" does not exist', "external", "unknown user"),
        (SERVER + 'database "airflow" does not exist', "external", "unknown database"),
        (SERVER + 'database "airflow" does not exist', "connectionSecret", "unknown database"),
        (
            SERVER + 'no pg_hba.conf entry for host "10.1.0.4", user "airflow"',
            "external",
            "client refused",
        ),
        ("server does not support SSL, but SSL was required", "external", "TLS refused"),
        # The embedded database is made by the chart with its user and database.
        (SERVER + 'role "airflow" does not exist', "embedded", None),
        (SERVER + "the database system is starting up", "external", None),
        (SERVER + "Connection refused", "external", None),
        # A host whose name holds "role" is not a missing role.
        ('connection to server at "controller-db" failed: timeout expired', "external", None),
        # The resolver itself unreachable (a network policy, say) may be waited out.
        (
            'could not translate host name "pg" to address: Temporary failure in name resolution',
            "external",
            None,
        ),
    ],
)
def test_refusals_should_be_told_from_answers_that_waiting_can_change(
    message: str, source: str, refusal: str | None
) -> None:
    found = database_wait.refusal_of(message, source)
    assert (found.name if found else None) == refusal


def test_a_refusal_that_changes_kind_should_start_its_grace_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user created while the password is still wrong: each kind gets its own full grace."""
    answers = iter(
        [SERVER + 'role "airflow" does not exist'] * 6
        + [SERVER + 'password authentication failed for user "airflow"'] * 100
    )

    def refuse(url: str) -> None:
        raise RuntimeError(next(answers))

    monkeypatch.setattr(database_wait, "connect", refuse)
    code, waited = wait("postgresql://airflow@db.example/airflow", "external", timeout=600)
    assert code == 1
    assert waited >= 12 + database_wait.GRACE_SECONDS
    assert "(password refused)" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["600"], ["ten", "external"], ["600", "elsewhere"]])
def test_bad_arguments_should_print_the_usage(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert database_wait.main(argv) == 2
    assert "usage: database_wait.py TIMEOUT_SECONDS embedded|external|connectionSecret" in (
        capsys.readouterr().err
    )
