"""Execution blockers judged against the library index (RA908-RA909): a call a library's
signature rejects, a timm model name timm never registered."""
from __future__ import annotations

import difflib

from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Severity
from reviewer_audit.knowledge.library import load_knowledge
from reviewer_audit.program.bundle_index import bundle_index
from reviewer_audit.rules._library import (
    TIMM_CREATE,
    admitted_versions,
    expression_values,
    guarded_lines,
    hedged,
    import_kinds,
    library_of,
    module_paths,
    verdict,
)

_TA = "from transformers import TrainingArguments\n"


class LibraryCallSignature(Rule):
    """A call to a library function or class passes a keyword it does not accept, or more
    positional arguments than it takes, in the versions the bundle admits.

    **What it does.** For every call whose callee the code names through an import
    (`TrainingArguments(...)`, `OmegaConf.to_container(...)`, `mean_squared_error(...)`), binds the
    call's keyword names and positional count to the signature the library index holds for each
    admitted version (from the `def`, a dataclass's fields, a class's `__init__` through its
    bases, a stub's overloads). Severity follows the versions where it fails, as for RA906:
    the newest admitted release (blocker), only older ones (minor; major for Python itself), only releases after the audit
    date (minor). Signatures behind decorators that may change what a call accepts, `**kwargs`
    and `*args` in the signature or at the call site, and methods reached through an instance
    are not judged. Missing required arguments are not judged either.

    **Why is this bad?** The call raises `TypeError: ... got an unexpected keyword argument` when
    it runs: `TrainingArguments(evaluation_strategy=...)` since transformers 4.46 renamed it
    `eval_strategy`; `mean_squared_error(..., squared=False)` since scikit-learn 1.6.

    **Example.** `TrainingArguments(output_dir="o", evaluation_strategy="epoch")` with
    `transformers>=4.40`.

    **Use instead.** The parameter the admitted versions take (`eval_strategy="epoch"`,
    `root_mean_squared_error(...)`), or a range that excludes the versions that reject it.
    """

    code = "RA908"
    name = "library-call-signature"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={"src/train.py": (
            _TA + "from omegaconf import OmegaConf\nfrom transformers import AutoModel\nimport torch\n"
            "args = TrainingArguments(output_dir='o', eval_strategy='epoch', learning_rate=1e-4)\n"
            "c = OmegaConf.to_container(OmegaConf.create({}), resolve=True)\n"
            "m = AutoModel.from_pretrained('bert-base-uncased', num_labels=2, anything=1)\n"
            "kw = {'x': 1}\nargs2 = TrainingArguments(output_dir='o', **kw)\nt = torch.zeros(3, 4, dtype=torch.float32)\n"
        )}),
        Case(files={
            "pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["scikit-learn>=1.3,<1.6"]\n',
            "src/evaluate.py": "from sklearn.metrics import mean_squared_error\nrmse = mean_squared_error([1.0], [1.0], squared=False)\n",
        }, note="squared= is accepted up to scikit-learn 1.5"),
        Case(files={"src/train.py": _TA + "try:\n    a = TrainingArguments(output_dir='o', evaluation_strategy='epoch')\nexcept TypeError:\n    a = TrainingArguments(output_dir='o', eval_strategy='epoch')\n"},
             note="the old keyword is tried inside try/except TypeError"),
    ]
    INVALID = [
        Case(files={"src/train.py": _TA + "args = TrainingArguments(output_dir='o', evaluation_strategy='epoch')\n"},
             path="src/train.py", line=2, severity="blocker", exclude_newer="2025-10-17"),
        Case(files={
            "pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["scikit-learn>=1.3"]\n',
            "src/evaluate.py": "from sklearn.metrics import mean_squared_error\nrmse = mean_squared_error([1.0], [1.0], squared=False)\n",
        }, path="src/evaluate.py", line=2, severity="blocker", exclude_newer="2025-10-17"),
        Case(files={"src/train.py": "from omegaconf import OmegaConf\ncfg = OmegaConf.create({})\nd = OmegaConf.to_container(cfg, True)\n"},
             path="src/train.py", line=3, note="resolve is keyword-only"),
        Case(files={
            "pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["scikit-learn>=1.3"]\n',
            "src/evaluate.py": "from sklearn.metrics import mean_squared_error\nrmse = mean_squared_error([1.0], [1.0], squared=False)\n",
        }, path="src/evaluate.py", line=2, severity="minor", exclude_newer="2024-06-01",
            note="as of mid-2024 every admitted release accepted squared=; it breaks with 1.6"),
    ]

    def check(self, ctx):
        kb = load_knowledge()
        idx = bundle_index(ctx)
        for mi in idx.modules.values():
            kinds = import_kinds(idx, mi)
            paths = module_paths(mi)
            guarded = guarded_lines(mi.facts)
            for call in mi.facts.calls:
                if not call.resolved or not call.func or call.pos.line in guarded:
                    continue
                if call.func.split(".")[0] not in kinds:
                    continue
                lib = library_of(call.resolved)
                if lib is None:
                    continue
                args = call.node.args
                star = any(a.star == "*" for a in args)
                dstar = any(a.star == "**" for a in args)
                npos = 0 if star else sum(1 for a in args if a.keyword is None and not a.star)
                kws = [] if dstar else [a.keyword.value for a in args if a.keyword is not None]
                if not npos and not kws:
                    continue
                adm = admitted_versions(ctx, lib)
                mask = adm.now | adm.later
                if not mask:
                    continue
                problems, ok, judged = lib.call_problems(call.resolved, mask, npos, kws, paths.get(call.func.split(".")[0]))
                if not problems:
                    continue
                bad = 0
                for m in problems.values():
                    bad |= m
                found = verdict(ctx, adm, bad, mask & ~judged)
                if found is None:
                    continue
                severity, scope = found
                severity, note = hedged(ctx, mi.path, call.pos.line, severity)
                newest_bad = lib.newest(bad)
                text = next((t for t, m in problems.items() if newest_bad and m & newest_bad.bit), next(iter(problems)))
                yield self.hit(mi.path, call.pos, f"`{call.func}(...)` {text} {scope} (TypeError){_hint(kb, call.resolved, kws)}{note}",
                               severity=severity)


def _hint(kb, dotted: str, keywords: list[str]) -> str:
    for entry in kb.by_symbol(dotted):
        if entry.kind == "signature" and any(f"{k}=" in entry.message or f"`{k}`" in entry.message or k in entry.replacement for k in keywords):
            return f"; use {entry.replacement}"
    return ""


# --------------------------------------------------------------------------- RA909

class TimmUnknownModel(Rule):
    """`timm.create_model(name)` with a name timm does not register in the admitted versions.

    **What it does.** Reads the model name of every `timm.create_model(...)` call -- a literal, or
    the value a run's composed config gives (`timm.create_model(cfg.model.name)`) -- drops a
    pretrained tag (`resnet18.a1_in1k` -> `resnet18`), and looks the architecture up among the
    functions timm's own code decorates with `@register_model` (and its deprecated-name tables),
    for each admitted timm version. Hub names (`hf-hub:...`) are not judged.

    **Why is this bad?** `create_model` raises `RuntimeError: Unknown model (...)` before
    anything trains; LLM-written configs invent names (`mobilenet_v2_gn`, `resnet20`) that
    timm never had.

    **Example.** `timm.create_model("resnet20", num_classes=10)`.

    **Use instead.** A registered name (`timm.list_models("resnet*")`), or a model the bundle
    defines itself.
    """

    code = "RA909"
    name = "timm-unknown-model"
    topic = "exec"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={"src/model.py": "import timm\nm = timm.create_model('resnet18.a1_in1k', pretrained=True, num_classes=10)\nv = timm.create_model('vit_tiny_patch16_224')\nh = timm.create_model('hf-hub:timm/x')\n"}),
        Case(files={"src/model.py": "import timm\ndef build(name):\n    return timm.create_model(name)\n"}, note="a name the audit cannot know"),
    ]
    INVALID = [
        Case(files={"src/model.py": "import timm\nm = timm.create_model('resnet20', num_classes=10)\n"}, path="src/model.py", line=2, severity="blocker"),
        Case(files={"src/model.py": "from timm import create_model\n\nm = create_model(model_name='mobilenet_v2_gn')\n"}, path="src/model.py", line=3),
    ]

    def check(self, ctx):
        idx = bundle_index(ctx)
        for mi in idx.modules.values():
            for call in mi.facts.calls:
                if call.resolved not in TIMM_CREATE:
                    continue
                expr = call.keyword("model_name")
                if expr is None and call.positional():
                    expr = call.positional()[0]
                values = expression_values(ctx, mi.facts, call.function, call.pos.line, expr)
                seen: set[str] = set()
                for value, run_id in values:
                    if not isinstance(value, str) or value in seen:
                        continue
                    seen.add(value)
                    hit = self._judge(ctx, value, run_id)
                    if hit is not None:
                        severity, text = hit
                        yield self.hit(mi.path, call.pos, f"`{call.func}({value!r})`{text}", severity=severity)

    def _judge(self, ctx, name: str, run_id: str | None) -> tuple[Severity, str] | None:
        if name.startswith(("hf-hub:", "hf_hub:", "local-dir:")) or "/" in name:
            return None
        lib = library_of("timm")
        if lib is None:
            return None
        reg = lib.timm_registry()
        models = reg.get("timm_models") or {}
        deprecated = reg.get("timm_deprecated") or {}
        arch = name.split(".", 1)[0]
        adm = admitted_versions(ctx, lib)
        covered = reg.get("timm_in", 0)
        have = models.get(arch, 0) | deprecated.get(arch, 0)
        bad = covered & ~have
        found = verdict(ctx, adm, bad)
        if found is None:
            return None
        severity, scope = found
        close = difflib.get_close_matches(arch, list(models), n=3, cutoff=0.75)
        near = f"; close registered names: {', '.join(close)}" if close else ""
        src = f" (run {run_id})" if run_id else ""
        return severity, f"{src}: timm registers no model `{arch}` {scope} (RuntimeError: Unknown model){near}"
