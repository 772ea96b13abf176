"""Model / PEFT rules (RA4xx): PEFT APIs used in ways that crash or silently train the wrong thing.

The library facts (versions, behaviour, sources) are entries of
`reviewer_audit/data/library_knowledge.yaml`; these rules find the call sites and check that
the bundle's declared peft range admits an affected release.
"""
from __future__ import annotations

import libcst as cst

from reviewer_audit.program.bundle_index import bundle_index, library_specifier
from reviewer_audit.engine import Case, Rule
from reviewer_audit.program.facts import dotted_name, literal_string
from reviewer_audit.engine.findings import Related, Severity
from reviewer_audit.knowledge.library import load_knowledge

#: attributes of a Tensor / nn.Linear that an nn.ModuleDict does not have
_TENSOR_ATTRS = frozenset({
    "weight", "bias", "data", "grad", "register_hook", "shape", "size", "T", "norm", "detach", "numel",
    "in_features", "out_features", "clone", "copy_", "zero_", "normal_", "fill_", "dim", "mean", "sum",
    "abs", "pow", "item", "cpu", "cuda",
})

_PEFT_CONFIGS = ("LoraConfig", "AdaLoraConfig", "IA3Config", "LoHaConfig", "LoKrConfig", "VeraConfig")


def _uses_peft(ctx) -> bool:
    """The bundle imports peft and not loralib (whose lora_A/lora_B are plain Parameters)."""
    mods = ctx.modules.values()
    return any(m.imports_module("peft") for m in mods) and not any(m.imports_module("loralib") for m in mods)


def _entry(entry_id: str):
    return load_knowledge().get(entry_id)


def _admitted(ctx, entry) -> bool:
    return entry is None or entry.admitted_by(library_specifier(ctx, entry.library))


def _own_lora_attribute(idx, attr: str) -> bool:
    """The bundle assigns `x.lora_A = ...` (its own LoRA layers) or registers it by name."""
    for mi in idx.modules.values():
        if attr in mi.attr_stores:
            return True
        for c in mi.facts.calls:
            if c.func in ("setattr", "self.register_module", "self.add_module", "register_module", "add_module") or (c.method in ("register_module", "add_module", "register_parameter")):
                if any(s == attr for a in c.node.args if (s := _lit(a.value)) is not None):
                    return True
    return False


def _lit(node) -> str | None:
    return literal_string(node)


class LoraModuleDictAsTensor(Rule):
    """`lora_A` / `lora_B` of a PEFT layer used as a tensor or an `nn.Linear`.

    **What it does.** Finds attribute chains such as `module.lora_B.register_hook(...)`,
    `module.lora_A.weight`, `.lora_A.data` or a direct call `module.lora_A(x)` in a bundle that uses
    `peft` and never defines its own `lora_A`/`lora_B` attributes. Indexing by adapter name first
    (`module.lora_A["default"].weight`) is fine.

    **Why is this bad?** Since peft 0.3 (multi-adapter support), `lora_A` and `lora_B` are
    `nn.ModuleDict`s keyed by adapter name. They have no `weight`, `data` or `register_hook`, so
    the access raises `AttributeError` (seed_000 D-06 model.py:28 `'ModuleDict' object has no
    attribute 'register_hook'`, D-07a model.py:51).

    **Example.** `mod.lora_B.register_hook(hook)`.

    **Use instead.** `mod.lora_B["default"].weight.register_hook(hook)` (or iterate
    `mod.lora_B.values()`).
    """

    code = "RA401"
    name = "peft-lora-moduledict-as-tensor"
    topic = "model"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={"src/model.py": (
            "from peft import LoraConfig, get_peft_model\n\n"
            "def hooks(model, h):\n    for m in model.modules():\n        if hasattr(m, 'lora_B'):\n            m.lora_B['default'].weight.register_hook(h)\n"
            "            for lin in m.lora_A.values():\n                lin.weight.data.zero_()\n"
        )}),
        Case(files={"src/model.py": (
            "import torch.nn as nn\nfrom peft import get_peft_model\n\n"
            "class MyLoRA(nn.Module):\n    def __init__(self, d, r):\n        super().__init__()\n        self.lora_A = nn.Linear(d, r)\n\n"
            "    def forward(self, x):\n        return self.lora_A.weight @ x\n"
        )}, note="the bundle's own LoRA layer"),
    ]
    INVALID = [
        Case(files={"src/model.py": (
            "from peft import LoraConfig, get_peft_model\n\n"
            "def hooks(model, h):\n    for m in model.modules():\n        if hasattr(m, 'lora_B'):\n            m.lora_B.register_hook(h)\n"
        )}, path="src/model.py", line=6),
        Case(files={"src/model.py": "import peft\n\ndef rank(module):\n    return module.lora_A.weight.size(0)\n"}, path="src/model.py", line=4),
    ]

    def check(self, ctx):
        if not _uses_peft(ctx):
            return
        idx = bundle_index(ctx)
        for attr, entry_id in (("lora_A", "peft-lora-a-moduledict"), ("lora_B", "peft-lora-b-moduledict")):
            entry = _entry(entry_id)
            if not _admitted(ctx, entry) or _own_lora_attribute(idx, attr):
                continue
            for mi in idx.modules.values():
                seen: set[int] = set()
                for use in mi.attr_uses:
                    parts = use.dotted.split(".")
                    if attr not in parts[1:]:
                        continue
                    i = parts.index(attr, 1)
                    nxt = parts[i + 1] if i + 1 < len(parts) else None
                    if nxt is None and not use.called:
                        continue
                    if nxt is not None and nxt not in _TENSOR_ATTRS:
                        continue
                    if use.pos.line in seen:
                        continue
                    seen.add(use.pos.line)
                    shown = ".".join(parts[i - 1: i + 2]) if nxt else ".".join(parts[i - 1: i + 1]) + "(...)"
                    yield self.hit(mi.path, use.pos, f"`{shown}`: PEFT's `{attr}` is an nn.ModuleDict keyed by adapter name, so this raises AttributeError; use `{attr}[adapter_name]` (e.g. `{attr}['default'].weight`)")


class PeftUpdateLayerArgs(Rule):
    """`update_layer(...)` on a PEFT LoRA layer without its required positional arguments.

    **What it does.** Finds calls `x.update_layer(...)` in a bundle that uses `peft` and defines no
    `update_layer` of its own, and checks that `adapter_name`, `r` and `lora_alpha` -- required
    positionally in every peft release since 0.3 -- are passed (by position or keyword).

    **Why is this bad?** The call raises `TypeError: update_layer() missing ... required
    positional arguments` (seed_000 D-07a model.py:58, `module.update_layer(r=new_r)`).
    `update_layer` is an internal API whose signature changes between releases.

    **Example.** `module.update_layer(r=new_r)`.

    **Use instead.** Rebuild adapters through the public API (`add_adapter`, `get_peft_model`),
    or pass every argument of the installed release, e.g.
    `module.update_layer("default", new_r, lora_alpha, ...)`.
    """

    code = "RA402"
    name = "peft-update-layer-args"
    topic = "model"
    severity = Severity.blocker
    requirement = None

    _REQUIRED = ("adapter_name", "r", "lora_alpha")

    VALID = [
        Case(files={"src/model.py": "import peft\n\ndef grow(m, r):\n    m.update_layer('default', r, 16, 0.0, True)\n    m.update_layer(adapter_name='default', r=r, lora_alpha=16, lora_dropout=0.0, init_lora_weights=True)\n"}),
        Case(files={"src/model.py": "import peft\n\nclass L:\n    def update_layer(self, r):\n        self.r = r\n\nL().update_layer(r=3)\n"},
             note="the bundle's own update_layer"),
    ]
    INVALID = [
        Case(files={"src/model.py": "import peft\n\ndef grow(module, new_r):\n    module.update_layer(r=new_r)\n"}, path="src/model.py", line=4),
    ]

    def check(self, ctx):
        if not _uses_peft(ctx):
            return
        entry = _entry("peft-lora-update-layer-args")
        if not _admitted(ctx, entry):
            return
        idx = bundle_index(ctx)
        if any(f.name == "update_layer" for mi in idx.modules.values() for f in mi.facts.functions.values()):
            return
        for mi in idx.modules.values():
            for call in mi.facts.method_calls("update_layer"):
                if not isinstance(call.node.func, cst.Attribute) or call.has_star_args:
                    continue
                n = len(call.positional())
                kws = {a.keyword.value for a in call.node.args if a.keyword is not None}
                missing = [p for i, p in enumerate(self._REQUIRED) if i >= n and p not in kws]
                if missing:
                    yield self.hit(mi.path, call.pos, f"`{call.func}(...)` leaves out {', '.join(repr(m) for m in missing)}: PEFT's LoraLayer.update_layer takes adapter_name, r, lora_alpha (and, by release, lora_dropout, init_lora_weights, ...) positionally, so this raises TypeError")


class AdaLoraTotalStepMissing(Rule):
    """`AdaLoraConfig(...)` without `total_step`.

    **What it does.** Finds `peft.AdaLoraConfig(...)` calls that pass no `total_step` (calls with
    `**kwargs` are not judged). Blocker when the bundle's peft range admits a release that
    rejects it (>= 0.15, from `library_knowledge.yaml`); major otherwise.

    **Why is this bad?** peft >= 0.15 raises `ValueError: AdaLoRA does not work when total_step
    is None` when the config is built (seed_000 D-10 model.py:81). Older releases accept it but
    AdaLoRA's rank budget schedule needs the total number of steps.

    **Example.** `AdaLoraConfig(target_r=8, init_r=12, tinit=200)`.

    **Use instead.** `AdaLoraConfig(..., total_step=num_epochs * steps_per_epoch)`.
    """

    code = "RA403"
    name = "adalora-total-step-missing"
    topic = "model"
    severity = Severity.blocker
    requirement = None

    VALID = [
        Case(files={"src/model.py": "from peft import AdaLoraConfig\ncfg = AdaLoraConfig(init_r=12, target_r=8, total_step=1000)\nother = AdaLoraConfig(**kw)\n"}),
    ]
    INVALID = [
        Case(files={"src/model.py": "from peft import AdaLoraConfig, get_peft_model\n\ndef build(base):\n    cfg = AdaLoraConfig(init_r=12, target_r=8, tinit=200)\n    return get_peft_model(base, cfg)\n"},
             path="src/model.py", line=4),
        Case(files={"pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["peft>=0.10,<0.14"]\n',
                    "src/model.py": "import peft\ncfg = peft.AdaLoraConfig(target_r=8)\n"}, path="src/model.py", line=2,
             note="old peft: major"),
    ]

    def check(self, ctx):
        entry = _entry("peft-adalora-total-step")
        names = set(entry.names) if entry else {"peft.AdaLoraConfig"}
        for path, m in ctx.modules.items():
            for call in m.calls:
                if call.resolved not in names:
                    continue
                if any(a.star == "**" for a in call.node.args) or call.keyword("total_step") is not None:
                    continue
                if entry is None or _admitted(ctx, entry):
                    yield self.hit(path, call.pos, f"`{call.func}(...)` without total_step: peft >= 0.15 raises ValueError('AdaLoRA does not work when total_step is None'), and the declared peft range admits it")
                else:
                    yield self.hit(path, call.pos, f"`{call.func}(...)` without total_step: the AdaLoRA rank budget schedule needs the number of training steps (newer peft rejects the config)", severity=Severity.major)


class PeftSeqClsWithoutTaskType(Rule):
    """A LoRA config for a sequence-classification model has no `task_type` and no `modules_to_save`.

    **What it does.** In a module that builds a `*ForSequenceClassification` /
    `*ForTokenClassification` model and wraps it with `get_peft_model`, finds
    `LoraConfig`/`AdaLoraConfig`/... calls without `task_type` and without `modules_to_save`
    (calls with `**kwargs` are not judged). Silent when the bundle sets `task_type` or
    `modules_to_save` by attribute, or unfreezes parameters itself (`requires_grad = True`,
    `requires_grad_()`).

    **Why is this bad?** Without a task type `get_peft_model` returns a plain `PeftModel`, which
    freezes every non-adapter parameter. The classification head that `from_pretrained` has just
    initialised randomly is never trained, so every method is evaluated with a random classifier:
    the results are invalid (seed_000 D-09, model.py:19/81/92). With `task_type="SEQ_CLS"` PEFT
    marks `classifier`/`score` as `modules_to_save` and trains it.

    **Example.** `get_peft_model(AutoModelForSequenceClassification.from_pretrained(name), LoraConfig(r=8))`.

    **Use instead.** `LoraConfig(r=8, task_type="SEQ_CLS")` (or `modules_to_save=["classifier"]`).
    """

    code = "RA404"
    name = "peft-seq-cls-without-task-type"
    topic = "model"
    severity = Severity.blocker
    requirement = None
    #: the head stays untrained where the model trains; evaluate.py rebuilding it to load
    #: trained weights is not harmed
    affects = frozenset({"main", "child", "script"})

    _MODEL = (
        "from peft import LoraConfig, get_peft_model\nfrom transformers import AutoModelForSequenceClassification\n\n"
        "def build(name):\n    base = AutoModelForSequenceClassification.from_pretrained(name, num_labels=2)\n"
        "    cfg = LoraConfig(r=8{extra})\n    return get_peft_model(base, cfg)\n"
    )
    VALID = [
        Case(files={"src/model.py": _MODEL.format(extra=", task_type='SEQ_CLS'")}),
        Case(files={"src/model.py": _MODEL.format(extra=", modules_to_save=['classifier']")}),
        Case(files={"src/model.py": _MODEL.format(extra="") + "\ndef unfreeze(m):\n    for n, p in m.named_parameters():\n        if 'classifier' in n:\n            p.requires_grad = True\n"}),
        Case(files={"src/model.py": "from peft import LoraConfig, get_peft_model\nfrom transformers import AutoModelForCausalLM\n\nm = get_peft_model(AutoModelForCausalLM.from_pretrained('x'), LoraConfig(r=8))\n"},
             note="no classification head"),
        Case(files={"src/model.py": _MODEL.format(extra=""),
                    "src/main.py": "import hydra\n\n@hydra.main(config_path='../config', config_name='config', version_base=None)\ndef main(cfg):\n    print(cfg.mode)\n\n"
                                   "if __name__ == '__main__':\n    main()\n",
                    "src/evaluate.py": "from src.model import build\n\nif __name__ == '__main__':\n    build('x')\n",
                    "config/config.yaml": "mode: full\n"}, allow="minor",
             note="only evaluate.py builds the model (to load trained weights): no command trains it"),
    ]
    INVALID = [
        Case(files={"src/model.py": _MODEL.format(extra="")}, path="src/model.py", line=6),
    ]

    def check(self, ctx):
        entry = _entry("peft-seq-cls-without-task-type")
        if not _admitted(ctx, entry):
            return
        idx = bundle_index(ctx)
        for mi in idx.modules.values():
            if any(k in mi.attr_stores for k in ("task_type", "modules_to_save")):
                return
        if _unfreezes(idx):
            return
        for mi in idx.modules.values():
            m = mi.facts
            heads = [c for c in m.calls if c.resolved and c.resolved.startswith("transformers.") and (
                "ForSequenceClassification" in c.resolved or "ForTokenClassification" in c.resolved)]
            wraps = [c for c in m.calls if c.resolved in ("peft.get_peft_model", "peft.PeftModel", "peft.mapping.get_peft_model")]
            if not heads or not wraps:
                continue
            head = heads[0]
            for call in m.calls:
                if not call.resolved or not call.resolved.startswith("peft.") or call.resolved.rsplit(".", 1)[-1] not in _PEFT_CONFIGS:
                    continue
                if any(a.star == "**" for a in call.node.args):
                    continue
                if call.keyword("task_type") is not None or call.keyword("modules_to_save") is not None:
                    continue
                kind = "SEQ_CLS" if "ForSequenceClassification" in (head.resolved or "") else "TOKEN_CLS"
                yield self.hit(
                    mi.path, call.pos,
                    f"`{call.func}(...)` has no task_type and no modules_to_save, so get_peft_model returns a plain PeftModel that freezes the newly initialised classification head "
                    f"of the `{(head.func or '').split('.')[0]}` model (line {head.pos.line}); it is never trained (pass task_type=\"{kind}\")",
                    related=[Related(label="classification model built", path=mi.path, line=head.pos.line)],
                )


def _unfreezes(idx) -> bool:
    """The bundle may set requires_grad=True itself (any store other than a literal False)."""
    for mi in idx.modules.values():
        if any(v != "False" for v in mi.attr_store_values.get("requires_grad", ())):
            return True
        for c in mi.facts.calls:
            if c.method == "requires_grad_":
                first = c.positional()[0] if c.positional() else c.keyword("requires_grad")
                if first is None or dotted_name(first) != "False":
                    return True
    return False
