"""The rule engine: what a rule is (`rule`), the context rules query (`context`), the run loop
(`runner`) and the findings it produces (`findings`). Rules import `Case` and `Rule` from here."""
from reviewer_audit.engine.rule import Case, Hit, Rule

__all__ = ["Case", "Hit", "Rule"]
