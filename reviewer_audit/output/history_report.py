"""`history` in each format, written to a file or stdout (as `corpus_report` does for `report`)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from reviewer_audit.ingest.errors import InputError
from reviewer_audit.output.corpus_report import FORMATS, check_target

if TYPE_CHECKING:
    from reviewer_audit.corpus.history_models import HistoryReport

__all__ = ["FORMATS", "check_target", "render", "emit", "utc_minutes"]


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


def emit(report: "HistoryReport", fmt: str, output: str | Path | None) -> None:
    if output is not None:
        try:
            Path(output).write_text(render(report, fmt, width=120), encoding="utf-8")
        except OSError as exc:
            raise InputError(output, f"cannot write ({exc.strerror or exc})") from None
        return
    if fmt == "text":
        from rich.console import Console

        from reviewer_audit.output.history_text import render_text

        render_text(report, Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 120))
        return
    sys.stdout.write(render(report, fmt))
    sys.stdout.flush()
