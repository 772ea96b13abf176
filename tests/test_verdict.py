"""Verdict diff: agreement classes, claim splitting and matching, per-criterion rows."""
from __future__ import annotations

import pytest

from reviewer_audit.engine.findings import Finding, Related, Severity
from reviewer_audit.spec.prompt import default_spec
from reviewer_audit.verdict.diff import agreement, claim_topics, criterion_table, match_claims, split_claims, tool_verdict


def _finding(rule="RA301", path="src/preprocess.py", line=50, message="map(remove_columns=<all columns>) drops the label column", severity=Severity.blocker, topic="data", criterion="3", **kw):
    return Finding(rule=rule, name="x", criterion=criterion, topic=topic, severity=severity, message=message, path=path, line=line, **kw)


@pytest.mark.parametrize(
    ("reviewer", "tool", "expected"),
    [(True, True, "agree_ready"), (False, False, "agree_not_ready"), (True, False, "reviewer_false_positive"),
     (False, True, "reviewer_false_negative"), (None, True, "no_reviewer_verdict"), (None, False, "no_reviewer_verdict")],
)
def test_agreement_classes(reviewer, tool, expected):
    assert agreement(reviewer, tool) == expected


def test_tool_verdict_threshold_and_suppression():
    minor = _finding(severity=Severity.minor)
    major = _finding(severity=Severity.major)
    assert tool_verdict([minor], Severity.major).ready is True
    assert tool_verdict([minor], Severity.minor).ready is False
    assert tool_verdict([major], Severity.major).ready is False
    assert tool_verdict([major.model_copy(update={"suppressed": True})], Severity.major).ready is True
    assert tool_verdict([major, minor], Severity.blocker).counts == {"blocker": 0, "major": 1, "minor": 1}


def test_split_claims_numbered_bulleted_and_paragraphs():
    assert split_claims("") == []
    assert split_claims("1. first issue\n2. second issue") == ["first issue", "second issue"]
    assert split_claims("- a\n- b\n- c") == ["a", "b", "c"]
    assert split_claims("one paragraph.\n\nanother paragraph.") == ["one paragraph.", "another paragraph."]


def test_claim_topics():
    assert "wandb" in claim_topics("train.py never calls wandb.log")
    assert "data" in claim_topics("preprocess drops the label column")
    assert "exec" in claim_topics("pyproject dependencies are invalid")


def test_claim_matched_by_file_and_identifier():
    issue = 'In src/preprocess.py `raw.map(..., remove_columns=raw["train"].column_names)` removes the "label" column.'
    findings = [_finding(), _finding(rule="RA801", path="src/evaluate.py", line=59, message="argparse positional results_dir", topic="evaluate", criterion="8")]
    claims, missed = match_claims(issue, findings, Severity.major)
    assert [c.status for c in claims] == ["confirmed"] and claims[0].findings == [0]
    assert missed == [1]


def test_claim_about_another_file_is_unsupported():
    claims, missed = match_claims("src/model.py uses `lora_B.register_hook` which does not exist", [_finding()], Severity.major)
    assert claims[0].status == "unsupported" and missed == [0]


def test_related_end_of_a_cross_file_finding_counts():
    f = _finding(rule="RA601", path="src/evaluate.py", line=30, message="evaluate.py reads history key 'val_accuracy' that train.py never logs", topic="wandb",
                 related=[Related(label="logged in", path="src/train.py", line=12, snippet='wandb.log({"val_acc": acc})')])
    claims, _ = match_claims("train.py logs `val_acc` but evaluate expects `val_accuracy`", [f], Severity.major)
    assert claims[0].status == "confirmed"


def test_criterion_table_reviewer_columns():
    spec = default_spec()
    f = _finding()
    claims, _ = match_claims("preprocess.py drops the label column", [f], Severity.major)
    rows = {r.criterion: r for r in criterion_table(spec, [f], False, claims, Severity.major)}
    assert rows["3"].tool == "fail" and rows["3"].reviewer == "fail" and rows["3"].findings == 1
    assert rows["6"].tool == "pass" and rows["6"].reviewer == "unstated"
    approved = {r.criterion: r for r in criterion_table(spec, [f], True, [], Severity.major)}
    assert approved["3"].reviewer == "pass" and approved["3"].tool == "fail"
