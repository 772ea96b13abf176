"""Reading untrusted text files: size limit first, strict UTF-8, one-line errors."""
from __future__ import annotations

from pathlib import Path

from reviewer_audit.errors import InputError
from reviewer_audit.limits import MAX_INPUT_BYTES


def decode_text(data: bytes, source: object) -> str:
    """Decode UTF-8 strictly (a BOM is tolerated); name the offending byte offset on failure."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(source, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def read_text(path: Path) -> str:
    """Read a whole input file, refusing directories, missing files and files over the size limit."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(path, "is a directory, expected a file")
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise InputError(path, f"file is {size} bytes, over the {MAX_INPUT_BYTES}-byte limit")
        with path.open("rb") as fh:
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
