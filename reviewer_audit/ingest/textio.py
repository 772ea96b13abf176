"""Reading untrusted text files: size limit first, strict UTF-8, one-line errors."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from reviewer_audit.ingest.errors import InputError
from reviewer_audit.ingest.limits import MAX_INPUT_BYTES, MAX_NESTING


def decode_text(data: bytes, source: object) -> str:
    """Decode UTF-8 strictly (a BOM is tolerated); name the offending byte offset on failure."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(source, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


#: The path that means standard input, as in most command-line tools.
STDIN = "-"


def read_text(path: Path) -> str:
    """Read a whole input file, refusing directories, missing files, files over the size limit
    and anything that is not a regular file (a FIFO or device would block the read forever).
    `-` reads standard input, up to the same limit."""
    if str(path) == STDIN:
        import sys

        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise InputError("<stdin>", f"input is over the {MAX_INPUT_BYTES}-byte limit")
        return decode_text(data, "<stdin>")
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(path, "is a directory, expected a file")
        # O_NONBLOCK: opening a FIFO without a writer must not wait; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise InputError(path, "is not a regular file")
            if st.st_size > MAX_INPUT_BYTES:
                raise InputError(path, f"file is {st.st_size} bytes, over the {MAX_INPUT_BYTES}-byte limit")
            data = fh.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(path, f"file is over the {MAX_INPUT_BYTES}-byte limit")
    return decode_text(data, path)


def lone_surrogate(text: str) -> int | None:
    """Index of the first lone surrogate (U+D800-U+DFFF) in `text`, else None.

    Strictly decoded files never hold one, but a JSON escape (`"\\ud800"`) or a caller's string
    can; such text cannot be encoded as UTF-8, so hashing, parsing or printing it would fail.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def check_text(text: str, source: object, what: str) -> None:
    """Refuse text that is not valid Unicode (a lone surrogate), naming where it sits."""
    at = lone_surrogate(text)
    if at is not None:
        raise InputError(source, f"{what} holds a lone surrogate U+{ord(text[at]):04X} at character {at}, which is not valid Unicode")


def check_json(data: object, source: object, what: str) -> None:
    """Refuse decoded JSON that later steps cannot handle: nesting deeper than `MAX_NESTING`
    (walks and serialisation recurse) or a string or key with a lone surrogate (`"\\ud800"`).
    Walks without recursion."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            check_text(node, source, f"a string in {what}")
            continue
        if isinstance(node, dict):
            for key in node:
                if isinstance(key, str):
                    check_text(key, source, f"a key in {what}")
            node = list(node.values())
        if isinstance(node, list):
            if depth + 1 > MAX_NESTING:
                raise InputError(source, f"{what} is nested more than {MAX_NESTING} levels deep")
            stack.extend((child, depth + 1) for child in node)
