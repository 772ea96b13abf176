"""Mode rules: what `mode=trial` / `trial_mode=true` and `mode=full` must change.

The prompt asks that trial mode disables WandB, runs one epoch with 1-2 batches and turns
Optuna off, that full mode sets WandB online, and (newer prompts) that `mode` is a required
parameter. Each behaviour is its own rule, so one gap is one finding. The behaviour counts as
implemented wherever it is visible: assignments on the config (`cfg.training.epochs = 1`),
conditional expressions, guarded `break`s, or literal overrides main passes to the training
child (`"wandb.mode=disabled"`) -- seed_000 implements it that way, and that is valid.
"""
from __future__ import annotations

from typing import Callable, ClassVar

from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Severity
from reviewer_audit.program.hydra_model import hydra_model, mode_evidence
from reviewer_audit.program.runs import run_model

_HEADER = "import hydra\n\n@hydra.main(config_path='../config', config_name='config', version_base=None)\ndef main(cfg):\n"
_FULL = (
    "    if cfg.mode == 'trial':\n"
    "        cfg.wandb.mode = 'disabled'\n"
    "        cfg.optuna.n_trials = 0\n"
    "        cfg.training.epochs = 1\n"
    "    else:\n"
    "        cfg.wandb.mode = 'online'\n"
    "    for step, batch in enumerate(range(100)):\n"
    "        if cfg.mode == 'trial' and step >= 2:\n"
    "            break\n"
)
_OPTUNA = "import optuna\n"


def _without(line: str) -> str:
    return _OPTUNA + _HEADER + _FULL.replace(line, "        pass\n")


class _MissingBehaviour(Rule):
    """Shared check: a mode behaviour with no evidence anywhere in the training code."""

    behaviour: ClassVar[str]
    what: ClassVar[str]
    topic = "modes"
    severity = Severity.major

    def applicable(self, ctx, ev) -> bool:
        return True

    def check(self, ctx):
        ev = mode_evidence(ctx)
        if not ev.lines or not ev.has_code():
            return
        if not self.applicable(ctx, ev) or ev.find(self.behaviour) or run_evidence(ctx, self.behaviour):
            return
        where = ev.trial_branch()
        if where is None:
            model = hydra_model(ctx)
            ep = model.entries.get("src/train.py") or model.entries.get("src/main.py")
            where = (ep.path, ep.pos.line) if ep else (next(iter(ev.lines)), 1)
        flag = "trial_mode=true" if ctx.spec.has("trial_mode_flag") else "mode=trial"
        yield self.hit(where[0], where[1], self.what.format(flag=flag))


#: Per behaviour: the mode whose commands must show it, the key names whose value shows it, and
#: the values that count.
_RUN_EVIDENCE: dict[str, tuple[str, tuple[str, ...], Callable[[object], bool]]] = {
    "wandb_disabled": ("trial", ("mode",), lambda v: v == "disabled"),
    "wandb_online": ("full", ("mode",), lambda v: v == "online"),
    "epochs_1": ("trial", ("epoch",), lambda v: v == 1 and not isinstance(v, bool)),
    "optuna_off": ("trial", ("n_trials", "trials"), lambda v: v == 0 and not isinstance(v, bool)),
    "limit_batches": ("trial", ("batch", "step", "limit"), lambda v: v in (1, 2) and not isinstance(v, bool)),
}


def run_evidence(ctx, behaviour: str) -> bool:
    """The behaviour, seen on the commands of its mode as they really run: a config value the
    code reads there (after Hydra and the code's own edits: `cfg.training.epochs =
    int(cfg.trial.epochs)` with `trial: {epochs: 1}` reads 1), the argument WandB or the
    environment receives, or Optuna not reached at all in trial mode while full mode reaches it."""
    rm = run_model(ctx)
    mode, names, ok = _RUN_EVIDENCE[behaviour]
    runs = [rm.runs[i] for i in rm.indexes(mode=mode)]
    if not runs:
        return False
    for run in runs:
        t = run.trace
        for read in t.reads:
            if read.status == "ok" and read.key and not read.speculative and isinstance(read.key[-1], str):
                last = read.key[-1].lower()
                scope = ".".join(str(k) for k in read.key).lower()
                if behaviour.startswith("wandb"):
                    if last == "mode" and "wandb" in scope and ok(read.value):
                        return True
                elif any(n in last for n in names) and ok(read.value):
                    return True
        if behaviour.startswith("wandb"):
            if any(c.name == "wandb.init" and ok(c.kwargs.get("mode")) for c in t.calls):
                return True
            if behaviour == "wandb_disabled" and any(e.name in ("WANDB_MODE", "WANDB_DISABLED") and e.value in ("disabled", "dryrun", "true", "True", True) for e in t.env):
                return True
    if behaviour == "optuna_off":
        full = [rm.runs[i] for i in rm.indexes(mode="full")]
        optimises = lambda run: any(c.name.endswith(("optuna.create_study", ".optimize")) for c in run.trace.calls)  # noqa: E731
        if any(optimises(r) for r in full) and not any(optimises(r) for r in runs):
            return True
    return False


class TrialWandbNotDisabled(_MissingBehaviour):
    """Trial mode does not disable WandB.

    **What it does.** Looks in main/train (and the overrides main passes to the child) for
    WandB being set to `disabled` -- `cfg.wandb.mode = "disabled"`, `"wandb.mode=disabled"`,
    `wandb.init(mode="disabled")` or `WANDB_MODE`.

    **Why is this bad?** The prompt requires trial runs to set `wandb.mode="disabled"`; without it
    every smoke test creates WandB runs (and needs credentials) -- a stated criterion.

    **Example.** `if cfg.mode == "trial": cfg.training.epochs = 1` and nothing about WandB.

    **Use instead.** `if cfg.mode == "trial": cfg.wandb.mode = "disabled"` before `wandb.init`.
    """

    code = "RA701"
    name = "trial-wandb-not-disabled"
    requirement = "trial_wandb_disabled"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    behaviour = "wandb_disabled"
    what = "no code disables WandB in trial mode ({flag}): nothing sets wandb.mode to \"disabled\""

    VALID = [
        Case(files={"src/train.py": _OPTUNA + _HEADER + _FULL}),
        Case(files={"src/main.py": "import subprocess\n\ndef main(cfg):\n    extra = ['wandb.mode=disabled'] if cfg.mode == 'trial' else []\n    subprocess.run(['python', '-m', 'src.train', *extra])\n"}, note="passed as a child override (seed_000)"),
    ]
    INVALID = [Case(files={"src/train.py": _without("        cfg.wandb.mode = 'disabled'\n")}, path="src/train.py", line=6)]


class TrialEpochsNotOne(_MissingBehaviour):
    """Trial mode does not reduce training to one epoch.

    **What it does.** Looks for an epoch count set to 1 in trial mode: `cfg.training.epochs = 1`,
    `"training.epochs=1"` passed to the child, or `1 if trial_mode else cfg.training.epochs`.

    **Why is this bad?** The prompt's trial mode is a fast smoke test with `epochs=1`; without it
    a trial run trains for the full schedule.

    **Example.** A trial branch that only disables WandB.

    **Use instead.** `cfg.training.epochs = 1` in the trial branch.
    """

    code = "RA702"
    name = "trial-epochs-not-one"
    requirement = "trial_epochs_1"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    behaviour = "epochs_1"
    what = "trial mode ({flag}) never sets the number of epochs to 1"

    VALID = [
        Case(files={"src/main.py": _OPTUNA + _HEADER + (
            "    if cfg.mode == 'trial':\n"
            "        cfg.training.epochs = int(cfg.trial.epochs)\n"
            "    for epoch in range(cfg.training.epochs):\n"
            "        pass\n"
            "\nif __name__ == '__main__':\n    main()\n"),
            "config/config.yaml": "defaults:\n  - _self_\nrun: ???\nresults_dir: results\nmode: full\ntraining:\n  epochs: 10\ntrial:\n  epochs: 1\n"},
            runs={"r1": "run_id: r1\n"},
            note="the value flows through the config: trial sets epochs from trial.epochs, which is 1"),
        Case(files={"src/train.py": _OPTUNA + _HEADER + _FULL}),
        Case(files={"src/train.py": _without("        cfg.training.epochs = 1\n").replace("range(100)", "loader")}, note="one pass, no epoch loop or epoch setting"),
    ]
    INVALID = [Case(files={"src/train.py": _without("        cfg.training.epochs = 1\n") + "    for epoch in range(cfg.training.epochs):\n        pass\n"}, path="src/train.py", line=6)]

    def applicable(self, ctx, ev) -> bool:
        return ev.has_epochs()


class TrialOptunaNotDisabled(_MissingBehaviour):
    """Trial mode does not turn Optuna off.

    **What it does.** In bundles that use Optuna, looks for `n_trials = 0` in trial mode
    (`cfg.optuna.n_trials = 0`, `"optuna.n_trials=0"`), or an Optuna search gated on the mode.

    **Why is this bad?** The prompt requires `n_trials=0` in trial mode; otherwise a smoke test
    runs a whole hyper-parameter search.

    **Example.** `study.optimize(objective, n_trials=cfg.optuna.n_trials)` with no trial-mode change.

    **Use instead.** `cfg.optuna.n_trials = 0` in the trial branch.
    """

    code = "RA703"
    name = "trial-optuna-not-disabled"
    requirement = "trial_optuna_off"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    behaviour = "optuna_off"
    what = "trial mode ({flag}) does not disable Optuna: nothing sets optuna.n_trials to 0 or skips the search"

    VALID = [
        Case(files={"src/train.py": _OPTUNA + _HEADER + _FULL}),
        Case(files={"src/train.py": _HEADER + _FULL.replace("        cfg.optuna.n_trials = 0\n", "")}, note="no Optuna in the bundle"),
    ]
    INVALID = [Case(files={"src/train.py": _without("        cfg.optuna.n_trials = 0\n")}, path="src/train.py", line=6)]

    def applicable(self, ctx, ev) -> bool:
        return ev.uses_optuna()


class TrialBatchesNotLimited(_MissingBehaviour):
    """Trial mode does not limit the number of batches.

    **What it does.** Looks for a batch limit: a `break` guarded by a trial/max/limit test inside
    a loop, a `max_*batches`/`*_steps` value of 1-2, `itertools.islice`, or such an override
    passed to the training child.

    **Why is this bad?** The prompt's trial mode limits batches to 1-2 so the smoke test is fast;
    without it one epoch still walks the whole dataset.

    **Example.** `for batch in loader:` with no trial-mode exit.

    **Use instead.** `if cfg.mode == "trial" and step >= 2: break`.
    """

    code = "RA704"
    name = "trial-batches-not-limited"
    requirement = "trial_limit_batches"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    behaviour = "limit_batches"
    what = "trial mode ({flag}) does not limit the number of batches (no guarded break or max-batches setting of 1-2)"

    VALID = [Case(files={"src/train.py": _OPTUNA + _HEADER + _FULL})]
    INVALID = [Case(files={"src/train.py": _OPTUNA + _HEADER + _FULL.replace("        if cfg.mode == 'trial' and step >= 2:\n            break\n", "        print(batch)\n")}, path="src/train.py", line=6)]


class FullWandbNotOnline(_MissingBehaviour):
    """Full mode does not set WandB online.

    **What it does.** Looks for WandB being set `online` in code or overrides, or
    `wandb.mode: online` as the default in config/config.yaml.

    **Why is this bad?** The prompt requires full runs to log online; a default of `offline` or
    `disabled` loses the results evaluate.py fetches from the WandB API.

    **Example.** `wandb: {mode: offline}` in config.yaml and no full-mode change.

    **Use instead.** `elif cfg.mode == "full": cfg.wandb.mode = "online"`.
    """

    code = "RA705"
    name = "full-wandb-not-online"
    requirement = "full_wandb_online"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    behaviour = "wandb_online"
    what = "full mode never sets WandB online: no code sets wandb.mode to \"online\" and config.yaml does not default to it"

    VALID = [
        Case(files={"src/train.py": _OPTUNA + _HEADER + _FULL}),
        Case(files={"src/train.py": _without("        cfg.wandb.mode = 'online'\n"), "config/config.yaml": "wandb:\n  mode: online\n"}),
    ]
    INVALID = [Case(files={"src/train.py": _without("        cfg.wandb.mode = 'online'\n"), "config/config.yaml": "wandb:\n  mode: offline\n"}, path="src/train.py", line=6)]

    def applicable(self, ctx, ev) -> bool:
        doc = ctx.config_doc
        data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
        wandb = data.get("wandb")
        return not (isinstance(wandb, dict) and str(wandb.get("mode")) == "online")


class ModeHasDefault(Rule):
    """`mode` has a default in config.yaml, so it is not a required parameter.

    **What it does.** Checks that config/config.yaml declares `mode: ???` (Hydra's mandatory
    value) rather than a concrete default such as `mode: full`.

    **Why is this bad?** The prompt says `mode` is a required parameter. With a default,
    forgetting `mode=` silently starts a full, online run (seed_000 D-21, seed_002 D-20).

    **Example.** `mode: full  # trial or full`.

    **Use instead.** `mode: ???` -- Hydra then stops with "Missing mandatory value: mode".
    """

    code = "RA706"
    name = "mode-has-default"
    topic = "modes"
    severity = Severity.minor
    requirement = "mode_flag"

    VALID = [Case(files={"config/config.yaml": "mode: ???\nresults_dir: results\n"})]
    INVALID = [Case(files={"config/config.yaml": "results_dir: results\nmode: full  # trial or full\n"}, path="config/config.yaml", line=2)]

    def check(self, ctx):
        doc = ctx.config_doc
        if doc is None or not isinstance(doc.data, dict) or "mode" not in doc.data:
            return
        value = doc.data["mode"]
        if value is None or str(value) == "???":
            return
        yield self.hit("config/config.yaml", doc.line_of("mode"), f"mode defaults to {value!r}, so it is not required: leaving out `mode=` silently runs with {value!r}; use `mode: ???`")


class OptunaObjectiveForcesTrial(Rule):
    """The Optuna objective switches each trial to trial mode.

    **What it does.** Finds `cfg.mode = "trial"` / `cfg.trial_mode = True` inside a function that
    samples hyper-parameters (`trial.suggest_*`), i.e. the Optuna objective.

    **Why is this bad?** Trial mode runs 1-2 batches of one epoch, so every Optuna trial scores a
    noise-level model and the search cannot find anything: full mode has no real
    hyper-parameter search (seed_002 D-11).

    **Example.** `def objective(trial): cfg.lr = trial.suggest_float(...); cfg.mode = "trial"`.

    **Use instead.** A reduced but real budget for trials (e.g. `optuna.trial_epochs`), never
    the smoke-test mode.
    """

    code = "RA707"
    name = "optuna-objective-forces-trial"
    topic = "modes"
    severity = Severity.major

    _OBJ = "import optuna\n\ndef objective(trial, cfg):\n    cfg.training.lr = trial.suggest_float('lr', 1e-5, 1e-3)\n    {line}\n    return train(cfg)\n"
    VALID = [Case(files={"src/train.py": _OBJ.replace("{line}", "cfg.training.epochs = cfg.optuna.trial_epochs")})]
    INVALID = [
        Case(files={"src/train.py": _OBJ.replace("{line}", "cfg.mode = 'trial'")}, path="src/train.py", line=5),
        Case(files={"src/train.py": _OBJ.replace("{line}", "cfg.trial_mode = True")}, path="src/train.py", line=5),
    ]

    def check(self, ctx):
        if not (ctx.spec.has("mode_flag") or ctx.spec.has("trial_mode_flag") or ctx.spec.has("trial_optuna_off")):
            return
        for path, mod in sorted(ctx.modules.items()):
            if path == "src/evaluate.py":
                continue
            samplers = {c.function for c in mod.calls if (c.method or "").startswith("suggest_") and c.function}
            if not samplers:
                continue
            for ch in mod.chains:
                if ch.ctx != "store" or not ch.function:
                    continue
                if not any(ch.function == f or ch.function.startswith(f + ".") or f.startswith(ch.function + ".") for f in samplers):
                    continue
                text = mod.line_text(ch.pos.line).split("#", 1)[0]
                rhs = text.split("=", 1)[1].strip() if "=" in text else ""
                if (ch.path[-1:] == ("mode",) and len(ch.path) == 1 and rhs.strip("'\"") == "trial") or (ch.path[-1:] == ("trial_mode",) and rhs == "True"):
                    yield self.hit(path, ch.pos, f"the Optuna objective sets {ch.root}.{'.'.join(ch.path)} = {rhs}: every trial runs the 1-2 batch smoke test, so the search scores noise")
