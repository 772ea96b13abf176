"""Both documented CI routes, end to end, as a new user runs them in a real repository.

- GitHub Actions: `check --find-bundles . --output sarif:... --output junit:...` passes twice in a
  row on a clean repository (its own outputs are not "extra files" the second time); SARIF from
  a bundle in a subfolder names files that exist from the repository root, at the right line,
  with fingerprints that do not depend on how the path was typed and differ between results.
- pre-commit, with the real pre-commit package and this repository's own hook manifest, in a
  temporary git repository: passes on the clean fixture among dotfiles, a workflow and Hydra
  outputs; fails once a defect is introduced, at the root or in a subfolder bundle.
- JUnit as Jenkins' xunit plugin's schema accepts it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT, SEED_002, SHARED, run_cli

SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
DEFECT = "\nprint(undefined_name_xyz)\n"  # a NameError at import time (RA905)


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def make_repo(root: Path, bundle_at: str = ".") -> Path:
    """A git repository with the clean fixture at `bundle_at`, dotfiles, a workflow and Hydra
    outputs beside it."""
    root.mkdir(parents=True)
    git(root, "init", "-q")
    shutil.copytree(FIXTURES / "clean_bundle", root / bundle_at, dirs_exist_ok=True)
    for rel, text in {
        ".github/workflows/check.yml": "on: push\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps: []\n",
        ".gitignore": "*.pyc\n",
        ".editorconfig": "root = true\n",
        "README.md": "# experiments\n",
        f"{bundle_at}/outputs/2025-01-01/12-00-00/.hydra/config.yaml": "mode: full\n",
        f"{bundle_at}/outputs/2025-01-01/12-00-00/.hydra/overrides.yaml": "- run=proposed\n",
        f"{bundle_at}/outputs/2025-01-01/12-00-00/main.log": "done\n",
        f"{bundle_at}/multirun/2025-01-01/12-00-00/0/.hydra/hydra.yaml": "hydra: {}\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def sarif_validator():
    from jsonschema import Draft7Validator

    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the official SARIF 2.1.0 schema is not at {SARIF_SCHEMA} (CI places ../shared beside the checkout)")
    return Draft7Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- GitHub Actions route


def test_check_with_sarif_and_junit_passes_twice_in_a_row(tmp_path):
    repo = make_repo(tmp_path / "repo")
    cmd = ("check", "--find-bundles", ".", "--output", "text", "--output", "sarif:reviewer-audit.sarif", "--output", "junit:junit.xml")
    for run in (1, 2):
        res = run_cli(*cmd, cwd=repo)
        assert res.returncode == 0, (run, res.stdout[-2000:], res.stderr)
        assert "0 failing" in res.stdout
    log = json.loads((repo / "reviewer-audit.sarif").read_text())
    sarif_validator().validate(log)
    assert log["runs"][0]["results"] == []


def _subfolder_repo(tmp_path: Path) -> Path:
    """experiments/run-1: a bundle with defects of several kinds, among them two findings of one
    rule, a missing file and an extra one."""
    repo = make_repo(tmp_path / "repo", "experiments/run-1")
    bundle = repo / "experiments" / "run-1"
    (bundle / "src" / "evaluate.py").unlink()  # RA501: a required file missing
    (bundle / "src" / "utils.py").write_text("def helper():\n    return 1\n")  # RA502
    train = bundle / "src" / "train.py"
    train.write_text(train.read_text() + DEFECT + "print(another_undefined)\n")
    return repo


def _sarif(repo: Path, cwd: Path, target: str, out: str) -> dict:
    """`check TARGET --output sarif:OUT` run from `cwd`, in-process (the CLI itself is run as a
    process by the other tests here)."""
    from typer.testing import CliRunner

    from reviewer_audit.cli import app

    here = Path.cwd()
    os.chdir(cwd)
    try:
        res = CliRunner().invoke(app, ["check", target, "--output", f"sarif:{out}"])
    finally:
        os.chdir(here)
    assert res.exit_code == 1, res.output
    return json.loads(Path(cwd, out).read_text())


def test_sarif_from_a_subfolder_bundle_lands_on_real_lines(tmp_path):
    repo = _subfolder_repo(tmp_path)
    res = run_cli("check", "experiments/run-1", "--output", "sarif:a.sarif", cwd=repo)
    assert res.returncode == 1, res.stderr
    log = json.loads((repo / "a.sarif").read_text())
    sarif_validator().validate(log)
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    results = run["results"]
    rules = {r["ruleId"] for r in results}
    assert {"RA501", "RA502", "RA905"} <= rules, rules
    resolved = 0
    for res in results:
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        file = repo / loc["artifactLocation"]["uri"]
        assert file.is_file(), loc
        lines = file.read_text().splitlines()
        assert 1 <= loc["region"]["startLine"] <= max(1, len(lines)), "a region on every result, inside the file"
        snippet = loc["region"].get("snippet", {}).get("text")
        if snippet:
            assert lines[loc["region"]["startLine"] - 1].strip() == snippet.strip()
        resolved += 1
    assert resolved == len(results) > 0
    nameerror = [r for r in results if r["ruleId"] == "RA905"]
    assert len(nameerror) >= 2 and all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "experiments/run-1/src/train.py" for r in nameerror)
    missing = next(r for r in results if r["ruleId"] == "RA501")
    assert "src/evaluate.py" in missing["message"]["text"]
    assert missing["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "experiments/run-1/pyproject.toml"
    descriptors = run["tool"]["driver"]["rules"]
    assert all(d["helpUri"].startswith("https://") and d["helpUri"].endswith("#" + d["id"].lower()) for d in descriptors)
    assert run["tool"]["driver"]["informationUri"].startswith("https://")


def _fingerprints(log: dict) -> list[tuple[str, str, str]]:
    return [(r["ruleId"], r["partialFingerprints"]["primaryLocationLineHash"], r["partialFingerprints"]["reviewerAudit/v1"])
            for r in log["runs"][0]["results"]]


def test_sarif_fingerprints_are_stable_across_path_spellings_and_unique(tmp_path):
    from reviewer_audit.output.fingerprint import line_hashes

    repo = _subfolder_repo(tmp_path)
    spellings = [
        (repo, "experiments/run-1"), (repo, "./experiments/run-1/"), (repo, str(repo / "experiments" / "run-1")),
        (repo / "experiments", "run-1"),  # from a subfolder: URIs stay relative to the repository root
    ]
    logs = [_sarif(repo, cwd, target, f"out{i}.sarif") for i, (cwd, target) in enumerate(spellings)]
    prints = [_fingerprints(log) for log in logs]
    assert all(p == prints[0] for p in prints), "the fingerprints do not depend on how the path is typed"
    uris = [[r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]] for log in logs]
    assert all(u == uris[0] for u in uris)
    assert len({(rule, fp) for rule, _, fp in prints[0]}) == len(prints[0]), "unique per result"
    for res in logs[0]["runs"][0]["results"]:  # GitHub's own algorithm over the file on disk
        loc = res["locations"][0]["physicalLocation"]
        text = (repo / loc["artifactLocation"]["uri"]).read_text()
        assert res["partialFingerprints"]["primaryLocationLineHash"] == line_hashes(text)[loc["region"]["startLine"] - 1]
    # moving the code down a line keeps the hash of the offending line (it follows the content)
    train = repo / "experiments" / "run-1" / "src" / "train.py"
    train.write_text("# a new first line\n" + train.read_text())
    moved = _sarif(repo, repo, "experiments/run-1", "moved.sarif")
    before = {fp for rule, fp, _ in prints[0] if rule == "RA905"}
    after = {fp for rule, fp, _ in _fingerprints(moved) if rule == "RA905"}
    assert before == after


def test_transcript_and_json_findings_point_at_the_file_that_exists(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(SEED_002, work / "t.txt")
    bundle = json.loads((FIXTURES / "clean_bundle.json").read_text())
    bundle["train_py"] += DEFECT
    (work / "b.json").write_text(json.dumps(bundle, indent=1))
    res = run_cli("check", "t.txt", "b.json", "--output", "sarif:out.sarif", "--output", "github:gh.txt", cwd=work)
    assert res.returncode == 1, res.stderr
    log = json.loads((work / "out.sarif").read_text())
    sarif_validator().validate(log)
    results = log["runs"][0]["results"]
    t_lines = (work / "t.txt").read_text().splitlines()
    b_lines = (work / "b.json").read_text().splitlines()
    for res_ in results:
        loc = res_["locations"][0]["physicalLocation"]
        uri, line = loc["artifactLocation"]["uri"], loc["region"]["startLine"]
        assert uri in ("t.txt", "b.json") and loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%", uri
        assert "snippet" not in loc["region"], "a bundle snippet is not the text of a transcript line"
        bundle_path = res_["properties"].get("bundlePath")
        if uri == "b.json" and bundle_path == "src/train.py":
            assert b_lines[line - 1].lstrip().startswith('"train_py"')
        if uri == "t.txt" and bundle_path:
            assert t_lines[line - 1].lstrip().startswith("{"), "the transcript line holding the bundle JSON"
        for rel in res_.get("relatedLocations", []):
            rloc = rel["physicalLocation"]["artifactLocation"]
            assert not rloc["uri"].startswith(("/", "file:")) and (work / rloc["uri"]).is_file()
    assert any(r["properties"].get("bundlePath") == "src/train.py" and r["ruleId"] == "RA905" for r in results)
    for line in (work / "gh.txt").read_text().splitlines():
        assert line.split("file=", 1)[1].split(",", 1)[0] in ("t.txt", "b.json"), line


def test_junit_is_accepted_by_the_jenkins_xunit_schema(tmp_path):
    xmlschema = pytest.importorskip("xmlschema")
    repo = _subfolder_repo(tmp_path)
    res = run_cli("check", "experiments/run-1", str(SEED_002), "--output", "junit:junit.xml", cwd=repo)
    assert res.returncode == 1, res.stderr
    schema = xmlschema.XMLSchema(str(ROOT / "tests" / "data" / "jenkins-xunit-junit.xsd"))
    schema.validate(str(repo / "junit.xml"))
    import xml.etree.ElementTree as ET

    root = ET.parse(repo / "junit.xml").getroot()
    failing = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert failing and all(c.get("file") and c.get("line") for c in failing)
    ra905 = next(c for c in failing if c.get("name").startswith("RA905") and c.get("classname") == "experiments/run-1")
    assert ra905.get("file") == "experiments/run-1/src/train.py"
    assert "print(undefined_name_xyz)" in (repo / ra905.get("file")).read_text().splitlines()[int(ra905.get("line")) - 1]


# --------------------------------------------------------------------------- pre-commit route


def _hook_repository(tmp_path: Path) -> tuple[Path, str]:
    """This project's working tree as a git repository pre-commit can install the hook from."""
    src = tmp_path / "hook-repo"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("reviewer_audit", "rules"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(src, "init", "-q")
    git(src, "add", "-A")
    git(src, "commit", "-qm", "hook")
    return src, git(src, "rev-parse", "HEAD").strip()


def _pre_commit(repo: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "PRE_COMMIT_COLOR": "never", "SKIP": ""}
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=repo, capture_output=True,
                          text=True, env=env, timeout=900)


def test_pre_commit_passes_on_the_clean_fixture_and_fails_on_a_defect(tmp_path):
    pytest.importorskip("pre_commit")
    hook_repo, rev = _hook_repository(tmp_path)
    home = tmp_path / "pre-commit-home"
    repo = make_repo(tmp_path / "repo")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo.as_posix()}\n    rev: {rev}\n    hooks:\n      - id: reviewer-audit-check\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "clean")
    clean = _pre_commit(repo, home)
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-2000:]
    assert "reviewer-audit check" in clean.stdout and "Passed" in clean.stdout

    train = repo / "src" / "train.py"
    train.write_text(train.read_text() + DEFECT)
    broken = _pre_commit(repo, home)
    assert broken.returncode == 1, broken.stdout[-3000:]
    assert "Failed" in broken.stdout and "RA905" in broken.stdout and "undefined_name_xyz" in broken.stdout

    # the same bundle in a subfolder, as many repositories keep several runs
    git(repo, "checkout", "-q", "--", "src/train.py")
    (repo / "experiments" / "run-42").mkdir(parents=True)
    for entry in ("src", "config", "pyproject.toml", "outputs", "multirun"):
        shutil.move(str(repo / entry), str(repo / "experiments" / "run-42" / entry))
    git(repo, "add", "-A")
    moved_clean = _pre_commit(repo, home)
    assert moved_clean.returncode == 0, moved_clean.stdout[-3000:]
    sub = repo / "experiments" / "run-42" / "src" / "train.py"
    sub.write_text(sub.read_text() + DEFECT)
    sub_broken = _pre_commit(repo, home)
    assert sub_broken.returncode == 1, sub_broken.stdout[-3000:]
    assert "Skipped" not in sub_broken.stdout and "experiments/run-42" in sub_broken.stdout and "RA905" in sub_broken.stdout

