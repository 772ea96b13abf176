"""Where output goes, one convention for every command, and the emitters of `check`.

Every command that prints a report takes the same options (as ruff does):

- `--output-format FORMAT` (`-f`, also spelled `--format`): the format, default `text`;
- `-o PATH` / `--output-file PATH`: write to PATH instead of stdout; without `--output-format`
  the format follows PATH's suffix (`.json`, `.sarif`, `.xml` = junit, `.md`, `.html`);
- `--output FORMAT[:PATH]`, repeatable: several outputs from one run (`--output text --output
  sarif:results.sarif`); `--output PATH.suffix` alone also works, the format from the suffix.

`-o json` (a format name where a file is expected) is refused with a hint, rather than writing
a file called `json`. Every target is validated before any work is done, so a bad target never
leaves half the outputs written; each file is written only at the path named, creating only
its missing parent folders. A check emitter is `emit(result: CheckReport, out: TextIO, cwd:
Path) -> None` in its own module (json_out, sarif, junit, github; text reuses `output.text`).
"""
from __future__ import annotations

import importlib
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, TextIO

from reviewer_audit.ingest.errors import InputError

if TYPE_CHECKING:
    from reviewer_audit.gate.check import CheckReport

#: format name -> "module:function" of its `check` emitter, imported only when the format is used.
FORMATS: dict[str, str] = {
    "text": "reviewer_audit.output:emit_text",  # rich report for people (the default)
    "json": "reviewer_audit.output.json_out:emit",  # versioned; `reviewer-audit schema report`
    "sarif": "reviewer_audit.output.sarif:emit",  # SARIF 2.1.0 for code scanning and IDEs
    "junit": "reviewer_audit.output.junit:emit",  # one testcase per rule per path
    "github": "reviewer_audit.output.github:emit",  # workflow annotations (::error file=...)
}


#: Formats that are one document: on stdout, nothing else may be mixed in. text and github are
#: line-oriented and may share stdout (a human log plus annotations in a GitHub Actions step).
DOCUMENT_FORMATS = ("json", "sarif", "junit", "markdown", "html")

#: A file suffix -> the format it implies, for `-o PATH` without `--output-format`.
SUFFIX_FORMATS = {".json": "json", ".sarif": "sarif", ".xml": "junit", ".md": "markdown", ".markdown": "markdown",
                  ".html": "html", ".htm": "html", ".txt": "text", ".log": "text"}


@dataclass(frozen=True)
class Target:
    format: str
    path: Path | None  # None: stdout


def _by_suffix(path: Path, formats: Sequence[str], default: str) -> str:
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    return fmt if fmt in formats else default


def parse_targets(specs: Sequence[str] = (), *, formats: Sequence[str] = tuple(FORMATS), output_format: str | None = None,
                  output_file: str | Path | None = None, default: str = "text") -> list[Target]:
    """`["sarif:out/results.sarif", "text"]` plus `--output-format`/`--output-file` -> targets;
    `InputError` on any bad one. No target at all means `default` on stdout."""
    if output_format is not None:
        output_format = output_format.strip().lower()
        if output_format not in formats:
            raise InputError("--output-format", f"unknown format {output_format!r} (choose from {', '.join(formats)})")
    targets: list[Target] = []
    files: list[Path] = []  # `-o PATH` and `--output PATH`: in --output-format, else by suffix
    for spec in specs:
        name, sep, raw = spec.partition(":")
        name = name.strip().lower()
        if name not in formats:
            if Path(spec).suffix and (sep == "" or len(name) == 1):  # `--output report.html`, `C:\\x.sarif`
                files.append(Path(spec))
                continue
            raise InputError("--output", f"unknown format {name!r} in {spec!r} (choose from {', '.join(formats)})")
        if sep and not raw:
            raise InputError("--output", f"{spec!r} names no file; write FORMAT:PATH, or FORMAT alone for stdout")
        path = None if raw in ("", "-") else Path(raw)
        if path is not None:
            _check_writable(path)
        targets.append(Target(name, path))
    if output_file is not None and str(output_file) != "-":
        path = Path(output_file)
        if not path.suffix and path.name.lower() in FORMATS | dict.fromkeys(SUFFIX_FORMATS.values()) and not path.exists():
            raise InputError("--output-file", f"-o {path.name} would write a file named {path.name!r}; "
                                              f"for {path.name} on stdout use --output-format {path.name}, or write ./{path.name} for that file")
        files.append(path)
    for path in files:
        _check_writable(path)
        targets.append(Target(output_format or _by_suffix(path, formats, default), path))
    if output_format is not None and not files:
        targets.append(Target(output_format, None))
    if not targets:
        targets.append(Target(default, None))
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


def write_targets(targets: Sequence[Target], write: Callable[[str, TextIO], None]) -> None:
    """Call `write(format, stream)` for each target: stdout, or the file opened for writing."""
    for t in targets:
        if t.path is None:
            write(t.format, sys.stdout)
            sys.stdout.flush()
            continue
        try:
            t.path.parent.mkdir(parents=True, exist_ok=True)
            with t.path.open("w", encoding="utf-8", newline="\n") as fh:
                write(t.format, fh)
        except OSError as exc:
            raise InputError(t.path, f"cannot write ({exc.strerror or exc})") from None


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
    write_targets(targets, lambda fmt, out: _emitter(fmt)(result, out, cwd))


def _emitter(name: str):
    module, _, func = FORMATS[name].partition(":")
    return getattr(importlib.import_module(module), func)


# --------------------------------------------------------------------------- shared helpers


def level(severity: str) -> str:
    """SARIF level of a severity; the GitHub emitter maps `note` to `notice`."""
    return {"blocker": "error", "major": "warning", "minor": "note"}[severity]


def emit_text(result: "CheckReport", out: TextIO, cwd: Path) -> None:
    """Reuses `output.text.render_audit` per path, then one summary line. rich prints colour
    only when `out` is a terminal."""
    from reviewer_audit.output.text import console_for, render_audit

    with redirect_stdout(out):
        for i, item in enumerate(result.reports):
            if i:
                print()
            if item.input == "config":
                print(f"configuration {item.path}:")
            render_audit(item.report)
        console = console_for(out)
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
