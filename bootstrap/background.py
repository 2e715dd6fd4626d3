"""A loop that runs on its own thread while a ``with`` block runs, for the benchmark's
observers (pod watch, memory sampling)."""

from __future__ import annotations

import threading
from typing import Self


class Background:
    """Subclasses put their loop in ``run``, checking ``stopping``; ``stop`` may also wake it."""

    join_seconds: float = 10

    def __init__(self) -> None:
        self.stopping = threading.Event()

    def run(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._thread.join(timeout=self.join_seconds)
