"""The audit's garbage-collector policy is scoped: raised while auditing, restored after."""
from __future__ import annotations

import gc

import pytest

from reviewer_audit.pipeline.gc_policy import AUDIT_GEN0_THRESHOLD, fewer_collections


def test_threshold_raised_inside_and_restored_after() -> None:
    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (AUDIT_GEN0_THRESHOLD, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*saved)


def test_restored_when_the_audit_raises() -> None:
    saved = gc.get_threshold()
    with pytest.raises(RuntimeError):
        with fewer_collections():
            raise RuntimeError("boom")
    assert gc.get_threshold() == saved


def test_a_higher_threshold_of_the_caller_is_kept() -> None:
    saved = gc.get_threshold()
    try:
        gc.set_threshold(10 * AUDIT_GEN0_THRESHOLD, 10, 10)
        with fewer_collections():
            assert gc.get_threshold()[0] == 10 * AUDIT_GEN0_THRESHOLD
    finally:
        gc.set_threshold(*saved)


def test_audit_transcript_leaves_the_policy_as_it_found_it() -> None:
    from reviewer_audit.api import audit_transcript
    from tests.conftest import FIXTURES

    saved = gc.get_threshold()
    audit_transcript(FIXTURES / "clean_ready.txt")
    assert gc.get_threshold() == saved
