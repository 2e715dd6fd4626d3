"""Stand-ins for ``bootstrap.process.run``: they record commands and answer without running any."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bootstrap.errors import AirkubeError
from bootstrap.process import Completed

Answer = Completed | Callable[[list[str]], Completed]


class RecordingRunner:
    """Records every command (argv, env, stdin); ``answer`` decides what each one returns.

    Fails like the real runner when ``check`` is set and the answer's exit code is not 0.
    """

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.envs: list[Mapping[str, str] | None] = []
        self.inputs: list[str | None] = []

    def answer(self, argv: list[str], env: Mapping[str, str]) -> Completed:
        raise NotImplementedError

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
        self.envs.append(env)
        self.inputs.append(input_text)
        done = self.answer(command, env or {})
        if check and done.returncode != 0:
            raise AirkubeError(
                f"command failed (exit {done.returncode}): {' '.join(command)}\n{done.stderr}"
            )
        return done


class FakeRunner(RecordingRunner):
    """Answers each command with the first scripted answer whose key is a prefix of its argv;
    an unexpected command fails the test."""

    def __init__(self, answers: Mapping[tuple[str, ...], Answer] | None = None) -> None:
        super().__init__()
        self.answers = dict(answers or {})

    def answer(self, argv: list[str], env: Mapping[str, str]) -> Completed:
        for prefix, answer in self.answers.items():
            if tuple(argv[: len(prefix)]) == prefix:
                return answer(argv) if callable(answer) else answer
        raise AssertionError(f"unexpected command: {argv}")


def ok(stdout: str = "", argv: Sequence[str] = ()) -> Completed:
    return Completed(tuple(argv), 0, stdout, "")


def failed(stderr: str, code: int = 1) -> Completed:
    return Completed((), code, "", stderr)
