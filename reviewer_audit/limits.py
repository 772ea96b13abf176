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
#: Most nodes walked in one YAML document (defends against alias "billion laughs" bombs).
MAX_YAML_NODES = 200_000
