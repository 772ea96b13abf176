"""JUnit XML: one testsuite per checked path, one testcase per enabled rule.

A testcase fails when its rule has an unsuppressed finding at or above `--fail-on` (so the
JUnit view agrees with the exit code); it is skipped when the rule did not run (the prompt does
not state its requirement, or a module it needs does not parse). Findings below the threshold
and suppressed ones are listed in the testcase's system-out.

The attributes are those the Jenkins xunit plugin's JUnit schema (junit-10.xsd) accepts, which
GitLab and most other readers accept too: `<testsuites>` carries tests/failures/errors/time (no
`skipped`), and a testcase with findings carries `file` and `line` of its first one, relative to
the repository root (`output.locations`), so the report links to the code.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reviewer_audit.output.locations import locate_finding, relative_to_root, source_root
from reviewer_audit.rules import rule_by_code

if TYPE_CHECKING:
    from reviewer_audit.gate.check import CheckedPath, CheckReport
    from reviewer_audit.engine.findings import Finding


def _line(f: "Finding") -> str:
    sup = f" [suppressed: {f.suppression_reason}]" if f.suppressed else ""
    return f"{f.where}{':' + str(f.column) if f.line and f.column else ''}: {f.severity.value} {f.rule} {f.message}{sup}"


def _codes(item: "CheckedPath", enabled: list[str]) -> list[str]:
    """The config file answers to RA003 only; bundles to every other enabled rule, plus any
    code that reported (RA000 when a rule crashed)."""
    codes = ["RA003"] if item.input == "config" else [c for c in enabled if c != "RA003"]
    return sorted(set(codes) | {f.rule for f in item.report.findings})


def emit(result: "CheckReport", out: TextIO, cwd: Path) -> None:
    root = ET.Element("testsuites", name="reviewer-audit")
    src = source_root(cwd)
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    total_time = 0.0
    for item in result.reports:
        report = item.report
        suite = ET.SubElement(root, "testsuite", name=item.path)
        props = ET.SubElement(suite, "properties")
        for name, value in (("input", item.input), ("fail_on", result.fail_on.value), ("prompt_version", report.prompt_version)):
            ET.SubElement(props, "property", name=name, value=value)
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for code in _codes(item, result.rules_enabled):
            rule = rule_by_code(code)
            mine = [f for f in report.findings if f.rule == code]
            failing = [f for f in mine if not f.suppressed and f.severity.at_least(result.fail_on)]
            case = ET.SubElement(
                suite, "testcase", classname=item.path, name=f"{code} {rule.name if rule else (mine[0].name if mine else '')}".strip(),
                time=f"{report.timings_ms.get(code, 0.0) / 1000:.6f}",
            )
            counts["tests"] += 1
            located = next((loc for loc in (locate_finding(item, f) for f in failing or mine) if loc is not None), None)
            if located is not None:
                case.set("file", relative_to_root(located.file, src) or located.file.as_posix())
                case.set("line", str(located.line))
            if failing:
                counts["failures"] += 1
                worst = max(failing, key=lambda f: f.severity.rank)
                failure = ET.SubElement(case, "failure", message=f"{len(failing)} finding(s): {failing[0].message}"[:500], type=worst.severity.value)
                failure.text = "\n".join(_line(f) for f in failing)
            elif code in report.rules_skipped and not mine:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=report.rules_skipped[code])
            rest = [f for f in mine if all(f is not g for g in failing)]
            if rest:
                ET.SubElement(case, "system-out").text = "\n".join(_line(f) for f in rest)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
        suite.set("time", f"{report.timings_ms.get('total', 0.0) / 1000:.6f}")
        total_time += report.timings_ms.get("total", 0.0) / 1000
    for key in ("tests", "failures"):  # the Jenkins xunit schema has no `skipped` on <testsuites>
        root.set(key, str(totals[key]))
    root.set("errors", "0")
    root.set("time", f"{total_time:.6f}")
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")
