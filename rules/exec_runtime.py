"""Execution blockers from Python's own runtime semantics (RA910-RA913, RA915, RA916): what the interpreter
does with code that parses fine -- evaluating annotations, binding names, unpacking tuples,
binding calls to nested functions, a local that shadows an imported module (read from the
CPython `ast` and `symtable` views the fact collector built), and the bundle's own `raise`
statements a run reaches (from the run model).
Nothing is run."""
from __future__ import annotations

import ast
import builtins

import libcst as cst

from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Related, Severity
from reviewer_audit.knowledge.api_index import PYTHON
from reviewer_audit.program.bundle_index import bundle_index
from reviewer_audit.program.runs import run_model
from reviewer_audit.rules._library import admitted_versions, ast_nodes, library_of

_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__builtins__"}


def _trees(ctx):
    idx = bundle_index(ctx)
    for mi in idx.modules.values():
        if mi.open_reasons or mi.facts.cpython is None:
            continue
        yield idx, mi, mi.facts.cpython.tree


def _future_annotations(tree: ast.Module) -> bool:
    return any(isinstance(s, ast.ImportFrom) and s.module == "__future__" and any(a.name == "annotations" for a in s.names)
               for s in tree.body)


# --------------------------------------------------------------------------- RA910


def _bound_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return [node.id]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names)
    if isinstance(node, ast.arg):
        return [node.arg]
    if hasattr(ast, "MatchAs") and isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
        return [node.name]
    return []


def _reads_in(expr: ast.AST, name: str) -> ast.Name | None:
    """The first read of `name` in an expression evaluated now (comprehensions included,
    lambda bodies excluded)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            return node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return None


def _handles_name_error(nodes, line: int) -> bool:
    for node in nodes.tries:
        if node.body and node.body[0].lineno <= line <= (node.body[-1].end_lineno or 0):
            for h in node.handlers:
                names = [ast.unparse(t) for t in (h.type.elts if isinstance(h.type, ast.Tuple) else [h.type])] if h.type else ["*"]
                if any(n.rsplit(".", 1)[-1] in ("NameError", "UnboundLocalError", "Exception", "BaseException", "*") for n in names):
                    return True
    return False


class ReadInOwnFirstAssignment(Rule):
    """A name is read inside the statement that first binds it: its own first assignment, or a
    comprehension over it.

    **What it does.** In each function and at module level, finds the first statement that
    binds a name (an assignment, augmented assignment or annotated assignment) and reports a
    read of that same name in the value being assigned, when nothing binds it earlier in that
    scope -- no parameter, no earlier assignment, import or loop target, no `global`/`nonlocal`
    -- including reads in a comprehension (`names = [n.lower() for n in names]`), whose first
    iterable is evaluated right there. Reads inside a `lambda` run later and are not judged; at
    module level a builtin of that name is not an error; code inside `try` that handles
    NameError is skipped.

    **Why is this bad?** The value is computed before the name is bound: UnboundLocalError in a
    function (the assignment makes the name local for the whole function), NameError at module
    level. `ds = load_dataset(...).map(f, remove_columns=ds.column_names)` crashes before
    anything is tokenized.

    **Example.** `ds = raw.map(tokenize, remove_columns=ds.column_names)` where only `raw` exists.

    **Use instead.** Name what exists: `remove_columns=raw.column_names`.
    """

    code = "RA910"
    name = "read-in-own-first-assignment"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={"src/train.py": (
            "def prep(raw, tok):\n    ds = raw.map(tok, remove_columns=raw.column_names)\n    ds = ds.shuffle()\n    return ds\n\n"
            "def g(names):\n    names = [n.lower() for n in names]\n    return names\n\n"
            "def h(self, idx):\n    total = 0\n    total = total + 1\n    f = lambda: f\n    self.g[idx] = self.g[idx] + 1\n    return total, f\n\n"
            "input = input.strip if False else input\nprep(1, 2); g([]); h(1, 2)\n"
        )}),
        Case(files={"src/train.py": "def f():\n    try:\n        x = x + 1\n    except NameError:\n        x = 0\n    return x\n\nf()\n"}),
    ]
    INVALID = [
        Case(files={"src/train.py": (
            "from datasets import load_dataset\n\n"
            "def prep(tok):\n    ds = load_dataset('glue', 'sst2').map(tok, remove_columns=ds.column_names)\n    return ds\n\nprep(1)\n"
        )}, path="src/train.py", line=4),
        Case(files={"src/train.py": "def g(items):\n    names = [n.lower() for n in names]\n    return names\n\ng(1)\n"}, path="src/train.py", line=2),
        Case(files={"src/train.py": "results = {k: v for k, v in results.items() if v}\n"}, path="src/train.py", line=1),
    ]

    def check(self, ctx):
        for _idx, mi, tree in _trees(ctx):
            star = any(isinstance(s, ast.ImportFrom) and any(a.name == "*" for a in s.names) for s in tree.body)
            nodes = ast_nodes(mi.facts)
            scopes: dict[int, tuple[set[str], dict[str, int]]] = {}
            for st in nodes.assignments:
                for name in _self_reads(st):
                    scope = _scope_of(nodes, st.lineno)
                    if scope is None:
                        continue  # a class body
                    if id(scope) not in scopes:
                        scopes[id(scope)] = _bindings(scope)
                    declared, binders = scopes[id(scope)]
                    if name in declared or binders.get(name, st.lineno) < st.lineno:
                        continue
                    module = isinstance(scope, ast.Module)
                    if module and (name in _BUILTINS or star):
                        continue
                    read = st.target if isinstance(st, ast.AugAssign) else _reads_in(st.value, name)
                    if read is None or _handles_name_error(nodes, st.lineno):
                        continue
                    exc = "NameError" if module else "UnboundLocalError"
                    where = "at import time" if module else f"when `{scope.name}` runs"
                    yield self.hit(mi.path, read.lineno, f"`{name}` is read in the statement that first assigns it, before it is bound: {exc} {where}",
                                   column=read.col_offset + 1)


def _self_reads(st: ast.stmt) -> list[str]:
    """Names an assignment binds that its own value reads (`x = f(x)`, `x += 1`)."""
    if isinstance(st, ast.AugAssign):
        return [st.target.id] if isinstance(st.target, ast.Name) else []
    if st.value is None:
        return []
    targets = st.targets if isinstance(st, ast.Assign) else [st.target]
    names = {x.id for t in targets for x in ast.walk(t) if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Store)}
    return [n for n in names if _reads_in(st.value, n) is not None]


def _scope_of(nodes, line: int):
    """The innermost function around `line`, the module, or None inside a class body."""
    best = None
    for node in nodes.scopes:
        if node.lineno <= line <= (node.end_lineno or node.lineno) and (best is None or node.lineno >= best.lineno):
            best = node
    if isinstance(best, ast.ClassDef):
        return None
    return best if best is not None else nodes.tree


def _bindings(scope) -> tuple[set[str], dict[str, int]]:
    """(names declared: parameters, global, nonlocal; first line binding each name) of a scope,
    not counting nested functions, classes and lambdas."""
    declared: set[str] = set()
    if not isinstance(scope, ast.Module):
        a = scope.args
        declared = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs} | {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    binders: dict[str, int] = {}
    for node in _own_nodes(scope):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        for n in _bound_names(node):
            line = getattr(node, "lineno", 0)
            if n not in binders or line < binders[n]:
                binders[n] = line
    return declared, binders


# --------------------------------------------------------------------------- RA911


def _string_union(node: ast.AST | None) -> ast.BinOp | None:
    """`"Run" | None` (a string operand of `|`): TypeError when evaluated."""
    if node is None:
        return None
    for n in ast.walk(node):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr):
            if any(isinstance(side, ast.Constant) and isinstance(side.value, str) for side in (n.left, n.right)):
                return n
    return None


class AnnotationRaises(Rule):
    """An annotation that Python evaluates when the `def` runs raises: a string joined with `|`.

    **What it does.** Without `from __future__ import annotations`, Python (before 3.14)
    evaluates parameter and return annotations when the `def` statement runs, and module- and
    class-level variable annotations when their statement runs. This rule reports such an
    annotation that applies `|` to a string (`"wandb.sdk.wandb_run.Run" | None`), which raises
    whenever the Pythons that `requires-python` admits include one before 3.14. Annotations
    of local variables, string annotations as a whole (`"Run | None"`) and modules with the
    future import are not evaluated and not reported.

    **Why is this bad?** `TypeError: unsupported operand type(s) for |: 'str' and 'NoneType'`
    when the module is imported (or the enclosing function runs), before any work is done.

    **Example.** `def log_metrics(run: "wandb.sdk.wandb_run.Run" | None, ...):`

    **Use instead.** Quote the whole annotation (`"wandb.sdk.wandb_run.Run | None"`), or add
    `from __future__ import annotations` at the top of the module.
    """

    code = "RA911"
    name = "annotation-raises"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={"src/train.py": "from __future__ import annotations\n\ndef f(run: 'wandb.Run' | None = None) -> 'X' | None:\n    y: 'A' | None = None\n    return y\n"}),
        Case(files={"src/train.py": "import wandb\n\ndef f(run: 'wandb.sdk.wandb_run.Run | None' = None, n: int | None = None):\n    local: 'A' | None = None\n    return local\n"}),
        Case(files={"pyproject.toml": '[project]\nname = "x"\nversion = "0"\nrequires-python = ">=3.14"\n',
                    "src/train.py": "def f(run: 'Run' | None = None):\n    return run\n"}, note="Python 3.14 defers annotations"),
    ]
    INVALID = [
        Case(files={"src/train.py": "import wandb\n\n\ndef log(run: 'wandb.sdk.wandb_run.Run' | None, step: int) -> None:\n    run.log({}, step=step)\n"},
             path="src/train.py", line=4),
        Case(files={"src/model.py": "class Holder:\n    model: 'torch.nn.Module' | None = None\n"}, path="src/model.py", line=2),
    ]

    def check(self, ctx):
        note = self._pythons(ctx)
        if note is None:
            return
        for _idx, mi, tree in _trees(ctx):
            if _future_annotations(tree):
                continue
            for node, ann in self._evaluated(tree):
                bad = _string_union(ann)
                if bad is None:
                    continue
                yield self.hit(mi.path, bad.lineno, f"the annotation `{ast.unparse(bad)}` is evaluated when {node} runs and raises TypeError "
                               f"(`|` between a string and a type){note}; quote the whole annotation or add `from __future__ import annotations`",
                               column=bad.col_offset + 1)

    @staticmethod
    def _pythons(ctx) -> str | None:
        """'' or a note when an admitted Python evaluates annotations eagerly; None when none does."""
        lib = library_of("sys")
        if lib is None or lib.name != PYTHON:
            return ""
        adm = admitted_versions(ctx, lib)
        mask = adm.now | adm.later
        if not mask:
            return ""
        eager = [v for v in lib.versions if v.bit & mask and tuple(map(int, v.minor.split("."))) < (3, 14)]
        if not eager:
            return None
        return f" on Python {eager[0].minor}–{eager[-1].minor}, which {adm.shown} admits"

    @staticmethod
    def _evaluated(tree: ast.Module):
        def in_class_or_module(body, where):
            for st in body:
                if isinstance(st, ast.AnnAssign):
                    yield where, st.annotation
                elif isinstance(st, ast.ClassDef):
                    yield from in_class_or_module(st.body, f"class `{st.name}`")
                elif isinstance(st, (ast.If, ast.Try, ast.With)):
                    yield from in_class_or_module(getattr(st, "body", []) + getattr(st, "orelse", []), where)
        yield from in_class_or_module(tree.body, "the module")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x is not None]:
                    yield f"`def {node.name}`", arg.annotation
                yield f"`def {node.name}`", node.returns


# --------------------------------------------------------------------------- RA912


def _returns(fn: ast.FunctionDef) -> list[ast.Return] | None:
    """The function's own return statements; None for a generator."""
    out: list[ast.Return] = []
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return None
        if isinstance(node, ast.Return):
            out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return out


def _tuple_len(expr: ast.expr | None) -> int | None:
    if isinstance(expr, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in expr.elts):
        return len(expr.elts)
    return None


def _top_function(facts, name: str) -> ast.FunctionDef | None:
    tree = ast_nodes(facts).tree
    found = [s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == name]
    return found[0] if len(found) == 1 else None


class UnpackCountMismatch(Rule):
    """A tuple unpacking takes a different number of values than the called bundle function
    returns.

    **What it does.** For `a, b = f(...)` where `f` is a function of the bundle (resolved as for
    RA904), reads every `return` of `f`: when each returns a tuple literal and none has as
    many elements as the assignment has targets, the unpacking fails on every path.
    Generators, starred targets or elements, functions with a `return` of anything else, and
    decorated functions are not judged.

    **Why is this bad?** `ValueError: too many values to unpack` (or `not enough values`) at the
    call, typically after the training it was to report on.

    **Example.** `model, tok = build_model(cfg)` where `build_model` ends with
    `return model, tok, n_params`.

    **Use instead.** Unpack what the function returns: `model, tok, _ = build_model(cfg)`.
    """

    code = "RA912"
    name = "unpack-count-mismatch"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={"src/train.py": (
            "def build(cfg):\n    if cfg:\n        return 1, 2\n    return 3, 4\n\n"
            "def maybe(cfg):\n    if cfg:\n        return 1, 2\n    return cfg\n\n"
            "def gen():\n    yield 1, 2, 3\n\n"
            "a, b = build(1)\nc, d = maybe(2)\nfirst, *rest = build(3)\nfor x, y, z in gen():\n    pass\n"
        )}),
    ]
    INVALID = [
        Case(files={
            "src/model.py": "def build_model(cfg):\n    model = object()\n    tok = object()\n    return model, tok, 3\n",
            "src/train.py": "from src.model import build_model\n\ndef main(cfg):\n    model, tok = build_model(cfg)\n    return model\n",
        }, path="src/train.py", line=4),
        Case(files={"src/train.py": "def load():\n    return [1], [2]\n\nx, y, z = load()\n"}, path="src/train.py", line=4),
    ]

    def check(self, ctx):
        idx = bundle_index(ctx)
        for mi in idx.modules.values():
            for call in mi.facts.calls:
                parent = self._unpack_target(mi, call)
                if parent is None:
                    continue
                found = idx.definition_for_call(mi, call)
                if found is None or not isinstance(found[1], cst.FunctionDef) or found[1].decorators:
                    continue
                fn_ast = _top_function(found[0].facts, found[1].name.value)
                returns = _returns(fn_ast) if fn_ast is not None else None
                if not returns:
                    continue
                lengths = [_tuple_len(r.value) for r in returns]
                if any(n is None for n in lengths) or parent in lengths:
                    continue
                target_mi, fn = found
                line = target_mi.facts.pos_of(fn)
                at = line.line if line else None
                counts = "/".join(str(n) for n in sorted(set(lengths)))
                yield self.hit(mi.path, call.pos, f"unpacks {parent} values from `{call.func}(...)`, which returns {counts} "
                               f"({'too many' if min(lengths) > parent else 'not enough'} values to unpack: ValueError)",
                               related=[Related(label="defined here", path=target_mi.path, line=at)] if at else [])

    @staticmethod
    def _unpack_target(mi, call) -> int | None:
        """Number of targets when the call is the whole value of `a, b = call(...)` (found by
        position in CPython's tree, which the fact collector built anyway)."""
        cache = mi.__dict__.get("_unpack_targets")
        if cache is None:
            cache = {}
            for node in ast_nodes(mi.facts).assignments:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call):
                    t = node.targets[0]
                    if isinstance(t, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in t.elts):
                        cache[(node.value.lineno, node.value.col_offset + 1)] = len(t.elts)
            mi.__dict__["_unpack_targets"] = cache
        return cache.get((call.pos.line, call.pos.column))


# --------------------------------------------------------------------------- RA913


class NestedCallArity(Rule):
    """A function defined inside another is called with arguments its signature rejects.

    **What it does.** For each `def` nested in a function (a closure, an Optuna objective, a
    collate function), binds the calls that name it inside the enclosing function to its
    signature, as RA904 does for top-level functions: too many positional arguments, an
    unknown keyword, a value given twice, a required argument left out. Nested functions whose
    name is bound more than once in the module, decorated ones, and calls with `*args` or
    `**kwargs` are not judged.

    **Why is this bad?** `TypeError` when the call runs, e.g. an objective called as
    `objective(trial, cfg)` while it takes only `trial`.

    **Example.** `def run(cfg):\\n    def step(batch, scale): ...\\n    step(batch)`.

    **Use instead.** Pass what the nested function takes.
    """

    code = "RA913"
    name = "nested-call-arity"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={"src/train.py": (
            "def run(cfg):\n    def step(batch, scale=1.0):\n        return batch\n\n    def wrap(*a, **k):\n        return a\n"
            "    step(1)\n    step(1, scale=2)\n    wrap(1, 2, x=3)\n    return step\n\nrun(1)\n"
        )}),
    ]
    INVALID = [
        Case(files={"src/train.py": "def run(cfg):\n    def step(batch, scale):\n        return batch\n    return step(1)\n\nrun(1)\n"},
             path="src/train.py", line=4),
        Case(files={"src/train.py": "import optuna\n\ndef tune(cfg):\n    def objective(trial):\n        return 0.0\n    return objective(None, cfg)\n"},
             path="src/train.py", line=6),
    ]

    def check(self, ctx):
        idx = bundle_index(ctx)
        for mi in idx.modules.values():
            nested = {}
            for fn in mi.facts.functions.values():
                # qualnames here are "outer.inner" (no `<locals>`); a method is not nested
                outer = fn.qualname.rsplit(".", 1)[0] if "." in fn.qualname else None
                if outer is None or fn.is_method or outer not in mi.facts.functions:
                    continue
                if mi.bind_counts.get(fn.name, 0) != 1:
                    continue
                nested[(outer, fn.name)] = fn
            if not nested:
                continue
            for call in mi.facts.calls:
                if not call.func or "." in call.func or call.function is None:
                    continue
                fn = None
                scope = call.function
                while scope:
                    fn = nested.get((scope, call.func))
                    if fn is not None:
                        break
                    scope = scope.rsplit(".", 1)[0] if "." in scope else None
                if fn is None:
                    continue
                sig = idx.signature_of(mi, fn.node)
                if sig is None:
                    continue
                problems = sig.problems(call.node)
                if problems:
                    yield self.hit(mi.path, call.pos, f"`{call.func}(...)` {'; '.join(problems)} -- {sig.label} (line {sig.line}) (TypeError)",
                                   related=[Related(label="defined here", path=mi.path, line=sig.line)])


# --------------------------------------------------------------------------- RA915

#: exceptions a `raise` uses to end the program or an iteration on purpose
_NOT_FAILURES = frozenset({"SystemExit", "KeyboardInterrupt", "StopIteration", "StopAsyncIteration", "GeneratorExit"})


def _tests_text(tests: tuple) -> str:
    return "; ".join(f"`{src}` is {truth}" + (f" ({values})" if values else "") for src, truth, values in tests
                     if src and "__name__" not in src)  # the entry-point guard says nothing about the run


class RunReachesRaise(Rule):
    """A command of the pipeline reaches one of the bundle's own `raise` statements on every path.

    **What it does.** Follows every command (each run, each mode, the child processes main
    starts) through the code with the config values that run really has, and reports a
    `raise` it executes whatever the data: the branches around it are decided by the run's
    values (`model.name` is `mobilenet_v2_gn`, so the `if name == "simple_cnn"` branch is not
    taken and `else: raise NotImplementedError` is). A `raise` under a test the run's values do
    not decide (`if not path.exists()`), inside an `except` block, or caught by an enclosing
    `try` is not reported; nor is `SystemExit`, nor a stub function's body (RA102).

    **Why is this bad?** The run stops with that exception before it finishes: typically a
    model, dataset or method named in the run config that the factory does not implement.

    **Example.** `if cfg.model.name == "resnet20": ... else: raise NotImplementedError(name)`
    with a run config whose `model.name` is `vit_tiny`.

    **Use instead.** Implement what the run config asks for, or fix the name the code expects.
    """

    code = "RA915"
    name = "run-reaches-raise"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    _MAIN = ('import hydra\nfrom src.model import build\n\n@hydra.main(config_path="../config", config_name="config", version_base=None)\n'
             'def main(cfg):\n    build(cfg.run.model.name)\n\nif __name__ == "__main__":\n    main()\n')
    _CONFIG = "defaults:\n  - _self_\n  - run: ???\nresults_dir: results\nmode: full\n"
    _MODEL = ('def build(name):\n    if name == "cnn":\n        return 1\n    elif name == "mlp":\n        return 2\n'
              '    raise NotImplementedError(f"model {name}")\n')
    _SPEC = {"run_config_dir": "config/run"}
    #: a pipeline without Hydra: main.py's flags pick an experiment list, and train.py reads
    #: the experiment main wrote for it
    _ARGPARSE_MAIN = ('import argparse, subprocess, sys\nfrom pathlib import Path\nimport yaml\n\n'
                      'def main():\n    p = argparse.ArgumentParser()\n    g = p.add_mutually_exclusive_group(required=True)\n'
                      '    g.add_argument("--smoke-test", action="store_true")\n    g.add_argument("--full-experiment", action="store_true")\n'
                      '    p.add_argument("--results-dir", type=str, required=True)\n    args = p.parse_args()\n'
                      '    cfg_path = Path(__file__).resolve().parent.parent / "config" / ("smoke_test.yaml" if args.smoke_test else "full_experiment.yaml")\n'
                      '    for exp in yaml.safe_load(cfg_path.read_text())["experiments"]:\n'
                      '        path = Path(args.results_dir) / exp["run_id"] / "config.yaml"\n        path.write_text(yaml.safe_dump(exp))\n'
                      '        subprocess.run([sys.executable, "-m", "src.train", "--config-path", str(path)], check=True)\n\n'
                      'if __name__ == "__main__":\n    main()\n')
    _ARGPARSE_TRAIN = ('import argparse\nfrom pathlib import Path\nimport yaml\nfrom src.model import build\n\n'
                       'def main():\n    p = argparse.ArgumentParser()\n    p.add_argument("--config-path", required=True)\n'
                       '    cfg = yaml.safe_load(Path(p.parse_args().config_path).read_text())\n    build(cfg["model"].get("name", "cnn").lower())\n\n'
                       'if __name__ == "__main__":\n    main()\n')
    _EXPERIMENTS = "experiments:\n  - run_id: a\n    model: {{name: {smoke}}}\n"
    VALID = [
        Case(files={"src/main.py": _MAIN, "src/model.py": _MODEL, "config/config.yaml": _CONFIG}, runs={"r1": "model:\n  name: mlp\n"}, spec=_SPEC),
        Case(files={"src/main.py": _MAIN, "src/model.py": _MODEL.replace("    raise", "    try:\n        open(name)\n    except OSError:\n        raise"),
                    "config/config.yaml": _CONFIG}, runs={"r1": "model:\n  name: vit\n"}, spec=_SPEC, note="raised only if the file is missing: data decides"),
        Case(files={"src/main.py": _MAIN, "src/model.py": "import os\n\ndef build(name):\n    if not os.path.exists(name):\n        raise FileNotFoundError(name)\n",
                    "config/config.yaml": _CONFIG}, runs={"r1": "model:\n  name: vit\n"}, spec=_SPEC, note="the test depends on the machine, not the config"),
        Case(files={"src/main.py": _MAIN.replace("    build(", "    try:\n        build(").replace("name)\n\nif", "name)\n    except NotImplementedError:\n        pass\n\nif"),
                    "src/model.py": _MODEL, "config/config.yaml": _CONFIG}, runs={"r1": "model:\n  name: vit\n"}, spec=_SPEC, note="the caller catches it"),
        Case(files={"src/main.py": _MAIN, "config/config.yaml": _CONFIG,
                    "src/model.py": "import sys\n\ndef build(name):\n    kv = {}\n    for arg in sys.argv[1:]:\n        k, v = arg.split('=', 1)\n        kv[k] = v\n"
                                    "    if 'results_dir' not in kv:\n        raise ValueError('results_dir= is required')\n"},
             runs={"r1": "model:\n  name: vit\n"}, spec=_SPEC, note="a dict filled in a loop over unknown items: `'k' not in kv` is not decided"),
        Case(files={"src/main.py": _ARGPARSE_MAIN, "src/train.py": _ARGPARSE_TRAIN, "src/model.py": _MODEL,
                    "config/smoke_test.yaml": _EXPERIMENTS.format(smoke="cnn"), "config/full_experiment.yaml": _EXPERIMENTS.format(smoke="MLP")},
             note="every experiment's model is built (after `.lower()`)"),
    ]
    INVALID = [
        Case(files={"src/main.py": _MAIN, "src/model.py": _MODEL, "config/config.yaml": _CONFIG}, runs={"r1": "model:\n  name: vit\n"}, spec=_SPEC,
             path="src/model.py", line=6),
        Case(files={"src/main.py": _ARGPARSE_MAIN, "src/train.py": _ARGPARSE_TRAIN, "src/model.py": _MODEL,
                    "config/smoke_test.yaml": _EXPERIMENTS.format(smoke="MLP"), "config/full_experiment.yaml": _EXPERIMENTS.format(smoke="ViT")},
             path="src/model.py", line=6, note="only the full experiment's model is not built"),
    ]

    def check(self, ctx):
        rm = run_model(ctx)

        def definite(_i, run):
            for r in run.trace.raises:
                if r.maybe or r.caught or r.speculative or r.exc in _NOT_FAILURES:
                    continue
                mod = ctx.modules.get(r.path)
                fn = mod.function_at(r.line) if mod is not None else None
                if fn is not None and fn.is_stub:
                    continue  # a stub's NotImplementedError: RA102 says it of the function
                yield r

        origins: dict[tuple, dict] = {}

        def collected(i, run):
            for r in definite(i, run):
                origins.setdefault((r.path, r.line, r.col), {}).update(dict.fromkeys(r.origins))
                yield r

        for r, on in rm.grouped(collected):
            why = _tests_text(r.tests)
            yield self.hit(r.path, r.line, f"{rm.commands_text(on)} reaches `raise {r.text}` on every path"
                           + (f" ({why})" if why else "") + f": the run stops with {r.exc or 'an exception'} here", column=r.col, on=on,
                           related=_value_sources(ctx, origins.get((r.path, r.line, r.col), {})))


def _value_sources(ctx, origins) -> list[Related]:
    """The lines of the bundle's YAML that set the values that decided the way to a raise
    (`dataset.name: synthetic_classification` of each experiment that reaches it)."""
    out = []
    per_file: dict[str, int] = {}
    for path, keys in origins:
        doc = ctx.yaml_doc(path)
        if doc is None or not keys or per_file.get(path, 0) >= 2:
            continue  # two lines of each file say where; the message says how many commands
        per_file[path] = per_file.get(path, 0) + 1
        dotted = ".".join(str(k) for k in keys)
        out.append(Related(label=f"sets {dotted}", path=path, line=doc.line_of(dotted)))
    return out


# --------------------------------------------------------------------------- RA916


def _module_aliases(facts, among: set[str]) -> dict[str, str]:
    """Module-level names among `among` bound to a module by an import: alias -> module path
    (`import scipy.stats as stats`, `from scipy import stats` when scipy.stats is a module)."""
    out = {}
    for imp in facts.imports:
        if imp.function is not None or imp.level or imp.alias not in among:
            continue
        lib = library_of(imp.qualified)
        if lib is not None and lib.module_exists(imp.qualified).found:
            out[imp.alias] = imp.qualified
    return out


def _local_binders(fn: ast.AST) -> dict[str, ast.Name]:
    """Names a function binds other than by import (loop targets, assignments, `with ... as`),
    at their first binding, not counting nested scopes nor names declared `global`/`nonlocal`.
    A binding whose value is another name or attribute (`stats = scipy.stats`, an alias) is left
    out: it may well be the module."""
    first: dict[str, ast.Name] = {}
    declared: set[str] = set()
    for node in _own_nodes(fn):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        targets = []
        if isinstance(node, (ast.For, ast.AsyncFor)):
            targets = [node.target]
        elif isinstance(node, ast.Assign) and not isinstance(node.value, (ast.Name, ast.Attribute)):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None and not isinstance(node.value, (ast.Name, ast.Attribute)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
        for x in (x for t in targets for x in ast.walk(t)):
            if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Store) and (x.id not in first or x.lineno < first[x.id].lineno):
                first[x.id] = x
    return {k: v for k, v in first.items() if k not in declared}


class ImportShadowedByLocal(Rule):
    """A function binds, as a local variable, the name of a module it then uses as the module.

    **What it does.** For each function, finds the names it binds itself (a `for` target, an
    assignment, `with ... as`) that are also module-level imports of a module (`from scipy import
    stats`, `import json`), and reports a later `name.attr` in that function where `attr` is an
    attribute of the module in the library index (`stats.ttest_ind`). A local alias of the
    module (`stats = scipy.stats`) is not reported.

    **Why is this bad?** Python makes the name local to the whole function: after the local
    binding, `stats.ttest_ind` looks the attribute up on the loop value (a dict, a float), not on
    scipy.stats, and raises AttributeError; before it, UnboundLocalError (RA905).

    **Example.** `for stats in aggregated.values(): ...` then `stats.ttest_ind(a, b)` in the same
    function.

    **Use instead.** Another name for the local (`for run_stats in ...`).
    """

    code = "RA916"
    name = "import-shadowed-by-local"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    _EVAL = ("from scipy import stats\n\ndef main(groups):\n    means = []\n    for stats in groups.values():\n        means.append(stats['mean'])\n"
             "    return stats.ttest_ind(means, means)\n\nmain({})\n")
    VALID = [
        Case(files={"src/evaluate.py": _EVAL.replace("for stats in", "for s in").replace("stats['mean']", "s['mean']")}),
        Case(files={"src/evaluate.py": "import scipy\nfrom scipy import stats\n\ndef main():\n    stats = scipy.stats\n    return stats.ttest_ind([1], [2])\n\nmain()\n"},
             note="a local alias of the module itself"),
        Case(files={"src/evaluate.py": "import json\n\ndef main(path):\n    json = path.read_text()\n    return json.strip()\n\nmain(None)\n"},
             note="the attribute is the local value's (str.strip), not the module's"),
    ]
    INVALID = [
        Case(files={"src/evaluate.py": _EVAL}, path="src/evaluate.py", line=7),
    ]

    def check(self, ctx):
        for _idx, mi, tree in _trees(ctx):
            stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            modules = _module_aliases(mi.facts, stored)
            if not modules:
                continue  # no module name is ever assigned: nothing to look at function by function
            for fn in ast_nodes(mi.facts).scopes:
                if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
                local = {n: b for n, b in _local_binders(fn).items() if n in modules and n not in params}
                if not local:
                    continue
                reported = set()
                for node in _own_nodes(fn):
                    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and isinstance(node.ctx, ast.Load)):
                        continue
                    name = node.value.id
                    binder = local.get(name)
                    if binder is None or node.lineno <= binder.lineno or name in reported:
                        continue
                    module = modules[name]
                    lib = library_of(module)
                    if lib is None or not lib.resolve(f"{module}.{node.attr}", module=module).found:
                        continue
                    reported.add(name)
                    yield self.hit(mi.path, node.lineno,
                                   f"`{name}` is a local variable of {fn.name}() (bound at line {binder.lineno}), so `{name}.{node.attr}` reads "
                                   f"the local value, not the module {module}: AttributeError when it runs",
                                   column=node.col_offset + 1, related=[Related(label="local binding", path=mi.path, line=binder.lineno)])


def _own_nodes(fn: ast.AST):
    """The nodes of a function's own body, not of the functions, classes and lambdas nested in it."""
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
