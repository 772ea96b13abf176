"""reviewer-audit: re-check LLM code reviews of generated experiment code statically.

The public Python API is re-exported lazily so that `import reviewer_audit` stays cheap
for the command line (see `reviewer_audit.pipeline.audit`).
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "audit_corpus", "audit_transcript", "check_bundle"]


def __getattr__(name: str):
    if name in ("audit_corpus", "audit_transcript", "check_bundle"):
        from reviewer_audit import api

        return getattr(api, name)
    raise AttributeError(name)
