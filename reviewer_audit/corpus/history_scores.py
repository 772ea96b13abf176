"""Score the reviewer and the tool against execution: did the next run of the judged code pass?

A verdict is a prediction: 'not ready' predicts that the code will not run, 'ready' that it
will. Against the outcome of the next CI run of exactly the judged code, each review falls in
one cell of a 2x2 table, kept per reviewer model and per prompt version, for the reviewer's
verdict and for the tool's. The positive class is the crash (the thing a review is for):
precision = failed among 'not ready', recall = 'not ready' among failed. Reviews whose next run
is unknown are counted, not scored. A pure function of the transcript versions.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from reviewer_audit.corpus.history_models import (Confusion, CrashLocation, ExecutionScores, ScoreGroup,
                                                  TranscriptVersion)

UNNAMED = "(unnamed)"


def confusion(pairs: Iterable[tuple[bool | None, str]]) -> Confusion:
    """(verdict ready?, outcome) pairs -> the table; verdicts or outcomes unknown are left out."""
    c = Confusion()
    for ready, outcome in pairs:
        if ready is None or outcome not in ("passed", "failed"):
            continue
        if ready:
            if outcome == "passed":
                c.ready_passed += 1
            else:
                c.ready_failed += 1
        elif outcome == "passed":
            c.not_ready_passed += 1
        else:
            c.not_ready_failed += 1
    tp, fp, fn, tn = c.not_ready_failed, c.not_ready_passed, c.ready_failed, c.ready_passed
    c.n = tp + fp + fn + tn
    c.precision = tp / (tp + fp) if tp + fp else None
    c.recall = tp / (tp + fn) if tp + fn else None
    c.accuracy = (tp + tn) / c.n if c.n else None
    return c


def _group(key: str, reviews: list[TranscriptVersion]) -> ScoreGroup:
    return ScoreGroup(
        key=key, reviews=len(reviews),
        scored=sum(1 for r in reviews if r.outcome_next_run != "unknown"),
        reviewer=confusion((r.reviewer_ready, r.outcome_next_run) for r in reviews),
        tool=confusion((r.tool_ready, r.outcome_next_run) for r in reviews),
    )


def score(versions: Iterable[TranscriptVersion]) -> ExecutionScores:
    """Scores over reviews: one per distinct transcript text (its first version)."""
    reviews = [v for v in versions if v.first_of_blob]
    by_model: dict[str, list[TranscriptVersion]] = defaultdict(list)
    by_prompt: dict[str, list[TranscriptVersion]] = defaultdict(list)
    for r in reviews:
        if r.audit_error and r.prompt_version is None:
            continue
        by_model[r.reviewer_model or UNNAMED].append(r)
        by_prompt[r.prompt_version or UNNAMED].append(r)
    crash = CrashLocation()
    for r in reviews:
        m = r.crash_match
        if m is None:
            continue
        crash.failed_with_error += 1
        crash.predicted += m.predicted is not None
        crash.same_file += bool(m.same_file)
        crash.same_error += bool(m.same_error)
        crash.same_kind += bool(m.same_kind)
        crash.cases.append(m)
    return ExecutionScores(
        reviews=len(reviews),
        scored=sum(1 for r in reviews if r.outcome_next_run != "unknown"),
        reviewer=confusion((r.reviewer_ready, r.outcome_next_run) for r in reviews),
        tool=confusion((r.tool_ready, r.outcome_next_run) for r in reviews),
        by_model=sorted((_group(k, v) for k, v in by_model.items()), key=lambda g: (-g.reviews, g.key)),
        by_prompt_version=sorted((_group(k, v) for k, v in by_prompt.items()), key=lambda g: (-g.reviews, g.key)),
        crash_location=crash,
    )
