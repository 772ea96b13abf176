"""Output formats of `reviewer-audit check`: one emitter module per format, registered here.

An emitter is `emit(result: CheckReport, out: TextIO, cwd: Path) -> None` in its own module
(json_out, sarif, junit, github; text reuses `output.text.render_audit`). `--output FORMAT[:PATH]`
may be given several times: every target is validated before the audit runs, so a bad target
never leaves half the outputs written; each file is written only at the path the user named,
creating only that path's missing parent folders.
"""
from __future__ import annotations

import importlib
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reviewer_audit.ingest.errors import InputError

if TYPE_CHECKING:
    from reviewer_audit.gate.check import CheckedPath, CheckReport
    from reviewer_audit.engine.findings import Finding

#: format name -> "module:function" of its emitter, imported only when the format is used.
FORMATS: dict[str, str] = {
    "text": "reviewer_audit.output:emit_text",  # rich report for people (the default)
    "json": "reviewer_audit.output.json_out:emit",  # versioned; `reviewer-audit schema report`
    "sarif": "reviewer_audit.output.sarif:emit",  # SARIF 2.1.0 for code scanning and IDEs
    "junit": "reviewer_audit.output.junit:emit",  # one testcase per rule per path
    "github": "reviewer_audit.output.github:emit",  # workflow annotations (::error file=...)
}


#: Formats that are one document: on stdout, nothing else may be mixed in. text and github are
#: line-oriented and may share stdout (a human log plus annotations in a GitHub Actions step).
DOCUMENT_FORMATS = ("json", "sarif", "junit")


@dataclass(frozen=True)
class Target:
    format: str
    path: Path | None  # None: stdout


def parse_targets(specs: list[str]) -> list[Target]:
    """`["sarif:out/results.sarif", "text"]` -> targets; `InputError` on any bad one."""
    targets: list[Target] = []
    for spec in specs or ["text"]:
        name, sep, raw = spec.partition(":")
        name = name.strip().lower()
        if name not in FORMATS:
            raise InputError("--output", f"unknown format {name!r} in {spec!r} (choose from {', '.join(FORMATS)})")
        if sep and not raw:
            raise InputError("--output", f"{spec!r} names no file; write FORMAT:PATH, or FORMAT alone for stdout")
        path = None if raw in ("", "-") else Path(raw)
        if path is not None:
            _check_writable(path)
        targets.append(Target(name, path))
    to_stdout = [t.format for t in targets if t.path is None]
    documents = [f for f in to_stdout if f in DOCUMENT_FORMATS]
    if documents and len(to_stdout) > 1:
        raise InputError("--output", f"{documents[0]} on stdout must be alone, got {', '.join(to_stdout)}; give the others a PATH")
    if len(set(to_stdout)) != len(to_stdout):
        raise InputError("--output", f"{to_stdout[0]} goes to stdout twice")
    files = [t.path.resolve() for t in targets if t.path is not None]
    if len(set(files)) != len(files):
        raise InputError("--output", "the same PATH is named twice")
    return targets


def _check_writable(path: Path) -> None:
    if path.is_dir():
        raise InputError(path, "is a directory; --output FORMAT:PATH needs a file path")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(path, f"cannot create it: {parent} is not a directory")
            break


def write_outputs(targets: list[Target], result: "CheckReport", cwd: Path | None = None) -> None:
    cwd = Path(cwd) if cwd is not None else Path.cwd()
    for t in targets:
        emit = _emitter(t.format)
        if t.path is None:
            emit(result, sys.stdout, cwd)
            continue
        try:
            t.path.parent.mkdir(parents=True, exist_ok=True)
            with t.path.open("w", encoding="utf-8", newline="\n") as fh:
                emit(result, fh, cwd)
        except OSError as exc:
            raise InputError(t.path, f"cannot write ({exc.strerror or exc})") from None


def _emitter(name: str):
    module, _, func = FORMATS[name].partition(":")
    return getattr(importlib.import_module(module), func)


# --------------------------------------------------------------------------- shared helpers


def level(severity: str) -> str:
    """SARIF level of a severity; the GitHub emitter maps `note` to `notice`."""
    return {"blocker": "error", "major": "warning", "minor": "note"}[severity]


def relative(path: Path, cwd: Path) -> str:
    """`path` relative to `cwd` when it lies below it, else absolute; POSIX separators."""
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix() or "."
    except ValueError:
        return path.resolve().as_posix()


def disk_location(item: "CheckedPath", f: "Finding", cwd: Path) -> tuple[str | None, int | None, int | None]:
    """Where a finding sits on disk, for annotations: (file, line, column), relative to `cwd`.

    A directory bundle's file is itself on disk; a transcript's bundle lives inside the
    transcript, at the finding's transcript line; a JSON bundle is one file without lines."""
    if item.input in ("directory", "config"):
        root = Path(item.path) if item.input == "directory" else Path(item.path).parent
        if f.path is None:
            return None, None, None
        return relative(root / f.path, cwd), f.line, f.column
    if item.input == "transcript":
        return relative(Path(item.path), cwd), f.transcript_line, None
    return relative(Path(item.path), cwd), None, None


def emit_text(result: "CheckReport", out: TextIO, cwd: Path) -> None:
    """Reuses `output.text.render_audit` per path, then one summary line. rich prints colour
    only when `out` is a terminal."""
    from rich.console import Console

    from reviewer_audit.output.text import render_audit

    with redirect_stdout(out):
        for i, item in enumerate(result.reports):
            if i:
                print()
            if item.input == "config":
                print(f"configuration {item.path}:")
            render_audit(item.report)
        console = Console(highlight=False, soft_wrap=True)
        failing = [r for r in result.reports if not r.report.tool_verdict.ready]
        counts = {s: sum(r.report.tool_verdict.counts.get(s, 0) for r in result.reports) for s in ("blocker", "major", "minor")}
        suppressed = sum(f.suppressed for r in result.reports for f in r.report.findings)
        style = "bold red" if failing else "green"
        console.print(
            f"\n[{style}]{len(result.reports)} report(s), {len(failing)} failing at --fail-on {result.fail_on.value}[/]: "
            + ", ".join(f"{n} {s}" for s, n in counts.items())
            + (f", {suppressed} suppressed" if suppressed else "")
            + f" (exit {result.exit_code})"
        )
