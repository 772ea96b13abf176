"""When a transcript was written, from what lies beside it.

The date decides which library releases count when the transcript's review is judged (only
releases published before it existed for the code's author). Sources, best first: the
`commit_date` column of an `index.tsv` in the transcript's folder or its parent (what a corpus
export writes), then a date in the file name (`20251014-...`, `airas-20251009-055033-...`).
"""
from __future__ import annotations

import csv
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path


_NAME_DATE = re.compile(r"(?<![0-9])(20\d{2})(\d{2})(\d{2})(?:-(\d{2})(\d{2})(\d{2}))?(?![0-9])")


def file_name_date(name: str) -> str | None:
    """`20251014-...` -> '2025-10-14'; `airas-20251009-055033-...` -> '2025-10-09T05:50:33'."""
    for m in _NAME_DATE.finditer(Path(name).name):
        y, mo, d, hh, mm, ss = m.groups()
        try:
            if hh is not None:
                return datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss)).isoformat()
            return datetime(int(y), int(mo), int(d)).date().isoformat()
        except ValueError:
            continue
    return None


@lru_cache(maxsize=64)
def index_dates(directory: str) -> dict[str, str]:
    """Commit dates from an `index.tsv` (columns file, commit_date) in the folder or its parent."""
    for folder in (Path(directory), Path(directory).parent):
        index = folder / "index.tsv"
        if not index.is_file():
            continue
        try:
            with index.open(encoding="utf-8", newline="") as fh:
                reader = csv.DictReader(fh, delimiter="\t")
                if not reader.fieldnames or "file" not in reader.fieldnames or "commit_date" not in reader.fieldnames:
                    continue
                out = {}
                for row in reader:
                    stamp = _utc(row.get("commit_date") or "")
                    if row.get("file") and stamp:
                        out[row["file"]] = stamp
                return out
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
    return {}


def _utc(text: str) -> str | None:
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt.isoformat() + "Z"


def transcript_date(path: str | Path) -> str | None:
    """The best known date of a transcript file (ISO), or None."""
    path = Path(path)
    return index_dates(str(path.parent)).get(path.name) or file_name_date(path.name)
