"""The audit report: the versioned JSON contract of `audit-review` and `check`."""
from __future__ import annotations

from pydantic import BaseModel, Field

from reviewer_audit.engine.findings import REPORT_SCHEMA_VERSION, Command, Finding
from reviewer_audit.verdict.diff import Claim, CriterionRow, ReviewerVerdict, ToolVerdict


class AuditReport(BaseModel):
    schema_version: str = REPORT_SCHEMA_VERSION
    kind: str = Field(description="'transcript' (audit-review) or 'bundle' (check).")
    source: str
    llm_name: str | None = None
    prompt_version: str
    family: str
    exclude_newer: str | None = Field(default=None, description="Library releases published on or after this date (ISO) did not count; null: judged as of today.")
    reviewer_verdict: ReviewerVerdict | None = None
    tool_verdict: ToolVerdict
    agreement: str | None = Field(default=None, description="See reviewer_audit.verdict.diff.AGREEMENTS; None for bundles.")
    claims: list[Claim] = Field(default_factory=list)
    missed: list[int] = Field(default_factory=list, description="Indexes of findings at threshold no reviewer claim matches.")
    criteria: list[CriterionRow] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    commands: list[Command] = Field(default_factory=list, description="The pipeline's commands, each with the first blocker it reaches (execution order) and that blocker's consequences.")
    run_ids: list[str] = Field(default_factory=list)
    rules_run: list[str] = Field(default_factory=list)
    rules_skipped: dict[str, str] = Field(default_factory=dict)
    timings_ms: dict[str, float] = Field(default_factory=dict)

    def first_crash(self) -> tuple[str, int, int | None] | None:
        """What the pipeline's run command dies of first: (command, index of its first blocker,
        index of the first blocker in its own code when the first one is the install or a config
        file, else None). None when no run command reaches a blocker."""
        for cmd in self.commands:
            if cmd.kind != "main" or cmd.first_blocker is None:
                continue
            in_code = next((j for j in cmd.blockers if self.findings[j].reach is not None), None)
            return cmd.command, cmd.first_blocker, in_code if in_code != cmd.first_blocker else None
        return None
