"""The rule engine: rule base class, example cases, and the run loop.

A rule is a small class (Fixit / repo-review style): a stable `code` in a family per criterion
topic, a readable `name`, the `topic` it belongs to, the prompt `requirement` it enforces (the
rule only runs when the audited prompt states it), a default `severity`, a doc in its
docstring, and `VALID` / `INVALID` example cases from which the tests are generated.

`check(ctx)` yields `Hit`s; the engine turns them into `Finding`s with the code, severity, the
criterion number *of this prompt*, the snippet and the transcript line. A rule whose `needs`
(bundle modules) do not parse is skipped: the syntax error is reported once, by RA001, instead
of every rule failing on it. A rule that raises is contained and reported as RA000.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar, Iterable, Iterator

from reviewer_audit.context import STANDARD_MODULES, AuditContext
from reviewer_audit.findings import Finding, Related, Severity


@dataclass(frozen=True)
class Case:
    """An example for a rule: a (partial) bundle, the run configs beside it, and for INVALID
    cases optionally where the finding must point."""

    files: dict[str, str]
    runs: dict[str, str] = field(default_factory=dict)  # run_id -> run-config YAML text
    path: str | None = None  # INVALID: expected finding path
    line: int | None = None  # INVALID: expected finding line
    spec: dict = field(default_factory=dict)  # AuditSpec fields to override for this case
    note: str = ""


@dataclass
class Hit:
    path: str | None
    line: int | None
    message: str
    column: int | None = None
    related: list[Related] = field(default_factory=list)
    snippet: str | None = None
    severity: Severity | None = None  # a rule may lower/raise severity for one hit


class Rule:
    """Base class; see the module docstring. Subclasses set the ClassVars and `check`."""

    code: ClassVar[str]
    name: ClassVar[str]
    topic: ClassVar[str]
    severity: ClassVar[Severity]
    requirement: ClassVar[str | None] = None
    needs: ClassVar[tuple[str, ...]] = ()
    VALID: ClassVar[list[Case]] = []
    INVALID: ClassVar[list[Case]] = []

    def check(self, ctx: AuditContext) -> Iterable[Hit]:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- documentation, shared by `reviewer-audit rule CODE`, SARIF and the rules table
    @classmethod
    def doc(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or cls.name)

    @classmethod
    def summary(cls) -> str:
        return cls.doc().splitlines()[0].strip()

    @classmethod
    def applies_to(cls, spec) -> bool:
        return cls.requirement is None or spec.has(cls.requirement)

    # ---- helpers for subclasses
    @staticmethod
    def hit(path: str | None, pos, message: str, **kw) -> Hit:
        """Build a Hit from a `facts.Pos`, an int line, or None."""
        if pos is None:
            return Hit(path, None, message, **kw)
        if isinstance(pos, int):
            return Hit(path, pos, message, **kw)
        return Hit(path, pos.line, message, column=pos.column, **kw)


def all_rules() -> list[type[Rule]]:
    from reviewer_audit.rules import RULES

    return list(RULES)


def rule_by_code(code: str) -> type[Rule] | None:
    return next((r for r in all_rules() if r.code == code.upper()), None)


def select_rules(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[type[Rule]]:
    """Ruff-style selection by code or prefix: `--select RA6 --ignore RA603`."""
    select = [s.upper() for s in select]
    ignore = [s.upper() for s in ignore]
    out = []
    for r in all_rules():
        if select and not any(r.code.startswith(s) for s in select):
            continue
        if any(r.code.startswith(s) for s in ignore):
            continue
        out.append(r)
    return out


@dataclass
class EngineResult:
    findings: list[Finding]
    timings: dict[str, float]
    skipped: dict[str, str]  # rule code -> why it did not run


def run_rules(ctx: AuditContext, rules: Iterable[type[Rule]] | None = None) -> EngineResult:
    rules = list(rules) if rules is not None else all_rules()
    findings: list[Finding] = []
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
            findings.append(_internal_error(rule_cls, exc))
        timings[rule_cls.code] = time.perf_counter() - start
        for h in hits:
            findings.append(to_finding(ctx, rule_cls, h))
    findings.sort(key=Finding.sort_key)
    return EngineResult(findings=_dedupe(findings), timings=timings, skipped=skipped)


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


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.rule, f.path, f.line, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def iter_cases(rule_cls: type[Rule]) -> Iterator[tuple[str, Case]]:
    for i, c in enumerate(rule_cls.VALID):
        yield f"{rule_cls.code}-valid-{i}", c
    for i, c in enumerate(rule_cls.INVALID):
        yield f"{rule_cls.code}-invalid-{i}", c


def context_for_case(case: Case) -> AuditContext:
    """Build the audit context a case describes (default spec, patched by `case.spec`)."""
    from reviewer_audit.bundle import Bundle
    from reviewer_audit.spec import default_spec
    from reviewer_audit.transcript import RunConfig, Span

    spec = default_spec().model_copy(update=case.spec, deep=True)
    bundle = Bundle.from_mapping(case.files, source="<case>")
    runs = []
    for run_id, text in case.runs.items():
        run = RunConfig(run_id=run_id, yaml_text=text, span=Span(start=1, end=1))
        run.load_yaml()
        runs.append(run)
    return AuditContext(bundle, spec, runs)
