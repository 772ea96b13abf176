"""Completeness rules: placeholders, truncation markers and stub bodies."""
from __future__ import annotations

import re

from reviewer_audit.engine import Case, Rule
from reviewer_audit.engine.findings import Severity
from reviewer_audit.ingest.yamlio import leaf_items

#: Text that marks unfinished or elided code in generated bundles.
PLACEHOLDER_TEXT = re.compile(
    r"\bTODO\b|\bFIXME\b|\b[A-Z_]*PLACEHOLDER\b|omitted for brevity|simplified version|\[UNCHANGED\]",
    re.IGNORECASE,
)
#: Case-sensitive forms: the prompt's own tokens are upper-case; "todo" in prose is not a marker.
_MARKER_CASE = re.compile(r"TODO|FIXME|PLACEHOLDER|\[UNCHANGED\]")
#: What the author says of its own code in a comment or docstring when the code stands in for
#: the real thing: "placeholder for merge", "simplified but functional", "for demonstration
#: purposes", "we do not implement head-level gating here". Only comments and docstrings are read
#: for these: in a data string "placeholder" is data. A placeholder *value* that the code fills
#: later ("placeholder updated later") is not one. "Unchanged from the previous version" is no
#: admission when the code follows it; a module that is only such a header is RA503's.
STAND_IN = re.compile(
    r"\bplaceholder\b(?!\s+(?:value\s+)?(?:is\s+)?(?:updated|filled|set|replaced|overwritten|computed)\b)"
    r"|\bfor (?:demonstration|illustration)(?: purposes)?\b|\bsimplified\b|\bfor brevity\b"
    r"|\bwe (?:do not|don't|did not|didn't) implement\b|\bnot implemented here\b"
    r"|\bin practice,? (?:one|you|we) (?:should|would)\b",
    re.IGNORECASE,
)


def _is_marker(text: str) -> re.Match | None:
    m = PLACEHOLDER_TEXT.search(text)
    if m is None:
        return None
    word = m.group(0)
    if word.lower() in ("todo", "fixme") or "placeholder" in word.lower() or "unchanged" in word.lower():
        return m if _MARKER_CASE.search(word) else None
    return m


def _excerpt(text: str, m: re.Match, width: int = 60) -> str:
    """The words around a match, on one line."""
    start = max(0, m.start() - width // 2)
    s = " ".join(text[start:m.end() + width // 2].lstrip("#").split())
    return s if len(s) <= width + 10 else s[: width + 9] + "…"


class PlaceholderText(Rule):
    """Placeholder or truncation markers left in the code or configs.

    **What it does.** Finds TODO/FIXME comments, `*_PLACEHOLDER` tokens, "omitted for brevity",
    "simplified version" and "[UNCHANGED]" in comments, strings and YAML; and comments or
    docstrings in which the code calls itself a stand-in ("placeholder for the Fisher
    projection", "simplified but functional", "for demonstration purposes", "we do not implement
    head-level gating here").

    **Why is this bad?** The prompt requires complete, publication-ready code with no
    placeholders; a marker means a part was never written (in the Base/Derived family,
    `DATASET_PLACEHOLDER` means the dataset was never wired in).

    **Example.** `# TODO: implement the AdaLoRA baseline`

    **Use instead.** The implementation.
    """

    code = "RA101"
    name = "placeholder-text"
    topic = "completeness"
    severity = Severity.major
    requirement = "no_placeholders"
    about_execution = False  # the criterion is what the code says: a placeholder is one, run or not

    VALID = [
        Case(files={"src/model.py": "# Build the model.\ndef build(cfg):\n    return cfg.model\n"}),
        # a placeholder value the code fills later, and "placeholder" as data, are not stand-ins
        Case(files={"src/train.py": "def f(n):\n    total = 0  # placeholder updated later\n    total = n * 2\n    return total\n"}),
        Case(files={"src/preprocess.py": "def prompt():\n    return 'Fill the placeholder: {x}'\n"}),
        Case(files={"src/evaluate.py": '"""Aggregation (unchanged from the previous submission, included for completeness)."""\ndef main():\n    return 0\n'}),
    ]
    INVALID = [
        Case(files={"src/model.py": "def build(cfg):\n    # TODO: add the baseline\n    return cfg\n"}, path="src/model.py", line=2),
        Case(files={"config/config.yaml": "dataset:\n  name: DATASET_PLACEHOLDER\n"}, path="config/config.yaml", line=2),
        Case(files={"src/train.py": "def labels(ds):\n    # This is a placeholder label creation for demonstration purposes.\n    return [len(x) % 2 for x in ds]\n"},
             path="src/train.py", line=2),
        Case(files={"src/model.py": "# Adapter implementation (simplified but functional)\nclass Adapter:\n    pass\n"}, path="src/model.py", line=1),
    ]

    def check(self, ctx):
        for path, f in sorted(ctx.bundle.files.items()):
            if path.endswith(".py"):
                mod = ctx.module(path)
                if mod is None:
                    continue
                comments = [(c.text, c.pos.line) for c in mod.comments]
                prose = comments + [(s.value, s.pos.line) for s in mod.strings if s.is_docstring]
                texts = comments + [(s.value, s.pos.line) for s in mod.strings]
            else:
                prose = []
                texts = [(line, i) for i, line in enumerate(f.text.splitlines(), 1)]
            seen = set()
            for text, line in texts:
                m = _is_marker(text)
                if m and line not in seen:
                    seen.add(line)
                    yield self.hit(path, line, f"placeholder marker '{m.group(0)}' left in {path}")
            for text, line in sorted(prose, key=lambda t: t[1]):
                m = STAND_IN.search(text)
                if m and line not in seen:
                    seen.add(line)
                    yield self.hit(path, line, f"the code calls itself a stand-in ('{_excerpt(text, m)}'); the prompt requires the complete implementation")


class StubBody(Rule):
    """A function whose body is only `pass`, `...`, a docstring or `raise NotImplementedError`.

    **What it does.** Reports functions and methods with no implementation. One that raises
    `NotImplementedError` and is called somewhere in the bundle is a blocker (the call crashes);
    other stubs are major completeness violations. Abstract methods are exempt.

    **Why is this bad?** The prompt forbids `pass`/`...` placeholders: all functions and classes
    must be completely implemented.

    **Example.** `def compute_fisher(model):\\n    pass`

    **Use instead.** The implementation, or remove the function.
    """

    code = "RA102"
    name = "stub-function-body"
    topic = "completeness"
    severity = Severity.major
    requirement = "no_placeholders"
    about_execution = False  # the criterion is what the code says: a placeholder is one, run or not

    VALID = [
        Case(files={"src/model.py": "import abc\nclass B(abc.ABC):\n    @abc.abstractmethod\n    def f(self):\n        ...\n\ndef g():\n    return 1\n"}),
        Case(files={"src/train.py": "class StopTraining(Exception):\n    pass\n"}),
    ]
    INVALID = [
        Case(files={"src/model.py": "def fisher(model):\n    pass\n"}, path="src/model.py", line=1),
        Case(files={"src/train.py": "from src.model import fisher\nfisher(1)\n", "src/model.py": "def fisher(model):\n    raise NotImplementedError\n"}, path="src/model.py", line=1),
    ]

    def check(self, ctx):
        called = {c.method or c.func for m in ctx.modules.values() for c in m.calls if c.func}
        for path, mod in sorted(ctx.modules.items()):
            for fn in mod.functions.values():
                if not fn.is_stub:
                    continue
                if any(d and d.rsplit(".", 1)[-1] in ("abstractmethod", "overload", "abstractproperty") for d in fn.decorators):
                    continue
                is_called = fn.name in called
                what = "raises NotImplementedError" if fn.raises_not_implemented else "has no implementation"
                yield self.hit(
                    path, fn.pos, f"{fn.qualname}() {what}" + (" and is called in the bundle" if is_called else ""),
                    severity=Severity.blocker if (is_called and fn.raises_not_implemented) else None,
                )


def _squash(text: str) -> str:
    """A name as run ids and method fields spell it in any style: `ZORRO-full`, `zorro_full` and
    `ZorroFull` are all `zorrofull`."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _experiments(data) -> tuple[str | None, list[dict]]:
    """The experiment list of an experiment config: the document itself when it is a list of
    mappings, else its first top-level key holding one (`experiments:`, `runs:`)."""
    if isinstance(data, list):
        return None, [e for e in data if isinstance(e, dict)]
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, list) and value and all(isinstance(e, dict) for e in value):
                return str(key), value
    return None, []


def _spellings(entry: dict) -> list[str]:
    """Every string value an experiment entry holds, two mappings deep at most (run id, method,
    `model.name`), squashed."""
    return [_squash(v) for _keys, v in leaf_items(entry, depth=3) if isinstance(v, str) and _squash(v)]


class VariationNotConfigured(Rule):
    """An experiment config lists fewer experiments than the prompt has run variations.

    **What it does.** When the prompt requires every run variation in both `config/smoke_test.yaml`
    and `config/full_experiment.yaml`, reads each file's experiment list and reports a file that
    has fewer entries than the hypothesis has run variations, naming the variations that no entry
    spells (in its run id, method or any other string, in any case or separator style).

    **Why is this bad?** A variation missing from the smoke test is never exercised before the
    full run; one missing from the full experiment is never run at all, and the comparison it
    exists for has a hole. The report counts entries so that an entry named in another style
    (`smoke_source` for `source-frozen`) is not taken for a missing one: with as many entries as
    variations, the rule stays silent.

    **Example.** Five variations (ZORRO-full, no-fisher, no-shrinkage, no-gate, no-rollback) and a
    smoke_test.yaml with `smoke_source` and `smoke_zorro` only.

    **Use instead.** One lightweight entry per variation in smoke_test.yaml, and one (per dataset
    and model) in full_experiment.yaml.
    """

    code = "RA104"
    name = "run-variation-not-configured"
    topic = "completeness"
    severity = Severity.major
    requirement = "derived_variations_in_configs"
    about_execution = False  # what the configs list against what the prompt names

    _SPEC = {"requirements": {"derived_variations_in_configs": [2]}, "run_variations": ["ZORRO-full", "no-fisher", "no-gate"],
             "run_config_files": ["config/smoke_test.yaml", "config/full_experiment.yaml"]}
    _FULL = "experiments:\n  - run_id: cifar_zorro_full\n  - run_id: cifar_no_fisher\n  - run_id: cifar_no_gate\n"
    VALID = [
        Case(files={"config/smoke_test.yaml": "experiments:\n  - {run_id: smoke_a, method: zorro-full}\n  - {run_id: NO_FISHER}\n  - {run_id: smoke_nogate}\n",
                    "config/full_experiment.yaml": _FULL}, spec=_SPEC),
        # as many entries as variations, one named in another style: not reported
        Case(files={"config/smoke_test.yaml": "- run_id: smoke_zorro\n- run_id: smoke_no_fisher\n- run_id: smoke_no_gate\n",
                    "config/full_experiment.yaml": _FULL}, spec=_SPEC),
        # no hypothesis section names the variations: nothing to count against
        Case(files={"config/smoke_test.yaml": "experiments:\n  - run_id: smoke_source\n", "config/full_experiment.yaml": _FULL},
             spec={**_SPEC, "run_variations": []}),
    ]
    INVALID = [
        Case(files={"config/smoke_test.yaml": "# smoke\nexperiments:\n  - run_id: smoke_source\n  - run_id: smoke_zorro\n",
                    "config/full_experiment.yaml": _FULL}, spec=_SPEC, path="config/smoke_test.yaml", line=2),
    ]

    def check(self, ctx):
        variations = ctx.spec.run_variations
        if not variations:
            return
        for path in ctx.spec.run_config_files:
            doc = ctx.yaml_doc(path)
            if doc is None:
                continue  # absent (RA501) or broken (RA002)
            key, entries = _experiments(doc.data)
            if not entries or len(entries) >= len(variations):
                continue
            spelled = [s for e in entries for s in _spellings(e)]
            missing = [v for v in variations if not any(_squash(v) and _squash(v) in s for s in spelled)]
            if not missing:
                continue
            ids = [str(e.get("run_id") or e.get("name") or "?") for e in entries]
            yield self.hit(path, doc.line_of(key) if key else 1,
                           f"{path} lists {len(entries)} experiment{'s' if len(entries) != 1 else ''} ({', '.join(ids[:4])}{' …' if len(ids) > 4 else ''}) "
                           f"for the prompt's {len(variations)} run variations, so at least {len(variations) - len(entries)} of them are missing; "
                           f"no entry is named for {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}")
