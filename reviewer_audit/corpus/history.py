"""`reviewer-audit history`: score the reviewer and the tool against what actually ran.

    from reviewer_audit.corpus.history import collect_history
    report = collect_history(["../shared/repos/airas-20251106-163904-matsuzawa.git"], jobs=2)
    report.repos[0].runs[0].outcome, report.scores.reviewer.ready_failed

For each repository (a clone or a bare git directory): every transcript version on every
branch, audited with the same pipeline as `report` (each distinct text once, in worker
processes while the parent reads the runs); every CI-recorded run with its outcome, error and
the fixes that followed; for each review, the code it judged and the next run of exactly that
code; a timeline per run_id. The reviews become `CorpusRow`s and go through `report`'s own
aggregation (`build_report`), so the agreement tables, breakdowns and renderers are the
report's; the scores against execution are the part only history has.

A repository that cannot be read (not a repository, shallow, corrupt or missing commits or
trees) is listed in `errors` with one line, and the others are still read.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from reviewer_audit.corpus.history_models import (HistoryReport, RepoCounts, RepoError, RepoHistory, Timeline,
                                                  TimelineEvent, TranscriptVersion)
from reviewer_audit.corpus.history_runs import RunScan, scan_runs
from reviewer_audit.corpus.history_scan import RepoScan
from reviewer_audit.corpus.history_scores import score
from reviewer_audit.corpus import rowcache
from reviewer_audit.corpus.history_transcripts import (BlobAudit, BlobTask, CodeIndex, Version, _utc, audit_blob, blob_task,
                                                       crash_match, dead_blob, find_versions, next_run, ref, run_time)
from reviewer_audit.corpus.report import build_report
from reviewer_audit.engine.findings import Severity
from reviewer_audit.ingest.errors import InputError

if TYPE_CHECKING:
    from reviewer_audit.pipeline.cache import AuditCache

NO_RUN_ID = "(no run id)"


def collect_history(paths: Sequence[str | Path], *, jobs: int | None = None, fail_on: str = "major",
                    warn: Callable[[str], None] | None = None, cache: "AuditCache | None" = None,
                    executor: str = "process", scheduler: str | None = None) -> HistoryReport:
    """Read every repository in `paths`; `warn(line)` hears about each one that cannot be read.
    Transcript texts in `cache` are read back, the others audited (`executor` as in `report`)."""
    Severity(fail_on)
    started = time.perf_counter()
    errors: list[RepoError] = []

    def failed(path, exc: InputError) -> None:
        errors.append(RepoError(repo=str(path), error=str(exc)))
        if warn is not None:
            warn(str(exc))

    scans: list[tuple[str, RepoScan, list[Version], float]] = []
    for path in paths:
        t0 = time.perf_counter()
        try:
            scan = RepoScan.open(path)
            versions = find_versions(scan)
        except InputError as exc:
            failed(path, exc)
            continue
        scans.append((str(path), scan, versions, time.perf_counter() - t0))

    tasks: dict[tuple[int, str], BlobTask] = {}
    for i, (_, scan, versions, _) in enumerate(scans):
        for v in versions:  # oldest first: a text is audited as of its first commit
            if (i, v.blob) not in tasks:
                tasks[(i, v.blob)] = blob_task(scan, v, fail_on)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(tasks) or 1))
    pending = _start_audits(list(tasks.values()), jobs, cache, executor, scheduler)

    run_scans: dict[int, RunScan] = {}
    read_ms: dict[int, float] = {}
    for i, (path, scan, _, took) in enumerate(scans):
        t0 = time.perf_counter()
        try:
            run_scans[i] = scan_runs(scan)
        except InputError as exc:
            failed(path, exc)
            continue
        read_ms[i] = round((took + time.perf_counter() - t0) * 1000, 1)

    audits = {a.source: a for a in pending()}
    repos: list[RepoHistory] = []
    rows = []
    for i, (path, scan, versions, _) in enumerate(scans):
        if i not in run_scans:
            continue
        mine = {key[1]: audits[t.source] for key, t in tasks.items() if key[0] == i}
        repo = _repo_history(path, scan, versions, run_scans[i], mine)
        repo.read_ms = read_ms[i]
        repos.append(repo)
        rows += [a.row for a in mine.values()]
    corpus = build_report(rows, fail_on=fail_on, inputs=[str(p) for p in paths], jobs=jobs)
    from reviewer_audit import __version__

    return HistoryReport(tool_version=__version__, fail_on=fail_on, inputs=[str(p) for p in paths], jobs=jobs,
                         wall_ms=round((time.perf_counter() - started) * 1000, 1), repos=repos, errors=errors,
                         scores=score(v for r in repos for v in r.transcripts), corpus=corpus)


def _start_audits(tasks: list[BlobTask], jobs: int, cache: "AuditCache | None" = None, executor: str = "process",
                  scheduler: str | None = None) -> Callable[[], list[BlobAudit]]:
    """Start the audits now (in worker processes when jobs > 1, on Dask with `executor="dask"`);
    call the result to collect. Texts in `cache` are read back here; new audits are stored."""
    done: list[BlobAudit] = []
    keys: dict[str, str] = {}
    if cache is not None:
        todo = []
        for t in tasks:
            hit, key = _cached_blob(cache, t)
            if hit is not None:
                done.append(hit)
            else:
                todo.append(t)
                if key is not None:
                    keys[t.source] = key
        tasks = todo

    def store(audits) -> list[BlobAudit]:
        out = list(done)
        for a in audits:
            key = keys.get(a.source)
            if key is not None and rowcache.storable(a.row):
                rowcache.put(cache, "blob", key, {"row": rowcache.dump_row(a.row), "bundle_ids": a.bundle_ids,
                                                  "first_crash": a.first_crash.model_dump(mode="json") if a.first_crash else None})
            out.append(a)
        return out

    if not tasks:
        return lambda: list(done)
    largest_first = sorted(tasks, key=lambda t: -len(t.text or ""))  # the long audits do not end up last
    if executor == "dask":
        from reviewer_audit.corpus import dask_executor

        results = dask_executor.start(audit_blob, largest_first, jobs, dead_blob, scheduler)
        return lambda: store(results)
    if jobs == 1 or len(tasks) < 2:
        return lambda: store(audit_blob(t) for t in tasks)
    from reviewer_audit.corpus import pool
    from reviewer_audit.corpus.report import _warm

    _warm()
    results = pool.start(audit_blob, largest_first, jobs, dead_blob)
    return lambda: store(results)


def _cached_blob(cache: "AuditCache", task: BlobTask) -> tuple[BlobAudit | None, str | None]:
    """(the cached audit of this text or None, its key; None for a text that could not be read)."""
    if task.text is None:
        return None, None
    started = time.perf_counter()
    key = rowcache.row_key(cache, "blob", task.text, task.date, task.fail_on)
    value = rowcache.get(cache, "blob", key)
    if value is None:
        return None, key
    base = dict(file=task.source, file_date=task.date, commit_date=_utc(task.date), fail_on=task.fail_on)
    decoded = rowcache.decode("blob", value, base, round((time.perf_counter() - started) * 1000, 2))
    if decoded is None:
        return None, key
    row, crash, ids = decoded
    return BlobAudit(task.source, row, crash, ids), key


def _repo_history(path: str, scan: RepoScan, versions: list[Version], runs: RunScan, audits: dict[str, BlobAudit]) -> RepoHistory:
    index = CodeIndex(scan)
    seen: set[str] = set()
    out: list[TranscriptVersion] = []
    for v in versions:
        audit = audits[v.blob]
        row = audit.row
        info = scan.commits[v.commit]
        tv = TranscriptVersion(
            commit=v.commit, date=info.iso, branch=scan.branch_of.get(v.commit), path=v.path, blob=v.blob,
            first_of_blob=v.blob not in seen, row=row.file, reviewer_model=row.llm_name, prompt_version=row.prompt_version,
            reviewer_ready=row.reviewer_ready, tool_ready=row.tool_ready, agreement=row.agreement, audit_error=row.error,
            first_crash=audit.first_crash, run_ids=list(row.run_ids))
        seen.add(v.blob)
        if audit.bundle_ids:
            tv.code_commit = index.first_commit(audit.bundle_ids, info.date)
            nxt = next_run(index, audit.bundle_ids, runs.runs, info.date) if tv.code_commit else None
            if nxt is not None:
                tv.next_run = ref(nxt)
                tv.outcome_next_run = nxt.outcome
                tv.crash_match = crash_match(nxt, audit.first_crash)
        out.append(tv)
    outcomes = [r.outcome for r in runs.runs]
    counts = RepoCounts(
        commits=len(scan.commits), branches=len(scan.branches), transcript_versions=len(out), reviews=len(seen),
        runs=len(runs.runs), passed=outcomes.count("passed"), failed=outcomes.count("failed"), unknown=outcomes.count("unknown"),
        passed_lines=runs.passed_lines, fix_commits=runs.fix_messages, agent_commits=runs.agent_messages)
    return RepoHistory(repo=path, name=scan.name, head=scan.head, branches=scan.branches, counts=counts, transcripts=out,
                       runs=runs.runs, fix_commits=runs.fix_commits, timeline=timeline(out, runs), notes=scan.notes + runs.notes)


def timeline(versions: list[TranscriptVersion], runs: RunScan) -> list[Timeline]:
    """Per run_id, in time order: review -> run -> fix -> review ... A review joins the run ids
    its transcript names and that of the next run of its code. Event dates are UTC."""
    events: dict[str, list[tuple[dt.datetime, int, TimelineEvent]]] = {}

    def add(run_id: str | None, when: dt.datetime, order: int, event: TimelineEvent) -> None:
        event.date = when.astimezone(dt.timezone.utc).isoformat()  # one clock for the whole timeline
        events.setdefault(run_id or NO_RUN_ID, []).append((when, order, event))

    for v in versions:
        if not v.first_of_blob:
            continue
        ids = set(v.run_ids) | ({v.next_run.run_id} if v.next_run and v.next_run.run_id else set())
        event = TimelineEvent(kind="review", date=v.date, commit=v.commit, branch=v.branch,
                              reviewer_ready=v.reviewer_ready, tool_ready=v.tool_ready, outcome=v.outcome_next_run)
        for run_id in sorted(ids) or [None]:
            add(run_id, dt.datetime.fromisoformat(v.date), 0, event.model_copy())
    for r in runs.runs:
        add(r.run_id, run_time(r), 1, TimelineEvent(kind="run", date=r.started_at or r.date, commit=r.commit, branch=r.branch,
                                                   outcome=r.outcome, mode=r.mode, error=r.error))
    for f in runs.fix_commits:
        add(f.run_id, dt.datetime.fromisoformat(f.date), 2, TimelineEvent(kind="fix", date=f.date, commit=f.commit,
                                                                           branch=f.branch, files=f.files))
    return [Timeline(run_id=k, events=[e for _, _, e in sorted(v, key=lambda x: (x[0], x[1]))])
            for k, v in sorted(events.items(), key=lambda kv: (kv[0] == NO_RUN_ID, kv[0]))]
