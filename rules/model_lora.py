"""LoRA target modules judged against the architecture's real submodule names (RA405)."""
from __future__ import annotations

import re

from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Severity
from reviewer_audit.program.bundle_index import bundle_index
from reviewer_audit.program.runs import run_model
from reviewer_audit.rules._library import admitted_versions, expression_values, library_of

_CONFIGS = {f"peft.{n}" for n in ("LoraConfig", "AdaLoraConfig", "IA3Config", "LoHaConfig", "LoKrConfig", "VeraConfig")} | {
    "peft.tuners.lora.LoraConfig", "peft.tuners.adalora.AdaLoraConfig",
}
#: Layer classes LoRA can wrap (peft's dispatchers: torch, transformers' Conv1D, bitsandbytes).
_SUPPORTED = frozenset({
    "Linear", "Embedding", "Conv1d", "Conv2d", "Conv3d", "Conv1D", "MultiheadAttention", "NonDynamicallyQuantizableLinear",
    "Linear8bitLt", "Linear4bit", "QuantLinear", "Params4bit",
})
_REGEX = re.compile(r"[\\^$*+?()\[\]|{}]")


def model_family(archs: dict, model_id: str) -> tuple[list[str], str] | None:
    """The transformers model types a checkpoint id can be: the architecture whose files name
    that checkpoint (`_CHECKPOINT_FOR_DOC`, archive maps), else every type sharing the longest
    model-type prefix of the id's name (`Llama-2-7b-hf` -> llama, llama4; `deberta-v3-base` ->
    deberta, deberta-v2). None when nothing matches."""
    wanted = model_id.strip().lower()
    base = wanted.rsplit("/", 1)[-1]
    for mt, a in archs.items():
        for ck in (a.get("checkpoints") or {}):
            ck = ck.lower()
            if ck == wanted or ck.rsplit("/", 1)[-1] == base:
                return [mt], "checkpoint"
    norm = base.replace("_", "-")
    best = ""
    for mt in archs:
        t = mt.replace("_", "-")
        if norm.startswith(t) and len(t) > len(best) and (len(norm) == len(t) or not norm[len(t)].isalpha()):
            best = t
    if not best:
        return None
    return sorted(mt for mt in archs if mt.replace("_", "-").startswith(best)), "name"


def _commands_of(ctx, path: str, line: int, run_ids: list[str]) -> list[int] | None:
    """The commands of these runs that execute the line: the defect is theirs alone (another run's
    config may name the right modules). None (every command that reaches it) for a literal."""
    if not run_ids:
        return None
    rm = run_model(ctx)
    reach = rm.reach(path, line)
    chosen = [i for i, run in enumerate(rm.runs) if run.command.run_id in run_ids]
    return [i for i in chosen if reach is None or i in reach]


class LoraTargetModules(Rule):
    """LoRA `target_modules` name no submodule of the model, or only modules LoRA cannot wrap.

    **What it does.** Reads `target_modules` of every `LoraConfig(...)` (and the other PEFT
    configs that match modules the same way) -- a literal list, or the list a run's composed
    config gives -- and the model id of the bundle's `from_pretrained(...)` calls on
    transformers classes. The id maps to a `model_type` through the checkpoints the
    architecture's own files name, else through the longest model-type prefix of its name (all
    types sharing that prefix count). The submodule names of that architecture come from the
    library index: every `self.<name> = <Layer>(...)` its modeling code assigns, across the
    admitted transformers versions. Reported: no target matches any of those names (nor an
    attribute the bundle assigns itself), or a target matches only container modules
    (`RobertaOutput`) that LoRA cannot wrap. Regex targets, `all-linear`, models wrapping
    another AutoModel and ids that map to no known type are not judged.

    **Why is this bad?** `get_peft_model` raises `ValueError: Target modules {...} not found in
    the base model` (LLaMA-style `q_proj` on BERT, whose attention has `query`/`value`), or
    `Target module RobertaOutput(...) is not supported`.

    **Example.** `LoraConfig(target_modules=["q_proj", "v_proj"])` with
    `AutoModelForSequenceClassification.from_pretrained("bert-base-uncased")`.

    **Use instead.** The architecture's own linear layers (`["query", "value"]` for BERT).
    """

    code = "RA405"
    name = "lora-target-modules"
    topic = "model"
    severity = Severity.blocker
    requirement = None

    _BERT = "from transformers import AutoModelForSequenceClassification\nfrom peft import LoraConfig, get_peft_model\n"
    VALID = [
        Case(files={"src/model.py": _BERT + "m = AutoModelForSequenceClassification.from_pretrained('bert-base-uncased')\nm = get_peft_model(m, LoraConfig(target_modules=['query', 'value']))\n"}),
        Case(files={"src/model.py": _BERT + "m = AutoModelForSequenceClassification.from_pretrained('meta-llama/Llama-2-7b-hf')\nm = get_peft_model(m, LoraConfig(target_modules=['q_proj', 'v_proj']))\n"}),
        Case(files={"src/model.py": _BERT + "m = AutoModelForSequenceClassification.from_pretrained('microsoft/deberta-v3-base')\nm = get_peft_model(m, LoraConfig(target_modules=['query_proj', 'value_proj']))\n"},
             note="deberta-v3 is a deberta-v2 architecture; the deberta family is judged together"),
        Case(files={"src/model.py": _BERT + "m = AutoModelForSequenceClassification.from_pretrained('some-org/custom-model')\nm = get_peft_model(m, LoraConfig(target_modules=['q_proj']))\n"},
             note="an id that maps to no known model type"),
        Case(files={"src/model.py": _BERT + "m = AutoModelForSequenceClassification.from_pretrained('bert-base-uncased')\nm = get_peft_model(m, LoraConfig(target_modules='.*attention.*(query|value)'))\n"},
             note="a regex is not judged"),
    ]
    INVALID = [
        Case(files={"src/model.py": _BERT + "m = AutoModelForSequenceClassification.from_pretrained('bert-base-uncased')\nm = get_peft_model(m, LoraConfig(target_modules=['q_proj', 'v_proj']))\n"},
             path="src/model.py", line=4),
        Case(files={"src/model.py": _BERT + "m = AutoModelForSequenceClassification.from_pretrained('roberta-base')\nm = get_peft_model(m, LoraConfig(target_modules=['query', 'value', 'output']))\n"},
             path="src/model.py", line=4, note="`output` matches RobertaOutput/RobertaSelfOutput containers"),
    ]

    def check(self, ctx):
        idx = bundle_index(ctx)
        configs = [(mi, call) for mi in idx.modules.values() for call in mi.facts.calls if call.resolved in _CONFIGS]
        lib = library_of("transformers") if configs else None
        if lib is None:
            return
        archs = lib.architectures()
        if not archs:
            return
        adm = admitted_versions(ctx, lib)
        mask = (adm.now | adm.later) or lib.all_mask
        models = self._model_ids(ctx, idx)
        own = set()
        for mi in idx.modules.values():
            own |= mi.attr_stores | set(mi.attr_store_values)
        for mi, call in configs:
            expr = call.keyword("target_modules")
            found: dict[str, list[str]] = {}  # message -> runs
            for targets, run_id in expression_values(ctx, mi.facts, call.function, call.pos.line, expr):
                if not isinstance(targets, (list, tuple)) or not targets or not all(isinstance(t, str) for t in targets):
                    continue
                if any(t == "all-linear" or _REGEX.search(t) for t in targets):
                    continue
                for model_id in sorted({m for m, r in models if r is None or run_id is None or r == run_id}):
                    msg = self._judge(lib, archs, mask, model_id, list(targets), own)
                    if msg:
                        found.setdefault(f"`{call.func}(target_modules={list(targets)})`{{runs}}: {msg}", []).append(run_id or "")
                        break
            for msg, runs in found.items():
                named = list(dict.fromkeys(r for r in runs if r))
                yield self.hit(mi.path, call.pos, msg.replace("{runs}", f" (run{'s' if len(named) > 1 else ''} {', '.join(named)})" if named else ""),
                               on=_commands_of(ctx, mi.path, call.pos.line, named))

    def _model_ids(self, ctx, idx) -> set[tuple[str, str | None]]:
        out = set()
        for mi in idx.modules.values():
            for call in mi.facts.calls:
                if not call.resolved or not call.resolved.startswith("transformers.") or not call.resolved.endswith(".from_pretrained"):
                    continue
                if "Tokenizer" in call.resolved or "Processor" in call.resolved or "Config" in call.resolved:
                    continue
                expr = call.keyword("pretrained_model_name_or_path")
                if expr is None and call.positional():
                    expr = call.positional()[0]
                for value, run_id in expression_values(ctx, mi.facts, call.function, call.pos.line, expr):
                    if isinstance(value, str) and value:
                        out.add((value, run_id))
        return out

    def _judge(self, lib, archs: dict, mask: int, model_id: str, targets: list[str], own: set[str]) -> str | None:
        family = model_family(archs, model_id)
        if family is None:
            return None
        types, how = family
        names: dict[str, set[str]] = {}
        for mt in types:
            a = archs[mt]
            if not (a.get("in", 0) & mask) or a.get("wraps_auto", 0) & mask:
                return None
            for n, kinds in lib.architecture_modules(mt).items():
                for value, m in ([(kinds, mask)] if isinstance(kinds, str) else kinds):
                    if m & mask:
                        names.setdefault(n, set()).update(value.split(","))
        if not names:
            return None
        label = "/".join(types)
        matched = [t for t in targets if t.rsplit(".", 1)[-1] in names or t.rsplit(".", 1)[-1] in own]
        if not matched:
            linear = sorted(n for n, k in names.items() if k & {"Linear", "Conv1D"})[:10]
            return (f"no target matches a submodule of the {label} architecture that `{model_id}` maps to "
                    f"({'named in its files' if how == 'checkpoint' else 'by its name'}); peft raises ValueError "
                    f"(Target modules ... not found in the base model); its linear layers include: {', '.join(linear)}")
        for t in matched:
            leaf = t.rsplit(".", 1)[-1]
            kinds = names.get(leaf)
            if not kinds or leaf in own or "?" in kinds or kinds & _SUPPORTED or any(k[:1].islower() for k in kinds):
                continue
            return (f"target `{t}` matches only {', '.join(sorted(kinds))} modules of {label} (`{model_id}`), which LoRA "
                    f"cannot wrap; peft raises ValueError (Target module ... is not supported)")
        return None
