"""Execution blockers in pyproject.toml (RA90x): the project cannot be installed or run."""
from __future__ import annotations

from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Severity

_POETRY_TABLE = """[build-system]
requires = ["setuptools>=42", "wheel"]

[project]
name = "exp"
version = "0.1.0"
description = "x"

[project.dependencies]
hydra-core = "^1.3.2"
torch = "^2.1.0"
"""

_VALID = """[project]
name = "exp"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = [
    "torch>=2.0.0",
    "hydra-core>=1.3.2",
]
"""

_POETRY_ONLY = """[tool.poetry]
name = "exp"
version = "0.1.0"
description = ""
authors = ["a <a@b.c>"]

[tool.poetry.dependencies]
python = "^3.10"
torch = "^2.1"
"""

_SETUPTOOLS_BAD_TOOL_TABLE = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "exp"
version = "0.1.0"
dependencies = ["torch>=2.0"]

[tool.setuptools.package-data]
"" = ["config/*.yaml"]
"""


class PyprojectInvalid(Rule):
    """pyproject.toml is not valid TOML / PEP 621 metadata, or declares no installable dependencies.

    **What it does.** Runs the bundle's `pyproject.toml` through the TOML parser and the
    PEP 517/518/621 JSON Schemas of validate-pyproject (via `reviewer_audit.program.pyproject_check`)
    and reports every problem at its line: TOML syntax errors, a Poetry-style
    `[project.dependencies]` *table* where PEP 621 requires an array of PEP 508 strings, a missing
    `[project]` table (Poetry-only projects), dependencies declared only under
    `[tool.poetry.dependencies]`, and other schema violations.

    **Why is this bad?** The prompt's commands are `uv run python -m src.main ...`. uv rejects a
    `[project.dependencies]` table outright ("invalid type: map, expected a sequence"), so every
    run fails before Python starts (seed_002 D-01, pyproject.toml:10); about half of the corpus
    has this table and the runs crashed. Without a `[project]` table, or with the dependencies
    only in `[tool.poetry]`, uv installs nothing and the first `import hydra` fails. Where the
    prompt does not prescribe `uv run` (the Base/Derived prompts) the environment may come from
    elsewhere, so these are reported as major (a stated dependency requirement), not blockers.
    Problems in a
    `[tool.*]` table only matter when a build backend reads that table: `[tool.setuptools]`
    errors break the build when a setuptools `[build-system]` is declared (uv builds the project),
    and are advice otherwise.

    **Example.**
    ```toml
    [project.dependencies]
    torch = "^2.1.0"
    ```

    **Use instead.**
    ```toml
    [project]
    dependencies = ["torch>=2.1,<3"]
    ```
    """

    code = "RA901"
    name = "pyproject-invalid"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={"pyproject.toml": _VALID}),
        Case(files={"src/main.py": "print(1)\n"}, note="no pyproject: the file-set rule reports it"),
    ]
    INVALID = [
        Case(files={"pyproject.toml": _POETRY_TABLE}, path="pyproject.toml", line=9),
        Case(files={"pyproject.toml": _POETRY_ONLY}, path="pyproject.toml", line=7),
        Case(files={"pyproject.toml": '[project]\nname = "exp"\nversion = "0.1.0\n'}, path="pyproject.toml", line=3),
        Case(files={"pyproject.toml": _SETUPTOOLS_BAD_TOOL_TABLE}, path="pyproject.toml", line=11),
    ]

    def check(self, ctx):
        report = ctx.pyproject
        if report is None:
            return
        data = report.data or {}
        build = data.get("build-system") if isinstance(data.get("build-system"), dict) else None
        backend = str(build.get("build-backend", "")) if build else ""
        raw_requires = build.get("requires", []) if build else []
        requires = " ".join(map(str, raw_requires)) if isinstance(raw_requires, list) else str(raw_requires)
        builds_with_setuptools = build is not None and ("setuptools" in backend or (not backend and "setuptools" in requires))
        # a crash is certain only where the prompt runs the code with `uv run`; without that
        # (the Base/Derived prompts) the environment may be provisioned some other way
        runs_with_uv = any(form.command.startswith("uv ") for form in ctx.spec.cli)
        for p in report.problems:
            severity = None if runs_with_uv else Severity.major
            message = p.message
            if p.kind == "schema" and p.path.startswith("tool."):
                if p.path.startswith("tool.setuptools") and builds_with_setuptools:
                    message += " (setuptools validates this table when uv builds the project, so the build fails)"
                else:
                    severity = Severity.minor
                    message += " (only read by that tool; harmless for uv while no build backend reads it)"
            elif p.kind == "schema" and p.path.startswith(("project.optional-dependencies", "project.urls", "project.scripts", "project.entry-points", "project.gui-scripts")) :
                message += " (uv rejects invalid [project] metadata, so the project cannot be run)"
            yield self.hit("pyproject.toml", p.line, message, column=p.column, severity=severity)
