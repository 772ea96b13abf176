"""One audit, start to end: a transcript or a bundle -> context -> rules -> verdict -> report.

Ingest reads the input, the spec says what the prompt demands, the engine runs the rules over
the program model the context builds lazily, and the verdict layer turns findings into the
tool's verdict and its diff with the reviewer's. The public facade is `reviewer_audit.api`.
Nothing here imports, executes or installs the audited code.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from reviewer_audit.ingest.bundle import Bundle
from reviewer_audit.engine.findings import Finding, Severity
from reviewer_audit.pipeline.gc_policy import fewer_collections
from reviewer_audit.verdict.report import AuditReport

# The audit machinery (rules, program model, libcst, Hydra) is imported by the functions that
# audit, so a command whose results are all cached never loads it.

if TYPE_CHECKING:
    from reviewer_audit.engine.context import AuditContext
    from reviewer_audit.pipeline.cache import AuditCache
    from reviewer_audit.spec.prompt import AuditSpec


def audit_transcript(
    path: str | Path,
    fail_on: Severity | str = Severity.major,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    exclude_newer: dt.date | str | None = None,
    cache: "AuditCache | None" = None,
) -> AuditReport:
    """Parse a reviewer transcript, re-check its prompt's criteria, diff against its verdict.

    Libraries are judged as of `exclude_newer` (default: the transcript's own date, from an
    index.tsv beside it or its file name; today when neither is known): the reviewer is not
    blamed for a release that came out after the review. With a `cache` (`pipeline.cache`), the
    same bytes audited the same way are read back instead of audited."""
    with fewer_collections():
        if cache is None or str(path) == "-":
            return _audit_transcript(path, fail_on, select, ignore, exclude_newer)
        from reviewer_audit.ingest.dates import transcript_date
        from reviewer_audit.pipeline.cache import input_bytes

        started = time.perf_counter()
        data = input_bytes(path)
        if data is None:  # not a regular, readable file within limits: load_transcript says why
            return _audit_transcript(path, fail_on, select, ignore, exclude_newer)
        date = _as_date(exclude_newer if exclude_newer is not None else transcript_date(path))
        key = cache.key("audit", [data, settings_key(fail_on, select, ignore, date)])
        return _cached(cache, "audit", key, str(path), started,
                       lambda: _audit_transcript(path, fail_on, select, ignore, date))


def settings_key(fail_on, select, ignore, date: dt.date | None) -> str:
    """The settings that change an audit's result, as one key part. No library date means today
    (the date is then part of the key: tomorrow's releases may change the result)."""
    import json

    return json.dumps([Severity(fail_on).value, list(select), list(ignore), (date or dt.date.today()).isoformat(),
                       date is None])


def _cached(cache: "AuditCache", kind: str, key: str, source: str, started: float, audit) -> AuditReport:
    """The cached report for `key` with its `source` set, or `audit()`'s, stored without its
    source and timings (an entry never holds a path)."""
    data = cache.get(kind, key)
    if data is not None:
        try:
            report = AuditReport.model_validate_json(data)
        except ValueError:  # a damaged entry is a miss
            report = None
        if report is not None:
            report.source = source
            report.timings_ms = {"total": round((time.perf_counter() - started) * 1000, 2), "cached": 1.0}
            return report
    report = audit()
    cache.put(kind, key, report.model_copy(update={"source": "", "timings_ms": {}}).model_dump_json().encode())
    return report


def audit_transcript_text(
    text: str,
    source: str,
    fail_on: Severity | str = Severity.major,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    exclude_newer: dt.date | str | None = None,
):
    """Audit a transcript held in memory (a blob read from git history, say): the same audit as
    `audit_transcript`, without a file. `source` names it in errors and in the report.
    Libraries are judged as of `exclude_newer` (the caller knows the date: a commit's); None
    means today. Returns the parsed `Transcript` and the `AuditReport`."""
    from reviewer_audit.ingest.transcript import parse_transcript

    transcript = parse_transcript(text, source=source)
    return transcript, audit_parsed_transcript(transcript, fail_on, select, ignore, exclude_newer)


def audit_parsed_transcript(
    transcript,
    fail_on: Severity | str = Severity.major,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    exclude_newer: dt.date | str | None = None,
) -> AuditReport:
    """Audit an already parsed `Transcript` (its `source` names it), as of `exclude_newer`."""
    with fewer_collections():
        started = time.perf_counter()
        return _audit_parsed(transcript, transcript.source, fail_on, select, ignore, _as_date(exclude_newer), started, started)


def _audit_transcript(path, fail_on, select, ignore, exclude_newer) -> AuditReport:
    from reviewer_audit.ingest.dates import transcript_date
    from reviewer_audit.ingest.transcript import load_transcript

    started = time.perf_counter()
    transcript = load_transcript(path)
    parsed = time.perf_counter()
    date = _as_date(exclude_newer if exclude_newer is not None else transcript_date(path))
    return _audit_parsed(transcript, str(path), fail_on, select, ignore, date, started, parsed)


def _audit_parsed(transcript, source: str, fail_on, select, ignore, exclude_newer, started: float, parsed: float) -> AuditReport:
    from reviewer_audit.engine.context import AuditContext
    from reviewer_audit.spec.prompt import spec_for_transcript
    from reviewer_audit.verdict.adjudicate import adjudicate
    from reviewer_audit.verdict.diff import ReviewerVerdict, agreement, criterion_table

    spec = spec_for_transcript(transcript)
    ctx = AuditContext(transcript.bundle, spec, transcript.runs, transcript, exclude_newer=exclude_newer)
    fail_on = Severity(fail_on)
    report = _audit(ctx, fail_on, select, ignore, kind="transcript", source=source)
    reviewer = ReviewerVerdict(ready=transcript.verdict.ready, issue=transcript.verdict.issue, model=transcript.llm_name)
    claims, missed = adjudicate(reviewer.issue, report.findings, ctx, fail_on)
    report.llm_name = transcript.llm_name
    report.reviewer_verdict = reviewer
    report.agreement = agreement(reviewer.ready, report.tool_verdict.ready)
    report.claims = claims
    report.missed = missed
    report.criteria = criterion_table(spec, report.findings, reviewer.ready, claims, fail_on)
    report.run_ids = [r.run_id for r in transcript.runs]
    report.timings_ms["parse"] = round((parsed - started) * 1000, 2)
    report.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 2)
    return report


def check_bundle(
    path: str | Path | Bundle,
    spec: "AuditSpec | None" = None,
    fail_on: Severity | str = Severity.major,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    runs=None,
    exclude_newer: dt.date | str | None = None,
    cache: "AuditCache | None" = None,
) -> AuditReport:
    """Check a generated-code bundle (directory, JSON file, or `Bundle`) against a spec
    (default: `bundle_spec`, the newest prompt of the generation its config was written for).
    Libraries are judged as of today unless `exclude_newer` names an earlier date (a CI gate
    protects tomorrow's run). With a `cache`, the same files, run configs, spec and settings are
    read back instead of audited."""
    with fewer_collections():
        started = time.perf_counter()
        bundle = path if isinstance(path, Bundle) else load_bundle(Path(path))
        spec = spec or bundle_spec(bundle)
        date = _as_date(exclude_newer)

        def audit() -> AuditReport:
            return _check_bundle(bundle, spec, fail_on, select, ignore, runs, date, started)

        if cache is None:
            return audit()
        import json

        parts = [bundle.model_dump_json(exclude={"source"}), spec.model_dump_json(),
                 json.dumps([r.model_dump(mode="json") for r in runs] if runs is not None else None),
                 settings_key(fail_on, select, ignore, date)]
        return _cached(cache, "check", cache.key("check", parts), bundle.source, started, audit)


def _check_bundle(bundle: Bundle, spec: "AuditSpec", fail_on, select, ignore, runs, exclude_newer: dt.date | None,
                  started: float) -> AuditReport:
    from reviewer_audit.engine.context import AuditContext
    from reviewer_audit.verdict.diff import criterion_table

    ctx = AuditContext(bundle, spec, runs, exclude_newer=exclude_newer)
    fail_on = Severity(fail_on)
    report = _audit(ctx, fail_on, select, ignore, kind="bundle", source=bundle.source)
    report.criteria = criterion_table(spec, report.findings, None, [], fail_on)
    report.run_ids = [r.run_id for r in ctx.run_files]
    report.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 2)
    return report


def bundle_spec(bundle: Bundle) -> AuditSpec:
    """The prompt a bundle checked without a transcript is judged against: the newest, in the
    generation its config was written for (`with_trial_mode_flag` when config.yaml declares
    `trial_mode` and no `mode`)."""
    from reviewer_audit.ingest.yamlio import YamlError, load_yaml
    from reviewer_audit.spec.prompt import default_spec, with_trial_mode_flag

    spec = default_spec()
    text = bundle.text("config/config.yaml")
    if not text:
        return spec
    try:
        data = load_yaml(text).data
    except YamlError:
        return spec
    if isinstance(data, dict) and "trial_mode" in data and "mode" not in data:
        return with_trial_mode_flag(spec)
    return spec


def _as_date(value: dt.date | str | None) -> dt.date | None:
    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.knowledge.releases import parse_date

    if value is None or isinstance(value, dt.date):
        return value
    try:
        return parse_date(value)
    except ValueError as exc:
        raise InputError("--exclude-newer", str(exc)) from None


def load_bundle(path: Path) -> Bundle:
    """A directory is a generated repository; a file is a JSON bundle."""
    from reviewer_audit.ingest.errors import InputError

    if path.is_dir():
        return Bundle.from_directory(path)
    if not path.exists():
        raise InputError(path, "no such file or directory")
    return Bundle.from_json_file(path)


def _audit(ctx: "AuditContext", fail_on: Severity, select, ignore, kind: str, source: str) -> AuditReport:
    from reviewer_audit.engine.runner import run_rules
    from reviewer_audit.rules import select_rules
    from reviewer_audit.verdict.diff import tool_verdict
    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.ingest.limits import MAX_RUN_CONFIGS

    # Checked before any rule runs: rules compose the Hydra config once per run and more.
    if len(ctx.run_files) > MAX_RUN_CONFIGS:
        raise InputError(source, f"{len(ctx.run_files)} run configs, more than the limit of {MAX_RUN_CONFIGS}")
    rules = select_rules(select, ignore)
    result = run_rules(ctx, rules)
    findings: list[Finding] = result.findings
    return AuditReport(
        kind=kind,
        source=source,
        prompt_version=ctx.spec.version,
        exclude_newer=ctx.exclude_newer.isoformat() if ctx.exclude_newer else None,
        family=ctx.spec.family,
        tool_verdict=tool_verdict(findings, fail_on),
        findings=findings,
        commands=result.commands,
        rules_run=sorted(result.timings),
        rules_skipped=result.skipped,
        timings_ms={code: round(t * 1000, 3) for code, t in result.timings.items()},
    )
