"""Dump every corpus transcript's findings and verdicts, to show a speed change changes nothing.

    python benchmarks/snapshot.py OUT.json [--corpus DIR] [--no-cache]

One line per finding: transcript, rule, path, line, severity, message; plus each transcript's
tool verdict, agreement and claim statuses. Compare two dumps with `cmp` or `diff`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus" / "transcripts"))
    args = ap.parse_args()
    from reviewer_audit.api import audit_transcript
    from reviewer_audit.ingest.errors import InputError

    rows = {}
    for f in sorted(Path(args.corpus).glob("*.txt")):
        try:
            r = audit_transcript(f)
        except InputError as exc:
            rows[f.name] = {"error": str(exc)}
            continue
        rows[f.name] = {
            "ready": r.tool_verdict.ready,
            "agreement": r.agreement,
            "findings": [[x.rule, x.path, x.line, str(getattr(x.severity, "value", x.severity)), x.message] for x in r.findings],
            "claims": [[c.status, c.text] for c in r.claims],
            "commands": json.loads(json.dumps([c.model_dump(mode="json") for c in r.commands] if r.commands else [])),
        }
        print(f"\r{len(rows)}", end="", file=sys.stderr)
    Path(args.out).write_text(json.dumps(rows, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
