"""What the interpreter knows of a command's inputs outside Hydra: its argv and the files it reads.

A pipeline not driven by Hydra hands each program its settings in two ways, and the interpreter
follows both so that branches on those settings are decided as a run decides them:

* **argv, through argparse.** `ArgumentParser()` and its `add_argument(...)` calls are recorded
  (`program.argparse_model.ParserSpec`); `parse_args()` in the command's main module returns the
  namespace argparse itself gives for the command's argv (`Interpreter.argv`), or an unknown
  value when the argv is not known (a command of a Hydra pipeline) or argparse rejects it.
* **YAML files.** `Path.read_text()` and `open()` of a file whose content is known -- a bundle
  file, or one an earlier command wrote (`Interpreter.files`, e.g. main.py's
  `path.write_text(yaml.safe_dump(run_cfg))` before it starts train.py on that path) -- give a
  `FileText`; `yaml.safe_load` of it is the file's data, as plain dicts and lists. Writing
  `yaml.safe_dump(x)` of known data records the file in the trace (`Trace.files_written`).

`IoModels` is a mixin of `program.interp.Interpreter`, like `program.library_models.LibraryModels`.
"""
from __future__ import annotations

import posixpath
from typing import Any

from reviewer_audit.program.argparse_model import ParserSpec, parse
from reviewer_audit.program.configstate import UNKNOWN
from reviewer_audit.program.values import (
    ArgParser, ArgParserMethod, ArgsNamespace, Const, Dumped, Ext, FileText, FileWriter, Frame, PathVal, Tup, _Builtin, _has_unknown, const_of,
)

#: yaml readers and writers whose data the analysis follows
_YAML_LOADS = ("yaml.safe_load", "yaml.load", "yaml.full_load")
_YAML_DUMPS = ("yaml.safe_dump", "yaml.dump")


class IoModels:
    """argparse and known files for the interpreter (see the module doc)."""

    #: the command line `parse_args()` parses in the command's main module; None: not known
    argv: list[str] | None = None
    #: files earlier commands wrote: normalised path -> (data, origin)
    files: dict[str, Any]
    parser_specs: list[ParserSpec]

    # ------------------------------------------------------------------ argparse

    def _new_parser(self, frame: Frame) -> ArgParser:
        self.parser_specs.append(ParserSpec(frame.module))
        return ArgParser(len(self.parser_specs) - 1)

    def _parser_call(self, frame: Frame, method: ArgParserMethod, args: list, kwargs: dict) -> Any:
        spec = self.parser_specs[method.parser.spec]
        name = method.name
        if name == "add_argument":
            spec.add([const_of(a) for a in args], {k: _keyword(v) for k, v in kwargs.items()}, method.parser.group)
            return UNKNOWN
        if name == "add_mutually_exclusive_group":
            spec.groups.append(const_of(kwargs.get("required", Const(False))) is True)
            return ArgParser(method.parser.spec, len(spec.groups) - 1)
        if name == "add_argument_group":
            return ArgParser(method.parser.spec)
        if name in ("add_subparsers", "set_defaults"):
            spec.partial = True  # sub-commands or defaults set aside from the arguments: not followed
            return UNKNOWN
        if name in ("parse_args", "parse_known_args"):
            if spec not in self.trace.parsers:
                self.trace.parsers.append(spec)
            given = const_of(args[0]) if args else None
            argv = list(given) if isinstance(given, (list, tuple)) and all(isinstance(a, str) for a in given) else (
                self.argv if frame.module == self.main_module and not args else None)
            values = parse(spec, argv) if argv is not None and not spec.partial else None
            ns = ArgsNamespace(tuple(values.items())) if values is not None else UNKNOWN
            return Tup((ns, UNKNOWN)) if name == "parse_known_args" and ns is not UNKNOWN else ns
        return UNKNOWN

    # ------------------------------------------------------------------ files

    def _known_file(self, target: Any) -> FileText | None:
        """The file at `target` when its content is known: a YAML file of the bundle, or one an
        earlier command wrote."""
        text = self._path_text(target)
        if text is None or "{}" in text:
            return None
        if text.startswith("@"):
            rel = posixpath.normpath(text[2:] if text.startswith("@/") else text[1:])
            bundle = rel in self.src.files
        else:
            rel = posixpath.normpath(text)
            bundle = self.cwd_is_root and rel in self.src.files
        if bundle:
            if not rel.endswith((".yaml", ".yml")):
                return None
            return FileText(rel, self.src.load_yaml(rel), (rel, ()))
        if rel in self.files:
            data, origin = self.files[rel]
            return FileText(rel, data, origin)
        return None

    def _path_io(self, path: PathVal, name: str, args: list, kwargs: dict) -> Any:
        """`path.read_text()`, `path.open(mode)`, `path.write_text(...)`."""
        if name == "open":
            return self._open([path, *args], kwargs)
        if name == "read_text":
            return self._known_file(path) or UNKNOWN
        if name == "write_text" and args:
            self._wrote(path, args[0])
            return UNKNOWN
        return UNKNOWN

    def _wrote(self, target: Any, content: Any) -> None:
        text = self._path_text(target)
        if text is None or "{}" in text or not isinstance(content, Dumped):
            return
        self.trace.files_written[posixpath.normpath(text)] = (content.data, content.origin)

    def _yaml_call(self, name: str, args: list, kwargs: dict) -> Any:
        """`yaml.safe_load(<known file>)` is its data; `yaml.safe_dump(<known data>)` its text,
        and written into an open file, the file's content."""
        if name in _YAML_LOADS and args:
            source = args[0]
            data = source.data if isinstance(source, FileText) else UNKNOWN
            return Const(data, origin=source.origin) if data is not UNKNOWN and not _has_unknown(data) else UNKNOWN
        if name in _YAML_DUMPS and args:
            data = const_of(args[0])
            if data is UNKNOWN:
                return UNKNOWN
            stream = args[1] if len(args) > 1 else kwargs.get("stream")
            dumped = Dumped(data, args[0].origin if isinstance(args[0], Const) else None)
            if isinstance(stream, FileWriter):
                self._wrote(stream.path, dumped)
                return Const(None)
            return dumped if stream is None else UNKNOWN
        return UNKNOWN

    def _open(self, args: list, kwargs: dict) -> Any:
        mode = const_of(args[1]) if len(args) > 1 else const_of(kwargs.get("mode", Const("r")))
        if not isinstance(mode, str):
            return UNKNOWN
        if "w" in mode:
            return FileWriter(args[0])
        if "a" in mode or "+" in mode:
            return UNKNOWN
        return self._known_file(args[0]) or UNKNOWN


def _keyword(v: Any) -> Any:
    """An `add_argument` keyword as argparse would take it: builtin and library callables by
    name (`type=int`, `type=Path`), constants as themselves, anything else unknown."""
    if isinstance(v, _Builtin):
        return v.name
    if isinstance(v, Ext):
        return v.name
    return const_of(v)


__all__ = ["IoModels"]
