"""The corpus report in each format, written to a file or stdout (`reviewer-audit report`).

`render_family`/`write_family` serve every multi-run report alike: a family's formats live in
`output/<family>_markdown.py`, `_html.py` and `_text.py` (`report` here, `history` for
`history_report`), imported only when that format is asked for."""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import BaseModel

    from reviewer_audit.corpus.report import CorpusReport

FORMATS = ("text", "json", "markdown", "html")


def render_family(family: str, report: "BaseModel", fmt: str, *, color: bool = False, width: int | None = None) -> str:
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    if fmt == "markdown":
        return import_module(f"reviewer_audit.output.{family}_markdown").render_markdown(report)
    if fmt == "html":
        return import_module(f"reviewer_audit.output.{family}_html").render_html(report)
    if fmt == "text":
        return import_module(f"reviewer_audit.output.{family}_text").render_text_string(report, color=color, width=width)
    raise ValueError(f"unknown format {fmt!r}")


def write_family(family: str, report: "BaseModel", fmt: str, out) -> None:
    """The report in `fmt` to the stream `out` (stdout or an opened file): text through rich
    (`output.text.console_for`: wrapped on a terminal, never in a pipe or file)."""
    if fmt == "text":
        from reviewer_audit.output.text import console_for

        import_module(f"reviewer_audit.output.{family}_text").render_text(report, console_for(out))
        return
    out.write(render_family(family, report, fmt))


def render(report: "CorpusReport", fmt: str, *, color: bool = False, width: int | None = None) -> str:
    return render_family("report", report, fmt, color=color, width=width)


def write(report: "CorpusReport", fmt: str, out) -> None:
    write_family("report", report, fmt, out)
