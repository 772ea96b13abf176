"""Command lines of argparse programs: what `parse_args()` returns on a given argv, and which
argv a pipeline runs a program with.

Not every pipeline is driven by Hydra. An older generation of bundles runs
`python -m src.main --smoke-test --results-dir DIR`: main.py parses its flags with argparse,
reads `config/smoke_test.yaml` itself and starts `python -m src.train --config-path FILE ...` once
per experiment. To follow such a command, the interpreter records the parser the code builds
(`ArgumentParser()`, `add_argument(...)`, `add_mutually_exclusive_group(required=True)`), and

* `parse(spec, argv)` answers `parse_args()` for a known command line with **argparse itself**:
  the recorded arguments are added to a real `ArgumentParser` (only their constant keywords;
  nothing of the bundle is imported or run) and the argv parsed. Unknown argv, an argument whose
  keywords are not constants, or a command line argparse rejects: the namespace is not known.
* `command_lines(spec)` says how the program is meant to be started when no prompt says it: one
  command line per option of a required mutually exclusive group (`--smoke-test`,
  `--full-experiment`), each with every other required option given a stand-in value.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import itertools
from dataclasses import dataclass, field
from typing import Any

from reviewer_audit.program.configstate import UNKNOWN

#: `type=` callables argparse may apply: builtins, and paths kept as text
_TYPES = {"str": str, "int": int, "float": float, "pathlib.Path": str, "Path": str}
#: keywords passed on to argparse when constant (help text and metavars change nothing)
_KEYWORDS = frozenset({"action", "default", "required", "nargs", "choices", "dest", "const"})
_ACTIONS = frozenset({"store", "store_true", "store_false", "store_const", "append", "count", "extend"})
#: more command lines than this from one parser and none is derived (an unbounded product)
_MAX_LINES = 8


@dataclass
class ArgSpec:
    names: tuple[str, ...]
    kwargs: dict[str, Any]
    group: int | None = None  # index into ParserSpec.groups
    #: some keyword was not a constant: argparse cannot be given this argument
    opaque: bool = False

    @property
    def dest(self) -> str:
        if "dest" in self.kwargs:
            return str(self.kwargs["dest"])
        longs = [n for n in self.names if n.startswith("--")] or list(self.names)
        return longs[0].lstrip("-").replace("-", "_") if longs else "?"


@dataclass
class ParserSpec:
    """A parser as the code builds it, in the module that builds it."""

    module: str
    args: list[ArgSpec] = field(default_factory=list)
    groups: list[bool] = field(default_factory=list)  # mutually exclusive groups: required?
    #: sub-commands or `set_defaults`: what parse_args returns is not followed
    partial: bool = False

    def add(self, names: list[Any], kwargs: dict[str, Any], group: int | None) -> None:
        if not names or not all(isinstance(n, str) for n in names):
            return
        kept: dict[str, Any] = {}
        opaque = False
        for k, v in kwargs.items():
            if k == "type":
                if v in _TYPES:
                    kept["type"] = _TYPES[v]
                continue
            if k not in _KEYWORDS:
                continue
            if v is UNKNOWN or (k == "action" and v not in _ACTIONS):
                opaque = True
                continue
            kept[k] = v
        self.args.append(ArgSpec(tuple(names), kept, group, opaque))


def parse(spec: ParserSpec, argv: list[str]) -> dict[str, Any] | None:
    """`parse_args(argv)` for this parser: dest -> value (UNKNOWN for an argument argparse could
    not be given), or None when argparse rejects the command line."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    groups = [parser.add_mutually_exclusive_group(required=required) for required in spec.groups]
    opaque: list[str] = []
    for arg in spec.args:
        if arg.opaque:
            opaque.append(arg.dest)
            # still consume its option, so that the rest of the line parses as it would
            kwargs = {"dest": arg.dest, "nargs": "?"} if arg.names[0].startswith("-") else {"dest": arg.dest, "nargs": "*"}
        else:
            kwargs = dict(arg.kwargs)
        target = groups[arg.group] if arg.group is not None and arg.group < len(groups) else parser
        try:
            target.add_argument(*arg.names, **kwargs)
        except (argparse.ArgumentError, ValueError, TypeError):
            opaque.append(arg.dest)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            namespace, _rest = parser.parse_known_args(argv)
    except (argparse.ArgumentError, SystemExit, ValueError, TypeError):
        return None
    values = dict(vars(namespace))
    for dest in opaque:
        values[dest] = UNKNOWN
    return values


def command_lines(spec: ParserSpec) -> list[tuple[str, ...]]:
    """The command lines the program is meant to run with: one per choice of an option from
    each required mutually exclusive group, every required option given a stand-in value (a
    folder for a `*dir*`/`*path*` option: `results`). Empty when the parser cannot be satisfied
    by flags alone (a required group whose options all take values)."""
    if spec.partial:
        return []
    choices: list[list[tuple[str, ...]]] = []
    for index, required in enumerate(spec.groups):
        if not required:
            continue
        options = [(_flag(a),) for a in spec.args if a.group == index and a.kwargs.get("action") in ("store_true", "store_false", "store_const")]
        if not options:
            return []
        choices.append(options)
    fixed: list[str] = []
    for arg in spec.args:
        if arg.group is not None or not arg.kwargs.get("required") or not arg.names[0].startswith("-"):
            continue
        fixed += [_flag(arg), _stand_in(arg)]
    lines = [tuple(itertools.chain.from_iterable(combo)) + tuple(fixed) for combo in itertools.product(*choices)]
    return lines[:_MAX_LINES] if len(lines) <= _MAX_LINES else []


def _flag(arg: ArgSpec) -> str:
    longs = [n for n in arg.names if n.startswith("--")]
    return longs[0] if longs else arg.names[0]


def _stand_in(arg: ArgSpec) -> str:
    choices = arg.kwargs.get("choices")
    if isinstance(choices, (list, tuple)) and choices:
        return str(choices[0])
    if arg.kwargs.get("type") in (int, float):
        return "1"
    return "results"


__all__ = ["ArgSpec", "ParserSpec", "command_lines", "parse"]
