"""Execution blockers in code (RA904-RA907, RA914): calls, names and library APIs that fail or hang at run time."""
from __future__ import annotations

from packaging.specifiers import SpecifierSet

from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Related, Severity
from reviewer_audit.knowledge.api_index import PYTHON
from reviewer_audit.knowledge.library import load_knowledge
from reviewer_audit.knowledge.releases import admitted, first_release_in
from reviewer_audit.knowledge.versions import admits, admits_any_in
from reviewer_audit.program.bundle_index import bundle_index, library_specifier
from reviewer_audit.program.facts import dotted_name, literal_string
from reviewer_audit.program.name_resolution import unresolved_reads
from reviewer_audit.rules._library import admitted_versions, hedged, library_of, library_uses, verdict

# --------------------------------------------------------------------------- RA904


class BundleCallArity(Rule):
    """A call to a function or class of the bundle passes arguments its signature rejects.

    **What it does.** For every call that certainly reaches a top-level `def` or `class` of the
    bundle -- defined in the same module, imported from another bundle module
    (`from src.model import build_model`), or reached as `module.func` -- binds the call's
    arguments to the signature as Python would: too many positional arguments, a keyword the
    function does not accept, a value given twice, or a required argument left out. Classes
    are checked against their own `__init__` (without `self`); a `@dataclass` without an
    explicit `__init__` against its fields (`field(init=False)`, `ClassVar`, `KW_ONLY` and
    `kw_only=True` honoured). Calls with `*args`/`**kwargs`, functions with unknown decorators,
    classes with bases but no own `__init__`, and names bound more than once are not judged.

    **Why is this bad?** The call raises `TypeError` when it runs, typically at the start of
    training (`build_model(cfg)` when the function takes `(cfg, num_labels)`).

    **Example.** `model = build_model(cfg)` with `def build_model(cfg, num_labels):`.

    **Use instead.** Pass exactly what the signature takes: `build_model(cfg, num_labels=2)`.
    """

    code = "RA904"
    name = "bundle-call-arity"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={"src/main.py": "def helper(a, b):\n    return a\n\ndef unused():\n    return helper(1)\n\nif __name__ == '__main__':\n    helper(1, 2)\n"},
             allow="minor", note="unused() is never called: the wrong call is latent"),
        Case(files={
            "src/model.py": (
                "from dataclasses import dataclass, field\n\n"
                "def build_model(cfg, num_labels=2, *, cache=None):\n    return cfg\n\n"
                "def wrap(*args, **kwargs):\n    return args\n\n"
                "@dataclass\nclass Cfg:\n    lr: float\n    steps: int = 1\n    tags: list = field(default_factory=list)\n\n"
                "class Trainer:\n    def __init__(self, model, lr=0.1):\n        self.model = model\n"
            ),
            "src/train.py": (
                "from src.model import build_model, wrap, Cfg, Trainer\nimport src.model as M\n\n"
                "def main(cfg, extra):\n    m = build_model(cfg, 3, cache='x')\n    wrap(1, 2, 3, a=1)\n    c = Cfg(0.1, steps=3)\n"
                "    t = Trainer(m, lr=0.2)\n    M.build_model(cfg, num_labels=4)\n    build_model(*extra)\n"
            ),
        }),
        Case(files={"src/train.py": "import hydra\n\n@hydra.main(config_path='c', version_base=None)\ndef main(cfg):\n    pass\n\nmain()\n"},
             note="decorated by hydra.main: the decorator changes the signature"),
        Case(files={"src/train.py": (
            "class Base:\n    def step(self, batch):\n        return batch\n\n    def run(self, b):\n        return self.step(b, 2)\n\n"
            "class Child(Base):\n    def step(self, batch, scale):\n        return batch\n"
        )}, note="a subclass may override the method"),
    ]
    INVALID = [
        Case(files={
            "src/model.py": "def build_model(cfg, num_labels):\n    return cfg\n",
            "src/train.py": "from src.model import build_model\n\ndef run(cfg):\n    return build_model(cfg)\n",
        }, path="src/train.py", line=4),
        Case(files={"src/train.py": "def f(a, b=1):\n    return a\n\nf(1, 2, 3)\n"}, path="src/train.py", line=4),
        Case(files={"src/train.py": "from dataclasses import dataclass\n\n@dataclass\nclass C:\n    a: int\n\nC(a=1, b=2)\n"}, path="src/train.py", line=7),
        Case(files={"src/train.py": "class T:\n    def __init__(self, model):\n        self.model = model\n\nT()\n"}, path="src/train.py", line=5),
        Case(files={"src/train.py": "class T:\n    def step(self, batch, scale):\n        return batch\n\n    def run(self, b):\n        return self.step(b)\n"},
             path="src/train.py", line=6, note="self.method with a missing argument"),
    ]

    def check(self, ctx):
        idx = bundle_index(ctx)
        for mi in idx.modules.values():
            for call in mi.facts.calls:
                found = idx.definition_for_call(mi, call)
                if found is not None:
                    sig = idx.signature_of(*found)
                else:
                    sig = idx.method_signature_for_call(mi, call)
                if sig is None:
                    continue
                problems = sig.problems(call.node)
                if not problems:
                    continue
                where = f" ({sig.path}:{sig.line})" if sig.path != mi.path else f" (line {sig.line})"
                yield self.hit(mi.path, call.pos, f"`{call.func}(...)` {'; '.join(problems)} -- {sig.label}{where} (TypeError)",
                               related=[Related(label="defined here", path=sig.path, line=sig.line)])


# --------------------------------------------------------------------------- RA905


class UndefinedName(Rule):
    """A name is read that is bound nowhere: not a builtin, not imported, not defined.

    **What it does.** Resolves every name read in each module with CPython's own symbol table
    (`reviewer_audit.program.name_resolution`: function, class, comprehension and global scopes,
    `global`/`nonlocal`, walrus targets, match captures, builtins). A read that no scope binds
    is reported, and so is a read that its own function or module binds only on a later line
    (outside any loop). Annotations are only judged where Python evaluates them
    (parameter/return annotations and module/class-level variable annotations, and not at all
    under `from __future__ import annotations`); string annotations and local variable
    annotations are never evaluated. Modules with a star import of a module the audit cannot
    see, or writes through `globals()`, are skipped, and so are modules this interpreter's
    parser rejects but libcst reads (syntax newer than the running Python); reads inside a
    `try` that catches `NameError`/`Exception` are skipped.

    **Why is this bad?** The read raises `NameError` when it executes: at import for module-level
    code, when the function runs otherwise. A function whose name occurs nowhere else in the
    bundle may never run; that case is reported as minor.

    **Example.** `x = np.zeros(3)` without `import numpy as np`.

    **Use instead.** Import or define the name.
    """

    code = "RA905"
    name = "undefined-name"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={"src/main.py": "class Base:\n    def run(self):\n        return undefined_helper()\n\nclass Child(Base):\n    def run(self):\n        return 1\n\n"
                                   "if __name__ == '__main__':\n    Child().run()\n"},
             allow="minor", note="every instantiated subclass overrides Base.run: its body never runs"),
        Case(files={"src/train.py": (
            "from __future__ import annotations\nimport os\n\n"
            "def f(a: Tensor, *args) -> Dict:\n    y: wandb.wandb_sdk.Run = None\n    z = [i for i in range(3)]\n    return os.sep, z, __file__, len(a)\n\n"
            "class C:\n    k = 1\n    def m(self):\n        return self.k\n\n"
            "try:\n    q = maybe_defined\nexcept NameError:\n    q = None\n\nf(1)\n"
        )}),
        Case(files={"src/train.py": "from torch.nn import *\nx = Linear(2, 2)\n"}, note="star import: unknown namespace"),
        Case(files={"src/train.py": "def f():\n    global G\n    G = 1\n\ndef g():\n    return G\n\nf(); g()\n"}),
        Case(files={"src/train.py": "if (n := 3) > 2:\n    print(n)\nmatch n:\n    case [q, *rest]:\n        print(q, rest)\n"}, note="walrus and match bindings"),
        Case(files={"src/train.py": "def f():\n    k = 1\n    def g():\n        nonlocal k\n        k += 1\n        return k\n    return g\n\nclass K:\n    vals = [1, 2]\n    doubled = [v * 2 for v in vals]\n\nf()\n"}, note="closures; a comprehension's first iterable runs in the class body"),
        Case(files={"src/train.py": "def f():\n    for _ in range(2):\n        if _:\n            print(t)\n        t = 1\n\nf()\n"}, note="a loop may bind before the read"),
    ]
    INVALID = [
        Case(files={"src/train.py": "import torch\n\nx = np.zeros(3)\n"}, path="src/train.py", line=3),
        Case(files={"src/train.py": "def run(cfg):\n    return build(cfg)\n\nrun(1)\n"}, path="src/train.py", line=2),
        Case(files={"src/train.py": "def run(cfg: DictConfig):\n    return cfg\n\nrun(1)\n"}, path="src/train.py", line=1),
        Case(files={"src/train.py": "class C:\n    a = 1\n\n    def m(self):\n        return a\n\nC().m()\n"}, path="src/train.py", line=5, note="class attributes are not in a method's scope"),
        Case(files={"src/train.py": "x = compute()\n\ndef compute():\n    return 1\n"}, path="src/train.py", line=1, note="module code runs top to bottom"),
        Case(files={"src/train.py": "def f():\n    print(x)\n    x = 1\n\nf()\n"}, path="src/train.py", line=2, note="UnboundLocalError"),
        Case(files={"src/train.py": "class K:\n    vals = [1, 2]\n    pairs = [(a, b) for a in vals for b in vals]\n"}, path="src/train.py", line=3, note="only the first iterable is evaluated in the class body"),
    ]

    def check(self, ctx):
        idx = bundle_index(ctx)
        for mi in idx.modules.values():
            if mi.open_reasons or mi.facts.cpython is None:
                continue
            yield from self._module(idx, mi)

    def _module(self, idx, mi):
        facts = mi.facts
        for read in unresolved_reads(facts.cpython, facts.lines):
            name, line = read.name, read.line
            func = facts.function_at(line)
            qual = func.qualname if func is not None else None
            if name in facts.guarded_keys.get(qual, ()):
                continue  # `if "x" in locals(): use(x)`
            if read.kind == "before-assignment":
                what = f"`{name}` is read before it is assigned (line {read.detail})"
                exc = "NameError" if read.module_level else "UnboundLocalError"
            elif read.detail is None:
                what = f"`{name}` is never imported or defined in {mi.path}"
                exc = "NameError"
            else:
                what = f"`{name}` is only bound in {read.detail}, not where it is read"
                exc = "NameError"
            severity = None
            when = "at import time"
            if func is not None:
                top = func.qualname.split(".")[0]
                when = f"when `{func.qualname}` runs"
                if not func.is_method and "." not in func.qualname and idx.mention_count(top) <= 1:
                    severity = Severity.minor
                    when = f"if `{func.qualname}` is ever called (nothing in the bundle calls it)"
            yield self.hit(mi.path, line, f"{what}: {exc} {when}", column=read.column, severity=severity)


# --------------------------------------------------------------------------- RA906


def _severity_for(ctx, entry) -> tuple[Severity | None, str, str | None]:
    """(severity, declared range text, dated note) for a reviewed knowledge entry, used where the
    API index cannot judge the name (a library or an attribute it does not index);
    severity None = the range admits no affected release."""
    spec = library_specifier(ctx, entry.library)
    declared = ctx.pyproject is not None and ctx.pyproject.dependency(entry.library) is not None
    shown = f"{entry.library}{spec}" if spec else f"{entry.library} ({'unpinned' if declared else 'not declared, so any version'})"
    if not entry.admitted_by(spec):
        return None, shown, None
    severity = Severity(entry.severity)
    uppers = [s for s in SpecifierSet(entry.affected_range) if s.operator in ("<", "<=")]
    if uppers and admits_any_in(spec, uppers[0].version, None):
        # the resolver will pick a newer release, outside the affected window
        severity = Severity.minor
    if ctx.exclude_newer is not None:
        then = admitted(entry.library, spec, ctx.exclude_newer)
        if then and not any(admits(entry.affected_range, str(r.version)) for r in then):
            first = first_release_in(entry.library, spec, entry.affected_range)
            when = f"{entry.library} {first.version}, released {first.date}" if first else "a later release"
            return Severity.minor, shown, f"breaks with releases after {ctx.exclude_newer}: from {when}; the newest {entry.library} before then was {then[-1].version}"
    return severity, shown, None


def _hint(kb, dotted: str) -> str:
    """The reviewed replacement for a removed or renamed name, where there is one."""
    for entry in kb.by_symbol(dotted):
        if entry.kind in ("removed", "renamed"):
            return f"; use {entry.replacement}"
    return ""


_EXCEPTION = {"from-import": "ImportError", "import": "ModuleNotFoundError", "attribute": "AttributeError"}


class RemovedLibraryApi(Rule):
    """The code uses a library name that the library versions the bundle admits do not have.

    **What it does.** Looks up every library name the code reaches through its imports --
    `from sklearn.metrics import wilcoxon`, `import torch.amp`, `OmegaConf.deepcopy(cfg)`,
    `np.float` -- in the API index built from the published wheels (`reviewer-audit libraries`
    lists what it covers; the standard library comes from typeshed, judged against the Pythons
    `requires-python` admits, and only for names some indexed Python has: typeshed leaves out
    modules' helper imports). The versions judged are the indexed minors that the pyproject's
    range admits, counting only releases published before the audit date (`--exclude-newer`;
    an unpinned or undeclared library admits every release). Missing in the newest admitted
    release (the one a resolver installs) is a blocker; missing only in older admitted releases
    is minor and names them (only an older pin would install one; for Python itself, which is
    whatever the machine has, it is major); missing only in releases after the audit date is
    minor. Names the
    index cannot judge -- an open namespace, an attribute of a function or of a value,
    a base class from another library -- are never reported; for those, the reviewed entries of
    `data/library_knowledge.yaml` still apply (`wandb.run.get_url()`). Imports inside
    `try: ... except ImportError`, uses behind `hasattr(...)` and attributes the bundle assigns
    itself are skipped. The type of a local variable is never guessed.

    **Why is this bad?** The import raises ImportError, the attribute AttributeError, when that
    line runs. `OmegaConf.deepcopy` has never existed (use `copy.deepcopy`); `binom_test` left
    SciPy in 1.12, which `scipy^1.11.3` admits (seed_002 D-13).

    **Example.** `cfg2 = OmegaConf.deepcopy(cfg)`; `from scipy.stats import binom_test` with
    `scipy>=1.11`.

    **Use instead.** A name the admitted versions provide (`copy.deepcopy(cfg)`,
    `scipy.stats.binomtest(k, n).pvalue`), or a range that excludes the versions without it.
    """

    code = "RA906"
    name = "removed-library-api"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={
            "pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["scipy>=1.9,<1.12", "omegaconf>=2.3"]\n',
            "src/evaluate.py": (
                "import copy\nfrom scipy.stats import binom_test, wilcoxon\nfrom omegaconf import OmegaConf, DictConfig\nimport numpy as np\nimport torch.nn.functional as F\n"
                "x = np.float64(1)\ncfg = OmegaConf.create({})\nc2 = copy.deepcopy(cfg)\ny = F.relu\nz = OmegaConf.to_yaml(cfg)\n"
            ),
        }, note="pinned below the removal; names that exist"),
        Case(files={"src/train.py": "import torch\nclass A:\n    pass\nA.float = 1\nself_np = A()\nprint(self_np.float)\n"}),
        Case(files={"src/train.py": "try:\n    from sklearn.metrics import wilcoxon\nexcept ImportError:\n    from scipy.stats import wilcoxon\nimport numpy as np\nif hasattr(np, 'float'):\n    print(np.float)\n"},
             note="guarded by try/except ImportError and hasattr"),
        Case(files={
            "pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["wandb>=0.15"]\n',
            "src/train.py": "import wandb\nwandb.init()\nprint(wandb.run.get_url())\n",
        }, exclude_newer="2025-10-17", allow="minor",
            note="Run.get_url was removed in wandb 0.29 (2026): code written in 2025 ran; only a minor 'breaks with later releases'"),
        Case(files={"src/train.py": "import torch\nx = torch._C._get_tracing_state\ny = torch.ops.aten.add\n"}, note="private names and open namespaces are not judged"),
    ]
    INVALID = [
        Case(files={
            "pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["scipy>=1.11.3"]\n',
            "src/evaluate.py": "import json\nfrom scipy.stats import binom_test\n",
        }, path="src/evaluate.py", line=2, severity="blocker"),
        Case(files={"src/train.py": "import numpy as np\n\nx = np.zeros(3).astype(np.float)\n"}, path="src/train.py", line=3),
        Case(files={"src/train.py": "from omegaconf import OmegaConf\n\ncfg = OmegaConf.create({})\nrun_cfg = OmegaConf.deepcopy(cfg)\n"},
             path="src/train.py", line=4, severity="blocker", note="OmegaConf.deepcopy never existed"),
        Case(files={"src/evaluate.py": "from sklearn.metrics import accuracy_score, wilcoxon\n"}, path="src/evaluate.py", line=1,
             severity="blocker", note="a SciPy function imported from sklearn.metrics"),
        Case(files={
            "pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["scikit-learn>=1.3"]\n',
            "src/evaluate.py": "from sklearn.metrics import root_mean_squared_error\n",
        }, exclude_newer="2025-10-17", path="src/evaluate.py", line=1, severity="minor",
            note="added in scikit-learn 1.4: the range also admits 1.3, which lacks it, but a fresh install gets the newest"),
        Case(files={
            "pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["wandb>=0.15"]\n',
            "src/train.py": "import wandb\nwandb.init()\nprint(wandb.run.get_url())\n",
        }, exclude_newer="2026-11-01", path="src/train.py", line=3, severity="blocker",
            note="as of a date after wandb 0.29, the removal is a blocker (reviewed entry: the index does not follow `wandb.run`)"),
        Case(files={
            "pyproject.toml": '[project]\nname = "x"\nversion = "0"\nrequires-python = ">=3.10"\n',
            "src/train.py": "import os\nfrom datetime import UTC\nimport distutils.util\n",
        }, exclude_newer="2025-10-17", path="src/train.py", line=2, severity="major",
            note="datetime.UTC is 3.11+; requires-python also admits 3.10"),
        Case(files={
            "pyproject.toml": '[project]\nname = "x"\nversion = "0"\nrequires-python = ">=3.10"\n',
            "src/train.py": "import os\nfrom datetime import UTC\nimport distutils.util\n",
        }, exclude_newer="2025-10-17", path="src/train.py", line=3, severity="blocker",
            note="distutils left the standard library in 3.12"),
    ]

    def check(self, ctx):
        kb = load_knowledge()
        idx = bundle_index(ctx)
        by_name: dict[str, list] = {}
        for e in kb:
            if e.kind in ("removed", "renamed"):
                for n in e.names:
                    by_name.setdefault(n, []).append(e)
        for mi in idx.modules.values():
            judged: set[tuple[str, int]] = set()
            import_missing: set[str] = set()
            reported: set[tuple[str, int]] = set()
            for use in library_uses(ctx, mi):
                lib = library_of(use.dotted)
                if lib is None:
                    continue
                adm = admitted_versions(ctx, lib)
                mask = adm.now | adm.later
                res = lib.module_exists(use.dotted, mask) if use.kind == "import" else lib.resolve(use.dotted, mask, use.module)
                if res.found_mask | res.missing_mask:
                    judged.add((use.dotted, use.line))
                if not res.missing:
                    continue
                if lib.name == PYTHON and not self._in_some_python(lib, use):
                    continue  # typeshed leaves out helper imports and internals: only version-dependent names
                container, name, _ = res.missing[0]
                where = f"{container}.{name}" if container != name else name
                if use.kind == "attribute" and any(where == m or where.startswith(m + ".") for m in import_missing):
                    continue  # the import that binds it is reported
                found = verdict(ctx, adm, res.missing_mask, res.unknown)
                if found is None or (where, use.line) in reported:
                    continue
                reported.add((where, use.line))
                reported.add((use.dotted, use.line))
                if use.kind == "from-import":
                    import_missing.add(where)
                severity, scope = found
                severity, note = hedged(ctx, mi.path, use.line, severity)
                what = f"module `{name}` does not exist" if container == name else f"`{container}` has no `{name}`"
                yield self.hit(mi.path, use.line, f"`{use.shown}`: {what} {scope} ({_EXCEPTION[use.kind]}){_hint(kb, where)}{note}",
                               column=use.column, severity=severity)
            yield from self._reviewed(ctx, mi, by_name, judged, reported)

    @staticmethod
    def _in_some_python(lib, use) -> bool:
        res = lib.module_exists(use.dotted) if use.kind == "import" else lib.resolve(use.dotted, None, use.module)
        return bool(res.found_mask)

    def _reviewed(self, ctx, mi, by_name, judged, reported):
        """Reviewed entries: removals the index could not judge, and deprecations (a renamed
        API still works, so the index alone says nothing about it)."""
        for use in library_uses(ctx, mi):
            for _name, entries in _prefixes(use.dotted, by_name):
                for entry in entries:
                    if (entry.full_name, use.line) in reported or (use.dotted, use.line) in reported:
                        continue
                    if entry.kind == "removed" and (use.dotted, use.line) in judged:
                        continue  # the index judged it
                    severity, shown, dated = _severity_for(ctx, entry)
                    if severity is None:
                        continue
                    reported.add((entry.full_name, use.line))
                    msg = f"{entry.message.rstrip('.')} ({shown} admits {entry.library}{entry.affected_range}; use {entry.replacement})"
                    if dated:
                        msg = f"{msg}; {dated}"
                    yield self.hit(mi.path, use.line, msg, column=use.column, severity=severity)


def _prefixes(resolved: str, by_name: dict) -> list[tuple[str, list]]:
    parts = resolved.split(".")
    out = []
    for i in range(len(parts), 1, -1):
        name = ".".join(parts[:i])
        if name in by_name:
            out.append((name, by_name[name]))
            break
    return out


# --------------------------------------------------------------------------- RA907

_SPAWN = frozenset({
    "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "subprocess.Popen",
    "os.system", "os.execv", "os.execvp", "os.execl", "os.execlp", "os.spawnv", "os.spawnl", "os.popen",
})


def _hydra_chdir_disabled(ctx) -> bool:
    doc = ctx.config_doc
    data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
    hydra = data.get("hydra") if isinstance(data.get("hydra"), dict) else {}
    job = hydra.get("job") if isinstance(hydra.get("job"), dict) else {}
    run = hydra.get("run") if isinstance(hydra.get("run"), dict) else {}
    return job.get("chdir") is False or str(run.get("dir", "")).strip() in (".", "./", "${hydra:runtime.cwd}")


def _installs_src_package(ctx) -> bool:
    """The pyproject has a build backend and explicitly packages `src` (then `src` is importable anywhere)."""
    report = ctx.pyproject
    data = report.data if report is not None and report.data else {}
    if not isinstance(data.get("build-system"), dict):
        return False
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    text = repr(tool.get("setuptools", "")) + repr(tool.get("hatch", "")) + repr(tool.get("poetry", {}).get("packages", "") if isinstance(tool.get("poetry"), dict) else "")
    return "'src'" in text or '"src"' in text


class HydraChdirBreaksSubprocess(Rule):
    """`@hydra.main` without `version_base` in a module that spawns `python -m src.…`.

    **What it does.** Finds `@hydra.main(...)` without `version_base` (or with
    `version_base="1.1"`) in a module that launches a child process running the bundle's own
    code (`[sys.executable, "-m", "src.train", ...]`, `"python src/train.py"`) through
    `subprocess`/`os.system`. It stays silent when the child gets an explicit `cwd=`, when the
    module changes back with `os.chdir` or sets `PYTHONPATH`, when config.yaml sets
    `hydra.job.chdir: false` (or `hydra.run.dir: .`), when the hydra-core range excludes every
    release with the 1.1 behaviour, or when the pyproject installs a `src` package.

    **Why is this bad?** Without `version_base`, Hydra applies its 1.1 defaults and changes the
    working directory to `outputs/<date>/<time>` before calling the function. The child inherits
    that directory; the project is not installed (no `[build-system]`, and uv does not install
    such projects), so `python -m src.train` fails with `No module named 'src'` in every mode
    (seed_000 D-01, main.py:14). With `version_base=None` there is no directory change
    (seed_002).

    **Example.** `@hydra.main(config_path="../config", config_name="config")` followed by
    `subprocess.run([sys.executable, "-m", "src.train", ...])`.

    **Use instead.** `@hydra.main(config_path="../config", config_name="config", version_base=None)`,
    or `subprocess.run(cmd, cwd=hydra.utils.get_original_cwd())`.
    """

    code = "RA907"
    name = "hydra-chdir-breaks-subprocess"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    _MAIN = (
        "import subprocess\nimport sys\nimport hydra\n\n\n"
        "@hydra.main(config_path='../config', config_name='config'{vb})\n"
        "def main(cfg):\n    cmd = [sys.executable, '-u', '-m', 'src.train', f'run={{cfg.run}}']\n    subprocess.run(cmd, check=True{cwd})\n\n\n"
        "if __name__ == '__main__':\n    main()\n"
    )
    VALID = [
        Case(files={"src/main.py": _MAIN.format(vb=", version_base=None", cwd="")}),
        Case(files={"src/main.py": _MAIN.format(vb="", cwd=", cwd=hydra.utils.get_original_cwd()")}),
        Case(files={"src/main.py": _MAIN.format(vb="", cwd=""), "config/config.yaml": "hydra:\n  job:\n    chdir: false\n"}),
        Case(files={"src/train.py": "import hydra\n\n@hydra.main(config_path='../config', config_name='config')\ndef main(cfg):\n    print(cfg)\n"},
             note="no child process"),
    ]
    INVALID = [
        Case(files={"src/main.py": _MAIN.format(vb="", cwd="")}, path="src/main.py", line=6),
        Case(files={"src/main.py": _MAIN.format(vb=", version_base='1.1'", cwd="")}, path="src/main.py", line=6),
    ]

    def check(self, ctx):
        if _hydra_chdir_disabled(ctx) or _installs_src_package(ctx):
            return
        spec = library_specifier(ctx, "hydra-core")
        if spec and not admits_any_in(spec, None, "1.4"):
            return
        for path, m in ctx.modules.items():
            decorators = [c for c in m.calls if c.resolved in ("hydra.main",) or (c.func == "main" and m.aliases.get("main") == "hydra.main")]
            decorators = [c for c in decorators if _is_decorator(m, c)]
            if not decorators:
                continue
            spawns = [c for c in m.calls if c.resolved in _SPAWN]
            if not spawns:
                continue
            if any(c.keyword("cwd") is not None for c in spawns):
                continue
            if any(c.resolved == "os.chdir" for c in m.calls) or any("PYTHONPATH" in s.value for s in m.strings):
                continue
            child = _child_module(m)
            if child is None:
                continue
            for dec in decorators:
                vb = dec.keyword("version_base")
                if vb is not None:
                    value = literal_string(vb)
                    if value is None or not value.strip().startswith("1.1"):
                        continue
                spawn = spawns[0]
                yield self.hit(
                    path, dec.pos,
                    f"`@hydra.main` without version_base: Hydra keeps its 1.1 behaviour and changes the working directory to outputs/<date>/<time>, "
                    f"so the child `{child}` started at line {spawn.pos.line} cannot find the bundle's `src` package (ModuleNotFoundError; the project is not installed)",
                    related=[Related(label="child process", path=path, line=spawn.pos.line)],
                )


def _is_decorator(m, call) -> bool:
    for f in m.functions.values():
        for d in f.node.decorators:
            if d.decorator is call.node:
                return True
    return False


def _child_module(m) -> str | None:
    """What the module launches: "python -m src.train" or "python src/train.py", else None."""
    values = [s.value for s in m.strings]
    has_dash_m = any(v.strip() == "-m" or "-m src." in v for v in values)
    for v in values:
        v = v.strip()
        if has_dash_m and v.startswith("src.") and v[4:].replace(".", "").replace("_", "").isalnum():
            return f"python -m {v}"
        if "-m src." in v:
            return "python " + v[v.index("-m src."):].split()[0] + " " + v[v.index("-m src."):].split()[1]
        if v.startswith("src/") and v.endswith(".py"):
            return f"python {v}"
    return None


# --------------------------------------------------------------------------- RA914

#: Calls that read a child's pipes concurrently (threads, selectors, asyncio) or all at once.
_CONCURRENT_READS = ("threading.", "concurrent.futures.", "asyncio.", "select.", "selectors.", "_thread.")


class PipesReadInTurn(Rule):
    """A subprocess's pipes are read one after the other, or only after `wait()`.

    **What it does.** Finds `subprocess.Popen(...)` with `stdout=PIPE` and `stderr=PIPE` bound
    to a name, then, in the same function, how the two streams are consumed: a `for` loop over
    a stream (also `iter(p.stdout.readline, ...)`), `p.stdout.read()`/`readlines()`, or a helper of
    the module handed the stream. It reports the first stream read to its end while the other is
    read only afterwards, or never, and a `p.wait()` before any read. Nothing is reported when the
    function uses `communicate()`, a thread, `select`/`selectors` or asyncio, or when stderr goes
    to `STDOUT` or a file.

    **Why is this bad?** A pipe holds 64 KiB. Once the child fills the pipe nobody is reading
    (progress bars, warnings and download logs on stderr fill it quickly), it blocks on write,
    never closes the stream the parent waits on, and both hang: the run never ends. Python's
    documentation warns of exactly this for `wait()` with pipes.

    **Example.** `for line in p.stdout: ...` followed by `for line in p.stderr: ...`.

    **Use instead.** `stderr=subprocess.STDOUT` and one loop over `p.stdout`, one thread per
    stream, or `p.communicate()`.
    """

    code = "RA914"
    name = "pipes-read-in-turn"
    topic = "exec"
    severity = Severity.major

    _MAIN = "\n\nif __name__ == '__main__':\n    run([sys.executable, '-m', 'src.train'])\n"
    _HEAD = "import subprocess, sys\n\ndef run(cmd):\n    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)\n"
    VALID = [
        Case(files={"src/main.py": "import subprocess, sys\n\ndef run(cmd):\n    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)\n"
                                   "    for line in p.stdout:\n        sys.stdout.write(line)\n    return p.wait()\n" + _MAIN}),
        Case(files={"src/main.py": _HEAD + "    out, err = p.communicate()\n    return p.returncode\n" + _MAIN}),
        Case(files={"src/main.py": "import threading\n" + _HEAD + "    t = threading.Thread(target=lambda: [sys.stderr.write(l) for l in p.stderr])\n    t.start()\n"
                                   "    for line in p.stdout:\n        sys.stdout.write(line)\n    t.join()\n    return p.wait()\n" + _MAIN}, note="stderr drained by a thread"),
    ]
    INVALID = [
        Case(files={"src/main.py": _HEAD + "    for line in p.stdout:\n        sys.stdout.write(line)\n    for line in p.stderr:\n        sys.stderr.write(line)\n    return p.wait()\n" + _MAIN},
             path="src/main.py", line=5),
        Case(files={"src/main.py": "import subprocess, sys\n\ndef tee(stream, sink):\n    for line in iter(stream.readline, ''):\n        sink.write(line)\n\n"
                                   "def run(cmd):\n    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:\n"
                                   "        tee(proc.stdout, sys.stdout)\n        tee(proc.stderr, sys.stderr)\n    return proc.returncode\n" + _MAIN},
             path="src/main.py", line=9, note="through a helper of the module"),
        Case(files={"src/main.py": _HEAD + "    code = p.wait()\n    print(p.stdout.read())\n    return code\n" + _MAIN}, path="src/main.py", line=5),
    ]

    def check(self, ctx):
        for facts in ctx.modules.values():
            for popen in facts.calls_to("subprocess.Popen"):
                hit = self._judge(facts, popen)
                if hit is not None:
                    yield self.hit(facts.path, *hit)

    def _judge(self, facts, popen):
        pipes = [s for s in ("stdout", "stderr") if (v := dotted_name(popen.keyword(s))) and v.endswith("PIPE")]
        name = popen.bound_to
        if not pipes or name is None:
            return None
        mine = [c for c in facts.calls if c.function == popen.function and c.pos.line > popen.pos.line]
        if any(c.func == f"{name}.communicate" for c in mine) or \
                any((c.resolved or "").startswith(_CONCURRENT_READS) or c.method in ("Thread", "submit", "start_new_thread") for c in mine):
            return None
        reads = {s: self._reads(facts, popen, mine, f"{name}.{s}") for s in pipes}
        wait = next((c for c in mine if c.func == f"{name}.wait"), None)
        first_read = min((r for rs in reads.values() for r in rs), key=lambda r: r[:2], default=None)
        # any use of a stream (a `readline()` in a polling loop too) counts as reading it before wait()
        touched = [c.pos.line for c in mine if any((c.func or "").startswith(f"{name}.{s}.") for s in pipes)] + ([first_read[0]] if first_read else [])
        if wait is not None and (not touched or wait.pos.line < min(touched)):
            return wait.pos, f"{name}.wait() runs before {' and '.join(f'{name}.{s}' for s in pipes)} {'is' if len(pipes) == 1 else 'are'} read: once the child fills a 64 KiB pipe it blocks, and wait() never returns"
        if len(pipes) < 2 or first_read is None:
            return None
        stream = next(s for s, rs in reads.items() if first_read in rs)
        other = "stderr" if stream == "stdout" else "stdout"
        later = reads[other]
        if any(r[0] <= first_read[1] for r in later):
            return None  # the other stream is read inside or before the first one's loop
        when = f"only after it reaches EOF (line {later[0][0]})" if later else "never"
        return first_read[2], (f"{name}.{stream} is read to its end while {name}.{other}, also a pipe, is read {when}: once the child writes 64 KiB "
                               f"to {other} (progress bars, warnings) it blocks, {stream} never closes, and the run hangs")

    @staticmethod
    def _reads(facts, popen, mine, stream):
        """(first line, last line, position) of each place the stream is consumed to its end."""
        out = []
        for loop in facts.loops:
            if loop.function == popen.function and loop.pos.line > popen.pos.line and loop.iterates and (loop.iterates == stream or loop.iterates.startswith(stream + ".")):
                out.append((loop.pos.line, loop.end_line, loop.pos))
        helpers = set(facts.functions)
        for c in mine:
            if c.func in (f"{stream}.read", f"{stream}.readlines"):
                out.append((c.pos.line, c.pos.line, c.pos))
            elif c.func in helpers and any(dotted_name(a) == stream for a in c.positional()):
                out.append((c.pos.line, c.pos.line, c.pos))
        return sorted(out, key=lambda r: r[0])
