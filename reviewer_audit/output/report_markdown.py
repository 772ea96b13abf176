"""Corpus report as GitHub-flavoured markdown: the same tables, for pasting into an issue."""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewer_audit.corpus.report import CorpusReport

#: Long claim texts are cut in the table (the JSON keeps them whole).
CLAIM_CHARS = 300


#: A code span: a run of backticks, then anything up to the same run (CommonMark).
_CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def _escape_text(s: str) -> str:
    return s.replace("\\", "\\\\").replace("<", "&lt;").replace(">", "&gt;")


def _cell(value: object) -> str:
    """Table-cell text: `\\`, `<` and `>` escaped outside code spans only (inside one they
    would show literally), `|` escaped everywhere (GFM splits cells on it even in code)."""
    s = " ".join(str(value).split())
    out, at = [], 0
    for m in _CODE_SPAN.finditer(s):
        out += [_escape_text(s[at:m.start()]), m.group(0)]
        at = m.end()
    out.append(_escape_text(s[at:]))
    return "".join(out).replace("|", "\\|")


def _code(value: object) -> str:
    s = " ".join(str(value).split()).replace("|", "\\|")
    tick = "``" if "`" in s else "`"
    pad = " " if tick == "``" else ""
    return f"{tick}{pad}{s}{pad}{tick}" if s else ""


def _table(header: list[str], rows: list[list[object]], align: str | None = None) -> list[str]:
    align = align or "l" * len(header)
    seps = ["---:" if a == "r" else "---" for a in align]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(seps) + " |"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _dates(first: str | None, last: str | None) -> str:
    if not first:
        return "–"
    return first if first == last else f"{first} – {last}"


def _ready(v: bool | None) -> str:
    return "–" if v is None else ("ready" if v else "not ready")


def _short(text: str, limit: int) -> str:
    s = " ".join(text.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def render_markdown(report: "CorpusReport") -> str:
    a = report.aggregates
    t = a.agreement
    name = lambda p: Path(p).name  # noqa: E731
    out: list[str] = ["## reviewer-audit corpus report", ""]
    out.append(f"{a.transcripts} transcript(s), {a.audited} audited, {len(a.errors)} not audited. "
               f"The tool says *not ready* on a finding of severity **{report.fail_on}** or above"
               + (f"; merged from {len(report.inputs)} shard(s)." if report.merged else ".")
               + f" Schema {report.schema_version}, reviewer-audit {report.tool_version}.")
    out += ["", "### Reviewer × tool", ""]
    out += _table(["", "tool: ready", "tool: not ready", "total"], [
        ["**reviewer: ready**", t.reviewer_ready_tool_ready, f"**{t.reviewer_ready_tool_not_ready}**", t.approvals],
        ["**reviewer: not ready**", t.reviewer_not_ready_tool_ready, t.reviewer_not_ready_tool_not_ready,
         t.reviewer_not_ready_tool_ready + t.reviewer_not_ready_tool_not_ready],
        ["**total**", t.reviewer_ready_tool_ready + t.reviewer_not_ready_tool_ready,
         t.reviewer_ready_tool_not_ready + t.reviewer_not_ready_tool_not_ready, t.n],
    ], "lrrr")
    out += ["", f"- Cohen's kappa: **{_num(t.kappa)}** (observed agreement {_pct(t.observed_agreement)}, by chance {_pct(t.expected_agreement)})",
            f"- Reviewer approvals the tool rejects: **{t.approvals_rejected} of {t.approvals}** ({_pct(t.approvals_rejected_share)})"]
    if t.no_reviewer_verdict:
        out.append(f"- Without a reviewer verdict: {t.no_reviewer_verdict}")

    out += ["", f"### Reviewer false positives ({len(a.false_positives)})", "",
            "Transcripts the reviewer approved and the tool rejects, worst first.", ""]
    if a.false_positives:
        rows = []
        for fp in a.false_positives:
            first = True
            fc = fp.first_crash
            crash = (f"{_code(fc.blocker.where)} {fc.blocker.rule}" + (f"; in code {_code(fc.in_code.where)} {fc.in_code.rule}" if fc.in_code else "")) if fc else ""
            for b in fp.top_blockers or [None]:
                lead = [_code(name(fp.file)), _cell(fp.llm_name or "(unnamed)"), " / ".join(str(fp.counts.get(s, 0)) for s in ("blocker", "major", "minor")), crash] if first else ["", "", "", ""]
                first = False
                rows.append(lead + ([b.severity, _code(b.rule), _code(b.where), _cell(b.message)] if b else ["", "", "", ""]))
        out += _table(["transcript", "reviewer", "blocker / major / minor", "first crash", "severity", "rule", "where", "message"], rows)
    else:
        out.append("_None._")

    out += ["", "### Per criterion", "",
            "By topic, since criterion numbers differ across prompt versions. *Missed*: the tool fails the criterion "
            "and the reviewer approved or did not raise it.", ""]
    out += _table(["topic", "numbers", "titles", "transcripts", "tool fails", "reviewer raised", "reviewer missed", "missed while approving"],
                  [[_code(c.topic), ", ".join(c.numbers), _cell("; ".join(c.titles)), c.transcripts, c.tool_fails, c.reviewer_raised,
                    c.reviewer_missed, c.missed_approved] for c in a.criteria], "lllrrrrr")

    for title, groups, related in (("By reviewer model", a.by_model, "prompt versions"), ("By prompt version", a.by_prompt_version, "models")):
        out += ["", f"### {title}", ""]
        out += _table(["key", "family", "dates", "transcripts", "not audited", "approved", "tool ready", "false positives", "kappa",
                       "claims", "confirmed", "refuted (false alarms)", "unverified", related],
                      [[_code(g.key), g.family or "–", _dates(g.first_date, g.last_date), g.transcripts, g.errors, g.reviewer_approvals,
                        g.tool_ready, g.false_positives, _num(g.kappa, 2), g.claims, g.claims_confirmed,
                        f"{g.claims_refuted} ({_pct(g.false_alarm_share)})", g.claims_unverified, _cell(", ".join(g.related))] for g in groups],
                      "llllrrrrrrrrrl")

    out += ["", "### Most frequent rules", ""]
    if a.rules:
        out += _table(["rule", "name", "severity", "transcripts", "findings"],
                      [[_code(r.rule), _cell(r.name), r.severity, r.transcripts, r.findings] for r in a.rules], "lllrr")
    else:
        out.append("_No rule fired on any audited transcript._")

    n_claims = a.claims_confirmed + a.claims_refuted + a.claims_unverified
    out += ["", f"### Reviewer claims ({n_claims}: {a.claims_confirmed} confirmed, {a.claims_refuted} refuted, "
                f"{a.claims_unverified} unverified; {a.claims_context} context)", "", f"> {a.claims_note}", ""]
    out += ["", f"#### Reviewer false alarms: refuted claims ({len(a.false_alarms)})", ""]
    if a.false_alarms:
        out += _table(["transcript", "reviewer", "criterion", "claim", "evidence"],
                      [[_code(name(c.file)), _cell(c.llm_name or "(unnamed)"), c.criterion or "–", _cell(_short(c.text, CLAIM_CHARS)),
                        _cell(c.evidence)] for c in a.false_alarms])
        out += ["", "Per transcript:", ""]
        out += _table(["transcript", "reviewer", "claims", "confirmed", "refuted", "unverified"],
                      [[_code(name(t.file)), _cell(t.llm_name or "(unnamed)"), t.claims, t.confirmed, t.refuted, t.unverified]
                       for t in a.false_alarm_transcripts], "llrrrr")
    else:
        out.append("_None._")
    out += ["", f"#### Claims confirmed by a finding ({len(a.confirmed_claims)})", ""]
    if a.confirmed_claims:
        out += _table(["transcript", "criterion", "claim", "finding"],
                      [[_code(name(c.file)), c.criterion or "–", _cell(_short(c.text, CLAIM_CHARS)), _cell(c.evidence)] for c in a.confirmed_claims])
    else:
        out.append("_None._")
    out += ["", f"#### Unverified claims by kind of defect ({a.claims_unverified})", "",
            "Most frequent first: the kinds of defect reviewers raise that no rule settles yet.", ""]
    if a.unverified_kinds:
        out += _table(["kind of defect", "claims", "transcripts", "crash / criterion / advice", "rules (did not fire)", "example"],
                      [[_code(k.defect), k.count, k.transcripts, " / ".join(str(k.kinds.get(x, 0)) for x in ("crash", "criterion", "advice")),
                        ", ".join(k.covered_by) or "none", _cell(_short(k.examples[0].text, 200)) if k.examples else ""]
                       for k in a.unverified_kinds], "lrrlll")
    else:
        out.append("_None._")

    out += ["", f"### Iterations ({len(a.iterations)} pipeline runs with several rounds)", "",
            "Rounds of one run (same hypothesis or same run ids), in order; findings as `rule path`.", ""]
    if a.iterations:
        rows = []
        for g in a.iterations:
            for k, s in enumerate(g.steps, 1):
                rows.append([_cell(g.label) if k == 1 else "", f"{k}→{k + 1}", _code(name(s.after)),
                             f"{_ready(s.reviewer_ready_before)} → {_ready(s.reviewer_ready_after)}",
                             f"{_ready(s.tool_ready_before)} → {_ready(s.tool_ready_after)}",
                             "<br>".join(_code(x) for x in s.fixed), "<br>".join(_code(x) for x in s.appeared), s.kept])
        out += _table(["run", "round", "transcript", "reviewer", "tool", "fixed", "appeared", "kept"], rows, "lllllllr")
    else:
        out.append("_None._")

    if a.errors:
        out += ["", f"### Not audited ({len(a.errors)})", ""]
        out += _table(["transcript", "kind", "error"], [[_code(e.file), e.kind, _cell(e.error)] for e in a.errors])
    out.append("")
    return "\n".join(out)
