"""Name reads Python cannot resolve, decided by CPython's own symbol table.

Why the symbol table: which scope a name belongs to (local, free, global, class body,
comprehension, `global`/`nonlocal`, walrus targets, match captures, except-as) is exactly what
CPython's `symtable` computes when it compiles a module, and the pre-check
(`reviewer_audit.program.pyguard`) builds it anyway. It costs about a millisecond per module, where
libcst's ScopeProvider took some 35 ms and still missed walrus and match bindings. Nothing is
compiled to bytecode or run.

The symbol table says *whether* a scope binds a name, not *where* the name is read, so one
walk over CPython's `ast` pairs each scope-creating node with its table (by name and line, in
order) and collects the reads. A read is unresolved when

* its scope takes the name from the module (`global`, implicit or declared) and nothing binds
  it at module level, not even a function that declares it `global` and assigns it; or
* its function or module scope binds the name only on later lines, outside any loop that
  could have run the binding first (UnboundLocalError / NameError at that read).

Reads in a `try` body that catches NameError (or Exception) are left alone, as are
annotations Python does not evaluate (local variable annotations, and all of them under
`from __future__ import annotations`).
"""
from __future__ import annotations

import ast
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Iterator

from reviewer_audit.program.bundle_index import BUILTIN_NAMES
from reviewer_audit.program.facts import CPythonView

_COMPREHENSIONS = {ast.ListComp: "listcomp", ast.SetComp: "setcomp", ast.DictComp: "dictcomp", ast.GeneratorExp: "genexpr"}
_CATCHES_NAME_ERROR = {"NameError", "Exception", "BaseException"}


@dataclass(frozen=True)
class UnresolvedRead:
    name: str
    line: int
    column: int  # 1-based, in characters
    #: "unbound": nothing binds it where Python looks; "before-assignment": bound in this very
    #: scope, but only after the read
    kind: str
    #: for "before-assignment": the first line binding it; for "unbound": where it *is* bound,
    #: e.g. "the local scope of `f`", or None when it is bound nowhere in the module
    detail: int | str | None
    module_level: bool  # the read runs in module-level code (NameError, not UnboundLocalError)


def unresolved_reads(view: CPythonView, lines: list[str]) -> list[UnresolvedRead]:
    """Every unresolved name read of the module, in source order, one per (name, line)."""
    walk = _Walk(view)
    try:
        walk.body(view.tree.body, view.symbols)
    except RecursionError:  # deeper than the pre-check's nesting limit lets through: no verdict
        return []
    out: dict[tuple[str, int], UnresolvedRead] = {}
    for read in walk.judge():
        out.setdefault((read.name, read.line), _with_char_column(read, lines))
    return sorted(out.values(), key=lambda r: (r.line, r.column))


def _with_char_column(read: UnresolvedRead, lines: list[str]) -> UnresolvedRead:
    """ast columns count UTF-8 bytes; findings count characters."""
    text = lines[read.line - 1] if 0 < read.line <= len(lines) else ""
    column = len(text.encode("utf-8", "surrogatepass")[: read.column - 1].decode("utf-8", "ignore")) + 1
    return UnresolvedRead(read.name, read.line, column, read.kind, read.detail, read.module_level)


@dataclass
class _Read:
    node: ast.Name
    table: object  # symtable.SymbolTable
    in_loop: bool
    guarded: bool  # inside a try body that catches NameError


class _Walk:
    def __init__(self, view: CPythonView) -> None:
        self.module = view.symbols
        self.future_annotations = any(
            isinstance(s, ast.ImportFrom) and s.module == "__future__" and any(a.name == "annotations" for a in s.names)
            for s in view.tree.body
        )
        self.reads: list[_Read] = []
        self.bind_lines: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))  # id(table) -> name -> lines
        self.children: dict[int, dict[tuple[str, int], deque]] = {}
        self.loop = 0
        self.guard = 0

    # ---- scopes

    def _child(self, table, name: str, line: int):
        index = self.children.get(id(table))
        if index is None:
            index = self.children[id(table)] = defaultdict(deque)
            for child in table.get_children():
                index[(child.get_name(), child.get_lineno())].append(child)
        found = index.get((name, line))
        return found.popleft() if found else None

    def _in_scope(self, table, nodes, *, fresh: bool) -> None:
        """Walk `nodes` in `table`; a function body starts outside any loop or guard."""
        saved = (self.loop, self.guard)
        if fresh:
            self.loop = self.guard = 0
        for n in nodes:
            self.visit(n, table)
        self.loop, self.guard = saved

    def body(self, statements, table) -> None:
        for s in statements:
            self.visit(s, table)

    # ---- the walk

    def visit(self, node: ast.AST, table) -> None:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is not None:
            method(node, table)
            return
        comprehension = _COMPREHENSIONS.get(type(node))
        if comprehension is not None:
            self._comprehension(node, table, comprehension)
            return
        for child in ast.iter_child_nodes(node):
            self.visit(child, table)

    def visit_Name(self, node: ast.Name, table) -> None:
        if isinstance(node.ctx, ast.Load):
            self.reads.append(_Read(node, table, self.loop > 0, self.guard > 0))
        else:
            self.bind_lines[id(table)][node.id].append(node.lineno)

    def _annotation(self, node: ast.expr | None, table) -> None:
        if node is not None and not self.future_annotations:
            self.visit(node, table)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, table, name: str) -> None:
        args = node.args
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.visit(default, table)
        if not isinstance(node, ast.Lambda):
            for d in node.decorator_list:
                self.visit(d, table)
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if a is not None:
                    self._annotation(a.annotation, table)
            self._annotation(node.returns, table)
            self.bind_lines[id(table)][name].append(node.lineno)
        inner = self._child(table, name, node.lineno)
        if inner is not None:
            self._in_scope(inner, node.body if isinstance(node.body, list) else [node.body], fresh=True)

    def visit_FunctionDef(self, node, table) -> None:
        self._function(node, table, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node, table) -> None:
        self._function(node, table, "lambda")

    def visit_ClassDef(self, node: ast.ClassDef, table) -> None:
        for n in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(n, table)
        self.bind_lines[id(table)][node.name].append(node.lineno)
        inner = self._child(table, node.name, node.lineno)
        if inner is not None:
            self._in_scope(inner, node.body, fresh=False)  # a class body runs where it stands

    def _comprehension(self, node, table, name: str) -> None:
        first, *rest = node.generators
        self.visit(first.iter, table)  # evaluated in the enclosing scope
        inner = self._child(table, name, node.lineno)
        if inner is None:
            return
        parts: list[ast.AST] = [first.target, *first.ifs]
        for g in rest:
            parts += [g.target, g.iter, *g.ifs]
        parts += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        self._in_scope(inner, parts, fresh=False)

    def visit_AnnAssign(self, node: ast.AnnAssign, table) -> None:
        self.visit(node.target, table)
        if node.value is not None:
            self.visit(node.value, table)
        if table.get_type() != "function":  # local variable annotations are never evaluated
            self._annotation(node.annotation, table)

    def _loop(self, node, table) -> None:
        self.loop += 1
        for child in ast.iter_child_nodes(node):
            self.visit(child, table)
        self.loop -= 1

    visit_For = visit_AsyncFor = visit_While = _loop

    def visit_Try(self, node, table) -> None:
        caught = set()
        for h in node.handlers:
            types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
            caught |= {"Exception" if t is None else _last_name(t) for t in types}
        guarded = bool(caught & _CATCHES_NAME_ERROR)
        self.guard += guarded
        self.body(node.body, table)
        self.guard -= guarded
        for part in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(part, table)

    visit_TryStar = visit_Try

    def visit_ExceptHandler(self, node: ast.ExceptHandler, table) -> None:
        if node.name:
            self.bind_lines[id(table)][node.name].append(node.lineno)
        for child in ast.iter_child_nodes(node):
            self.visit(child, table)

    def _import(self, node: ast.Import | ast.ImportFrom, table) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            self.bind_lines[id(table)][bound].append(node.lineno)

    visit_Import = visit_ImportFrom = _import

    # ---- judgement

    def judge(self) -> Iterator[UnresolvedRead]:
        module_bound, bound_in = self._bindings()
        for read in self.reads:
            name, node, table = read.node.id, read.node, read.table
            if name in BUILTIN_NAMES or (name.startswith("__") and name.endswith("__")) or read.guarded:
                continue
            try:
                sym = table.lookup(name)
            except KeyError:
                continue
            kind = table.get_type()
            module_level = kind == "module"
            if sym.is_free() or (kind == "class" and sym.is_local()):
                continue
            if sym.is_local() and (module_level or (kind == "function" and not _is_expression_scope(table))):
                if read.in_loop or (kind == "function" and sym.is_parameter()):
                    continue
                lines = self.bind_lines[id(table)].get(name, [])
                if lines and min(lines) > node.lineno:
                    yield UnresolvedRead(name, node.lineno, node.col_offset + 1, "before-assignment", min(lines), module_level)
                continue
            if sym.is_local() or name in module_bound:
                continue
            yield UnresolvedRead(name, node.lineno, node.col_offset + 1, "unbound", bound_in.get(name), module_level)

    def _bindings(self) -> tuple[set[str], dict[str, str]]:
        """Names bound at module level (also by functions declaring them `global`), and for
        every other bound name, one scope binding it, described for a message."""
        module_bound = {s.get_name() for s in self.module.get_symbols() if s.is_local()}
        bound_in: dict[str, str] = {}
        stack = list(self.module.get_children())
        while stack:
            t = stack.pop(0)
            stack.extend(t.get_children())
            for s in t.get_symbols():
                if s.is_declared_global() and s.is_assigned():
                    module_bound.add(s.get_name())
                elif s.is_local():
                    bound_in.setdefault(s.get_name(), _describe(t))
        return module_bound, bound_in


def _is_expression_scope(table) -> bool:
    """Comprehensions and lambdas: their bindings are loop targets and parameters."""
    return table.get_name() in _COMPREHENSIONS.values() or table.get_name() == "lambda"


def _describe(table) -> str:
    name = table.get_name()
    if table.get_type() == "class":
        return f"the body of class `{name}`"
    if name in _COMPREHENSIONS.values():
        return "a comprehension"
    if name == "lambda":
        return "a lambda"
    return f"the local scope of `{name}`"


def _last_name(node: ast.expr) -> str:
    """`NameError` -> "NameError", `builtins.NameError` -> "NameError"."""
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""
