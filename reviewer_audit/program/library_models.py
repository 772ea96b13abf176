"""What the interpreter knows of the libraries the code calls, and of config access.

OmegaConf (`merge`, `create`, `load`, `update`, `to_container`, `set_struct`, `open_dict`,
`select`, `deepcopy` as the copy the author meant), `copy.deepcopy`, paths (`os.path`,
`pathlib`, `hydra.utils.to_absolute_path`/`get_original_cwd`), subprocess launches and the
environment. Reads and writes of config nodes follow OmegaConf's rules (`program.configstate`)
and become events. Any other library call returns UNKNOWN, and the bundle callables handed to it
are run as the library would run them.

`LibraryModels` is a mixin of `program.interp.Interpreter`: it uses the interpreter's heap,
trace and bookkeeping.
"""
from __future__ import annotations

import ast
import copy
import functools
import posixpath
from typing import Any

from reviewer_audit.program.configstate import UNKNOWN, ConfigObj, Lookup, Node, to_node
from reviewer_audit.program.values import (
    REPO_ROOT, Alt, CfgMethod, CfgRef, Ext, Instance, ConfigLoad, ConfigMerge, ConfigRead, ConfigWrite, Const, EnvSet, Frame, Launch, LibCall,
    PathVal, Sampled, Template, Tup, _Unlock, const_of,
)

_NOT_MODELLED = object()

_SUBPROCESS = ("subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "subprocess.Popen", "os.system")


def _scalar(value: Any) -> bool:
    return value is not UNKNOWN and not isinstance(value, (dict, list))


def _find_elsewhere(data: Any, rest: tuple, skip: tuple, depth: int = 3) -> list[tuple]:
    """Key paths in `data` under which `rest` exists (other than `skip`): where a missing key
    really is, e.g. ('run',) when the code reads cfg.model but the run config is at cfg.run."""
    out: list[tuple] = []
    todo: list[tuple[tuple, Any]] = [((), data)]
    while todo:
        prefix, node = todo.pop(0)
        if not isinstance(node, dict) or len(prefix) > depth:
            continue
        if prefix != skip:
            cur = node
            for seg in rest:
                cur = cur.get(seg) if isinstance(cur, dict) else None
                if cur is None:
                    break
            else:
                out.append(prefix)
                if len(out) >= 3:
                    return out
        todo.extend(((*prefix, k), v) for k, v in node.items() if isinstance(v, dict))
    return out


@functools.lru_cache(maxsize=1)
def _dictconfig_attributes() -> frozenset[str]:
    """Attribute names a DictConfig answers itself; any other name is a key lookup."""
    from omegaconf import DictConfig

    return frozenset(dir(DictConfig))


class LibraryModels:
    """Library calls and config access for the interpreter (see the module doc)."""

    def _library_call(self, frame: Frame, name: str, args: list, kwargs: dict, node: ast.Call, star: bool = False) -> Any:
        line, col = self._event_pos(frame, node)
        short = name.split(".")
        tail2 = ".".join(short[-2:])
        if not name.startswith(("omegaconf.", "wandb.", "json.", "yaml.", "print", "logging.", "pprint.")):
            # a library that receives a config node may read any key under it; copying, logging
            # and printing it reads nothing the run uses
            for v in (*args, *kwargs.values()):
                if isinstance(v, CfgRef):
                    self._whole(frame, v, node)
        consts = tuple(const_of(a) if not isinstance(a, CfgRef) else UNKNOWN for a in args)
        kconsts = {k: (const_of(v) if not isinstance(v, CfgRef) else UNKNOWN) for k, v in kwargs.items()}
        step = self._step_kind(frame, node) if name.startswith("wandb.") and name.endswith(".log") else None
        self._emit(self.trace.calls, LibCall(frame.module, line, col, self.order, self._caught("*"), name=name, args=consts, kwargs=kconsts, star=star,
                                             loops=tuple(self.loop_stack), step=step))
        if name.startswith("omegaconf.") or name.startswith("hydra.") or tail2.startswith("OmegaConf."):
            handled = self._omegaconf(frame, tail2 if tail2.startswith("OmegaConf.") else name, args, kwargs, node, line, col)
            if handled is not _NOT_MODELLED:
                return handled
        if name in ("copy.deepcopy", "copy.copy") and args:
            return self._copy(args[0])
        if name in _SUBPROCESS:
            argv = args[0] if args else kwargs.get("args", UNKNOWN)
            mod = self.src.by_path.get(frame.module)
            source = "\n".join(mod.lines[line - 1:(node.end_lineno or line)]) if mod is not None else ""
            items = self._argv(argv)
            self._emit(self.trace.launches, Launch(frame.module, line, col, self.order, argv=tuple(a if isinstance(a, str) else None for a in items),
                                                   templates=tuple(a.text if isinstance(a, Template) else a for a in items), source=source[:2000]))
            return UNKNOWN
        if name in ("os.environ.setdefault", "os.putenv") and len(args) >= 2:
            self._emit(self.trace.env, EnvSet(frame.module, line, col, self.order, name=const_of(args[0]), value=const_of(args[1])))
            return UNKNOWN
        if name in ("os.environ.get", "os.getenv"):
            return UNKNOWN
        if name in ("os.path.join",) and args:
            parts = [self._path_text(a) for a in args]
            if all(p is not None for p in parts):
                joined = posixpath.join(*parts)
                return PathVal(joined) if any(isinstance(a, PathVal) for a in args) else Const(joined)
            return UNKNOWN
        if name in ("os.path.dirname", "os.path.abspath", "os.path.realpath", "os.path.normpath", "os.path.expanduser") and args:
            text = self._path_text(args[0])
            if text is None:
                return UNKNOWN
            out = posixpath.dirname(text) if name.endswith("dirname") else text
            return PathVal(out) if isinstance(args[0], PathVal) else Const(out)
        if name in ("pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath") and args:
            text = self._path_text(args[0])
            return PathVal(text) if text is not None else UNKNOWN
        if name in ("hydra.utils.get_original_cwd",):
            return PathVal("@")
        if name in ("os.getcwd", "pathlib.Path.cwd"):
            return PathVal("@") if self.cwd_is_root else UNKNOWN
        if name in ("yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.safe_dump", "yaml.dump"):
            return self._yaml_call(name, args, kwargs)
        if name == "argparse.ArgumentParser":
            return self._new_parser(frame)
        for v in (*args, *kwargs.values()):
            self._escape(frame, v, node)
        if name == "wandb.init":
            return Ext("wandb.Run")  # so that `run.log(...)` is seen as WandB's
        return UNKNOWN

    def _argv(self, value: Any) -> tuple:
        """A command line: each item a known string, a `Template` known in part, or None."""
        if isinstance(value, Alt):
            # one of several command lines: the longest (it holds the others' known items)
            return max((self._argv(o) for o in value.options), key=len, default=())
        if isinstance(value, Tup):
            return tuple(self._argv_item(v) for v in value.items)
        c = const_of(value)
        if isinstance(c, (list, tuple)):
            return tuple(x if isinstance(x, Template) else str(x) if x is not UNKNOWN and not isinstance(x, (list, dict, tuple)) else None for x in c)
        if isinstance(c, str):
            return tuple(c.split())
        if isinstance(value, Template):
            return tuple(Template(w) if "{}" in w else w for w in value.text.split())
        return ()

    def _argv_item(self, v: Any) -> Any:
        if isinstance(v, Template):
            return v
        c = const_of(v)
        return str(c) if c is not UNKNOWN and not isinstance(c, (list, dict, tuple)) else None

    def _path_text(self, v: Any) -> str | None:
        if isinstance(v, PathVal):
            return v.text
        if isinstance(v, Template):
            return v.text  # `{}` holes stay: the folder is known even when the run id is not
        c = const_of(v)
        if isinstance(c, str) and c.startswith(REPO_ROOT):
            return "@" + c[len(REPO_ROOT):]
        return c if isinstance(c, str) else None

    def _copy(self, value: Any) -> Any:
        if isinstance(value, CfgRef):
            obj = self._cfg(value)
            if obj is None:
                return UNKNOWN
            data = copy.deepcopy(obj.node(value.path)) if value.path else copy.deepcopy(obj.data)
            new = ConfigObj(data, obj.kind, {(): obj.is_struct(value.path)}, obj.origin)
            return CfgRef(self._alloc(new))
        if isinstance(value, Instance):
            return Instance(self._alloc(dict(self.heap.get(value.obj, {}))), value.cls)
        return value

    def _data_of(self, value: Any) -> Any:
        """Config data for a value stored into a config or merged into one."""
        if isinstance(value, CfgRef):
            obj = self._cfg(value)
            if obj is None:
                return UNKNOWN
            node = obj.node(value.path) if value.path else obj.data
            return copy.deepcopy(node)
        if isinstance(value, Const):
            v = value.value
            return to_node(v) if isinstance(v, (dict, list, tuple)) else v
        if isinstance(value, Tup):
            return [self._data_of(i) for i in value.items]
        if isinstance(value, PathVal):
            return value.text
        return UNKNOWN

    def _omegaconf(self, frame: Frame, name: str, args: list, kwargs: dict, node: ast.Call, line: int, col: int) -> Any:
        op = name.split(".")[-1]
        if op == "merge":
            if not args:
                return UNKNOWN
            first = args[0]
            if isinstance(first, CfgRef) and self._cfg(first) is not None:
                src = self._cfg(first)
                result = ConfigObj(copy.deepcopy(src.node(first.path) if first.path else src.data), src.kind, {(): src.is_struct(first.path)}, src.origin)
            else:
                data = self._data_of(first)
                result = ConfigObj(data if isinstance(data, dict) else Node(open=data is UNKNOWN), "DictConfig", {(): None}, "merge")
            new: list = []
            for other in args[1:]:
                new += result.merge(self._data_of(other))
            if len(args) > 1:
                result.origin = "merge"
            caught = self._caught("struct")
            oid = self._alloc(result)
            self._emit(self.trace.merges, ConfigMerge(frame.module, line, col, self.order, caught, origin=result.origin, target=first.path if isinstance(first, CfgRef) else (), new_keys=new, obj=oid))
            if new and not caught:
                for k in new:
                    self._crash_keys[(oid, k)] = self.order
            return CfgRef(oid)
        if op in ("create", "structured"):
            data = self._data_of(args[0]) if args else Node()
            if data is UNKNOWN:
                return self.new_config(UNKNOWN, struct=None, origin="create")
            if not isinstance(data, (dict, list)):
                return UNKNOWN
            return CfgRef(self._alloc(ConfigObj(to_node(data), "DictConfig", {(): None}, "create")))
        if op == "load":
            target = args[0] if args else kwargs.get("file_", UNKNOWN)
            return self._load(frame, target, line, col)
        if op in ("to_container", "to_object"):
            if args and isinstance(args[0], CfgRef) and self._cfg(args[0]) is not None:
                src = self._cfg(args[0])
                data = copy.deepcopy(src.node(args[0].path) if args[0].path else src.data)
                return CfgRef(self._alloc(ConfigObj(data, "dict", {(): False}, src.origin)))
            return UNKNOWN
        if op == "update" and len(args) >= 2 and isinstance(args[0], CfgRef):
            key = const_of(args[1])
            obj = self._cfg(args[0])
            if obj is not None and not isinstance(key, str):
                self.trace.opaque_writes.append((args[0].obj, args[0].path, self.seq))
            if not isinstance(key, str) or obj is None:
                return Const(None)
            value = args[2] if len(args) > 2 else kwargs.get("value", UNKNOWN)
            force = const_of(kwargs.get("force_add", Const(False))) is True
            path = (*args[0].path, *key.split("."))
            problem = obj.write(path, self._data_of(value), force_add=force)
            self._emit(self.trace.writes, ConfigWrite(frame.module, line, col, self.order, self._caught("struct"), origin=obj.origin, key=path, problem=problem,
                                                      value=const_of(value), sampled=value.name if isinstance(value, Sampled) else None, obj=args[0].obj))
            return Const(None)
        if op == "set_struct" and len(args) >= 2 and isinstance(args[0], CfgRef):
            flag = const_of(args[1])
            obj = self._cfg(args[0])
            if obj is not None:
                obj.set_struct(args[0].path, flag if isinstance(flag, bool) else None)
            return Const(None)
        if op in ("set_readonly",):
            return Const(None)
        if op in ("deepcopy", "copy") and args:
            # OmegaConf has no deepcopy (a library-API rule says so); the author meant a copy
            return self._copy(args[0])
        if op in ("open_dict", "read_write") and args and isinstance(args[0], CfgRef):
            return _Unlock(args[0])
        if op == "flag_override" and args and isinstance(args[0], CfgRef):
            return _Unlock(args[0])
        if op == "select" and len(args) >= 2 and isinstance(args[0], CfgRef):
            key = const_of(args[1])
            if isinstance(key, str):
                return self._read(frame, args[0], tuple(key.split(".")), node, access="get", default=kwargs.get("default", Const(None)))
            return UNKNOWN
        if op in ("is_missing",):
            return UNKNOWN
        if op in ("to_yaml",):
            return UNKNOWN
        if op in ("get_original_cwd",):
            return PathVal("@")
        if op in ("to_absolute_path",) and args:
            text = self._path_text(args[0])
            if text is None:
                return UNKNOWN
            return PathVal(text if text.startswith("@") else posixpath.join("@", text))
        return _NOT_MODELLED

    def _load(self, frame: Frame, target: Any, line: int, col: int) -> Any:
        text = self._path_text(target)
        if text is None:
            return self.new_config(UNKNOWN, struct=None, origin="load")
        rel = posixpath.normpath(text[2:] if text.startswith("@/") else text)
        if not text.startswith("@") and not self.cwd_is_root:
            return self.new_config(UNKNOWN, struct=None, origin="load")
        if "{}" in rel:  # a file whose name the analysis does not know: only its folder is
            self._emit(self.trace.loads, ConfigLoad(frame.module, line, col, self.order, self._caught("file"), file=rel, exists=None))
            return self.new_config(UNKNOWN, struct=None, origin="load")
        exists = rel in self.src.files
        self._emit(self.trace.loads, ConfigLoad(frame.module, line, col, self.order, self._caught("file"), file=rel, exists=exists))
        if not exists:
            return self.new_config(UNKNOWN, struct=None, origin=f"load {rel}")
        data = self.src.load_yaml(rel)
        if data is UNKNOWN or not isinstance(data, (dict, list)):
            return self.new_config(UNKNOWN, struct=None, origin=f"load {rel}")
        return CfgRef(self._alloc(ConfigObj(to_node(data), "DictConfig", {(): None}, f"load {rel}")))

    def _whole(self, frame: Frame, ref: CfgRef, node: ast.AST) -> None:
        """A config node used whole (handed to a library, `**`-unpacked, iterated): every key
        under it counts as read."""
        obj = self._cfg(ref)
        if obj is None:
            return
        line, col = self._event_pos(frame, node)
        self._emit(self.trace.reads, ConfigRead(frame.module, line, col, self.order, origin=obj.origin, obj=ref.obj, key=ref.path, status="ok",
                                                value=None, access="whole", kind=obj.kind))

    def _read(self, frame: Frame, ref: CfgRef, key: tuple, node: ast.AST, access: str = "attr", default: Any = None) -> Any:
        obj = self._cfg(ref)
        if obj is None:
            return UNKNOWN
        path = (*ref.path, *key)
        res: Lookup = obj.lookup(path)
        line, col = self._event_pos(frame, node)
        status = res.status
        after = None
        if status == "ok":
            for i in range(len(ref.path) + 1, len(path) + 1):
                if (ref.obj, path[:i]) in self._crash_keys:
                    after = self._crash_keys[(ref.obj, path[:i])]
                    break
        if access in ("get",) and status in ("missing",):
            caught = True
        else:
            kind = "missing" if status == "missing" else status
            caught = self._caught(kind) if status in ("missing", "mandatory", "interpolation") else False
        siblings: tuple = ()
        found: tuple = ()
        if status == "missing" and access != "get":
            parent = obj.node(path[:res.depth])
            siblings = tuple(sorted(str(k) for k in parent.keys()))[:40] if isinstance(parent, dict) else ()
            # look for the missing key together with its parent's name: cfg.algorithm.name
            # with an empty cfg.algorithm is cfg.run.algorithm.name, not any other `name`
            anchor = max(0, res.depth - 1)
            found = tuple(_find_elsewhere(obj.data, path[anchor:], path[:anchor]))
        self._emit(self.trace.reads, ConfigRead(frame.module, line, col, self.order, caught, origin=obj.origin, obj=ref.obj, key=path, status=status,
                                               value=res.value if status == "ok" else None, access=access, kind=obj.kind, detail=res.detail,
                                               after_crash=after, siblings=siblings, found_at=found, depth=res.depth,
                                               shadowed=self._shadowed(obj, path, res) if status == "ok" else None))
        if status == "ok":
            value = res.value
            if isinstance(value, (dict, list)):
                return CfgRef(ref.obj, path)
            if value is UNKNOWN:
                return UNKNOWN
            return Const(value, source=CfgRef(ref.obj, path))
        if status == "missing" and access == "get":
            return default if default is not None else Const(None)
        if status == "missing" and len(found) == 1:
            # the author's intent: the one place the key is (cfg.model read, cfg.run.model meant),
            # so the code after this crash is followed with the run's real values
            intended = (*found[0], *path[max(0, res.depth - 1):])
            res2 = obj.lookup(intended)
            if res2.status == "ok":
                return CfgRef(ref.obj, intended) if isinstance(res2.value, (dict, list)) else (UNKNOWN if res2.value is UNKNOWN else Const(res2.value))
        return UNKNOWN

    def _shadowed(self, obj: ConfigObj, path: tuple, res: Lookup) -> tuple | None:
        """The run's own value of a key read at the root, when it differs from what the read gets.

        Hydra mounts a run config group at `cfg.run` unless the file says `# @package _global_`;
        a key read at the root then gets config.yaml's default, not the run's setting."""
        if not self.run_mounts or not _scalar(res.value):
            return None
        for mount in self.run_mounts:
            if path[: len(mount)] == mount:
                return None
            other = obj.lookup((*mount, *path))
            if other.status == "ok" and _scalar(other.value) and other.value != res.value:
                return ((*mount, *path), other.value)
        return None

    def _cfg_method(self, frame: Frame, m: CfgMethod, args: list, kwargs: dict, node: ast.Call) -> Any:
        if m.name == "get" and args:
            key = const_of(args[0])
            if isinstance(key, (str, int)):
                default = args[1] if len(args) > 1 else kwargs.get("default_value", kwargs.get("default", Const(None)))
                return self._read(frame, m.ref, (key,), node, access="get", default=default)
            return UNKNOWN
        if m.name in ("pop", "setdefault") and args:
            key = const_of(args[0])
            obj = self._cfg(m.ref)
            if obj is None or not isinstance(key, str):
                return UNKNOWN
            value = self._read(frame, m.ref, (key,), node, access="get", default=args[1] if len(args) > 1 else Const(None))
            if m.name == "setdefault" and obj.lookup((*m.ref.path, key)).status == "missing":
                problem = obj.write((*m.ref.path, key), self._data_of(args[1]) if len(args) > 1 else None)
                line, col = self._event_pos(frame, node)
                self._emit(self.trace.writes, ConfigWrite(frame.module, line, col, self.order, self._caught("struct"), origin=obj.origin, key=(*m.ref.path, key), problem=problem, obj=m.ref.obj))
            return value
        if m.name in ("update", "merge_with") and args:
            obj = self._cfg(m.ref)
            if obj is not None:
                new = []
                for other in args:
                    new += obj.merge(self._data_of(other), m.ref.path)
                line, col = self._event_pos(frame, node)
                self._emit(self.trace.merges, ConfigMerge(frame.module, line, col, self.order, self._caught("struct"), origin=obj.origin, target=m.ref.path, new_keys=new, obj=m.ref.obj))
            return Const(None)
        if m.name == "copy":
            return self._copy(m.ref)
        if m.name in ("keys", "values", "items"):
            self._whole(frame, m.ref, node)
            obj = self._cfg(m.ref)
            node = obj.node(m.ref.path) if obj is not None else UNKNOWN
            if not isinstance(node, Node) or node.open:
                return UNKNOWN
            keys = list(node)
            if m.name == "keys":
                return Tup(tuple(Const(k) for k in keys))
            values = tuple(
                CfgRef(m.ref.obj, (*m.ref.path, k)) if isinstance(node[k], (dict, list)) else (UNKNOWN if node[k] is UNKNOWN else Const(node[k]))
                for k in keys)
            if m.name == "values":
                return Tup(values)
            return Tup(tuple(Tup((Const(k), v)) for k, v in zip(keys, values)))
        return UNKNOWN
