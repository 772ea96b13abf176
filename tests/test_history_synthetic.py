"""`history` on repositories built here: what it extracts, and how it fails on bad repositories.

The main repository replays an AIRAS pipeline: two reviews, the approved bundle committed, a
trial that fails and is fixed, a trial that passes, a full run branch that fails (error in the
log) and then passes with a NaN loss, a retry branch whose log has no PASSED line, and the first
review's text committed again. Smaller ones hold the traps and the bad repositories.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from typer.testing import CliRunner

from reviewer_audit.cli import app
from reviewer_audit.corpus.history import collect_history
from reviewer_audit.corpus.history_models import PredictedCrash, Run
from reviewer_audit.corpus.history_transcripts import crash_match
from reviewer_audit.ingest.errors import InputError
from reviewer_audit.ingest.gitrepo import MAX_LOG_BLOB_BYTES, GitRepo, git_blob_id
from reviewer_audit.ingest.transcript import load_transcript

from .conftest import FIXTURES, SEED_000, SEED_002, run_cli
from .gitbuild import RepoBuilder, git, marker

runner = CliRunner()
RUN = "proposed-roberta-base-110M--SST-2-GLUE"
RUN_B = "comparative-1-roberta-base-110M--SST-2-GLUE"
T_PATH = ".research/prompt/create_code_subgraph/validate_experiment_code.txt"
OUT, ERR = ".research/iteration1/stdout.txt", ".research/iteration1/stderr.txt"
TRACEBACK = ('Traceback (most recent call last):\n'
             '  File "/home/ci/_work/r/r/src/evaluate.py", line 13, in <module>\n'
             '    from scipy.stats import binom_test\n'
             "ImportError: cannot import name 'binom_test' from 'scipy.stats'\n")


def _bundle_files(transcript_path) -> dict[str, str]:
    return {p: f.text for p, f in load_transcript(transcript_path).bundle.files.items()}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    b = RepoBuilder(tmp_path_factory.mktemp("hist") / "airas-pipeline")
    b.commit("init", "Initial commit", {"src/main.py": "", "pyproject.toml": "[project]\nname='x'\n", OUT: "", ERR: "",
                                        "README.md": "template\n"})
    b.commit("t1", "Research paper uploaded.", {T_PATH: SEED_000.read_text(encoding="utf-8")}, offset_hours=9)
    b.commit("t2", "Research paper uploaded.", {T_PATH: SEED_002.read_text(encoding="utf-8")}, offset_hours=9)
    b.commit("code", "Add generated experiment files.", _bundle_files(SEED_002), offset_hours=9)
    b.commit("fix1", f"[CI] Automated fix for run_id={RUN}", {
        "src/evaluate.py": b.append("src/evaluate.py", "# fixed\n"),
        OUT: b.append(OUT, marker("TRIAL RUN", "Start", RUN, b.stamp())), ERR: b.append(ERR, TRACEBACK)})
    b.commit("trial", f"[CI] Add successful trial results for run_id={RUN}", {
        OUT: b.append(OUT, marker("TRIAL RUN", "Start", RUN, b.stamp()) + "epoch 1 loss=0.4\n" + marker("TRIAL RUN", "PASSED", RUN, b.stamp(2)))})
    b.branch(f"main-{RUN}")
    b.commit("full_fail", f"[CI] Automated fix for run_id={RUN}", {
        "src/train.py": b.append("src/train.py", "# fixed again\n"),
        OUT: b.append(OUT, marker("FULL EXPERIMENT", "Start", RUN, b.stamp()) + "step 1\n"),
        ERR: b.append(ERR, 'Traceback (most recent call last):\n  File "/w/r/src/train.py", line 12, in main\n    x = cfg.lr\n'
                           "omegaconf.errors.ConfigAttributeError: Key 'lr' is not in struct\n")})
    b.commit("full_ok", "[CI] Commit all changes from autonomous run (iteration 1)", {
        OUT: b.append(OUT, marker("FULL EXPERIMENT", "Start", RUN, b.stamp()) + "wandb:     train_loss nan\n"
                      + marker("FULL EXPERIMENT", "PASSED", RUN, b.stamp(3)))})
    b.checkout("main")
    b.branch(f"main-retry-1-{RUN_B}")
    b.commit("retry", "[CI] Commit all changes from autonomous run (iteration 1)", {
        OUT: b.append(OUT, marker("FULL EXPERIMENT", "Start", RUN_B, b.stamp()) + "loading model\n"),
        ERR: b.append(ERR, "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\n")})
    b.checkout("main")
    b.commit("t2_edit", "Research paper uploaded.", {T_PATH: SEED_002.read_text(encoding="utf-8") + "\n"}, offset_hours=9)
    b.commit("t1_back", "Research paper uploaded.", {T_PATH: SEED_000.read_text(encoding="utf-8")}, offset_hours=9)
    return b


@pytest.fixture(scope="module")
def history(pipeline):
    return collect_history([pipeline.path], jobs=1)


def _run(repo, sha) -> list[Run]:
    return [r for r in repo.runs if r.commit == sha]


def test_every_run_with_its_outcome_mode_branch_and_error(pipeline, history):
    s = pipeline.shas
    [repo] = history.repos
    assert not history.errors
    assert (repo.counts.runs, repo.counts.passed, repo.counts.failed, repo.counts.unknown) == (5, 2, 3, 0)
    assert repo.counts.passed_lines == 2 and repo.counts.fix_commits == 2

    [fix1] = _run(repo, s["fix1"])
    assert (fix1.outcome, fix1.mode, fix1.run_id, fix1.branch, fix1.code_commit) == ("failed", "trial", RUN, "main", s["code"])
    assert fix1.error == "ImportError: cannot import name 'binom_test' from 'scipy.stats'"
    assert (fix1.error_file, fix1.error_line) == ("src/evaluate.py", 13)
    assert [(f.commit, f.files) for f in fix1.fixes] == [(s["fix1"], ["src/evaluate.py"])]

    [trial] = _run(repo, s["trial"])
    assert (trial.outcome, trial.mode, trial.evidence, trial.code_commit, trial.fixes) == ("passed", "trial", "passed-line", s["fix1"], [])

    [full_fail] = _run(repo, s["full_fail"])
    assert (full_fail.outcome, full_fail.mode, full_fail.branch) == ("failed", "full", f"main-{RUN}")
    assert full_fail.error == "omegaconf.errors.ConfigAttributeError: Key 'lr' is not in struct"
    assert [f.commit for f in full_fail.fixes] == [s["full_fail"]]

    [full_ok] = _run(repo, s["full_ok"])
    assert full_ok.outcome == "passed" and "nan_loss" in full_ok.flags  # completed is not correct

    [retry] = _run(repo, s["retry"])  # a log with no PASSED line
    assert (retry.outcome, retry.evidence, retry.run_id, retry.branch) == ("failed", "no-passed-line", RUN_B, f"main-retry-1-{RUN_B}")
    assert retry.error.startswith("RuntimeError: CUDA out of memory") and retry.fixes == []


def test_json_contract_has_full_shas(history):
    doc = json.loads(history.model_dump_json())
    repo = doc["repos"][0]
    sha = re.compile(r"^[0-9a-f]{40}$")
    for run in repo["runs"]:
        assert sha.match(run["commit"]) and sha.match(run["code_commit"])
        assert {"run_id", "mode", "outcome", "error"} <= run.keys() and run["outcome"] in ("passed", "failed", "unknown")
    for t in repo["transcripts"]:
        assert sha.match(t["commit"]) and {"reviewer_ready", "tool_ready", "outcome_next_run"} <= t.keys()


def test_each_version_is_listed_and_each_text_audited_once_as_of_its_commit(pipeline, tmp_path, monkeypatch):
    from reviewer_audit.pipeline import audit

    calls = []
    real = audit.audit_parsed_transcript

    def spy(transcript, **kw):
        calls.append((transcript.source, kw["exclude_newer"]))
        return real(transcript, **kw)

    monkeypatch.setattr(audit, "audit_parsed_transcript", spy)
    report = collect_history([pipeline.path], jobs=1)
    versions = report.repos[0].transcripts
    s = pipeline.shas
    assert [v.commit for v in versions] == [s["t1"], s["t2"], s["t2_edit"], s["t1_back"]]
    assert [v.first_of_blob for v in versions] == [True, True, True, False]
    assert len(calls) == 3  # t1_back holds t1's text again: audited once
    dates = {src.split("@")[1]: date for src, date in calls}
    assert dates[s["t2"][:12]] == git(pipeline.path, "log", "-1", "--format=%aI", s["t2"])  # exclude_newer = commit date
    assert len(report.corpus.rows) == 3 and report.repos[0].counts.reviews == 3


def test_the_approved_review_is_scored_against_the_next_run_of_its_code(pipeline, history):
    s = pipeline.shas
    t1, t2 = history.repos[0].transcripts[:2]
    assert (t1.reviewer_ready, t1.code_commit, t1.next_run, t1.outcome_next_run) == (False, None, None, "unknown")
    assert (t2.reviewer_ready, t2.tool_ready, t2.code_commit) == (True, False, s["code"])
    assert t2.next_run.commit == s["fix1"] and t2.outcome_next_run == "failed"
    assert t2.first_crash.rule == "RA901" and t2.first_crash.path == "pyproject.toml"
    m = t2.crash_match
    assert (m.error_file, m.same_file, m.same_error) == ("src/evaluate.py", False, False)
    assert m.same_kind is True  # a missing import against a dependency finding
    scores = history.scores
    assert (scores.reviewer.ready_failed, scores.tool.not_ready_failed, scores.scored) == (1, 1, 1)
    assert scores.tool.precision == 1.0 and scores.reviewer.recall == 0.0
    assert [g.key for g in scores.by_model] == ["o3-2025-04-16"]


def test_crash_match_finds_the_same_file_and_error():
    run = Run(commit="a" * 40, code_commit="b" * 40, code_exact=True, run_id="r", mode="trial", outcome="failed",
              error="ImportError: cannot import name 'binom_test' from 'scipy.stats'", error_file="src/evaluate.py", error_line=13,
              evidence="fix-commit", date="2025-11-06T12:00:00+00:00")
    hit = crash_match(run, PredictedCrash(rule="RA906", path="src/evaluate.py", line=13, message="`from scipy.stats import binom_test` raises ImportError"))
    assert (hit.same_file, hit.same_line, hit.same_error) == (True, True, True)
    hydra = crash_match(run.model_copy(update={"error": "Could not override 'run'. No match in the defaults list.", "error_file": None, "error_line": None}),
                        PredictedCrash(rule="RA906", path="src/evaluate.py", line=13, topic="exec", message="scipy import"))
    assert hydra.same_kind is False and hydra.same_error is False
    miss = crash_match(run, None)
    assert miss.predicted is None and miss.same_file is None


def test_timeline_goes_review_run_fix_in_time_order(pipeline, history):
    s = pipeline.shas
    [tl] = [t for t in history.repos[0].timeline if t.run_id == RUN]
    kinds = [(e.kind, e.commit, e.outcome if e.kind == "run" else None) for e in tl.events]
    assert kinds == [("review", s["t2"], None), ("run", s["fix1"], "failed"), ("fix", s["fix1"], None), ("run", s["trial"], "passed"),
                     ("run", s["full_fail"], "failed"), ("fix", s["full_fail"], None), ("run", s["full_ok"], "passed"),
                     ("review", s["t2_edit"], None)]  # seed_000 (t1) names other run ids; t1_back repeats t1
    dates = [dt.datetime.fromisoformat(e.date) for e in tl.events]
    assert dates == sorted(dates) and all(d.utcoffset() == dt.timedelta(0) for d in dates)


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_format_renders_the_timeline_and_scores(history, fmt):
    from reviewer_audit.output.history_report import render

    out = render(history, fmt)
    assert RUN in out and "airas-pipeline" in out
    if fmt == "html":
        assert re.search(r'id="ex-rev-rf"[^>]*>1<', out) and re.search(r'id="ex-tool-nf"[^>]*>1<', out)
        assert 'id="timeline-1"' in out and 'id="scores-table"' in out and 'id="crash-table"' in out
        assert 'id="cm-rr-tn"' in out  # the corpus report's own sections follow
        assert "<script" not in out
    elif fmt == "markdown":
        assert "## Scores against execution" in out and "review (ready / tool not ready) → trial failed → fix" in out
    else:
        assert "scores against execution" in out and "trial run failed" in out


def test_the_committed_history_schema_is_current():
    from reviewer_audit.output.json_out import schema_text

    from .conftest import ROOT

    committed = (ROOT / "reviewer_audit" / "data" / "history.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text("history"), "run `reviewer-audit schema history > reviewer_audit/data/history.schema.json`"


# --------------------------------------------------------------------------- traps


@pytest.fixture(scope="module")
def traps(tmp_path_factory):
    b = RepoBuilder(tmp_path_factory.mktemp("traps") / "traps")
    b.commit("init", "Initial commit", {"src/main.py": "", "src/train.py": "x = 1\n", "pyproject.toml": "[project]\nname='t'\n",
                                        "model.safetensors": bytes(range(256)) * 64})
    b.commit("empty_pass", "[CI] Add successful trial results for run_id=r", {
        OUT: marker("TRIAL RUN", "Start", "r") + marker("TRIAL RUN", "PASSED", "r")})
    b.commit("main", "fill main", {"src/main.py": "print('hi')\n"})
    b.commit("agent", "[CI] Apply fixes for run_id: r", {
        "src/train.py": "x = 2\n",
        OUT: b.append(OUT, marker("TRIAL RUN", "Start", "r") + marker("TRIAL RUN", "Start", "r") + marker("TRIAL RUN", "Start", "r")
                      + marker("TRIAL RUN", "PASSED", "r"))})
    b.commit("fix_nolog", "[CI] Automated fix for run_id=r", {"src/train.py": "x = 3\n"})
    b.commit("agent_pyproject", "[CI] Apply fixes for run_id: r", {
        "pyproject.toml": "[project]\nname='t'\ndependencies=[]\n",
        OUT: b.append(OUT, marker("TRIAL RUN", "Start", "r") + marker("TRIAL RUN", "Start", "r") + marker("TRIAL RUN", "PASSED", "r"))})
    return b


def test_traps(traps):
    s = traps.shas
    [repo] = collect_history([traps.path], jobs=1).repos
    assert repo.transcripts == [] and repo.counts.transcript_versions == 0  # no transcripts at all

    [empty] = _run(repo, s["empty_pass"])  # PASSED for an empty main.py: nothing ran
    assert empty.outcome == "unknown" and "empty_main" in empty.flags

    first, middle, last = _run(repo, s["agent"])  # logs edited in the same commit as the code
    assert (first.outcome, first.code_commit, first.code_exact) == ("failed", s["main"], True)
    assert (middle.outcome, middle.code_commit, middle.code_exact) == ("failed", None, False)
    assert (last.outcome, last.code_commit, last.code_exact) == ("passed", s["agent"], False)
    assert all("code_edited_in_commit" in r.flags for r in (first, middle, last))
    assert [f.commit for f in first.fixes] == [s["agent"]]

    [nolog] = _run(repo, s["fix_nolog"])
    assert (nolog.outcome, nolog.evidence, nolog.error, nolog.code_commit) == ("failed", "fix-commit", None, s["agent"])
    assert any("not recorded" in n for n in nolog.notes)
    # an agent that edited pyproject.toml may have fixed it before its first attempt (the install is not logged)
    inferred, first, last = _run(repo, s["agent_pyproject"])
    assert (first.code_commit, first.code_exact, last.code_exact) == (s["fix_nolog"], False, False)
    # ... but it edits code only after a failure: the checked-out code failed (install or first run)
    assert (inferred.evidence, inferred.outcome, inferred.code_commit, inferred.code_exact) == ("agent-commit", "failed", s["fix_nolog"], True)
    assert repo.counts.passed_lines == 3 and repo.counts.passed == 2 and repo.counts.unknown == 1


def test_a_huge_log_is_refused_before_it_is_read_and_a_large_one_is_read(tmp_path):
    b = RepoBuilder(tmp_path / "huge")
    b.commit("init", "Initial commit", {"src/main.py": "print(1)\n"})
    big = "x" * 100 + "\n"
    b.commit("large", "[CI] Add successful trial results for run_id=r", {
        OUT: marker("TRIAL RUN", "Start", "r") + big * 30_000 + marker("TRIAL RUN", "PASSED", "r")})
    b.commit("huge", "[CI] Add successful trial results for run_id=r", {
        OUT: b.append(OUT, big * (MAX_LOG_BLOB_BYTES // len(big)) + marker("TRIAL RUN", "PASSED", "r"))})
    [repo] = collect_history([b.path], jobs=1).repos
    [large] = _run(repo, b.shas["large"])
    assert large.outcome == "passed"
    [huge] = _run(repo, b.shas["huge"])
    assert (huge.outcome, huge.evidence, huge.flags) == ("unknown", "log-unreadable", ["log_unavailable"])
    assert f"over the {MAX_LOG_BLOB_BYTES}-byte read limit" in huge.notes[0]
    assert any("read limit" in n for n in repo.notes)


def test_binary_files_logs_and_transcripts(tmp_path):
    b = RepoBuilder(tmp_path / "binary")
    b.commit("init", "Initial commit", {"src/main.py": "print(1)\n", "weights.bin": bytes(range(256)) * 10})
    b.commit("bin_log", "[CI] Add successful trial results for run_id=r", {OUT: b"\x00\x01PASSED\x00" * 100})
    b.commit("bin_t", "Research paper uploaded.", {T_PATH: b"\nLLM Name: x\nInput:\n\xff\xfe garbage\nOutput:\n{}\n"})
    report = collect_history([b.path], jobs=1)
    [repo] = report.repos
    [run] = _run(repo, b.shas["bin_log"])
    assert run.outcome == "unknown" and any("binary" in n for n in run.notes)
    [t] = repo.transcripts
    assert t.audit_error and "not valid UTF-8" in t.audit_error and t.outcome_next_run == "unknown"
    assert report.corpus.aggregates.errors[0].kind == "input"


def test_a_blob_missing_from_a_snapshot_is_a_note_not_a_failure(pipeline, tmp_path):
    clone = tmp_path / "snapshot.git"
    git(tmp_path, "clone", "-q", "--bare", "--no-local", str(pipeline.path), str(clone))
    git(clone, "repack", "-q", "-a", "-d")
    # drop one stderr blob: unpack everything, delete that loose object, remove the pack
    stderr_blob = git(clone, "rev-parse", f"{pipeline.shas['retry']}:{ERR}")
    for pack in (clone / "objects" / "pack").glob("*.pack"):
        data = pack.read_bytes()
        for f in pack.parent.glob(pack.stem + ".*"):
            f.unlink()
        subprocess_unpack(clone, data)
    (clone / "objects" / stderr_blob[:2] / stderr_blob[2:]).unlink()
    report = collect_history([clone], jobs=1)
    assert not report.errors
    [retry] = _run(report.repos[0], pipeline.shas["retry"])
    assert retry.outcome == "failed" and "stderr_unavailable" in retry.flags
    assert any("absent from this repository" in n for n in report.repos[0].notes)


def subprocess_unpack(repo, pack_bytes: bytes) -> None:
    import subprocess

    subprocess.run(["git", "unpack-objects", "-q"], input=pack_bytes, cwd=repo, check=True, env={"GIT_DIR": str(repo), "PATH": "/usr/bin:/bin"})


# --------------------------------------------------------------------------- bad repositories


def test_a_shallow_clone_is_refused_with_one_line(pipeline, tmp_path):
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{pipeline.path}", str(shallow))
    with pytest.raises(InputError, match="shallow clone"):
        GitRepo(shallow)
    result = runner.invoke(app, ["history", str(shallow)])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "shallow clone" in result.output and "Traceback" not in result.output


def test_a_corrupt_repository_gives_one_line_and_the_batch_goes_on(pipeline, traps, tmp_path):
    broken = tmp_path / "broken"
    git(tmp_path, "clone", "-q", "--no-local", str(traps.path), str(broken))
    git(broken, "repack", "-q", "-a", "-d")
    for pack in (broken / ".git" / "objects" / "pack").glob("*.pack"):
        data = pack.read_bytes()
        for f in pack.parent.glob(pack.stem + ".*"):
            f.unlink()
        subprocess_unpack(broken / ".git", data)
    tree = git(broken, "rev-parse", "HEAD~2:src")
    (broken / ".git" / "objects" / tree[:2] / tree[2:]).unlink()
    not_a_repo = tmp_path / "plain"
    not_a_repo.mkdir()
    result = run_cli("history", str(broken), str(pipeline.path), str(not_a_repo), "--format", "json", "--jobs", "1")
    assert result.returncode == 2
    lines = sorted(result.stderr.strip().splitlines())
    assert len(lines) == 2 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"reviewer-audit: {broken}: corrupt or partial repository")
    assert lines[1].startswith(f"reviewer-audit: {not_a_repo}: not a readable git repository")
    doc = json.loads(result.stdout)
    assert [r["name"] for r in doc["repos"]] == ["airas-pipeline"] and len(doc["errors"]) == 2


def test_usage_errors(tmp_path):
    result = runner.invoke(app, ["history", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no such file or directory" in result.output
    out = tmp_path / "no" / "dir" / "out.html"
    result = runner.invoke(app, ["history", str(FIXTURES), "-o", str(out)])
    assert result.exit_code == 2 and "not a readable git repository" in result.output
    assert not out.exists() and not out.parent.exists(), "nothing is written when no repository could be read"


def test_blob_ids_are_gits():
    assert git_blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
