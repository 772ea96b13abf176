"""`history` as GitHub-flavoured markdown; the corpus part is report's own markdown."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reviewer_audit.output.report_markdown import _cell, _code, _pct, _ready, _short, _table, render_markdown as corpus_markdown

from reviewer_audit.output.history_report import utc_minutes
if TYPE_CHECKING:
    from reviewer_audit.corpus.history_models import Confusion, HistoryReport


def _confusion(c: "Confusion") -> list[str]:
    return _table(["verdict", "next run passed", "next run failed"],
                  [["**ready**", c.ready_passed, f"**{c.ready_failed}**"], ["**not ready**", c.not_ready_passed, c.not_ready_failed]], "lrr")


def render_markdown(report: "HistoryReport") -> str:
    repos = report.repos
    s = report.scores
    out = ["# reviewer-audit history", "",
           f"{len(repos)} repositories, {sum(r.counts.transcript_versions for r in repos)} transcript versions "
           f"({sum(r.counts.reviews for r in repos)} reviews), {sum(r.counts.runs for r in repos)} CI-recorded runs. "
           f"The tool says *not ready* on a finding of severity **{report.fail_on}** or above. "
           f"Schema {report.schema_version}, reviewer-audit {report.tool_version}.", ""]
    if report.errors:
        out += ["**Not read:**", ""] + [f"- {_cell(e.error)}" for e in report.errors] + [""]
    out += ["## Repositories", ""]
    out += _table(["repository", "branches", "transcript versions", "reviews", "runs", "passed", "failed", "unknown", "PASSED lines",
                   "fix commits", "agent commits"],
                  [[_code(r.name), r.counts.branches, r.counts.transcript_versions, r.counts.reviews, r.counts.runs, r.counts.passed,
                    r.counts.failed, r.counts.unknown, r.counts.passed_lines, r.counts.fix_commits, r.counts.agent_commits] for r in repos],
                  "lrrrrrrrrrr")

    out += ["", "## Scores against execution", "", f"{s.scored} of {s.reviews} reviews have a next run of exactly the judged code. {s.note}", ""]
    if s.scored:
        out += ["**Reviewer**", ""] + _confusion(s.reviewer) + ["", "**reviewer-audit**", ""] + _confusion(s.tool) + [""]
        rows = [["all", s.reviews, s.scored, _pct(s.reviewer.precision), _pct(s.reviewer.recall), s.reviewer.ready_failed,
                 _pct(s.tool.precision), _pct(s.tool.recall), s.tool.ready_failed]]
        for label, groups in (("model", s.by_model), ("prompt", s.by_prompt_version)):
            rows += [[f"{label} {_code(g.key)}", g.reviews, g.scored, _pct(g.reviewer.precision), _pct(g.reviewer.recall),
                      g.reviewer.ready_failed, _pct(g.tool.precision), _pct(g.tool.recall), g.tool.ready_failed] for g in groups]
        out += ["Precision and recall of *not ready* as a crash prediction:", ""]
        out += _table(["group", "reviews", "scored", "reviewer precision", "reviewer recall", "approved, then crashed",
                       "tool precision", "tool recall", "tool ready, then crashed"], rows, "lrrrrrrrr")
    cl = s.crash_location
    out += ["", "### Predicted first crash against the recorded error", "",
            f"{cl.failed_with_error} failed next runs recorded an error; the tool predicted a crash in {cl.predicted}, "
            f"in the same file in {cl.same_file}, at the same error in {cl.same_error}, of the same kind in {cl.same_kind}.", ""]
    if cl.cases:
        out += _table(["recorded error", "where", "predicted", "same file", "same error", "same kind"],
                      [[_cell(_short(m.error, 120)), _code(f"{m.error_file or '?'}:{m.error_line or '?'}"),
                        (_code(f"{m.predicted.rule} {m.predicted.path or '<bundle>'}:{m.predicted.line or ''}") + " " + _cell(_short(m.predicted.message, 120)))
                        if m.predicted else "nothing", m.same_file, m.same_error, m.same_kind] for m in cl.cases])

    for r in repos:
        out += ["", f"## {r.name}", "", "### Reviews", ""]
        if r.transcripts:
            out += _table(["commit", "date", "reviewer", "reviewer verdict", "tool verdict", "first crash", "code commit", "next run", "outcome"],
                          [[_code(v.commit[:12]), utc_minutes(v.date), _cell(v.reviewer_model or "(unnamed)"), _ready(v.reviewer_ready), _ready(v.tool_ready),
                            _code(f"{v.first_crash.rule} {v.first_crash.path or '<bundle>'}") if v.first_crash else "–",
                            _code(v.code_commit[:12]) if v.code_commit else "–",
                            f"{_cell(v.next_run.run_id or '')} {v.next_run.mode or ''} {_code(v.next_run.commit[:12])}" if v.next_run else "–",
                            v.outcome_next_run if v.first_of_blob else f"{v.outcome_next_run} (same text as before)"]
                           for v in r.transcripts])
        else:
            out.append("_No transcript in its history._")
        out += ["", "### Runs", ""]
        out += _table(["recorded by", "code", "run_id", "mode", "outcome", "error", "flags", "fixes"],
                      [[_code(x.commit[:12]), _code(x.code_commit[:12]) + ("" if x.code_exact else " ~") if x.code_commit else "–",
                        _cell(x.run_id or "–"), (x.mode or "–") + ("*" if x.mode_inferred else ""), x.outcome,
                        (_cell(_short(x.error, 100)) + (f" ({_code(f'{x.error_file}:{x.error_line}')})" if x.error_file else "")) if x.error else "",
                        ", ".join(x.flags), "<br>".join(f"{_code(f.commit[:12])} {_cell(', '.join(f.files))}" for f in x.fixes)] for x in r.runs])
        out += ["", "`~`: code edited in the commit that recorded the run; `*`: mode from the branch (run branches run full).", "",
                "### Timeline per run_id", ""]
        for tl in r.timeline:
            steps = []
            for e in tl.events:
                if e.kind == "review":
                    steps.append(f"review ({_ready(e.reviewer_ready)} / tool {_ready(e.tool_ready)})")
                elif e.kind == "run":
                    steps.append(f"{e.mode or '?'} {e.outcome}")
                else:
                    steps.append("fix")
            out.append(f"- {_code(tl.run_id)}: " + " → ".join(steps))
        for n in r.notes:
            out.append(f"- note: {_cell(n)}")

    out += ["", corpus_markdown(report.corpus)]
    return "\n".join(out)
