"""Config objects as the audited program holds them, with OmegaConf's rules, in plain Python.

The run-aware interpreter (`program.interp`) follows each run's config from Hydra's composition
through the code's own edits: `OmegaConf.merge`, `create`, `load`, `update`, `to_container`,
`open_dict`, `set_struct`, assignments. It needs OmegaConf's answers to four questions -- does
this read succeed, does this write succeed, does this merge succeed, what is the value -- for
thousands of operations per audit, on states it forks and joins at every branch it cannot
decide. Real DictConfigs are too slow to copy that often, so the state is plain data and the
rules are restated here; `tests/test_configstate.py` checks each rule against OmegaConf itself:

* reading a key that does not exist raises (struct or not); `.get()` never does;
* reading `???` raises MissingMandatoryValue; `${a.b}` resolves against the root, and an
  interpolation to a key that does not exist raises;
* writing a new key raises under struct mode (Hydra's config is struct), unless the node is
  opened (`open_dict`, `set_struct(False)`, `OmegaConf.update(..., force_add=True)`);
* merging keys a struct target lacks raises; the result keeps the target's flags.

A value the interpreter cannot know is `UNKNOWN`; a mapping that may hold keys nobody can list
(merged from something unknown) is `open`, and a missing key in it is unknown, never an error.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    """A value the analysis does not know (the singleton `UNKNOWN`)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self


UNKNOWN = _Unknown()
MISSING = "???"


class Node(dict):
    """A config mapping. `open`: it may hold keys nobody can list (merged from the unknown)."""

    __slots__ = ("open",)

    def __init__(self, *args, open: bool = False, **kw) -> None:  # noqa: A002 -- OmegaConf's word
        super().__init__(*args, **kw)
        self.open = open

    def __deepcopy__(self, memo):
        out = Node(open=self.open)
        for k, v in self.items():
            out[k] = copy.deepcopy(v, memo)
        return out

    def __reduce__(self):
        return (Node, (dict(self),), {"open": self.open})

    def __setstate__(self, state):
        self.open = state["open"]


def to_node(value: Any) -> Any:
    """Plain YAML/JSON data -> config data (dicts become `Node`s)."""
    if isinstance(value, Node):
        return value
    if isinstance(value, dict):
        return Node({str(k): to_node(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return [to_node(v) for v in value]
    return value


_INTERP = re.compile(r"\$\{([^${}]*)\}")
#: Resolvers Hydra and OmegaConf register before the task function runs; their values are not
#: known statically, but they do not fail.
_KNOWN_RESOLVERS = ("oc.env", "oc.decode", "oc.create", "oc.deprecated", "oc.select", "oc.dict.keys",
                    "oc.dict.values", "hydra", "now", "python_version")


@dataclass
class Lookup:
    """The outcome of reading a key path: `ok` (value), `missing` (the key at `depth` does not
    exist: ConfigAttributeError/KeyError), `mandatory` (`???`), `interpolation` (a `${...}` that
    cannot resolve, detail says which), `unknown`."""

    status: str
    value: Any = None
    depth: int = 0
    detail: str = ""


@dataclass
class ConfigObj:
    """One config object: its data, its kind and its struct flags.

    `kind` is "DictConfig" (attribute and item access, flags apply) or "dict" (what
    `to_container` returns: item access only, no flags). `struct` maps a key path to the flag
    `set_struct` put there; a node inherits the nearest ancestor's flag.
    """

    data: Any
    kind: str = "DictConfig"
    struct: dict[tuple, bool | None] = field(default_factory=lambda: {(): None})
    origin: str = ""
    #: key paths added by an operation that crashed (kept so later reads follow the author's intent)
    crashed_keys: dict[tuple, int] = field(default_factory=dict)

    def copy(self) -> "ConfigObj":
        return ConfigObj(copy.deepcopy(self.data), self.kind, dict(self.struct), self.origin, dict(self.crashed_keys))

    # ------------------------------------------------------------------ flags

    def is_struct(self, path: tuple) -> bool | None:
        """The struct flag in force at `path` (nearest ancestor that set one)."""
        if self.kind != "DictConfig":
            return False
        for i in range(len(path), -1, -1):
            flag = self.struct.get(tuple(path[:i]), "unset")
            if flag != "unset":
                return flag
        return None

    def set_struct(self, path: tuple, flag: bool | None) -> None:
        self.struct[tuple(path)] = flag

    # ------------------------------------------------------------------ reads

    def node(self, path: tuple) -> Any:
        cur = self.data
        for seg in path:
            if isinstance(cur, dict) and seg in cur:
                cur = cur[seg]
            elif isinstance(cur, list) and isinstance(seg, int) and -len(cur) <= seg < len(cur):
                cur = cur[seg]
            else:
                return UNKNOWN
        return cur

    def lookup(self, path: tuple, resolve: bool = True) -> Lookup:
        cur = self.data
        for i, seg in enumerate(path):
            if cur is UNKNOWN:
                return Lookup("unknown", depth=i)
            if isinstance(cur, dict):
                if seg in cur:
                    cur = cur[seg]
                    continue
                if isinstance(cur, Node) and cur.open:
                    return Lookup("unknown", depth=i)
                return Lookup("missing", depth=i)
            if isinstance(cur, list):
                if isinstance(seg, int) and -len(cur) <= seg < len(cur):
                    cur = cur[seg]
                    continue
                return Lookup("unknown", depth=i) if not isinstance(seg, int) else Lookup("missing", depth=i)
            if isinstance(cur, str) and _INTERP.search(cur) and resolve:
                res = self.resolve(cur, path[:i])
                if res.status != "ok":
                    return Lookup(res.status, depth=i, detail=res.detail)
                cur = res.value
                if isinstance(cur, (dict, list)):
                    return self._continue(cur, path[i:], i)
                return Lookup("unknown", depth=i)
            return Lookup("unknown", depth=i)  # attribute of a leaf: not a config question
        if cur == MISSING:
            return Lookup("mandatory", depth=len(path))
        if resolve and isinstance(cur, str) and _INTERP.search(cur):
            return self.resolve(cur, path)
        return Lookup("ok", cur, depth=len(path))

    def _continue(self, data: Any, rest: tuple, depth: int) -> Lookup:
        sub = ConfigObj(data, self.kind)
        res = sub.lookup(rest)
        res.depth += depth
        return res

    def resolve(self, text: str, at: tuple) -> Lookup:
        """Resolve `${...}` in a string value found at `at`, as OmegaConf does on access."""
        whole = _INTERP.fullmatch(text)
        unknown = False
        parts: list[str] = []
        pos = 0
        for m in _INTERP.finditer(text):
            parts.append(text[pos:m.start()])
            pos = m.end()
            body = m.group(1).strip()
            if ":" in body and not body.startswith("."):
                name = body.split(":", 1)[0].strip()
                if name in _KNOWN_RESOLVERS or name.startswith("oc."):
                    unknown = True
                    continue
                # a custom resolver: registered by the code at run time, or not at all
                unknown = True
                continue
            target = self._interp_path(body, at)
            if target is None:
                unknown = True
                continue
            res = self.lookup(target, resolve=True)
            if res.status == "missing":
                return Lookup("interpolation", depth=len(at), detail=f"Interpolation key '{body}' not found")
            if res.status != "ok":
                if res.status in ("mandatory", "interpolation"):
                    return Lookup(res.status, depth=len(at), detail=res.detail or f"'{body}' is ???")
                unknown = True
                continue
            if whole is not None:
                return Lookup("ok", res.value, depth=len(at))
            parts.append(str(res.value))
        if unknown:
            return Lookup("unknown", depth=len(at))
        parts.append(text[pos:])
        return Lookup("ok", "".join(parts), depth=len(at))

    @staticmethod
    def _interp_path(body: str, at: tuple) -> tuple | None:
        if not body:
            return None
        if body.startswith("."):
            dots = len(body) - len(body.lstrip("."))
            base = at[: max(0, len(at) - dots)]
            rest = body[dots:]
            return (*base, *rest.split(".")) if rest else base
        return tuple(body.split("."))

    # ------------------------------------------------------------------ writes

    def write(self, path: tuple, value: Any, *, force_add: bool = False) -> str | None:
        """Set `path` to `value` (intent: always applied). Returns why OmegaConf would raise
        (struct mode and a new key), or None."""
        if not path:
            return None
        parent = self.node(path[:-1]) if len(path) > 1 else self.data
        problem = None
        if parent is UNKNOWN or not isinstance(parent, (dict, list)):
            return None
        key = path[-1]
        if isinstance(parent, dict) and key not in parent and not force_add and self.is_struct(path[:-1]) and not (isinstance(parent, Node) and parent.open):
            problem = f"Key '{key}' is not in struct"
        if isinstance(parent, dict):
            parent[key] = to_node(copy.deepcopy(value)) if isinstance(value, (dict, list)) else value
        elif isinstance(key, int) and -len(parent) <= key < len(parent):
            parent[key] = value
        return problem

    def merge(self, other: Any, at: tuple = ()) -> list[tuple]:
        """Merge `other` (data) into the node at `at` in place. Returns the key paths that are
        new where the target is in struct mode (OmegaConf raises ConfigKeyError on the first)."""
        target = self.node(at) if at else self.data
        new: list[tuple] = []
        if not isinstance(target, dict):
            return new
        self._merge_into(target, other, at, new)
        return new

    def _merge_into(self, target: dict, other: Any, path: tuple, new: list) -> None:
        if other is UNKNOWN:
            if isinstance(target, Node):
                target.open = True
            return
        if not isinstance(other, dict):
            return
        if isinstance(other, Node) and other.open and isinstance(target, Node):
            target.open = True
        for k, v in other.items():
            if k in target:
                if isinstance(target[k], dict) and isinstance(v, dict):
                    self._merge_into(target[k], v, (*path, k), new)
                else:
                    target[k] = to_node(copy.deepcopy(v))
            else:
                if self.is_struct(path) and not (isinstance(target, Node) and target.open):
                    new.append((*path, k))
                target[k] = to_node(copy.deepcopy(v))


def join_data(a: Any, b: Any) -> Any:
    """What a value may be after one of two paths: equal values stay, differing leaves become
    UNKNOWN, a key present on one path only stays (and reading it may not fail)."""
    if a is b:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        out = Node(open=(getattr(a, "open", False) or getattr(b, "open", False)))
        for k in a.keys() | b.keys():
            if k in a and k in b:
                out[k] = join_data(a[k], b[k])
            else:
                out[k] = a[k] if k in a else b[k]
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [join_data(x, y) for x, y in zip(a, b)]
    try:
        return a if a == b and type(a) is type(b) else UNKNOWN
    except Exception:  # noqa: BLE001 -- exotic values compare badly
        return UNKNOWN


def join_objects(a: ConfigObj, b: ConfigObj) -> ConfigObj:
    struct = dict(a.struct)
    for k, v in b.struct.items():
        if struct.get(k, "unset") != v:
            struct[k] = None if k in struct else v
    return ConfigObj(join_data(a.data, b.data), a.kind if a.kind == b.kind else "DictConfig", struct, a.origin,
                     {**a.crashed_keys, **b.crashed_keys})
