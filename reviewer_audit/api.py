"""The public Python API: audit a transcript, check a bundle, report over a corpus.

    from reviewer_audit import audit_transcript, check_bundle, audit_corpus
    report = audit_transcript("fixtures/seed_002_fwlora_o3_ready.txt")
    report.agreement            # 'reviewer_false_positive'
    report = check_bundle("fixtures/clean_bundle")
    report.tool_verdict.ready   # True
    corpus = audit_corpus(["fixtures/"])                  # in-process; jobs=2 for two workers
    corpus.aggregates.agreement.kappa

The first two return an `AuditReport` (`reviewer_audit.verdict.report`), `audit_corpus` a
`CorpusReport` (`reviewer_audit.corpus.report`); all raise `InputError` on input the tool cannot
read. This module only re-exports: the work lives in the layers below it.

`audit_corpus` audits in-process unless `jobs` > 1. Worker processes are safe under every start
method, but under `spawn` (macOS, Windows, or `multiprocessing.get_context("spawn")`) each
worker imports the calling script again, so a script that passes `jobs` > 1 keeps its calls
under `if __name__ == "__main__":`; without that guard the call raises `WorkerStartError`
naming the cause, instead of every transcript failing.
"""
from __future__ import annotations

from reviewer_audit.engine.findings import Severity
from reviewer_audit.pipeline.audit import audit_transcript, check_bundle, load_bundle

__all__ = ["audit_corpus", "audit_transcript", "check_bundle", "library_manifest", "load_bundle"]


def audit_corpus(paths, fail_on: Severity | str = Severity.major, jobs: int = 1, pattern: str = "*.txt", mp_context=None):
    """Audit every transcript under `paths` and aggregate: agreement and kappa, reviewer false
    positives, adjudicated claims, per-criterion rates. `jobs` > 1 audits in that many worker
    processes, started with `mp_context` (a `multiprocessing` context; default the platform's)."""
    from reviewer_audit.corpus import report as corpus

    files = corpus.find_transcripts(paths, pattern)
    fail_on = Severity(fail_on).value
    rows = corpus.audit_corpus(files, fail_on=fail_on, jobs=jobs, mp_context=mp_context)
    return corpus.build_report(rows, fail_on=fail_on, inputs=list(paths), jobs=jobs)


def library_manifest() -> dict:
    """The manifest of the shipped library index: for each library, the minor versions it
    covers, the release that stands for each, its publication date and the file it was read
    from (name and sha256)."""
    from reviewer_audit.knowledge.api_index import api_index

    return api_index().manifest
