"""JSON output: the `CheckReport` as it is, versioned by `schema_version`.

The JSON Schema is generated from the pydantic models (`AuditReport`, what `audit-review
--format json` prints, and `CheckReport`, what `check --output json` prints) and committed as
reviewer_audit/data/report.schema.json; `reviewer-audit schema report` prints it and a test
fails when the models and the committed file drift.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pydantic.json_schema import models_json_schema

if TYPE_CHECKING:
    from reviewer_audit.gate.check import CheckReport


def emit(result: "CheckReport", out: TextIO, cwd: Path) -> None:
    out.write(result.model_dump_json(indent=2) + "\n")


def report_schema() -> dict:
    from reviewer_audit.gate.check import CheckReport
    from reviewer_audit.engine.findings import REPORT_SCHEMA_VERSION
    from reviewer_audit.verdict.report import AuditReport

    _, defs = models_json_schema([(AuditReport, "serialization"), (CheckReport, "serialization")], ref_template="#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "reviewer-audit report",
        "description": (
            f"Output of reviewer-audit, schema_version {REPORT_SCHEMA_VERSION}: an AuditReport "
            "(`audit-review --format json`) or a CheckReport wrapping one AuditReport per checked "
            "path (`check --output json`)."
        ),
        "anyOf": [{"$ref": "#/$defs/AuditReport"}, {"$ref": "#/$defs/CheckReport"}],
        "$defs": defs["$defs"],
    }


def _corpus_schema() -> dict:
    from reviewer_audit.corpus.report import corpus_json_schema

    return corpus_json_schema()


def _history_schema() -> dict:
    from reviewer_audit.corpus.history_models import history_json_schema

    return history_json_schema()


def _spec_schema() -> dict:
    from reviewer_audit.gate.settings import spec_schema

    return spec_schema()


#: `reviewer-audit schema NAME`: every JSON Schema the package ships, generated from its models.
SCHEMAS = {"report": report_schema, "spec": _spec_schema, "corpus": _corpus_schema, "history": _history_schema}


def schema_text(name: str) -> str:
    """The schema as committed under reviewer_audit/data/ (2-space indent, sorted keys)."""
    import json

    from reviewer_audit.ingest.errors import InputError

    if name not in SCHEMAS:
        raise InputError("schema", f"unknown schema {name!r} (choose from {', '.join(SCHEMAS)})")
    return json.dumps(SCHEMAS[name](), indent=2, sort_keys=True) + "\n"
