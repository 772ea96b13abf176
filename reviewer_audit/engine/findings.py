"""Finding and report models: the versioned output contract (JSON Schema generated from these)."""
from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

REPORT_SCHEMA_VERSION = "2.0"


class Severity(str, Enum):
    """`blocker` crashes or invalidates results; `major` violates a stated criterion; `minor` is advice."""

    blocker = "blocker"
    major = "major"
    minor = "minor"

    @property
    def rank(self) -> int:
        return {"blocker": 3, "major": 2, "minor": 1}[self.value]

    def at_least(self, threshold: "Severity") -> bool:
        return self.rank >= threshold.rank


class Related(BaseModel):
    """The other end of a cross-file finding (e.g. the key logged in train.py)."""

    label: str
    path: str
    line: int | None = None
    snippet: str | None = None
    transcript_line: int | None = None


class Reach(BaseModel):
    """Where a finding's code runs: the commands of the pipeline that execute it.

    Computed by following each command through the code with each run's config
    (`program.runs`). A finding whose code no command reaches is latent and never above minor.
    """

    commands: list[str] = Field(default_factory=list, description="Command lines (as the pipeline runs them) on which this code executes or fails.")
    order: list[int] = Field(default_factory=list, description="For each command, when this code is first reached (lower runs earlier).")
    latent: bool = Field(default=False, description="No command reaches this code.")


class Command(BaseModel):
    """One process the pipeline starts, and the first blocker it hits."""

    command: str = Field(description="The command line, e.g. `python -m src.main run=r1 results_dir=results mode=trial`.")
    kind: str = Field(description="main (the prompt's run command), child (started by main), evaluate, or script.")
    run_id: str | None = None
    mode: str | None = None
    parent: int | None = Field(default=None, description="Index of the command that starts this one.")
    first_blocker: int | None = Field(default=None, description="Index into findings of the first blocker this command reaches, in execution order.")
    consequences: list[int] = Field(default_factory=list, description="Indexes of findings that can only follow the first blocker.")
    blockers: list[int] = Field(default_factory=list, description="Indexes of every blocker this command reaches, first first.")


class Finding(BaseModel):
    rule: str = Field(description="Stable rule code, e.g. RA601.")
    name: str = Field(description="Readable rule name, e.g. wandb-history-key-not-logged.")
    criterion: str = Field(description="Criterion number in the audited prompt, or 'exec' for execution blockers.")
    topic: str
    severity: Severity
    message: str
    path: str | None = Field(default=None, description="Bundle-relative path.")
    line: int | None = Field(default=None, description="1-based line in the bundle file.")
    column: int | None = Field(default=None, description="1-based column.")
    transcript_line: int | None = Field(default=None, description="Line of the transcript file where this code sits.")
    snippet: str | None = None
    related: list[Related] = Field(default_factory=list)
    reach: Reach | None = Field(default=None, description="The commands on which this code runs; null when the finding is not about code a command runs (a file, the install, a config file).")
    consequence_of: int | None = Field(default=None, description="Index of the earlier blocker this finding can only follow from; a consequence does not decide the verdict.")
    after_crash: bool = Field(default=False, description="True when `consequence_of` comes from execution order: every command that reaches this blocker has crashed at that one first.")
    demoted_from: Severity | None = Field(default=None, description="The severity the finding would have if its code ran (latent findings are at most minor).")
    suppressed: bool = False
    suppression_reason: str | None = None

    def sort_key(self) -> tuple:
        return (-self.severity.rank, self.path or "", self.line or 0, self.rule)

    @property
    def where(self) -> str:
        if self.path is None:
            return "<bundle>"
        return f"{self.path}:{self.line}" if self.line else self.path


def one_line(text: object, limit: int) -> str:
    """`text` on one line (whitespace collapsed), cut to `limit` characters with an ellipsis:
    how a message, a docstring or an error is quoted inside another message."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"
