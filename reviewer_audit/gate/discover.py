"""`check --find-bundles`: which bundle folders the given files and folders belong to.

pre-commit passes the changed files; CI passes `.`. A repository may hold its bundle at the
root or many bundles in subfolders (`experiments/run-42/`), so each path is mapped to a bundle
folder:

- a file belongs to the nearest folder at or above it that looks like a bundle, i.e. holds at
  least two of the spec's top-level entries (`src/`, `config/`, `pyproject.toml`); a repository's
  root `pyproject.toml` that only configures tools is no bundle by itself;
- a folder that looks like a bundle is one; any other folder is searched for bundle folders
  below it (not below a bundle found, nor into what a bundle walk skips: dot-folders, run
  outputs, what .gitignore excludes).

A file in a skipped place (`outputs/.../.hydra/config.yaml`, `wandb/.../code/src/main.py`) or in
no bundle is not checked; the second is reported as a note, never dropped silently.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from reviewer_audit.ingest.repo_files import RepoFilter, find_repository_top


def markers(required_files: Iterable[str]) -> set[str]:
    """The top-level entries of the required files: {"src", "config", "pyproject.toml"}."""
    return {p.split("/", 1)[0] for p in required_files}


def looks_like_bundle(folder: Path, marks: set[str]) -> bool:
    return sum((folder / m).exists() for m in marks) >= min(2, len(marks))


def _skipped(root: Path, target: Path, excludes: Sequence) -> bool:
    """Whether a bundle walk from `root` would skip `target` (or a folder on the way to it)."""
    rel = target.relative_to(root).parts
    skip = RepoFilter(root, extend_exclude=excludes)
    return any(not skip.keep("/".join(rel[: i + 1]), i < len(rel) - 1 or target.is_dir()) for i in range(len(rel)))


def _below(folder: Path, marks: set[str], excludes: Sequence) -> list[Path]:
    import os

    found: list[Path] = []
    skip = RepoFilter(folder, extend_exclude=excludes)
    for dirpath, dirnames, _ in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        if here != folder and looks_like_bundle(here, marks):
            found.append(here)
            dirnames[:] = []
            continue
        prefix = here.relative_to(folder).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink() and skip.keep(prefix + d, True))
    return found


def find_bundles(paths: Iterable[Path], required_files: Iterable[str], excludes: Sequence = ()) -> tuple[list[Path], list[str]]:
    """(bundle folders, in first-seen order without repeats; notes about paths in no bundle)."""
    marks = markers(required_files)
    bundles: list[Path] = []
    notes: list[str] = []

    def add(folder: Path) -> None:
        if all(folder.resolve() != b.resolve() for b in bundles):
            bundles.append(folder)

    for path in paths:
        path = Path(path)
        if path.is_dir() and looks_like_bundle(path, marks):
            add(path)
            continue
        if path.is_dir():
            below = _below(path, marks, excludes)
            if not below:
                notes.append(f"{path}: no bundle folder (one holding two of {', '.join(sorted(marks))}) in it; nothing checked")
            for b in below:
                add(b)
            continue
        if not path.exists():
            from reviewer_audit.ingest.errors import InputError

            raise InputError(path, "no such file or directory")  # pre-commit passes only files that exist
        owner = next((f for f in path.absolute().parents if looks_like_bundle(f, marks)), None)
        if owner is None:
            notes.append(f"{path}: in no bundle folder (one holding two of {', '.join(sorted(marks))}); not checked")
            continue
        if _skipped(owner, path.absolute(), excludes):
            continue
        top = find_repository_top(owner) or Path.cwd().resolve()
        if top in owner.resolve().parents and _skipped(top, owner.resolve(), excludes):
            continue  # a bundle-shaped copy inside a skipped place (wandb/.../code/, outputs/)
        add(_spell(path, owner))  # relative stays relative, for outputs and messages
    return bundles, notes


def _spell(path: Path, owner: Path) -> Path:
    """`owner` written relative to the working directory when `path` was given relative."""
    if path.is_absolute():
        return owner
    try:
        return owner.relative_to(Path.cwd().absolute()) if owner != Path.cwd().absolute() else Path(".")
    except ValueError:
        return owner
