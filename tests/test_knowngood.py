"""Specificity on real code that worked: the known-good bundles of ../shared/knowngood.

Each bundle's pipeline CI ran `python -m src.main run=<run_id> mode=<mode>` to exit 0 with the
libraries of that day (manifest.tsv, evidence in its README). So no blocker may claim a crash on
that command's path -- its own lines, the children main starts, the install, the Hydra
composition -- when the bundle is checked with `--exclude-newer` set to the commit date. A
blocker on another run's path, in another mode, or in src/evaluate.py (not part of that command)
is not contradicted by the evidence, and a latent finding is minor by construction.
"""
from __future__ import annotations

import csv

import pytest

from reviewer_audit.api import check_bundle
from reviewer_audit.ingest.transcript import load_transcript
from reviewer_audit.spec.prompt import spec_for_transcript

from .conftest import SHARED

KNOWNGOOD = SHARED / "knowngood"

pytestmark = pytest.mark.skipif(not (KNOWNGOOD / "manifest.tsv").is_file(),
                                reason=f"the known-good bundles are not at {KNOWNGOOD} (CI places ../shared beside the checkout)")


def _rows() -> list[dict[str, str]]:
    if not (KNOWNGOOD / "manifest.tsv").is_file():
        return []
    with (KNOWNGOOD / "manifest.tsv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _ran(report, run_id: str, mode: str) -> set[str]:
    """The command lines of the command that passed and of the children it starts. A bundle
    whose run configs the spec does not place has commands without a run id: then every main
    command of that mode stands for it."""
    mains = [i for i, c in enumerate(report.commands) if c.kind == "main" and c.run_id == run_id and c.mode in (mode, None)]
    if not mains:
        mains = [i for i, c in enumerate(report.commands) if c.kind == "main" and c.run_id is None and c.mode in (mode, None)]
    return {report.commands[i].command for i in mains} | {c.command for c in report.commands if c.parent in mains}


def _spec(row):
    """The prompt the code was written for (`check DIR --from-transcript T`): the reviewer
    transcript of that commit, else one of the same repository (one pipeline run, one prompt);
    else the newest prompt, as `check` uses."""
    transcript = KNOWNGOOD / "spec_transcripts" / f"{row['dir']}.txt"
    if not transcript.is_file():
        transcript = next(iter(sorted((KNOWNGOOD / "spec_transcripts").glob(f"{row['repo']}__*.txt"))), transcript)
    return spec_for_transcript(load_transcript(transcript)) if transcript.is_file() else None


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["dir"][:80])
def test_no_blocker_on_the_path_of_a_command_that_passed(row):
    report = check_bundle(KNOWNGOOD / "bundles" / row["dir"], spec=_spec(row), exclude_newer=row["commit_date"][:10])
    ran = _ran(report, row["run_id"], row["mode_ran"])
    assert ran, f"the bundle's run {row['run_id']} ({row['mode_ran']}) is not among its commands: {[c.command for c in report.commands]}"
    contradicting = [
        f for f in report.findings
        if f.severity.value == "blocker" and not f.suppressed and f.consequence_of is None and f.path != "src/evaluate.py"
        and (f.reach is None or ran & set(f.reach.commands))
    ]
    assert not contradicting, "\n".join(f"{f.rule} {f.where}: {f.message}" for f in contradicting)
