"""Command-line conventions a new user expects (ruff, uv, pytest): one output convention on every
command, --version, -q/-v, `-` for stdin, comma lists, human help, readable piped text; the
rules reference; the Python API under the `spawn` start method; the shipped corpus schema and
the Markdown report's code spans."""
from __future__ import annotations

import json
import multiprocessing
import re
import subprocess
import sys

import pytest

from .conftest import FIXTURES, ROOT, SEED_002, run_cli


def test_version():
    from reviewer_audit import __version__

    for flag in ("--version", "-V"):
        res = run_cli(flag)
        assert res.returncode == 0 and res.stdout.strip() == f"reviewer-audit {__version__}"


def test_help_shows_what_a_user_types_not_python_types():
    for command in ("check", "report", "audit-review", "parse", "rules", "schema"):
        res = run_cli(command, "--help")
        assert res.returncode == 0, res.stderr
        assert not re.search(r"<(list|bool|int|str|path|text)\b", res.stdout, re.I), (command, res.stdout)
    check = run_cli("check", "--help").stdout
    assert "--output-format" in check and "--output-file" in check and "CODES" in check and "PATH..." in check


def test_stdin_and_comma_lists(tmp_path):
    text = (FIXTURES / "clean_bundle.json").read_text()
    cmd = [sys.executable, "-c", "from reviewer_audit.cli import main; main()"]
    res = subprocess.run([*cmd, "check", "-", "-f", "json"], input=text, capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["reports"][0]["input"] == "json-bundle"
    transcript = SEED_002.read_text()
    res = subprocess.run([*cmd, "audit-review", "-", "--select", "RA9,RA5", "-f", "json"], input=transcript, capture_output=True, text=True)
    assert res.returncode == 1, res.stderr
    rules = {f["rule"] for f in json.loads(res.stdout)["findings"]}
    assert rules and all(r.startswith(("RA9", "RA5")) for r in rules)
    res = run_cli("check", str(SEED_002), "--ignore", "RA9, RA6", "-f", "json")
    assert not [f for f in json.loads(res.stdout)["reports"][0]["report"]["findings"] if f["rule"].startswith(("RA9", "RA6"))]


class _Result:
    def __init__(self, res):
        self.returncode, self.stdout, self.stderr = res.exit_code, res.stdout, res.stderr


def _invoke(*args: str, cwd=None) -> _Result:
    """The CLI in-process (the commands' option handling is what is under test here)."""
    import os

    from typer.testing import CliRunner

    from reviewer_audit.cli import app

    here = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return _Result(CliRunner().invoke(app, list(args)))
    finally:
        os.chdir(here)


def test_one_output_convention_on_every_command(tmp_path):
    run_cli = _invoke  # noqa: F841 -- shadows the process runner: the same commands, in-process
    # -o PATH: the format follows the suffix
    assert run_cli("report", str(SEED_002), "-j", "1", "-o", str(tmp_path / "r.md")).returncode == 0
    assert (tmp_path / "r.md").read_text().startswith("## reviewer-audit corpus report")
    assert run_cli("audit-review", str(SEED_002), "-o", str(tmp_path / "a.json")).returncode == 1
    assert json.loads((tmp_path / "a.json").read_text())["kind"] == "transcript"
    assert run_cli("rules", "-o", str(tmp_path / "rules.json")).returncode == 0
    assert json.loads((tmp_path / "rules.json").read_text())[0]["code"] == "RA001"
    # --output-format with -o; --output FORMAT:PATH repeatable
    res = run_cli("check", str(SEED_002), "--output-format", "sarif", "-o", str(tmp_path / "c.out"), "--output", f"junit:{tmp_path / 'c.xml'}")
    assert res.returncode == 1 and res.stdout == "", res.stderr
    assert json.loads((tmp_path / "c.out").read_text())["version"] == "2.1.0" and (tmp_path / "c.xml").read_text().startswith("<?xml")
    # a format name where a file is expected is refused, never written as a file called `json`
    for command in (("report", str(SEED_002)), ("check", str(SEED_002)), ("rules",)):
        res = run_cli(*command, "-o", "json", cwd=tmp_path)
        assert res.returncode == 2 and "--output-format json" in res.stderr, res.stderr
        assert not (tmp_path / "json").exists()
    # the old spellings keep working
    res = run_cli("report", str(SEED_002), "-j", "1", "--format", "json", "--output", str(tmp_path / "old.json"))
    assert res.returncode == 0 and json.loads((tmp_path / "old.json").read_text())["rows"]


def test_quiet_and_verbose(tmp_path):
    bundle = tmp_path / "repo"
    import shutil

    shutil.copytree(FIXTURES / "clean_bundle", bundle)
    (bundle / ".github").mkdir()
    (bundle / ".github" / "ci.yml").write_text("on: push\n")
    (bundle / "pyproject.toml").write_text((bundle / "pyproject.toml").read_text() + "\n[tool.reviewer-audit]\nignore = ['RA1']\n")
    noisy = run_cli("check", ".", "-v", cwd=bundle)  # the bundle's own [tool.reviewer-audit] is not configuration: a note
    assert noisy.returncode == 0, noisy.stderr
    assert "note:" in noisy.stderr and ".github/ (dot-directory)" in noisy.stderr and "configuration:" in noisy.stderr
    quiet = run_cli("-q", "check", ".", cwd=bundle)
    assert quiet.returncode == 0 and quiet.stderr == "" and "report(s)" in quiet.stdout


def test_piped_text_keeps_lines_whole_and_has_no_trailing_spaces(tmp_path):
    res = run_cli("check", str(SEED_002), "--select", "RA9")
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert not [line for line in lines if line != line.rstrip()], "no trailing spaces"
    finding = next(i for i, line in enumerate(lines) if line.startswith("  pyproject.toml") and "RA901" in line)
    assert lines[finding].endswith(f"(line 294 of {SEED_002})"), "a finding is one line, never wrapped"
    assert lines[finding + 1].startswith("      "), "its snippet follows on one indented line"
    report = run_cli("report", str(FIXTURES), "-j", "1").stdout.splitlines()
    assert report and not [line for line in report if line != line.rstrip()]


def test_rules_lists_whole_names_and_ships_the_reference():
    from reviewer_audit.output.rules_doc import rules_markdown
    from reviewer_audit.rules import all_rules

    listing = run_cli("rules").stdout
    for rule in all_rules():
        assert re.search(rf"\b{rule.code}\b.*\b{re.escape(rule.name)}\b", listing), rule.name
    as_json = json.loads(run_cli("rules", "-f", "json").stdout)
    assert [r["code"] for r in as_json] == [r.code for r in all_rules()] and all(r["doc"] for r in as_json)
    assert run_cli("rules", "-f", "markdown").stdout == rules_markdown(all_rules())
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(all_rules()), "docs/rules.md is stale: run `reviewer-audit rules -f markdown -o docs/rules.md`"
    for rule in all_rules():
        assert f'<a id="{rule.code.lower()}"></a>' in committed, "the anchor SARIF helpUri points at"


# --------------------------------------------------------------------------- Python API under spawn


def _readme_snippet() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def _run_script(tmp_path, code: str) -> subprocess.CompletedProcess:
    script = tmp_path / "snippet.py"
    script.write_text("import multiprocessing\nmultiprocessing.set_start_method('spawn', force=True)\n" + code)
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_readme_python_snippet_runs_as_a_script_under_spawn(tmp_path):
    snippet = _readme_snippet()
    assert 'if __name__ == "__main__":' in snippet and "jobs=2" in snippet
    res = _run_script(tmp_path, snippet)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr and "RuntimeError" not in res.stderr
    assert "reviewer_false_positive" in res.stdout and "kappa" in res.stdout and "kappa: None" not in res.stdout


def test_a_script_without_the_guard_gets_one_clear_error(tmp_path):
    body = _readme_snippet().replace('if __name__ == "__main__":', "if True:")
    res = _run_script(tmp_path, body)
    assert res.returncode != 0
    assert "WorkerStartError" in res.stderr and 'if __name__ == "__main__":' in res.stderr, res.stderr[-3000:]
    assert "RuntimeError" not in res.stderr and "audit process died" not in res.stderr and res.stderr.count("Traceback") == 1


def test_audit_corpus_with_a_spawn_context():
    from reviewer_audit.api import audit_corpus

    corpus = audit_corpus([FIXTURES], jobs=2, mp_context=multiprocessing.get_context("spawn"))
    assert corpus.aggregates.audited == len(corpus.rows) > 0 and not corpus.aggregates.errors
    assert corpus.aggregates == audit_corpus([FIXTURES]).aggregates, "the same report as in-process"


# --------------------------------------------------------------------------- schemas and Markdown


def test_corpus_schema_names_its_dialect_and_requires_every_field():
    from jsonschema import Draft202012Validator

    from reviewer_audit.api import audit_corpus

    schema = json.loads((ROOT / "reviewer_audit" / "data" / "corpus.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["required"]) == set(schema["properties"])
    from reviewer_audit.output.json_out import schema_text

    assert json.loads(schema_text("corpus")) == schema, "regenerate: reviewer-audit schema corpus -o reviewer_audit/data/corpus.schema.json"
    doc = json.loads(audit_corpus([SEED_002]).model_dump_json())
    Draft202012Validator(schema).validate(doc)
    del doc["aggregates"]
    assert list(Draft202012Validator(schema).iter_errors(doc)), "a report missing a field is rejected"


def test_markdown_keeps_code_spans_verbatim():
    from reviewer_audit.output.report_markdown import _cell

    cell = _cell("`dict[str, list<int>]` and `a\\b` beside <b>a|b</b> \\ x")
    assert "`dict[str, list<int>]`" in cell and "`a\\b`" in cell, cell
    assert "&lt;b&gt;a\\|b&lt;/b&gt;" in cell and "\\\\ x" in cell, cell


def test_readme_ci_section_matches_what_is_tested():
    """The commands the README's CI section shows are the ones tests/test_ci_routes.py runs."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = readme.split("### 2. Gate generated bundles in CI", 1)[1].split("### 3.", 1)[0]
    assert "reviewer-audit check --find-bundles . --output text --output github --output sarif:reviewer-audit.sarif --output junit:junit.xml" in ci
    assert "id: reviewer-audit-check" in ci and "upload-sarif" in ci
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "entry: reviewer-audit check --find-bundles" in hooks and "pass_filenames: true" in hooks
    assert "extend-exclude" in ci
