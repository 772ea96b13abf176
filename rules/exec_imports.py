"""Execution blockers in imports (RA902-RA903): a module the run imports does not exist."""
from __future__ import annotations

from reviewer_audit.program.bundle_index import STDLIB, bundle_index, declared_deps, import_name_data
from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Related, Severity

_PYPROJECT = """[project]
name = "exp"
version = "0.1.0"
dependencies = ["torch>=2.0", "hydra-core>=1.3.2", "evaluate>=0.4"]
"""


class BundleImportUnresolved(Rule):
    """An import of the bundle's own code names a module or a name that does not exist.

    **What it does.** Resolves every intra-bundle import -- `from src.model import build_model`,
    `import src.utils`, relative imports such as `from .model import X` -- against the files of
    the bundle. It reports a module that no file provides, and a name that the target module
    never binds at module level (def, class, assignment, import, loop/with target). A target
    whose namespace cannot be known statically (a star import of a third-party module, a
    module-level `__getattr__`, writes through `globals()`) is not judged. It also reports
    sibling-style imports (`from model import X` in `src/train.py`) when the module runs as
    `python -m src.train` and nothing puts `src/` on `sys.path`.

    **Why is this bad?** The import raises `ModuleNotFoundError` or `ImportError` when the module
    is loaded, so the run crashes before doing anything.

    **Example.** `from src.model import build_model` while `src/model.py` defines only
    `create_model`.

    **Use instead.** Import the name the module really defines, from the module that defines it.
    """

    code = "RA902"
    name = "bundle-import-unresolved"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={
            "src/model.py": "def build():\n    return 1\n",
            "src/main.py": "try:\n    from .model import build\nexcept ImportError:\n    from model import build\n\nif __name__ == '__main__':\n    build()\n",
        }, allow="minor", note="`python -m src.main` resolves the relative import, so the fallback never runs: at most a latent minor"),
        Case(files={
            "src/train.py": "from src.model import build_model, CACHE\nfrom .preprocess import load\nimport src.model as m\nfrom src import model\nfrom . import preprocess\n",
            "src/model.py": "CACHE = '.cache/'\ndef build_model(cfg):\n    return cfg\n",
            "src/preprocess.py": "try:\n    from fast import load\nexcept ImportError:\n    def load():\n        return 1\n",
        }),
        Case(files={
            "src/train.py": "import sys\nsys.path.append('src')\nfrom model import build_model\n",
            "src/model.py": "def build_model():\n    return 1\n",
        }, note="sys.path edited: sibling import works"),
        Case(files={"src/train.py": "from src.model import anything\n", "src/model.py": "from torch.nn import *\n"},
             note="star import of an external module: namespace unknown"),
    ]
    INVALID = [
        Case(files={"src/train.py": "import os\nfrom src.model import build_model\n", "src/model.py": "def create_model():\n    return 1\n"},
             path="src/train.py", line=2),
        Case(files={"src/train.py": "import src.utils\n", "src/model.py": "X = 1\n"}, path="src/train.py", line=1),
        Case(files={"src/train.py": "from .helpers import f\n", "src/model.py": "X = 1\n"}, path="src/train.py", line=1),
        Case(files={"src/train.py": "from . import utils\n", "src/model.py": "X = 1\n"}, path="src/train.py", line=1),
        Case(files={"src/train.py": "from model import build_model\n", "src/model.py": "def build_model():\n    return 1\n",
                    "src/main.py": "import subprocess, sys\nsubprocess.run([sys.executable, '-m', 'src.train'])\n"},
             path="src/train.py", line=1),
    ]

    def check(self, ctx):
        idx = bundle_index(ctx)
        deps = declared_deps(ctx)
        data = import_name_data()
        for mi in idx.modules.values():
            for imp in mi.facts.imports:
                if imp.module == "__future__" or imp.pos.line in mi.guarded_import_lines:
                    continue
                target = idx.resolve_import(mi, imp)
                if target.kind != "bundle":
                    if imp.level == 0 and target.kind == "third_party":
                        yield from self._sibling(ctx, idx, mi, imp, deps, data)
                    continue
                shown = ("." * imp.level) + imp.module
                if target.error:
                    yield self.hit(mi.path, imp.pos, f"`from {shown} import {imp.name}`: {target.error} (ImportError)")
                elif not target.exists:
                    file_hint = target.module.replace(".", "/")
                    # a file the prompt requires and the bundle lacks: this import only follows RA501
                    yield self.hit(mi.path, imp.pos, f"imports `{target.module}`, but the bundle has no {file_hint}.py or {file_hint}/ (ModuleNotFoundError)",
                                   needs=(f"file:{file_hint}.py",))
                elif target.missing_name and idx.module(target.module) is None:
                    pkg = target.module.replace(".", "/")
                    yield self.hit(mi.path, imp.pos, f"`from {shown} import {target.missing_name}`: the bundle has no {pkg}/{target.missing_name}.py and {pkg}/ has no __init__.py defining it (ImportError)")
                elif target.missing_name:
                    src = idx.module(target.module)
                    defined = sorted(n for n in (src.top_defs if src else {}) if not n.startswith("_"))
                    listing = f" (it defines: {', '.join(defined[:8])}{', ...' if len(defined) > 8 else ''})" if defined else ""
                    related = [Related(label="module", path=src.path, line=1)] if src else []
                    yield self.hit(mi.path, imp.pos, f"`from {shown} import {target.missing_name}`: {target.module.replace('.', '/')}.py never defines `{target.missing_name}` (ImportError){listing}",
                                   related=related, needs=(f"file:{target.module.replace('.', '/')}.py",))

    def _sibling(self, ctx, idx, mi, imp, deps, data):
        """`from model import x` in src/train.py: works only with src/ on sys.path."""
        top = imp.module.split(".")[0]
        sibling = idx.sibling_module(imp.module)
        if sibling is None or idx.edits_sys_path or idx.run_as_script(mi):
            return
        if top in STDLIB or top in data.imports:
            return  # a real library of that name (`import evaluate` is Hugging Face's)
        if deps.usable and any(d in deps.installed for d in data.distributions_for(top)):
            return
        path = sibling.replace(".", "/") + ".py"
        yield self.hit(mi.path, imp.pos, f"imports `{imp.module}` as a top-level module, but the run uses `python -m {mi.dotted}` with the project root on sys.path, so {path} is only importable as `{sibling}` (ModuleNotFoundError)",
                       related=[Related(label="module", path=path, line=1)] if path in ctx.bundle.files else [])


def _not_run(path: str) -> bool:
    """Build scripts and tests: `uv run python -m src.main` never imports them (setup.py gets its
    imports from the build requirements, not the runtime dependencies)."""
    name = path.rsplit("/", 1)[-1]
    return name in ("setup.py", "conftest.py", "noxfile.py", "fabfile.py") or path.startswith(("tests/", "test/", "docs/")) or name.startswith("test_")


class ImportWithoutDependency(Rule):
    """A third-party module is imported, but no declared dependency installs it.

    **What it does.** Maps every third-party import (not standard library, not the bundle's own
    code) to the PyPI distributions that provide it (`sklearn` -> scikit-learn, `yaml` -> PyYAML,
    `hydra` -> hydra-core, `PIL` -> Pillow; data in `reviewer_audit/data/import_names.yaml`) and
    checks that the pyproject's main dependencies, or their unconditional requirements
    (`omegaconf` comes with hydra-core, `numpy` with pandas/scipy/transformers...), install one
    of them. Imports inside `try: ... except ImportError` and `if TYPE_CHECKING:` are skipped.
    Skipped when the pyproject is missing or unusable (RA901 reports that).

    **Why is this bad?** `uv run` installs exactly the declared dependencies (plus what they
    require); the import raises `ModuleNotFoundError` when the module loads. Note: `torch` does
    not require NumPy, so `import numpy` with only torch declared is reported.

    **Example.** `from sklearn.metrics import f1_score` with dependencies
    `["torch", "hydra-core"]`.

    **Use instead.** Declare the distribution: `"scikit-learn>=1.3"`.
    """

    code = "RA903"
    name = "import-without-dependency"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={
            "pyproject.toml": _PYPROJECT,
            "src/train.py": "import os\nimport torch\nimport hydra\nfrom omegaconf import OmegaConf\nimport evaluate\ntry:\n    import apex\nexcept ImportError:\n    apex = None\n",
            "src/evaluate.py": "X = 1\n",
        }),
        Case(files={"src/train.py": "import sklearn\n"}, note="no pyproject: nothing to compare with"),
        Case(files={"pyproject.toml": _PYPROJECT, "setup.py": "from setuptools import setup\nsetup()\n"}, note="build script"),
        Case(files={"pyproject.toml": '[project]\nname = "x"\nversion = "0"\n\n[project.dependencies]\ntorch = "^2"\n', "src/train.py": "import sklearn\n"},
             note="unusable pyproject: RA901 fires instead"),
    ]
    INVALID = [
        Case(files={"pyproject.toml": _PYPROJECT, "src/evaluate.py": "import json\nfrom sklearn.metrics import f1_score\n"}, path="src/evaluate.py", line=2),
        Case(files={"pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["torch>=2"]\n', "src/train.py": "import torch\nimport numpy as np\n"},
             path="src/train.py", line=2, note="torch does not require numpy"),
    ]

    def check(self, ctx):
        deps = declared_deps(ctx)
        if not deps.usable:
            return
        idx = bundle_index(ctx)
        data = import_name_data()
        report = ctx.pyproject
        dep_line = next((d.line for d in report.dependencies if d.group is None), None) if report else None
        for mi in idx.modules.values():
            if _not_run(mi.path):
                continue
            seen: set[str] = set()
            for imp in mi.facts.imports:
                if imp.level or imp.pos.line in mi.guarded_import_lines:
                    continue
                top = imp.module.split(".")[0]
                if not top or top in seen or top in STDLIB or top in idx.top_names:
                    continue
                if idx.sibling_module(imp.module) and (idx.edits_sys_path or idx.run_as_script(mi)):
                    continue  # the bundle's own module via sys.path (RA902 judges the rest)
                if idx.sibling_module(imp.module) and top not in data.imports:
                    continue  # RA902 reports `from model import x`
                seen.add(top)
                dists = data.distributions_for(top)
                if any(d in deps.installed for d in dists):
                    continue
                names = " or ".join(dists[:3])
                hint = ""
                if idx.sibling_module(imp.module):
                    hint = f"; note that {idx.sibling_module(imp.module).replace('.', '/')}.py is the bundle's `{idx.sibling_module(imp.module)}`, not `{top}`"
                related = [Related(label="dependencies declared", path="pyproject.toml", line=dep_line)] if dep_line else []
                yield self.hit(mi.path, imp.pos, f"imports `{top}`, but no dependency in pyproject.toml installs it (needs {names}); `uv run` raises ModuleNotFoundError{hint}", related=related)
