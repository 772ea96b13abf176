"""WandB integration rules (RA6xx): what train.py logs, and what evaluate.py expects to find.

The shared facts (logged keys, summary keys, keys evaluate.py reads, wandb.init guards, Optuna
objectives) come from `reviewer_audit.program.wandb_model`, computed once per audit.
"""
from __future__ import annotations

import libcst as cst

from reviewer_audit.engine import Case, Rule
from reviewer_audit.program.facts import dotted_name, literal_string
from reviewer_audit.engine.findings import Related, Severity
from reviewer_audit.program.runs import run_model
from reviewer_audit.program.wandb_model import KeyRead, KeySet, wandb_model

#: environment variables that turn WandB off, and the values that leave it on
_WANDB_ENV = ("WANDB_MODE", "WANDB_DISABLED")
_WANDB_ON = ("online", "offline", "run", None, "false", "False")

# ----------------------------------------------------------------------------- case material

_TRAIN_OK = '''import wandb

def train(cfg):
    run = wandb.init(entity=cfg.wandb.entity, project=cfg.wandb.project, mode=cfg.wandb.mode)
    for epoch in range(3):
        run.log({"train_loss": 0.1, "val_acc": 0.9, "epoch": epoch})
    run.summary["best_val_acc"] = 0.9
    run.finish()
'''

_EVAL_OK = '''import json
import wandb

def main(run_ids):
    api = wandb.Api()
    for rid in run_ids:
        run = api.run(f"e/p/{rid}")
        history = run.history()
        summary = run.summary._json_dict
        curve = history["train_loss"]
        acc = history[["val_acc", "_step"]]
        best = summary["best_val_acc"]
        last = summary.get("val_acc")
'''


def _listing(ks: KeySet, limit: int = 8) -> str:
    names = ks.names
    more = f", +{len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more if names else "none"


def _pick(reads: list[KeyRead]) -> list[KeyRead]:
    """One read per key: the first unguarded one (it crashes), else the first."""
    best: dict[str, KeyRead] = {}
    for r in sorted(reads, key=lambda r: r.order):
        cur = best.get(r.key)
        if cur is None or (cur.guarded and not r.guarded):
            best[r.key] = r
    return sorted(best.values(), key=lambda r: r.order)


def _related(ks: KeySet, key: str, label: str) -> list[Related]:
    """The nearest written keys; else the first written key, so the other end is always shown."""
    sites = ks.nearest(key) or [ks.exact[k] for k in sorted(ks.exact, key=lambda k: (ks.exact[k].pos.line if ks.exact[k].pos else 0))[:1]]
    return [Related(label=f"{label} '{s.key}'", path=s.path, line=s.pos.line if s.pos else None) for s in sites]


class HistoryKeyNotLoggedRule(Rule):
    """evaluate.py reads a run.history() column that train.py never logs.

    **What it does.** Collects every literal key evaluate.py reads from a `run.history()` frame
    (or `scan_history()` rows): `history["k"]`, `history[["a", "b"]]`, `.get("k")`,
    `"k" in history.columns`, `run.history(keys=[...])`, literal lists iterated and used as
    keys, helpers called with the frame and a literal key, and `data=history, y="k"` plots. Each
    key must be one train.py (or another training-side module) logs with `wandb.log({...})` /
    `run.log({...})`; f-string keys count as patterns. When evaluate builds keys dynamically it
    is not checked, and when some logged dict cannot be resolved statically the rule stays silent.

    **Why is this bad?** The prompt demands that the metric names in train.py's `wandb.log()`
    exactly match the keys evaluate.py reads. A column that is never logged does not exist in
    the history: an unguarded `history["k"]` raises KeyError (blocker); a guarded read silently
    drops the curve or metric from the evaluation (major).

    **Example.** train.py logs `{"val_accuracy": acc}`; evaluate.py plots `history["val_acc"]`.

    **Use instead.** One spelling for each metric, shared by both files.
    """

    code = "RA601"
    name = "wandb-history-key-not-logged"
    topic = "wandb"
    severity = Severity.major
    requirement = "wandb_keys_match"
    needs = ("train", "evaluate")

    VALID = [
        Case(files={"src/train.py": _TRAIN_OK, "src/evaluate.py": _EVAL_OK}),
        Case(files={
            "src/train.py": 'import wandb\n\ndef train(split, loss):\n    wandb.init(project="p")\n    wandb.log({f"{split}_loss": loss})\n',
            "src/evaluate.py": 'def plot(run):\n    h = run.history()\n    return h["val_loss"]\n',
        }, note="f-string key in train.py is a pattern"),
        Case(files={
            "src/train.py": 'import wandb\n\ndef train(metrics):\n    wandb.init(project="p")\n    wandb.log(metrics)\n\ntrain(compute())\n',
            "src/evaluate.py": 'def plot(run):\n    h = run.history()\n    return h["anything"]\n',
        }, note="logged dict not resolvable: stay silent"),
        Case(files={
            "src/train.py": _TRAIN_OK,
            "src/evaluate.py": 'def plot(run, key):\n    h = run.history()\n    return h[key], h[f"{key}_std"]\n',
        }, note="dynamic keys are not checked"),
        Case(files={
            "src/train.py": _TRAIN_OK,
            "src/evaluate.py": 'def plot(run):\n    h = run.history()\n    if "best_val_acc" in h.columns:\n        return h["best_val_acc"]\n',
        }, note="guarded history fallback for a key train.py writes to the summary"),
    ]
    INVALID = [
        Case(files={
            "src/train.py": _TRAIN_OK,
            "src/evaluate.py": 'def plot(run):\n    history = run.history()\n    return history["val_accuracy"]\n',
        }, path="src/evaluate.py", line=3, note="unguarded: KeyError"),
        Case(files={
            "src/train.py": _TRAIN_OK,
            "src/evaluate.py": (
                'def curve(df, metric):\n    return df[metric]\n\n'
                'def main(run):\n    h = run.history()\n    for m in ["train_loss", "val_loss"]:\n'
                '        if m in h.columns:\n            curve(h, m)\n'
            ),
        }, path="src/evaluate.py", line=7, note="guarded read through a helper and a literal list"),
    ]

    def check(self, ctx):
        model = wandb_model(ctx)
        logged = model.logged
        if logged.opaque or not logged.exact and not logged.patterns:
            return
        summary = model.summary_keys
        for r in _pick([r for r in model.eval_reads if r.kind == "history"]):
            if logged.matches(r.key):
                continue
            if r.guarded and not summary.opaque and summary.matches(r.key):
                continue  # a guarded fallback for a key kept in the summary
            sev = Severity.major if r.guarded else Severity.blocker
            effect = "the evaluation silently skips it" if r.guarded else "history[...] raises KeyError"
            yield self.hit(
                r.path, r.pos,
                f"evaluate.py reads history key '{r.key}' ({r.how}) that train.py never logs with wandb.log; {effect} (logged: {_listing(logged)})",
                severity=sev, related=_related(logged, r.key, "logged key"),
            )


class SummaryKeyNotWrittenRule(Rule):
    """evaluate.py reads a run-summary key that train.py never writes.

    **What it does.** Collects every literal key evaluate.py reads from a run summary
    (`run.summary["k"]`, `run.summary._json_dict["k"]`, a `summary` dict taken from it, `.get`,
    `in` tests). Each key must be written by the training side: `wandb.summary["k"] = v`,
    `run.summary.update({...})`, or logged with `wandb.log` (W&B keeps the last logged value of
    every history key in the summary). Unresolvable summary writes keep the rule silent.

    **Why is this bad?** A key nobody writes is simply absent: `summary["k"]` raises KeyError
    (blocker) and `summary.get("k")` yields None, so the metric silently disappears from
    metrics.json, the aggregated comparison and the figures (major).

    **Example.** train.py returns `{"confusion_matrix": cm}` but never stores it in the summary;
    evaluate.py plots `summary["confusion_matrix"]`.

    **Use instead.** `wandb.summary["confusion_matrix"] = cm` in train.py, or read a key it writes.
    """

    code = "RA602"
    name = "wandb-summary-key-not-written"
    topic = "wandb"
    severity = Severity.major
    requirement = "wandb_keys_match"
    needs = ("train", "evaluate")

    VALID = [
        Case(files={"src/train.py": _TRAIN_OK, "src/evaluate.py": _EVAL_OK}),
        Case(files={
            "src/train.py": (
                'import wandb\n\ndef train(cfg):\n    wandb.init(project="p")\n'
                '    final = {"best_acc": 1.0, "runtime": 2.0}\n    for k, v in final.items():\n        wandb.summary[k] = v\n'
            ),
            "src/evaluate.py": 'def main(run):\n    s = dict(run.summary._json_dict)\n    return s["best_acc"], s.get("runtime")\n',
        }, note="summary written in a loop over a literal dict"),
    ]
    INVALID = [
        Case(files={
            "src/train.py": _TRAIN_OK,
            "src/evaluate.py": 'def main(run):\n    summary = run.summary._json_dict\n    if "confusion_matrix" in summary:\n        return summary["confusion_matrix"]\n',
        }, path="src/evaluate.py", line=3),
        Case(files={
            "src/train.py": _TRAIN_OK,
            "src/evaluate.py": 'def main(run):\n    return run.summary["best_accuracy"]\n',
        }, path="src/evaluate.py", line=2, note="unguarded: KeyError"),
    ]

    def check(self, ctx):
        model = wandb_model(ctx)
        keys = model.summary_keys
        if keys.opaque or not keys.exact and not keys.patterns:
            return
        for r in _pick([r for r in model.eval_reads if r.kind == "summary"]):
            if keys.matches(r.key):
                continue
            sev = Severity.major if r.guarded else Severity.blocker
            effect = "the evaluation silently drops it" if r.guarded else "the read raises KeyError"
            yield self.hit(
                r.path, r.pos,
                f"evaluate.py reads summary key '{r.key}' ({r.how}) that train.py never writes to the run summary or logs; {effect} (written: {_listing(keys)})",
                severity=sev, related=_related(keys, r.key, "written key"),
            )


class WandbNotUsedRule(Rule):
    """train.py never initialises WandB or never logs metrics with wandb.log.

    **What it does.** Looks for `wandb.init(...)` and for `wandb.log(...)` / `run.log(...)` (on
    the run `wandb.init` returns) in train.py and the other training-side modules. A Hugging Face
    `Trainer` with `report_to="wandb"` or a Lightning `WandbLogger` counts as logging.

    **Why is this bad?** The prompt requires train.py to initialise WandB and log all metrics,
    and evaluate.py reads everything back from the WandB API: without them there is nothing to
    evaluate (major). `wandb.log` without any `wandb.init` raises `wandb.Error` ("You must call
    wandb.init() before wandb.log()"), so unguarded logging without an init is a blocker.

    **Example.** train.py prints metrics and writes a CSV, but never calls `wandb.log`.

    **Use instead.** `run = wandb.init(entity=..., project=..., mode=cfg.wandb.mode)` and
    `run.log({...})` every step or epoch.
    """

    code = "RA603"
    name = "wandb-not-used-in-train"
    topic = "wandb"
    severity = Severity.major
    requirement = "wandb_log"
    needs = ("train",)

    VALID = [Case(files={"src/train.py": _TRAIN_OK})]
    INVALID = [
        Case(files={"src/train.py": "import json\n\ndef train(cfg):\n    print(json.dumps({'loss': 0.1}))\n"}, path="src/train.py"),
        Case(files={"src/train.py": "import wandb\n\ndef train(cfg):\n    wandb.log({'loss': 0.1})\n"}, path="src/train.py", line=4),
    ]

    def check(self, ctx):
        train = ctx.module("train")
        if train is None or not train.calls:
            return  # absent, empty or a stub: the file-set and completeness rules report it
        model = wandb_model(ctx)
        inits = [(m, c) for m in model.wandb_modules for c in model.init_calls(m)]
        logs = [(m, c) for m in model.wandb_modules for c in model.log_calls(m)]
        if any(model.auto_logging(m) is not None for m in model.train_side):
            return
        if not logs and not inits:
            yield self.hit(train.path, None, "train.py never initialises WandB nor logs metrics (no wandb.init() and no wandb.log()/run.log() in any training module)")
        elif not logs:
            yield self.hit(train.path, None, "train.py never logs metrics with wandb.log() (no wandb.log/run.log call in any training module)")
        elif not inits:
            m, c = logs[0]
            unguarded = not model.index(m).ctx_of(c).guarded
            yield self.hit(
                m.path, c.pos,
                f"{c.func}() is called but no module calls wandb.init()" + ("; wandb.log raises wandb.Error without an active run" if unguarded else ""),
                severity=Severity.blocker if unguarded else Severity.major,
            )


class InitIgnoresDisabledModeRule(Rule):
    """wandb.init is called unconditionally without `mode=`, so trial mode cannot disable WandB.

    **What it does.** Finds `wandb.init(...)` calls that pass no `mode=` (or a literal
    `mode="online"`), no `settings=`/`**kwargs`, are not under any condition or early return (nor
    are all the in-module calls of their function), while no module sets `WANDB_MODE`.
    `wandb.init(mode=cfg.wandb.mode)` is fine: with `cfg.wandb.mode == "disabled"` it is a no-op.

    **Why is this bad?** The prompt requires trial mode to set `wandb.mode = "disabled"` before
    any WandB operation. Setting the config value is not enough if `wandb.init` ignores it: the
    trial run still starts an online run (and needs credentials), polluting the project.

    **Example.** `cfg.wandb.mode = "disabled"` in trial mode, then `wandb.init(project=cfg.wandb.project)`.

    **Use instead.** `wandb.init(..., mode=cfg.wandb.mode)` or `if cfg.wandb.mode != "disabled": wandb.init(...)`.
    """

    code = "RA604"
    name = "wandb-init-ignores-disabled-mode"
    topic = "wandb"
    severity = Severity.major
    requirement = "trial_wandb_disabled"
    needs = ()

    VALID = [
        Case(files={"src/train.py": _TRAIN_OK}),
        Case(files={"src/train.py": "import wandb\n\ndef train(cfg):\n    if cfg.wandb.mode != 'disabled':\n        wandb.init(project='p')\n", "src/main.py": "from src.train import train\ntrain(None)\n"}),
        Case(files={"src/train.py": "import wandb\n\ndef start(cfg):\n    return wandb.init(project='p')\n\ndef train(cfg):\n    if cfg.wandb.mode == 'online':\n        start(cfg)\n", "src/main.py": "from src.train import train\ntrain(None)\n"}),
        Case(files={"src/train.py": "import os, wandb\n\ndef train(cfg):\n    os.environ['WANDB_MODE'] = cfg.wandb.mode\n    wandb.init(project='p')\n", "src/main.py": "from src.train import train\ntrain(None)\n"}),
        Case(files={"src/train.py": "import wandb\n\ndef train(cfg):\n    wandb.init(project='p')\n"}, note="no command calls train(): nothing starts WandB"),
    ]
    INVALID = [
        Case(files={"src/train.py": "import wandb\n\ndef train(cfg):\n    run = wandb.init(entity=cfg.wandb.entity, project=cfg.wandb.project)\n    run.log({'a': 1})\n",
                    "src/main.py": "from src.train import train\n\nif __name__ == '__main__':\n    train(None)\n"}, path="src/train.py", line=4),
        Case(files={"src/main.py": "import wandb\n\ndef main(cfg):\n    wandb.init(project='p', mode='online')\n\nif __name__ == '__main__':\n    main(None)\n"}, path="src/main.py", line=4),
    ]

    def check(self, ctx):
        rm = run_model(ctx)
        trial = rm.indexes(mode="trial")

        def unguarded_inits(i, run):
            disabled_from = min((e.order for e in run.trace.env if e.name in _WANDB_ENV and e.value not in _WANDB_ON), default=None)
            for call in run.trace.calls:
                if call.name != "wandb.init" or call.maybe or call.star or "settings" in call.kwargs:
                    continue
                mode = call.kwargs.get("mode", "online")
                if mode not in _WANDB_ON or (disabled_from is not None and disabled_from <= call.order):
                    continue
                yield call

        for call, on in rm.grouped(lambda i, run: unguarded_inits(i, run) if i in trial else ()):
            how = f"mode={call.kwargs['mode']!r}" if "mode" in call.kwargs else "no mode="
            yield self.hit(call.path, call.line, f"wandb.init() runs in trial mode with {how} and nothing disables WandB first "
                           f"(on {rm.commands_text(on)}), so trial mode's wandb.mode=disabled is ignored and an online run starts",
                           column=call.col, on=on)


class WandbInOptunaTrialRule(Rule):
    """An Optuna objective reaches wandb.init/wandb.log without a guard: every trial is logged.

    **What it does.** Finds the callables passed to `study.optimize(...)` (functions, nested
    functions, `lambda t: objective(t, cfg)`, `functools.partial`) and follows the calls they make
    inside the module. A `wandb.init`, `wandb.log`/`run.log` or summary write reached along a
    path on which neither the call nor any call leading to it sits under a condition (or after an
    early `return`) is reported. Guarded logging (`if wandb_run is not None:`,
    `if cfg.wandb.mode != "disabled":`) is accepted, because the guard is how trials opt out.

    **Why is this bad?** The prompt says: do not log intermediate trial results to WandB, only
    the final run with the best hyperparameters. Unconditional logging in the objective either
    floods the final run's history with every trial (mixing curves evaluate.py then plots) or
    creates one WandB run per trial.

    **Example.** `def objective(trial): ...; wandb.log({"val_acc": acc}); return acc`.

    **Use instead.** Log nothing inside the objective (or guard it off during the search), then
    train once more with `study.best_params` and log that run.
    """

    code = "RA605"
    name = "wandb-logging-in-optuna-trial"
    topic = "wandb"
    severity = Severity.major
    requirement = "wandb_no_optuna_trials"
    needs = ()

    VALID = [
        Case(files={"src/train.py": (
            "import optuna, wandb\n\ndef run(cfg, log):\n    acc = 0.5\n    if log:\n        wandb.log({'acc': acc})\n    return acc\n\n"
            "def main(cfg):\n    study = optuna.create_study()\n    study.optimize(lambda t: run(cfg, False), n_trials=3)\n    wandb.init(project='p')\n    run(cfg, True)\n"
        )}),
        Case(files={"src/train.py": (
            "import optuna, wandb\n\ndef fit(cfg, trial=None):\n    enabled = trial is None and cfg.wandb.mode != 'disabled'\n"
            "    run = wandb.init(project='p') if enabled else None\n    if run is not None:\n        run.log({'acc': 1.0})\n    return 1.0\n\n"
            "def main(cfg):\n    study = optuna.create_study()\n\n    def objective(trial):\n        return fit(cfg, trial)\n\n"
            "    study.optimize(objective, n_trials=2)\n    fit(cfg)\n"
        )}, note="seed_000 shape: trials opt out through a guard"),
    ]
    INVALID = [
        Case(files={"src/train.py": (
            "import optuna, wandb\n\ndef fit(cfg):\n    acc = 0.5\n    wandb.log({'acc': acc})\n    return acc\n\n"
            "def objective(trial):\n    return fit({'lr': trial.suggest_float('lr', 1e-5, 1e-3)})\n\n"
            "def main():\n    optuna.create_study().optimize(objective, n_trials=3)\n"
        )}, path="src/train.py", line=5),
    ]

    def check(self, ctx):
        model = wandb_model(ctx)
        for m in model.wandb_modules:
            ix = model.index(m)
            targets = {id(c.node): c for c in model.log_calls(m)}
            targets.update({id(c.node): c for c in model.init_calls(m) if literal_string(c.keyword("mode")) != "disabled"})
            if not targets:
                continue
            reported: set[int] = set()
            for opt, roots, lambda_calls in model.objectives(m):
                entry = [c for c in lambda_calls if not ix.ctx_of(c).guarded] if lambda_calls else None
                if lambda_calls and not entry:
                    continue
                reach = ix.reachable(roots)
                for qual, chain in reach.items():
                    if any(ix.ctx_of(e).guarded or ix.ctx_of(e).early_exit for e in chain):
                        continue
                    for c in m.calls:
                        if c.function != qual or id(c.node) not in targets or id(c.node) in reported:
                            continue
                        cc = ix.ctx_of(c)
                        if cc.guarded or cc.early_exit:
                            continue
                        reported.add(id(c.node))
                        root = roots[0] if roots else "lambda"
                        via = " -> ".join([root] + [e.func or "?" for e in chain]) if chain else root
                        yield self.hit(
                            m.path, c.pos,
                            f"{c.func}() runs in every Optuna trial (objective {via}, study.optimize at line {opt.pos.line}) with no guard: intermediate trial results go to WandB",
                            related=[Related(label="study.optimize", path=m.path, line=opt.pos.line)],
                        )


def _json_dumps_call(node: cst.BaseExpression | None, facts) -> bool:
    return isinstance(node, cst.Call) and facts.resolve(dotted_name(node.func)) == "json.dumps"


class TrainJsonDumpRule(Rule):
    """train.py dumps results as JSON to stdout or to results.json, which the prompt forbids.

    **What it does.** Reports `print(json.dumps(...))`, `json.dump(..., sys.stdout)` and any
    `results.json` path in train.py.

    **Why is this bad?** The prompt says: NO results.json or stdout JSON dumps in train.py.
    Results belong in WandB (history and summary), from which evaluate.py reads them (seed_002
    D-12: `print(json.dumps(summary_metrics, indent=2))`).

    **Example.** `print(json.dumps(summary_metrics, indent=2))` at the end of training.

    **Use instead.** `wandb.summary.update(summary_metrics)`.
    """

    code = "RA606"
    name = "train-json-dump"
    topic = "wandb"
    severity = Severity.major
    requirement = "no_train_json_dump"
    needs = ("train",)

    VALID = [Case(files={"src/train.py": "import json, wandb\n\ndef train(cfg):\n    wandb.summary['acc'] = 1.0\n    print('done')\n    json.dump(cfg, open('config_snapshot.json', 'w'))\n"})]
    INVALID = [
        Case(files={"src/train.py": "import json\n\ndef train(m):\n    print(json.dumps(m, indent=2))\n"}, path="src/train.py", line=4),
        Case(files={"src/train.py": "import json\n\ndef train(m, out):\n    with open(out / 'results.json', 'w') as f:\n        json.dump(m, f)\n"}, path="src/train.py", line=4),
    ]

    def check(self, ctx):
        train = ctx.module("train")
        if train is None:
            return
        for c in train.calls:
            if c.func == "print" and any(_json_dumps_call(a, train) for a in c.positional()):
                if len(c.positional()) == 1:
                    yield self.hit(train.path, c.pos, "train.py prints a JSON dump to stdout (print(json.dumps(...))); the prompt forbids stdout JSON dumps in train.py")
                else:  # a labelled message embedding JSON: the letter of the rule, less its point
                    yield self.hit(train.path, c.pos, "train.py prints JSON (json.dumps inside a labelled print) to stdout; the prompt forbids stdout JSON dumps in train.py", severity=Severity.minor)
            elif c.resolved == "json.dump" and len(c.positional()) > 1 and train.resolve(dotted_name(c.positional()[1])) == "sys.stdout":
                yield self.hit(train.path, c.pos, "train.py dumps JSON to sys.stdout; the prompt forbids stdout JSON dumps in train.py")
            elif c.func in ("sys.stdout.write",) and any(_json_dumps_call(a, train) for a in c.positional()):
                yield self.hit(train.path, c.pos, "train.py writes a JSON dump to stdout; the prompt forbids stdout JSON dumps in train.py")
        for s in train.strings:
            base = s.value.replace("\\", "/").rsplit("/", 1)[-1]
            if base == "results.json":
                yield self.hit(train.path, s.pos, "train.py writes results.json; the prompt forbids results.json in train.py (log to WandB instead)")


class TrainJsonPrintMissingRule(Rule):
    """train.py does not print JSON metrics with a run_id field (older prompt's structured logging).

    **What it does.** For prompts whose structured-logging criterion requires train.py to print
    JSON-formatted metrics with a `run_id` field via `print(json.dumps({...}))`: reports a
    train.py without such a print, or whose printed dicts (when resolvable) never carry `run_id`.

    **Why is this bad?** That prompt version collects results from stdout; without the JSON line
    (or without `run_id`) the results of a run cannot be attributed or aggregated.

    **Example.** train.py only calls `wandb.log(...)` and `print(f"acc={acc}")`.

    **Use instead.** `print(json.dumps({"run_id": cfg.run.run_id, "epoch": epoch, "val_acc": acc}))`.
    """

    code = "RA607"
    name = "train-json-print-missing"
    topic = "logging"
    severity = Severity.major
    requirement = "train_json_print"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    needs = ("train",)

    _SPEC = {"requirements": {"train_json_print": [6]}}
    VALID = [Case(files={"src/train.py": "import json\n\ndef train(cfg, acc):\n    print(json.dumps({'run_id': cfg.run_id, 'acc': acc}))\n"}, spec=_SPEC)]
    INVALID = [
        Case(files={"src/train.py": "def train(cfg, acc):\n    print(f'acc={acc}')\n"}, path="src/train.py", spec=_SPEC),
        Case(files={"src/train.py": "import json\n\ndef train(cfg, acc):\n    print(json.dumps({'acc': acc}))\n"}, path="src/train.py", line=4, spec=_SPEC),
    ]

    def check(self, ctx):
        train = ctx.module("train")
        if train is None or not train.tree.body:
            return
        model = wandb_model(ctx)
        ix = model.index(train)
        prints = [(c, a) for c in train.calls if c.func == "print" for a in c.positional() if _json_dumps_call(a, train)]
        if not prints:
            yield self.hit(train.path, None, "train.py never prints JSON-formatted metrics with print(json.dumps({...})), which the structured-logging criterion requires")
            return
        resolved = []
        for c, a in prints:
            arg = a.args[0].value if a.args else None
            if arg is None:
                continue
            ks = model.keys_of(train, ix, arg, c.function)
            if ks.opaque or ks.patterns:
                return  # cannot tell: some printed dict may carry run_id
            resolved.append((c, ks))
        if resolved and not any("run_id" in ks.exact for _, ks in resolved):
            c, ks = resolved[0]
            yield self.hit(train.path, c.pos, f"the JSON train.py prints has no 'run_id' field (keys: {', '.join(sorted(ks.exact)) or 'none'})")


class EntityProjectMissingRule(Rule):
    """config/config.yaml lacks wandb.entity or wandb.project.

    **What it does.** Checks that the root config has a `wandb` section with `entity` and
    `project` keys (or pulls a `wandb` group in through its defaults list). Empty values are
    reported as minor.

    **Why is this bad?** The prompt makes these settings mandatory: train.py needs them for
    `wandb.init(entity=..., project=...)` and evaluate.py needs them for
    `api.run(f"{entity}/{project}/{run_id}")`. Missing keys crash with a Hydra/OmegaConf
    missing-key error or log to the wrong place.

    **Example.** `wandb: {mode: online}` with no entity or project.

    **Use instead.** `wandb: {entity: my-team, project: my-project, mode: online}`.
    """

    code = "RA608"
    name = "wandb-entity-project-missing"
    topic = "wandb"
    severity = Severity.major
    requirement = "wandb_entity_project"
    needs = ()

    VALID = [
        Case(files={"config/config.yaml": "wandb:\n  entity: team\n  project: proj\n  mode: online\n"}),
        Case(files={"config/config.yaml": "defaults:\n  - wandb: default\n  - _self_\nmode: full\n"}),
    ]
    INVALID = [
        Case(files={"config/config.yaml": "mode: full\nwandb:\n  mode: online\n"}, path="config/config.yaml", line=2),
        Case(files={"config/config.yaml": "mode: full\n"}, path="config/config.yaml"),
    ]

    def check(self, ctx):
        doc = ctx.config_doc
        if doc is None or not isinstance(doc.data, dict):
            return
        path = "config/config.yaml"
        section = doc.data.get("wandb")
        if section is None:
            defaults = doc.data.get("defaults") or []
            if any(isinstance(d, dict) and any(str(k).lstrip("+/").split("/")[0] == "wandb" for k in d) for d in defaults if d):
                return
            yield self.hit(path, None, "config/config.yaml has no wandb section: wandb.entity and wandb.project are mandatory")
            return
        if not isinstance(section, dict):
            yield self.hit(path, doc.line_of("wandb"), "config/config.yaml's wandb entry is not a mapping with entity and project")
            return
        missing = [k for k in ("entity", "project") if k not in section]
        if missing:
            yield self.hit(path, doc.line_of("wandb"), f"config/config.yaml's wandb section lacks {' and '.join(missing)}")
        empty = [k for k in ("entity", "project") if k in section and section[k] in (None, "")]
        if empty:
            yield self.hit(path, doc.line_of(f"wandb.{empty[0]}"), f"config/config.yaml sets wandb.{' and wandb.'.join(empty)} to an empty value", severity=Severity.minor)


class StepGoesBackwardsRule(Rule):
    """WandB is given a `step=` smaller than one it has already reached, so it drops the row.

    **What it does.** On every command of the pipeline, classifies the `step=` of each
    `wandb.log` / `run.log` the command runs: the variable of a loop that is running
    (`step=epoch` in `for epoch in range(...)`), a counter the function increments inside a loop
    (`global_step += 1` per batch), or none (WandB's own counter, which moves one per call). It
    reports a log whose step is a loop's index when, inside that same loop, another log's step
    grows faster: a counter incremented in an inner loop (in the same function or a function the
    loop calls), or unnumbered logs made in an inner loop.

    **Why is this bad?** WandB requires steps to increase. After the first iteration the loop
    index (1, 2, ...) is below the batch count WandB has already reached, and WandB discards the
    row with only a warning ("Tried to log to step 1 that is less than the current step"). The
    per-epoch metrics never reach the run's history, so evaluate.py finds no such column.

    **Example.** `wandb.log({"loss": l}, step=global_step)` in the batch loop, then
    `wandb.log({"val_acc": a}, step=epoch)` at the end of each epoch.

    **Use instead.** One step counter for every log call of a run (`step=global_step` in both),
    or log the epoch as a metric (`wandb.log({"epoch": epoch, ...})`) and let WandB number rows.
    """

    code = "RA609"
    name = "wandb-step-goes-backwards"
    topic = "wandb"
    severity = Severity.major
    requirement = None

    _TRAIN = ("import wandb\n\ndef train(loader):\n    run = wandb.init(project='p')\n    global_step = 0\n    for epoch in range(3):\n"
              "        for batch in loader:\n            run.log({'loss': 1.0}{batch_step})\n            global_step += 1\n"
              "        run.log({'val_acc': 0.5}, step={epoch_step})\n\n"
              "if __name__ == '__main__':\n    train([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])\n")
    VALID = [
        Case(files={"src/main.py": _TRAIN.replace("{batch_step}", ", step=global_step").replace("{epoch_step}", "global_step")},
             note="one counter for both"),
        Case(files={"src/main.py": _TRAIN.replace("{batch_step}", "").replace("{epoch_step}", "epoch").replace("        for batch in loader:\n            run.log({'loss': 1.0})\n            global_step += 1\n", "")},
             note="only per-epoch logs: the epoch grows one by one"),
    ]
    INVALID = [
        Case(files={"src/main.py": _TRAIN.replace("{batch_step}", ", step=global_step").replace("{epoch_step}", "epoch")}, path="src/main.py", line=10),
        Case(files={"src/main.py": _TRAIN.replace("{batch_step}", "").replace("{epoch_step}", "epoch")}, path="src/main.py", line=10,
             note="unnumbered batch logs move WandB's own step once per call"),
    ]

    def check(self, ctx):
        rm = run_model(ctx)
        faster: dict[tuple, object] = {}

        def backwards(_i, run):
            logs = [c for c in run.trace.calls if c.step is not None and not c.speculative]
            for a in logs:
                if a.step[0] != "index":
                    continue
                loop = a.step[1]
                for b in logs:
                    if b is a or loop not in b.loops:
                        continue
                    kind, counted_in, _text = b.step
                    outer = b.loops[: b.loops.index(loop) + 1]  # the loop and those around it
                    inner = b.loops[len(outer):]
                    if (kind == "counter" and counted_in not in outer) or (kind == "auto" and inner):
                        faster.setdefault((a.path, a.line, a.col), b)
                        yield a
                        break

        for call, on in rm.grouped(backwards):
            other = faster[(call.path, call.line, call.col)]
            how = (f"step={other.step[2]}, which grows with every iteration of an inner loop" if other.step[0] == "counter"
                   else "no step= inside an inner loop, so WandB's own step moves once per call")
            yield self.hit(
                call.path, call.line,
                f"{call.name.rsplit('.', 1)[0].replace('wandb.Run', 'run')}.log(step={call.step[2]}) numbers rows by the loop's index, but "
                f"{other.path}:{other.line} logs with {how}: from the second iteration on the index is below the step WandB has reached "
                f"and WandB drops these rows with only a warning (on {rm.commands_text(on)})",
                column=call.col, on=on,
                related=[Related(label=f"log with {'step=' + other.step[2] if other.step[2] else 'no step'}", path=other.path, line=other.line)])
