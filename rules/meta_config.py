"""Configuration rules: problems in the user's reviewer-audit configuration itself.

RA003 audits the configuration file, not a bundle. It still runs through the generic engine and
the generic case runner: the CI gate (`reviewer_audit.gate.settings.audit_config`) hands the
configuration file to the engine as a one-file bundle under a spec that states the
`reviewer_audit_settings` requirement, and the rule is gated on that requirement. No prompt
states it, so the rule never runs on a generated bundle -- whose own pyproject.toml is audited by
the other rules and is never reviewer-audit configuration. The cases below do the same: each is
a configuration file plus `spec={"requirements": {"reviewer_audit_settings": []}}`.
"""
from __future__ import annotations

import tomllib

from reviewer_audit.rules import all_rules
from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Severity
from reviewer_audit.engine.selection import ENGINE_CODES, SETTINGS_REQUIREMENT, line_of_selector, table_of, unknown_selectors

_CONFIG_SPEC = {"requirements": {SETTINGS_REQUIREMENT: []}}


def _pyproject(body: str) -> dict[str, str]:
    return {"pyproject.toml": "[project]\nname = 'x'\n\n[tool.reviewer-audit]\n" + body}


class UnknownRuleInConfig(Rule):
    """The reviewer-audit configuration names a rule code that does not exist.

    **What it does.** Checks every code or prefix in `select`, `ignore`, `per-file-ignores` and
    `suppress` of `[tool.reviewer-audit]` (or the `--config` file) against the known rules, and
    reports the ones that name no rule, at their line in the configuration file.

    **Why is this bad?** A mistyped code silently does nothing: a suppression that never applies,
    an ignore that ignores nothing -- or worse, `select = ["RA9O1"]` (letter O) that selects no
    rule at all, so the gate passes every bundle while checking nothing. This rule runs whatever
    `select` says, so that mistake cannot hide itself.

    **Example.**
    ```toml
    [tool.reviewer-audit]
    ignore = ["RA9O1"]
    ```

    **Use instead.** A code or prefix listed by `reviewer-audit rules`, e.g. `ignore = ["RA901"]`.
    """

    code = "RA003"
    name = "unknown-rule-in-config"
    topic = "settings"
    severity = Severity.major
    requirement = SETTINGS_REQUIREMENT

    VALID = [
        Case(files=_pyproject('select = ["RA", "RA0"]\nignore = ["RA001"]\n'), spec=_CONFIG_SPEC),
        Case(files=_pyproject('suppress = [{rules = ["RA002"], path = "config/*.yaml", reason = "generated"}]\n'), spec=_CONFIG_SPEC),
        Case(files={"pyproject.toml": "[project]\nname = 'x'\n"}, spec=_CONFIG_SPEC, note="no table: nothing to check"),
    ]
    INVALID = [
        Case(files=_pyproject('ignore = ["RA9O1"]\n'), spec=_CONFIG_SPEC, path="pyproject.toml", line=5),
        Case(files=_pyproject('per-file-ignores = { "src/*.py" = ["XYZ1"] }\n'), spec=_CONFIG_SPEC, path="pyproject.toml", line=5),
        Case(
            files=_pyproject('\n[[tool.reviewer-audit.suppress]]\nrules = ["RA001", "RA00X"]\nreason = "r"\n'),
            spec=_CONFIG_SPEC, path="pyproject.toml", line=7,
        ),
        Case(files={"reviewer-audit.toml": 'select = ["ra", "ZZ"]\n'}, spec=_CONFIG_SPEC, path="reviewer-audit.toml", line=1,
             note="a --config file other than pyproject.toml is the table itself"),
    ]

    def check(self, ctx):
        for path, f in sorted(ctx.bundle.files.items()):
            if not path.endswith(".toml"):
                continue
            try:
                table = table_of(path.rsplit("/", 1)[-1], f.text)
            except tomllib.TOMLDecodeError:
                continue  # the settings loader rejects bad TOML with exit 2 before this runs
            if table is None:
                continue
            codes = [r.code for r in all_rules()] + list(ENGINE_CODES)
            for where, selector in unknown_selectors(table, codes):
                yield self.hit(path, line_of_selector(f.text, selector),
                               f"{where}: {selector!r} is not a rule code or prefix of any rule (see `reviewer-audit rules`)")
