"""`history` in each format, written to a file or stdout (as `corpus_report` does for `report`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reviewer_audit.output.corpus_report import FORMATS

if TYPE_CHECKING:
    from reviewer_audit.corpus.history_models import HistoryReport

__all__ = ["FORMATS", "render", "write", "utc_minutes"]


def utc_minutes(iso: str) -> str:
    """A date as UTC minutes for display: commits carry their committer's offset, logs UTC."""
    import datetime as dt

    return dt.datetime.fromisoformat(iso).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def render(report: "HistoryReport", fmt: str, *, color: bool = False, width: int | None = None) -> str:
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    if fmt == "markdown":
        from reviewer_audit.output.history_markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from reviewer_audit.output.history_html import render_html

        return render_html(report)
    if fmt == "text":
        from reviewer_audit.output.history_text import render_text_string

        return render_text_string(report, color=color, width=width)
    raise ValueError(f"unknown format {fmt!r}")


def write(report: "HistoryReport", fmt: str, out) -> None:
    """The report in `fmt` to the stream `out` (stdout or an opened file): text through rich
    (`output.text.console_for`: wrapped on a terminal, never in a pipe or file)."""
    if fmt == "text":
        from reviewer_audit.output.history_text import render_text
        from reviewer_audit.output.text import console_for

        render_text(report, console_for(out))
        return
    out.write(render(report, fmt))
