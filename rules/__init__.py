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


RULES: list[type[Rule]] = _discover()
