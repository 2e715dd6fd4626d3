"""The git-mode benchmark's sample repository and arithmetic (pure parts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootstrap import gitbench, paths


def test_the_sample_history_should_change_every_file_and_keep_them_from_the_parser(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "repository"
    versions: dict[str, set[str]] = {}
    messages = []
    for snapshot, message in gitbench.sample_snapshots(folder, commits=5, files=12):
        assert snapshot == folder
        messages.append(message)
        for path in (folder / gitbench.GENERATED).iterdir():
            versions.setdefault(path.name, set()).add(path.read_text())
    assert len(messages) == 5
    assert len(versions) == 12
    assert all(len(texts) >= 2 for texts in versions.values()), "every file changes once"
    assert (folder / ".airflowignore").read_text() == f"{gitbench.GENERATED}/\n"
    project = {p.name for p in paths.DAGS_DIR.glob("*.py")}
    assert project <= {p.name for p in folder.glob("*.py")}


def test_each_git_mode_should_be_measured_against_image_mode() -> None:
    summary = gitbench.summarize(
        {"image": [4.0, 5.0, 6.0], "gitSync": [7.0, 8.0, 9.0], "gitBundle": [5.0, 6.0, 7.0]}
    )
    assert summary["image"]["extra_p50"] == 0
    assert summary["gitSync"]["extra_p50"] == pytest.approx(3.0)
    assert summary["gitBundle"] == {"p50": 6.0, "p95": 6.9, "samples": 3, "extra_p50": 1.0}
    table = gitbench.markdown_table(
        {
            "repository": {"generated_dag_files": 200, "commits": 50},
            "task_queued_to_done_seconds": summary,
        }
    )
    assert "| gitSync | 8.0 s / 8.9 s | +3.0 s |" in table
    assert "| image | 5.0 s / 5.9 s | baseline |" in table


def test_a_task_counts_from_queued_to_done() -> None:
    instances = [
        {"queued_when": "2026-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:07.5Z"},
        {"queued_when": "2026-01-01T00:00:00Z", "end_date": None},
    ]
    assert gitbench.task_start_seconds(instances) == [7.5]
