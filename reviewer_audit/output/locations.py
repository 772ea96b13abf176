"""Where a finding sits on disk, for the formats that point into files (SARIF, GitHub, JUnit).

A finding's `path:line` is relative to its bundle. On disk that is:

- a directory bundle: the file itself, `<bundle folder>/<path>` at its line; a finding about a
  file that does not exist (RA501, a required file missing) is placed on the bundle's
  `pyproject.toml` (else its first file), line 1, since code scanning needs an existing file;
- a transcript or JSON bundle: the bundle's code exists only inside that file, so the location
  is the transcript (or JSON file) at the line where that code sits (`transcript_line`); a
  finding without one (a missing file) goes to the line where the bundle starts.

Paths are written relative to the *source root*: the repository holding the working directory
(the folder with `.git`, found without running git), else the working directory. That is what
GitHub code scanning resolves SARIF URIs and annotations against, wherever the bundle sits.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewer_audit.engine.findings import Finding, Related
    from reviewer_audit.gate.check import CheckedPath


@dataclass(frozen=True)
class DiskLocation:
    file: Path  # absolute, resolved
    line: int  # 1-based
    column: int | None = None
    #: True when the location is the finding's own code; False for a stand-in (a missing file's
    #: bundle, a transcript holding the code), where a bundle snippet is not the region's text.
    exact: bool = True


def source_root(cwd: Path) -> Path:
    """The repository top holding `cwd`, else `cwd` itself (resolved)."""
    from reviewer_audit.ingest.repo_files import find_repository_top

    cwd = Path(cwd).resolve()
    return find_repository_top(cwd) or cwd


def relative_to_root(file: Path, root: Path) -> str | None:
    """POSIX path of `file` below `root`, or None when it lies outside."""
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return None


@lru_cache(maxsize=256)
def _anchor(folder: Path) -> Path | None:
    if (folder / "pyproject.toml").is_file():
        return folder / "pyproject.toml"
    try:
        return next((p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()), None)
    except OSError:
        return None


def _bundle_folder(item: "CheckedPath") -> Path:
    path = Path(item.path).resolve()
    return path if item.input == "directory" else path.parent


def _start_line(item: "CheckedPath") -> int:
    """The line where a transcript's or JSON file's bundle starts: the first line any finding
    of this report points at there (all of a transcript's bundle sits on one line), else 1."""
    lines = [f.transcript_line for f in item.report.findings if f.transcript_line]
    return min(lines) if lines else 1


def locate(item: "CheckedPath", path: str | None, line: int | None, column: int | None,
           transcript_line: int | None) -> DiskLocation | None:
    """The disk location of bundle `path:line` (a finding's or a related location's) in `item`;
    None when the input has no file (standard input)."""
    if item.path == "-":
        return None
    if item.input in ("directory", "config"):
        folder = _bundle_folder(item)
        if path is not None and (folder / path).is_file():
            return DiskLocation((folder / path).resolve(), line or 1, column if line else None)
        anchor = _anchor(folder)
        return DiskLocation(anchor.resolve(), 1, None, exact=False) if anchor is not None else None
    return DiskLocation(Path(item.path).resolve(), transcript_line or _start_line(item), None, exact=False)


def locate_finding(item: "CheckedPath", f: "Finding") -> DiskLocation | None:
    return locate(item, f.path, f.line, f.column, f.transcript_line)


def locate_related(item: "CheckedPath", r: "Related") -> DiskLocation | None:
    return locate(item, r.path, r.line, None, r.transcript_line)
