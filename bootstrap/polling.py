"""Waiting for an observed state: the one place that polls and paces its polls."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from bootstrap.errors import AirkubeError

T = TypeVar("T")


class TimedOut(AirkubeError):
    """The state did not come about in time."""


def poll(what: str, probe: Callable[[], T | None], *, timeout: float, interval: float) -> T:
    """Call ``probe`` every ``interval`` seconds until it returns something truthy; that value.

    Raises ``TimedOut`` naming ``what`` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise TimedOut(f"timed out after {timeout:.0f} s waiting for {what}")
