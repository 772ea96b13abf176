"""Which files of a directory are the bundle, when the directory is a real repository.

A generated bundle rarely lives alone: the repository around it holds `.git/`, CI workflows,
`.pre-commit-config.yaml`, a README, Hydra's `outputs/<date>/<time>/.hydra/` run folders, WandB's
`wandb/` run folders (with their own `config.yaml` and code snapshots), and the reports this
tool itself wrote. None of that is code the reviewer judged, and reading it would report
every such file as an extra file (RA502) or trip the input limits on a checkpoint.

A directory walk therefore skips, as ruff does:

- every dot-entry (`.git/`, `.github/`, `.hydra/`, `.venv/`, `.gitignore`, `.pre-commit-config.yaml`);
- tool, build and run-output folders by name (`DEFAULT_EXCLUDE_DIRS`: `outputs/` and `multirun/`
  of Hydra, `wandb/`, `__pycache__/`, `build/`, `dist/`, `node_modules/`, ...) and CI files that
  are not dot-files (`DEFAULT_EXCLUDE_FILES`: `Jenkinsfile`, `azure-pipelines.yml`, ...);
- what git ignores: the `.gitignore` files from the repository's top down to each folder, and
  `.git/info/exclude`, matched with `pathspec` (git's own wildmatch semantics, negation and
  anchoring included; git itself is never run, so no repository hook or fsmonitor can run);
- `extend-exclude` patterns (gitignore syntax, relative to the folder of the configuration
  that names them) and exact paths, such as the files this run writes its outputs to.

Nothing here reads a skipped file; it only lists names (and reads `.gitignore` files).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

#: Folders never part of a bundle, at any depth: run outputs (Hydra, WandB, Optuna dashboards),
#: build and packaging output, environments and caches (ruff's default excludes plus run folders).
DEFAULT_EXCLUDE_DIRS = frozenset({
    "outputs", "multirun", "wandb", "mlruns", "lightning_logs",
    "__pycache__", "__pypackages__", "build", "dist", "_build", "buck-out", "site-packages",
    "node_modules", "venv", "htmlcov",
})

#: CI and VCS metadata kept outside dot-files by some services.
DEFAULT_EXCLUDE_FILES = frozenset({
    "Jenkinsfile", "azure-pipelines.yml", "bitbucket-pipelines.yml", "appveyor.yml", "codecov.yml",
    "cloudbuild.yaml", "cloudbuild.yml",
})

_DIR_SUFFIXES = (".egg-info",)


def find_repository_top(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding `.git` (a folder, or a file for worktrees
    and submodules); None outside any repository. Only names are looked at: git is not run."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


@dataclass
class _Ignore:
    base: Path  # resolved folder the patterns are relative to
    spec: object  # pathspec.GitIgnoreSpec

    def check(self, path: Path, is_dir: bool) -> bool | None:
        """True: ignored; False: re-included by a `!pattern`; None: no pattern matches."""
        try:
            rel = path.relative_to(self.base).as_posix()
        except ValueError:
            return None
        if rel in ("", "."):
            return None
        return self.spec.check_file(rel + "/" if is_dir else rel).include


def _spec(lines: Iterable[str]):
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(list(lines))


def _read_lines(path: Path) -> list[str] | None:
    try:
        if not path.is_file() or path.is_symlink():
            return None
        with path.open("rb") as fh:
            data = fh.read(1 << 20)  # a .gitignore over 1 MiB is read in part
    except OSError:
        return None
    return data.decode("utf-8", errors="replace").splitlines()


@dataclass
class RepoFilter:
    """Decides which entries of a directory walk from `root` are skipped, and says why.

    `extend_exclude` holds (folder, gitignore-style patterns relative to that folder) pairs, e.g.
    the configuration's patterns relative to its folder and the command line's relative to the
    working directory; `exclude_paths` are exact files or folders (this run's output files)."""

    root: Path
    extend_exclude: Sequence[tuple[Path, Sequence[str]]] = ()
    exclude_paths: Iterable[Path] = ()
    respect_gitignore: bool = True
    #: (bundle-relative path, reason) of every entry skipped so far, for `check -v`.
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self._paths = {Path(p).resolve() for p in self.exclude_paths}
        self._extend = [_Ignore(Path(base).resolve(), _spec(patterns)) for base, patterns in self.extend_exclude if patterns]
        self._ignores: dict[Path, list[_Ignore]] = {}
        self._top = find_repository_top(self.root) if self.respect_gitignore else None
        if self.respect_gitignore:
            inherited: list[_Ignore] = []
            if self._top is not None:
                info = _read_lines(self._top / ".git" / "info" / "exclude")
                if info:
                    inherited.append(_Ignore(self._top, _spec(info)))
                # .gitignore files above the bundle, from the repository's top down
                for folder in reversed(self.root.parents):
                    if folder == self._top or self._top in folder.parents:
                        inherited += self._own(folder)
            self._ignores[self.root] = inherited + self._own(self.root)

    @staticmethod
    def _own(folder: Path) -> list[_Ignore]:
        lines = _read_lines(folder / ".gitignore")
        return [_Ignore(folder, _spec(lines))] if lines else []

    def _chain(self, folder: Path) -> list[_Ignore]:
        """The ignore files in force in `folder` (its parents' and its own), memoised."""
        if folder in self._ignores:
            return self._ignores[folder]
        chain = self._chain(folder.parent) + self._own(folder) if folder != self.root else []
        self._ignores[folder] = chain
        return chain

    def reason(self, rel: str, is_dir: bool) -> str | None:
        """Why `rel` (a POSIX path relative to `root`) is not part of the bundle, or None."""
        name = rel.rsplit("/", 1)[-1]
        if name.startswith("."):
            return "dot-" + ("directory" if is_dir else "file")
        if is_dir and (name in DEFAULT_EXCLUDE_DIRS or name.endswith(_DIR_SUFFIXES)):
            return "run-output, build or tool folder"
        if not is_dir and name in DEFAULT_EXCLUDE_FILES:
            return "CI configuration"
        path = self.root / rel
        if path in self._paths:
            return "an output file of this run"
        if any(e.check(path, is_dir) for e in self._extend):
            return "extend-exclude"
        if self.respect_gitignore:
            verdict = None
            for ignore in self._chain(path.parent):
                result = ignore.check(path, is_dir)
                if result is not None:
                    verdict = result  # deeper .gitignore files and later patterns win, as in git
            if verdict:
                return ".gitignore"
        return None

    def keep(self, rel: str, is_dir: bool) -> bool:
        """True when `rel` belongs to the bundle; a skipped entry is remembered with its reason."""
        why = self.reason(rel, is_dir)
        if why is not None:
            self.skipped.append((rel + ("/" if is_dir else ""), why))
        return why is None
