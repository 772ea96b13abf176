"""The public Python API documented in the README."""
from __future__ import annotations

import pytest

import reviewer_audit
from reviewer_audit.ingest.errors import InputError

from .conftest import FIXTURES, SEED_002


def test_audit_transcript_and_check_bundle():
    report = reviewer_audit.audit_transcript(SEED_002)
    assert report.agreement == "reviewer_false_positive" and report.kind == "transcript"
    clean = reviewer_audit.check_bundle(FIXTURES / "clean_bundle")
    assert clean.kind == "bundle" and clean.tool_verdict.ready, [f"{f.rule} {f.where} {f.message}" for f in clean.findings]
    assert clean.agreement is None and clean.reviewer_verdict is None


def test_audit_corpus_over_fixtures():
    corpus = reviewer_audit.audit_corpus([FIXTURES], jobs=1)
    table = corpus.aggregates.agreement
    assert table.n == len(list(FIXTURES.glob("*.txt")))
    assert table.approvals_rejected >= 1  # seed 002 is a reviewer false positive


def test_api_raises_input_error():
    with pytest.raises(InputError):
        reviewer_audit.audit_transcript(FIXTURES / "does-not-exist.txt")
    with pytest.raises(InputError):
        reviewer_audit.check_bundle(FIXTURES / "does-not-exist")
