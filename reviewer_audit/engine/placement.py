"""Where each finding holds: on which commands its code runs, what it follows from, what runs first.

Rules say what is wrong and where; this module says when it matters, from the program model's
run of every command (`program.runs`):

* **Reach.** A finding at `path:line` holds on the commands that execute that line (or on the
  commands its rule names, `Hit.on`, such as the runs whose config lacks a key). One that no
  command reaches is *latent* and lowered to minor: code that never runs does not block a run.
  A rule whose defect matters only on some kinds of command (`Rule.affects`: training, not
  evaluate.py) counts only those.
* **Consequences.** A finding that `needs` what an earlier blocker `provides` (an import of a
  module whose file is missing, the compositions of a config folder that does not exist) can only
  follow that blocker. It points at it (`consequence_of`) and does not decide the verdict.
* **After the first crash.** A blocker that every command reaching it reaches only after that
  command's first crash in its code can only follow that crash: it is a consequence of it too
  (`after_crash`), listed but not a second blocker. Findings with no reach (the install, the
  file set, a YAML file) stop every command alike and are not such causes, so the code's own
  first crash still shows behind them.
* **First crash per command.** For each command, the reached blockers in execution order; the
  first is what the run actually dies of (`settle`, re-run after suppressions are applied).

Findings that are not about code a command runs (a missing file, the pyproject, a YAML file)
have no reach: they hold on every command, before any code runs.
"""
from __future__ import annotations

from reviewer_audit.engine.findings import Command, Finding, Reach, Severity

#: appended to the message of a finding lowered because no command runs its code
LATENT_NOTE = "latent: no command of the pipeline runs this code"


def place(ctx, pairs: list[tuple[Finding, object, type]]) -> list[Command]:
    """Set `reach` (and lower latent findings) on each finding of `pairs` (finding, hit, rule
    class), in place, and return the pipeline's commands."""
    from reviewer_audit.program.runs import run_model

    rm = run_model(ctx)
    runs = rm.runs
    commands = [Command(command=r.command.text, kind=r.command.kind, run_id=r.command.run_id, mode=r.command.mode,
                        parent=r.command.parent) for r in runs]
    if not runs:
        return commands
    for finding, hit, rule_cls in pairs:
        on = getattr(hit, "on", None)
        if on is None:
            on = rm.reach(finding.path, finding.line)
        if on is None:
            continue
        on = [i for i in on if 0 <= i < len(runs)]
        affects = getattr(rule_cls, "affects", None)
        elsewhere = []
        if affects is not None:
            elsewhere = [i for i in on if runs[i].command.kind not in affects]
            on = [i for i in on if runs[i].command.kind in affects]
        orders = []
        prevents = set(getattr(hit, "prevents", ()))
        for i in on:
            if i in prevents:
                # the command never starts: before anything it would run, after what stops every
                # command alike (the install, a module that does not parse: -1 in `settle`)
                orders.append(0)
                continue
            order = rm.order(i, finding.path, finding.line) if finding.path and finding.line else None
            # a finding on a command whose line that command does not run (the composition of
            # its config, a YAML file): it happens while Hydra composes, just before the task
            # function's first statement
            orders.append(order if order is not None else max((runs[i].trace.compose_order or 0) - 1, 0))
        finding.reach = Reach(commands=[commands[i].command for i in on], order=orders, latent=not on)
        if not on and getattr(rule_cls, "about_execution", True) and finding.severity.rank > Severity.minor.rank:
            finding.demoted_from = finding.severity
            finding.severity = Severity.minor
            note = LATENT_NOTE if not elsewhere else (
                f"latent: only {commands[elsewhere[0]].command.split(' ', 3)[2]} runs this code, where it has no effect")
            finding.message = f"{finding.message} ({note})"
    return commands


def link_consequences(findings: list[Finding], provides: dict[int, tuple[str, ...]], needs: dict[int, tuple[str, ...]]) -> None:
    """`consequence_of` for findings that need what a blocker provides (keys by finding index)."""
    owner: dict[str, int] = {}
    for i, keys in sorted(provides.items()):
        if findings[i].severity is Severity.blocker:
            for k in keys:
                owner.setdefault(k, i)
    for i, keys in needs.items():
        cause = next((owner[k] for k in keys if k in owner and owner[k] != i), None)
        if cause is not None:
            findings[i].consequence_of = cause


def link_after_first_crash(findings: list[Finding]) -> None:
    """`consequence_of` (and `after_crash`) for blockers that run, on every command reaching them,
    only after that command's first crash in code. Recomputed from scratch on each call, so a
    suppressed first crash frees what followed it."""
    for f in findings:
        if f.after_crash:
            f.consequence_of, f.after_crash = None, False

    def cause_candidate(f: Finding) -> bool:
        return (f.severity is Severity.blocker and not f.suppressed and f.consequence_of is None
                and f.reach is not None and bool(f.reach.commands))

    first: dict[str, tuple[int, int]] = {}
    for j, f in enumerate(findings):
        if cause_candidate(f):
            for cmd, order in zip(f.reach.commands, f.reach.order):
                if cmd not in first or order < first[cmd][0]:
                    first[cmd] = (order, j)
    for j, f in enumerate(findings):
        if not cause_candidate(f) or any(first[cmd][1] == j for cmd in f.reach.commands):
            continue
        causes = [first[cmd] for cmd, order in zip(f.reach.commands, f.reach.order) if first[cmd][0] < order]
        if len(causes) == len(f.reach.commands):
            f.consequence_of, f.after_crash = min(causes)[1], True


def settle(findings: list[Finding], commands: list[Command]) -> list[Command]:
    """Each command's reached blockers in execution order, its first blocker and the findings
    that are consequences of it. Suppressed findings and consequences do not count."""
    out = []
    for cmd in commands:
        ranked: list[tuple[int, int]] = []
        for j, f in enumerate(findings):
            if f.severity is not Severity.blocker or f.suppressed or f.consequence_of is not None:
                continue
            if f.reach is None:
                ranked.append((-1, j))  # before any code runs: install, config files
            elif cmd.command in f.reach.commands:
                ranked.append((f.reach.order[f.reach.commands.index(cmd.command)], j))
        ranked.sort()
        blockers = [j for _, j in ranked]
        first = blockers[0] if blockers else None
        causes = {first, next((j for j in blockers if findings[j].reach is not None), None)} - {None}
        consequences = [j for j, f in enumerate(findings) if f.consequence_of in causes]
        out.append(cmd.model_copy(update={"first_blocker": first, "consequences": consequences, "blockers": blockers}))
    return out


def reindex(kept: list[tuple[int, Finding]]) -> list[Finding]:
    """After some findings were dropped: the kept ones (with their old indexes), with
    `consequence_of` pointing at new indexes (null when the cause was dropped)."""
    new_index = {old: new for new, (old, _f) in enumerate(kept)}
    out = []
    for _old, f in kept:
        if f.consequence_of is not None:
            f = f.model_copy(update={"consequence_of": new_index.get(f.consequence_of)})
        out.append(f)
    return out
