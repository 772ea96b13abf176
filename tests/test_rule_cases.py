"""Tests generated from every rule's VALID and INVALID cases (Fixit style).

A VALID case must produce no finding from its rule (above its `allow` severity); an INVALID case
at least one, at the path and line it names when it names them, that is live -- on code a command
of the case's pipeline runs -- unless the case names the severity it expects. Adding a rule adds
its tests.
"""
from __future__ import annotations

import pytest

from reviewer_audit.engine.findings import Severity
from reviewer_audit.engine.rule import iter_cases
from reviewer_audit.engine.runner import context_for_case, run_rules
from reviewer_audit.rules import all_rules

CASES = [(rule, case_id, case) for rule in all_rules() for case_id, case in iter_cases(rule)]


def test_every_rule_has_valid_and_invalid_cases():
    missing = [r.code for r in all_rules() if not r.VALID or not r.INVALID]
    assert not missing, f"rules without VALID and INVALID cases: {missing}"


def test_rule_codes_and_names_are_unique_and_documented():
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)
    for r in rules:
        assert r.code[:2] == "RA" and r.code[2:].isdigit() and len(r.code) == 5, r.code
        doc = r.doc()
        for section in ("**What it does.**", "**Why is this bad?**", "**Example.**", "**Use instead.**"):
            assert section in doc, f"{r.code} doc lacks {section}"


@pytest.mark.parametrize(("rule", "case_id", "case"), CASES, ids=[c[1] for c in CASES])
def test_rule_case(rule, case_id, case):
    ctx = context_for_case(case)
    assert rule.applies_to(ctx.spec), f"{rule.code} needs requirement {rule.requirement!r}, absent from the case's spec"
    result = run_rules(ctx, [rule])
    crashed = [f for f in result.findings if f.rule == "RA000"]
    assert not crashed, crashed[0].message
    mine = [f for f in result.findings if f.rule == rule.code]
    if "-valid-" in case_id:
        ceiling = Severity(case.allow).rank if case.allow else 0
        over = [f for f in mine if f.severity.rank > ceiling]
        assert not over, f"VALID case produced: {[(f.where, f.severity.value, f.message) for f in over]}"
    else:
        assert mine, f"INVALID case produced no {rule.code} finding ({case.note})"
        shown = [(f.where, f.severity.value, f.message) for f in mine]
        at = [f for f in mine if (case.path is None or f.path == case.path) and (case.line is None or f.line == case.line)]
        assert at, shown
        # a finding the case expects is live: at the severity the case names, else not lowered
        # (a case whose code no command runs would only show a latent minor)
        if case.severity is not None:
            assert any(f.severity.value == case.severity for f in at), shown
        else:
            assert any(f.demoted_from is None for f in at), f"only latent findings: {shown}"
