"""The values, events and states of the run-aware interpreter (`program.interp`).

What the interpreter knows about a value is one of these: a constant, a config node (`CfgRef`
into a `program.configstate.ConfigObj`), a bundle function, class, instance or module, a library
object by qualified name (`Ext`), a string or path known in part (`Template`, `PathVal`), one of a
few alternatives (`Alt`), a value Optuna samples (`Sampled`), or `UNKNOWN`. What a command did is
a `Trace` of events. A `State` is what forks at an undecided branch and joins after it.
"""
from __future__ import annotations

import ast
import posixpath
from dataclasses import dataclass, field
from typing import Any

from reviewer_audit.program.configstate import UNKNOWN, ConfigObj, Node, join_data, join_objects

# --------------------------------------------------------------------------- values

@dataclass(frozen=True)
class Const:
    value: Any
    #: the config node it was read from (`cfg.run`): an attribute read on the scalar is then a
    #: config read that fails (`cfg.run.run_id` while `cfg.run` is the run id string)
    source: "CfgRef | None" = field(default=None, compare=False)
    #: the bundle YAML file and key path it was read from (`("config/smoke_test.yaml",
    #: ("experiments", 0, "dataset", "name"))`): where a finding about the value points
    origin: "tuple[str, tuple] | None" = field(default=None, compare=False)

    def at(self, key: Any, value: Any) -> "Const":
        """`value`, read under `key` of this one: it keeps the origin, one key deeper."""
        return Const(value, origin=(self.origin[0], (*self.origin[1], key)) if self.origin else None)


@dataclass(frozen=True)
class Tup:
    items: tuple


@dataclass(frozen=True)
class CfgRef:
    obj: int
    path: tuple = ()


@dataclass(frozen=True)
class CfgMethod:
    ref: CfgRef
    name: str


@dataclass(frozen=True, eq=False)
class FuncRef:
    module: str  # bundle path
    qualname: str
    node: ast.AST = field(repr=False)
    closure: Any = field(default=None, repr=False, compare=False)
    hydra: bool = False


@dataclass(frozen=True, eq=False)
class ClassRef:
    module: str
    qualname: str
    node: ast.ClassDef = field(repr=False)
    ns: dict = field(default_factory=dict, repr=False, compare=False)  # class body namespace
    bases: tuple = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class Instance:
    obj: int
    cls: ClassRef


@dataclass(frozen=True)
class Bound:
    func: FuncRef
    self_: Any


@dataclass(frozen=True)
class ModuleRef:
    path: str


@dataclass(frozen=True)
class Ext:
    """A library object reached by qualified name (`omegaconf.OmegaConf.merge`)."""

    name: str


@dataclass(frozen=True)
class Template:
    """A string known only in part: `f"run={cfg.run}"` with an unknown value is `run={}`."""

    text: str


@dataclass(frozen=True)
class Sampled:
    """A value Optuna samples (`trial.suggest_float("lr", ...)`): unknown, but known to be one."""

    name: str


@dataclass(frozen=True)
class Alt:
    """One of several values, depending on a path not taken for certain (`x = A() if c else None`).

    Calls and attribute reads apply to every option, so code reachable through any of them
    counts as reached."""

    options: tuple


#: more alternatives than this and the value is just unknown
_MAX_ALT = 4


@dataclass(frozen=True)
class PathVal:
    """A filesystem path: `@/...` is the repository root (from `__file__`), otherwise relative
    to the working directory."""

    text: str

    @property
    def shown(self) -> str:
        """As the program would print it: the repository sits at some absolute folder."""
        return REPO_ROOT + self.text[1:] if self.text.startswith("@") else self.text


@dataclass(frozen=True)
class FileText:
    """The text of a file whose content is known, or an open handle on it: a bundle file, or
    one an earlier command of the pipeline wrote. `yaml.safe_load` of it is `data`."""

    path: str
    data: Any
    origin: "tuple[str, tuple] | None" = None  # the bundle YAML the data was first read from


@dataclass(frozen=True)
class FileWriter:
    """A file opened for writing (`open(p, "w")`): `yaml.safe_dump(x, f)` makes `x` its content."""

    path: Any


@dataclass(frozen=True)
class Dumped:
    """`yaml.safe_dump(x)` of known data `x`: the file it is written to holds `x`."""

    data: Any
    origin: "tuple[str, tuple] | None" = None


@dataclass(frozen=True)
class ArgParser:
    """An `argparse.ArgumentParser` the code builds (`program.argparse_model.ParserSpec` number
    `spec` of the interpreter), or one of its mutually exclusive groups (`group`)."""

    spec: int
    group: int | None = None


@dataclass(frozen=True)
class ArgParserMethod:
    parser: ArgParser
    name: str


@dataclass(frozen=True)
class ArgsNamespace:
    """What `parse_args()` returned on the command's argv: dest -> value (UNKNOWN: not known)."""

    values: tuple[tuple[str, Any], ...]

    def get(self, name: str) -> Any:
        return dict(self.values).get(name, UNKNOWN)


#: where the repository is taken to be checked out, for paths the code turns into strings
REPO_ROOT = "/workspace/repo"


def const_of(v: Any) -> Any:
    """The Python value of an abstract value, or UNKNOWN."""
    if isinstance(v, Const):
        return v.value
    if isinstance(v, Tup):
        items = tuple(const_of(i) for i in v.items)
        return UNKNOWN if any(i is UNKNOWN for i in items) else items
    return UNKNOWN


# --------------------------------------------------------------------------- events


@dataclass
class Event:
    path: str
    line: int
    col: int
    order: int
    caught: bool = False  # an enclosing try (in this module or a caller) catches what it raises
    #: it happens only on some paths: under a branch whose test is not known, or after an early
    #: return that may or may not have been taken
    maybe: bool = False
    #: it happens only if a value is one of the several it may be (`Alt`): a guess, not a path
    speculative: bool = False
    #: position in the command's sequence of events (set when it is recorded)
    seq: int = 0


@dataclass
class ConfigRead(Event):
    origin: str = ""
    obj: int = 0  # the config object read (heap id; a copy is another object)
    key: tuple = ()
    status: str = "ok"  # Lookup statuses: ok, missing, mandatory, interpolation, unknown
    value: Any = None
    access: str = "attr"  # attr, item, get, in
    kind: str = "DictConfig"
    detail: str = ""
    #: the key exists only because an operation that crashed earlier added it (author's intent)
    after_crash: int | None = None
    #: a missing key: the keys its parent node has, and where else in the object the key is
    siblings: tuple = ()
    found_at: tuple = ()
    #: a missing key: index in `key` of the first segment that is not there
    depth: int = 0
    #: a scalar read at the root while the run's own config (where Hydra mounts it) holds the
    #: same key with another value: (that key path, its value)
    shadowed: tuple | None = None


@dataclass
class ConfigWrite(Event):
    origin: str = ""
    obj: int = 0
    key: tuple = ()
    problem: str | None = None
    value: Any = None
    #: the value is one Optuna sampled (its parameter name)
    sampled: str | None = None


@dataclass
class ConfigMerge(Event):
    origin: str = ""
    obj: int = 0  # the object merged into (for `OmegaConf.merge`, the new one)
    target: tuple = ()
    new_keys: list = field(default_factory=list)


@dataclass
class ConfigLoad(Event):
    file: str = ""
    exists: bool | None = None


@dataclass
class LibCall(Event):
    name: str = ""
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    star: bool = False  # `*args` or `**kwargs` in the call: more arguments than listed
    #: the loops running around the call, outermost first, across calling frames: (path, line)
    loops: tuple = ()
    #: a metrics log call's `step=`: ("index", loop, text) for a loop variable of a running loop,
    #: ("counter", loop, text) for a name the function increments in a loop, ("auto", None, "")
    #: without `step=`, ("other", None, text) for anything else; None for other calls
    step: tuple | None = None


@dataclass
class Launch(Event):
    argv: tuple = ()
    #: the call's source text, for the module it starts when argv is not fully known
    source: str = ""
    #: argv with the items known only in part as templates (`run={}`); None where nothing is known
    templates: tuple = ()


@dataclass
class NodeFormatted(Event):
    """A config node (a mapping or list) formatted into a string: `f"run={cfg.run}"`."""

    key: tuple = ()
    data: Any = None
    before: str = ""  # the literal text just before the placeholder (`run=`)
    text: str = ""  # the whole string, when it is known


@dataclass
class EnvSet(Event):
    name: str = ""
    value: Any = None


@dataclass
class Raised(Event):
    """A `raise` statement the command executes (its own, not a library's)."""

    exc: str = ""  # the exception's class as written (`NotImplementedError`)
    text: str = ""  # the raised expression as written, short
    #: the branches whose test the run's values decided on the way to it: (test as written,
    #: truth, its operands' values as `name = 'value'`)
    tests: tuple = ()
    #: where those operands' values are set in the bundle's YAML: (file, key path)
    origins: tuple = ()


@dataclass
class Callback(Event):
    """A bundle function handed to a library, which calls it (`study.optimize(objective)`):
    the events between `start` and `end` (by `seq`) happen inside it."""

    via: str = ""  # the call that hands it over, as written (`study.optimize`)
    func: str = ""  # the function's name
    start: int = 0
    end: int = 0


@dataclass
class Trace:
    """What one command did."""

    #: path -> {(start, end) of a statement header -> first execution order}
    executed: dict[str, dict[tuple[int, int], int]] = field(default_factory=dict)
    #: (path, def line) -> first order the function body was entered
    entered: dict[tuple[str, int], int] = field(default_factory=dict)
    reads: list[ConfigRead] = field(default_factory=list)
    writes: list[ConfigWrite] = field(default_factory=list)
    merges: list[ConfigMerge] = field(default_factory=list)
    loads: list[ConfigLoad] = field(default_factory=list)
    calls: list[LibCall] = field(default_factory=list)
    launches: list[Launch] = field(default_factory=list)
    env: list[EnvSet] = field(default_factory=list)
    formatted: list[NodeFormatted] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    raises: list[Raised] = field(default_factory=list)
    #: config object (heap id) -> `seq` when it was made: what existed before a callback ran
    born: dict[int, int] = field(default_factory=dict)
    #: writes to a config object under a key the analysis does not know
    #: (`for k, v in best.items(): cfg.training[k] = v`): (object, node path, seq)
    opaque_writes: list[tuple[int, tuple, int]] = field(default_factory=list)
    #: order at which the Hydra task function was entered (its composition happens just before)
    compose_order: int | None = None
    #: argparse parsers whose `parse_args()` ran, with the module that built them (how the
    #: command is meant to be started: `program.argparse_model.command_lines`)
    parsers: list = field(default_factory=list)
    #: files the command wrote with known content (`path.write_text(yaml.safe_dump(cfg))`):
    #: path as the program spells it -> (data, the bundle YAML it came from); a command it
    #: starts can read them
    files_written: dict = field(default_factory=dict)
    #: the interpreter gave up somewhere (budget, unsupported construct): reach is incomplete
    incomplete: list[str] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------- state


@dataclass
class Frame:
    module: str
    qualname: str | None
    env: dict
    parent: "Frame | None" = None  # lexical parent (closures) -- module frame for top-level defs
    globals_: set = field(default_factory=set)
    returns: list = field(default_factory=list)
    cls: ClassRef | None = None
    #: the rest of this frame runs only on some paths (an undecided early return came before)
    conditional: bool = False
    node: Any = None  # the function's def (None for a module or lambda frame)
    #: names bound by the `for` loops running in this frame -> that loop (path, line)
    loop_targets: dict = field(default_factory=dict)
    #: the branch tests the run's values decided in this frame so far, as (test, truth, frame)
    #: (`if x == "a": return` decided False is why the statement after it runs)
    decided: list = field(default_factory=list)


@dataclass
class State:
    """What forks at a branch: the current frame's locals and every mutable object."""

    env: dict
    heap: dict
    done: bool = False  # this path returned or raised
    raised: bool = False  # ... by raising: a precondition failed, not a normal way out


def _copy_heap(heap: dict) -> dict:
    return {k: (v.copy() if isinstance(v, ConfigObj) else dict(v)) for k, v in heap.items()}


def _join_value(a: Any, b: Any) -> Any:
    try:
        if a == b:
            return a
    except Exception:  # noqa: BLE001 -- values that do not compare
        pass
    if isinstance(a, Const) and isinstance(b, Const) and isinstance(a.value, dict) and isinstance(b.value, dict):
        j = join_data(a.value, b.value)
        return UNKNOWN if j is UNKNOWN else Const(j)
    if a is UNKNOWN and b is UNKNOWN:
        return UNKNOWN
    options: list = []
    for v in (a, b):
        for o in (v.options if isinstance(v, Alt) else (v,)):
            if not any(o is x or (type(o) is type(x) and _same(o, x)) for x in options):
                options.append(o)
    if len(options) > _MAX_ALT:
        return UNKNOWN
    return Alt(tuple(options))


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def _join_heaps(a: dict, b: dict) -> dict:
    out = {}
    for k in a.keys() | b.keys():
        x, y = a.get(k), b.get(k)
        if x is None or y is None:
            out[k] = x if x is not None else y
        elif isinstance(x, ConfigObj) and isinstance(y, ConfigObj):
            out[k] = join_objects(x, y)
        elif isinstance(x, dict) and isinstance(y, dict):
            out[k] = {n: (_join_value(x[n], y[n]) if n in x and n in y else (x.get(n, y.get(n)))) for n in x.keys() | y.keys()}
        else:
            out[k] = x
    return out


@dataclass(frozen=True)
class _Unlock:
    ref: CfgRef


@dataclass(frozen=True)
class _Builtin:
    name: str


@dataclass(frozen=True)
class _PureMethod:
    """A method without side effects of a known str (`lower`, `split`) or dict (`get`, `items`)."""

    text: Any
    name: str
    origin: "tuple[str, tuple] | None" = field(default=None, compare=False)  # of the str or dict

    def apply(self, args: list, kwargs: dict) -> Any:
        values = [const_of(a) for a in args]
        kw = {k: const_of(v) for k, v in kwargs.items()}
        if any(v is UNKNOWN for v in (*values, *kw.values())):
            return UNKNOWN
        try:
            out = getattr(self.text, self.name)(*values, **kw)
        except Exception:  # noqa: BLE001
            return UNKNOWN
        if isinstance(out, (type({}.keys()), type({}.values()), type({}.items()))):
            out = [tuple(x) if isinstance(x, tuple) else x for x in out]
        if out is UNKNOWN:
            return UNKNOWN
        if self.name == "get" and self.origin and values and values[0] in self.text:
            return Const(out, origin=(self.origin[0], (*self.origin[1], values[0])))
        return Const(out, origin=self.origin if isinstance(self.text, str) else None)


@dataclass(frozen=True)
class _PathMethod:
    path: PathVal
    name: str

    def apply(self, args: list) -> Any:
        if self.name == "same":
            return self.path
        texts = [a.text if isinstance(a, PathVal) else const_of(a) for a in args]
        if any(not isinstance(x, str) for x in texts):
            return UNKNOWN
        if self.name == "joinpath":
            return PathVal(posixpath.join(self.path.text, *texts))
        if self.name == "with_suffix" and texts:
            return PathVal(posixpath.splitext(self.path.text)[0] + texts[0])
        if self.name == "with_name" and texts:
            return PathVal(posixpath.join(_parent(self.path.text), texts[0]))
        return UNKNOWN


@dataclass(frozen=True)
class _PathParents:
    path: PathVal


def _parent(text: str) -> str:
    """The parent of a path; `@` (the repository root) and `.` have no parent we can name."""
    stripped = text.rstrip("/")
    if stripped in ("@", ".", ""):
        return stripped or "."
    return posixpath.dirname(stripped) or ("@" if stripped.startswith("@") else ".")


def _has_unknown(data: Any) -> bool:
    if data is UNKNOWN or (isinstance(data, Node) and data.open):
        return True
    if isinstance(data, dict):
        return any(_has_unknown(v) for v in data.values())
    if isinstance(data, list):
        return any(_has_unknown(v) for v in data)
    return False


def _plain(data: Any) -> Any:
    """Config data as the plain dicts and lists OmegaConf prints."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


def _truth_of(value: Any) -> bool | None:
    if isinstance(value, Alt):
        truths = {_truth_of(o) for o in value.options}
        return truths.pop() if len(truths) == 1 else None
    if isinstance(value, Const):
        v = value.value
        if v is UNKNOWN:
            return None
        try:
            return bool(v)
        except Exception:  # noqa: BLE001
            return None
    if isinstance(value, Tup):
        return bool(value.items)
    if isinstance(value, (FuncRef, ClassRef, ModuleRef, Bound, PathVal, Instance)):
        return True
    return None


def _is_none(value: Any) -> bool | None:
    """Is the value None: known for objects, constants, and alternatives that all agree."""
    if isinstance(value, Alt):
        answers = {_is_none(o) for o in value.options}
        return answers.pop() if len(answers) == 1 else None
    if isinstance(value, Const):
        return value.value is None if value.value is not UNKNOWN else None
    if isinstance(value, (CfgRef, Instance, FuncRef, ClassRef, ModuleRef, PathVal, Tup, Bound)):
        return False
    return None
