"""Reviewer transcripts in a repository's history: find every version, audit each text once,
find the code it judged and the next run of exactly that code.

Every commit that writes a new text to `.research/prompt/create_code_subgraph/
validate_experiment_code*.txt` (against its first parent) is one version. Versions with the
same text (a blob shared by two commits) are audited once, as of the earliest commit's date
(`exclude_newer`: releases after the review do not count against it), and scored once.

The judged code is the bundle inside the transcript. Its files are hashed as git blobs and
looked up in the history: the first commit at or after the review holding every bundle file
byte for byte is the code commit. A rejected bundle is usually regenerated and never
committed; an approved one is pushed and run. The next run of the judged code is the earliest
CI-recorded run whose code (exactly known, see `Run.code_exact`) holds every bundle file.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field

from reviewer_audit.corpus.history_models import CrashMatch, PredictedCrash, Run, RunRef
from reviewer_audit.corpus.history_scan import RepoScan
from reviewer_audit.corpus.report import CorpusRow
from reviewer_audit.ingest.gitrepo import BlobUnavailable, git_blob_id
from reviewer_audit.ingest.limits import MAX_INPUT_BYTES

TRANSCRIPT_DIR = ".research/prompt/create_code_subgraph"
_TRANSCRIPT_NAME = re.compile(r"^validate_experiment_code.*\.txt$")
_QUOTED = re.compile(r"""['"`]([^'"`\s]{2,80})['"`]""")


@dataclass
class Version:
    commit: str
    path: str
    blob: str


@dataclass
class BlobTask:
    """What a worker needs to audit one transcript text (picklable)."""

    source: str
    text: str | None
    date: str
    fail_on: str
    read_error: str | None = None


@dataclass
class BlobAudit:
    """A worker's answer: the corpus row, the predicted first crash, the judged files' blob ids."""

    source: str
    row: CorpusRow
    first_crash: PredictedCrash | None = None
    bundle_ids: dict[str, str] = field(default_factory=dict)


def find_versions(scan: RepoScan) -> list[Version]:
    git = scan.git
    out = []
    for sha in scan.order:
        parent = scan.parent(sha)
        here = git.entry(sha, TRANSCRIPT_DIR)
        if here is None or here == (git.entry(parent, TRANSCRIPT_DIR) if parent else None):
            continue
        for name, oid, kind in git.list_dir(sha, TRANSCRIPT_DIR):
            if kind != "blob" or not _TRANSCRIPT_NAME.match(name):
                continue
            path = f"{TRANSCRIPT_DIR}/{name}"
            if parent is None or git.entry(parent, path) != oid:
                out.append(Version(commit=sha, path=path, blob=oid))
    return out


def blob_task(scan: RepoScan, version: Version, fail_on: str) -> BlobTask:
    name = version.path.rsplit("/", 1)[-1]
    # No slash: the report's renderers show a row by its last path component.
    source = f"{scan.name}@{version.commit[:12]}" + ("" if name == "validate_experiment_code.txt" else f":{name}")
    date = scan.commits[version.commit].iso
    try:
        data = scan.git.read_blob(version.blob, MAX_INPUT_BYTES)
    except BlobUnavailable as exc:
        return BlobTask(source=source, text=None, date=date, fail_on=fail_on, read_error=exc.reason)
    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.ingest.textio import decode_text

    try:
        text = decode_text(data, source)
    except InputError as exc:
        return BlobTask(source=source, text=None, date=date, fail_on=fail_on, read_error=exc.problem)
    return BlobTask(source=source, text=text, date=date, fail_on=fail_on)


# --------------------------------------------------------------------------- the audit (worker side)


def first_crash(report) -> PredictedCrash | None:
    """The tool's predicted first crash: the first blocker, in execution order, of the first run
    command that has one (`AuditReport.commands`); without commands, the worst unsuppressed
    blocker (findings are sorted worst first)."""
    crash = report.first_crash()
    f = report.findings[crash[1]] if crash is not None else next(
        (f for f in report.findings if not f.suppressed and f.consequence_of is None and f.severity.value == "blocker"), None)
    if f is None:
        return None
    return PredictedCrash(rule=f.rule, name=f.name, path=f.path, line=f.line, topic=f.topic, message=" ".join(f.message.split())[:300])


def audit_blob(task: BlobTask) -> BlobAudit:
    """Audit one transcript text into a row; never raises for a bad text or a crashing rule."""
    from reviewer_audit.corpus.report import _crash_line, _parsed_fields, row_from_report
    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.ingest.transcript import parse_transcript
    from reviewer_audit.pipeline.audit import audit_parsed_transcript

    started = time.perf_counter()
    base = dict(file=task.source, file_date=task.date, commit_date=_utc(task.date), fail_on=task.fail_on)
    if task.text is None:
        return BlobAudit(task.source, CorpusRow(**base, error=task.read_error or "unreadable", error_kind="input"))
    transcript = None
    try:
        transcript = parse_transcript(task.text, source=task.source)
        report = audit_parsed_transcript(transcript, fail_on=task.fail_on, exclude_newer=task.date)
    except InputError as exc:
        return BlobAudit(task.source, CorpusRow(**base, error=exc.problem, error_kind="input", duration_ms=_ms(started),
                                                **_parsed_fields(transcript)))
    except Exception as exc:  # noqa: BLE001 - isolation: one line, the history goes on
        return BlobAudit(task.source, CorpusRow(**base, error=_crash_line(exc), error_kind="crash", duration_ms=_ms(started),
                                                **_parsed_fields(transcript)))
    row = row_from_report(report, transcript, **base)
    row.duration_ms = _ms(started)
    ids = {p: git_blob_id(f.text.encode("utf-8")) for p, f in transcript.bundle.files.items() if not p.startswith("unmapped/")}
    return BlobAudit(task.source, row, first_crash(report), ids)


def dead_blob(task: BlobTask) -> BlobAudit:
    return BlobAudit(task.source, CorpusRow(file=task.source, file_date=task.date, commit_date=_utc(task.date), fail_on=task.fail_on,
                                            error_kind="worker", error="the audit process died (killed or crashed in native code)"))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _utc(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(dt.timezone.utc).isoformat()


# --------------------------------------------------------------------------- linking (parent side)


class CodeIndex:
    """Which commits hold a bundle's files, byte for byte (blob ids only: nothing is read)."""

    def __init__(self, scan: RepoScan):
        self.scan = scan

    def holds(self, sha: str, ids: dict[str, str]) -> bool:
        return bool(ids) and all(self.scan.git.entry(sha, p) == oid for p, oid in ids.items())

    def first_commit(self, ids: dict[str, str], after: dt.datetime) -> str | None:
        for sha in self.scan.order:
            if self.scan.date(sha) >= after and self.holds(sha, ids):
                return sha
        return None


def run_time(run: Run) -> dt.datetime:
    return dt.datetime.fromisoformat(run.started_at or run.date)


def next_run(index: CodeIndex, ids: dict[str, str], runs: list[Run], after: dt.datetime) -> Run | None:
    """The earliest run of exactly the judged code after the review."""
    candidates = [r for r in runs if r.code_exact and r.code_commit and run_time(r) >= after and index.holds(r.code_commit, ids)]
    return min(candidates, key=lambda r: (run_time(r), r.commit), default=None)


def ref(run: Run) -> RunRef:
    return RunRef(commit=run.commit, run_id=run.run_id, mode=run.mode, date=run.date)


def crash_match(run: Run, predicted: PredictedCrash | None) -> CrashMatch | None:
    """The predicted first crash against the error the failed run's log recorded.

    same_file: the finding's file is the file of the innermost project frame; same_error: the
    finding names something the error quotes (a module, attribute or key), or points at the
    very line -- a heuristic, stated as such in the README."""
    if run.outcome != "failed" or not run.error:
        return None
    m = CrashMatch(error=run.error, error_file=run.error_file, error_line=run.error_line, predicted=predicted)
    if predicted is None:
        return m
    if predicted.path and run.error_file:
        m.same_file = predicted.path == run.error_file
        m.same_line = m.same_file and predicted.line is not None and predicted.line == run.error_line
    names = {q for q in _QUOTED.findall(run.error) if not q.isdigit()}
    text = f"{predicted.message} {predicted.path or ''}"
    m.same_error = bool(m.same_line) or any(n in text for n in names)
    kind = error_kind(run.error)
    if kind is not None:
        m.same_kind = kind == finding_kind(predicted)
    return m


def error_kind(error: str) -> str | None:
    """'dependency' (a module that is not installed), 'hydra' or 'wandb'; None otherwise."""
    if re.search(r"\b(ModuleNotFoundError|ImportError)\b|No module named", error):
        return "dependency"
    if re.search(r"(?i)\bhydra\b|omegaconf|ConfigAttributeError|ConfigKeyError|MissingConfigException|Could not override|"
                 r"Error parsing override|defaults list|not in struct|Interpolation", error):
        return "hydra"
    if re.search(r"(?i)\bwandb\b", error):
        return "wandb"
    return None


def finding_kind(p: PredictedCrash) -> str | None:
    if p.path == "pyproject.toml" or (p.topic == "exec" and "import" in p.message.lower()):
        return "dependency"
    if p.topic in ("hydra", "config", "modes"):
        return "hydra"
    if p.topic == "wandb":
        return "wandb"
    return None
