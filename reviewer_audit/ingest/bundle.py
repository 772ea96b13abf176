"""Bundle: the generated repository under audit, as relative path -> text.

A bundle comes from a transcript's JSON object (`{"train_py": "...", ...}`), from a JSON file of
the same shape, or from a directory tree. Whatever the source, every path is normalised to a
POSIX path relative to the bundle root and can never escape it: `..`, absolute paths, drive
letters and NUL bytes are rejected, and directory walks never follow symlinks.
"""
from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal, Mapping

from pydantic import BaseModel, Field

from reviewer_audit.ingest.errors import InputError
from reviewer_audit.ingest.limits import MAX_BUNDLE_FILE_BYTES, MAX_BUNDLE_FILES, MAX_BUNDLE_YAML_BYTES, MAX_INPUT_BYTES

if TYPE_CHECKING:
    from reviewer_audit.ingest.repo_files import RepoFilter

#: Transcript JSON keys and the repository paths they stand for.
KEY_TO_PATH: dict[str, str] = {
    "main_py": "src/main.py",
    "train_py": "src/train.py",
    "evaluate_py": "src/evaluate.py",
    "preprocess_py": "src/preprocess.py",
    "model_py": "src/model.py",
    "config_yaml": "config/config.yaml",
    "pyproject_toml": "pyproject.toml",
    "full_experiment_yaml": "config/full_experiment.yaml",
    "smoke_test_yaml": "config/smoke_test.yaml",
}

#: Where keys we do not know are kept, so they stay visible (and count as extra files).
UNKNOWN_KEY_DIR = "unmapped"


def path_for_key(key: str, source: object = "bundle") -> str:
    """Map a transcript bundle key to a repository path (`train_py` -> `src/train.py`).

    Unknown keys stay visible under `unmapped/<key>` rather than being dropped or guessed at,
    so the file-set rule reports them and nothing silently disappears. The key itself is
    checked like any path first, so `C:\\x` or `\\\\host\\share` cannot hide behind the prefix.
    """
    if key in KEY_TO_PATH:
        return KEY_TO_PATH[key]
    return f"{UNKNOWN_KEY_DIR}/{normalise_path(key, source)}"


#: Characters no bundle path may hold: C0/C1 controls and DEL (a newline in a path breaks every
#: line-based output and log; an escape sequence drives the terminal) and the bidirectional
#: overrides that make a path display as another ("Trojan Source").
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]").search


def normalise_path(raw: str, source: object = "bundle") -> str:
    """Return `raw` as a clean relative POSIX path, or raise `InputError` if it could escape."""
    if not isinstance(raw, str) or not raw.strip():
        raise InputError(source, f"empty or non-text path {raw!r} in bundle")
    if "\x00" in raw:
        raise InputError(source, f"path {raw!r} contains a NUL byte")
    if _UNPRINTABLE(raw):
        raise InputError(source, f"path {raw!r} contains a control or bidirectional-override character")
    text = raw.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise InputError(source, f"absolute path {raw!r} is not allowed in a bundle")
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InputError(source, f"path {raw!r} escapes the bundle ('..')")
    if not parts:
        raise InputError(source, f"path {raw!r} names the bundle root, not a file")
    return "/".join(parts)


class BundleFile(BaseModel):
    """One file of the bundle, with where its text came from (for jump-to locations)."""

    path: str
    text: str
    #: Line in the transcript where this file's text sits (the JSON line), when from a transcript.
    transcript_line: int | None = None


class Bundle(BaseModel):
    """The files under audit, keyed by normalised relative path."""

    source: str = Field(description="Where the bundle came from: a transcript, JSON file or directory.")
    files: dict[str, BundleFile] = Field(default_factory=dict)
    #: mapping: every file was generated as part of the bundle (a transcript's or JSON file's
    #: keys); directory: read from a repository, which also holds files that are not the bundle's.
    origin: Literal["mapping", "directory"] = "mapping"

    @property
    def is_empty(self) -> bool:
        return not self.files

    def text(self, path: str) -> str | None:
        f = self.files.get(path)
        return f.text if f is not None else None

    def paths(self) -> list[str]:
        return sorted(self.files)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str, transcript_line: int | None = None) -> "Bundle":
        """Build from `{"train_py": "..."}` (transcript keys) or `{"src/train.py": "..."}` (paths)."""
        if not isinstance(data, Mapping):
            raise InputError(source, f"bundle must be a JSON object of file -> text, got {type(data).__name__}")
        if len(data) > MAX_BUNDLE_FILES:
            raise InputError(source, f"bundle has {len(data)} files, more than the limit of {MAX_BUNDLE_FILES}")
        from reviewer_audit.ingest.textio import check_text

        files: dict[str, BundleFile] = {}
        for key, value in data.items():
            if not isinstance(value, str):
                raise InputError(source, f"bundle entry {key!r} is {type(value).__name__}, expected text")
            if len(value) > MAX_BUNDLE_FILE_BYTES:
                raise InputError(source, f"bundle entry {key!r} is larger than {MAX_BUNDLE_FILE_BYTES} bytes")
            check_text(key, source, f"bundle key {key!r}")
            check_text(value, source, f"bundle entry {key!r}")
            path = normalise_path(key, source) if ("/" in key or "." in key) else path_for_key(key, source)
            if path in files:
                raise InputError(source, f"bundle names {path!r} twice")
            files[path] = BundleFile(path=path, text=value, transcript_line=transcript_line)
        _check_yaml_files(files, source)
        return cls(source=source, files=files)

    @classmethod
    def from_json_file(cls, path: Path) -> "Bundle":
        from reviewer_audit.ingest.textio import read_text

        return cls.from_json_text(read_text(path), path)

    @classmethod
    def from_json_text(cls, text: str, path: object) -> "Bundle":
        """A JSON bundle's text; each file's `transcript_line` is the line of its key in `text`
        (for locations in that file: the bundle's code exists only there)."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nesting too deep"
            where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
            raise InputError(path, f"invalid JSON bundle: {msg}{where}") from None
        except ValueError as exc:  # e.g. integer string too long
            raise InputError(path, f"invalid JSON bundle: {exc}") from None
        bundle = cls.from_mapping(data, source=str(path))
        if isinstance(data, dict):
            lines = _key_lines(text, data)
            for key, f in zip(data, bundle.files.values()):  # from_mapping keeps the keys' order
                f.transcript_line = lines.get(key)
        return bundle

    @classmethod
    def from_directory(cls, root: Path, skip: "RepoFilter | None" = None) -> "Bundle":
        """Read a generated repository. Symlinks are never followed, so nothing outside `root` is
        read. `skip` decides which entries are not the bundle's (default: `RepoFilter(root)`:
        dot-entries, run outputs, what .gitignore excludes); they are never opened."""
        from reviewer_audit.ingest.repo_files import RepoFilter
        from reviewer_audit.ingest.textio import decode_text

        root = Path(root)
        if not root.is_dir():
            raise InputError(root, "not a directory")
        skip = skip if skip is not None else RepoFilter(root)
        files: dict[str, BundleFile] = {}
        total = 0

        def unreadable(exc: OSError) -> None:
            raise InputError(exc.filename or root, f"cannot read ({exc.strerror or exc})")

        for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable):
            here = Path(dirpath).relative_to(root).as_posix()
            prefix = "" if here == "." else here + "/"
            dirnames[:] = sorted(d for d in dirnames if not (Path(dirpath) / d).is_symlink() and skip.keep(prefix + d, True))
            for name in sorted(filenames):
                if not skip.keep(prefix + name, False):
                    continue
                full = Path(dirpath) / name
                try:
                    st = full.lstat()
                except OSError as exc:  # vanished or unreadable since the listing
                    unreadable(exc)
                if not stat.S_ISREG(st.st_mode):
                    continue  # symlinks, sockets, devices: never read
                rel = normalise_path(full.relative_to(root).as_posix(), root)
                if len(files) >= MAX_BUNDLE_FILES:
                    raise InputError(root, f"bundle has more than {MAX_BUNDLE_FILES} files")
                if st.st_size > MAX_BUNDLE_FILE_BYTES:
                    raise InputError(full, f"file is larger than {MAX_BUNDLE_FILE_BYTES} bytes")
                total += st.st_size
                if total > MAX_INPUT_BYTES:
                    raise InputError(root, f"bundle is larger than {MAX_INPUT_BYTES} bytes in all")
                data = _read_regular_file(full, unreadable)
                if data is None:
                    continue  # swapped for a symlink, FIFO or device since the listing
                if len(data) > MAX_BUNDLE_FILE_BYTES:  # grew since lstat
                    raise InputError(full, f"file is larger than {MAX_BUNDLE_FILE_BYTES} bytes")
                if b"\x00" in data[:8192]:
                    continue  # binary file: listed by nothing, audited by nothing
                files[rel] = BundleFile(path=rel, text=decode_text(data, full))
        _check_yaml_files(files, root)
        return cls(source=str(root), files=files, origin="directory")


def _key_lines(text: str, data: dict) -> dict[str, int]:
    """The 1-based line of each top-level key of a JSON object, found by scanning the text for
    the key's JSON spelling followed by a colon; a key written with other escapes gets none."""
    import re

    out: dict[str, int] = {}
    for key in data:
        m = re.search(re.escape(json.dumps(key)) + r"\s*:", text) or re.search(re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:", text)
        if m is not None:
            out[key] = text.count("\n", 0, m.start()) + 1
    return out


def _check_yaml_files(files: Mapping[str, BundleFile], source: object) -> None:
    """Refuse YAML too costly for any YAML parser (ours, or Hydra's when it composes) to read:
    over `MAX_YAML_BYTES` or too deeply nested per file, over `MAX_BUNDLE_YAML_BYTES` in all."""
    from reviewer_audit.ingest.yamlio import yaml_limit_problem

    total = 0
    for path, f in files.items():
        if not path.endswith((".yaml", ".yml")):
            continue
        problem = yaml_limit_problem(f.text)
        if problem is not None:
            raise InputError(source, f"bundle file {path}: {problem}")
        total += len(f.text.encode("utf-8"))
        if total > MAX_BUNDLE_YAML_BYTES:
            raise InputError(source, f"the bundle's YAML files hold more than {MAX_BUNDLE_YAML_BYTES} bytes in all")


def _read_regular_file(path: Path, unreadable) -> bytes | None:
    """Read at most MAX_BUNDLE_FILE_BYTES + 1 bytes of `path` if it is (still) a regular file.

    O_NOFOLLOW and O_NONBLOCK make the open itself refuse a symlink and never wait on a FIFO,
    so a file swapped after the directory listing cannot make the walk read outside the
    bundle or hang.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):  # a symlink / a FIFO without a writer
            return None
        unreadable(exc)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(MAX_BUNDLE_FILE_BYTES + 1)
    except OSError as exc:
        unreadable(exc)
    finally:
        os.close(fd)
