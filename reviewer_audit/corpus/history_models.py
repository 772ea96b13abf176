"""The JSON contract of `reviewer-audit history`: runs, transcript versions, scores.

A `HistoryReport` holds one `RepoHistory` per repository under `repos` (each with its `runs`
and `transcripts`), the scores against execution over all of them, and `corpus`: the same
`CorpusReport` that `report` builds, from one row per review found in the histories -- history
is one more source of rows for report's aggregation and renderers.

Shas are full (40 hex digits). Dates are ISO 8601 with the committer's offset (commits) or UTC
(log markers). Outcomes are `passed`, `failed` or `unknown`.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from reviewer_audit.corpus.report import CorpusReport

HISTORY_SCHEMA_VERSION = "1.0"
Outcome = Literal["passed", "failed", "unknown"]


class FixCommit(BaseModel):
    """A commit the CI made to repair the code after a failed run."""

    commit: str
    date: str
    branch: str | None = None
    run_id: str | None = None
    message: str
    files: list[str] = Field(default_factory=list, description="Paths it changed, logs and results under .research/ left out.")


class Run(BaseModel):
    """One CI-recorded run of `python -m src.main run=<run_id> mode=<mode>`."""

    commit: str = Field(description="Full sha of the commit that recorded the outcome (its log, or the fix that followed it).")
    code_commit: str | None = Field(description="Full sha of the code that ran; null when no commit holds it "
                                                "(an intermediate attempt inside an agent's commit).")
    code_exact: bool = Field(description="False when the code was edited inside the commit that recorded the run, "
                                         "so code_commit may differ from what ran.")
    run_id: str | None
    mode: str | None = Field(description="'trial' or 'full'.")
    mode_inferred: bool = Field(default=False, description="Mode taken from the branch (run branches run full), not from the log.")
    outcome: Outcome
    error: str | None = Field(default=None, description="The error line the log recorded, when it holds one.")
    error_file: str | None = Field(default=None, description="Project file of the innermost project frame of that error.")
    error_line: int | None = None
    evidence: str = Field(description="'passed-line', 'end-line' (older wording of PASSED), 'no-passed-line' (a Start "
                                      "with no PASSED), 'fix-commit' (an automated fix followed it), 'agent-commit' "
                                      "(an agent's fix commit without its log), 'log-unreadable'.")
    stage: str = Field(default="run", description="'run', or 'install' when uv sync did not finish.")
    branch: str | None = None
    date: str = Field(description="Date of the recording commit.")
    started_at: str | None = Field(default=None, description="From the log's Start line (UTC).")
    ended_at: str | None = Field(default=None, description="From the log's PASSED line (UTC).")
    iteration: int | None = None
    flags: list[str] = Field(default_factory=list, description="'nan_loss', 'empty_main', 'code_edited_in_commit', "
                                                               "'several_attempts', 'log_unavailable', 'stderr_unavailable'.")
    notes: list[str] = Field(default_factory=list)
    fixes: list[FixCommit] = Field(default_factory=list, description="Fix commits that followed this failed run, before the next run of its run_id.")


class RunRef(BaseModel):
    commit: str
    run_id: str | None = None
    mode: str | None = None
    date: str


class PredictedCrash(BaseModel):
    """What the tool predicts will crash first."""

    rule: str
    name: str = ""
    path: str | None = None
    line: int | None = None
    topic: str | None = None
    message: str


class CrashMatch(BaseModel):
    """The tool's predicted first crash against the error the run's log recorded."""

    error: str
    error_file: str | None = None
    error_line: int | None = None
    predicted: PredictedCrash | None = None
    same_file: bool | None = Field(default=None, description="Null when either side names no file.")
    same_line: bool | None = None
    same_error: bool | None = Field(default=None, description="The finding names what the error names (a quoted module, "
                                                               "attribute or key); null without a prediction.")
    same_kind: bool | None = Field(default=None, description="The error and the finding are of one kind: a missing module and a "
                                                              "dependency or import finding, a Hydra error and a Hydra/config finding, "
                                                              "a WandB error and a WandB finding; null when the error's kind is none of these.")


class TranscriptVersion(BaseModel):
    """One version of a reviewer transcript in the history, with the tool's audit of it."""

    commit: str = Field(description="Full sha of the commit that wrote this version.")
    date: str
    branch: str | None = None
    path: str
    blob: str
    first_of_blob: bool = Field(default=True, description="False for a later commit holding the same text (audited once, scored once).")
    row: str = Field(description="`file` of its row in corpus.rows.")
    reviewer_model: str | None = None
    prompt_version: str | None = None
    reviewer_ready: bool | None = None
    tool_ready: bool | None = None
    agreement: str | None = None
    audit_error: str | None = None
    first_crash: PredictedCrash | None = None
    run_ids: list[str] = Field(default_factory=list)
    code_commit: str | None = Field(default=None, description="First commit at or after the review holding exactly the judged files.")
    next_run: RunRef | None = None
    outcome_next_run: Outcome = "unknown"
    crash_match: CrashMatch | None = None


class TimelineEvent(BaseModel):
    kind: Literal["review", "run", "fix"]
    date: str
    commit: str
    branch: str | None = None
    outcome: str | None = None
    mode: str | None = None
    reviewer_ready: bool | None = None
    tool_ready: bool | None = None
    error: str | None = None
    files: list[str] = Field(default_factory=list)


class Timeline(BaseModel):
    run_id: str
    events: list[TimelineEvent] = Field(default_factory=list)


class RepoCounts(BaseModel):
    commits: int = 0
    branches: int = 0
    transcript_versions: int = 0
    reviews: int = Field(default=0, description="Distinct transcript texts.")
    runs: int = 0
    passed: int = 0
    failed: int = 0
    unknown: int = 0
    passed_lines: int = Field(default=0, description="PASSED (or END) lines the commits added to stdout logs.")
    fix_commits: int = Field(default=0, description="'[CI] Automated fix for run_id=' commits.")
    agent_commits: int = Field(default=0, description="'[CI] Apply fixes for run_id:' commits (an agent's run-and-fix loop).")


class RepoHistory(BaseModel):
    repo: str = Field(description="The path given.")
    name: str
    head: str | None = None
    branches: list[str] = Field(default_factory=list)
    counts: RepoCounts = Field(default_factory=RepoCounts)
    transcripts: list[TranscriptVersion] = Field(default_factory=list)
    runs: list[Run] = Field(default_factory=list)
    fix_commits: list[FixCommit] = Field(default_factory=list)
    timeline: list[Timeline] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="Blobs this snapshot lacks or that were too large, and similar.")
    read_ms: float | None = None


class Confusion(BaseModel):
    """Verdicts (ready / not ready) against the outcome of the next run (passed / failed).

    A 'not ready' verdict predicts a crash: precision = failed among 'not ready', recall =
    'not ready' among failed."""

    ready_passed: int = 0
    ready_failed: int = Field(default=0, description="Approved, then crashed.")
    not_ready_passed: int = Field(default=0, description="Rejected, yet it ran.")
    not_ready_failed: int = 0
    n: int = 0
    precision: float | None = None
    recall: float | None = None
    accuracy: float | None = None


class ScoreGroup(BaseModel):
    key: str
    reviews: int = 0
    scored: int = 0
    reviewer: Confusion = Field(default_factory=Confusion)
    tool: Confusion = Field(default_factory=Confusion)


class CrashLocation(BaseModel):
    """Failed next runs whose log recorded an error, against the tool's predicted first crash."""

    failed_with_error: int = 0
    predicted: int = Field(default=0, description="The tool predicted a crash (a blocker).")
    same_file: int = 0
    same_error: int = 0
    same_kind: int = 0
    cases: list[CrashMatch] = Field(default_factory=list)


class ExecutionScores(BaseModel):
    reviews: int = 0
    scored: int = Field(default=0, description="Reviews whose judged code has a next run with a known outcome.")
    reviewer: Confusion = Field(default_factory=Confusion)
    tool: Confusion = Field(default_factory=Confusion)
    by_model: list[ScoreGroup] = Field(default_factory=list)
    by_prompt_version: list[ScoreGroup] = Field(default_factory=list)
    crash_location: CrashLocation = Field(default_factory=CrashLocation)
    note: str = ("A review is scored when the code it judged was committed and a CI run of exactly that code recorded "
                 "its outcome; a review whose code was regenerated before any run stays unscored.")


class RepoError(BaseModel):
    repo: str
    error: str


class HistoryReport(BaseModel):
    """The versioned JSON contract of `reviewer-audit history --format json`."""

    schema_version: str = HISTORY_SCHEMA_VERSION
    tool_version: str = ""
    fail_on: str = "major"
    inputs: list[str] = Field(default_factory=list)
    jobs: int | None = None
    wall_ms: float | None = None
    repos: list[RepoHistory] = Field(default_factory=list)
    errors: list[RepoError] = Field(default_factory=list, description="Repositories that could not be read (one line each).")
    scores: ExecutionScores = Field(default_factory=ExecutionScores)
    corpus: CorpusReport = Field(default_factory=CorpusReport)


def history_json_schema() -> dict:
    return HistoryReport.model_json_schema()
