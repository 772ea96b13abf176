"""A content cache of audit results, like ruff's: the same input audited the same way is read back.

An entry's key is a SHA-256 over what decides the result: the input's bytes (a transcript file,
a git blob, or a bundle's files and run configs), the spec, the settings that change the audit
(fail-on, select, ignore, the library date), and the tool itself -- its version, a hash of its
code and a hash of its library data (`reviewer_audit/data`), so an upgrade, an edited rule or new
release data never reads an old entry. The value is the result as JSON with everything
that depends on where the input was found (its path, the timings) taken out, so an entry never
holds an absolute path and serves a copy of the same input anywhere.

Where: `--cache-dir DIR`, else `REVIEWER_AUDIT_CACHE_DIR`, else the platform's user cache folder
(platformdirs: `~/.cache/reviewer-audit` on Linux); `--no-cache` turns it off. The folder holds a
CACHEDIR.TAG and a `.gitignore` of `*`, as ruff's does, so backups and git leave it alone.

Safe with concurrent writers (`report --jobs`, two runs at once): an entry is written to a
temporary file in its folder and renamed over the final name (atomic on POSIX and Windows);
readers see a whole entry or none, and two writers of one key write the same bytes. An entry
that cannot be read or decoded is a miss, never an error; a cache folder that cannot be written
costs speed, never the run.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterable

#: Bump when the layout or an entry's format changes.
FORMAT = "1"
ENV_DIR = "REVIEWER_AUDIT_CACHE_DIR"
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# reviewer-audit cache (https://bford.info/cachedir/)\n"

_FINGERPRINT: list[str] = []


def tool_fingerprint() -> str:
    """Version, code and library data of this installation, hashed (once per process).

    The code is hashed by content, not only the version: an edited rule in a development
    checkout must not read entries its old code wrote."""
    if _FINGERPRINT:
        return _FINGERPRINT[0]
    import reviewer_audit
    from reviewer_audit import __version__

    package = Path(reviewer_audit.__file__).resolve().parent
    h = hashlib.sha256(f"reviewer-audit {__version__} cache {FORMAT}\0".encode())
    roots = [package]
    # The rules ship as reviewer_audit.rules; in a development checkout they live in rules/.
    # Found without importing them (the warm path never loads the audit machinery).
    from importlib.util import find_spec

    spec = find_spec("reviewer_audit.rules")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if not Path(location).resolve().is_relative_to(package):
            roots.append(Path(location).resolve())
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".json", ".yaml", ".md") and "__pycache__" not in path.parts:
                h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    _FINGERPRINT.append(h.hexdigest())
    return _FINGERPRINT[0]


def input_bytes(path: str | Path) -> bytes | None:
    """A regular file's bytes for a key, or None when the cache should stand aside: a FIFO or
    device (never waited on), an unreadable or oversized file (the uncached path reads it and
    reports the problem in its own words)."""
    import stat

    from reviewer_audit.ingest.limits import MAX_INPUT_BYTES

    try:  # O_NONBLOCK: opening a FIFO must not wait for a writer
        with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)), "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_INPUT_BYTES:
                return None
            data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_INPUT_BYTES else None


def default_dir() -> Path:
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("reviewer-audit", appauthor=False))


class AuditCache:
    """Entries under `root/<FORMAT>/<kind>/<key[:2]>/<key>.json` (see the module doc)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_dir()
        self.hits = 0
        self.misses = 0

    def key(self, kind: str, parts: Iterable[str | bytes]) -> str:
        """The key of an entry of `kind` (a result type) for these inputs and this tool."""
        h = hashlib.sha256(f"{tool_fingerprint()}\0{kind}\0".encode())
        for part in parts:
            data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else bytes(part)
            h.update(len(data).to_bytes(8, "little") + data)  # length-prefixed: no two splits collide
        return h.hexdigest()

    def _path(self, kind: str, key: str) -> Path:
        return self.root / FORMAT / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str) -> bytes | None:
        try:
            data = self._path(kind, key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        self.hits += 1
        return data

    def put(self, kind: str, key: str, data: bytes) -> None:
        path = self._path(kind, key)
        try:
            if not path.parent.is_dir():
                self._prepare()
                path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:  # a read-only or full disk costs speed, never the run
            pass

    def _prepare(self) -> None:
        """CACHEDIR.TAG and a `.gitignore` of `*` at the root, once."""
        self.root.mkdir(parents=True, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", "# Automatically created by reviewer-audit.\n*\n")):
            target = self.root / name
            if not target.exists():
                try:
                    target.write_text(text, encoding="utf-8")
                except OSError:
                    pass


def open_cache(cache_dir: str | Path | None = None, enabled: bool = True) -> AuditCache | None:
    """The cache a command uses: None when turned off (`--no-cache`)."""
    return AuditCache(cache_dir) if enabled else None
