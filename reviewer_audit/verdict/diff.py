"""Tool verdict and its diff against the reviewer's verdict.

- The tool says *ready* when no unsuppressed finding is at or above the threshold (default major).
- Agreement classes: `agree_ready`, `agree_not_ready`, `reviewer_false_positive` (reviewer ready,
  tool not), `reviewer_false_negative` (reviewer not ready, tool finds nothing at threshold),
  `no_reviewer_verdict`.
- The reviewer's issue text is split into claims and each is adjudicated (confirmed, refuted,
  unverified, or context) by `reviewer_audit.verdict.adjudicate`; the per-criterion table's
  reviewer column comes from the criteria those claims concern.
"""
from __future__ import annotations

from typing import Iterable

from pydantic import BaseModel, Field

from reviewer_audit.engine.findings import Finding, Severity
from reviewer_audit.verdict.claims import Claim, ClaimTargets, FileLine

__all__ = ["AGREEMENTS", "Claim", "ClaimTargets", "CriterionRow", "FileLine", "ReviewerVerdict", "ToolVerdict",
           "agreement", "criterion_table", "tool_verdict"]

AGREEMENTS = ("agree_ready", "agree_not_ready", "reviewer_false_positive", "reviewer_false_negative", "no_reviewer_verdict")


class ReviewerVerdict(BaseModel):
    ready: bool | None
    issue: str = ""
    model: str | None = None


class ToolVerdict(BaseModel):
    ready: bool
    fail_on: Severity
    counts: dict[str, int] = Field(default_factory=dict, description="Unsuppressed findings per severity.")


class CriterionRow(BaseModel):
    criterion: str
    title: str
    topic: str | None
    tool: str = Field(description="'pass' or 'fail' (a finding at threshold)")
    reviewer: str = Field(description="'pass' (approved), 'fail' (a claim concerns this criterion) or 'unstated'")
    findings: int = 0


def tool_verdict(findings: Iterable[Finding], fail_on: Severity) -> ToolVerdict:
    """Ready when no finding at or above `fail_on` counts. Suppressed findings do not count, nor
    do consequences: a finding that can only follow an earlier blocker is that blocker's."""
    live = [f for f in findings if not f.suppressed and f.consequence_of is None]
    counts = {s.value: sum(1 for f in live if f.severity == s) for s in Severity}
    return ToolVerdict(ready=not any(f.severity.at_least(fail_on) for f in live), fail_on=fail_on, counts=counts)


def agreement(reviewer_ready: bool | None, tool_ready: bool) -> str:
    if reviewer_ready is None:
        return "no_reviewer_verdict"
    if reviewer_ready and tool_ready:
        return "agree_ready"
    if not reviewer_ready and not tool_ready:
        return "agree_not_ready"
    return "reviewer_false_positive" if reviewer_ready else "reviewer_false_negative"


def criterion_table(spec, findings: list[Finding], reviewer_ready: bool | None, claims: list[Claim], fail_on: Severity) -> list[CriterionRow]:
    raised = {c.criterion for c in claims if c.status != "context" and c.criterion}
    rows = []
    numbers = [(str(c.number), c.title, c.topic) for c in spec.criteria]
    if any(f.criterion == "exec" for f in findings) or "exec" in raised:
        numbers.append(("exec", "Execution blockers", "exec"))
    for number, title, topic in numbers:
        mine = [f for f in findings if f.criterion == number and not f.suppressed]
        failing = any(f.severity.at_least(fail_on) for f in mine)
        if reviewer_ready:
            reviewer = "pass"
        elif number in raised:
            reviewer = "fail"
        else:
            reviewer = "unstated"
        rows.append(CriterionRow(criterion=number, title=title, topic=topic, tool="fail" if failing else "pass", reviewer=reviewer, findings=len(mine)))
    return rows
