"""`reviewer-audit check`: the CI gate over bundle directories, JSON bundles and transcripts.

    from reviewer_audit.gate.check import run_check
    result = run_check(["path/to/generated-repo"])     # [tool.reviewer-audit] from the cwd up
    result.exit_code                                    # 0 clean, 1 findings at or above fail-on
    for item in result.reports:
        for f in item.report.findings:
            print(item.path, f.where, f.rule, f.severity.value, f.suppressed)

Every input is read (and every input error raised, as `InputError`) before any rule runs, so a
bad path never leaves half the outputs written. Nothing here imports or executes bundle code.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Literal

from pydantic import BaseModel, Field, PrivateAttr

from reviewer_audit.ingest.bundle import Bundle
from reviewer_audit.ingest.errors import InputError
from reviewer_audit.engine.findings import REPORT_SCHEMA_VERSION, Severity
from reviewer_audit.verdict.report import AuditReport
from reviewer_audit.gate.settings import ConfigFile, apply, audit_config, find_config, load_config, load_spec_file, matches, resolve
from reviewer_audit.spec.prompt import AuditSpec, default_spec, spec_for_transcript

if TYPE_CHECKING:
    from reviewer_audit.ingest.repo_files import RepoFilter
    from reviewer_audit.pipeline.cache import AuditCache

InputKind = Literal["directory", "json-bundle", "transcript", "config"]


class CheckedPath(BaseModel):
    """One checked input and its report. `config` is the reviewer-audit configuration file
    itself, present only when it has findings (RA003)."""

    path: str = Field(description="The path as given on the command line.")
    input: InputKind = Field(description="directory: a generated repository; json-bundle: a JSON object of file -> text; "
                                         "transcript: the bundle inside a reviewer transcript; config: the configuration file.")
    report: AuditReport


class CheckReport(BaseModel):
    """The result of one `reviewer-audit check` run over one or more paths."""

    schema_version: str = REPORT_SCHEMA_VERSION
    kind: Literal["check"] = "check"
    config: str | None = Field(default=None, description="The configuration file in force, if any.")
    fail_on: Severity
    rules_enabled: list[str] = Field(default_factory=list, description="Codes of the rules this run enabled (select minus ignore).")
    exit_code: int = Field(description="0: no unsuppressed finding at or above fail_on; 1: at least one.")
    notes: list[str] = Field(default_factory=list, description="Things the user should know, e.g. a bundle's pyproject.toml not read as configuration.")
    reports: list[CheckedPath] = Field(default_factory=list)
    #: Per bundle directory, the entries its walk skipped and why (`check -v`); not in the JSON.
    _skipped: dict[str, list[tuple[str, str]]] = PrivateAttr(default_factory=dict)

    @property
    def skipped(self) -> dict[str, list[tuple[str, str]]]:
        return self._skipped


@dataclass
class _Input:
    path: Path
    kind: InputKind
    bundle: Bundle
    spec: AuditSpec | None  # a transcript's own prompt
    runs: list | None = None  # a transcript's run configs


def load_input(path: Path, skip: "RepoFilter | None" = None) -> _Input:
    """A directory is a generated repository (`skip` says which of its files are not the
    bundle's); a file, or `-` for standard input, is a transcript when it has a line that is
    exactly `Output:`, otherwise a JSON bundle."""
    from reviewer_audit.ingest.textio import STDIN, read_text
    from reviewer_audit.ingest.transcript import parse_transcript

    path = Path(path)
    try:
        if str(path) == STDIN:
            text = read_text(path)
            if any(line.rstrip("\r") == "Output:" for line in text.split("\n")):
                t = parse_transcript(text, source=STDIN)
                return _Input(path, "transcript", t.bundle, spec_for_transcript(t), t.runs)
            return _Input(path, "json-bundle", Bundle.from_json_text(text, STDIN), None)
        if path.is_dir():
            return _Input(path, "directory", Bundle.from_directory(path, skip), None)
        if not path.exists():
            raise InputError(path, "no such file or directory")
        if path.suffix.lower() != ".json":
            text = read_text(path)
            if any(line.rstrip("\r") == "Output:" for line in text.split("\n")):
                t = parse_transcript(text, source=str(path))
                return _Input(path, "transcript", t.bundle, spec_for_transcript(t), t.runs)
            if not text.lstrip().startswith("{"):
                raise InputError(path, "not a bundle directory, a JSON bundle, or a transcript (no line 'Output:')")
        return _Input(path, "json-bundle", Bundle.from_json_file(path), None)
    except OSError as exc:  # e.g. an unreadable file inside a bundle directory
        raise InputError(getattr(exc, "filename", None) or path, f"cannot read ({exc.strerror or exc})") from None


def run_check(
    paths: Iterable[str | Path],
    *,
    spec_file: str | Path | None = None,
    from_transcript: str | Path | None = None,
    config: str | Path | None = None,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    fail_on: Severity | str | None = None,
    cwd: str | Path | None = None,
    exclude_newer: str | None = None,
    extend_exclude: Iterable[str] = (),
    exclude_paths: Iterable[str | Path] = (),
    find_bundles: bool = False,
    cache: "AuditCache | None" = None,
) -> CheckReport:
    """Check every path. The spec is, in order: `spec_file` (YAML of AuditSpec fields),
    `from_transcript` (that transcript's prompt), a transcript input's own prompt, the default.
    Configuration is `config` or the nearest pyproject.toml with `[tool.reviewer-audit]` above
    `cwd` that is not inside a checked bundle. With a `cache` (`pipeline.cache`), a bundle audited
before with the same files, spec and settings is read back.

    A bundle directory's walk skips what `ingest.repo_files` says (dot-entries, run outputs,
    .gitignore), the `extend-exclude` patterns (configured and `extend_exclude`), and
    `exclude_paths`, the files this run writes. With `find_bundles`, each path is mapped to
    the bundle folder(s) holding it or below it (`gate.discover`)."""
    from reviewer_audit.ingest.repo_files import RepoFilter
    from reviewer_audit.pipeline.audit import bundle_spec, check_bundle
    from reviewer_audit.rules import select_rules
    from reviewer_audit.ingest.transcript import load_transcript

    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("check", "no PATH given (a bundle directory, a JSON bundle or a transcript)")
    if spec_file is not None and from_transcript is not None:
        raise InputError("check", "use either --spec or --from-transcript, not both")
    if sum(str(p) == "-" for p in paths) > 1:
        raise InputError("check", "standard input ('-') can be read once only")
    forced: AuditSpec | None = None
    if spec_file is not None:
        forced = load_spec_file(Path(spec_file))
    elif from_transcript is not None:
        forced = spec_for_transcript(load_transcript(from_transcript))
    notes: list[str] = []
    if find_bundles:
        from reviewer_audit.gate.discover import find_bundles as discover

        cfg0, _ = _config(config, cwd, [p for p in paths if p.is_dir()])
        pre = resolve(cfg0, (), (), None, extend_exclude, cwd)
        paths, notes = discover(paths, (forced or default_spec()).required_files, pre.extend_exclude)
        if not paths:
            return CheckReport(fail_on=pre.fail_on, exit_code=0, notes=notes)
    bundle_dirs = [p for p in paths if str(p) != "-" and p.is_dir()]
    cfg, config_notes = _config(config, cwd, bundle_dirs)
    notes += config_notes
    eff = resolve(cfg, select, ignore, fail_on, extend_exclude, cwd)
    outputs = [Path(p) for p in exclude_paths]
    filters = {p: RepoFilter(p, extend_exclude=eff.extend_exclude, exclude_paths=outputs) for p in bundle_dirs}
    inputs = [load_input(p, filters.get(p)) for p in paths]

    skipped = {str(p): f.skipped for p, f in filters.items() if f.skipped}
    reports: list[CheckedPath] = []
    if cfg is not None:
        config_report = audit_config(cfg, eff)
        if config_report.findings:
            reports.append(CheckedPath(path=str(cfg.path), input="config", report=config_report))
    for item in inputs:
        spec = forced or item.spec or bundle_spec(item.bundle)
        report = check_bundle(item.bundle, spec=spec, fail_on=eff.fail_on, select=eff.select, ignore=eff.ignore, runs=item.runs,
                              exclude_newer=exclude_newer, cache=cache)
        report.source = str(item.path)
        reports.append(CheckedPath(path=str(item.path), input=item.kind, report=apply(report, spec, eff)))
    enabled = {r.code for r in select_rules(eff.select, eff.ignore)}
    if cfg is not None and not any(matches("RA003", s) for s in eff.ignore):
        enabled.add("RA003")
    result = CheckReport(
        config=str(cfg.path) if cfg is not None else None,
        notes=notes,
        fail_on=eff.fail_on,
        rules_enabled=sorted(enabled),
        exit_code=0 if all(r.report.tool_verdict.ready for r in reports) else 1,
        reports=reports,
    )
    result._skipped = skipped
    return result


def _config(config: str | Path | None, cwd: str | Path | None, bundle_dirs: list[Path]) -> tuple[ConfigFile | None, list[str]]:
    if config is not None:
        return load_config(Path(config), bundle_dirs), []
    found, skipped = find_config(Path(cwd) if cwd is not None else Path.cwd(), bundle_dirs)
    notes = [f"{p}: inside a checked bundle, so it is audited and not read as reviewer-audit configuration" for p in skipped]
    return (load_config(found, bundle_dirs) if found is not None else None), notes
