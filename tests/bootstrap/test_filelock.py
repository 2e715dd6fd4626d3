"""The cross-process lock: a second holder waits, says so, and gets the lock once it is free."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from bootstrap import filelock


def test_second_holder_should_wait_until_the_first_releases(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lock = tmp_path / "locks" / "build.lock"
    order: list[str] = []
    second_is_waiting = threading.Event()

    class Signal(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "another builder" in record.getMessage():
                second_is_waiting.set()

    signal = Signal()
    logging.getLogger(filelock.__name__).addHandler(signal)

    def second() -> None:
        with filelock.exclusive(lock, waiting="waiting for another builder"):
            order.append("second")

    try:
        with caplog.at_level(logging.INFO, logger=filelock.__name__):
            with filelock.exclusive(lock):
                waiter = threading.Thread(target=second)
                waiter.start()
                assert second_is_waiting.wait(timeout=30), "the second holder did not wait"
                order.append("first")
            waiter.join(timeout=30)
    finally:
        logging.getLogger(filelock.__name__).removeHandler(signal)
    assert order == ["first", "second"]
