"""Evaluation-script rules (RA8xx): evaluate.py's command line, its WandB API use, its outputs,
and the independence of evaluation from main.py/train.py.

Shared facts (history/summary reads, argparse/Hydra command-line model, file-name templates,
summary copies and where they are dumped) come from `reviewer_audit.program.wandb_model`.
"""
from __future__ import annotations

import ast
import re

import libcst as cst

from reviewer_audit.engine import Case, Rule
from reviewer_audit.rules._library import library_of
from reviewer_audit.program.facts import FunctionFact, fstring_template, literal_string
from reviewer_audit.engine.findings import Related, Severity
from reviewer_audit.program.wandb_model import basename, cli_model, knowledge_entry, resolved_figures, saved_figures, summary_copies, wandb_model

# ----------------------------------------------------------------------------- case material

_EVAL_GOOD = '''import json
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import wandb
from scipy import stats


def parse_cli(argv):
    kv = dict(a.split("=", 1) for a in argv[1:])
    return Path(kv["results_dir"]), json.loads(kv["run_ids"])


def main():
    results_dir, run_ids = parse_cli(sys.argv)
    api = wandb.Api()
    accs = {}
    for rid in run_ids:
        run = api.run(f"e/p/{rid}")
        history = run.history()
        summary = run.summary._json_dict
        out = results_dir / rid
        with open(out / "metrics.json", "w") as f:
            json.dump(summary, f)
        plt.plot(history["val_acc"])
        plt.savefig(out / f"{rid}_learning_curve.pdf")
        accs[rid] = summary["best_val_acc"]
    base, prop = list(accs.values())[:2]
    improvement = (prop - base) / base
    p_value = stats.ttest_ind([base], [prop]).pvalue
    with open(results_dir / "comparison" / "aggregated_metrics.json", "w") as f:
        json.dump({"accs": accs, "improvement": improvement, "p": p_value}, f)
    plt.savefig(results_dir / "comparison" / "comparison_accuracy_bar_chart.pdf")


if __name__ == "__main__":
    main()
'''

_ARGPARSE_POSITIONAL = '''import argparse
import json


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results_dir", type=str)
    parser.add_argument("run_ids", type=str)
    args = parser.parse_args()
    run_ids = json.loads(args.run_ids)
'''


def _is_stub(facts) -> bool:
    """Empty or placeholder module: the completeness rules report it, not these."""
    return facts is None or not facts.calls


def _evaluate_arg_names(spec) -> list[str]:
    names: list[str] = []
    for form in spec.cli_for("src.evaluate"):
        for n in form.arg_names:
            if n not in names:
                names.append(n)
    return names or ["results_dir", "run_ids"]


class EvaluateCliFormRule(Rule):
    """evaluate.py cannot parse the prompt's `results_dir=... run_ids='[...]'` command line.

    **What it does.** Reads the evaluation command from the prompt
    (`python -m src.evaluate results_dir={path} run_ids='[...]'`, or `results_dir={path}` alone in
    older prompts: the form is the same, `key=value`) and checks how evaluate.py
    parses it. Accepted: `key=value` items read from `sys.argv` (split on "="), Hydra
    (`@hydra.main`, `OmegaConf.from_cli`), argparse plus such a manual split. Reported:
    argparse positionals (they receive the literal text `run_ids=[...]`, so
    `json.loads(args.run_ids)` raises JSONDecodeError) and argparse `--options` only (argparse
    exits with "unrecognized arguments: results_dir=..."). With Hydra, an argument that is not a
    key of config.yaml is rejected ("Could not override 'run_ids'").

    **Why is this bad?** The evaluation step is run exactly with the prompt's command; evaluate.py
    crashes before producing any output (seed_000 D-15, seed_002 D-14).

    **Example.** `parser.add_argument("results_dir")` and `parser.add_argument("run_ids")`.

    **Use instead.** Parse `sys.argv[1:]` as `key=value` pairs, then `json.loads(kv["run_ids"])`.
    """

    code = "RA801"
    name = "evaluate-cli-form"
    topic = "evaluate"
    severity = Severity.blocker
    requirement = "evaluate_key_value"
    needs = ("evaluate",)

    VALID = [
        Case(files={"src/evaluate.py": _EVAL_GOOD}),
        Case(files={"src/evaluate.py": (
            "import argparse, json, sys\n\ndef main():\n    argv = [a if a.startswith('--') else '--' + a for a in sys.argv[1:]]\n"
            "    p = argparse.ArgumentParser()\n    p.add_argument('--results_dir')\n    p.add_argument('--run_ids')\n"
            "    args = p.parse_args([x.replace('=', ' ', 1) for x in argv])\n    return json.loads(args.run_ids)\n"
        )}, note="argv rewritten before argparse"),
        Case(files={"src/evaluate.py": (
            "import argparse, json\n\ndef main():\n    p = argparse.ArgumentParser()\n    p.add_argument('overrides', nargs='*')\n"
            "    kv = dict(o.split('=', 1) for o in p.parse_args().overrides)\n    return kv['results_dir'], json.loads(kv['run_ids'])\n"
        )}, note="argparse catch-all positional split on '='"),
        Case(files={
            "src/evaluate.py": "import hydra\n\n@hydra.main(config_path='../config', config_name='config', version_base=None)\ndef main(cfg):\n    print(cfg.results_dir, list(cfg.run_ids))\n",
            "config/config.yaml": "results_dir: results\nrun_ids: []\n",
        }),
    ]
    INVALID = [
        Case(files={"src/evaluate.py": _ARGPARSE_POSITIONAL}, path="src/evaluate.py", line=7),
        Case(files={"src/evaluate.py": (
            "import argparse, json\n\ndef main():\n    p = argparse.ArgumentParser()\n    p.add_argument('--results_dir', required=True)\n"
            "    p.add_argument('--run_ids', required=True)\n    a = p.parse_args()\n    return json.loads(a.run_ids)\n"
        )}, path="src/evaluate.py", line=5),
        Case(files={
            "src/evaluate.py": "import hydra\n\n@hydra.main(config_path='../config', config_name='config', version_base=None)\ndef main(cfg):\n    print(cfg.results_dir, cfg.run_ids)\n",
            "config/config.yaml": "results_dir: results\n",
        }, path="src/evaluate.py", line=4),
    ]

    def check(self, ctx):
        ev = ctx.module("evaluate")
        if _is_stub(ev):
            return
        cli = cli_model(ev)
        names = _evaluate_arg_names(ctx.spec)
        shown = " ".join(f"{n}=..." for n in names)
        if cli.hydra is not None:
            yield from self._check_hydra(ctx, ev, cli, names)
            return
        if cli.accepts_key_value or not cli.argparse:
            return
        positionals = [a for a in cli.argparse if a.positional]
        if positionals and all(a.nargs is None for a in positionals):
            first = positionals[0]
            dests = ", ".join(a.dest for a in positionals)
            crash = " and json.loads('run_ids=[...]') raises JSONDecodeError" if ev.calls_to("json.loads") and any(a.dest == "run_ids" for a in positionals) else ""
            yield self.hit(
                ev.path, first.call.pos,
                f"argparse positionals ({dests}) receive the literal text of `{shown}`: args.{first.dest} == '{first.dest}=...'{crash}",
            )
            return
        if positionals:  # nargs="*" / "+" / REMAINDER positionals with no key=value split
            first = positionals[0]
            yield self.hit(ev.path, first.call.pos, f"argparse positional '{first.dest}' (nargs={first.nargs}) collects `{shown}` as raw strings and nothing splits them on '='")
            return
        first = cli.argparse[0]
        opts = ", ".join(n for a in cli.argparse for n in a.names[:1])
        if cli.parse_known:
            msg = f"argparse only defines options ({opts}); parse_known_args() ignores `{shown}` and the options stay unset"
        else:
            msg = f"argparse only defines options ({opts}); `{shown}` is rejected with 'unrecognized arguments'"
        yield self.hit(ev.path, first.call.pos, msg)

    def _check_hydra(self, ctx, ev, cli, names):
        if not isinstance(cli.hydra, FunctionFact) or cli.hydra_config_name not in ("config", "config.yaml"):
            return
        doc = ctx.config_doc
        if doc is None or not isinstance(doc.data, dict):
            return
        defaults = doc.data.get("defaults") or []
        if any(isinstance(d, dict) and any(v is not None for v in d.values()) for d in defaults):
            return  # another config group may define the keys
        missing = [n for n in names if n not in doc.data]
        if missing:
            yield self.hit(
                ev.path, cli.hydra.pos,
                f"evaluate.py uses @hydra.main, but config/config.yaml has no {', '.join(missing)}: Hydra rejects `{missing[0]}=...` (\"Could not override '{missing[0]}'\"; it would need `+{missing[0]}=`)",
                related=[Related(label="config.yaml", path="config/config.yaml", line=1)],
            )


class RunIdsNotJsonRule(Rule):
    """evaluate.py does not parse run_ids with json.loads.

    **What it does.** Looks for `json.loads(...)` in evaluate.py. `ast.literal_eval`,
    `yaml.safe_load` or a Hydra list parse the same value (minor); anything else (a comma split,
    the raw string) is major.

    **Why is this bad?** The prompt passes `run_ids='["run-1", "run-2"]'` and says to parse it
    with `json.loads(args.run_ids)`. Splitting the JSON text on commas yields ids like `["run-1"`
    that do not exist in WandB.

    **Example.** `run_ids = args.run_ids.split(",")`.

    **Use instead.** `run_ids = json.loads(args.run_ids)`.
    """

    code = "RA802"
    name = "evaluate-run-ids-not-json"
    topic = "evaluate"
    severity = Severity.major
    requirement = "evaluate_json_loads"
    needs = ("evaluate",)

    VALID = [Case(files={"src/evaluate.py": _ARGPARSE_POSITIONAL}), Case(files={"src/evaluate.py": _EVAL_GOOD})]
    INVALID = [
        Case(files={"src/evaluate.py": "import sys\n\ndef main():\n    kv = dict(a.split('=', 1) for a in sys.argv[1:])\n    run_ids = kv['run_ids'].strip('[]').split(',')\n"}, path="src/evaluate.py", line=5),
    ]

    def check(self, ctx):
        ev = ctx.module("evaluate")
        if _is_stub(ev) or any(ev.calls_to("json.loads")):
            return
        line = next((i for i, text in enumerate(ev.lines, 1) if "run_ids" in text and not text.lstrip().startswith("#") and "add_argument" not in text), None)
        if line is None:
            return  # evaluate.py never handles run_ids at all: the CLI rule (RA801) is the one to report
        alt = next((c for c in ev.calls if c.resolved in ("ast.literal_eval", "yaml.safe_load", "yaml.load")
                    and "run_ids" in "".join(ev.lines[c.pos.line - 1: c.pos.line + 1])), None)
        if alt is not None or cli_model(ev).hydra is not None:
            how = f"{alt.func}()" if alt is not None else "Hydra's own list parsing"
            yield self.hit(ev.path, alt.pos if alt is not None else line, f"run_ids is parsed with {how}, not json.loads as the prompt specifies (same result for a JSON list)", severity=Severity.minor)
            return
        if line is not None:
            yield self.hit(ev.path, line, "run_ids is never parsed with json.loads: the JSON list text '[\"run-1\", ...]' is used as-is or split by hand")


class MainCallsEvaluateRule(Rule):
    """main.py imports or runs evaluate.py, which the prompt forbids.

    **What it does.** Reports in main.py an import of the bundle's evaluate module
    (`import src.evaluate`, `from src import evaluate`, `from .evaluate import ...`) and
    subprocess / `os.system` / `runpy` calls whose command mentions `src.evaluate` or
    `evaluate.py` (directly or through a command list assigned to a name). `import evaluate` is the
    Hugging Face `evaluate` package and is not reported.

    **Why is this bad?** The prompt runs evaluation independently, after all runs finished:
    "main.py DOES NOT call evaluate.py". Calling it per run evaluates incomplete data and, in trial
    mode, queries WandB runs that were never uploaded.

    **Example.** `subprocess.run([sys.executable, "-m", "src.evaluate", ...])` at the end of main.

    **Use instead.** Leave evaluation to the separate `python -m src.evaluate ...` command.
    """

    code = "RA803"
    name = "main-calls-evaluate"
    topic = "evaluate"
    severity = Severity.major
    requirement = "main_not_call_evaluate"
    needs = ("main",)

    VALID = [
        Case(files={"src/main.py": "import subprocess, sys\n\ndef main(cfg):\n    subprocess.run([sys.executable, '-m', 'src.train', f'run={cfg.run}'], check=True)\n    print('now run: python -m src.evaluate results_dir=...')\n"}),
        Case(files={"src/main.py": "import evaluate\n\nmetric = evaluate.load('accuracy')\n"}, note="HF evaluate package"),
    ]
    INVALID = [
        Case(files={"src/main.py": "import subprocess, sys\n\ndef main(cfg):\n    cmd = [sys.executable, '-m', 'src.evaluate', f'results_dir={cfg.results_dir}']\n    subprocess.run(cmd, check=True)\n\nif __name__ == '__main__':\n    main(None)\n"}, path="src/main.py", line=5),
        Case(files={"src/main.py": "from src.evaluate import main as run_eval\n\ndef main(cfg):\n    run_eval()\n"}, path="src/main.py", line=1),
    ]

    _RUNNERS = ("subprocess.", "os.system", "os.popen", "os.exec", "os.spawn", "runpy.", "asyncio.create_subprocess")

    def check(self, ctx):
        main = ctx.module("main")
        if main is None:
            return
        for imp in main.imports:
            mod = imp.module
            if (imp.level == 0 and (mod == "src.evaluate" or mod.startswith("src.evaluate.") or (mod == "src" and imp.name == "evaluate"))) \
                    or (imp.level > 0 and (mod == "evaluate" or (mod in ("", "src") and imp.name == "evaluate"))):
                yield self.hit(main.path, imp.pos, f"main.py imports the bundle's evaluate module ({'from ' + '.' * imp.level + mod + ' import ' + imp.name if imp.name else 'import ' + mod}); main.py must not call evaluate.py")
                return
        model = wandb_model(ctx)
        for c in main.calls:
            r = c.resolved or c.func or ""
            if c.resolved in ("importlib.import_module",) and any((literal_string(a) or "") in ("src.evaluate", ".evaluate") for a in c.positional()):
                yield self.hit(main.path, c.pos, "main.py imports src.evaluate dynamically; main.py must not call evaluate.py")
                return
            if not r.startswith(self._RUNNERS):
                continue
            ix = model.index(main)  # built on the first runner call only
            for a in c.args:
                if self._mentions_evaluate(ix, a.value, c.function):
                    yield self.hit(main.path, c.pos, f"main.py runs evaluate.py ({c.func}(... src.evaluate ...)); the prompt requires evaluation to run independently")
                    return

    def _mentions_evaluate(self, ix, node, fn, depth: int = 0) -> bool:
        if node is None or depth > 3:
            return False
        text = literal_string(node)
        if text is None and isinstance(node, cst.FormattedString):
            text = fstring_template(node)
        if text is not None:
            return bool(re.search(r"(?<![\w.])src[./]evaluate\b|(?<![\w])evaluate\.py\b", text))
        if isinstance(node, (cst.List, cst.Tuple)):
            return any(self._mentions_evaluate(ix, el.value, fn, depth + 1) for el in node.elements)
        if isinstance(node, cst.BinaryOperation):
            return self._mentions_evaluate(ix, node.left, fn, depth + 1) or self._mentions_evaluate(ix, node.right, fn, depth + 1)
        if isinstance(node, cst.Call):
            return any(self._mentions_evaluate(ix, a.value, fn, depth + 1) for a in node.args) or (
                isinstance(node.func, cst.Attribute) and self._mentions_evaluate(ix, node.func.value, fn, depth + 1))
        if isinstance(node, cst.Name):
            return any(self._mentions_evaluate(ix, v, fn, depth + 1) for v in ix.values_of(node.value, fn))
        return False


class EvaluateNoWandbApiRule(Rule):
    """evaluate.py does not read the runs through wandb.Api() / run.history().

    **What it does.** Checks that evaluate.py calls `wandb.Api()` and, where the prompt asks for
    it (`history = run.history()`), reads `run.history()` or `run.scan_history()`.

    **Why is this bad?** The prompt makes WandB the single source of results: evaluate.py must
    retrieve each run's history, summary and config from the API, not from local files that only
    exist on the training machine.

    **Example.** evaluate.py globs `results/*/metrics.json` written by train.py.

    **Use instead.** `api = wandb.Api(); run = api.run(f"{entity}/{project}/{run_id}")`,
    `history = run.history()`.
    """

    code = "RA804"
    name = "evaluate-no-wandb-api"
    topic = "evaluate"
    severity = Severity.major
    requirement = "evaluate_wandb_api"
    needs = ("evaluate",)

    VALID = [Case(files={"src/evaluate.py": _EVAL_GOOD})]
    INVALID = [
        Case(files={"src/evaluate.py": "import json, glob\n\ndef main():\n    rows = [json.load(open(p)) for p in glob.glob('results/*/metrics.json')]\n"}, path="src/evaluate.py"),
        Case(files={"src/evaluate.py": "import wandb\n\ndef main(rid):\n    run = wandb.Api().run(rid)\n    return run.summary._json_dict\n"}, path="src/evaluate.py", note="no history read"),
    ]

    def check(self, ctx):
        ev = ctx.module("evaluate")
        if _is_stub(ev):
            return
        has_api = any(c.resolved in ("wandb.Api", "wandb.apis.public.Api", "wandb.PublicApi") for c in ev.calls)
        if not has_api:
            yield self.hit(ev.path, None, "evaluate.py never creates wandb.Api(): run data is not retrieved from the WandB API")
            return
        if ctx.spec.has("evaluate_run_ids") and not any(c.method in ("history", "scan_history") for c in ev.calls):
            yield self.hit(ev.path, None, "evaluate.py never reads run.history(): per-step metrics (learning curves) are not retrieved from WandB")


class SummaryNotJsonDictRule(Rule):
    """evaluate.py copies run.summary without `._json_dict` and writes it as JSON.

    **What it does.** Finds run-summary copies that keep wandb's wrapper objects
    (`dict(run.summary)`, `run.summary` itself, `{**run.summary}`, an unfiltered
    `{k: v for k, v in run.summary.items()}`) and follows the value through names, containers,
    helper parameters and return values to `json.dump`/`json.dumps` (without `default=`).

    **Why is this bad?** Nested summary values stay `SummarySubDict` objects (every summary has
    a nested `_wandb` entry), so `json.dump` raises `TypeError: Object of type SummarySubDict is
    not JSON serializable` when metrics.json is written (blocker; seed_002 D-15). A copy that is
    never serialised only deviates from the prompt's `run.summary._json_dict` (minor).

    **Example.** `summary = dict(run.summary)` then `json.dump({"summary": summary}, f)`.

    **Use instead.** `summary = run.summary._json_dict`.
    """

    code = "RA805"
    name = "evaluate-summary-not-json-dict"
    topic = "evaluate"
    severity = Severity.blocker
    requirement = "evaluate_summary_json_dict"
    needs = ("evaluate",)

    VALID = [
        Case(files={"src/evaluate.py": _EVAL_GOOD}),
        Case(files={"src/evaluate.py": "import json\n\ndef main(run, f):\n    s = dict(run.summary._json_dict)\n    json.dump({'summary': s, 'acc': run.summary.get('acc')}, f)\n"}),
    ]
    INVALID = [
        Case(files={"src/evaluate.py": (
            "import json\n\ndef save_json(obj, path):\n    with open(path, 'w') as f:\n        json.dump(obj, f)\n\n"
            "def main(run, out):\n    summary = dict(run.summary)\n    save_json({'summary': summary}, out / 'metrics.json')\n"
        )}, path="src/evaluate.py", line=8),
        Case(files={"src/evaluate.py": "def main(run):\n    s = dict(run.summary)\n    return s.get('acc')\n"}, path="src/evaluate.py", line=2, note="minor: not dumped"),
        Case(files={"src/evaluate.py": "import json\n\ndef main(run, f):\n    s = dict(run.summary)\n    json.dump(s, f, default=str)\n"}, path="src/evaluate.py", line=4, note="minor: default=str serialises the wrappers"),
    ]

    def check(self, ctx):
        ev = ctx.module("evaluate")
        if _is_stub(ev):
            return
        entry = knowledge_entry("wandb-run-summary-dict")
        why = entry.message if entry is not None else "nested values stay wandb SummarySubDict objects, which json cannot serialise"
        model = wandb_model(ctx)
        ix = model.index(ev)
        for copy in summary_copies(model):
            pos = ix.pos_of(copy.node)
            if copy.dumps:
                d = copy.dumps[0]
                yield self.hit(
                    ev.path, pos,
                    f"`{copy.text}` is used instead of run.summary._json_dict and reaches {d.func}() at line {d.pos.line}: {why}",
                    related=[Related(label=f"{d.func}()", path=ev.path, line=d.pos.line)],
                )
            else:
                yield self.hit(ev.path, pos, f"`{copy.text}` is used instead of run.summary._json_dict (not serialised here, so it does not crash)", severity=Severity.minor)


class MetricsJsonMissingRule(Rule):
    """evaluate.py never writes `{results_dir}/{run_id}/metrics.json`.

    **What it does.** Looks for a path whose file name is exactly `metrics.json` in evaluate.py.

    **Why is this bad?** The prompt fixes the per-run output: each run's metrics go to
    `{results_dir}/{run_id}/metrics.json`. Other names (summary.json, history.json, ...) are not
    found by whatever consumes the results (seed_000 D-16).

    **Example.** `_export_json(summary, run_dir / "summary.json")`.

    **Use instead.** `json.dump(metrics, open(results_dir / run_id / "metrics.json", "w"))`.
    """

    code = "RA806"
    name = "evaluate-metrics-json-missing"
    topic = "evaluate"
    severity = Severity.major
    requirement = "evaluate_metrics_json"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    needs = ("evaluate",)

    VALID = [Case(files={"src/evaluate.py": _EVAL_GOOD})]
    INVALID = [Case(files={"src/evaluate.py": "import json\n\ndef main(run_dir, s):\n    json.dump(s, open(run_dir / 'summary.json', 'w'))\n"}, path="src/evaluate.py", line=4)]

    def check(self, ctx):
        ev = ctx.module("evaluate")
        if _is_stub(ev):
            return
        if any(basename(s.value) == "metrics.json" for s in ev.strings):
            return
        other = next((s for s in ev.strings if basename(s.value).endswith(".json") and "aggregated" not in s.value and " " not in s.value), None)
        written = f" (per-run JSON goes to '{basename(other.value)}')" if other else ""
        yield self.hit(ev.path, other.pos if other else None, f"evaluate.py never writes {{results_dir}}/{{run_id}}/metrics.json{written}")


class AggregatedJsonMissingRule(Rule):
    """evaluate.py never writes `{results_dir}/comparison/aggregated_metrics.json`.

    **What it does.** Looks for a path ending in `aggregated_metrics.json` in evaluate.py, and for
    a `comparison` directory in its paths.

    **Why is this bad?** The prompt fixes where the cross-run results go; the aggregated metrics
    are the main output of the evaluation step.

    **Example.** `json.dump(table, open(results_dir / "summary_all.json", "w"))`.

    **Use instead.** `results_dir / "comparison" / "aggregated_metrics.json"`.
    """

    code = "RA807"
    name = "evaluate-aggregated-json-missing"
    topic = "evaluate"
    severity = Severity.major
    requirement = "evaluate_aggregated_json"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    needs = ("evaluate",)

    VALID = [Case(files={"src/evaluate.py": _EVAL_GOOD})]
    INVALID = [
        Case(files={"src/evaluate.py": "import json\n\ndef main(d, t):\n    json.dump(t, open(d / 'summary_all.json', 'w'))\n"}, path="src/evaluate.py"),
        Case(files={"src/evaluate.py": "import json\n\ndef main(d, t):\n    json.dump(t, open(d / 'aggregated_metrics.json', 'w'))\n"}, path="src/evaluate.py", line=4, note="not under comparison/"),
    ]

    def check(self, ctx):
        ev = ctx.module("evaluate")
        if _is_stub(ev):
            return
        agg = [s for s in ev.strings if basename(s.value) == "aggregated_metrics.json"]
        if not agg:
            yield self.hit(ev.path, None, "evaluate.py never writes {results_dir}/comparison/aggregated_metrics.json")
            return
        if not any("comparison" in s.value for s in ev.strings):
            yield self.hit(ev.path, agg[0].pos, "aggregated_metrics.json is not written under {results_dir}/comparison/ (no 'comparison' directory in evaluate.py)")


class FigureNameConventionRule(Rule):
    """A figure evaluate.py saves is named neither `{run_id}_<topic>...` nor `comparison_<topic>...`.

    **What it does.** Resolves the file name passed to every `savefig(...)` in evaluate.py (string
    literals, f-strings, `/` joins, `os.path.join`, `.format`, `%`, names, helper parameters via
    their call sites) and reports names that start with fixed text other than `comparison_`.
    Names that start with a placeholder (`f"{run_id}_..."`) are accepted; names that cannot be
    resolved are not checked.

    **Why is this bad?** The prompt requires globally unique figure names
    (`{run_id}_{figure_topic}[...].pdf`, `comparison_{figure_topic}[...].pdf`) so figures from
    different runs never collide when collected together.

    **Example.** `plt.savefig(run_dir / "learning_curve.pdf")`, `f"learning_curve_{run_id}.pdf"`.

    **Use instead.** `plt.savefig(run_dir / f"{run_id}_learning_curve.pdf")`.
    """

    code = "RA808"
    name = "figure-name-convention"
    topic = "evaluate"
    severity = Severity.major
    requirement = "figure_names_run"
    needs = ("evaluate",)

    VALID = [
        Case(files={"src/evaluate.py": _EVAL_GOOD}),
        Case(files={"src/evaluate.py": (
            "import matplotlib.pyplot as plt\n\ndef plot(df, metric, out_path):\n    plt.plot(df[metric])\n    plt.savefig(out_path)\n\n"
            "def main(h, rid, d):\n    plot(h, 'acc', d / f'{rid}_acc_curve.pdf')\n    plot(h, 'acc', d / 'comparison_acc.pdf')\n"
        )}),
    ]
    INVALID = [
        Case(files={"src/evaluate.py": "import matplotlib.pyplot as plt\n\ndef main(run_dir, rid):\n    plt.savefig(run_dir / f'learning_curve_{rid}.pdf')\n"}, path="src/evaluate.py", line=4),
        Case(files={"src/evaluate.py": (
            "import os\nimport matplotlib.pyplot as plt\n\ndef save(fig, out_dir, name):\n    fig.savefig(os.path.join(out_dir, name))\n\n"
            "def main(fig, d):\n    save(fig, d, 'accuracy_comparison.pdf')\n"
        )}, path="src/evaluate.py", line=8),
    ]

    def check(self, ctx):
        if _is_stub(ctx.module("evaluate")):
            return
        seen: set[tuple[str, int | None]] = set()
        for fig in resolved_figures(ctx):
            base = fig.basename
            if base.startswith("{") or base.startswith("comparison_") or (base, fig.pos.line) in seen:
                continue
            seen.add((base, fig.pos.line))
            shown = base.replace("{}", "{…}")
            yield self.hit(
                fig.path, fig.pos,
                f"figure '{shown}' follows neither {{run_id}}_<topic>.pdf nor comparison_<topic>.pdf",
                related=[Related(label="savefig", path=fig.path, line=fig.savefig.line)] if fig.pos != fig.savefig else [],
            )


_DERIVED = re.compile(r"improv|gain|delta|relative|uplift|speedup|reduction|diff|pct_change|percent_change|rel_", re.I)
_SIGNIFICANCE = re.compile(
    r"ttest|t_test|wilcoxon|mannwhitney|binom_?test|mcnemar|chi2_contingency|chisquare|fisher_exact|kruskal|friedman|"
    r"permutation|bootstrap|ranksums|f_oneway|anova|p_?value|p_val|signific", re.I)


class DerivedMetricMissingRule(Rule):
    """evaluate.py computes no derived metric (e.g. improvement rate over the baseline).

    **What it does.** Looks in evaluate.py for a relative difference `(a - b) / c` or for names,
    keys or functions about improvement, gain, delta, relative change, speed-up or reduction.

    **Why is this bad?** The prompt asks the aggregated analysis to compute secondary/derived
    metrics such as the improvement rate `(proposed - baseline) / baseline`; without it the
    comparison is a table of raw numbers (seed_000 D-17, seed_002 D-16).

    **Example.** Aggregation that only collects `best_val_acc` per run and draws bar charts.

    **Use instead.** `improvement = (acc[proposed] - acc[baseline]) / acc[baseline]`, exported to
    aggregated_metrics.json.
    """

    code = "RA809"
    name = "evaluate-no-derived-metric"
    topic = "evaluate"
    severity = Severity.major
    requirement = "evaluate_derived_metric"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    needs = ("evaluate",)

    VALID = [Case(files={"src/evaluate.py": _EVAL_GOOD})]
    INVALID = [Case(files={"src/evaluate.py": "import json\n\ndef main(accs, d):\n    json.dump(accs, open(d / 'comparison' / 'aggregated_metrics.json', 'w'))\n"}, path="src/evaluate.py", line=4)]

    def check(self, ctx):
        ev = ctx.module("evaluate")
        if _is_stub(ev):
            return
        ix = wandb_model(ctx).index(ev)
        if ix.relative_diffs:
            return
        words = list(ix.identifiers) + [f.name for f in ev.functions.values()] + [s.value for s in ev.strings if len(s.value) < 80]
        if any(_DERIVED.search(w) for w in words):
            return
        agg = next((s for s in ev.strings if basename(s.value) == "aggregated_metrics.json"), None)
        yield self.hit(ev.path, agg.pos if agg else None, "evaluate.py computes no derived metric (no improvement rate / relative gain of the proposed method over the baseline)")


class SignificanceTestMissingRule(Rule):
    """evaluate.py runs no statistical significance test.

    **What it does.** Looks in evaluate.py for a test from scipy.stats or statsmodels (t-test,
    Wilcoxon, Mann-Whitney, binomial/McNemar, chi-square, Fisher, Kruskal, ANOVA), a permutation
    or bootstrap test, or p-values. An import that the module never uses again is not a test.

    **Why is this bad?** The prompt's aggregated analysis includes statistical significance
    tests; without one, differences between methods are reported without any evidence that they
    exceed noise (seed_000 D-17).

    **Example.** Aggregation that only draws bar charts of per-run accuracy.

    **Use instead.** `scipy.stats.wilcoxon(...)`, `scipy.stats.binomtest(...)` (McNemar on
    paired predictions), or a bootstrap confidence interval with a p-value.
    """

    code = "RA810"
    name = "evaluate-no-significance-test"
    topic = "evaluate"
    severity = Severity.major
    requirement = "evaluate_significance"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    needs = ("evaluate",)

    VALID = [Case(files={"src/evaluate.py": _EVAL_GOOD})]
    INVALID = [
        Case(files={"src/evaluate.py": "import json\n\ndef main(accs, d):\n    json.dump(accs, open(d / 'comparison' / 'aggregated_metrics.json', 'w'))\n"}, path="src/evaluate.py", line=4),
        Case(files={"src/evaluate.py": "import json\nfrom scipy.stats import ttest_ind\n\ndef main(accs, d):\n    json.dump(accs, open(d / 'comparison' / 'aggregated_metrics.json', 'w'))\n"},
             path="src/evaluate.py", line=5, note="ttest_ind is imported and never called"),
    ]

    def check(self, ctx):
        ev = ctx.module("evaluate")
        if _is_stub(ev):
            return
        stats_imports = [i for i in ev.imports if i.module.startswith(("scipy.stats", "statsmodels", "pingouin")) or (i.module == "scipy" and i.name == "stats")]
        if any(_used_beyond_import(ev, i) for i in stats_imports):
            return
        ix = wandb_model(ctx).index(ev)
        words = list(ix.identifiers) + [c.func or "" for c in ev.calls] + [f.name for f in ev.functions.values()] + [s.value for s in ev.strings if len(s.value) < 80]
        unused = {i.alias for i in stats_imports}  # imported, never used: not a test either
        if any(_SIGNIFICANCE.search(w) for w in words if w not in unused):
            return
        agg = next((s for s in ev.strings if basename(s.value) == "aggregated_metrics.json"), None)
        said = f" (it imports {', '.join(sorted(unused))} but never uses it)" if unused else ""
        yield self.hit(ev.path, agg.pos if agg else None, f"evaluate.py runs no statistical significance test (no scipy.stats/statsmodels test, permutation or bootstrap, no p-value){said}")


def _used_beyond_import(mod, imp) -> bool:
    """Does the module use an import's name anywhere but in its import statement -- a module
    through one of its attributes (`stats.ttest_ind`; a local variable that happens to be called
    `stats` is not it), a function by its name? (An imported test never called tests nothing.)"""
    lib = library_of(imp.qualified)
    is_module = imp.name is None or bool(lib is not None and lib.module_exists(imp.qualified).found)
    word = re.compile(rf"(?<![\w.]){re.escape(imp.alias)}" + (r"\." if is_module else r"\b"))
    return any(word.search(line) for n, line in enumerate(mod.lines, 1) if n != imp.pos.line and not line.lstrip().startswith(("#", "import ", "from ")))


#: what the training side calls a metric that only a classifier has
_CLASSIFICATION_METRIC = re.compile(r"(?:^|[_./-])(?:acc|accuracy|f1|mcc|top1|top5)$", re.I)
#: a figure name that is a confusion matrix
_CONFUSION_NAME = re.compile(r"confusion|(?:^|_)cm(?:_|\.)", re.I)
#: read of a run's per-step history (what a learning curve is drawn from)
_HISTORY_CALLS = frozenset({"history", "scan_history"})


def _words(facts, ix) -> list[str]:
    """Identifiers, function names, called names and short strings of a module: what it talks about."""
    return (list(ix.identifiers) + [f.name for f in facts.functions.values()] + [c.func or "" for c in facts.calls]
            + [s.value for s in facts.strings if len(s.value) < 120])


class LearningCurveMissingRule(Rule):
    """evaluate.py draws no per-run learning curve.

    **What it does.** Reports evaluate.py when no function or name in it speaks of a curve and,
    when every figure name it saves is known, none of them is a per-run figure other than a
    confusion matrix; when some names are not known, when it also never reads a run's per-step
    history (`run.history()`, `run.scan_history()`), without which there is no curve to draw.

    **Why is this bad?** The prompt asks evaluate.py for run-specific figures, learning curves
    first, saved under `{results_dir}/{run_id}/`; a summary-only evaluation cannot show how
    training went.

    **Example.** An evaluate.py that reads only `run.summary` and draws one bar chart.

    **Use instead.** `history = run.history(keys=["val_acc"])`, plotted and saved as
    `{run_id}_learning_curve.pdf`.
    """

    code = "RA812"
    name = "evaluate-no-learning-curve"
    topic = "evaluate"
    severity = Severity.major
    requirement = "evaluate_run_figures"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    needs = ("evaluate",)

    _SUMMARY_ONLY = ("import matplotlib.pyplot as plt\nimport wandb\n\ndef main(rids, d):\n    api = wandb.Api()\n"
                     "    accs = [api.run(r).summary['acc'] for r in rids]\n    plt.bar(rids, accs)\n    plt.savefig(d / 'comparison_acc_bar.pdf')\n")
    VALID = [Case(files={"src/evaluate.py": _EVAL_GOOD})]
    _CM_ONLY = ("import matplotlib.pyplot as plt\nimport wandb\n\ndef main(rids, d):\n    api = wandb.Api()\n    for r in rids:\n"
                "        h = api.run(r).history()\n        h.to_csv(d / f'{r}_history.csv')\n        plt.imshow([[1, 0], [0, 1]])\n"
                "        plt.savefig(d / f'{r}_confusion_matrix.pdf')\n    plt.savefig(d / 'comparison_acc_bar.pdf')\n")
    INVALID = [Case(files={"src/evaluate.py": _SUMMARY_ONLY}, path="src/evaluate.py", line=8),
               Case(files={"src/evaluate.py": _CM_ONLY}, path="src/evaluate.py", line=10,
                    note="the history is read, but only exported: the per-run figures are confusion matrices")]

    def check(self, ctx):
        ev = ctx.module("evaluate")
        if _is_stub(ev):
            return
        ix = wandb_model(ctx).index(ev)
        if any(re.search(r"curve", w, re.I) for w in list(ix.identifiers) + [f.name for f in ev.functions.values()]):
            return
        figures = saved_figures(ctx)
        if figures is not None:
            # every figure name is known: a per-run figure other than a confusion matrix is the curve
            if any(not f.basename.startswith("comparison_") and not _CONFUSION_NAME.search(f.basename) for f in figures):
                return
            said = "none of the figures it saves is one (" + (", ".join(sorted({f.basename.replace("{}", "{…}") for f in figures})[:3]) or "it saves none") + ")"
        else:
            if any(c.method in _HISTORY_CALLS for c in ev.calls) or any(re.search(r"curve|learning", s.value, re.I) for s in ev.strings):
                return
            said = "it never reads a run's history (run.history()/scan_history()) and names no curve"
        fig = next((c for c in ev.calls if c.method == "savefig"), None)
        yield self.hit(ev.path, fig.pos if fig else None, f"evaluate.py draws no learning curve: {said}")


class ConfusionMatrixMissingRule(Rule):
    """evaluate.py draws no confusion matrix although the runs are classifiers.

    **What it does.** When the training side logs a classification metric (accuracy, F1, MCC,
    top-1), reports evaluate.py if nothing in it (no call, name, string or function) speaks of a
    confusion matrix, or if every confusion-matrix call sits under a test for history or summary
    keys (`if "y_true" in history.columns`) that no code of the training side logs.

    **Why is this bad?** The prompt lists confusion matrices among the run-specific figures
    evaluate.py must produce; for a classifier they show which classes the method confuses, which
    accuracy alone hides. Runs that are not classifiers (no such metric) are not asked for one.

    **Example.** A classification experiment whose evaluate.py draws only learning curves.

    **Use instead.** `sklearn.metrics.ConfusionMatrixDisplay.from_predictions(y, y_hat)` saved as
    `{run_id}_confusion_matrix.pdf`.
    """

    code = "RA813"
    name = "evaluate-no-confusion-matrix"
    topic = "evaluate"
    severity = Severity.major
    requirement = "evaluate_run_figures"
    about_execution = False  # an absence in the whole program: its line is only an anchor
    needs = ("evaluate",)

    _TRAIN = "import wandb\n\ndef fit(acc):\n    wandb.log({'val_acc': acc})\n"
    _TRAIN_LM = "import wandb\n\ndef fit(ppl):\n    wandb.log({'val_perplexity': ppl})\n"
    VALID = [
        Case(files={"src/evaluate.py": _EVAL_GOOD + "\ndef cm(y, p, out):\n    from sklearn.metrics import ConfusionMatrixDisplay\n    ConfusionMatrixDisplay.from_predictions(y, p)\n    plt.savefig(out)\n",
                    "src/train.py": _TRAIN}),
        Case(files={"src/evaluate.py": _EVAL_GOOD, "src/train.py": _TRAIN_LM}),
    ]
    _GUARDED = ("\ndef cm(history, out):\n    from sklearn.metrics import ConfusionMatrixDisplay\n"
                "    if 'y_true' in history.columns and 'y_pred' in history.columns:\n"
                "        ConfusionMatrixDisplay.from_predictions(history['y_true'], history['y_pred'])\n        plt.savefig(out)\n")
    INVALID = [
        Case(files={"src/evaluate.py": _EVAL_GOOD, "src/train.py": _TRAIN}, path="src/evaluate.py", line=27),
        Case(files={"src/evaluate.py": _EVAL_GOOD + _GUARDED, "src/train.py": _TRAIN}, path="src/evaluate.py", line=42,
             note="drawn only when the history has y_true and y_pred, which train.py never logs"),
        Case(files={"src/evaluate.py": _EVAL_GOOD + _GUARDED.replace("'y_true' in history.columns and 'y_pred' in history.columns", "{'y_true', 'y_pred'}.issubset(history.columns)"),
                    "src/train.py": _TRAIN}, path="src/evaluate.py", line=42, note="the same test written as a subset"),
    ]

    def check(self, ctx):
        ev = ctx.module("evaluate")
        if _is_stub(ev):
            return
        wm = wandb_model(ctx)
        metrics = sorted(k for k in wm.summary_keys.exact if _CLASSIFICATION_METRIC.search(k))
        if not metrics:
            return
        if any(re.search(r"confusion", w, re.I) for w in _words(ev, wm.index(ev))):
            guard = _only_under_unlogged_keys(ev, wm.summary_keys)
            if guard is not None:
                line, keys = guard
                yield self.hit(ev.path, line, f"evaluate.py draws its confusion matrices only when the run has {' and '.join(keys)}, "
                               "which the training side never logs: no confusion matrix is ever drawn")
            return
        fig = next((c for c in ev.calls if c.method == "savefig"), None)
        shown = ", ".join(metrics[:3]) + (" …" if len(metrics) > 3 else "")
        yield self.hit(ev.path, fig.pos if fig else None,
                       f"evaluate.py draws no confusion matrix, though the runs are classifiers (the training side logs {shown})")


def _only_under_unlogged_keys(ev, logged) -> tuple[int, list[str]] | None:
    """(line of the test, its keys) when every confusion-matrix call of evaluate.py runs only
    under an `if "key" in ...` test -- around the call, or around every call of the function
    holding it -- whose keys the training side never logs (and it logs no key it cannot name)."""
    tree = ev.cpython.tree if ev.cpython is not None else None
    if tree is None or logged.opaque:
        return None
    nodes = list(ast.walk(tree))
    ifs = [g for g in nodes if isinstance(g, ast.If) and _tested_keys(g.test)]
    functions = [f for f in nodes if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
    calls = [c for c in nodes if isinstance(c, ast.Call)]

    def guard_of(line: int, depth: int = 0) -> ast.If | None:
        inside = [g for g in ifs if g.body[0].lineno <= line <= g.body[-1].end_lineno]
        if inside:
            return max(inside, key=lambda g: g.lineno)
        holder = max((f for f in functions if f.lineno <= line <= f.end_lineno), key=lambda f: f.lineno, default=None)
        if holder is None or depth >= 2:
            return None
        sites = [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == holder.name]
        guards = [guard_of(c.lineno, depth + 1) for c in sites]
        return guards[0] if sites and all(guards) else None

    first = None
    for call in (c for c in calls if re.search(r"confusion", ast.unparse(c.func), re.I)):
        guard = guard_of(call.lineno)
        if guard is None:
            return None
        keys = _tested_keys(guard.test)
        if any(logged.matches(k) for k in keys):
            return None
        first = first or (guard.lineno, keys)
    return first


def _tested_keys(test: ast.expr) -> list[str]:
    """The string keys a test checks for membership (`"y_true" in df.columns`,
    `{"y_true", "y_pred"}.issubset(df.columns)`, `df.columns.issuperset([...])`)."""
    keys = [c.left.value for c in ast.walk(test) if isinstance(c, ast.Compare) and len(c.ops) == 1 and isinstance(c.ops[0], ast.In)
            and isinstance(c.left, ast.Constant) and isinstance(c.left.value, str)]
    for call in (n for n in ast.walk(test) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
        literal = call.func.value if call.func.attr == "issubset" else call.args[0] if call.func.attr == "issuperset" and call.args else None
        if isinstance(literal, (ast.Set, ast.List, ast.Tuple)):
            keys += [e.value for e in literal.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return keys


class FiguresOutsideEvaluateRule(Rule):
    """train.py or main.py generates figures.

    **What it does.** Reports the first `savefig(...)` or matplotlib/seaborn plotting call in
    train.py and in main.py.

    **Why is this bad?** The prompt reserves figures for evaluate.py ("train.py and main.py
    generate NO figures"): figures made during training bypass the naming convention and the
    results layout, and plotting on a headless runner can fail.

    **Example.** `plt.savefig(f"{results_dir}/loss_curve.pdf")` at the end of train.py.

    **Use instead.** Log the values with `wandb.log` and plot them in evaluate.py.
    """

    code = "RA811"
    name = "figures-outside-evaluate"
    topic = "evaluate"
    severity = Severity.major
    requirement = "no_figures_in_train"
    needs = ()

    VALID = [Case(files={"src/train.py": "import wandb\n\ndef train():\n    wandb.log({'loss': 0.1})\n", "src/main.py": "def main():\n    pass\n"})]
    INVALID = [Case(files={"src/train.py": "import matplotlib.pyplot as plt\n\ndef train(losses):\n    plt.plot(losses)\n    plt.savefig('loss.pdf')\n"}, path="src/train.py", line=4)]

    def check(self, ctx):
        for short in ("train", "main"):
            m = ctx.module(short)
            if m is None:
                continue
            for c in m.calls:
                r = c.resolved or ""
                if c.method == "savefig" or (r.startswith(("matplotlib.pyplot.", "seaborn.")) and c.method not in ("switch_backend", "use", "close", "rcParams", "set_theme", "set_style", "set")):
                    yield self.hit(m.path, c.pos, f"{m.path.rsplit('/', 1)[-1]} generates a figure ({c.func}()); the prompt reserves figures for evaluate.py")
                    break


class FigureNotPdfRule(Rule):
    """evaluate.py saves a figure in a format other than PDF.

    **What it does.** Reads the file name of every figure evaluate.py saves (`savefig(...)`, the
    names resolved through variables and f-strings by the WandB model) and reports each one whose
    extension is known and is not `.pdf`. A name whose extension is a variable is left alone.

    **Why is this bad?** The prompt asks for PDF figures (publication quality, vector) and names
    them `....pdf`; the paper-writing step looks for those files, and a `.png` is neither found nor
    usable there.

    **Example.** `plt.savefig(images_dir / "comparison_accuracy.png")`.

    **Use instead.** `plt.savefig(images_dir / "comparison_accuracy.pdf")`.
    """

    code = "RA814"
    name = "evaluate-figure-not-pdf"
    topic = "evaluate"
    severity = Severity.major
    requirement = "figures_pdf"
    needs = ("evaluate",)

    VALID = [Case(files={"src/evaluate.py": _EVAL_GOOD}),
             Case(files={"src/evaluate.py": "import matplotlib.pyplot as plt\n\ndef main(d, ext):\n    plt.savefig(d / f'comparison_acc.{ext}')\n"},
                  note="the extension is a variable: not known")]
    INVALID = [Case(files={"src/evaluate.py": (
        "import matplotlib.pyplot as plt\n\ndef main(d, rid):\n    name = f'{rid}_learning_curve.png'\n    plt.plot([1, 2])\n"
        "    plt.savefig(d / name)\n    plt.savefig(d / 'comparison_acc.pdf')\n")}, path="src/evaluate.py", line=6)]

    def check(self, ctx):
        ev = ctx.module("evaluate")
        if _is_stub(ev):
            return
        for fig in resolved_figures(ctx):
            ext = fig.basename.rsplit(".", 1)[-1] if "." in fig.basename else ""
            if ext and "{" not in ext and ext.lower() != "pdf":
                yield self.hit(ev.path, fig.savefig, f"evaluate.py saves {fig.basename.replace('{}', '{…}')} as .{ext}; the prompt asks for PDF figures")
