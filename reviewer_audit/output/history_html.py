"""`history` as ONE self-contained HTML file (inline CSS and SVG, no script, no network).

The scores against execution come first -- reviewer and tool verdicts against the next run of
the judged code (two confusion matrices), precision and recall per reviewer model and prompt
version, and whether the predicted first crash is in the file and at the error the log
recorded -- then, per repository, its reviews, the timeline per run_id (review -> run -> fix ->
review ...) and every run; last, the corpus report's own sections over the same reviews.

Stable ids for tests and scripts: `ex-rev-*` and `ex-tool-*` (matrix cells: `rp` ready/passed,
`rf` ready/failed, `np`, `nf`), `repos-table`, `scores-table`, `crash-table`, `timeline-<n>`
and `runs-<n>` (n: the repository's position, from 1), `hstat-*` (summary figures).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from reviewer_audit.output.report_html import _card, _e, _pct, _table, corpus_sections, matrix_svg, page

from reviewer_audit.output.history_report import utc_minutes
if TYPE_CHECKING:
    from reviewer_audit.corpus.history_models import Confusion, HistoryReport, Timeline

CSS = """
.chips { display:flex; flex-wrap:wrap; gap:4px; align-items:center; margin:4px 0 10px; }
.chip { display:inline-block; border-radius:10px; padding:1px 8px; font-size:12px; border:1px solid var(--line); background:var(--soft); white-space:nowrap; }
.chip.review { border-color:#1f6fb2; color:#1f6fb2; } .chip.fix { border-color:#8e44ad; color:#8e44ad; }
.chip.passed { background:#e8f5e9; border-color:var(--ok); color:var(--ok); } .chip.failed { background:#fdecea; border-color:var(--blocker); color:var(--blocker); }
.chip.unknown { color:var(--muted); }
.arrow { color:var(--muted); font-size:11px; }
td.passed { color:var(--ok); font-weight:600; } td.failed { color:var(--blocker); font-weight:600; } td.unknown { color:var(--muted); }
"""


def _ready(v: bool | None) -> str:
    return "–" if v is None else ("ready" if v else "not ready")


def _short(text: str | None, limit: int) -> str:
    s = " ".join((text or "").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _matrix(title: str, prefix: str, c: "Confusion") -> str:
    cells = [(f"{prefix}-rp", 0, 0, c.ready_passed, "ready, ran"), (f"{prefix}-rf", 0, 1, c.ready_failed, "approved, then crashed"),
             (f"{prefix}-np", 1, 0, c.not_ready_passed, "rejected, yet ran"), (f"{prefix}-nf", 1, 1, c.not_ready_failed, "rejected, crashed")]
    return matrix_svg(title, title, ("next run passed", "next run failed"), ("ready", "not ready"), cells,
                      flagged=f"{prefix}-rf", box=(110, 52, 150, 80), label_x=8)


def _chips(tl: "Timeline") -> str:
    parts = []
    for e in tl.events:
        if e.kind == "review":
            label, cls = f"review: {_ready(e.reviewer_ready)} / tool {_ready(e.tool_ready)}", "review"
            tip = f"{e.date} {e.commit[:12]}"
        elif e.kind == "run":
            label, cls = f"{e.mode or '?'} {e.outcome}", e.outcome or "unknown"
            tip = f"{e.date} {e.commit[:12]}" + (f" {e.error}" if e.error else "")
        else:
            label, cls = "fix", "fix"
            tip = f"{e.date} {e.commit[:12]} {', '.join(e.files)}"
        parts.append(f'<span class="chip {cls}" title="{_e(tip)}">{_e(label)}</span>')
    return '<div class="chips">' + '<span class="arrow">→</span>'.join(parts) + "</div>"


def render_html(report: "HistoryReport") -> str:
    repos = report.repos
    s = report.scores
    body: list[str] = [
        "<header><h1>reviewer-audit history</h1>"
        f'<p class="sub">{len(repos)} repositor{"y" if len(repos) == 1 else "ies"}: every reviewer transcript in their history, '
        "audited, and every CI-recorded run of the code. The tool says <em>not ready</em> on a finding of severity "
        f"<strong>{_e(report.fail_on)}</strong> or above. Schema {_e(report.schema_version)}, reviewer-audit {_e(report.tool_version)}.</p></header>",
        '<section class="cards">'
        + _card("repositories", len(repos), "hstat-repos")
        + _card("transcript versions", sum(r.counts.transcript_versions for r in repos), "hstat-versions")
        + _card("CI-recorded runs", sum(r.counts.runs for r in repos), "hstat-runs")
        + _card("passed / failed / unknown", " / ".join(str(sum(getattr(r.counts, k) for r in repos)) for k in ("passed", "failed", "unknown")), "hstat-outcomes")
        + _card("reviews scored", f"{s.scored} of {s.reviews}", "hstat-scored")
        + _card("approved, then crashed", s.reviewer.ready_failed, "hstat-approved-crashed", alert=bool(s.reviewer.ready_failed))
        + "</section>"]
    if report.errors:
        body.append('<section id="not-read"><h2>Not read</h2><ul>' + "".join(f"<li><code>{_e(e.error)}</code></li>" for e in report.errors) + "</ul></section>")

    rows = [f"<tr><td><code>{_e(r.name)}</code></td>" + "".join(f'<td class="n">{getattr(r.counts, k)}</td>' for k in
            ("branches", "transcript_versions", "reviews", "runs", "passed", "failed", "unknown", "passed_lines", "fix_commits", "agent_commits"))
            + "</tr>" for r in repos]
    body.append('<section id="repos"><h2>Repositories</h2>'
                + _table([("repository", ""), ("branches", "n"), ("transcript versions", "n"), ("reviews", "n"), ("runs", "n"), ("passed", "n"),
                          ("failed", "n"), ("unknown", "n"), ("PASSED lines", "n"), ("fix commits", "n"), ("agent commits", "n")], rows, "repos-table")
                + "</section>")

    srows = [("all", s.reviews, s.scored, s.reviewer, s.tool)]
    srows += [(f"model {g.key}", g.reviews, g.scored, g.reviewer, g.tool) for g in s.by_model]
    srows += [(f"prompt {g.key}", g.reviews, g.scored, g.reviewer, g.tool) for g in s.by_prompt_version]
    trows = [f"<tr><td><code>{_e(k)}</code></td><td class=\"n\">{n}</td><td class=\"n\">{sc}</td>"
             f'<td class="n">{_pct(rv.precision)}</td><td class="n">{_pct(rv.recall)}</td><td class="n">{rv.ready_failed}</td><td class="n">{rv.not_ready_passed}</td>'
             f'<td class="n">{_pct(tl.precision)}</td><td class="n">{_pct(tl.recall)}</td><td class="n">{tl.ready_failed}</td><td class="n">{tl.not_ready_passed}</td></tr>'
             for k, n, sc, rv, tl in srows]
    body.append('<section id="scores"><h2>Scores against execution</h2>'
                f'<p class="note">{_e(s.note)} A <em>not ready</em> verdict is read as a crash prediction: precision = crashed among '
                "not ready, recall = not ready among crashed.</p>"
                f'<div class="row">{_matrix("reviewer", "ex-rev", s.reviewer)}{_matrix("reviewer-audit", "ex-tool", s.tool)}</div>'
                + _table([("group", ""), ("reviews", "n"), ("scored", "n"), ("reviewer precision", "n"), ("reviewer recall", "n"),
                          ("approved, crashed", "n"), ("rejected, ran", "n"), ("tool precision", "n"), ("tool recall", "n"),
                          ("tool ready, crashed", "n"), ("tool rejected, ran", "n")], trows, "scores-table") + "</section>")

    cl = s.crash_location
    crows = [f'<tr><td class="msg">{_e(m.error)}</td><td class="nowrap"><code>{_e(m.error_file or "?")}:{_e(m.error_line or "?")}</code></td>'
             + (f'<td class="msg"><code>{_e(m.predicted.rule)}</code> <code>{_e(m.predicted.path or "<bundle>")}:{_e(m.predicted.line or "")}</code> '
                f"{_e(_short(m.predicted.message, 200))}</td>" if m.predicted else "<td>nothing</td>")
             + f"<td>{_e(m.same_file)}</td><td>{_e(m.same_error)}</td><td>{_e(m.same_kind)}</td></tr>" for m in cl.cases]
    body.append('<section id="crash-location"><h2>Predicted first crash against the recorded error</h2>'
                f"<p>{cl.failed_with_error} failed next run(s) recorded an error; the tool predicted a crash in {cl.predicted}, "
                f"in the same file in {cl.same_file}, at the same error in {cl.same_error}, of the same kind in {cl.same_kind}.</p>"
                + (_table([("recorded error", ""), ("where", ""), ("predicted first crash", ""), ("same file", ""), ("same error", ""), ("same kind", "")], crows, "crash-table")
                   if crows else "<p><em>No failed next run with a recorded error.</em></p>") + "</section>")

    for n, r in enumerate(repos, 1):
        vrows = [f"<tr><td class=\"nowrap\"><code>{_e(v.commit[:12])}</code></td><td class=\"nowrap\">{_e(utc_minutes(v.date))}</td>"
                 f"<td>{_e(v.reviewer_model or '(unnamed)')}</td><td>{_ready(v.reviewer_ready)}</td><td>{_ready(v.tool_ready)}</td>"
                 f"<td>{'<code>' + _e(v.first_crash.rule + ' ' + (v.first_crash.path or '<bundle>')) + '</code>' if v.first_crash else '–'}</td>"
                 f"<td>{'<code>' + _e(v.code_commit[:12]) + '</code>' if v.code_commit else '–'}</td>"
                 f"<td>{_e(v.next_run.run_id or '') + ' ' + _e(v.next_run.mode or '') if v.next_run else '–'}</td>"
                 f'<td class="{v.outcome_next_run}">{_e(v.outcome_next_run)}</td></tr>' for v in r.transcripts if v.first_of_blob]
        tl_html = "".join(f"<div><strong><code>{_e(tl.run_id)}</code></strong> ({len(tl.events)} events){_chips(tl)}</div>" for tl in r.timeline)
        rrows = [f"<tr><td class=\"nowrap\"><code>{_e(x.commit[:12])}</code></td><td class=\"nowrap\">{_e(utc_minutes(x.started_at or x.date))}</td>"
                 f"<td class=\"nowrap\">{_e(x.branch or '')}</td><td>{_e(x.run_id or '–')}</td><td>{_e(x.mode or '–')}{'*' if x.mode_inferred else ''}</td>"
                 f'<td class="{x.outcome}">{_e(x.outcome)}</td>'
                 f"<td>{'<code>' + _e(x.code_commit[:12]) + '</code>' + ('' if x.code_exact else ' ~') if x.code_commit else '–'}</td>"
                 f'<td class="msg">{_e(x.error or "")}' + (f" <code>{_e(x.error_file)}:{_e(x.error_line)}</code>" if x.error_file else "") + "</td>"
                 f"<td>{_e(', '.join(x.flags))}</td>"
                 f"<td class=\"msg\">{'<br>'.join('<code>' + _e(f.commit[:12]) + '</code> ' + _e(', '.join(f.files)) for f in x.fixes)}</td></tr>"
                 for x in r.runs]
        body.append(f'<section id="repo-{n}"><h2>{_e(r.name)}</h2>'
                    f'<p class="note">{r.counts.commits} commits on {r.counts.branches} branches ({_e(", ".join(r.branches))}).</p>'
                    "<h3>Reviews</h3>"
                    + (_table([("commit", ""), ("date", ""), ("reviewer", ""), ("reviewer verdict", ""), ("tool verdict", ""), ("first crash", ""),
                               ("code commit", ""), ("next run", ""), ("outcome", "")], vrows) if vrows else "<p><em>No transcript in its history.</em></p>")
                    + f'<h3>Timeline per run_id</h3><div id="timeline-{n}">{tl_html or "<p><em>Nothing recorded.</em></p>"}</div>'
                    + f"<details><summary>{len(r.runs)} run(s)</summary>"
                    + _table([("recorded by", ""), ("when", ""), ("branch", ""), ("run_id", ""), ("mode", ""), ("outcome", ""), ("code", ""),
                              ("error", ""), ("flags", ""), ("fixes that followed", "")], rrows, f"runs-{n}")
                    + '<p class="note"><code>~</code>: code edited inside the commit that recorded the run; <code>*</code>: mode from the branch.</p>'
                    + "</details>"
                    + ("<ul>" + "".join(f'<li class="note">{_e(x)}</li>' for x in r.notes) + "</ul>" if r.notes else "")
                    + "</section>")

    body.append('<section id="corpus"><h2>The same reviews, reviewer against tool</h2>'
                '<p class="note">The corpus report over these reviews, as <code>reviewer-audit report</code> shows it.</p></section>')
    body += corpus_sections(report.corpus)
    return page(f"reviewer-audit history: {len(repos)} repositories", body, CSS)
