"""Command line: a thin typer app. No logic lives here; every command calls the API.

Exit codes (as in ruff and Fixit): 0 clean / tool says ready, 1 findings at or above
`--fail-on` / tool says not ready, 2 usage or input error. Input errors print one line,
`reviewer-audit: <file>: <problem>`, on stderr -- never a traceback.
"""
from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from reviewer_audit.ingest.errors import InputError

app = typer.Typer(
    name="reviewer-audit",
    help=(
        "Audit LLM code reviews of generated experiment code.\n\n"
        "reviewer-audit re-checks every criterion of the reviewer's prompt statically (it never "
        "runs the audited code) and diffs its verdict with the LLM reviewer's.\n\n"
        "Examples:\n\n"
        "  reviewer-audit audit-review fixtures/seed_002_fwlora_o3_ready.txt\n\n"
        "  reviewer-audit check path/to/generated-repo --output sarif:results.sarif\n\n"
        "  reviewer-audit report fixtures/ --format markdown"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class FailOn(str, Enum):
    blocker = "blocker"
    major = "major"
    minor = "minor"


class TextOrJson(str, Enum):
    text = "text"
    json = "json"


def _fail(message: str) -> "typer.Exit":
    sys.stderr.write(f"reviewer-audit: {message}\n")
    return typer.Exit(EXIT_ERROR)


def _write(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command("parse")
def parse_cmd(
    file: Path = typer.Argument(..., help="A reviewer transcript (.txt) as the pipeline wrote it."),
    format: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help="text: a readable outline; json: the full Transcript."),
) -> None:
    """Split a transcript into its parts and print them.

    Shows the reviewer model, the prompt's criteria, the hypothesis/method sections, the run
    configs (with the transcript line of each), the code bundle (files and sizes) and the
    verdict. `--format json` prints the validated `Transcript` with a `schema_version`.

    Example: reviewer-audit parse fixtures/seed_000_glora_o3_not_ready.txt --format json
    """
    from reviewer_audit.ingest.transcript import load_transcript

    try:
        transcript = load_transcript(file)
    except InputError as exc:
        raise _fail(str(exc))
    if format is TextOrJson.json:
        _write(transcript.model_dump_json(indent=2))
        return
    from reviewer_audit.output.text import render_transcript

    render_transcript(transcript)


@app.command("audit-review")
def audit_review_cmd(
    file: Path = typer.Argument(..., help="A reviewer transcript (.txt)."),
    format: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help="text: rich report; json: the full report (schema: `reviewer-audit schema`)."),
    fail_on: FailOn = typer.Option(FailOn.major, "--fail-on", help="Lowest severity that makes the tool say 'not ready'."),
    select: List[str] = typer.Option([], "--select", help="Only rules with these codes or prefixes (repeatable), e.g. RA6."),
    ignore: List[str] = typer.Option([], "--ignore", help="Skip rules with these codes or prefixes (repeatable)."),
    exclude_newer: Optional[str] = typer.Option(None, "--exclude-newer", metavar="DATE", help="Judge libraries as of DATE (YYYY-MM-DD or RFC 3339): releases published on or after it do not count, as in uv. Default: the transcript's own date (index.tsv beside it, or its file name), else today."),
) -> None:
    """Re-check a reviewer transcript and diff the tool's verdict with the LLM's.

    Prints both verdicts side by side, a per-criterion table (tool vs reviewer), every claim of
    the reviewer adjudicated (confirmed, refuted, unverified) with its evidence, the blockers it
    missed, and every finding with its file:line in the bundle and the line in the transcript.

    Exit code: 0 when the tool says ready, 1 when it does not, 2 on input errors.

    Example: reviewer-audit audit-review fixtures/seed_002_fwlora_o3_ready.txt --format json
    """
    from reviewer_audit.api import audit_transcript

    try:
        report = audit_transcript(file, fail_on=fail_on.value, select=select, ignore=ignore, exclude_newer=exclude_newer)
    except InputError as exc:
        raise _fail(str(exc))
    if format is TextOrJson.json:
        _write(report.model_dump_json(indent=2))
    else:
        from reviewer_audit.output.text import render_audit

        render_audit(report)
    raise typer.Exit(EXIT_OK if report.tool_verdict.ready else EXIT_FINDINGS)


@app.command("check")
def check_cmd(
    paths: List[Path] = typer.Argument(None, metavar="PATH...", show_default=False,
                                       help="Bundle directories (src/, config/, pyproject.toml), JSON bundles ({\"train_py\": \"...\"}) or transcripts (.txt with an 'Output:' line)."),
    output: List[str] = typer.Option([], "--output", "-o", metavar="FORMAT[:PATH]",
                                     help="Repeatable. FORMAT: text, json, sarif, junit, github; PATH omitted or '-' means stdout. Default: text."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", metavar="blocker|major|minor", help="Lowest severity that fails the run (exit 1). Default: fail-on from the config, else major."),
    select: List[str] = typer.Option([], "--select", help="Only rules with these codes or prefixes (repeatable, e.g. RA9); replaces the configured select."),
    ignore: List[str] = typer.Option([], "--ignore", help="Skip rules with these codes or prefixes (repeatable); added to the configured ignore."),
    spec: Optional[Path] = typer.Option(None, "--spec", metavar="FILE", help="YAML of AuditSpec fields overlaid on the default spec (schema: `reviewer-audit schema spec`)."),
    from_transcript: Optional[Path] = typer.Option(None, "--from-transcript", metavar="TRANSCRIPT", help="Take the spec from this transcript's prompt."),
    config: Optional[Path] = typer.Option(None, "--config", metavar="FILE", help="Configuration file: a pyproject.toml with \\[tool.reviewer-audit], or a TOML file holding that table's keys."),
    exclude_newer: Optional[str] = typer.Option(None, "--exclude-newer", metavar="DATE", help="Judge libraries as of DATE (YYYY-MM-DD or RFC 3339): releases published on or after it do not count, as in uv. Default: today."),
) -> None:
    """Check generated experiment code in CI: bundle directories, JSON bundles or transcripts.

    Every criterion of the prompt is re-checked statically; the audited code is never run. The spec is the newest known prompt's, unless --spec or --from-transcript says otherwise; a transcript PATH brings its own prompt and run configs.

    Configuration: \\[tool.reviewer-audit] in the nearest pyproject.toml from the current folder upward, or --config FILE. A checked bundle's own pyproject.toml is audited, never read as configuration. Keys: select, ignore, fail-on, per-file-ignores (glob -> codes) and suppress = \\[{rules = \\["RA901"], path = "pyproject.toml", reason = "..."}]. A suppressed finding stays in every output, marked with its reason, and does not fail the run. A code that names no rule is itself a finding (RA003).

    Exit code: 0 clean, 1 a finding at or above --fail-on, 2 usage or input error.

    Examples:

      reviewer-audit check path/to/generated-repo

      reviewer-audit check repo/ bundle.json -o text -o sarif:out/results.sarif

      reviewer-audit check run.txt --fail-on blocker --ignore RA1 --output github
    """
    from reviewer_audit.gate.check import run_check
    from reviewer_audit.output import parse_targets, write_outputs

    try:
        targets = parse_targets(output)
        result = run_check(paths or [], spec_file=spec, from_transcript=from_transcript, config=config,
                           select=select, ignore=ignore, fail_on=fail_on, exclude_newer=exclude_newer)
        for note in result.notes:
            sys.stderr.write(f"reviewer-audit: note: {note}\n")
        write_outputs(targets, result)
    except InputError as exc:
        raise _fail(str(exc))
    raise typer.Exit(result.exit_code)


@app.command("schema")
def schema_cmd(
    name: str = typer.Argument("report", metavar="[report|spec|corpus]", help="report: `check --output json` and `audit-review --format json`; spec: a --spec file; corpus: `report --format json`."),
) -> None:
    """Print a JSON Schema the package ships (generated from its pydantic models).

    Example: reviewer-audit schema report > report.schema.json
    """
    from reviewer_audit.output.json_out import schema_text

    try:
        _write(schema_text(name))
    except InputError as exc:
        raise _fail(str(exc))


@app.command("rules")
def rules_cmd(
    format: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help="text table or JSON list."),
) -> None:
    """List every rule: code, name, criterion topic, default severity, prompt requirement.

    Example: reviewer-audit rules
    """
    from reviewer_audit.rules import all_rules

    rules = all_rules()
    if format is TextOrJson.json:
        import json

        _write(json.dumps([
            {"code": r.code, "name": r.name, "topic": r.topic, "severity": r.severity.value, "requirement": r.requirement, "summary": r.summary()}
            for r in rules
        ], indent=2))
        return
    from reviewer_audit.output.text import render_rules

    render_rules(rules)


@app.command("rule")
def rule_cmd(code: str = typer.Argument(..., help="A rule code, e.g. RA801.")) -> None:
    """Show one rule's documentation: what it does, why it matters, example, fix.

    Example: reviewer-audit rule RA801
    """
    from reviewer_audit.rules import rule_by_code

    rule = rule_by_code(code)
    if rule is None:
        raise _fail(f"unknown rule code {code!r} (see `reviewer-audit rules`)")
    _write(f"{rule.code} {rule.name} ({rule.severity.value}, topic {rule.topic}"
           + (f", requires '{rule.requirement}'" if rule.requirement else "") + ")\n\n" + rule.doc())


class ReportFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


@app.command("report")
def report_cmd(
    paths: List[Path] = typer.Argument(..., help="Transcript files or folders (searched recursively); with --merge, the .jsonl shards."),
    format: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="text (rich), json (versioned; schema in reviewer_audit/data/corpus.schema.json), markdown or html (one self-contained file)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Processes auditing in parallel (default: CPU count; 1 audits in-process)."),
    glob: str = typer.Option("*.txt", "--glob", help="File pattern searched for in folders."),
    jsonl: Optional[Path] = typer.Option(None, "--jsonl", help="Also append one JSON row per transcript to this file as each audit finishes."),
    merge: bool = typer.Option(False, "--merge", help="PATHS are --jsonl shards: aggregate their rows without re-auditing."),
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", help="Lowest severity that makes the tool say 'not ready' (default major; with --merge, the shards' own)."),
) -> None:
    """Audit many transcripts and report how the reviewer and the tool agree.

    Shows the reviewer x tool table with Cohen's kappa, the reviewer's false positives with
    their top blockers, the reviewer's false alarms (refuted claims), unverified claims by kind
    of defect, per-criterion misses, breakdowns
    by reviewer model and prompt version, the most frequent rules, and what changed between
    rounds of one pipeline run. A transcript that does not parse or whose audit crashes is
    listed with its error; the run goes on.

    Exit code: 0 when the report was produced (even with transcripts listed as not audited),
    2 on usage errors (no transcripts found, unreadable merge file).

    Examples: reviewer-audit report fixtures/

      reviewer-audit report ../shared/corpus/transcripts --jobs 2 --format html --output report.html

      reviewer-audit report --merge shard1.jsonl shard2.jsonl --format markdown
    """
    from reviewer_audit.corpus.report import collect
    from reviewer_audit.output.corpus_report import check_target, emit
    from reviewer_audit.output.report_text import progress

    try:
        check_target(format.value, output)
        report = collect(paths, jobs=jobs, pattern=glob, jsonl=jsonl, merge=merge,
                         fail_on=fail_on.value if fail_on else None, progress=None if merge else progress)
        emit(report, format.value, output)
    except InputError as exc:
        raise _fail(str(exc))


@app.command("history")
def history_cmd(
    repos: List[Path] = typer.Argument(..., metavar="REPO...", help="Local clones or bare git directories (AIRAS research repositories)."),
    format: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="text (rich), json (repos[].runs, repos[].transcripts, scores, corpus), markdown or html (one self-contained file)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Processes auditing transcripts in parallel (default: CPU count; 1 audits in-process)."),
    fail_on: FailOn = typer.Option(FailOn.major, "--fail-on", help="Lowest severity that makes the tool say 'not ready'."),
) -> None:
    """Score the reviewer and the tool against what actually ran, from a repository's git history.

    Reads every branch's history (objects only: no checkout, no hooks, no network): every
    version of .research/prompt/create_code_subgraph/validate_experiment_code*.txt, audited as
    of its commit's date; every CI-recorded run (PASSED lines the commits added to
    .research/iteration<N>/stdout.txt, "[CI] Automated fix" commits) with its outcome, error and
    the fixes that followed; for each review, the next run of exactly the code it judged. Shows
    confusion matrices against execution per reviewer model and prompt version, whether the
    tool's predicted first crash is where the log's error is, and a timeline per run_id.

    Exit code: 0 when every repository was read; 2 when one could not be (one line each on
    stderr: not a repository, shallow, corrupt or missing commits); the others are still reported.

    Examples: reviewer-audit history ../shared/repos/airas-20251106-163904-matsuzawa.git

      reviewer-audit history ../shared/repos/*.git --format html --output history.html
    """
    from reviewer_audit.corpus.history import collect_history
    from reviewer_audit.output.history_report import check_target, emit

    try:
        check_target(format.value, output)
        report = collect_history(repos, jobs=jobs, fail_on=fail_on.value,
                                 warn=lambda line: sys.stderr.write(f"reviewer-audit: {line}\n"))
        if report.repos:
            emit(report, format.value, output)
    except InputError as exc:
        raise _fail(str(exc))
    raise typer.Exit(EXIT_ERROR if report.errors else EXIT_OK)


def main() -> None:
    """Console entry point: typer app with input errors mapped to one line and exit 2."""
    from reviewer_audit.pipeline.gc_policy import fewer_collections

    try:
        with fewer_collections():  # also spans the lazy imports of the audit machinery
            app()
    except InputError as exc:  # pragma: no cover - commands catch their own
        sys.stderr.write(f"reviewer-audit: {exc}\n")
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:  # pragma: no cover
        sys.stderr.write("reviewer-audit: interrupted\n")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
