"""Corpus report as ONE self-contained HTML file: inline CSS and SVG, no script, no network.

A confusion-matrix heat map (reviewer x tool), per-criterion bars, the reviewer false
positives with their evidence in <details>, the breakdowns, rules, the reviewer's claims
(false alarms with the evidence refuting them, confirmed claims, unverified claims by kind),
iterations and the transcripts that could not be audited. Laid out for a laptop screen
(content at most 1200px wide; long messages wrap).

Stable ids for tests and scripts: `cm-rr-tr`, `cm-rr-tn`, `cm-rn-tr`, `cm-rn-tn` (matrix
counts), `stat-*` (summary figures), `fp-table`, `criteria-table`, `false-alarms-table`,
`unverified-kinds-table`, `errors-table`.
"""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewer_audit.corpus.report import CorpusReport

CSS = """
:root { color-scheme: light; --fg:#1b1f24; --muted:#5b6470; --line:#d8dee4; --bg:#ffffff; --soft:#f5f7f9;
  --blocker:#c62828; --major:#b26a00; --minor:#1f6f8b; --ok:#2e7d32; --bar1:#c62828; --bar2:#1f6fb2; --bar3:#8e44ad; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg); font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
main { max-width:1200px; margin:0 auto; padding:20px 24px 48px; }
h1 { font-size:22px; margin:0 0 4px; } h2 { font-size:17px; margin:28px 0 8px; border-bottom:1px solid var(--line); padding-bottom:4px; }
p.sub, .note { color:var(--muted); margin:4px 0 10px; }
.cards { display:flex; flex-wrap:wrap; gap:10px; margin:14px 0; }
.card { flex:1 1 140px; border:1px solid var(--line); border-radius:8px; padding:8px 12px; background:var(--soft); }
.card .v { font-size:22px; font-weight:650; } .card .k { color:var(--muted); font-size:12px; }
.card.alert .v { color:var(--blocker); }
.row { display:flex; flex-wrap:wrap; gap:24px; align-items:flex-start; }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { border-bottom:1px solid var(--line); padding:5px 8px; text-align:left; vertical-align:top; }
th { background:var(--soft); font-weight:600; position:sticky; top:0; }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
th.n { white-space:normal; }
td.msg { overflow-wrap:anywhere; }
.nowrap, .nowrap code { white-space:nowrap; overflow-wrap:normal; }
td.topic { min-width:180px; max-width:380px; } td.topic code { white-space:nowrap; overflow-wrap:normal; }
.titles { color:var(--muted); font-size:12px; margin-top:2px; }
code, pre { font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
code { background:var(--soft); padding:0 3px; border-radius:3px; overflow-wrap:anywhere; }
pre { background:var(--soft); padding:6px 8px; border-radius:4px; white-space:pre-wrap; overflow-wrap:anywhere; margin:4px 0; }
details > summary { cursor:pointer; color:#0b5cad; }
details[open] > summary { margin-bottom:4px; }
ul.ev { margin:0; padding-left:18px; } ul.ev li { margin:4px 0; }
.sev { font-weight:600; } .sev.blocker { color:var(--blocker); } .sev.major { color:var(--major); } .sev.minor { color:var(--minor); }
.fixed { color:var(--ok); } .appeared { color:var(--blocker); }
.legend span { display:inline-block; margin-right:14px; } .legend i { display:inline-block; width:10px; height:10px; margin-right:4px; border-radius:2px; }
svg text { font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif; }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _ready(v: bool | None) -> str:
    return "–" if v is None else ("ready" if v else "not ready")


def _dates(first: str | None, last: str | None) -> str:
    if not first:
        return "–"
    return first if first == last else f"{first} – {last}"


def _name(path: str) -> str:
    return Path(path).name


def _heat(count: int, top: int) -> tuple[str, str]:
    """Cell fill (white -> deep blue by count) and a readable text colour."""
    share = count / top if top else 0.0
    r, g, b = (int(255 + (to - 255) * share) for to in (21, 101, 192))
    return f"rgb({r},{g},{b})", ("#ffffff" if share > 0.55 else "#1b1f24")


def _matrix_svg(report: "CorpusReport") -> str:
    t = report.aggregates.agreement
    cells = [("cm-rr-tr", 0, 0, t.reviewer_ready_tool_ready, "agree: ready"),
             ("cm-rr-tn", 0, 1, t.reviewer_ready_tool_not_ready, "reviewer false positive"),
             ("cm-rn-tr", 1, 0, t.reviewer_not_ready_tool_ready, "reviewer false negative?"),
             ("cm-rn-tn", 1, 1, t.reviewer_not_ready_tool_not_ready, "agree: not ready")]
    return matrix_svg("reviewer by tool confusion matrix", "reviewer-audit (tool)", ("ready", "not ready"),
                      ("reviewer: ready", "reviewer: not ready"), cells, flagged="cm-rr-tn", box=(150, 56, 210, 100), label_x=10,
                      count_attrs=' class="count"', count_size=26,
                      share=lambda count: f"{100 * count / t.n:.0f}% of {t.n}" if t.n else "")


def matrix_svg(aria: str, title: str, columns: tuple[str, str], rows: tuple[str, str], cells: list[tuple[str, int, int, int, str]], *,
               flagged: str, box: tuple[int, int, int, int], label_x: int, count_attrs: str = "", count_size: int = 24,
               share=None) -> str:
    """A 2x2 matrix as inline SVG, shared by the corpus and history pages: `cells` are (id, row,
    column, count, label); fill deepens with the count, and the `flagged` cell (the costly
    disagreement) is outlined red when it is not empty. `share(count)` adds a third line."""
    top = max((c[3] for c in cells), default=0)
    x0, y0, w, h = box
    parts = [f'<svg role="img" aria-label="{_e(aria)}" width="{x0 + 2 * w + 10}" height="{y0 + 2 * h + 10}" '
             f'viewBox="0 0 {x0 + 2 * w + 10} {y0 + 2 * h + 10}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{x0 + w}" y="16" text-anchor="middle" font-size="13" font-weight="600">{_e(title)}</text>',
             f'<text x="{x0 + w / 2}" y="{y0 - 10}" text-anchor="middle" font-size="12">{_e(columns[0])}</text>',
             f'<text x="{x0 + 1.5 * w}" y="{y0 - 10}" text-anchor="middle" font-size="12">{_e(columns[1])}</text>',
             f'<text x="{label_x}" y="{y0 + h / 2 + 4}" font-size="12">{_e(rows[0])}</text>',
             f'<text x="{label_x}" y="{y0 + 1.5 * h + 4}" font-size="12">{_e(rows[1])}</text>']
    for cid, row, col, count, label in cells:
        fill, ink = _heat(count, top)
        x, y = x0 + col * w, y0 + row * h
        stroke = ' stroke="#c62828" stroke-width="3"' if cid == flagged and count else ' stroke="#d8dee4" stroke-width="1"'
        third = (f'<text x="{x + w / 2}" y="{y + h / 2 + 36}" text-anchor="middle" font-size="11" fill="{ink}">{_e(share(count))}</text>'
                 if share is not None else "")
        parts.append(f'<g><title>{_e(label)}: {count}</title><rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"{stroke}/>'
                     f'<text id="{cid}"{count_attrs} x="{x + w / 2}" y="{y + h / 2 + 2}" text-anchor="middle" font-size="{count_size}" font-weight="700" fill="{ink}">{count}</text>'
                     f'<text x="{x + w / 2}" y="{y + h / 2 + 22}" text-anchor="middle" font-size="11" fill="{ink}">{_e(label)}</text>'
                     f'{third}</g>')
    parts.append("</svg>")
    return "".join(parts)


def _bars_svg(values: list[tuple[str, int, str]], total: int, width: int = 160) -> str:
    """Three thin horizontal bars (tool fails, reviewer raised, reviewer missed) out of `total`."""
    bar_h, gap = 10, 4
    height = len(values) * (bar_h + gap)
    out = [f'<svg width="{width + 40}" height="{height}" viewBox="0 0 {width + 40} {height}" xmlns="http://www.w3.org/2000/svg" aria-hidden="true">']
    for i, (label, value, color) in enumerate(values):
        y = i * (bar_h + gap)
        length = (width * value / total) if total else 0
        out.append(f'<rect x="0" y="{y}" width="{width}" height="{bar_h}" fill="#eef1f4"/>'
                   f'<rect x="0" y="{y}" width="{length:.1f}" height="{bar_h}" fill="{color}"><title>{_e(label)}: {value} of {total}</title></rect>'
                   f'<text x="{width + 6}" y="{y + bar_h - 1}" font-size="11">{value}</text>')
    out.append("</svg>")
    return "".join(out)


def _table(header: list[tuple[str, str]], rows: list[str], table_id: str | None = None) -> str:
    head = "".join(f'<th class="{cls}">{_e(h)}</th>' if cls else f"<th>{_e(h)}</th>" for h, cls in header)
    tid = f' id="{table_id}"' if table_id else ""
    return f'<div class="scroll"><table{tid}><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _card(key: str, value: object, sid: str, alert: bool = False) -> str:
    return f'<div class="card{" alert" if alert else ""}"><div class="v" id="{sid}">{_e(value)}</div><div class="k">{_e(key)}</div></div>'


def render_html(report: "CorpusReport") -> str:
    return page(f"reviewer-audit report: {report.aggregates.transcripts} transcripts",
                ["<header><h1>reviewer-audit corpus report</h1>" + _subtitle(report) + "</header>", *corpus_sections(report)])


def page(title: str, body: list[str], css: str = "") -> str:
    """One self-contained HTML document: inline CSS, no script, no network."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{CSS}{css}</style></head>"
            f"<body><main>{''.join(body)}</main></body></html>\n")


def _subtitle(report: "CorpusReport") -> str:
    a = report.aggregates
    return (f'<p class="sub">{a.transcripts} transcript(s); the tool says <em>not ready</em> on a finding of severity '
            f"<strong>{_e(report.fail_on)}</strong> or above"
            + (f"; merged from {len(report.inputs)} shard(s)" if report.merged else "")
            + f". Schema {_e(report.schema_version)}, reviewer-audit {_e(report.tool_version)}.</p>")


def corpus_sections(report: "CorpusReport") -> list[str]:
    """The corpus report's sections (cards, reviewer x tool, false positives, criteria,
    breakdowns, rules, claims, iterations, errors), for `render_html` and other pages."""
    a = report.aggregates
    t = a.agreement
    body: list[str] = []
    body.append('<section class="cards">'
                + _card("transcripts", a.transcripts, "stat-transcripts")
                + _card("audited", a.audited, "stat-audited")
                + _card("not audited", len(a.errors), "stat-errors", alert=bool(a.errors))
                + _card("reviewer approvals", t.approvals, "stat-approvals")
                + _card("approvals the tool rejects", f"{t.approvals_rejected} ({_pct(t.approvals_rejected_share)})", "stat-approvals-rejected",
                        alert=bool(t.approvals_rejected))
                + _card("Cohen's kappa", _num(t.kappa), "stat-kappa")
                + _card("reviewer false alarms (refuted claims)", a.claims_refuted, "stat-false-alarms", alert=bool(a.claims_refuted))
                + "</section>")

    body.append('<section id="agreement"><h2>Reviewer × tool</h2><div class="row">' + _matrix_svg(report)
                + '<div><p>Over audited transcripts with a reviewer verdict '
                f'(n = <span id="stat-n">{t.n}</span>).</p><ul>'
                f"<li>Cohen's kappa <strong>{_num(t.kappa)}</strong>: observed agreement {_pct(t.observed_agreement)}, "
                f"agreement expected by chance {_pct(t.expected_agreement)}.</li>"
                f"<li>Reviewer approvals the tool rejects: <strong>{t.approvals_rejected} of {t.approvals}</strong> ({_pct(t.approvals_rejected_share)}).</li>"
                f"<li>Reviewer rejections where the tool finds nothing at threshold: {t.reviewer_not_ready_tool_ready} "
                "(a reviewer false alarm or a tool miss).</li>"
                + (f"<li>Without a reviewer verdict: {t.no_reviewer_verdict}.</li>" if t.no_reviewer_verdict else "")
                + "</ul></div></div></section>")

    rows = []
    for i, fp in enumerate(a.false_positives, 1):
        counts = " / ".join(str(fp.counts.get(s, 0)) for s in ("blocker", "major", "minor"))
        top = fp.top_blockers[0] if fp.top_blockers else None
        headline = (f'<span class="sev {_e(top.severity)}">{_e(top.severity)}</span> <code>{_e(top.rule)}</code> '
                    f"<code>{_e(top.where)}</code> {_e(top.message)}") if top else "–"
        fc = fp.first_crash
        if fc is not None:
            headline = (f"first crash: <code>{_e(fc.blocker.where)}</code> {_e(fc.blocker.rule)} {_e(fc.blocker.name)}"
                        + (f"; past it, in its code: <code>{_e(fc.in_code.where)}</code> {_e(fc.in_code.rule)}" if fc.in_code else "")
                        + "<br>" + headline)
        items = []
        for b in fp.top_blockers:
            items.append(f'<li><span class="sev {_e(b.severity)}">{_e(b.severity)}</span> <code>{_e(b.rule)}</code> {_e(b.name)} '
                         f"at <code>{_e(b.where)}</code>" + (f" (transcript line {b.transcript_line})" if b.transcript_line else "")
                         + (f", criterion {_e(b.criterion)}" if b.criterion else "") + f"<br>{_e(b.message)}"
                         + (f"<pre>{_e(b.snippet)}</pre>" if b.snippet else "") + "</li>")
        evidence = (f"<details><summary>{len(fp.top_blockers)} blocker(s)</summary><ul class=\"ev\">{''.join(items)}</ul></details>"
                    if items else "")
        rows.append(f'<tr class="fp"><td class="n">{i}</td><td><code>{_e(_name(fp.file))}</code><br><span class="note">{_e(fp.file_date or "")}</span></td>'
                    f"<td>{_e(fp.llm_name or '(unnamed)')}</td><td class=\"nowrap\"><code>{_e(fp.prompt_version or '')}</code></td>"
                    f'<td class="n">{counts}</td><td class="msg">{headline}{evidence}</td></tr>')
    body.append(f'<section id="false-positives"><h2>Reviewer false positives ({len(a.false_positives)})</h2>'
                '<p class="note">Transcripts the reviewer approved and the tool rejects, worst first. Open a row for its evidence.</p>'
                + (_table([("#", "n"), ("transcript", ""), ("reviewer", ""), ("prompt", ""), ("blocker / major / minor", "n"), ("top blocker and evidence", "")],
                          rows, "fp-table") if rows else "<p><em>None.</em></p>") + "</section>")

    colors = (("tool fails", "var(--bar1)", "#c62828"), ("reviewer raised", "var(--bar2)", "#1f6fb2"), ("reviewer missed", "var(--bar3)", "#8e44ad"))
    legend = '<p class="legend">' + "".join(f'<span><i style="background:{hexc}"></i>{_e(label)}</span>' for label, _, hexc in colors) + "</p>"
    crow = []
    for c in a.criteria:
        bars = _bars_svg([(colors[0][0], c.tool_fails, colors[0][2]), (colors[1][0], c.reviewer_raised, colors[1][2]),
                          (colors[2][0], c.reviewer_missed, colors[2][2])], c.transcripts)
        crow.append(f'<tr data-topic="{_e(c.topic)}"><td class="topic"><code>{_e(c.topic)}</code><div class="titles">{_e("; ".join(c.titles))}</div></td>'
                    f'<td class="nowrap">{_e(", ".join(c.numbers))}</td><td class="n">{c.transcripts}</td>'
                    f'<td class="n tool-fails">{c.tool_fails}</td><td class="n reviewer-raised">{c.reviewer_raised}</td>'
                    f'<td class="n reviewer-missed">{c.reviewer_missed}</td><td class="n">{c.missed_approved}</td><td>{bars}</td></tr>')
    body.append('<section id="criteria"><h2>Per criterion</h2><p class="note">By topic, since criterion numbers differ across prompt versions. '
                "<em>Reviewer missed</em>: the tool fails the criterion and the reviewer approved or did not raise it.</p>" + legend
                + _table([("topic (titles seen)", ""), ("#", ""), ("transcripts", "n"), ("tool fails", "n"), ("reviewer raised", "n"),
                          ("reviewer missed", "n"), ("missed, approved", "n"), ("", "")], crow, "criteria-table") + "</section>")

    for title, sid, groups, related in (("By reviewer model", "by-model", a.by_model, "prompt versions"),
                                        ("By prompt version", "by-prompt", a.by_prompt_version, "models")):
        grows = [f"<tr><td class=\"nowrap\"><code>{_e(g.key)}</code></td><td>{_e(g.family or '–')}</td><td class=\"nowrap\">{_e(_dates(g.first_date, g.last_date))}</td>"
                 f'<td class="n">{g.transcripts}</td><td class="n">{g.errors}</td><td class="n">{g.reviewer_approvals}</td>'
                 f'<td class="n">{g.tool_ready}</td><td class="n">{g.false_positives}</td><td class="n">{_num(g.kappa, 2)}</td>'
                 f'<td class="n">{g.claims}</td><td class="n">{g.claims_confirmed}</td><td class="n">{g.claims_refuted} ({_pct(g.false_alarm_share)})</td>'
                 f'<td class="n">{g.claims_unverified}</td><td class="msg">{_e(", ".join(g.related))}</td></tr>' for g in groups]
        body.append(f'<section id="{sid}"><h2>{_e(title)}</h2>'
                    + _table([("key", ""), ("family", ""), ("dates", ""), ("transcripts", "n"), ("not audited", "n"), ("approved", "n"),
                              ("tool ready", "n"), ("false positives", "n"), ("kappa", "n"), ("claims", "n"), ("confirmed", "n"),
                              ("refuted (false alarms)", "n"), ("unverified", "n"), (related, "")], grows) + "</section>")

    rrows = [f'<tr><td><code>{_e(r.rule)}</code></td><td>{_e(r.name)}</td><td><span class="sev {_e(r.severity)}">{_e(r.severity)}</span></td>'
             f'<td class="n">{r.transcripts}</td><td class="n">{r.findings}</td></tr>' for r in a.rules]
    body.append('<section id="rules"><h2>Most frequent rules</h2>'
                + (_table([("rule", ""), ("name", ""), ("severity", ""), ("transcripts", "n"), ("findings", "n")], rrows, "rules-table")
                   if rrows else "<p><em>No rule fired on any audited transcript.</em></p>") + "</section>")

    n_claims = a.claims_confirmed + a.claims_refuted + a.claims_unverified
    frows = [f"<tr><td><code>{_e(_name(c.file))}</code></td><td>{_e(c.llm_name or '(unnamed)')}</td><td>{_e(c.criterion or '–')}</td>"
             f'<td class="msg">{_e(c.text)}</td><td class="msg">{_e(c.evidence)}</td></tr>' for c in a.false_alarms]
    trows = [f'<tr><td><code>{_e(_name(t.file))}</code></td><td>{_e(t.llm_name or "(unnamed)")}</td><td class="n">{t.claims}</td>'
             f'<td class="n">{t.confirmed}</td><td class="n">{t.refuted}</td><td class="n">{t.unverified}</td></tr>' for t in a.false_alarm_transcripts]
    crows = [f"<tr><td><code>{_e(_name(c.file))}</code></td><td>{_e(c.criterion or '–')}</td><td class=\"msg\">{_e(c.text)}</td>"
             f'<td class="msg">{_e(c.evidence)}</td></tr>' for c in a.confirmed_claims]
    krows = [f"<tr><td><code>{_e(k.defect)}</code></td><td class=\"n\">{k.count}</td><td class=\"n\">{k.transcripts}</td>"
             f'<td class="n">{" / ".join(str(k.kinds.get(x, 0)) for x in ("crash", "criterion", "advice"))}</td>'
             f"<td>{_e(', '.join(k.covered_by) or 'none')}</td><td class=\"msg\">{_e(k.examples[0].text if k.examples else '')}</td></tr>"
             for k in a.unverified_kinds]
    body.append(f'<section id="claims"><h2>Reviewer claims ({n_claims}: {a.claims_confirmed} confirmed, {a.claims_refuted} refuted, '
                f"{a.claims_unverified} unverified; {a.claims_context} context)</h2>"
                f'<p class="note">{_e(a.claims_note)}</p>'
                f"<h3>Reviewer false alarms: refuted claims ({len(frows)})</h3>"
                + (_table([("transcript", ""), ("reviewer", ""), ("criterion", ""), ("claim", ""), ("evidence", "")], frows, "false-alarms-table")
                   + "<details><summary>per transcript</summary>"
                   + _table([("transcript", ""), ("reviewer", ""), ("claims", "n"), ("confirmed", "n"), ("refuted", "n"), ("unverified", "n")], trows)
                   + "</details>" if frows else "<p><em>None.</em></p>")
                + f"<h3>Unverified claims by kind of defect ({a.claims_unverified})</h3>"
                '<p class="note">Most frequent first: the kinds of defect reviewers raise that no rule settles yet.</p>'
                + (_table([("kind of defect", ""), ("claims", "n"), ("transcripts", "n"), ("crash / criterion / advice", "n"),
                           ("rules (did not fire)", ""), ("example", "")], krows, "unverified-kinds-table") if krows else "<p><em>None.</em></p>")
                + f"<details><summary>Claims confirmed by a finding ({len(crows)})</summary>"
                + (_table([("transcript", ""), ("criterion", ""), ("claim", ""), ("finding", "")], crows) if crows else "<p><em>None.</em></p>")
                + "</details></section>")

    groups_html = []
    for g in a.iterations:
        fixed = sum(len(s.fixed) for s in g.steps)
        appeared = sum(len(s.appeared) for s in g.steps)
        srows = [f'<tr><td class="n">{k}→{k + 1}</td><td><code>{_e(_name(s.after))}</code></td>'
                 f"<td>{_e(_ready(s.reviewer_ready_before))} → {_e(_ready(s.reviewer_ready_after))}</td>"
                 f"<td>{_e(_ready(s.tool_ready_before))} → {_e(_ready(s.tool_ready_after))}</td>"
                 f'<td class="msg fixed">{"<br>".join(f"<code>{_e(x)}</code>" for x in s.fixed)}</td>'
                 f'<td class="msg appeared">{"<br>".join(f"<code>{_e(x)}</code>" for x in s.appeared)}</td><td class="n">{s.kept}</td></tr>'
                 for k, s in enumerate(g.steps, 1)]
        groups_html.append(f"<details><summary><code>{_e(g.label)}</code>: {len(g.files)} rounds (linked by {_e(', '.join(g.linked_by))}), "
                           f'<span class="fixed">{fixed} fixed</span>, <span class="appeared">{appeared} appeared</span></summary>'
                           + _table([("round", "n"), ("transcript", ""), ("reviewer", ""), ("tool", ""), ("fixed", ""), ("appeared", ""), ("kept", "n")], srows)
                           + "</details>")
    body.append(f'<section id="iterations"><h2>Iterations ({len(a.iterations)} pipeline runs with several rounds)</h2>'
                '<p class="note">Rounds of one run (same hypothesis or same run ids) in order; findings as <code>rule path</code>.</p>'
                + ("".join(groups_html) or "<p><em>None.</em></p>") + "</section>")

    if a.errors:
        erows = [f'<tr><td><code>{_e(e.file)}</code></td><td>{_e(e.kind)}</td><td class="msg">{_e(e.error)}</td></tr>' for e in a.errors]
        body.append(f'<section id="errors"><h2>Not audited ({len(a.errors)})</h2>'
                    + _table([("transcript", ""), ("kind", ""), ("error", "")], erows, "errors-table") + "</section>")

    return body
