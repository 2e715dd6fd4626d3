"""Which files of a DAG folder travel: into the image, into the DAG volume, into the dev loop's
change detection. One rule for all three, so a file baked into the image is also one pushed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

# Bytecode caches and version-control or notebook folders are never DAG content.
SKIPPED_PARTS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".ipynb_checkpoints"})


def dag_files(folder: Path) -> Iterator[tuple[Path, str]]:
    """Each file to ship from ``folder`` with its relative POSIX path, sorted by path."""
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if SKIPPED_PARTS & set(relative.parts) or path.suffix == ".pyc" or not path.is_file():
            continue
        yield path, relative.as_posix()
