"""The commands the prompt runs, each followed through the code: reach, config values, first crash.

The prompt runs `python -m src.main run=<id> results_dir=... mode=trial|full` for every run, then
`python -m src.evaluate results_dir=... run_ids=...`; main may start `python -m src.train ...` as
a child process. `RunModel` builds those commands from the spec, the run configs and what main
launches, composes each one's config with Hydra itself (`hydra_model`), and runs
`program.interp.Interpreter` over it. Rules and the engine then ask:

* `reach(path, line)`: on which commands does this line execute? An empty answer means no
  command reaches it: the finding there is latent.
* `order(command, path, line)`: when, in that command's execution, is it first reached? The
  first blocker of a command is the reached blocker with the lowest order.
* `traces`: every config read/write/merge/load with its outcome and value, per command, for the
  rules that judge configs and modes on the values a run really has.

A pipeline without Hydra (no `@hydra.main` entry, no run configs) is followed the same way:
main's argparse parser says which command lines it is meant to get (one per option of a required
group: `--smoke-test`, `--full-experiment`), and every distinct launch of a child is a command of
its own that can read the files main wrote (`program.io_models`).

A command whose `run=<id>` Hydra rejects only because the group or key is missing from the
primary config is followed with the config its author meant (`hydra_model.assumed_overrides`);
RA203 reports the failure, and what fails after it is its consequence.

Nothing is run: Hydra composes YAML text, and the interpreter reads CPython's `ast`.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Iterable

from reviewer_audit.program.configstate import UNKNOWN
from reviewer_audit.program.interp import Interpreter
from reviewer_audit.program.sources import ModuleSource, Sources, load_yaml_data
from reviewer_audit.program.values import Event, Launch, Trace

#: programs one command may start that are each followed (one per experiment of a config)
_MAX_CHILDREN = 16
_MODULE_ARG = re.compile(r"-m\s+([\w.]+)")
#: `"-m", "src.train"` or `-m src.train` in the source of a launch whose argv is not fully known
_MODULE_LITERAL = re.compile(r"""["']-m["'],\s*["']([\w.]+)["']|-m\s+([\w.]+)""")


@dataclass(frozen=True)
class Command:
    """One process the pipeline starts."""

    kind: str  # "main" (the prompt's run command), "child" (started by main), "evaluate", "script"
    module: str  # bundle path run as __main__, e.g. "src/main.py"
    run_id: str | None
    mode: str | None
    overrides: tuple[str, ...] = ()
    parent: int | None = None  # index of the command that starts this one
    #: the overrides are the argv argparse parses (a pipeline not driven by Hydra)
    argparse: bool = False

    @property
    def text(self) -> str:
        dotted = self.module[:-3].replace("/", ".")
        return " ".join(["python -m", dotted, *self.overrides]).strip()


@dataclass
class CommandRun:
    command: Command
    trace: Trace
    compose_error: str | None = None
    compose_kind: str | None = None  # `hydra_compose.ERROR_KINDS`
    #: for a child: the parent's launch that starts it (argv as the parent evaluated it)
    launch: Launch | None = None


class _LineIndex:
    """Per module: for each line, the statement that executes it (its trace key), and the
    function whose header it is in (so a finding on a `def` line is reached when the function
    body is entered)."""

    def __init__(self, tree: ast.Module, n_lines: int) -> None:
        self.stmt: list[tuple[int, int] | None] = [None] * (n_lines + 2)
        self.header_of: dict[int, int] = {}  # line -> def line of the function whose header it is in
        spans: list[tuple[int, int, tuple[int, int]]] = []
        for node in ast.walk(tree):
            if not isinstance(node, (ast.stmt, ast.ExceptHandler)):
                continue
            key = _header_key(node)
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
            spans.append((start, key[1], key))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
                for line in range(start, node.body[0].lineno):
                    self.header_of[line] = node.lineno
        # outer statements first, inner ones overwrite them
        for start, end, key in sorted(spans, key=lambda s: -(s[1] - s[0])):
            for line in range(max(1, start), min(end, n_lines + 1) + 1):
                self.stmt[line] = key

    def key(self, line: int) -> tuple[int, int] | None:
        return self.stmt[line] if 0 < line < len(self.stmt) else None


def _header_key(node: ast.AST) -> tuple[int, int]:
    """The same key `Interpreter._tick` records for a statement."""
    if isinstance(node, ast.If):
        return node.lineno, node.test.end_lineno
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return node.lineno, node.iter.end_lineno
    if isinstance(node, ast.While):
        return node.lineno, node.test.end_lineno
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Try, ast.ExceptHandler)) or type(node).__name__ == "TryStar":
        return node.lineno, node.lineno
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return node.lineno, node.items[-1].context_expr.end_lineno
    if isinstance(node, ast.Match):
        return node.lineno, node.subject.end_lineno
    return node.lineno, node.end_lineno or node.lineno


class RunModel:
    """Every command of the audited pipeline, interpreted once per audit (see module doc)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx

    # ------------------------------------------------------------------ inputs

    @cached_property
    def sources(self) -> Sources:
        modules = []
        for path, facts in self.ctx.modules.items():
            if facts.cpython is None:
                continue
            modules.append(ModuleSource(path, facts.module_name, facts.cpython.tree, facts.lines, path.endswith("__init__.py")))
        files = {p: f.text for p, f in self.ctx.bundle.files.items()}
        for run in self.ctx.run_files:
            files.setdefault(run.path, run.text)
        packages = set()
        for path in files:
            if path.endswith(".py"):
                parts = path[:-3].split("/")
                packages.update(".".join(parts[:i]) for i in range(1, len(parts)))
        cache: dict[str, Any] = {}

        def load(rel: str) -> Any:
            if rel not in cache:
                cache[rel] = load_yaml_data(files[rel]) if rel in files else UNKNOWN
            return cache[rel]

        return Sources(modules, files, packages, load)

    @cached_property
    def entry(self) -> str | None:
        """The module the prompt's run command starts (src/main.py); None when it cannot be
        followed (absent, or it did not parse): then no finding is placed on a command, and
        RA501/RA001 say why."""
        return "src/main.py" if "src/main.py" in self.sources.by_path else None

    @cached_property
    def _hydra(self):
        from reviewer_audit.program.hydra_model import hydra_model

        return hydra_model(self.ctx)

    def _modes(self) -> list[str | None]:
        modes: list[str] = []
        for form in self.ctx.spec.cli_for("src.main"):
            for m in re.findall(r"(?<![\w.])mode=(\w+)", form.command):
                if m not in modes:
                    modes.append(m)
        if not modes and self.ctx.spec.has("trial_mode_flag"):
            modes = ["full", "trial"]
        return modes or [None]

    # ------------------------------------------------------------------ commands

    @cached_property
    def runs(self) -> list[CommandRun]:
        if self.entry is None:
            return []
        out: list[CommandRun] = []
        run_ids = [r.run_id for r in self.ctx.run_files] or [None]
        hm = self._hydra
        main_entry = hm.entries.get(self.entry)
        if main_entry is None and run_ids == [None]:
            argparse_runs = self._argparse_runs()
            if argparse_runs:
                out += argparse_runs
                run_ids = []
        for run_id in run_ids:
            for mode in self._modes():
                overrides = hm.cli_overrides(run_id, mode or "full") if run_id is not None else []
                cmd = Command("main", self.entry, run_id, mode, tuple(overrides))
                out.append(self._interpret(cmd, main_entry, overrides if run_id is not None else None))
                parent = len(out) - 1
                for child, launch in self._children(out[parent]):
                    entry = hm.entries.get(child)
                    child_overrides = self._child_overrides(launch, child, overrides) if run_id is not None else []
                    cc = Command("child", child, run_id, mode, tuple(child_overrides), parent)
                    out.append(self._interpret(cc, entry, child_overrides if run_id is not None else None))
                    out[-1].launch = launch
        if "src/evaluate.py" in self.sources.by_path:
            overrides = self._evaluate_overrides([r for r in run_ids if r])
            cmd = Command("evaluate", "src/evaluate.py", None, None, tuple(overrides))
            out.append(self._interpret(cmd, hm.entries.get("src/evaluate.py"), overrides))
        return out

    def _argparse_runs(self) -> list[CommandRun]:
        """A main program that parses its flags with argparse (no Hydra, no run configs): one
        command per command line its parser is meant to be given (`argparse_model.command_lines`,
        e.g. `--smoke-test` and `--full-experiment`), each followed by the programs it starts,
        one per distinct launch (`python -m src.train --config-path <file main wrote>` per
        experiment), which read the files it wrote. Empty when main builds no such parser."""
        from reviewer_audit.program.argparse_model import command_lines

        probe = self._interpret(Command("main", self.entry, None, None), None, None)
        specs = [p for p in probe.trace.parsers if p.module == self.entry]
        lines = command_lines(specs[0]) if specs else []
        out: list[CommandRun] = []
        for line in lines:
            out.append(self._interpret(Command("main", self.entry, None, None, line, argparse=True), None, None))
            parent, at = out[-1], len(out) - 1
            for child, launch, argv in self._launches(parent)[:_MAX_CHILDREN]:
                cmd = Command("child", child, None, None, tuple(argv or ()), at, argparse=argv is not None)
                out.append(self._interpret(cmd, self._hydra.entries.get(child), None, files=parent.trace.files_written))
                out[-1].launch = launch
        return out

    def _launches(self, parent: CommandRun) -> list[tuple[str, Launch, list[str] | None]]:
        """Every distinct start of a bundle module by `parent`, with the argv after the module
        (None when part of it is not known)."""
        out: list[tuple[str, Launch, list[str] | None]] = []
        seen: set = set()
        for launch in parent.trace.launches:
            target = self._launch_target(parent, launch)
            if target is None:
                continue
            dotted = target[:-3].replace("/", ".")
            argv = list(launch.argv)
            start = next((i + 1 for i, a in enumerate(argv) if a in (dotted, target)), None)
            rest = argv[start:] if start is not None else None
            if rest is not None and any(a is None for a in rest):
                rest = None
            key = (target, tuple(rest) if rest is not None else None)
            if key not in seen:
                seen.add(key)
                out.append((target, launch, rest))
        return out

    def _launch_target(self, parent: CommandRun, launch: Launch) -> str | None:
        text = " ".join(a if a is not None else "?" for a in launch.argv)
        m = _MODULE_ARG.search(text) or _MODULE_LITERAL.search(launch.source)
        if m:
            target = (m.group(1) or m.group(2)).replace(".", "/") + ".py"
        else:
            target = next((a for a in launch.argv if a and a.endswith(".py") and a.replace("\\", "/") in self.sources.by_path), None)
        if target and target in self.sources.by_path and target != parent.command.module:
            return target
        return None

    def _children(self, parent: CommandRun) -> list[tuple[str, Launch]]:
        """The bundle modules the parent starts as processes (`python -m src.train ...`)."""
        out: list[tuple[str, Launch]] = []
        for launch in parent.trace.launches:
            target = self._launch_target(parent, launch)
            if target is not None and target not in [t for t, _ in out]:
                out.append((target, launch))
        return out

    @staticmethod
    def _child_overrides(launch: Launch, child: str, parent: list[str]) -> list[str]:
        """The Hydra overrides a child receives: what the launch passes, as the parent evaluated
        it. Where part of the command line is not known (`*sys.argv[1:]`, a value the analysis
        cannot compute), the parent's own command line stands in for it, as it usually is."""
        dotted = child[:-3].replace("/", ".")
        argv = list(launch.argv)
        start = next((i + 1 for i, a in enumerate(argv) if a in (dotted, child)), None)
        rest = argv[start:] if start is not None else [a for a in argv if a and "=" in a]
        from reviewer_audit.program.hydra_compose import parse_override

        # an override Hydra cannot even parse (`run={'run_id': ...}`: a node formatted into it)
        # is its own finding (RA208/RA209); the child is followed with what the author meant,
        # the parent's own value for that key
        rest = [None if (a is not None and "=" in a and parse_override(a) is not None) else a for a in rest]
        known = [a for a in rest if a is not None and "=" in a and not a.startswith("-")]
        merged = list(parent) if (any(a is None for a in rest) or start is None) else []
        for item in known:
            key = item.split("=", 1)[0].lstrip("+~")
            at = next((i for i, o in enumerate(merged) if o.split("=", 1)[0].lstrip("+~") == key), None)
            if at is None:
                merged.append(item)
            else:
                merged[at] = item
        return merged

    def _evaluate_overrides(self, run_ids: list[str]) -> list[str]:
        forms = self.ctx.spec.cli_for("src.evaluate")
        if not forms:
            return []
        tail = forms[0].command.split(forms[0].module, 1)[-1]
        out = []
        for name, value in re.findall(r"([+~]*[\w.]+)=('[^']*'|\"[^\"]*\"|\S+)", tail):
            if "run_ids" in name:
                value = json.dumps(run_ids)
            elif "{" in value:
                value = "results"
            out.append(f"{name}={value}")
        return out

    def _interpret(self, cmd: Command, entry, overrides: list[str] | None, files: dict | None = None) -> CommandRun:
        interp = Interpreter(self.sources)
        if cmd.argparse:
            interp.argv = list(cmd.overrides)
        interp.files = dict(files or {})
        error = kind = None
        data: Any = UNKNOWN
        origin = "hydra"
        target = entry
        if entry is not None and not self._hydra.composable(entry):
            target = self._hydra.assumed_primary(entry) or entry
        if target is not None and overrides is not None and self._hydra.composable(target):
            res = self._hydra.compose(target, overrides)
            assumed = self._hydra.assumed_overrides(target, overrides, res) if res.config is None and target is entry else None
            values: dict[str, str] = {}
            if assumed is not None:
                error, kind = res.error, res.error_kind  # RA203's finding; followed as the author meant it
                meant, values = assumed
                res = self._hydra.compose(target, meant)
                shown = " ".join([*meant, *(f"{k}: {v!r} as a plain value" for k, v in values.items())])
                origin = f"hydra, `{shown}` assumed"
            if res.config is not None:
                from reviewer_audit.program.hydra_model import plain

                try:
                    data = plain(res.config)
                    if isinstance(data, dict):
                        data.update(values)
                    if target is not entry:
                        origin = f"hydra, config_name={target.config_name!r} assumed"
                except Exception:  # noqa: BLE001 -- an odd config: its values are unknown
                    data = UNKNOWN
            elif target is entry:
                error, kind = res.error, res.error_kind
        # Hydra 1.1 behaviour (no version_base) changes the working directory to the run's
        # output folder: relative paths no longer point into the repository
        if entry is not None and entry.compose_version_base is not None and entry.compose_version_base < "1.2":
            interp.cwd_is_root = False
        root = data
        if cmd.run_id is not None and isinstance(data, dict):
            interp.run_mounts = self._run_mounts(target, overrides or [], cmd.run_id, data)

        def hydra_cfg():
            return interp.new_config(root, struct=root is not UNKNOWN, origin=origin)

        interp.hydra_cfg = hydra_cfg
        interp.run_module(cmd.module)
        return CommandRun(cmd, interp.trace, error, kind)

    def _run_mounts(self, entry, overrides: list[str], run_id: str, data: dict) -> tuple[tuple, ...]:
        """Where the composed config holds the run's own config group: the group an override
        selects the run's file in (`run=<id>`), when Hydra mounted it under its name rather than
        at the root (`# @package _global_`)."""
        groups = self._hydra.config_groups(entry)
        out = []
        for item in overrides:
            name, _, value = item.partition("=")
            name = name.lstrip("+~")
            if name in groups and value.strip("'\"") == run_id:
                mount = tuple(name.split("/"))
                node = data
                for seg in mount:
                    node = node.get(seg) if isinstance(node, dict) else None
                if isinstance(node, dict):
                    out.append(mount)
        return tuple(out)

    # ------------------------------------------------------------------ queries

    def indexes(self, *, mode: str | None = None, module: str | None = None, run_ids: list[str] | None = None) -> list[int]:
        """Indexes of the commands with this mode, module and run."""
        return [i for i, r in enumerate(self.runs)
                if (mode is None or r.command.mode == mode) and (module is None or r.command.module == module)
                and (run_ids is None or r.command.run_id in run_ids)]

    @cached_property
    def _lines(self) -> dict[str, _LineIndex]:
        return {p: _LineIndex(m.tree, len(m.lines)) for p, m in self.sources.by_path.items()}

    def grouped(self, select: Callable[[int, CommandRun], Iterable[Event]]) -> list[tuple[Event, list[int]]]:
        """Events grouped by where they happen (path, line, column): the first one at each place
        and the commands it happens on, in source order. `select(index, run)` picks the events."""
        places: dict[tuple[str, int, int], tuple[Event, list[int]]] = {}
        for i, run in enumerate(self.runs):
            for ev in select(i, run):
                key = (ev.path, ev.line, ev.col)
                if key not in places or (places[key][0].maybe and not ev.maybe):
                    # the event that represents a place is a definite one when there is one
                    places[key] = (ev, places.get(key, (ev, []))[1])
                if i not in places[key][1]:
                    places[key][1].append(i)
        return [places[k] for k in sorted(places)]

    def commands_text(self, on: list[int]) -> str:
        """The commands `on` (indexes into `runs`) as a finding says them: the first in full."""
        shown = f"`{self.runs[on[0]].command.text}`"
        return shown + (f" and {len(on) - 1} more command{'s' if len(on) > 2 else ''}" if len(on) > 1 else "")

    def order(self, index: int, path: str, line: int) -> int | None:
        """The first execution order of `path:line` on command `index`, or None if it never runs."""
        run = self.runs[index]
        lines = self._lines.get(path)
        if lines is None:
            return None
        header = lines.header_of.get(line)
        if header is not None:
            # a header (decorator, signature) acts when the function is called: during the calling
            # statement, before the body's first statement (`entered` is that statement's order).
            # So Hydra's composition failing on `@hydra.main` comes before anything the body runs.
            entered = run.trace.entered.get((path, header))
            return None if entered is None else entered - 1
        key = lines.key(line)
        if key is None:
            return None
        return run.trace.executed.get(path, {}).get(key)

    @cached_property
    def whole_reads(self) -> frozenset[tuple]:
        """Keys of the config nodes some command hands on whole (`train(cfg.model)` to a helper it
        cannot follow, `**cfg.model` to a library; `()` for the whole config): nothing then says
        which of their keys are read."""
        return frozenset(read.key for run in self.runs for read in run.trace.reads if read.access == "whole")

    def reach(self, path: str | None, line: int | None) -> list[int] | None:
        """Indexes of the commands on which `path:line` executes; None when that cannot be known
        (not a Python module the model follows, no line, or no command could be followed)."""
        if not path or not line or path not in self._lines or not self.runs:
            return None
        if any(r.trace.incomplete for r in self.runs):
            # a command was not followed to its end: what it did not reach may still run
            reached = [i for i in range(len(self.runs)) if self.order(i, path, line) is not None]
            return reached or None
        return [i for i in range(len(self.runs)) if self.order(i, path, line) is not None]


def run_model(ctx) -> RunModel:
    """The context's RunModel, built once."""
    model = ctx.__dict__.get("_run_model")
    if model is None:
        model = ctx.__dict__["_run_model"] = RunModel(ctx)
    return model


__all__ = ["Command", "CommandRun", "RunModel", "run_model"]
