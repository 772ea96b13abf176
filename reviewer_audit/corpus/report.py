"""Corpus report: audit many transcripts, one `CorpusRow` each, and aggregate them.

    from reviewer_audit.corpus.report import find_transcripts, audit_corpus, build_report
    rows = audit_corpus(find_transcripts(["fixtures/"]), jobs=2)
    report = build_report(rows)
    report.aggregates.agreement.kappa

- Every transcript is audited on its own: one that does not parse (`InputError`) or whose
  audit raises becomes a row with `error` set, and the run goes on. With `jobs > 1` the
  audits run in a process pool (chunks of files per task); a worker process that dies is
  contained too -- its files are retried one process each and the culprit is listed.
- Rows are the unit of exchange: `--jsonl` writes them one line each as they arrive,
  `--merge` reads them back from several shards and aggregates without re-auditing.
  `aggregate()` is a pure function of the rows, so a merge equals a direct run.
- Everything here is built from the models (`AuditReport`, `Finding`, `CriterionRow`,
  `Claim`), never from today's rule set: rules land over time and the numbers move.

The JSON Schema of `CorpusReport` is committed as `reviewer_audit/data/corpus.schema.json`;
regenerate it with `python -m reviewer_audit.corpus.report --write-schema` when the models change.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from pydantic import BaseModel, Field, ValidationError

from reviewer_audit.corpus import rowcache
from reviewer_audit.corpus.pool import WorkerStartError  # noqa: F401 -- re-exported for callers of iter_audit
from reviewer_audit.ingest.dates import file_name_date, index_dates
from reviewer_audit.ingest.errors import InputError
from reviewer_audit.engine.findings import Severity, one_line

if TYPE_CHECKING:
    from reviewer_audit.pipeline.cache import AuditCache

CORPUS_SCHEMA_VERSION = "2.0"
SCHEMA_PATH = Path(__file__).parents[1] / "data" / "corpus.schema.json"
#: Blockers kept per row (the worst first).
TOP_BLOCKERS = 5
#: Claim texts are cut to this many characters in a row.
CLAIM_CHARS = 1000
SEVERITIES = ("blocker", "major", "minor")
CLAIMS_NOTE = (
    "confirmed: a finding reports the same defect at the same place; refuted: the program model shows "
    "the point holds (a reviewer false alarm); unverified: no rule settles it either way (the tool's "
    "recall to-do list, ranked by kind of defect); context: lead-ins, headings, summaries, fix instructions."
)
#: Examples kept per unverified kind.
KIND_EXAMPLES = 3
UNNAMED = "(unnamed)"


# --------------------------------------------------------------------------- models: one row


class Blocker(BaseModel):
    """A finding at or above the threshold, as the report shows it."""

    rule: str
    name: str = ""
    severity: str
    criterion: str | None = None
    topic: str | None = None
    path: str | None = None
    line: int | None = None
    where: str = Field(description="path:line in the bundle, or <bundle>.")
    message: str = Field(description="The finding's message on one line.")
    snippet: str | None = None
    transcript_line: int | None = None


class CriterionStatus(BaseModel):
    criterion: str
    topic: str | None = None
    title: str = ""
    tool: str = Field(description="'pass' or 'fail'.")
    reviewer: str = Field(description="'pass' (approved), 'fail' (raised) or 'unstated'.")


class ClaimSummary(BaseModel):
    """One adjudicated reviewer claim, as a row keeps it."""

    text: str
    status: str = Field(description="confirmed, refuted, unverified or context.")
    evidence: str = ""
    kind: str | None = Field(default=None, description="crash, criterion or advice (None for context).")
    criterion: str | None = None
    defect: str | None = Field(default=None, description="The claim's first defect class, if any.")
    findings: list[str] = Field(default_factory=list, description="'RULE path:line' of the findings that confirm it.")


class RuleCount(BaseModel):
    rule: str
    name: str = ""
    severity: str
    count: int


class CorpusRow(BaseModel):
    """One audited transcript (or one that could not be audited: `error` is set)."""

    schema_version: str = CORPUS_SCHEMA_VERSION
    file: str
    llm_name: str | None = None
    prompt_version: str | None = Field(default=None, description="Fingerprint of the prompt's criteria.")
    family: str | None = None
    criteria_count: int | None = None
    file_date: str | None = Field(default=None, description="Date (and time) carried by the file name, ISO.")
    commit_date: str | None = Field(default=None, description="Commit date from an index.tsv beside the transcripts (UTC, ISO).")
    fail_on: str = "major"
    reviewer_ready: bool | None = None
    tool_ready: bool | None = None
    agreement: str | None = None
    counts: dict[str, int] = Field(default_factory=dict, description="Unsuppressed findings per severity.")
    top_blockers: list[Blocker] = Field(default_factory=list)
    first_crash: FirstCrash | None = Field(default=None, description="What the first run command dies of, in execution order.")
    claims_confirmed: int = 0
    claims_refuted: int = Field(default=0, description="Reviewer false alarms: claims the program model shows to be wrong.")
    claims_unverified: int = 0
    claims_context: int = 0
    claims: list[ClaimSummary] = Field(default_factory=list, description="Every adjudicated claim, in text order.")
    criteria: list[CriterionStatus] = Field(default_factory=list)
    rules_fired: list[RuleCount] = Field(default_factory=list)
    finding_keys: list[str] = Field(default_factory=list, description="'RULE path' of every unsuppressed finding, for round-to-round diffs.")
    run_ids: list[str] = Field(default_factory=list)
    hypothesis_fingerprint: str | None = Field(default=None, description="Hash of the hypothesis (or research method) text and experiment id: one pipeline run.")
    bundle_files: int | None = None
    bundle_bytes: int | None = None
    duration_ms: float = 0.0
    error: str | None = Field(default=None, description="One-line reason the transcript could not be audited.")
    error_kind: str | None = Field(default=None, description="'input' (does not parse), 'crash' (the audit raised) or 'worker' (its process died).")

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def worst(self) -> tuple[int, int, int]:
        return tuple(self.counts.get(s, 0) for s in SEVERITIES)  # type: ignore[return-value]


# --------------------------------------------------------------------------- models: aggregates


class AgreementTable(BaseModel):
    """Reviewer x tool (ready / not ready) over audited transcripts with a reviewer verdict."""

    reviewer_ready_tool_ready: int = 0
    reviewer_ready_tool_not_ready: int = 0
    reviewer_not_ready_tool_ready: int = 0
    reviewer_not_ready_tool_not_ready: int = 0
    no_reviewer_verdict: int = 0
    n: int = 0
    observed_agreement: float | None = None
    expected_agreement: float | None = None
    kappa: float | None = Field(default=None, description="Cohen's kappa; None when undefined (no rows, or chance agreement is 1).")
    approvals: int = 0
    approvals_rejected: int = 0
    approvals_rejected_share: float | None = Field(default=None, description="Share of reviewer approvals the tool rejects.")


class FirstCrash(BaseModel):
    """What the first run command dies of, in execution order."""

    command: str
    blocker: Blocker
    in_code: Blocker | None = Field(default=None, description="When the first blocker is the install or a config file: the first crash in the command's own code after it.")


class FalsePositive(BaseModel):
    file: str
    llm_name: str | None = None
    prompt_version: str | None = None
    file_date: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    top_blockers: list[Blocker] = Field(default_factory=list)
    first_crash: FirstCrash | None = None


class ClaimRef(BaseModel):
    """A claim with the transcript it comes from."""

    file: str
    llm_name: str | None = None
    prompt_version: str | None = None
    reviewer_ready: bool | None = None
    text: str
    evidence: str = ""
    kind: str | None = None
    criterion: str | None = None
    defect: str | None = None


class TranscriptClaims(BaseModel):
    """A transcript's claims by status (listed when the reviewer raised a false alarm)."""

    file: str
    llm_name: str | None = None
    prompt_version: str | None = None
    claims: int = 0
    confirmed: int = 0
    refuted: int = 0
    unverified: int = 0


class UnverifiedKind(BaseModel):
    """Unverified claims of one kind of defect: what the next rule should check."""

    defect: str = Field(description="Defect class (reviewer_audit.verdict.defects), or 'unclassified <criterion topic or claim kind>'.")
    covered_by: list[str] = Field(default_factory=list, description="Rules checking this kind (they did not fire); empty: no rule covers it.")
    count: int = 0
    transcripts: int = 0
    kinds: dict[str, int] = Field(default_factory=dict, description="crash / criterion / advice counts.")
    examples: list[ClaimRef] = Field(default_factory=list)


class CriterionAggregate(BaseModel):
    topic: str
    titles: list[str] = Field(default_factory=list)
    numbers: list[str] = Field(default_factory=list, description="Criterion numbers this topic had across prompt versions.")
    transcripts: int = 0
    tool_fails: int = 0
    reviewer_raised: int = 0
    reviewer_missed: int = Field(default=0, description="Tool fails and the reviewer approved or did not raise it.")
    missed_approved: int = 0
    missed_unstated: int = 0


class GroupStats(BaseModel):
    key: str
    family: str | None = None
    transcripts: int = 0
    audited: int = 0
    errors: int = 0
    reviewer_approvals: int = 0
    tool_ready: int = 0
    false_positives: int = 0
    reviewer_false_negatives: int = 0
    agree: int = 0
    kappa: float | None = None
    approvals_rejected_share: float | None = None
    claims: int = Field(default=0, description="Reviewer claims (context excluded).")
    claims_confirmed: int = 0
    claims_refuted: int = Field(default=0, description="Reviewer false alarms.")
    claims_unverified: int = 0
    false_alarm_share: float | None = Field(default=None, description="Refuted claims over claims.")
    first_date: str | None = None
    last_date: str | None = None
    related: list[str] = Field(default_factory=list, description="Prompt versions of a model, or models of a prompt version.")


class RuleStat(BaseModel):
    rule: str
    name: str = ""
    severity: str = ""
    transcripts: int = 0
    findings: int = 0


class IterationStep(BaseModel):
    before: str
    after: str
    fixed: list[str] = Field(default_factory=list, description="'RULE path' present before, gone after.")
    appeared: list[str] = Field(default_factory=list)
    kept: int = 0
    reviewer_ready_before: bool | None = None
    reviewer_ready_after: bool | None = None
    tool_ready_before: bool | None = None
    tool_ready_after: bool | None = None


class IterationGroup(BaseModel):
    key: str
    label: str
    linked_by: list[str] = Field(default_factory=list, description="'hypothesis' and/or 'run_ids'.")
    files: list[str] = Field(default_factory=list, description="Rounds in order (commit date, else file-name date, else name).")
    steps: list[IterationStep] = Field(default_factory=list)


class ErrorRow(BaseModel):
    file: str
    kind: str
    error: str


class Aggregates(BaseModel):
    transcripts: int = 0
    audited: int = 0
    errors: list[ErrorRow] = Field(default_factory=list)
    agreement: AgreementTable = Field(default_factory=AgreementTable)
    false_positives: list[FalsePositive] = Field(default_factory=list, description="Reviewer approved, tool rejects; worst first.")
    claims_note: str = CLAIMS_NOTE
    claims_confirmed: int = 0
    claims_refuted: int = 0
    claims_unverified: int = 0
    claims_context: int = 0
    false_alarms: list[ClaimRef] = Field(default_factory=list, description="Refuted claims (reviewer false alarms) with the evidence.")
    false_alarm_transcripts: list[TranscriptClaims] = Field(default_factory=list, description="Transcripts with at least one refuted claim, most first.")
    confirmed_claims: list[ClaimRef] = Field(default_factory=list)
    unverified_kinds: list[UnverifiedKind] = Field(default_factory=list, description="Unverified claims by kind of defect, most frequent first.")
    criteria: list[CriterionAggregate] = Field(default_factory=list)
    by_model: list[GroupStats] = Field(default_factory=list)
    by_prompt_version: list[GroupStats] = Field(default_factory=list)
    rules: list[RuleStat] = Field(default_factory=list, description="Most frequent rules first.")
    iterations: list[IterationGroup] = Field(default_factory=list)


class CorpusReport(BaseModel):
    """The versioned JSON contract of `reviewer-audit report --format json`."""

    schema_version: str = CORPUS_SCHEMA_VERSION
    tool_version: str = ""
    fail_on: str = "major"
    inputs: list[str] = Field(default_factory=list)
    merged: bool = Field(default=False, description="True when built from --jsonl shards with --merge.")
    jobs: int | None = None
    wall_ms: float | None = None
    rows: list[CorpusRow] = Field(default_factory=list)
    aggregates: Aggregates = Field(default_factory=Aggregates)


def corpus_json_schema() -> dict:
    """JSON Schema of `report --format json`: every top-level field is always written, so all
    are required; `$schema` names the dialect pydantic generates (draft 2020-12)."""
    schema = CorpusReport.model_json_schema(mode="serialization")
    schema["required"] = sorted(schema.get("properties", {}))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


# --------------------------------------------------------------------------- finding files


_SKIP_PARTS = ("__pycache__", "node_modules")
#: A folder holding one of these is a code bundle (a generated repository), not transcripts.
_BUNDLE_MARKERS = ("pyproject.toml", "setup.py")


def _searchable(root: Path, f: Path) -> bool:
    rel = f.relative_to(root).parts
    if any(part.startswith(".") or part in _SKIP_PARTS for part in rel):
        return False
    if f.name.lower().startswith(("readme", "requirements")):
        return False
    folder = f.parent
    while folder != root and root in folder.parents:
        if any((folder / m).is_file() for m in _BUNDLE_MARKERS):
            return False
        folder = folder.parent
    return True


def find_transcripts(paths: Sequence[str | Path], pattern: str = "*.txt") -> list[Path]:
    """Files given are taken as they are. Folders are searched recursively for `pattern`,
    skipping hidden folders, __pycache__, README*/requirements* files and code bundles
    below the folder (subfolders holding a pyproject.toml or setup.py). Raises `InputError`
    when a path does not exist or nothing is found."""
    found: dict[str, Path] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            found.setdefault(str(p), p)
        elif p.is_dir():
            for f in sorted(p.rglob(pattern)):
                if f.is_file() and _searchable(p, f):
                    found.setdefault(str(f), f)
        else:
            raise InputError(p, "no such file or directory")
    if not found:
        raise InputError(", ".join(str(p) for p in paths) or ".", f"no transcripts found (pattern {pattern!r})")
    return sorted(found.values(), key=lambda f: str(f))


# --------------------------------------------------------------------------- one transcript


def hypothesis_fingerprint(transcript) -> str | None:
    """The same pipeline run keeps its hypothesis (or research-method) text and experiment id."""
    section = transcript.hypothesis or transcript.method
    parts = [" ".join(section.text.split())] if section is not None and section.text.strip() else []
    current = transcript.section("Current Experiment")
    if current is not None:
        m = re.search(r"^- Experiment ID:\s*(.+?)\s*$", current.text, re.M)
        if m:
            parts.append(m.group(1))
    if not parts:
        return None
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def _audit_path(path: str, fail_on: str):
    """Parse once, for the row's grouping fields and the audit, as of the transcript's date."""
    from reviewer_audit.ingest.dates import transcript_date
    from reviewer_audit.pipeline.audit import audit_parsed_transcript
    from reviewer_audit.ingest.transcript import load_transcript

    transcript = load_transcript(path)
    report = audit_parsed_transcript(transcript, fail_on=fail_on, exclude_newer=transcript_date(path))
    report.source = path
    return transcript, report


def audit_one(path: str | Path, fail_on: str = "major") -> CorpusRow:
    """Audit one transcript into a row; never raises for a bad transcript or a crashing rule."""
    path = str(path)
    started = time.perf_counter()
    base = _row_base(path, fail_on)
    transcript = None
    try:
        transcript, report = _audit_path(path, fail_on)
    except InputError as exc:
        return CorpusRow(**base, error=exc.problem, error_kind="input", duration_ms=_ms(started), **_parsed_fields(transcript))
    except Exception as exc:  # noqa: BLE001 - isolation is the point: one line, the run goes on
        return CorpusRow(**base, error=_crash_line(exc), error_kind="crash", duration_ms=_ms(started), **_parsed_fields(transcript))
    row = row_from_report(report, transcript, **base)
    row.duration_ms = _ms(started)
    return row


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _crash_line(exc: BaseException) -> str:
    where = ""
    tb = traceback.extract_tb(exc.__traceback__)
    if tb:
        frame = tb[-1]
        where = f" (at {Path(frame.filename).name}:{frame.lineno})"
    return one_line(f"audit crashed: {type(exc).__name__}: {exc}{where}", 400)


def _parsed_fields(transcript) -> dict:
    if transcript is None:
        return {}
    return dict(
        llm_name=transcript.llm_name,
        prompt_version=transcript.prompt_version,
        family=transcript.family,
        criteria_count=len(transcript.prompt.criteria),
        reviewer_ready=transcript.verdict.ready,
        run_ids=[r.run_id for r in transcript.runs],
        hypothesis_fingerprint=hypothesis_fingerprint(transcript),
        bundle_files=len(transcript.bundle.files),
        bundle_bytes=sum(len(f.text.encode()) for f in transcript.bundle.files.values()),
    )


def row_from_report(report, transcript=None, **base) -> CorpusRow:
    """Summarise an `AuditReport` (and its parsed transcript, for grouping) as a row."""
    threshold = report.tool_verdict.fail_on
    live = [f for f in report.findings if not f.suppressed]
    blockers = sorted((f for f in live if f.severity.at_least(threshold)), key=lambda f: f.sort_key())
    fired: dict[str, RuleCount] = {}
    for f in live:
        rc = fired.get(f.rule)
        if rc is None:
            fired[f.rule] = RuleCount(rule=f.rule, name=f.name, severity=f.severity.value, count=1)
        else:
            rc.count += 1
            if Severity(f.severity).rank > Severity(rc.severity).rank:
                rc.severity = f.severity.value
    status = {k: sum(1 for c in report.claims if c.status == k) for k in ("confirmed", "refuted", "unverified", "context")}
    fields = _parsed_fields(transcript)
    fields.update(
        llm_name=report.llm_name,
        prompt_version=report.prompt_version,
        family=report.family,
        reviewer_ready=report.reviewer_verdict.ready if report.reviewer_verdict else None,
        run_ids=list(report.run_ids),
    )
    base.setdefault("file", report.source)
    base.setdefault("fail_on", threshold.value)
    return CorpusRow(
        **base,
        **fields,
        tool_ready=report.tool_verdict.ready,
        agreement=report.agreement,
        counts={s: int(report.tool_verdict.counts.get(s, 0)) for s in SEVERITIES},
        top_blockers=[_blocker(f) for f in blockers[:TOP_BLOCKERS]],
        first_crash=_first_crash(report),
        claims_confirmed=status["confirmed"],
        claims_refuted=status["refuted"],
        claims_unverified=status["unverified"],
        claims_context=status["context"],
        claims=[ClaimSummary(text=c.text[:CLAIM_CHARS], status=c.status, evidence=one_line(c.evidence, 400), kind=c.kind,
                             criterion=c.criterion, defect=c.defect,
                             findings=[f"{report.findings[i].rule} {report.findings[i].where}" for i in c.findings[:5]])
                for c in report.claims],
        criteria=[CriterionStatus(criterion=c.criterion, topic=c.topic, title=c.title, tool=c.tool, reviewer=c.reviewer) for c in report.criteria],
        rules_fired=sorted(fired.values(), key=lambda r: r.rule),
        finding_keys=sorted({f"{f.rule} {f.path or '<bundle>'}" for f in live}),
        duration_ms=float(report.timings_ms.get("total", 0.0)),
    )


def _first_crash(report) -> FirstCrash | None:
    crash = report.first_crash()
    if crash is None:
        return None
    command, first, in_code = crash
    return FirstCrash(command=command, blocker=_blocker(report.findings[first]),
                      in_code=_blocker(report.findings[in_code]) if in_code is not None else None)


def _blocker(f) -> Blocker:
    return Blocker(
        rule=f.rule, name=f.name, severity=f.severity.value, criterion=f.criterion, topic=f.topic,
        path=f.path, line=f.line, where=f.where, message=one_line(f.message, 300),
        snippet=(f.snippet or "")[:400] or None, transcript_line=f.transcript_line,
    )


# --------------------------------------------------------------------------- many transcripts


def iter_audit(files: Iterable[str | Path], fail_on: str = "major", jobs: int | None = None,
               mp_context=None, cache: "AuditCache | None" = None, executor: str = "process",
               scheduler: str | None = None) -> Iterator[CorpusRow]:
    """Yield one row per file as audits finish (in completion order). Rows in `cache` come
    first, read in this process; the rest are audited: `jobs=1` in-process; more in a process
    pool (`corpus.pool`, started with `mp_context`, default the platform's start method), or
    with `executor="dask"` on a Dask cluster (`corpus.dask_executor`: `scheduler`'s address,
    else a local cluster of `jobs` worker processes), a chunk of files per task; new rows are
    stored in `cache`. `WorkerStartError` when the workers cannot start at all."""

    files = [str(f) for f in files]
    Severity(fail_on)  # fail early on a bad threshold
    keys: dict[str, str] = {}
    if cache is not None:
        todo = []
        for f in files:
            row, key = _cached_row(cache, f, fail_on)
            if row is not None:
                yield row
            else:
                todo.append(f)
                if key is not None:
                    keys[f] = key
        files = todo
    if not files:
        return
    for row in _audit_rows(files, fail_on, jobs, mp_context, executor, scheduler):
        key = keys.get(row.file)
        if key is not None and rowcache.storable(row):
            rowcache.put(cache, "row", key, rowcache.dump_row(row))
        yield row


def _audit_rows(files: list[str], fail_on: str, jobs: int | None, mp_context, executor: str, scheduler: str | None) -> Iterator[CorpusRow]:
    from functools import partial

    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files) or 1))
    if executor == "dask":
        from reviewer_audit.corpus import dask_executor

        yield from dask_executor.start(partial(audit_one, fail_on=fail_on), files, jobs, partial(_dead_row, fail_on=fail_on), scheduler)
        return
    if jobs == 1:
        for f in files:
            yield audit_one(f, fail_on)
        return
    from reviewer_audit.corpus import pool

    _warm()  # import rules once in the parent; forked workers inherit them
    yield from pool.start(partial(audit_one, fail_on=fail_on), files, jobs, partial(_dead_row, fail_on=fail_on), mp_context)


def _row_base(path: str, fail_on: str) -> dict:
    return dict(file=path, file_date=file_name_date(path), commit_date=index_dates(str(Path(path).parent)).get(Path(path).name), fail_on=fail_on)


def _cached_row(cache: "AuditCache", path: str, fail_on: str) -> tuple[CorpusRow | None, str | None]:
    """(the cached row or None, the file's key; None when the file cannot be read)."""
    from reviewer_audit.ingest.dates import transcript_date
    from reviewer_audit.pipeline.cache import input_bytes

    started = time.perf_counter()
    data = input_bytes(path)
    if data is None:  # audited (and its problem reported) as without a cache
        return None, None
    key = rowcache.row_key(cache, "row", data, transcript_date(path), fail_on)
    value = rowcache.get(cache, "row", key)
    row = rowcache.decode("row", value, _row_base(path, fail_on), 0.0) if value is not None else None
    if row is not None:
        row.duration_ms = _ms(started)
    return row, key


def _dead_row(path: str, fail_on: str) -> CorpusRow:
    return CorpusRow(file=path, file_date=file_name_date(path), fail_on=fail_on, error_kind="worker",
                     error="the audit process died (killed or crashed in native code)")


def _warm() -> None:
    from reviewer_audit.pipeline import audit  # noqa: F401 -- the audit machinery, imported once
    from reviewer_audit.rules import all_rules

    all_rules()


def audit_corpus(files: Iterable[str | Path], fail_on: str = "major", jobs: int | None = None,
                 on_row: Callable[[CorpusRow], None] | None = None, mp_context=None,
                 cache: "AuditCache | None" = None, executor: str = "process", scheduler: str | None = None) -> list[CorpusRow]:
    rows = []
    for row in iter_audit(files, fail_on, jobs, mp_context, cache, executor, scheduler):
        if on_row is not None:
            on_row(row)
        rows.append(row)
    return sorted(rows, key=lambda r: r.file)


# --------------------------------------------------------------------------- jsonl shards


class JsonlWriter:
    """Append rows to a JSON-lines file, one complete line per write, flushed per row.

    Append-safe: a file left with a partial last line (a killed run) gets a newline first,
    so the next rows start on a line of their own."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            needs_newline = self.path.exists() and self.path.stat().st_size > 0 and self._last_byte() != b"\n"
            self._fh = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise InputError(self.path, f"cannot write ({exc.strerror or exc})") from None
        if needs_newline:
            self._fh.write("\n")
            self._fh.flush()

    def _last_byte(self) -> bytes:
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1)

    def write(self, row: CorpusRow) -> None:
        self._fh.write(row.model_dump_json() + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_jsonl(paths: Sequence[str | Path], warn: Callable[[str], None] | None = None) -> list[CorpusRow]:
    """Rows from several shards. A file re-audited in a later line or shard replaces the
    earlier row. An unparsable line is an `InputError` naming file:line -- except a truncated
    last line without a newline (a killed writer), which is skipped with a warning."""
    rows: dict[str, CorpusRow] = {}
    major = CORPUS_SCHEMA_VERSION.split(".")[0]
    for raw in paths:
        path = Path(raw)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(path, "no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(path, f"cannot read ({getattr(exc, 'strerror', None) or exc})") from None
        lines = text.split("\n")
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = CorpusRow.model_validate_json(line)
            except ValidationError as exc:
                if lineno == len(lines) and not text.endswith("\n"):
                    if warn:
                        warn(f"{path}:{lineno}: ignoring truncated last line")
                    continue
                first = exc.errors()[0]
                loc = ".".join(str(x) for x in first.get("loc", ())) or "line"
                raise InputError(f"{path}:{lineno}", f"not a corpus row ({loc}: {first.get('msg')})") from None
            if row.schema_version.split(".")[0] != major:
                raise InputError(f"{path}:{lineno}", f"row schema_version {row.schema_version} is not compatible with {CORPUS_SCHEMA_VERSION}")
            rows.pop(row.file, None)
            rows[row.file] = row
    if not rows:
        raise InputError(", ".join(str(p) for p in paths), "no rows in the merge files")
    return sorted(rows.values(), key=lambda r: r.file)


# --------------------------------------------------------------------------- aggregation


def agreement_table(rows: Iterable[CorpusRow]) -> AgreementTable:
    """The 2x2 table and Cohen's kappa over audited rows with a reviewer verdict.

    With a = both ready, b = reviewer ready / tool not, c = reviewer not / tool ready,
    d = both not ready and n = a+b+c+d: p_o = (a+d)/n,
    p_e = ((a+b)(a+c) + (c+d)(b+d)) / n^2, kappa = (p_o - p_e) / (1 - p_e).
    """
    t = AgreementTable()
    for r in rows:
        if not r.ok or r.tool_ready is None:
            continue
        if r.reviewer_ready is None:
            t.no_reviewer_verdict += 1
        elif r.reviewer_ready and r.tool_ready:
            t.reviewer_ready_tool_ready += 1
        elif r.reviewer_ready:
            t.reviewer_ready_tool_not_ready += 1
        elif r.tool_ready:
            t.reviewer_not_ready_tool_ready += 1
        else:
            t.reviewer_not_ready_tool_not_ready += 1
    a, b = t.reviewer_ready_tool_ready, t.reviewer_ready_tool_not_ready
    c, d = t.reviewer_not_ready_tool_ready, t.reviewer_not_ready_tool_not_ready
    n = a + b + c + d
    t.n = n
    t.approvals, t.approvals_rejected = a + b, b
    t.approvals_rejected_share = b / (a + b) if a + b else None
    if n:
        po = (a + d) / n
        pe = ((a + b) * (a + c) + (c + d) * (b + d)) / (n * n)
        t.observed_agreement, t.expected_agreement = po, pe
        t.kappa = (po - pe) / (1 - pe) if pe < 1 else None
    return t


def _date_range(rows: Iterable[CorpusRow]) -> tuple[str | None, str | None]:
    dates = sorted(r.file_date[:10] for r in rows if r.file_date)
    return (dates[0], dates[-1]) if dates else (None, None)


def _group_stats(key: str, rows: list[CorpusRow], related: Iterable[str | None]) -> GroupStats:
    ok = [r for r in rows if r.ok]
    table = agreement_table(ok)
    first, last = _date_range(rows)
    families = sorted({r.family for r in rows if r.family})
    claims = sum(r.claims_confirmed + r.claims_refuted + r.claims_unverified for r in ok)
    refuted = sum(r.claims_refuted for r in ok)
    return GroupStats(
        key=key,
        family=", ".join(families) or None,
        transcripts=len(rows),
        audited=len(ok),
        errors=len(rows) - len(ok),
        reviewer_approvals=sum(1 for r in ok if r.reviewer_ready),
        tool_ready=sum(1 for r in ok if r.tool_ready),
        false_positives=table.reviewer_ready_tool_not_ready,
        reviewer_false_negatives=table.reviewer_not_ready_tool_ready,
        agree=table.reviewer_ready_tool_ready + table.reviewer_not_ready_tool_not_ready,
        kappa=table.kappa,
        approvals_rejected_share=table.approvals_rejected_share,
        claims=claims,
        claims_confirmed=sum(r.claims_confirmed for r in ok),
        claims_refuted=refuted,
        claims_unverified=sum(r.claims_unverified for r in ok),
        false_alarm_share=refuted / claims if claims else None,
        first_date=first,
        last_date=last,
        related=sorted({x for x in related if x}),
    )


def _topic_key(c: CriterionStatus) -> str:
    return c.topic or f"#{c.criterion} {c.title}".strip()


def _topic_order() -> list[str]:
    try:
        from reviewer_audit.spec.prompt import TOPIC_TITLES

        return list(TOPIC_TITLES)
    except ImportError:  # pragma: no cover
        return []


def criteria_aggregate(rows: Iterable[CorpusRow]) -> list[CriterionAggregate]:
    """Per criterion topic (numbers differ across prompt versions): tool fails, reviewer
    raised, reviewer missed (tool fails while the reviewer approved or did not raise it)."""
    out: dict[str, CriterionAggregate] = {}
    for r in rows:
        if not r.ok:
            continue
        by_topic: dict[str, list[CriterionStatus]] = defaultdict(list)
        for c in r.criteria:
            by_topic[_topic_key(c)].append(c)
        for topic, crits in by_topic.items():
            agg = out.setdefault(topic, CriterionAggregate(topic=topic))
            agg.transcripts += 1
            for c in crits:
                if c.title and c.title not in agg.titles:
                    agg.titles.append(c.title)
                if c.criterion not in agg.numbers:
                    agg.numbers.append(c.criterion)
            fails = any(c.tool == "fail" for c in crits)
            raised = any(c.reviewer == "fail" for c in crits)
            agg.tool_fails += fails
            agg.reviewer_raised += raised
            if fails and not raised:
                agg.reviewer_missed += 1
                if r.reviewer_ready:
                    agg.missed_approved += 1
                else:
                    agg.missed_unstated += 1
    order = {t: i for i, t in enumerate(_topic_order())}
    return sorted(out.values(), key=lambda a: (order.get(a.topic, len(order)), a.topic))


def _claim_ref(r: CorpusRow, c: ClaimSummary) -> ClaimRef:
    return ClaimRef(file=r.file, llm_name=r.llm_name, prompt_version=r.prompt_version, reviewer_ready=r.reviewer_ready,
                    text=c.text, evidence=c.evidence, kind=c.kind, criterion=c.criterion, defect=c.defect)


def false_alarm_transcripts(rows: Iterable[CorpusRow]) -> list[TranscriptClaims]:
    out = [TranscriptClaims(file=r.file, llm_name=r.llm_name, prompt_version=r.prompt_version,
                            claims=r.claims_confirmed + r.claims_refuted + r.claims_unverified,
                            confirmed=r.claims_confirmed, refuted=r.claims_refuted, unverified=r.claims_unverified)
           for r in rows if r.ok and r.claims_refuted]
    return sorted(out, key=lambda t: (-t.refuted, t.file))


def unverified_kinds(rows: Iterable[CorpusRow]) -> list[UnverifiedKind]:
    """Unverified claims grouped by their defect class (unclassified ones by claim kind), most
    frequent first: the kinds of defect reviewers raise that no rule settles."""
    from reviewer_audit.verdict.defects import BY_NAME

    groups: dict[str, UnverifiedKind] = {}
    seen: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if not r.ok:
            continue
        topics = {cs.criterion: cs.topic for cs in r.criteria}
        for c in r.claims:
            if c.status != "unverified":
                continue
            # a claim no class names is grouped by the criterion topic it concerns, else by its kind
            topic = topics.get(c.criterion or "") or ("exec" if c.criterion == "exec" else None)
            key = c.defect or (f"unclassified {topic}" if topic else f"unclassified {c.kind or 'claim'}")
            g = groups.get(key)
            if g is None:
                cls = BY_NAME.get(c.defect or "")
                g = groups[key] = UnverifiedKind(defect=key, covered_by=list(cls.rules) if cls else [])
            g.count += 1
            g.kinds[c.kind or "-"] = g.kinds.get(c.kind or "-", 0) + 1
            seen[key].add(r.file)
            if len(g.examples) < KIND_EXAMPLES:
                g.examples.append(_claim_ref(r, c))
    for key, g in groups.items():
        g.transcripts = len(seen[key])
    return sorted(groups.values(), key=lambda g: (-g.count, -g.transcripts, g.defect))


def rule_stats(rows: Iterable[CorpusRow]) -> list[RuleStat]:
    out: dict[str, RuleStat] = {}
    for r in rows:
        if not r.ok:
            continue
        for rc in r.rules_fired:
            s = out.setdefault(rc.rule, RuleStat(rule=rc.rule))
            s.name = rc.name or s.name
            if not s.severity or Severity(rc.severity).rank > Severity(s.severity).rank:
                s.severity = rc.severity
            s.transcripts += 1
            s.findings += rc.count
    return sorted(out.values(), key=lambda s: (-s.transcripts, -s.findings, s.rule))


def _order_key(r: CorpusRow) -> tuple:
    return (r.commit_date or r.file_date or "", Path(r.file).name)


def _label(names: list[str]) -> str:
    prefix = os.path.commonprefix(names)
    prefix = prefix.split("__")[0] if "__" in prefix else prefix
    return prefix.rstrip("-_. ") or names[0]


def iteration_groups(rows: Iterable[CorpusRow]) -> list[IterationGroup]:
    """Rounds of one pipeline run: transcripts linked by the same hypothesis fingerprint or
    the same set of run ids, in order; between consecutive rounds, which findings (rule +
    path) were fixed and which appeared."""
    ok = [r for r in rows if r.ok]
    parent = list(range(len(ok)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    links: dict[int, set[str]] = defaultdict(set)
    for kind, keyf in (("hypothesis", lambda r: r.hypothesis_fingerprint),
                       ("run_ids", lambda r: "\n".join(sorted(set(r.run_ids))) or None)):
        first: dict[str, int] = {}
        for i, r in enumerate(ok):
            k = keyf(r)
            if not k:
                continue
            if k in first:
                a, b = find(first[k]), find(i)
                if a != b:
                    parent[b] = a
                links[i].add(kind)
                links[first[k]].add(kind)
            else:
                first[k] = i
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(ok)):
        members[find(i)].append(i)
    groups = []
    for idxs in members.values():
        if len(idxs) < 2:
            continue
        rounds = sorted((ok[i] for i in idxs), key=_order_key)
        linked = sorted(set().union(*(links[i] for i in idxs)))
        fps = sorted({r.hypothesis_fingerprint for r in rounds if r.hypothesis_fingerprint})
        key = fps[0] if len(fps) == 1 else hashlib.sha256("\n".join(r.file for r in rounds).encode()).hexdigest()[:12]
        steps = []
        for before, after in zip(rounds, rounds[1:]):
            old, new = set(before.finding_keys), set(after.finding_keys)
            steps.append(IterationStep(
                before=before.file, after=after.file, fixed=sorted(old - new), appeared=sorted(new - old), kept=len(old & new),
                reviewer_ready_before=before.reviewer_ready, reviewer_ready_after=after.reviewer_ready,
                tool_ready_before=before.tool_ready, tool_ready_after=after.tool_ready,
            ))
        group = IterationGroup(key=key, label=_label([Path(r.file).name for r in rounds]), linked_by=linked,
                               files=[r.file for r in rounds], steps=steps)
        groups.append((_order_key(rounds[0]), key, group))
    return [g for _, _, g in sorted(groups, key=lambda x: (x[0], x[1]))]


def aggregate(rows: Sequence[CorpusRow]) -> Aggregates:
    """Everything the report shows, as a pure function of the rows."""
    rows = sorted(rows, key=lambda r: r.file)
    ok = [r for r in rows if r.ok]
    fps = sorted((r for r in ok if r.reviewer_ready and r.tool_ready is False),
                 key=lambda r: (tuple(-x for x in r.worst), r.file))
    by_model: dict[str, list[CorpusRow]] = defaultdict(list)
    by_prompt: dict[str, list[CorpusRow]] = defaultdict(list)
    for r in rows:
        if r.prompt_version is None:  # did not parse: model and prompt unknown
            continue
        by_model[r.llm_name or UNNAMED].append(r)
        by_prompt[r.prompt_version].append(r)
    return Aggregates(
        transcripts=len(rows),
        audited=len(ok),
        errors=[ErrorRow(file=r.file, kind=r.error_kind or "input", error=r.error or "") for r in rows if not r.ok],
        agreement=agreement_table(ok),
        false_positives=[FalsePositive(file=r.file, llm_name=r.llm_name, prompt_version=r.prompt_version, file_date=r.file_date,
                                       counts=r.counts, top_blockers=r.top_blockers, first_crash=r.first_crash) for r in fps],
        claims_confirmed=sum(r.claims_confirmed for r in ok),
        claims_refuted=sum(r.claims_refuted for r in ok),
        claims_unverified=sum(r.claims_unverified for r in ok),
        claims_context=sum(r.claims_context for r in ok),
        false_alarms=[_claim_ref(r, c) for r in ok for c in r.claims if c.status == "refuted"],
        false_alarm_transcripts=false_alarm_transcripts(ok),
        confirmed_claims=[_claim_ref(r, c) for r in ok for c in r.claims if c.status == "confirmed"],
        unverified_kinds=unverified_kinds(ok),
        criteria=criteria_aggregate(ok),
        by_model=sorted((_group_stats(k, v, (r.prompt_version for r in v)) for k, v in by_model.items()),
                        key=lambda g: (-g.transcripts, g.key)),
        by_prompt_version=sorted((_group_stats(k, v, (r.llm_name or UNNAMED for r in v)) for k, v in by_prompt.items()),
                                 key=lambda g: (g.first_date or "9999", g.key)),
        rules=rule_stats(ok),
        iterations=iteration_groups(ok),
    )


def build_report(rows: Sequence[CorpusRow], fail_on: str | None = None, inputs: Sequence[str | Path] = (),
                 merged: bool = False, jobs: int | None = None, wall_ms: float | None = None) -> CorpusReport:
    from reviewer_audit import __version__

    rows = sorted(rows, key=lambda r: r.file)
    thresholds = sorted({r.fail_on for r in rows})
    if len(thresholds) > 1:
        raise InputError("merge", f"rows were audited with different --fail-on thresholds: {', '.join(thresholds)}")
    fail_on = fail_on or (thresholds[0] if thresholds else "major")
    return CorpusReport(tool_version=__version__, fail_on=fail_on, inputs=[str(p) for p in inputs], merged=merged,
                        jobs=jobs, wall_ms=wall_ms, rows=list(rows), aggregates=aggregate(rows))


# --------------------------------------------------------------------------- the command


def collect(paths: Sequence[str | Path], *, jobs: int | None = None, pattern: str = "*.txt",
            jsonl: str | Path | None = None, merge: bool = False, fail_on: str | None = None,
            progress: Callable[[int], "contextlib.AbstractContextManager[Callable[[CorpusRow], None]]"] | None = None,
            cache: "AuditCache | None" = None, executor: str = "process", scheduler: str | None = None) -> CorpusReport:
    """What `reviewer-audit report` reports: the transcripts under `paths` audited (rows written
    to `jsonl` as they arrive; rows in `cache` read back), or shards merged. `progress(total)` is
    entered around the run and yields a per-row callback. Usage problems raise `InputError`
    before anything is written."""
    if merge and jsonl is not None:
        raise InputError("--jsonl", "cannot be combined with --merge (merge reads shards, it does not audit)")
    if merge:
        rows = read_jsonl(paths, warn=lambda m: sys.stderr.write(f"reviewer-audit: {m}\n"))
        thresholds = {r.fail_on for r in rows}
        if fail_on and thresholds != {fail_on}:
            raise InputError("--fail-on", f"the shards were audited with --fail-on {', '.join(sorted(thresholds))}, not {fail_on}")
        return build_report(rows, inputs=paths, merged=True)
    fail_on = fail_on or "major"
    files = find_transcripts(paths, pattern)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files)))
    writer = JsonlWriter(jsonl) if jsonl is not None else None
    started = time.perf_counter()
    try:
        with (progress(len(files)) if progress is not None else contextlib.nullcontext(lambda row: None)) as tick:
            def on_row(row: CorpusRow) -> None:
                if writer is not None:
                    writer.write(row)
                tick(row)

            rows = audit_corpus(files, fail_on=fail_on, jobs=jobs, on_row=on_row, cache=cache, executor=executor, scheduler=scheduler)
    finally:
        if writer is not None:
            writer.close()
    return build_report(rows, fail_on=fail_on, inputs=paths, jobs=jobs, wall_ms=_ms(started))


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.write_text(json.dumps(corpus_json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:] == ["--write-schema"]:
        write_schema()
        print(f"wrote {SCHEMA_PATH}")
    else:
        print(json.dumps(corpus_json_schema(), indent=2, sort_keys=True))
