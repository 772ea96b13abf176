"""Library releases as of a date (`--exclude-newer`), and where a transcript's date comes from."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from reviewer_audit.ingest.dates import transcript_date
from reviewer_audit.knowledge.releases import admitted, first_release_in, parse_date, releases

from .conftest import ROOT, SEED_002


def test_dates_parse_as_uv_takes_them():
    assert parse_date("2025-10-17") == dt.date(2025, 10, 17)
    assert parse_date("2025-10-17T23:30:00-02:00") == dt.date(2025, 10, 18)  # UTC date
    assert parse_date("2025-10-17T18:29:56Z") == dt.date(2025, 10, 17)
    with pytest.raises(ValueError, match="not a date"):
        parse_date("yesterday")


def test_only_releases_published_before_the_date_count():
    before = admitted("wandb", ">=0.15", dt.date(2025, 10, 17))
    assert before and all(r.date < dt.date(2025, 10, 17) for r in before)
    assert str(before[-1].version) == "0.22.2"  # the newest wandb a 2025-10-17 install could get
    assert all(not r.version.is_prerelease for r in before)
    first = first_release_in("wandb", ">=0.15", ">=0.29.0")
    assert str(first.version) == "0.29.0" and first.date > dt.date(2025, 10, 17)


def test_a_library_without_data_is_judged_as_today():
    assert releases("no-such-distribution-xyz") is None
    assert admitted("no-such-distribution-xyz", ">=1", dt.date(2025, 1, 1)) is None


def test_transcript_date_prefers_the_index_then_the_file_name(tmp_path):
    (tmp_path / "index.tsv").write_text("file\tcommit_date\nrepo-20251014__a.txt\t2025-10-20T09:00:00+09:00\n")
    assert transcript_date(tmp_path / "repo-20251014__a.txt") == "2025-10-20T00:00:00Z"
    assert transcript_date(tmp_path / "repo-20251014__b.txt") == "2025-10-14"
    assert transcript_date(SEED_002) is None


def test_bad_exclude_newer_is_one_line_exit_2():
    proc = subprocess.run([sys.executable, "-c", "from reviewer_audit.cli import main; main()", "check",
                           str(ROOT / "fixtures" / "clean_bundle"), "--exclude-newer", "soon"],
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "--exclude-newer" in proc.stderr and "Traceback" not in proc.stderr


def test_the_report_says_which_date_it_judged_by():
    proc = subprocess.run([sys.executable, "-c", "from reviewer_audit.cli import main; main()", "audit-review",
                           str(SEED_002), "--format", "json", "--exclude-newer", "2025-10-01"], capture_output=True, text=True)
    assert json.loads(proc.stdout)["exclude_newer"] == "2025-10-01"
