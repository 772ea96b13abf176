"""Output formats of `reviewer-audit check`: JSON (+ committed schema), SARIF 2.1.0, JUnit, GitHub.

Two kinds of tests: exact ones on a hand-built `CheckReport` (independent of which rules exist),
and end-to-end ones that write every format in one run and validate each with its own schema or
parser.
"""
from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from typer.testing import CliRunner

from reviewer_audit.gate.check import CheckedPath, CheckReport
from reviewer_audit.cli import app
from reviewer_audit.engine.findings import Finding, Related, Severity
from reviewer_audit.output import FORMATS, _emitter, parse_targets
from reviewer_audit.verdict.report import AuditReport
from reviewer_audit.verdict.diff import tool_verdict

from .conftest import ROOT, SEED_002, SHARED

SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
DATA = ROOT / "reviewer_audit" / "data"
GITHUB_LINE = re.compile(r"^::(error|warning|notice) (?:file=[^,:]+(?:,line=\d+(?:,col=\d+)?)?,)?title=RA\d{3}::\S.*$")


def sarif_validator() -> Draft7Validator:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the official SARIF 2.1.0 schema is not at {SARIF_SCHEMA} (CI places ../shared beside the checkout)")
    return Draft7Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


def report_validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads((DATA / "report.schema.json").read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- a hand-built result


def _finding(rule: str, severity: str, path: str | None, line: int | None, column: int | None = None, **kw) -> Finding:
    return Finding(rule=rule, name=kw.pop("name", "python-syntax-error"), criterion=kw.pop("criterion", "exec"), topic="exec",
                   severity=Severity(severity), message=kw.pop("message", f"{rule} message"), path=path, line=line, column=column, **kw)


def _report(source: str, findings: list[Finding], kind: str = "bundle") -> AuditReport:
    return AuditReport(kind=kind, source=source, prompt_version="abc", family="generated",
                       tool_verdict=tool_verdict(findings, Severity.major), findings=findings,
                       rules_run=["RA001", "RA002"], rules_skipped={"RA003": "the prompt does not state 'reviewer_audit_settings'"},
                       timings_ms={"RA001": 1.5, "total": 3.0})


@pytest.fixture
def result(tmp_path) -> tuple[CheckReport, Path]:
    """The files the findings point at exist, as they would after a real check."""
    bundle = tmp_path / "repo"
    for rel, text in {"src/train.py": "import os\n\ndef train(cfg)\n", "src/main.py": "import x\nfrom src.train import train\n",
                      "config/config.yaml": "a: 1\nb: [\n", "pyproject.toml": "[project]\n"}.items():
        (bundle / rel).parent.mkdir(parents=True, exist_ok=True)
        (bundle / rel).write_text(text)
    (tmp_path / "pyproject.toml").write_text("[tool.reviewer-audit]\n\n\n\nselect = ['RA9O1']\n")
    (tmp_path / "t.txt").write_text("".join(f"line {i}\n" for i in range(1, 300)))
    findings = [
        _finding("RA001", "blocker", "src/train.py", 3, 9, message="syntax error: expected ':'\nsecond line 100%",
                 snippet="def train(cfg)", related=[Related(label="imported here", path="src/main.py", line=2)]),
        _finding("RA002", "major", "config/config.yaml", 2, name="yaml-syntax-error", suppressed=True, suppression_reason="broken on purpose"),
        _finding("RA002", "minor", None, None, name="yaml-syntax-error", message="bundle-level note"),
    ]
    transcript = [_finding("RA001", "blocker", "src/train.py", 3, transcript_line=294)]
    config = [_finding("RA003", "major", "pyproject.toml", 5, name="unknown-rule-in-config", criterion="0")]
    r = CheckReport(
        config=str(tmp_path / "pyproject.toml"), fail_on=Severity.major, rules_enabled=["RA001", "RA002", "RA003"], exit_code=1,
        reports=[
            CheckedPath(path=str(tmp_path / "pyproject.toml"), input="config", report=_report(str(tmp_path / "pyproject.toml"), config, "config")),
            CheckedPath(path=str(bundle), input="directory", report=_report(str(bundle), findings)),
            CheckedPath(path=str(tmp_path / "t.txt"), input="transcript", report=_report(str(tmp_path / "t.txt"), transcript)),
        ],
    )
    return r, tmp_path


def render(fmt: str, r: CheckReport, cwd: Path) -> str:
    buf = io.StringIO()
    _emitter(fmt)(r, buf, cwd)
    return buf.getvalue()


def test_every_registered_format_has_an_emitter(result):
    r, cwd = result
    for name in FORMATS:
        assert render(name, r, cwd).strip(), name


def test_github_annotations_exact(result):
    r, cwd = result
    lines = render("github", r, cwd).splitlines()
    assert lines == [
        "::warning file=pyproject.toml,line=5,title=RA003::RA003 message (unknown-rule-in-config, major, criterion 0)",
        "::error file=repo/src/train.py,line=3,col=9,title=RA001::syntax error: expected ':'%0Asecond line 100%25 (python-syntax-error, blocker, criterion exec)",
        "::notice file=repo/config/config.yaml,line=2,title=RA002::[suppressed: broken on purpose] RA002 message (yaml-syntax-error, major, criterion exec)",
        "::notice file=repo/pyproject.toml,line=1,title=RA002::bundle-level note (yaml-syntax-error, minor, criterion exec)",
        "::error file=t.txt,line=294,title=RA001::src/train.py:3: RA001 message (python-syntax-error, blocker, criterion exec)",
    ]
    assert all(GITHUB_LINE.match(line) for line in lines), lines


def test_sarif_structure(result):
    r, cwd = result
    log = json.loads(render("sarif", r, cwd))
    sarif_validator().validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [d["id"] for d in rules] == ["RA001", "RA002", "RA003"]
    from reviewer_audit.rules import rule_by_code

    for d in rules:
        rule = rule_by_code(d["id"])
        assert d["shortDescription"]["text"] == rule.summary()
        assert d["fullDescription"]["text"] == rule.doc()
        assert "**What it does.**" in d["help"]["markdown"]
    by_rule = {(res["ruleId"], res["level"]) for res in run["results"]}
    assert by_rule == {("RA003", "warning"), ("RA001", "error"), ("RA002", "warning"), ("RA002", "note")}
    first = next(res for res in run["results"] if res["ruleId"] == "RA001")
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "repo/src/train.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 3, "startColumn": 9, "snippet": {"text": "def train(cfg)"}}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == cwd.resolve().as_uri() + "/"
    assert first["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "repo/src/main.py"
    suppressed = [res for res in run["results"] if "suppressions" in res]
    assert len(suppressed) == 1 and suppressed[0]["suppressions"][0]["justification"] == "broken on purpose"
    note = next(res for res in run["results"] if res["message"]["text"] == "bundle-level note")
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "repo/pyproject.toml", "a bundle-level finding sits on the bundle's pyproject.toml"
    transcript_result = next(res for res in run["results"] if res["properties"]["input"] == "transcript")
    loc = transcript_result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "t.txt", "uriBaseId": "%SRCROOT%"} and loc["region"] == {"startLine": 294}
    assert transcript_result["message"]["text"] == "src/train.py:3: RA001 message", "the bundle path is in the message"
    assert all(res["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for res in run["results"]), "a region on every result"
    for res in run["results"]:
        file = cwd / res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        line = res["locations"][0]["physicalLocation"]["region"]["startLine"]
        from reviewer_audit.output.fingerprint import line_hashes

        assert res["partialFingerprints"]["primaryLocationLineHash"] == line_hashes(file.read_text())[line - 1]
    assert run["tool"]["driver"]["informationUri"].startswith("https://")
    assert all(d["helpUri"].endswith("#" + d["id"].lower()) for d in rules)


def test_junit_structure(result):
    r, cwd = result
    root = ET.fromstring(render("junit", r, cwd).split("\n", 1)[1])
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [p.path for p in r.reports]
    config, bundle, transcript = suites
    assert [c.get("name") for c in config.findall("testcase")] == ["RA003 unknown-rule-in-config"]
    cases = {c.get("name").split()[0]: c for c in bundle.findall("testcase")}
    assert sorted(cases) == ["RA001", "RA002"], "one testcase per enabled rule; RA003 answers for the config file only"
    assert cases["RA001"].find("failure").get("type") == "blocker"
    assert cases["RA002"].find("failure") is None, "suppressed and below-threshold findings do not fail"
    assert "suppressed: broken on purpose" in cases["RA002"].find("system-out").text
    assert root.get("failures") == "3" and root.get("tests") == str(sum(len(s.findall("testcase")) for s in suites))


def test_json_round_trips_and_validates(result):
    r, cwd = result
    doc = json.loads(render("json", r, cwd))
    report_validator().validate(doc)
    assert CheckReport.model_validate(doc) == r


# --------------------------------------------------------------------------- committed schemas


@pytest.mark.parametrize("name", ["report", "spec"])
def test_committed_schema_matches_the_models(name):
    """Regenerate with `reviewer-audit schema NAME > reviewer_audit/data/NAME.schema.json`."""
    from reviewer_audit.output.json_out import schema_text

    committed = (DATA / f"{name}.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(name), f"reviewer_audit/data/{name}.schema.json is stale: run `reviewer-audit schema {name} > reviewer_audit/data/{name}.schema.json`"


def test_report_schema_accepts_audit_review_output_too():
    from reviewer_audit.api import audit_transcript

    report_validator().validate(json.loads(audit_transcript(SEED_002, select=["RA00"]).model_dump_json()))


def test_report_schema_rejects_garbage():
    assert list(report_validator().iter_errors({"kind": "check", "reports": "nope"}))


# --------------------------------------------------------------------------- end to end, every format at once


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A bundle with a syntax error and a YAML error, and a configuration beside it that
    suppresses the YAML error and names an unknown code (RA003)."""
    work = tmp_path / "work"
    (work / "repo" / "src").mkdir(parents=True)
    (work / "repo" / "config").mkdir()
    (work / "repo" / "src" / "train.py").write_text("def train(cfg)\n    return cfg\n")
    (work / "repo" / "config" / "config.yaml").write_text("mode: [full\n")
    (work / "repo" / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = '0.1'\ndependencies = []\n")
    (work / "pyproject.toml").write_text(
        '[tool.reviewer-audit]\nignore = ["RA9O1"]\n'
        'suppress = [{rules = ["RA002"], path = "config/*.yaml", reason = "broken on purpose"}]\n'
    )
    monkeypatch.chdir(work)
    return work, work / "repo"


def test_every_format_in_one_run(tiny):
    work, repo = tiny
    result = CliRunner().invoke(app, [
        "check", "repo", str(SEED_002), "--select", "RA00",
        "--output", "text", "--output", "json:out/report.json", "--output", "sarif:out/sarif/results.sarif",
        "--output", "junit:out/junit.xml", "--output", "github:out/annotations.txt",
    ])
    assert result.exit_code == 1, result.stderr
    assert "RA001" in result.stdout and "suppressed: broken on purpose" in result.stdout
    created = sorted(p.relative_to(work).as_posix() for p in (work / "out").rglob("*"))
    assert created == ["out/annotations.txt", "out/junit.xml", "out/report.json", "out/sarif", "out/sarif/results.sarif"], \
        "only the requested files and their parent folders are written"

    doc = json.loads((work / "out/report.json").read_text())
    report_validator().validate(doc)
    assert [r["input"] for r in doc["reports"]] == ["config", "directory", "transcript"]
    config_findings = doc["reports"][0]["report"]["findings"]
    assert [(f["rule"], f["path"], f["line"]) for f in config_findings] == [("RA003", "pyproject.toml", 2)]
    bundle = {f["rule"]: f for f in doc["reports"][1]["report"]["findings"]}
    assert bundle["RA001"]["path"] == "src/train.py" and bundle["RA001"]["line"] == 1 and not bundle["RA001"]["suppressed"]
    assert bundle["RA002"]["suppressed"] and bundle["RA002"]["suppression_reason"] == "broken on purpose"

    log = json.loads((work / "out/sarif/results.sarif").read_text())
    sarif_validator().validate(log)
    run = log["runs"][0]
    enabled = [d["id"] for d in run["tool"]["driver"]["rules"]]
    assert enabled == doc["rules_enabled"] and "RA003" in enabled
    uris = {(res["ruleId"], res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for res in run["results"] if "locations" in res}
    assert ("RA001", "repo/src/train.py") in uris and ("RA003", "pyproject.toml") in uris
    assert all((work / u).is_file() for _, u in uris), "every uri names a file below the working directory"
    assert any(res.get("suppressions", [{}])[0].get("justification") == "broken on purpose" for res in run["results"])

    junit = ET.parse(work / "out/junit.xml").getroot()
    assert junit.tag == "testsuites" and len(junit.findall("testsuite")) == 3
    failed = [c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None]
    assert "RA001 python-syntax-error" in failed and "RA003 unknown-rule-in-config" in failed

    lines = (work / "out/annotations.txt").read_text().splitlines()
    assert lines and all(GITHUB_LINE.match(line) for line in lines), lines
    assert "::error file=repo/src/train.py,line=1" in "\n".join(lines)
    assert any(line.startswith("::notice ") and "[suppressed: broken on purpose]" in line for line in lines)


def test_output_targets_parse_and_validate(tmp_path):
    targets = parse_targets(["JSON", "sarif:" + str(tmp_path / "a" / "b.sarif")])
    assert [(t.format, t.path) for t in targets] == [("json", None), ("sarif", tmp_path / "a" / "b.sarif")]
    assert not (tmp_path / "a").exists(), "validating a target creates nothing"
    assert [t.format for t in parse_targets([])] == ["text"]


def test_text_and_github_share_stdout(tiny):
    """In a GitHub Actions step: a readable log and the annotations, both on stdout."""
    result = CliRunner().invoke(app, ["check", "repo", "--select", "RA00", "--output", "text", "--output", "github"])
    assert result.exit_code == 1, result.stderr
    lines = result.stdout.splitlines()
    annotations = [line for line in lines if line.startswith("::")]
    assert annotations and all(GITHUB_LINE.match(line) for line in annotations)
    assert lines.index(annotations[0]) > 0, "the text report comes first"
