"""The corpus report in each format, written to a file or stdout (`reviewer-audit report`)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from reviewer_audit.ingest.errors import InputError

if TYPE_CHECKING:
    from reviewer_audit.corpus.report import CorpusReport

FORMATS = ("text", "json", "markdown", "html")


def check_target(fmt: str, output: str | Path | None) -> None:
    """Usage problems, raised as `InputError` before any audit runs."""
    if fmt not in FORMATS:
        raise InputError("--format", f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if output is not None and not Path(output).parent.is_dir():
        raise InputError(output, "cannot write: its folder does not exist")


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


def emit(report: "CorpusReport", fmt: str, output: str | Path | None) -> None:
    if output is not None:
        text = render(report, fmt, color=False, width=120)
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(output, f"cannot write ({exc.strerror or exc})") from None
        return
    if fmt == "text":
        from reviewer_audit.output.report_text import render_text
        from reviewer_audit.output.text import console_for

        render_text(report, console_for(sys.stdout))
        return
    sys.stdout.write(render(report, fmt))
    sys.stdout.flush()


def write(report: "CorpusReport", fmt: str, out) -> None:
    """The report in `fmt` to the stream `out` (stdout or an opened file): text through rich
    (`output.text.console_for`: wrapped on a terminal, never in a pipe or file)."""
    if fmt == "text":
        from reviewer_audit.output.report_text import render_text
        from reviewer_audit.output.text import console_for

        render_text(report, console_for(out))
        return
    out.write(render(report, fmt))
