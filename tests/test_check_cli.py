"""`reviewer-audit check`: inputs, specs, exit codes and one-line errors.

Rules are still landing, so these tests assert on exit codes, on the contract between outputs
and exit codes, and on parity between the ways one bundle can be given (directory, JSON file,
transcript): they grow stronger with every rule without being rewritten.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewer_audit.cli import app
from reviewer_audit.engine.findings import Severity
from reviewer_audit.ingest.transcript import load_transcript

from .conftest import FIXTURES, ROOT, SEED_002, run_cli

CLEAN = FIXTURES / "clean_bundle"
needs_clean = pytest.mark.skipif(not (CLEAN / "src").is_dir(), reason="fixtures/clean_bundle/ is not written yet")


def write_bundle(transcript_path: Path, root: Path) -> Path:
    """Write a transcript's bundle as a generated repository, with its run configs where the
    prompt says they go (config/runs/ for seed 002)."""
    from reviewer_audit.spec.prompt import spec_for_transcript

    t = load_transcript(transcript_path)
    for rel, f in t.bundle.files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f.text, encoding="utf-8")
    folder = root / (spec_for_transcript(t).run_config_dir or "config/runs")
    folder.mkdir(parents=True, exist_ok=True)
    for run in t.runs:
        (folder / f"{run.run_id}.yaml").write_text(run.yaml_text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def seed002_dir(tmp_path_factory) -> Path:
    return write_bundle(SEED_002, tmp_path_factory.mktemp("bundles") / "seed002")


@pytest.fixture(scope="module")
def seed002_doc(seed002_dir, tmp_path_factory) -> tuple[int, dict]:
    """`check seed002 --output json`, run once per module (an audit takes seconds)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path_factory.mktemp("cwd"))
        return check_json(seed002_dir)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch) -> Path:
    """Run from an empty folder, so no pyproject.toml of this checkout is picked up as configuration."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def check(*args: str):
    return CliRunner().invoke(app, ["check", *map(str, args)])


def check_json(*args: str) -> tuple[int, dict]:
    result = check(*args, "--output", "json")
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def findings(doc: dict, i: int = 0) -> list[dict]:
    return doc["reports"][i]["report"]["findings"]


def at_or_above(doc: dict, severity: str) -> list[dict]:
    threshold = Severity(severity)
    return [f for r in doc["reports"] for f in r["report"]["findings"]
            if not f["suppressed"] and Severity(f["severity"]).at_least(threshold)]


# --------------------------------------------------------------------------- the two anchors


def test_seed002_directory_exits_1_and_lists_blockers(in_tmp, seed002_dir, seed002_doc):
    code, doc = seed002_doc
    assert code == 1
    blockers = [f for f in findings(doc) if f["severity"] == "blocker"]
    assert blockers, "seed 002 has 11 verified blockers (shared/seeds/seed_002_defects.md); none reported"
    assert doc["reports"][0]["input"] == "directory"
    text = check(seed002_dir)
    assert text.exit_code == 1
    assert "blocker" in text.stdout
    for f in blockers:
        assert f["rule"] in text.stdout


@needs_clean
def test_clean_bundle_exits_0_with_nothing_at_or_above_major(in_tmp):
    """The precision test: a correct bundle must pass the gate."""
    code, doc = check_json(CLEAN)
    assert not at_or_above(doc, "major"), [(f["rule"], f["path"], f["line"], f["message"]) for f in at_or_above(doc, "major")]
    assert code == 0
    assert check(CLEAN).exit_code == 0


def test_console_script_end_to_end(in_tmp, seed002_dir):
    """The installed entry point, as CI runs it (a separate process)."""
    proc = run_cli("check", str(seed002_dir), "--output", "json", cwd=in_tmp)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["exit_code"] == 1


# --------------------------------------------------------------------------- one bundle, three shapes


def _keys(doc: dict, i: int) -> set[tuple]:
    return {(f["rule"], f["path"], f["line"], f["severity"]) for f in findings(doc, i)}


def test_directory_json_and_transcript_agree(in_tmp, tmp_path, seed002_dir):
    """Seed 002 as a directory and as a transcript: the same findings, whatever rules exist.
    A JSON bundle carries no run configs, so it can only miss findings that need them."""
    t = load_transcript(SEED_002)
    bundle_json = tmp_path / "bundle.json"
    bundle_json.write_text(json.dumps({p: f.text for p, f in t.bundle.files.items()}), encoding="utf-8")
    code, doc = check_json(seed002_dir, SEED_002, "--from-transcript", SEED_002)
    _, doc_json = check_json(bundle_json, "--from-transcript", SEED_002)
    assert [r["input"] for r in doc["reports"]] == ["directory", "transcript"]
    assert _keys(doc, 0) == _keys(doc, 1)
    assert _keys(doc_json, 0) <= _keys(doc, 0)
    assert doc_json["reports"][0]["input"] == "json-bundle"
    assert code == doc["exit_code"] == 1


def test_transcript_path_uses_its_own_prompt_and_runs(in_tmp):
    code, doc = check_json(SEED_002)
    report = doc["reports"][0]["report"]
    t = load_transcript(SEED_002)
    assert doc["reports"][0]["input"] == "transcript"
    assert report["prompt_version"] == t.prompt_version
    assert report["run_ids"] == [r.run_id for r in t.runs]
    assert all(f["transcript_line"] for f in report["findings"] if f["path"])
    assert code == (1 if at_or_above(doc, "major") else 0)


def test_several_paths_in_one_call(in_tmp, seed002_dir):
    paths = [seed002_dir, SEED_002] + ([CLEAN] if (CLEAN / "src").is_dir() else [])
    code, doc = check_json(*paths)
    assert [r["path"] for r in doc["reports"]] == [str(p) for p in paths]
    assert code == 1 == doc["exit_code"]
    assert [r["report"]["tool_verdict"]["ready"] for r in doc["reports"]][:2] == [False, False]


def test_exit_code_follows_fail_on_and_selection(in_tmp, seed002_dir, seed002_doc):
    code, doc = seed002_doc
    assert doc["fail_on"] == "major" and code == (1 if at_or_above(doc, "major") else 0)
    code, doc = check_json(seed002_dir, "--fail-on", "blocker")
    assert code == 1 and doc["fail_on"] == "blocker"
    # RA0 (syntax) finds nothing in seed 002: selecting only it makes the run clean
    code, doc = check_json(seed002_dir, "--select", "RA0")
    assert code == 0 and not findings(doc)
    assert doc["rules_enabled"] and all(c.startswith("RA0") for c in doc["rules_enabled"])
    reported = {f["rule"] for f in findings(seed002_doc[1])}
    code, doc = check_json(seed002_dir, *[a for c in sorted(reported) for a in ("--ignore", c)])
    assert code == 0 and not findings(doc)
    assert not reported & set(doc["rules_enabled"])


def test_spec_file_overlays_the_default_spec(in_tmp, seed002_dir, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("required_files:\n  - src/train.py\n  - src/missing_module.py\n", encoding="utf-8")
    code, doc = check_json(seed002_dir, "--spec", spec, "--select", "RA5")
    report = doc["reports"][0]["report"]
    assert "+" in report["prompt_version"], "an edited spec gets its own version"
    from reviewer_audit.rules import rule_by_code

    if rule_by_code("RA501") is not None:
        assert any(f["rule"] == "RA501" and f["path"] == "src/missing_module.py" for f in report["findings"])
        assert code == 1


def test_from_transcript_takes_that_prompt(in_tmp, seed002_dir):
    _, doc = check_json(seed002_dir, "--from-transcript", SEED_002, "--select", "RA00")
    assert doc["reports"][0]["report"]["prompt_version"] == load_transcript(SEED_002).prompt_version


def test_help_teaches_with_examples():
    for args in (["check", "--help"], ["schema", "--help"]):
        out = CliRunner().invoke(app, args).stdout
        assert "Example" in out
    out = CliRunner().invoke(app, ["check", "--help"]).stdout
    for word in ("--output", "sarif", "[tool.reviewer-audit]", "suppress", "Exit code"):
        assert word in out


def test_schema_command_prints_the_committed_schemas():
    for name in ("report", "spec"):
        result = CliRunner().invoke(app, ["schema", name])
        assert result.exit_code == 0
        assert json.loads(result.stdout) == json.loads((ROOT / "reviewer_audit" / "data" / f"{name}.schema.json").read_text())
    assert CliRunner().invoke(app, ["schema"]).stdout == CliRunner().invoke(app, ["schema", "report"]).stdout
    corpus = CliRunner().invoke(app, ["schema", "corpus"])
    assert corpus.exit_code == 0 and "CorpusReport" in corpus.stdout


# --------------------------------------------------------------------------- error paths: exit 2, one line


def _bad_spec_files(tmp: Path) -> dict[str, tuple[str, str]]:
    return {
        "yaml-syntax": ("required_files: [src/train.py\n", "invalid YAML"),
        "schema-type": ("run_config_dir: config/runs\nrequired_files: 3\n", "line 2: required_files"),
        "schema-unknown-key": ("required_filez: []\n", "required_filez"),
        "unknown-requirement": ("requirements:\n  mode_flagg: [9]\n", "did you mean 'mode_flag'"),
        "not-a-mapping": ("- a\n- b\n", "YAML mapping"),
    }


ERROR_CASES = {
    "missing path": (lambda tmp: ["check", str(tmp / "nope")], "no such file or directory"),
    "not utf-8": (lambda tmp: ["check", str(_write(tmp / "bad.txt", b"\xff\xfe\x00Output:\n"))], "not valid UTF-8"),
    "text that is no transcript": (lambda tmp: ["check", str(_write(tmp / "notes.txt", b"hello\n"))], "no line 'Output:'"),
    "invalid JSON bundle": (lambda tmp: ["check", str(_write(tmp / "b.json", b"{\"train_py\": "))], "invalid JSON bundle"),
    "broken transcript verdict": (lambda tmp: ["check", str(_write(tmp / "t.txt", b"\nInput:\n# Task\nx\nOutput:\nnot json\n"))], "not JSON"),
    "unknown format": (lambda tmp: ["check", str(SEED_002), "--output", "xml"], "unknown format 'xml'"),
    "format without path": (lambda tmp: ["check", str(SEED_002), "--output", "json:"], "names no file"),
    "output is a directory": (lambda tmp: ["check", str(SEED_002), "--output", f"json:{tmp}"], "is a directory"),
    "a document and more on stdout": (lambda tmp: ["check", str(SEED_002), "--output", "json", "--output", "github"], "json on stdout must be alone"),
    "one format twice on stdout": (lambda tmp: ["check", str(SEED_002), "--output", "text", "--output", "text:-"], "text goes to stdout twice"),
    "output below a file": (lambda tmp: ["check", str(SEED_002), "--output", f"json:{_write(tmp / 'f', b'x')}/r.json"], "is not a directory"),
    "no path": (lambda tmp: ["check"], "no PATH given"),
    "bad fail-on": (lambda tmp: ["check", str(SEED_002), "--fail-on", "critical"], "unknown severity 'critical'"),
    "unknown --select": (lambda tmp: ["check", str(SEED_002), "--select", "RA9O1"], "unknown rule code or prefix 'RA9O1'"),
    "spec and from-transcript": (lambda tmp: ["check", str(SEED_002), "--spec", str(_write(tmp / "s.yaml", b"{}\n")), "--from-transcript", str(SEED_002)], "not both"),
    "missing spec file": (lambda tmp: ["check", str(SEED_002), "--spec", str(tmp / "none.yaml")], "no such file"),
    "missing config file": (lambda tmp: ["check", str(SEED_002), "--config", str(tmp / "none.toml")], "no such file"),
    "config TOML syntax": (lambda tmp: ["check", str(SEED_002), "--config", str(_write(tmp / "pyproject.toml", b"[tool.reviewer-audit\n"))], "invalid TOML"),
    "config without the table": (lambda tmp: ["check", str(SEED_002), "--config", str(_write(tmp / "pyproject.toml", b"[project]\nname='x'\n"))], "no [tool.reviewer-audit] table"),
    "unknown schema": (lambda tmp: ["schema", "xml"], "unknown schema 'xml'"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _assert_one_line_exit_2(result, expected: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("reviewer-audit: ")
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_paths_exit_2_with_one_line(case, tmp_path, in_tmp):
    make_args, expected = ERROR_CASES[case]
    _assert_one_line_exit_2(CliRunner().invoke(app, make_args(tmp_path)), expected)


@pytest.mark.parametrize("case", sorted(_bad_spec_files(Path("."))))
def test_bad_spec_file_exits_2_with_one_line(case, tmp_path, in_tmp):
    text, expected = _bad_spec_files(tmp_path)[case]
    spec = _write(tmp_path / "spec.yaml", text.encode())
    _assert_one_line_exit_2(check(SEED_002, "--spec", spec), expected)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_exits_2(tmp_path, in_tmp):
    path = _write(tmp_path / "t.txt", SEED_002.read_bytes())
    path.chmod(0)
    try:
        _assert_one_line_exit_2(check(path), "permission denied")
    finally:
        path.chmod(0o644)


def test_input_error_in_any_path_writes_no_output(tmp_path, in_tmp, seed002_dir):
    out = tmp_path / "out" / "r.sarif"
    _assert_one_line_exit_2(check(seed002_dir, tmp_path / "nope", "--output", f"sarif:{out}"), "no such file")
    assert not out.exists() and not out.parent.exists()


def test_pre_commit_hook_manifest():
    """The hook passes changed bundle files, wherever they sit, to `check --find-bundles`
    (tests/test_ci_routes.py runs it with the real pre-commit)."""
    import re

    from ruamel.yaml import YAML

    (hook,) = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "reviewer-audit-check" and hook["entry"] == "reviewer-audit check --find-bundles"
    assert hook["language"] == "python" and hook["pass_filenames"] is True and "args" not in hook
    files = re.compile(hook["files"])
    assert all(files.search(p) for p in ("src/train.py", "config/config.yaml", "config/runs/r1.yaml", "pyproject.toml",
                                         "experiments/run-42/src/train.py", "experiments/run-42/config/runs/r1.yaml"))
    assert not any(files.search(p) for p in ("README.md", "tests/test_x.py", "docs/config.yaml", "mysrc/x.py"))
