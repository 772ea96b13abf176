"""Hydra as the bundle uses it: entry points, the prompt's command lines, composed configs.

One `HydraModel` per audit context (`hydra_model(ctx)`), computed lazily and cached:

* **Entry points.** Every `@hydra.main(...)` function of the bundle, with `config_path`
  resolved the way Hydra resolves it for `python -m src.x` (relative to the module's folder),
  `config_name`, and whether `version_base` is given.
* **Command lines.** The prompt's own (`run=<id> results_dir=... mode=full`), per run and mode.
* **Composed configs.** What Hydra composes for an entry and a command line (via
  `reviewer_audit.program.hydra_compose`, Hydra's own loader over the bundle in memory), cached.

Where the config goes after composition -- the code's merges, loads, edits, which function
holds it -- is the run model's business (`program.runs`, `program.interp`), which composes
through this module. Mode evidence in the source (`ModeEvidence`) is read here too.

Nothing here imports or runs bundle code: Python is read through libcst facts, YAML as data,
and Hydra/OmegaConf only ever see the bundle's YAML text.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable

import libcst as cst

from reviewer_audit.program.facts import (
    FunctionFact,
    ModuleFacts,
    Pos,
    dotted_name,
    literal_string,
)

#: Modules whose code receives the Hydra config (evaluate.py loads its own config).


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
    def primary_config(self) -> str | None:
        """The bundle path of the primary config (`config/config.yaml`); None when unknown."""
        if self.config_dir is None or self.config_name is None:
            return None
        name = self.config_name if self.config_name.endswith((".yaml", ".yml")) else self.config_name + ".yaml"
        return name if self.config_dir == "." else f"{self.config_dir}/{name}"

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


def plain(node: Any) -> Any:
    """A composed DictConfig as plain containers; interpolations stay as `${...}` strings."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(node, resolve=False, throw_on_missing=False)


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
            return Lookup("missing", i, tuple(str(k) for k in cur))
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
        self._compose_cache: dict[tuple, Any] = {}

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


    # ------------------------------------------------------------------ compositions


    def compose(self, entry: EntryPoint, overrides: list[str]):
        from reviewer_audit.program.hydra_compose import compose

        # the same folder, name, version base and overrides compose the same config for any entry
        key = (entry.config_dir, entry.config_name, entry.compose_version_base, tuple(overrides))
        res = self._compose_cache.get(key)
        if res is None:
            res = compose(self.files, entry.config_dir, entry.config_name, overrides, version_base=entry.compose_version_base)
            self._compose_cache[key] = res
        return res

    def assumed_primary(self, entry: EntryPoint) -> EntryPoint | None:
        """The entry as its author meant it, when `@hydra.main` names no config but its folder
        holds config.yaml: Hydra itself composes an empty config (RA202 reports that), and the run
        model follows the code with config.yaml instead, so what fails once config_name is given
        is found too -- after RA202 in each command, hence a consequence of it."""
        if entry.config_name is not None:
            return None
        meant = replace(entry, config_name="config", config_name_given=True)
        return meant if self.composable(meant) else None

    def assumed_overrides(self, entry: EntryPoint, overrides: list[str], failed) -> tuple[list[str], dict[str, str]] | None:
        """The command line as its author meant it, when Hydra rejects an override only because
        the key or group is not in the primary config: `(overrides, plain values)`. RA203
        reports the failure; the run model follows the code with this config, so what fails next
        is found too -- after RA203 in each command, hence a consequence of it.

        * `run=<id>` for a group missing from the defaults list, or `mode=full` for a key
          config.yaml lacks: the same override appended (`+run=<id>`).
        * `run=<id>` where config.yaml has a plain `run:` key that a `config/run/` folder turns
          into a group override: the author meant the plain string (the code then reads the run
          file itself): composed without that override, then `run` set to the id.

        None when no such reading composes."""
        if failed.error_kind not in ("group_not_in_defaults", "override_missing_key"):
            return None
        named = re.search(r"Could not override '([^']+)'", failed.error or "")
        if named is None:
            return None
        key = named.group(1)
        mine = [o for o in overrides if o.split("=", 1)[0] == key]
        if not mine:
            return None
        primary = self.primary_doc(entry)
        if primary is None or not isinstance(primary.data, dict):
            return None
        if key in primary.data and "." not in key and not isinstance(primary.data[key], (dict, list)):
            meant = [o for o in overrides if o not in mine]
            plain = {key: mine[-1].split("=", 1)[1].strip().strip("'\"")}
        elif key.split(".")[0] in primary.data:
            return None
        else:
            meant, plain = [("+" + o) if o in mine else o for o in overrides], {}
        return (meant, plain) if self.compose(entry, meant).config is not None else None

    def composable(self, entry: EntryPoint) -> bool:
        """The entry's config folder and primary config exist (else RA202 reports it)."""
        if not entry.literal or entry.config_dir is None or not self.config_dir_exists(entry.config_dir):
            return False
        return entry.primary_config is not None and entry.primary_config in self.files

    def primary_doc(self, entry: EntryPoint):
        """The entry's primary config, parsed with its key lines; None when absent or broken."""
        return self.ctx.yaml_doc(entry.primary_config) if entry.primary_config else None

    def composed(self, entry: EntryPoint, run_id: str, variant: str = "full"):
        """The entry composed with the prompt's command line for a run. (A child's real command
        line -- what its parent passes -- is the run model's: `program.runs`.)"""
        return self.compose(entry, self.cli_overrides(run_id, variant))

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


def hydra_model(ctx) -> HydraModel:
    """The context's HydraModel, built once."""
    model = ctx.__dict__.get("_hydra_model")
    if model is None:
        model = ctx.__dict__["_hydra_model"] = HydraModel(ctx)
    return model


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
