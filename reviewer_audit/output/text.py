"""Human-readable terminal output with rich: verdicts side by side, criteria, findings."""
from __future__ import annotations

import io
import re
import sys
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.table import Table

if TYPE_CHECKING:
    from reviewer_audit.verdict.report import AuditReport
    from reviewer_audit.ingest.transcript import Transcript

#: Terminal control and bidi-override characters: audited text must not drive the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape(text: str) -> str:
    """Text from the audited bundle made inert for the terminal: rich markup escaped, control
    characters (ESC sequences, bidi overrides) shown as `\\xNN` instead of being interpreted."""
    return _escape_markup(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text))


SEVERITY_STYLE = {"blocker": "bold red", "major": "yellow", "minor": "cyan"}
AGREEMENT_TEXT = {
    "agree_ready": "[green]agree: ready[/]",
    "agree_not_ready": "[green]agree: not ready[/]",
    "reviewer_false_positive": "[bold red]reviewer false positive[/] (the reviewer approved code the tool rejects)",
    "reviewer_false_negative": "[yellow]reviewer false negative?[/] (the reviewer rejected code the tool finds nothing at threshold in)",
    "no_reviewer_verdict": "[dim]no reviewer verdict[/]",
}


class _RstripLines(io.TextIOBase):
    """A stream that drops trailing spaces from every line it passes on: rich pads table cells
    and wrapped lines to the console width, which piped logs and diffs should not carry."""

    def __init__(self, out: TextIO):
        self._out = out
        self._pending = ""

    def write(self, text: str) -> int:
        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            self._out.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._out.write(self._pending.rstrip(" "))
            self._pending = ""
        self._out.flush()

    def isatty(self) -> bool:
        return False


#: Width of tables when the output is not a terminal (a log, a pipe, a file).
PIPED_WIDTH = 120


def console_for(out: TextIO | None = None) -> Console:
    """A rich console for `out` (default: the current sys.stdout). On a terminal rich wraps to
    its width. Anywhere else, lines are never wrapped (a finding or a code snippet stays on one
    line, whole, for grep and diff), tables are laid out PIPED_WIDTH wide, and no line ends in
    spaces."""
    out = out if out is not None else sys.stdout
    if getattr(out, "isatty", lambda: False)():
        return Console(file=out, highlight=False, soft_wrap=False)
    return Console(file=_RstripLines(out), highlight=False, soft_wrap=True, width=PIPED_WIDTH)


def _console() -> Console:
    return console_for()


def _ready(value: bool | None) -> str:
    return "[dim]none[/]" if value is None else ("[green]ready[/]" if value else "[red]not ready[/]")


def render_transcript(t: "Transcript") -> None:
    c = _console()
    c.print(f"[bold]{escape(t.source)}[/]  family={t.family}  prompt={t.prompt_version}")
    c.print(f"reviewer model: {escape(t.llm_name or '(none)')}" + (f"  (line {t.llm_name_line})" if t.llm_name_line else ""))
    table = Table(title=f"criteria ({len(t.prompt.criteria)})", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("title")
    table.add_column("lines")
    table.add_column("bullets", justify="right")
    for cr in t.prompt.criteria:
        table.add_row(str(cr.number), escape(cr.title), f"{cr.span.start}-{cr.span.end}", str(len(cr.bullets)))
    c.print(table)
    for name, sec in (("hypothesis", t.hypothesis), ("method", t.method), ("experimental design", t.experimental_design)):
        if sec is not None:
            c.print(f"{name}: lines {sec.span.start}-{sec.span.end} ({len(sec.text)} chars)")
    runs = Table(title=f"runs ({len(t.runs)})")
    for col in ("run id", "method", "model", "dataset", "yaml line", "yaml"):
        runs.add_column(col)
    for r in t.runs:
        runs.add_row(escape(r.run_id), escape(r.method or ""), escape(r.model or ""), escape(r.dataset or ""), str(r.yaml_line or ""),
                     "[red]" + escape(r.yaml_error) + "[/]" if r.yaml_error else f"{len(r.config or {})} keys" + (f", @package {r.package}" if r.package else ""))
    if t.runs:
        c.print(runs)
    if t.run_variations:
        c.print(f"run variations: {', '.join(t.run_variations)}")
    files = Table(title=f"bundle ({len(t.bundle.files)} files, transcript line {t.bundle_line or '-'})")
    files.add_column("path")
    files.add_column("lines", justify="right")
    files.add_column("bytes", justify="right")
    for p, f in sorted(t.bundle.files.items()):
        files.add_row(escape(p), str(f.text.count("\n") + 1), str(len(f.text.encode())))
    c.print(files)
    v = t.verdict
    c.print(f"verdict (lines {v.span.start}-{v.span.end}, key {v.ready_key}): {_ready(v.ready)}")
    if v.issue:
        c.print(f"issue: {escape(v.issue[:600])}" + ("…" if len(v.issue) > 600 else ""))


CLAIM_STYLE = {"confirmed": "[green]confirmed[/]", "refuted": "[red]refuted[/]", "unverified": "[yellow]unverified[/]", "context": "[dim]context[/]"}


def render_audit(r: "AuditReport") -> None:
    c = _console()
    c.print(f"[bold]{escape(r.source)}[/]  family={r.family}  prompt={r.prompt_version}  reviewer={escape(r.llm_name or '(none)')}")
    side = Table(show_header=True, box=None)
    side.add_column("")
    side.add_column("reviewer")
    side.add_column("reviewer-audit")
    rv = r.reviewer_verdict
    side.add_row("verdict", _ready(rv.ready if rv else None), _ready(r.tool_verdict.ready) + f" (fail on {r.tool_verdict.fail_on.value})")
    counts = r.tool_verdict.counts
    side.add_row("issues", f"{sum(1 for cl in r.claims if cl.status != 'context')} claim(s)", ", ".join(f"{counts.get(s, 0)} {s}" for s in ("blocker", "major", "minor")))
    c.print(side)
    if r.agreement:
        c.print("agreement: " + AGREEMENT_TEXT.get(r.agreement, r.agreement))
    if r.criteria:
        table = Table(title="per criterion")
        for col in ("#", "criterion", "tool", "reviewer", "findings"):
            table.add_column(col)
        for row in r.criteria:
            tool = "[red]fail[/]" if row.tool == "fail" else "[green]pass[/]"
            rev = {"fail": "[red]fail[/]", "pass": "[green]pass[/]"}.get(row.reviewer, "[dim]unstated[/]")
            table.add_row(row.criterion, escape(row.title), tool, rev, str(row.findings))
        c.print(table)
    claims = [cl for cl in r.claims if cl.status != "context"]
    if r.claims:
        counts = {s: sum(1 for cl in claims if cl.status == s) for s in ("confirmed", "refuted", "unverified")}
        c.print(f"\n[bold]reviewer claims[/]: {len(claims)} ({counts['confirmed']} confirmed, {counts['refuted']} refuted, "
                f"{counts['unverified']} unverified; {len(r.claims) - len(claims)} context)")
    for claim in claims:
        mark = CLAIM_STYLE[claim.status]
        crit = f" [{claim.criterion}]" if claim.criterion else ""
        c.print(f"  {mark}{escape(crit)} {escape(' '.join(claim.text.split())[:200])}")
        c.print(f"      [dim]{escape(claim.evidence)}[/]")
    _first_crashes(c, r)
    if r.missed:
        c.print(f"[bold]missed by the reviewer[/]: {len(r.missed)} finding(s) at or above {r.tool_verdict.fail_on.value}")
    missed = set(r.missed)
    for severity in ("blocker", "major", "minor"):
        group = [(i, f) for i, f in enumerate(r.findings) if f.severity.value == severity]
        if not group:
            continue
        c.print(f"\n[{SEVERITY_STYLE[severity]}]{severity} ({len(group)})[/]")
        for i, f in group:
            flag = " [magenta](missed by reviewer)[/]" if i in missed else ""
            sup = f" [dim](suppressed: {escape(f.suppression_reason or '')})[/]" if f.suppressed else ""
            tl = (f" [dim]({'transcript line' if r.kind == 'transcript' else 'line'} {f.transcript_line}"
                  f"{'' if r.kind == 'transcript' else ' of ' + escape(r.source)})[/]") if f.transcript_line else ""
            c.print(f"  {escape(f.where)}: [bold]{f.rule}[/] [{f.criterion}] {escape(f.message)}{flag}{sup}{tl}")
            where = _reach_text(f, r)
            if where:
                c.print(f"      [dim]{escape(where)}[/]")
            if f.snippet:
                c.print(f"      [dim]{escape(f.snippet)}[/]", no_wrap=True, overflow="ellipsis", crop=True)
            for rel in f.related:
                c.print(f"      [dim]{escape(rel.label)}: {escape(rel.path)}{':' + str(rel.line) if rel.line else ''} {escape(rel.snippet or '')}[/]")


def _first_crashes(c: Console, r: "AuditReport") -> None:
    """What each command of the pipeline dies of first, in execution order, and -- when that is
    the install or a config file, which stop every command alike -- the first crash in its own
    code after it. Commands that share both are one line."""
    if not r.commands:
        return
    c.print("\n[bold]first crash per command[/] (execution order)")
    shown: dict[tuple, list] = {}
    for cmd in r.commands:
        in_code = next((j for j in cmd.blockers if r.findings[j].reach is not None), None)
        shown.setdefault((cmd.first_blocker, in_code), []).append(cmd)
    for (first, in_code), cmds in shown.items():
        names = f"`{cmds[0].command}`" + (f" and {len(cmds) - 1} more" if len(cmds) > 1 else "")
        if first is None:
            c.print(f"  {escape(names)}: [green]no blocker reached[/]")
            continue
        f = r.findings[first]
        tail = []
        if in_code is not None and in_code != first:
            g = r.findings[in_code]
            tail.append(f"past it, its code crashes first at {escape(g.where)} ({g.rule}: {escape(g.name)})")
        if cmds[0].consequences:
            tail.append(f"{len(cmds[0].consequences)} later finding(s) are consequences")
        more = len(cmds[0].blockers) - 1 - (in_code is not None and in_code != first)
        if more > 0:
            tail.append(f"{more} more blocker(s) after that on this path")
        c.print(f"  {escape(names)} crashes first at [bold]{escape(f.where)}[/] ({f.rule}: {escape(f.name)})" + (f"; {'; '.join(tail)}" if tail else ""))


def _reach_text(f, r: "AuditReport") -> str:
    """Where a finding holds: latent, a consequence, or the commands that run its code."""
    if f.consequence_of is not None:
        cause = r.findings[f.consequence_of]
        return f"consequence of {cause.rule} at {cause.where}: it can only follow that crash"
    if f.reach is None:
        return ""
    if f.reach.latent:
        return "latent: no command runs this code" + (f" ({f.demoted_from.value} if it ran)" if f.demoted_from else "")
    n = len(f.reach.commands)
    total = len(r.commands)
    if n == total and total > 1:
        return f"on every command ({total})"
    return "on " + ", ".join(f"`{cmd}`" for cmd in f.reach.commands[:2]) + (f" and {n - 2} more" if n > 2 else "")


def render_libraries(manifest: dict) -> None:
    c = _console()
    libs = manifest.get("libraries", {})
    table = Table(title=f"library index: {len(libs)} libraries, minor versions current since {manifest.get('window_start', '?')}")
    for col in ("library", "modules", "versions", "from", "to", "source"):
        table.add_column(col)
    for name, entry in libs.items():
        vs = entry.get("versions", [])
        first = f"{vs[0]['version']} ({vs[0]['date']})" if vs else "-"
        last = f"{vs[-1]['version']} ({vs[-1]['date']})" if vs else "-"
        mods = entry.get("modules", [])
        shown = ", ".join(mods[:3]) + (f" +{len(mods) - 3}" if len(mods) > 3 else "")
        table.add_row(name, escape(shown), str(len(vs)), first, last, escape(entry.get("source", "")))
    c.print(table)


def render_rules(rules) -> None:
    """One row per rule; code, name and requirement are never cut or wrapped (the summary
    column gives way)."""
    c = _console()
    table = Table(title=f"{len(rules)} rules")
    for col in ("code", "name", "topic", "severity", "requires"):
        values = [getattr(r, col if col != "requires" else "requirement") or "-" for r in rules]
        values = [v.value if hasattr(v, "value") else v for v in values]
        table.add_column(col, no_wrap=True, min_width=max(len(col), *(len(str(v)) for v in values)))
    table.add_column("summary", ratio=1)
    for r in rules:
        table.add_row(r.code, r.name, r.topic, r.severity.value, r.requirement or "-", escape(r.summary()))
    c.print(table)
