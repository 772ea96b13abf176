"""Derived facts about the bundle as a whole, shared by the execution-blocker rules (RA9xx)
and the model/PEFT rules (RA4xx).

Computed once per audit context (stored on the context object) from the `ModuleFacts` that
`facts.py` already extracted; no module is parsed again. What it answers:

* the **module index**: which dotted module names the bundle provides (`src.model`), which
  packages exist (`src`, a namespace package without `__init__.py`), and which names each
  module binds at module level (defs, classes, assignments, imports, loop/with targets,
  `global` assignments) -- plus whether that set is *open* (a star import of a module we
  cannot see, a module-level `__getattr__`, writes through `globals()`), in which case no
  rule may claim a name is missing;
* **import resolution**: an import is intra-bundle (`from src.model import X`, relative
  imports), standard library (`sys.stdlib_module_names`), or third party, and for intra-bundle
  imports whether the target module and name exist;
* **which distribution provides an import name**, and which declared dependencies bring it
  along, from the reviewed data file `data/import_names.yaml`;
* **signatures** of functions and classes defined in the bundle (dataclass fields become
  `__init__` parameters) and the call sites that reach them;
* **attribute uses**: every maximal dotted attribute chain of every module, resolved through
  the module's imports (`np.float` -> `numpy.float`), with its position and whether it is
  called, stored to, or used as a receiver.

Everything here is static reading of libcst trees; nothing from the bundle is imported or run.
"""
from __future__ import annotations

import builtins
import functools
import sys
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources

import libcst as cst
from packaging.utils import canonicalize_name
from ruamel.yaml import YAML

from reviewer_audit.program.cst_walk import Walker
from reviewer_audit.program.facts import ImportFact, ModuleFacts, Pos, dotted_name
from reviewer_audit.program.sources import absolute_module

STDLIB: frozenset[str] = frozenset(sys.stdlib_module_names) | {"__future__"}
BUILTIN_NAMES: frozenset[str] = frozenset(dir(builtins)) | {
    "__file__", "__name__", "__doc__", "__spec__", "__loader__", "__package__", "__builtins__",
    "__path__", "__annotations__", "__dict__", "__module__", "__qualname__", "__class__",
    "__debug__", "__cached__",
    # builtins of newer Pythons than the one running the audit
    "aiter", "anext", "EncodingWarning", "BaseExceptionGroup", "ExceptionGroup", "PythonFinalizationError",
}

#: Decorators that keep the decorated function's call signature (so its arity can be checked).
SIGNATURE_PRESERVING_DECORATORS = frozenset({
    "staticmethod", "classmethod", "functools.lru_cache", "functools.cache", "lru_cache", "cache",
    "torch.no_grad", "torch.inference_mode", "torch.enable_grad", "no_grad", "inference_mode",
    "functools.wraps", "abc.abstractmethod", "abstractmethod", "typing.overload",
})


# --------------------------------------------------------------------------- reviewed data


@dataclass(frozen=True)
class ImportNameData:
    imports: dict[str, tuple[str, ...]]  # import name -> canonical distribution names
    requires: dict[str, tuple[str, ...]]  # canonical distribution -> canonical requirements

    def distributions_for(self, import_name: str) -> tuple[str, ...]:
        return self.imports.get(import_name, (canonicalize_name(import_name),))

    def closure(self, declared: set[str]) -> set[str]:
        """Every distribution installed when `declared` (canonical names) are."""
        out = set(declared)
        todo = list(declared)
        while todo:
            for req in self.requires.get(todo.pop(), ()):
                if req not in out:
                    out.add(req)
                    todo.append(req)
        return out


@functools.lru_cache(maxsize=1)
def import_name_data() -> ImportNameData:
    text = resources.files("reviewer_audit.data").joinpath("import_names.yaml").read_text(encoding="utf-8")
    raw = YAML(typ="safe").load(text)
    imports = {str(k): tuple(canonicalize_name(d) for d in v) for k, v in (raw.get("imports") or {}).items()}
    requires = {
        canonicalize_name(k): tuple(canonicalize_name(d) for d in (v.get("requires") or []))
        for k, v in (raw.get("requires") or {}).items()
    }
    return ImportNameData(imports, requires)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Param:
    name: str
    has_default: bool


@dataclass
class Signature:
    """A callable's parameters as Python binds a call to them (self/cls already dropped)."""

    label: str  # "build_model" or "Trainer.__init__" or "dataclass Config"
    path: str
    line: int
    posonly: list[Param] = field(default_factory=list)
    positional: list[Param] = field(default_factory=list)  # positional-or-keyword
    star: bool = False
    kwonly: list[Param] = field(default_factory=list)
    starstar: bool = False

    def problems(self, call: cst.Call) -> list[str]:
        """Why binding `call` to this signature raises TypeError (empty when it binds)."""
        pos_args = [a for a in call.args if a.keyword is None and not a.star]
        kw_args = [a.keyword.value for a in call.args if a.keyword is not None]
        star_pos = any(a.star == "*" for a in call.args)
        star_kw = any(a.star == "**" for a in call.args)
        out: list[str] = []
        positional_params = self.posonly + self.positional
        n = len(pos_args)
        if not star_pos and not self.star and n > len(positional_params):
            out.append(f"takes {_count_words(len(positional_params))} positional argument{'s' if len(positional_params) != 1 else ''} but {n} {'were' if n != 1 else 'was'} given")
        accepted_kw = {p.name for p in self.positional} | {p.name for p in self.kwonly}
        if not self.starstar:
            unknown = [k for k in kw_args if k not in accepted_kw]
            if unknown:
                out.append("got an unexpected keyword argument " + ", ".join(f"'{k}'" for k in unknown))
        bound_by_position = {p.name for p in positional_params[:n]} if not star_pos else set()
        dup = [k for k in kw_args if k in bound_by_position and k in accepted_kw]
        if dup:
            out.append("got multiple values for argument " + ", ".join(f"'{k}'" for k in dup))
        if not star_pos and not star_kw:
            missing = [p.name for p in positional_params[n:] if not p.has_default and p.name not in kw_args]
            missing += [p.name for p in self.kwonly if not p.has_default and p.name not in kw_args]
            if missing:
                out.append("missing required argument" + ("s " if len(missing) > 1 else " ") + ", ".join(f"'{m}'" for m in missing))
        elif not star_kw:
            missing = [p.name for p in self.kwonly if not p.has_default and p.name not in kw_args]
            if missing:
                out.append("missing required keyword-only argument" + ("s " if len(missing) > 1 else " ") + ", ".join(f"'{m}'" for m in missing))
        return out


def _count_words(n: int) -> str:
    return str(n)


@dataclass
class AttrUse:
    """A maximal dotted chain `a.b.c` (Name root, attributes only) at one place in a module."""

    dotted: str  # as written: "np.float"
    resolved: str  # through the module's imports: "numpy.float"
    pos: Pos
    node: cst.Attribute = field(repr=False)
    called: bool  # the chain is the callee of a call
    store: bool  # the chain is an assignment target
    function: str | None  # qualname of the enclosing function


@dataclass
class ImportTarget:
    """Where one import statement leads."""

    kind: str  # "bundle", "stdlib", "third_party"
    module: str  # absolute dotted module ("src.model", "numpy")
    exists: bool = True  # bundle: the module (or package) exists
    missing_name: str | None = None  # bundle `from m import name`: name not defined by m
    error: str | None = None  # e.g. relative import beyond the top-level package


# --------------------------------------------------------------------------- per-module index


class _ModuleWalker(Walker):
    """One extra pass over an already-parsed module: bindings, attribute chains, stores."""

    def __init__(self, facts: ModuleFacts) -> None:
        super().__init__()
        self.facts = facts
        self.func_stack: list[str] = []
        self.scope: list[str] = []
        self.class_depth = 0
        self.module_names: set[str] = set()
        self.bind_counts: Counter[str] = Counter()
        self.globals_declared: set[str] = set()
        self.attr_uses: list[AttrUse] = []
        self.attr_stores: set[str] = set()  # attribute names assigned anywhere (x.NAME = ...)
        #: attribute name -> dotted names of the values assigned to it ("True", "cfg.x"; "?" = other)
        self.attr_store_values: dict[str, set[str]] = {}
        self.open_reasons: list[str] = []
        self._inner: set[int] = set()
        self._called: set[int] = set()
        self._stored: set[int] = set()
        #: lines of imports that may fail without crashing: inside `try` with a handler that
        #: catches ImportError, or under `if TYPE_CHECKING:`
        self.guarded_import_lines: set[int] = set()
        self._guard_depth = 0
        #: how often each identifier occurs (names, attribute names, keywords), any context
        self.mentions: Counter[str] = Counter()
        #: names bound inside each function (qualname; None = module level), any binding form
        self.func_binds: dict[str | None, set[str]] = {}

    def _pos(self, node: cst.CSTNode) -> Pos:
        return self.facts.pos_of(node)

    @property
    def _at_module(self) -> bool:
        return not self.func_stack and not self.class_depth

    def _bind(self, name: str) -> None:
        self.bind_counts[name] += 1
        self.func_binds.setdefault(self.func_stack[-1] if self.func_stack else None, set()).add(name)
        if self._at_module or name in self.globals_declared:
            self.module_names.add(name)

    def _bind_target(self, node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Name):
            self._bind(node.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            for el in node.elements:
                self._bind_target(el.value)
        elif isinstance(node, cst.StarredElement):
            self._bind_target(node.value)
        elif isinstance(node, cst.Attribute):
            self._stored.add(id(node))
            self.attr_stores.add(node.attr.value)
        elif isinstance(node, cst.Subscript):
            if dotted_name(node.value) == "globals()" or (isinstance(node.value, cst.Call) and dotted_name(node.value.func) in ("globals", "vars")):
                self.open_reasons.append("writes through globals()")

    # definitions
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value)
        if self._at_module and node.name.value == "__getattr__":
            self.open_reasons.append("defines a module-level __getattr__")
        p = node.params
        self.scope.append(node.name.value)
        self.func_stack.append(".".join(self.scope))
        for prm in (*p.posonly_params, *p.params, *p.kwonly_params, p.star_arg, p.star_kwarg):
            if isinstance(prm, cst.Param):
                self.bind_counts[prm.name.value] += 1
                self.func_binds.setdefault(self.func_stack[-1], set()).add(prm.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.func_stack.pop()
        self.scope.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        p = node.params
        for prm in (*p.posonly_params, *p.params, *p.kwonly_params):
            self.bind_counts[prm.name.value] += 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name.value)
        self.scope.append(node.name.value)
        self.class_depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_depth -= 1
        self.scope.pop()

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self.globals_declared.add(item.name.value)

    # guarded imports
    def visit_Try(self, node: cst.Try) -> None:
        catches = False
        for h in node.handlers:
            names = []
            if h.type is None:
                catches = True
            elif isinstance(h.type, cst.Tuple):
                names = [dotted_name(el.value) or "" for el in h.type.elements]
            else:
                names = [dotted_name(h.type) or ""]
            if any(n.split(".")[-1] in ("ImportError", "ModuleNotFoundError", "Exception", "BaseException") for n in names):
                catches = True
        if catches:
            # only the try body is guarded; handlers/else/finally are visited with the old depth
            self._guard_depth += 1
            self.walk(node.body)
            self._guard_depth -= 1
            for h in node.handlers:
                self.walk(h)
            if node.orelse is not None:
                self.walk(node.orelse)
            if node.finalbody is not None:
                self.walk(node.finalbody)
            return False
        return None

    def visit_If(self, node: cst.If) -> None:
        if (dotted_name(node.test) or "").split(".")[-1] == "TYPE_CHECKING":
            self._guard_depth += 1
            self.walk(node.body)
            self._guard_depth -= 1
            if node.orelse is not None:
                self.walk(node.orelse)
            return False
        return None

    # imports
    def visit_Import(self, node: cst.Import) -> None:
        if self._guard_depth:
            self.guarded_import_lines.add(self._pos(node).line)
        for alias in node.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value)
            else:
                self._bind((dotted_name(alias.name) or "").split(".")[0])

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if self._guard_depth:
            self.guarded_import_lines.add(self._pos(node).line)
            if not isinstance(node.names, cst.ImportStar):
                for alias in node.names:
                    self.guarded_import_lines.add(self._pos(alias).line)
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value)
            else:
                self._bind(dotted_name(alias.name) or "")

    # bindings
    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._bind_target(node.target)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Attribute):
                self.attr_store_values.setdefault(t.target.attr.value, set()).add(dotted_name(node.value) or "?")

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None or self.class_depth:
            self._bind_target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Attribute):
            self._stored.add(id(node.target))
            self.attr_stores.add(node.target.attr.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        # comprehension variables live in their own scope: count them, never as module names
        def names(t: cst.BaseExpression) -> None:
            if isinstance(t, cst.Name):
                self.bind_counts[t.value] += 1
                self.func_binds.setdefault(self.func_stack[-1] if self.func_stack else None, set()).add(t.value)
            elif isinstance(t, (cst.Tuple, cst.List)):
                for el in t.elements:
                    names(el.value)
        names(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self._bind(node.name.name.value)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self._bind(node.name.value)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self._bind(node.name.value)

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self._bind(node.rest.value)

    def visit_Name(self, node: cst.Name) -> None:
        self.mentions[node.value] += 1

    # attribute chains
    def visit_Call(self, node: cst.Call) -> None:
        self._called.add(id(node.func))
        if dotted_name(node.func) in ("globals().update", "vars().update"):
            self.open_reasons.append("updates globals()")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if id(node) in self._inner:
            return
        inner = node.value
        while isinstance(inner, cst.Attribute):
            self._inner.add(id(inner))
            inner = inner.value
        dotted = dotted_name(node)
        if dotted is None or "()" in dotted:
            return
        self.attr_uses.append(AttrUse(
            dotted=dotted, resolved=self.facts.resolve(dotted) or dotted, pos=self._pos(node), node=node,
            called=id(node) in self._called, store=id(node) in self._stored,
            function=self.func_stack[-1] if self.func_stack else None,
        ))


@dataclass
class ModuleIndex:
    facts: ModuleFacts
    dotted: str
    is_package: bool
    #: names bound at module level (defs, classes, assignments, imports, for/with targets, globals)
    module_names: set[str]
    #: binding sites per name anywhere in the module (any scope, parameters included)
    bind_counts: Counter
    #: why the module's namespace cannot be known statically (empty when it can)
    open_reasons: list[str]
    attr_uses: list[AttrUse]
    attr_stores: set[str]
    attr_store_values: dict
    func_binds: dict
    guarded_import_lines: set[int]
    mentions: Counter
    #: unique top-level definitions: name -> FunctionDef/ClassDef node
    top_defs: dict[str, cst.FunctionDef | cst.ClassDef]

    @property
    def path(self) -> str:
        return self.facts.path

    def defines(self, name: str) -> bool | None:
        """Does the module bind `name` at module level? None when that cannot be known."""
        if name in self.module_names:
            return True
        return None if self.open_reasons else False


def _top_defs(tree: cst.Module) -> dict[str, cst.FunctionDef | cst.ClassDef]:
    seen: Counter[str] = Counter()
    found: dict[str, cst.FunctionDef | cst.ClassDef] = {}
    for stmt in tree.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            seen[stmt.name.value] += 1
            found[stmt.name.value] = stmt
    return {k: v for k, v in found.items() if seen[k] == 1}


def _index_module(facts: ModuleFacts) -> ModuleIndex:
    walker = _ModuleWalker(facts)
    walker.walk(facts.tree)
    names = set(facts.top_level_names) | walker.module_names
    return ModuleIndex(
        facts=facts, dotted=facts.module_name, is_package=facts.path.endswith("__init__.py"),
        module_names=names, bind_counts=walker.bind_counts, open_reasons=walker.open_reasons,
        attr_uses=walker.attr_uses, attr_stores=walker.attr_stores, attr_store_values=walker.attr_store_values,
        func_binds=walker.func_binds,
        guarded_import_lines=walker.guarded_import_lines, mentions=walker.mentions, top_defs=_top_defs(facts.tree),
    )


# --------------------------------------------------------------------------- the bundle index


class BundleIndex:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.modules: dict[str, ModuleIndex] = {}
        for m in ctx.modules.values():
            self.modules[m.module_name] = _index_module(m)
        #: every dotted package implied by the file layout (namespace packages included)
        self.packages: set[str] = set()
        for path in ctx.bundle.files:
            if path.endswith(".py"):
                parts = path[:-3].split("/")
                for i in range(1, len(parts)):
                    self.packages.add(".".join(parts[:i]))
        #: bundle modules whose file exists but does not parse: never claim they are missing
        self.broken: set[str] = {p.path[:-3].replace("/", ".") for p in ctx.syntax_problems}
        self.top_names: set[str] = {d.split(".")[0] for d in (*self.modules, *self.packages, *self.broken)}
        #: the bundle edits sys.path (sys.path.append/insert, PYTHONPATH): sibling imports
        #: such as `from model import x` in src/train.py may then work
        self.edits_sys_path = any(
            (u.resolved.startswith("sys.path") and (u.called or u.store))
            for mi in self.modules.values() for u in mi.attr_uses
        ) or any("PYTHONPATH" in s.value for m in ctx.modules.values() for s in m.strings)
        self._star_closed = False
        self._close_star_imports()

    # ---- star imports: a star import of a bundle module adds its public names
    def _close_star_imports(self) -> None:
        for _ in range(3):  # chains of star imports are short
            for mi in self.modules.values():
                for imp in mi.facts.imports:
                    if imp.name != "*":
                        continue
                    target = self.absolute_module(mi, imp)
                    src = self.modules.get(target or "")
                    if src is None:
                        reason = f"star import from {imp.module or '.'}"
                        if reason not in mi.open_reasons:
                            mi.open_reasons.append(reason)
                        continue
                    mi.module_names |= {n for n in src.module_names if not n.startswith("_")}
                    if src.open_reasons and f"star import from {target}" not in mi.open_reasons:
                        mi.open_reasons.append(f"star import from {target}")

    # ---- module lookup
    def module(self, dotted: str) -> ModuleIndex | None:
        return self.modules.get(dotted)

    def index_of(self, facts: ModuleFacts) -> ModuleIndex:
        return self.modules[facts.module_name]

    def package_of(self, mi: ModuleIndex) -> str:
        return mi.dotted if mi.is_package else mi.dotted.rpartition(".")[0]

    def absolute_module(self, mi: ModuleIndex, imp: ImportFact) -> str | None:
        """The absolute dotted module an import names (relative imports resolved); None when
        the relative import climbs above the top-level package."""
        if not imp.level:
            return imp.module
        return absolute_module(mi.dotted, mi.is_package, imp.level, imp.module)

    def is_bundle_name(self, dotted: str) -> bool:
        """Is `dotted` (absolute) under a top-level name the bundle provides?"""
        return dotted.split(".")[0] in self.top_names

    def mention_count(self, name: str) -> int:
        """How often an identifier occurs in the whole bundle (code names and string literals)."""
        key = "_mention_total"
        totals = self.__dict__.get(key)
        if totals is None:
            totals = Counter()
            for mi in self.modules.values():
                totals.update(mi.mentions)
                for s in mi.facts.strings:
                    if s.value.isidentifier():
                        totals[s.value] += 1
            self.__dict__[key] = totals
        return totals.get(name, 0)

    def exists(self, dotted: str) -> bool:
        return dotted in self.modules or dotted in self.packages or dotted in self.broken

    def sibling_module(self, dotted: str) -> str | None:
        """A bundle module in some directory whose dotted name *within* that directory is
        `dotted` (`model` -> `src.model`); only meaningful when sys.path holds that directory."""
        for name in (*self.modules, *self.broken):
            head, _, rest = name.partition(".")
            if rest and (rest == dotted or rest.startswith(dotted + ".")) and head in self.packages:
                return f"{head}.{dotted}"
        return None

    def run_as_script(self, mi: ModuleIndex) -> bool:
        """The bundle mentions the module's file path (`python src/train.py`), so it may run as a
        script with its own directory on sys.path."""
        path = mi.path
        return any(path in s.value for m in self.ctx.modules.values() for s in m.strings)

    def resolve_import(self, mi: ModuleIndex, imp: ImportFact) -> ImportTarget:
        target = self.absolute_module(mi, imp)
        if target is None:
            return ImportTarget("bundle", imp.module, exists=False, error="attempted relative import beyond top-level package")
        top = target.split(".")[0]
        if not imp.level and top not in self.top_names:
            return ImportTarget("stdlib" if top in STDLIB else "third_party", target)
        if not self.exists(target):
            return ImportTarget("bundle", target, exists=False)
        if imp.name and imp.name != "*":
            if f"{target}.{imp.name}" in self.modules or f"{target}.{imp.name}" in self.packages or f"{target}.{imp.name}" in self.broken:
                return ImportTarget("bundle", target)
            src = self.modules.get(target)
            if src is None:
                # a package without __init__.py (namespace) defines nothing; a broken module is unknown
                if target in self.broken or f"{target.replace('.', '/')}/__init__.py" in self.ctx.bundle.files:
                    return ImportTarget("bundle", target)
                return ImportTarget("bundle", target, missing_name=imp.name)
            if src.defines(imp.name) is False:
                return ImportTarget("bundle", target, missing_name=imp.name)
        return ImportTarget("bundle", target)

    # ---- call targets and signatures
    def definition_for_call(self, mi: ModuleIndex, call) -> tuple[ModuleIndex, cst.FunctionDef | cst.ClassDef] | None:
        """The bundle-level def/class a call reaches, when that is certain.

        Handles `f(...)` for a top-level def/class of the same module, a name imported from a
        bundle module (`from src.model import build_model`), and `mod.f(...)` where `mod` is a
        bundle module bound by an import. A name bound more than once anywhere in the calling
        module (re-assigned, shadowed by a parameter, defined twice) is not resolved.
        """
        func = call.node.func
        if isinstance(func, cst.Name):
            name = func.value
            if mi.bind_counts.get(name, 0) != 1:
                return None
            if name in mi.top_defs:
                return mi, mi.top_defs[name]
            imp = next((i for i in mi.facts.imports if i.alias == name and i.name and i.name != "*"), None)
            if imp is None:
                return None
            target = self.absolute_module(mi, imp)
            src = self.modules.get(target or "")
            if src is None or imp.name not in src.top_defs or src.bind_counts.get(imp.name, 0) != 1:
                return None
            return src, src.top_defs[imp.name]
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            alias = func.value.value
            if mi.bind_counts.get(alias, 0) != 1:
                return None
            imp = next((i for i in mi.facts.imports if i.alias == alias), None)
            if imp is None:
                return None
            if imp.name and imp.name != "*":
                target = f"{self.absolute_module(mi, imp)}.{imp.name}"
            else:
                target = self.absolute_module(mi, imp) if imp.level else imp.module
            src = self.modules.get(target or "")
            name = func.attr.value
            if src is None or name not in src.top_defs or src.bind_counts.get(name, 0) != 1:
                return None
            return src, src.top_defs[name]
        return None

    def method_signature_for_call(self, mi: ModuleIndex, call) -> Signature | None:
        """`self.m(...)` inside a method of class C that defines `m` itself, when no class of the
        bundle can override `m` (no subclass of C in the bundle defines it) and nothing assigns
        `x.m = ...`."""
        func = call.node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self"):
            return None
        if call.function is None:
            return None
        cls = call.function.split(".")[0]
        name = func.attr.value
        node = mi.top_defs.get(cls)
        if not isinstance(node, cst.ClassDef) or name in mi.attr_stores:
            return None
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
        defs = [st for st in body if isinstance(st, cst.FunctionDef) and st.name.value == name]
        if len(defs) != 1:
            return None
        method = defs[0]
        # a subclass in the bundle could override it
        for other in self.modules.values():
            for st in other.facts.tree.body:
                if isinstance(st, cst.ClassDef) and any((dotted_name(b.value) or "").split(".")[-1] == cls for b in st.bases):
                    return None
        kinds = [_decorator_name(mi, d) for d in method.decorators]
        if any(k not in SIGNATURE_PRESERVING_DECORATORS for k in kinds):
            return None
        static = "staticmethod" in kinds
        return _signature(method, mi.path, self._line(mi, method), f"{cls}.{name}", drop_first=not static)

    def signature_of(self, mi: ModuleIndex, node: cst.FunctionDef | cst.ClassDef) -> Signature | None:
        """The call signature of a def, or of a class's constructor; None when not certain."""
        if isinstance(node, cst.FunctionDef):
            if not _decorators_preserve(mi, node):
                return None
            return _signature(node, mi.path, self._line(mi, node), node.name.value, drop_first=False)
        return self._class_signature(mi, node)

    def _line(self, mi: ModuleIndex, node: cst.CSTNode) -> int:
        for f in mi.facts.functions.values():
            if f.node is node:
                return f.pos.line
        name = getattr(getattr(node, "name", None), "value", None)
        pos = mi.facts.classes.get(name) if name else None
        return pos.line if pos else 1

    def _class_signature(self, mi: ModuleIndex, node: cst.ClassDef) -> Signature | None:
        name = node.name.value
        if node.keywords:  # metaclass=...
            return None
        decorators = [_decorator_name(mi, d) for d in node.decorators]
        is_dataclass = False
        dc_kw_only = False
        for d, dec in zip(decorators, node.decorators):
            if d in ("dataclasses.dataclass", "dataclass"):
                is_dataclass = True
                if isinstance(dec.decorator, cst.Call):
                    for a in dec.decorator.args:
                        if a.keyword is None:
                            continue
                        value = dotted_name(a.value)
                        if a.keyword.value == "init" and value != "True":
                            return None
                        if a.keyword.value == "kw_only":
                            if value == "True":
                                dc_kw_only = True
                            elif value != "False":
                                return None
            else:
                return None  # an unknown class decorator may replace the class
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
        methods = {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)}
        if "__new__" in methods:
            return None
        init = methods.get("__init__")
        if init is not None:
            # a second __init__ (conditional, overload) makes it ambiguous
            if sum(1 for s in body if isinstance(s, cst.FunctionDef) and s.name.value == "__init__") != 1:
                return None
            if not _decorators_preserve(mi, init):
                return None
            sig = _signature(init, mi.path, self._line(mi, init), f"{name}.__init__", drop_first=True)
            return sig
        if node.bases:
            return None  # inherited constructor (nn.Module, another class, a dataclass base)
        if not is_dataclass:
            return Signature(label=f"{name}()", path=mi.path, line=self._line(mi, node))
        # dataclass without bases: fields in order become __init__ parameters
        sig = Signature(label=f"dataclass {name}", path=mi.path, line=self._line(mi, node))
        kw_only = dc_kw_only
        for stmt in body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if not isinstance(small, cst.AnnAssign) or not isinstance(small.target, cst.Name):
                    continue
                ann = dotted_name(small.annotation.annotation if not isinstance(small.annotation.annotation, cst.Subscript) else small.annotation.annotation.value) or ""
                if ann in ("KW_ONLY", "dataclasses.KW_ONLY"):
                    kw_only = True
                    continue
                if ann.split(".")[-1] == "ClassVar":
                    continue
                has_default = small.value is not None
                if isinstance(small.value, cst.Call) and (dotted_name(small.value.func) or "").split(".")[-1] == "field":
                    kws = {a.keyword.value: a.value for a in small.value.args if a.keyword is not None}
                    if any(a.keyword is None for a in small.value.args):
                        return None
                    if "init" in kws:
                        if dotted_name(kws["init"]) == "False":
                            continue
                        return None
                    if "kw_only" in kws:
                        return None
                    has_default = "default" in kws or "default_factory" in kws
                param = Param(small.target.value, has_default)
                (sig.kwonly if kw_only else sig.positional).append(param)
        # Python itself rejects a non-default field after a default one; trust the order
        return sig


def _decorator_name(mi: ModuleIndex, d: cst.Decorator) -> str:
    expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
    name = dotted_name(expr) or "?"
    return mi.facts.resolve(name) or name


def _decorators_preserve(mi: ModuleIndex, node: cst.FunctionDef) -> bool:
    return all(_decorator_name(mi, d) in SIGNATURE_PRESERVING_DECORATORS for d in node.decorators)


def _signature(node: cst.FunctionDef, path: str, line: int, label: str, drop_first: bool) -> Signature:
    p = node.params
    posonly = [Param(x.name.value, x.default is not None) for x in p.posonly_params]
    positional = [Param(x.name.value, x.default is not None) for x in p.params]
    if drop_first and not any(_is_static(d) for d in node.decorators):
        if posonly:
            posonly = posonly[1:]
        elif positional:
            positional = positional[1:]
    return Signature(
        label=label, path=path, line=line, posonly=posonly, positional=positional,
        star=isinstance(p.star_arg, cst.Param),
        kwonly=[Param(x.name.value, x.default is not None) for x in p.kwonly_params],
        starstar=p.star_kwarg is not None,
    )


def _is_static(d: cst.Decorator) -> bool:
    return dotted_name(d.decorator) == "staticmethod"


def bundle_index(ctx) -> BundleIndex:
    """The bundle index for this audit context, computed once."""
    cached = ctx.__dict__.get("_bundle_index")
    if cached is None:
        cached = BundleIndex(ctx)
        ctx.__dict__["_bundle_index"] = cached
    return cached


# --------------------------------------------------------------------------- dependencies


@dataclass
class DeclaredDeps:
    """What the pyproject makes installable, as far as the import rules may rely on it."""

    usable: bool  # False when the pyproject is absent or unusable (RA901 reports that)
    direct: set[str]  # canonical names of the main dependencies
    installed: set[str]  # direct plus their unconditional requirements (data/import_names.yaml)


#: pyproject problem kinds after which no dependency is installed at all
BLOCKING_PYPROJECT_KINDS = frozenset({"toml_syntax", "no_project_table", "deps_outside_project"})


def pyproject_unusable(report) -> bool:
    """True when `uv run` installs nothing from this pyproject (or cannot read it)."""
    if report is None or report.data is None:
        return True
    for p in report.problems:
        if p.kind in BLOCKING_PYPROJECT_KINDS:
            return True
        if p.kind == "schema" and (p.path == "project" or p.path.startswith(("project.", "project[", "build-system", "dependency-groups"))):
            return True
    return False


def declared_deps(ctx) -> DeclaredDeps:
    cached = ctx.__dict__.get("_declared_deps")
    if cached is not None:
        return cached
    report = ctx.pyproject
    if pyproject_unusable(report):
        out = DeclaredDeps(False, set(), set())
    else:
        # a dependency with an environment marker (sys_platform == 'linux') may still be installed: count it
        direct = {d.canonical_name for d in report.dependencies if d.group is None}
        out = DeclaredDeps(True, direct, import_name_data().closure(direct))
    ctx.__dict__["_declared_deps"] = out
    return out


def library_specifier(ctx, library: str) -> str:
    """The range a pyproject declares for `library`, best effort (Poetry-style tables are
    read too); "" when unconstrained or undeclared -- both admit the newest release."""
    report = ctx.pyproject
    if report is None:
        return ""
    dep = report.dependency(library)
    return dep.specifier if dep is not None else ""
