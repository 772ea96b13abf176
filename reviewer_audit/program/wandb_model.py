"""What the WandB (RA6xx) and evaluation-script (RA8xx) rules share, computed once per audit.

`wandb_model(ctx)` returns one `WandbModel` per `AuditContext` (kept on the context), which
answers, lazily and at most once each:

* which metric keys the training side logs (`wandb.log({...})`, `run.log(...)` on a run returned
  by `wandb.init`) and writes to the run summary (`wandb.summary["k"] = v`,
  `run.summary.update({...})`), with where each key is written. Keys are resolved through dict
  literals, `dict(k=...)`, `**spread`, names built up with `d["k"] = ...` / `d.update(...)`,
  helper parameters (call sites), helper return values and f-string keys (kept as patterns). When
  some logged dict cannot be resolved, the key set is *opaque* and key comparisons stay silent;
* which keys evaluate.py reads from `run.history()` DataFrames / `scan_history()` rows and from
  run summaries (subscripts, `[[...]]` column lists, `.get`, `in` tests, literal lists iterated
  and used as keys, helper functions receiving the frame and a literal key, `data=`/`x=`/`y=`
  plotting calls), each with whether the read is guarded (an `in` test, `.get`, `try/except`);
* where `wandb.init` is called and whether the call is guarded;
* Optuna objectives (callables passed to `study.optimize`) and the functions they reach.

Everything works on the `ModuleFacts` the engine already built: a module's libcst tree is
walked once more by `_Walker` (no re-parse; only modules a rule needs: those importing wandb,
evaluate.py, main.py when it spawns processes) to index assignments, loops, guards and returns
per function. Positions come from the module's shared position map (`ModuleFacts.pos_of`).
Nothing here imports or runs bundle code.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable

import libcst as cst

from reviewer_audit.program.cst_walk import Walker
from reviewer_audit.program.facts import CallFact, FunctionFact, ModuleFacts, Pos, dotted_name, fstring_template, literal_string

#: pandas methods that return (a view of) the same frame, so the result is still "the history".
_FRAME_METHODS = frozenset({
    "dropna", "copy", "fillna", "ffill", "bfill", "sort_values", "sort_index", "reset_index", "set_index",
    "interpolate", "reindex", "astype", "tail", "head", "infer_objects", "drop_duplicates", "convert_dtypes",
    "query", "drop", "assign", "rename", "filter", "groupby", "last", "first", "iloc", "loc",
})
_PLOT_KEYWORDS = ("x", "y", "hue")
_INTERNAL = re.compile(r"^_")  # _step, _runtime, _timestamp, _wandb: written by wandb itself


# --------------------------------------------------------------------------- per-module index


@dataclass
class CallCtx:
    function: str | None
    guarded: bool  # inside an if/elif/else body, conditional expression, `and`/`or` operand or filtered comprehension
    early_exit: bool  # an earlier `if ...: return` in the same function may skip it
    catches: frozenset[str]  # exceptions caught by enclosing try blocks ("*" for bare except)


@dataclass
class SubscriptRec:
    node: cst.Subscript
    function: str | None
    store: bool
    guarded: bool
    catches: frozenset[str]


@dataclass
class InTest:
    left: cst.BaseExpression
    right: cst.BaseExpression
    function: str | None
    node: cst.Comparison


@dataclass
class FuncIndex:
    qualname: str | None
    assigns: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    item_stores: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)  # d[key] = ...  -> key nodes
    updates: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)  # d.update(arg)
    #: values that flow into a container: d[k] = v, d.update(v), l.append(v), l.extend(v), ... -> receiver: [v]
    flows_into: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    loops: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)  # for v in <iter> / comprehension
    item_loops: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)  # for k, v in X.items() -> k: [X]
    loop_seq: dict[int, int] = field(default_factory=dict)  # id(iter node) -> visit order of the loop
    returns: list[cst.BaseExpression] = field(default_factory=list)
    unpacked: set[str] = field(default_factory=set)  # names bound by tuple unpacking or loops
    #: `a, b = value` -> name: [(index, value)] (for values that are tuples returned by module functions)
    unpack_assigns: dict[str, list[tuple[int, cst.BaseExpression]]] = field(default_factory=dict)

    def binding(self, table: dict[str, list[cst.BaseExpression]], name: str, at: int | None) -> list[cst.BaseExpression]:
        """The loop binding of `name` in effect at visit order `at`: the last loop starting before it."""
        iters = table.get(name, [])
        if at is None or len(iters) < 2:
            return iters
        before = [it for it in iters if self.loop_seq.get(id(it), 0) <= at]
        return before[-1:] if before else iters


class ModuleIndex:
    """Per-function assignments, loops, guards and positions of one module (one extra walk)."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.funcs: dict[str | None, FuncIndex] = {None: FuncIndex(None)}
        self.call_ctx: dict[int, CallCtx] = {}
        self.subscripts: list[SubscriptRec] = []
        self.in_tests: list[InTest] = []
        self.seq: dict[int, int] = {}  # id(node) -> preorder visit number
        self.identifiers: set[str] = set()
        self.relative_diffs: list[cst.BinaryOperation] = []  # (a - b) / c
        self.lambdas: dict[int, list[int]] = {}  # id(lambda) -> ids of the calls in its body
        try:
            _Walker(self).walk(facts.tree)
        except RecursionError:  # pragma: no cover - facts extraction would have failed first
            pass
        self.calls_by_id: dict[int, CallFact] = {id(c.node): c for c in facts.calls}

    def func(self, qual: str | None) -> FuncIndex:
        return self.funcs.get(qual) or FuncIndex(qual)

    def ctx_of(self, call: CallFact) -> CallCtx:
        return self.call_ctx.get(id(call.node)) or CallCtx(call.function, False, False, frozenset())

    def pos_of(self, node: cst.CSTNode | None, default: Pos | None = None) -> Pos | None:
        """Where `node` starts, from the module's shared position map."""
        return self.facts.pos_of(node) or default

    def unpacked_values(self, name: str, qual: str | None) -> list[tuple[cst.BaseExpression, str | None]] | None:
        """For `a, b = f(...)` with `f` a module function returning tuple literals: the element
        expressions `name` can be bound to, each with the function it lives in; None if unknown."""
        fi = self.funcs.get(qual)
        entries = fi.unpack_assigns.get(name) if fi is not None else None
        if not entries:
            return None
        out: list[tuple[cst.BaseExpression, str | None]] = []
        for idx, value in entries:
            if isinstance(value, (cst.Tuple, cst.List)) and idx < len(value.elements):
                out.append((value.elements[idx].value, qual))
                continue
            call = self.calls_by_id.get(id(value)) if isinstance(value, cst.Call) else None
            tgt = self.resolve_local(call) if call is not None else None
            rets = self.func(tgt.qualname).returns if tgt is not None else []
            if not rets:
                return None
            for r in rets:
                if not isinstance(r, cst.Tuple) or idx >= len(r.elements):
                    return None
                out.append((r.elements[idx].value, tgt.qualname))
        return out

    def seq_of(self, node: cst.CSTNode | None) -> int | None:
        return self.seq.get(id(node)) if node is not None else None

    # ---- assignments, looked up in the function and then at module level
    def values_of(self, name: str, qual: str | None) -> list[cst.BaseExpression]:
        fi = self.funcs.get(qual)
        if fi is not None and name in fi.assigns:
            return fi.assigns[name]
        if qual is not None and "." in qual:  # closures: enclosing function
            return self.values_of(name, qual.rsplit(".", 1)[0])
        if qual is not None:
            return self.funcs[None].assigns.get(name, [])
        return []

    def is_param(self, name: str, qual: str | None) -> bool:
        f = self.facts.functions.get(qual) if qual else None
        return bool(f and any(p.name == name for p in f.params))

    # ---- the module's own call graph
    def resolve_local(self, call: CallFact) -> FunctionFact | None:
        """The module function a call reaches: `f(...)`, a nested `f`, or `self.f(...)`."""
        func = call.func
        if not func or func.endswith("()"):
            return None
        parts = func.split(".")
        fns = self.facts.functions
        if len(parts) == 1:
            scope = call.function
            while scope:
                cand = fns.get(f"{scope}.{parts[0]}")
                if cand is not None:
                    return cand
                scope = scope.rsplit(".", 1)[0] if "." in scope else None
            cand = fns.get(parts[0])
            return cand
        if len(parts) == 2 and parts[0] in ("self", "cls"):
            cls = call.function.split(".")[0] if call.function else None
            return fns.get(f"{cls}.{parts[1]}") if cls else None
        return None

    def call_sites(self, target: FunctionFact) -> list[CallFact]:
        return [c for c in self.facts.calls if (f := self.resolve_local(c)) is not None and f.qualname == target.qualname]

    @staticmethod
    def arg_for(call: CallFact, target: FunctionFact, param: str) -> cst.BaseExpression | None:
        params = target.params[1:] if target.is_method else target.params
        for a in call.node.args:
            if a.keyword is not None and a.keyword.value == param:
                return a.value
        idx = next((i for i, p in enumerate(params) if p.name == param and p.kind == "positional"), None)
        if idx is None:
            return None
        positional = [a for a in call.node.args if a.keyword is None]
        if any(a.star for a in positional[: idx + 1]):
            return None
        return positional[idx].value if idx < len(positional) else None

    def reachable(self, roots: Iterable[str], max_depth: int = 6) -> dict[str, list[CallFact]]:
        """Module functions reachable from `roots`, each with the chain of calls that reaches it."""
        out: dict[str, list[CallFact]] = {r: [] for r in roots}
        frontier = list(out)
        for _ in range(max_depth):
            nxt = []
            for qual in frontier:
                for c in self.facts.calls:
                    if c.function != qual:
                        continue
                    tgt = self.resolve_local(c)
                    if tgt is not None and tgt.qualname not in out:
                        out[tgt.qualname] = out[qual] + [c]
                        nxt.append(tgt.qualname)
            frontier = nxt
        return out


def _root_name(node: cst.BaseExpression) -> str | None:
    """`results` for `results[rid]["summary"]` or `results.x`: the variable a store mutates."""
    while isinstance(node, (cst.Subscript, cst.Attribute)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _catch_names(node: cst.Try) -> frozenset[str]:
    names: set[str] = set()
    for h in node.handlers:
        if h.type is None:
            names.add("*")
        elif isinstance(h.type, cst.Tuple):
            names.update((dotted_name(e.value) or "?").rsplit(".", 1)[-1] for e in h.type.elements)
        else:
            names.add((dotted_name(h.type) or "?").rsplit(".", 1)[-1])
    return frozenset(names)


@dataclass
class _Frame:
    qual: str | None
    guard: int = 0
    if_depth: int = 0
    early_exit: bool = False
    catches: list[frozenset[str]] = field(default_factory=list)


class _Walker(Walker):
    def __init__(self, ix: ModuleIndex) -> None:
        super().__init__()
        self.ix = ix
        self.n = 0
        self.scope: list[str] = []
        self.frames: list[_Frame] = [_Frame(None)]
        self.stores: set[int] = set()
        self.lambda_stack: list[int] = []

    @property
    def f(self) -> _Frame:
        return self.frames[-1]

    @property
    def fi(self) -> FuncIndex:
        return self.ix.funcs.setdefault(self.f.qual, FuncIndex(self.f.qual))

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.n += 1
        self.ix.seq[id(node)] = self.n
        return super().on_visit(node)

    # ---- scopes
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scope.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.append(node.name.value)
        qual = ".".join(self.scope)
        self.frames.append(_Frame(qual))
        self.ix.funcs.setdefault(qual, FuncIndex(qual))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scope.pop()
        self.frames.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.ix.lambdas[id(node)] = []
        self.lambda_stack.append(id(node))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.lambda_stack.pop()

    # ---- guards
    def _guard_in(self) -> None:
        self.f.guard += 1

    def _guard_out(self) -> None:
        self.f.guard -= 1

    def visit_If(self, node: cst.If) -> None:
        self.f.if_depth += 1

    def leave_If(self, original_node: cst.If) -> None:
        self.f.if_depth -= 1

    def visit_If_body(self, node: cst.If) -> None:
        self._guard_in()

    def leave_If_body(self, node: cst.If) -> None:
        self._guard_out()

    def visit_If_orelse(self, node: cst.If) -> None:
        self._guard_in()

    def leave_If_orelse(self, node: cst.If) -> None:
        self._guard_out()

    def visit_IfExp_body(self, node: cst.IfExp) -> None:
        self._guard_in()

    def leave_IfExp_body(self, node: cst.IfExp) -> None:
        self._guard_out()

    def visit_IfExp_orelse(self, node: cst.IfExp) -> None:
        self._guard_in()

    def leave_IfExp_orelse(self, node: cst.IfExp) -> None:
        self._guard_out()

    def visit_BooleanOperation_right(self, node: cst.BooleanOperation) -> None:
        self._guard_in()

    def leave_BooleanOperation_right(self, node: cst.BooleanOperation) -> None:
        self._guard_out()

    def visit_Try_body(self, node: cst.Try) -> None:
        self.f.catches.append(_catch_names(node))

    def leave_Try_body(self, node: cst.Try) -> None:
        self.f.catches.pop()

    def visit_Return(self, node: cst.Return) -> None:
        if self.f.if_depth > 0:
            self.f.early_exit = True
        if node.value is not None:
            self.fi.returns.append(node.value)

    def _comp(self, node) -> None:
        for_in = node.for_in
        filtered = False
        at = self.ix.seq[id(node)]
        while for_in is not None:
            self._bind_loop(for_in.target, for_in.iter, at)
            filtered = filtered or bool(for_in.ifs)
            for_in = for_in.inner_for_in
        if filtered:
            self._guard_in()

    def _comp_out(self, node) -> None:
        for_in, filtered = node.for_in, False
        while for_in is not None:
            filtered = filtered or bool(for_in.ifs)
            for_in = for_in.inner_for_in
        if filtered:
            self._guard_out()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comp

    def leave_ListComp(self, original_node) -> None:
        self._comp_out(original_node)

    leave_SetComp = leave_GeneratorExp = leave_DictComp = leave_ListComp

    # ---- bindings
    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name) or isinstance(target, cst.Attribute):
            name = dotted_name(target)
            if name and value is not None:
                self.fi.assigns.setdefault(name, []).append(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            starred = any(isinstance(el, cst.StarredElement) for el in target.elements)
            for i, el in enumerate(target.elements):
                n = dotted_name(el.value)
                if n:
                    self.fi.unpacked.add(n)
                    if value is not None and not starred:
                        self.fi.unpack_assigns.setdefault(n, []).append((i, value))
        elif isinstance(target, cst.Subscript):
            self.stores.add(id(target))
            recv = dotted_name(target.value)
            if recv and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                self.fi.item_stores.setdefault(recv, []).append(target.slice[0].slice.value)
            root = _root_name(target.value)
            if root and value is not None:
                self.fi.flows_into.setdefault(root, []).append(value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._bind(t.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Subscript):
            self.stores.add(id(node.target))

    def _bind_loop(self, target: cst.BaseExpression, it: cst.BaseExpression, at: int) -> None:
        self.fi.loop_seq[id(it)] = at
        if isinstance(target, cst.Name):
            self.fi.loops.setdefault(target.value, []).append(it)
        elif isinstance(target, cst.Tuple) and target.elements:
            first = target.elements[0].value
            if isinstance(first, cst.Name) and isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value == "items":
                self.fi.item_loops.setdefault(first.value, []).append(it.func.value)
            for el in target.elements:
                if isinstance(el.value, cst.Name):
                    self.fi.unpacked.add(el.value.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind_loop(node.target, node.iter, self.ix.seq[id(node)])

    # ---- records
    def visit_Call(self, node: cst.Call) -> None:
        f = self.f
        self.ix.call_ctx[id(node)] = CallCtx(f.qual, f.guard > 0, f.early_exit, frozenset().union(*f.catches) if f.catches else frozenset())
        if self.lambda_stack:
            self.ix.lambdas[self.lambda_stack[-1]].append(id(node))
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "update" and node.args:
            recv = dotted_name(node.func.value)
            if recv:
                self.fi.updates.setdefault(recv, []).append(node.args[0].value)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("update", "append", "extend", "insert", "setdefault", "add") and node.args:
            root = _root_name(node.func.value)
            if root:
                self.fi.flows_into.setdefault(root, []).extend(a.value for a in node.args)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        f = self.f
        self.ix.subscripts.append(SubscriptRec(
            node, f.qual, id(node) in self.stores, f.guard > 0,
            frozenset().union(*f.catches) if f.catches else frozenset(),
        ))

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for target in node.comparisons:
            if isinstance(target.operator, (cst.In, cst.NotIn)):
                self.ix.in_tests.append(InTest(node.left, target.comparator, self.f.qual, node))

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Divide):
            left = node.left
            if isinstance(left, cst.BinaryOperation) and isinstance(left.operator, cst.Subtract):
                self.ix.relative_diffs.append(node)

    def visit_Name(self, node: cst.Name) -> None:
        self.ix.identifiers.add(node.value)


# --------------------------------------------------------------------------- key sets


@dataclass(frozen=True, eq=False)
class KeySite:
    key: str  # the key, or the f-string template with {} holes
    path: str
    node: cst.CSTNode | None = None  # where it is written (positions are resolved only when reported)
    ix: "ModuleIndex | None" = None
    fixed: Pos | None = None

    @property
    def pos(self) -> Pos | None:
        if self.fixed is not None or self.ix is None:
            return self.fixed
        return self.ix.pos_of(self.node)


@dataclass
class KeySet:
    exact: dict[str, KeySite] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern, KeySite]] = field(default_factory=list)
    opaque: list[KeySite] = field(default_factory=list)  # writes whose keys could not be resolved

    def add(self, key: str, site: KeySite) -> None:
        self.exact.setdefault(key, site)

    def add_template(self, template: str, site: KeySite) -> None:
        parts = re.split(r"\{[^{}]*\}", template)
        self.patterns.append((re.compile(".+".join(re.escape(p) for p in parts) + r"\Z"), site))

    def merge(self, other: "KeySet") -> None:
        for k, s in other.exact.items():
            self.exact.setdefault(k, s)
        self.patterns += other.patterns
        self.opaque += other.opaque

    def matches(self, key: str) -> bool:
        return key in self.exact or any(p.match(key) for p, _ in self.patterns)

    def nearest(self, key: str, n: int = 3) -> list[KeySite]:
        names = difflib.get_close_matches(key, list(self.exact), n=n, cutoff=0.5)
        return [self.exact[k] for k in names]

    @property
    def names(self) -> list[str]:
        return sorted(self.exact) + sorted({s.key for _, s in self.patterns})


@dataclass(frozen=True, eq=False)
class KeyRead:
    kind: str  # "history" | "summary"
    key: str
    path: str
    node: cst.CSTNode  # the read (subscript, call, comparison)
    ix: "ModuleIndex"
    guarded: bool
    how: str  # short description of the read

    @property
    def pos(self) -> Pos:
        return self.ix.pos_of(self.node) or Pos(1, 1)

    @property
    def order(self) -> int:
        return self.ix.seq_of(self.node) or 0


# --------------------------------------------------------------------------- the model


def _receiver_is_wandbish(dotted: str | None, facts: ModuleFacts, init_names: set[str]) -> bool:
    """`wandb`, `wandb.run`, a name bound to `wandb.init(...)`, or a run-like name in a wandb module."""
    if not dotted:
        return False
    resolved = facts.resolve(dotted) or dotted
    if resolved in ("wandb", "wandb.run") or dotted in init_names:
        return True
    if not facts.imports_module("wandb"):
        return False
    last = dotted.rsplit(".", 1)[-1].lower()
    return "wandb" in last or last in ("wb", "wdb", "run", "wb_run", "wdb_run", "tracker_run") or last.endswith("_run")


class WandbModel:
    """See the module docstring. Build with `wandb_model(ctx)`."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._indexes: dict[str, ModuleIndex] = {}
        # evaluate.py names holding a history frame ("h"), history rows ("r"), a run summary ("s"),
        # per function; filled by `_eval_kinds`
        self._kinds: dict[str, dict[str | None, set[str]]] = {"h": {}, "r": {}, "s": {}}

    # ------------------------------------------------------------------ plumbing

    def index(self, facts: ModuleFacts) -> ModuleIndex:
        ix = self._indexes.get(facts.path)
        if ix is None:
            ix = self._indexes[facts.path] = ModuleIndex(facts)
        return ix

    @property
    def evaluate(self) -> ModuleFacts | None:
        return self.ctx.module("evaluate")

    @property
    def train_side(self) -> list[ModuleFacts]:
        """Every parsed module except evaluate.py: where runs are initialised and metrics logged."""
        ev = self.evaluate
        return [m for p, m in sorted(self.ctx.modules.items()) if ev is None or p != ev.path]

    @property
    def wandb_modules(self) -> list[ModuleFacts]:
        """Training-side modules that import wandb: only they can log (the rest is not indexed)."""
        return [m for m in self.train_side if m.imports_module("wandb")]

    # ------------------------------------------------------------------ wandb.init

    def init_calls(self, facts: ModuleFacts) -> list[CallFact]:
        return [c for c in facts.calls if c.resolved == "wandb.init"]

    def init_names(self, facts: ModuleFacts) -> set[str]:
        """Names (and `self.x` attributes) bound to the result of `wandb.init(...)`."""
        ix = self.index(facts)
        out: set[str] = set()
        for fi in ix.funcs.values():
            for name, values in fi.assigns.items():
                for v in values:
                    if isinstance(v, cst.Call) and facts.resolve(dotted_name(v.func)) == "wandb.init":
                        out.add(name)
        return out

    def is_init_guarded(self, facts: ModuleFacts, call: CallFact, depth: int = 3) -> bool:
        """The call sits under a condition, after an early return, or every caller of its
        function in this module calls it under one."""
        ix = self.index(facts)
        cc = ix.ctx_of(call)
        if cc.guarded or cc.early_exit:
            return True
        if depth == 0 or call.function is None:
            return False
        fn = facts.functions.get(call.function)
        if fn is None:
            return False
        sites = ix.call_sites(fn)
        return bool(sites) and all(self.is_init_guarded(facts, s, depth - 1) for s in sites)

    @cached_property
    def sets_wandb_mode_env(self) -> bool:
        """Some module sets the WANDB_MODE / WANDB_DISABLED environment variable."""
        return any(s.value in ("WANDB_MODE", "WANDB_DISABLED") for m in self.ctx.modules.values() for s in m.strings)

    # ------------------------------------------------------------------ logged keys

    def log_calls(self, facts: ModuleFacts) -> list[CallFact]:
        init_names = self.init_names(facts)
        out = []
        for c in facts.calls:
            if c.method != "log" or not c.func:
                continue
            recv = c.func.rsplit(".", 1)[0] if "." in c.func else None
            if _receiver_is_wandbish(recv, facts, init_names):
                out.append(c)
        return out

    def summary_writes(self, facts: ModuleFacts) -> list[tuple[str, cst.BaseExpression | None, cst.CSTNode, str | None]]:
        """(kind, node, where, function): kind "item" for summary[key] = v (node = key),
        "update" for summary.update(arg) (node = arg)."""
        init_names = self.init_names(facts)
        ix = self.index(facts)
        out = []
        for rec in ix.subscripts:
            if not rec.store:
                continue
            recv = dotted_name(rec.node.value)
            if recv and recv.endswith(".summary") and _receiver_is_wandbish(recv[: -len(".summary")], facts, init_names):
                sl = rec.node.slice[0].slice if len(rec.node.slice) == 1 else None
                out.append(("item", sl.value if isinstance(sl, cst.Index) else None, rec.node, rec.function))
        for c in facts.calls:
            if c.method == "update" and c.func and c.func.endswith(".summary.update"):
                recv = c.func[: -len(".summary.update")]
                if _receiver_is_wandbish(recv, facts, init_names):
                    arg = c.positional()[0] if c.positional() else None
                    out.append(("update", arg if arg is not None else c.node, c.node, c.function))
        return out

    def auto_logging(self, facts: ModuleFacts) -> KeySite | None:
        """Integrations that log keys we cannot enumerate (HF Trainer report_to, Lightning)."""
        for c in facts.calls:
            if c.resolved and any(t in c.resolved for t in ("WandbCallback", "WandbLogger")):
                return KeySite("<integration>", facts.path, fixed=c.pos)
            rt = c.keyword("report_to")
            if rt is not None:
                vals = [literal_string(rt)] if literal_string(rt) else [literal_string(e.value) for e in getattr(rt, "elements", [])]
                if any(v in ("wandb", "all") for v in vals if v) or not any(vals):
                    return KeySite("<report_to>", facts.path, fixed=c.pos)
        return None

    @cached_property
    def logged(self) -> KeySet:
        """Keys written to the run history by the training side."""
        ks = KeySet()
        for facts in self.train_side:
            auto = self.auto_logging(facts)
            if auto is not None:
                ks.opaque.append(auto)
        for facts in self.wandb_modules:
            ix = self.index(facts)
            for c in self.log_calls(facts):
                args = c.positional()
                arg = args[0] if args else c.keyword("data")
                if arg is None:
                    ks.opaque.append(KeySite("<no data>", facts.path, fixed=c.pos))
                    continue
                ks.merge(self.keys_of(facts, ix, arg, c.function))
        return ks

    @cached_property
    def figures(self) -> tuple[list[SavedFigure], list[SavedFigure] | None]:
        """(every figure name evaluate.py's `savefig` calls resolve to, the same list or None when
        some call's name does not resolve): RA808, RA812 and the claims' evidence all ask it."""
        ev = self.evaluate
        if ev is None:
            return [], None
        ix = self.index(ev)
        out: list[SavedFigure] = []
        complete = True
        for c in ev.calls:
            if c.method != "savefig":
                continue
            arg = c.positional()[0] if c.positional() else c.keyword("fname")
            templates = path_templates(ix, arg, c.function)
            if not templates:
                complete = False
                continue
            for tpl, node in templates:
                base = basename(tpl)
                if base:
                    out.append(SavedFigure(base, ev.path, ix.pos_of(node, c.pos), c.pos))
        return out, (out if complete else None)

    @cached_property
    def summary_keys(self) -> KeySet:
        """Keys present in the run summary: explicit summary writes plus every logged key
        (W&B keeps the last logged value of each history key in the summary)."""
        ks = KeySet()
        ks.merge(self.logged)
        for facts in self.wandb_modules:
            ix = self.index(facts)
            for kind, node, where, fn in self.summary_writes(facts):
                if node is None:
                    ks.opaque.append(KeySite("<summary>", facts.path, where, ix))
                elif kind == "update":
                    ks.merge(self.keys_of(facts, ix, node, fn))
                else:
                    ks.merge(self._key_expr(facts, ix, node, fn))
        return ks

    def _key_expr(self, facts: ModuleFacts, ix: ModuleIndex, node: cst.BaseExpression, fn: str | None) -> KeySet:
        """A single key expression (`"acc"`, f"{split}_acc", a loop variable over a dict's items)."""
        ks = KeySet()
        lit = literal_string(node)
        if lit is not None:
            ks.add(lit, KeySite(lit, facts.path, node, ix))
            return ks
        tpl = fstring_template(node)
        if tpl is not None:
            ks.add_template(tpl, KeySite(tpl, facts.path, node, ix))
            return ks
        if isinstance(node, cst.Name):
            fi = ix.func(fn)
            at = ix.seq_of(node)
            for src in fi.binding(fi.item_loops, node.value, at):
                ks.merge(self.keys_of(facts, ix, src, fn))
            for it in fi.binding(fi.loops, node.value, at):
                vals = self.literal_strings(ix, it, fn)
                if vals is None:
                    if isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value == "keys":
                        ks.merge(self.keys_of(facts, ix, it.func.value, fn))
                    elif isinstance(it, (cst.Name, cst.Dict)):
                        ks.merge(self.keys_of(facts, ix, it, fn))
                    else:
                        ks.opaque.append(KeySite("<loop>", facts.path, node, ix))
                else:
                    for v in vals:
                        ks.add(v, KeySite(v, facts.path, node, ix))
            if ks.exact or ks.patterns or ks.opaque:
                return ks
        ks.opaque.append(KeySite("<key>", facts.path, node, ix))
        return ks

    def keys_of(self, facts: ModuleFacts, ix: ModuleIndex, node: cst.BaseExpression, fn: str | None, depth: int = 0, seen: frozenset = frozenset()) -> KeySet:
        """The keys of a dict-valued expression, as far as they can be resolved statically."""
        ks = KeySet()
        if depth > 5:
            ks.opaque.append(KeySite("<deep>", facts.path, node, ix))
            return ks
        if isinstance(node, cst.Dict):
            for el in node.elements:
                if isinstance(el, cst.DictElement):
                    sub = self._key_expr(facts, ix, el.key, fn)
                    ks.merge(sub)
                    lit = literal_string(el.key)
                    if lit is not None and isinstance(el.value, cst.Dict):  # nested dicts flatten to "a.b"
                        ks.add_template(lit + ".{}", KeySite(lit + ".{}", facts.path, el.key, ix))
                else:
                    ks.merge(self.keys_of(facts, ix, el.value, fn, depth + 1, seen))
            return ks
        if isinstance(node, cst.DictComp):
            key = node.key
            tpl = literal_string(key) or fstring_template(key)
            if tpl is not None:
                ks.add_template(tpl, KeySite(tpl, facts.path, node, ix))
            elif isinstance(key, cst.Name) and isinstance(node.for_in.target, cst.Tuple) and node.for_in.target.elements \
                    and dotted_name(node.for_in.target.elements[0].value) == key.value \
                    and isinstance(node.for_in.iter, cst.Call) and isinstance(node.for_in.iter.func, cst.Attribute) \
                    and node.for_in.iter.func.attr.value == "items":
                ks.merge(self.keys_of(facts, ix, node.for_in.iter.func.value, fn, depth + 1, seen))
            elif isinstance(key, cst.Name) and key.value == dotted_name(node.for_in.target):
                vals = self.literal_strings(ix, node.for_in.iter, fn)
                if vals is None:
                    ks.opaque.append(KeySite("<dictcomp>", facts.path, node, ix))
                for v in vals or []:
                    ks.add(v, KeySite(v, facts.path, node, ix))
            else:
                ks.opaque.append(KeySite("<dictcomp>", facts.path, node, ix))
            return ks
        if isinstance(node, cst.Call):
            callee = dotted_name(node.func)
            if callee == "dict":
                for a in node.args:
                    if a.keyword is not None:
                        ks.add(a.keyword.value, KeySite(a.keyword.value, facts.path, a.keyword, ix))
                    else:
                        ks.merge(self.keys_of(facts, ix, a.value, fn, depth + 1, seen))
                return ks
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "copy":
                return self.keys_of(facts, ix, node.func.value, fn, depth + 1, seen)
            call = ix.calls_by_id.get(id(node))
            target = ix.resolve_local(call) if call is not None else None
            if target is not None and target.qualname not in seen:
                rets = ix.func(target.qualname).returns
                if rets:
                    for r in rets:
                        ks.merge(self.keys_of(facts, ix, r, target.qualname, depth + 1, seen | {target.qualname}))
                    return ks
            ks.opaque.append(KeySite(f"<{callee or 'call'}()>", facts.path, node, ix))
            return ks
        if isinstance(node, (cst.Name, cst.Attribute)):
            name = dotted_name(node)
            fi = ix.func(fn)
            found = False
            if name in fi.unpacked:
                elems = ix.unpacked_values(name, fn)
                if elems is None:
                    ks.opaque.append(KeySite(f"<{name}>", facts.path, node, ix))
                    return ks
                for el, owner in elems:
                    ks.merge(self.keys_of(facts, ix, el, owner, depth + 1, seen))
                return ks
            for v in ix.values_of(name, fn) if name else []:
                found = True
                ks.merge(self.keys_of(facts, ix, v, fn, depth + 1, seen))
            for key in fi.item_stores.get(name, []):
                found = True
                ks.merge(self._key_expr(facts, ix, key, fn))
            for upd in fi.updates.get(name, []):
                found = True
                ks.merge(self.keys_of(facts, ix, upd, fn, depth + 1, seen))
            if name and fn and ix.is_param(name, fn) and fn not in seen:
                target = facts.functions[fn]
                sites = ix.call_sites(target)
                for s in sites:
                    arg = ix.arg_for(s, target, name)
                    if arg is None:
                        ks.opaque.append(KeySite(f"<{name}>", facts.path, fixed=s.pos))
                    else:
                        ks.merge(self.keys_of(facts, ix, arg, s.function, depth + 1, seen | {fn}))
                found = found or bool(sites)
            if not found:
                ks.opaque.append(KeySite(f"<{name}>", facts.path, node, ix))
            return ks
        ks.opaque.append(KeySite("<expr>", facts.path, node, ix))
        return ks

    @staticmethod
    def literal_strings(ix: ModuleIndex, node: cst.BaseExpression | None, fn: str | None, depth: int = 0) -> list[str] | None:
        """String elements of a literal list/tuple/set/dict (keys), directly or via a name; None if not literal."""
        if node is None or depth > 3:
            return None
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            vals = [literal_string(e.value) for e in node.elements]
            return [v for v in vals if v is not None] if all(v is not None for v in vals) else None
        if isinstance(node, cst.Dict):
            vals = [literal_string(e.key) if isinstance(e, cst.DictElement) else None for e in node.elements]
            return [v for v in vals if v is not None] if all(v is not None for v in vals) else None
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "keys":
            return WandbModel.literal_strings(ix, node.func.value, fn, depth + 1)
        if isinstance(node, cst.Name):
            values = ix.values_of(node.value, fn)
            if len(values) == 1:
                return WandbModel.literal_strings(ix, values[0], fn, depth + 1)
        return None

    # ------------------------------------------------------------------ evaluate.py reads

    @cached_property
    def _eval_kinds(self) -> tuple[dict[str | None, set[str]], dict[str | None, set[str]], dict[str | None, set[str]]]:
        """Per function of evaluate.py: names holding a history frame, history row iterables,
        and run summaries (including helper parameters that receive them)."""
        kinds = self._kinds
        hist, rows, summ = kinds["h"], kinds["r"], kinds["s"]
        ev = self.evaluate
        if ev is None:
            return hist, rows, summ
        ix = self.index(ev)
        for _ in range(6):
            changed = False
            for qual, fi in ix.funcs.items():
                for name, values in fi.assigns.items():
                    for v in values:
                        k = self.classify(v, qual)
                        if k and name not in kinds[k].setdefault(qual, set()):
                            kinds[k][qual].add(name)
                            changed = True
                for name, iters in fi.loops.items():
                    for it in iters:
                        if self.classify(it, qual) == "r" and name not in hist.setdefault(qual, set()):
                            hist[qual].add(name)
                            changed = True
                for name in fi.unpack_assigns:
                    for el, owner in ix.unpacked_values(name, qual) or []:
                        k = self.classify(el, owner)
                        if k and name not in kinds[k].setdefault(qual, set()):
                            kinds[k][qual].add(name)
                            changed = True
            for c in ev.calls:
                tgt = ix.resolve_local(c)
                if tgt is None:
                    continue
                for p in tgt.params:
                    arg = ix.arg_for(c, tgt, p.name)
                    k = self.classify(arg, c.function) if arg is not None else None
                    if k and p.name not in kinds[k].setdefault(tgt.qualname, set()):
                        kinds[k][tgt.qualname].add(p.name)
                        changed = True
            if not changed:
                break
        return hist, rows, summ

    def classify(self, node: cst.BaseExpression | None, fn: str | None) -> str | None:
        """"h" for a history DataFrame, "r" for history rows (scan_history), "s" for a run summary."""
        hist, rows, summ = self._kinds["h"], self._kinds["r"], self._kinds["s"]
        if node is None:
            return None
        if isinstance(node, cst.Name):
            for kind, table in (("h", hist), ("r", rows), ("s", summ)):
                if node.value in table.get(fn, ()):
                    return kind
            return None
        if isinstance(node, cst.Attribute):
            attr = node.attr.value
            root = dotted_name(node.value)
            if attr == "summary":
                ev = self.evaluate
                if root and ev is not None and (ev.resolve(root) or root).split(".")[0] == "wandb":
                    return None
                return "s"
            if attr == "_json_dict" and self.classify(node.value, fn) == "s":
                return "s"
            if attr in ("loc", "iloc") and self.classify(node.value, fn) == "h":
                return "h"
            return None
        if isinstance(node, cst.Call):
            func = node.func
            first = node.args[0].value if node.args else None
            if isinstance(func, cst.Attribute):
                m = func.attr.value
                if m == "history":
                    return "h"
                if m == "scan_history":
                    return "r"
                inner = self.classify(func.value, fn)
                if inner == "h" and m in _FRAME_METHODS:
                    return "h"
                if inner == "s" and m == "copy":
                    return "s"
                if m in ("DataFrame", "from_records", "from_dict") and first is not None and self.classify(first, fn) in ("h", "r"):
                    return "h"
                return None
            name = dotted_name(func)
            if name in ("DataFrame", "list") and self.classify(first, fn) in ("h", "r"):
                return "h"
            if name == "dict" and self.classify(first, fn) == "s":
                return "s"
            return None
        if isinstance(node, cst.Subscript) and self.classify(node.value, fn) == "h":
            sl = node.slice[0].slice if len(node.slice) == 1 else None
            if isinstance(sl, cst.Index) and literal_string(sl.value) is None:
                return "h"  # column list or boolean mask: still a frame
            return None
        if isinstance(node, cst.DictComp):
            it = node.for_in.iter
            if isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value == "items" and self.classify(it.func.value, fn) == "s":
                return "s"
        return None

    def _container_kind(self, node: cst.BaseExpression, fn: str | None) -> str | None:
        """The right side of `k in X`: X, X.columns, X.keys()."""
        if isinstance(node, cst.Attribute) and node.attr.value == "columns":
            return self.classify(node.value, fn)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "keys":
            return self.classify(node.func.value, fn)
        if isinstance(node, cst.Call) and dotted_name(node.func) in ("list", "set") and node.args:
            return self._container_kind(node.args[0].value, fn)
        return self.classify(node, fn)

    def _loop_keys(self, ix: ModuleIndex, name: str, fn: str | None, at: int | None = None) -> list[str] | None:
        fi = ix.func(fn)
        iters = fi.binding(fi.loops, name, at)
        if not iters:
            return None
        out: list[str] = []
        for it in iters:
            vals = self.literal_strings(ix, it, fn)
            if vals is None:
                return None
            out += vals
        return out

    def _guarded_vars(self, ix: ModuleIndex) -> dict[str | None, set[str]]:
        """Per function: names tested with `name in <history/summary>` (loop filters)."""
        out: dict[str | None, set[str]] = {}
        for t in ix.in_tests:
            if isinstance(t.left, cst.Name) and self._container_kind(t.right, t.function):
                out.setdefault(t.function, set()).add(t.left.value)
        return out

    @cached_property
    def eval_reads(self) -> list[KeyRead]:
        """Every literal key evaluate.py reads from a history frame or a run summary."""
        ev = self.evaluate
        if ev is None:
            return []
        _ = self._eval_kinds
        ix = self.index(ev)
        guarded_vars = self._guarded_vars(ix)
        reads: list[KeyRead] = []
        # helper parameters used as keys: (function, param) -> (kind, guarded inside helper)
        key_params: dict[tuple[str, str], tuple[str, bool]] = {}

        def guarded_here(key: str | None, var: str | None, fn: str | None, guarded: bool, catches: frozenset[str]) -> bool:
            if guarded or catches & {"*", "KeyError", "Exception", "LookupError", "BaseException", "ValueError"}:
                return True
            if key is not None and key in ev.guarded_keys.get(fn, set()):
                return True
            return var is not None and var in guarded_vars.get(fn, set())

        def emit(kind: str, key_node: cst.BaseExpression, fn: str | None, at: cst.CSTNode, guarded: bool, catches: frozenset[str], how: str) -> None:
            lit = literal_string(key_node)
            if lit is not None:
                reads.append(KeyRead(kind, lit, ev.path, at, ix, guarded_here(lit, None, fn, guarded, catches), how.format(lit)))
                return
            if isinstance(key_node, (cst.List, cst.Tuple)):
                for el in key_node.elements:
                    emit(kind, el.value, fn, at, guarded, catches, how)
                return
            if isinstance(key_node, cst.Name):
                vals = self._loop_keys(ix, key_node.value, fn, ix.seq_of(key_node))
                if vals is not None:
                    g = guarded_here(None, key_node.value, fn, guarded, catches)
                    for v in vals:
                        reads.append(KeyRead(kind, v, ev.path, at, ix, g or v in ev.guarded_keys.get(fn, set()), how.format(v)))
                    return
                if fn is not None and ev.functions.get(fn) and ix.is_param(key_node.value, fn):
                    g = guarded_here(None, key_node.value, fn, guarded, catches)
                    prev = key_params.get((fn, key_node.value))
                    key_params[(fn, key_node.value)] = (kind, g and (prev is None or prev[1]))

        for rec in ix.subscripts:
            if rec.store:
                continue
            kind = self.classify(rec.node.value, rec.function)
            if kind not in ("h", "s") or len(rec.node.slice) != 1 or not isinstance(rec.node.slice[0].slice, cst.Index):
                continue
            emit("history" if kind == "h" else "summary", rec.node.slice[0].slice.value, rec.function, rec.node, rec.guarded, rec.catches,
                 "history[{!r}]" if kind == "h" else "summary[{!r}]")
        for c in ev.calls:
            cc = ix.ctx_of(c)
            if c.method in ("get", "pop") and isinstance(c.node.func, cst.Attribute) and c.positional():
                kind = self.classify(c.node.func.value, c.function)
                if kind in ("h", "s"):
                    emit("history" if kind == "h" else "summary", c.positional()[0], c.function, c.node, True, cc.catches,
                         ".get({!r})")
            if c.method in ("history", "scan_history"):
                keys = c.keyword("keys")
                if keys is not None:
                    emit("history", keys, c.function, c.node, True, cc.catches, "history(keys=[{!r}])")
            data = c.keyword("data")
            if data is not None and self.classify(data, c.function) == "h":
                for kw in _PLOT_KEYWORDS:
                    v = c.keyword(kw)
                    if v is not None and literal_string(v) is not None:
                        emit("history", v, c.function, c.node, cc.guarded, cc.catches, f"{c.func}(data=history, {kw}={{!r}})")
        for t in ix.in_tests:
            kind = self._container_kind(t.right, t.function)
            if kind in ("h", "s"):
                emit("history" if kind == "h" else "summary", t.left, t.function, t.node, True, frozenset(), "{!r} in ...")
        # literal keys passed to helpers that use the parameter as a key
        for (fn, param), (kind, g_inside) in key_params.items():
            target = ev.functions[fn]
            for site in ix.call_sites(target):
                arg = ix.arg_for(site, target, param)
                if arg is None:
                    continue
                cc = ix.ctx_of(site)
                emit(kind, arg, site.function, site.node, g_inside or cc.guarded, cc.catches, f"{target.name}(..., {{!r}})")
        # keys evaluate.py creates itself (df["smoothed"] = ...) are not read from W&B
        created: set[str] = set()
        for qual, fi in ix.funcs.items():
            for recv, keys in fi.item_stores.items():
                if "." in recv or self.classify(cst.Name(recv), qual) not in ("h", "s"):
                    continue
                for k in keys:
                    lit = literal_string(k)
                    if lit is not None:
                        created.add(lit)
        for c in ev.calls:
            if c.method in ("rename", "assign"):
                cols = c.keyword("columns")
                if isinstance(cols, cst.Dict):
                    created.update(v for el in cols.elements if isinstance(el, cst.DictElement) and (v := literal_string(el.value)))
                created.update(a.keyword.value for a in c.node.args if a.keyword is not None and c.method == "assign")
        return [r for r in reads if r.key not in created and not _INTERNAL.match(r.key)]

    # ------------------------------------------------------------------ Optuna objectives

    def objectives(self, facts: ModuleFacts) -> list[tuple[CallFact, list[str], list[CallFact]]]:
        """For each `X.optimize(objective, ...)` in a module that imports optuna: the call, the
        module functions the objective is, and calls made directly inside a lambda objective."""
        if not facts.imports_module("optuna"):
            return []
        ix = self.index(facts)
        out = []
        for c in facts.calls:
            if c.method != "optimize" or c.func in ("optimize",) or (c.resolved or "").startswith(("scipy", "torch")):
                continue
            obj = c.keyword("func")
            if obj is None and c.positional():
                obj = c.positional()[0]
            if obj is None:
                continue
            if isinstance(obj, cst.Call) and (dotted_name(obj.func) or "").endswith("partial") and obj.args:
                obj = obj.args[0].value
            roots: list[str] = []
            lambda_calls: list[CallFact] = []
            if isinstance(obj, cst.Lambda):
                for cid in ix.lambdas.get(id(obj), []):
                    lc = ix.calls_by_id.get(cid)
                    if lc is not None:
                        lambda_calls.append(lc)
                        tgt = ix.resolve_local(lc)
                        if tgt is not None:
                            roots.append(tgt.qualname)
            else:
                name = dotted_name(obj)
                if name:
                    fake = CallFact(func=name, resolved=name, node=c.node, pos=c.pos, function=c.function, with_contexts=(), in_loop=False)
                    tgt = ix.resolve_local(fake)
                    if tgt is not None:
                        roots.append(tgt.qualname)
            if roots or lambda_calls:
                out.append((c, roots, lambda_calls))
        return out


# --------------------------------------------------------------------------- evaluate.py helpers


@dataclass
class ArgparseArg:
    call: CallFact
    names: list[str]  # "run_ids", "--run-ids", "-r"
    nargs: str | None

    @property
    def positional(self) -> bool:
        return bool(self.names) and not self.names[0].startswith("-")

    @property
    def dest(self) -> str:
        longs = [n for n in self.names if n.startswith("--")] or self.names
        return longs[0].lstrip("-").replace("-", "_") if longs else "?"


@dataclass
class CliModel:
    argparse: list[ArgparseArg]
    parse_known: bool
    reads_argv: bool  # sys.argv is used directly
    splits_key_value: bool  # some "=" handling ("=" literal, "key=" prefixes)
    hydra: CallFact | FunctionFact | None  # @hydra.main / hydra.compose / OmegaConf.from_cli
    hydra_config_name: str | None

    @property
    def accepts_key_value(self) -> bool:
        """Hydra, or `key=value` items split by hand: from sys.argv, from an argparse catch-all
        positional (nargs="*"/"+"/REMAINDER), or from parse_known_args() leftovers."""
        if self.hydra is not None:
            return True
        catch_all = any(a.positional and a.nargs is not None for a in self.argparse)
        return self.splits_key_value and (self.reads_argv or catch_all or self.parse_known)


def cli_model(facts: ModuleFacts) -> CliModel:
    args = []
    for c in facts.calls:
        if c.method == "add_argument":
            names = [v for a in c.positional() if (v := literal_string(a)) is not None]
            nargs = c.keyword("nargs")
            nargs_s = literal_string(nargs) if nargs is not None else None
            if nargs is not None and nargs_s is None:
                nargs_s = dotted_name(nargs) or "?"
            args.append(ArgparseArg(c, names, nargs_s))
    parse_known = any(c.method == "parse_known_args" for c in facts.calls)
    reads_argv = any("argv" in line and ("sys.argv" in line or "argv[" in line) for line in facts.lines) or any(
        i.qualified == "sys.argv" for i in facts.imports)
    splits = any(s.value == "=" or (s.value.endswith("=") and re.fullmatch(r"-{0,2}\w+=", s.value)) for s in facts.strings if not s.is_fstring)
    hydra = None
    config_name = None
    for f in facts.functions.values():
        for i, d in enumerate(f.decorators):
            if d and (facts.resolve(d) or d) in ("hydra.main",):
                hydra = f
                node = f.node.decorators[i].decorator
                if isinstance(node, cst.Call):
                    for a in node.args:
                        if a.keyword is not None and a.keyword.value == "config_name":
                            config_name = literal_string(a.value)
    if hydra is None:
        hydra = next((c for c in facts.calls if c.resolved in ("hydra.compose", "omegaconf.OmegaConf.from_cli", "OmegaConf.from_cli", "omegaconf.OmegaConf.from_dotlist", "OmegaConf.from_dotlist")), None)
    return CliModel(args, parse_known, reads_argv, splits, hydra, config_name)


_PATH_CALLS = frozenset({"os.path.join", "Path", "pathlib.Path", "PurePath", "str", "os.fspath", "posixpath.join"})


def path_templates(ix: ModuleIndex, node: cst.BaseExpression | None, fn: str | None, depth: int = 0) -> list[tuple[str, cst.CSTNode | None]] | None:
    """The file name templates an expression can evaluate to (holes as `{}`), each with the node
    that writes it (`ix.pos_of` gives its position); None when it cannot be resolved statically."""
    if node is None or depth > 4:
        return None
    lit = literal_string(node)
    if lit is not None:
        return [(lit, node)]
    if isinstance(node, cst.FormattedString):
        tpl = fstring_template(node)
        return [(re.sub(r"\{[^{}]*\}", "{}", tpl), node)] if tpl is not None else None
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.Divide):
            return path_templates(ix, node.right, fn, depth + 1)
        if isinstance(node.operator, cst.Add):
            right = path_templates(ix, node.right, fn, depth + 1)
            if right is None:
                return None
            left = path_templates(ix, node.left, fn, depth + 1) or [("{}", None)]
            return [(lt + rt, rp or lp) for lt, lp in left[:4] for rt, rp in right[:4]]
        if isinstance(node.operator, cst.Modulo) and (fmt := literal_string(node.left)) is not None:
            return [(re.sub(r"%[-#0-9.]*[sdifrx]", "{}", fmt), node.left)]
        return None
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute):
            if func.attr.value == "format" and (fmt := literal_string(func.value)) is not None:
                return [(re.sub(r"\{[^{}]*\}", "{}", fmt), func.value)]
            if func.attr.value == "joinpath" and node.args:
                return path_templates(ix, node.args[-1].value, fn, depth + 1)
            if func.attr.value == "with_suffix" and node.args and (suffix := literal_string(node.args[0].value)) is not None:
                inner = path_templates(ix, func.value, fn, depth + 1)
                return [(re.sub(r"\.[^./{}]*$", "", t) + suffix, p) for t, p in inner] if inner else None
        name = dotted_name(func)
        resolved = ix.facts.resolve(name) if name else None
        if (name in _PATH_CALLS or resolved in _PATH_CALLS) and node.args and not any(a.star for a in node.args):
            return path_templates(ix, node.args[-1].value, fn, depth + 1)
        return None
    if isinstance(node, cst.Name):
        name = node.value
        if fn and ix.is_param(name, fn):
            target = ix.facts.functions[fn]
            out: list[tuple[str, cst.CSTNode | None]] = []
            for site in ix.call_sites(target):
                arg = ix.arg_for(site, target, name)
                got = path_templates(ix, arg, site.function, depth + 1) if arg is not None else None
                if got is None:
                    return None
                out += got
            return out or None
        values = ix.values_of(name, fn)
        if not values or name in ix.func(fn).unpacked:
            return None
        out = []
        for v in values:
            got = path_templates(ix, v, fn, depth + 1)
            if got is None:
                return None
            out += got
        return out
    return None


@dataclass
class SummaryCopy:
    """A run summary copied without `._json_dict` (`dict(run.summary)`, `run.summary`, ...)."""

    node: cst.BaseExpression
    function: str | None
    text: str
    dumps: list[CallFact] = field(default_factory=list)  # json.dump/dumps calls it reaches


def _is_wandb_root(facts: ModuleFacts, node: cst.BaseExpression) -> bool:
    root = dotted_name(node)
    return bool(root) and (facts.resolve(root) or root).split(".")[0] == "wandb"


def _summary_attr(facts: ModuleFacts, node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value == "summary" and not _is_wandb_root(facts, node.value)


def unsafe_summary(facts: ModuleFacts, node: cst.BaseExpression | None) -> str | None:
    """How `node` copies a run summary while keeping nested SummarySubDict values, or None."""
    if node is None:
        return None
    if _summary_attr(facts, node):
        return f"{dotted_name(node) or 'run.summary'}"
    if isinstance(node, cst.Call) and dotted_name(node.func) in ("dict", "copy.deepcopy", "deepcopy", "copy.copy") and node.args and _summary_attr(facts, node.args[0].value):
        return f"{dotted_name(node.func)}({dotted_name(node.args[0].value) or 'run.summary'})"
    if isinstance(node, cst.DictComp) and not node.for_in.ifs and node.for_in.inner_for_in is None:
        it = node.for_in.iter
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value == "items" and _summary_attr(facts, it.func.value):
            return "{k: v for k, v in " + (dotted_name(it.func.value) or "run.summary") + ".items()}"
    if isinstance(node, cst.Dict):
        for el in node.elements:
            if isinstance(el, cst.StarredDictElement) and _summary_attr(facts, el.value):
                return "{**" + (dotted_name(el.value) or "run.summary") + "}"
    return None


class _CopyFinder(Walker):
    """Summary copies in positions where their value is kept: assigned, stored in a container,
    passed to a call, returned (not `run.summary.get(...)` or `run.summary._json_dict`)."""

    def __init__(self, facts: ModuleFacts) -> None:
        super().__init__()
        self.facts = facts
        self.found: list[cst.BaseExpression] = []
        self.scope: list[str] = []
        self.owner: dict[int, str | None] = {}

    def _check(self, node: cst.BaseExpression | None) -> None:
        if node is not None and unsafe_summary(self.facts, node) is not None and id(node) not in self.owner:
            self.found.append(node)
            self.owner[id(node)] = ".".join(self.scope) or None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scope.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scope.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node.value)

    def visit_Return(self, node: cst.Return) -> None:
        self._check(node.value)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        self._check(node.value)

    def visit_Element(self, node: cst.Element) -> None:
        self._check(node.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        self._check(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._check(node)

    def visit_Dict(self, node: cst.Dict) -> None:
        self._check(node)


def summary_copies(model: "WandbModel") -> list[SummaryCopy]:
    """Run-summary copies in evaluate.py, each with the json.dump/json.dumps calls its value
    reaches (through names, containers, helper parameters and return values)."""
    ev = model.evaluate
    if ev is None:
        return []
    ix = model.index(ev)
    finder = _CopyFinder(ev)
    finder.walk(ev.tree)
    # keep the outermost copy when one contains another (dict(run.summary) contains run.summary)
    nodes = [n for n in finder.found if not any(o is not n and _contains_node(o, n) for o in finder.found)]
    dumps = [c for c in ev.calls if c.resolved in ("json.dump", "json.dumps") and c.keyword("default") is None and c.keyword("cls") is None and c.node.args]
    out = []
    for n in nodes:
        copy = SummaryCopy(n, finder.owner.get(id(n)), unsafe_summary(ev, n) or "run.summary")
        copy.dumps = _dumps_reached(ix, n, copy.function, dumps)
        out.append(copy)
    return out


def _contains_node(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    if outer is inner:
        return False
    found = False

    class _V(Walker):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nonlocal found
            if node is inner:
                found = True
            return not found

    _V().walk(outer)
    return found


def _dumps_reached(ix: ModuleIndex, seed: cst.BaseExpression, seed_fn: str | None, dumps: list[CallFact]) -> list[CallFact]:
    """Taint from one copy: names bound to a value carrying it, containers it flows into,
    helper parameters it is passed to, calls of helpers returning it."""
    tainted: dict[str | None, set[str]] = {}
    returns_tainted: set[str] = set()

    def carries(node: cst.BaseExpression | None, fn: str | None, depth: int = 0) -> bool:
        if node is None or depth > 6:
            return False
        if node is seed:
            return True
        if isinstance(node, cst.Name):
            return node.value in tainted.get(fn, ())
        if isinstance(node, cst.Dict):
            return any(carries(el.value, fn, depth + 1) for el in node.elements)
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            return any(carries(el.value, fn, depth + 1) for el in node.elements)
        if isinstance(node, cst.DictComp):
            it = node.for_in.iter
            return node is seed or (not node.for_in.ifs and isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute)
                                    and it.func.attr.value == "items" and carries(it.func.value, fn, depth + 1))
        if isinstance(node, cst.Call):
            name = dotted_name(node.func)
            if name in ("dict", "copy.deepcopy", "deepcopy", "copy.copy", "list", "OrderedDict") and node.args:
                return carries(node.args[0].value, fn, depth + 1)
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "copy":
                return carries(node.func.value, fn, depth + 1)
            call = ix.calls_by_id.get(id(node))
            tgt = ix.resolve_local(call) if call is not None else None
            return tgt is not None and tgt.qualname in returns_tainted
        return False

    for _ in range(8):
        changed = False
        for qual, fi in ix.funcs.items():
            t = tainted.setdefault(qual, set())
            for name, values in fi.assigns.items():
                if name not in t and any(carries(v, qual) for v in values):
                    t.add(name)
                    changed = True
            for root, values in fi.flows_into.items():
                if root not in t and any(carries(v, qual) for v in values):
                    t.add(root)
                    changed = True
            if qual is not None and qual not in returns_tainted and any(carries(r, qual) for r in fi.returns):
                returns_tainted.add(qual)
                changed = True
        for c in ix.facts.calls:
            tgt = ix.resolve_local(c)
            if tgt is None:
                continue
            for p in tgt.params:
                arg = ix.arg_for(c, tgt, p.name)
                if arg is not None and p.name not in tainted.setdefault(tgt.qualname, set()) and carries(arg, c.function):
                    tainted[tgt.qualname].add(p.name)
                    changed = True
        if not changed:
            break
    return [d for d in dumps if carries(d.node.args[0].value, d.function)]


def wandb_model(ctx) -> WandbModel:
    """The one `WandbModel` of this audit context (built on first use)."""
    model = ctx.__dict__.get("_wandb_model")
    if model is None:
        model = ctx.__dict__["_wandb_model"] = WandbModel(ctx)
    return model


# --------------------------------------------------------------------------- library knowledge


def knowledge_entry(entry_id: str):
    """One reviewed entry of reviewer_audit/data/library_knowledge.yaml (a `KnowledgeEntry`
    with message, replacement, source, ...), or None when the data cannot be loaded."""
    try:
        from reviewer_audit.knowledge.library import load_knowledge

        return load_knowledge().get(entry_id)
    except Exception:  # noqa: BLE001 -- a broken data file is reported by its own tests; rules fall back
        return None


@dataclass(frozen=True)
class SavedFigure:
    """A file name evaluate.py passes to `savefig(...)`, resolved to a template (holes as `{}`)."""

    basename: str
    path: str
    pos: Pos  # where the name is written
    savefig: Pos  # the savefig call


def saved_figures(ctx) -> list[SavedFigure] | None:
    """Every figure name evaluate.py saves that resolves statically, in source order; None when
    some `savefig` argument does not resolve (the set is then not known to be complete)."""
    return wandb_model(ctx).figures[1]


def resolved_figures(ctx) -> list[SavedFigure]:
    """The figure names of `saved_figures` that resolve, complete or not."""
    return wandb_model(ctx).figures[0]


def basename(template: str) -> str:
    """The file name of a path template (either separator)."""
    return template.replace("\\", "/").rsplit("/", 1)[-1]
