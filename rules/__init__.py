"""Rule modules, one per criterion family. Shipped as `reviewer_audit.rules`.

Every `Rule` subclass defined in a module of this package is registered, sorted by code.
Codes are stable and grouped in families by criterion topic:

RA0xx meta (syntax errors, configuration) · RA1xx completeness · RA2xx Hydra and configs ·
RA3xx data pipeline · RA4xx model / PEFT · RA5xx file set · RA6xx WandB · RA7xx modes ·
RA8xx evaluation script · RA9xx execution blockers (pyproject, imports, removed APIs).
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Iterable

from reviewer_audit.engine import Rule


def _discover() -> list[type[Rule]]:
    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and getattr(obj, "code", None):
                if obj.code in found and found[obj.code] is not obj:
                    raise RuntimeError(f"duplicate rule code {obj.code}: {found[obj.code].__name__} and {obj.__name__}")
                found[obj.code] = obj
    return sorted(found.values(), key=lambda r: r.code)


def all_rules() -> list[type[Rule]]:
    return list(RULES)


def rule_by_code(code: str) -> type[Rule] | None:
    return next((r for r in RULES if r.code == code.upper()), None)


def select_rules(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[type[Rule]]:
    """Ruff-style selection by code or prefix: `--select RA6 --ignore RA603`."""
    select = [s.upper() for s in select]
    ignore = [s.upper() for s in ignore]
    out = []
    for r in RULES:
        if select and not any(r.code.startswith(s) for s in select):
            continue
        if any(r.code.startswith(s) for s in ignore):
            continue
        out.append(r)
    return out


#: Every rule, sorted by code (rule modules may import the functions above while this runs).
RULES: list[type[Rule]] = _discover()
