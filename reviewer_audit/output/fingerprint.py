"""GitHub's `primaryLocationLineHash`: the fingerprint code scanning matches alerts by.

When a SARIF result has no `partialFingerprints.primaryLocationLineHash`, GitHub's upload
action computes one from the file on disk, and when it has one that differs from its own it
warns and keeps ours. So it is computed here exactly as the action documents it (codeql-action,
`src/fingerprints.ts`; known-answer tests in tests/test_sarif.py use its published vectors):

- the file is read as UTF-8 and walked as UTF-16 code units (JavaScript's `charCodeAt`);
- spaces and tabs are skipped, CR and CRLF become LF;
- each line's hash is a rolling polynomial hash (base 37, 64-bit wrap-around) over the next 100
  kept characters from the line's start, across line ends, the file padded with one 65535 (end
  of file) and zeros;
- written as unsigned hex, then `:N`, N counting the earlier lines of the file with the same hash.

The hash depends on the file's text only, never on how its path was typed.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

BLOCK_SIZE = 100
MOD = 37
_MASK = (1 << 64) - 1
_FIRST_MOD = pow(MOD, BLOCK_SIZE, 1 << 64)
_TAB, _SPACE, _LF, _CR, _EOF = 9, 32, 10, 13, 65535


def line_hashes(text: str) -> list[str]:
    """The primaryLocationLineHash of every line of `text`, line 1 first."""
    window = [0] * BLOCK_SIZE
    line_numbers = [-1] * BLOCK_SIZE
    out: list[str] = []
    counts: dict[str, int] = {}
    state = {"hash": 0, "index": 0, "line": 0, "line_start": True, "prev_cr": False}

    def output() -> None:
        value = format(state["hash"], "x")
        counts[value] = counts.get(value, 0) + 1
        out.append(f"{value}:{counts[value]}")  # lines come out in order
        line_numbers[state["index"]] = -1

    def update(current: int) -> None:
        i = state["index"]
        begin = window[i]
        window[i] = current
        state["hash"] = (MOD * state["hash"] + current - _FIRST_MOD * begin) & _MASK
        state["index"] = (i + 1) % BLOCK_SIZE

    def process(current: int) -> None:
        if current in (_SPACE, _TAB) or (state["prev_cr"] and current == _LF):
            state["prev_cr"] = False
            return
        if current == _CR:
            current, state["prev_cr"] = _LF, True
        else:
            state["prev_cr"] = False
        if line_numbers[state["index"]] != -1:
            output()
        if state["line_start"]:
            state["line_start"] = False
            state["line"] += 1
            line_numbers[state["index"]] = state["line"]
        if current == _LF:
            state["line_start"] = True
        update(current)

    data = text.encode("utf-16-le", errors="surrogatepass")
    for k in range(0, len(data), 2):
        process(data[k] | (data[k + 1] << 8))
    process(_EOF)
    for _ in range(BLOCK_SIZE):
        if line_numbers[state["index"]] != -1:
            output()
        update(0)
    return out


@lru_cache(maxsize=64)
def _file_hashes(path: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    data = path.read_bytes()
    return tuple(line_hashes(data.decode("utf-8", errors="replace")))


def primary_location_line_hash(path: Path, line: int) -> str | None:
    """The hash of `line` (1-based) of the file at `path`, or None when it cannot be read."""
    try:
        st = path.stat()
        hashes = _file_hashes(path, st.st_mtime_ns, st.st_size)
    except OSError:
        return None
    return hashes[line - 1] if 0 < line <= len(hashes) else None
