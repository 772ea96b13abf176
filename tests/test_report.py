"""`reviewer-audit report`: corpus rows, aggregates, output formats, shards, isolation.

Numbers that depend on which rules have landed are never asserted; what is asserted is the
arithmetic (kappa, counts) on hand-built rows and the listing logic on real ones.
"""
from __future__ import annotations

import csv
import html.parser
import json
import multiprocessing
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from reviewer_audit.corpus import report as corpus
from reviewer_audit.cli import app
from reviewer_audit.corpus.report import (
    Blocker,
    ClaimSummary,
    CorpusReport,
    CorpusRow,
    CriterionStatus,
    RuleCount,
    agreement_table,
    aggregate,
    build_report,
    file_name_date,
)
from reviewer_audit.output.corpus_report import render

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SEEDS = sorted(FIXTURES.glob("seed_*.txt"))
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"

runner = CliRunner()


# --------------------------------------------------------------------------- helpers


def row(file: str, reviewer_ready: bool | None, tool_ready: bool, **kw) -> CorpusRow:
    """A hand-built audited row (no rules involved)."""
    counts = kw.pop("counts", {"blocker": 0 if tool_ready else 1, "major": 0, "minor": 0})
    blockers = kw.pop("top_blockers", [] if tool_ready else [
        Blocker(rule="RA901", name="pyproject-invalid", severity="blocker", criterion="exec", topic="exec", path="pyproject.toml",
                line=7, where="pyproject.toml:7", message="`project.dependencies` must be an array", snippet="[project.dependencies]\ntorch = \"^2.0\"")])
    if reviewer_ready is None:
        agreement = "no_reviewer_verdict"
    elif reviewer_ready == tool_ready:
        agreement = "agree_ready" if tool_ready else "agree_not_ready"
    else:
        agreement = "reviewer_false_positive" if reviewer_ready else "reviewer_false_negative"
    kw.setdefault("llm_name", "o3-2025-04-16")
    kw.setdefault("prompt_version", "aaaaaaaaaaaa")
    kw.setdefault("family", "generated")
    return CorpusRow(file=file, reviewer_ready=reviewer_ready, tool_ready=tool_ready, agreement=agreement, counts=counts,
                     top_blockers=blockers, **kw)


def kappa_example_rows() -> list[CorpusRow]:
    """a = 2 both ready, b = 8 reviewer ready / tool not, c = 5 reviewer not / tool ready,
    d = 15 both not ready; plus one row without a reviewer verdict and one that did not parse."""
    rows = []
    rows += [row(f"t/a{i}.txt", True, True) for i in range(2)]
    rows += [row(f"t/b{i}.txt", True, False) for i in range(8)]
    rows += [row(f"t/c{i}.txt", False, True) for i in range(5)]
    rows += [row(f"t/d{i}.txt", False, False) for i in range(15)]
    rows.append(row("t/none.txt", None, False))
    rows.append(CorpusRow(file="t/broken.txt", error="no 'Output:' line", error_kind="input"))
    return rows


def write_broken(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    no_output = folder / "broken_no_output.txt"
    no_output.write_text("\nInput:\n# Instructions\nnothing to judge here\n", encoding="utf-8")
    bad_verdict = folder / "broken_verdict.txt"
    bad_verdict.write_text("\nLLM Name: test-model\nInput:\n# Instructions\nx\nOutput:\nthis is not JSON\n", encoding="utf-8")
    return [no_output, bad_verdict]


def corpus_dir_with_seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "transcripts"
    (folder / "nested").mkdir(parents=True)
    shutil.copy(SEEDS[0], folder / SEEDS[0].name)
    shutil.copy(SEEDS[1], folder / "nested" / SEEDS[1].name)
    return folder


# --------------------------------------------------------------------------- arithmetic


def test_agreement_counts_and_kappa_against_hand_computation():
    t = agreement_table(kappa_example_rows())
    assert (t.reviewer_ready_tool_ready, t.reviewer_ready_tool_not_ready) == (2, 8)
    assert (t.reviewer_not_ready_tool_ready, t.reviewer_not_ready_tool_not_ready) == (5, 15)
    assert t.no_reviewer_verdict == 1  # counted apart; the broken row is not counted at all
    assert t.n == 30
    # p_o = (a + d) / n = (2 + 15) / 30 = 17/30
    assert t.observed_agreement == pytest.approx(17 / 30)
    # reviewer marginals: ready a+b = 10, not c+d = 20; tool marginals: ready a+c = 7, not b+d = 23
    # p_e = (10*7 + 20*23) / 30^2 = (70 + 460) / 900 = 530/900
    assert t.expected_agreement == pytest.approx(530 / 900)
    # kappa = (p_o - p_e) / (1 - p_e) = (510/900 - 530/900) / (370/900) = -20/370 = -0.05405...
    assert t.kappa == pytest.approx(-20 / 370)
    assert t.kappa == pytest.approx(-0.054054, abs=1e-6)
    # share of reviewer approvals the tool rejects = b / (a + b) = 8/10
    assert (t.approvals, t.approvals_rejected) == (10, 8)
    assert t.approvals_rejected_share == pytest.approx(0.8)


def test_kappa_perfect_agreement_and_undefined_cases():
    # a = 3, d = 2: p_o = 1, p_e = (3*3 + 2*2)/25 = 13/25, kappa = (1 - 13/25)/(1 - 13/25) = 1
    t = agreement_table([row("a1", True, True), row("a2", True, True), row("a3", True, True), row("d1", False, False), row("d2", False, False)])
    assert t.kappa == pytest.approx(1.0)
    # every row in one cell: p_e = 1, kappa undefined
    t = agreement_table([row("d1", False, False), row("d2", False, False)])
    assert t.kappa is None and t.observed_agreement == 1.0 and t.approvals_rejected_share is None
    t = agreement_table([])
    assert t.n == 0 and t.kappa is None


def test_false_positives_are_the_approved_rejected_rows_worst_first():
    rows = [
        row("x/minor_only.txt", True, False, counts={"blocker": 0, "major": 1, "minor": 3}),
        row("x/two_blockers.txt", True, False, counts={"blocker": 2, "major": 0, "minor": 0}),
        row("x/one_blocker.txt", True, False, counts={"blocker": 1, "major": 4, "minor": 0}),
        row("x/agree.txt", True, True),
        row("x/rejected.txt", False, False),
    ]
    a = aggregate(rows)
    assert [Path(fp.file).name for fp in a.false_positives] == ["two_blockers.txt", "one_blocker.txt", "minor_only.txt"]
    assert all(fp.top_blockers[0].where == "pyproject.toml:7" for fp in a.false_positives)


def test_criteria_by_topic_count_fails_raised_and_missed():
    def crit(number, topic, tool, reviewer):
        return CriterionStatus(criterion=number, topic=topic, title=topic.title(), tool=tool, reviewer=reviewer)

    rows = [
        # approved, tool fails wandb (criterion 6 in this prompt): missed while approving
        row("p/1.txt", True, False, criteria=[crit("6", "wandb", "fail", "pass"), crit("2", "hydra", "pass", "pass")]),
        # rejected and raised wandb (criterion 9 in another prompt version): not missed
        row("p/2.txt", False, False, criteria=[crit("9", "wandb", "fail", "fail"), crit("2", "hydra", "pass", "fail")]),
        # rejected for something else: wandb failure missed (unstated)
        row("p/3.txt", False, False, criteria=[crit("9", "wandb", "fail", "unstated"), crit("2", "hydra", "pass", "unstated")]),
    ]
    by = {c.topic: c for c in aggregate(rows).criteria}
    w = by["wandb"]
    assert (w.transcripts, w.tool_fails, w.reviewer_raised, w.reviewer_missed) == (3, 3, 1, 2)
    assert (w.missed_approved, w.missed_unstated) == (1, 1)
    assert sorted(w.numbers) == ["6", "9"]
    h = by["hydra"]
    assert (h.tool_fails, h.reviewer_raised, h.reviewer_missed) == (0, 1, 0)


def test_breakdowns_by_model_and_prompt_version_with_dates():
    assert file_name_date("20251014-matsuzawa__a6b680b3.txt") == "2025-10-14"
    assert file_name_date("airas-20251009-055033-matsuzawa__08ba41ef__exp-2.txt") == "2025-10-09T05:50:33"
    assert file_name_date("seed_000_glora_o3_not_ready.txt") is None
    rows = [
        row("a/20251014-x__1.txt", False, False, llm_name=None, prompt_version="p1", file_date="2025-10-14"),
        row("a/20251017-x__2.txt", True, False, llm_name=None, prompt_version="p1", file_date="2025-10-17"),
        row("a/airas-20251106-163904-x__3.txt", True, True, prompt_version="p2", file_date="2025-11-06T16:39:04"),
        CorpusRow(file="a/broken.txt", error="bad", error_kind="input"),
    ]
    a = aggregate(rows)
    models = {g.key: g for g in a.by_model}
    assert set(models) == {"(unnamed)", "o3-2025-04-16"}
    assert (models["(unnamed)"].transcripts, models["(unnamed)"].false_positives) == (2, 1)
    prompts = {g.key: g for g in a.by_prompt_version}
    assert (prompts["p1"].first_date, prompts["p1"].last_date) == ("2025-10-14", "2025-10-17")
    assert prompts["p2"].first_date == prompts["p2"].last_date == "2025-11-06"
    assert [e.file for e in a.errors] == ["a/broken.txt"]


def _claims(*specs) -> dict:
    """Row fields for claims given as (status, defect, kind) triples, counted as rows count them."""
    claims = [ClaimSummary(text=f"claim {i} ({status}, {defect})", status=status, defect=defect, kind=kind, evidence=f"evidence {i}")
              for i, (status, defect, kind) in enumerate(specs)]
    counts = {f"claims_{k}": sum(1 for c in claims if c.status == k) for k in ("confirmed", "refuted", "unverified", "context")}
    return dict(claims=claims, **counts)


def test_claims_false_alarms_per_transcript_model_and_prompt_and_unverified_kinds_ranked():
    rows = [
        row("c/1.txt", False, False, llm_name="m1", prompt_version="p1", **_claims(
            ("refuted", "namespace-package", "crash"), ("refuted", "dependency", "crash"), ("confirmed", "evaluate-cli", "crash"),
            ("unverified", "shape-or-type", "crash"), ("context", None, None))),
        row("c/2.txt", False, False, llm_name="m2", prompt_version="p1", **_claims(
            ("unverified", "shape-or-type", "crash"), ("unverified", "shape-or-type", "criterion"), ("unverified", None, "advice"),
            ("unverified", "significance", "criterion"))),
        row("c/3.txt", False, True, llm_name="m1", prompt_version="p2", **_claims(("refuted", "python-syntax", "crash"))),
    ]
    a = aggregate(rows)
    assert (a.claims_confirmed, a.claims_refuted, a.claims_unverified, a.claims_context) == (1, 3, 5, 1)
    assert [(t.file, t.refuted, t.claims) for t in a.false_alarm_transcripts] == [("c/1.txt", 2, 4), ("c/3.txt", 1, 1)]
    assert sorted(c.defect for c in a.false_alarms) == ["dependency", "namespace-package", "python-syntax"]
    assert [c.file for c in a.confirmed_claims] == ["c/1.txt"]
    models = {g.key: g for g in a.by_model}
    assert (models["m1"].claims, models["m1"].claims_refuted, models["m1"].false_alarm_share) == (5, 3, 0.6)
    assert (models["m2"].claims, models["m2"].claims_refuted, models["m2"].false_alarm_share) == (4, 0, 0.0)
    prompts = {g.key: g for g in a.by_prompt_version}
    assert (prompts["p1"].claims_refuted, prompts["p2"].claims_refuted) == (2, 1)
    kinds = [(k.defect, k.count, k.transcripts) for k in a.unverified_kinds]
    assert kinds[0] == ("shape-or-type", 3, 2), "most frequent kind first"
    assert set(kinds[1:]) == {("significance", 1, 1), ("unclassified advice", 1, 1)}
    by = {k.defect: k for k in a.unverified_kinds}
    assert by["shape-or-type"].kinds == {"crash": 2, "criterion": 1} and by["shape-or-type"].covered_by == []
    assert by["significance"].covered_by == ["RA810"], "a kind a rule covers names the rule (which did not fire)"
    assert len(by["shape-or-type"].examples) == 3


def test_rules_most_frequent_first():
    rows = [
        row("r/1.txt", False, False, rules_fired=[RuleCount(rule="RA901", severity="blocker", count=1), RuleCount(rule="RA101", severity="major", count=5)]),
        row("r/2.txt", False, False, rules_fired=[RuleCount(rule="RA901", severity="blocker", count=2)]),
    ]
    stats = aggregate(rows).rules
    assert [(s.rule, s.transcripts, s.findings) for s in stats] == [("RA901", 2, 3), ("RA101", 1, 5)]


def test_iterations_fixed_and_appeared_between_rounds():
    rows = [
        row("i/run-20251020-120000__c.txt", False, False, hypothesis_fingerprint="h1", file_date="2025-10-20T12:00:00",
            commit_date="2025-10-20T15:00:00Z", finding_keys=["RA301 src/preprocess.py"]),
        row("i/run-20251020-120000__a.txt", False, False, hypothesis_fingerprint="h1", file_date="2025-10-20T12:00:00",
            commit_date="2025-10-20T13:00:00Z", finding_keys=["RA901 pyproject.toml", "RA606 src/train.py"]),
        row("i/run-20251020-120000__b.txt", False, False, hypothesis_fingerprint="h1", file_date="2025-10-20T12:00:00",
            commit_date="2025-10-20T14:00:00Z", finding_keys=["RA901 pyproject.toml"]),
        # linked to the others only through the same run ids as round c
        row("i/other__z.txt", True, True, hypothesis_fingerprint=None, run_ids=["r1", "r2"], commit_date="2025-10-21T00:00:00Z"),
        row("i/lonely.txt", True, True, hypothesis_fingerprint="h2"),
    ]
    rows[0].run_ids = ["r2", "r1"]
    groups = aggregate(rows).iterations
    assert len(groups) == 1
    g = groups[0]
    assert [Path(f).name for f in g.files] == ["run-20251020-120000__a.txt", "run-20251020-120000__b.txt", "run-20251020-120000__c.txt", "other__z.txt"]
    assert set(g.linked_by) == {"hypothesis", "run_ids"}
    s1, s2, s3 = g.steps
    assert (s1.fixed, s1.appeared, s1.kept) == (["RA606 src/train.py"], [], 1)
    assert (s2.fixed, s2.appeared) == (["RA901 pyproject.toml"], ["RA301 src/preprocess.py"])
    assert (s3.fixed, s3.reviewer_ready_after) == (["RA301 src/preprocess.py"], True)


# --------------------------------------------------------------------------- schema


def test_corpus_schema_is_committed_and_current():
    committed = json.loads(corpus.SCHEMA_PATH.read_text(encoding="utf-8"))
    assert committed == corpus.corpus_json_schema(), (
        "reviewer_audit/data/corpus.schema.json drifted from the CorpusReport models; "
        "regenerate it with `python -m reviewer_audit.corpus.report --write-schema` and review the diff")


# --------------------------------------------------------------------------- the command on real files


@pytest.fixture(scope="module")
def fixtures_report() -> CorpusReport:
    """`reviewer-audit report fixtures/ --format json`, run once (in a process pool) for several tests."""
    result = runner.invoke(app, ["report", str(FIXTURES), "--format", "json", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    jsonschema.validate(data, json.loads(corpus.SCHEMA_PATH.read_text(encoding="utf-8")))
    return CorpusReport.model_validate(data)


def test_report_over_fixtures(fixtures_report):
    report = fixtures_report
    by_name = {Path(r.file).name: r for r in report.rows}
    for seed in SEEDS:
        assert seed.name in by_name and by_name[seed.name].error is None, by_name.get(seed.name)
    assert by_name["seed_002_fwlora_o3_ready.txt"].reviewer_ready is True
    assert by_name["seed_000_glora_o3_not_ready.txt"].reviewer_ready is False
    assert all(r.llm_name == "o3-2025-04-16" and r.criteria for r in (by_name[s.name] for s in SEEDS))
    # bundles under fixtures/ (folders with a pyproject.toml) are not taken for transcripts
    assert not any("clean_bundle" in r.file or "hostile_bundle" in r.file for r in report.rows)
    agg = report.aggregates
    assert agg.transcripts == len(report.rows) and agg.agreement.n + agg.agreement.no_reviewer_verdict == agg.audited
    fp = {Path(f.file).name for f in agg.false_positives}
    assert fp == {Path(r.file).name for r in report.rows if r.ok and r.reviewer_ready and r.tool_ready is False}
    text = render(report, "text")
    assert "reviewer x tool" in text and "Cohen's kappa" in text and "reviewer false positives" in text
    for seed_fp in agg.false_positives:
        assert Path(seed_fp.file).name in text


def test_text_on_stdout():
    result = runner.invoke(app, ["report", str(SEEDS[1]), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "reviewer x tool" in result.stdout and "1 transcript(s), 1 audited" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour codes when stdout is not a terminal


def test_markdown_has_the_tables(fixtures_report):
    md = render(fixtures_report, "markdown")
    for heading in ("### Reviewer × tool", "### Reviewer false positives", "### Per criterion", "### By reviewer model",
                    "### By prompt version", "### Most frequent rules", "### Reviewer claims (", "#### Reviewer false alarms: refuted claims",
                    "#### Unverified claims by kind of defect", "### Iterations"):
        assert heading in md
    assert "| **reviewer: ready** |" in md and "| --- |" in md
    for r in fixtures_report.rows:
        if r.ok and r.llm_name:
            assert r.llm_name in md


def test_output_file_gets_everything_and_stdout_nothing(tmp_path):
    out = tmp_path / "report.md"
    result = runner.invoke(app, ["report", str(SEEDS[0]), "--format", "markdown", "--output", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("## reviewer-audit corpus report")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_broken_transcripts_are_listed_not_fatal(tmp_path, jobs):
    folder = tmp_path / "transcripts"
    folder.mkdir()
    shutil.copy(SEEDS[0], folder / SEEDS[0].name)
    broken = write_broken(folder / "bad")
    result = runner.invoke(app, ["report", str(folder), "--format", "json", "--jobs", jobs])
    assert result.exit_code == 0, result.output
    report = CorpusReport.model_validate_json(result.output)
    assert report.aggregates.transcripts == 3 and report.aggregates.audited == 1
    errors = {Path(e.file).name: e for e in report.aggregates.errors}
    assert set(errors) == {p.name for p in broken}
    assert "Output:" in errors["broken_no_output.txt"].error and errors["broken_no_output.txt"].kind == "input"
    assert "not JSON" in errors["broken_verdict.txt"].error
    assert all("\n" not in e.error for e in errors.values())
    text = render(report, "text")
    assert "not audited (2)" in text and "broken_verdict.txt" in text
    assert "broken_no_output.txt" in render(report, "markdown") and "broken_no_output.txt" in render(report, "html")


def test_a_crashing_audit_is_isolated(tmp_path, monkeypatch):
    folder = corpus_dir_with_seeds(tmp_path)
    real = corpus._audit_path

    def flaky(path, fail_on):
        if "seed_000" in path:
            raise RuntimeError("rule exploded\non two lines")
        return real(path, fail_on)

    monkeypatch.setattr(corpus, "_audit_path", flaky)
    rows = corpus.audit_corpus(corpus.find_transcripts([folder]), jobs=1)
    bad = [r for r in rows if r.error]
    assert len(bad) == 1 and bad[0].error_kind == "crash"
    assert bad[0].error.startswith("audit crashed: RuntimeError: rule exploded on two lines")
    assert [r.ok for r in rows].count(True) == 1


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="needs the fork start method to inject a dying worker")
def test_a_dying_worker_process_is_isolated(tmp_path, monkeypatch):
    folder = tmp_path / "transcripts"
    folder.mkdir()
    shutil.copy(SEEDS[1], folder / SEEDS[1].name)
    shutil.copy(SEEDS[0], folder / "dies.txt")
    real = corpus._audit_path

    def dying(path, fail_on):
        if path.endswith("dies.txt"):
            os._exit(3)
        return real(path, fail_on)

    monkeypatch.setattr(corpus, "_audit_path", dying)
    rows = corpus.audit_corpus(corpus.find_transcripts([folder]), jobs=2)
    by_name = {Path(r.file).name: r for r in rows}
    assert len(rows) == 2
    assert by_name["dies.txt"].error_kind == "worker"
    assert all(r.ok for n, r in by_name.items() if n != "dies.txt")


def test_usage_errors_exit_2(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["report", str(empty)])
    assert result.exit_code == 2 and "no transcripts found" in result.output
    result = runner.invoke(app, ["report", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no such file" in result.output
    result = runner.invoke(app, ["report", "--merge", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and "missing.jsonl" in result.output
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text('{"file": "x"}\nnot json\n{"file": "y"}\n', encoding="utf-8")
    result = runner.invoke(app, ["report", "--merge", str(garbage)])
    assert result.exit_code == 2 and "garbage.jsonl:2" in result.output
    result = runner.invoke(app, ["report", str(SEEDS[0]), "--jobs", "0"])
    assert result.exit_code == 2


def test_jsonl_shards_merge_equals_direct_aggregation(tmp_path):
    folder = corpus_dir_with_seeds(tmp_path)
    write_broken(folder / "bad")
    files = corpus.find_transcripts([folder])
    direct = runner.invoke(app, ["report", str(folder), "--format", "json", "--jobs", "2"])
    assert direct.exit_code == 0, direct.output
    direct_report = CorpusReport.model_validate_json(direct.output)

    shard_a, shard_b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    half = len(files) // 2
    for shard, part in ((shard_a, files[:half]), (shard_b, files[half:])):
        result = runner.invoke(app, ["report", *map(str, part), "--jsonl", str(shard), "--jobs", "1", "--format", "json"])
        assert result.exit_code == 0, result.output
    assert sum(1 for _ in shard_a.open()) + sum(1 for _ in shard_b.open()) == len(files)
    merged = runner.invoke(app, ["report", "--merge", str(shard_a), str(shard_b), "--format", "json"])
    assert merged.exit_code == 0, merged.output
    merged_report = CorpusReport.model_validate_json(merged.output)
    assert merged_report.merged and merged_report.inputs == [str(shard_a), str(shard_b)]

    def strip(rows):
        return [r.model_dump(exclude={"duration_ms"}) for r in rows]

    assert strip(merged_report.rows) == strip(direct_report.rows)
    assert merged_report.aggregates == direct_report.aggregates
    for fmt in ("markdown", "html"):
        assert render(merged_report, fmt) == render(direct_report.model_copy(update={"merged": True, "inputs": merged_report.inputs,
                                                                                       "jobs": None, "wall_ms": None}), fmt)


def test_jsonl_is_append_safe_after_a_killed_writer(tmp_path):
    shard = tmp_path / "s.jsonl"
    runner.invoke(app, ["report", str(SEEDS[0]), "--jsonl", str(shard), "--jobs", "1", "--format", "json"])
    with shard.open("a", encoding="utf-8") as fh:
        fh.write('{"file": "half-written')  # a writer killed mid-line
    merged = runner.invoke(app, ["report", "--merge", str(shard), "--format", "json"])
    assert merged.exit_code == 0 and "ignoring truncated last line" in merged.stderr
    runner.invoke(app, ["report", str(SEEDS[1]), "--jsonl", str(shard), "--jobs", "1", "--format", "json"])
    lines = shard.read_text(encoding="utf-8").split("\n")
    assert lines[1] == '{"file": "half-written' and json.loads(lines[2])["file"] == str(SEEDS[1])
    # the broken line is now in the middle: the merge refuses it, naming the line
    merged = runner.invoke(app, ["report", "--merge", str(shard), "--format", "json"])
    assert merged.exit_code == 2 and "s.jsonl:2" in merged.output
    # a re-audited file replaces its earlier row
    shard.write_text("\n".join([lines[0], lines[0], lines[2]]) + "\n", encoding="utf-8")
    merged = runner.invoke(app, ["report", "--merge", str(shard), "--format", "json"])
    assert merged.exit_code == 0 and len(CorpusReport.model_validate_json(merged.stdout).rows) == 2


# --------------------------------------------------------------------------- html in a real browser


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("chromium is not installed and cannot be installed here (needs apt-get as root)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "chromium", "chromium-driver"], check=True, capture_output=True, env=env, timeout=1200)
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"chromium is not installed and `apt-get install chromium chromium-driver` failed: {exc}")
    found = shutil.which("chromium")
    if not found:
        pytest.skip("apt-get installed chromium but no `chromium` binary is on PATH")
    return found


def _dump_dom(chromium: str, page: Path, profile: Path, width: int = 1366) -> str:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
           f"--window-size={width},800", "--dump-dom", page.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Dom(html.parser.HTMLParser):
    """Text by element id, rows of tables by id, counts of tags, attributes of <body>."""

    def __init__(self):
        super().__init__()
        self.by_id: dict[str, str] = {}
        self.table_rows: dict[str, int] = {}
        self.tags: dict[str, int] = {}
        self.body: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []
        self._table: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "body":
            self.body = {k: v or "" for k, v in a.items()}
        if tag == "table":
            self._table.append(a.get("id"))
        if tag == "tr" and self._table and self._table[-1] and a.get("class") != "head":
            self.table_rows[self._table[-1]] = self.table_rows.get(self._table[-1], 0) + 1
        self._open.append((tag, a.get("id")))
        if a.get("id"):
            self.by_id[a["id"]] = ""

    def handle_endtag(self, tag):
        if tag == "table" and self._table:
            self._table.pop()
        while self._open:
            t, _ = self._open.pop()
            if t == tag:
                break

    def handle_data(self, data):
        for _, eid in self._open:
            if eid:
                self.by_id[eid] += data


def test_html_report_renders_in_headless_chromium(tmp_path):
    chromium = _chromium()
    rows = kappa_example_rows()
    rows[2].top_blockers.append(Blocker(rule="RA606", name="train-json-dump", severity="major", path="src/train.py", line=325,
                                        where="src/train.py:325", message="train.py prints <json> & more", snippet="print(json.dumps(m))"))
    rows[2].counts = {"blocker": 1, "major": 1, "minor": 0}
    rows[2].criteria = [CriterionStatus(criterion="6", topic="wandb", title="WandB Integration", tool="fail", reviewer="pass")]
    rows[3].claims = [ClaimSummary(text="The <script>alert(1)</script> claim", status="refuted", evidence="src/model.py parses", defect="python-syntax"),
                      ClaimSummary(text="shape mismatch", status="unverified", defect="shape-or-type", kind="crash")]
    rows[3].claims_refuted, rows[3].claims_unverified = 1, 1
    report = build_report(rows, fail_on="major")
    page = tmp_path / "report.html"
    page.write_text(render(report, "html"), encoding="utf-8")
    source = page.read_text(encoding="utf-8")
    # self-contained: no script, no external resource of any kind
    lowered = source.lower()
    assert "<script" not in lowered and "<link" not in lowered and "@import" not in lowered and "url(" not in lowered
    assert " src=" not in lowered and " href=" not in lowered

    # the test (not the report) injects a probe for horizontal overflow on a 1366px laptop screen
    probe = tmp_path / "probe.html"
    probe.write_text(source.replace("</body>", "<script>document.body.setAttribute('data-scroll-width', "
                                                 "document.documentElement.scrollWidth)</script></body>"), encoding="utf-8")
    dom = _Dom()
    dom.feed(_dump_dom(chromium, probe, tmp_path / "profile"))
    assert int(dom.body["data-scroll-width"]) <= 1366, "the page scrolls sideways on a laptop screen"

    ids = dom.by_id
    assert [ids[k].strip() for k in ("cm-rr-tr", "cm-rr-tn", "cm-rn-tr", "cm-rn-tn")] == ["2", "8", "5", "15"]
    assert ids["stat-transcripts"].strip() == "32" and ids["stat-audited"].strip() == "31" and ids["stat-errors"].strip() == "1"
    assert ids["stat-approvals"].strip() == "10" and ids["stat-approvals-rejected"].strip() == "8 (80%)"
    assert ids["stat-kappa"].strip() == "-0.054" and ids["stat-n"].strip() == "30"
    assert dom.table_rows["fp-table"] == 1 + 8  # header row + one per false positive
    assert dom.table_rows["errors-table"] == 1 + 1
    assert dom.tags.get("details", 0) >= 8  # each false positive's evidence folds out
    assert "train.py prints <json> & more" in ids["fp-table"] and "print(json.dumps(m))" in ids["fp-table"]
    assert "wandb" in ids["criteria-table"]
    assert dom.table_rows["false-alarms-table"] == 1 + 1 and "src/model.py parses" in ids["false-alarms-table"]
    assert dom.table_rows["unverified-kinds-table"] == 1 + 1 and "shape-or-type" in ids["unverified-kinds-table"]
    assert ids["stat-false-alarms"].strip() == "1"
    assert dom.tags.get("script", 0) == 1  # only the probe: the claim text stayed text
    assert dom.tags.get("svg", 0) >= 2  # heat map and per-criterion bars


# --------------------------------------------------------------------------- the real corpus


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "transcripts").is_dir(), reason=f"shared corpus not found at {CORPUS} (it sits beside the checkout)")
def test_corpus_report_lists_every_caught_crashed_approval_as_false_positive():
    files = corpus.find_transcripts([CORPUS / "transcripts"])
    report = build_report(corpus.audit_corpus(files, jobs=os.cpu_count()))
    assert report.aggregates.transcripts == len(files) == len(report.rows)
    rows = {Path(r.file).name: r for r in report.rows}
    fp_names = {Path(f.file).name for f in report.aggregates.false_positives}
    # the listing logic, whatever the rules catch today
    assert fp_names == {n for n, r in rows.items() if r.ok and r.reviewer_ready and r.tool_ready is False}
    with (CORPUS / "index.tsv").open(encoding="utf-8", newline="") as fh:
        index = list(csv.DictReader(fh, delimiter="\t"))
    crashed_approved = [r["file"] for r in index if r["verdict"] == "true" and r["crashed"] == "yes"]
    assert crashed_approved, "index.tsv lists no approved transcript whose first run crashed"
    caught = []
    for name in crashed_approved:
        r = rows[name]
        assert r.error is None, f"{name}: {r.error}"
        assert r.reviewer_ready is True
        if r.tool_ready is False:
            caught.append(name)
            fp = next(f for f in report.aggregates.false_positives if Path(f.file).name == name)
            assert fp.top_blockers, f"{name} is listed without its blockers"
        else:
            assert name not in fp_names
    print(f"\ncaught {len(caught)} of {len(crashed_approved)} approved transcripts whose first run crashed")
    for fmt in ("text", "markdown", "html", "json"):
        assert render(report, fmt)
