"""What the Hydra and mode rules share: entry points, composed configs, and where configs flow.

One `HydraModel` per audit context (`hydra_model(ctx)`), computed lazily and cached:

* **Entry points.** Every `@hydra.main(...)` function of the bundle, with `config_path`
  resolved the way Hydra resolves it for `python -m src.x` (relative to the module's folder),
  `config_name`, and whether `version_base` is given.
* **Composed configs.** For each entry point and each run config, the config Hydra composes
  (via `reviewer_audit.program.hydra_compose`, Hydra's own loader over the bundle in memory). The
  main entry gets the prompt's command line (`run=<id> results_dir=... mode=full`); the
  training entry, when `src.main` spawns `python -m src.train ...`, additionally gets the
  structural overrides main passes to the child (`+runs=<id>`, config-group choices).
* **Config flow.** Which function parameter or local name holds which part of which composed
  config ("views"), followed through call sites across modules, reassignments
  (`cfg = OmegaConf.merge(cfg, run_cfg)`, `cfg = helper(cfg, ...)`), closures and copies
  (`OmegaConf.create(OmegaConf.to_container(cfg))` is no longer in struct mode). A name whose
  origin is not understood is `None` (unknown), and rules stay silent about it.
* **Child overrides.** The override tokens main passes to `python -m src.train`, with the
  source position of each string, evaluated through lists, `+=`, `.append`, dict constants and
  small helper functions.

Nothing here imports or runs bundle code: Python is read through libcst facts, YAML as data,
and Hydra/OmegaConf only ever see the bundle's YAML text.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator

import libcst as cst

from reviewer_audit.program.cst_walk import Walker
from reviewer_audit.program.facts import (
    CallFact,
    FunctionFact,
    ModuleFacts,
    Pos,
    _chain_parts,
    dotted_name,
    fstring_template,
    literal_string,
)

#: Modules whose code receives the Hydra config (evaluate.py loads its own config).
HYDRA_MODULES = ("src/main.py", "src/train.py", "src/model.py", "src/preprocess.py")
_MAIN = "src/main.py"
_TRAIN = "src/train.py"

_SUBPROCESS = {
    "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
    "subprocess.Popen", "os.system", "os.execv", "os.execvp", "os.execvpe", "os.spawnv",
}
_OVERRIDE_TOKEN = re.compile(r"^(?P<prefix>\+{1,2}|~)?(?P<key>[A-Za-z_][\w.-]*(?:@[\w.]+)?)=(?P<value>.*)$", re.S)
_OPEN_DICT = ("open_dict", "omegaconf.open_dict", "OmegaConf.open_dict", "flag_override", "omegaconf.flag_override")

#: Placeholder key for a merged node whose contents are not known.
_ANY = object()


# --------------------------------------------------------------------------- records


@dataclass
class EntryPoint:
    """One `@hydra.main` task function."""

    path: str
    module: ModuleFacts
    function: FunctionFact
    pos: Pos  # the decorator
    param: str | None  # the parameter receiving the config
    config_path: str | None
    config_path_given: bool
    config_name: str | None
    config_name_given: bool
    version_base_given: bool
    version_base: str | None
    #: False when an argument is not a literal (e.g. `config_path=CONFIG_DIR`)
    literal: bool
    #: bundle folder Hydra searches (e.g. "config"); None when there is none or it is unknown
    config_dir: str | None = None

    @property
    def compose_version_base(self) -> str | None:
        """What `hydra.main` hands `version.setbase`: an absent argument means 1.1 behaviour."""
        return self.version_base if self.version_base_given else "1.1"

    @property
    def effective_config_path(self) -> str | None:
        if self.config_path_given:
            return self.config_path
        # Hydra 1.3 `main`: unspecified config_path is "." below version_base 1.2, None from 1.2
        vb = self.compose_version_base
        return "." if vb is not None and _version_tuple(vb) < (1, 2) else None


@dataclass(frozen=True)
class View:
    """A part of one entry point's composed config, as seen by some name in the code."""

    entry: str  # entry module path, e.g. "src/train.py"
    path: tuple[str, ...] = ()
    #: what was merged over it: ("run",) the run file; ("node", path) a subtree; ("keys", keys)
    extras: tuple = ()
    #: True = Hydra's struct flag is on; False = a plain copy; None = not known
    struct: bool | None = True


@dataclass
class Token:
    """One command-line token of a child command (an override such as `run={}`)."""

    text: str  # template with `{}` holes
    holes: tuple[cst.BaseExpression, ...]
    pos: Pos | None
    function: str | None
    passthrough: bool = False  # sys.argv[1:] and friends

    @property
    def override(self) -> re.Match | None:
        return _OVERRIDE_TOKEN.match(self.text) if not self.passthrough else None


@dataclass
class _Assign:
    target: cst.BaseExpression
    value: cst.BaseExpression
    line: int
    aug: bool = False


@dataclass
class _ModuleIndex:
    """Position-aware extras libcst facts do not keep: assignments, returns, string nodes."""

    assigns: dict[str | None, list[_Assign]] = field(default_factory=dict)
    returns: dict[str | None, list[cst.BaseExpression]] = field(default_factory=dict)
    fstrings: list[tuple[cst.FormattedString, Pos, str | None]] = field(default_factory=list)
    #: path-building expressions: (segments: literal str or None for a hole, last template, pos, function)
    paths: list[tuple[list[str | None], str | None, Pos, str | None]] = field(default_factory=list)
    #: dynamic subscript stores `x[k] = v` on a chain: (root chain parts, function, line)
    dynamic_stores: list[tuple[tuple[str, ...], str | None, int]] = field(default_factory=list)
    #: for loops: (node, position, function)
    fors: list[tuple[cst.For, Pos, str | None]] = field(default_factory=list)
    #: maximal attribute reads rooted at any name: (root, path, line, function)
    reads: list[tuple[str, tuple[str, ...], int, str | None]] = field(default_factory=list)


class _IndexVisitor(Walker):
    """One walk per module; positions come from the module's shared position map."""

    def __init__(self, index: _ModuleIndex, mod: ModuleFacts) -> None:
        super().__init__()
        self.index = index
        self.mod = mod
        self.scope: list[str] = []
        self.funcs: list[str] = []
        self._path_nodes: set[int] = set()
        self.frames: list[tuple] = []  # records completed when their owner node is left

    # ---- positions
    def _pos(self, node: cst.CSTNode) -> Pos:
        return self.mod.pos_of(node) or Pos(1, 1)

    def _open(self, apply, owner: cst.CSTNode) -> None:
        """Call `apply(position of owner)` once `owner`'s children have been walked, so records
        keep the order in which their owners end."""
        self.frames.append((apply, owner))

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        while self.frames and self.frames[-1][1] is original_node:
            apply, owner = self.frames.pop()
            apply(self._pos(owner))

    @property
    def fn(self) -> str | None:
        return self.funcs[-1] if self.funcs else None

    # ---- scopes
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scope.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        qual = ".".join([*self.scope, node.name.value])
        self.scope.append(node.name.value)
        self.funcs.append(qual)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scope.pop()
        self.funcs.pop()

    # ---- assignments and loops
    def _assign(self, owner, target, value, aug=False) -> None:
        fn = self.fn
        rec = _Assign(target, value, 0, aug)
        self.index.assigns.setdefault(fn, []).append(rec)

        def apply(pos: Pos, rec=rec, target=target, fn=fn) -> None:
            rec.line = pos.line
            self._dynamic_store(target, pos.line, fn)

        self._open(apply, owner)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._assign(node, t.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._assign(node, node.target, node.value if node.value is not None else cst.Name("__loop__"))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._assign(node, node.target, node.value, aug=isinstance(node.operator, cst.AddAssign))

    def visit_For(self, node: cst.For) -> None:
        # a loop variable rebinds its name: record it as an assignment from an unknown value
        fn = self.fn
        rec = _Assign(node.target, cst.Name("__loop__"), 0)
        self.index.assigns.setdefault(fn, []).append(rec)
        iter_pos = self._pos(node.iter)  # a loop is placed where its iterable is

        def apply(_owner_pos: Pos, rec=rec, node=node, fn=fn) -> None:
            rec.line = iter_pos.line
            self.index.fors.append((node, iter_pos, fn))

        self._open(apply, node)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.index.returns.setdefault(self.fn, []).append(node.value)

    # ---- attribute reads rooted at any name
    def visit_Attribute(self, node: cst.Attribute) -> None:
        if id(node) in self._path_nodes:
            return
        parts = _chain_parts(node)
        if parts is None:
            return  # `a.b[i].c`: the inner `a.b` is recorded when it is visited
        inner = node.value
        while isinstance(inner, (cst.Attribute, cst.Subscript)):
            self._path_nodes.add(id(inner))
            inner = inner.value
        if parts and len(parts) > 1:
            if parts[0] == "self" and len(parts) > 2:
                root, rest = f"self.{parts[1]}", parts[2:]
            else:
                root, rest = parts[0], parts[1:]
            fn = self.fn
            self.index.reads.append((root, tuple(rest), self._pos(node).line, fn))

    # ---- strings
    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        if fstring_template(node) is not None:
            self.index.fstrings.append((node, self._pos(node), self.fn))

    # ---- paths built from "config" / "<folder>" / f"{run}.yaml"
    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Divide) and id(node) not in self._path_nodes:
            operands: list[cst.BaseExpression] = []
            cur: cst.BaseExpression = node
            while isinstance(cur, cst.BinaryOperation) and isinstance(cur.operator, cst.Divide):
                self._path_nodes.add(id(cur))
                operands.append(cur.right)
                cur = cur.left
            operands.append(cur)
            self._record_path(node, list(reversed(operands)))

    def visit_Call(self, node: cst.Call) -> None:
        name = dotted_name(node.func) or ""
        if name.endswith(("path.join", "joinpath")) or name in ("Path", "pathlib.Path"):
            self._record_path(node, [a.value for a in node.args if not a.star and a.keyword is None])

    def _record_path(self, owner: cst.CSTNode, operands: list[cst.BaseExpression]) -> None:
        segs: list[str | None] = []
        for op in operands:
            s = literal_string(op)
            if s is not None:
                segs.extend(p for p in s.split("/") if p)
            else:
                segs.append(None)
        if "config" not in segs:
            return
        last = operands[-1] if operands else None
        template = None
        if isinstance(last, cst.FormattedString):
            template = "".join(p.value if isinstance(p, cst.FormattedStringText) else "{}" for p in last.parts)
        fn = self.fn
        self._open(lambda pos, segs=segs, template=template, fn=fn: self.index.paths.append((segs, template, pos, fn)), owner)

    def _dynamic_store(self, target: cst.BaseExpression, line: int, fn: str | None) -> None:
        if isinstance(target, cst.Subscript) and len(target.slice) == 1:
            el = target.slice[0].slice
            if isinstance(el, cst.Index) and literal_string(el.value) is None:
                parts = _chain_parts(target.value)
                if parts:
                    self.index.dynamic_stores.append((parts, fn, line))


# --------------------------------------------------------------------------- helpers


def quote_value(value: str) -> str:
    """An override value as a user would type it: quoted when Hydra's grammar needs it."""
    return value if re.fullmatch(r"[\w.\-/]+", value) else "'" + value.replace("'", "\\'") + "'"


def _version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in str(v).split(".")[:2])
    except ValueError:
        return (1, 3)


def _literal_or_none(node: cst.BaseExpression | None) -> tuple[bool, str | None]:
    """(is static, value) for a string literal or `None`."""
    if node is None:
        return True, None
    if isinstance(node, cst.Name) and node.value == "None":
        return True, None
    s = literal_string(node)
    return (s is not None), s


def _names_in(node: cst.CSTNode) -> set[str]:
    """Every bare name used inside an expression (cheap recursive walk)."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.add(n.value)
        stack.extend(n.children)
    return out


def plain(node: Any) -> Any:
    """A composed DictConfig as plain containers; interpolations stay as `${...}` strings."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(node, resolve=False, throw_on_missing=False)


def _deep_merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for k, v in extra.items():
            out[k] = _deep_merge(out[k], v) if k in out else v
        return out
    return extra


@dataclass
class Lookup:
    """Result of resolving a key path in composed config data."""

    status: str  # "ok", "missing", "leaf", "unknown"
    index: int = -1  # first segment that failed
    keys: tuple[str, ...] = ()  # keys available where it failed ("missing")
    leaf: Any = None  # value reached ("leaf")


def walk(data: Any, path: Iterable[str]) -> Lookup:
    cur = data
    for i, seg in enumerate(path):
        if isinstance(cur, dict):
            if seg in cur:
                cur = cur[seg]
                continue
            if _ANY in cur:
                return Lookup("unknown", i)
            return Lookup("missing", i, tuple(str(k) for k in cur if k is not _ANY))
        if isinstance(cur, str) and (cur.startswith("${") or cur == "???"):
            return Lookup("unknown", i)
        if isinstance(cur, (str, int, float, bool)) or cur is None:
            if isinstance(cur, str) and hasattr(str, seg):
                return Lookup("unknown", i)
            return Lookup("leaf", i, leaf=cur)
        return Lookup("unknown", i)
    return Lookup("ok", leaf=cur)


# --------------------------------------------------------------------------- the model


class HydraModel:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._indexes: dict[str, _ModuleIndex] = {}
        self._compose_cache: dict[tuple, Any] = {}
        self._binding_memo: dict[tuple, frozenset | None] = {}
        self._in_progress: set[tuple] = set()
        self._callsite_index: dict[tuple[str, str], list[tuple[ModuleFacts, CallFact, bool]]] | None = None

    # ------------------------------------------------------------------ modules

    @property
    def modules(self) -> dict[str, ModuleFacts]:
        return {p: m for p in HYDRA_MODULES if (m := self.ctx.module(p)) is not None}

    def index(self, mod: ModuleFacts) -> _ModuleIndex:
        idx = self._indexes.get(mod.path)
        if idx is None:
            idx = _ModuleIndex()
            try:
                _IndexVisitor(idx, mod).walk(mod.tree)
            except RecursionError:
                pass
            self._indexes[mod.path] = idx
        return idx

    # ------------------------------------------------------------------ entry points

    @property
    def entries(self) -> dict[str, EntryPoint]:
        cached = self.__dict__.get("_entries")
        if cached is None:
            cached = self.__dict__["_entries"] = self._find_entries()
        return cached

    def _find_entries(self) -> dict[str, EntryPoint]:
        out: dict[str, EntryPoint] = {}
        for path, mod in sorted(self.ctx.modules.items()):
            calls_by_node = {id(c.node): c for c in mod.calls}
            for fn in mod.functions.values():
                for dec in fn.node.decorators:
                    expr = dec.decorator
                    call = expr if isinstance(expr, cst.Call) else None
                    name = dotted_name(call.func if call else expr)
                    if mod.resolve(name) != "hydra.main":
                        continue
                    cf = calls_by_node.get(id(call)) if call else None
                    args = list(call.args) if call else []
                    names = ["config_path", "config_name", "version_base"]
                    given: dict[str, cst.BaseExpression] = {}
                    for i, a in enumerate(args):
                        if a.keyword is not None:
                            given[a.keyword.value] = a.value
                        elif not a.star and i < 3:
                            given[names[i]] = a.value
                    literal = True
                    values: dict[str, str | None] = {}
                    for n in names:
                        ok, v = _literal_or_none(given.get(n))
                        literal &= ok
                        values[n] = v
                    params = [p for p in fn.params if p.kind in ("positional", "keyword_only")]
                    ep = EntryPoint(
                        path=path, module=mod, function=fn, pos=cf.pos if cf else fn.pos,
                        param=params[0].name if params else None,
                        config_path=values["config_path"], config_path_given="config_path" in given,
                        config_name=values["config_name"], config_name_given="config_name" in given,
                        version_base_given="version_base" in given, version_base=values["version_base"],
                        literal=literal,
                    )
                    cp = ep.effective_config_path
                    if literal and cp is not None:
                        key = posixpath.normpath(posixpath.join(posixpath.dirname(path), cp))
                        ep.config_dir = None if key == ".." or key.startswith("../") else key
                    out.setdefault(path, ep)
        return out

    def config_dir_exists(self, config_dir: str | None) -> bool:
        if config_dir is None:
            return False
        prefix = "" if config_dir == "." else config_dir + "/"
        return any(p.startswith(prefix) for p in self.files)

    # ------------------------------------------------------------------ files and runs

    @property
    def files(self) -> dict[str, str]:
        cached = self.__dict__.get("_files")
        if cached is None:
            cached = {p: f.text for p, f in self.ctx.bundle.files.items() if p.endswith((".yaml", ".yml"))}
            for run in self.ctx.run_files:
                cached.setdefault(run.path, run.text)
            self.__dict__["_files"] = cached
        return cached

    @property
    def run_ids(self) -> list[str]:
        return [r.run_id for r in self.ctx.run_files]

    def run_file(self, run_id: str):
        return next((r for r in self.ctx.run_files if r.run_id == run_id), None)

    def config_groups(self, entry: EntryPoint) -> set[str]:
        """Sub-folders of the entry's config folder holding YAML (Hydra config groups)."""
        root = entry.config_dir
        if root is None:
            return set()
        prefix = "" if root == "." else root + "/"
        out = set()
        for p in self.files:
            if p.startswith(prefix):
                rest = p[len(prefix):]
                if "/" in rest:
                    out.add(rest.split("/", 1)[0])
        return out

    # ------------------------------------------------------------------ command lines

    def cli_overrides(self, run_id: str, variant: str = "full") -> list[str]:
        """The prompt's command line for src.main, filled in for one run and mode."""
        spec = self.ctx.spec
        forms = spec.cli_for("src.main")
        chosen = None
        for f in forms:
            modes = re.findall(r"(?<![\w.])mode=(\w+)", f.command)
            if modes and modes[0] == variant:
                chosen = f
                break
        if chosen is None:
            chosen = next((f for f in forms if any(a.name == "run" for a in f.args)), None)
        out: list[str] = []
        rid = quote_value(run_id)
        if chosen is None:
            out = [f"run={rid}"]
        else:
            # read the arguments from the command itself: `wandb.mode=online` has a dotted key
            tail = chosen.command.split(chosen.module, 1)[-1]
            for name, value in re.findall(r"([+~]*[\w.]+)=('[^']*'|\"[^\"]*\"|\S+)", tail):
                value = value.replace("{run_id}", rid).replace("{path}", "results")
                value = re.sub(r"\{[^}]*\}", "x", value)
                out.append(f"{name}={value}")
        if variant == "trial" and spec.has("trial_mode_flag") and not any(o.startswith("trial_mode=") for o in out):
            out.append("trial_mode=true")
        return out

    def child_tokens(self) -> list[Token] | None:
        """Tokens of `python -m src.train ...` as spawned by src.main; None if main does not spawn it."""
        cached = self.__dict__.get("_child_tokens", 0)
        if cached != 0:
            return cached
        result = None
        mod = self.ctx.module(_MAIN)
        if mod is not None:
            for call in mod.calls:
                if call.resolved not in _SUBPROCESS and call.func not in _SUBPROCESS:
                    continue
                first = call.positional()[0] if call.positional() else call.keyword("args")
                if first is None:
                    continue
                tokens = self.eval_tokens(mod, call.function, first, 0)
                texts = [t.text for t in tokens]
                at = next((i for i, t in enumerate(texts) if t in ("src.train", "src/train.py") or t.endswith("src/train.py")), None)
                if at is None:
                    continue
                result = (result or []) + tokens[at + 1:]
        self.__dict__["_child_tokens"] = result
        return result

    def eval_tokens(self, mod: ModuleFacts, fq: str | None, expr: cst.BaseExpression, depth: int) -> list[Token]:
        if depth > 8:
            return []
        idx = self.index(mod)
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
            s = literal_string(expr)
            if s is None:
                return []
            pos = mod.pos_of(expr)
            return [Token(part, (), pos, fq) for part in s.split()] if s.strip() else []
        if isinstance(expr, cst.FormattedString):
            pos = mod.pos_of(expr)
            pieces: list[tuple[str, cst.BaseExpression | None]] = []
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    pieces.append((part.value, None))
                else:
                    pieces.append(("{}", part.expression))
            text = "".join(p for p, _ in pieces)
            holes = tuple(e for _, e in pieces if e is not None)
            if len(text.split()) <= 1:
                return [Token(text.strip(), holes, pos, fq)]
            # a shell string: split on spaces, handing each hole to its piece
            out: list[Token] = []
            hole_iter = iter(holes)
            for word in text.split():
                n = word.count("{}")
                out.append(Token(word, tuple(next(hole_iter) for _ in range(n)), pos, fq))
            return out
        if isinstance(expr, (cst.List, cst.Tuple)):
            out = []
            for el in expr.elements:
                out += self.eval_tokens(mod, fq, el.value, depth + 1)
            return out
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self.eval_tokens(mod, fq, expr.left, depth + 1) + self.eval_tokens(mod, fq, expr.right, depth + 1)
        if isinstance(expr, cst.Dict):
            out = []
            for el in expr.elements:
                if isinstance(el, cst.DictElement):
                    out += self.eval_tokens(mod, fq, el.value, depth + 1)
            return out
        if isinstance(expr, cst.Subscript):
            base = dotted_name(expr.value)
            if base in ("sys.argv",):
                return [Token("", (), None, fq, passthrough=True)]
            return self.eval_tokens(mod, fq, expr.value, depth + 1)
        if isinstance(expr, cst.Name):
            return self._tokens_of_name(mod, fq, expr.value, depth)
        if isinstance(expr, cst.Call):
            name = dotted_name(expr.func) or ""
            resolved = mod.resolve(name) or name
            args = [a.value for a in expr.args if not a.star]
            if resolved.endswith("get_original_cli_args") or resolved == "sys.argv":
                return [Token("", (), None, fq, passthrough=True)]
            if name.endswith(".join") or resolved in ("shlex.split", "list", "tuple") or name.endswith(".split"):
                target = args[0] if args and (name.endswith(".join") or resolved in ("shlex.split", "list", "tuple")) else (expr.func.value if isinstance(expr.func, cst.Attribute) else None)
                return self.eval_tokens(mod, fq, target, depth + 1) if target is not None else []
            fn = self._local_function(mod, fq, name)
            if fn is not None:
                out = []
                for ret in self.index(mod).returns.get(fn.qualname, []):
                    out += self.eval_tokens(mod, fn.qualname, ret, depth + 1)
                return out
        return []

    def _tokens_of_name(self, mod: ModuleFacts, fq: str | None, name: str, depth: int) -> list[Token]:
        idx = self.index(mod)
        out: list[Token] = []
        scopes = [fq]
        if fq is not None and not any(self._assign_target_is(a.target, name) for a in idx.assigns.get(fq, [])):
            scopes.append(None)  # a module-level constant
        for scope in scopes:
            for a in idx.assigns.get(scope, []):
                if self._assign_target_is(a.target, name):
                    out += self.eval_tokens(mod, scope, a.value, depth + 1)
            for c in mod.calls:
                if c.function == scope and c.func in (f"{name}.append", f"{name}.extend", f"{name}.insert"):
                    args = c.positional()
                    if args:
                        out += self.eval_tokens(mod, scope, args[-1], depth + 1)
            if out:
                break
        return out

    @staticmethod
    def _assign_target_is(target: cst.BaseExpression, name: str) -> bool:
        if isinstance(target, cst.Name):
            return target.value == name
        return dotted_name(target) == name

    def _local_function(self, mod: ModuleFacts, fq: str | None, name: str) -> FunctionFact | None:
        if not name or "." in name:
            return None
        if fq:
            nested = mod.functions.get(f"{fq}.{name}")
            if nested is not None:
                return nested
        return mod.functions.get(name)

    def token_value(self, tok: Token, run_id: str) -> str:
        """A token with its holes filled: the command line's value for the same key, the run id
        for run-like expressions, a dummy otherwise."""
        m = tok.override
        if m is not None and tok.holes and m.group("value") == "{}":
            for o in self.cli_overrides(run_id):
                if o.split("=", 1)[0] == m.group("key") and not m.group("prefix"):
                    return o
        text = tok.text
        for hole in tok.holes:
            names = " ".join(_names_in(hole)) + " " + (dotted_name(hole) or "")
            text = text.replace("{}", quote_value(run_id) if "run" in names.lower() else "x", 1)
        return text

    # ------------------------------------------------------------------ compositions

    @property
    def training_entry(self) -> EntryPoint | None:
        """The entry whose config the training code receives."""
        train = self.entries.get(_TRAIN)
        return train if train is not None else self.entries.get(_MAIN)

    def structural_child_overrides(self, entry: EntryPoint, run_id: str) -> list[str]:
        """Overrides main passes to the training child that change the config's shape."""
        tokens = self.child_tokens() if entry.path == _TRAIN else None
        if not tokens:
            return []
        groups = self.config_groups(entry)
        out = []
        for tok in tokens:
            m = tok.override
            if m is None:
                continue
            key = m.group("key").split("@")[0]
            if m.group("prefix") in ("+", "++") or key in groups:
                out.append(self.token_value(tok, run_id))
        return out

    def overrides_for(self, entry: EntryPoint, run_id: str, variant: str = "full", child: str = "structural") -> list[str]:
        base = self.cli_overrides(run_id, variant)
        if entry.path == _TRAIN and self.child_tokens():
            if child == "structural":
                extra = self.structural_child_overrides(entry, run_id)
            else:
                extra = [self.token_value(t, run_id) for t in self.child_tokens() or [] if t.override is not None]
            # the child's value replaces the command line's in place, so equal sets compose once
            merged = list(base)
            for e in extra:
                key = re.sub(r"^[+~]+", "", e.split("=", 1)[0])
                at = next((i for i, b in enumerate(merged) if b.split("=", 1)[0] == key), None)
                if at is None:
                    merged.append(e)
                else:
                    merged[at] = e
            return merged
        return base

    def compose(self, entry: EntryPoint, overrides: list[str]):
        from reviewer_audit.program.hydra_compose import compose

        # the same folder, name, version base and overrides compose the same config for any entry
        key = (entry.config_dir, entry.config_name, entry.compose_version_base, tuple(overrides))
        res = self._compose_cache.get(key)
        if res is None:
            res = compose(self.files, entry.config_dir, entry.config_name, overrides, version_base=entry.compose_version_base)
            self._compose_cache[key] = res
        return res

    def composable(self, entry: EntryPoint) -> bool:
        """The entry's config folder and primary config exist (else RA202 reports it)."""
        if not entry.literal or entry.config_dir is None or not self.config_dir_exists(entry.config_dir):
            return False
        if entry.config_name is None:
            return False
        name = entry.config_name if entry.config_name.endswith((".yaml", ".yml")) else entry.config_name + ".yaml"
        full = name if entry.config_dir == "." else f"{entry.config_dir}/{name}"
        return full in self.files

    def composed(self, entry: EntryPoint, run_id: str, variant: str = "full"):
        return self.compose(entry, self.overrides_for(entry, run_id, variant))

    def data(self, entry_path: str, run_id: str) -> Any:
        """Plain data of the entry's composed config for a run; None when it does not compose."""
        key = ("data", entry_path, run_id)
        if key in self._compose_cache:
            return self._compose_cache[key]
        entry = self.entries.get(entry_path)
        value = None
        if entry is not None and self.composable(entry):
            res = self.composed(entry, run_id)
            if res.config is not None:
                try:
                    value = plain(res.config)
                except Exception:  # noqa: BLE001 -- odd configs: treat as unknown
                    value = None
        self._compose_cache[key] = value
        return value

    def node(self, entry_path: str, run_id: str, path: tuple[str, ...]):
        """The composed OmegaConf node at `path` (for str() of a node), or None."""
        entry = self.entries.get(entry_path)
        if entry is None or not self.composable(entry):
            return None
        res = self.composed(entry, run_id)
        if res.config is None:
            return None
        cur = res.config
        try:
            for seg in path:
                cur = cur[seg]
        except Exception:  # noqa: BLE001
            return None
        return cur

    def view_data(self, view: View, run_id: str) -> Any:
        """The data a view sees for one run (composed subtree plus what was merged over it)."""
        data = self.data(view.entry, run_id)
        if data is None:
            return None
        sub = walk(data, view.path)
        if sub.status != "ok":
            return None
        value = sub.leaf
        for extra in view.extras:
            if extra[0] == "run":
                run = self.run_file(run_id)
                if run is None or run.doc is None or not isinstance(run.doc.data, dict):
                    return None
                value = _deep_merge(value, run.doc.data)
            elif extra[0] == "node":
                other = walk(data, extra[1])
                if other.status != "ok":
                    return None
                value = _deep_merge(value, other.leaf)
            elif extra[0] == "keys":
                value = _deep_merge(value, {k: {_ANY: None} for k in extra[1]})
            else:
                return None
        return value

    def lookup(self, view: View, run_id: str, path: tuple[str, ...]) -> Lookup:
        data = self.view_data(view, run_id)
        if data is None:
            return Lookup("unknown")
        return walk(data, path)

    # ------------------------------------------------------------------ call graph

    def _module_for_import(self, mod: ModuleFacts, module: str, level: int) -> ModuleFacts | None:
        if level:
            pkg = mod.module_name.rsplit(".", level)[0] if "." in mod.module_name else ""
            module = f"{pkg}.{module}" if module and pkg else (module or pkg)
        return self.ctx.module_by_name(module)

    def _resolve_callee(self, mod: ModuleFacts, call: CallFact) -> tuple[ModuleFacts, FunctionFact, bool] | None:
        """The bundle function a call reaches: (module, function, bound method?)."""
        name = call.func
        if not name or name.endswith("()"):
            return None
        parts = name.split(".")
        if len(parts) == 1:
            fn = self._local_function(mod, call.function, name)
            if fn is not None:
                return mod, fn, False
            if name in mod.classes:
                init = mod.functions.get(f"{name}.__init__")
                return (mod, init, True) if init else None
            for imp in mod.imports:
                if imp.alias == name and imp.name:
                    target = self._module_for_import(mod, imp.module, imp.level)
                    if target is not None:
                        if imp.name in target.functions:
                            return target, target.functions[imp.name], False
                        init = target.functions.get(f"{imp.name}.__init__")
                        if init is not None:
                            return target, init, True
            return None
        if len(parts) == 2:
            head, attr = parts
            if head == "self" and call.function and "." in call.function:
                cls = call.function.split(".")[0]
                fn = mod.functions.get(f"{cls}.{attr}")
                return (mod, fn, True) if fn else None
            for imp in mod.imports:
                if imp.alias == head:
                    target = None
                    if imp.name:
                        target = self._module_for_import(mod, f"{imp.module}.{imp.name}" if imp.module else imp.name, imp.level)
                    else:
                        target = self._module_for_import(mod, imp.module, imp.level)
                    if target is not None and attr in target.functions:
                        return target, target.functions[attr], False
        return None

    def callsites(self, mod: ModuleFacts, fn: FunctionFact) -> list[tuple[ModuleFacts, CallFact, bool]]:
        if self._callsite_index is None:
            index: dict[tuple[str, str], list] = {}
            for m in self.ctx.modules.values():
                for c in m.calls:
                    target = self._resolve_callee(m, c)
                    if target is not None:
                        tm, tf, bound = target
                        index.setdefault((tm.path, tf.qualname), []).append((m, c, bound))
            self._callsite_index = index
        return self._callsite_index.get((mod.path, fn.qualname), [])

    # ------------------------------------------------------------------ config flow

    def _entry_for_function(self, mod: ModuleFacts, fq: str | None) -> EntryPoint | None:
        ep = self.entries.get(mod.path)
        return ep if ep is not None and fq == ep.function.qualname else None

    def binding(self, mod: ModuleFacts, fq: str | None, name: str, line: int) -> frozenset | None:
        """Views a name may hold at `line` of function `fq`; None when unknown."""
        key = (mod.path, fq, name, line)
        if key in self._binding_memo:
            return self._binding_memo[key]
        if key in self._in_progress:
            return None
        self._in_progress.add(key)
        try:
            result = self._binding(mod, fq, name, line)
        finally:
            self._in_progress.discard(key)
        self._binding_memo[key] = result
        return result

    def _binding(self, mod: ModuleFacts, fq: str | None, name: str, line: int) -> frozenset | None:
        idx = self.index(mod)
        # 1. the latest rebinding before `line` in this function
        best: _Assign | None = None
        for a in idx.assigns.get(fq, []):
            if a.line < line and self._assign_target_is(a.target, name) and not a.aug:
                if best is None or a.line >= best.line:
                    best = a
        if best is not None:
            return self.eval_views(mod, fq, best.value, best.line, rebinding=name)
        if fq is None:
            return None
        fn = mod.functions.get(fq)
        if fn is None:
            return None
        # 2. the Hydra task function's parameter
        ep = self._entry_for_function(mod, fq)
        if ep is not None and name == ep.param:
            return frozenset({View(ep.path)})
        # 3. a parameter: whatever every call site passes
        params = fn.params[1:] if fn.is_method else fn.params
        names = [p.name for p in params]
        if name in names:
            i = names.index(name)
            param = params[i]
            sites = self.callsites(mod, fn)
            if not sites:
                return None
            views: set = set()
            for cmod, call, bound in sites:
                args = list(call.node.args)
                if any(a.star for a in args):
                    return None
                arg = None
                positional = [a.value for a in args if a.keyword is None]
                if param.kind == "positional" and i < len(positional):
                    arg = positional[i]
                else:
                    arg = call.keyword(name)
                if arg is None:
                    if param.has_default:
                        continue
                    return None
                got = self.eval_views(cmod, call.function, arg, call.pos.line)
                if got is None:
                    return None
                views |= got
            return frozenset(views) if views else None
        # 4. `self.cfg`: what the class stores there
        if name.startswith("self.") and "." in fq:
            cls = fq.split(".")[0]
            found: set = set()
            for q, assigns in idx.assigns.items():
                if q and q.startswith(cls + "."):
                    for a in assigns:
                        if self._assign_target_is(a.target, name):
                            got = self.eval_views(mod, q, a.value, a.line)
                            if got is None:
                                return None
                            found |= got
            return frozenset(found) if found else None
        # 5. a closure: the enclosing function's name
        if "." in fq:
            parent = fq.rsplit(".", 1)[0]
            if parent in mod.functions:
                return self.binding(mod, parent, name, fn.pos.line)
        return None

    def eval_views(self, mod: ModuleFacts, fq: str | None, expr: cst.BaseExpression, line: int, rebinding: str | None = None) -> frozenset | None:
        if isinstance(expr, cst.Name):
            if expr.value == "__loop__":
                return None
            return self.binding(mod, fq, expr.value, line)
        if isinstance(expr, (cst.Attribute, cst.Subscript)):
            parts = _chain_parts(expr)
            if not parts:
                return None
            if parts[0] == "self" and len(parts) >= 2:
                root, rest = f"self.{parts[1]}", parts[2:]
            else:
                root, rest = parts[0], parts[1:]
            base = self.binding(mod, fq, root, line)
            if not base:
                return None
            return frozenset(replace(v, path=v.path + tuple(rest)) if not v.extras else v for v in base if not v.extras) or None
        if isinstance(expr, cst.Call):
            name = dotted_name(expr.func) or ""
            resolved = mod.resolve(name) or name
            args = [a.value for a in expr.args if a.keyword is None and not a.star]
            short = resolved.rsplit(".", 2)
            tail = ".".join(short[-2:]) if len(short) >= 2 else resolved
            if tail in ("OmegaConf.create", "OmegaConf.structured") and args:
                inner = args[0]
                if isinstance(inner, cst.Call) and (dotted_name(inner.func) or "").endswith("to_container") and inner.args:
                    inner = inner.args[0].value
                got = self.eval_views(mod, fq, inner, line)
                return frozenset(replace(v, struct=False) for v in got) if got else None
            if tail in ("copy.deepcopy", "OmegaConf.masked_copy") and args:
                return self.eval_views(mod, fq, args[0], line)
            if tail == "OmegaConf.merge" and args:
                got = self.eval_views(mod, fq, args[0], line)
                if not got:
                    return None
                extras = []
                for other in args[1:]:
                    ex = self.eval_extra(mod, fq, other, line, got)
                    if ex is None:
                        return None
                    extras.append(ex)
                return frozenset(replace(v, extras=v.extras + tuple(extras)) for v in got)
            callee = self._resolve_callee(mod, CallFact(name, resolved, expr, Pos(line, 1), fq, (), False))
            if callee is not None:
                tmod, tfn, _bound = callee
                transform = self._transformer_param(tmod, tfn)
                if transform is not None:
                    pname, struct = transform
                    params = [p.name for p in (tfn.params[1:] if tfn.is_method else tfn.params)]
                    arg = None
                    i = params.index(pname)
                    positional = [a.value for a in expr.args if a.keyword is None and not a.star]
                    if i < len(positional):
                        arg = positional[i]
                    else:
                        arg = next((a.value for a in expr.args if a.keyword and a.keyword.value == pname), None)
                    if arg is None:
                        return None
                    got = self.eval_views(mod, fq, arg, line)
                    return frozenset(replace(v, struct=v.struct if struct == "same" else struct) for v in got) if got else None
        return None

    def _transformer_param(self, mod: ModuleFacts, fn: FunctionFact) -> tuple[str, bool | None] | None:
        """(param, struct of the result) when `fn` returns a (copied/modified) version of a param."""
        key = ("transformer", mod.path, fn.qualname)
        if key in self._binding_memo:
            return self._binding_memo[key]  # type: ignore[return-value]
        self._binding_memo[key] = None  # type: ignore[assignment]
        params = [p.name for p in (fn.params[1:] if fn.is_method else fn.params)]
        rets = self.index(mod).returns.get(fn.qualname, [])
        result = None
        if rets and all(isinstance(r, cst.Name) for r in rets):
            names = {r.value for r in rets}
            if len(names) == 1:
                ret = names.pop()
                if ret in params:
                    result = (ret, "same")
                assigns = [a for a in self.index(mod).assigns.get(fn.qualname, []) if self._assign_target_is(a.target, ret)]
                if assigns:
                    last = max(assigns, key=lambda a: a.line)
                    used = _names_in(last.value) & set(params)
                    if len(used) == 1:
                        text = dotted_name(last.value.func) if isinstance(last.value, cst.Call) else None
                        struct = False if text and text.endswith(("OmegaConf.create", "to_container")) else None
                        result = (used.pop(), struct)
                    else:
                        result = None
        self._binding_memo[key] = result  # type: ignore[assignment]
        return result

    def eval_extra(self, mod: ModuleFacts, fq: str | None, expr: cst.BaseExpression, line: int, base: frozenset) -> tuple | None:
        """What a merge operand adds: ("run",), ("node", path) or ("keys", keys); None if unknown."""
        if isinstance(expr, cst.Name):
            idx = self.index(mod)
            best = None
            for a in idx.assigns.get(fq, []):
                if a.line <= line and self._assign_target_is(a.target, expr.value) and not a.aug:
                    if best is None or a.line >= best.line:
                        best = a
            if best is not None:
                return self.eval_extra(mod, fq, best.value, best.line, base)
            views = self.binding(mod, fq, expr.value, line)
            return self._node_extra(views, base)
        if isinstance(expr, cst.Call):
            name = dotted_name(expr.func) or ""
            if name.endswith("OmegaConf.load") or name == "load":
                text = " ".join(_names_in(expr)) + " " + " ".join(
                    literal_string(n) or "" for n in expr.args[0].value.children
                ) if expr.args else ""
                src = self.ctx.line_text(mod.path, line) or ""
                if "run" in (text + src).lower():
                    return ("run",)
                return None
            if name.endswith("OmegaConf.create") and expr.args:
                inner = expr.args[0].value
                if isinstance(inner, cst.Dict):
                    keys = [literal_string(el.key) for el in inner.elements if isinstance(el, cst.DictElement)]
                    if all(k is not None for k in keys):
                        return ("keys", tuple(keys))
                return self.eval_extra(mod, fq, inner, line, base)
            return None
        if isinstance(expr, cst.Dict):
            keys = [literal_string(el.key) for el in expr.elements if isinstance(el, cst.DictElement)]
            if all(k is not None for k in keys):
                return ("keys", tuple(keys))
            return None
        if isinstance(expr, (cst.Attribute, cst.Subscript)):
            return self._node_extra(self.eval_views(mod, fq, expr, line), base)
        return None

    @staticmethod
    def _node_extra(views: frozenset | None, base: frozenset) -> tuple | None:
        if not views or len(views) != 1:
            return None
        (v,) = tuple(views)
        if v.extras or any(b.entry != v.entry for b in base):
            return None
        return ("node", v.path)

    # ------------------------------------------------------------------ guards and stores

    def guarded(self, mod: ModuleFacts, fq: str | None, key: str) -> bool:
        """`key` is tested (`in`, `.get`, `hasattr`...) in this function or one enclosing it."""
        q = fq
        while True:
            if key in mod.guarded_keys.get(q, set()):
                return True
            if q is None:
                return False
            q = q.rsplit(".", 1)[0] if "." in q else None

    def under_open_dict(self, with_contexts: tuple[str, ...]) -> bool:
        return any(w.endswith(_OPEN_DICT) or w in _OPEN_DICT for w in with_contexts)

    def struct_unlocked(self) -> set[tuple[str, tuple[str, ...]]]:
        """(entry, path) of views on which code calls `OmegaConf.set_struct(x, False)`."""
        cached = self.__dict__.get("_unlocked")
        if cached is not None:
            return cached
        out: set = set()
        for mod in self.modules.values():
            for c in mod.calls:
                if (c.func or "").endswith("set_struct") and len(c.positional()) >= 2:
                    flag = c.positional()[1]
                    if isinstance(flag, cst.Name) and flag.value == "False":
                        views = self.eval_views(mod, c.function, c.positional()[0], c.pos.line + 1)
                        for v in views or ():
                            out.add((v.entry, v.path))
        self.__dict__["_unlocked"] = out
        return out

    def is_unlocked(self, view: View, path: tuple[str, ...]) -> bool:
        full = view.path + path
        return any(e == view.entry and full[: len(p)] == p for e, p in self.struct_unlocked())


def hydra_model(ctx) -> HydraModel:
    """The context's HydraModel, built once."""
    model = ctx.__dict__.get("_hydra_model")
    if model is None:
        model = ctx.__dict__["_hydra_model"] = HydraModel(ctx)
    return model


def chain_text(root: str, path: Iterable[str]) -> str:
    return ".".join([root, *path])


def iter_config_chains(model: HydraModel) -> Iterator[tuple[ModuleFacts, Any, frozenset]]:
    """Every cfg.* chain of the Hydra modules whose root is bound to composed-config views."""
    for mod in model.modules.values():
        for ch in mod.chains:
            views = model.binding(mod, ch.function, ch.root, ch.pos.line)
            if views:
                yield mod, ch, views


# --------------------------------------------------------------------------- modes

#: Modules where mode handling may live (evaluate.py runs after training, never in trial mode).
MODE_MODULES = ("src/main.py", "src/train.py", "src/model.py", "src/preprocess.py")
_TRIPLE = re.compile(r'("""|\'\'\')[\s\S]*?\1')

#: Evidence of each trial/full behaviour in code (comments and docstrings removed).
#: A literal override passed to the child (`"training.epochs=1"`) matches the same patterns.
MODE_EVIDENCE: dict[str, tuple[re.Pattern, ...]] = {
    "wandb_disabled": (re.compile(r"""["'](?:[\w.]*mode=)?disabled["']"""), re.compile(r"WANDB_(?:MODE|DISABLED)\b")),
    "wandb_online": (re.compile(r"""["'](?:[\w.]*mode=)?online["']"""),),
    "epochs_1": (
        re.compile(r"epoch\w*\s*\]?\s*=\s*1\b(?!\.)"),
        re.compile(r"epoch\w*=1\b"),
        re.compile(r"\b1\s+if\s+[^\n]*trial[^\n]*else[^\n]*epoch", re.I),
        re.compile(r"epoch\w*\s*=\s*1\s+if\b", re.I),
        re.compile(r"\bmin\([^\n]*epoch[^\n]*,\s*1\)"),
    ),
    "optuna_off": (
        re.compile(r"n_trials\w*\s*\]?\s*=\s*0\b"),
        re.compile(r"n_trials=0\b"),
        re.compile(r"n_trials\s*=\s*0\s+if\b"),
        re.compile(r"optuna\w*(?:\.\w+)*\s*=\s*(?:False|None)\b"),  # cfg.optuna.enabled = False
        re.compile(r"(?:n_trials|optuna)[^\n]*(?:trial_mode|mode\s*[!=]=\s*[\"'](?:trial|full)[\"'])"),
        re.compile(r"(?:trial_mode|mode\s*[!=]=\s*[\"'](?:trial|full)[\"'])[^\n]*(?:n_trials|optuna)"),
    ),
    "limit_batches": (
        re.compile(r"(?:batch|step)\w*\s*\]?\s*=\s*[12]\b(?!\.)"),
        re.compile(r"(?:batch|step|limit)\w*=[12]\b"),
        re.compile(r"=\s*[12]\s+if\s+[^\n]*trial", re.I),
        re.compile(r"\bislice\("),
        re.compile(r"\[\s*:\s*[12]\s*\]"),  # list(loader)[:2]
        re.compile(r"range\(\s*(?:min\(\s*[12]\s*,|[12]\s*\))"),  # for _ in range(min(2, len(loader)))
    ),
}
_BREAK_GUARD = re.compile(r"\bif\b[^\n]*(?:trial|max_|limit|_max\b|>=?\s*[0-9]\b|==\s*[12]\b)", re.I)
_TRIAL_BRANCH = re.compile(r"""mode\s*[!=]=\s*["']trial["']|\btrial_mode\b""")


def code_lines(mod: ModuleFacts) -> list[str]:
    """The module's lines with comments and triple-quoted strings (docstrings) blanked."""
    lines = list(mod.lines)
    for c in mod.comments:
        i = c.pos.line - 1
        if 0 <= i < len(lines):
            lines[i] = lines[i][: c.pos.column - 1]
    text = "\n".join(lines)
    text = _TRIPLE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return text.split("\n")


class ModeEvidence:
    """Where the bundle handles trial/full mode, read once per context."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.lines: dict[str, list[str]] = {}
        for path in MODE_MODULES:
            mod = ctx.module(path)
            if mod is not None:
                self.lines[path] = code_lines(mod)

    def find(self, behaviour: str) -> tuple[str, int] | None:
        """(path, line) of the first evidence of a behaviour, or None."""
        for path, lines in self.lines.items():
            for i, line in enumerate(lines, 1):
                if any(p.search(line) for p in MODE_EVIDENCE[behaviour]):
                    return path, i
        if behaviour == "limit_batches":
            return self._guarded_break()
        return None

    def _guarded_break(self) -> tuple[str, int] | None:
        """`if <trial / max / limit / small-number test>: break` inside a loop."""
        for path, lines in self.lines.items():
            for i, line in enumerate(lines):
                s = line.strip()
                if s == "break" or s.endswith(": break"):
                    window = [s] if s.endswith(": break") else [lines[j].strip() for j in range(max(0, i - 2), i)]
                    if any(_BREAK_GUARD.search(w) for w in window):
                        return path, i + 1
        return None

    def trial_branch(self) -> tuple[str, int] | None:
        """The first place the code tests for trial mode."""
        for path in ("src/train.py", "src/main.py", *self.lines):
            for i, line in enumerate(self.lines.get(path, ()), 1):
                if _TRIAL_BRANCH.search(line):
                    return path, i
        return None

    def has_code(self) -> bool:
        """main.py and train.py define functions (an empty file is the completeness rules' case)."""
        present = [p for p in ("src/main.py", "src/train.py") if p in self.ctx.bundle.files]
        return bool(present) and all((m := self.ctx.module(p)) is not None and m.functions for p in present)

    def has_epochs(self) -> bool:
        """The training code has an epoch loop or reads an epoch count from the config."""
        for path, lines in self.lines.items():
            if any(re.search(r"\bfor\s+\w*epoch\w*\s+in\b", line) for line in lines):
                return True
            mod = self.ctx.module(path)
            if mod is not None and any(ch.ctx == "load" and any("epoch" in seg for seg in ch.path) for ch in mod.chains):
                return True
        return False

    def uses_optuna(self) -> bool:
        return any(m.imports_module("optuna") for p in self.lines if (m := self.ctx.module(p)) is not None)


def mode_evidence(ctx) -> ModeEvidence:
    ev = ctx.__dict__.get("_mode_evidence")
    if ev is None:
        ev = ctx.__dict__["_mode_evidence"] = ModeEvidence(ctx)
    return ev
