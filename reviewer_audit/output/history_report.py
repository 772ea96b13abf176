"""`history` in each format, written to a file or stdout (as `corpus_report` does for `report`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reviewer_audit.output.corpus_report import FORMATS, render_family, write_family

if TYPE_CHECKING:
    from reviewer_audit.corpus.history_models import HistoryReport

__all__ = ["FORMATS", "render", "write", "utc_minutes"]


def utc_minutes(iso: str) -> str:
    """A date as UTC minutes for display: commits carry their committer's offset, logs UTC."""
    import datetime as dt

    return dt.datetime.fromisoformat(iso).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def render(report: "HistoryReport", fmt: str, *, color: bool = False, width: int | None = None) -> str:
    return render_family("history", report, fmt, color=color, width=width)


def write(report: "HistoryReport", fmt: str, out) -> None:
    write_family("history", report, fmt, out)
