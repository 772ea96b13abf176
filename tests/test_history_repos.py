"""`history` on the six AIRAS mirrors in ../shared/repos, checked against git itself.

The counts are recounted here with git plumbing (the git command line, not the code under test):
PASSED lines the commits added to `.research/iteration*/stdout.txt` (END is the same line's
older wording), Start lines added, `[CI] Automated fix` commits, and transcript versions. The
known-good runs of ../shared/knowngood/manifest.tsv must come out passed at their commits, and
the reviews the corpus index says crashed must be scored against a failed run.
"""
from __future__ import annotations

import csv
import json
import re
import subprocess

import pytest

from reviewer_audit.corpus.history import collect_history

from .conftest import SHARED, run_cli

REPOS = SHARED / "repos"
MIRRORS = sorted(REPOS.glob("*.git")) if REPOS.is_dir() else []
pytestmark = pytest.mark.skipif(not MIRRORS, reason=f"the AIRAS mirrors are not at {REPOS} (CI places ../shared beside the checkout)")

_PASSED = re.compile(r"^\+=== \[(?:TRIAL RUN|FULL EXPERIMENT)\] (?:PASSED|END)\b")
_START = re.compile(r"^\+=== \[(?:TRIAL RUN|FULL EXPERIMENT)\] Start\b")


def _git(repo, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], capture_output=True, text=True, check=True,
                          errors="replace").stdout


def _added_marker_lines(repo) -> tuple[int, int]:
    """(PASSED or END lines, Start lines) added to the stdout logs by every commit on every branch."""
    patch = _git(repo, "log", "--all", "--no-merges", "-p", "--no-color", "--no-ext-diff", "--format=commit %H", "--",
                 ":(glob).research/iteration*/stdout.txt")
    lines = patch.splitlines()
    return sum(1 for x in lines if _PASSED.match(x)), sum(1 for x in lines if _START.match(x))


def _fix_commits(repo) -> set[str]:
    return set(_git(repo, "rev-list", "--all", "--no-merges", "--fixed-strings", "--grep=[CI] Automated fix for run_id=").split())


def _transcript_versions(repo) -> int:
    names = _git(repo, "log", "--all", "--no-merges", "--diff-filter=AMT", "--name-only", "--format=", "--",
                 ":(glob).research/prompt/create_code_subgraph/validate_experiment_code*.txt")
    return sum(1 for x in names.splitlines() if x.strip())


@pytest.fixture(scope="module")
def report():
    return collect_history(MIRRORS, jobs=2)


@pytest.fixture(scope="module")
def by_name(report):
    return {r.name: r for r in report.repos}


def test_every_mirror_is_read(report):
    assert not report.errors
    assert sorted(r.name for r in report.repos) == sorted(p.name[:-4] for p in MIRRORS)


@pytest.mark.parametrize("mirror", MIRRORS, ids=lambda p: p.name)
def test_counts_match_an_independent_count_with_git(mirror, by_name):
    repo = by_name[mirror.name[:-4]]
    passed_lines, start_lines = _added_marker_lines(mirror)
    fixes = _fix_commits(mirror)

    assert repo.counts.transcript_versions == len(repo.transcripts) == _transcript_versions(mirror)
    assert repo.counts.passed_lines == passed_lines
    passed = [r for r in repo.runs if r.evidence in ("passed-line", "end-line")]
    assert len(passed) == passed_lines  # one run per PASSED line, whatever its outcome became
    started = [r for r in repo.runs if r.evidence == "no-passed-line" or (r.evidence in ("passed-line", "end-line") and r.started_at)]
    assert len(started) == start_lines  # one run per Start line
    assert repo.counts.fix_commits == len(fixes)
    for sha in fixes:  # each automated fix records exactly one failed run: the one it repairs
        recorded = [r for r in repo.runs if r.commit == sha]
        assert [r.outcome for r in recorded] == ["failed"], sha
        assert sha in [f.commit for f in recorded[0].fixes] or not _git(mirror, "diff-tree", "--no-commit-id", "-r", "--name-only", sha, "--", "src", "config", "pyproject.toml").strip()
    assert repo.counts.runs == len(repo.runs) == repo.counts.passed + repo.counts.failed + repo.counts.unknown


def _manifest_rows():
    path = SHARED / "knowngood" / "manifest.tsv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    mirrored = {p.name[:-4] for p in MIRRORS}
    return [r for r in rows if r["repo"] in mirrored]


@pytest.mark.parametrize("row", _manifest_rows(), ids=lambda r: f"{r['repo']}@{r['commit'][:7]}")
def test_known_good_runs_come_out_passed_at_their_commits(row, by_name):
    runs = [r for r in by_name[row["repo"]].runs if r.commit == row["commit"] and r.run_id == row["run_id"]]
    assert runs, f"no run of {row['run_id']} recorded at {row['commit']}"
    assert runs[-1].outcome == "passed" and runs[-1].mode == row["mode_ran"]
    if "code edited inside result commit" in row["notes"]:
        assert "code_edited_in_commit" in runs[-1].flags and not runs[-1].code_exact


def test_a_failed_run_followed_by_a_fix_comes_out_failed(by_name):
    repo = by_name["airas-20251118-130853-matsuzawa"]
    [run] = [r for r in repo.runs if r.commit.startswith("bbd1319")]
    assert (run.outcome, run.run_id, run.mode) == ("failed", "comparative-1-iter1-Qwen3-0.6B-gsm8k", "full")
    assert run.error == "AttributeError: type object 'OmegaConf' has no attribute 'deepcopy'"
    assert (run.error_file, run.error_line) == ("src/train.py", 478)
    assert [(f.commit[:7], f.files) for f in run.fixes] == [("bbd1319", ["src/train.py"])]
    assert run.code_commit.startswith("fa58f82") and run.code_exact
    # the run branch's full run that followed, passed with a NaN loss
    [done] = [r for r in repo.runs if r.commit.startswith("3f6b196")]
    assert done.outcome == "passed" and "nan_loss" in done.flags


def test_reviews_the_corpus_index_says_crashed_are_scored_against_a_failed_run(by_name):
    index = SHARED / "corpus" / "index.tsv"
    if not index.is_file():
        pytest.skip(f"no corpus index at {index}")
    with index.open(encoding="utf-8", newline="") as fh:
        crashed = [r for r in csv.DictReader(fh, delimiter="\t") if r["repo"] in by_name and r["crashed"] == "yes"]
    assert crashed
    for row in crashed:
        [v] = [t for t in by_name[row["repo"]].transcripts if t.commit == row["commit"]]
        assert v.outcome_next_run == "failed", row["file"]
        assert v.reviewer_ready is (row["verdict"] == "true")


def test_repositories_without_transcripts_still_list_their_runs(by_name):
    for name in ("airas-20251109-063211-matsuzawa", "airas-20251118-130853-matsuzawa"):
        repo = by_name[name]
        assert repo.transcripts == [] and repo.counts.runs > 0 and repo.timeline


def test_scores_cover_the_approved_reviews(report):
    s = report.scores
    assert s.reviews == sum(r.counts.reviews for r in report.repos)
    assert s.reviewer.ready_failed >= 5  # every approved bundle whose run is known crashed
    assert s.reviewer.ready_passed == 0
    assert s.scored == s.reviewer.n == s.tool.n


def test_cli_json_contract_on_one_mirror(tmp_path):
    mirror = REPOS / "airas-20251106-163904-matsuzawa.git"
    result = run_cli("history", str(mirror), "--format", "json", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    [repo] = doc["repos"]
    full = re.compile(r"^[0-9a-f]{40}$")
    assert all(full.match(r["commit"]) and full.match(r["code_commit"]) for r in repo["runs"])
    assert all(full.match(t["commit"]) for t in repo["transcripts"])
    approved = [t for t in repo["transcripts"] if t["reviewer_ready"]]
    assert [t["outcome_next_run"] for t in approved] == ["failed"]
    assert doc["corpus"]["aggregates"]["transcripts"] == len(repo["transcripts"])
