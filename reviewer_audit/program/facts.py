"""Facts about each Python module, extracted once with libcst and shared by every rule.

Parsing is the expensive part of an audit, so each module is parsed exactly once, its node
positions are computed once (`cst_positions.node_ranges`, PositionProvider's ranges at a quarter
of the cost), and it is walked once by `_FactCollector` (a `cst_walk.Walker`, which does not
rebuild nodes as `CSTNode.visit` does). The collector records generic,
rule-agnostic facts -- imports, definitions with signatures, every call with its dotted callee,
every attribute chain rooted at a name (`cfg.model.backbone`), string subscripts
(`wandb.summary["acc"]`), string literals, comments -- each with its 1-based position and the
function it sits in. Rules interpret these facts; they do not walk the tree again.
"""
from __future__ import annotations

import ast
import re
import symtable
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator, Sequence

import libcst as cst

from reviewer_audit.program.cst_positions import Range, node_ranges
from reviewer_audit.program.cst_walk import Walker


# --------------------------------------------------------------------------- fact records


@dataclass(frozen=True)
class Pos:
    line: int
    column: int  # 1-based


@dataclass
class ImportFact:
    module: str  # "scipy.stats" for `from scipy.stats import x`; "numpy" for `import numpy`
    name: str | None  # imported name for `from` imports, else None
    alias: str  # the local name bound
    level: int  # relative-import dots
    pos: Pos
    function: str | None

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}" if self.name else self.module


@dataclass
class ParamFact:
    name: str
    kind: str  # "positional", "keyword_only", "star", "star_star"
    has_default: bool


@dataclass
class FunctionFact:
    name: str
    qualname: str  # "Class.method" or "func" or "outer.<locals>.inner"
    params: list[ParamFact]
    decorators: list["CallFact | str"]
    pos: Pos
    end_line: int
    is_method: bool
    is_stub: bool  # body is only pass / ... / docstring / raise NotImplementedError
    raises_not_implemented: bool
    node: cst.FunctionDef = field(repr=False)

    def arity(self) -> tuple[int, int | None, set[str]]:
        """(required positional, max positional or None for *args, accepted keyword names)."""
        params = self.params[1:] if self.is_method else self.params
        positional = [p for p in params if p.kind == "positional"]
        required = sum(1 for p in positional if not p.has_default)
        has_star = any(p.kind == "star" for p in params)
        names = {p.name for p in params if p.kind in ("positional", "keyword_only")}
        return required, (None if has_star else len(positional)), names


@dataclass
class CallFact:
    func: str | None  # dotted callee as written ("wandb.log", "OmegaConf.merge", "x.map")
    resolved: str | None  # callee with import aliases resolved ("scipy.stats.binom_test")
    node: cst.Call = field(repr=False)
    pos: Pos
    function: str | None  # qualname of the enclosing function, None at module level
    with_contexts: tuple[str, ...]  # dotted names of enclosing `with` items (e.g. "open_dict")
    in_loop: bool
    #: the name the call's result is bound to (`proc = Popen(...)`, `with Popen(...) as proc`)
    bound_to: str | None = None

    @property
    def args(self) -> list[cst.Arg]:
        return list(self.node.args)

    def positional(self) -> list[cst.BaseExpression]:
        return [a.value for a in self.node.args if a.keyword is None and not a.star]

    def keyword(self, name: str) -> cst.BaseExpression | None:
        for a in self.node.args:
            if a.keyword is not None and a.keyword.value == name:
                return a.value
        return None

    @property
    def has_star_args(self) -> bool:
        return any(a.star for a in self.node.args)

    @property
    def method(self) -> str | None:
        return self.func.rsplit(".", 1)[-1] if self.func else None


@dataclass
class LoopFact:
    """A `for` loop: what it iterates (`proc.stdout`; for `iter(f.readline, "")` the callable
    `f.readline`) and the lines it spans."""

    iterates: str | None
    pos: Pos
    end_line: int
    function: str | None


@dataclass
class AttrChainFact:
    """A maximal attribute chain rooted at a name: `cfg.model.backbone` (also via ["key"])."""

    root: str  # "cfg" or "self.cfg"
    path: tuple[str, ...]  # ("model", "backbone")
    ctx: str  # "load", "store", "del"
    pos: Pos
    function: str | None
    with_contexts: tuple[str, ...]
    node: cst.BaseExpression = field(repr=False)
    in_fstring: bool = False
    #: the chain is the receiver of a method call (`cfg.get(...)`, `cfg.items()`): path ends before the method
    method: str | None = None


@dataclass
class SubscriptFact:
    value: str  # dotted receiver: "wandb.summary", "run.summary", "history"
    key: str  # string key
    ctx: str
    pos: Pos
    function: str | None


@dataclass
class StringFact:
    value: str
    pos: Pos
    function: str | None
    is_fstring: bool = False
    is_docstring: bool = False


@dataclass
class CommentFact:
    text: str
    pos: Pos


@dataclass(frozen=True)
class CPythonView:
    """CPython's own reading of the module: its `ast` tree and its symbol table (from
    `reviewer_audit.program.pyguard`'s pre-check, so they cost nothing more). Name resolution is
    CPython's business; rules that ask "is this name bound here?" ask the symbol table."""

    tree: ast.Module
    symbols: symtable.SymbolTable


@dataclass
class ModuleFacts:
    path: str
    module_name: str  # "src.train"
    tree: cst.Module = field(repr=False)
    lines: list[str] = field(repr=False)
    imports: list[ImportFact] = field(default_factory=list)
    functions: dict[str, FunctionFact] = field(default_factory=dict)
    classes: dict[str, Pos] = field(default_factory=dict)
    calls: list[CallFact] = field(default_factory=list)
    chains: list[AttrChainFact] = field(default_factory=list)
    subscripts: list[SubscriptFact] = field(default_factory=list)
    strings: list[StringFact] = field(default_factory=list)
    comments: list[CommentFact] = field(default_factory=list)
    loops: list[LoopFact] = field(default_factory=list)
    #: module-level names bound by assignment, def, class or import
    top_level_names: set[str] = field(default_factory=set)
    #: names bound to the config in each function: qualname -> {"cfg", ...}
    #: per function: string keys tested with `in`, `.get`, `hasattr`, `getattr`, `OmegaConf.select`
    guarded_keys: dict[str | None, set[str]] = field(default_factory=dict)
    #: id(node) -> range, for every node of `tree`, computed once; every walker of this module
    #: asks `pos_of` instead of resolving positions again
    ranges: dict[int, Range] = field(default_factory=dict, repr=False)
    #: CPython's tree and symbol table; None when only libcst could read the module
    cpython: CPythonView | None = field(default=None, repr=False)

    def pos_of(self, node: cst.CSTNode | None) -> Pos | None:
        """1-based start of any node of this module's tree (from the shared position map)."""
        rng = self.ranges.get(id(node)) if node is not None else None
        return Pos(rng[0], rng[1] + 1) if rng is not None else None

    def end_line_of(self, node: cst.CSTNode) -> int | None:
        rng = self.ranges.get(id(node))
        return rng[2] if rng is not None else None

    # ---- queries rules share

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word the module's text spells: identifiers, attributes, keyword names, the words
        of its strings (and of its comments, which only makes "no module spells it" rarer). A
        config key is read as `cfg.x`, `cfg["x"]`, `cfg.get("x")` or through a formatted name that
        spells it; a key no module spells is read by no code except through a whole node handed
        on (which the run model's `whole` reads record)."""
        return frozenset(_WORD.findall("\n".join(self.lines)))


    @cached_property
    def aliases(self) -> dict[str, str]:
        """Local name -> qualified name, from every import in the module."""
        return {imp.alias: imp.qualified for imp in self.imports}

    def resolve(self, dotted: str | None) -> str | None:
        if not dotted:
            return dotted
        head, _, rest = dotted.partition(".")
        target = self.aliases.get(head)
        if target is None:
            return dotted
        return f"{target}.{rest}" if rest else target

    def calls_to(self, *names: str) -> Iterator[CallFact]:
        """Calls whose resolved callee is one of `names` or ends with `.name` for a bare method name."""
        wanted = set(names)
        for c in self.calls:
            if c.resolved in wanted or c.func in wanted:
                yield c

    def method_calls(self, method: str) -> Iterator[CallFact]:
        for c in self.calls:
            if c.method == method:
                yield c

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def imports_module(self, prefix: str) -> bool:
        return any(i.module == prefix or i.module.startswith(prefix + ".") for i in self.imports)

    def function_at(self, line: int) -> FunctionFact | None:
        best = None
        for f in self.functions.values():
            if f.pos.line <= line <= f.end_line and (best is None or f.pos.line >= best.pos.line):
                best = f
        return best


@dataclass
class SyntaxProblem:
    path: str
    message: str
    line: int
    column: int


# --------------------------------------------------------------------------- expression helpers


def dotted_name(node: cst.BaseExpression | None) -> str | None:
    """`a.b.c` for Name/Attribute chains; `a.b().c` keeps calls as `()`; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else None
    if isinstance(node, cst.Call):
        base = dotted_name(node.func)
        return f"{base}()" if base else None
    return None


def literal_string(node: cst.BaseExpression | None) -> str | None:
    """The value of a plain (non-f) string literal, or None."""
    if isinstance(node, cst.SimpleString):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "invalid escape sequence" in audited code is not ours
                value = node.evaluated_value
        except Exception:  # noqa: BLE001 -- malformed escapes in generated code
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = literal_string(node.left), literal_string(node.right)
        return left + right if left is not None and right is not None else None
    return None


def fstring_template(node: cst.BaseExpression) -> str | None:
    """An f-string as a template with `{}` holes: f"{run_id}_curve.pdf" -> "{}_curve.pdf"."""
    if not isinstance(node, cst.FormattedString):
        return None
    out = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            out.append(part.value)
        else:
            out.append("{" + (dotted_name(part.expression) or "") + "}")
    return "".join(out)


def dict_literal_keys(node: cst.BaseExpression | None) -> list[tuple[str, cst.BaseExpression]]:
    """String keys of a dict literal (`{"loss": x}`) or `dict(loss=x)` call, with their nodes."""
    out: list[tuple[str, cst.BaseExpression]] = []
    if isinstance(node, cst.Dict):
        for el in node.elements:
            if isinstance(el, cst.DictElement):
                key = literal_string(el.key)
                if key is not None:
                    out.append((key, el.key))
    elif isinstance(node, cst.Call) and dotted_name(node.func) == "dict":
        for a in node.args:
            if a.keyword is not None:
                out.append((a.keyword.value, a.keyword))
    return out


def string_values(node: cst.BaseExpression | None) -> list[str]:
    """String literals in a list/tuple/set literal, or the one literal itself."""
    if node is None:
        return []
    single = literal_string(node)
    if single is not None:
        return [single]
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return [s for el in node.elements if (s := literal_string(el.value)) is not None]
    return []


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_CONFIG_ROOTS = ("cfg", "self.cfg", "config", "self.config", "conf", "args.cfg")


# --------------------------------------------------------------------------- the collector


class _FactCollector(Walker):
    def __init__(self, facts: ModuleFacts, config_roots: tuple[str, ...]) -> None:
        super().__init__()
        self.facts = facts
        self.config_roots = config_roots
        self.scope: list[str] = []  # qualname parts
        self.func_stack: list[str] = []
        self.with_stack: list[tuple[str, ...]] = []
        self.loop_depth = 0
        self.fstring_depth = 0
        self.chain_parents: set[int] = set()  # ids of Attribute/Subscript nodes inside a recorded chain
        self.call_funcs: dict[int, str] = {}  # id(Attribute node used as call func) -> method name
        self.store_targets: set[int] = set()  # ids of assignment targets (libcst has no ctx)
        self.docstrings: set[int] = set()  # ids of the string nodes that are docstrings
        self.bound: dict[int, str] = {}  # id(Call node) -> the name its result is bound to

    # ---- positions
    def _pos(self, node: cst.CSTNode) -> Pos:
        return self.facts.pos_of(node)

    @property
    def _function(self) -> str | None:
        return self.func_stack[-1] if self.func_stack else None

    @property
    def _withs(self) -> tuple[str, ...]:
        return tuple(w for ws in self.with_stack for w in ws)

    # ---- definitions
    def _docstring_of(self, body: cst.BaseSuite | Sequence[cst.BaseStatement]) -> None:
        """Mark the string that opens a module, class or function body as its docstring
        (rules read what a docstring says about the code differently from data strings)."""
        stmts = body if isinstance(body, Sequence) else getattr(body, "body", ())
        first = stmts[0] if stmts else None
        if isinstance(first, cst.SimpleStatementLine) and first.body and isinstance(first.body[0], cst.Expr):
            value = first.body[0].value
            if isinstance(value, cst.SimpleString):
                self.docstrings.add(id(value))
            elif isinstance(value, cst.ConcatenatedString):
                self.docstrings.update(id(n) for n in (value.left, value.right))

    def visit_Module(self, node: cst.Module) -> None:
        self._docstring_of(node.body)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._docstring_of(node.body)
        self.facts.classes[".".join([*self.scope, node.name.value])] = self._pos(node)
        if not self.scope:
            self.facts.top_level_names.add(node.name.value)
        self.scope.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scope.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._docstring_of(node.body)
        qual = ".".join([*self.scope, node.name.value])
        is_method = bool(self.scope) and self.scope[-1] in {q.rsplit(".", 1)[-1] for q in self.facts.classes} and not self.func_stack
        params: list[ParamFact] = []
        p = node.params
        for prm in (*p.posonly_params, *p.params):
            params.append(ParamFact(prm.name.value, "positional", prm.default is not None))
        if isinstance(p.star_arg, cst.Param):
            params.append(ParamFact(p.star_arg.name.value, "star", False))
        for prm in p.kwonly_params:
            params.append(ParamFact(prm.name.value, "keyword_only", prm.default is not None))
        if p.star_kwarg is not None:
            params.append(ParamFact(p.star_kwarg.name.value, "star_star", False))
        is_static = any(dotted_name(d.decorator) == "staticmethod" for d in node.decorators)
        decorators: list = []
        for d in node.decorators:
            decorators.append(dotted_name(d.decorator.func) if isinstance(d.decorator, cst.Call) else dotted_name(d.decorator))
        stub, raises = _stub_kind(node)
        end = self.facts.end_line_of(node)
        self.facts.functions[qual] = FunctionFact(
            name=node.name.value, qualname=qual, params=params, decorators=decorators, pos=self._pos(node),
            end_line=end, is_method=is_method and not is_static, is_stub=stub, raises_not_implemented=raises, node=node,
        )
        if not self.scope:
            self.facts.top_level_names.add(node.name.value)
        self.scope.append(node.name.value)
        self.func_stack.append(qual)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scope.pop()
        self.func_stack.pop()

    # ---- imports
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            module = dotted_name(alias.name) or ""
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else module.split(".")[0]
            qualified_alias = module if alias.asname else module.split(".")[0]
            self.facts.imports.append(ImportFact(module=qualified_alias if not alias.asname else module, name=None, alias=local, level=0, pos=self._pos(node), function=self._function))
            if alias.asname is None and "." in module:
                # `import a.b.c` binds `a` but also makes a.b.c importable: record the full module too
                self.facts.imports.append(ImportFact(module=module, name=None, alias=module, level=0, pos=self._pos(node), function=self._function))
            if not self.func_stack:
                self.facts.top_level_names.add(local)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted_name(node.module) if node.module is not None else ""
        level = len(node.relative)
        if isinstance(node.names, cst.ImportStar):
            self.facts.imports.append(ImportFact(module=module or "", name="*", alias="*", level=level, pos=self._pos(node), function=self._function))
            return
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            self.facts.imports.append(ImportFact(module=module or "", name=name, alias=local, level=level, pos=self._pos(alias), function=self._function))
            if not self.func_stack:
                self.facts.top_level_names.add(local)

    # ---- module-level assignments
    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call) and len(node.targets) == 1 and (name := dotted_name(node.targets[0].target)):
            self.bound[id(node.value)] = name
        if not self.func_stack and not self.scope:
            for t in node.targets:
                for n in _target_names(t.target):
                    self.facts.top_level_names.add(n)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.store_targets.add(id(node.target))
        if not self.func_stack and not self.scope:
            self.facts.top_level_names.update(_target_names(node.target))

    # ---- control flow context
    def visit_With(self, node: cst.With) -> None:
        names = []
        for item in node.items:
            if isinstance(item.item, cst.Call) and item.asname is not None and (name := dotted_name(item.asname.name)):
                self.bound[id(item.item)] = name
            expr = item.item
            names.append(dotted_name(expr.func) if isinstance(expr, cst.Call) else dotted_name(expr) or "")
        self.with_stack.append(tuple(n or "" for n in names))

    def leave_With(self, original_node: cst.With) -> None:
        self.with_stack.pop()

    def visit_For(self, node: cst.For) -> None:
        self.loop_depth += 1
        it = node.iter
        if isinstance(it, cst.Call) and dotted_name(it.func) == "iter" and it.args:
            it = it.args[0].value
        self.facts.loops.append(LoopFact(dotted_name(it), self._pos(node), self.facts.end_line_of(node) or self._pos(node).line, self._function))

    def leave_For(self, original_node: cst.For) -> None:
        self.loop_depth -= 1

    def visit_While(self, node: cst.While) -> None:
        self.loop_depth += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.loop_depth -= 1

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self.fstring_depth += 1
        template = fstring_template(node)
        if template is not None:
            self.facts.strings.append(StringFact(template, self._pos(node), self._function, is_fstring=True))

    def leave_FormattedString(self, original_node: cst.FormattedString) -> None:
        self.fstring_depth -= 1

    # ---- calls and guards
    def visit_Call(self, node: cst.Call) -> None:
        func = dotted_name(node.func)
        self.facts.calls.append(CallFact(
            func=func, resolved=self.facts.resolve(func), node=node, pos=self._pos(node),
            function=self._function, with_contexts=self._withs, in_loop=self.loop_depth > 0, bound_to=self.bound.get(id(node)),
        ))
        if isinstance(node.func, cst.Attribute):
            self.call_funcs[id(node.func)] = node.func.attr.value
        method = func.rsplit(".", 1)[-1] if func else None
        first = node.args[0].value if node.args else None
        second = node.args[1].value if len(node.args) > 1 else None
        guarded = self.facts.guarded_keys.setdefault(self._function, set())
        if method in ("get", "pop", "setdefault") and (key := literal_string(first)) is not None:
            guarded.add(key)
        elif func in ("hasattr", "getattr") and (key := literal_string(second)) is not None:
            guarded.add(key)
        elif method == "select" and (key := literal_string(second)) is not None:
            guarded.update(key.split("."))

    def visit_Comparison(self, node: cst.Comparison) -> None:
        guarded = self.facts.guarded_keys.setdefault(self._function, set())
        for target in node.comparisons:
            if isinstance(target.operator, (cst.In, cst.NotIn)) and (key := literal_string(node.left)) is not None:
                guarded.add(key)

    # ---- attribute chains and subscripts
    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._chain(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._chain(node)
        key = _subscript_key(node)
        if key is not None:
            value = dotted_name(node.value)
            if value:
                self.facts.subscripts.append(SubscriptFact(value=value, key=key, ctx=self._ctx(node), pos=self._pos(node), function=self._function))

    def _chain(self, node: cst.Attribute | cst.Subscript) -> None:
        if id(node) in self.chain_parents:
            return
        parts = _chain_parts(node)
        if parts is None:
            return
        # mark every inner node so only the maximal chain is recorded
        inner = node.value
        while isinstance(inner, (cst.Attribute, cst.Subscript)):
            self.chain_parents.add(id(inner))
            inner = inner.value
        for root in self.config_roots:
            rparts = tuple(root.split("."))
            if parts[: len(rparts)] == rparts and len(parts) > len(rparts):
                path = parts[len(rparts):]
                method = None
                if id(node) in self.call_funcs:
                    method, path = path[-1], path[:-1]
                self.facts.chains.append(AttrChainFact(
                    root=root, path=path, ctx=self._ctx(node), pos=self._pos(node), function=self._function,
                    with_contexts=self._withs, node=node, in_fstring=self.fstring_depth > 0, method=method,
                ))
                break

    def _ctx(self, node: cst.CSTNode) -> str:
        # libcst has no ctx; the assignment visitors tag store targets ahead of the walk
        return "store" if id(node) in self.store_targets else "load"

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.store_targets.add(id(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.store_targets.add(id(node.target))

    # ---- literals
    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self.fstring_depth:
            return
        value = literal_string(node)
        if value is not None:
            self.facts.strings.append(StringFact(value, self._pos(node), self._function, is_docstring=id(node) in self.docstrings))

    def visit_Comment(self, node: cst.Comment) -> None:
        self.facts.comments.append(CommentFact(node.value, self._pos(node)))


def _target_names(node: cst.BaseExpression) -> list[str]:
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [n for el in node.elements for n in _target_names(el.value)]
    return []


def _subscript_key(node: cst.Subscript) -> str | None:
    if len(node.slice) != 1:
        return None
    el = node.slice[0].slice
    return literal_string(el.value) if isinstance(el, cst.Index) else None


def _chain_parts(node: cst.BaseExpression) -> tuple[str, ...] | None:
    """`cfg.a["b"].c` -> ("cfg", "a", "b", "c"); None when the chain has a non-literal step."""
    parts: list[str] = []
    while True:
        if isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        elif isinstance(node, cst.Subscript):
            key = _subscript_key(node)
            if key is None:
                return None
            parts.append(key)
            node = node.value
        elif isinstance(node, cst.Name):
            parts.append(node.value)
            return tuple(reversed(parts))
        else:
            return None


def _stub_kind(node: cst.FunctionDef) -> tuple[bool, bool]:
    """(body is only pass/.../docstring/raise NotImplementedError, raises NotImplementedError)."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body]
    meaningful = []
    raises = False
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Pass):
                    continue
                if isinstance(small, cst.Expr) and isinstance(small.value, (cst.Ellipsis, cst.SimpleString, cst.ConcatenatedString)):
                    continue
                if isinstance(small, cst.Raise) and small.exc is not None:
                    exc = small.exc.func if isinstance(small.exc, cst.Call) else small.exc
                    if dotted_name(exc) == "NotImplementedError":
                        raises = True
                        continue
                meaningful.append(small)
        else:
            meaningful.append(stmt)
    return (not meaningful), raises


# --------------------------------------------------------------------------- entry point

_SYNTAX_LINE = re.compile(r"line (\d+)|@(\d+):(\d+)")


def module_name_for(path: str) -> str:
    """`src/train.py` -> `src.train`; `src/pkg/__init__.py` -> `src.pkg`."""
    dotted = path[:-3].replace("/", ".") if path.endswith(".py") else path.replace("/", ".")
    return dotted[: -len(".__init__")] if dotted.endswith(".__init__") else dotted


def _python_syntax_problem(path: str, text: str) -> SyntaxProblem | None:
    """CPython's own parser names the error better ("expected ':'" on the right line).

    `ast.parse` only parses; nothing is compiled to bytecode or executed.
    """
    import ast

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text, filename=path)
    except SyntaxError as exc:
        return SyntaxProblem(path, exc.msg, exc.lineno or 1, exc.offset or 1)
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


def extract_facts(path: str, text: str, config_roots: tuple[str, ...] = _CONFIG_ROOTS) -> ModuleFacts | SyntaxProblem:
    """Parse `text` once and collect its facts, or describe why it does not parse."""
    try:
        tree = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return _python_syntax_problem(path, text) or SyntaxProblem(path, exc.message.splitlines()[0] if exc.message else "invalid syntax", exc.raw_line, exc.raw_column + 1)
    except RecursionError:
        return SyntaxProblem(path, "expression nested too deeply to parse", 1, 1)
    except Exception as exc:  # noqa: BLE001 -- libcst raises a few non-syntax errors on odd input
        return SyntaxProblem(path, f"cannot parse: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", 1, 1)
    facts = ModuleFacts(path=path, module_name=module_name_for(path), tree=tree, lines=text.splitlines())
    try:
        facts.ranges = node_ranges(tree)
        _FactCollector(facts, config_roots).walk(tree)
    except RecursionError:
        return SyntaxProblem(path, "code nested too deeply to analyse", 1, 1)
    return facts
