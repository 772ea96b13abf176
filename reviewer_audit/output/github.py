"""GitHub Actions workflow annotations, one line per finding:

    ::error file=src/train.py,line=12,col=5,title=RA801::evaluate.py reads ...

blocker -> error, major -> warning, minor -> notice. Suppressed findings still appear, as
notices that say so. `file=` is relative to the repository root (the source root of
`output.locations`, what GitHub resolves annotations against) and always names a file that
exists: a transcript's finding points at the transcript line holding the code. Escaping follows @actions/core (`%`, CR, LF in data; also `:` and `,` in
properties).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reviewer_audit.output.locations import locate_finding, relative_to_root, source_root

if TYPE_CHECKING:
    from reviewer_audit.gate.check import CheckReport

COMMAND = {"blocker": "error", "major": "warning", "minor": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def emit(result: "CheckReport", out: TextIO, cwd: Path) -> None:
    root = source_root(cwd)
    for item in result.reports:
        for f in item.report.findings:
            loc = locate_finding(item, f)
            props = []
            if loc is not None:
                props.append(f"file={_prop(relative_to_root(loc.file, root) or loc.file.as_posix())}")
                props.append(f"line={loc.line}")
                if loc.column:
                    props.append(f"col={loc.column}")
            props.append(f"title={_prop(f.rule)}")
            if loc is not None and (loc.exact or f.path is None):
                message = f.message
            else:  # the file named is a stand-in (the transcript holding the code, a missing file's bundle)
                message = f"{f.where if f.path else item.path}: {f.message}"
            message += f" ({f.name}, {f.severity.value}, criterion {f.criterion})"
            if f.suppressed:
                message = f"[suppressed: {f.suppression_reason}] {message}"
            command = "notice" if f.suppressed else COMMAND[f.severity.value]
            out.write(f"::{command} {','.join(props)}::{_data(message)}\n")
