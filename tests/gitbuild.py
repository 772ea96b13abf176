"""Build small git repositories for the history tests, with the git command line.

Commits get fixed, increasing dates (UTC unless an offset is given), an isolated configuration
(no user or system config, no hooks, no signing), and exactly the files given; a file given as
None is deleted. Only test data is ever written here, inside the test's tmp_path.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

START = dt.datetime(2025, 11, 6, 12, 0, tzinfo=dt.timezone.utc)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="ci", GIT_AUTHOR_EMAIL="ci@example.invalid",
               GIT_COMMITTER_NAME="ci", GIT_COMMITTER_EMAIL="ci@example.invalid")
    return env


def git(cwd: Path, *args: str, date: str | None = None, check: bool = True) -> str:
    env = _env()
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    out = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", *args], cwd=cwd, env=env,
                         capture_output=True, check=check)
    return out.stdout.decode().strip()


class RepoBuilder:
    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True)
        git(path, "init", "-q", "-b", "main")
        self.clock = START
        self.shas: dict[str, str] = {}

    def commit(self, label: str, message: str, files: dict[str, str | bytes | None], minutes: int = 5,
               offset_hours: int = 0) -> str:
        """Write `files`, commit them as `message`; remember the sha under `label`."""
        for rel, content in files.items():
            target = self.path / rel
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        git(self.path, "add", "-A")
        self.clock += dt.timedelta(minutes=minutes)
        stamp = self.clock.astimezone(dt.timezone(dt.timedelta(hours=offset_hours))).isoformat()
        git(self.path, "commit", "-q", "--allow-empty", "-m", message, date=stamp)
        self.shas[label] = git(self.path, "rev-parse", "HEAD")
        return self.shas[label]

    def stamp(self, minutes: int = 1) -> str:
        """A time just after the last commit, as `date -u` prints it in the CI's logs."""
        return (self.clock + dt.timedelta(minutes=minutes)).strftime("%a %b %d %I:%M:%S %p UTC %Y")

    def append(self, rel: str, text: str) -> str:
        """The file's current text plus `text` (a log that grows)."""
        target = self.path / rel
        return (target.read_text(encoding="utf-8") if target.exists() else "") + text

    def branch(self, name: str, start: str | None = None) -> None:
        git(self.path, "checkout", "-q", "-b", name, *([start] if start else []))

    def checkout(self, name: str) -> None:
        git(self.path, "checkout", "-q", name)

    def object_file(self, spec: str) -> Path:
        """The loose object file of `spec` (a sha or `commit:path`)."""
        oid = git(self.path, "rev-parse", spec)
        return self.path / ".git" / "objects" / oid[:2] / oid[2:]


def marker(stage: str, what: str, run_id: str, when: str | None = None) -> str:
    """A CI log marker line; without `when` it carries no usable time (the commit's is used)."""
    when = when or "(no time)"
    return f"=== [{stage}] {what} for {run_id} at {when} ===\n"
