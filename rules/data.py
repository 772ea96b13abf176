"""Data-pipeline rules: the label column survives preprocessing; caches live in `.cache/`."""
from __future__ import annotations

import libcst as cst

from reviewer_audit.engine import Case, Rule
from reviewer_audit.program.facts import dotted_name, literal_string, string_values
from reviewer_audit.engine.findings import Severity
from reviewer_audit.rules._library import TIMM_CREATE, expression_values

LABEL_NAMES = ("label", "labels")


def _needs_labels(ctx) -> bool:
    """Supervised classification code reads a label column somewhere in the bundle."""
    for mod in ctx.modules.values():
        if any(s.key in LABEL_NAMES for s in mod.subscripts):
            return True
        if any(c.func and "ForSequenceClassification" in c.func for c in mod.calls):
            return True
    return False


def _mentions_label(mod, fn_name: str | None) -> bool | None:
    """Whether the map function (a def in this module) produces a label key itself; None when
    the function is not visible here."""
    fn = mod.functions.get(fn_name) if fn_name else None
    if fn is None:
        fn = next((f for f in mod.functions.values() if f.name == fn_name), None)
    if fn is None:
        return None
    code = mod.tree.code_for_node(fn.node)
    return any(f'"{n}"' in code or f"'{n}'" in code for n in LABEL_NAMES)


#: Collators that build `labels` from the inputs themselves (causal / masked LM, seq2seq).
LABEL_COLLATORS = ("DataCollatorForLanguageModeling", "DataCollatorForSeq2Seq", "DataCollatorForWholeWordMask")


def _labels_made_later(ctx) -> bool:
    """Some step of the pipeline writes a label key itself (`out["labels"] = ...` in another map
    function or the collator) or uses a collator that builds labels: dropping the original
    columns in one map does not leave the batches without labels."""
    for mod in ctx.modules.values():
        if any(s.key in LABEL_NAMES and s.ctx == "store" for s in mod.subscripts):
            return True
        if any(c.func and c.func.rsplit(".", 1)[-1] in LABEL_COLLATORS for c in mod.calls):
            return True
    return False


def _removes_all_columns(expr: cst.BaseExpression) -> bool:
    """`ds.column_names` or `raw["train"].column_names` (not a filtered comprehension)."""
    name = dotted_name(expr)
    if isinstance(expr, cst.Attribute) and expr.attr.value == "column_names":
        return True
    return bool(name and name.endswith(".column_names"))


class LabelColumnDropped(Rule):
    """Preprocessing removes the label column, so batches carry no `labels`.

    **What it does.** Finds `dataset.map(fn, remove_columns=...)` that removes every original
    column (`ds.column_names`) or lists `label`/`labels` explicitly, when the map function does
    not put a label back, in bundles that train a classifier. Dropping every column is fine when
    a later step writes the label itself (`out["labels"] = ...` in the next map, a collator that
    builds labels). Also `select_columns`/`set_format(columns=...)` lists that leave the label out.

    **Why is this bad?** Without `labels` the model returns no loss: `out.loss` is None and the
    training step crashes (`TypeError: unsupported operand type(s) for /: 'NoneType'`) -- seed_000
    D-08, the one issue the reviewer did name.

    **Example.** `raw.map(tok, batched=True, remove_columns=raw["train"].column_names)`

    **Use instead.** `remove_columns=[c for c in cols if c != "label"]`, then rename to `labels`.
    """

    code = "RA301"
    name = "label-column-dropped"
    topic = "data"
    severity = Severity.blocker
    needs = ("preprocess",)

    _TRAIN = "import torch\nfrom transformers import AutoModelForSequenceClassification\nm = AutoModelForSequenceClassification.from_pretrained('x')\ndef step(batch):\n    return batch['labels']\n"
    VALID = [
        Case(files={"src/train.py": _TRAIN, "src/preprocess.py": "def prep(raw, tok):\n    cols = [c for c in raw['train'].column_names if c != 'label']\n    return raw.map(tok, batched=True, remove_columns=cols)\n"}),
        Case(files={"src/train.py": _TRAIN, "src/preprocess.py": "def prep(raw, tokenizer):\n    def tok(b):\n        out = tokenizer(b['text'])\n        out['labels'] = b['label']\n        return out\n    return raw.map(tok, batched=True, remove_columns=raw['train'].column_names)\n"}),
        Case(files={"src/preprocess.py": "def prep(raw, tok):\n    return raw.map(tok, batched=True, remove_columns=raw['train'].column_names)\n"}, note="language modelling: no label column needed"),
        Case(files={"src/train.py": _TRAIN, "src/preprocess.py": (
            "def fmt(ex):\n    return {'prompt': ex['question'], 'full_text': ex['question'] + ex['answer']}\n\n"
            "def prep(raw, tokenizer):\n    ds = raw.map(fmt, remove_columns=raw.column_names)\n"
            "    def tok(b):\n        out = tokenizer(b['full_text'])\n        out['labels'] = out['input_ids']\n        return out\n"
            "    return ds.map(tok, batched=True, remove_columns=ds.column_names)\n")},
            note="a later map builds labels (known-good airas-20251115 7514af9: preprocess.py:41 then _tok)"),
    ]
    #: train.py runs the preprocessing, as a real bundle does
    _RUNS = _TRAIN + "\nfrom src.preprocess import prep\nprep(None, None)\n"
    INVALID = [
        Case(files={"src/train.py": _RUNS, "src/preprocess.py": "def prep(raw, tokenizer):\n    def tok(b):\n        return tokenizer(b['premise'], b['hypothesis'])\n    return raw.map(tok, batched=True, remove_columns=raw['train'].column_names)\n"}, path="src/preprocess.py", line=4),
        Case(files={"src/train.py": _RUNS, "src/preprocess.py": "def prep(ds, tok):\n    return ds.map(tok, remove_columns=['sentence', 'label', 'idx'])\n"}, path="src/preprocess.py", line=2),
    ]

    def check(self, ctx):
        if not _needs_labels(ctx):
            return
        for path, mod in sorted(ctx.modules.items()):
            for call in mod.method_calls("map"):
                removed = call.keyword("remove_columns")
                if removed is None:
                    continue
                fn = call.positional()[0] if call.positional() else call.keyword("function")
                if isinstance(fn, cst.Call) and dotted_name(fn.func) in ("functools.partial", "partial") and fn.args:
                    fn = fn.args[0].value  # partial(tokenise, tokenizer=tok) maps with `tokenise`
                fn_name = dotted_name(fn) if fn is not None else None
                if isinstance(fn, cst.Lambda):
                    continue
                listed = string_values(removed)
                relabels = _mentions_label(mod, fn_name)
                # a map function we cannot see gets the benefit of the doubt, unless the label is
                # removed by name: then only a visible function that re-creates it clears it
                if _removes_all_columns(removed) and relabels is False and not _labels_made_later(ctx):
                    yield self.hit(path, call.pos, "map(remove_columns=<all columns>) drops the label column and the map function does not return one; batches will have no 'labels'")
                elif any(n in listed for n in LABEL_NAMES) and not relabels:
                    yield self.hit(path, call.pos, f"map(remove_columns={listed}) drops the label column; batches will have no 'labels'")
            for call in [*mod.method_calls("select_columns"), *mod.method_calls("set_format")]:
                cols = call.keyword("columns") if call.method == "set_format" else (call.positional()[0] if call.positional() else call.keyword("column_names"))
                listed = string_values(cols)
                if len(listed) > 1 and not any(n in listed for n in LABEL_NAMES):
                    yield self.hit(path, call.pos, f"{call.method}({listed}) keeps no label column; batches will have no 'labels'")


#: Loader calls that download datasets or models, and the keyword that sets their cache.
CACHE_KEYWORDS = {
    "load_dataset": "cache_dir",
    "from_pretrained": "cache_dir",
    "snapshot_download": "cache_dir",
    "hf_hub_download": "cache_dir",
}
#: Environment variables that redirect Hugging Face caches globally.
CACHE_ENV = ("HF_HOME", "HF_DATASETS_CACHE", "TRANSFORMERS_CACHE", "HF_HUB_CACHE", "TORCH_HOME")


_TIMM_CONFIG = "defaults:\n  - _self_\n  - run: ???\nresults_dir: results\nmode: full\n"
_TIMM_RUN = "run_id: r1\nmodel:\n  name: resnet18\n  pretrained: {pretrained}\n"
_TIMM_MAIN = (
    "import hydra\nimport timm\n"
    '@hydra.main(config_path="../config", config_name="config", version_base=None)\n'
    "def main(cfg):\n"
    "    m = cfg.run.model\n"
    "    net = timm.create_model(m.name, pretrained=m.pretrained, num_classes=10)\n"
    '\n\nif __name__ == "__main__":\n    main()\n'
)


class CacheDirNotDotCache(Rule):
    """Datasets or models are cached outside `.cache/`.

    **What it does.** Checks `load_dataset(...)` and `*.from_pretrained(...)` calls for a
    `cache_dir` under `.cache/`, unless the bundle points the Hugging Face cache there through
    `HF_HOME`/`HF_DATASETS_CACHE`/`TRANSFORMERS_CACHE`. A literal `cache_dir` elsewhere, or
    none at all, is reported once per file. `timm.create_model(...)` downloads only when
    `pretrained` is true, so it is reported only where it is: a literal, or the value a run's
    config really gives it (`pretrained=cfg.model.pretrained`), with that run named.

    **Why is this bad?** The prompt requires `.cache/` as the cache directory for all datasets
    and models; pipelines mount and reuse that folder, so anything else is re-downloaded every
    run (seed_000 D-20 shows the cost).

    **Example.** `load_dataset("glue", "sst2")`

    **Use instead.** `load_dataset("glue", "sst2", cache_dir=".cache/")`
    """

    code = "RA302"
    name = "cache-dir-not-dot-cache"
    topic = "data"
    severity = Severity.major
    requirement = "cache_dir"

    VALID = [
        Case(files={"src/preprocess.py": "from datasets import load_dataset\nCACHE = '.cache/'\nds = load_dataset('glue', 'sst2', cache_dir=CACHE)\n"}),
        Case(files={"src/preprocess.py": "import os\nos.environ['HF_HOME'] = '.cache/'\nfrom datasets import load_dataset\nds = load_dataset('glue', 'sst2')\n"}),
        Case(files={"src/model.py": "import timm\nm = timm.create_model('resnet18', pretrained=True, cache_dir='.cache/')\n"}),
        Case(files={"src/model.py": "import timm\nm = timm.create_model('resnet18', pretrained=False, num_classes=10)\n"},
             note="random initialisation downloads nothing"),
        Case(files={"src/main.py": _TIMM_MAIN, "config/config.yaml": _TIMM_CONFIG}, runs={"r1": _TIMM_RUN.format(pretrained="false")},
             spec={"run_config_dir": "config/run"}, note="the one run trains from scratch: its config says pretrained: false"),
    ]
    INVALID = [
        Case(files={"src/preprocess.py": "from datasets import load_dataset\nds = load_dataset('glue', 'sst2')\n"}, path="src/preprocess.py", line=2),
        Case(files={"src/model.py": "from transformers import AutoModel\nm = AutoModel.from_pretrained('bert', cache_dir='/tmp/hf')\n"}, path="src/model.py", line=2),
        Case(files={"src/model.py": "import timm\nm = timm.create_model('resnet18', pretrained=True, num_classes=10)\n"}, path="src/model.py", line=2,
             note="timm downloads pretrained weights into ~/.cache/huggingface"),
        Case(files={"src/main.py": _TIMM_MAIN, "config/config.yaml": _TIMM_CONFIG}, runs={"r1": _TIMM_RUN.format(pretrained="true")},
             spec={"run_config_dir": "config/run"}, path="src/main.py", line=6, note="the run's config asks for pretrained weights"),
    ]

    def check(self, ctx):
        if self._env_redirected(ctx):
            return
        yield from self._pretrained_downloads(ctx)
        for path, mod in sorted(ctx.modules.items()):
            for call in mod.calls:
                keyword = CACHE_KEYWORDS.get(call.method or "")
                if keyword is None:
                    continue
                if call.method == "load_dataset" and not (call.resolved or "").startswith("datasets") and call.func != "load_dataset":
                    continue
                value = call.keyword(keyword)
                if value is None:
                    if call.has_star_args:
                        continue
                    yield self.hit(path, call.pos, f"{call.func}(...) has no {keyword}; datasets and models must be cached in .cache/")
                    break
                literal = literal_string(value)
                if literal is not None and ".cache" not in literal:
                    yield self.hit(path, call.pos, f"{call.func}(..., {keyword}={literal!r}) caches outside .cache/")
                    break

    def _pretrained_downloads(self, ctx):
        """`timm.create_model` calls that download weights on some run, once per file."""
        for path, mod in sorted(ctx.modules.items()):
            for call in mod.calls:
                if call.resolved not in TIMM_CREATE or call.has_star_args:
                    continue
                cache = call.keyword("cache_dir")
                if cache is not None and ".cache" in (literal_string(cache) or ".cache"):
                    continue
                expr = call.keyword("pretrained")
                if expr is None and len(call.positional()) > 1:
                    expr = call.positional()[1]
                runs = [run for value, run in expression_values(ctx, mod, call.function, call.pos.line, expr, accept=lambda v: isinstance(v, bool))
                        if value is True]
                if runs:
                    where = f" (pretrained is true on run {', '.join(sorted({r for r in runs if r}))})" if any(runs) else ""
                    yield self.hit(path, call.pos, f"{call.func}(...) downloads pretrained weights into ~/.cache/huggingface{where}; "
                                                   "pass cache_dir='.cache/' or set HF_HOME")
                    break

    @staticmethod
    def _env_redirected(ctx) -> bool:
        for mod in ctx.modules.values():
            for s in mod.subscripts:
                if s.value in ("os.environ",) and s.key in CACHE_ENV and s.ctx == "store":
                    return True
            for call in mod.calls:
                if call.func in ("os.environ.setdefault", "os.putenv") and literal_string(call.positional()[0] if call.positional() else None) in CACHE_ENV:
                    return True
        return False
