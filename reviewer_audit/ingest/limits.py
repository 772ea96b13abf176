"""Resource limits for untrusted input, in one place so the README can quote them.

reviewer-audit reads LLM output in CI. These bounds keep one hostile or broken input from
exhausting memory or time; crossing one is an `InputError` (exit 2) or, inside a bundle, a
finding -- never a crash.
"""
from __future__ import annotations

#: Largest transcript or JSON bundle file read (bytes). Real transcripts are 8-60 KB.
MAX_INPUT_BYTES = 16 * 1024 * 1024
#: Largest single file inside a bundle (bytes). Real generated modules are under 50 KB.
MAX_BUNDLE_FILE_BYTES = 2 * 1024 * 1024
#: Most files a bundle may hold. Real bundles hold 7-9.
MAX_BUNDLE_FILES = 2000
#: Deepest nesting accepted in JSON/YAML documents and Python expressions.
MAX_NESTING = 200
#: Most nodes walked in one YAML document (defends against alias "billion laughs" bombs). Real
#: documents have under 400; Hydra composes a 100,000-node run config in ~6 s, once per rule.
MAX_YAML_NODES = 10_000

# Python analysis (see reviewer_audit/program/pyguard.py). libcst costs ~1-2 s per 10,000 syntax nodes
# and crashes the process on very deep nesting, so a module past these bounds is reported as
# not analysed (RA001) instead of parsed. The largest real generated module is 18 KB / 3,000
# nodes; the largest real bundle holds 44 KB / 7,200 nodes of Python.
#: Largest Python module analysed (bytes).
MAX_PYTHON_BYTES = 128 * 1024
#: Most syntax nodes (CPython `ast`) plus lines in one analysed module (libcst pays for both:
#: 100,000 blank lines take it 7 s).
MAX_PYTHON_NODES = 20_000
#: Most Python bytes analysed per bundle (standard modules first, then by path).
MAX_BUNDLE_PYTHON_BYTES = 256 * 1024
#: Most syntax nodes plus lines analysed per bundle; each module also costs PYTHON_MODULE_COST,
#: the fixed price of parsing and scoping a module however small (so at most 200 tiny modules).
MAX_BUNDLE_PYTHON_NODES = 30_000
PYTHON_MODULE_COST = 150

# YAML (see reviewer_audit/ingest/yamlio.py). ruamel.yaml and PyYAML (Hydra's loader) read ~50 KB/s
# here, and their scanners cost O(flow depth) per token, so a bundle or transcript past these
# bounds is refused before any YAML is parsed. The largest real YAML file is 12 KB.
#: Largest YAML document read: a bundle's YAML file or a transcript's run config (bytes).
MAX_YAML_BYTES = 64 * 1024
#: Most YAML bytes in one bundle's YAML files, and in one transcript's run configs. Hydra
#: rules load each document again per composition: a config and two run configs of 64 KiB
#: each take an audit ~8 s.
MAX_BUNDLE_YAML_BYTES = 128 * 1024
#: Deepest flow-collection nesting in YAML (`[[[...]]]`, `{a: {b: ...}}`). Real configs: <= 3.
MAX_YAML_FLOW_DEPTH = 16
#: Most run configs in one audit (a transcript's runs, or a bundle's run-config files). Real: <= 4.
MAX_RUN_CONFIGS = 64

# Transcript structure. Each section and criterion becomes an object the rules walk, so
# millions of `# ` headings or `1. **x**` lines in a 16 MiB transcript cost minutes and
# gigabytes; real prompts hold about 12 sections and 9-10 criteria.
#: Most `# ` sections in a transcript's prompt.
MAX_PROMPT_SECTIONS = 500
#: Most numbered criteria in a transcript's prompt.
MAX_CRITERIA = 200
