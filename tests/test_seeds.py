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


# --------------------------------------------------------------------------- the reviewer's claims


def test_seed_000_its_one_claim_is_confirmed_by_the_label_column_finding():
    report = audit_transcript(FIXTURES / "seed_000_glora_o3_not_ready.txt")
    claims = [c for c in report.claims if c.status != "context"]
    assert len(claims) == 1, [c.text for c in claims]
    (claim,) = claims
    assert claim.status == "confirmed" and claim.kind == "crash"
    hits = [report.findings[i] for i in claim.findings]
    assert any(f.rule == "RA301" and f.path == "src/preprocess.py" and f.line == 50 for f in hits)
    assert {f.rule for f in hits} == {"RA301"}, "only findings of the same kind of defect confirm it"


def test_seed_002_approval_has_no_claims():
    report = audit_transcript(FIXTURES / "seed_002_fwlora_o3_ready.txt")
    assert report.reviewer_verdict.ready is True and report.claims == []


def _not_defects(seed: str) -> list[str]:
    """The seed's checked non-defects: the must_not_find reasons transcribed into fixtures/expected,
    plus the "Not defects (checked)" list of ../shared/seeds when it is there."""
    spec = json.loads((FIXTURES / "expected" / f"{seed}.json").read_text())
    out = [n["why"] for n in spec["must_not_find"]]
    shared = FIXTURES.parent.parent / "shared" / "seeds" / f"{seed}_defects.md"
    if shared.is_file():
        text = shared.read_text(encoding="utf-8")
        section = text.split("### Not defects (checked)", 1)[1] if "### Not defects (checked)" in text else ""
        out += [line[2:].strip() for line in section.splitlines() if line.startswith("- ")]
    return out


@pytest.mark.parametrize("seed,transcript", [("seed_000", "seed_000_glora_o3_not_ready.txt"), ("seed_002", "seed_002_fwlora_o3_ready.txt")])
def test_not_defects_are_never_the_basis_of_a_confirmation(seed, transcript):
    """Each checked non-defect, stated as a reviewer would (as a bullet), is never confirmed by the
    seed's findings: the words it shares with them do not link it."""
    from reviewer_audit.engine.context import AuditContext
    from reviewer_audit.engine.findings import Severity
    from reviewer_audit.engine.runner import run_rules
    from reviewer_audit.ingest.transcript import load_transcript
    from reviewer_audit.rules import select_rules
    from reviewer_audit.spec.prompt import spec_for_transcript
    from reviewer_audit.verdict.adjudicate import adjudicate

    t = load_transcript(FIXTURES / transcript)
    ctx = AuditContext(t.bundle, spec_for_transcript(t), t.runs, t)
    findings = run_rules(ctx, select_rules((), ())).findings
    statements = _not_defects(seed)
    assert len(statements) >= 5
    issue = "Issues:\n" + "\n".join(f"- {s}" for s in statements)
    claims, _ = adjudicate(issue, findings, ctx, Severity.major)
    confirmed = [(c.text, c.evidence) for c in claims if c.status == "confirmed"]
    assert not confirmed, confirmed
    assert sum(1 for c in claims if c.status != "context") >= len(statements) - 2, "the statements are read as claims"
