"""The corpus report in each format, written to a file or stdout (`reviewer-audit report`)."""
from __future__ import annotations

from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from reviewer_audit.corpus.report import CorpusReport

FORMATS = ("text", "json", "markdown", "html")


def render(report: "CorpusReport", fmt: str, *, color: bool = False, width: int | None = None) -> str:
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    if fmt == "markdown":
        from reviewer_audit.output.report_markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from reviewer_audit.output.report_html import render_html

        return render_html(report)
    if fmt == "text":
        from reviewer_audit.output.report_text import render_text_string

        return render_text_string(report, color=color, width=width)
    raise ValueError(f"unknown format {fmt!r}")


def write(report: "CorpusReport", fmt: str, out) -> None:
    """The report in `fmt` to the stream `out` (stdout or an opened file): text through rich
    (`output.text.console_for`: wrapped on a terminal, never in a pipe or file)."""
    if fmt == "text":
        from reviewer_audit.output.report_text import render_text
        from reviewer_audit.output.text import console_for

        render_text(report, console_for(out))
        return
    out.write(render(report, fmt))
