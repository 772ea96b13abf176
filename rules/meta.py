"""Meta rules: problems that stop the audit of a file itself."""
from __future__ import annotations

from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Severity


class SyntaxErrorRule(Rule):
    """A Python module of the bundle does not parse.

    **What it does.** Reports the first syntax error of each module, with its line.

    **Why is this bad?** The module cannot even be imported; the run crashes at once. Rules that
    need this module are skipped, so the syntax error is reported once instead of as twenty
    follow-on findings.

    **Example.** `def train(cfg)` without a colon.

    **Use instead.** Code that `python -m py_compile` accepts.
    """

    code = "RA001"
    name = "python-syntax-error"
    topic = "exec"
    severity = Severity.blocker

    VALID = [Case(files={"src/train.py": "def train(cfg):\n    return cfg\n"})]
    INVALID = [Case(files={"src/train.py": "def train(cfg)\n    return cfg\n"}, path="src/train.py", line=1)]

    def check(self, ctx):
        for problem in ctx.syntax_problems:
            yield self.hit(problem.path, problem.line, f"syntax error: {problem.message}", column=problem.column, provides=(f"file:{problem.path}",))


class YamlSyntaxRule(Rule):
    """A YAML file of the bundle, or a run config, does not parse.

    **What it does.** Reports YAML that Hydra would fail to load, with its line.

    **Why is this bad?** Hydra loads config.yaml (and the run config) before any code runs, so a
    broken file stops every run.

    **Example.** `model: [a, b` (unclosed flow sequence).

    **Use instead.** Valid YAML.
    """

    code = "RA002"
    name = "yaml-syntax-error"
    topic = "config"
    severity = Severity.blocker

    VALID = [Case(files={"config/config.yaml": "mode: full\n"}, runs={"r1": "run_id: r1\n"})]
    INVALID = [
        Case(files={"config/config.yaml": "mode: [full\n"}, path="config/config.yaml", line=2),
        Case(files={"config/config.yaml": "mode: full\n"}, runs={"r1": "run_id: r1\n  bad: [\n"}),
    ]

    def check(self, ctx):
        for path, err in sorted(ctx.yaml_errors.items()):
            yield self.hit(path, err.line, f"YAML does not parse: {err}")
        for run in ctx.run_files:
            if run.error and run.path not in ctx.yaml_errors:
                yield self.hit(run.path, None, f"run config '{run.run_id}' does not parse: {run.error}")
