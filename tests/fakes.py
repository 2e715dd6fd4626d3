"""A stand-in for ``bootstrap.process.run`` that records commands and answers from a script."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bootstrap.errors import AirkubeError
from bootstrap.process import Completed

Answer = Completed | Callable[[list[str]], Completed]


@dataclass
class FakeRunner:
    """Answers each command with the first scripted answer whose key is a prefix of its argv."""

    answers: dict[tuple[str, ...], Answer] = field(default_factory=dict)
    calls: list[list[str]] = field(default_factory=list)
    inputs: list[str | None] = field(default_factory=list)

    def __call__(
        self,
        argv: Sequence[str],
        *,
        input_text: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
        stream: bool = False,
    ) -> Completed:
        command = [str(part) for part in argv]
        self.calls.append(command)
        self.inputs.append(input_text)
        for prefix, answer in self.answers.items():
            if tuple(command[: len(prefix)]) == prefix:
                done = answer(command) if callable(answer) else answer
                if check and done.returncode != 0:
                    raise AirkubeError(
                        f"command failed (exit {done.returncode}): {' '.join(command)}"
                        f"\n{done.stderr}"
                    )
                return done
        raise AssertionError(f"unexpected command: {command}")


def ok(stdout: str = "", argv: Sequence[str] = ()) -> Completed:
    return Completed(tuple(argv), 0, stdout, "")


def failed(stderr: str, code: int = 1) -> Completed:
    return Completed((), code, "", stderr)
