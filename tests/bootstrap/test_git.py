"""Publishing a folder to a repository, against a real bare repository and the git program."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap import git


@pytest.fixture
def remote(tmp_path: Path) -> git.Remote:
    bare = tmp_path / "dags.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    return git.Remote(url=bare.as_uri())


def history(remote: git.Remote) -> list[str]:
    """The commit messages of the remote's main branch, newest first."""
    done = subprocess.run(
        ["git", "-C", remote.url.removeprefix("file://"), "log", "--format=%s", git.BRANCH],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.split("\n")[:-1]


def files_at(remote: git.Remote, commit: str) -> set[str]:
    done = subprocess.run(
        ["git", "-C", remote.url.removeprefix("file://"), "ls-tree", "-r", "--name-only", commit],
        check=True,
        capture_output=True,
        text=True,
    )
    return set(done.stdout.split())


def test_the_branch_should_hold_exactly_the_folder_with_one_commit_per_change(
    tmp_path: Path, remote: git.Remote
) -> None:
    folder, work = tmp_path / "dags", tmp_path / "work"
    folder.mkdir()
    (folder / "a.py").write_text("a = 1\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"x")
    first = git.publish(folder, remote, work=work, message="first")
    assert git.publish(folder, remote, work=work, message="same") == first
    (folder / "a.py").unlink()
    (folder / "b.py").write_text("b = 1\n")
    second = git.publish(folder, remote, work=work, message="second")
    assert history(remote) == ["second", "first"]
    assert files_at(remote, first) == {"a.py"}
    assert files_at(remote, second) == {"b.py"}


def test_a_history_should_become_one_commit_per_differing_snapshot(
    tmp_path: Path, remote: git.Remote
) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()

    # One folder, rewritten for each snapshot as the iteration reaches it.
    def snapshots() -> Iterator[tuple[Path, str]]:
        for revision in (1, 2, 2, 3):
            (folder / "dag.py").write_text(f"revision = {revision}\n")
            yield folder, f"revision {revision}"

    head = git.publish_history(snapshots(), remote, work=tmp_path / "work")
    assert history(remote) == ["revision 3", "revision 2", "revision 1"]
    assert files_at(remote, head) == {"dag.py"}
