"""The public API of one release of a distribution, read statically from its source files.

Used by `scripts/build_api_index.py` (and by the test that rebuilds one library): given the
`.py`/`.pyi` files of a wheel or sdist, or of the standard library's typeshed stubs, it returns a
JSON-ready *snapshot*: every module with the names it binds, its classes (bases, members,
constructor signature) and the signatures of its functions. Nothing is imported or run: each
file goes through `ast.parse` and no further, so the snapshot describes what `import x; x.y`
finds at run time only as far as the source says it statically.

Why each rule of reading is as it is:

* **Namespaces are unions.** Code under `if`/`try` (`if is_torch_available():`, `try: import
  x except ImportError:`, `if sys.version_info >= ...`) binds its names in some installs and not
  in others; a name any branch binds counts as present, so a missing name is claimed only when
  no branch binds it. Standard-library stubs are the exception: their `sys.version_info`
  tests are evaluated for the one Python the snapshot is for.
* **`TYPE_CHECKING` blocks** never run, so they are skipped -- except in a module that replaces
  itself with a lazy module (`sys.modules[__name__] = _LazyModule(...)`, as transformers does),
  where that block is the list of what the lazy module serves, together with the literal
  `_import_structure` table and `define_import_structure(path)` (the `__all__` of the modules
  under that folder).
* **Open namespaces.** A star import that cannot be followed (another distribution, a compiled
  module without a stub), `globals()` written with a computed key, or a module `__getattr__`
  that may return anything make a module *open*: its names are listed, but absence proves
  nothing. A `__getattr__` whose every `return` sits under `if name == "x"` / `if name in C`
  (C a literal) adds those names and keeps the module closed (numpy, scipy, torch serve their
  lazy submodules and deprecations so). A stub (`.pyi`) beside an open `.py` closes it: stubs
  list the runtime namespace.
* **Signatures** are kept only where the call binds as the `def` says: decorators that change
  what a call accepts (transformers' `deprecate_kwarg`, any decorator not known to preserve the
  signature) leave the signature unknown, and an unknown signature is never judged.
* **Registries declared in code**: timm's `@register_model` functions and
  `register_model_deprecations` tables; each transformers architecture's `model_type`, the
  submodule names its modeling file assigns (`self.q_proj = nn.Linear(...)`, what LoRA's
  `target_modules` match) and the checkpoint ids its files name (`_CHECKPOINT_FOR_DOC`).
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["extract", "module_name_of"]

#: Decorators after which a call binds exactly as the decorated `def` says (matched on the
#: decorator's last dotted component). Anything else leaves the signature unknown.
PRESERVING = frozenset({
    "abstractmethod", "final", "override", "overload", "contextmanager", "asynccontextmanager",
    "lru_cache", "cache", "no_grad", "inference_mode", "enable_grad", "unused", "ignore", "export",
    "deprecated", "validate_params", "_fit_context", "set_module", "array_function_dispatch",
    "copy_docstring", "doc", "dataclass_transform", "runtime_checkable", "total_ordering",
})
#: Class decorators that add no members a rule would look up and keep `__init__` readable.
CLASS_DECORATORS = frozenset({
    "dataclass", "total_ordering", "final", "runtime_checkable", "dataclass_transform", "unique",
    "set_module", "deprecated", "export", "compatibility",
})
PROPERTY = frozenset({"property", "cached_property", "abstractproperty", "setter", "getter", "deleter", "lazy_property"})
#: Bases outside the distribution that add no attributes a rule would look up on the class.
TRANSPARENT_BASES = frozenset({
    "b:object", "x:abc.ABC", "x:typing.Generic", "x:typing.Protocol", "x:typing_extensions.Protocol",
    "x:typing_extensions.Generic", "b:Generic", "b:ABC",
})
_TYPE_CHECKING = ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def module_name_of(path: str) -> tuple[str, bool] | None:
    """`pkg/sub/mod.py` -> ("pkg.sub.mod", False); `pkg/__init__.pyi` -> ("pkg", True);
    a compiled module `pkg/_core.cpython-311-darwin.so` -> ("pkg._core", False)."""
    if path.endswith((".so", ".pyd")):
        head, _, leaf = path.rpartition("/")
        path = (head + "/" if head else "") + leaf.split(".", 1)[0] + ".so"
    elif not path.endswith((".py", ".pyi")):
        return None
    parts = path[: path.rindex(".")].split("/")
    if any(not p.isidentifier() for p in parts):
        return None
    if parts[-1] == "__init__":
        return (".".join(parts[:-1]), True) if len(parts) > 1 else None
    return ".".join(parts), False


# ----------------------------------------------------------------------------------- signatures


def signature_of(args: ast.arguments, drop_first: bool = False) -> str:
    """Compact text of a parameter list: `a,b=,/,c,*args,d=,**kw` (`=` marks a default)."""
    out: list[str] = []
    pos = list(args.posonlyargs) + list(args.args)
    ndef = len(args.defaults)
    first_default = len(pos) - ndef
    for i, a in enumerate(pos):
        out.append(a.arg + ("=" if i >= first_default else ""))
        if args.posonlyargs and i == len(args.posonlyargs) - 1:
            out.append("/")
    if drop_first and out:
        out.pop(0)
        if out and out[0] == "/":
            out.pop(0)
    if args.vararg is not None:
        out.append("*" + args.vararg.arg)
    elif args.kwonlyargs:
        out.append("*")
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append(a.arg + ("=" if d is not None else ""))
    if args.kwarg is not None:
        out.append("**" + args.kwarg.arg)
    return ",".join(out)


def dotted(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Subscript):
        target = target.value
    return dotted(target) or "?"


def _literal_strings(node: ast.AST | None) -> list[str] | None:
    """The strings of a literal list/tuple/set (or dict keys); None when not literal."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        elts = node.elts
    elif isinstance(node, ast.Dict):
        elts = [k for k in node.keys if k is not None]
    elif isinstance(node, ast.Call) and dotted(node.func) in ("set", "frozenset", "list", "tuple", "sorted") and len(node.args) == 1:
        return _literal_strings(node.args[0])
    else:
        return None
    out = []
    for e in elts:
        if isinstance(e, ast.Constant) and isinstance(e.value, str):
            out.append(e.value)
        else:
            return None
    return out


# ----------------------------------------------------------------------------------- per module


@dataclass
class ClassInfo:
    name: str  # local qualname ("Outer.Inner")
    bases: list[str]  # dotted expressions as written
    keywords: dict[str, str]  # metaclass=...
    members: dict[str, str] = field(default_factory=dict)  # name -> "f" | "s" | "k" | "p" | "v" | "c:<local>"
    sigs: dict[str, object] = field(default_factory=dict)  # method -> sig text | [overloads] | None (unknown)
    dataclass: bool = False
    fields: list[tuple[str, bool, bool]] = field(default_factory=list)  # (name, has_default, kw_only)
    has_new: bool = False
    decorated: bool = False  # by a decorator that may add members or change __init__
    open_by_setattr: bool = False  # the module sets attributes with computed names on it


@dataclass
class ModInfo:
    name: str
    is_pkg: bool
    stub: bool
    bindings: dict[str, tuple] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)
    all: list[str] | None = None
    all_dynamic: bool = False
    open_reasons: list[str] = field(default_factory=list)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    sigs: dict[str, object] = field(default_factory=dict)
    lazy: bool = False
    lazy_names: dict[str, tuple] = field(default_factory=dict)  # name -> binding
    lazy_dirs: list[str] = field(default_factory=list)  # define_import_structure folders (module names)
    dir_loops: list[str] = field(default_factory=list)  # `for n in dir(X): globals()[n] = ...`
    #: self.X = Callee(...) in modeling code: X -> callee names (for the architecture table)
    self_names: dict[str, set[str]] = field(default_factory=dict)
    register_model: list[str] = field(default_factory=list)
    deprecated_models: list[str] = field(default_factory=list)
    model_type: list[str] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    uses_auto: bool = False
    #: `setattr(mod, "X", v)` / `mod.X = v` at module level, `mod` an imported module: (dotted, name)
    injections: list[tuple[str, str | None]] = field(default_factory=list)
    #: modules its imports load (a package's imported submodules become its attributes)
    imported: set[str] = field(default_factory=set)


class _VersionEval:
    """Tri-state evaluation of `sys.version_info` / `sys.platform` tests for one Python."""

    def __init__(self, pyver: tuple[int, int] | None) -> None:
        self.pyver = pyver

    def __call__(self, test: ast.expr) -> bool | None:
        if self.pyver is None:
            return None
        if isinstance(test, ast.BoolOp):
            vals = [self(v) for v in test.values]
            if isinstance(test.op, ast.And):
                return False if False in vals else (None if None in vals else True)
            return True if True in vals else (None if None in vals else False)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            v = self(test.operand)
            return None if v is None else not v
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and dotted(test.left) == "sys.version_info":
            right = test.comparators[0]
            if isinstance(right, ast.Tuple) and all(isinstance(e, ast.Constant) and isinstance(e.value, int) for e in right.elts):
                want = tuple(e.value for e in right.elts)
                have = self.pyver[: len(want)] if len(want) <= 2 else self.pyver + (0,) * (len(want) - 2)
                op = test.ops[0]
                table = {ast.GtE: have >= want, ast.Lt: have < want, ast.Gt: have > want, ast.LtE: have <= want,
                         ast.Eq: have == want, ast.NotEq: have != want}
                return table.get(type(op))
        return None


class _ModuleReader:
    """Reads one module's statements into a ModInfo."""

    def __init__(self, info: ModInfo, pyver: tuple[int, int] | None) -> None:
        self.info = info
        self.eval = _VersionEval(pyver)
        #: names bound to the module's own namespace (`g = globals()`, `m = sys.modules[__name__]`)
        self.self_aliases: set[str] = set()
        self.lazy_table: dict[str, list[str]] = {}
        self.lazy_table_name: str | None = None

    # -- helpers
    def _abs(self, module: str | None, level: int) -> str:
        if not level:
            return module or ""
        base = self.info.name.split(".")
        if not self.info.is_pkg:
            base = base[:-1]
        if level > 1:
            base = base[: len(base) - (level - 1)]
        return ".".join(base + ([module] if module else []))

    def bind(self, name: str, binding: tuple) -> None:
        b = self.info.bindings
        old = b.get(name)
        if old is None or binding[0] in ("def", "class") or old[0] == "value":
            b[name] = binding

    # -- statements
    def read(self, body: list[ast.stmt], type_checking: bool = False) -> None:
        for stmt in body:
            self.stmt(stmt, type_checking)

    def stmt(self, s: ast.stmt, tc: bool) -> None:
        info = self.info
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if s.name == "__getattr__":
                self._module_getattr(s)
                return
            sig = _function_sig(s, method=False)
            self.bind(s.name, ("def",))
            _merge_sig(info.sigs, s.name, sig, s)
            if any(_decorator_name(d).rsplit(".", 1)[-1] == "register_model" for d in s.decorator_list):
                info.register_model.append(s.name)
        elif isinstance(s, ast.ClassDef):
            self.bind(s.name, ("class",))
            self._class(s, s.name)
        elif isinstance(s, ast.Import):
            for a in s.names:
                info.imported.add(a.name)
                if a.asname:
                    self.bind(a.asname, ("import", a.name, None))
                else:
                    head = a.name.split(".")[0]
                    self.bind(head, ("import", head, None))
        elif isinstance(s, ast.ImportFrom):
            mod = self._abs(s.module, s.level)
            info.imported.add(mod)
            for a in s.names:
                info.imported.add(f"{mod}.{a.name}")
                if a.name == "*":
                    info.stars.append(mod)
                else:
                    self.bind(a.asname or a.name, ("import", mod, a.name))
        elif isinstance(s, ast.If):
            if dotted(s.test) in _TYPE_CHECKING:
                if tc or info.stub:
                    self.read(s.body, tc)
                else:
                    self._type_checking(s.body)
                self.read(s.orelse, tc)
                return
            verdict = self.eval(s.test)
            if verdict is not False:
                self.read(s.body, tc)
            if verdict is not True:
                self.read(s.orelse, tc)
        elif isinstance(s, ast.Try) or (hasattr(ast, "TryStar") and isinstance(s, getattr(ast, "TryStar"))):
            self.read(s.body, tc)
            for h in s.handlers:
                self.read(h.body, tc)
            self.read(s.orelse, tc)
            self.read(s.finalbody, tc)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                if item.optional_vars is not None:
                    for n in _target_names(item.optional_vars):
                        self.bind(n, ("value",))
            self.read(s.body, tc)
        elif isinstance(s, (ast.For, ast.AsyncFor, ast.While)):
            if isinstance(s, (ast.For, ast.AsyncFor)):
                self._dir_loop(s)
                for n in _target_names(s.target):
                    self.bind(n, ("value",))
            self._globals_writes(s)
            self.read(s.body, tc)
            self.read(s.orelse, tc)
        elif isinstance(s, ast.Assign):
            self._assign(s.targets, s.value)
        elif isinstance(s, ast.AnnAssign):
            if s.value is not None or info.stub:
                self._assign([s.target], s.value)
        elif isinstance(s, ast.AugAssign):
            if isinstance(s.target, ast.Name) and s.target.id == "__all__":
                extra = _literal_strings(s.value)
                if extra is None and isinstance(s.value, ast.Attribute) and s.value.attr == "__all__":
                    info.all_dynamic = True
                elif extra is None:
                    info.all_dynamic = True
                elif info.all is not None:
                    info.all.extend(extra)
        elif isinstance(s, ast.Expr):
            self._expr_stmt(s.value)
        elif isinstance(s, ast.Delete):
            for t in s.targets:
                if isinstance(t, ast.Name) and t.id in info.bindings and info.bindings[t.id][0] in ("import", "value"):
                    # unconditional module-level `del` of a helper; a def/class kept (re-bound elsewhere)
                    if self._top_level(s):
                        info.bindings.pop(t.id, None)
        elif isinstance(s, ast.Global):
            pass
        elif hasattr(ast, "TypeAlias") and isinstance(s, getattr(ast, "TypeAlias")):
            self.bind(s.name.id, ("value",))
        elif hasattr(ast, "Match") and isinstance(s, getattr(ast, "Match")):
            for case in s.cases:
                self.read(case.body, tc)

    def _top_level(self, s: ast.stmt) -> bool:
        return s in getattr(self, "_toplevel", ())

    def _type_checking(self, body: list[ast.stmt]) -> None:
        """A `TYPE_CHECKING` block of a runtime module: kept aside; used if the module is lazy."""
        saved = (dict(self.info.bindings), list(self.info.stars))
        self.read(body, True)
        new_bindings = {k: v for k, v in self.info.bindings.items() if k not in saved[0] or saved[0][k] != v}
        new_stars = self.info.stars[len(saved[1]):]
        self.info.bindings = saved[0]
        self.info.stars = saved[1]
        self.tc_bindings = getattr(self, "tc_bindings", {})
        self.tc_bindings.update(new_bindings)
        self.tc_stars = getattr(self, "tc_stars", []) + new_stars

    def _assign(self, targets: list[ast.expr], value: ast.expr | None) -> None:
        info = self.info
        if _is_self_namespace(value):
            self.self_aliases.update(n.id for n in targets if isinstance(n, ast.Name))
        for t in targets:
            if isinstance(t, ast.Name):
                name = t.id
                if name == "__all__":
                    names = _literal_strings(value)
                    if names is None:
                        info.all_dynamic = True
                    else:
                        info.all = list(names)
                    continue
                if name == "_import_structure" or (self.lazy_table_name and name == self.lazy_table_name):
                    if isinstance(value, ast.Dict):
                        self._lazy_dict(value)
                        self.lazy_table_name = name
                if name == "model_type" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    info.model_type.append(value.value)
                if name == "_CHECKPOINT_FOR_DOC" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    info.checkpoints.append(value.value)
                if name.endswith("PRETRAINED_CONFIG_ARCHIVE_MAP") and isinstance(value, ast.Dict):
                    info.checkpoints.extend(_literal_strings(value) or [])
                d = dotted(value) if value is not None else None
                if d is not None and d != name:
                    self.bind(name, ("alias", d))
                else:
                    self.bind(name, ("value",))
            elif isinstance(t, (ast.Tuple, ast.List)):
                for n in _target_names(t):
                    self.bind(n, ("value",))
            elif isinstance(t, ast.Attribute) and dotted(t.value):
                info.injections.append((dotted(t.value), t.attr))
            elif isinstance(t, ast.Subscript):
                base = dotted(t.value)
                key = t.slice
                if base == self.lazy_table_name or base == "_import_structure":
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        names = _literal_strings(value)
                        if names is not None:
                            self.lazy_table.setdefault(key.value, []).extend(names)
                elif (isinstance(t.value, ast.Call) and dotted(t.value.func) in ("globals", "locals", "vars")) or base in self.self_aliases:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        self.bind(key.value, ("value",))
                    elif not _private_key(key):
                        info.open_reasons.append("globals() written with a computed key")
                elif base == "sys.modules":
                    if isinstance(value, ast.Call) and (dotted(value.func) or "").endswith("LazyModule"):
                        self._lazy_module(value)
                    elif not (isinstance(key, ast.Constant)):
                        info.open_reasons.append("replaces itself in sys.modules")

    def _expr_stmt(self, value: ast.expr) -> None:
        info = self.info
        if not isinstance(value, ast.Call):
            return
        f = dotted(value.func) or ""
        if f in ("__all__.extend", "__all__.append", "__all__.__iadd__"):
            if info.all is None:
                info.all = []
            if f.endswith("append") and value.args and isinstance(value.args[0], ast.Constant) and isinstance(value.args[0].value, str):
                info.all.append(value.args[0].value)
            elif f.endswith("extend") and value.args and (names := _literal_strings(value.args[0])) is not None:
                info.all.extend(names)
            else:
                info.all_dynamic = True
        elif self.lazy_table_name and f.startswith(self.lazy_table_name + "[") is False and isinstance(value.func, ast.Attribute) \
                and isinstance(value.func.value, ast.Subscript) and dotted(value.func.value.value) in (self.lazy_table_name, "_import_structure"):
            key = value.func.value.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and value.func.attr in ("extend", "append", "update", "add"):
                arg = value.args[0] if value.args else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    self.lazy_table.setdefault(key.value, []).append(arg.value)
                elif (names := _literal_strings(arg)) is not None:
                    self.lazy_table.setdefault(key.value, []).extend(names)
        elif f == "globals().update" or (isinstance(value.func, ast.Attribute) and isinstance(value.func.value, ast.Call)
                                           and dotted(value.func.value.func) == "globals" and value.func.attr == "update"):
            info.open_reasons.append("globals().update(...)")
        elif f.rsplit(".", 1)[-1] == "register_model_deprecations" and len(value.args) >= 2:
            info.deprecated_models.extend(_literal_strings(value.args[1]) or [])
        elif f == "setattr" and len(value.args) >= 2 and dotted(value.args[0]):
            key = value.args[1]
            target = dotted(value.args[0])
            literal = isinstance(key, ast.Constant) and isinstance(key.value, str)
            if target in self.self_aliases:
                if literal:
                    self.bind(key.value, ("value",))
                else:
                    info.open_reasons.append("setattr on itself with a computed name")
            else:
                info.injections.append((target, key.value if literal else None))

    def _lazy_dict(self, node: ast.Dict) -> None:
        for k, v in zip(node.keys, node.values):
            if isinstance(k, ast.Constant) and isinstance(k.value, str):
                self.lazy_table.setdefault(k.value, []).extend(_literal_strings(v) or [])

    def _lazy_module(self, call: ast.Call) -> None:
        info = self.info
        info.lazy = True
        args = list(call.args) + [kw.value for kw in call.keywords if kw.arg in ("import_structure",)]
        for a in args[2:3] + [kw.value for kw in call.keywords if kw.arg == "import_structure"]:
            if isinstance(a, ast.Call) and (dotted(a.func) or "").endswith("define_import_structure"):
                info.lazy_dirs.append(_folder_of(a, info))
            elif isinstance(a, ast.Dict):
                self._lazy_dict(a)
        for kw in call.keywords:
            if kw.arg == "extra_objects":
                for n in _literal_strings(kw.value) or []:
                    info.lazy_names[n] = ("value",)

    def _dir_loop(self, s: ast.For | ast.AsyncFor) -> None:
        """`for n in dir(X): ... globals()[n] = getattr(X, n)` re-exports X's names."""
        it = s.iter
        if isinstance(it, ast.Call) and dotted(it.func) == "dir" and len(it.args) == 1 and isinstance(s.target, ast.Name):
            src = dotted(it.args[0])
            var = s.target.id
            for node in ast.walk(s):
                if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Call) \
                        and dotted(node.value.func) == "globals" and isinstance(node.slice, ast.Name) and node.slice.id == var:
                    node.slice = ast.Constant("_dir_loop_")  # handled: not a computed write
                    if src:
                        self.info.dir_loops.append(src)

    def _globals_writes(self, s: ast.stmt) -> None:
        # `for ta in ["float96", ...]: globals()[ta] = ...` binds those literal names
        loop_names: dict[str, list[str]] = {}
        for node in ast.walk(s):
            if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and (lit := _literal_strings(node.iter)) is not None:
                loop_names[node.target.id] = lit
        for node in ast.walk(s):
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and isinstance(node.slice, ast.Name) \
                    and node.slice.id in loop_names and (_is_self_namespace(node.value) or dotted(node.value) in self.self_aliases):
                for n in loop_names[node.slice.id]:
                    self.bind(n, ("value",))
                node.slice = ast.Constant("_dir_loop_")
        for node in ast.walk(s):
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and (
                    _is_self_namespace(node.value) or dotted(node.value) in self.self_aliases):
                key = node.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    if key.value != "_dir_loop_":
                        self.bind(key.value, ("value",))
                elif not _private_key(key) and not _private_name(s, key):
                    self.info.open_reasons.append("globals() written in a loop")

    def _module_getattr(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """A module `__getattr__`: closed (with the names it serves) if every return is guarded
        by a literal test of the name; open otherwise."""
        param = fn.args.args[0].arg if fn.args.args else None
        names: set[str] = set()
        ok = param is not None
        consts = self._module_literals()

        def guarded_names(test: ast.expr) -> list[str] | None:
            if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and test.left.id == param:
                right = test.comparators[0]
                if isinstance(test.ops[0], ast.Eq) and isinstance(right, ast.Constant) and isinstance(right.value, str):
                    return [right.value]
                if isinstance(test.ops[0], ast.In):
                    lit = _literal_strings(right)
                    if lit is None and isinstance(right, ast.Name):
                        lit = consts.get(right.id)
                    return lit
            if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
                out: list[str] = []
                for v in test.values:
                    g = guarded_names(v)
                    if g is None:
                        return None
                    out.extend(g)
                return out
            if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
                for v in test.values:
                    g = guarded_names(v)
                    if g is not None:
                        return g
            return None

        get_vars: dict[str, list[str]] = {}

        def walk(body: list[ast.stmt], guard: list[str] | None) -> None:
            nonlocal ok
            for st in body:
                if isinstance(st, ast.Return):
                    v = st.value
                    if guard is not None:
                        names.update(guard)
                    elif isinstance(v, ast.Subscript) and isinstance(v.value, ast.Call) and dotted(v.value.func) == "globals":
                        pass  # returns an existing global
                    else:
                        ok = False
                elif isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) \
                        and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) and st.value.func.attr == "get" \
                        and isinstance(st.value.func.value, ast.Name) and st.value.args and isinstance(st.value.args[0], ast.Name) \
                        and st.value.args[0].id == param and st.value.func.value.id in consts:
                    get_vars[st.targets[0].id] = consts[st.value.func.value.id]
                elif isinstance(st, ast.If):
                    g = guarded_names(st.test)
                    if g is None and isinstance(st.test, ast.Compare) and isinstance(st.test.left, ast.Name) and st.test.left.id in get_vars:
                        g = get_vars[st.test.left.id]
                    walk(st.body, g if g is not None else guard)
                    walk(st.orelse, guard)
                elif isinstance(st, (ast.Try,)):
                    walk(st.body, guard)
                    for h in st.handlers:
                        walk(h.body, guard)
                    walk(st.orelse, guard)
                    walk(st.finalbody, guard)
                elif isinstance(st, (ast.With, ast.For, ast.While)):
                    walk(st.body, guard)
                elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    pass

        walk(fn.body, None)
        if self.info.stub or not any(isinstance(n, ast.Raise) for n in ast.walk(fn)):
            ok = False  # a stub's __getattr__ (or one that never raises) serves any name
        if ok:
            for n in names:
                self.info.lazy_names.setdefault(n, ("value",))
            self.info.getattr_names = names  # type: ignore[attr-defined]
        else:
            self.info.open_reasons.append("module __getattr__")

    def _module_literals(self) -> dict[str, list[str]]:
        """Module-level names bound to literal collections of strings (for `name in X` guards)."""
        return getattr(self, "literals", {})

    # -- classes
    def _class(self, node: ast.ClassDef, qual: str) -> None:
        info = self.info
        ci = ClassInfo(
            name=qual,
            bases=[dotted(b.value if isinstance(b, ast.Subscript) else b) or "?" for b in node.bases],
            keywords={kw.arg: (dotted(kw.value) or "?") for kw in node.keywords if kw.arg},
        )
        deco = [_decorator_name(d).rsplit(".", 1)[-1] for d in node.decorator_list]
        ci.dataclass = "dataclass" in deco
        # a class decorator may add members and change the constructor (huggingface_hub's
        # `@strict` adds `validate`): such a class is open
        ci.decorated = any(d not in CLASS_DECORATORS and "docstring" not in d.lower() for d in deco)
        kw_only_all = False
        for d in node.decorator_list:
            if isinstance(d, ast.Call) and _decorator_name(d).rsplit(".", 1)[-1] == "dataclass":
                for kw in d.keywords:
                    if kw.arg == "kw_only" and isinstance(kw.value, ast.Constant) and kw.value.value is True:
                        kw_only_all = True
                    if kw.arg == "init" and isinstance(kw.value, ast.Constant) and kw.value.value is False:
                        ci.dataclass = False
        info.classes[qual] = ci
        kw_only = kw_only_all
        self._class_body(node.body, ci, qual, kw_only)

    def _class_body(self, body: list[ast.stmt], ci: ClassInfo, qual: str, kw_only: bool) -> None:
        for s in body:
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [_decorator_name(d).rsplit(".", 1)[-1] for d in s.decorator_list]
                if any(n in PROPERTY for n in names):
                    ci.members[s.name] = "p"
                else:
                    kind = "s" if "staticmethod" in names else "k" if "classmethod" in names else "f"
                    if ci.members.get(s.name) in (None, "f", "s", "k"):
                        ci.members[s.name] = kind
                    _merge_sig(ci.sigs, s.name, _function_sig(s, method=True), s)
                if s.name == "__new__":
                    ci.has_new = True
                if s.args.args and self.info.name.startswith("transformers.models."):
                    # submodule names for the architecture table (instance attributes are not
                    # attributes of the class object, so they are not members)
                    me = s.args.args[0].arg
                    for n in ast.walk(s):
                        if isinstance(n, ast.Assign):
                            for t in n.targets:
                                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me:
                                    self.info.self_names.setdefault(t.attr, set()).add(_callee_kind(n.value))
                        elif isinstance(n, ast.Call) and dotted(n.func) in ("setattr",) and n.args and isinstance(n.args[0], ast.Name) \
                                and n.args[0].id == me:
                            if len(n.args) > 2 and isinstance(n.args[1], ast.Constant) and isinstance(n.args[1].value, str):
                                self.info.self_names.setdefault(n.args[1].value, set()).add(_callee_kind(n.args[2]))
                        elif isinstance(n, ast.Attribute) and n.attr in ("from_config", "from_pretrained") and dotted(n.value) in (
                                "AutoModel", "AutoModelForCausalLM", "AutoBackbone", "AutoModelForSeq2SeqLM", "AutoModelForImageClassification"):
                            self.info.uses_auto = True
            elif isinstance(s, ast.ClassDef):
                inner = f"{qual}.{s.name}"
                ci.members[s.name] = "c:" + inner
                self._class(s, inner)
            elif isinstance(s, ast.Assign):
                for t in s.targets:
                    for n in _target_names(t):
                        ci.members.setdefault(n, "v")
                        if n == "__slots__":
                            for slot in _literal_strings(s.value) or []:
                                ci.members.setdefault(slot, "v")
                        if n == "model_type" and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
                            self.info.model_type.append(s.value.value)
            elif isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name):
                name = s.target.id
                ann = ast.unparse(s.annotation) if s.annotation is not None else ""
                ci.members.setdefault(name, "v")
                if name == "model_type" and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
                    self.info.model_type.append(s.value.value)
                if ann in ("KW_ONLY", "dataclasses.KW_ONLY"):
                    kw_only = True
                    continue
                if "ClassVar" in ann:
                    continue
                if ci.dataclass:
                    default, init, fkw = _field_info(s.value)
                    if init:
                        ci.fields.append((name, default, fkw if fkw is not None else kw_only))
            elif isinstance(s, ast.If):
                verdict = self.eval(s.test)
                if verdict is not False:
                    self._class_body(s.body, ci, qual, kw_only)
                if verdict is not True:
                    self._class_body(s.orelse, ci, qual, kw_only)
            elif isinstance(s, (ast.For, ast.With)):
                if any(isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) and _is_self_namespace(n.value) for n in ast.walk(s)):
                    ci.open_by_setattr = True  # `vars()[k] = v` in a class body loop
                targets = [s.target] if isinstance(s, ast.For) else [i.optional_vars for i in s.items if i.optional_vars is not None]
                for t in targets:
                    for n in _target_names(t):
                        ci.members.setdefault(n, "v")
                self._class_body(s.body, ci, qual, kw_only)
            elif isinstance(s, ast.Try):
                self._class_body(s.body, ci, qual, kw_only)
                for h in s.handlers:
                    self._class_body(h.body, ci, qual, kw_only)
                self._class_body(s.orelse, ci, qual, kw_only)
            elif isinstance(s, (ast.Import, ast.ImportFrom)):
                for a in s.names:
                    ci.members.setdefault((a.asname or a.name).split(".")[0], "v")


def _is_self_namespace(value: ast.expr | None) -> bool:
    """`globals()`, `locals()` at module level, `sys.modules[__name__]`."""
    if isinstance(value, ast.Call) and dotted(value.func) in ("globals", "locals", "vars") and not value.args:
        return True
    return isinstance(value, ast.Subscript) and dotted(value.value) == "sys.modules" and dotted(value.slice) == "__name__"


def _callee_kind(value: ast.expr) -> str:
    """What a `self.x = ...` assigns, for the architecture table: the class called
    (`nn.Linear(...)` -> "Linear"), "?" for anything else (a parameter, a conditional)."""
    if isinstance(value, ast.Call):
        name = dotted(value.func)
        if name:
            return name.rsplit(".", 1)[-1]
    return "?"


def _private_key(key: ast.expr) -> bool:
    """`globals()[f"_sym_{name}"]`: a computed key that is always private."""
    if isinstance(key, ast.JoinedStr) and key.values and isinstance(key.values[0], ast.Constant):
        return str(key.values[0].value).startswith("_")
    if isinstance(key, ast.BinOp) and isinstance(key.left, ast.Constant) and isinstance(key.left.value, str):
        return key.left.value.startswith("_")
    return False


def _private_name(loop: ast.stmt, key: ast.expr) -> bool:
    """`k = f"_sym_{n}"; globals()[k] = ...` inside the loop: the key is private."""
    if not isinstance(key, ast.Name):
        return False
    values = [n.value for n in ast.walk(loop) if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == key.id for t in n.targets)]
    return bool(values) and all(_private_key(v) for v in values)


def _folder_of(call: ast.Call, info: ModInfo) -> str:
    """`define_import_structure(_file)` -> this package; `(Path(__file__).parent / "models")` -> pkg.models."""
    arg = call.args[0] if call.args else None
    sub = []
    while isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Div):
        if isinstance(arg.right, ast.Constant) and isinstance(arg.right.value, str):
            sub.insert(0, arg.right.value)
        arg = arg.left
    base = info.name if info.is_pkg else info.name.rsplit(".", 1)[0]
    return ".".join([base] + sub)


def _field_info(value: ast.expr | None) -> tuple[bool, bool, bool | None]:
    """(has default, in __init__, kw_only or None) of a dataclass field's value."""
    if value is None:
        return False, True, None
    if isinstance(value, ast.Call) and (dotted(value.func) or "").rsplit(".", 1)[-1] == "field":
        kws = {kw.arg: kw.value for kw in value.keywords}
        has_default = "default" in kws or "default_factory" in kws
        init = not (isinstance(kws.get("init"), ast.Constant) and kws["init"].value is False)
        kw = kws.get("kw_only")
        return has_default, init, (kw.value if isinstance(kw, ast.Constant) else None)
    return True, True, None


def _function_sig(fn: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> object:
    """Signature text, or None when a decorator may change what the call accepts."""
    for d in fn.decorator_list:
        name = _decorator_name(d).rsplit(".", 1)[-1]
        if name in ("staticmethod", "classmethod") or name in PRESERVING or "docstring" in name.lower():
            continue
        return None
    return signature_of(fn.args)


def _merge_sig(table: dict, name: str, sig: object, fn: ast.AST) -> None:
    """Several defs of one name (overloads, branches): keep every known form; unknown wins."""
    is_overload = any(_decorator_name(d).rsplit(".", 1)[-1] == "overload" for d in getattr(fn, "decorator_list", []))
    old = table.get(name, "<none>")
    if sig is None or old is None:
        table[name] = None
        return
    if old == "<none>":
        table[name] = [sig] if is_overload else sig
        return
    forms = old if isinstance(old, list) else [old]
    if sig not in forms:
        forms = forms + [sig]
    table[name] = forms if len(forms) > 1 else forms[0]


def _target_names(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for e in node.elts for n in _target_names(e)]
    if isinstance(node, ast.Starred):
        return _target_names(node.value)
    return []


def _module_statements(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Statements that run at module level, through if/try/with blocks (not into defs)."""
    for s in body:
        yield s
        if isinstance(s, (ast.If, ast.For, ast.While)):
            yield from _module_statements(s.body)
            yield from _module_statements(s.orelse)
        elif isinstance(s, ast.Try):
            yield from _module_statements(s.body)
            for h in s.handlers:
                yield from _module_statements(h.body)
            yield from _module_statements(s.orelse)
            yield from _module_statements(s.finalbody)
        elif isinstance(s, ast.With):
            yield from _module_statements(s.body)


def read_module(name: str, is_pkg: bool, stub: bool, text: str, pyver: tuple[int, int] | None = None) -> ModInfo | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return None
    info = ModInfo(name=name, is_pkg=is_pkg, stub=stub)
    reader = _ModuleReader(info, pyver)
    reader._toplevel = set(tree.body)  # type: ignore[attr-defined]
    literals: dict[str, list[str]] = {}
    for s in _module_statements(tree.body):
        targets = s.targets if isinstance(s, ast.Assign) else [s.target] if isinstance(s, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Name) and (lit := _literal_strings(getattr(s, "value", None))) is not None:
                literals.setdefault(t.id, []).extend(lit)
    reader.literals = literals  # type: ignore[attr-defined]
    reader.read(tree.body)
    for st in _module_statements(tree.body):
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(st):
            if isinstance(node, ast.Call) and dotted(node.func) not in ("__import__", "setattr", "getattr", "hasattr") and any(
                    _is_self_namespace(a) or (isinstance(a, ast.Name) and a.id in reader.self_aliases)
                    for a in list(node.args) + [k.value for k in node.keywords]):
                info.open_reasons.append("passes globals() to a function")
                break
    if info.lazy:
        for k, v in getattr(reader, "tc_bindings", {}).items():
            info.lazy_names.setdefault(k, v)
        info.stars.extend(getattr(reader, "tc_stars", []))
        for sub, names in reader.lazy_table.items():
            if sub.startswith("utils.dummy_"):
                continue
            full = f"{info.name}.{sub}" if info.is_pkg else sub
            head = sub.split(".")[0]
            info.lazy_names.setdefault(head, ("import", f"{info.name}.{head}", None))
            for n in names:
                info.lazy_names.setdefault(n, ("import", full, n))
    return info


# ----------------------------------------------------------------------------------- a release


class _Dist:
    """All modules of one release, and the resolution of names across them."""

    def __init__(self, mods: dict[str, ModInfo]) -> None:
        self.mods = mods
        self.tops = {m.split(".")[0] for m in mods}
        self._ns: dict[str, dict[str, str]] = {}
        self._open: dict[str, bool] = {}
        self._busy: set[str] = set()
        self._injected: dict[str, set[str]] | None = None
        self._busy_alias: set[tuple[str, str]] = set()
        self.stub_classes_open = False

    def injected(self, module: str) -> set[str]:
        """Names other modules set on `module` (sklearn's `enable_iterative_imputer`): present
        once that module ran, so they count as present."""
        if self._injected is None:
            self._injected = {}
            for info in self.mods.values():
                for expr, name in info.injections:
                    head, *rest = expr.split(".")
                    if not rest and head in info.classes:
                        ci = info.classes[head]
                        if name is None:
                            ci.open_by_setattr = True
                        else:
                            ci.members.setdefault(name, "v")
                        continue
                    b = info.bindings.get(head)
                    if b is None or b[0] != "import" or name is None:
                        continue
                    base = b[1] if b[2] is None else f"{b[1]}.{b[2]}"
                    full = ".".join([base, *rest])
                    if full in self.mods:
                        self._injected.setdefault(full, set()).add(name)
        return self._injected.get(module, set())

    def internal(self, module: str) -> bool:
        return module.split(".")[0] in self.tops

    # names a star import of `module` brings
    def public(self, module: str) -> tuple[list[str], bool]:
        ns, is_open = self.namespace(module)
        info = self.mods.get(module)
        if info is not None and info.all is not None and not info.all_dynamic:
            return list(dict.fromkeys(info.all)), False
        names = [n for n in ns if not n.startswith("_")]
        if info is not None and info.is_pkg:
            # a submodule imported anywhere before the star import is an attribute by then
            prefix = module + "."
            names += sorted({m[len(prefix):].split(".")[0] for m in self.mods if m.startswith(prefix)} - set(names))
        return names, is_open

    def namespace(self, module: str) -> tuple[dict[str, str], bool]:
        """name -> target for every name `module` binds; and whether the set is open."""
        if module in self._ns:
            return self._ns[module], self._open[module]
        info = self.mods.get(module)
        if info is None or module in self._busy:
            return {}, True
        self._busy.add(module)
        ns: dict[str, str] = {}
        is_open = bool(info.open_reasons)
        bindings = dict(info.bindings)
        for k, v in info.lazy_names.items():
            bindings.setdefault(k, v)
        for name, b in bindings.items():
            ns[name] = self.target(info, name, b)
        for name in self.injected(module):
            ns.setdefault(name, "?")
        if info.is_pkg:
            for imp in info.imported:
                if imp.startswith(module + ".") and imp in self.mods:
                    sub = imp[len(module) + 1:].split(".")[0]
                    ns.setdefault(sub, f"m:{module}.{sub}")
        for star in info.stars:
            if self.internal(star) and star in self.mods:
                names, star_open = self.public(star)
                sns, _ = self.namespace(star)
                for n in names:
                    if n in ns or (n not in sns and f"{module}.{n}" in self.mods):
                        continue  # a star-imported submodule name yields to our own submodule
                    ns[n] = sns.get(n) or self.submodule_or(star, n, "?")
                is_open = is_open or star_open
            elif not self.internal(star):
                is_open = True
            # an internal module that does not exist: the library's own guarded import, never run
        for folder in info.lazy_dirs:
            for m, mi in self.mods.items():
                if m.startswith(folder + ".") and mi.all is not None:
                    mns, _ = self.namespace(m)
                    for n in mi.all:
                        ns.setdefault(n, mns.get(n, "?"))
        for src in info.dir_loops:
            t = self.resolve_dotted(info, src)
            if t.startswith("m:") and t[2:] in self.mods:
                sns, sopen = self.namespace(t[2:])
                for n, tt in sns.items():
                    if not n.startswith("__"):
                        ns.setdefault(n, tt)
                is_open = is_open or sopen
            else:
                is_open = True
        self._busy.discard(module)
        self._ns[module] = ns
        self._open[module] = is_open
        return ns, is_open

    def submodule_or(self, module: str, name: str, default: str) -> str:
        sub = f"{module}.{name}"
        return "m:" + sub if sub in self.mods else default

    def target(self, info: ModInfo, name: str, b: tuple) -> str:
        kind = b[0]
        if kind == "def":
            return f"f:{info.name}:{name}"
        if kind == "class":
            return f"c:{info.name}:{name}"
        if kind == "value":
            return "v"
        if kind == "alias":
            key = (info.name, name)
            if key in self._busy_alias:
                return "?"
            self._busy_alias.add(key)
            try:
                return self.resolve_dotted(info, b[1], skip=name)
            finally:
                self._busy_alias.discard(key)
        if kind == "import":
            mod, attr = b[1], b[2]
            if attr is None:
                return ("m:" + mod) if mod in self.mods else ("x:" + mod if not self.internal(mod) else "?")
            if not self.internal(mod):
                return f"x:{mod}.{attr}"
            if mod not in self.mods:
                return "?"
            sub = f"{mod}.{attr}"
            ns, _ = self.namespace(mod)
            t = ns.get(attr)
            if t is not None and t not in ("?", "v"):
                return t
            if sub in self.mods:
                return "m:" + sub
            return t or "?"
        return "?"

    def resolve_dotted(self, info: ModInfo, expr: str, skip: str | None = None) -> str:
        head, *rest = expr.split(".")
        if head == skip:
            return "v"
        b = info.bindings.get(head) or info.lazy_names.get(head)
        if b is None:
            import builtins
            return ("b:" + expr) if not rest and hasattr(builtins, head) else "?"
        t = self.target(info, head, b)
        for part in rest:
            t = self.member(t, part)
            if t in ("?", "v") or t.startswith(("x:", "b:")):
                if t.startswith("x:"):
                    t = t + "." + part if not t.endswith("." + part) else t
                return t if t.startswith("x:") else "?"
        return t

    def member(self, t: str, name: str) -> str:
        if t.startswith("m:"):
            mod = t[2:]
            ns, _ = self.namespace(mod)
            if name in ns:
                return ns[name]
            return self.submodule_or(mod, name, "?")
        if t.startswith("c:"):
            mod, qual = t[2:].split(":", 1)
            ci = self.mods[mod].classes.get(qual) if mod in self.mods else None
            if ci is not None and name in ci.members:
                m = ci.members[name]
                return f"c:{mod}:{m[2:]}" if m.startswith("c:") else (f"f:{mod}:{qual}.{name}" if m in ("f", "s", "k") else "v")
            return "?"
        if t.startswith("x:"):
            return f"{t}.{name}"
        return "?"

    # classes
    def base_targets(self, mod: str, ci: ClassInfo) -> list[str]:
        info = self.mods[mod]
        out = []
        for b in ci.bases:
            if b == "?":
                out.append("?")
                continue
            if "." not in b and b in info.classes and b != ci.name:
                out.append(f"c:{mod}:{b}")
                continue
            out.append(self.resolve_dotted(info, b))
        return out


def extract(files: Mapping[str, str], pyver: tuple[int, int] | None = None,
            available: Iterable[str] | None = None, open_modules: Iterable[str] = ()) -> dict:
    """Snapshot of the modules in `files` (relative path -> source text).

    `pyver` evaluates `sys.version_info` tests (for the standard library's stubs); `available`
    limits the modules to those names (typeshed's VERSIONS for one Python); `open_modules` are
    modules whose namespace compiled code fills at import time (torch.cuda's tensor types)."""
    chosen: dict[str, tuple[str, bool, str, bool]] = {}
    stubs: dict[str, str] = {}
    compiled: set[str] = set()
    for path in sorted(files):
        named = module_name_of(path)
        if named is None:
            continue
        name, is_pkg = named
        if available is not None and not _available(name, available):
            continue
        if path.endswith((".so", ".pyd")):
            compiled.add(name)  # its names are unknown unless a stub describes it
            continue
        stub = path.endswith(".pyi")
        if stub:
            stubs[name] = path
        if name in chosen and not chosen[name][3]:
            continue  # a .py wins over its stub
        chosen[name] = (path, is_pkg, files[path], stub)
    mods: dict[str, ModInfo] = {}
    stub_mods: dict[str, ModInfo] = {}
    for name, (path, is_pkg, text, stub) in chosen.items():
        info = read_module(name, is_pkg, stub, text, pyver)
        if info is not None:
            mods[name] = info
        if not stub and name in stubs:
            sinfo = read_module(name, is_pkg, True, files[stubs[name]], pyver)
            if sinfo is not None:
                stub_mods[name] = sinfo
    for name in compiled - set(mods):
        mods[name] = ModInfo(name=name, is_pkg=False, stub=False, open_reasons=["compiled module without a stub"])
    for name in list(mods):
        parts = name.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent not in mods:
                mods[parent] = ModInfo(name=parent, is_pkg=True, stub=False, open_reasons=["namespace package"])
    open_set = set(open_modules)
    for name in open_set:
        if name in mods:
            mods[name].open_reasons.append("filled by compiled code at import time")
    dist = _Dist(mods)
    # a library's stubs describe compiled classes partially (pandas' Period); typeshed's are whole
    dist.stub_classes_open = pyver is None
    stub_dist = _Dist({**mods, **stub_mods})
    out_mods: dict[str, dict] = {}
    for name in sorted(mods):
        info = mods[name]
        ns, is_open = dist.namespace(name)
        if name in stub_mods:
            sns, sopen = stub_dist.namespace(name)
            for n, t in sns.items():
                ns.setdefault(n, t)
            is_open = is_open and sopen
        is_open = is_open or name in open_set
        entry: dict = {}
        if info.is_pkg:
            entry["pkg"] = True
        if is_open:
            entry["open"] = True
        entry["names"] = {n: t for n, t in sorted(ns.items()) if _public(n)}
        classes = {}
        for qual, ci in info.classes.items():
            classes[qual] = _class_entry(dist, name, ci)
        if classes:
            entry["classes"] = classes
        sigs = {k: v for k, v in info.sigs.items() if v is not None and _public(k)}
        if sigs:
            entry["sigs"] = dict(sorted(sigs.items()))
        out_mods[name] = entry
    return {"modules": out_mods, "registries": _registries(mods)}


def _public(name: str) -> bool:
    return not name.startswith("_") or name in ("__version__", "__init__", "__call__")


def _available(module: str, available: Iterable[str]) -> bool:
    avail = available if isinstance(available, (set, frozenset, dict)) else set(available)
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in avail:
            return bool(avail[key]) if isinstance(avail, dict) else True
    return False


def _class_entry(dist: _Dist, mod: str, ci: ClassInfo) -> dict:
    bases = dist.base_targets(mod, ci)
    entry: dict = {}
    if bases:
        entry["bases"] = bases
    dist.injected(mod)  # applies setattr injections to classes
    is_open = ci.open_by_setattr or (dist.stub_classes_open and dist.mods[mod].stub) or ci.decorated or any(k != "metaclass" or v not in ("ABCMeta", "abc.ABCMeta") for k, v in ci.keywords.items())
    if is_open:
        entry["open"] = True
    entry["members"] = {n: k for n, k in sorted(ci.members.items()) if _public(n) and n not in ("__init__", "__call__")}
    # only what a call through the class object reaches: static and class methods
    sigs = {n: s for n, s in ci.sigs.items() if s is not None and _public(n) and ci.members.get(n) in ("s", "k")}
    if sigs:
        entry["sigs"] = dict(sorted(sigs.items()))
    init = _constructor(dist, mod, ci, set())
    if init is not None:
        entry["init"] = init
    return entry


def _constructor(dist: _Dist, mod: str, ci: ClassInfo, seen: set) -> object:
    """What `Class(...)` accepts (without self), or None when it cannot be known statically."""
    key = (mod, ci.name)
    if key in seen:
        return None
    seen.add(key)
    if ci.has_new or ci.decorated or any(k == "metaclass" and v not in ("ABCMeta", "abc.ABCMeta") for k, v in ci.keywords.items()):
        return None
    if "__init__" in ci.members:
        sig = ci.sigs.get("__init__")
        if sig is None or ci.members["__init__"] != "f":
            return None
        forms = sig if isinstance(sig, list) else [sig]
        dropped = [_drop_first(s) for s in forms]
        return dropped if len(dropped) > 1 else dropped[0]
    if ci.dataclass:
        fields = _dataclass_fields(dist, mod, ci, set())
        if fields is None:
            return None
        pos = [f"{n}{'=' if d else ''}" for n, d, kw in fields if not kw]
        kwo = [f"{n}{'=' if d else ''}" for n, d, kw in fields if kw]
        return ",".join(pos + (["*"] + kwo if kwo else []))
    bases = dist.base_targets(mod, ci)
    for b in bases:
        if b in TRANSPARENT_BASES:
            continue
        if b.startswith("c:"):
            bmod, bqual = b[2:].split(":", 1)
            bci = dist.mods[bmod].classes.get(bqual) if bmod in dist.mods else None
            if bci is None:
                return None
            return _constructor(dist, bmod, bci, seen)
        return None
    return "" if not ci.members.get("__init__") else None


def _dataclass_fields(dist: _Dist, mod: str, ci: ClassInfo, seen: set) -> list | None:
    key = (mod, ci.name)
    if key in seen:
        return None
    seen.add(key)
    out: dict[str, tuple] = {}
    for b in reversed(dist.base_targets(mod, ci)):
        if b in TRANSPARENT_BASES:
            continue
        if not b.startswith("c:"):
            return None
        bmod, bqual = b[2:].split(":", 1)
        bci = dist.mods[bmod].classes.get(bqual) if bmod in dist.mods else None
        if bci is None:
            return None
        if not bci.dataclass:
            if bci.fields or "__init__" in bci.members:
                return None
            continue
        inherited = _dataclass_fields(dist, bmod, bci, seen)
        if inherited is None:
            return None
        for f in inherited:
            out[f[0]] = f
    for f in ci.fields:
        out[f[0]] = f
    return list(out.values())


def _drop_first(sig: str) -> str:
    parts = sig.split(",") if sig else []
    if parts and not parts[0].startswith("*") and parts[0] != "/":
        parts.pop(0)
        if parts and parts[0] == "/":
            parts.pop(0)
    return ",".join(parts)


# ----------------------------------------------------------------------------------- registries

_MODELING = re.compile(r"^transformers\.models\.([a-z0-9_]+)\.modeling_([a-z0-9_]+)$")


def _registries(mods: dict[str, ModInfo]) -> dict:
    out: dict = {}
    timm = sorted({n for m, i in mods.items() if m.startswith("timm.models") for n in i.register_model})
    if timm:
        out["timm_models"] = timm
        dep = sorted({n for m, i in mods.items() if m.startswith("timm.models") for n in i.deprecated_models})
        if dep:
            out["timm_deprecated"] = dep
    archs: dict[str, dict] = {}
    for m, info in mods.items():
        if not m.startswith("transformers.models.") or m.count(".") != 3:
            continue
        folder = m.split(".")[2]
        leaf = m.split(".")[3]
        if leaf.startswith("configuration_") and info.model_type:
            for mt in info.model_type:
                archs.setdefault(mt, {"folder": folder})
    for mt, a in archs.items():
        folder = a["folder"]
        names: dict[str, set[str]] = {}
        ckpts: set[str] = set()
        auto = False

        def add(table: dict[str, set[str]]) -> None:
            for n, kinds in table.items():
                names.setdefault(n, set()).update(kinds)

        for m, info in mods.items():
            if m.startswith(f"transformers.models.{folder}."):
                leaf = m.rsplit(".", 1)[-1]
                if leaf.startswith("modeling_") and not leaf.startswith(("modeling_tf_", "modeling_flax_")):
                    add(info.self_names)
                    auto = auto or info.uses_auto
                    for b in info.bindings.values():
                        if b[0] == "import" and b[2] and _MODELING.match(b[1] or "") and b[1] in mods:
                            add(mods[b[1]].self_names)
                ckpts.update(info.checkpoints)
        if names:
            a["modules"] = {n: ",".join(sorted(k)) for n, k in sorted(names.items()) if not n.startswith("_")}
        if auto:
            a["wraps_auto"] = True
        if ckpts:
            a["checkpoints"] = sorted(ckpts)
    if archs:
        out["transformers_archs"] = dict(sorted(archs.items()))
    return out
