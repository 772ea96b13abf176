"""Which releases of a library existed on a date, and which of those a declared range admits.

A review is judged by the library versions of its day: uv's `--exclude-newer DATE` (only releases
published before DATE count) is the model. The dates come from `data/releases.json`, built from
PyPI by `scripts/build_releases.py`. A library without data there is judged as today (every
version the range admits counts), so missing data never invents a verdict.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from importlib import resources

from packaging.specifiers import InvalidSpecifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from reviewer_audit.knowledge.versions import admits


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, dict]]:
    text = resources.files("reviewer_audit.data").joinpath("releases.json").read_text(encoding="utf-8")
    return json.loads(text)["libraries"]


def parse_date(text: str) -> dt.date:
    """`2025-10-17` or an RFC 3339 timestamp (`2025-10-17T18:29:56+00:00`) -> its UTC date."""
    text = text.strip()
    try:
        if "T" in text or " " in text:
            stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if stamp.tzinfo is not None:
                stamp = stamp.astimezone(dt.timezone.utc)
            return stamp.date()
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or an RFC 3339 timestamp") from None


@dataclass(frozen=True)
class Release:
    version: Version
    date: dt.date
    yanked: bool = False


@functools.lru_cache(maxsize=None)
def releases(library: str) -> list[Release] | None:
    """Every known release of a distribution, oldest first; None when there is no data for it.
    Cached: parsing every version string again for each question was most of an audit's cost
    of asking (the list is shared; callers do not change it)."""
    rows = _table().get(canonicalize_name(library))
    if rows is None:
        return None
    out = []
    for version, info in rows.items():
        try:
            out.append(Release(Version(version), dt.date.fromisoformat(info["date"]), bool(info.get("yanked"))))
        except (InvalidVersion, ValueError, KeyError):
            continue
    return out


def admitted(library: str, specifier: str | None, before: dt.date | None) -> list[Release] | None:
    """Releases a range admits that were published before `before` (all when None), excluding
    yanked ones and pre-releases, as a resolver would pick; None when the library has no data."""
    rows = releases(library)
    if rows is None:
        return None
    out = []
    for r in rows:
        if r.yanked or r.version.is_prerelease or (before is not None and r.date >= before):
            continue
        try:
            if admits(specifier, str(r.version)):
                out.append(r)
        except InvalidSpecifier:
            return None
    return out


def first_release_in(library: str, specifier: str | None, affected: str) -> Release | None:
    """The earliest release that both the declared range and the affected range admit."""
    rows = admitted(library, specifier, None)
    if rows is None:
        return None
    return next((r for r in rows if admits(affected, str(r.version))), None)
