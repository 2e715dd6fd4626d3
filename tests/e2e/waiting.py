"""The e2e tests' one wait: on an observed state, failing the test with what it waited for."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from bootstrap import polling

T = TypeVar("T")


def wait_for(
    what: str, probe: Callable[[], T | None], *, timeout: float = 300, interval: float = 0.5
) -> T:
    """Poll ``probe`` until it returns something truthy; that value. Fails naming ``what``."""
    try:
        return polling.poll(what, probe, timeout=timeout, interval=interval)
    except polling.TimedOut as error:
        pytest.fail(str(error), pytrace=False)
