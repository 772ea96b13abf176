"""Tests for reviewer_audit.program.pyproject_check (self-contained; the corpus test skips without ../shared)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from reviewer_audit.program.pyproject_check import (
    TomlLocator,
    admits,
    admits_any_in,
    check_pyproject,
    poetry_to_pep440,
    ranges_intersect,
)

# seed_002's pyproject_toml, verbatim (24 lines): dependencies as a Poetry-style table under
# [project.dependencies], which uv rejects ("invalid type: map, expected a sequence").
SEED_002_PYPROJECT = """\
[build-system]
requires = ["setuptools>=42", "wheel"]

[project]
name = "fw-lora-experiments"
version = "0.1.0"
description = "Research experiments for Fisher-Weighted LoRA"
authors = [{name = "Researcher", email = "research@example.com"}]

[project.dependencies]
hydra-core = "^1.3.2"
omegaconf = "^2.3.0"
wandb = "^0.16.1"
torch = "^2.1.0"
transformers = "^4.35.0"
datasets = "^2.14.5"
peft = "^0.6.2"
optuna = "^3.4.0"
evaluate = "^0.4.0"
scikit-learn = "^1.3.2"
matplotlib = "^3.8.0"
seaborn = "^0.13.0"
pandas = "^2.1.3"
scipy = "^1.11.3"
"""

VALID_PEP621 = """\
[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "glora-experiment"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = [
    "torch>=2.0.0",
    "transformers>=4.37.0",
    "scipy==1.11.4",  # pinned: binom_test still exists
    "peft[dev]>=0.5.0; python_version >= '3.9'",
]

[project.optional-dependencies]
plots = ["matplotlib>=3.7"]

[tool.setuptools.packages.find]
where = ["src"]
"""

POETRY_ONLY = """\
[tool.poetry]
name = "hydra-experiment-template"
version = "0.1.0"
description = "Reproducible research code with Hydra and WandB."

[tool.poetry.dependencies]
python = "^3.8"
torch = "^2.1"
transformers = "^4.35"
optuna = "*"

[build-system]
requires = ["poetry-core>=1.7.0"]
build-backend = "poetry.core.masonry.api"
"""

PROJECT_WITH_POETRY_DEPS = """\
[project]
name = "hydra_experiment"
version = "0.1.0"

[tool.poetry.dependencies]
python = "^3.9"
torch = "^2.0.0"
scipy = "^1.11"
"""


# ---------------------------------------------------------------- check_pyproject


def test_valid_pep621_passes_and_lists_dependencies():
    report = check_pyproject(VALID_PEP621)
    assert report.problems == []
    assert report.ok and report.headline is None
    assert report.data["project"]["name"] == "glora-experiment"
    deps = {d.name: d for d in report.dependencies if d.group is None}
    assert set(deps) == {"torch", "transformers", "scipy", "peft"}
    assert deps["torch"].specifier == ">=2.0.0" and deps["torch"].line == 10
    assert deps["scipy"].specifier == "==1.11.4" and deps["scipy"].line == 12
    assert deps["peft"].extras == ("dev",) and deps["peft"].marker == 'python_version >= "3.9"'
    plots = [d for d in report.dependencies if d.group == "plots"]
    assert [(d.name, d.line) for d in plots] == [("matplotlib", 17)]
    assert report.dependency("SciPy").specifier == "==1.11.4"


def test_seed_002_poetry_table_under_project_dependencies_fails_at_its_header():
    assert len(SEED_002_PYPROJECT.splitlines()) == 24
    report = check_pyproject(SEED_002_PYPROJECT)
    schema = report.problems_of("schema")
    assert [(p.path, p.line) for p in schema] == [("project.dependencies", 10)]
    assert "must be an array" in schema[0].message and "table" in schema[0].message
    assert "must be an array" in report.headline
    # Best effort: the Poetry table still yields converted ranges, one per line.
    deps = {d.name: d for d in report.dependencies}
    assert len(deps) == 14
    assert deps["hydra-core"].line == 11 and deps["scipy"].line == 24
    assert deps["scipy"].specifier == ">=1.11.3,<2.0.0"
    assert deps["peft"].specifier == ">=0.6.2,<0.7.0"  # caret on 0.x
    assert deps["scipy"].admits_any_in("1.12", None)  # binom_test removal is reachable
    assert not deps["peft"].admits_any_in("0.15.0", None)


def test_poetry_only_project_has_no_project_table_problem():
    report = check_pyproject(POETRY_ONLY)
    [problem] = report.problems
    assert problem.kind == "no_project_table"
    assert problem.path == "project"
    assert problem.line == 6  # [tool.poetry.dependencies]
    assert "uv" in problem.message and "poetry-core" in problem.message
    deps = {d.name: d.specifier for d in report.dependencies}
    assert deps == {"torch": ">=2.1,<3.0", "transformers": ">=4.35,<5.0", "optuna": ""}


def test_dependencies_only_in_tool_poetry_are_flagged():
    report = check_pyproject(PROJECT_WITH_POETRY_DEPS)
    [problem] = report.problems
    assert problem.kind == "deps_outside_project"
    assert (problem.path, problem.line) == ("tool.poetry.dependencies", 5)
    assert "2 packages" in problem.message


def test_dynamic_dependencies_are_not_flagged():
    text = PROJECT_WITH_POETRY_DEPS.replace('version = "0.1.0"', 'version = "0.1.0"\ndynamic = ["dependencies"]')
    assert check_pyproject(text).problems_of("deps_outside_project") == []


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_pyproject_has_no_project_table(text):
    report = check_pyproject(text)
    assert [p.kind for p in report.problems] == ["no_project_table"]
    assert report.problems[0].line == 1


def test_toml_syntax_error_reports_line_and_column():
    text = '[project]\nname = "x"\nversion = "0.1"\ndependencies = [\n  "torch>=2.0",\n  torch = 1,\n]\n'
    report = check_pyproject(text)
    assert report.data is None
    [problem] = report.problems
    assert problem.kind == "toml_syntax"
    assert problem.line == 6
    assert problem.column is not None and problem.column >= 1
    assert problem.message.startswith("TOML syntax error")


def test_toml_syntax_error_in_table_header():
    report = check_pyproject('[project]\nname = "x"\n\n[tool.poetry\n')
    assert [(p.kind, p.line) for p in report.problems] == [("toml_syntax", 4)]


def test_bad_dependency_string_points_at_its_line():
    text = (
        '[project]\nname = "x"\nversion = "1"\ndependencies = [\n'
        '    "torch>=2.0",\n'
        '    "transformers = ^4.35",\n'
        '    "scipy (^1.11)",\n'
        "]\n"
    )
    report = check_pyproject(text)
    got = [(p.path, p.line) for p in report.problems]
    assert got == [("project.dependencies[1]", 6), ("project.dependencies[2]", 7)]
    assert "PEP 508" in report.problems[0].message
    assert "Poetry syntax" in report.problems[0].message
    assert [d.name for d in report.dependencies] == ["torch"]


def test_missing_version_and_bad_name_are_schema_problems():
    text = '[build-system]\nrequires = []\n\n[project]\nname = "not a valid name!"\n'
    report = check_pyproject(text)
    paths = {(p.path, p.line) for p in report.problems}
    assert ("project", 4) in paths  # 'version' is a required property
    assert ("project.name", 5) in paths
    assert all(p.kind == "schema" for p in report.problems)


def test_unknown_key_points_at_the_key():
    text = '[project]\nname = "x"\nversion = "1"\n\n[build-system]\nrequires = ["setuptools"]\nbackend = "x"\n'
    [problem] = check_pyproject(text).problems
    assert (problem.path, problem.line) == ("build-system.backend", 7)
    assert "unexpected key" in problem.message


def test_inline_dotted_project_table():
    text = 'project.name = "x"\nproject.version = "1"\nproject.dependencies = { torch = "^2" }\n'
    report = check_pyproject(text)
    assert [(p.path, p.line) for p in report.problems] == [("project.dependencies", 3)]
    assert report.dependencies[0].specifier == ">=2,<3"


@pytest.mark.parametrize(
    "text",
    [
        "[[project]]\nname = 1\n",
        "project = 3\n",
        '[project]\nname = "x"\nversion = "1"\ndependencies = "torch"\n',
        '[project]\nname = "x"\nversion = "1"\noptional-dependencies = { a = { b = "c" } }\n',
        "[tool.poetry]\ndependencies = 5\n",
        '[tool.poetry.dependencies]\ntorch = [{version = "^2", python = "<3.11"}, {version = "^1"}]\n',
        '[tool.poetry.dependencies]\nx = {git = "https://example.com/x.git"}\ny = {version = "^a"}\n',
        "\x00",
    ],
)
def test_odd_inputs_never_raise(text):
    report = check_pyproject(text)
    assert all(p.line >= 1 for p in report.problems)


def test_poetry_dependency_forms():
    text = (
        "[tool.poetry.dependencies]\n"
        'python = "^3.10"\n'
        'torch = {version = "^2.1", extras = ["cuda"]}\n'
        'numpy = [{version = "^1.26", python = "<3.12"}, {version = "^2.0", python = ">=3.12"}]\n'
        'mylib = {git = "https://example.com/mylib.git"}\n'
        "\n[tool.poetry.group.dev.dependencies]\n"
        'pytest = "^8"\n'
    )
    report = check_pyproject(text)
    deps = {d.name: d for d in report.dependencies}
    assert "python" not in deps
    assert deps["torch"].specifier == ">=2.1,<3.0" and deps["torch"].extras == ("cuda",)
    assert deps["numpy"].specifier == ">=1.26,<2.0 || >=2.0,<3.0"
    assert deps["numpy"].admits("2.1.0") and deps["numpy"].admits("1.26.4")
    assert deps["mylib"].specifier == "" and "git" in deps["mylib"].note
    assert deps["pytest"].group == "dev" and deps["pytest"].line == 8
    assert report.dependency("pytest") is None
    assert report.dependency("pytest", main_only=False).name == "pytest"


# ---------------------------------------------------------------- Poetry conversion


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^1.11.3", ">=1.11.3,<2.0.0"),
        ("^1.2", ">=1.2,<2.0"),
        ("^1", ">=1,<2"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.16.1", ">=0.16.1,<0.17.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0.0", ">=0.0,<0.1"),
        ("^0", ">=0,<1"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1", ">=1,<2"),
        ("~0.4", ">=0.4,<0.5"),
        ("*", ""),
        ("", ""),
        ("1.2.3", "==1.2.3"),
        ("==1.2.3", "==1.2.3"),
        ("1.2.*", "==1.2.*"),
        ("~=1.4", "~=1.4"),
        (">=1.2, <1.5", ">=1.2,<1.5"),
        (">= 1.2 < 1.5", ">=1.2,<1.5"),
        (">=2.0", ">=2.0"),
        ("^1.2 || ^2.0", ">=1.2,<2.0 || >=2.0,<3.0"),
        ("^2.0.0rc1", ">=2.0.0rc1,<3.0.0"),
    ],
)
def test_poetry_to_pep440(constraint, expected):
    assert poetry_to_pep440(constraint) == expected


@pytest.mark.parametrize("constraint", ["^abc", ">=", "latest", "^1.2 ~"])
def test_poetry_to_pep440_rejects_garbage(constraint):
    with pytest.raises(ValueError):
        poetry_to_pep440(constraint)


# ---------------------------------------------------------------- range helpers


@pytest.mark.parametrize(
    ("specifier", "version", "expected"),
    [
        (">=1.11.0", "1.12.0", True),
        ("==1.11.4", "1.12.0", False),
        ("", "99.0", True),
        (">=1.11.3,<2.0.0", "1.16.3", True),
        ("<1.12 || >=2.0", "1.13", False),
        ("<1.12 || >=2.0", "2.1", True),
        (">=2.0", "2.1.0rc1", True),
    ],
)
def test_admits(specifier, version, expected):
    assert admits(specifier, version) is expected


@pytest.mark.parametrize(
    ("specifier", "lower", "upper", "expected"),
    [
        # scipy.stats.binom_test is gone from 1.12 on
        (">=1.11.0", "1.12", None, True),
        ("scipy>=1.11.0", "1.12", None, True),
        ("==1.11.4", "1.12", None, False),
        ("scipy==1.11.4", "1.12", None, False),
        ("", "1.12", None, True),  # unconstrained admits the newest
        (None, "1.12", None, True),
        ("<1.12", "1.12", None, False),
        ("<=1.12", "1.12", None, True),
        ("~=1.11.0", "1.12", None, False),
        ("~=1.11", "1.12", None, True),
        (">=1.11.3,<2.0.0", "1.12", None, True),
        ("==1.12.*", "1.12", "1.13", True),
        ("!=1.12.*,<1.13", "1.12", "1.13", False),
        ("!=1.12.0", "1.12.0", "1.12.1", True),  # e.g. 1.12.0.post1
        (">1.12", None, "1.12", False),
        (">=2.0", None, "2.0", False),
        ("<1.0 || >=2.0", "1.0", "2.0", False),
        ("<1.0 || >=2.0", "1.0", "2.1", True),
        ("===1.5", "1.0", "2.0", True),
    ],
)
def test_admits_any_in(specifier, lower, upper, expected):
    assert admits_any_in(specifier, lower, upper) is expected


def test_ranges_intersect():
    assert ranges_intersect(">=1.11.3,<2.0.0", ">=1.12.0")
    assert not ranges_intersect("==1.11.4", ">=1.12.0")
    assert not ranges_intersect(">=0.6.2,<0.7.0", ">=0.15.0")
    assert ranges_intersect("", ">=1.24,<2.0")
    assert not ranges_intersect(">=2", ">=1.24,<2.0")


# ---------------------------------------------------------------- line locator


def test_locator_handles_strings_arrays_and_tables():
    text = '''\
# [fake] header in a comment
title = """
[not.a.table]
key = "value"
"""
lit = \'\'\'x = [1, 2]\'\'\'
"quoted.key" = 1
a.b.c = 2   # dotted key

[project]
dependencies = [
  "one", # a comment with ] and ,
  'two',
  "three"]
authors = [ { name = "A", email = "a@x" },
            { name = "B" } ]

[[tool.runs]]
name = "first"
[[tool.runs]]
name = "second"
[tool.runs.extra]
k = 1
'''
    loc = TomlLocator(text)
    assert loc.line_of(["title"]) == 2
    assert loc.line_of(["lit"]) == 6
    assert loc.line_of(["quoted.key"]) == 7
    assert loc.line_of(["a", "b", "c"]) == 8
    assert loc.line_of(["project"]) == 10
    assert loc.line_of(["project", "dependencies"]) == 11
    assert [loc.line_of(["project", "dependencies", i]) for i in range(3)] == [12, 13, 14]
    assert loc.line_of(["project", "authors", 1, "name"]) == 16
    assert loc.line_of(["project", "authors", 0, "email"]) == 15
    assert loc.line_of(["tool", "runs", 0, "name"]) == 19
    assert loc.line_of(["tool", "runs", 1]) == 20
    assert loc.line_of(["tool", "runs", 1, "extra", "k"]) == 23
    assert loc.line_of(["not", "there"]) == 1
    assert loc.line_of(["project", "missing"]) == 10  # nearest recorded ancestor


def test_locator_never_raises_on_invalid_text():
    loc = TomlLocator('[a]\nb = "unterminated\n[c]\n')
    assert loc.line_of(["a"]) == 1
    assert loc.line_of(["c"]) in (1, 3)


# ---------------------------------------------------------------- real corpus


CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def _bundle(transcript: Path) -> dict | None:
    """The judged bundle: the last line starting with '{"' that decodes as JSON (for
    Base/Derived transcripts that is the Derived bundle)."""
    bundle = None
    for line in transcript.read_text(encoding="utf-8").splitlines():
        if line.startswith('{"'):
            try:
                decoded = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(decoded, dict):
                bundle = decoded
    return bundle


@pytest.mark.corpus
def test_corpus_pyprojects_match_index():
    if not (CORPUS / "index.tsv").is_file():
        pytest.skip(f"corpus not available at {CORPUS} (../shared is absent)")
    with (CORPUS / "index.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert rows, "index.tsv is empty"
    counts: Counter[str] = Counter()
    mismatches = []
    for row in rows:
        bundle = _bundle(CORPUS / "transcripts" / row["file"])
        assert bundle is not None, row["file"]
        text = bundle.get("pyproject_toml") or ""
        report = check_pyproject(text)  # must never raise
        static = row["pyproject_static"]
        kinds = {p.kind for p in report.problems}
        deps_schema = [
            p for p in report.problems if p.kind == "schema" and p.path.startswith("project.dependencies")
        ]
        if report.problems:
            counts["with problems"] += 1
        if static.startswith("ok"):
            expected = not deps_schema and not (kinds & {"no_project_table", "deps_outside_project"})
        elif "invalid" in static:
            expected = any(p.path == "project.dependencies" for p in deps_schema)
        elif static.startswith("no-[project]"):
            expected = "no_project_table" in kinds
        elif static.startswith("no-project.dependencies"):
            expected = "deps_outside_project" in kinds and not deps_schema
        else:
            pytest.fail(f"unknown pyproject_static value {static!r}")
        counts[static] += 1
        if not expected:
            mismatches.append((row["file"], static, [(p.kind, p.path, p.line) for p in report.problems]))
    assert not mismatches, mismatches
    flagged = sum(n for s, n in counts.items() if s != "with problems" and not s.startswith("ok"))
    assert counts["with problems"] == flagged


# ---------------------------------------------------------------- fuzz

try:  # hypothesis is in the "test" extra; without it only this test is skipped
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    _TOMLISH = st.lists(
        st.sampled_from(
            [
                "[project]",
                "[project.dependencies]",
                "[tool.poetry.dependencies]",
                "[[tool.x]]",
                'name = "x"',
                'version = "1"',
                'torch = "^2.0"',
                'dependencies = ["torch>=2", "bad ^1"]',
                'dependencies = [',
                '  "scipy==1.11.4",',
                "]",
                "dynamic = ['version']",
                'a.b = { c = [1, {d = "e"}] }',
                '"""',
                "# comment ]",
                "",
            ]
        ),
        max_size=12,
    ).map("\n".join)


    @settings(max_examples=200, deadline=None)
    @given(st.one_of(st.text(max_size=200), _TOMLISH))
    def test_check_pyproject_never_raises(text):
        report = check_pyproject(text)
        assert all(isinstance(p.line, int) and p.line >= 1 for p in report.problems)
        if report.data is not None:
            n_lines = max(1, len(text.splitlines()))
            assert all(p.line <= n_lines for p in report.problems)
else:  # pragma: no cover

    @pytest.mark.skip(reason="hypothesis is not installed")
    def test_check_pyproject_never_raises():
        pass
