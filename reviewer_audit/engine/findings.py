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
    suppressed: bool = False
    suppression_reason: str | None = None

    def sort_key(self) -> tuple:
        return (-self.severity.rank, self.path or "", self.line or 0, self.rule)

    @property
    def where(self) -> str:
        if self.path is None:
            return "<bundle>"
        return f"{self.path}:{self.line}" if self.line else self.path
