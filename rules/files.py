"""File-set rules: exactly the files the prompt requires, none missing, none extra."""
from __future__ import annotations

import libcst as cst

from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Severity, one_line

_SEVEN = {
    "src/train.py": "def train(cfg):\n    return cfg\n",
    "src/evaluate.py": "def main():\n    return 0\n",
    "src/preprocess.py": "def load(cfg):\n    return cfg\n",
    "src/model.py": "def build(cfg):\n    return cfg\n",
    "src/main.py": "def main():\n    return 0\n",
    "pyproject.toml": "[project]\nname = 'x'\nversion = '0.1'\ndependencies = []\n",
    "config/config.yaml": "mode: full\n",
}


class MissingRequiredFile(Rule):
    """A file the prompt requires is missing from the bundle.

    **What it does.** Compares the bundle with the prompt's required file list (criterion "File
    Structure Compliance"; in the Base/Derived family, the Base bundle's files).

    **Why is this bad?** The prescribed commands (`python -m src.main ...`,
    `python -m src.evaluate ...`) import these modules; a missing one fails at once.

    **Example.** A bundle without `src/evaluate.py`.

    **Use instead.** Ship every required file.
    """

    code = "RA501"
    name = "missing-required-file"
    topic = "files"
    severity = Severity.blocker
    requirement = "exact_file_set"

    VALID = [Case(files=_SEVEN)]
    INVALID = [Case(files={k: v for k, v in _SEVEN.items() if k != "src/evaluate.py"}, path="src/evaluate.py")]

    def check(self, ctx):
        present = set(ctx.bundle.files)
        for path in ctx.spec.required_files:
            if path not in present:
                yield self.hit(path, None, f"required file {path} is missing from the bundle", provides=(f"file:{path}",))


class ExtraFile(Rule):
    """The bundle contains a file the prompt does not allow.

    **What it does.** Reports every file outside the required set when the prompt demands
    EXACTLY the required files (e.g. `src/__init__.py`, `setup.py`, extra modules). In a
    transcript or JSON bundle every file counts: the generator wrote it. In a directory, which
    is usually a whole repository, only bundle content counts: Python modules anywhere, and YAML
    inside a folder that holds required files (`config/`, `src/`). README, LICENSE, data and
    reports do not; dot-files and dot-folders (`.github/`, `.pre-commit-config.yaml`), Hydra's
    `outputs/` and `multirun/`, `wandb/`, what `.gitignore` excludes, `extend-exclude` patterns
    and this run's own output files are never read at all.

    **Why is this bad?** The prompt states "NO additional files"; pipelines that copy only the
    required files lose anything else, so code depending on an extra file breaks later.

    **Example.** `src/utils.py` next to the seven required files.

    **Use instead.** Put the code in one of the required files.
    """

    code = "RA502"
    name = "extra-file"
    topic = "files"
    severity = Severity.major
    requirement = "exact_file_set"

    VALID = [Case(files=_SEVEN),
             Case(files={**_SEVEN, "config/run/r1.yaml": "run_id: r1\n"}, spec={"run_config_dir": None},
                  note="a run config where the audit reads runs from (the prompt names no folder: config/run/)")]
    INVALID = [Case(files={**_SEVEN, "src/__init__.py": ""}, path="src/__init__.py"),
               Case(files={**_SEVEN, "unmapped/utils_txt": "x"}, path="unmapped/utils_txt", note="a generated key counts whatever its name")]

    def check(self, ctx):
        for path in extra_files(ctx) or ():
            yield self.hit(path, None, f"{path} is not one of the required files; the prompt allows no other files")


def extra_files(ctx) -> list[str] | None:
    """The bundle's files the prompt does not allow (None when the prompt allows any). The run
    configs the audit composes runs from are the pipeline's, wherever they sit; in a repository,
    only what could be part of the generated bundle counts."""
    if not ctx.spec.forbid_extra_files or not ctx.spec.required_files:
        return None
    allowed = set(ctx.spec.required_files) | set(ctx.spec.run_config_files) | {r.path for r in ctx.run_files}
    run_dir = (ctx.spec.run_config_dir or "").rstrip("/") + "/"
    folders = {p.rsplit("/", 1)[0] + "/" for p in allowed if "/" in p}
    return [path for path in ctx.bundle.paths()
            if not (path in allowed or (run_dir != "/" and path.startswith(run_dir)))
            and not (ctx.bundle.origin == "directory" and not _bundle_content(path, folders))]


def _bundle_content(path: str, folders: set[str]) -> bool:
    """In a repository, what could be part of the generated bundle: a Python module anywhere, or
    YAML in a folder the required files live in (`config/extra.yaml`, not `mkdocs.yml`)."""
    if path.endswith(".py"):
        return True
    return path.endswith((".yaml", ".yml")) and any(path.startswith(f) for f in folders)


class EmptyRequiredFile(Rule):
    """A required file is present but empty, or a required module has no code.

    **What it does.** Reports required files whose text is empty or whitespace only, and required
    Python modules whose only statements are a docstring, comments, `pass` or `...` (a header
    that says "unchanged - see previous version" stands where the code should be).

    **Why is this bad?** An empty `src/model.py` makes every `from src.model import ...` fail; an
    empty config or pyproject stops Hydra or the installer; a `src/main.py` with no code makes
    `python -m src.main run=...` exit doing nothing, so no run is trained or logged.

    **Example.** `"model_py": ""` in the bundle JSON, or a `src/train.py` that is only
    a docstring, `'Training script (unchanged).'`.

    **Use instead.** The complete file.
    """

    code = "RA503"
    name = "empty-required-file"
    topic = "files"
    severity = Severity.blocker
    requirement = "exact_file_set"
    about_execution = False  # the file set is the criterion: a required module with no code is missing code, run or not

    VALID = [Case(files=_SEVEN),
             Case(files={**_SEVEN, "src/main.py": '"""Entry point."""\nfrom src.train import train\n\ntrain(None)\n'})]
    INVALID = [Case(files={**_SEVEN, "src/model.py": "\n  \n"}, path="src/model.py"),
               Case(files={**_SEVEN, "src/train.py": '# src/train.py\n"""Training script.\nThis file is unchanged - see previous validated version."""\n'},
                    path="src/train.py", line=2)]

    def check(self, ctx):
        for path in ctx.spec.required_files:
            text = ctx.bundle.text(path)
            if text is None:
                continue
            if not text.strip():
                yield self.hit(path, None, f"required file {path} is empty", provides=(f"file:{path}",))
                continue
            mod = ctx.module(path) if path.endswith(".py") else None
            if mod is not None and not any(_is_code(stmt) for stmt in mod.tree.body):
                doc = next((s.value for s in mod.strings if s.is_docstring), "")
                said = f" (only a docstring: '{one_line(doc, 70)}')" if doc else " (only comments)"
                yield self.hit(path, mod.pos_of(mod.tree.body[0]).line if mod.tree.body else None,
                               f"required module {path} has no code{said}", provides=(f"file:{path}",))


def _is_code(stmt) -> bool:
    """A module-level statement that does something: not a docstring or other bare string, `pass` or `...`."""
    if isinstance(stmt, cst.SimpleStatementLine):
        return not all(isinstance(s, cst.Pass) or (isinstance(s, cst.Expr) and isinstance(s.value, (cst.SimpleString, cst.ConcatenatedString, cst.Ellipsis)))
                       for s in stmt.body)
    return True

