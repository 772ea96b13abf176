"""Hydra and configuration rules: entry points, run-config composition, and the keys code reads.

Every check here asks Hydra itself (through `reviewer_audit.program.hydra_compose`) what config a run
receives, then compares the code's `cfg.*` reads and writes against it. The shared model --
entry points, compositions per run, which name holds which part of the config -- lives in
`reviewer_audit.program.hydra_model`.
"""
from __future__ import annotations

import re


from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Related, Severity
from reviewer_audit.program.hydra_model import hydra_model
from reviewer_audit.program.runs import run_model
from reviewer_audit.spec.prompt import RUN_CONFIG_GROUPS

# --------------------------------------------------------------------------- case fixtures

_CONFIG = "defaults:\n  - _self_\n  - run: ???\nresults_dir: results\nmode: ???\nwandb:\n  mode: online\n"
_RUN = "run_id: r1\nmodel:\n  name: bert-tiny\ntraining:\n  epochs: 3\n"
_SPEC = {"run_config_dir": "config/run"}


def _main(body: str, header: str = "") -> str:
    """A src/main.py whose task function runs (`python -m src.main` calls it)."""
    return (
        "import hydra\n" + header
        + '@hydra.main(config_path="../config", config_name="config", version_base=None)\n'
        + "def main(cfg):\n" + body
        + '\n\nif __name__ == "__main__":\n    main()\n'
    )


def _short(keys) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:10]) + (", ..." if len(keys) > 10 else "")


def _runs_text(runs: list[str], total: int) -> str:
    return "every run" if len(runs) == total and total > 1 else ("run " + ", ".join(runs) if len(runs) <= 3 else f"{len(runs)} runs")


# --------------------------------------------------------------------------- RA201


class HydraMainMissing(Rule):
    """The entry point does not use Hydra although the prompt requires it.

    **What it does.** Checks that `src/main.py` has a `@hydra.main` task function (or uses
    Hydra's compose API), and that `src/train.py` does too when main starts it as
    `python -m src.train key=value ...`.

    **Why is this bad?** The prompt's command line is `python -u -m src.main run={run_id}
    results_dir={path} ...`: Hydra-style `key=value` overrides. Without Hydra, nothing parses them
    and the run configs are not composed, so the "Hydra Integration" criterion is not met.

    **Example.** `def main(): args = argparse.ArgumentParser().parse_args()` in src/main.py.

    **Use instead.** `@hydra.main(config_path="../config", config_name="config", version_base=None)`.
    """

    code = "RA201"
    name = "hydra-main-missing"
    topic = "hydra"
    severity = Severity.major
    requirement = "hydra_run_configs"
    about_execution = False  # the entry point's shape is the criterion, whether or not main() is reached
    needs = ("main",)

    VALID = [Case(files={"src/main.py": _main("    print(cfg.mode)\n"), "config/config.yaml": _CONFIG})]
    INVALID = [
        Case(files={"src/main.py": "import argparse\n\ndef main():\n    p = argparse.ArgumentParser()\n    p.parse_args()\n"}, path="src/main.py", line=3),
        Case(
            files={
                "src/main.py": _main('    import subprocess, sys\n    subprocess.run([sys.executable, "-m", "src.train", f"run={cfg.run}"])\n'),
                "src/train.py": "import sys\n\ndef main():\n    print(sys.argv)\n",
            },
            path="src/train.py", line=3,
        ),
    ]

    @staticmethod
    def _uses_hydra(mod) -> bool:
        return any((c.resolved or "").startswith(("hydra.compose", "hydra.initialize", "hydra.experimental")) for c in mod.calls)

    def check(self, ctx):
        model = hydra_model(ctx)
        main = ctx.module("main")
        # an empty or stub main.py is the completeness rules' finding, not this one
        if main is not None and main.functions and "src/main.py" not in model.entries and not self._uses_hydra(main):
            fn = main.functions.get("main")
            yield self.hit("src/main.py", fn.pos if fn else 1, "src/main.py has no @hydra.main entry point: the prompt's `run=... results_dir=...` overrides are never composed by Hydra")
        rm = run_model(ctx)
        reported = set()
        for run in rm.runs:
            child = run.command.module
            if run.command.kind != "child" or child in model.entries or child in reported or run.launch is None:
                continue
            passed = [a for a in run.launch.templates if a and "=" in a and not a.startswith("-")]
            mod = ctx.module(child)
            if not passed or mod is None or self._uses_hydra(mod):
                continue
            reported.add(child)
            fn = mod.functions.get("main") or next(iter(mod.functions.values()), None)
            dotted = child[:-3].replace("/", ".")
            yield self.hit(
                child, fn.pos if fn else 1,
                f"{run.launch.path} starts `python -m {dotted}` with Hydra overrides (`{passed[0]}`), but {child} has no @hydra.main to parse them",
                related=[Related(label="overrides passed", path=run.launch.path, line=run.launch.line)],
            )


# --------------------------------------------------------------------------- RA202


class HydraConfigNotFound(Rule):
    """`@hydra.main` points at a config folder or file that is not in the repository.

    **What it does.** Resolves `config_path` against the module's folder, as Hydra does for
    `python -m src.main`, and checks that the folder and `<config_name>.yaml` exist. Also flags
    a missing `config_name`, which makes Hydra ignore config/config.yaml.

    **Why is this bad?** Hydra stops before the task function runs: "Primary config directory
    not found" or "Cannot find primary config 'config'". Without `config_name`, the composed
    config is empty, and the first override (`run=...`) fails.

    **Example.** `@hydra.main(config_path="../../config", config_name="config")` in src/main.py
    (that is one level above the repository).

    **Use instead.** `@hydra.main(config_path="../config", config_name="config", version_base=None)`.
    """

    code = "RA202"
    name = "hydra-config-not-found"
    topic = "hydra"
    severity = Severity.blocker
    requirement = "hydra_run_configs"

    VALID = [Case(files={"src/main.py": _main("    print(cfg.mode)\n"), "config/config.yaml": _CONFIG})]
    INVALID = [
        Case(files={"src/main.py": _main("    print(cfg.mode)\n").replace("../config", "../../config"), "config/config.yaml": _CONFIG}, path="src/main.py", line=2),
        Case(files={"src/main.py": _main("    print(cfg.mode)\n").replace('config_name="config"', 'config_name="main"'), "config/config.yaml": _CONFIG}, path="src/main.py", line=2),
        Case(files={"src/main.py": _main("    print(cfg.mode)\n").replace(', config_name="config"', ""), "config/config.yaml": _CONFIG}, spec=_SPEC, runs={"r1": _RUN}, path="src/main.py", line=2),
    ]

    def check(self, ctx):
        model = hydra_model(ctx)
        for path, ep in sorted(model.entries.items()):
            if path == "src/evaluate.py" or not ep.literal:
                continue
            cp = ep.effective_config_path
            where = f"config_path={ep.config_path!r}" if ep.config_path_given else f"config_path (unset, so {cp!r})"
            if cp is None:
                if ep.config_name is not None:
                    yield self.hit(path, ep.pos, f"{where}: Hydra has no config folder, so config_name={ep.config_name!r} cannot be found ('Cannot find primary config')")
                continue
            if ep.config_dir is None:
                yield self.hit(path, ep.pos, f"{where} resolves outside the repository (from {path.rsplit('/', 1)[0]}/): Hydra stops with 'Primary config directory not found'")
                continue
            if not model.config_dir_exists(ep.config_dir):
                slash = " (the backslash is part of the folder name on Linux)" if "\\" in (ep.config_path or "") else ""
                yield self.hit(path, ep.pos, f"{where} resolves to '{ep.config_dir}/', which is not in the repository{slash}: Hydra stops with 'Primary config directory not found'")
                continue
            if ep.config_name is None:
                if "config/config.yaml" not in model.files:
                    continue
                msg = f"@hydra.main has no config_name, so Hydra ignores {ep.config_dir}/config.yaml and composes an empty config"
                failure = None
                for run_id in model.run_ids[:1]:
                    res = model.compose(ep, model.cli_overrides(run_id))
                    failure = res.error
                if failure:
                    msg += f"; the prompt's command line then fails: {failure}"
                    yield self.hit(path, ep.pos, msg)
                else:
                    yield self.hit(path, ep.pos, msg, severity=Severity.major)
                continue
            if not model.composable(ep):
                yield self.hit(path, ep.pos, f"config_name={ep.config_name!r}: {ep.config_dir}/{ep.config_name}.yaml is not in the repository ('Cannot find primary config')")


# --------------------------------------------------------------------------- RA203


class RunConfigDoesNotCompose(Rule):
    """Hydra cannot compose the config for a run with the prompt's command line.

    **What it does.** For every run config and for each mode of the prompt's command line
    (`run=<run_id> results_dir=<path> mode=full|trial`, or `trial_mode=true`), composes the
    entry point's config exactly as Hydra would -- defaults list, config groups, `# @package`
    headers, override grammar -- and reports the first error. For `src.train` started by main,
    the overrides main passes to the child are used too.

    **Why is this bad?** Hydra fails before any code runs, so every run of that kind crashes.
    Typical causes: the defaults list names a group (`run`) while the run files live in
    another folder (`config/runs/`); `run=` used for a group missing from the defaults list;
    an override for a key config.yaml does not define (`mode=full` needs `mode:` in
    config.yaml, or `+mode=`).

    **Example.** `defaults: [_self_]` and no `run:` key, then `python -m src.main run=proposed-x`.

    **Use instead.** `defaults: [_self_, {run: ???}]` with `config/run/<run_id>.yaml`, or a
    `run: ???` key that the code resolves itself.
    """

    code = "RA203"
    name = "run-config-does-not-compose"
    topic = "hydra"
    severity = Severity.blocker
    requirement = "hydra_run_configs"

    VALID = [Case(files={"src/main.py": _main("    print(cfg.run.model.name)\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC)]
    INVALID = [
        Case(files={"src/main.py": _main("    print(cfg.run.model.name)\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, path="src/main.py", line=2, note="group `run` but the files are in config/runs/"),
        Case(files={"src/main.py": _main("    print(cfg.mode)\n"), "config/config.yaml": "defaults:\n  - _self_\n  - run: ???\nresults_dir: results\n"}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=2, note="`mode=full` for a key config.yaml lacks"),
        Case(files={"src/main.py": _main("    print(cfg.run)\n"), "config/config.yaml": "defaults:\n  - _self_\nrun: ???\nresults_dir: results\nmode: ???\n"}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=2, note="`run` is a plain key, but config/run/ makes `run=` a group override"),
    ]

    def check(self, ctx):
        model = hydra_model(ctx)
        if not model.run_ids or ctx.yaml_errors or any(r.error for r in ctx.run_files):
            return  # unparsable YAML is RA002's finding
        rm = run_model(ctx)
        failures: dict[tuple[str, str], list[int]] = {}
        for i, run in enumerate(rm.runs):
            ep = model.entries.get(run.command.module)
            if not run.compose_error or ep is None or not model.composable(ep) or run.compose_kind == "yaml":
                continue
            if run.command.kind == "child" and run.compose_kind in ("override_missing_key", "override_grammar"):
                continue  # what the parent passes: RA209's finding
            msg = run.compose_error.replace(run.command.run_id or "\0", "<run_id>")
            # one finding per failure: a child that inherits its parent's command line fails with
            # the same message, and the same fix mends both
            key = next((k for k in failures if k[1] == msg), (run.command.module, msg))
            failures.setdefault(key, []).append(i)
        for (path, msg), on in failures.items():
            ep = model.entries[path]
            first = rm.runs[on[0]].command
            runs = sorted({rm.runs[i].command.run_id for i in on if rm.runs[i].command.run_id})
            who = f"`python -m {path[:-3].replace('/', '.')}`" + (" (as its parent starts it)" if first.kind == "child" else "")
            # the processes a failing command would start never start: this is what stops them
            unstarted = [j for j, r in enumerate(rm.runs) if r.command.parent in on]
            yield self.hit(
                path, ep.pos,
                f"Hydra cannot compose the config of {who} for {_runs_text(runs, len(model.run_ids))} with `{' '.join(first.overrides)}`: "
                f"{msg.replace('<run_id>', first.run_id or '')}{self._hint(model, ep, msg)}",
                related=[self._cause(model, ep, msg)], on=sorted({*on, *unstarted}), prevents=tuple(unstarted),
            )

    @staticmethod
    def _cause(model, ep, msg: str) -> Related:
        """Where in the primary config the failure comes from: the key Hydra's message names
        (`Could not override 'run'` -> the plain `run:` key), else the defaults list."""
        path = ep.primary_config
        doc = model.primary_doc(ep)
        lines = doc.lines if doc is not None else {}
        named = re.findall(r"'([\w.]+)(?:/[^']*)?'", msg)
        line = next((lines[k] for k in named if k in lines), None) or lines.get("defaults") or 1
        return Related(label="primary config", path=path, line=line)

    @staticmethod
    def _hint(model, ep, msg: str) -> str:
        spec_dir = model.ctx.spec.run_config_dir or ""
        groups = model.config_groups(ep)
        folder = spec_dir[len(ep.config_dir) + 1:] if spec_dir.startswith(f"{ep.config_dir}/") else None
        primary = model.primary_doc(ep)
        data = primary.data if primary is not None and isinstance(primary.data, dict) else {}
        m = re.search(r"Could not override '(\w+)'\. No match in the defaults list", msg)
        if m:
            key = m.group(1)
            if key in data:
                return f" (`{key}` is a plain key in config.yaml, but the folder {ep.config_dir}/{key}/ makes `{key}=` a config-group override, and the defaults list has no `{key}` entry)"
            return f" (the folder {ep.config_dir}/{key}/ is a config group missing from the defaults list; `+{key}=` would append it)"
        m = re.search(r"Could not (?:find|load) '(\w+)/", msg)
        if m and folder and m.group(1) != folder and folder in groups:
            return f" (the run configs are in {spec_dir}/, i.e. config group '{folder}', not '{m.group(1)}')"
        if "Error resolving interpolation" in msg and "defaults" in msg.lower() or re.search(r"interpolation '\$\{\w+\}'", msg):
            return " (an interpolation in the defaults list can only name another config group's choice, not a config value)"
        return ""


# --------------------------------------------------------------------------- RA204



class RunConfigDirMismatch(Rule):
    """Code loads run configs from a folder other than the one the prompt puts them in.

    **What it does.** Finds paths built as `config/<folder>/<run_id>.yaml` (`os.path.join`,
    `Path(...) / ... / f"{run}.yaml"`, f-strings) and compares the folder with the prompt's
    run-config folder (`config/run/` or `config/runs/`, depending on the prompt version).

    **Why is this bad?** The run configs are provided at the prompt's location, so the code's
    `os.path.exists`/`OmegaConf.load` finds nothing and the run stops with FileNotFoundError.

    **Example.** `Path(root) / "config" / "runs" / f"{cfg.run}.yaml"` when the prompt says
    `config/run/{run_id}.yaml`.

    **Use instead.** The prompt's folder, or let Hydra compose the run config as a group.
    """

    code = "RA204"
    name = "run-config-dir-mismatch"
    topic = "config"
    severity = Severity.blocker
    requirement = "hydra_run_configs"

    _LOAD = 'import os\nfrom omegaconf import OmegaConf\n\ndef load(cfg):\n    return OmegaConf.load(os.path.join("config", "DIR", f"{cfg.run}.yaml"))\n\nload(None)\n'
    VALID = [Case(files={"src/main.py": _LOAD.replace("DIR", "runs")})]
    INVALID = [
        Case(files={"src/main.py": _LOAD.replace("DIR", "run")}, path="src/main.py", line=5),
        Case(files={"src/main.py": 'from pathlib import Path\nimport yaml\n\ndef f(cfg):\n    path = Path(__file__).parents[1] / "config" / "run" / f"{cfg.run}.yaml"\n'
                    '    with open(path) as fh:\n        return yaml.safe_load(fh)\n\nif __name__ == "__main__":\n    f(None)\n'}, path="src/main.py", line=6),
    ]

    def check(self, ctx):
        spec_dir = ctx.spec.run_config_dir
        if not spec_dir:
            return
        want = spec_dir.split("/")[-1]
        rm = run_model(ctx)

        def wrong_folder(_i, run):
            for load in run.trace.loads:
                m = re.fullmatch(r"(?:.*/)?config/([^/{}]+)/[^/]+\.ya?ml", load.file)
                if m and m.group(1) != want and m.group(1) in RUN_CONFIG_GROUPS and load.exists is not True:
                    yield load

        for load, on in rm.grouped(wrong_folder):
            folder = re.fullmatch(r"(?:.*/)?config/([^/{}]+)/[^/]+\.ya?ml", load.file).group(1)
            yield self.hit(load.path, load.line, f"loads run configs from config/{folder}/<run>.yaml, but the prompt provides them in {spec_dir}/: "
                           f"FileNotFoundError at run time", column=load.col, on=on)


# --------------------------------------------------------------------------- RA205


def _origin(origin: str) -> str:
    """Where a config object came from, for a message."""
    if origin == "hydra":
        return "the config Hydra composes"
    if origin.startswith("hydra, "):
        return f"the config Hydra composes ({origin[7:]})"
    if origin.startswith("load "):
        return f"{origin[5:]} as the code loads it"
    if origin in ("merge", "create"):
        return f"the config the code builds with OmegaConf.{origin}"
    return "the config"


#: said of a failure that happens only under a branch the run's config does not decide
SOME_PATHS = "only on some paths: it sits under a branch whose test the runs' configs do not decide, so it is not counted as a blocker"


def _severity(event) -> Severity | None:
    """A failure on every path through the command is a blocker; one under an undecided branch
    (data, the environment, a library's answer) is reported, as minor."""
    return Severity.minor if event.maybe else None


def _key_text(key: tuple) -> str:
    return "cfg" + "".join(f".{k}" if isinstance(k, str) and k.isidentifier() else f"[{k!r}]" for k in key)


class ConfigKeyMissing(Rule):
    """Code reads a config key that the config it really has at that point does not hold.

    **What it does.** Follows every command of the pipeline (each run, each mode, the child
    processes main starts) through the code with the config Hydra composes for it, and through
    the code's own edits (`OmegaConf.merge/update/load/create`, `open_dict`, assignments), and
    reports each read that fails: a key that is not there (`ConfigAttributeError`), a `???` value
    (`MissingMandatoryValue`), an attribute read on the plain dict `to_container` returns, or
    one on a value that is a scalar (`cfg.run.run_id` while `cfg.run` is the run id string).
    Reads behind a test that settles it (`cfg.get`, `"k" in cfg`, `hasattr`, a branch the run's
    values do not take) or inside a `try` that catches the error are not failures. One finding per
    missing key and file, at its first failing read, naming the commands it fails on.

    **Why is this bad?** The run crashes at that read. The usual cause (seed_000 D-03): the run
    config is a config group without `# @package _global_`, so Hydra mounts it at `cfg.run`,
    while the code reads `cfg.model.*` at the root.

    **Example.** `defaults: [_self_, {run: ???}]`, config/run/x.yaml has `model:`, the code reads
    `cfg.model.name`.

    **Use instead.** `cfg.run.model.name`, or `# @package _global_` as the run file's first line.
    """

    code = "RA205"
    name = "config-key-missing"
    topic = "hydra"
    severity = Severity.blocker
    requirement = "hydra_run_configs"

    VALID = [
        Case(files={"src/main.py": _main("    with open_dict(cfg):\n        cfg.merge_with(OmegaConf.load(f'config/runs/{cfg.run}.yaml'))\n    print(cfg.model.name)\n",
                                         "from omegaconf import OmegaConf, open_dict\n"),
                    "config/config.yaml": "defaults:\n  - _self_\nrun: ???\nresults_dir: results\nmode: ???\n"}, runs={"r1": _RUN},
             note="the code merges its run file in place, unlocked: the keys it reads are there"),
        Case(files={"src/main.py": _main("    if cfg.run.dataset.name == 'cifar10':\n        print(cfg.run.dataset.normalization.mean)\n    print(cfg.run.model.name)\n"),
                    "config/config.yaml": _CONFIG}, runs={"r1": _RUN + "dataset:\n  name: sst2\n"}, spec=_SPEC,
             note="the cifar10 branch runs for no run: the key it reads is never read"),
        Case(files={"src/main.py": _main("    from omegaconf import OmegaConf\n    run_cfg = OmegaConf.load(f'config/runs/{cfg.run}.yaml')\n"
                                         "    OmegaConf.set_struct(cfg, False)\n    cfg = OmegaConf.merge(cfg, run_cfg)\n    print(cfg.model.name, cfg.training.epochs)\n"),
                    "config/config.yaml": "defaults:\n  - _self_\nrun: ???\nresults_dir: results\nmode: ???\n"}, runs={"r1": _RUN},
             note="run= is a plain string; the code loads config/runs/<run>.yaml itself and merges it into an unlocked config"),
        Case(files={"src/main.py": _main("    print(cfg.run.model.name, cfg.get('seed', 0))\n    if 'extra' in cfg:\n        print(cfg.extra.x)\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC),
        Case(files={"src/main.py": _main("    from omegaconf import OmegaConf\n    cfg = OmegaConf.merge(cfg, cfg.run)\n    print(cfg.model.name)\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC, note="merge flagged by RA207; reads resolve against the union"),
        Case(files={"src/main.py": _main("    build(cfg.run)\n", "from src.model import build\n"), "src/model.py": "def build(cfg):\n    return cfg.model.name\n", "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC),
    ]
    INVALID = [
        Case(files={"src/main.py": _main("    print(cfg.model.name)\n    print(cfg.model.name)\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=4),
        Case(files={"src/main.py": _main("    build(cfg)\n", "from src.model import build\n"), "src/model.py": "def build(cfg):\n    return cfg.model.name\n", "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC, path="src/model.py", line=2),
        Case(files={"src/main.py": _main("    print(cfg.run.training.batch_size)\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=4),
        Case(files={"src/main.py": _main("    print(cfg.run_id)\n    print(cfg.run.run_id)\n"), "config/config.yaml": "defaults:\n  - _self_\nrun: ???\nrun_id: x\nresults_dir: results\nmode: ???\n"},
             runs={"r1": _RUN}, path="src/main.py", line=5, note="`run=r1` is a plain string: it has no attribute run_id"),
        Case(files={"src/main.py": _main("    print(cfg.run.model.name, cfg.training.epochs)\n"), "config/config.yaml": "defaults:\n  - _self_\nresults_dir: results\nmode: full\n"},
             runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=4,
             note="`run=r1` fails (RA203: no run group in the defaults list); with `+run=r1` as meant, the run file is under cfg.run"),
    ]

    def check(self, ctx):
        rm = run_model(ctx)

        def failing(_i, run):
            return (r for r in run.trace.reads if r.status in ("missing", "mandatory", "attr-on-dict", "attr-on-scalar") and not r.caught and not r.speculative)

        seen: dict[tuple, int] = {}
        groups: list[list] = []
        for read, on in rm.grouped(failing):
            prefix = read.key if read.status != "missing" else read.key[: read.depth + 1]
            key = (read.path, read.status, prefix)
            if key in seen:
                group = groups[seen[key]]
                group[1] = sorted(set(group[1]) | set(on))
                group[2] += 1
                if (read.maybe, read.order) < (group[0].maybe, group[0].order):
                    group[0] = read  # point at the read that fails first, on every path when one does
                continue
            seen[key] = len(groups)
            groups.append([read, on, 0, prefix])
        for read, on, more, prefix in groups:
            shown = _key_text(prefix)
            also = f" ({more} more read{'s' if more > 1 else ''} of {shown} in this file)" if more else ""
            where = f"{_origin(read.origin)} for {rm.commands_text(on)}"
            if read.status == "mandatory":
                msg = f"{shown} is ??? (mandatory, never set) in {where}: MissingMandatoryValue at run time{also}"
            elif read.status == "attr-on-scalar":
                parent = _key_text(prefix[:-1])
                msg = (f"{shown}: {parent} is the {read.kind} {read.value!r} in {where}, not a config node, so reading .{prefix[-1]} "
                       f"raises AttributeError ({read.detail}){also}")
            elif read.status == "attr-on-dict":
                msg = f"{shown}: the config here is a plain dict (OmegaConf.to_container), so attribute access raises AttributeError: {read.detail}{also}"
            else:
                parent = _key_text(prefix[:-1])
                keys = f"keys of {parent}: {_short(read.siblings)}" if read.siblings else f"{parent} is empty"
                hint = ""
                if read.found_at:
                    hint = f"; it is at {_key_text((*read.found_at[0], *read.key[max(0, len(prefix) - 2):]))}"
                    if read.found_at[0][:1] in (("run",), ("runs",)):
                        hint += " (the run config is mounted there: no `# @package _global_`)"
                msg = f"{shown} is not in {where} ({keys}): ConfigAttributeError at run time{hint}{also}"
            if read.maybe:
                msg = f"{msg} ({SOME_PATHS})"
            yield self.hit(read.path, read.line, msg, column=read.col, on=on, severity=_severity(read))


# --------------------------------------------------------------------------- RA206


class StructConfigNewKey(Rule):
    """Code adds a new key to a config in struct mode (Hydra's config is).

    **What it does.** On every command of the pipeline (see RA205), reports each assignment
    (`cfg.x = ...`, `cfg["x"] = ...`, `OmegaConf.update(cfg, "a.b", v)`, `setattr`) that adds a key
    to a config node in struct mode: Hydra's config, and any node under it, unless the code
    opened it first (`with open_dict(cfg):`, `OmegaConf.set_struct(cfg, False)` earlier on that
    path, `force_add=True`) or works on a plain copy (`OmegaConf.create(OmegaConf.to_container(cfg))`).
    Order matters: an unlock after the write does not help it.

    **Why is this bad?** `ConfigAttributeError: Key 'training' is not in struct` (seed_002 D-02,
    main.py:21, trial mode only). The run crashes there.

    **Example.** `cfg.training = cfg.get("training", {})` when config.yaml has no `training`.

    **Use instead.** `with open_dict(cfg): cfg.training = {...}`, or define the key in config.yaml.
    """

    code = "RA206"
    name = "struct-config-new-key"
    topic = "hydra"
    severity = Severity.blocker
    requirement = "hydra_run_configs"

    VALID = [
        Case(files={"src/main.py": _main("    OmegaConf.update(cfg, 'training.epochs', 1, force_add=True)\n    print(cfg.training.epochs)\n", "from omegaconf import OmegaConf\n"),
                    "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC, note="force_add adds the key under struct mode"),
        Case(files={"src/main.py": _main("    cfg.wandb.mode = 'disabled'\n    with open_dict(cfg):\n        cfg.training = {}\n", "from omegaconf import open_dict\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC),
        Case(files={"src/main.py": _main("    cfg = OmegaConf.create(OmegaConf.to_container(cfg))\n    cfg.training = {}\n", "from omegaconf import OmegaConf\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC),
        Case(files={"src/main.py": _main("    OmegaConf.set_struct(cfg, False)\n    cfg.training = {}\n", "from omegaconf import OmegaConf\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC),
    ]
    INVALID = [
        Case(files={"src/main.py": _main("    cfg.training = {}\n    OmegaConf.set_struct(cfg, False)\n", "from omegaconf import OmegaConf\n"),
                    "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=5,
             note="unlocking after the write does not help it: order matters"),
        Case(files={"src/main.py": _main("    cfg.training = cfg.get('training', {})\n    cfg.training.epochs = 1\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=4),
        Case(files={"src/main.py": _main("    cfg.wandb.offline = True\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=4),
    ]

    def check(self, ctx):
        rm = run_model(ctx)

        def failing(_i, run):
            return (w for w in run.trace.writes if w.problem and not w.caught and not w.speculative)

        for write, on in rm.grouped(failing):
            shown = _key_text(write.key)
            yield self.hit(
                write.path, write.line,
                f"assigns new key {shown} on a struct config ({_origin(write.origin)}) on {rm.commands_text(on)}: "
                f"ConfigAttributeError '{write.problem}'; wrap it in `with open_dict(cfg):`" + (f" ({SOME_PATHS})" if write.maybe else ""),
                column=write.col, on=on, severity=_severity(write),
            )


# --------------------------------------------------------------------------- RA207


class MergeIntoStructConfig(Rule):
    """`OmegaConf.merge(cfg, other)` adds keys to a struct config (Hydra's config is).

    **What it does.** On every command of the pipeline (see RA205), merges exactly as the code
    does -- the run file it loads by path, a subtree like `cfg.run`, a dict literal -- with
    OmegaConf's rules, and reports a merge that brings keys the struct target lacks. The merge
    is then taken as done, so the reads after it are judged against the merged config (one
    crash, one finding).

    **Why is this bad?** Merging into a struct config cannot add keys: `ConfigKeyError: Key
    'run_id' is not in struct` (seed_002 D-03, train.py:282). The run crashes there.

    **Example.** `cfg = OmegaConf.merge(cfg, OmegaConf.load(f"config/runs/{cfg.run}.yaml"))`.

    **Use instead.** `OmegaConf.set_struct(cfg, False)` first, merge into a plain copy
    (`OmegaConf.merge(OmegaConf.to_container(cfg), run_cfg)`), or let Hydra compose the run config.
    """

    code = "RA207"
    name = "merge-into-struct-config"
    topic = "hydra"
    severity = Severity.blocker
    requirement = "hydra_run_configs"

    _CFG = "defaults:\n  - _self_\nrun: ???\nresults_dir: results\nmode: ???\n"
    VALID = [
        Case(files={"src/main.py": _main("    OmegaConf.set_struct(cfg, False)\n    cfg = OmegaConf.merge(cfg, OmegaConf.load(f'config/runs/{cfg.run}.yaml'))\n", "from omegaconf import OmegaConf\n"), "config/config.yaml": _CFG}, runs={"r1": _RUN}),
        Case(files={"src/main.py": _main("    cfg = OmegaConf.merge(cfg, {'mode': 'trial'})\n", "from omegaconf import OmegaConf\n"), "config/config.yaml": _CFG}, runs={"r1": _RUN}),
    ]
    INVALID = [
        Case(files={"src/main.py": _main("    run_cfg = OmegaConf.load(f'config/runs/{cfg.run}.yaml')\n    cfg = OmegaConf.merge(cfg, run_cfg)\n", "from omegaconf import OmegaConf\n"), "config/config.yaml": _CFG}, runs={"r1": _RUN}, path="src/main.py", line=6),
        Case(files={"src/main.py": _main("    flat = OmegaConf.merge(cfg, cfg.run)\n", "from omegaconf import OmegaConf\n"), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=5),
    ]

    def check(self, ctx):
        rm = run_model(ctx)

        def failing(_i, run):
            return (m for m in run.trace.merges if m.new_keys and not m.caught and not m.speculative)

        for merge, on in rm.grouped(failing):
            keys = [".".join(map(str, k)) for k in merge.new_keys]
            yield self.hit(
                merge.path, merge.line,
                f"merges keys the struct config lacks ({_short(keys)}) into {_origin(merge.origin)} on {rm.commands_text(on)}: "
                f"ConfigKeyError: Key '{keys[0]}' is not in struct" + (f" ({SOME_PATHS})" if merge.maybe else ""),
                column=merge.col, on=on, severity=_severity(merge),
            )


# --------------------------------------------------------------------------- RA208

_KEY_BEFORE = re.compile(r"(?:^|\s)(?P<key>[+~]{0,2}[A-Za-z_][\w.]*)=$")


class ConfigNodeInOverride(Rule):
    """A config node (a mapping) is formatted into a Hydra override string for a child process.

    **What it does.** Finds f-strings such as `f"run={cfg.run}"` in the command main builds for
    `python -m src.train`, where `cfg.run` composes to a mapping (a config group's node) for the
    runs, and checks the resulting text with Hydra's override parser.

    **Why is this bad?** `str()` of a DictConfig is a Python dict repr (`{'run_id': ...}`),
    which Hydra's override grammar rejects: the child dies with `OverrideParseException: no
    viable alternative at input '{'run_id''` (seed_000 D-02, main.py:21).

    **Example.** `subprocess.run([sys.executable, "-m", "src.train", f"run={cfg.run}"])` with
    `defaults: [{run: ???}]`.

    **Use instead.** Pass the run's name: `f"run={cfg.run.run_id}"` or
    `HydraConfig.get().runtime.choices.run`.
    """

    code = "RA208"
    name = "config-node-in-override"
    topic = "hydra"
    severity = Severity.blocker
    requirement = "hydra_run_configs"

    _SPAWN = '    import subprocess, sys\n    subprocess.run([sys.executable, "-m", "src.train", {arg}])\n'
    VALID = [Case(files={"src/main.py": _main(_SPAWN.replace("{arg}", 'f"run={cfg.run.run_id}"')), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC)]
    INVALID = [Case(files={"src/main.py": _main(_SPAWN.replace("{arg}", 'f"run={cfg.run}"')), "config/config.yaml": _CONFIG}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=5)]

    def check(self, ctx):
        from reviewer_audit.program.hydra_compose import parse_override

        rm = run_model(ctx)

        def into_launches(_i, run):
            passed = {a for launch in run.trace.launches for a in launch.argv if a}
            return (ev for ev in run.trace.formatted if ev.text and ev.text in passed and _KEY_BEFORE.search(ev.before))

        for ev, on in rm.grouped(into_launches):
            err = parse_override(ev.text)
            if err is None:
                continue
            text = _key_text(ev.key)
            keys = list(ev.data) if isinstance(ev.data, dict) else [f"[{len(ev.data)} items]"]
            yield self.hit(
                ev.path, ev.line,
                f"f\"{ev.before}{{{text}}}\" formats the whole config node {text} (a mapping with keys {_short(keys)}) into the override "
                f"passed to a child process on {rm.commands_text(on)}; Hydra rejects it: {err}",
                column=ev.col, on=on,
            )


# --------------------------------------------------------------------------- RA209


class ChildOverrideInvalid(Rule):
    """An override main passes to `python -m src.train` is rejected by Hydra.

    **What it does.** Collects the literal `key=value` tokens main builds for the training child
    (through lists, `+=`, dict constants and helpers) and checks each with Hydra: the override
    grammar, and -- by composing src.train's config with them for every run -- whether the key
    exists (Hydra requires `+key=value` to add a key).

    **Why is this bad?** Hydra stops the child before training starts: `Could not override
    'training.max_batches'. To append to your config use +training.max_batches=2`.

    **Example.** `overrides += ["training.max_batches=2"]` in trial mode while config.yaml has no
    `training.max_batches`.

    **Use instead.** Define the key in config.yaml (e.g. `max_batches: null`) or use `+key=value`.
    """

    code = "RA209"
    name = "child-override-invalid"
    topic = "hydra"
    severity = Severity.blocker
    requirement = "hydra_run_configs"

    _CFG = "defaults:\n  - _self_\n  - run: ???\nresults_dir: results\nmode: ???\ntraining:\n  max_batches: null\n"
    _SPAWN = '    import subprocess, sys\n    cmd = [sys.executable, "-m", "src.train", f"run={cfg.run.run_id}", f"mode={cfg.mode}"]\n    if cfg.mode == "trial":\n        cmd += [{tok}]\n    subprocess.run(cmd)\n'
    _TRAIN = _main("    print(cfg.training.max_batches)\n")
    VALID = [Case(files={"src/main.py": _main(_SPAWN.replace("{tok}", '"training.max_batches=2"')), "src/train.py": _TRAIN, "config/config.yaml": _CFG}, runs={"r1": _RUN}, spec=_SPEC)]
    INVALID = [
        Case(files={"src/main.py": _main(_SPAWN.replace("{tok}", '"training.max_steps=2"')), "src/train.py": _TRAIN, "config/config.yaml": _CFG}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=8),
        Case(files={"src/main.py": _main(_SPAWN.replace("{tok}", '"training.max_batches=[2"')), "src/train.py": _TRAIN, "config/config.yaml": _CFG}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=8),
    ]

    def check(self, ctx):
        from reviewer_audit.program.hydra_compose import parse_override

        rm = run_model(ctx)
        reported: set[tuple] = set()
        for i, run in enumerate(rm.runs):
            launch = run.launch
            if run.command.kind != "child" or launch is None:
                continue
            child = run.command.module[:-3].replace("/", ".")
            formatted = {ev.text for r in rm.runs for ev in r.trace.formatted if ev.text}
            for item in launch.argv:
                if not item or "=" not in item or item.startswith("-") or item in reported or item in formatted:
                    continue  # a config node formatted into the override is RA208's finding
                err = parse_override(item)
                rid = run.command.run_id
                if err and rid and rid in item and parse_override(item.replace(rid, "run")) is None:
                    # only the run id's own characters (spaces, parentheses) trip the grammar: the
                    # pipeline passes such ids quoted or renamed, as it does the prompt's command
                    continue
                if err:
                    reported.add(item)
                    yield self.hit(launch.path, launch.line, f"override `{item}` passed to {child} does not parse: {err}", column=launch.col,
                                   on=[j for j, r in enumerate(rm.runs) if r.launch is launch or (r.launch is not None and item in r.launch.argv)])
            if run.compose_kind != "override_missing_key":
                continue
            m = re.search(r"Could not override '([^']+)'", run.compose_error or "")
            if not m or m.group(1) in reported:
                continue
            key = m.group(1)
            item = next((a for a in launch.argv if a and a.split("=", 1)[0] == key), None)
            if item is None:
                continue  # not what the parent passes: the prompt's own command line (RA203)
            reported.add(key)
            yield self.hit(
                launch.path, launch.line,
                f"main passes `{item}` to {child}, but {key} is not in {child}'s composed config: Hydra stops with \"{run.compose_error}\" "
                f"(needs `+{key}=...` or the key in config.yaml)",
                column=launch.col, on=[j for j, r in enumerate(rm.runs) if r.command.module == run.command.module and r.compose_kind == "override_missing_key"],
            )


# --------------------------------------------------------------------------- RA210


class OptunaSearchSpaceUnused(Rule):
    """Optuna samples hyper-parameters into config keys that training never reads.

    **What it does.** Finds the loop over `optuna.search_space.items()` and where it stores each
    sampled value: `cfg.training[name] = ...` (under `training`), or a dict handed to a helper
    that splits dotted names and writes them from the config root. For every search-space key
    of the run configs it checks that the code reads the config key the value lands in.

    **Why is this bad?** The sampled value is written next to the setting training uses, not into
    it, so every Optuna trial trains with the same hyper-parameters and the search has no effect
    (seed_000 D-13: `learning_rate` is written to `cfg.learning_rate`, training reads
    `cfg.training.learning_rate`).

    **Example.** search_space `{learning_rate: ...}` applied with `cfg[name] = value`.

    **Use instead.** Name search-space keys by their config path (`training.learning_rate`) or
    write them where training reads them.
    """

    code = "RA210"
    name = "optuna-search-space-unused"
    topic = "config"
    severity = Severity.major
    requirement = "hydra_run_configs"

    _CFG = "defaults:\n  - _self_\nrun: ???\nresults_dir: results\nmode: ???\ntraining:\n  learning_rate: 0.001\n"
    _RUNSS = "run_id: r1\noptuna:\n  n_trials: {n}\n  search_space:\n    learning_rate:\n      type: loguniform\n"
    _TRAIN = _main(
        "    import optuna\n"
        "    from omegaconf import OmegaConf\n"
        "    cfg = OmegaConf.merge(OmegaConf.create(OmegaConf.to_container(cfg)), OmegaConf.load(f'config/runs/{cfg.run}.yaml'))\n"
        "    def objective(trial):\n"
        "        for name, space in cfg.optuna.search_space.items():\n"
        "            {dest}[name] = trial.suggest_float(name, 1e-5, 1e-1, log=True)\n"
        "        return float(cfg.training.learning_rate)\n"
        "    if cfg.optuna.n_trials > 0:\n"
        "        optuna.create_study().optimize(objective, n_trials=cfg.optuna.n_trials)\n"
    )
    VALID = [
        Case(files={"src/main.py": _TRAIN.replace("{dest}", "cfg.training"), "config/config.yaml": _CFG}, runs={"r1": _RUNSS.format(n=5)}),
        Case(files={"src/main.py": _TRAIN.replace("{dest}", "cfg"), "config/config.yaml": _CFG}, runs={"r1": _RUNSS.format(n=0)},
             note="no run searches (n_trials 0 everywhere): the objective never runs, so nothing is written to no effect"),
    ]
    INVALID = [Case(files={"src/main.py": _TRAIN.replace("{dest}", "cfg"), "config/config.yaml": _CFG}, runs={"r1": _RUNSS.format(n=5)}, path="src/main.py", line=9)]

    def check(self, ctx):
        rm = run_model(ctx)
        used = {read.key for run in rm.runs for read in run.trace.reads if read.access != "whole"}
        whole = {key for key in rm.whole_reads if key}  # the whole config handed on (`train(cfg)`) says nothing of one key

        def read_somewhere(key: tuple) -> bool:
            return any(key[: len(w)] == w for w in whole) or any(k[: len(key)] == key or key[: len(k)] == k and len(k) == len(key) for k in used)

        def sampled_writes(_i, run):
            return (w for w in run.trace.writes if w.sampled and not w.speculative)

        places: dict[tuple[str, int], list] = {}
        for write, on in rm.grouped(sampled_writes):
            if not read_somewhere(write.key):
                places.setdefault((write.path, write.line), []).append((write, on))
        for (path, line), writes in sorted(places.items()):
            shown = ", ".join(f"{w.sampled} -> {_key_text(w.key)}" for w, _on in writes[:6]) + (" ..." if len(writes) > 6 else "")
            on = sorted({i for _w, o in writes for i in o})
            yield self.hit(path, line, f"Optuna writes sampled values where no command reads them ({shown}): these search-space "
                           f"parameters have no effect on training (on {rm.commands_text(on)})", column=writes[0][0].col, on=on)



# --------------------------------------------------------------------------- RA211


def _override_keys(overrides) -> set[tuple]:
    return {tuple(o.split("=", 1)[0].lstrip("+~").split(".")) for o in overrides if "=" in o}


def _same_setting(a, b) -> bool:
    """`'Fashion-MNIST'` and `'fashion-mnist'` name the same thing to code that lower-cases it;
    `0.0002` and `'2e-4'` (YAML 1.1 reads a float without a dot as text) the same number."""
    if a == b or (isinstance(a, str) and isinstance(b, str) and a.casefold() == b.casefold()):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


class RunSettingShadowed(Rule):
    """Code reads a setting at the config root while the run's own config sets it under `cfg.run`.

    **What it does.** On every command of the pipeline (see RA205), looks at each scalar the code
    reads at the root of the config (`cfg.training.learning_rate`) when Hydra mounted the run's
    config group under its name (`run=<id>` selects config/run/<id>.yaml without
    `# @package _global_`, so its keys sit at `cfg.run.*`). When the run's config holds the same
    key with a different value (`cfg.run.training.learning_rate`), the read gets config.yaml's
    default, not the run's setting. Keys the code or the command line set before the read
    (`cfg.training.epochs = 1` in trial mode, `training.epochs=1` passed to a child) and merges of
    the run config into the root (`OmegaConf.merge(cfg, cfg.run)`) are followed, so they do not
    count.

    **Why is this bad?** Nothing crashes: the run silently trains with the default. Every run of
    the experiment then uses the same hyper-parameters, the proposed method's switches stay off,
    and an Optuna study the run config asks for never starts (`optuna.n_trials: 0` at the root).

    **Example.** config.yaml `training: {adaptation: false}`, config/run/proposed.yaml
    `training: {adaptation: true}`, code `if cfg.training.adaptation:`.

    **Use instead.** Read `cfg.run.training.adaptation`, merge the run into the root
    (`cfg = OmegaConf.merge(cfg, cfg.run)` on an unlocked config), or put `# @package _global_` at
    the top of each run file.
    """

    code = "RA211"
    name = "run-setting-shadowed"
    topic = "config"
    severity = Severity.major
    requirement = "hydra_run_configs"

    _CFG = _CONFIG + "training:\n  epochs: 10\n  adaptation: false\n"
    _RUN2 = "run_id: r1\ntraining:\n  epochs: 3\n  adaptation: true\n"
    VALID = [
        Case(files={"src/main.py": _main("    print(cfg.run.training.epochs, cfg.run.training.adaptation)\n"), "config/config.yaml": _CFG},
             runs={"r1": _RUN2}, spec=_SPEC, note="the code reads the run's own settings"),
        Case(files={"src/main.py": _main("    from omegaconf import OmegaConf\n    OmegaConf.set_struct(cfg, False)\n    cfg = OmegaConf.merge(cfg, cfg.run)\n    print(cfg.training.epochs)\n"),
                    "config/config.yaml": _CFG}, runs={"r1": _RUN2}, spec=_SPEC, note="the run config is merged into the root first"),
        Case(files={"src/main.py": _main("    print(cfg.training.epochs)\n"), "config/config.yaml": _CFG},
             runs={"r1": "# @package _global_\nrun_id: r1\ntraining:\n  epochs: 3\n  adaptation: true\n"}, spec=_SPEC,
             note="a `_global_` run file overrides the root's keys: the read gets the run's value"),
        Case(files={"src/main.py": _main("    if cfg.mode == 'trial':\n        cfg.training.epochs = 1\n    else:\n        cfg.training.epochs = cfg.run.training.epochs\n    print(cfg.training.epochs)\n"),
                    "config/config.yaml": _CFG}, runs={"r1": _RUN2}, spec=_SPEC, note="the code sets the root key before it reads it"),
    ]
    INVALID = [
        Case(files={"src/main.py": _main("    epochs = cfg.run.training.epochs\n    if cfg.training.adaptation:\n        print('adapting', epochs)\n"), "config/config.yaml": _CFG},
             runs={"r1": _RUN2}, spec=_SPEC, path="src/main.py", line=5),
    ]

    def check(self, ctx):
        rm = run_model(ctx)

        def shadowed(_i, run):
            cli = _override_keys(run.command.overrides)
            written = run.trace.writes
            for read in run.trace.reads:
                if read.shadowed is None or read.speculative or read.caught or read.after_crash is not None or _same_setting(read.value, read.shadowed[1]):
                    continue
                if any(read.key[: len(k)] == k for k in cli) or any(w.key == read.key[: len(w.key)] and w.order < read.order for w in written):
                    continue
                yield read

        groups: dict[tuple, list] = {}
        for read, on in rm.grouped(shadowed):
            group = groups.setdefault((read.path, read.key), [read, set(), 0])
            group[1].update(on)
            group[2] += group[0] is not read
            if (read.maybe, read.order) < (group[0].maybe, group[0].order):
                group[0] = read
        for (_path, key), (read, on, more) in groups.items():
            on = sorted(on)
            run_key, run_value = read.shadowed
            also = f" ({more} more read{'s' if more > 1 else ''} in this file)" if more else ""
            msg = (f"{_key_text(key)} reads config.yaml's default {read.value!r}, but the run's config sets {_key_text(run_key)} = {run_value!r} "
                   f"(Hydra mounts the run file at {_key_text(run_key[: len(run_key) - len(key)])}): the run gets the default, not its own setting, "
                   f"on {rm.commands_text(on)}{also}")
            if read.origin.startswith("hydra, "):
                msg = f"{msg} (in {_origin(read.origin)})"  # the config only composes as the author meant it
            if read.maybe:
                msg = f"{msg} ({SOME_PATHS})"
            yield self.hit(read.path, read.line, msg, column=read.col, on=on, severity=_severity(read))


# --------------------------------------------------------------------------- RA212


def _shown_value(write) -> str:
    if write.sampled:
        return f"the last trial's sampled {write.sampled!r}"
    if write.value is None or isinstance(write.value, (dict, list)) or repr(write.value) == "UNKNOWN":
        return "the last trial's value"
    return f"the last trial's value {write.value!r}"


class ObjectiveMutatesSharedConfig(Rule):
    """An Optuna objective changes the run's config in place and nothing restores it.

    **What it does.** On every command of the pipeline (see RA205), follows the function handed
    to `study.optimize(...)` and finds its writes to a config object that existed before the study
    started: the run's own `cfg`, not a copy the objective makes (`OmegaConf.create(...)`,
    `copy.deepcopy(cfg)`). It reports a write when, after the study, the code reads that key from
    the same object and nothing in between set it again: not the objective restoring it, not
    `cfg.training[k] = v` over `study.best_params`, not a merge.

    **Why is this bad?** The study leaves the config as the last trial set it. The final training
    after it then runs with the last trial's hyper-parameters instead of the best ones, or with the
    shortened schedule or disabled logging the objective set for its trials.

    **Example.** `def objective(trial): cfg.training.lr = trial.suggest_float(...); cfg.wandb.mode
    = "disabled"; return train(cfg)`, then `study.optimize(objective)` and `train(cfg)`.

    **Use instead.** Work on a copy in the objective (`trial_cfg = copy.deepcopy(cfg)`) and apply
    `study.best_params` to `cfg` before the final training.
    """

    code = "RA212"
    name = "optuna-objective-mutates-config"
    topic = "config"
    severity = Severity.major
    requirement = None

    _CFG = _CONFIG + "training:\n  lr: 0.001\n  epochs: 10\n"
    _BODY = (
        "    import optuna\n"
        "    def objective(trial):\n"
        "{objective}"
        "        return float(cfg.training.lr)\n"
        "    study = optuna.create_study()\n"
        "    study.optimize(objective, n_trials=5)\n"
        "{after}"
        "    print(cfg.training.epochs, cfg.training.lr)\n"
    )
    _LEAK = "        cfg.training.epochs = 1\n"
    VALID = [
        Case(files={"src/main.py": _main(_BODY.format(objective="        import copy\n        cfg_t = copy.deepcopy(cfg)\n        cfg_t.training.epochs = 1\n", after="")),
                    "config/config.yaml": _CFG}, runs={"r1": _RUN}, spec=_SPEC, note="the objective changes its own copy"),
        Case(files={"src/main.py": _main(_BODY.format(objective="        old = cfg.training.epochs\n" + _LEAK + "        cfg.training.epochs = old\n", after="")),
                    "config/config.yaml": _CFG}, runs={"r1": _RUN}, spec=_SPEC, note="the objective restores what it changed"),
        Case(files={"src/main.py": _main(_BODY.format(objective="        cfg.training.lr = trial.suggest_float('lr', 1e-5, 1e-1)\n",
                                                      after="    for k, v in study.best_params.items():\n        cfg.training[k] = v\n")),
                    "config/config.yaml": _CFG}, runs={"r1": _RUN}, spec=_SPEC, note="the best parameters are written back before the final run"),
    ]
    INVALID = [
        Case(files={"src/main.py": _main(_BODY.format(objective=_LEAK, after="")), "config/config.yaml": _CFG}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=6),
        Case(files={"src/main.py": _main(_BODY.format(objective="        cfg.training.lr = trial.suggest_float('lr', 1e-5, 1e-1)\n", after="")),
                    "config/config.yaml": _CFG}, runs={"r1": _RUN}, spec=_SPEC, path="src/main.py", line=6, note="the final run trains with the last trial's sampled lr"),
    ]

    def check(self, ctx):
        rm = run_model(ctx)
        later_read: dict[tuple, object] = {}

        def leaks(_i, run):
            t = run.trace
            for cb in t.callbacks:
                if not cb.via.endswith("optimize") or cb.speculative:
                    continue
                last: dict[tuple, object] = {}
                first: dict[tuple, object] = {}
                for w in t.writes:
                    if cb.start < w.seq <= cb.end and t.born.get(w.obj, 0) <= cb.start and not w.speculative:
                        last[(w.obj, w.key)] = w
                        first.setdefault((w.obj, w.key), w)
                for (obj, key), w in last.items():
                    before = [r.value for r in t.reads if r.obj == obj and r.key == key and r.status == "ok" and r.seq < first[(obj, key)].seq]
                    if before and not w.sampled and w.value == before[-1]:
                        continue  # the objective puts back the value it found
                    read = next((r for r in t.reads if r.obj == w.obj and r.seq > cb.end and r.key[: len(w.key)] == w.key and r.access != "whole"
                                 and not self._restored(t, w, r)), None)
                    if read is not None:
                        later_read.setdefault((w.path, w.line, w.col), (read, cb))
                        yield w

        for write, on in rm.grouped(leaks):
            read, cb = later_read[(write.path, write.line, write.col)]
            yield self.hit(
                write.path, write.line,
                f"the Optuna objective `{cb.func}` ({cb.via} at {cb.path}:{cb.line}) sets {_key_text(write.key)} on the run's own config and "
                f"nothing restores it: after the study, {read.path}:{read.line} reads {_shown_value(write)} instead of the run's setting "
                f"(on {rm.commands_text(on)})",
                column=write.col, on=on,
                related=[Related(label=f"reads {_key_text(read.key)} after the study", path=read.path, line=read.line)])

    @staticmethod
    def _restored(trace, write, read) -> bool:
        """Something sets the key again between the objective's write and the read."""
        def covers(key: tuple) -> bool:
            return write.key[: len(key)] == key or key[: len(write.key)] == write.key

        if any(w.obj == write.obj and w is not write and not w.sampled and write.seq < w.seq < read.seq and covers(w.key) for w in trace.writes):
            return True
        if any(m.obj == write.obj and write.seq < m.seq < read.seq for m in trace.merges):
            return True
        return any(obj == write.obj and write.seq < seq < read.seq and write.key[: len(path)] == path for obj, path, seq in trace.opaque_writes)


# --------------------------------------------------------------------------- RA213


class RunIdsNotListed(Rule):
    """config/config.yaml does not list every run_id, though the prompt asks it to.

    **What it does.** When the prompt's file list says "config/config.yaml contains list of all
    experiment run_ids", reports the run ids of the pipeline's run configs that config.yaml's
    text never spells (in a list, as keys or in a comment-free value).

    **Why is this bad?** The run list is how the pipeline and a reader see which experiments
    the code is meant to run; a config.yaml that names only a default run leaves the others to
    be guessed.

    **Example.** `defaults: [{run: proposed-x}, _self_]` and nothing else naming runs, with four
    run configs.

    **Use instead.** `run_ids: [proposed-x, comparative-1-x, ...]` in config.yaml.
    """

    code = "RA213"
    name = "run-ids-not-listed"
    topic = "config"
    severity = Severity.major
    requirement = "config_lists_run_ids"

    _LISTED = "defaults:\n  - _self_\n  - run: ???\nrun_ids: [r1, r2]\nresults_dir: results\n"
    _ASKED = {**_SPEC, "requirements": {"config_lists_run_ids": [7]}}
    VALID = [Case(files={"config/config.yaml": _LISTED}, runs={"r1": _RUN, "r2": _RUN.replace("r1", "r2")}, spec=_ASKED)]
    INVALID = [Case(files={"config/config.yaml": "defaults:\n  - _self_\n  - run: r1\nresults_dir: results\n"},
                    runs={"r1": _RUN, "r2": _RUN.replace("r1", "r2")}, spec=_ASKED, path="config/config.yaml", line=3)]

    def check(self, ctx):
        f = ctx.bundle.files.get("config/config.yaml")
        ids = hydra_model(ctx).run_ids
        if f is None or not f.text.strip() or len(ids) < 2:
            return
        text = "\n".join(line.split("#", 1)[0] for line in f.text.splitlines())
        missing = [r for r in ids if r not in text]
        if not missing:
            return
        listed = len(ids) - len(missing)
        line = next((i for i, t in enumerate(f.text.splitlines(), 1) if re.match(r"\s*-?\s*runs?\s*:", t)), 1)
        yield self.hit("config/config.yaml", line,
                       f"config/config.yaml lists {listed} of the {len(ids)} run_ids; the prompt asks it to list them all (missing: {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''})")


# --------------------------------------------------------------------------- RA214

_ABSENT = object()


def _scalar_leaves(doc) -> dict[tuple, object]:
    """Key path -> value of every bool/number leaf of a run config (strings name things; lists
    and nulls set nothing one run could differ in)."""
    return {k: v for k, v in doc.leaves() if isinstance(v, (bool, int, float))}


def _code_unwritten(ctx) -> bool:
    """Some required module is missing, empty, without a call, or does not parse: what the code
    reads or runs cannot be known from what is there (the file-set and syntax rules report it)."""
    required = [p for p in ctx.spec.required_files if p.endswith(".py")]
    return not ctx.modules or bool(ctx.syntax_problems) or any(p not in ctx.modules or not ctx.modules[p].calls for p in required)


def _spelled(name: str, vocabulary: frozenset[str]) -> bool:
    """Some module spells the key's name, whole or as the fixed part of a formatted name
    (`f"disable_{part}"` spells every `disable_*`)."""
    if name in vocabulary:
        return True
    return any(len(w) > 2 and ((w.endswith("_") and name.startswith(w)) or (w.startswith("_") and name.endswith(w))) for w in vocabulary)


class RunSettingNeverRead(Rule):
    """A setting in which the runs differ is read by no code.

    **What it does.** Compares the run configs the prompt provides, key by key, for bool and
    number settings that differ between runs (or that only some runs set). It reports a setting
    when no module of the bundle spells its name (as an attribute, a subscript or `get` key, or a
    formatted name) and no command of the pipeline hands a config node holding it to a library
    or a helper whole (`**cfg.model`, `Trainer(cfg.training)`).

    **Why is this bad?** What distinguishes the runs never reaches the code: an ablation whose
    switch is never read trains the full method, and a baseline whose settings are ignored is not
    the baseline the experiment describes. The comparison the runs exist for is then void.

    **Example.** `comparative-1.yaml` sets `method.confidence_weighting: false`, the proposed run
    `true`, and no code reads `confidence_weighting`: both runs train the same model.

    **Use instead.** Read the setting where the method branches (`if cfg.method.confidence_weighting:`),
    or remove it from the run configs.
    """

    code = "RA214"
    name = "run-setting-never-read"
    topic = "config"
    severity = Severity.major
    requirement = "hydra_run_configs"
    about_execution = False  # what the runs set against what any code can read: no one line runs it

    _CODE = _main("    print(cfg.run.training.epochs, cfg.run.model.name{extra})\n")
    #: the other required modules, written (a module still to be written could read anything)
    _OTHERS = {f"src/{m}.py": "def run():\n    print('ok')\n" for m in ("train", "evaluate", "preprocess", "model")}
    _R1 = "run_id: r1\nmodel:\n  name: bert-tiny\n  gating: true\ntraining:\n  epochs: 3\n"
    _R2 = "run_id: r2\nmodel:\n  name: bert-tiny\n  gating: false\ntraining:\n  epochs: 3\n"
    VALID = [
        Case(files={**_OTHERS, "src/main.py": _CODE.format(extra=", cfg.run.model.gating"), "config/config.yaml": _CONFIG}, runs={"r1": _R1, "r2": _R2}, spec=_SPEC),
        Case(files={**_OTHERS, "src/main.py": _CODE.format(extra=", cfg.run.model['gating']"), "config/config.yaml": _CONFIG}, runs={"r1": _R1, "r2": _R2}, spec=_SPEC),
        Case(files={**_OTHERS, "src/main.py": _main("    import transformers\n    print(cfg.run.training.epochs)\n    transformers.AutoConfig.from_pretrained('x', **cfg.run.model)\n"),
                    "config/config.yaml": _CONFIG}, runs={"r1": _R1, "r2": _R2}, spec=_SPEC, note="the model node is handed to a library whole"),
        Case(files={**_OTHERS, "src/main.py": _CODE.format(extra=""), "config/config.yaml": _CONFIG}, runs={"r1": _R1, "r2": _R1.replace("r1", "r2")}, spec=_SPEC,
             note="runs that do not differ in the setting"),
        Case(files={"src/main.py": _CODE.format(extra=""), "config/config.yaml": _CONFIG}, runs={"r1": _R1, "r2": _R2}, spec=_SPEC,
             note="train.py and the others are still missing: they could read it"),
    ]
    INVALID = [
        Case(files={**_OTHERS, "src/main.py": _CODE.format(extra=""), "config/config.yaml": _CONFIG}, runs={"r1": _R1, "r2": _R2}, spec=_SPEC,
             path="config/run/r1.yaml", line=4),
    ]

    def check(self, ctx):
        runs = [r for r in ctx.run_files if r.doc is not None and isinstance(r.doc.data, dict)]
        if len(runs) < 2 or _code_unwritten(ctx):
            return
        vocabulary = frozenset().union(*(m.vocabulary for m in ctx.modules.values()))
        whole = run_model(ctx).whole_reads

        def handed_whole(key: tuple) -> bool:
            # a node handed on whole, under whatever mount: its last keys are a prefix of `key`
            return any(not w or any(w[-j:] == key[:j] for j in range(1, min(len(w), len(key)) + 1)) for w in whole)

        leaves = [_scalar_leaves(r.doc) for r in runs]
        for key in sorted(set().union(*leaves)):
            values = [lv.get(key, _ABSENT) for lv in leaves]
            if len({repr(v) for v in values}) < 2 or key[-1].isdigit() or _spelled(key[-1], vocabulary) or handed_whole(key):
                continue
            setting = [(r, v) for r, v in zip(runs, values) if v is not _ABSENT]
            first = setting[0][0]
            dotted = ".".join(key)
            shown = "; ".join(f"{r.run_id}: {'not set' if v is _ABSENT else _yaml_scalar(v)}" for r, v in zip(runs[:4], values[:4])) + (" …" if len(runs) > 4 else "")
            differ = len({repr(v) for _r, v in setting}) >= 2  # two runs set different values, not one run a value the others lack
            yield self.hit(
                first.path, first.doc.line_of(dotted),
                f"the runs {'set' if differ else 'differ in'} {dotted} {'differently ' if differ else ''}({shown}), but no code reads "
                f"`{key[-1]}`: {'these runs do not differ in it' if differ else 'the runs that set it run as if it were not set'}",
                severity=None if differ else Severity.minor,
                related=[Related(label=f"{r.run_id} sets it", path=r.path, line=r.doc.line_of(dotted)) for r, _v in setting[1:4]],
            )


def _yaml_scalar(v) -> str:
    return "true" if v is True else "false" if v is False else repr(v)


# --------------------------------------------------------------------------- RA215


class OptunaTrialsNeverRun(Rule):
    """The runs ask for Optuna trials, but no code runs an Optuna study.

    **What it does.** Reads `optuna.n_trials` in the run configs the prompt provides; when some run
    asks for trials, looks for a study in the whole bundle (`optuna.create_study(...)`, a
    `.optimize(...)`). With none, the finding is major when no module even spells `n_trials` (the
    search is ignored), minor when the code handles `n_trials` (a search loop of its own, or only
    the trial-mode override).

    **Why is this bad?** The experiment design tunes each method with Optuna (`n_trials: 30`, a
    search space); without a study every run trains with its defaults, so the methods are
    compared untuned, and the search space in the run configs is dead configuration.

    **Example.** Run configs with `optuna: {n_trials: 30, search_space: {...}}` and a train.py
    that never imports optuna.

    **Use instead.** `study = optuna.create_study(direction=...)`, `study.optimize(objective,
    n_trials=cfg.optuna.n_trials)` in full mode, and train the final model with
    `study.best_params`.
    """

    code = "RA215"
    name = "optuna-trials-never-run"
    topic = "config"
    severity = Severity.major
    requirement = None
    about_execution = False  # what the runs ask for against what any code can do

    _R1 = "run_id: r1\ntraining:\n  lr: 0.001\noptuna:\n  n_trials: 30\n  search_space:\n    lr: {low: 0.0001, high: 0.01}\n"
    _OTHERS = {f"src/{m}.py": "def run():\n    print('ok')\n" for m in ("evaluate", "preprocess", "model", "main")}
    _STUDY = ("import optuna\n\ndef train(cfg):\n    study = optuna.create_study()\n"
              "    study.optimize(lambda t: t.suggest_float('lr', 1e-4, 1e-2), n_trials=cfg.optuna.n_trials)\n")
    VALID = [
        Case(files={**_OTHERS, "src/train.py": _STUDY, "config/config.yaml": _CONFIG}, runs={"r1": _R1}, spec=_SPEC),
        Case(files={**_OTHERS, "src/train.py": "def train(cfg):\n    print(cfg.training.lr)\n", "config/config.yaml": _CONFIG},
             runs={"r1": _R1.replace("n_trials: 30", "n_trials: 0")}, spec=_SPEC, note="no run asks for trials"),
    ]
    INVALID = [
        Case(files={**_OTHERS, "src/train.py": "def train(cfg):\n    print(cfg.training.lr)\n", "config/config.yaml": _CONFIG},
             runs={"r1": _R1}, spec=_SPEC, path="config/run/r1.yaml", line=5),
        Case(files={**_OTHERS, "src/train.py": "import random\n\ndef train(cfg):\n    for _ in range(cfg.optuna.n_trials):\n        print(random.random())\n",
                    "config/config.yaml": _CONFIG}, runs={"r1": _R1}, spec=_SPEC, path="config/run/r1.yaml", line=5, severity="minor",
             note="a search loop of the code's own: n_trials is read, but no Optuna study runs"),
    ]

    def check(self, ctx):
        asking = []
        for run in ctx.run_files:
            optuna = run.doc.data.get("optuna") if run.doc is not None and isinstance(run.doc.data, dict) else None
            n = optuna.get("n_trials") if isinstance(optuna, dict) else None
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                asking.append((run, n))
        if not asking or _code_unwritten(ctx):
            return
        if any(c.resolved and (c.resolved.startswith("optuna.") or c.method == "optimize") for m in ctx.modules.values() for c in m.calls):
            return
        read = any("n_trials" in m.vocabulary for m in ctx.modules.values())
        run, _n = asking[0]
        shown = "; ".join(f"{r.run_id}: {n}" for r, n in asking[:3]) + (" …" if len(asking) > 3 else "")
        what = ("n_trials appears in the code, but no study uses it" if read
                else "no code reads n_trials: the hyper-parameter search never happens")
        yield self.hit(run.path, run.doc.line_of("optuna.n_trials"),
                       f"the runs ask for Optuna trials ({shown}), but no code creates an Optuna study; {what}",
                       severity=Severity.minor if read else None,
                       related=[Related(label=f"{r.run_id} asks for {n} trials", path=r.path, line=r.doc.line_of("optuna.n_trials")) for r, n in asking[1:3]])
