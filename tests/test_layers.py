"""The package's layers follow the data flow, and imports only point down.

    cli > api > output > corpus | gate > pipeline > verdict > rules > engine > program >
    knowledge > spec > ingest

A module may import from its own layer and from layers below it; `corpus` and `gate` are
siblings that do not import each other. Every import counts, including the ones inside
functions (a lazy import is still a dependency) and `TYPE_CHECKING` blocks are exempt (they
never run). import-linter cannot see `reviewer_audit.rules`, which setuptools maps from the
top-level `rules/` folder, so the contract is checked here over the source tree itself.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [
    ("cli",), ("api",), ("output",), ("corpus", "gate"), ("pipeline",), ("verdict",), ("rules",),
    ("engine",), ("program",), ("knowledge",), ("spec",), ("ingest",),
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}
#: Package data and the root package (version string, lazy public re-exports) are not layers.
NOT_LAYERS = {"data", "__init__"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in (ROOT / "reviewer_audit").rglob("*.py"):
        rel = path.relative_to(ROOT / "reviewer_audit").with_suffix("")
        out["reviewer_audit." + ".".join(rel.parts)] = path
    for path in (ROOT / "rules").rglob("*.py"):
        rel = path.relative_to(ROOT / "rules").with_suffix("")
        out["reviewer_audit.rules." + ".".join(rel.parts)] = path
    return out


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "reviewer_audit" else None


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if node.lineno in skip if hasattr(node, "lineno") else False:
            continue
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            out.append((node.lineno, base))
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names if base == "reviewer_audit"]
    return [(line, name) for line, name in out if name.startswith("reviewer_audit")]


def test_every_module_is_in_a_layer():
    unplaced = sorted(m for m in _modules() if (layer := _layer(m)) is not None and layer not in RANK and layer not in NOT_LAYERS)
    assert not unplaced, f"modules outside every layer: {unplaced}"


def _violations(modules: dict[str, Path]) -> list[str]:
    violations = []
    for module, path in sorted(modules.items()):
        src = _layer(module)
        if src not in RANK:
            continue
        for line, target in _imports(module, path):
            dst = _layer(target)
            if dst is None or dst not in RANK or dst == src:
                continue
            if RANK[dst] <= RANK[src]:
                violations.append(f"{path.name}:{line}: {src} imports {target} ({dst} is not below {src})")
    return violations


def test_imports_only_point_down():
    violations = _violations(_modules())
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("source,bad", [
    ("def f():\n    from reviewer_audit.cli import app\n", True),  # upward, inside a function
    ("from reviewer_audit.gate import check\n", True),  # sideways, to the sibling layer
    ("from ..output import text\n", True),  # upward, relative
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from reviewer_audit.cli import app\n", False),
    ("from reviewer_audit.engine.findings import Finding\nfrom . import report\n", False),
])
def test_the_check_sees_upward_and_sideways_imports(tmp_path, source, bad):
    path = tmp_path / "x.py"
    path.write_text(source)
    assert bool(_violations({"reviewer_audit.corpus.x": path})) is bad
