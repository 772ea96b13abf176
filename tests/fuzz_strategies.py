"""Fuzzing reviewer-audit's untrusted-input paths: hypothesis strategies, targets, invariant.

reviewer-audit reads LLM output in CI, so every input path must end in a result or in a
one-line `InputError` -- never another exception, a hang, or execution of the audited code.
This module is shared by `tests/test_fuzz.py` (a small sample in CI) and `tests/fuzz.py` (the
long run, `python -m tests.fuzz --cases 10000`).

A *case* is a target name and a recipe. Recipes are small frozen dataclasses drawn by
hypothesis (which seed, which mutations, which sizes); the payload -- possibly megabytes -- is
built from the recipe deterministically, so hypothesis never has to generate big data and a
failing case can be rebuilt from its `repr`.

Targets (`TARGETS`):

* ``parse``   -- `load_transcript` on a mutated transcript file, then the `Transcript` dumped
  to JSON (what `reviewer-audit parse --format json` prints);
* ``audit``   -- `api.audit_transcript` on a mutated transcript, then the report dumped to JSON;
  an RA000 finding (a rule that crashed, contained by the engine) counts as a failure;
* ``bundle``  -- `Bundle.from_json_file` on a mutated JSON bundle (every resulting path must be
  relative, clean and inside the bundle), then, for some cases, `api.check_bundle` on it;
* ``yaml``    -- `yamlio.load_yaml` (its documented error is `YamlError`, a one-line message);
* ``toml``    -- `pyproject_check.check_pyproject` (documented never to raise).

Mutations: truncation, byte flips, invalid UTF-8, enormous lines, lines inserted / deleted /
duplicated, deeply nested or huge Python injected into bundle code, thousands of bundle files,
path-escaping keys, non-text values, 100,000-digit numbers and 10,000-deep JSON, YAML alias
bombs / Python tags / deep flows, TOML dotted-key and nesting bombs, hostile run configs and
verdicts, and many criteria / runs / headings in the prompt.
"""
from __future__ import annotations

import json
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
HOSTILE = FIXTURES / "hostile_bundle"
SEED_FILES = {
    "seed_000": FIXTURES / "seed_000_glora_o3_not_ready.txt",
    "seed_002": FIXTURES / "seed_002_fwlora_o3_ready.txt",
}
MARKER_GLOB = "reviewer_audit_executed_*"

# --------------------------------------------------------------------------- seeds

SMALL_BUNDLE = {
    "main_py": "import subprocess\nimport sys\n\nimport hydra\n\n\n@hydra.main(config_path=\"../config\", config_name=\"config\", version_base=None)\ndef main(cfg):\n    subprocess.run([sys.executable, \"-u\", \"-m\", \"src.train\", f\"run={cfg.run}\", f\"mode={cfg.mode}\"], check=True)\n\n\nif __name__ == \"__main__\":\n    main()\n",
    "train_py": "import hydra\nimport wandb\n\n\n@hydra.main(config_path=\"../config\", config_name=\"config\", version_base=None)\ndef main(cfg):\n    if cfg.wandb.mode != \"disabled\":\n        wandb.init(entity=cfg.wandb.entity, project=cfg.wandb.project)\n    for epoch in range(cfg.training.epochs):\n        wandb.log({\"train_loss\": 0.0, \"epoch\": epoch})\n    wandb.summary[\"best_val_acc\"] = 0.0\n\n\nif __name__ == \"__main__\":\n    main()\n",
    "evaluate_py": "import argparse\nimport json\n\nimport wandb\n\n\ndef main():\n    p = argparse.ArgumentParser()\n    p.add_argument(\"results_dir\")\n    p.add_argument(\"run_ids\")\n    a = p.parse_args()\n    api = wandb.Api()\n    for run_id in json.loads(a.run_ids):\n        print(api.run(run_id).summary._json_dict)\n\n\nif __name__ == \"__main__\":\n    main()\n",
    "preprocess_py": "from datasets import load_dataset\n\n\ndef load(cfg):\n    return load_dataset(cfg.dataset.name, cache_dir=\".cache/\")\n",
    "model_py": "from transformers import AutoModelForSequenceClassification\n\n\ndef build(cfg):\n    return AutoModelForSequenceClassification.from_pretrained(cfg.model.name, cache_dir=\".cache/\")\n",
    "config_yaml": "defaults:\n  - _self_\nrun: null\nmode: full\nresults_dir: results\nwandb:\n  entity: e\n  project: p\n  mode: online\ntraining:\n  epochs: 3\n",
    "pyproject_toml": "[project]\nname = \"exp\"\nversion = \"0.1.0\"\nrequires-python = \">=3.10\"\ndependencies = [\"torch>=2.2\", \"transformers>=4.40\", \"datasets>=2.19\", \"hydra-core>=1.3.2\", \"wandb>=0.16\"]\n",
}


@dataclass(frozen=True)
class SeedDoc:
    """A seed transcript split at the places structural mutations edit."""

    name: str
    lines: tuple[str, ...]
    bundle_index: int  # 0-based line of the one-line bundle JSON
    bundle: dict
    run_spans: tuple[tuple[int, int], ...]  # (0-based first YAML line, line count) per run
    output_index: int  # 0-based line that is exactly "Output:"

    def text(self) -> str:
        return "\n".join(self.lines)


def hostile_bundle_files() -> dict[str, str]:
    """fixtures/hostile_bundle as {relative path: text} (read only, never imported)."""
    return {p.relative_to(HOSTILE).as_posix(): p.read_text(encoding="utf-8") for p in sorted(HOSTILE.rglob("*")) if p.is_file()}


@lru_cache(maxsize=None)
def seed(name: str) -> SeedDoc:
    from reviewer_audit.ingest.transcript import parse_transcript

    base_name = "seed_002" if name in ("small", "hostile") else name
    text = SEED_FILES[base_name].read_text(encoding="utf-8")
    t = parse_transcript(text, source=base_name)
    lines = text.split("\n")
    bundle_index = t.bundle_line - 1
    bundle = json.loads(lines[bundle_index])
    if name == "small":
        bundle = dict(SMALL_BUNDLE)
    elif name == "hostile":
        bundle = hostile_bundle_files()
    lines[bundle_index] = json.dumps(bundle)
    spans = tuple((r.yaml_line - 1, r.yaml_text.count("\n") + 1) for r in t.runs)
    output_index = max(i for i, s in enumerate(lines) if s == "Output:")
    return SeedDoc(name, tuple(lines), bundle_index, bundle, spans, output_index)


SEED_NAMES = ("small", "small", "small", "hostile", "seed_000", "seed_002")

# --------------------------------------------------------------------------- payload makers

BIG = (10_000, 100_000, 1_000_000, 5_000_000)
DEPTHS = (10, 150, 199, 200, 201, 500, 1000, 5000)

EXPR_KINDS = ("paren", "list", "dict", "set", "plus", "attr", "call", "subscript", "not", "neg", "lambda", "ifexp", "fstring", "await", "power", "compare", "tuple_in_list", "if_nest", "with_nest", "def_nest", "string_concat")


def deep_expr(kind: str, n: int) -> str:
    """Python source with one construct nested (or chained) `n` times."""
    if kind == "paren":
        return "x = " + "(" * n + "1" + ")" * n + "\n"
    if kind == "list":
        return "x = " + "[" * n + "1" + "]" * n + "\n"
    if kind == "dict":
        return "x = " + "{1: " * n + "1" + "}" * n + "\n"
    if kind == "set":
        return "x = " + "{" * n + "1" + "}" * n + "\n"
    if kind == "plus":
        return "x = " + "+".join(["a"] * n) + "\n"
    if kind == "attr":
        return "x = cfg" + ".a" * n + "\n"
    if kind == "call":
        return "x = f" + "()" * n + "\n"
    if kind == "subscript":
        return "x = cfg" + "['k']" * n + "\n"
    if kind == "not":
        return "x = " + "not " * n + "a\n"
    if kind == "neg":
        return "x = " + "-" * n + "a\n"
    if kind == "lambda":
        return "x = " + "lambda: " * n + "a\n"
    if kind == "ifexp":
        return "x = " + "a if b else " * n + "c\n"
    if kind == "fstring":
        return "x = " + "f'{" * min(n, 50) + "a" + "}'" * min(n, 50) + "\n"
    if kind == "await":
        return "async def f():\n    return " + "await " * n + "a\n"
    if kind == "power":
        return "x = " + "**".join(["a"] * n) + "\n"
    if kind == "compare":
        return "x = " + "<".join(["a"] * n) + "\n"
    if kind == "tuple_in_list":
        return "x = " + "[(" * (n // 2) + "1" + ")]" * (n // 2) + "\n"
    if kind == "if_nest":
        return "".join("    " * i + "if a:\n" for i in range(n)) + "    " * n + "pass\n"
    if kind == "with_nest":
        return "".join("    " * i + "with a:\n" for i in range(n)) + "    " * n + "pass\n"
    if kind == "def_nest":
        return "".join("    " * i + f"def f{i}():\n" for i in range(n)) + "    " * n + "pass\n"
    if kind == "string_concat":
        return "x = " + " ".join(["'a'"] * n) + "\n"
    raise ValueError(kind)


BIG_PY_KINDS = ("comments", "assign", "flatlist", "oneline", "calls", "blank", "docstring")


def big_python(kind: str, size: int) -> str:
    if kind == "comments":
        return "# c\n" * (size // 4)
    if kind == "assign":
        return "x = 1\n" * (size // 6)
    if kind == "flatlist":
        return "x = [" + "1," * (size // 2) + "]\n"
    if kind == "oneline":
        return "x = '" + "a" * size + "'\n"
    if kind == "calls":
        return "f(cfg.a.b)\n" * (size // 11)
    if kind == "blank":
        return "\n" * size
    if kind == "docstring":
        return '"""' + "doc\n" * (size // 4) + '"""\n'
    raise ValueError(kind)


WEIRD_PY = (
    "x = 1\x00\n",
    "\x0c\nx = 1\n",
    "x = 1\r\ny = 2\r\n",
    "x = 1\ry = 2\r",
    "\ufeffx = 1\n",
    "if a:\n\tpass\n        pass\n",
    "x = '\\N{NOT A NAME}'\n",
    "x = b'\\xff' + 'é'\n",
    "ф = 1\nπ = ф\n",
    "type X = int\nx = f'{d[\"a\"]}'\n",
    "def f[T](x: T) -> T:\n    return x\n",
    "match x:\n    case {'a': [1, *rest]}:\n        pass\n",
    "print 'py2'\n",
    "def f(:\n",
    "x = '''unterminated\n",
    "\\\n" * 1000,
    "import " + ", ".join(f"m{i}" for i in range(5000)) + "\n",
    "from . import *\nfrom .. import x\nimport a.b.c as d\n",
    "@" + "d\n@" * 2000 + "d\ndef f(): pass\n",
    "x: " + "int | " * 3000 + "int = 1\n",
    "global x\nnonlocal y\nreturn 1\nyield 2\nawait z\n",
    "wandb.log({" + ", ".join(f"'k{i}': {i}" for i in range(3000)) + "})\n",
    "cfg" + ".a" * 150 + " = 1\n",
    "def f(" + ", ".join(f"a{i}" for i in range(3000)) + "): pass\nf(" + "1," * 3000 + ")\n",
)

YAML_KINDS = ("laughs", "recursive", "pytag", "pytag_seq", "flowdeep", "blockdeep", "bigint", "bigfloat", "manykeys", "longline", "merge", "dupkeys", "tabs", "anchors_many", "binary", "timestamps", "complexkey", "docs", "empty", "scalar", "weird_tags", "unicode")


def yaml_payload(kind: str, n: int) -> str:
    """A hostile YAML document; `n` scales it."""
    if kind == "laughs":
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in range(1, min(n, 12)):
            lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
        return "\n".join(lines) + "\n"
    if kind == "recursive":
        return "a: &a [*a]\nb: &b {x: *b}\n"
    if kind == "pytag":
        return 'hook: !!python/object/apply:os.system ["touch /tmp/reviewer_audit_executed_fuzz_yaml"]\nmode: full\n'
    if kind == "pytag_seq":
        return '- !!python/object/new:os.system ["touch /tmp/reviewer_audit_executed_fuzz_yaml2"]\n- !!python/name:os.system\n- !!python/module:os\n'
    if kind == "flowdeep":
        return "x: " + "[" * n + "]" * n + "\n"
    if kind == "blockdeep":
        m = min(n, 400)
        return "".join("  " * i + f"k{i}:\n" for i in range(m)) + "  " * m + "v\n"
    if kind == "bigint":
        return "x: " + "9" * max(n, 5000) + "\n"
    if kind == "bigfloat":
        return "x: 1e" + "9" * max(n, 5000) + "\ny: .inf\nz: .nan\n"
    if kind == "manykeys":
        return "".join(f"k{i}: {i}\n" for i in range(n * 10))
    if kind == "longline":
        return "x: " + "a" * (n * 100) + "\n"
    if kind == "merge":
        lines = ["b0: &b0 {k: v}"]
        for i in range(1, min(n, 300)):
            lines.append(f"b{i}: &b{i} {{<<: [" + ", ".join(f"*b{j}" for j in range(max(0, i - 20), i)) + "]}")
        return "\n".join(lines) + "\n"
    if kind == "dupkeys":
        return "a: 1\na: 2\n"
    if kind == "tabs":
        return "a:\n\t- b\n"
    if kind == "anchors_many":
        m = min(n, 3000)
        return "".join(f"k{i}: &a{i} {i}\n" for i in range(m)) + "".join(f"r{i}: *a{i}\n" for i in range(m))
    if kind == "binary":
        return "x: !!binary " + "A" * (n * 4) + "\n"
    if kind == "timestamps":
        return "a: 2001-12-14t21:59:43.10-05:00\nb: 2002-12-14\nc: 0x1F\nd: 0o17\ne: 1_000\nf: +.5\n"
    if kind == "complexkey":
        return "? [a, b]\n: c\n? {x: y}\n: d\n"
    if kind == "docs":
        return "a: 1\n---\nb: 2\n...\n"
    if kind == "empty":
        return ""
    if kind == "scalar":
        return "just a string\n"
    if kind == "weird_tags":
        return "a: !custom {x: 1}\nb: !!set {x, y}\nc: !!omap [{a: 1}]\nd: !<tag:yaml.org,2002:str> z\n"
    if kind == "unicode":
        return "ключ: значение\n\u2028a: b\n\ufeffc: d\n"
    raise ValueError(kind)


TOML_KINDS = ("dotkey", "table", "aot", "arrdeep", "inlinedeep", "bigint", "bigfloat", "baddate", "manytables", "longstr", "dupkey", "mixed", "unicode", "poetry", "badschema", "emptyproj")


def toml_payload(kind: str, n: int) -> str:
    if kind == "dotkey":
        return "a" + ".a" * n + " = 1\n"
    if kind == "table":
        return "[" + "a." * n + "a]\nx = 1\n"
    if kind == "aot":
        return "[[" + "a." * n + "a]]\n"
    if kind == "arrdeep":
        return "x = " + "[" * n + "]" * n + "\n"
    if kind == "inlinedeep":
        return "x = " + "{a = " * n + "1" + "}" * n + "\n"
    if kind == "bigint":
        return "x = " + "9" * max(n, 5000) + "\n"
    if kind == "bigfloat":
        return "x = 1e" + "9" * max(n, 500) + "\ny = inf\nz = nan\n"
    if kind == "baddate":
        return "x = 2024-13-45T25:61:61Z\n"
    if kind == "manytables":
        return "".join(f"[t{i}]\nx = 1\n" for i in range(n * 10))
    if kind == "longstr":
        return 'x = "' + "a" * (n * 100) + '"\n'
    if kind == "dupkey":
        return "a = 1\na = 2\n"
    if kind == "mixed":
        return "[project]\nname = 1\nversion = []\ndependencies = [1, {a = 2}, \"torch>=\"]\n[project.optional-dependencies]\nx = \"not a list\"\n"
    if kind == "unicode":
        return "[project]\nname = \"ä\u2028\"\nversion = \"0.1\"\n\"\ud7ff\" = 1\n"
    if kind == "poetry":
        return "[tool.poetry]\nname = \"x\"\n[tool.poetry.dependencies]\npython = \"^3.10\"\ntorch = \"^2.0 || ~1.13\"\nscipy = {version = \">=1.12\", optional = true}\n"
    if kind == "badschema":
        return "[build-system]\nrequires = 1\nbuild-backend = [\"x\"]\nbackend-path = [\"/etc\"]\n[project]\nname = \"!!\"\nversion = \"x.y\"\n"
    if kind == "emptyproj":
        return "[project]\n"
    raise ValueError(kind)


BAD_KEYS = ("../x.py", "/etc/passwd", "C:\\x", "a\x00b", "src/../../x", "..", ".", "", " ", "\\\\host\\share\\x", "src/./../..", "C:", "x:y", "//x", "src//train.py", "src\\train.py", "unmapped/../../x",
            "a\nb", "src/\x1b[31mx.py", "src/\u202ex.py", "src/\x7f.py", "src/é.py")

RAW_VALUES = (
    "9" * 100_000,  # a 100,000-digit number
    "-" + "9" * 5000,
    "1e999999",
    "[" * 10_000 + "]" * 10_000,
    "{\"a\":" * 10_000 + "1" + "}" * 10_000,
    "[" * 150 + "]" * 150,
    "null", "true", "[]", "{}", "1.5", "NaN", "Infinity",
    "\"\\ud800\"", "\"\\udfff\\ud800\"", "\"\\u0000\"",
)

VERDICT_PAYLOADS = (
    '{"is_code_ready": ' + "[" * 10_000 + "]" * 10_000 + "}",
    '{"is_code_ready": true, "code_issue": ' + "{\"a\":" * 250 + "1" + "}" * 250 + "}",
    '{"is_code_ready": true, "code_issue": ' + "[" * 199 + "]" * 199 + "}",
    '{"is_code_ready": ' + "9" * 100_000 + "}",
    '{"is_code_ready": 1e999999, "code_issue": -1e999999}',
    '{"is_code_ready": "TRUE", "code_issue": ["a", 1, null, {"b": [2]}]}',
    '{"is_code_ready": null}',
    '[]', '"text"', '1', 'null', '',
    '```json\n{"is_code_ready": false, "code_issue": "x"}\n```',
    '```\n',
    '{"is_code_ready": false, "code_issue": "\\ud800"}',
    '{"\\ud800": 1}',
    '{"is_code_ready": false, "code_issue": "' + "a" * 5_000_000 + '"}',
    '{"is_code_ready": false, "code_issue": "' + "RA901 src/train.py:1 " * 50_000 + '"}',
    '{"is_ready": true, "issues": "x", "is_code_ready": false, "code_issue": "y"}',
    '{' + ", ".join(f'"k{i}": {i}' for i in range(50_000)) + '}',
    '{"is_code_ready": false, "code_issue": "x"} trailing garbage {',
)

SPECIAL_LINES = (
    "Output:", "Input:", "LLM Name: x", "LLM Name:", "# Instructions", "## Core Validation Criteria",
    "# Experiment Runs", "# Generated Experiment Code (To be validated)", "# Derived Experiment Code (To be validated)",
    "# Base Code", "# Current Experiment", "- Run ID: r", "- Run ID:", "- Run ID: ../../etc/passwd", "- Run ID: a/b",
    "  Method: m", "  ```yaml", "  ```", "```", "{", "}", "{\"train_py\": 1}", "{\"train_py\": \"x = (\"}",
    "- Run Variations: [{[]: 1}]", "- Run Variations: ['a', 'b']", "- Run Variations: " + "[" * 5000,
    "9" * 5000 + ". **Huge**", "1. **Hydra**", "1. **", "## Output Format", "- `is_code_ready`: bool",
    "`uv run python -u -m src.main run={run_id} results_dir={path} mode=full`", "#", "# ", "\ufeff", "\r", "\x00",
)

HUGE_LINE_KINDS = ("heading_spaces", "runid_spaces", "runfield_spaces", "criterion_title", "fence_spaces", "plain", "cli_chain", "backticks", "heading_text", "criterion_numbers", "hash_spaces")


def huge_line(kind: str, size: int) -> str:
    if kind == "heading_spaces":
        return "# x" + " " * size + "y"
    if kind == "runid_spaces":
        return "- Run ID: x" + " " * size + "y"
    if kind == "runfield_spaces":
        return "  Model: x" + " " * size + "y"
    if kind == "criterion_title":
        return "1. **" + "a" * size
    if kind == "fence_spaces":
        return " " * size + "x"
    if kind == "plain":
        return "x" * size
    if kind == "cli_chain":
        return "* `python " + "-m src.a x " * (size // 11)
    if kind == "backticks":
        return "`config/" + "a." * (size // 2)
    if kind == "heading_text":
        return "# " + "Experiment Code (To be validated) " * (size // 34)
    if kind == "criterion_numbers":
        return "1" * size + ". **T**"
    if kind == "hash_spaces":
        return "#" + " " * size
    raise ValueError(kind)


#: Largest payload a text mutation grows (characters); inputs over the tool's 16 MiB limit
#: only need to be a little over it.
MAX_PAYLOAD_CHARS = 20_000_000

INVALID_UTF8 = (b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe2\x82", b"\x80", b"\xef\xbb\xbf", b"\x00")

# --------------------------------------------------------------------------- recipes


@dataclass(frozen=True)
class BundleEdit:
    """A structural edit of the seed's bundle (the one-line JSON object)."""

    kind: str  # deep_expr | big_python | weird_python | many_files | big_file | bad_key | raw_value | yaml | toml | drop | empty
    key: str = "train_py"
    variant: str = ""
    n: int = 0

    def apply(self, bundle: dict) -> str:
        """The new bundle line (JSON text; raw_value edits splice raw JSON in)."""
        b = dict(bundle)
        py_keys = [k for k in b if k.endswith(("_py", ".py"))] or ["train_py"]
        key = self.key if self.key in b or self.kind in ("bad_key", "raw_value") else py_keys[0]
        if self.kind == "deep_expr":
            b[key] = b.get(key, "") + "\n" + deep_expr(self.variant, self.n)
        elif self.kind == "big_python":
            b[key] = big_python(self.variant, self.n)
        elif self.kind == "weird_python":
            b[key] = WEIRD_PY[self.n % len(WEIRD_PY)]
        elif self.kind == "many_files":
            ext = self.variant or ".py"
            body = {".py": "import os\nx = os.sep\n", ".yaml": "a: 1\n", ".txt": "hello\n"}.get(ext, "x\n")
            folder = "config/runs" if ext == ".yaml" else "src/gen"
            for i in range(self.n):
                b[f"{folder}/f{i}{ext}"] = body
        elif self.kind == "big_file":
            b[key] = "# " + "x" * max(0, self.n - 3) + "\n"
        elif self.kind == "bad_key":
            b[BAD_KEYS[self.n % len(BAD_KEYS)]] = "x = 1\n"
        elif self.kind == "yaml":
            b["config_yaml" if "config_yaml" in b else "config/config.yaml"] = yaml_payload(self.variant, self.n)
        elif self.kind == "toml":
            b["pyproject_toml" if "pyproject_toml" in b else "pyproject.toml"] = toml_payload(self.variant, self.n)
        elif self.kind == "drop":
            b.pop(key, None)
        elif self.kind == "empty":
            b = {}
        if self.kind == "raw_value":
            raw = RAW_VALUES[self.n % len(RAW_VALUES)]
            body = json.dumps(b)
            return (body[:-1] + (", " if b else "") + json.dumps(self.key) + ": " + raw + "}") if body.endswith("}") else body
        return json.dumps(b)


@dataclass(frozen=True)
class TranscriptEdit:
    """A structural edit of the transcript outside the bundle."""

    kind: str  # run_yaml | many_runs | run_id | verdict | many_criteria | many_headings | huge_line
    variant: str = ""
    n: int = 0
    at: float = 0.5

    def apply(self, lines: list[str], doc: SeedDoc) -> list[str]:
        lines = list(lines)
        if self.kind == "run_yaml" and doc.run_spans:
            first, count = doc.run_spans[int(self.at * len(doc.run_spans)) % len(doc.run_spans)]
            payload = yaml_payload(self.variant, self.n).split("\n")
            lines[first:first + count] = payload
        elif self.kind == "many_runs":
            block = ["- Run ID: r{i}", "  Method: m", "  ```yaml", "  run_id: r{i}", "method: m", "  ```"]
            runs = [line.replace("{i}", str(i)) for i in range(self.n) for line in block]
            at = next((i for i, s in enumerate(lines) if s == "# Experiment Runs"), doc.bundle_index - 1) + 1
            lines[at:at] = runs
        elif self.kind == "run_id":
            idx = [i for i, s in enumerate(lines) if s.startswith("- Run ID:")]
            if idx:
                lines[idx[int(self.at * len(idx)) % len(idx)]] = "- Run ID: " + self.variant
        elif self.kind == "verdict":
            payload = VERDICT_PAYLOADS[self.n % len(VERDICT_PAYLOADS)]
            out = max(i for i, s in enumerate(lines) if s == "Output:") if "Output:" in lines else len(lines) - 1
            lines[out + 1:] = payload.split("\n")
        elif self.kind == "many_criteria":
            at = next((i for i, s in enumerate(lines) if s.startswith("1. **")), 10)
            lines[at:at] = [f"{i + 20}. **Criterion {i}**: uses `python -m src.main mode=full`" for i in range(self.n)]
        elif self.kind == "many_headings":
            at = max(1, int(self.at * doc.bundle_index))
            lines[at:at] = [f"# Heading {i}" for i in range(self.n)]
        elif self.kind == "huge_line":
            at = max(1, int(self.at * doc.output_index))
            lines.insert(at, huge_line(self.variant, self.n))
        return lines


@dataclass(frozen=True)
class TextMutation:
    kind: str  # truncate | insert_line | delete_lines | duplicate_lines | splice
    at: float = 0.5
    n: int = 1
    text: str = ""

    def apply(self, text: str) -> str:
        if self.kind == "truncate":
            return text[: int(self.at * len(text))]
        lines = text.split("\n")
        i = min(len(lines), int(self.at * len(lines)))
        if self.kind == "insert_line":
            lines.insert(i, self.text)
        elif self.kind == "delete_lines":
            del lines[i:i + self.n]
        elif self.kind == "duplicate_lines":
            chunk = lines[i:i + 3]
            size = sum(len(c) + 1 for c in chunk) or 1
            lines[i:i] = chunk * max(1, min(self.n, MAX_PAYLOAD_CHARS // size))  # stay buildable
        elif self.kind == "splice":
            j = int(self.at * len(text))
            return text[:j] + self.text + text[j:]
        return "\n".join(lines)


@dataclass(frozen=True)
class ByteMutation:
    kind: str  # flip | insert
    at: float = 0.5
    value: int = 0
    payload: bytes = b""

    def apply(self, data: bytes) -> bytes:
        if not data:
            return self.payload
        i = min(len(data) - 1, int(self.at * len(data)))
        if self.kind == "flip":
            return data[:i] + bytes([data[i] ^ (self.value or 1)]) + data[i + 1:]
        return data[:i] + self.payload + data[i:]


@dataclass(frozen=True)
class Case:
    """One fuzz case: a target and the recipe of its payload."""

    target: str  # parse | audit | bundle | yaml | toml
    seed: str = "small"
    bundle_edit: BundleEdit | None = None
    transcript_edit: TranscriptEdit | None = None
    text_mutations: tuple[TextMutation, ...] = ()
    byte_mutations: tuple[ByteMutation, ...] = ()
    check: bool = False  # bundle target: also run check_bundle on it

    def payload(self) -> bytes:
        if self.target in ("parse", "audit"):
            doc = seed(self.seed)
            lines = list(doc.lines)
            if self.bundle_edit is not None:
                lines[doc.bundle_index] = self.bundle_edit.apply(doc.bundle)
            if self.transcript_edit is not None:
                lines = self.transcript_edit.apply(lines, doc)
            text = "\n".join(lines)
        elif self.target == "bundle":
            doc = seed(self.seed)
            text = self.bundle_edit.apply(doc.bundle) if self.bundle_edit is not None else json.dumps(doc.bundle)
        elif self.target == "yaml":
            text = _yaml_seed(self.seed) if self.bundle_edit is None else yaml_payload(self.bundle_edit.variant, self.bundle_edit.n)
        elif self.target == "toml":
            text = _toml_seed(self.seed) if self.bundle_edit is None else toml_payload(self.bundle_edit.variant, self.bundle_edit.n)
        else:
            raise ValueError(self.target)
        for m in self.text_mutations:
            text = m.apply(text)
        data = text.encode("utf-8", "surrogatepass")
        for b in self.byte_mutations:
            data = b.apply(data)
        return data

    def label(self) -> str:
        parts = [self.target, self.seed]
        if self.bundle_edit:
            parts.append(f"bundle:{self.bundle_edit.kind}:{self.bundle_edit.variant}:{self.bundle_edit.n}")
        if self.transcript_edit:
            parts.append(f"transcript:{self.transcript_edit.kind}:{self.transcript_edit.variant[:20]!r}:{self.transcript_edit.n}")
        parts += [f"text:{m.kind}" for m in self.text_mutations] + [f"bytes:{m.kind}" for m in self.byte_mutations]
        return " ".join(parts)


def _yaml_seeds() -> dict[str, str]:
    out = {}
    for p in sorted(FIXTURES.rglob("*.yaml")):
        out[p.relative_to(FIXTURES).as_posix()] = p.read_text(encoding="utf-8")
    for name in ("seed_000", "seed_002"):
        doc = seed(name)
        for i, (first, count) in enumerate(doc.run_spans):
            out[f"{name}/run{i}"] = "\n".join(doc.lines[first:first + count])
    return out


def _toml_seeds() -> dict[str, str]:
    out = {p.relative_to(FIXTURES).as_posix(): p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("pyproject.toml"))}
    for name in ("seed_000", "seed_002"):
        out[f"{name}/pyproject"] = seed(name).bundle.get("pyproject_toml", "")
    return out


def _yaml_seed(name: str) -> str:
    seeds = _yaml_seeds()
    return seeds.get(name) or next(iter(seeds.values()))


def _toml_seed(name: str) -> str:
    seeds = _toml_seeds()
    return seeds.get(name) or next(iter(seeds.values()))


# --------------------------------------------------------------------------- strategies

fractions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)

text_mutations = st.one_of(
    st.builds(TextMutation, kind=st.just("truncate"), at=fractions),
    st.builds(TextMutation, kind=st.just("insert_line"), at=fractions, text=st.sampled_from(SPECIAL_LINES)),
    st.builds(TextMutation, kind=st.just("insert_line"), at=fractions, text=st.builds(huge_line, st.sampled_from(HUGE_LINE_KINDS), st.sampled_from(BIG[:3]))),
    st.builds(TextMutation, kind=st.just("delete_lines"), at=fractions, n=st.integers(1, 50)),
    st.builds(TextMutation, kind=st.just("duplicate_lines"), at=fractions, n=st.sampled_from((1, 2, 100, 10_000))),
    st.builds(TextMutation, kind=st.just("splice"), at=fractions, text=st.text(max_size=40)),
)

byte_mutations = st.one_of(
    st.builds(ByteMutation, kind=st.just("flip"), at=fractions, value=st.integers(1, 255)),
    st.builds(ByteMutation, kind=st.just("insert"), at=fractions, payload=st.sampled_from(INVALID_UTF8)),
)

python_keys = st.sampled_from(("train_py", "main_py", "evaluate_py", "model_py", "preprocess_py", "src/extra.py"))

bundle_edits = st.one_of(
    st.builds(BundleEdit, kind=st.just("deep_expr"), key=python_keys, variant=st.sampled_from(EXPR_KINDS), n=st.sampled_from(DEPTHS)),
    st.builds(BundleEdit, kind=st.just("deep_expr"), key=python_keys, variant=st.just("plus"), n=st.just(100_000)),
    st.builds(BundleEdit, kind=st.just("big_python"), key=python_keys, variant=st.sampled_from(BIG_PY_KINDS), n=st.sampled_from((20_000, 100_000, 140_000, 1_000_000, 2_000_000))),
    st.builds(BundleEdit, kind=st.just("weird_python"), key=python_keys, n=st.integers(0, len(WEIRD_PY) - 1)),
    st.builds(BundleEdit, kind=st.just("many_files"), variant=st.sampled_from((".py", ".yaml", ".txt")), n=st.sampled_from((100, 300, 1990, 2001, 5000))),
    st.builds(BundleEdit, kind=st.just("big_file"), key=python_keys, n=st.sampled_from((2 * 1024 * 1024 - 10, 2 * 1024 * 1024 + 10, 5_000_000))),
    st.builds(BundleEdit, kind=st.just("bad_key"), n=st.integers(0, len(BAD_KEYS) - 1)),
    st.builds(BundleEdit, kind=st.just("raw_value"), key=st.sampled_from(("train_py", "extra_key", "src/x.py")), n=st.integers(0, len(RAW_VALUES) - 1)),
    st.builds(BundleEdit, kind=st.just("yaml"), variant=st.sampled_from(YAML_KINDS), n=st.sampled_from((5, 33, 100, 1000, 10_000))),
    st.builds(BundleEdit, kind=st.just("toml"), variant=st.sampled_from(TOML_KINDS), n=st.sampled_from((5, 31, 33, 500, 10_000, 100_000))),
    st.builds(BundleEdit, kind=st.sampled_from(("drop", "empty")), key=python_keys),
)

transcript_edits = st.one_of(
    st.builds(TranscriptEdit, kind=st.just("run_yaml"), variant=st.sampled_from(YAML_KINDS), n=st.sampled_from((5, 33, 100, 1000, 10_000)), at=fractions),
    st.builds(TranscriptEdit, kind=st.just("many_runs"), n=st.sampled_from((3, 64, 65, 1000))),
    st.builds(TranscriptEdit, kind=st.just("run_id"), variant=st.sampled_from(("", "..", "../x", "a/b", "C:x", "a\\b", "ok-id", " ", "x" * 10_000)), at=fractions),
    st.builds(TranscriptEdit, kind=st.just("verdict"), n=st.integers(0, len(VERDICT_PAYLOADS) - 1)),
    st.builds(TranscriptEdit, kind=st.just("many_criteria"), n=st.sampled_from((50, 1000, 100_000))),
    st.builds(TranscriptEdit, kind=st.just("many_headings"), n=st.sampled_from((50, 10_000, 200_000)), at=fractions),
    st.builds(TranscriptEdit, kind=st.just("huge_line"), variant=st.sampled_from(HUGE_LINE_KINDS), n=st.sampled_from(BIG), at=fractions),
)


@st.composite
def transcript_cases(draw, target: str = "parse", seeds: tuple[str, ...] = SEED_NAMES) -> Case:
    """A seed transcript with at most one bundle edit, one transcript edit, and a few text and
    byte mutations on top (each present or not)."""
    return Case(
        target=target,
        seed=draw(st.sampled_from(seeds)),
        bundle_edit=draw(st.none() | bundle_edits),
        transcript_edit=draw(st.none() | transcript_edits),
        text_mutations=draw(_few(text_mutations)),
        byte_mutations=draw(_few(byte_mutations)),
    )


def _few(strategy: st.SearchStrategy, most: int = 2) -> st.SearchStrategy[tuple]:
    """Usually none (so most cases reach deep into the audit), sometimes one or two."""
    return st.one_of(st.just(()), st.just(()), st.lists(strategy, min_size=1, max_size=most).map(tuple))


@st.composite
def bundle_cases(draw) -> Case:
    return Case(
        target="bundle",
        seed=draw(st.sampled_from(("small", "hostile", "seed_000", "seed_002"))),
        bundle_edit=draw(st.none() | bundle_edits),
        text_mutations=draw(_few(st.builds(TextMutation, kind=st.sampled_from(("truncate", "splice")), at=fractions, text=st.text(max_size=10)), 1)),
        byte_mutations=draw(_few(byte_mutations)),
        check=draw(st.booleans()),
    )


@st.composite
def yaml_cases(draw) -> Case:
    if draw(st.booleans()):
        edit = BundleEdit("yaml", variant=draw(st.sampled_from(YAML_KINDS)), n=draw(st.sampled_from((5, 32, 33, 100, 1000, 10_000))))
        return Case(target="yaml", bundle_edit=edit, text_mutations=tuple(draw(st.lists(text_mutations, max_size=1))))
    return Case(
        target="yaml",
        seed=draw(st.sampled_from(sorted(_yaml_seeds()))),
        text_mutations=tuple(draw(st.lists(text_mutations, min_size=1, max_size=3))),
        byte_mutations=tuple(draw(st.lists(byte_mutations, max_size=2))),
    )


@st.composite
def toml_cases(draw) -> Case:
    if draw(st.booleans()):
        edit = BundleEdit("toml", variant=draw(st.sampled_from(TOML_KINDS)), n=draw(st.sampled_from((5, 31, 32, 33, 500, 10_000, 100_000))))
        return Case(target="toml", bundle_edit=edit, text_mutations=tuple(draw(st.lists(text_mutations, max_size=1))))
    return Case(
        target="toml",
        seed=draw(st.sampled_from(sorted(_toml_seeds()))),
        text_mutations=tuple(draw(st.lists(text_mutations, min_size=1, max_size=3))),
        byte_mutations=tuple(draw(st.lists(byte_mutations, max_size=2))),
    )


def cases(weights: dict[str, int] | None = None) -> st.SearchStrategy[Case]:
    """All targets, mixed by `weights` (target -> relative weight)."""
    weights = weights or {"parse": 3, "audit": 3, "bundle": 2, "yaml": 1, "toml": 1}
    makers = {"parse": lambda: transcript_cases("parse"), "audit": lambda: transcript_cases("audit"),
              "bundle": bundle_cases, "yaml": yaml_cases, "toml": toml_cases}
    pool = [makers[t]() for t, w in weights.items() for _ in range(w)]
    return st.one_of(pool)


# --------------------------------------------------------------------------- running a case


@dataclass
class Outcome:
    case: Case
    status: str  # "result" | "input_error" | "bug"
    detail: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == "bug"


def _one_line_error(exc: Exception) -> str | None:
    """None when `exc` is the documented one-line error, else why not."""
    from reviewer_audit.ingest.errors import InputError

    if not isinstance(exc, InputError):
        return None
    msg = str(exc)
    if "\n" in msg or "\r" in msg:
        return f"InputError message is not one line: {msg[:300]!r}"
    return ""


def run_case(case: Case, workdir: Path | None = None) -> Outcome:
    """Run one case in-process and hold it to the invariant."""
    started = time.perf_counter()
    try:
        data = case.payload()
    except Exception as exc:  # noqa: BLE001 - a broken recipe is a bug of the fuzzer, say so
        return Outcome(case, "bug", f"fuzzer could not build the payload: {type(exc).__name__}: {exc}")
    with tempfile.TemporaryDirectory(prefix="ra-fuzz-", dir=workdir) as tmp:
        path = Path(tmp) / ("bundle.json" if case.target == "bundle" else "input.txt")
        path.write_bytes(data)
        try:
            status, detail, extra = TARGETS[case.target](path, data, case)
        except Exception as exc:  # noqa: BLE001 - the point of the exercise
            why = _one_line_error(exc)
            if why is None:
                tb = "".join(traceback.format_exception(exc)[-6:])
                status, detail, extra = "bug", f"{type(exc).__name__}: {str(exc)[:300]}\n{tb}", {}
            elif why:
                status, detail, extra = "bug", why, {}
            else:
                status, detail, extra = "input_error", str(exc)[:300], {}
    return Outcome(case, status, detail, time.perf_counter() - started, extra)


def _target_parse(path: Path, data: bytes, case: Case):
    from reviewer_audit.ingest.transcript import load_transcript

    t = load_transcript(path)
    t.model_dump_json()
    return "result", f"{len(t.bundle.files)} files, {len(t.runs)} runs", {}


def _target_audit(path: Path, data: bytes, case: Case):
    from reviewer_audit.api import audit_transcript

    report = audit_transcript(path)
    report.model_dump_json()
    crashed = [f for f in report.findings if f.rule == "RA000"]
    if crashed:
        return "bug", "RA000 (a rule crashed): " + " | ".join(f.message for f in crashed[:5]), {}
    return "result", f"{len(report.findings)} findings, agreement {report.agreement}", {}


def _target_bundle(path: Path, data: bytes, case: Case):
    from reviewer_audit.ingest.bundle import Bundle

    b = Bundle.from_json_file(path)
    for p in b.paths():
        if (p.startswith("/") or "\\" in p or ".." in p.split("/") or (len(p) > 1 and p[1] == ":") or p != p.strip("/")
                or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in p)):
            return "bug", f"bundle path escapes or is unclean: {p!r}", {}
    if case.check:
        from reviewer_audit.api import check_bundle

        report = check_bundle(b)
        report.model_dump_json()
        crashed = [f for f in report.findings if f.rule == "RA000"]
        if crashed:
            return "bug", "RA000 (a rule crashed): " + " | ".join(f.message for f in crashed[:5]), {}
    return "result", f"{len(b.files)} files", {}


def _target_yaml(path: Path, data: bytes, case: Case):
    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.ingest.textio import decode_text
    from reviewer_audit.ingest.yamlio import YamlError, load_yaml

    try:
        text = decode_text(data, path)
    except InputError:
        text = data.decode("utf-8", "replace")  # the YAML reader gets text; test it anyway
    try:
        doc = load_yaml(text)
    except YamlError as exc:
        if "\n" in str(exc):
            return "bug", f"YamlError message is not one line: {str(exc)[:300]!r}", {}
        return "input_error", str(exc)[:300], {}
    json.dumps(doc.data, default=str)  # plain data, bounded depth
    return "result", type(doc.data).__name__, {}


def _target_toml(path: Path, data: bytes, case: Case):
    from reviewer_audit.program.pyproject_check import check_pyproject

    text = data.decode("utf-8", "replace")
    report = check_pyproject(text)
    for p in report.problems:
        if not isinstance(p.line, int) or p.line < 1:
            return "bug", f"problem without a 1-based line: {p}", {}
    return "result", f"{len(report.problems)} problems", {}


TARGETS: dict[str, Callable] = {
    "parse": _target_parse,
    "audit": _target_audit,
    "bundle": _target_bundle,
    "yaml": _target_yaml,
    "toml": _target_toml,
}


def markers() -> list[Path]:
    """Marker files the hostile fixture writes when anything executes it."""
    return sorted(Path("/tmp").glob(MARKER_GLOB))

