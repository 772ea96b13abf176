"""What the library-index rules (RA906, RA908, RA909, RA405) share: which indexed versions of a
library the bundle admits as of the audit date, how a finding's severity follows from where a
name is missing, and which library names the code uses through its imports.

Severity, for a fact that fails in some indexed versions the declared range admits:

* it fails in the newest release the range admitted on the audit date -> **blocker** (the
  resolver installs that one; "missing in every admitted version" is the plain case);
* it fails only in older admitted releases -> **minor**, naming them (a lower bound would fix
  the range): a fresh install resolves to the newest, so only an older pin (a lock file, another
  package's upper bound) breaks the run -- **major** for Python itself, since the interpreter is
  whatever the machine has; and only when the pyproject states a range at all: for an undeclared
  library (RA903's finding) only the newest release counts;
* it fails only in releases published after the audit date -> **minor** (the code ran then;
  it breaks with a later release).

Only names the code reaches through an import are judged (`np.float`, `OmegaConf.deepcopy`,
`from sklearn.metrics import wilcoxon`); the type of a local variable is never guessed.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

import libcst as cst

from reviewer_audit.engine.findings import Severity
from reviewer_audit.ingest.yamlio import leaf_items
from reviewer_audit.knowledge.api_index import PYTHON, LibraryApi, api_index
from reviewer_audit.knowledge.releases import admitted
from reviewer_audit.knowledge.versions import admits, poetry_to_pep440
from reviewer_audit.program.bundle_index import bundle_index, library_specifier
from reviewer_audit.program.facts import _chain_parts, dotted_name, literal_string
from reviewer_audit.program.runs import run_model


@dataclass
class Admitted:
    lib: LibraryApi
    now: int  # indexed versions the range admits, released before the audit date
    later: int  # admitted, but released on or after it
    shown: str  # "scipy>=1.11", "torch (unpinned)", "numpy (not declared, so any version)"
    #: the pyproject states a range (or requires-python); without one only the newest release
    #: counts (RA903 reports the missing declaration)
    declared: bool = True


def requires_python(ctx) -> str:
    report = ctx.pyproject
    data = report.data if report is not None and isinstance(report.data, dict) else {}
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    spec = project.get("requires-python")
    if isinstance(spec, str):
        return spec
    poetry = ((data.get("tool") or {}).get("poetry") or {}) if isinstance(data.get("tool"), dict) else {}
    deps = poetry.get("dependencies") if isinstance(poetry, dict) else None
    if isinstance(deps, dict) and isinstance(deps.get("python"), str):
        try:
            return poetry_to_pep440(deps["python"])
        except ValueError:
            return ""
    return ""


def admitted_versions(ctx, lib: LibraryApi) -> Admitted:
    cache = ctx.__dict__.setdefault("_library_admitted", {})
    if lib.name in cache:
        return cache[lib.name]
    before = ctx.exclude_newer
    declared = True
    if lib.name == PYTHON:
        spec = requires_python(ctx)
        declared = bool(spec)
        shown = f"requires-python {spec}" if spec else "requires-python (unset, so any Python)"
        now = later = 0
        for v in lib.versions:
            try:
                ok = admits(spec, f"{v.minor}.0")
            except Exception:  # noqa: BLE001 -- an unreadable range judges nothing
                ok = False
            if ok:
                if before is None or v.date < before:
                    now |= v.bit
                else:
                    later |= v.bit
    else:
        spec = library_specifier(ctx, lib.name)
        declared = ctx.pyproject is not None and ctx.pyproject.dependency(lib.name) is not None
        shown = f"{lib.name}{spec}" if spec else f"{lib.name} ({'unpinned' if declared else 'not declared, so any version'})"
        now, later = _masks(lib, spec, before)
    result = cache[lib.name] = Admitted(lib, now, later, shown, declared)
    return result


_MASKS: dict[tuple, tuple[int, int]] = {}


def _masks(lib: LibraryApi, spec: str, before) -> tuple[int, int]:
    """(admitted before the date, admitted on or after it) as masks of indexed versions; shared
    across audits (a corpus repeats the same few ranges)."""
    key = (lib.name, id(lib), spec, before)
    if key not in _MASKS:
        rows = _admitted_rows(lib, spec)  # the range, once; the date is a cheap filter
        now = every = 0
        for bit, day in rows:
            every |= bit
            if before is None or day < before:
                now |= bit
        _MASKS[key] = (now, every & ~now)
    return _MASKS[key]


_ROWS: dict[tuple, list] = {}


def _admitted_rows(lib: LibraryApi, spec: str) -> list[tuple[int, object]]:
    """(version bit, release date) of every final release the range admits."""
    key = (lib.name, id(lib), spec)
    if key not in _ROWS:
        out = []
        for r in admitted(lib.name, spec, None) or []:
            v = lib.version_of(str(r.version))
            if v is not None:
                out.append((v.bit, r.date))
        _ROWS[key] = out
    return _ROWS[key]


def verdict(ctx, adm: Admitted, bad: int, unknown: int = 0) -> tuple[Severity, str] | None:
    """(severity, where it fails) for a fact that fails in the versions of mask `bad`."""
    lib = adm.lib
    label = "Python" if lib.name == PYTHON else lib.name
    bad_now = bad & adm.now
    if not bad_now:
        later_bad = bad & adm.later
        if later_bad and ctx.exclude_newer is not None:
            newest = lib.newest(adm.now)
            then = f"; the newest before then was {newest.version}" if newest else ""
            return Severity.minor, f"in {label} {lib.describe(later_bad)}, released after {ctx.exclude_newer}, which {adm.shown} admits{then}"
        return None
    newest = lib.newest(adm.now)
    if newest is not None and newest.bit & bad_now:
        if bad_now == adm.now:
            return Severity.blocker, f"in every indexed {label} version {adm.shown} admits ({lib.describe(adm.now)})"
        return Severity.blocker, f"in {label} {lib.describe(bad_now)}, which {adm.shown} admits, including {newest.version}, the newest{_as_of(ctx)}"
    if not adm.declared:
        return None  # no stated range: only the release a resolver picks counts
    good = adm.now & ~bad & ~unknown
    present = f" (present in {lib.describe(good)})" if good else ""
    if lib.name == PYTHON:
        # the interpreter is whatever the machine has: any admitted Python may run the code
        return Severity.major, f"in {label} {lib.describe(bad_now)}, which {adm.shown} also admits{present}"
    # a fresh install resolves to the newest admitted release, which has it: only an older pin
    # (a lock file, another package's upper bound) breaks the run
    return Severity.minor, (f"in {label} {lib.describe(bad_now)}, which {adm.shown} also admits{present}; a fresh install gets "
                            f"{newest.version if newest else 'the newest'}, which has it, so only an older pin breaks the run")


def _as_of(ctx) -> str:
    return f" before {ctx.exclude_newer}" if ctx.exclude_newer is not None else ""


# ----------------------------------------------------------------------------------- uses


@dataclass
class LibraryUse:
    kind: str  # "from-import", "import", "attribute"
    dotted: str  # resolved: "omegaconf.OmegaConf.deepcopy"
    shown: str  # as written
    line: int
    column: int
    module: str  # the prefix an import names as a module path


@dataclass
class AstNodes:
    """The CPython-tree nodes the index and runtime rules look at, gathered in one walk."""

    tree: ast.Module
    tries: list[ast.Try] = field(default_factory=list)
    assignments: list[ast.stmt] = field(default_factory=list)  # Assign, AugAssign, AnnAssign
    scopes: list[ast.AST] = field(default_factory=list)  # FunctionDef, AsyncFunctionDef, ClassDef
    future_annotations: bool = False


def ast_nodes(facts) -> AstNodes:
    cached = facts.__dict__.get("_ast_nodes")
    if cached is not None:
        return cached
    tree = facts.cpython.tree if facts.cpython is not None else ast.Module(body=[], type_ignores=[])
    out = AstNodes(tree)
    out.future_annotations = any(isinstance(s, ast.ImportFrom) and s.module == "__future__" and any(a.name == "annotations" for a in s.names)
                                 for s in tree.body)
    # statements only: every node wanted here is one, and expressions are most of a tree
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            out.assignments.append(node)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.scopes.append(node)
        elif isinstance(node, ast.Try) or (hasattr(ast, "TryStar") and isinstance(node, ast.TryStar)):
            out.tries.append(node)
            for h in node.handlers:
                stack.extend(h.body)
        elif hasattr(ast, "Match") and isinstance(node, ast.Match):
            for case in node.cases:
                stack.extend(case.body)
        for name in ("body", "orelse", "finalbody"):
            stack.extend(getattr(node, name, ()) or ())
    facts.__dict__["_ast_nodes"] = out
    return out


def _scan(facts) -> tuple[set[int], list[tuple[int, int, int, int]]]:
    """Lines guarded by a handler, and spans of annotations Python does not evaluate."""
    cached = facts.__dict__.get("_library_scan")
    if cached is not None:
        return cached
    nodes = ast_nodes(facts)
    guarded: set[int] = set()
    quiet: list[tuple[int, int, int, int]] = []

    def span(node):
        if node is not None:
            quiet.append((node.lineno, node.col_offset, node.end_lineno or node.lineno, node.end_col_offset or 0))

    for node in nodes.tries:
        caught: set[str] = set()
        for h in node.handlers:
            types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type] if h.type is not None else []
            caught.update(ast.unparse(t).rsplit(".", 1)[-1] for t in types)
            if h.type is None:
                caught.add("*")
        if caught & {"*", "Exception", "BaseException", "AttributeError", "ImportError", "ModuleNotFoundError", "TypeError"}:
            for st in node.body:
                guarded.update(range(st.lineno, (st.end_lineno or st.lineno) + 1))
    functions = [f for f in nodes.scopes if not isinstance(f, ast.ClassDef)]
    if nodes.future_annotations:
        for fn in functions:
            a = fn.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x is not None]:
                span(arg.annotation)
            span(fn.returns)
    for node in nodes.assignments:
        if isinstance(node, ast.AnnAssign) and (nodes.future_annotations or any(
                f.lineno < node.lineno <= (f.end_lineno or f.lineno) for f in functions)):
            span(node.annotation)
    result = facts.__dict__["_library_scan"] = (guarded, quiet)
    return result


def guarded_lines(facts) -> set[int]:
    """Lines inside a `try` whose handlers catch AttributeError/ImportError/TypeError (or
    anything), where a missing name or a rejected call is expected and handled."""
    return _scan(facts)[0]


def unevaluated_annotations(facts) -> list[tuple[int, int, int, int]]:
    """Spans of annotations Python never evaluates: every annotation under `from __future__
    import annotations`, and annotations of local variables in functions."""
    return _scan(facts)[1]


def import_kinds(idx, mi) -> dict[str, str]:
    """Local alias -> "third_party" / "stdlib" for the module's library imports."""
    cached = mi.__dict__.get("_library_alias_kinds")
    if cached is not None:
        return cached
    kinds: dict[str, str] = {}
    counts: dict[str, int] = {}
    for imp in mi.facts.imports:
        counts[imp.alias] = counts.get(imp.alias, 0) + 1
        if imp.level or imp.name == "*" or imp.module == "__future__":
            continue
        target = idx.resolve_import(mi, imp)
        if target.kind in ("third_party", "stdlib") and imp.pos.line not in mi.guarded_import_lines:
            kinds[imp.alias] = target.kind
    # a name bound again elsewhere (assigned, a parameter) is not reliably the import
    out = {a: k for a, k in kinds.items() if mi.bind_counts.get(a, 0) <= counts.get(a, 0)}
    mi.__dict__["_library_alias_kinds"] = out
    return out


def module_paths(mi) -> dict[str, str]:
    """Local alias -> the module path its import names (`from a.b import c` -> "a.b")."""
    return {imp.alias: imp.module for imp in mi.facts.imports if not imp.level}


def library_uses(ctx, mi) -> list[LibraryUse]:
    """Imports and attribute uses of library names in one module, resolved through its imports."""
    cached = mi.__dict__.get("_library_uses")
    if cached is not None:
        return cached
    idx = bundle_index(ctx)
    kinds = import_kinds(idx, mi)
    guarded = guarded_lines(mi.facts)
    out: list[LibraryUse] = []
    for imp in mi.facts.imports:
        if imp.level or imp.name == "*" or imp.module == "__future__" or imp.pos.line in mi.guarded_import_lines:
            continue
        if imp.pos.line in guarded:
            continue
        target = idx.resolve_import(mi, imp)
        if target.kind not in ("third_party", "stdlib"):
            continue
        if imp.name:
            out.append(LibraryUse("from-import", f"{imp.module}.{imp.name}", f"from {imp.module} import {imp.name}", imp.pos.line, imp.pos.column, imp.module))
        elif imp.alias == imp.module or "." in imp.module:
            out.append(LibraryUse("import", imp.module, f"import {imp.module}", imp.pos.line, imp.pos.column, imp.module))
    modules = module_paths(mi)
    import_paths = {(imp.pos.line, imp.module) for imp in mi.facts.imports}
    quiet = unevaluated_annotations(mi.facts)
    for use in mi.attr_uses:
        if use.store or (use.pos.line, use.dotted) in import_paths:
            continue  # an assignment target, or the module path of an import statement
        if any((l1, c1) <= (use.pos.line, use.pos.column - 1) < (l2, c2) for l1, c1, l2, c2 in quiet):
            continue
        head = use.dotted.split(".")[0]
        if head not in kinds or use.pos.line in guarded:
            continue
        last = use.dotted.rsplit(".", 1)[-1]
        if last in mi.attr_stores or last in mi.facts.guarded_keys.get(use.function, ()):
            continue  # assigned somewhere (monkeypatched), or behind hasattr/getattr
        out.append(LibraryUse("attribute", use.resolved, use.dotted, use.pos.line, use.pos.column, modules.get(head, head)))
    mi.__dict__["_library_uses"] = out
    return out


def library_of(dotted: str) -> LibraryApi | None:
    return api_index().library_for_module(dotted)


# ----------------------------------------------------------------------------------- values


def _unwrap(expr: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(expr, cst.Call) and dotted_name(expr.func) in ("list", "tuple", "set", "sorted", "str") and len(expr.args) == 1:
        expr = expr.args[0].value
    return expr


def literal_value(expr: cst.BaseExpression | None) -> object:
    """A literal string or list/tuple of strings; None otherwise."""
    if expr is None:
        return None
    expr = _unwrap(expr)
    text = literal_string(expr)
    if text is not None:
        return text
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        out = []
        for el in expr.elements:
            v = literal_string(el.value)
            if v is None:
                return None
            out.append(v)
        return out
    return None


#: timm's model factory under the names a call resolves to
TIMM_CREATE = frozenset({"timm.create_model", "timm.models.create_model", "timm.models._factory.create_model", "timm.models.factory.create_model"})


def _names(value: object) -> bool:
    return isinstance(value, (str, list, tuple)) and (not isinstance(value, (list, tuple)) or all(isinstance(v, str) for v in value))


def expression_values(ctx, facts, function: str | None, line: int, expr: cst.BaseExpression | None,
                      accept=_names) -> list[tuple[object, str | None]]:
    """The values an argument takes: [(literal, None)], or per run [(value, run_id)] for a read of
    the run's config (`cfg.model.name`, `p.target_modules` with `p = cfg.model.peft`), as the
    program model's run of each command reads it; [] when unknown. `accept` says which values
    a run's read may give (names, a string or a list of them, unless told otherwise)."""
    if expr is None:
        return []
    lit = literal_value(expr)
    inner = _unwrap(expr)
    if lit is None and isinstance(inner, cst.Name) and inner.value in ("True", "False"):
        lit = inner.value == "True"
    if lit is not None:
        return [(lit, None)] if accept(lit) else []
    parts = _chain_parts(inner)
    if not parts or len(parts) < 2:
        return []
    pos = facts.pos_of(inner)
    out: list[tuple[object, str | None]] = []
    if pos is not None:
        for run in run_model(ctx).runs:
            reads = [r for r in run.trace.reads if r.path == facts.path and r.line == pos.line and r.col == pos.column
                     and r.status == "ok" and r.key and r.key[-1] == parts[-1] and not r.speculative]
            if reads:
                value = max(reads, key=lambda r: len(r.key)).value
                if accept(value):
                    out.append((list(value) if isinstance(value, tuple) else value, run.command.run_id))
    return out or _run_config_values(ctx, parts)


def _run_config_values(ctx, parts: tuple[str, ...]) -> list[tuple[object, str | None]]:
    """Where the config flow is not understood (the bundle loads and merges the run file
    itself), a read of a config root (`cfg.model.lora.target_modules`) takes the value that key
    path has in each run config, when every run config has it."""
    path = parts[1:]
    rooted = parts[0] in ("cfg", "config", "conf", "run_cfg", "config_dict")
    if rooted and path and path[0] in ("run", "runs"):
        path = path[1:]
    out: list[tuple[object, str | None]] = []
    runs = ctx.run_files
    for run in runs:
        data = run.doc.data if run.doc is not None else None
        if rooted:
            for key in path:
                data = data.get(key) if isinstance(data, dict) else None
        else:
            # `model_cfg.pretrained` with `model_cfg` a node of the config: the one key path of
            # the run config that ends with the attribute path, when there is exactly one
            found = [v for k, v in leaf_items(data) if k[-len(path):] == path] if path else []
            data = found[0] if len(found) == 1 else None
        if data is None or isinstance(data, dict) or (isinstance(data, str) and data.startswith("${")):
            return []
        out.append((data, run.run_id))
    return out



# ----------------------------------------------------------------------------------- reach


def undecided(ctx, path: str, line: int) -> bool:
    """The program model followed the commands, with the run configs, and still saw the library
    call on `path:line` only on paths it cannot decide (a branch on a value it does not know): as
    for config reads, such a crash is reported as minor -- it happens only if that path runs."""
    if not ctx.run_files:
        return False  # no run configs (a JSON bundle): every branch is unknown; judge as written
    try:
        runs = run_model(ctx).runs
    except Exception:  # noqa: BLE001 -- no program model: judge as written
        return False
    events = [c for run in runs for c in run.trace.calls if c.path == path and c.line == line]
    return bool(events) and all(c.maybe for c in events)


def hedged(ctx, path: str, line: int, severity: Severity) -> tuple[Severity, str]:
    if severity is Severity.blocker and undecided(ctx, path, line):
        return Severity.minor, "; only on a path the audit cannot decide (a branch on a value it does not know)"
    return severity, ""
