"""One repository's commits, each on a branch, with the lookups history extraction shares.

Every commit reachable from a local or remote-tracking branch is read once. A commit on
several branches is shown on one: the default branch when it holds it, else a branch that is
not a run branch (the pipeline's own: `research`, `main-retry-2`), else a run branch -- each
time the one holding the fewest commits. Shared history thus stays with the branch the run
branches forked from, and a commit only one run branch holds is shown on that run branch. A merge is compared with its first parent, as `git log --first-parent` would.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from reviewer_audit.corpus.cilog import branch_run_id
from reviewer_audit.ingest.gitrepo import BlobUnavailable, CommitInfo, GitRepo

#: Where the code lives: the files a run executes and a review judges.
CODE_ROOTS = ("src", "config", "pyproject.toml")


@dataclass
class RepoScan:
    git: GitRepo
    name: str
    head: str | None
    branches: list[str]
    commits: dict[str, CommitInfo]
    branch_of: dict[str, str]
    order: list[str] = field(default_factory=list)  # shas, oldest first
    notes: list[str] = field(default_factory=list)
    memo: dict = field(default_factory=dict)  # per-blob answers (a blob id fixes its content)

    @classmethod
    def open(cls, path: str | Path) -> "RepoScan":
        git = GitRepo(path)
        tips = git.branches()
        head = git.head_branch()
        commits: dict[str, CommitInfo] = {}
        reach: dict[str, set[str]] = {}
        for name, tip in tips:
            shas = set()
            for c in git.walk(tip):
                commits.setdefault(c.sha, c)
                shas.add(c.sha)
            reach[name] = shas
        ranked = sorted(reach, key=lambda b: (b != head, branch_run_id(b) is not None, len(reach[b]), b))
        branch_of: dict[str, str] = {}
        for b in ranked:
            for sha in reach[b]:
                branch_of.setdefault(sha, b)
        order = sorted(commits, key=lambda s: (commits[s].time, s))
        name = Path(str(path).rstrip("/")).name
        if name == ".git":
            name = Path(str(path).rstrip("/")).parent.name
        return cls(git=git, name=name[:-4] if name.endswith(".git") else name, head=head,
                   branches=[b for b, _ in tips], commits=commits, branch_of=branch_of, order=order)

    def parent(self, sha: str) -> str | None:
        p = self.commits[sha].first_parent
        return p if p in self.commits else None

    def date(self, sha: str) -> dt.datetime:
        return self.commits[sha].date

    def code_changed(self, sha: str) -> bool:
        """Did this commit change src/, config/ or pyproject.toml? (Tree ids only.)"""
        parent = self.parent(sha)
        return any(self.git.entry(sha, root) != (self.git.entry(parent, root) if parent else None) for root in CODE_ROOTS)

    def changed_files(self, sha: str) -> list[str]:
        """Paths this commit changed, leaving out .research/ (logs, results, prompts)."""
        return sorted(p for _, p in self.git.changed_paths(self.parent(sha), sha) if not p.startswith(".research/"))

    def read_text(self, blob: str, limit: int) -> str:
        """A blob as text (bounded; binary refused). Raises `BlobUnavailable`."""
        data = self.git.read_blob(blob, limit)
        if b"\0" in data:
            raise BlobUnavailable(blob, "binary (holds NUL bytes)")
        return data.decode("utf-8", errors="replace")
