"""Command line: a thin typer app. No logic lives here; every command calls the API.

Exit codes (as in ruff and Fixit): 0 clean / tool says ready, 1 findings at or above
`--fail-on` / tool says not ready, 2 usage or input error. Input errors print one line,
`reviewer-audit: <file>: <problem>`, on stderr -- never a traceback.

Conventions shared by every command (`output/__init__.py` has the output rules):
`--output-format/-f FORMAT`, `-o/--output-file PATH`, `--output FORMAT[:PATH]` (repeatable),
`-q/--quiet` (no notes or progress on stderr), `-v/--verbose` (what was read, skipped and why),
`-` for standard input, comma lists in `--select`/`--ignore`, `--version`.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from reviewer_audit.ingest.errors import InputError

app = typer.Typer(
    name="reviewer-audit",
    help=(
        "Audit LLM code reviews of generated experiment code.\n\n"
        "reviewer-audit re-checks every criterion of the reviewer's prompt statically (it never "
        "runs the audited code) and diffs its verdict with the LLM reviewer's.\n\n"
        "Every command takes --output-format/-f, -o/--output-file PATH and --output FORMAT[:PATH] "
        "(repeatable), -q and -v; '-' reads standard input.\n\n"
        "Examples:\n\n"
        "  reviewer-audit audit-review fixtures/seed_002_fwlora_o3_ready.txt\n\n"
        "  reviewer-audit check --find-bundles . --output text --output sarif:results.sarif\n\n"
        "  reviewer-audit report fixtures/ -f markdown -o report.md"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Verbosity:
    """-q/-v given before the command (`reviewer-audit -v check`) or after it (`check -v`)."""

    quiet = False
    verbose = 0


def _fail(message: str) -> "typer.Exit":
    sys.stderr.write(f"reviewer-audit: {message}\n")
    return typer.Exit(EXIT_ERROR)


def _note(message: str) -> None:
    if not _Verbosity.quiet:
        sys.stderr.write(f"reviewer-audit: note: {message}\n")


def _info(message: str) -> None:
    if _Verbosity.verbose and not _Verbosity.quiet:
        sys.stderr.write(f"reviewer-audit: {message}\n")


def _verbosity(quiet: bool, verbose: int) -> None:
    _Verbosity.quiet = _Verbosity.quiet or quiet
    _Verbosity.verbose = max(_Verbosity.verbose, verbose)


def _show_version(value: bool) -> None:
    if value:
        from reviewer_audit import __version__

        sys.stdout.write(f"reviewer-audit {__version__}\n")
        raise typer.Exit(EXIT_OK)


# --------------------------------------------------------------------------- shared options

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print results only: no notes or progress on stderr.")]
Verbose = Annotated[int, typer.Option("--verbose", "-v", count=True, help="Also say what was read and skipped, and why, on stderr.")]
OutputFile = Annotated[Optional[Path], typer.Option(
    "--output-file", "-o", metavar="PATH",
    help="Write to PATH instead of stdout. Without --output-format, the format follows PATH's suffix.")]
Outputs = Annotated[List[str], typer.Option(
    "--output", metavar="FORMAT[:PATH]",
    help="Repeatable, for several outputs in one run: FORMAT to stdout, or FORMAT:PATH to a file "
         "(PATH '-' is stdout); a PATH with a known suffix alone also works.")]
#: The name this option had before `--output-format`; still accepted, not shown.
LegacyFormat = Annotated[Optional[str], typer.Option("--format", hidden=True)]
Select = Annotated[List[str], typer.Option(
    "--select", metavar="CODES", help="Only rules with these codes or prefixes: repeatable or comma-separated, e.g. RA6,RA9.")]


def _format_option(choices: tuple[str, ...], extra: str = "") -> typer.models.OptionInfo:
    return typer.Option("--output-format", "-f", metavar="|".join(choices),
                        help=f"Output format (default text{'; ' + extra if extra else ''}).")


def _targets(formats: tuple[str, ...], outputs: list[str], output_format: str | None, output_file: Path | None):
    from reviewer_audit.output import parse_targets

    return parse_targets(outputs, formats=formats, output_format=output_format, output_file=output_file)


def _write(targets, render) -> None:
    """`render(format, stream)` into every target; text goes through rich where it is rich."""
    from reviewer_audit.output import write_targets

    write_targets(targets, render)


def _text(text: str, out) -> None:
    out.write(text if text.endswith("\n") else text + "\n")


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_show_version, is_eager=True, help="Print the version and exit.")] = False,
    quiet: Quiet = False,
    verbose: Verbose = 0,
) -> None:
    """Audit LLM code reviews of generated experiment code."""
    _verbosity(quiet, verbose)


# --------------------------------------------------------------------------- commands

PARSE_FORMATS = ("text", "json")


@app.command("parse")
def parse_cmd(
    file: Annotated[Path, typer.Argument(metavar="TRANSCRIPT", help="A reviewer transcript (.txt) as the pipeline wrote it, or '-' for stdin.")],
    output_format: Annotated[Optional[str], _format_option(PARSE_FORMATS, "json: the full Transcript")] = None,
    legacy_format: LegacyFormat = None,
    output_file: OutputFile = None,
    output: Outputs = [],  # noqa: B006 -- typer reads the default, never mutates it
    quiet: Quiet = False,
    verbose: Verbose = 0,
) -> None:
    """Split a transcript into its parts and print them.

    Shows the reviewer model, the prompt's criteria, the hypothesis/method sections, the run
    configs (with the transcript line of each), the code bundle (files and sizes) and the
    verdict. `-f json` prints the validated `Transcript` with a `schema_version`.

    Example: reviewer-audit parse fixtures/seed_000_glora_o3_not_ready.txt -f json
    """
    from contextlib import redirect_stdout

    from reviewer_audit.ingest.transcript import load_transcript

    _verbosity(quiet, verbose)
    try:
        targets = _targets(PARSE_FORMATS, output, output_format or legacy_format, output_file)
        transcript = load_transcript(file)

        def render(fmt: str, out) -> None:
            if fmt == "json":
                _text(transcript.model_dump_json(indent=2), out)
                return
            from reviewer_audit.output.text import render_transcript

            with redirect_stdout(out):
                render_transcript(transcript)

        _write(targets, render)
    except InputError as exc:
        raise _fail(str(exc))


FailOnOpt = Annotated[Optional[str], typer.Option(
    "--fail-on", metavar="blocker|major|minor", help="Lowest severity that makes the tool say 'not ready' / fails the run (default: major).")]
CacheDir = Annotated[Optional[Path], typer.Option(
    "--cache-dir", metavar="DIR", envvar="REVIEWER_AUDIT_CACHE_DIR", show_envvar=False,
    help="Where results are cached (default: the user cache folder, e.g. ~/.cache/reviewer-audit; or $REVIEWER_AUDIT_CACHE_DIR).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write cached results: audit everything afresh.")]
Executor = Annotated[str, typer.Option(
    "--executor", metavar="process|dask",
    help="Where audits run: 'process' (worker processes on this machine, --jobs of them) or 'dask' (a Dask cluster: "
         "--scheduler's, else a local one of --jobs workers; needs the 'dask' extra).")]
Scheduler = Annotated[Optional[str], typer.Option(
    "--scheduler", metavar="ADDRESS", help="With --executor dask: the scheduler's address, e.g. tcp://10.0.0.5:8786.")]


def _cache(cache_dir: Path | None, no_cache: bool):
    from reviewer_audit.pipeline.cache import open_cache

    return open_cache(cache_dir, enabled=not no_cache)


def _cache_info(cache) -> None:
    if cache is not None:
        _info(f"cache {cache.root}: {cache.hits} result(s) read back, {cache.misses} audited")


def _executor(executor: str, scheduler: str | None) -> None:
    if executor not in ("process", "dask"):
        raise InputError("--executor", f"unknown executor {executor!r} (choose from process, dask)")
    if scheduler is not None and executor != "dask":
        raise InputError("--scheduler", "only applies with --executor dask")


ExcludeNewer = Annotated[Optional[str], typer.Option(
    "--exclude-newer", metavar="DATE",
    help="Judge libraries as of DATE (YYYY-MM-DD or RFC 3339): releases published on or after it do not count, as in uv.")]


@app.command("audit-review")
def audit_review_cmd(
    file: Annotated[Path, typer.Argument(metavar="TRANSCRIPT", help="A reviewer transcript (.txt), or '-' for stdin.")],
    output_format: Annotated[Optional[str], _format_option(PARSE_FORMATS, "json: the full report, schema `reviewer-audit schema report`")] = None,
    legacy_format: LegacyFormat = None,
    output_file: OutputFile = None,
    output: Outputs = [],  # noqa: B006
    fail_on: FailOnOpt = None,
    select: Select = [],  # noqa: B006
    ignore: Annotated[List[str], typer.Option("--ignore", metavar="CODES", help="Skip rules with these codes or prefixes: repeatable or comma-separated.")] = [],  # noqa: B006
    exclude_newer: ExcludeNewer = None,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    quiet: Quiet = False,
    verbose: Verbose = 0,
) -> None:
    """Re-check a reviewer transcript and diff the tool's verdict with the LLM's.

    Prints both verdicts side by side, a per-criterion table (tool vs reviewer), every claim of
    the reviewer adjudicated (confirmed, refuted, unverified) with its evidence, the blockers it
    missed, the first blocker each command of the pipeline hits, and every finding with its
    file:line in the bundle and the line in the transcript. Libraries are judged as of the
    transcript's own date (index.tsv beside it, or its file name), else today.

    Exit code: 0 when the tool says ready, 1 when it does not, 2 on input errors.

    Example: reviewer-audit audit-review fixtures/seed_002_fwlora_o3_ready.txt -f json
    """
    from contextlib import redirect_stdout

    from reviewer_audit.api import audit_transcript
    from reviewer_audit.gate.settings import resolve

    _verbosity(quiet, verbose)
    try:
        targets = _targets(PARSE_FORMATS, output, output_format or legacy_format, output_file)
        eff = resolve(None, select, ignore, fail_on)
        report = audit_transcript(file, fail_on=eff.fail_on.value, select=eff.select, ignore=eff.ignore, exclude_newer=exclude_newer,
                                  cache=_cache(cache_dir, no_cache))
        _info(f"{file}: prompt {report.prompt_version}, {len(report.rules_run)} rules run, libraries as of {report.exclude_newer or 'today'}")

        def render(fmt: str, out) -> None:
            if fmt == "json":
                _text(report.model_dump_json(indent=2), out)
                return
            from reviewer_audit.output.text import render_audit

            with redirect_stdout(out):
                render_audit(report)

        _write(targets, render)
    except InputError as exc:
        raise _fail(str(exc))
    raise typer.Exit(EXIT_OK if report.tool_verdict.ready else EXIT_FINDINGS)


CHECK_FORMATS = ("text", "json", "sarif", "junit", "github")


@app.command("check")
def check_cmd(
    paths: Annotated[Optional[List[Path]], typer.Argument(
        metavar="PATH...", show_default=False,
        help="Bundle directories (src/, config/, pyproject.toml), JSON bundles ({\"train_py\": \"...\"}), "
             "transcripts (.txt with an 'Output:' line), or '-' for stdin. With --find-bundles: files and folders to find bundles in.")] = None,
    output_format: Annotated[Optional[str], _format_option(CHECK_FORMATS, "json: versioned, sarif: SARIF 2.1.0, junit: JUnit XML, github: workflow annotations")] = None,
    legacy_format: LegacyFormat = None,
    output_file: OutputFile = None,
    output: Outputs = [],  # noqa: B006
    fail_on: FailOnOpt = None,
    select: Select = [],  # noqa: B006
    ignore: Annotated[List[str], typer.Option("--ignore", metavar="CODES", help="Skip rules with these codes or prefixes: repeatable or comma-separated; added to the configured ignore.")] = [],  # noqa: B006
    find_bundles: Annotated[bool, typer.Option("--find-bundles", help="Check the bundle folder holding each PATH, or every bundle below a folder PATH (a folder with two of src/, config/, pyproject.toml). For pre-commit and repositories with bundles in subfolders.")] = False,
    extend_exclude: Annotated[List[str], typer.Option("--extend-exclude", metavar="PATTERNS", help="More files or folders a bundle walk skips (gitignore syntax, relative to the current folder): repeatable or comma-separated; added to extend-exclude from the config.")] = [],  # noqa: B006
    spec: Annotated[Optional[Path], typer.Option("--spec", metavar="FILE", help="YAML of AuditSpec fields overlaid on the default spec (schema: `reviewer-audit schema spec`).")] = None,
    from_transcript: Annotated[Optional[Path], typer.Option("--from-transcript", metavar="TRANSCRIPT", help="Take the spec from this transcript's prompt.")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", metavar="FILE", help="Configuration file: a pyproject.toml with \\[tool.reviewer-audit], or a TOML file holding that table's keys.")] = None,
    exclude_newer: ExcludeNewer = None,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    quiet: Quiet = False,
    verbose: Verbose = 0,
) -> None:
    """Check generated experiment code in CI: bundle directories, JSON bundles or transcripts.

    Every criterion of the prompt is re-checked statically; the audited code is never run. The spec is the newest known prompt's, unless --spec or --from-transcript says otherwise; a transcript PATH brings its own prompt and run configs.

    In a bundle directory only bundle content counts: dot-files and dot-folders (.git, .github, .pre-commit-config.yaml), Hydra's outputs/ and multirun/, wandb/, build and cache folders, what .gitignore excludes, extend-exclude patterns and this run's own output files are never read.

    Configuration: \\[tool.reviewer-audit] in the nearest pyproject.toml from the current folder upward, or --config FILE. A checked bundle's own pyproject.toml is audited, never read as configuration. Keys: select, ignore, fail-on, per-file-ignores (glob -> codes), extend-exclude and suppress = \\[{rules = \\["RA901"], path = "pyproject.toml", reason = "..."}]. A suppressed finding stays in every output, marked with its reason, and does not fail the run. A code that names no rule is itself a finding (RA003).

    Exit code: 0 clean, 1 a finding at or above --fail-on, 2 usage or input error.

    Examples:

      reviewer-audit check path/to/generated-repo

      reviewer-audit check --find-bundles . --output text --output sarif:reviewer-audit.sarif --output junit:junit.xml

      reviewer-audit check run.txt --fail-on blocker --ignore RA1,RA5 -f github
    """
    from reviewer_audit.gate.check import run_check
    from reviewer_audit.output import write_outputs

    _verbosity(quiet, verbose)
    try:
        targets = _targets(CHECK_FORMATS, output, output_format or legacy_format, output_file)
        result = run_check(paths or [], spec_file=spec, from_transcript=from_transcript, config=config,
                           select=select, ignore=ignore, fail_on=fail_on, exclude_newer=exclude_newer,
                           extend_exclude=_split(extend_exclude), find_bundles=find_bundles,
                           exclude_paths=[t.path for t in targets if t.path is not None], cache=_cache(cache_dir, no_cache))
        for note in result.notes:
            _note(note)
        _info(f"configuration: {result.config or 'none found (defaults)'}; fail-on {result.fail_on.value}; {len(result.rules_enabled)} rules enabled")
        for item in result.reports:
            _info(f"checked {item.path} ({item.input}): {len(item.report.findings)} finding(s)")
        for folder, skipped in result.skipped.items():
            _info(f"{folder}: skipped, not bundle content ({len(skipped)}):")
            for rel, why in skipped[: 50 if _Verbosity.verbose > 1 else 10]:
                _info(f"  {rel} ({why})")
        write_outputs(targets, result)
    except InputError as exc:
        raise _fail(str(exc))
    raise typer.Exit(result.exit_code)


def _split(values: list[str]) -> list[str]:
    from reviewer_audit.gate.settings import split_commas

    return split_commas(values)


@app.command("schema")
def schema_cmd(
    name: Annotated[str, typer.Argument(metavar="[report|spec|corpus]", help="report: `check -f json` and `audit-review -f json`; spec: a --spec file; corpus: `report -f json`.")] = "report",
    output_file: OutputFile = None,
) -> None:
    """Print a JSON Schema the package ships (generated from its pydantic models).

    Example: reviewer-audit schema report -o report.schema.json
    """
    from reviewer_audit.output.json_out import schema_text

    try:
        targets = _targets(("json",), [], "json", output_file)
        text = schema_text(name)
        _write(targets, lambda fmt, out: _text(text, out))
    except InputError as exc:
        raise _fail(str(exc))


RULES_FORMATS = ("text", "json", "markdown")


@app.command("rules")
def rules_cmd(
    output_format: Annotated[Optional[str], _format_option(RULES_FORMATS, "json: a list with each rule's doc; markdown: the rules reference, docs/rules.md")] = None,
    legacy_format: LegacyFormat = None,
    output_file: OutputFile = None,
    output: Outputs = [],  # noqa: B006
) -> None:
    """List every rule: code, name, criterion topic, default severity, prompt requirement.

    Example: reviewer-audit rules -f markdown -o docs/rules.md
    """
    from contextlib import redirect_stdout

    from reviewer_audit.rules import all_rules

    try:
        targets = _targets(RULES_FORMATS, output, output_format or legacy_format, output_file)
    except InputError as exc:
        raise _fail(str(exc))
    rules = all_rules()

    def render(fmt: str, out) -> None:
        from reviewer_audit.output.rules_doc import rules_json, rules_markdown

        if fmt == "json":
            out.write(rules_json(rules))
        elif fmt == "markdown":
            out.write(rules_markdown(rules))
        else:
            from reviewer_audit.output.text import render_rules

            with redirect_stdout(out):
                render_rules(rules)

    try:
        _write(targets, render)
    except InputError as exc:
        raise _fail(str(exc))


LIBRARIES_FORMATS = ("text", "json")


@app.command("libraries")
def libraries_cmd(
    output_format: Annotated[Optional[str], _format_option(LIBRARIES_FORMATS, "json: the manifest")] = None,
    legacy_format: LegacyFormat = None,
    output_file: OutputFile = None,
    output: Outputs = [],  # noqa: B006
) -> None:
    """List the libraries the API index covers: versions, release dates, source files.

    Example: reviewer-audit libraries -f json
    """
    from contextlib import redirect_stdout

    from reviewer_audit.api import library_manifest

    try:
        targets = _targets(LIBRARIES_FORMATS, output, output_format or legacy_format, output_file)
    except InputError as exc:
        raise _fail(str(exc))
    manifest = library_manifest()

    def render(fmt: str, out) -> None:
        if fmt == "json":
            import json

            out.write(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        else:
            from reviewer_audit.output.text import render_libraries

            with redirect_stdout(out):
                render_libraries(manifest)

    try:
        _write(targets, render)
    except InputError as exc:
        raise _fail(str(exc))


@app.command("rule")
def rule_cmd(code: Annotated[str, typer.Argument(metavar="CODE", help="A rule code, e.g. RA801.")]) -> None:
    """Show one rule's documentation: what it does, why it matters, example, fix.

    Example: reviewer-audit rule RA801
    """
    from reviewer_audit.rules import rule_by_code

    rule = rule_by_code(code)
    if rule is None:
        raise _fail(f"unknown rule code {code!r} (see `reviewer-audit rules`)")
    _text(f"{rule.code} {rule.name} ({rule.severity.value}, topic {rule.topic}"
          + (f", requires '{rule.requirement}'" if rule.requirement else "") + ")\n\n" + rule.doc(), sys.stdout)


REPORT_FORMATS = ("text", "json", "markdown", "html")


@app.command("report")
def report_cmd(
    paths: Annotated[List[Path], typer.Argument(metavar="PATH...", help="Transcript files or folders (searched recursively); with --merge, the .jsonl shards.")],
    output_format: Annotated[Optional[str], _format_option(REPORT_FORMATS, "json: versioned, schema `reviewer-audit schema corpus`; html: one self-contained file")] = None,
    legacy_format: LegacyFormat = None,
    output_file: OutputFile = None,
    output: Outputs = [],  # noqa: B006
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, metavar="N", help="Processes auditing in parallel (default: CPU count; 1 audits in-process).")] = None,
    glob: Annotated[str, typer.Option("--glob", metavar="PATTERN", help="File pattern searched for in folders (default *.txt).", show_default=False)] = "*.txt",
    jsonl: Annotated[Optional[Path], typer.Option("--jsonl", metavar="PATH", help="Also append one JSON row per transcript to this file as each audit finishes.")] = None,
    merge: Annotated[bool, typer.Option("--merge", help="PATH... are --jsonl shards: aggregate their rows without re-auditing.")] = False,
    fail_on: FailOnOpt = None,
    executor: Executor = "process",
    scheduler: Scheduler = None,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    quiet: Quiet = False,
    verbose: Verbose = 0,
) -> None:
    """Audit many transcripts and report how the reviewer and the tool agree.

    Shows the reviewer x tool table with Cohen's kappa, the reviewer's false positives with
    their top blockers, the reviewer's false alarms (refuted claims), unverified claims by kind
    of defect, per-criterion misses, breakdowns
    by reviewer model and prompt version, the most frequent rules, and what changed between
    rounds of one pipeline run. A transcript that does not parse or whose audit crashes is
    listed with its error; the run goes on.

    Exit code: 0 when the report was produced (even with transcripts listed as not audited),
    2 on usage errors (no transcripts found, unreadable merge file, workers that cannot start).

    Examples: reviewer-audit report fixtures/

      reviewer-audit report ../shared/corpus/transcripts --jobs 2 -o report.html

      reviewer-audit report --merge shard1.jsonl shard2.jsonl -f markdown
    """
    from reviewer_audit.corpus.report import WorkerStartError, collect
    from reviewer_audit.output.corpus_report import write
    from reviewer_audit.output.report_text import progress

    _verbosity(quiet, verbose)
    try:
        targets = _targets(REPORT_FORMATS, output, output_format or legacy_format, output_file)
        if fail_on is not None and fail_on not in ("blocker", "major", "minor"):
            raise InputError("--fail-on", f"unknown severity {fail_on!r} (choose from blocker, major, minor)")
        _executor(executor, scheduler)
        cache = _cache(cache_dir, no_cache)
        report = collect(paths, jobs=jobs, pattern=glob, jsonl=jsonl, merge=merge, fail_on=fail_on,
                         progress=None if merge or _Verbosity.quiet else progress, cache=cache,
                         executor=executor, scheduler=scheduler)
        _info(f"{len(report.rows)} transcript(s), {report.aggregates.audited} audited" + (f" with {report.jobs} job(s)" if report.jobs else ""))
        _cache_info(cache)
        _write(targets, lambda fmt, out: write(report, fmt, out))
    except (InputError, WorkerStartError) as exc:
        raise _fail(str(exc))


HISTORY_FORMATS = ("text", "json", "markdown", "html")


@app.command("history")
def history_cmd(
    repos: Annotated[List[Path], typer.Argument(metavar="REPO...", help="Local clones or bare git directories (AIRAS research repositories).")],
    output_format: Annotated[Optional[str], _format_option(HISTORY_FORMATS, "json: repos[].runs, repos[].transcripts, scores, corpus; html: one self-contained file")] = None,
    legacy_format: LegacyFormat = None,
    output_file: OutputFile = None,
    output: Outputs = [],  # noqa: B006
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, metavar="N", help="Processes auditing transcripts in parallel (default: CPU count; 1 audits in-process).")] = None,
    fail_on: FailOnOpt = None,
    executor: Executor = "process",
    scheduler: Scheduler = None,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    quiet: Quiet = False,
    verbose: Verbose = 0,
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

      reviewer-audit history ../shared/repos/*.git -o history.html
    """
    from reviewer_audit.corpus.history import collect_history
    from reviewer_audit.corpus.pool import WorkerStartError
    from reviewer_audit.output.history_report import write

    _verbosity(quiet, verbose)
    try:
        targets = _targets(HISTORY_FORMATS, output, output_format or legacy_format, output_file)
        if fail_on is not None and fail_on not in ("blocker", "major", "minor"):
            raise InputError("--fail-on", f"unknown severity {fail_on!r} (choose from blocker, major, minor)")
        _executor(executor, scheduler)
        cache = _cache(cache_dir, no_cache)
        report = collect_history(repos, jobs=jobs, fail_on=fail_on or "major",
                                 warn=lambda line: sys.stderr.write(f"reviewer-audit: {line}\n"),
                                 cache=cache, executor=executor, scheduler=scheduler)
        _cache_info(cache)
        if report.repos:
            _write(targets, lambda fmt, out: write(report, fmt, out))
    except (InputError, WorkerStartError) as exc:
        raise _fail(str(exc))
    raise typer.Exit(EXIT_ERROR if report.errors else EXIT_OK)


# --------------------------------------------------------------------------- entry point


def _humane_help(command) -> None:
    """Help shows what a user types, not Python types: flags show no type, arguments and options
    their metavar (`PATH...`, `CODES`, `text|json`) instead of `<list[Path]>` or `<bool>`."""
    from typer.core import TyperArgument

    def patch(param) -> None:
        if isinstance(param, TyperArgument):
            param.display_type_rich = lambda ctx: None  # type: ignore[method-assign] -- the metavar names it
        elif getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
        elif param.metavar is not None:
            param.display_type_rich = lambda ctx, m=param.metavar: m  # type: ignore[method-assign]

    for param in command.params:
        patch(param)
    make_help = command.get_help_option

    def get_help_option(ctx):  # --help is made on demand, outside command.params
        option = make_help(ctx)
        if option is not None:
            patch(option)
        return option

    command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        _humane_help(sub)


def cli_command():
    """The click command behind `reviewer-audit`, with human help types."""
    command = typer.main.get_command(app)
    _humane_help(command)
    return command


def main() -> None:
    """Console entry point: typer app with input errors mapped to one line and exit 2."""
    from reviewer_audit.pipeline.gc_policy import fewer_collections

    try:
        with fewer_collections():  # also spans the lazy imports of the audit machinery
            cli_command()(prog_name="reviewer-audit")
    except InputError as exc:  # pragma: no cover - commands catch their own
        sys.stderr.write(f"reviewer-audit: {exc}\n")
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:  # pragma: no cover
        sys.stderr.write("reviewer-audit: interrupted\n")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
