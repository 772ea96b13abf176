"""The rule engine: what a rule is (`rule`), the context rules query (`context`), the run loop
(`runner`) and the findings it produces (`findings`). Rules import `Case` and `Rule` from here.

The names are loaded on first use (PEP 562): `engine.findings`, which the report models need,
must not pull in the rule machinery (libcst, the program model) for a command that only reads
a cached report."""

__all__ = ["Case", "Hit", "Rule"]


def __getattr__(name: str):
    if name in __all__:
        from reviewer_audit.engine import rule

        return getattr(rule, name)
    raise AttributeError(f"module 'reviewer_audit.engine' has no attribute {name!r}")
