"""The one error type that crosses the command-line boundary.

Bad input (a malformed transcript, invalid JSON, a path that escapes its bundle, ...) must end
in one line naming the file and the problem, and exit code 2 -- never a traceback. Everything
that can be blamed on the input raises `InputError`; the CLI turns it into that line.
"""
from __future__ import annotations

import re

#: Control characters (C0, DEL, C1) and bidirectional overrides: in a file name or a message
#: quoted from the input they would break the one line or drive the terminal.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(text: str) -> str:
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


class InputError(Exception):
    """Input the tool cannot work with. `str()` is the one-line message shown to the user."""

    def __init__(self, source: object, problem: str) -> None:
        self.source = _escape(str(source))  # a file name may hold a newline or an escape sequence
        self.problem = _escape(" ".join(str(problem).split()))  # one line, whatever the cause said
        super().__init__(f"{self.source}: {self.problem}")
