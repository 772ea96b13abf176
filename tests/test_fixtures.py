"""The hand-written fixtures: the clean bundle, in all three shapes, is the precision test."""
from __future__ import annotations

import json

from reviewer_audit.api import audit_transcript, check_bundle
from reviewer_audit.ingest.bundle import Bundle
from reviewer_audit.engine.findings import Severity
from reviewer_audit.ingest.transcript import load_transcript

from .conftest import FIXTURES

CLEAN_DIR = FIXTURES / "clean_bundle"


def test_the_three_clean_shapes_hold_the_same_code():
    directory = Bundle.from_directory(CLEAN_DIR)
    as_json = Bundle.from_json_file(FIXTURES / "clean_bundle.json")
    transcript = load_transcript(FIXTURES / "clean_ready.txt")
    code = {p: f.text for p, f in directory.files.items() if not p.startswith("config/runs/")}
    assert {p: f.text for p, f in as_json.files.items()} == code
    assert {p: f.text for p, f in transcript.bundle.files.items()} == code
    runs = {f"config/runs/{r.run_id}.yaml": r.yaml_text for r in transcript.runs}
    assert {p: f.text.rstrip("\n") for p, f in directory.files.items() if p.startswith("config/runs/")} == runs


def test_clean_transcript_is_agree_ready_with_no_finding_at_threshold():
    report = audit_transcript(FIXTURES / "clean_ready.txt")
    assert report.agreement == "agree_ready"
    assert not [f for f in report.findings if f.severity.at_least(Severity.minor)], [f"{f.rule} {f.where} {f.message}" for f in report.findings]


def test_clean_bundle_directory_and_json_have_no_finding_at_or_above_major():
    for path in (CLEAN_DIR, FIXTURES / "clean_bundle.json"):
        report = check_bundle(path)
        assert report.tool_verdict.ready, [f"{f.rule} {f.where} {f.message}" for f in report.findings]
        assert not any(f.severity.at_least(Severity.major) for f in report.findings)


def test_expected_files_name_existing_transcripts():
    for path in (FIXTURES / "expected").glob("*.json"):
        assert (FIXTURES / json.loads(path.read_text())["transcript"]).is_file(), path
