"""SARIF 2.1.0 for GitHub code scanning and IDEs: one run, every enabled rule with its doc.

- Rule descriptors: shortDescription = the doc's summary line, fullDescription and help = the
  whole doc (the text of `reviewer-audit rule CODE`), `helpUri` = the rule's section of the
  rules reference (docs/rules.md); the driver's `informationUri` is the project's documentation.
- Results point at files that exist (`output.locations`): a directory bundle's own file at its
  line, or the transcript / JSON file at the line where that code sits. Every URI is relative
  to the source root (the repository holding the working directory, else the working
  directory) with `uriBaseId: %SRCROOT%`, resolved in `run.originalUriBaseIds`; GitHub ignores
  the base id and reads the URI as relative to the repository root, which is the same thing.
  A file outside the source root gets an absolute `file:` URI. Every located result has a region.
- `partialFingerprints.primaryLocationLineHash` is GitHub's own line hash of the primary
  location (`output.fingerprint`), so it follows the code, not the path spelling, and the upload
  action agrees with it. `reviewerAudit/v1` adds what tells two results on one line apart (the
  rule, the bundle path, the message without numbers), so it is unique per result.
- Suppressed findings carry `suppressions: [{kind: external, justification: reason}]`.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote

from reviewer_audit.output import level
from reviewer_audit.output.fingerprint import primary_location_line_hash
from reviewer_audit.output.locations import DiskLocation, locate_finding, locate_related, relative_to_root, source_root

if TYPE_CHECKING:
    from reviewer_audit.gate.check import CheckedPath, CheckReport
    from reviewer_audit.engine.findings import Finding

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"


def docs_url() -> str:
    """The rules reference (`reviewer-audit rules --output-format markdown`, docs/rules.md), from
    the package's `Documentation` project URL."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        for entry in metadata("reviewer-audit").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() == "documentation" and url.strip():
                return url.strip()
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        pass
    return "https://pypi.org/project/reviewer-audit/"


def _descriptor(code: str, findings: list["Finding"], docs: str) -> dict:
    from reviewer_audit.rules import rule_by_code

    rule = rule_by_code(code)
    help_uri = f"{docs}#{code.lower()}"
    if rule is None:  # RA000: emitted by the engine when a rule crashes
        name = findings[0].name if findings else code
        text = findings[0].message.split(":")[0] if findings else name
        return {"id": code, "name": name, "shortDescription": {"text": text}, "helpUri": help_uri,
                "defaultConfiguration": {"level": "note"}}
    doc = rule.doc()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": doc},
        "helpUri": help_uri,
        "defaultConfiguration": {"level": level(rule.severity.value)},
        "properties": {"tags": [rule.topic, rule.severity.value], "topic": rule.topic, "severity": rule.severity.value,
                       **({"requirement": rule.requirement} if rule.requirement else {})},
    }


def _artifact(file: Path, root: Path) -> dict:
    rel = relative_to_root(file, root)
    if rel is None:
        return {"uri": file.as_uri()}
    return {"uri": quote(rel, safe="/"), "uriBaseId": SRCROOT}


def _physical(loc: DiskLocation, root: Path, snippet: str | None = None) -> dict:
    region: dict = {"startLine": loc.line}
    if loc.column:
        region["startColumn"] = loc.column
    if snippet and loc.exact:
        region["snippet"] = {"text": snippet}
    return {"physicalLocation": {"artifactLocation": _artifact(loc.file, root), "region": region}}


def _message(item: "CheckedPath", f: "Finding", loc: DiskLocation | None) -> str:
    """The finding's message; when the location is a stand-in (the code lives inside a
    transcript, or the file is missing), prefixed with the bundle path it is about."""
    if loc is not None and loc.exact or f.path is None:
        return f.message
    return f"{f.where}: {f.message}"


_NUMBERS = re.compile(r"\d+")


def _result(item: "CheckedPath", f: "Finding", rule_index: dict[str, int], root: Path, seen: dict[str, int]) -> dict:
    loc = locate_finding(item, f)
    res: dict = {
        "ruleId": f.rule,
        "ruleIndex": rule_index[f.rule],
        "level": level(f.severity.value),
        "message": {"text": _message(item, f, loc)},
        "properties": {"severity": f.severity.value, "criterion": f.criterion, "topic": f.topic, "input": item.input,
                       **({"bundlePath": f.path} if f.path else {}), **({"bundleLine": f.line} if f.line else {})},
    }
    line_hash = None
    if loc is not None:
        res["locations"] = [_physical(loc, root, f.snippet)]
        line_hash = primary_location_line_hash(loc.file, loc.line)
    related = []
    for r in f.related:
        rloc = locate_related(item, r)
        if rloc is not None:
            label = r.label if rloc.exact else f"{r.label} ({r.path}{':' + str(r.line) if r.line else ''})"
            related.append({"id": len(related) + 1, **_physical(rloc, root, r.snippet), "message": {"text": label}})
    # a root cause lists the findings that can only follow it; a consequence points back at it
    links = [(g, "consequence of this crash") for g in item.report.findings if g.consequence_of is not None and item.report.findings[g.consequence_of] is f]
    if f.consequence_of is not None:
        links.append((item.report.findings[f.consequence_of], "the crash this can only follow"))
    for g, label in links:
        gloc = locate_finding(item, g)
        if gloc is not None:
            related.append({"id": len(related) + 1, **_physical(gloc, root, g.snippet), "message": {"text": f"{label}: {g.rule} {g.where}"}})
    if related:
        res["relatedLocations"] = related
    if f.reach is not None:
        res["properties"]["reach"] = {"latent": f.reach.latent, "commands": f.reach.commands}
    if f.consequence_of is not None:
        res["properties"]["consequenceOf"] = item.report.findings[f.consequence_of].rule
    fingerprints: dict = {}
    if line_hash is not None:
        fingerprints["primaryLocationLineHash"] = line_hash
    key = "\0".join([f.rule, line_hash or "", f.path or "", _NUMBERS.sub("#", f.message)])
    seen[key] = seen.get(key, 0) + 1
    fingerprints["reviewerAudit/v1"] = hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest()[:32]
    res["partialFingerprints"] = fingerprints
    if f.suppressed:
        res["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f.suppression_reason or ""}]
    return res


def sarif_log(result: "CheckReport", cwd: Path) -> dict:
    from reviewer_audit import __version__

    root = source_root(cwd)
    docs = docs_url()
    codes = list(result.rules_enabled)
    for item in result.reports:
        codes += [f.rule for f in item.report.findings if f.rule not in codes]
    findings_by_code = {c: [f for item in result.reports for f in item.report.findings if f.rule == c] for c in codes}
    rules = [_descriptor(c, findings_by_code[c], docs) for c in codes]
    rule_index = {c: i for i, c in enumerate(codes)}
    seen: dict[str, int] = {}
    results = [_result(item, f, rule_index, root, seen) for item in result.reports for f in item.report.findings]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "reviewer-audit",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": docs.split("#")[0],
                "rules": rules,
            }},
            "originalUriBaseIds": {SRCROOT: {
                "uri": root.as_uri().rstrip("/") + "/",
                "description": {"text": "The repository holding the working directory (else the working directory); every relative URI is below it."},
            }},
            "invocations": [{
                "executionSuccessful": True,
                "exitCode": result.exit_code,
                **({"toolExecutionNotifications": [{"level": "note", "message": {"text": n}} for n in result.notes]} if result.notes else {}),
            }],
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": {"fail_on": result.fail_on.value, "schema_version": result.schema_version,
                           "inputs": [{"path": item.path, "input": item.input} for item in result.reports]},
        }],
    }


def emit(result: "CheckReport", out: TextIO, cwd: Path) -> None:
    import json

    out.write(json.dumps(sarif_log(result, cwd), indent=2) + "\n")
