"""The run loop: every selected rule over one audit context, hits turned into findings.

A rule whose `needs` (bundle modules) do not parse is skipped: the syntax error is reported once,
by RA001, instead of every rule failing on it. A rule that raises is contained and reported as
RA000, so one broken rule never sinks an audit. Which rules exist is the rules package's
business (`reviewer_audit.rules`); the engine runs what it is given.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable

from reviewer_audit.engine.context import STANDARD_MODULES, AuditContext
from reviewer_audit.engine.findings import Command, Finding, Severity
from reviewer_audit.engine.placement import link_after_first_crash, link_consequences, place, settle
from reviewer_audit.engine.rule import Case, Hit, Rule


@dataclass
class EngineResult:
    findings: list[Finding]
    timings: dict[str, float]
    skipped: dict[str, str]  # rule code -> why it did not run
    commands: list[Command] = field(default_factory=list)


def run_rules(ctx: AuditContext, rules: Iterable[type[Rule]]) -> EngineResult:
    """Run every applicable rule, then place each finding on the pipeline's commands
    (`engine.placement`): reach, latent findings lowered, consequences, first crash per command."""
    rules = list(rules)
    pairs: list[tuple[Finding, Hit | None, type[Rule]]] = []
    timings: dict[str, float] = {}
    skipped: dict[str, str] = {}
    for rule_cls in rules:
        if not rule_cls.applies_to(ctx.spec):
            skipped[rule_cls.code] = f"the prompt does not state '{rule_cls.requirement}'"
            continue
        broken = [n for n in rule_cls.needs if ctx.is_broken(n)]
        if broken:
            skipped[rule_cls.code] = f"{', '.join(STANDARD_MODULES.get(b, b) for b in broken)} does not parse"
            continue
        start = time.perf_counter()
        try:
            hits = list(rule_cls().check(ctx))
        except Exception as exc:  # noqa: BLE001 -- one broken rule must not sink the audit
            hits = []
            pairs.append((_internal_error(rule_cls, exc), None, rule_cls))
        timings[rule_cls.code] = time.perf_counter() - start
        for h in hits:
            pairs.append((to_finding(ctx, rule_cls, h), h, rule_cls))
    try:
        commands = place(ctx, pairs)
    except Exception as exc:  # noqa: BLE001 -- the program model must not sink the audit either
        commands = []
        pairs.append((_model_error(exc), None, Rule))
    pairs.sort(key=lambda p: p[0].sort_key())
    kept: list[tuple[Finding, Hit | None]] = []
    seen = set()
    for f, h, _r in pairs:
        key = (f.rule, f.path, f.line, f.message)
        if key not in seen:
            seen.add(key)
            kept.append((f, h))
    findings = [f for f, _h in kept]
    link_consequences(findings, {i: h.provides for i, (_f, h) in enumerate(kept) if h is not None and h.provides},
                      {i: h.needs for i, (_f, h) in enumerate(kept) if h is not None and h.needs})
    link_after_first_crash(findings)
    return EngineResult(findings=findings, timings=timings, skipped=skipped, commands=settle(findings, commands))


def to_finding(ctx: AuditContext, rule_cls: type[Rule], h: Hit) -> Finding:
    snippet = h.snippet if h.snippet is not None else (ctx.line_text(h.path, h.line) if h.path else None)
    related = [
        r if r.snippet is not None or not r.line else r.model_copy(update={"snippet": ctx.line_text(r.path, r.line), "transcript_line": ctx.transcript_line(r.path, r.line)})
        for r in h.related
    ]
    return Finding(
        rule=rule_cls.code,
        name=rule_cls.name,
        criterion=ctx.spec.criterion_for(rule_cls.topic, rule_cls.requirement),
        topic=rule_cls.topic,
        severity=h.severity or rule_cls.severity,
        message=h.message,
        path=h.path,
        line=h.line,
        column=h.column,
        transcript_line=ctx.transcript_line(h.path, h.line) if h.path else None,
        snippet=snippet[:300] if snippet else snippet,
        related=related,
    )


def _internal_error(rule_cls: type[Rule], exc: Exception) -> Finding:
    return Finding(
        rule="RA000", name="rule-crashed", criterion="exec", topic="exec", severity=Severity.minor,
        message=f"rule {rule_cls.code} ({rule_cls.name}) crashed on this bundle: {type(exc).__name__}: {str(exc)[:200]}",
    )


def _model_error(exc: Exception) -> Finding:
    return Finding(
        rule="RA000", name="rule-crashed", criterion="exec", topic="exec", severity=Severity.minor,
        message=f"the run model crashed on this bundle, so no finding says on which command it holds: {type(exc).__name__}: {str(exc)[:200]}",
    )


def context_for_case(case: Case) -> AuditContext:
    """Build the audit context a case describes (default spec, patched by `case.spec`)."""
    from reviewer_audit.ingest.bundle import Bundle
    from reviewer_audit.spec.prompt import default_spec
    from reviewer_audit.ingest.transcript import RunConfig, Span

    spec = default_spec().model_copy(update=case.spec, deep=True)
    bundle = Bundle.from_mapping(case.files, source="<case>")
    runs = []
    for run_id, text in case.runs.items():
        run = RunConfig(run_id=run_id, yaml_text=text, span=Span(start=1, end=1))
        run.load_yaml()
        runs.append(run)
    import datetime as dt

    when = dt.date.fromisoformat(case.exclude_newer) if case.exclude_newer else None
    return AuditContext(bundle, spec, runs, exclude_newer=when)
