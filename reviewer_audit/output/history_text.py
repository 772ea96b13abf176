"""`history` on a terminal (rich): repositories, scores against execution, reviews, timelines;
then the corpus report of the same reviews (report's own renderer)."""
from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from reviewer_audit.output.report_text import render_text as render_corpus_text
from reviewer_audit.output.text import escape

from reviewer_audit.output.history_report import utc_minutes
if TYPE_CHECKING:
    from reviewer_audit.corpus.history_models import Confusion, HistoryReport

#: Events shown per run_id on a terminal; the JSON, markdown and HTML formats carry them all.
SHOW_EVENTS = 30
OUTCOME_STYLE = {"passed": "green", "failed": "red", "unknown": "dim"}


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _ready(value: bool | None) -> str:
    return "-" if value is None else ("ready" if value else "not ready")


def _outcome(o: str | None) -> str:
    return f"[{OUTCOME_STYLE.get(o or '', '')}]{o or '-'}[/]"


def _short(text: str | None, limit: int) -> str:
    s = " ".join((text or "").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _confusion_table(title: str, c: "Confusion") -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("")
    t.add_column("next run passed", justify="right")
    t.add_column("next run failed", justify="right")
    t.add_row("ready", str(c.ready_passed), f"[bold red]{c.ready_failed}[/]")
    t.add_row("not ready", f"[yellow]{c.not_ready_passed}[/]", str(c.not_ready_failed))
    return t


def render_text(report: "HistoryReport", console: Console | None = None) -> None:
    c = console or Console(highlight=False, soft_wrap=False)
    repos = report.repos
    runs = sum(r.counts.runs for r in repos)
    c.print(f"[bold]reviewer-audit history[/]: {len(repos)} repositor{'y' if len(repos) == 1 else 'ies'}, "
            f"{sum(r.counts.transcript_versions for r in repos)} transcript version(s) ({sum(r.counts.reviews for r in repos)} reviews), "
            f"{runs} CI-recorded run(s): [green]{sum(r.counts.passed for r in repos)} passed[/], "
            f"[red]{sum(r.counts.failed for r in repos)} failed[/], {sum(r.counts.unknown for r in repos)} unknown"
            + (f"  ({report.wall_ms / 1000:.1f}s with {report.jobs} job(s))" if report.wall_ms is not None else ""))
    for e in report.errors:
        c.print(f"[bold red]not read[/]: {escape(e.error)}")

    t = Table(title="repositories", title_justify="left")
    t.add_column("repository", max_width=32, overflow="fold")
    for col in ("branches", "versions", "reviews", "runs", "pass", "fail", "unk.", "PASSED", "fix", "agent"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in repos:
        k = r.counts
        t.add_row(escape(r.name), str(k.branches), str(k.transcript_versions), str(k.reviews), str(k.runs), str(k.passed), str(k.failed),
                  str(k.unknown), str(k.passed_lines), str(k.fix_commits), str(k.agent_commits))
    c.print()
    c.print(t)
    c.print("[dim]versions: transcript versions; runs: CI-recorded runs (passed, failed, unknown); PASSED: PASSED lines the "
            "commits added; fix: '[CI] Automated fix' commits; agent: '[CI] Apply fixes' commits (an agent's run-and-fix job)[/]")

    s = report.scores
    c.print(f"\n[bold]scores against execution[/]: {s.scored} of {s.reviews} review(s) have a next run of exactly the judged code")
    c.print(f"[dim]{escape(s.note)}[/]")
    if s.scored:
        c.print(_confusion_table("reviewer verdict x next run", s.reviewer))
        c.print(_confusion_table("reviewer-audit verdict x next run", s.tool))
        g = Table(title="precision / recall of 'not ready' as a crash prediction", title_justify="left")
        for col in ("group", "reviews", "scored", "reviewer P", "reviewer R", "approved, crashed", "tool P", "tool R", "tool ready, crashed"):
            g.add_column(col, justify="left" if col == "group" else "right", no_wrap=col == "group")
        g.add_row("all", str(s.reviews), str(s.scored), _pct(s.reviewer.precision), _pct(s.reviewer.recall), str(s.reviewer.ready_failed),
                  _pct(s.tool.precision), _pct(s.tool.recall), str(s.tool.ready_failed))
        for label, groups in (("model", s.by_model), ("prompt", s.by_prompt_version)):
            for grp in groups:
                g.add_row(f"{label} {escape(grp.key)}", str(grp.reviews), str(grp.scored), _pct(grp.reviewer.precision), _pct(grp.reviewer.recall),
                          str(grp.reviewer.ready_failed), _pct(grp.tool.precision), _pct(grp.tool.recall), str(grp.tool.ready_failed))
        c.print(g)
    cl = s.crash_location
    if cl.failed_with_error:
        c.print(f"\n[bold]predicted first crash vs the recorded error[/]: {cl.failed_with_error} failed next run(s) with an error; "
                f"the tool predicted a crash in {cl.predicted}, in the same file {cl.same_file}, at the same error {cl.same_error}, "
                f"of the same kind {cl.same_kind}")
        for m in cl.cases:
            p = m.predicted
            c.print(f"  recorded {escape(m.error_file or '?')}:{m.error_line or '?'} {escape(_short(m.error, 90))}")
            c.print(f"  predicted {escape(p.rule + ' ' + (p.path or '<bundle>') + ':' + str(p.line or '')) if p else 'nothing'}"
                    + (f"  {escape(_short(p.message, 90))}" if p else "")
                    + f"  [dim](same file {m.same_file}, same error {m.same_error}, same kind {m.same_kind})[/]")

    for r in repos:
        c.print(f"\n[bold]{escape(r.name)}[/]: reviews")
        if not r.transcripts:
            c.print("  no transcript in its history")
        for v in r.transcripts:
            if not v.first_of_blob:
                continue
            crash = f"{v.first_crash.rule} {v.first_crash.path or '<bundle>'}" if v.first_crash else "-"
            nxt = (f"{v.next_run.run_id} {v.next_run.mode} {v.next_run.commit[:8]}" if v.next_run else "no run of this code")
            c.print(f"  {v.commit[:8]} {utc_minutes(v.date)} {escape(v.reviewer_model or '(unnamed)')}: reviewer {_ready(v.reviewer_ready)}, "
                    f"tool {_ready(v.tool_ready)} (first crash {escape(crash)}) -> {escape(nxt)}: {_outcome(v.outcome_next_run)}"
                    + (f" [yellow]{escape(_short(v.audit_error, 80))}[/]" if v.audit_error else ""))
        c.print(f"[bold]{escape(r.name)}[/]: timeline per run_id")
        for tl in r.timeline:
            c.print(f"  [bold]{escape(tl.run_id)}[/] ({len(tl.events)} events)")
            for e in tl.events[:SHOW_EVENTS]:
                if e.kind == "review":
                    what = f"review: reviewer {_ready(e.reviewer_ready)}, tool {_ready(e.tool_ready)}"
                elif e.kind == "run":
                    what = f"{e.mode or '?'} run {_outcome(e.outcome)}" + (f": {escape(_short(e.error, 80))}" if e.error else "")
                else:
                    what = "fix: " + escape(", ".join(e.files) or "(no code file)")
                c.print(f"    {utc_minutes(e.date)} {e.commit[:8]} {what}")
            if len(tl.events) > SHOW_EVENTS:
                c.print(f"    [dim]... and {len(tl.events) - SHOW_EVENTS} more (--format json, markdown or html lists all)[/]")
        for n in r.notes:
            c.print(f"  [dim]note: {escape(n)}[/]")

    c.print("\n[bold]The same reviews, reviewer against tool[/] (as `reviewer-audit report` shows them):")
    render_corpus_text(report.corpus, c)


def render_text_string(report: "HistoryReport", color: bool = False, width: int | None = None) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, color_system="standard" if color else None, width=width or 120,
                      highlight=False, soft_wrap=False, emoji=False)
    render_text(report, console)
    return buf.getvalue()
