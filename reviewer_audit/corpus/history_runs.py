"""The CI-recorded runs in a repository's history, with their outcome, error and fixes.

Evidence, per commit (every commit on every branch, compared with its first parent):
- the lines it added to `.research/iteration<N>/stdout.txt`: each `Start` marker is one run,
  `passed` when a PASSED (or END) line closes it, `failed` when none does -- the CI prints that
  line only when the command exited 0. A log grows across runs, so only the added lines count;
- `[CI] Automated fix for run_id=X`: the run of X before it failed (its log is in the commit when
  the log was already tracked; otherwise the error was not recorded). The fix follows the run,
  so the code that ran is the fix's parent;
- `[CI] Apply fixes for run_id: X` (the older agent workflow, which ran, fixed and re-ran inside
  one job and committed once): its runs are in its log; the code was edited in the same commit.

Traps handled: a PASSED line for an empty `src/main.py` (Python exits 0 on an empty module:
nothing ran, so the outcome is unknown); logs committed together with code edits (the code
that ran is then not exactly in any commit: `code_exact` is false and such runs are not used to
score reviews); a run that completed with a NaN loss is `passed` -- it completed -- and flagged
`nan_loss`, since completed is not correct.
"""
from __future__ import annotations

import ast
import datetime as dt
import re
from dataclasses import dataclass

from reviewer_audit.corpus.cilog import (Attempt, attempts, branch_run_id, classify_message, find_error, first_episode,
                                         nan_loss, passed_lines)
from reviewer_audit.corpus.history_models import FixCommit, Run
from reviewer_audit.corpus.history_scan import RepoScan
from reviewer_audit.ingest.gitrepo import MAX_CODE_BLOB_BYTES, MAX_LOG_BLOB_BYTES, BlobUnavailable
from reviewer_audit.ingest.limits import MAX_PYTHON_BYTES

_ITERATION = re.compile(r"^iteration(\d+)$")


@dataclass
class LogChange:
    iteration: int
    stdout: str | None  # the added text; None when the commit did not change it
    stderr: str | None
    problems: list[str]
    stdout_unreadable: bool = False
    stderr_unreadable: bool = False


@dataclass
class RunScan:
    runs: list[Run]
    fix_commits: list[FixCommit]
    passed_lines: int
    fix_messages: int
    agent_messages: int
    notes: list[str]


def scan_runs(scan: RepoScan) -> RunScan:
    runs: list[Run] = []
    fixes: list[FixCommit] = []
    notes: list[str] = []
    passed_total = fix_msgs = agent_msgs = 0
    for sha in scan.order:
        info = scan.commits[sha]
        msg = classify_message(info.summary)
        logs = _changed_logs(scan, sha)
        if msg.kind == "other" and not logs:
            continue
        branch = scan.branch_of.get(sha)
        fix_msgs += msg.kind == "fix"
        agent_msgs += msg.kind == "apply_fixes"
        code_changed = scan.code_changed(sha)
        if msg.kind in ("fix", "apply_fixes") and code_changed:
            fixes.append(FixCommit(commit=sha, date=info.iso, branch=branch, run_id=msg.run_id or branch_run_id(branch or ""),
                                   message=info.summary, files=scan.changed_files(sha)))
        here, count = _runs_in_commit(scan, sha, msg, logs, code_changed)
        passed_total += count
        for log in logs:
            notes.extend(f"{sha[:12]}: {p}" for p in log.problems)
        runs.extend(here)
    _attach_fixes(runs, fixes, scan)
    return RunScan(runs=runs, fix_commits=fixes, passed_lines=passed_total, fix_messages=fix_msgs,
                   agent_messages=agent_msgs, notes=notes)


def _changed_logs(scan: RepoScan, sha: str) -> list[LogChange]:
    git = scan.git
    parent = scan.parent(sha)
    if git.entry(sha, ".research") == (git.entry(parent, ".research") if parent else None):
        return []
    out = []
    for name, oid, kind in git.list_dir(sha, ".research"):
        m = _ITERATION.match(name)
        if kind != "tree" or not m:
            continue
        before = git.entry(parent, f".research/{name}") if parent else None
        if before == oid:
            continue
        change = LogChange(iteration=int(m.group(1)), stdout=None, stderr=None, problems=[])
        for stream in ("stdout", "stderr"):
            path = f".research/{name}/{stream}.txt"
            new = git.entry(sha, path)
            old = git.entry(parent, path) if parent else None
            if new is None or new == old:
                continue
            try:
                data = git.added_bytes(old, new, MAX_LOG_BLOB_BYTES)
                if b"\0" in data:
                    raise BlobUnavailable(new, "binary (holds NUL bytes)")
                setattr(change, stream, data.decode("utf-8", errors="replace"))
            except BlobUnavailable as exc:
                change.problems.append(f"{path}: {exc.reason}")
                setattr(change, f"{stream}_unreadable", True)
        if change.stdout is not None or change.stderr is not None or change.problems:
            out.append(change)
    return sorted(out, key=lambda c: c.iteration)


def _runs_in_commit(scan: RepoScan, sha: str, msg, logs: list[LogChange], code_changed: bool) -> tuple[list[Run], int]:
    info = scan.commits[sha]
    branch = scan.branch_of.get(sha)
    parent = scan.parent(sha)
    found: list[tuple[Attempt, LogChange]] = []
    count = 0
    for log in logs:
        if log.stdout is not None:
            count += passed_lines(log.stdout)
            found += [(a, log) for a in attempts(log.stdout)]
    stdout_unreadable = [log for log in logs if log.stdout_unreadable]
    fallback_run_id = msg.run_id or branch_run_id(branch or "")
    runs: list[Run] = []
    # An agent's job (the older workflows) ran, fixed and re-ran inside one job and committed code
    # and log together. Its instructions let it edit code only after a failed run, so the code
    # it checked out failed once. Its trial log accumulates: the first attempt logged ran that
    # code -- unless the job edited pyproject.toml, which it may have fixed after the install
    # (uv sync runs first and is not logged) and before that attempt. Its full-run log is wiped
    # before each attempt: what is left is the last attempt, which ran (about) the commit.
    agent_commit = code_changed and msg.kind != "fix" and (bool(found) or msg.kind == "apply_fixes")
    pyproject_edited = agent_commit and scan.git.entry(sha, "pyproject.toml") != (scan.git.entry(parent, "pyproject.toml") if parent else None)
    first_is_checkout = bool(found) and found[0][0].mode != "full" and not pyproject_edited
    if agent_commit and not first_is_checkout and msg.kind in ("apply_fixes", "full_run"):
        mode, inferred = (found[0][0].mode, False) if found and found[0][0].mode else _mode_from_branch(branch)
        runs.append(Run(commit=sha, code_commit=parent, code_exact=True, run_id=(found[0][0].run_id if found else None) or fallback_run_id,
                        mode=mode, mode_inferred=inferred, outcome="failed", evidence="agent-commit", branch=branch, date=info.iso,
                        started_at=found[0][0].started_at if found else None, flags=["code_edited_in_commit"],
                        notes=["inferred: the agent edits code only after a failed run, so the checked-out code failed "
                               "(its install or its first run); that failure's log is not attributable"]))
    for i, (a, log) in enumerate(found):
        run_id = a.run_id or fallback_run_id
        mode, inferred = (a.mode, False) if a.mode else _mode_from_branch(branch)
        code_commit, exact = parent, True
        flags: list[str] = []
        notes: list[str] = []
        if agent_commit:
            flags.append("code_edited_in_commit")
            if i == 0 and first_is_checkout:
                code_commit, exact = parent, True
                notes.append("the first attempt of an agent's job: it ran the checked-out code")
            elif i == 0 and a.mode != "full" and len(found) > 1:
                code_commit, exact = parent, False
                notes.append("the first attempt of an agent's job, but the job also edited pyproject.toml, "
                             "possibly before this attempt (the install is not logged)")
            elif i == len(found) - 1:
                code_commit, exact = sha, False
                notes.append("the code was edited in the commit that recorded this run; what ran is close to this commit")
            else:
                code_commit, exact = None, False
                notes.append("an intermediate attempt inside an agent's job: the code it ran was never committed")
        if len(found) > 1:
            flags.append("several_attempts")
        run = Run(commit=sha, code_commit=code_commit, code_exact=exact, run_id=run_id, mode=mode, mode_inferred=inferred,
                  outcome="passed" if a.passed else "failed", stage=a.stage,
                  evidence=("end-line" if a.marker == "END" else "passed-line") if a.passed else "no-passed-line",
                  branch=branch, date=info.iso, started_at=a.started_at, ended_at=a.ended_at, iteration=log.iteration,
                  flags=flags, notes=notes)
        failed_here = [x for x, _ in found if not x.passed]  # (the inferred agent failure is not a logged attempt)
        if not a.passed:
            own = find_error(a.text)
            if own is None and len(failed_here) == 1 and log.stderr:
                own = find_error(log.stderr)
            elif own is None and i == 0 and log.stderr:  # the job's first failure printed first
                own = find_error(first_episode(log.stderr))
            if own is None and len(failed_here) > 1:
                run.notes.append("several failed attempts share this commit's stderr: its error is not attributed")
            if own is not None:
                run.error, run.error_file, run.error_line = own.text, own.path, own.line
            elif log.stderr_unreadable:
                run.flags.append("stderr_unavailable")
        else:
            nan = nan_loss(a.text) or (nan_loss(log.stderr) if log.stderr and len(found) == 1 else None)
            if nan:
                run.flags.append("nan_loss")
                run.notes.append(f"completed with a NaN loss: {nan}")
            _check_empty_main(scan, run)
        runs.append(run)
    if msg.kind == "fix" and not any(r.outcome == "failed" and r.run_id in (None, fallback_run_id) for r in runs):
        run_id = fallback_run_id
        mode, inferred = _mode_from_branch(branch)
        run = Run(commit=sha, code_commit=parent, code_exact=True, run_id=run_id, mode=mode, mode_inferred=inferred,
                  outcome="failed", evidence="fix-commit", branch=branch, date=info.iso)
        stderr = next((log.stderr for log in logs if log.stderr), None)
        err = find_error(stderr) if stderr else None
        if err is not None:
            run.error, run.error_file, run.error_line = err.text, err.path, err.line
        else:
            run.notes.append("the error was not recorded: the log was not committed with the fix")
        if run_id is None:
            run.notes.append("the fix commit names no run_id")
        runs.append(run)
    if stdout_unreadable and not found and msg.kind in ("trial_passed", "full_run"):
        mode, inferred = _mode_from_branch(branch)
        runs.append(Run(commit=sha, code_commit=parent, code_exact=not code_changed, run_id=fallback_run_id, mode=mode,
                        mode_inferred=inferred, outcome="unknown", evidence="log-unreadable", branch=branch, date=info.iso,
                        flags=["log_unavailable"], notes=[p for log in stdout_unreadable for p in log.problems]))
    return runs, count


def _mode_from_branch(branch: str | None) -> tuple[str | None, bool]:
    """AIRAS runs trials on the pipeline's branch and full experiments on run branches."""
    if branch is None:
        return None, True
    return ("full" if branch_run_id(branch) else "trial"), True


def _check_empty_main(scan: RepoScan, run: Run) -> None:
    """A PASSED line for an empty src/main.py proves nothing ran."""
    if run.code_commit is None:
        return
    oid = scan.git.entry(run.code_commit, "src/main.py")
    if oid is None:
        return
    if _empty_blob(scan, oid):
        run.outcome = "unknown"
        run.flags.append("empty_main")
        run.notes.append("PASSED for an empty src/main.py: Python exits 0 on an empty module, so nothing ran")


def _empty_blob(scan: RepoScan, oid: str) -> bool:
    """Is this main.py blob an empty module? Once per blob: many runs share one main.py."""
    key = ("empty_module", oid)
    if key not in scan.memo:
        try:
            scan.memo[key] = scan.git.blob_size(oid) <= MAX_PYTHON_BYTES and _empty_module(scan.read_text(oid, MAX_CODE_BLOB_BYTES))
        except BlobUnavailable:
            scan.memo[key] = False
    return scan.memo[key]


def _empty_module(source: str) -> bool:
    """No statement but a docstring or `pass`: the module runs nothing. Parsed, never run."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) for s in tree.body)


def _when(run: Run) -> dt.datetime:
    return dt.datetime.fromisoformat(run.started_at or run.date)


def _attach_fixes(runs: list[Run], fixes: list[FixCommit], scan: RepoScan) -> None:
    """A failed run's fixes: the fix commits for its run_id on its branch from the commit that
    recorded it until the next run of that run_id recorded in another commit."""
    by_key: dict[tuple, list[Run]] = {}
    for r in runs:
        by_key.setdefault((r.run_id, r.branch), []).append(r)
    for (run_id, branch), group in by_key.items():
        group.sort(key=lambda r: (scan.commits[r.commit].time, _when(r)))
        for i, r in enumerate(group):
            if r.outcome != "failed":
                continue
            start = scan.commits[r.commit].time
            later = [scan.commits[g.commit].time for g in group[i + 1:] if g.commit != r.commit]
            end = later[0] if later else None
            r.fixes = [f for f in fixes
                       if f.run_id == run_id and f.branch == branch
                       and start <= scan.commits[f.commit].time and (end is None or scan.commits[f.commit].time < end)]
