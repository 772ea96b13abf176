"""What a rule is: the base class, its example cases, and the hits it yields.

A rule is a small class (Fixit / repo-review style): a stable `code` in a family per criterion
topic, a readable `name`, the `topic` it belongs to, the prompt `requirement` it enforces (the
rule only runs when the audited prompt states it), a default `severity`, a doc in its
docstring, and `VALID` / `INVALID` example cases from which the tests are generated.

`check(ctx)` yields `Hit`s; the engine turns them into `Finding`s with the code, severity, the
criterion number *of this prompt*, the snippet and the transcript line (`engine.runner`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Iterable, Iterator

from reviewer_audit.engine.context import AuditContext
from reviewer_audit.engine.findings import Related, Severity


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
    #: the audit's library date (`--exclude-newer`), ISO; None: as of today
    exclude_newer: str | None = None
    #: VALID: findings of the rule up to this severity are allowed (e.g. "minor" for a latent
    #: finding or a removal after the audit date); None: no finding at all
    allow: str | None = None
    #: INVALID: the severity the finding at path/line must have; None: any
    severity: str | None = None


@dataclass
class Hit:
    path: str | None
    line: int | None
    message: str
    column: int | None = None
    related: list[Related] = field(default_factory=list)
    snippet: str | None = None
    severity: Severity | None = None  # a rule may lower/raise severity for one hit
    #: indexes of the commands (`program.runs.RunModel.runs`) on which the defect happens, when
    #: the rule knows (a key missing in one run's config only); None: wherever the line runs
    on: list[int] | None = None
    #: what this defect breaks for later code (e.g. "file:src/model.py"); a finding that `needs`
    #: it can only follow this one, and is its consequence
    provides: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    #: indexes among `on` of commands this defect keeps from starting at all (the children of a
    #: command whose config does not compose): there it comes before anything they would run
    prevents: tuple[int, ...] = ()


class Rule:
    """Base class; see the module docstring. Subclasses set the ClassVars and `check`."""

    code: ClassVar[str]
    name: ClassVar[str]
    topic: ClassVar[str]
    severity: ClassVar[Severity]
    requirement: ClassVar[str | None] = None
    needs: ClassVar[tuple[str, ...]] = ()
    #: a finding in code no command reaches is latent and lowered to minor; rules about what the
    #: code says rather than what it does (placeholders, stubs) keep their severity
    about_execution: ClassVar[bool] = True
    #: the kinds of command (`program.runs.Command.kind`) on which the defect has an effect; code
    #: run only by others is latent for it. A frozen classifier head matters where a model
    #: trains (main and the children it starts), not where evaluate.py rebuilds it to predict.
    affects: ClassVar[frozenset[str] | None] = None
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


def iter_cases(rule_cls: type[Rule]) -> Iterator[tuple[str, Case]]:
    for i, c in enumerate(rule_cls.VALID):
        yield f"{rule_cls.code}-valid-{i}", c
    for i, c in enumerate(rule_cls.INVALID):
        yield f"{rule_cls.code}-invalid-{i}", c
