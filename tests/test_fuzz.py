"""A small, deterministic sample of the fuzz suite (`tests/fuzz_strategies.py`) for CI.

The long run is `python -m tests.fuzz --cases 10000` (see `tests/fuzz.py`). Here each input
path gets a fixed, derandomized sample -- about 300 cases in all -- held to the same
invariant: a result or a one-line `InputError` (`YamlError` for the YAML reader), no RA000
(a crashed rule), no executed bundle code, and no case slower than `SLOW` seconds.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests import fuzz_strategies as fs

SLOW = 20.0  # seconds; the long run flags anything over 10 s, CI machines vary


def ci(n: int) -> settings:
    """Deterministic CI settings for `n` cases."""
    return settings(max_examples=n, deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck), print_blob=False)


def check(case: fs.Case) -> None:
    outcome = fs.run_case(case)
    assert not outcome.failed, f"{case!r}\n{outcome.detail}"
    assert outcome.seconds < SLOW, f"{outcome.seconds:.1f} s: {case.label()}"


@pytest.fixture(autouse=True, scope="module")
def _no_markers():
    for m in fs.markers():
        m.unlink()
    yield
    found = fs.markers()
    assert not found, f"bundle code was executed: {found}"


@ci(90)
@given(case=fs.transcript_cases("parse", seeds=("small", "hostile", "seed_000", "seed_002")))
def test_fuzz_transcript_parser(case):
    check(case)


@ci(60)
@given(case=fs.transcript_cases("audit", seeds=("small", "hostile")))
def test_fuzz_whole_audit(case):
    check(case)


@ci(60)
@given(case=fs.bundle_cases())
def test_fuzz_bundle_loader(case):
    check(case)


@ci(50)
@given(case=fs.yaml_cases())
def test_fuzz_yaml_reader(case):
    check(case)


@ci(50)
@given(case=fs.toml_cases())
def test_fuzz_pyproject_reader(case):
    check(case)
