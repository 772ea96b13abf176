"""Reviewed knowledge about library APIs that break generated experiment code.

The data lives in ``reviewer_audit/data/library_knowledge.yaml`` (removed, renamed or changed
APIs, each with the version range where it breaks and a source).  This module loads it with
``ruamel.yaml``'s safe loader, validates every entry with pydantic (a malformed file raises
:class:`KnowledgeDataError` naming the entry and field), caches the result, and offers lookups:

* :func:`by_symbol` - entries for a symbol, given however the caller split module and name
  (``by_symbol("scipy.stats", "binom_test")`` == ``by_symbol("scipy", "stats.binom_test")``);
* :func:`entries_for` - entries for a PyPI distribution (name normalised per PEP 503).

``KnowledgeEntry.admitted_by(spec)`` tells whether a dependency range declared in a bundle's
pyproject admits an affected version (an unconstrained dependency admits the newest).
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reviewer_audit.knowledge.versions import admits, ranges_intersect

__all__ = [
    "KnowledgeBase",
    "KnowledgeDataError",
    "KnowledgeEntry",
    "by_symbol",
    "entries_for",
    "load_knowledge",
]

DATA_PACKAGE = "reviewer_audit.data"
DATA_FILE = "library_knowledge.yaml"

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_SOURCE_REF = re.compile(r"https?://\S+|\bseed_\d{3}\b")


class KnowledgeDataError(ValueError):
    """The knowledge data file is missing or malformed."""


class KnowledgeEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    library: str = Field(min_length=1)
    module: str
    symbol: str
    aliases: tuple[str, ...] = ()
    kind: Literal["removed", "renamed", "signature", "behaviour"]
    removed_in: str | None = None
    affected: str | None = None
    deprecated_in: str | None = None
    replacement: str = Field(min_length=1)
    message: str = Field(min_length=1)
    severity: Literal["blocker", "major", "minor"]
    source: str = Field(min_length=1)
    note: str | None = None

    @field_validator("library")
    @classmethod
    def _library_is_a_distribution_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", value):
            raise ValueError(f"{value!r} is not a valid PyPI distribution name")
        return value

    @field_validator("module", "symbol")
    @classmethod
    def _dotted_name(cls, value: str) -> str:
        if not _DOTTED.fullmatch(value):
            raise ValueError(f"{value!r} is not a dotted Python name")
        return value

    @field_validator("aliases")
    @classmethod
    def _dotted_aliases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for alias in value:
            if not _DOTTED.fullmatch(alias):
                raise ValueError(f"alias {alias!r} is not a dotted Python name")
        return value

    @field_validator("removed_in", "deprecated_in")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Version(value)
            except InvalidVersion:
                raise ValueError(f"{value!r} is not a PEP 440 version") from None
        return value

    @field_validator("affected")
    @classmethod
    def _range(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                SpecifierSet(value)
            except InvalidSpecifier:
                raise ValueError(f"{value!r} is not a PEP 440 version range") from None
            if not value.strip():
                raise ValueError("affected must not be empty (omit it, or give a range)")
        return value

    @field_validator("message")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value:
            raise ValueError("message must be one line")
        return value

    @field_validator("source")
    @classmethod
    def _cites_something(cls, value: str) -> str:
        if not _SOURCE_REF.search(value):
            raise ValueError("source must cite a URL or a seed defect id (e.g. 'seed_002 D-13')")
        return value

    @model_validator(mode="after")
    def _has_a_range(self) -> KnowledgeEntry:
        if self.removed_in is None and self.affected is None:
            raise ValueError("give removed_in and/or affected")
        if self.removed_in is not None and self.affected is not None:
            if not admits(self.affected, self.removed_in):
                raise ValueError(
                    f"removed_in {self.removed_in} lies outside affected {self.affected!r}"
                )
        if self.deprecated_in is not None and self.removed_in is not None:
            if Version(self.deprecated_in) > Version(self.removed_in):
                raise ValueError("deprecated_in is after removed_in")
        return self

    # -- derived ----------------------------------------------------------------------
    @property
    def affected_range(self) -> str:
        """PEP 440 range of the releases that have the problem."""
        if self.affected is not None:
            return self.affected
        return f">={self.removed_in}"

    @property
    def full_name(self) -> str:
        return f"{self.module}.{self.symbol}"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.full_name, *self.aliases)

    @property
    def canonical_library(self) -> str:
        return canonicalize_name(self.library)

    def affects(self, version: str) -> bool:
        """Is this installed ``version`` of the library affected?"""
        return admits(self.affected_range, version)

    def admitted_by(self, specifier: str | None) -> bool:
        """Does a declared dependency range (``""``/``None`` = unconstrained) admit an
        affected release?"""
        return ranges_intersect(specifier or "", self.affected_range)


class KnowledgeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    entries: list[KnowledgeEntry]


class KnowledgeBase:
    """Validated entries with lookup indexes."""

    def __init__(self, entries: list[KnowledgeEntry], origin: str = "<memory>") -> None:
        self.origin = origin
        self.entries: tuple[KnowledgeEntry, ...] = tuple(entries)
        self._by_name: dict[str, list[KnowledgeEntry]] = {}
        self._by_library: dict[str, list[KnowledgeEntry]] = {}
        for entry in self.entries:
            for name in entry.names:
                self._by_name.setdefault(name, []).append(entry)
            self._by_library.setdefault(entry.canonical_library, []).append(entry)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def get(self, entry_id: str) -> KnowledgeEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def by_symbol(self, module: str, name: str = "") -> list[KnowledgeEntry]:
        """Entries for ``module.name`` (or its alias), however the dotted path is split."""
        full = f"{module}.{name}" if module and name else (module or name)
        return list(self._by_name.get(full, ()))

    def entries_for(self, library: str) -> list[KnowledgeEntry]:
        return list(self._by_library.get(canonicalize_name(library), ()))


def _load(text: str, origin: str) -> KnowledgeBase:
    try:
        raw = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise KnowledgeDataError(f"{origin}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise KnowledgeDataError(f"{origin}: expected a mapping with 'version' and 'entries'")
    entries = raw.get("entries")
    if isinstance(entries, list):
        # Validate entry by entry so the error names the entry.
        for index, item in enumerate(entries):
            try:
                KnowledgeEntry.model_validate(item)
            except ValidationError as exc:
                ident = item.get("id", "?") if isinstance(item, dict) else "?"
                details = "; ".join(
                    f"{'.'.join(map(str, err['loc'])) or 'entry'}: {err['msg']}"
                    for err in exc.errors()
                )
                raise KnowledgeDataError(
                    f"{origin}: entry #{index} (id={ident}): {details}"
                ) from None
    try:
        parsed = KnowledgeFile.model_validate(raw)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'file'}: {err['msg']}" for err in exc.errors()
        )
        raise KnowledgeDataError(f"{origin}: {details}") from None
    seen: set[str] = set()
    for entry in parsed.entries:
        if entry.id in seen:
            raise KnowledgeDataError(f"{origin}: duplicate entry id {entry.id!r}")
        seen.add(entry.id)
    return KnowledgeBase(parsed.entries, origin)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str | None) -> KnowledgeBase:
    if path is None:
        resource = resources.files(DATA_PACKAGE).joinpath(DATA_FILE)
        try:
            text = resource.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KnowledgeDataError(f"missing data file {DATA_PACKAGE}/{DATA_FILE}") from None
        return _load(text, f"{DATA_PACKAGE}/{DATA_FILE}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeDataError(f"cannot read {path}: {exc}") from None
    return _load(text, path)


def load_knowledge(path: str | Path | None = None) -> KnowledgeBase:
    """The validated knowledge base (the packaged file unless ``path`` is given); cached."""
    return _load_cached(None if path is None else str(path))


def load_knowledge_text(text: str, origin: str = "<text>") -> KnowledgeBase:
    """Validate knowledge YAML given as text (not cached)."""
    return _load(text, origin)


def by_symbol(module: str, name: str = "") -> list[KnowledgeEntry]:
    return load_knowledge().by_symbol(module, name)


def entries_for(library: str) -> list[KnowledgeEntry]:
    return load_knowledge().entries_for(library)
