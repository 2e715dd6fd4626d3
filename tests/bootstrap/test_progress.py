"""Progress output: a live table and spinners on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass

import pytest
from rich.console import Console

from bootstrap import progress


@dataclass(frozen=True)
class State:
    kind: str
    name: str
    ready: bool
    detail: str


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120, color_system=None), out


def test_off_a_terminal_each_change_should_be_one_plain_line() -> None:
    out = io.StringIO()
    with progress.ReadinessView("release e2e", out=out) as view:
        view.update(State("Deployment", "e2e-scheduler", False, "0/1 ready"))
        view.update(State("Deployment", "e2e-scheduler", True, "1/1 ready"))
    lines = out.getvalue().splitlines()
    assert lines == [
        "  [.....] Deployment  e2e-scheduler                    0/1 ready",
        "  [ready] Deployment  e2e-scheduler                    1/1 ready",
    ]


def test_on_a_terminal_the_table_should_hold_one_row_per_component() -> None:
    console, out = terminal()
    with progress.ReadinessView("release e2e", target=console) as view:
        view.update(State("StatefulSet", "e2e-postgresql", False, "0/1 ready"))
        view.update(State("Deployment", "e2e-scheduler", False, "0/1 ready"))
        view.update(State("StatefulSet", "e2e-postgresql", True, "1/1 ready"))
    final = out.getvalue().rsplit("release e2e:", 1)[1]
    assert final.startswith(" 1/2 ready"), final
    assert final.count("e2e-postgresql") == 1, "a change updates its row, it adds none"
    assert "1/1 ready" in final and "e2e-scheduler" in final


def test_the_status_table_should_tick_its_elapsed_time() -> None:
    table = progress.ReadinessTable("release e2e", started=time.monotonic() - 42)
    console, out = terminal()
    console.print(table)
    assert "release e2e: 0/0 ready, 42s" in out.getvalue()


def test_off_a_terminal_long_work_should_log_a_line_a_minute(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.01)
    caplog.set_level(logging.INFO, logger="bootstrap.progress")
    with progress.working("kubernetes v1.37.0: compiling kubelet"):
        deadline = time.monotonic() + 10
        while "still going" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.01)
    assert "kubernetes v1.37.0: compiling kubelet..." in caplog.text
    assert "kubernetes v1.37.0: compiling kubelet: still going" in caplog.text


def test_on_a_terminal_long_work_should_spin_with_its_label() -> None:
    console, out = terminal()
    with progress.working("building airkube/airflow:3.3.2-abc", target=console):
        pass
    assert "building airkube/airflow:3.3.2-abc" in out.getvalue()


def test_a_pipe_should_not_count_as_a_terminal() -> None:
    assert not progress.interactive(io.StringIO())
