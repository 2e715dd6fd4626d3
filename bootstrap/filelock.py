"""One holder at a time across airkube processes: an advisory lock on a file in the cache.

Users and test workers may run the same long step at once (start the Docker engine, make the
Debian base, build an image, bring the cluster up); the second waits and then finds it done.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


@contextmanager
def exclusive(path: Path, *, waiting: str | None = None) -> Iterator[None]:
    """Hold the lock on ``path`` for the block; log ``waiting`` when another holder is first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting:
                log.info("%s", waiting)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
