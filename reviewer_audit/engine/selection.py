"""The `[tool.reviewer-audit]` table: its schema and how selectors name rules.

It sits in the engine layer because two layers read it: the CI gate (`gate.settings`) loads and
applies it, and rule RA003 audits it as a file. Neither imports the other.
"""
from __future__ import annotations

import re
import tomllib
from typing import Annotated, Iterable, Iterator

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from reviewer_audit.engine.findings import Severity

TABLE = "reviewer-audit"
#: Codes the engine emits without a Rule class (RA000: a rule crashed); valid in configuration.
ENGINE_CODES = ("RA000",)
#: The requirement that lets RA003 run: only the configuration's own audit states it.
SETTINGS_REQUIREMENT = "reviewer_audit_settings"

NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Suppression(BaseModel):
    """Findings of `rules` (codes or prefixes) at paths matching `path` (a glob on the
    bundle-relative path; absent: every path) are kept but marked suppressed with `reason`."""

    model_config = ConfigDict(extra="forbid")

    rules: list[str] = Field(min_length=1)
    path: str | None = None
    reason: NonBlank = Field(description="Why the finding does not apply. Mandatory.")


class Settings(BaseModel):
    """The `[tool.reviewer-audit]` table."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    select: list[str] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)
    fail_on: Severity | None = Field(default=None, alias="fail-on")
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict, alias="per-file-ignores")
    suppress: list[Suppression] = Field(default_factory=list)
    #: gitignore-style patterns, relative to the configuration's folder, of files and folders a
    #: bundle directory walk skips, on top of the defaults (as ruff's extend-exclude).
    extend_exclude: list[str] = Field(default_factory=list, alias="extend-exclude")

    def selectors(self) -> Iterator[tuple[str, str]]:
        """Every rule selector in the table, with where it sits: ("ignore", "RA102"), ..."""
        for code in self.select:
            yield "select", code
        for code in self.ignore:
            yield "ignore", code
        for glob, codes in self.per_file_ignores.items():
            for code in codes:
                yield f"per-file-ignores[{glob!r}]", code
        for i, s in enumerate(self.suppress):
            for code in s.rules:
                yield f"suppress[{i}].rules", code


def matches(code: str, selector: str) -> bool:
    """Ruff-style: a selector is a full code or a prefix of one (case-insensitive)."""
    return bool(selector) and code.upper().startswith(selector.strip().upper())


def table_of(name: str, text: str) -> dict | None:
    """The `[tool.reviewer-audit]` table of a pyproject.toml, or a whole other TOML file.
    None when the file has no such table; raises `tomllib.TOMLDecodeError` on bad TOML
    (including TOML that is too deep or has integers too long to read)."""
    try:
        data = tomllib.loads(text)
    except (RecursionError, ValueError) as exc:
        if isinstance(exc, tomllib.TOMLDecodeError):
            raise
        raise tomllib.TOMLDecodeError(f"unreadable TOML ({type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''})") from None
    if name == "pyproject.toml":
        tool = data.get("tool")
        table = tool.get(TABLE) if isinstance(tool, dict) else None
        return table if isinstance(table, dict) else None
    return data


def unknown_selectors(table: dict, codes: Iterable[str]) -> list[tuple[str, str]]:
    """(where, selector) for every selector matching none of `codes`. Tolerates malformed
    tables (the loader rejects those with exit 2 before this matters)."""
    try:
        settings = Settings.model_validate(table)
    except ValidationError:
        return []
    codes = list(codes)
    return [(where, sel) for where, sel in settings.selectors() if not any(matches(c, sel) for c in codes)]


def line_of_selector(text: str, selector: str) -> int | None:
    """1-based line where `selector` is written as a TOML string, after the table header."""
    lines = text.splitlines()
    start = next((i for i, s in enumerate(lines) if TABLE in s), 0)
    pattern = re.compile(r"""(["'])""" + re.escape(selector) + r"\1")
    for i in list(range(start, len(lines))) + list(range(0, start)):
        if pattern.search(lines[i]):
            return i + 1
    return None
