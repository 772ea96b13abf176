"""The one error type that crosses the command-line boundary.

Bad input (a malformed transcript, invalid JSON, a path that escapes its bundle, ...) must end
in one line naming the file and the problem, and exit code 2 -- never a traceback. Everything
that can be blamed on the input raises `InputError`; the CLI turns it into that line.
"""
from __future__ import annotations


class InputError(Exception):
    """Input the tool cannot work with. `str()` is the one-line message shown to the user."""

    def __init__(self, source: object, problem: str) -> None:
        self.source = str(source)
        self.problem = " ".join(str(problem).split())  # one line, whatever the cause said
        super().__init__(f"{self.source}: {self.problem}")
