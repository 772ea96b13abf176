"""GitHub Actions workflow annotations, one line per finding:

    ::error file=src/train.py,line=12,col=5,title=RA801::evaluate.py reads ...

blocker -> error, major -> warning, minor -> notice. Suppressed findings still appear, as
notices that say so. Escaping follows @actions/core (`%`, CR, LF in data; also `:` and `,` in
properties).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reviewer_audit.output import disk_location

if TYPE_CHECKING:
    from reviewer_audit.gate.check import CheckReport

COMMAND = {"blocker": "error", "major": "warning", "minor": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def emit(result: "CheckReport", out: TextIO, cwd: Path) -> None:
    for item in result.reports:
        for f in item.report.findings:
            file, line, col = disk_location(item, f, cwd)
            props = []
            if file is not None:
                props.append(f"file={_prop(file)}")
                if line:
                    props.append(f"line={line}")
                    if col:
                        props.append(f"col={col}")
            props.append(f"title={_prop(f.rule)}")
            message = f.message if file is not None and f.path is not None else f"{item.path}: {f.message}"
            message += f" ({f.name}, {f.severity.value}, criterion {f.criterion})"
            if f.suppressed:
                message = f"[suppressed: {f.suppression_reason}] {message}"
            command = "notice" if f.suppressed else COMMAND[f.severity.value]
            out.write(f"::{command} {','.join(props)}::{_data(message)}\n")
