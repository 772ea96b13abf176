"""Tool verdict and its diff against the reviewer's verdict.

- The tool says *ready* when no unsuppressed finding is at or above the threshold (default major).
- Agreement classes: `agree_ready`, `agree_not_ready`, `reviewer_false_positive` (reviewer ready,
  tool not), `reviewer_false_negative` (reviewer not ready, tool finds nothing at threshold),
  `no_reviewer_verdict`.
- The reviewer's `code_issue` text is split into claims; each claim is matched to findings by
  what it names (file names, identifiers in backticks, keys, rule keywords). A claim with a
  matching finding is *confirmed*; one without is *unsupported* (a reviewer false alarm or a
  tool miss -- which one is not known). Findings at threshold that no claim matches are the
  blockers the reviewer *missed*.
"""
from __future__ import annotations

import re
from typing import Iterable

from pydantic import BaseModel, Field

from reviewer_audit.engine.findings import Finding, Severity

#: Words that show a claim addresses a criterion topic.
TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "completeness": ("placeholder", "todo", "truncat", "incomplete", "omitted", "not implemented", "stub"),
    "hydra": ("hydra", "cfg.", "config_path", "struct", "override", "defaults"),
    "data": ("dataset", "preprocess", "label", "remove_columns", "tokeni", "collat", "cache"),
    "model": ("model.py", "peft", "lora", "adalora", "architecture", "classifier", "target_modules"),
    "files": ("file structure", "__init__", "extra file", "missing file", "setup.py"),
    "logging": ("json.dumps", "stdout", "structured log"),
    "wandb": ("wandb", "w&b", "run.history", "summary"),
    "config": ("config/run", "run config", "config.yaml", "optuna", "search space"),
    "evaluate": ("evaluate.py", "metrics.json", "aggregated", "figure", "significance", "run_ids", "argparse"),
    "modes": ("trial", "mode=", "mode ", "n_trials", "epochs=1"),
    "exec": ("import", "pyproject", "dependenc", "crash", "modulenotfound", "attributeerror", "typeerror", "not defined", "scipy", "binom_test"),
}

AGREEMENTS = ("agree_ready", "agree_not_ready", "reviewer_false_positive", "reviewer_false_negative", "no_reviewer_verdict")


class ReviewerVerdict(BaseModel):
    ready: bool | None
    issue: str = ""
    model: str | None = None


class ToolVerdict(BaseModel):
    ready: bool
    fail_on: Severity
    counts: dict[str, int] = Field(default_factory=dict, description="Unsuppressed findings per severity.")


class Claim(BaseModel):
    text: str
    status: str = Field(description="'confirmed' when a finding supports it, else 'unsupported'.")
    topics: list[str] = Field(default_factory=list)
    findings: list[int] = Field(default_factory=list, description="Indexes into the report's findings.")


class CriterionRow(BaseModel):
    criterion: str
    title: str
    topic: str | None
    tool: str = Field(description="'pass' or 'fail' (a finding at threshold)")
    reviewer: str = Field(description="'pass' (approved), 'fail' (its issue addresses it) or 'unstated'")
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


# --------------------------------------------------------------------------- claims

_ITEM_SPLIT = re.compile(r"(?:^|\n)\s*(?:\(?\d+[.)]|[-*•])\s+")
_BACKTICK = re.compile(r"`([^`]+)`")
_FILE = re.compile(r"\b([\w/]+\.(?:py|yaml|yml|toml|json))\b")
_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\b|\b[a-z]+_[a-z0-9_]+\b")
_QUOTED = re.compile(r"[\"']([A-Za-z_][\w.\-/]{2,})[\"']")


def split_claims(issue: str) -> list[str]:
    """Numbered or bulleted items when the reviewer used them; otherwise paragraphs."""
    text = issue.strip()
    if not text:
        return []
    parts = [p.strip() for p in _ITEM_SPLIT.split(text) if p and p.strip()]
    if len(parts) <= 1:
        parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return parts


def claim_topics(text: str) -> list[str]:
    low = text.lower()
    return [t for t, words in TOPIC_WORDS.items() if any(w in low for w in words)]


def _tokens(text: str) -> set[str]:
    tokens: set[str] = set()
    for m in _BACKTICK.finditer(text):
        tokens.update(t for t in re.findall(r"[A-Za-z_][\w.]*", m.group(1)) if len(t) > 2)
    tokens.update(m.group(1) for m in _QUOTED.finditer(text))
    tokens.update(m.group(0) for m in _IDENT.finditer(text))
    expanded = set()
    for t in tokens:
        expanded.add(t.lower())
        expanded.update(p.lower() for p in t.split(".") if len(p) > 2)
    return expanded - {"src", "cfg", "self", "the", "and", "config", "py"}


def _finding_text(f: Finding) -> str:
    return " ".join(filter(None, [f.message, f.snippet, f.name, *(r.snippet or "" for r in f.related)])).lower()


def _basename(path: str | None) -> str | None:
    return path.rsplit("/", 1)[-1].lower() if path else None


def match_claims(issue: str, findings: list[Finding], fail_on: Severity) -> tuple[list[Claim], list[int]]:
    """Match reviewer claims to findings. Returns the claims and the indexes of missed findings."""
    claims: list[Claim] = []
    matched: set[int] = set()
    for text in split_claims(issue):
        files = {m.group(1).rsplit("/", 1)[-1].lower() for m in _FILE.finditer(text)}
        tokens = _tokens(text)
        topics = claim_topics(text)
        hits = []
        for i, f in enumerate(findings):
            if f.suppressed:
                continue
            paths = {_basename(f.path), *(_basename(r.path) for r in f.related)} - {None}
            if files and not (files & paths):
                continue
            body = _finding_text(f)
            shared = {t for t in tokens if len(t) > 3 and t in body}
            if shared and (files or f.topic in topics or len(shared) >= 2):
                hits.append(i)
        matched.update(hits)
        claims.append(Claim(text=text, status="confirmed" if hits else "unsupported", topics=topics, findings=hits))
    missed = [i for i, f in enumerate(findings) if not f.suppressed and f.severity.at_least(fail_on) and i not in matched]
    return claims, missed


def criterion_table(spec, findings: list[Finding], reviewer_ready: bool | None, claims: list[Claim], fail_on: Severity) -> list[CriterionRow]:
    raised = {t for c in claims for t in c.topics}
    rows = []
    numbers = [(str(c.number), c.title, c.topic) for c in spec.criteria]
    if any(f.criterion == "exec" for f in findings):
        numbers.append(("exec", "Execution blockers", "exec"))
    for number, title, topic in numbers:
        mine = [f for f in findings if f.criterion == number and not f.suppressed]
        failing = any(f.severity.at_least(fail_on) for f in mine)
        if reviewer_ready:
            reviewer = "pass"
        elif topic is not None and topic in raised:
            reviewer = "fail"
        else:
            reviewer = "unstated"
        rows.append(CriterionRow(criterion=number, title=title, topic=topic, tool="fail" if failing else "pass", reviewer=reviewer, findings=len(mine)))
    return rows
