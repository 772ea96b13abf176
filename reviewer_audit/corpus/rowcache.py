"""The content cache (`pipeline.cache`) for `report` and `history`: one entry per transcript text.

A row is what `report` keeps of an audit; `history` keeps a row, the predicted first crash and
the judged files' blob ids. Both are cached by the transcript's bytes, the library date it is
judged as of and `--fail-on` (and, through the key, the tool's version, code and data). What
depends on where the text was found -- the row's file name, its dates, its duration -- is set
by the caller on every read, never stored. Lookups happen in the parent process before any
worker starts, so a warm run starts none; results are stored by the parent as they arrive.
Audits that crashed or whose process died are not stored (they may not happen again).
"""
from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from reviewer_audit.pipeline.cache import AuditCache

#: Row fields that say where and when an audit ran, not what it found.
PLACE_FIELDS = frozenset({"file", "file_date", "commit_date", "fail_on", "duration_ms"})


def row_key(cache: AuditCache, kind: str, data: bytes | str, date, fail_on: str) -> str:
    """Key of a transcript text judged as of `date` (a date, an ISO string, or None: today)."""
    from reviewer_audit.pipeline.audit import _as_date, settings_key

    return cache.key(kind, [data, settings_key(fail_on, (), (), _as_date(date) if date else None)])


def storable(row) -> bool:
    return row.error_kind in (None, "input")


def dump_row(row) -> dict[str, Any]:
    return json.loads(row.model_dump_json(exclude=set(PLACE_FIELDS)))


def load_row(payload: dict[str, Any], base: dict[str, Any], duration_ms: float):
    from reviewer_audit.corpus.report import CorpusRow

    return CorpusRow(**{**payload, **base, "duration_ms": duration_ms})


def get(cache: AuditCache, kind: str, key: str) -> dict[str, Any] | None:
    data = cache.get(kind, key)
    if data is None:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def put(cache: AuditCache, kind: str, key: str, value: dict[str, Any]) -> None:
    cache.put(kind, key, json.dumps(value, sort_keys=True).encode())


def decode(kind: str, value: dict[str, Any], base: dict[str, Any], duration_ms: float):
    """A cached row (kind 'row'), or (row, first crash, bundle ids) (kind 'blob'); None when
    the entry does not validate (a damaged entry is a miss)."""
    try:
        if kind == "row":
            return load_row(value, base, duration_ms)
        from reviewer_audit.corpus.history_models import PredictedCrash

        crash = PredictedCrash.model_validate(value["first_crash"]) if value.get("first_crash") else None
        return load_row(value["row"], base, duration_ms), crash, dict(value.get("bundle_ids") or {})
    except (ValidationError, KeyError, TypeError, ValueError):
        return None
