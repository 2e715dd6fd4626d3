"""How long-running work shows itself. On a terminal: a live readiness table while a deploy
waits, and a spinner with the elapsed time while something builds (rich). Anywhere else (CI logs,
pipes, files): plain lines that read well in a log, one per change, and a line a minute while a
build runs."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.logging import RichHandler
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 60.0


def interactive(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal a person watches (not a pipe, a file or a dumb terminal)."""
    return stream.isatty() and os.environ.get("TERM", "") != "dumb"


_console: Console | None = None


def console() -> Console | None:
    """The console live displays and log lines share on a terminal; None elsewhere."""
    return _console


def setup_logging(*, verbose: bool, stream: TextIO | None = None) -> None:
    """Log to ``stream`` (stderr): through rich on a terminal, so log lines print above a live
    display instead of through it; as plain lines elsewhere."""
    global _console
    stream = stream or sys.stderr
    level = logging.DEBUG if verbose else logging.INFO
    if interactive(stream):
        _console = Console(file=stream)
        handler: logging.Handler = RichHandler(
            console=_console, show_time=False, show_level=False, show_path=False, markup=False
        )
        logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    else:
        _console = None
        logging.basicConfig(level=level, format="%(message)s", stream=stream, force=True)


@contextmanager
def working(label: str, *, target: Console | None = None) -> Iterator[None]:
    """Show that ``label`` is under way until the block ends: a spinner with the elapsed time
    on a terminal, else a log line at the start and one a minute while it lasts."""
    target = target or console()
    started = time.monotonic()
    if target is not None:
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=target, transient=True) as progress:
            progress.add_task(label, total=None)
            yield
        return
    log.info("%s...", label)
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            log.info("%s: still going, %.0f min so far", label, (time.monotonic() - started) / 60)

    beat = threading.Thread(target=heartbeat, name="progress-heartbeat", daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join()


class ComponentLike(Protocol):
    """What the readiness view needs of a component's state."""

    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def ready(self) -> bool: ...
    @property
    def detail(self) -> str: ...


def readiness_line(state: ComponentLike) -> str:
    """One plain line for one component's change (the non-terminal form)."""
    mark = "ready" if state.ready else "....."
    return f"  [{mark}] {state.kind:<11} {state.name:<32} {state.detail}"


@dataclass
class ReadinessTable:
    """The components of a release as a table that ticks its elapsed time when refreshed."""

    title: str
    started: float = field(default_factory=time.monotonic)
    rows: dict[str, ComponentLike] = field(default_factory=dict)

    def __rich_console__(self, _console: Console, _options: ConsoleOptions) -> RenderResult:
        ready = sum(state.ready for state in self.rows.values())
        elapsed = time.monotonic() - self.started
        yield Text(f"{self.title}: {ready}/{len(self.rows)} ready, {elapsed:.0f}s")
        table = Table(box=None, pad_edge=False)
        for column in ("", "kind", "name", "state"):
            table.add_column(column, no_wrap=column != "state")
        for state in self.rows.values():
            mark = "[green]✓[/]" if state.ready else "[yellow]…[/]"
            table.add_row(mark, state.kind, state.name, state.detail)
        yield table


class ReadinessView:
    """Reports each component change of a deploy: a live table on a terminal, else one line per
    change. Use as a context manager; pass :meth:`update` as the deploy's ``on_change``."""

    def __init__(self, title: str, *, target: Console | None = None, out: TextIO | None = None):
        self.target = target or console()
        self.out = out or sys.stdout
        self.table = ReadinessTable(title)
        self._live: Live | None = None

    def __enter__(self) -> ReadinessView:
        if self.target is not None:
            self._live = Live(self.table, console=self.target, refresh_per_second=2)
            self._live.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def update(self, state: ComponentLike) -> None:
        self.table.rows[state.name] = state
        if self._live is not None:
            self._live.refresh()
        else:
            print(readiness_line(state), file=self.out, flush=True)
