"""The one place airkube runs the git program: it publishes a folder as the newest commit of a
repository's branch (what the local git server serves to the git DAG modes)."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bootstrap.process import Runner, require_program, run

BRANCH = "main"
AUTHOR = ("airkube", "airkube@localhost")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".git")


@dataclass(frozen=True)
class Remote:
    """A repository URL and what reaching it takes: HTTPS basic auth and a CA bundle."""

    url: str
    username: str = ""
    password: str = ""
    ca_bundle: Path | None = None

    def environment(self) -> dict[str, str]:
        """git's environment for this remote. The credentials travel in an environment
        variable, never on a command line other users could list."""
        env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
        if self.ca_bundle is not None:
            env["GIT_SSL_CAINFO"] = str(self.ca_bundle)
        if self.username:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            env |= {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {token}",
            }
        return env


def _git(runner: Runner, work: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    program = require_program("git", hint="install git (apt-get install git)")
    name, email = AUTHOR
    identity = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
    return runner([program, "-C", str(work), *identity, *args], env=env).stdout.strip()


def publish(folder: Path, remote: Remote, *, work: Path, message: str, runner: Runner = run) -> str:
    """Make the branch ``main`` of ``remote`` hold exactly the files of ``folder``: one new
    commit when they differ from its head, none when they do not. The commit id of the head.

    ``work`` is a working copy kept between calls (created when missing)."""
    return publish_history([(folder, message)], remote, work=work, runner=runner)


def publish_history(
    snapshots: Iterable[tuple[Path, str]], remote: Remote, *, work: Path, runner: Runner = run
) -> str:
    """Add one commit per snapshot (a folder and its message), in order, to the branch ``main``
    of ``remote``, each holding exactly that folder's files (a snapshot equal to the commit before
    adds none); push once at the end. The commit id of the head.

    A snapshot's folder is read when the iteration reaches it, so one folder may be rewritten
    for each. ``work`` is a working copy kept between calls (created when missing)."""
    env = remote.environment()
    if not (work / ".git").is_dir():
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        _git(runner, work, "init", "--quiet", f"--initial-branch={BRANCH}")
    has_head = bool(_git(runner, work, "ls-remote", "--heads", remote.url, BRANCH, env=env))
    if has_head:
        _git(runner, work, "fetch", "--quiet", remote.url, BRANCH, env=env)
        _git(runner, work, "reset", "--quiet", "--hard", "FETCH_HEAD")
    committed = False
    for folder, message in snapshots:
        for entry in work.iterdir():
            if entry.name != ".git":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        shutil.copytree(folder, work, ignore=IGNORED, dirs_exist_ok=True)
        _git(runner, work, "add", "--all")
        if _git(runner, work, "status", "--porcelain") or not has_head:
            _git(runner, work, "commit", "--quiet", "--allow-empty", "--message", message)
            has_head = committed = True
    if committed:
        _git(runner, work, "push", "--quiet", remote.url, f"HEAD:refs/heads/{BRANCH}", env=env)
    return _git(runner, work, "rev-parse", "HEAD")
