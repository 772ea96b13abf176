"""Configuration: `[tool.reviewer-audit]` discovery, select/ignore, per-file-ignores,
suppressions with reasons, RA003 for unknown codes, and `--spec` files.

The bundles here are tiny and the runs mostly `--select RA00` (syntax and YAML errors, plus RA003
which always runs on the configuration), so the tests do not depend on which other rules exist.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewer_audit.cli import app
from reviewer_audit.ingest.errors import InputError
from reviewer_audit.gate.settings import (
    Settings,
    find_config,
    line_of_selector,
    load_config,
    load_spec_file,
    path_matches,
    known_codes,
    resolve,
)
from reviewer_audit.engine.selection import unknown_selectors

from .conftest import SEED_002


def make_bundle(root: Path, pyproject_extra: str = "") -> Path:
    """src/train.py does not parse (RA001 at line 1); config/config.yaml does not either (RA002)."""
    (root / "src").mkdir(parents=True)
    (root / "config").mkdir()
    (root / "src" / "train.py").write_text("def train(cfg)\n    return cfg\n")
    (root / "config" / "config.yaml").write_text("mode: [full\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = '0.1'\ndependencies = []\n" + pyproject_extra)
    return root


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    make_bundle(tmp_path / "repo")
    return tmp_path


def run(*args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(app, ["check", *map(str, args), "--output", "json"])
    assert result.exit_code in (0, 1, 2), result.exception
    doc = json.loads(result.stdout) if result.exit_code != 2 else {}
    return result.exit_code, doc, result.stderr


def configure(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text("[project]\nname = 'host'\n\n[tool.reviewer-audit]\n" + body)
    return path


def bundle_findings(doc: dict) -> list[dict]:
    return next(r["report"]["findings"] for r in doc["reports"] if r["input"] == "directory")


# --------------------------------------------------------------------------- discovery


def test_config_found_from_cwd_upward(tmp_path, monkeypatch):
    configure(tmp_path, 'select = ["RA00"]\n')
    deeper = tmp_path / "a" / "b"
    deeper.mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'no-table'\n")  # no table: keep looking
    found, skipped = find_config(deeper)
    assert found == tmp_path / "pyproject.toml" and skipped == []
    make_bundle(deeper / "repo")
    monkeypatch.chdir(deeper)
    code, doc, _ = run("repo")
    assert doc["config"] == str(tmp_path / "pyproject.toml")
    assert doc["rules_enabled"] == ["RA001", "RA002", "RA003"]


def test_nearest_config_wins(tmp_path):
    configure(tmp_path, 'fail-on = "minor"\n')
    inner = tmp_path / "inner"
    inner.mkdir()
    configure(inner, 'fail-on = "blocker"\n')
    assert find_config(inner)[0] == inner / "pyproject.toml"


def test_bundle_pyproject_is_audited_never_read_as_configuration(tmp_path, monkeypatch):
    """A generated repo whose pyproject.toml says `ignore = ["RA"]` must still be checked in
    full, also when the check runs from inside it -- and RA003 must not run on it either."""
    repo = make_bundle(tmp_path / "repo", '\n[tool.reviewer-audit]\nignore = ["RA"]\nselect = ["NOPE1"]\nfail-on = "blocker"\n')
    monkeypatch.chdir(repo)
    code, doc, stderr = run(".", "--select", "RA00")
    assert doc["config"] is None and doc["fail_on"] == "major"
    rules = {f["rule"] for f in bundle_findings(doc)}
    assert {"RA001", "RA002"} <= rules and "RA003" not in rules
    assert code == 1
    assert "audited and not read as reviewer-audit configuration" in stderr
    # a configuration above the bundle is still found
    configure(tmp_path, 'ignore = ["RA002"]\n')
    code, doc, _ = run(".", "--select", "RA00")
    assert doc["config"] == str(tmp_path / "pyproject.toml")
    assert {f["rule"] for f in bundle_findings(doc)} == {"RA001"}
    # and naming it explicitly is refused
    code, _, stderr = run(".", "--config", "pyproject.toml")
    assert code == 2 and "never read as reviewer-audit configuration" in stderr


def test_json_bundle_pyproject_is_never_configuration(work):
    bundle = {"src/train.py": "def train(cfg):\n    return cfg\n", "pyproject.toml": '[tool.reviewer-audit]\nignore = ["RA"]\n'}
    (work / "b.json").write_text(json.dumps(bundle))
    (work / "repo" / "pyproject.toml").unlink()
    code, doc, _ = run("b.json", "repo", "--select", "RA00")
    assert doc["config"] is None
    assert "RA001" in {f["rule"] for f in bundle_findings(doc)}


# --------------------------------------------------------------------------- select / ignore / fail-on


def test_select_ignore_and_fail_on_from_config_and_cli(work):
    configure(work, 'select = ["RA00"]\nignore = ["RA001"]\nfail-on = "blocker"\n')
    code, doc, _ = run("repo")
    assert doc["fail_on"] == "blocker"
    assert {f["rule"] for f in bundle_findings(doc)} == {"RA002"}
    assert code == 1  # RA002 is a blocker
    code, doc, _ = run("repo", "--ignore", "RA002")  # --ignore adds to the configured ignore
    assert bundle_findings(doc) == [] and code == 0
    code, doc, _ = run("repo", "--select", "RA001", "--fail-on", "minor")  # --select replaces; --fail-on wins
    assert doc["fail_on"] == "minor" and bundle_findings(doc) == []  # RA001 still ignored by the config


def test_per_file_ignores_drop_findings(work):
    configure(work, 'select = ["RA00"]\n[tool.reviewer-audit.per-file-ignores]\n"config/*.yaml" = ["RA002"]\n"train.py" = ["RA0"]\n')
    code, doc, _ = run("repo")
    assert bundle_findings(doc) == [] and code == 0


# --------------------------------------------------------------------------- suppressions


def test_suppressed_findings_stay_visible_and_do_not_count(work):
    configure(work, 'select = ["RA00"]\n'
                    'suppress = [\n  {rules = ["RA001"], path = "src/train.py", reason = "kept broken for the demo"},\n'
                    '  {rules = ["RA002"], reason = "YAML fixed upstream"},\n]\n')
    code, doc, _ = run("repo")
    found = {f["rule"]: f for f in bundle_findings(doc)}
    assert found["RA001"]["suppressed"] and found["RA001"]["suppression_reason"] == "kept broken for the demo"
    assert found["RA002"]["suppressed"] and found["RA002"]["suppression_reason"] == "YAML fixed upstream"
    report = doc["reports"][0]["report"]
    assert report["tool_verdict"]["ready"] and report["tool_verdict"]["counts"] == {"blocker": 0, "major": 0, "minor": 0}
    assert all(row["tool"] == "pass" for row in report["criteria"])
    assert code == 0
    text = CliRunner().invoke(app, ["check", "repo"])
    assert text.exit_code == 0 and "suppressed: kept broken for the demo" in " ".join(text.stdout.split())


def test_suppression_is_limited_to_its_path(work):
    configure(work, 'select = ["RA00"]\nsuppress = [{rules = ["RA0"], path = "src/model.py", reason = "other file"}]\n')
    code, doc, _ = run("repo")
    assert not any(f["suppressed"] for f in bundle_findings(doc)) and code == 1


@pytest.mark.parametrize(("body", "expected"), [
    ('suppress = [{rules = ["RA001"]}]\n', "suppress.0.reason: every suppression needs a non-empty reason"),
    ('suppress = [{rules = ["RA001"], reason = "   "}]\n', "suppress.0.reason: every suppression needs a non-empty reason"),
    ('suppress = [{rules = [], reason = "x"}]\n', "suppress.0.rules"),
    ('selct = ["RA0"]\n', "selct: unknown setting"),
    ('fail-on = "critical"\n', "fail-on"),
    ('select = "RA0"\n', "select"),
    ('per-file-ignores = ["RA0"]\n', "per-file-ignores"),
])
def test_bad_configuration_exits_2_with_one_line(work, body, expected):
    configure(work, body)
    code, _, stderr = run("repo")
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert stderr.startswith(f"reviewer-audit: {work / 'pyproject.toml'}: [tool.reviewer-audit] ")
    assert expected in stderr


def test_config_file_other_than_pyproject_is_the_table_itself(work):
    cfg = work / "ra.toml"
    cfg.write_text('select = ["RA00"]\nignore = ["RA002"]\n')
    code, doc, _ = run("repo", "--config", cfg)
    assert doc["config"] == str(cfg) and {f["rule"] for f in bundle_findings(doc)} == {"RA001"}


# --------------------------------------------------------------------------- RA003


def test_unknown_code_in_config_is_a_finding_at_its_line(work):
    cfg = configure(work, 'select = ["RA00"]\nignore = ["RA9O1"]\n'
                          'suppress = [{rules = ["XX1"], reason = "typo"}]\n')
    code, doc, _ = run("repo")
    config_report = doc["reports"][0]
    assert config_report["input"] == "config" and config_report["path"] == str(cfg)
    got = [(f["rule"], f["path"], f["line"], f["severity"]) for f in config_report["report"]["findings"]]
    assert got == [("RA003", "pyproject.toml", 6, "major"), ("RA003", "pyproject.toml", 7, "major")]
    assert "'RA9O1'" in config_report["report"]["findings"][0]["message"]
    assert code == 1


def test_mistyped_select_cannot_silence_the_gate(work):
    """`select = ["RA9O1"]` selects no rule at all; RA003 still runs and fails the run."""
    configure(work, 'select = ["RA9O1"]\n')
    code, doc, _ = run("repo")
    assert bundle_findings(doc) == []
    assert [f["rule"] for f in doc["reports"][0]["report"]["findings"]] == ["RA003"]
    assert code == 1


def test_ra003_can_be_ignored_or_suppressed_like_any_rule(work):
    configure(work, 'select = ["RA00"]\nignore = ["RA9O1", "RA003", "RA001", "RA002"]\n')
    code, doc, _ = run("repo")
    assert [r["input"] for r in doc["reports"]] == ["directory"] and code == 0
    configure(work, 'select = ["RA00"]\nignore = ["RA9O1", "RA001", "RA002"]\n'
                    'suppress = [{rules = ["RA003"], reason = "RA9O1 lands next release"}]\n')
    code, doc, _ = run("repo")
    assert doc["reports"][0]["report"]["findings"][0]["suppressed"] and code == 0


def test_unknown_selectors_and_their_lines():
    table = {"select": ["RA", "ra00"], "ignore": ["RA001", "E501"], "per-file-ignores": {"a.py": ["RA9O9"]},
             "suppress": [{"rules": ["", "RA002"], "reason": "r"}]}
    assert unknown_selectors(table, known_codes()) == [("ignore", "E501"), ("per-file-ignores['a.py']", "RA9O9"), ("suppress[0].rules", "")]
    text = '[tool.ruff]\nignore = ["E501"]\n[tool.reviewer-audit]\nignore = ["E501"]\n'
    assert line_of_selector(text, "E501") == 4, "the line inside the reviewer-audit table, not ruff's"


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(("path", "glob", "hit"), [
    ("src/train.py", "src/*.py", True),
    ("src/train.py", "train.py", True),  # no '/': the file name alone
    ("src/train.py", "*/train.py", True),
    ("src/train.py", "config/*", False),
    (None, "src/*", False),
    (None, None, True),
])
def test_path_matches(path, glob, hit):
    assert path_matches(path, glob) is hit


def test_resolve_merges_config_and_cli(tmp_path):
    cfg = configure(tmp_path, 'select = ["RA0"]\nignore = ["RA001"]\nfail-on = "minor"\n')
    eff = resolve(load_config(cfg), select=["RA00"], ignore=["RA002"])
    assert (eff.select, eff.ignore, eff.fail_on.value) == (["RA00"], ["RA001", "RA002"], "minor")
    assert resolve(None).fail_on.value == "major" and resolve(None).select == []
    with pytest.raises(InputError, match="unknown rule code or prefix 'Q1'"):
        resolve(None, ignore=["Q1"])


def test_settings_accept_field_names_and_kebab_case():
    assert Settings.model_validate({"fail-on": "minor", "per-file-ignores": {"a": ["RA0"]}}).fail_on.value == "minor"


# --------------------------------------------------------------------------- --spec files


def test_spec_file_overlay_and_version(tmp_path):
    from reviewer_audit.spec.prompt import default_spec

    path = tmp_path / "spec.yaml"
    path.write_text("run_config_dir: config/run\nrequirements:\n  mode_flag: [9]\n")
    spec = load_spec_file(path)
    base = default_spec()
    assert spec.run_config_dir == "config/run" and spec.requirements == {"mode_flag": [9]}
    assert spec.required_files == base.required_files and spec.criteria == base.criteria
    assert spec.version.startswith(base.version + "+")
    path.write_text("version: my-prompt-v3\n")
    assert load_spec_file(path).version == "my-prompt-v3"
    path.write_text("")
    assert load_spec_file(path).model_dump(exclude={"version"}) == base.model_dump(exclude={"version"})


@pytest.mark.parametrize(("text", "expected"), [
    ("cli:\n  - command: python -m src.main\n", "line 2: cli.0: 'module' is a required property"),
    ("forbid_extra_files: maybe\n", "line 1: forbid_extra_files: 'maybe' is not of type 'boolean'"),
    ("requirements:\n  trial_epochs_1: [1]\n  no_placeholderz: [1]\n", "line 3: requirements.no_placeholderz: unknown requirement (did you mean 'no_placeholders'?)"),
    ("requirements:\n  reviewer_audit_settings: [0]\n", "unknown requirement"),
])
def test_spec_file_errors_name_line_and_field(tmp_path, text, expected):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_spec_file(path)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_spec_schema_is_shipped_as_package_data():
    from importlib.resources import files

    schema = json.loads(files("reviewer_audit.data").joinpath("spec.schema.json").read_text())
    assert schema["additionalProperties"] is False and "required" not in schema
    assert set(schema["properties"]) >= {"required_files", "run_config_dir", "cli", "requirements"}


def test_from_transcript_spec_is_not_overridden_by_config(work):
    configure(work, 'select = ["RA00"]\n')
    code, doc, _ = run("repo", "--from-transcript", SEED_002)
    from reviewer_audit.ingest.transcript import load_transcript

    assert bundle_findings(doc) and doc["reports"][0]["report"]["prompt_version"] == load_transcript(SEED_002).prompt_version
