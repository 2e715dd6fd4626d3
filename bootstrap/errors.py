"""The one error type the core raises; the CLI turns it into a message and an exit code."""


class AirkubeError(Exception):
    """A failure the user can act on.

    ``str(error)`` is one line that names the problem; ``hint`` says how to fix it.
    """

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message
