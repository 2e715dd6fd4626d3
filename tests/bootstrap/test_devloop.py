"""The dev loop's change detection (pure logic on a real folder)."""

from __future__ import annotations

import os
from pathlib import Path

from bootstrap import devloop


def test_changes_should_name_added_modified_and_removed_files(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    (tmp_path / "b.py").write_text("b = 1\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"x")
    before = devloop.snapshot(tmp_path)
    assert set(before) == {"a.py", "b.py"}, "bytecode caches are not DAG files"

    (tmp_path / "a.py").write_text("a = 22\n")
    stat = (tmp_path / "a.py").stat()
    os.utime(tmp_path / "a.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    (tmp_path / "b.py").unlink()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.py").write_text("c = 1\n")
    found = devloop.changes(before, devloop.snapshot(tmp_path))
    assert [(c.path, c.kind) for c in found] == [
        ("a.py", "modified"),
        ("b.py", "removed"),
        ("sub/c.py", "added"),
    ]


def test_no_change_should_yield_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    assert devloop.changes(devloop.snapshot(tmp_path), devloop.snapshot(tmp_path)) == []
