"""Seed regression tests: the tool's findings against the verified ground-truth defect lists.

The expectations live in fixtures/expected/seed_*.json, transcribed from
../shared/seeds/seed_*_defects.md, where each defect was verified by running the code. The
"Not defects (checked)" items become `must_not_find` entries.
"""
from __future__ import annotations

import json

import pytest

from reviewer_audit.api import audit_transcript

from .conftest import FIXTURES

EXPECTED = sorted((FIXTURES / "expected").glob("seed_*.json"))


def _load(path):
    spec = json.loads(path.read_text())
    return spec, audit_transcript(FIXTURES / spec["transcript"])


def _matches(f, where: dict) -> bool:
    if "path" in where and f.path != where["path"]:
        return False
    if "lines" in where and f.line not in where["lines"]:
        return False
    if "message" in where and where["message"].lower() not in f.message.lower():
        return False
    if "rule_prefix" in where and not f.rule.startswith(where["rule_prefix"]):
        return False
    return True


def _found(report, defect: dict) -> bool:
    return any(_matches(f, where) for where in defect["any_of"] for f in report.findings)


@pytest.fixture(scope="module", params=EXPECTED, ids=[p.stem for p in EXPECTED])
def seed(request):
    return _load(request.param)


def test_agreement(seed):
    spec, report = seed
    assert report.agreement == spec["agreement"]


def test_must_find(seed):
    spec, report = seed
    missing = [f"{d['id']}: {d['why']}" for d in spec["must_find"] if not _found(report, d)]
    assert not missing, "defects not found:\n" + "\n".join(missing) + "\nfindings:\n" + "\n".join(f"{f.rule} {f.where} {f.message}" for f in report.findings)


AT_LEAST = [p for p in EXPECTED if "must_find_at_least" in json.loads(p.read_text())]


@pytest.mark.parametrize("path", AT_LEAST, ids=[p.stem for p in AT_LEAST])
def test_must_find_at_least(path):
    spec, report = _load(path)
    group = spec["must_find_at_least"]
    found = [d["id"] for d in group["of"] if _found(report, d)]
    assert len(found) >= group["count"], f"{group['why']}: found only {found}"


def test_must_not_find(seed):
    spec, report = seed
    false = [(n["why"], f.rule, f.where, f.message) for n in spec["must_not_find"] for f in report.findings if _matches(f, n)]
    assert not false, "findings on checked non-defects:\n" + "\n".join(map(str, false))


def test_reviewer_claims(seed):
    spec, report = seed
    confirmed = [report.findings[i] for c in report.claims if c.status == "confirmed" for i in c.findings]
    for where in spec["reviewer_claims_confirmed_at"]:
        assert any(_matches(f, where) for f in confirmed), f"reviewer claim at {where} not confirmed"
    if spec["agreement"] in ("agree_not_ready", "reviewer_false_positive"):
        # the blockers the reviewer missed are listed
        assert report.missed
