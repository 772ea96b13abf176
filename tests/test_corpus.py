"""Regression tests over the real corpus in ../shared/corpus (skipped when it is absent).

index.tsv records what happened when each judged bundle later ran. Every bundle the reviewer
approved whose first run is known to have crashed must be rejected by the tool, for a reason
that matches what actually broke (CRASH_REASONS, from index.tsv's error_line and
inferred_failure_cause columns and a reading of the code).
"""
from __future__ import annotations

import csv

import pytest

from reviewer_audit.api import audit_transcript

from .conftest import CORPUS, corpus_files, needs_corpus

pytestmark = [needs_corpus, pytest.mark.corpus]

#: file -> where a finding at threshold must point: the real cause of the crash.
#: "dependency install/import failure: fixer only rewrote pyproject.toml" and
#: "No module named 'hydra'" both come from a pyproject that uv cannot install.
CRASH_REASONS: dict[str, list[dict]] = {
    "20251017-matsuzawa__ca2a4e4d.txt": [{"path": "pyproject.toml"}],
    "airas-20251020-120659-matsuzawa__c84ab9d8.txt": [{"path": "pyproject.toml"}],
    "airas-20251020-120659-matsuzawa__472806fa.txt": [{"path": "pyproject.toml"}],
    "airas-20251020-120659-matsuzawa__40d3ebb8.txt": [{"path": "pyproject.toml"}],
    "airas-20251022-083800-matsuzawa__cde6b325.txt": [{"path": "pyproject.toml"}],
    # the fixer changed only src/main.py: it reads cfg.run._config_name_, which no config defines
    "airas-20251023-035154-matsuzawa__3b0b0143.txt": [{"path": "src/main.py"}],
    "airas-20251023-075135-matsuzawa__20a04888.txt": [{"path": "pyproject.toml"}],
    "airas-20251106-163904-matsuzawa__01a27649.txt": [{"path": "pyproject.toml"}],
    "airas-20251107-140627-matsuzawa__553e339c.txt": [{"path": "pyproject.toml"}],
    "airas-20251108-073457-matsuzawa__06738469.txt": [{"path": "pyproject.toml"}],
}


def _index() -> dict[str, dict]:
    with (CORPUS / "index.tsv").open(newline="") as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t")}


@pytest.fixture(scope="module")
def reports():
    return {f.name: audit_transcript(f) for f in corpus_files()}


def test_crash_table_covers_every_approved_crash():
    crashed = {name for name, row in _index().items() if row["verdict"] == "true" and row["crashed"] == "yes"}
    assert crashed == set(CRASH_REASONS)


@pytest.mark.parametrize("name", sorted(CRASH_REASONS))
def test_approved_crashes_are_rejected_for_a_true_reason(reports, name):
    report = reports[name]
    assert report.reviewer_verdict.ready is True
    assert report.tool_verdict.ready is False
    assert report.agreement == "reviewer_false_positive"
    at_threshold = [f for f in report.findings if f.severity.at_least(report.tool_verdict.fail_on)]
    for where in CRASH_REASONS[name]:
        assert any(f.path == where["path"] for f in at_threshold), (
            f"no finding at threshold in {where['path']}: " + "; ".join(f"{f.rule} {f.where} {f.message}" for f in at_threshold)
        )


def test_no_rule_crashes_on_real_code(reports):
    crashed = [(name, f.message) for name, r in reports.items() for f in r.findings if f.rule == "RA000"]
    assert not crashed


def test_reviewer_verdicts_match_the_index(reports):
    index = _index()
    for name, report in reports.items():
        assert str(report.reviewer_verdict.ready).lower() == index[name]["verdict"], name
        assert (report.llm_name or "(none)") == index[name]["llm_name"], name
