"""Every question the claim adjudication asks of the program model, in one place.

The verdict layer links reviewer claims to findings and looks for evidence that a claim's point
holds. Both need the program model: where a name, a config key or an API sits in the parsed
modules, whether an import resolves (namespace packages and `python -m` included), whether a key
is in the config Hydra composes for every run, whether a dependency is installed, whether a
module parses, whether evaluate.py accepts the prompt's command line. Those queries live here and
nowhere else in `reviewer_audit.verdict`, so that when the program model's API moves only this
module changes. Callers get plain answers: `Site`s and `Check`s.

A `Check` is tri-state: `holds=True` is positive evidence that the code is fine on that point
(a claim saying otherwise is a reviewer false alarm), `holds=False` is evidence of the defect,
`None` means the model cannot tell. Nothing here imports or runs bundle code.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import cached_property

from reviewer_audit.engine.context import STANDARD_MODULES, AuditContext
from reviewer_audit.ingest.bundle import KEY_TO_PATH
from reviewer_audit.ingest.yamlio import leaf_items
from reviewer_audit.program.bundle_index import bundle_index, import_name_data
from reviewer_audit.program.hydra_model import MODE_EVIDENCE, hydra_model, mode_evidence, walk
from reviewer_audit.program.wandb_model import cli_model, saved_figures, wandb_model
from reviewer_audit.rules.files import extra_files

#: A cited line and a finding's line this close point at the same code.
NEARBY_LINES = 3


@dataclass(frozen=True)
class Site:
    path: str
    line: int
    what: str  # "def", "call", "import", "config", "attribute", "string", "yaml", ...
    #: last line of a definition: a claim naming a function points at all of its body
    end: int | None = None

    def near(self, path: str | None, line: int | None, slack: int = 0) -> bool:
        """Is (path, line) at this site, give or take `slack` lines?"""
        return bool(line) and path == self.path and self.line - slack <= line <= (self.end or self.line) + slack


@dataclass(frozen=True)
class Check:
    holds: bool | None
    evidence: str


UNKNOWN = Check(None, "")
#: A line (or one of the six above it) that tests for trial mode: a behaviour set there is trial mode's.
_TRIAL_TEST = re.compile(r"""["']trial["']|\btrial_mode\b|mode\s*[!=]=\s*["']trial|is_trial\b""")
_FULL_TEST = re.compile(r"""["']full["']|mode\s*[!=]=\s*["']full|\belse\s*:""")
_COMPARISON = re.compile(r"""[!=]=\s*["'][\w.=]*["']|["'][\w.=]*["']\s*[!=]=|\bin\s*[(\[{]\s*["']""")


def _short(items, limit: int = 3) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


class ProgramEvidence:
    """The program model of one audit, seen from the claims' side."""

    def __init__(self, ctx: AuditContext) -> None:
        self.ctx = ctx

    # ------------------------------------------------------------------ files

    @cached_property
    def run_config_paths(self) -> list[str]:
        return [r.path for r in self.ctx.run_files]

    @cached_property
    def all_paths(self) -> list[str]:
        return sorted({*self.ctx.bundle.files, *self.run_config_paths})

    def text_of(self, path: str) -> str | None:
        f = self.ctx.bundle.files.get(path)
        if f is not None:
            return f.text
        return next((r.text for r in self.ctx.run_files if r.path == path), None)

    def resolve_file(self, name: str) -> list[str]:
        """Bundle paths a file name in a claim stands for: a path, a bare file name (`train.py`),
        a glob (`config/run/*.yaml`), or a transport key of the transcript's JSON (`config_yaml`)."""
        name = name.strip().strip("./") if not name.startswith("../") else name
        if name in KEY_TO_PATH:
            name = KEY_TO_PATH[name]
        if name in self.all_paths:
            return [name]
        if any(ch in name for ch in "*{<"):
            pattern = re.sub(r"\{[^}]*\}|<[^>]*>", "*", name)
            return [p for p in self.all_paths if fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, "*/" + pattern)]
        return [p for p in self.all_paths if p.endswith("/" + name)]

    def present(self, path: str) -> bool:
        text = self.text_of(path)
        return text is not None and bool(text.strip())

    def run_configs(self) -> Check:
        """The run configs the prompt supplies, where Hydra would find them."""
        paths = [r.path for r in self.ctx.run_files if r.text.strip()]
        if not paths:
            return UNKNOWN
        folder = paths[0].rsplit("/", 1)[0]
        return Check(True, f"{folder}/ holds the {len(paths)} run config(s) the prompt supplies ({_short(p.rsplit('/', 1)[1] for p in paths)})")

    # ------------------------------------------------------------------ locating names

    def _yaml_docs(self):
        if self.ctx.config_doc is not None:
            yield "config/config.yaml", self.ctx.config_doc
        for path in sorted(self.ctx.bundle.files):
            doc = self.ctx.yaml_doc(path) if path.endswith((".yaml", ".yml")) and path != "config/config.yaml" else None
            if doc is not None:
                yield path, doc
        for r in self.ctx.run_files:
            if r.doc is not None and r.path not in self.ctx.bundle.files:
                yield r.path, r.doc

    @cached_property
    def _index(self) -> dict[str, list[Site]]:
        """name -> sites, for every name a module defines, calls, imports, reads or stores."""
        out: dict[str, list[Site]] = {}

        def add(name: str | None, site: Site) -> None:
            if name:
                out.setdefault(name, []).append(site)

        bi = bundle_index(self.ctx)
        for path, mod in self.ctx.modules.items():
            for fn in mod.functions.values():
                add(fn.name, Site(path, fn.pos.line, "def", fn.end_line))
                add(fn.qualname, Site(path, fn.pos.line, "def", fn.end_line))
            for name, pos in mod.classes.items():
                add(name, Site(path, pos.line, "class"))
            for imp in mod.imports:
                s = Site(path, imp.pos.line, "import")
                add(imp.alias, s)
                add(imp.name, s)
                add(imp.qualified, s)
                add(imp.module, s)
            for c in mod.calls:
                s = Site(path, c.pos.line, "call")
                add(c.func, s)
                add(c.resolved, s)
                if c.func and "." in c.func:
                    add(c.func.rsplit(".", 1)[1], s)
            for ch in mod.chains:
                s = Site(path, ch.pos.line, "config")
                for i in range(len(ch.path)):
                    add("cfg:" + ".".join(ch.path[i:]), s)  # every suffix: `cfg.model.lr` answers `model.lr` and `lr`
                    add("cfg:" + ".".join(ch.path[: i + 1]), s)
                if ch.method:
                    add(ch.method, s)
            for sub in mod.subscripts:
                add(sub.key, Site(path, sub.pos.line, "subscript"))
            for st in mod.strings:
                if not st.is_docstring and len(st.value) < 120:
                    add(st.value, Site(path, st.pos.line, "string"))
            mi = bi.modules.get(mod.module_name)
            if mi is not None:
                for use in mi.attr_uses:
                    s = Site(path, use.pos.line, "attribute")
                    add(use.dotted, s)
                    add(use.resolved, s)
                    parts = use.dotted.split(".")
                    for i in range(1, len(parts)):
                        add(".".join(parts[i:]), s)
        for path, doc in self._yaml_docs():
            for key, line in doc.lines.items():
                s = Site(path, line, "yaml")
                parts = key.split(".")
                for i in range(len(parts)):
                    add("cfg:" + ".".join(parts[i:]), s)
                add(parts[-1], s)
            for keys, value in leaf_items(doc.data, lists=True, depth=13):
                # a name the config sets (`model: {name: mobilenet_v2_gn}`) is a place too, as a
                # string in the code is: the line where the runs get it
                if isinstance(value, str) and 0 < len(value) < 120:
                    add(value, Site(path, doc.line_of(".".join(keys)), "yaml value"))
        return out

    def sites(self, name: str) -> list[Site]:
        """Where an identifier, dotted name or API occurs in the parsed code and configs."""
        name = name.strip().rstrip("()")
        found = list(self._index.get(name, ()))
        if "." in name and not found:
            found = list(self._index.get(name.rsplit(".", 1)[1], ())) if name.split(".")[0] in self.import_aliases else []
        return found

    def config_sites(self, key: str) -> list[Site]:
        """Where a config key (`model.lr`, without the root name) is read or written, or defined in YAML."""
        return list(self._index.get("cfg:" + key.strip(".").strip(), ()))

    # ------------------------------------------------------------------ names: APIs or config keys

    @cached_property
    def import_aliases(self) -> dict[str, str]:
        """Local names bound by imports anywhere in the bundle -> what they import."""
        out: dict[str, str] = {}
        for mod in self.ctx.modules.values():
            for imp in mod.imports:
                out.setdefault(imp.alias, imp.qualified)
        return out

    @cached_property
    def library_roots(self) -> set[str]:
        """Top-level modules the bundle imports that are not its own."""
        bi = bundle_index(self.ctx)
        roots = set()
        for mod in self.ctx.modules.values():
            for imp in mod.imports:
                if imp.level == 0 and imp.module:
                    top = imp.module.split(".")[0]
                    if top not in bi.top_names:
                        roots.add(top)
        return roots

    def qualify(self, dotted: str) -> str | None:
        """`OmegaConf.merge` -> `omegaconf.OmegaConf.merge` when a bundle import binds the root;
        None when the root is not an imported library name."""
        head, _, rest = dotted.partition(".")
        target = self.import_aliases.get(head)
        if target is None:
            return dotted if head in self.library_roots else None
        if target.split(".")[0] in bundle_index(self.ctx).top_names:
            return None
        return f"{target}.{rest}" if rest else target

    def is_config_key(self, dotted: str) -> bool:
        """Is `a.b` a key path of the configs (config.yaml, a run config) or read as one in the code?"""
        return bool(self.config_sites(dotted))

    def library_calls(self, lib: str) -> list[Site]:
        """Where the bundle calls into a library (`timm.create_model(...)` for `timm`)."""
        return [Site(path, c.pos.line, "call") for path, mod in sorted(self.ctx.modules.items()) for c in mod.calls
                if c.resolved and (c.resolved == lib or c.resolved.startswith(lib + "."))]

    def libraries_named(self, text: str) -> list[str]:
        """Import names of libraries the bundle imports that the text names as words."""
        out = []
        for root in sorted(self.library_roots | {n for n in import_name_data().imports if n in self.library_roots}):
            if len(root) > 2 and re.search(rf"(?<![\w./]){re.escape(root)}(?![\w]|\.py\b)", text, re.I):
                out.append(root)
        return out

    @cached_property
    def _plain_lines(self) -> list[tuple[str, int, str]]:
        """(path, line number, text with its whitespace collapsed) of every module line, once."""
        return [(path, i, " ".join(line.split())) for path, mod in sorted(self.ctx.modules.items()) for i, line in enumerate(mod.lines, 1)]

    def quoted_sites(self, text: str) -> list[Site]:
        """Lines of the bundle's Python modules that a claim quotes ("flagged as “simplified but
        functional”", `# placeholder for merge`): a quotation of the code is a place in it. Only
        quotations of a few words that occur on at most three lines count."""
        out: list[Site] = []
        for m in _QUOTE.finditer(text):
            quote = " ".join(m.group(1).split())
            if len(quote) < 8 or len(quote) > 120 or " " not in quote:
                continue
            found = [(path, i) for path, i, line in self._plain_lines if quote in line]
            if 0 < len(found) <= 3:
                out += [Site(path, line, "quote") for path, line in found]
        return out

    def config_keys_in_prose(self, text: str) -> list[str]:
        """Config keys of the YAML the runs use that a claim names in words rather than as a key:
        "the normalisation flag" names `dataset.normalization`, "early-stopping" names
        `training.early_stopping_patience`. A key is named when its first word (or, for a word
        as common as `model` or `use`, its first two) occurs in the text as a word, spelling
        variants (-isation/-ization, hyphens) aside."""
        words = _prose_words(text)
        out: list[str] = []
        for path, doc in self._yaml_docs():
            for key in doc.lines:
                leaf = key.rsplit(".", 1)[-1]
                parts = [w for w in re.split(r"_|(?<=[a-z])(?=[A-Z])", leaf.lower()) if w]
                if not parts or len(parts[0]) < 4:
                    continue
                needed = parts[:2] if parts[0] in _COMMON_KEY_WORDS or len(parts[0]) < 8 and len(parts) > 1 else parts[:1]
                if all(any(_same_word(p, w) for w in words) for p in needed) and key not in out:
                    out.append(key)
        return out

    # ------------------------------------------------------------------ checks

    def parses(self, paths: list[str]) -> Check:
        """Do these Python modules (every module, when none is named) parse?"""
        py = [p for p in paths if p.endswith(".py")] or sorted(p for p in self.ctx.bundle.files if p.endswith(".py"))
        py = [p for p in py if p in self.ctx.bundle.files and self.present(p)]
        if not py:
            return UNKNOWN
        broken = [p for p in py if self.ctx.is_broken(p)]
        if broken:
            probs = {s.path: s for s in self.ctx.syntax_problems}
            p = broken[0]
            return Check(False, f"{p}:{probs[p].line} does not parse: {probs[p].message}" if p in probs else f"{p} does not parse")
        return Check(True, f"{_short(py)} parse{'s' if len(py) == 1 else ''} (CPython's parser)")

    def package_imports(self, paths: list[str]) -> Check:
        """Are the bundle's own imports (relative ones included) resolvable as `python -m src.x` runs them?"""
        bi = bundle_index(self.ctx)
        mods = [m for p, m in self.ctx.modules.items() if not paths or p in paths] or list(self.ctx.modules.values())
        checked, bad = [], []
        for mod in mods:
            mi = bi.modules.get(mod.module_name)
            if mi is None:
                continue
            for imp in mod.imports:
                target = bi.resolve_import(mi, imp)
                if target.kind != "bundle":
                    continue
                (checked if target.exists and target.error is None else bad).append((mod.path, imp))
        if bad:
            path, imp = bad[0]
            return Check(False, f"{path}:{imp.pos.line} imports {'.' * imp.level}{imp.module}, which is not in the bundle")
        if not checked:
            return UNKNOWN
        init = any(p.endswith("/__init__.py") for p in self.ctx.bundle.files)
        how = "" if init else "src is a namespace package: under `python -m src.<module>` "
        path, imp = checked[0]
        return Check(True, f"{how}the bundle's own imports resolve ({len(checked)}, e.g. {path}:{imp.pos.line} {'.' * imp.level}{imp.module or ''})")

    def import_of(self, name: str, paths: list[str]) -> Check:
        """Does an import of `name` from the bundle's own code resolve?"""
        bi = bundle_index(self.ctx)
        for path, mod in self.ctx.modules.items():
            if paths and path not in paths:
                continue
            mi = bi.modules.get(mod.module_name)
            for imp in mod.imports:
                if name not in (imp.name, imp.alias) or mi is None:
                    continue
                target = bi.resolve_import(mi, imp)
                if target.kind != "bundle":
                    continue
                if not target.exists or target.missing_name:
                    return Check(False, f"{path}:{imp.pos.line} imports {name} from {target.module}, which does not define it")
                return Check(True, f"{path}:{imp.pos.line} imports {name} from {target.module}, which defines it")
        return UNKNOWN

    def bound(self, name: str, paths: list[str]) -> Check:
        """Is `name` imported or defined in the named modules?"""
        mods = [(p, m) for p, m in self.ctx.modules.items() if p in paths]
        if not mods or not name.isidentifier():
            return UNKNOWN
        for path, mod in mods:
            imp = next((i for i in mod.imports if i.alias == name), None)
            if imp is not None:
                return Check(True, f"{path}:{imp.pos.line} imports {name}")
            if name in mod.top_level_names:
                return Check(True, f"{path} defines {name} at module level")
        return UNKNOWN

    def installed(self, library: str) -> Check:
        """Is the distribution behind an import name declared in pyproject.toml, or required by a
        declared one? (Declared, whatever table form: whether uv can read that form is RA901's
        question, not this one.)"""
        report = self.ctx.pyproject
        if report is None:
            return UNKNOWN
        direct = {d.canonical_name for d in report.dependencies if d.group is None}
        if not direct:
            return UNKNOWN
        data = import_name_data()
        dists = set(data.distributions_for(library))
        if dists & direct:
            return Check(True, f"{library} is declared in pyproject.toml ({_short(sorted(dists & direct))})")
        via = dists & data.closure(direct)
        if via:
            dist = sorted(via)[0]
            parents = sorted(d for d in direct if dist in data.closure({d}))
            return Check(True, f"{library} is installed through {_short(parents)} (declared in pyproject.toml), which require{'s' if len(parents) == 1 else ''} {dist}")
        if library in data.imports or library in self.library_roots:
            return Check(False, f"no dependency declared in pyproject.toml installs {library}")
        return UNKNOWN

    def trial_behaviour(self, behaviour: str, prefer: list[str] = (), before_init: bool = False) -> Check:
        """Where the code sets a trial/full-mode behaviour ("wandb_disabled", "wandb_online",
        "epochs_1", "optuna_off", "limit_batches") under a trial-mode test, in the files a claim names first."""
        me = mode_evidence(self.ctx)
        guard = _FULL_TEST if behaviour == "wandb_online" else _TRIAL_TEST
        found = None
        # a test (`mode != "disabled"`) is not a setting: only lines that set the behaviour count
        for path in [*(p for p in prefer if p in me.lines), *(p for p in me.lines if p not in prefer)]:
            lines = me.lines[path]
            line = next((i for i, text in enumerate(lines, 1)
                         if any(p.search(text) for p in MODE_EVIDENCE[behaviour]) and not _COMPARISON.search(text)
                         and any(guard.search(t) for t in lines[max(0, i - 7):i])), None)
            if line is not None:
                found = (path, line)
                break
        if found is None:
            return UNKNOWN
        path, line = found
        if before_init:
            # the claim is about order: the setting must come before the file's first wandb.init
            mod = self.ctx.module(path)
            inits = [c.pos.line for c in (mod.calls if mod else []) if c.resolved == "wandb.init"]
            if not inits or min(inits) < line:
                return UNKNOWN
        what = {"wandb_disabled": "disables WandB", "wandb_online": "sets WandB online", "epochs_1": "sets one epoch",
                "optuna_off": "turns Optuna off", "limit_batches": "limits the batches"}[behaviour]
        return Check(True, f"{path}:{line} {what} by mode: {(self.ctx.line_text(path, line) or '').strip()[:80]}")

    def config_key(self, key: str) -> Check:
        """Is `key` (a path below the config root) in the config the code really reads it from, on
        every command that reads it (after Hydra and the code's own edits)?"""
        from reviewer_audit.program.runs import run_model

        rm = run_model(self.ctx)
        if not rm.runs:
            return UNKNOWN
        parts = tuple(key.split("."))
        example = None
        for run in rm.runs:
            for r in run.trace.reads:
                if r.access == "whole" or r.speculative or len(r.key) < len(parts) or tuple(map(str, r.key[-len(parts):])) != parts:
                    continue
                if r.status in ("missing", "mandatory") and not r.caught and not r.maybe:
                    return Check(False, f"{r.path}:{r.line} reads {key}, which the config of `{run.command.text}` lacks")
                if r.status == "ok" and example is None:
                    example = (r.path, r.line)
        if example is not None:
            return Check(True, f"{key} is in the config of every command that reads it (read at {example[0]}:{example[1]})")
        model = hydra_model(self.ctx)
        runs = model.run_ids
        if runs:
            # not read on any command: look it up from the root of each entry's composed config
            for entry in [e for e in model.entries if model.data(e, runs[0]) is not None]:
                if all(walk(model.data(entry, r), parts).status == "ok" for r in runs if model.data(entry, r) is not None):
                    return Check(True, f"{key} is in {entry}'s composed config for every run ({len(runs)})")
        return UNKNOWN

    def evaluate_cli(self) -> Check:
        """Does evaluate.py accept the prompt's `key=value` command line?"""
        ev = self.ctx.module(STANDARD_MODULES["evaluate"])
        if ev is None or not ev.calls:
            return UNKNOWN
        cli = cli_model(ev)
        if cli.hydra is not None:
            return UNKNOWN  # Hydra accepts key=value only for keys config.yaml has (RA801 checks those)
        if cli.accepts_key_value:
            return Check(True, "evaluate.py splits its `key=value` arguments itself, so the prompt's command line parses")
        if any(a.positional and a.nargs is None for a in cli.argparse):
            return Check(False, "evaluate.py declares argparse positionals, which receive `key=...` verbatim")
        return UNKNOWN

    def composes(self) -> Check:
        """Does Hydra compose every entry point's config for every run with the prompt's command line?"""
        model = hydra_model(self.ctx)
        runs = model.run_ids
        entries = list(model.entries)
        if not runs or not entries:
            return UNKNOWN
        for entry in entries:
            for run_id in runs:
                if model.data(entry, run_id) is None:
                    return Check(False, f"{entry}'s config does not compose for run {run_id}")
        return Check(True, f"Hydra composes the config of {_short(entries)} for every run ({len(runs)}) with the prompt's command line")

    def child_composes(self) -> Check:
        """Does every child main starts compose its config, for every run, with what main passes it?"""
        from reviewer_audit.program.runs import run_model

        children = [r for r in run_model(self.ctx).runs if r.command.kind == "child" and r.command.run_id]
        if not children:
            return UNKNOWN
        for run in children:
            if run.compose_error:
                return Check(False, f"`{run.command.text}` does not compose: {run.compose_error}")
        modules = sorted({r.command.module for r in children})
        return Check(True, f"Hydra composes {', '.join(modules)}'s config with the overrides src/main.py passes, on every run ({len(children)} commands)")

    def wandb_keys(self) -> Check:
        """Is every key evaluate.py reads from a run's history or summary written by the training side?"""
        wm = wandb_model(self.ctx)
        reads = wm.eval_reads
        logged, summary = wm.logged, wm.summary_keys
        if not reads or logged.opaque or summary.opaque:
            return UNKNOWN
        for r in reads:
            if not (logged if r.kind == "history" else summary).matches(r.key):
                return Check(False, f"{r.path}:{r.pos.line} reads {r.kind} key {r.key!r}, which the training side never writes")
        keys = sorted({r.key for r in reads})
        return Check(True, f"every key evaluate.py reads from WandB ({_short(keys, 4)}) is logged or written by the training side")

    def logged_keys(self, text: str, named: list[str]) -> Check:
        """"train.py logs only `train_loss`" / "`val_acc` is never logged": the keys the training
        side writes to the run history, against the keys the claim names."""
        logged = wandb_model(self.ctx).logged
        if logged.opaque or not logged.exact:
            return UNKNOWN
        keys = sorted(logged.exact)
        named = [n for n in named if n in keys or re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+", n)]
        if not named:
            return UNKNOWN
        site = logged.exact[keys[0]]
        if re.search(r"\blogs? only\b|\bonly logs?\b|\blogs? nothing but\b", text, re.I):
            others = [k for k in keys if k not in named and k not in _BOOKKEEPING_KEYS]
            if others:
                return Check(True, f"the training side logs {_short(others, 4)} as well (e.g. {site.path}), not only {', '.join(named)}")
            return Check(False, f"the training side logs only {_short(keys, 4)}")
        if re.search(r"never logs?|(?:is|are) (?:never|not) logged|does(?: not|n't) log|not logged", text, re.I):
            missing = [n for n in named if not logged.matches(n)]
            if missing:
                return Check(False, f"no wandb.log of the training side writes {missing[0]}")
            return Check(True, f"the training side logs {', '.join(named)} ({site.path})")
        return UNKNOWN

    def file_set(self) -> Check:
        """Does the bundle hold only the files the prompt allows (run configs being the pipeline's)?"""
        extra = extra_files(self.ctx)
        if extra is None:
            return UNKNOWN
        if extra:
            return Check(False, f"the bundle has {_short(extra, 3)}, which the prompt does not allow")
        return Check(True, f"the bundle holds only the {len(self.ctx.spec.required_files)} files the prompt requires; run configs are the pipeline's")

    def figure_names(self) -> Check:
        """Does every figure evaluate.py saves follow `{run_id}_<topic>` or `comparison_<topic>`?"""
        figures = saved_figures(self.ctx)
        if not figures:
            return UNKNOWN
        bad = [f for f in figures if not (f.basename.startswith("{") or f.basename.startswith("comparison_"))]
        if bad:
            return Check(False, f"{bad[0].path}:{bad[0].pos.line} saves '{bad[0].basename}'")
        names = _short(sorted({f.basename.replace("{}", "{…}") for f in figures}), 3)
        return Check(True, f"every figure evaluate.py saves starts with {{run_id}}_ or comparison_ ({names})")

    def wandb_logs(self) -> Check:
        """Does the training side call wandb.log (inside a loop, as per-step logging does)?"""
        wm = wandb_model(self.ctx)
        calls = [(m.path, c) for m in wm.train_side for c in wm.log_calls(m)]
        looped = [(p, c) for p, c in calls if c.in_loop]
        if looped:
            p, c = looped[0]
            return Check(True, f"{p}:{c.pos.line} logs to WandB inside a loop ({c.func})")
        return UNKNOWN

    def config_dir(self) -> Check:
        """Does every `@hydra.main` config_path point at a folder of the bundle?"""
        model = hydra_model(self.ctx)
        entries = list(model.entries.values())
        if not entries:
            return UNKNOWN
        for e in entries:
            if not e.literal or e.config_path is None and e.config_path_given:
                return UNKNOWN
            if not model.config_dir_exists(e.config_dir):
                return Check(False, f"{e.path}: config_path {e.config_path!r} is not a folder of the bundle")
        return Check(True, f"every @hydra.main config_path resolves to {_short(sorted({e.config_dir or '.' for e in entries}))}")

    def keeps_working_dir(self) -> Check:
        """Hydra changes the working directory only under version_base < 1.2 (or none given)."""
        entries = list(hydra_model(self.ctx).entries.values())
        if not entries:
            return UNKNOWN
        def modern(v: str | None) -> bool:
            nums = tuple(int(x) for x in re.findall(r"\d+", v or "")[:2])
            return v is None or nums >= (1, 2)

        if all(e.version_base_given and e.literal and modern(e.version_base) for e in entries):
            return Check(True, f"@hydra.main passes version_base={entries[0].version_base!r}, so Hydra keeps the working directory")
        return UNKNOWN

    def syntax_line(self, path: str, line: int) -> str | None:
        return self.ctx.line_text(path, line)


#: a quotation in a claim: “…”, "…", ‘…’, '…' or `…`
_QUOTE = re.compile(r"[“\"‘`']([^“”\"‘’`'\n]{8,120})[”\"’`']")

#: first words of config keys too common to name the key alone
_COMMON_KEY_WORDS = frozenset({"model", "training", "train", "dataset", "data", "method", "optuna", "wandb", "enable", "disable",
                               "use", "num", "max", "min", "total", "batch", "eval", "evaluation", "learning", "output", "results", "run"})


def _prose_words(text: str) -> set[str]:
    plain = re.sub(r"isation", "ization", text.lower().replace("-", " ").replace("_", " "))
    return set(re.findall(r"[a-z][a-z0-9]+", plain))


def _same_word(key_word: str, word: str) -> bool:
    """One word of a key and one of the prose: equal, or sharing a stem of at least 5 letters
    (`checkpoint`/`checkpointing`, `normalization`/`normalize`)."""
    key_word = key_word.replace("isation", "ization")
    if key_word == word:
        return True
    stem = min(len(key_word), len(word)) - 2
    return stem >= 5 and key_word[:stem] == word[:stem]


#: keys every training loop logs next to its metrics: naming one of them is no claim about metrics
_BOOKKEEPING_KEYS = frozenset({"epoch", "step", "global_step", "lr", "learning_rate", "batch", "batch_idx", "iteration", "task", "trial"})

