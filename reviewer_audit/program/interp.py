"""Run one command of the bundle abstractly: what executes, and what the config is at each step.

`python -m src.main run=r1 mode=trial` runs `src/main.py` as `__main__`: its module-level code,
the modules it imports, then the `@hydra.main` task function with the config Hydra composed
for that run and mode. This interpreter follows that execution over CPython's `ast` of each
bundle module (never compiling or running anything):

* **Values** it tracks: constants, config nodes (`CfgRef` into a `ConfigObj` of
  `program.configstate`, which restates OmegaConf's rules), bundle functions, classes,
  instances and modules, library objects by qualified name (`Ext("omegaconf.OmegaConf")`), and
  `UNKNOWN` for everything else.
* **Branches** whose test it can decide from those values (`if cfg.mode == "trial":`,
  `if cfg.dataset.name == "cifar10":`, `if __name__ == "__main__":`) take one side; the others
  take both, on forked states that are joined after. An early `return`/`raise` ends its path.
* **Calls** into bundle functions are followed with their arguments bound (depth- and
  budget-limited); `OmegaConf.merge/create/load/update/to_container/set_struct`, `open_dict`,
  `copy.deepcopy` and friends are modelled; other library calls return `UNKNOWN`, and a bundle
  function handed to one (`study.optimize(objective)`, `ds.map(fn)`) is called once with unknown
  arguments, as the library will.
* **Crashes are recorded, then execution goes on with the author's intent** (a merge into a
  struct config is applied anyway), so one crash does not turn every later read into a false
  "missing key", and code after it still counts as reached.

The result is a `Trace`: which statements ran (in first-execution order), which functions were
entered, every config read/write/merge/load with its outcome, library calls with the constant
arguments they received, environment variables set, and subprocesses launched. Reachability,
config values per run and the first crash per command are all read off traces.
"""
from __future__ import annotations

import ast
import builtins
import posixpath
import re
from typing import Any, Callable, Iterable

from reviewer_audit.program.configstate import UNKNOWN, ConfigObj, Node, to_node
from reviewer_audit.program.io_models import IoModels
from reviewer_audit.program.library_models import LibraryModels, _dictconfig_attributes, _scalar
from reviewer_audit.program.sources import Sources
from reviewer_audit.program.values import (
    Alt, ArgParser, ArgParserMethod, ArgsNamespace, Bound, Callback, CfgMethod, CfgRef, ClassRef, ConfigRead, ConfigWrite, Const, EnvSet, Event, Ext, Frame,
    FileText, FileWriter, FuncRef, Instance, ModuleRef, Raised,
    NodeFormatted, PathVal, Sampled, State, Template, Trace, Tup, _Builtin, _copy_heap, _has_unknown, _is_none, _join_heaps,
    _join_value, _parent, _PathMethod, _PathParents, _plain, _PureMethod, _truth_of, _Unlock, const_of,
)

# --------------------------------------------------------------------------- the interpreter

#: DictConfig's own methods (any other attribute of a config node is a key).
_DICTCONFIG_METHODS = frozenset({"get", "items", "keys", "values", "pop", "setdefault", "copy", "merge_with", "update", "__contains__"})
_PURE_STR_METHODS = frozenset({"lower", "upper", "strip", "lstrip", "rstrip", "replace", "split", "rsplit", "startswith",
                               "endswith", "format", "join", "title", "capitalize", "casefold", "removeprefix", "removesuffix"})
#: methods that change a dict, list or set in place
_MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "remove", "discard", "add", "append", "extend", "insert",
                       "sort", "reverse", "__setitem__", "__delitem__", "difference_update", "intersection_update"})
_CAUGHT_BY = {
    "missing": ("AttributeError", "KeyError", "ConfigAttributeError", "ConfigKeyError", "OmegaConfBaseException", "Exception", "BaseException", "LookupError"),
    "mandatory": ("MissingMandatoryValue", "OmegaConfBaseException", "Exception", "BaseException"),
    "interpolation": ("InterpolationResolutionError", "InterpolationKeyError", "OmegaConfBaseException", "Exception", "BaseException"),
    "struct": ("ConfigAttributeError", "ConfigKeyError", "AttributeError", "KeyError", "OmegaConfBaseException", "Exception", "BaseException"),
    "file": ("FileNotFoundError", "OSError", "IOError", "Exception", "BaseException"),
}


class Interpreter(LibraryModels, IoModels):
    """Runs one command; see the module docstring. `budget` bounds the statements executed."""

    MAX_DEPTH = 40

    def __init__(self, sources: Sources, *, budget: int = 60_000) -> None:
        self.src = sources
        self.trace = Trace()
        self.order = 0
        self.seq = 0  # events recorded so far (`Event.seq`)
        self.budget = budget
        self.heap: dict[int, Any] = {}
        self.next_id = 1
        self.globals: dict[str, dict] = {}
        self.stack: list[tuple[str, str | None]] = []
        self.handlers: list[tuple[str, ...]] = []  # exception names caught by enclosing try blocks
        self.escaped: set[int] = set()
        self.hydra_cfg: Callable[[], CfgRef] | None = None
        self.cwd_is_root = True
        #: where Hydra mounts the run's own config group (`("run",)` for `run=<id>` without
        #: `# @package _global_`): a root key that also exists there is a default the run overrides
        self.run_mounts: tuple[tuple, ...] = ()
        self.main_module: str | None = None
        #: key paths of config objects that a crashed operation added: (obj, key) -> order
        self._crash_keys: dict[tuple[int, tuple], int] = {}
        #: undecided branches enclosing the current point, and the frames on the call stack
        self.maybe = 0
        #: tests of the enclosing branches the run's values decided, in every frame: (test,
        #: truth, its frame); a `raise` reports them with their operands' values
        self.decided: list[tuple[ast.expr, bool, Frame]] = []
        #: loop bodies being run (in this frame or a caller)
        self.loops = 0
        self.loop_stack: list[tuple[str, int]] = []  # their (path, line), outermost first
        self._counters: dict[int, dict[str, int]] = {}  # id(function def) -> `loop_counters`
        #: operations applied to one option of an `Alt` value
        self.speculative = 0
        #: bundle callables being run as a library would run them (unknown arguments)
        self.callbacks = 0
        self.frames: list[Frame] = []
        #: the command's argv for argparse (None: not known) and the files earlier commands wrote
        self.argv: list[str] | None = None
        self.files: dict[str, Any] = {}
        self.parser_specs = []

    # ------------------------------------------------------------------ public

    def new_config(self, data: Any, *, struct: bool | None, origin: str, kind: str = "DictConfig") -> CfgRef:
        oid = self._alloc(ConfigObj(to_node(data) if data is not UNKNOWN else Node(open=True), kind, {(): struct}, origin))
        return CfgRef(oid)

    def run_module(self, path: str) -> None:
        """Run `python -m <module>` for the module at `path`."""
        self.main_module = path
        try:
            self._exec_module(path, as_main=True)
        except RecursionError:
            self.trace.incomplete.append("recursion")

    # ------------------------------------------------------------------ heap

    def _alloc(self, obj: Any) -> int:
        oid = self.next_id
        self.next_id += 1
        self.heap[oid] = obj
        if isinstance(obj, ConfigObj):
            self.trace.born[oid] = self.seq
        return oid

    def _cfg(self, ref: CfgRef) -> ConfigObj | None:
        obj = self.heap.get(ref.obj)
        return obj if isinstance(obj, ConfigObj) else None

    # ------------------------------------------------------------------ bookkeeping

    def _tick(self, frame: Frame, node: ast.stmt, header_end: int | None = None) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise _Budget()
        key = (node.lineno, header_end if header_end is not None else (node.end_lineno or node.lineno))
        table = self.trace.executed.setdefault(frame.module, {})
        if key not in table:
            self.order += 1
            table[key] = self.order

    def _emit(self, bucket: list, event: Event) -> None:
        event.maybe = self.maybe > 0 or any(f.conditional for f in self.frames)
        # a library calls an escaped callback with arguments we do not know: a branch on them
        # inside it is a guess, not a path
        event.speculative = self.speculative > 0 or (self.callbacks > 0 and event.maybe)
        self.seq += 1
        event.seq = self.seq
        bucket.append(event)

    def _caught(self, kind: str) -> bool:
        names = _CAUGHT_BY.get(kind, ())
        return any(h == "*" or h in names for hs in self.handlers for h in hs)

    def _caught_exception(self, exc: str) -> bool:
        """Does an enclosing `except` catch an exception of class `exc` (a builtin's bases count;
        a class of the bundle or a library is taken to derive from Exception)?"""
        cls = getattr(builtins, exc, None)
        names = {c.__name__ for c in cls.__mro__} if isinstance(cls, type) and issubclass(cls, BaseException) else {exc, "Exception", "BaseException"}
        return any(h == "*" or h in names for hs in self.handlers for h in hs)

    def _event_pos(self, frame: Frame, node: ast.AST) -> tuple[int, int]:
        line = getattr(node, "lineno", 0)
        col = getattr(node, "col_offset", 0)
        mod = self.src.by_path.get(frame.module)
        if mod is not None and 0 < line <= len(mod.lines):
            col = len(mod.lines[line - 1].encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        return line, col + 1

    # ------------------------------------------------------------------ modules

    def _exec_module(self, path: str, as_main: bool = False) -> dict:
        if path in self.globals:
            return self.globals[path]
        mod = self.src.by_path.get(path)
        env: dict = {"__name__": Const("__main__" if as_main else (mod.dotted if mod else path)), "__file__": PathVal("@/" + path)}
        self.globals[path] = env
        if mod is None:
            return env
        self.trace.modules.add(path)
        frame = Frame(path, None, env)
        saved_handlers, self.handlers = self.handlers, []
        saved_stack, self.stack = self.stack, []
        self.frames.append(frame)
        try:
            self._block(frame, mod.tree.body, State(env, self.heap))
        except _Budget:
            self.trace.incomplete.append(f"budget exhausted in {path}")
            if saved_stack or self.main_module != path:
                raise
        finally:
            self.handlers, self.stack = saved_handlers, saved_stack
            self.frames.pop()
        return env

    def _import_value(self, frame: Frame, dotted: str) -> Any:
        mod = self.src.by_dotted.get(dotted)
        if mod is not None:
            self._exec_module(mod.path)
            return ModuleRef(mod.path)
        if dotted in self.src.packages:
            return ModuleRef(dotted.replace(".", "/") + "/__init__.py")
        return Ext(dotted)

    # ------------------------------------------------------------------ blocks and statements

    def _block(self, frame: Frame, body: list[ast.stmt], state: State) -> State:
        for stmt in body:
            if state.done:
                break
            state = self._stmt(frame, stmt, state)
        return state

    def _fork(self, state: State) -> State:
        return State(dict(state.env), _copy_heap(state.heap))

    def _install(self, frame: Frame, state: State) -> None:
        """Make `state` the live one: locals and heap objects as they are on this path."""
        if state.heap is not self.heap:
            self.heap.clear()
            self.heap.update(state.heap)
            state.heap = self.heap
        if frame.env is not state.env:
            frame.env.clear()
            frame.env.update(state.env)
            state.env = frame.env

    def _join(self, frame: Frame, a: State, b: State) -> State:
        if a.done and b.done:
            out = State(frame.env, self.heap, done=True)
            return out
        if a.done:
            self._install(frame, b)
            return b
        if b.done:
            self._install(frame, a)
            return a
        env = {k: (_join_value(a.env[k], b.env[k]) if k in a.env and k in b.env else a.env.get(k, b.env.get(k))) for k in a.env.keys() | b.env.keys()}
        heap = _join_heaps(a.heap, b.heap)
        out = State(env, heap)
        self._install(frame, out)
        return out

    def _branches(self, frame: Frame, state: State, first: Callable[[State], State], second: Callable[[State], State],
                  undecided: bool = True) -> State:
        """Run both paths from one state and join them. `undecided`: which path runs is not
        known, so what happens on either is only possible (`Event.maybe`)."""
        before = self._fork(state)
        self.maybe += undecided
        try:
            a = first(state)
            a_snapshot = State(dict(a.env), _copy_heap(a.heap), a.done, a.raised)
            self._install(frame, before)
            b = second(before)
        finally:
            self.maybe -= undecided
        # an undecided early `return` leaves the rest of the frame to some paths only; an early
        # `raise` is a failed precondition (`if not path.exists(): raise`): the normal path goes on
        ended = a_snapshot if a_snapshot.done else b if b.done else None
        if undecided and a_snapshot.done != b.done and ended is not None and not ended.raised:
            frame.conditional = True
        return self._join(frame, a_snapshot, b)

    def _stmt(self, frame: Frame, node: ast.stmt, state: State) -> State:
        if isinstance(node, ast.If):
            self._tick(frame, node, node.test.end_lineno)
            test = self._truth(frame, node.test)
            if test is True or test is False:
                self.decided.append((node.test, test, frame))
                frame.decided.append(self.decided[-1])
                try:
                    return self._block(frame, node.body if test else node.orelse, state)
                finally:
                    self.decided.pop()
            return self._branches(frame, state, lambda s: self._block(frame, node.body, s), lambda s: self._block(frame, node.orelse, s))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._tick(frame, node, node.lineno)
            self._define_function(frame, node)
            return state
        if isinstance(node, ast.ClassDef):
            self._tick(frame, node, node.lineno)
            self._define_class(frame, node)
            return state
        if isinstance(node, (ast.Return,)):
            self._tick(frame, node)
            value = self._expr(frame, node.value) if node.value is not None else Const(None)
            frame.returns.append(value)
            state.done = True
            return state
        if isinstance(node, ast.Raise):
            self._tick(frame, node)
            if node.exc is not None:
                self._expr(frame, node.exc)
                exc = _exc_name(node.exc)
                line, col = self._event_pos(frame, node)
                decided = list({id(d): d for d in self.decided + frame.decided}.values())[-3:]  # the same record in both: once
                tests = tuple((_source(t), truth, self._shown_operands(f, t)) for t, truth, f in decided)
                origins = tuple(dict.fromkeys(o for t, _truth, f in decided for o in self._operand_origins(f, t)))
                self._emit(self.trace.raises, Raised(frame.module, line, col, self.order, self._caught_exception(exc), exc=exc,
                                                     text=_source(node.exc), tests=tests, origins=origins))
            state.done = True
            state.raised = True
            return state
        if isinstance(node, (ast.Break, ast.Continue)):
            self._tick(frame, node)
            state.done = True
            return state
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            header_end = (node.iter.end_lineno if isinstance(node, (ast.For, ast.AsyncFor)) else node.test.end_lineno)
            self._tick(frame, node, header_end)
            elements = None
            if isinstance(node, ast.While):
                test = self._truth(frame, node.test)
                if test is False:
                    return self._block(frame, node.orelse, state)
            else:
                items = self._expr(frame, node.iter)
                if isinstance(items, CfgRef):
                    self._whole(frame, items, node.iter)
                elements = self._elements(items)
                if elements is None:
                    self._bind_target(frame, node.target, UNKNOWN)

            loop_key = (frame.module, node.lineno)
            targets = [t.id for t in ast.walk(node.target) if isinstance(t, ast.Name)] if isinstance(node, (ast.For, ast.AsyncFor)) else []

            def body(s: State) -> State:
                self.loops += 1
                self.loop_stack.append(loop_key)
                shadowed = {t: frame.loop_targets.get(t) for t in targets}
                frame.loop_targets.update({t: loop_key for t in targets})
                try:
                    if elements is None:
                        out = self._block(frame, node.body, s)
                    else:
                        # a short known collection (the keys of a search space, a list of tasks):
                        # each item runs, so branches on the loop variable are decided
                        out = s
                        for element in elements:
                            self._bind_target(frame, node.target, element)
                            out = self._block(frame, node.body, out)
                            out.done = False
                finally:
                    self.loops -= 1
                    self.loop_stack.pop()
                    for t, before in shadowed.items():
                        if before is None:
                            frame.loop_targets.pop(t, None)
                        else:
                            frame.loop_targets[t] = before
                out.done = False  # break/continue/return inside a loop: the loop's path goes on
                return out

            # a loop body runs (most loops iterate); a while whose test is not known may not
            state = self._branches(frame, state, body, lambda s: s, undecided=isinstance(node, ast.While))
            return self._block(frame, node.orelse, state)
        if isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            self._tick(frame, node, node.lineno)
            caught: list[str] = []
            live_handlers = []
            for h in node.handlers:
                names = _handler_names(h)
                caught += names
                if not self._dead_import_handler(frame, node, names):
                    live_handlers.append(h)
            self.handlers.append(tuple(caught))
            try:
                before = self._fork(state)
                state = self._block(frame, node.body, state)
            finally:
                self.handlers.pop()
            if not state.done:
                state = self._block(frame, node.orelse, state)
            for h in live_handlers:
                entry = State(dict(before.env), _copy_heap(before.heap))
                snapshot = State(dict(state.env), _copy_heap(state.heap), state.done)
                self._install(frame, entry)
                if h.name:
                    entry.env[h.name] = UNKNOWN
                self._tick(frame, h, h.lineno)
                self.maybe += 1
                try:
                    handled = self._block(frame, h.body, entry)
                finally:
                    self.maybe -= 1
                state = self._join(frame, snapshot, handled)
            if node.finalbody:
                done = state.done
                state.done = False
                state = self._block(frame, node.finalbody, state)
                state.done = state.done or done
            return state
        if isinstance(node, (ast.With, ast.AsyncWith)):
            self._tick(frame, node, node.items[-1].context_expr.end_lineno)
            unlocked: list[tuple[int, tuple, Any]] = []
            for item in node.items:
                value = self._expr(frame, item.context_expr)
                if isinstance(value, _Unlock):
                    obj = self._cfg(value.ref)
                    if obj is not None:
                        unlocked.append((value.ref.obj, value.ref.path, obj.struct.get(value.ref.path, "unset")))
                        obj.set_struct(value.ref.path, False)
                    value = value.ref
                if item.optional_vars is not None:
                    self._bind_target(frame, item.optional_vars, value if isinstance(value, (CfgRef, Ext, FileText, FileWriter)) else UNKNOWN)
            state = self._block(frame, node.body, state)
            for oid, path, old in unlocked:
                live = self.heap.get(oid)  # joins inside the block may have replaced the object
                if not isinstance(live, ConfigObj):
                    continue
                if old == "unset":
                    live.struct.pop(path, None)
                else:
                    live.struct[path] = old
            return state
        if isinstance(node, ast.Match):
            self._tick(frame, node, node.subject.end_lineno)
            self._expr(frame, node.subject)
            out = None
            for case in node.cases:
                fork = self._fork(state)
                self._install(frame, fork)
                self.maybe += 1
                try:
                    result = self._block(frame, case.body, fork)
                finally:
                    self.maybe -= 1
                snap = State(dict(result.env), _copy_heap(result.heap), result.done)
                out = snap if out is None else self._join(frame, out, snap)
            if out is None:
                return state
            self._install(frame, out)
            return out
        # simple statements
        self._tick(frame, node)
        if isinstance(node, ast.Assign):
            value = self._expr(frame, node.value)
            for target in node.targets:
                self._assign(frame, target, value, node)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self._assign(frame, node.target, self._expr(frame, node.value), node)
        elif isinstance(node, ast.AugAssign):
            current = self._expr(frame, node.target)
            value = self._binop(node.op, current, self._expr(frame, node.value))
            # a counter bumped inside a loop takes every value on the way: not one known value
            self._assign(frame, node.target, UNKNOWN if self.loops else value, node)
        elif isinstance(node, ast.Expr):
            self._expr(frame, node.value)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                value = self._import_value(frame, alias.name)
                if alias.asname:
                    frame.env[alias.asname] = value
                else:
                    head = alias.name.split(".")[0]
                    frame.env[head] = self._import_value(frame, head) if alias.name != head else value
        elif isinstance(node, ast.ImportFrom):
            self._import_from(frame, node)
        elif isinstance(node, ast.Global):
            frame.globals_.update(node.names)
        elif isinstance(node, ast.Assert):
            self._expr(frame, node.test)
        elif isinstance(node, ast.Delete):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    frame.env.pop(t.id, None)
        return state

    #: a loop over a known collection this long or shorter runs once per item
    MAX_UNROLL = 8
    MAX_UNROLL_RECORDS = 16

    def _elements(self, items: Any) -> list | None:
        """The items a `for` loop visits, when they are known and few; None otherwise."""
        out: list | None = None
        if isinstance(items, Tup):
            out = list(items.items)
        elif isinstance(items, Const) and isinstance(items.value, (list, tuple)):
            out = [UNKNOWN if v is UNKNOWN else items.at(i, v) for i, v in enumerate(items.value)]
        elif isinstance(items, Const) and isinstance(items.value, (frozenset, dict)):
            out = [Const(v) for v in items.value]
        elif isinstance(items, CfgRef):
            obj = self._cfg(items)
            node = obj.node(items.path) if obj is not None else UNKNOWN
            if isinstance(node, Node) and not node.open:
                out = [Const(k) for k in node]
            elif isinstance(node, list):
                out = [CfgRef(items.obj, (*items.path, i)) if isinstance(v, (dict, list)) else (UNKNOWN if v is UNKNOWN else Const(v))
                       for i, v in enumerate(node)]
        if out is None or not out or any(o is UNKNOWN for o in out):
            return None
        # a list of records read from a file (the experiments of a config) runs each one, up to
        # the number of programs one command is followed into
        limit = self.MAX_UNROLL_RECORDS if all(isinstance(o, Const) and isinstance(o.value, dict) for o in out) else self.MAX_UNROLL
        return out if len(out) <= limit else None

    def _dead_import_handler(self, frame: Frame, node: ast.Try, names: list[str]) -> bool:
        """`try: from .x import y / except ImportError:` -- the handler never runs when every
        statement of the try body is an import that resolves inside the bundle."""
        if not names or not all(n in ("ImportError", "ModuleNotFoundError") for n in names):
            return False
        mod = self.src.by_path.get(frame.module)
        if mod is None or not node.body:
            return False
        for stmt in node.body:
            if isinstance(stmt, ast.ImportFrom):
                target = self.src.absolute(mod, stmt.level, stmt.module)
                if target is None or not self.src.is_bundle(target):
                    return False
                src = self.src.by_dotted.get(target)
                if src is not None:
                    defined = _module_level_names(src.tree)
                    if any(a.name != "*" and a.name not in defined and f"{target}.{a.name}" not in self.src.by_dotted for a in stmt.names):
                        return False
            elif isinstance(stmt, ast.Import):
                if not all(self.src.is_bundle(a.name) for a in stmt.names):
                    return False
            else:
                return False
        return True

    def _import_from(self, frame: Frame, node: ast.ImportFrom) -> None:
        mod = self.src.by_path.get(frame.module)
        target = self.src.absolute(mod, node.level, node.module) if mod is not None else node.module
        if target is None:
            for a in node.names:
                frame.env[a.asname or a.name] = UNKNOWN
            return
        if self.src.is_bundle(target):
            src = self.src.by_dotted.get(target)
            env = self._exec_module(src.path) if src is not None else {}
            for a in node.names:
                if a.name == "*":
                    frame.env.update({k: v for k, v in env.items() if not k.startswith("_")})
                    continue
                if a.name in env:
                    value = env[a.name]
                elif self.src.is_bundle(f"{target}.{a.name}"):
                    value = self._import_value(frame, f"{target}.{a.name}")
                else:
                    value = UNKNOWN
                frame.env[a.asname or a.name] = value
            return
        for a in node.names:
            if a.name != "*":
                frame.env[a.asname or a.name] = Ext(f"{target}.{a.name}")

    # ------------------------------------------------------------------ definitions

    def _define_function(self, frame: Frame, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if frame.cls is not None:
            qual = f"{frame.cls.qualname}.{node.name}"
        else:
            qual = node.name if frame.qualname is None else f"{frame.qualname}.{node.name}"
        hydra = False
        for dec in node.decorator_list:
            value = self._expr(frame, dec.func if isinstance(dec, ast.Call) else dec)
            if isinstance(dec, ast.Call):
                for a in dec.args:
                    self._expr(frame, a)
            if isinstance(value, Ext) and value.name in ("hydra.main", "hydra.main.main"):
                hydra = True
        closure = frame if frame.qualname is not None or frame.cls is not None else None
        frame.env[node.name] = FuncRef(frame.module, qual, node, closure, hydra)

    def _define_class(self, frame: Frame, node: ast.ClassDef) -> None:
        qual = node.name if frame.qualname is None else f"{frame.qualname}.{node.name}"
        bases = tuple(self._expr(frame, b) for b in node.bases)
        for dec in node.decorator_list:
            self._expr(frame, dec)
        cls = ClassRef(frame.module, qual, node, {}, bases)
        inner = Frame(frame.module, None, cls.ns, parent=frame, cls=cls)
        # a class body runs in its own namespace; names it reads fall back to the module
        inner.env.update({"__qualname__": Const(qual)})
        self._block(inner, node.body, State(inner.env, self.heap))
        frame.env[node.name] = cls

    # ------------------------------------------------------------------ calls

    def call(self, frame: Frame | None, fn: FuncRef, args: list, kwargs: dict, self_: Any = None) -> Any:
        key = (fn.module, fn.qualname)
        if key in self.stack or len(self.stack) >= self.MAX_DEPTH:
            return UNKNOWN
        node = fn.node
        if isinstance(node, ast.Lambda):
            env = {}
            self._bind_params(node.args, args, kwargs, env, None)
            inner = Frame(fn.module, fn.qualname, env, parent=fn.closure)
            return self._expr(inner, node.body)
        env: dict = {}
        self._bind_params(node.args, ([self_] if self_ is not None else []) + list(args), kwargs, env, node)
        inner = Frame(fn.module, fn.qualname, env, parent=fn.closure, cls=None, node=node)
        self.trace.entered.setdefault((fn.module, node.lineno), self.order + 1)
        self.stack.append(key)
        self.frames.append(inner)
        try:
            self._block(inner, node.body, State(env, self.heap))
        finally:
            self.stack.pop()
            self.frames.pop()
        if isinstance(node, ast.FunctionDef) and any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _walk_own(node)):
            return UNKNOWN
        if not inner.returns:
            return Const(None)
        out = inner.returns[0]
        for r in inner.returns[1:]:
            out = _join_value(out, r)
        return out

    def _bind_params(self, params: ast.arguments, args: list, kwargs: dict, env: dict, node: ast.AST | None) -> None:
        positional = [*params.posonlyargs, *params.args]
        defaults = [None] * (len(positional) - len(params.defaults)) + list(params.defaults)
        for i, p in enumerate(positional):
            if i < len(args):
                env[p.arg] = args[i]
            elif p.arg in kwargs:
                env[p.arg] = kwargs[p.arg]
            elif defaults[i] is not None:
                env[p.arg] = self._default(defaults[i])
            else:
                env[p.arg] = UNKNOWN
        if params.vararg is not None:
            env[params.vararg.arg] = Tup(tuple(args[len(positional):]))
        for p, d in zip(params.kwonlyargs, params.kw_defaults):
            env[p.arg] = kwargs.get(p.arg, self._default(d) if d is not None else UNKNOWN)
        if params.kwarg is not None:
            env[params.kwarg.arg] = UNKNOWN

    def _default(self, node: ast.AST) -> Any:
        try:
            return Const(ast.literal_eval(node))
        except Exception:  # noqa: BLE001 -- a non-literal default
            return UNKNOWN

    def _instantiate(self, frame: Frame, cls: ClassRef, args: list, kwargs: dict, node: ast.AST) -> Any:
        inst = Instance(self._alloc({}), cls)
        init = self._lookup_method(cls, "__init__")
        if init is not None:
            self.call(frame, init, args, kwargs, self_=inst)
        elif self._is_dataclass(cls):
            attrs = self.heap[inst.obj]
            fields = [s.target.id for s in cls.node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
            for i, name in enumerate(fields):
                attrs[name] = args[i] if i < len(args) else kwargs.get(name, cls.ns.get(name, UNKNOWN))
        post = self._lookup_method(cls, "__post_init__")
        if post is not None:
            self.call(frame, post, [], {}, self_=inst)
        return inst

    def _is_dataclass(self, cls: ClassRef) -> bool:
        return any((isinstance(d, ast.Name) and d.id == "dataclass") or (isinstance(d, ast.Attribute) and d.attr == "dataclass")
                   or (isinstance(d, ast.Call) and getattr(d.func, "id", getattr(d.func, "attr", "")) == "dataclass") for d in cls.node.decorator_list)

    def _mro(self, cls: ClassRef) -> list:
        out, todo, seen = [], [cls], set()
        while todo:
            c = todo.pop(0)
            if id(c) in seen:
                continue
            seen.add(id(c))
            out.append(c)
            if isinstance(c, ClassRef):
                todo.extend(c.bases)
        return out

    def _has_library_base(self, cls: ClassRef) -> bool:
        return any(not isinstance(b, ClassRef) for c in self._mro(cls) if isinstance(c, ClassRef) for b in c.bases)

    def _lookup_method(self, cls: ClassRef, name: str) -> FuncRef | None:
        for c in self._mro(cls):
            if isinstance(c, ClassRef) and name in c.ns:
                value = c.ns[name]
                return value if isinstance(value, FuncRef) else None
        return None

    def _step_kind(self, frame: Frame, node: ast.Call) -> tuple:
        """What a metrics log call's `step=` counts (see `LibCall.step`)."""
        step = next((k.value for k in node.keywords if k.arg == "step"), None)
        if step is None:
            return ("auto", None, "")
        text = _source(step)
        name = step
        if isinstance(step, ast.BinOp) and isinstance(step.op, (ast.Add, ast.Sub)) and isinstance(step.right, ast.Constant):
            name = step.left
        if not isinstance(name, ast.Name):
            return ("other", None, text)
        if name.id in frame.loop_targets:
            return ("index", frame.loop_targets[name.id], text)
        if frame.node is not None:
            counters = self._counters.get(id(frame.node))
            if counters is None:
                counters = self._counters[id(frame.node)] = loop_counters(frame.node)
            if name.id in counters:
                return ("counter", (frame.module, counters[name.id]), text)
        return ("other", None, text)

    def _escape(self, frame: Frame, value: Any, site: ast.Call | None = None) -> None:
        """A bundle callable handed to library code (by the call `site`): the library calls it
        (once is enough)."""
        if isinstance(value, Alt):
            for option in value.options:
                self._escape(frame, option, site)
            return
        if isinstance(value, (FuncRef, Bound)):
            fn = value.func if isinstance(value, Bound) else value
            if id(fn.node) in self.escaped:
                return
            self.escaped.add(id(fn.node))
            self.callbacks += 1
            span = None
            if site is not None:
                line, col = self._event_pos(frame, site)
                span = Callback(frame.module, line, col, self.order, via=_source(site.func), func=getattr(fn.node, "name", "<lambda>"))
                self._emit(self.trace.callbacks, span)
                span.start = span.seq
            try:
                self.call(frame, fn, [], {}, self_=value.self_ if isinstance(value, Bound) else None)
            finally:
                self.callbacks -= 1
                if span is not None:
                    span.end = self.seq
        elif isinstance(value, Instance) and self._has_library_base(value.cls):
            if ("inst", value.obj) in self.escaped:
                return
            self.escaped.add(("inst", value.obj))
            # a framework drives an object of its own base class through the methods it overrides
            seen: set[str] = set()
            for c in self._mro(value.cls):
                if not isinstance(c, ClassRef):
                    continue
                for name, fn in list(c.ns.items()):
                    if isinstance(fn, FuncRef) and name not in seen and name != "__init__" and not isinstance(fn.node, ast.Lambda):
                        seen.add(name)
                        if id(fn.node) not in self.escaped:
                            self.escaped.add(id(fn.node))
                            self.callbacks += 1
                            try:
                                self.call(frame, fn, [], {}, self_=value)
                            finally:
                                self.callbacks -= 1

    def _call_expr(self, frame: Frame, node: ast.Call) -> Any:
        grown = self._list_method(frame, node)
        if grown is not None:
            return grown
        self._forget_mutated(frame, node)
        fn = self._expr(frame, node.func)
        args: list = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                v = self._expr(frame, a.value)
                if isinstance(v, Tup):
                    args.extend(v.items)
                else:
                    args.append(UNKNOWN)
            else:
                args.append(self._expr(frame, a))
        kwargs: dict = {}
        star = any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords)
        for k in node.keywords:
            v = self._expr(frame, k.value)
            if k.arg is not None:
                kwargs[k.arg] = v
            elif isinstance(v, CfgRef):
                self._whole(frame, v, k.value)
        return self._apply(frame, fn, args, kwargs, node, star)

    def _each_option(self, alt: Alt, one: Callable[[Any], Any]) -> Any:
        """`one` applied to every option of `alt`, the results joined. Where there is a real
        choice, what happens meanwhile is speculative: no run is known to take that option."""
        out = None
        self.speculative += len(alt.options) > 1
        try:
            for option in alt.options:
                result = one(option)
                out = result if out is None else _join_value(out, result)
        finally:
            self.speculative -= len(alt.options) > 1
        return out

    def _apply(self, frame: Frame, fn: Any, args: list, kwargs: dict, node: ast.Call, star: bool = False) -> Any:
        if isinstance(fn, Alt):
            out = self._each_option(fn, lambda option: self._apply(frame, option, args, kwargs, node, star))
            return out if out is not None else UNKNOWN
        if isinstance(fn, FuncRef):
            if fn.hydra and not args:
                return self._hydra_call(frame, fn, node)
            return self.call(frame, fn, args, kwargs)
        if isinstance(fn, Bound):
            return self.call(frame, fn.func, args, kwargs, self_=fn.self_)
        if isinstance(fn, ClassRef):
            return self._instantiate(frame, fn, args, kwargs, node)
        if isinstance(fn, Instance):
            call = self._lookup_method(fn.cls, "__call__") or (self._lookup_method(fn.cls, "forward") if self._has_library_base(fn.cls) else None)
            if call is not None:
                return self.call(frame, call, args, kwargs, self_=fn)
            return UNKNOWN
        if isinstance(fn, CfgMethod):
            return self._cfg_method(frame, fn, args, kwargs, node)
        if isinstance(fn, _PureMethod):
            return fn.apply(args, kwargs)
        if isinstance(fn, Ext):
            return self._library_call(frame, fn.name, args, kwargs, node, star)
        if isinstance(fn, _PathMethod):
            if fn.name in ("read_text", "write_text", "open"):
                return self._path_io(fn.path, fn.name, args, kwargs)
            return fn.apply(args)
        if isinstance(fn, ArgParserMethod):
            return self._parser_call(frame, fn, args, kwargs)
        for v in (*args, *kwargs.values()):
            self._escape(frame, v, node)
        if isinstance(node.func, ast.Attribute) and node.func.attr.startswith("suggest_") and args and isinstance(const_of(args[0]), str):
            return Sampled(const_of(args[0]))
        return UNKNOWN

    def _rebind(self, frame: Frame, expr: ast.expr, value: Any) -> None:
        """Give the name or instance attribute `expr` a new value (a container it mutated)."""
        if isinstance(expr, ast.Name):
            self._bind_target(frame, expr, value)
        elif isinstance(expr, ast.Attribute):
            owner = self._peek_ref(frame, expr.value)  # `self.kv`: looked up, not evaluated again
            attrs = self.heap.get(owner.obj) if isinstance(owner, Instance) else None
            if isinstance(attrs, dict):
                attrs[expr.attr] = value

    def _forget_mutated(self, frame: Frame, node: ast.Call) -> None:
        """`kv.update(...)`, `seen.add(x)`, `items.pop()` on a container literal the analysis
        holds: what it holds afterwards is not known."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in _MUTATORS):
            return
        holder = func.value
        current = self._peek_ref(frame, holder)  # looked up without recording reads: `fn` evaluates it below
        if isinstance(current, Const) and isinstance(current.value, (dict, list, set, frozenset)):
            self._rebind(frame, holder, UNKNOWN)

    def _list_method(self, frame: Frame, node: ast.Call) -> Any:
        """`cmd.append("trial_mode=true")` on a list the analysis knows: the name is rebound to
        the longer list (command lines are built so). None when it is not that."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in ("append", "extend", "insert") and isinstance(func.value, ast.Name)):
            return None
        current = self._lookup_name(frame, func.value.id)
        if not (isinstance(current, Const) and isinstance(current.value, list)):
            return None
        args = [self._expr(frame, a) for a in node.args]
        items = list(current.value)
        if func.attr == "append" and len(args) == 1:
            items.append(const_of(args[0]) if not isinstance(args[0], PathVal) else args[0].shown)
        elif func.attr == "extend" and len(args) == 1:
            more = const_of(args[0])
            items.extend(more if isinstance(more, (list, tuple)) else [UNKNOWN])
        elif func.attr == "insert" and len(args) == 2 and isinstance(const_of(args[0]), int):
            items.insert(const_of(args[0]), const_of(args[1]))
        else:
            return None
        self._bind_target(frame, func.value, Const(items))
        return Const(None)

    def _hydra_call(self, frame: Frame, fn: FuncRef, node: ast.Call) -> Any:
        self.trace.compose_order = self.order + 1
        cfg = self.hydra_cfg() if self.hydra_cfg is not None else self.new_config(UNKNOWN, struct=None, origin="unknown")
        return self.call(frame, fn, [cfg], {})

    # ------------------------------------------------------------------ library models









    # ------------------------------------------------------------------ config access




    def _assign(self, frame: Frame, target: ast.AST, value: Any, stmt: ast.AST) -> None:
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            base = self._expr(frame, target.value)
            if isinstance(target, ast.Attribute):
                key = target.attr
            else:
                key = const_of(self._expr(frame, target.slice))
            if isinstance(base, Alt):
                # `cfg = merged if exists else cfg` then `cfg.wandb.mode = ...`: whichever object
                # cfg is, it receives the write
                self._each_option(base, lambda option: self._store(frame, target, option, key, value))
                return
            self._store(frame, target, base, key, value)
            return
        self._bind_target(frame, target, value)

    def _store(self, frame: Frame, target: ast.Attribute | ast.Subscript, base: Any, key: Any, value: Any) -> None:
        """`base.key = value` / `base[key] = value` on one value of the target's base."""
        if isinstance(base, Const) and isinstance(base.value, (dict, list)) and isinstance(target, ast.Subscript):
            # `kv[k] = v` on a dict or list literal: the name holds the grown container, or an
            # unknown one (a stale `{}` would decide `"k" in kv` wrongly)
            item = const_of(value)
            grown = None
            if isinstance(base.value, dict) and isinstance(key, (str, int, float, bool)):
                # an unknown value under a known key: the other keys are still known
                grown = Const({**base.value, key: item}, origin=base.origin)
            self._rebind(frame, target.value, grown or UNKNOWN)
            return
        if isinstance(base, CfgRef) and not isinstance(key, (str, int)):
            self.trace.opaque_writes.append((base.obj, base.path, self.seq))
            return
        if isinstance(base, CfgRef):
            obj = self._cfg(base)
            if obj is not None:
                path = (*base.path, key)
                problem = obj.write(path, self._data_of(value))
                line, col = self._event_pos(frame, target)
                self._emit(self.trace.writes, ConfigWrite(frame.module, line, col, self.order, self._caught("struct"), origin=obj.origin, key=path, problem=problem,
                                                          value=const_of(value), sampled=value.name if isinstance(value, Sampled) else None, obj=base.obj))
                if problem and not self._caught("struct"):
                    self._crash_keys[(base.obj, path)] = self.order
            return
        if isinstance(base, Instance) and isinstance(target, ast.Attribute):
            attrs = self.heap.get(base.obj)
            if isinstance(attrs, dict):
                attrs[key] = value
            return
        if isinstance(base, Ext) and base.name == "os.environ" and isinstance(key, str):
            line, col = self._event_pos(frame, target)
            self._emit(self.trace.env, EnvSet(frame.module, line, col, self.order, name=key, value=const_of(value)))
            return
        if isinstance(base, ModuleRef) and isinstance(target, ast.Attribute):
            self.globals.setdefault(base.path, {})[key] = value

    def _bind_target(self, frame: Frame, target: ast.AST, value: Any) -> None:
        if isinstance(target, ast.Name):
            if target.id in frame.globals_:
                self.globals.setdefault(frame.module, {})[target.id] = value
            else:
                frame.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.items if isinstance(value, Tup) else None
            if items is None:
                c = const_of(value)
                items = tuple(Const(x) for x in c) if isinstance(c, (tuple, list)) else None
            plain = [t for t in target.elts if not isinstance(t, ast.Starred)]
            if items is not None and len(items) == len(target.elts) and len(plain) == len(target.elts):
                for t, v in zip(target.elts, items):
                    self._bind_target(frame, t, v)
            else:
                for t in target.elts:
                    self._bind_target(frame, t.value if isinstance(t, ast.Starred) else t, UNKNOWN)
        elif isinstance(target, ast.Starred):
            self._bind_target(frame, target.value, UNKNOWN)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            self._assign(frame, target, value, target)

    # ------------------------------------------------------------------ expressions

    def _lookup_name(self, frame: Frame, name: str) -> Any:
        f: Frame | None = frame
        while f is not None:
            if f.cls is None and name in f.env:
                return f.env[name]
            if f.cls is not None and f is frame and name in f.env:
                return f.env[name]
            f = f.parent
        env = self.globals.get(frame.module, {})
        if name in env:
            return env[name]
        if name in _BUILTINS:
            return _Builtin(name)
        return UNKNOWN

    def _shown_operands(self, frame: Frame, test: ast.expr) -> str:
        """`name = 'value'` for the operands of a decided comparison the run's values settle, read
        without recording anything (the test itself was just evaluated): what a finding under
        the branch says the run really has."""
        shown = []
        for call in (n for n in ast.walk(test) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "isinstance" and n.args):
            if isinstance(self._peek_ref(frame, call.args[0]), CfgRef):
                shown.append(f"{_source(call.args[0])} is an OmegaConf node, not a dict or list")
        for operand in _compared(test, first=2):
            value = self._peek(frame, operand)
            if value is not UNKNOWN:
                shown.append(f"{_source(operand)} = {value!r}")
        return ", ".join(shown)

    def _operand_origins(self, frame: Frame, test: ast.expr) -> list[tuple[str, tuple]]:
        """Where in the bundle's YAML the values a decided comparison compares are set."""
        out = []
        for operand in _compared(test):
            while isinstance(operand, ast.Call) and isinstance(operand.func, ast.Attribute) and operand.func.attr in _PURE_STR_METHODS:
                operand = operand.func.value  # `name.lower()`: the value is name's
            value = self._peek_ref(frame, operand)
            if isinstance(value, Const) and value.origin is not None:
                out.append(value.origin)
        return out

    def _peek(self, frame: Frame, node: ast.expr) -> Any:
        """The known plain value of a name, attribute chain or pure string method call, without
        evaluating anything that records an event; UNKNOWN otherwise."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _PURE_STR_METHODS and not node.args:
            inner = self._peek(frame, node.func.value)
            return getattr(inner, node.func.attr)() if isinstance(inner, str) else UNKNOWN
        value = const_of(self._peek_ref(frame, node))
        return value if value is UNKNOWN or isinstance(value, (str, int, float, bool, type(None))) else UNKNOWN

    def _peek_ref(self, frame: Frame, node: ast.expr) -> Any:
        """What a name or attribute chain holds (an instance, a config node or value, a constant),
        looked up without recording events; UNKNOWN otherwise."""
        if isinstance(node, ast.Name):
            return self._lookup_name(frame, node.id)
        if isinstance(node, ast.Attribute):
            base = self._peek_ref(frame, node.value)
            if isinstance(base, Instance):
                attrs = self.heap.get(base.obj)
                return attrs.get(node.attr, UNKNOWN) if isinstance(attrs, dict) else UNKNOWN
            if isinstance(base, CfgRef) and (obj := self._cfg(base)) is not None:
                res = obj.lookup((*base.path, node.attr))
                if res.status != "ok" or res.value is UNKNOWN:
                    return UNKNOWN
                return CfgRef(base.obj, (*base.path, node.attr)) if isinstance(res.value, (dict, list)) else Const(res.value)
        return UNKNOWN

    def _truth(self, frame: Frame, node: ast.AST) -> bool | None:
        value = self._expr(frame, node)
        return _truth_of(value)

    def _expr(self, frame: Frame, node: ast.AST | None) -> Any:  # noqa: C901 -- one dispatch over node kinds
        if node is None:
            return Const(None)
        if isinstance(node, ast.Constant):
            return Const(node.value)
        if isinstance(node, ast.Name):
            return self._lookup_name(frame, node.id)
        if isinstance(node, ast.Attribute):
            base = self._expr(frame, node.value)
            return self._attr(frame, base, node.attr, node)
        if isinstance(node, ast.Call):
            fn_node = node.func
            if isinstance(fn_node, ast.Name) and fn_node.id in _BUILTINS and self._lookup_name(frame, fn_node.id) == _Builtin(fn_node.id):
                return self._builtin(frame, fn_node.id, node)
            return self._call_expr(frame, node)
        if isinstance(node, ast.Subscript):
            base = self._expr(frame, node.value)
            key = self._expr(frame, node.slice)
            return self._item(frame, base, key, node)
        if isinstance(node, ast.JoinedStr):
            parts = []
            known = True
            nodes: list[NodeFormatted] = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append(str(v.value))
                elif isinstance(v, ast.FormattedValue):
                    inner = self._expr(frame, v.value)
                    obj = self._cfg(inner) if isinstance(inner, CfgRef) else None
                    data = obj.node(inner.path) if obj is not None else None
                    if isinstance(data, (dict, list)) and not _has_unknown(data):
                        # a whole config node formatted: Python writes its repr, as str(DictConfig) does
                        line, col = self._event_pos(frame, v.value)
                        ev = NodeFormatted(frame.module, line, col, self.order, key=inner.path, data=data, before="".join(parts))
                        self._emit(self.trace.formatted, ev)
                        nodes.append(ev)
                        c = repr(_plain(data))
                    else:
                        c = const_of(inner) if not isinstance(inner, PathVal) else inner.shown
                    if c is UNKNOWN or v.format_spec is not None:
                        known = False
                        parts.append("{}")
                    else:
                        parts.append(str(c))
            text = "".join(parts)
            for ev in nodes:
                ev.text = text if known else ""
            return Const(text) if known else Template(text)
        if isinstance(node, ast.BinOp):
            return self._binop(node.op, self._expr(frame, node.left), self._expr(frame, node.right))
        if isinstance(node, ast.UnaryOp):
            v = self._expr(frame, node.operand)
            if isinstance(node.op, ast.Not):
                t = _truth_of(v)
                return UNKNOWN if t is None else Const(not t)
            c = const_of(v)
            if isinstance(c, (int, float)) and not isinstance(c, bool) or isinstance(c, bool):
                try:
                    return Const({ast.USub: lambda x: -x, ast.UAdd: lambda x: +x, ast.Invert: lambda x: ~x}[type(node.op)](c))
                except Exception:  # noqa: BLE001
                    return UNKNOWN
            return UNKNOWN
        if isinstance(node, ast.BoolOp):
            return self._boolop(frame, node)
        if isinstance(node, ast.Compare):
            return self._compare(frame, node)
        if isinstance(node, ast.IfExp):
            t = self._truth(frame, node.test)
            if t is True:
                return self._expr(frame, node.body)
            if t is False:
                return self._expr(frame, node.orelse)
            self.maybe += 1
            try:
                return _join_value(self._expr(frame, node.body), self._expr(frame, node.orelse))
            finally:
                self.maybe -= 1
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = []
            for el in node.elts:
                if isinstance(el, ast.Starred):
                    v = self._expr(frame, el.value)
                    c = const_of(v)
                    if isinstance(c, (list, tuple)):
                        items.extend(Const(x) for x in c)
                        continue
                    # an unknown number of unknown items: what came before is still known
                    items.append(UNKNOWN)
                    continue
                items.append(self._expr(frame, el))
            if isinstance(node, ast.Tuple):
                return Tup(tuple(items))
            if isinstance(node, ast.Set):
                values = [const_of(i) for i in items]
                if any(v is UNKNOWN for v in values):
                    return UNKNOWN
                try:
                    return Const(frozenset(values))
                except TypeError:  # unhashable members: not a set Python would build either
                    return UNKNOWN
            return Const([i if isinstance(i, Template) else const_of(i) if not isinstance(i, CfgRef) else self._data_of(i) for i in items])
        if isinstance(node, ast.Dict):
            out = {}
            for k, v in zip(node.keys, node.values):
                if k is None:
                    merged = self._expr(frame, v)
                    data = self._data_of(merged)
                    if isinstance(data, dict):
                        out.update(data)
                    else:
                        return UNKNOWN
                    continue
                key = const_of(self._expr(frame, k))
                value = self._expr(frame, v)
                if not isinstance(key, (str, int, float, bool)) or key is UNKNOWN:
                    return UNKNOWN
                out[key] = self._data_of(value) if isinstance(value, CfgRef) else (const_of(value) if not isinstance(value, PathVal) else value.text)
            return Const(out)
        if isinstance(node, ast.Lambda):
            return FuncRef(frame.module, f"{frame.qualname}.<lambda>" if frame.qualname else "<lambda>", node, frame)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            inner = Frame(frame.module, frame.qualname, {}, parent=frame)
            for gen in node.generators:
                self._expr(inner if gen is not node.generators[0] else frame, gen.iter)
                self._bind_target(inner, gen.target, UNKNOWN)
                for cond in gen.ifs:
                    self._expr(inner, cond)
            if isinstance(node, ast.DictComp):
                self._expr(inner, node.key)
                self._expr(inner, node.value)
            else:
                self._expr(inner, node.elt)
            return UNKNOWN
        if isinstance(node, ast.NamedExpr):
            value = self._expr(frame, node.value)
            self._bind_target(frame, node.target, value)
            return value
        if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom)):
            if getattr(node, "value", None) is not None:
                self._expr(frame, node.value)
            return UNKNOWN
        if isinstance(node, ast.Starred):
            return self._expr(frame, node.value)
        if isinstance(node, ast.Slice):
            for part in (node.lower, node.upper, node.step):
                if part is not None:
                    self._expr(frame, part)
            return UNKNOWN
        if isinstance(node, ast.FormattedValue):
            return self._expr(frame, node.value)
        return UNKNOWN

    def _attr(self, frame: Frame, base: Any, attr: str, node: ast.AST) -> Any:
        if isinstance(base, Alt):
            return self._each_option(base, lambda option: self._attr(frame, option, attr, node))
        if isinstance(base, CfgRef):
            obj = self._cfg(base)
            if obj is None:
                return UNKNOWN
            if attr in _DICTCONFIG_METHODS:
                return CfgMethod(base, attr)
            if attr in _dictconfig_attributes():
                return UNKNOWN  # DictConfig's own machinery (`_metadata`, `__class__`): not a key
            if obj.kind == "dict":
                # a plain dict (from to_container): attribute access raises AttributeError
                line, col = self._event_pos(frame, node)
                self._emit(self.trace.reads, ConfigRead(frame.module, line, col, self.order, self._caught("missing"), origin=obj.origin, obj=base.obj,
                                                   key=(*base.path, attr), status="attr-on-dict", access="attr", kind="dict",
                                                   detail=f"'dict' object has no attribute '{attr}'"))
                return UNKNOWN
            return self._read(frame, base, (attr,), node)
        if isinstance(base, ModuleRef):
            env = self._exec_module(base.path)
            if attr in env:
                return env[attr]
            mod = self.src.by_path.get(base.path)
            dotted = (mod.dotted if mod else base.path[:-len("/__init__.py")].replace("/", ".")) + "." + attr
            if self.src.is_bundle(dotted):
                return self._import_value(frame, dotted)
            return UNKNOWN
        if isinstance(base, Instance):
            attrs = self.heap.get(base.obj)
            if isinstance(attrs, dict) and attr in attrs:
                return attrs[attr]
            method = self._lookup_method(base.cls, attr)
            if method is not None:
                if _is_static(method.node):
                    return method
                if _is_property(method.node):
                    return self.call(frame, method, [], {}, self_=base)
                return Bound(method, base)
            for c in self._mro(base.cls):
                if isinstance(c, ClassRef) and attr in c.ns:
                    return c.ns[attr]
            return UNKNOWN
        if isinstance(base, ClassRef):
            for c in self._mro(base):
                if isinstance(c, ClassRef) and attr in c.ns:
                    value = c.ns[attr]
                    if isinstance(value, FuncRef) and _is_classmethod(value.node):
                        return Bound(value, base)
                    return value
            return UNKNOWN
        if isinstance(base, Ext):
            return Ext(f"{base.name}.{attr}")
        if isinstance(base, ArgParser):
            return ArgParserMethod(base, attr)
        if isinstance(base, ArgsNamespace):
            value = base.get(attr)
            return UNKNOWN if value is UNKNOWN else Const(value)
        if isinstance(base, Const) and isinstance(base.value, dict) and attr in ("get", "keys", "values", "items"):
            return _PureMethod(base.value, attr, base.origin)
        if isinstance(base, Const) and base.source is not None and _scalar(base.value) and not hasattr(base.value, attr):
            # a config value that is a scalar, read as if it were a node: `cfg.run.run_id` with
            # `run=<id>` a plain string. Python raises AttributeError; OmegaConf is not involved
            obj = self._cfg(base.source)
            line, col = self._event_pos(frame, node)
            self._emit(self.trace.reads, ConfigRead(frame.module, line, col, self.order, self._caught("missing"), origin=obj.origin if obj else "",
                                                   obj=base.source.obj, key=(*base.source.path, attr), status="attr-on-scalar", access="attr",
                                                   kind=type(base.value).__name__, value=base.value,
                                                   detail=f"{type(base.value).__name__!r} object has no attribute {attr!r}"))
            return UNKNOWN
        if isinstance(base, Const) and isinstance(base.value, str) and attr in _PURE_STR_METHODS:
            return _PureMethod(base.value, attr, base.origin)
        if isinstance(base, PathVal):
            if attr == "parent":
                return PathVal(_parent(base.text))
            if attr == "parents":
                return _PathParents(base)
            if attr in ("joinpath", "with_suffix", "with_name"):
                return _PathMethod(base, attr)
            if attr in ("resolve", "absolute", "expanduser"):
                return _PathMethod(base, "same")
            if attr in ("name",):
                return Const(posixpath.basename(base.text))
            if attr in ("stem",):
                return Const(posixpath.splitext(posixpath.basename(base.text))[0])
            if attr in ("exists", "is_file", "is_dir", "read_text", "write_text", "open"):
                return _PathMethod(base, attr)
            return UNKNOWN
        return UNKNOWN

    def _item(self, frame: Frame, base: Any, key: Any, node: ast.AST) -> Any:
        if isinstance(base, Alt):
            return self._each_option(base, lambda option: self._item(frame, option, key, node))
        k = const_of(key)
        if isinstance(base, CfgRef) and isinstance(k, (str, int)) and k is not UNKNOWN and not isinstance(k, bool):
            return self._read(frame, base, (k,), node, access="item")
        if isinstance(base, Const) and k is not UNKNOWN:
            try:
                v = base.value[k]
            except Exception:  # noqa: BLE001 -- not our question
                return UNKNOWN
            return UNKNOWN if v is UNKNOWN else base.at(k, v)
        if isinstance(base, Tup) and isinstance(k, int) and -len(base.items) <= k < len(base.items):
            return base.items[k]
        if isinstance(base, _PathParents) and isinstance(k, int) and k >= 0:
            text = base.path.text
            for _ in range(k + 1):
                text = _parent(text)
            return PathVal(text)
        if isinstance(base, Ext):
            return UNKNOWN
        return UNKNOWN

    def _binop(self, op: ast.operator, left: Any, right: Any) -> Any:
        if isinstance(op, ast.Div) and (isinstance(left, PathVal) or (isinstance(left, Ext) and left.name.startswith("pathlib"))):
            r = self._path_text(right)  # a Template keeps its `{}` holes
            if isinstance(left, PathVal) and r is not None:
                return PathVal(posixpath.join(left.text, r))
            return UNKNOWN
        a, b = const_of(left), const_of(right)
        if a is UNKNOWN or b is UNKNOWN:
            if isinstance(op, ast.Add) and isinstance(left, Tup) and isinstance(right, Tup):
                return Tup(left.items + right.items)
            if isinstance(op, ast.Add) and isinstance(left, Const) and isinstance(left.value, list) and b is UNKNOWN:
                return Const([*left.value, UNKNOWN])  # a known head, then items we cannot list
            return UNKNOWN
        try:
            if isinstance(op, ast.Pow) and (abs(b) > 64 if isinstance(b, (int, float)) else True):
                return UNKNOWN
            if isinstance(op, ast.Mult) and (isinstance(a, (str, list)) or isinstance(b, (str, list))):
                n = b if isinstance(b, int) else a
                if not isinstance(n, int) or n > 1000:
                    return UNKNOWN
            result = _BINOPS[type(op)](a, b)
        except Exception:  # noqa: BLE001 -- a runtime error in the audited arithmetic is not ours to report here
            return UNKNOWN
        return Const(result)

    def _boolop(self, frame: Frame, node: ast.BoolOp) -> Any:
        is_and = isinstance(node.op, ast.And)
        result: Any = None
        for v in node.values:
            value = self._expr(frame, v)
            t = _truth_of(value)
            if t is None:
                # evaluate the rest for their reads (which may not happen); the outcome is unknown
                self.maybe += 1
                try:
                    for rest in node.values[node.values.index(v) + 1:]:
                        self._expr(frame, rest)
                finally:
                    self.maybe -= 1
                return UNKNOWN
            result = value
            if is_and and not t:
                return value
            if not is_and and t:
                return value
        return result if result is not None else UNKNOWN

    def _compare(self, frame: Frame, node: ast.Compare) -> Any:
        left = self._expr(frame, node.left)
        result = True
        for op, comp in zip(node.ops, node.comparators):
            right = self._expr(frame, comp)
            if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, CfgRef):
                key = const_of(left)
                obj = self._cfg(right)
                if not isinstance(key, str) or obj is None:
                    return UNKNOWN
                res = obj.lookup((*right.path, key), resolve=False)
                if res.status == "unknown":
                    return UNKNOWN
                inside = res.status != "missing"
                outcome = inside if isinstance(op, ast.In) else not inside
            elif isinstance(op, (ast.Is, ast.IsNot)):
                same = _is_none(left) if const_of(right) is None and isinstance(right, Const) else None
                if same is None:
                    return UNKNOWN
                outcome = same if isinstance(op, ast.Is) else not same
            else:
                a, b = const_of(left), const_of(right)
                if a is UNKNOWN or b is UNKNOWN:
                    return UNKNOWN
                try:
                    outcome = bool(_CMPOPS[type(op)](a, b))
                except Exception:  # noqa: BLE001
                    return UNKNOWN
            result = result and outcome
            left = right
        return Const(result)

    def _isinstance(self, value: Any, classes: Any) -> Any:
        """`isinstance(x, C)` where both sides are known: bundle classes and instances, config
        objects (DictConfig vs the plain dict `to_container` gives), constants and builtins."""
        wanted = classes.items if isinstance(classes, Tup) else (classes,)
        options = value.options if isinstance(value, Alt) else (value,)
        answers = set()
        for o in options:
            answer = False
            for w in wanted:
                a = self._is_instance_of(o, w)
                if a is None:
                    return UNKNOWN
                answer = answer or a
            answers.add(answer)
        return Const(answers.pop()) if len(answers) == 1 else UNKNOWN

    def _is_instance_of(self, value: Any, cls: Any) -> bool | None:
        if isinstance(cls, ClassRef):
            if isinstance(value, Instance):
                return any(c is cls for c in self._mro(value.cls))
            return False if isinstance(value, (Const, CfgRef, FuncRef, ClassRef, ModuleRef, PathVal, Tup)) else None
        name = cls.name if isinstance(cls, (Ext, _Builtin)) else None
        if name is None:
            return None
        short = name.rsplit(".", 1)[-1]
        if isinstance(value, CfgRef):
            obj = self._cfg(value)
            node = obj.node(value.path) if obj is not None else UNKNOWN
            if obj is None or node is UNKNOWN:
                return None
            kind = ("dict" if isinstance(node, dict) else "list" if isinstance(node, list) else None) if obj.kind == "dict" else (
                "DictConfig" if isinstance(node, dict) else "ListConfig" if isinstance(node, list) else None)
            if kind is None:
                return None
            table = {
                "DictConfig": {"DictConfig": True, "Container": True, "MutableMapping": True, "Mapping": True, "dict": False, "list": False, "ListConfig": False},
                "ListConfig": {"ListConfig": True, "Container": True, "MutableSequence": True, "Sequence": True, "list": False, "dict": False, "DictConfig": False},
                "dict": {"dict": True, "MutableMapping": True, "Mapping": True, "DictConfig": False, "ListConfig": False, "list": False},
                "list": {"list": True, "MutableSequence": True, "Sequence": True, "DictConfig": False, "ListConfig": False, "dict": False},
            }[kind]
            return table.get(short)
        if isinstance(value, Const) and isinstance(cls, _Builtin) and value.value is not UNKNOWN:
            builtin = {"str": str, "int": int, "float": float, "bool": bool, "dict": dict, "list": list, "tuple": tuple, "set": set}.get(short)
            return isinstance(value.value, builtin) if builtin is not None else None
        if isinstance(value, Instance) and isinstance(cls, _Builtin):
            return False if not self._has_library_base(value.cls) else None
        return None

    def _builtin(self, frame: Frame, name: str, node: ast.Call) -> Any:
        args = [self._expr(frame, a) for a in node.args]
        kwargs = {k.arg: self._expr(frame, k.value) for k in node.keywords if k.arg}
        if name in ("hasattr", "getattr") and len(args) >= 2 and isinstance(args[0], CfgRef):
            key = const_of(args[1])
            if not isinstance(key, str):
                return UNKNOWN
            obj = self._cfg(args[0])
            if name == "hasattr":
                res = obj.lookup((*args[0].path, key), resolve=False) if obj else None
                return UNKNOWN if res is None or res.status == "unknown" else Const(res.status != "missing")
            default = args[2] if len(args) > 2 else None
            return self._read(frame, args[0], (key,), node, access="get" if default is not None else "attr", default=default)
        if name == "getattr" and len(args) >= 2 and isinstance(args[0], Instance):
            key = const_of(args[1])
            if isinstance(key, str):
                v = self._attr(frame, args[0], key, node)
                return v if v is not UNKNOWN or len(args) < 3 else args[2]
            return UNKNOWN
        if name in ("str", "int", "float", "bool", "len", "abs", "round", "min", "max", "sorted", "list", "tuple", "repr") and args:
            if name == "str" and isinstance(args[0], PathVal):
                return Const(args[0].shown)
            values = [const_of(a) for a in args]
            if any(v is UNKNOWN for v in values):
                for a in args:
                    self._escape(frame, a, node)
                return UNKNOWN
            try:
                out = _PURE_BUILTINS[name](*values)
            except Exception:  # noqa: BLE001
                return UNKNOWN
            return Tup(tuple(Const(x) for x in out)) if isinstance(out, tuple) else Const(out)
        if name == "isinstance" and len(args) == 2:
            return self._isinstance(args[0], args[1])
        if name == "open" and args:
            text = self._path_text(args[0])
            if text and re.search(r"\.ya?ml$", text):
                line, col = self._event_pos(frame, node)
                self._load(frame, args[0], line, col)
            return self._open(args, kwargs)
        if name in ("print", "setattr", "vars", "iter", "next", "enumerate", "zip", "range", "map", "filter", "any", "all", "sum", "dict", "set", "type", "id", "hash"):
            if name == "dict" and not args and kwargs:
                return Const({k: const_of(v) if not isinstance(v, CfgRef) else self._data_of(v) for k, v in kwargs.items()})
            if name == "setattr" and len(args) >= 3 and isinstance(args[0], CfgRef):
                key = const_of(args[1])
                if isinstance(key, str):
                    obj = self._cfg(args[0])
                    if obj is not None:
                        path = (*args[0].path, key)
                        problem = obj.write(path, self._data_of(args[2]))
                        line, col = self._event_pos(frame, node)
                        self._emit(self.trace.writes, ConfigWrite(frame.module, line, col, self.order, self._caught("struct"), origin=obj.origin, key=path, problem=problem, value=const_of(args[2]), obj=args[0].obj))
                return Const(None)
            for a in (*args, *kwargs.values()):
                self._escape(frame, a, node)
            return UNKNOWN
        return UNKNOWN


class _Budget(Exception):
    """The statement budget ran out: the rest of this command is not followed."""


_BUILTINS = frozenset({"str", "int", "float", "bool", "len", "abs", "round", "min", "max", "sorted", "list", "tuple", "repr",
                       "isinstance", "hasattr", "getattr", "setattr", "open", "print", "vars", "iter", "next", "enumerate", "zip",
                       "range", "map", "filter", "any", "all", "sum", "dict", "set", "type", "id", "hash"})


_PURE_BUILTINS: dict[str, Callable] = {"str": str, "int": int, "float": float, "bool": bool, "len": len, "abs": abs, "round": round,
                                       "min": min, "max": max, "sorted": sorted, "list": list, "tuple": tuple, "repr": repr}


_BINOPS: dict[type, Callable] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b, ast.Pow: lambda a, b: a ** b,
    ast.BitOr: lambda a, b: a | b, ast.BitAnd: lambda a, b: a & b,
}


_CMPOPS: dict[type, Callable] = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}


def loop_counters(fn: ast.AST) -> dict[str, int]:
    """Names a function increments inside a loop (`global_step += 1` in the batch loop) -> the
    line of the innermost loop that increments them."""
    out: dict[str, int] = {}

    def visit(node: ast.AST, loop: int | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(child, ast.AugAssign) and isinstance(child.op, ast.Add) and isinstance(child.target, ast.Name) and loop is not None:
                out.setdefault(child.target.id, loop)
            visit(child, child.lineno if isinstance(child, (ast.For, ast.AsyncFor, ast.While)) else loop)

    visit(fn, None)
    return out


def _source(node: ast.AST) -> str:
    """An expression as written, short: `study.optimize`, `epoch + 1`."""
    try:
        return ast.unparse(node)[:80]
    except Exception:  # noqa: BLE001 -- an odd node: no name to show
        return ""


def _compared(test: ast.expr, first: int | None = None) -> Iterable[ast.expr]:
    """The operands a test compares, constants aside (in its `first` comparisons, or all)."""
    for cmp in [n for n in ast.walk(test) if isinstance(n, ast.Compare)][:first]:
        yield from (o for o in (cmp.left, *cmp.comparators) if not isinstance(o, ast.Constant))


def _exc_name(node: ast.expr) -> str:
    """The class a `raise` raises, as written: `ValueError` for `raise ValueError(...)`."""
    target = node.func if isinstance(node, ast.Call) else node
    return target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else ""


def _handler_names(h: ast.ExceptHandler) -> list[str]:
    if h.type is None:
        return ["*"]
    types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
    out = []
    for t in types:
        if isinstance(t, ast.Name):
            out.append(t.id)
        elif isinstance(t, ast.Attribute):
            out.append(t.attr)
        else:
            out.append("*")
    return out


def _module_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                names.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _walk_own(fn: ast.AST) -> Iterable[ast.AST]:
    """Nodes of a function body, not of functions nested in it."""
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))


def _decorator_names(node: ast.AST) -> list[str]:
    out = []
    for d in getattr(node, "decorator_list", ()):
        d = d.func if isinstance(d, ast.Call) else d
        out.append(d.id if isinstance(d, ast.Name) else d.attr if isinstance(d, ast.Attribute) else "")
    return out


def _is_static(node: ast.AST) -> bool:
    return "staticmethod" in _decorator_names(node)


def _is_classmethod(node: ast.AST) -> bool:
    return "classmethod" in _decorator_names(node)


def _is_property(node: ast.AST) -> bool:
    return any(n in ("property", "cached_property") for n in _decorator_names(node))


__all__ = ["Interpreter"]
