"""Read a git repository's objects directly (pygit2): commits, trees and bounded blob reads.

Why pygit2 (libgit2) and not dulwich: libgit2 reads an object's header -- its type and size --
without inflating it (`Odb.read_header`), so a blob is measured before it is read and a huge log
never reaches memory; its tree diffs and blob diffs run in C, which keeps a repository's whole
history within a few hundred milliseconds; tree entries are looked up lazily, so a snapshot
whose largest blobs are absent still walks. Its wheels bundle libgit2: nothing to install.

What this module never does: check out a working tree, run a hook or a filter, read the
user's or the system's git configuration, or touch the network. Nothing is written.

A repository that cannot be read as a whole -- not a repository, a shallow clone (its history
is cut, so every count would be wrong), a commit or tree that is missing or corrupt -- is an
`InputError` naming it. A missing *blob* is not: mirrors and snapshots leave out their largest
files, so a missing blob is reported where it is needed (`BlobUnavailable`) and the rest of the
history is still read.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from reviewer_audit.ingest.errors import InputError

#: Largest log blob (stdout.txt / stderr.txt) read. Real CI logs are under 1.1 MB; a log past this
#: is reported as too large to read and its run's outcome is unknown.
MAX_LOG_BLOB_BYTES = 16 * 1024 * 1024
#: Largest code blob read (src/main.py, ...), as for a bundle file.
MAX_CODE_BLOB_BYTES = 2 * 1024 * 1024

_SETTINGS_DONE = False


class BlobUnavailable(Exception):
    """A blob the history needs cannot be read: absent from this snapshot, too large, binary."""

    def __init__(self, oid: str, reason: str) -> None:
        self.oid = oid
        self.reason = reason
        super().__init__(f"blob {oid[:12]}: {reason}")


@dataclass(frozen=True)
class CommitInfo:
    """One commit, as the history needs it (no pygit2 object escapes this module)."""

    sha: str
    parents: tuple[str, ...]
    time: int
    offset_minutes: int
    summary: str
    message: str

    @property
    def date(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.time, tz=dt.timezone(dt.timedelta(minutes=self.offset_minutes)))

    @property
    def iso(self) -> str:
        return self.date.isoformat()

    @property
    def first_parent(self) -> str | None:
        return self.parents[0] if self.parents else None


def git_blob_id(data: bytes) -> str:
    """The id git gives a blob of these bytes (SHA-1 of the `blob <size>` header and the data)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _settings() -> None:
    """Process-wide libgit2 settings, once: no user/system/XDG configuration is read, and the
    owner check is off. git's ownership check (safe.directory) exists because a foreign
    repository's configuration can make *git* run commands (core.fsmonitor, hooks); libgit2
    runs none, and reading a read-only mirror owned by another user is the point here."""
    global _SETTINGS_DONE
    if _SETTINGS_DONE:
        return
    import pygit2
    from pygit2.enums import ConfigLevel, Option

    for level in (ConfigLevel.GLOBAL, ConfigLevel.XDG, ConfigLevel.SYSTEM, ConfigLevel.PROGRAMDATA):
        pygit2.option(Option.SET_SEARCH_PATH, level, "")
    pygit2.option(Option.SET_OWNER_VALIDATION, 0)
    _SETTINGS_DONE = True


class GitRepo:
    """A repository opened for reading. Every method that can meet a broken object raises
    `InputError` (the repository is unreadable) or `BlobUnavailable` (one blob is)."""

    def __init__(self, path: str | Path):
        import pygit2
        from pygit2.enums import RepositoryOpenFlag

        _settings()
        self.path = str(path)
        p = Path(path)
        if not p.exists():
            raise InputError(path, "no such file or directory")
        if not p.is_dir():
            raise InputError(path, "not a git repository (a file, expected a clone or a bare .git directory)")
        try:
            self._repo = pygit2.Repository(str(p), RepositoryOpenFlag.NO_SEARCH)
        except (pygit2.GitError, KeyError, ValueError, OSError) as exc:
            raise InputError(path, f"not a readable git repository ({_one_line(exc)})") from None
        if self._repo.is_shallow:
            raise InputError(path, "shallow clone: its history is cut, so runs and reviews would be missed "
                                   "(fetch the whole history with `git fetch --unshallow`)")
        self._pygit2 = pygit2
        self._tree_cache: dict[tuple[str, str], str | None] = {}

    # ------------------------------------------------------------------ refs and commits

    def branches(self) -> list[tuple[str, str]]:
        """(name, tip sha) of every local and remote-tracking branch; remote names keep their
        remote (`origin/main`). Symbolic refs (origin/HEAD) and refs that do not name a commit
        are skipped; a ref whose commit is missing is an `InputError`."""
        out = []
        try:
            refs = self._repo.listall_reference_objects()
        except self._pygit2.GitError as exc:
            raise InputError(self.path, f"corrupt references ({_one_line(exc)})") from None
        for ref in refs:
            name = ref.name
            if not name.startswith(("refs/heads/", "refs/remotes/")) or name.endswith("/HEAD"):
                continue
            try:
                target = ref.resolve().target
            except (self._pygit2.GitError, KeyError) as exc:
                raise InputError(self.path, f"corrupt or partial repository: {name} does not resolve ({_one_line(exc)})") from None
            obj = self._lookup(str(target), name)
            if obj.type_str != "commit":
                continue
            short = name[len("refs/heads/"):] if name.startswith("refs/heads/") else name[len("refs/remotes/"):]
            out.append((short, str(target)))
        return sorted(out)

    def head_branch(self) -> str | None:
        try:
            if self._repo.head_is_unborn:
                return None
            return self._repo.head.shorthand
        except (self._pygit2.GitError, KeyError):
            return None

    def walk(self, tip: str) -> Iterator[CommitInfo]:
        """Every commit reachable from `tip`, newest first. A missing or corrupt commit is an
        `InputError`: without it the history below cannot be read."""
        from pygit2.enums import SortMode

        try:
            for c in self._repo.walk(tip, SortMode.TOPOLOGICAL | SortMode.TIME):
                yield CommitInfo(sha=str(c.id), parents=tuple(str(p) for p in c.parent_ids), time=c.commit_time,
                                 offset_minutes=c.commit_time_offset, summary=_summary(c.message), message=c.message)
        except (self._pygit2.GitError, KeyError, ValueError) as exc:
            raise InputError(self.path, f"corrupt or partial repository: cannot walk the history from {tip[:12]} ({_one_line(exc)})") from None

    # ------------------------------------------------------------------ trees

    def tree_id(self, commit: str) -> str:
        obj = self._lookup(commit, "commit")
        try:
            return str(obj.tree_id)
        except (self._pygit2.GitError, AttributeError) as exc:
            raise InputError(self.path, f"corrupt commit {commit[:12]} ({_one_line(exc)})") from None

    def entry(self, commit: str, path: str) -> str | None:
        """Id of the object at `path` in `commit`'s tree, or None. Cached per (commit, path)."""
        key = (commit, path)
        if key in self._tree_cache:
            return self._tree_cache[key]
        tree = self._tree(commit)
        try:
            oid = str(tree[path].id)
        except KeyError:
            oid = None
        except self._pygit2.GitError as exc:  # a tree on the way is missing
            raise InputError(self.path, f"corrupt or partial repository: tree of {commit[:12]} at {path!r} ({_one_line(exc)})") from None
        self._tree_cache[key] = oid
        return oid

    def list_dir(self, commit: str, path: str) -> list[tuple[str, str, str]]:
        """(name, id, 'tree'|'blob'|'commit') of the entries of the folder `path` in `commit`."""
        oid = self.entry(commit, path) if path else self.tree_id(commit)
        if oid is None:
            return []
        tree = self._lookup(oid, f"{commit[:12]}:{path}")
        if tree.type_str != "tree":
            return []
        try:
            return [(e.name, str(e.id), e.type_str) for e in tree]
        except self._pygit2.GitError as exc:
            raise InputError(self.path, f"corrupt tree {oid[:12]} ({_one_line(exc)})") from None

    def changed_paths(self, parent: str | None, commit: str) -> list[tuple[str, str]]:
        """(status letter, path) of every file `commit` changes against `parent` (None: the root
        commit adds everything). Tree ids only: no blob is read."""
        new = self._lookup(self.tree_id(commit), f"tree of {commit[:12]}")
        try:
            if parent is None:
                diff = new.diff_to_tree(swap=True)
            else:
                old = self._lookup(self.tree_id(parent), f"tree of {parent[:12]}")
                diff = old.diff_to_tree(new)
            return [(d.status_char(), d.new_file.path if d.status_char() != "D" else d.old_file.path) for d in diff.deltas]
        except self._pygit2.GitError as exc:
            raise InputError(self.path, f"corrupt or partial repository: cannot diff {commit[:12]} ({_one_line(exc)})") from None

    # ------------------------------------------------------------------ blobs

    def blob_size(self, oid: str) -> int:
        """Size of a blob from its header alone. `BlobUnavailable` when it is absent."""
        try:
            kind, size = self._repo.odb.read_header(self._pygit2.Oid(hex=oid))
        except (KeyError, self._pygit2.GitError, ValueError):
            raise BlobUnavailable(oid, "absent from this repository (a snapshot without its largest files?)") from None
        if int(kind) != 3:  # GIT_OBJECT_BLOB
            raise BlobUnavailable(oid, "not a blob")
        return int(size)

    def read_blob(self, oid: str, limit: int) -> bytes:
        """A blob's bytes, refused (`BlobUnavailable`) past `limit` bytes before it is read."""
        size = self.blob_size(oid)
        if size > limit:
            raise BlobUnavailable(oid, f"{size} bytes, over the {limit}-byte read limit")
        try:
            return self._repo[oid].data
        except (KeyError, self._pygit2.GitError, ValueError) as exc:
            raise BlobUnavailable(oid, f"unreadable ({_one_line(exc)})") from None

    def added_bytes(self, old: str | None, new: str, limit: int) -> bytes:
        """What `new` adds to `old`: the lines a commit appended to a growing log.

        A log that only grows is handled without a diff (the new blob starts with the old one);
        otherwise libgit2's line diff gives the added lines. Both blobs are bounded by `limit`;
        an old blob that is absent counts as empty (everything in `new` is added)."""
        data = self.read_blob(new, limit)
        if old is None:
            return data
        try:
            before = self.read_blob(old, limit)
        except BlobUnavailable:
            return data
        if data.startswith(before):
            return data[len(before):]
        try:
            patch = self._pygit2.Patch.create_from(before, data, context_lines=0)
            return b"".join(line.raw_content for hunk in patch.hunks for line in hunk.lines if line.origin == "+")
        except self._pygit2.GitError as exc:
            raise BlobUnavailable(new, f"cannot diff against {old[:12]} ({_one_line(exc)})") from None

    # ------------------------------------------------------------------ helpers

    def _tree(self, commit: str):
        return self._lookup(self.tree_id(commit), f"tree of {commit[:12]}")

    def _lookup(self, oid: str, what: str):
        try:
            obj = self._repo.get(oid)
        except (self._pygit2.GitError, ValueError) as exc:
            raise InputError(self.path, f"corrupt object {oid[:12]} ({what}): {_one_line(exc)}") from None
        if obj is None:
            raise InputError(self.path, f"corrupt or partial repository: object {oid[:12]} ({what}) is missing")
        return obj


def _summary(message: str) -> str:
    return message.split("\n", 1)[0].strip()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
