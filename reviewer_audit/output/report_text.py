"""Corpus report on a terminal (rich), and the progress bar shown while auditing."""
from __future__ import annotations

import io
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from rich.console import Console
from reviewer_audit.output.text import escape
from rich.table import Table

if TYPE_CHECKING:
    from reviewer_audit.corpus.report import CorpusReport, CorpusRow

SEVERITY_STYLE = {"blocker": "bold red", "major": "yellow", "minor": "cyan"}
#: Long lists are cut on a terminal; the JSON, markdown and HTML formats carry them all.
SHOW_CLAIMS = 12
SHOW_RULES = 15
SHOW_ITERATIONS = 12


@contextmanager
def progress(total: int, enabled: bool | None = None) -> Iterator[Callable[["CorpusRow"], None]]:
    """A progress bar on stderr while transcripts are audited; a no-op when stderr is not a
    terminal. Yields a callback to call with each finished row."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda row: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    errors = 0
    with Progress(TextColumn("auditing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[errors]}"),
                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("[dim]{task.fields[last]}"),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("audit", total=total, errors="", last="")

        def tick(row: "CorpusRow") -> None:
            nonlocal errors
            errors += row.error is not None
            bar.update(task, advance=1, last=escape(Path(row.file).name[:48]),
                       errors=f"[red]{errors} not audited[/]" if errors else "")

        yield tick


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _ready(value: bool | None) -> str:
    return "[dim]-[/]" if value is None else ("[green]ready[/]" if value else "[red]not ready[/]")


def _dates(first: str | None, last: str | None) -> str:
    if not first:
        return "-"
    return first if first == last else f"{first} .. {last}"


def _name(path: str) -> str:
    return Path(path).name


def render_text(report: "CorpusReport", console: Console | None = None) -> None:
    c = console or Console(highlight=False, soft_wrap=False)
    a = report.aggregates
    t = a.agreement
    c.print(f"[bold]reviewer-audit report[/]: {a.transcripts} transcript(s), {a.audited} audited, "
            + (f"[red]{len(a.errors)} not audited[/]" if a.errors else "0 not audited")
            + f"  (tool fails on {report.fail_on} and above"
            + (f"; merged from {len(report.inputs)} shard(s)" if report.merged else "")
            + (f"; {report.wall_ms / 1000:.1f}s with {report.jobs} job(s)" if report.wall_ms is not None else "") + ")")

    m = Table(title="reviewer x tool", title_justify="left")
    m.add_column("")
    m.add_column("tool: ready", justify="right")
    m.add_column("tool: not ready", justify="right")
    m.add_column("total", justify="right")
    m.add_row("reviewer: ready", str(t.reviewer_ready_tool_ready), f"[bold red]{t.reviewer_ready_tool_not_ready}[/]", str(t.approvals))
    m.add_row("reviewer: not ready", f"[yellow]{t.reviewer_not_ready_tool_ready}[/]", str(t.reviewer_not_ready_tool_not_ready),
              str(t.reviewer_not_ready_tool_ready + t.reviewer_not_ready_tool_not_ready))
    m.add_row("total", str(t.reviewer_ready_tool_ready + t.reviewer_not_ready_tool_ready),
              str(t.reviewer_ready_tool_not_ready + t.reviewer_not_ready_tool_not_ready), str(t.n))
    c.print()
    c.print(m)
    c.print(f"Cohen's kappa [bold]{_num(t.kappa)}[/] (observed agreement {_pct(t.observed_agreement)}, by chance {_pct(t.expected_agreement)}); "
            f"reviewer approvals the tool rejects: [bold]{t.approvals_rejected}/{t.approvals}[/] ({_pct(t.approvals_rejected_share)})"
            + (f"; {t.no_reviewer_verdict} without a reviewer verdict" if t.no_reviewer_verdict else ""))

    c.print(f"\n[bold]reviewer false positives[/] (approved by the reviewer, rejected by the tool): {len(a.false_positives)}")
    for i, fp in enumerate(a.false_positives, 1):
        counts = ", ".join(f"{fp.counts.get(s, 0)} {s}" for s in ("blocker", "major", "minor") if fp.counts.get(s))
        c.print(f" {i:>2}. [bold]{escape(_name(fp.file))}[/]  {escape(fp.llm_name or '(unnamed)')}  prompt {fp.prompt_version}  ({counts})")
        if fp.first_crash is not None:
            fc = fp.first_crash
            past = f"; past it, its code crashes at {escape(fc.in_code.where)} ({fc.in_code.rule})" if fc.in_code else ""
            c.print(f"       first crash: [bold]{escape(fc.blocker.where)}[/] ({fc.blocker.rule}: {escape(fc.blocker.name)}){past}")
        for b in fp.top_blockers:
            c.print(f"       [{SEVERITY_STYLE.get(b.severity, '')}]{b.severity}[/] [bold]{b.rule}[/] {escape(b.where)}  {escape(b.message)}")

    if a.criteria:
        ct = Table(title="per criterion topic (numbers differ across prompt versions)", title_justify="left")
        for col, just in (("topic", "left"), ("#", "left"), ("n", "right"), ("tool fails", "right"),
                          ("reviewer raised", "right"), ("reviewer missed", "right"), ("missed, approved", "right")):
            ct.add_column(col, justify=just, no_wrap=col in ("topic", "#"))
        for cr in a.criteria:
            ct.add_row(escape(cr.topic), ",".join(cr.numbers), str(cr.transcripts), _bad(cr.tool_fails), str(cr.reviewer_raised),
                       _bad(cr.reviewer_missed), str(cr.missed_approved))
        c.print()
        c.print(ct)
        c.print("[dim]reviewer missed = the tool fails the criterion and the reviewer approved or did not raise it[/]")

    for title, groups, related in (("by reviewer model", a.by_model, "prompt versions"), ("by prompt version", a.by_prompt_version, "models")):
        if not groups:
            continue
        errors = any(s.errors for s in groups)
        g = Table(title=title, title_justify="left")
        cols = [("key", "left"), ("dates", "left"), ("n", "right")] + ([("not audited", "right")] if errors else []) + [
            ("approved", "right"), ("tool ready", "right"), ("false pos.", "right"), ("kappa", "right"),
            ("claims", "right"), ("confirmed", "right"), ("false alarms", "right"), (related, "left")]
        for col, just in cols:
            g.add_column(col, justify=just, no_wrap=col in ("key", "dates"))
        for s in groups:
            key = escape(s.key) + (f" [dim]{s.family}[/]" if related == "models" and s.family else "")
            g.add_row(key, _dates(s.first_date, s.last_date), str(s.transcripts), *([str(s.errors) if s.errors else ""] if errors else []),
                      str(s.reviewer_approvals), str(s.tool_ready), _bad(s.false_positives), _num(s.kappa, 2),
                      str(s.claims), str(s.claims_confirmed), f"{_bad(s.claims_refuted)} ({_pct(s.false_alarm_share)})", escape(", ".join(s.related)))
        c.print()
        c.print(g)

    if a.rules:
        rt = Table(title=f"most frequent rules ({min(len(a.rules), SHOW_RULES)} of {len(a.rules)})", title_justify="left")
        for col, just in (("rule", "left"), ("name", "left"), ("severity", "left"), ("transcripts", "right"), ("findings", "right")):
            rt.add_column(col, justify=just)
        for r in a.rules[:SHOW_RULES]:
            rt.add_row(r.rule, escape(r.name), f"[{SEVERITY_STYLE.get(r.severity, '')}]{r.severity}[/]", str(r.transcripts), str(r.findings))
        c.print()
        c.print(rt)
    else:
        c.print("\nno rule fired on any audited transcript")

    n_claims = a.claims_confirmed + a.claims_refuted + a.claims_unverified
    c.print(f"\n[bold]reviewer claims[/]: {n_claims} ([green]{a.claims_confirmed} confirmed[/], [red]{a.claims_refuted} refuted[/], "
            f"[yellow]{a.claims_unverified} unverified[/]; {a.claims_context} context)")
    c.print(f"[dim]{escape(a.claims_note)}[/]")
    c.print(f"\n[bold]reviewer false alarms[/] (refuted claims): {len(a.false_alarms)} in {len(a.false_alarm_transcripts)} transcript(s)")
    for u in a.false_alarms[:SHOW_CLAIMS]:
        c.print(f"  {escape(_name(u.file))}: {escape(_short(u.text, 120))}")
        c.print(f"      [dim]{escape(_short(u.evidence, 160))}[/]")
    if len(a.false_alarms) > SHOW_CLAIMS:
        c.print(f"  [dim]... and {len(a.false_alarms) - SHOW_CLAIMS} more (--format json, markdown or html lists all)[/]")
    if a.unverified_kinds:
        kt = Table(title="unverified claims by kind of defect (the next rules to write)", title_justify="left")
        for col, just in (("kind of defect", "left"), ("claims", "right"), ("transcripts", "right"), ("rules (did not fire)", "left"), ("example", "left")):
            kt.add_column(col, justify=just)
        for k in a.unverified_kinds[:SHOW_RULES]:
            kt.add_row(escape(k.defect), str(k.count), str(k.transcripts), escape(", ".join(k.covered_by) or "none"),
                       escape(_short(k.examples[0].text, 70)) if k.examples else "")
        c.print()
        c.print(kt)

    if a.iterations:
        c.print(f"\n[bold]iterations[/]: {len(a.iterations)} pipeline run(s) with several rounds")
        for grp in a.iterations[:SHOW_ITERATIONS]:
            fixed = sum(len(s.fixed) for s in grp.steps)
            appeared = sum(len(s.appeared) for s in grp.steps)
            c.print(f"  [bold]{escape(grp.label)}[/] ({len(grp.files)} rounds, linked by {', '.join(grp.linked_by)}): "
                    f"[green]{fixed} fixed[/], [red]{appeared} appeared[/]")
            for k, s in enumerate(grp.steps, 1):
                if not (s.fixed or s.appeared):
                    continue
                parts = []
                if s.fixed:
                    parts.append("[green]fixed[/] " + escape(", ".join(s.fixed)))
                if s.appeared:
                    parts.append("[red]appeared[/] " + escape(", ".join(s.appeared)))
                c.print(f"    round {k}->{k + 1} ({escape(_name(s.after))}, reviewer {_ready(s.reviewer_ready_after)}): " + "; ".join(parts))
        if len(a.iterations) > SHOW_ITERATIONS:
            c.print(f"  [dim]... and {len(a.iterations) - SHOW_ITERATIONS} more[/]")

    if a.errors:
        c.print(f"\n[bold red]not audited[/] ({len(a.errors)}):")
        for e in a.errors:
            c.print(f"  {escape(e.file)}: [{'red' if e.kind != 'input' else 'yellow'}]{escape(e.kind)}[/]: {escape(e.error)}")


def _bad(n: int) -> str:
    return f"[red]{n}[/]" if n else "0"


def _short(text: str, limit: int) -> str:
    s = " ".join(text.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def render_text_string(report: "CorpusReport", color: bool = False, width: int | None = None) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, color_system="standard" if color else None, width=width or 120,
                      highlight=False, soft_wrap=False, emoji=False)
    render_text(report, console)
    return "\n".join(line.rstrip(" ") for line in buf.getvalue().split("\n"))
