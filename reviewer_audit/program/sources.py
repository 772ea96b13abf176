"""The bundle as the interpreter runs it: modules by path and dotted name, the other files.

Imports resolve here the way `python -m src.main` resolves them (the project root on sys.path,
relative imports against the importing module's package, namespace packages understood).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from reviewer_audit.program.configstate import UNKNOWN

def absolute_module(importer: str, is_package: bool, level: int, module: str | None) -> str | None:
    """The absolute dotted module `from <level dots><module> import ...` names in module
    `importer` (a package's own `__init__` counts as inside it); None when the dots climb above
    the top-level package. The one relative-import rule of the program model."""
    if not level:
        return module or None
    pkg = importer if is_package else importer.rpartition(".")[0]
    parts = pkg.split(".") if pkg else []
    if level - 1 > len(parts) - 1 or not parts:
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, module] if module else base)


@dataclass
class ModuleSource:
    path: str  # "src/train.py"
    dotted: str  # "src.train"
    tree: ast.Module
    lines: list[str]
    is_package: bool = False


class Sources:
    """The bundle's modules as the interpreter needs them: by path and dotted name, plus the
    bundle's other files (YAML loaded by path)."""

    def __init__(self, modules: Iterable[ModuleSource], files: dict[str, str], packages: set[str],
                 yaml_loader: Callable[[str], Any]) -> None:
        self.by_path = {m.path: m for m in modules}
        self.by_dotted = {m.dotted: m for m in self.by_path.values()}
        self.files = files
        self.packages = packages
        self.load_yaml = yaml_loader

    def absolute(self, mod: ModuleSource, level: int, module: str | None) -> str | None:
        return absolute_module(mod.dotted, mod.is_package, level, module)

    def is_bundle(self, dotted: str) -> bool:
        return dotted in self.by_dotted or dotted in self.packages




def load_yaml_data(text: str) -> Any:
    """YAML text -> plain data for `OmegaConf.load` of a bundle file (safe loader; UNKNOWN on error)."""
    from reviewer_audit.ingest.yamlio import YamlError, load_yaml

    try:
        return load_yaml(text).data
    except YamlError:
        return UNKNOWN
    except Exception:  # noqa: BLE001 -- any other YAML trouble: the value is not known
        return UNKNOWN
