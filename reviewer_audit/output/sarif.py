"""SARIF 2.1.0: one run, every enabled rule in `tool.driver.rules` with its doc.

- Rule descriptors: shortDescription = the doc's summary line, fullDescription = the whole doc
  (the same text as `reviewer-audit rule CODE`), help = the doc as text and markdown.
- Results: ruleId/ruleIndex, level (blocker -> error, major -> warning, minor -> note), the
  message, and one location whose `artifactLocation.uri` is relative to the bundle root with a
  `uriBaseId` per checked path, resolved in `run.originalUriBaseIds` (a directory bundle
  relative to `%SRCROOT%`, the working directory). A transcript's or JSON file's bundle exists
  only inside that file: its base id carries a description, and a transcript finding also gets a
  related location at its line in the transcript.
- Suppressed findings carry `suppressions: [{kind: external, justification: reason}]`.

GitHub code scanning ignores `originalUriBaseIds` (github/codeql-action#2215) and reads `uri` as
relative to the repository root, so run `check` on a bundle at the repository root for alerts
to land on the right files.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote

from reviewer_audit.output import level, relative

if TYPE_CHECKING:
    from reviewer_audit.gate.check import CheckedPath, CheckReport
    from reviewer_audit.engine.findings import Finding

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"


def _uri(path: str) -> str:
    return quote(path, safe="/")


def _descriptor(code: str, findings: list["Finding"]) -> dict:
    from reviewer_audit.rules import rule_by_code

    rule = rule_by_code(code)
    if rule is None:  # RA000: emitted by the engine when a rule crashes
        name = findings[0].name if findings else code
        text = findings[0].message.split(":")[0] if findings else name
        return {"id": code, "name": name, "shortDescription": {"text": text}, "defaultConfiguration": {"level": "note"}}
    doc = rule.doc()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": level(rule.severity.value)},
        "properties": {"tags": [rule.topic, rule.severity.value], "topic": rule.topic, "severity": rule.severity.value,
                       **({"requirement": rule.requirement} if rule.requirement else {})},
    }


def _base(item: "CheckedPath", cwd: Path) -> dict:
    if item.input == "directory" or item.input == "config":
        root = Path(item.path) if item.input == "directory" else Path(item.path).parent
        rel = relative(root, cwd)
        if rel.startswith("/"):
            return {"uri": root.resolve().as_uri() + "/"}
        return {"uri": "./" if rel == "." else _uri(rel) + "/", "uriBaseId": SRCROOT}
    what = "transcript" if item.input == "transcript" else "JSON bundle"
    return {"description": {"text": f"the bundle inside the {what} {item.path}; its files exist only there"}}


def _physical(path: str, base_id: str | None, line: int | None, column: int | None, snippet: str | None = None) -> dict:
    loc: dict = {"artifactLocation": {"uri": _uri(path), **({"uriBaseId": base_id} if base_id else {})}}
    if line:
        region: dict = {"startLine": line}
        if column:
            region["startColumn"] = column
        if snippet:
            region["snippet"] = {"text": snippet}
        loc["region"] = region
    return {"physicalLocation": loc}


def _result(item: "CheckedPath", base_id: str, f: "Finding", rule_index: dict[str, int], cwd: Path) -> dict:
    res: dict = {
        "ruleId": f.rule,
        "ruleIndex": rule_index[f.rule],
        "level": level(f.severity.value),
        "message": {"text": f.message},
        "properties": {"severity": f.severity.value, "criterion": f.criterion, "topic": f.topic, "source": item.path},
    }
    if f.path is not None:
        res["locations"] = [_physical(f.path, base_id, f.line, f.column, f.snippet)]
    related = []
    for i, r in enumerate(f.related):
        loc = _physical(r.path, base_id, r.line, None, r.snippet)
        related.append({"id": i + 1, **loc, "message": {"text": r.label}})
    if item.input == "transcript" and f.transcript_line:
        loc = _physical(relative(Path(item.path), cwd), SRCROOT, f.transcript_line, None)
        related.append({"id": len(related) + 1, **loc, "message": {"text": "where this code sits in the transcript"}})
    if related:
        res["relatedLocations"] = related
    key = "\0".join([item.path, f.rule, f.path or "", f.snippet or f.message])
    res["partialFingerprints"] = {"reviewerAuditFinding/v1": hashlib.sha256(key.encode()).hexdigest()[:32]}
    if f.suppressed:
        res["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f.suppression_reason or ""}]
    return res


def sarif_log(result: "CheckReport", cwd: Path) -> dict:
    from reviewer_audit import __version__

    codes = list(result.rules_enabled)
    for item in result.reports:
        codes += [f.rule for f in item.report.findings if f.rule not in codes]
    findings_by_code = {c: [f for item in result.reports for f in item.report.findings if f.rule == c] for c in codes}
    rules = [_descriptor(c, findings_by_code[c]) for c in codes]
    rule_index = {c: i for i, c in enumerate(codes)}
    bases: dict = {SRCROOT: {"uri": cwd.resolve().as_uri().rstrip("/") + "/"}}
    results = []
    for n, item in enumerate(result.reports, start=1):
        base_id = "CONFIG" if item.input == "config" else f"BUNDLE{n}"
        bases[base_id] = _base(item, cwd)
        results += [_result(item, base_id, f, rule_index, cwd) for f in item.report.findings]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "reviewer-audit",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }},
            "originalUriBaseIds": bases,
            "invocations": [{
                "executionSuccessful": True,
                "exitCode": result.exit_code,
                **({"toolExecutionNotifications": [{"level": "note", "message": {"text": n}} for n in result.notes]} if result.notes else {}),
            }],
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": {"fail_on": result.fail_on.value, "schema_version": result.schema_version},
        }],
    }


def emit(result: "CheckReport", out: TextIO, cwd: Path) -> None:
    import json

    out.write(json.dumps(sarif_log(result, cwd), indent=2) + "\n")
