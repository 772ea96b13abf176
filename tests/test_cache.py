"""The content cache (`pipeline.cache`): a cached run says exactly what an uncached run says.

Every command that caches is run cold (auditing, filling the cache), warm (reading it back) and
with `--no-cache`; the outputs must be identical byte for byte once timings are taken out.
Entries never hold a path; concurrent writers leave only whole entries; any change of input
bytes, settings or library date misses.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reviewer_audit.pipeline.cache import AuditCache
from tests.conftest import CORPUS, FIXTURES, ROOT, SEED_000, SEED_002, SHARED, corpus_files, needs_corpus, run_cli

#: Keys whose values are timings (they change from run to run, cached or not).
TIMING_KEYS = {"timings_ms", "duration_ms", "wall_ms", "read_ms"}


def untimed(value):
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


def same_json(a: str, b: str) -> bool:
    return json.dumps(untimed(json.loads(a)), sort_keys=True) == json.dumps(untimed(json.loads(b)), sort_keys=True)


def entries(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.json"))


def cli(cache: Path | None, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    extra = ["--no-cache"] if cache is None else ["--cache-dir", str(cache)]
    return run_cli(*args, *extra, cwd=cwd)


def assert_no_paths(root: Path, *paths: Path | str) -> None:
    """No entry holds an absolute path: not the inputs', the working folder's or the cache's."""
    needles = {str(Path(p).resolve()) for p in paths} | {str(p) for p in paths} | {str(ROOT), str(root), os.getcwd()}
    for entry in entries(root):
        text = entry.read_text(encoding="utf-8")
        for needle in needles:
            assert needle not in text, (entry, needle)
        assert not re.search(r'"(/(?:tmp|home|root|work|Users)/[^"]*)"', text), entry


def test_audit_review_warm_equals_uncached_and_stores_no_path(tmp_path):
    cache = tmp_path / "cache"
    copy = tmp_path / "elsewhere" / SEED_002.name
    copy.parent.mkdir()
    shutil.copy(SEED_002, copy)
    cold = cli(cache, "audit-review", str(SEED_002), "-f", "json")
    warm = cli(cache, "audit-review", str(SEED_002), "-f", "json")
    fresh = cli(None, "audit-review", str(SEED_002), "-f", "json")
    assert cold.returncode == warm.returncode == fresh.returncode == 1, cold.stderr
    assert len(entries(cache)) == 1
    assert json.loads(warm.stdout)["timings_ms"].get("cached") == 1.0  # really read back
    assert "cached" not in json.loads(fresh.stdout)["timings_ms"]
    assert same_json(cold.stdout, fresh.stdout) and same_json(warm.stdout, fresh.stdout)
    assert cli(cache, "audit-review", str(SEED_002)).stdout == cli(None, "audit-review", str(SEED_002)).stdout  # text too
    # The same bytes elsewhere are the same entry, reported under their own path.
    moved = cli(cache, "audit-review", str(copy), "-f", "json")
    assert len(entries(cache)) == 1
    assert json.loads(moved.stdout)["source"] == str(copy)
    assert same_json(moved.stdout, cli(None, "audit-review", str(copy), "-f", "json").stdout)
    assert_no_paths(cache, SEED_002, copy, tmp_path)


@pytest.mark.parametrize("target", ["clean_bundle", "clean_bundle.json", "hostile_bundle", SEED_000.name])
def test_check_every_format_warm_equals_uncached(tmp_path, target):
    cache = tmp_path / "cache"
    path = FIXTURES / target
    formats = ("json", "sarif", "junit", "github", "text")

    def outputs(c):
        out = tmp_path / ("warm" if c else "fresh")
        out.mkdir(exist_ok=True)
        proc = cli(c, "check", str(path), *[a for f in formats for a in ("--output", f"{f}:{out / ('o.' + f)}")], cwd=tmp_path)
        assert proc.returncode in (0, 1), proc.stderr
        return proc.returncode, {f: (out / f"o.{f}").read_text() for f in formats}

    cli(cache, "check", str(path), "-f", "json", cwd=tmp_path)  # cold: fills the cache
    assert entries(cache)
    warm_code, warm = outputs(cache)
    fresh_code, fresh = outputs(None)
    assert warm_code == fresh_code
    assert same_json(warm["json"], fresh["json"]) and same_json(warm["sarif"], fresh["sarif"])
    strip = lambda s: re.sub(r'time="[^"]*"', "", s)  # noqa: E731 -- JUnit's own timing attributes
    assert strip(warm["junit"]) == strip(fresh["junit"])
    assert warm["github"] == fresh["github"] and warm["text"] == fresh["text"]
    assert_no_paths(cache, path, tmp_path)


def test_check_settings_and_library_date_are_part_of_the_key(tmp_path):
    cache = tmp_path / "cache"
    path = str(FIXTURES / "clean_bundle")
    cli(cache, "check", path, "-f", "json", cwd=tmp_path)
    n = len(entries(cache))
    cli(cache, "check", path, "-f", "json", cwd=tmp_path)
    assert len(entries(cache)) == n
    for extra in (["--fail-on", "minor"], ["--ignore", "RA9"], ["--exclude-newer", "2025-01-01"]):
        warm = cli(cache, "check", path, "-f", "json", *extra, cwd=tmp_path)
        n, before = len(entries(cache)), n
        assert n == before + 1, extra
        assert same_json(warm.stdout, cli(None, "check", path, "-f", "json", *extra, cwd=tmp_path).stdout), extra


def test_changed_bytes_miss_and_damaged_entries_are_misses(tmp_path):
    from reviewer_audit.api import audit_transcript

    cache = AuditCache(tmp_path / "cache")
    t = tmp_path / SEED_002.name
    t.write_bytes(SEED_002.read_bytes())
    first = audit_transcript(t, cache=cache)
    assert (cache.hits, cache.misses) == (0, 1)
    t.write_bytes(SEED_002.read_bytes().replace(b"is_code_ready", b"is_code_ready", 1) + b"\n")
    audit_transcript(t, cache=cache)
    assert (cache.hits, cache.misses) == (0, 2)
    for entry in entries(tmp_path / "cache"):
        entry.write_text('{"truncated": ')
    again = audit_transcript(t, cache=cache)
    assert again.timings_ms.get("cached") is None  # the damaged entry was not used...
    assert "cached" in audit_transcript(t, cache=cache).timings_ms  # ...and was rewritten
    assert first.model_dump(exclude={"timings_ms", "source"}) == again.model_dump(exclude={"timings_ms", "source"})


def test_a_new_tool_fingerprint_misses(tmp_path, monkeypatch):
    from reviewer_audit.pipeline import cache as cache_mod

    cache = AuditCache(tmp_path)
    key = cache.key("audit", [b"same bytes"])
    monkeypatch.setattr(cache_mod, "_FINGERPRINT", ["another version of the code or data"])
    assert cache.key("audit", [b"same bytes"]) != key
    assert cache.key("audit", [b"same", b" bytes"]) != cache.key("audit", [b"same ", b"bytes"])


def test_fingerprint_covers_the_rules_and_library_data(tmp_path, monkeypatch):
    """The tool fingerprint hashes the rule sources and the shipped data: edit either, and
    every key changes."""
    from reviewer_audit.pipeline import cache as cache_mod

    base = cache_mod.tool_fingerprint()
    real = Path.read_bytes

    for victim in ("releases.json", "hydra.py"):
        def edited(self, _victim=victim):
            data = real(self)
            return data + b"#edited" if self.name == _victim else data

        monkeypatch.setattr(cache_mod, "_FINGERPRINT", [])
        monkeypatch.setattr(Path, "read_bytes", edited)
        assert cache_mod.tool_fingerprint() != base, victim
        monkeypatch.setattr(Path, "read_bytes", real)


def test_report_json_is_identical_cold_warm_and_uncached(tmp_path):
    from reviewer_audit.corpus.report import collect

    cache = AuditCache(tmp_path / "cache")
    cold = collect([FIXTURES], jobs=1, cache=cache)
    warm = collect([FIXTURES], jobs=1, cache=cache)
    fresh = collect([FIXTURES], jobs=1)
    assert cache.hits == len(warm.rows) >= 3
    assert same_json(cold.model_dump_json(), fresh.model_dump_json())
    assert same_json(warm.model_dump_json(), fresh.model_dump_json())
    assert_no_paths(tmp_path / "cache", FIXTURES, tmp_path)


def test_concurrent_report_runs_share_one_cache(tmp_path):
    """Two `report --jobs 2` at once on one cache folder: both finish, agree with an uncached
    run, and leave only whole entries (no temporary files, every entry valid JSON)."""
    cache = tmp_path / "cache"
    exe = Path(sys.executable).with_name("reviewer-audit")
    cmd = [str(exe), "report", str(FIXTURES), "--jobs", "2", "-f", "json", "--cache-dir", str(cache), "-q"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    fresh = run_cli("report", str(FIXTURES), "--jobs", "2", "-f", "json", "--no-cache", "-q")
    for out, _ in outs:
        assert same_json(out, fresh.stdout)
    assert not [p for p in cache.rglob(".tmp-*")]
    for entry in entries(cache):
        json.loads(entry.read_text())
    warm = run_cli("report", str(FIXTURES), "--jobs", "2", "-f", "json", "--cache-dir", str(cache), "-q")
    assert same_json(warm.stdout, fresh.stdout)


@needs_corpus
def test_report_over_the_corpus_is_identical_with_the_cache(tmp_path):
    """The first 30 corpus transcripts: `report --jobs 2` cold, warm and uncached, byte for byte
    on the JSON minus timings."""
    folder = tmp_path / "t"
    folder.mkdir()
    for f in corpus_files()[:30]:
        os.symlink(f, folder / f.name)
    for index in (CORPUS / "transcripts" / "index.tsv", CORPUS / "index.tsv"):
        if index.exists():  # the transcripts' dates (library dates), as `index_dates` finds them
            os.symlink(index, folder / "index.tsv")
            break
    cache = tmp_path / "cache"
    args = ("report", str(folder), "--jobs", "2", "-f", "json", "-q")
    cold = cli(cache, *args)
    warm = cli(cache, *args)
    fresh = cli(None, *args)
    assert cold.returncode == warm.returncode == fresh.returncode == 0, cold.stderr
    assert len(json.loads(fresh.stdout)["rows"]) == 30
    assert same_json(cold.stdout, fresh.stdout) and same_json(warm.stdout, fresh.stdout)
    assert_no_paths(cache, folder, CORPUS, tmp_path)


MIRROR = SHARED / "repos" / "airas-20251106-163904-matsuzawa.git"


@pytest.mark.skipif(not MIRROR.is_dir(), reason=f"the shared mirror is not at {MIRROR} (CI places ../shared beside the checkout)")
def test_history_is_identical_with_the_cache(tmp_path):
    cache = tmp_path / "cache"
    args = ("history", str(MIRROR), "-f", "json", "--jobs", "1", "-q")
    cold = cli(cache, *args)
    warm = cli(cache, *args)
    fresh = cli(None, *args)
    assert cold.returncode == warm.returncode == fresh.returncode == 0, cold.stderr
    assert entries(cache)
    assert same_json(cold.stdout, fresh.stdout) and same_json(warm.stdout, fresh.stdout)
    assert_no_paths(cache, MIRROR, tmp_path)


def test_no_cache_writes_nothing_and_an_unwritable_cache_costs_only_speed(tmp_path):
    cache = tmp_path / "cache"
    assert cli(None, "audit-review", str(SEED_002), "-f", "json").returncode == 1
    assert not cache.exists()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = cli(blocker / "cache", "audit-review", str(SEED_002), "-f", "json")
    assert proc.returncode == 1 and proc.stderr == "", proc.stderr


def test_a_cached_run_loads_no_audit_machinery(tmp_path):
    """Start-up: a command whose result is cached imports neither libcst, Hydra nor the rules."""
    import textwrap

    cache = tmp_path / "cache"
    assert cli(cache, "audit-review", str(SEED_002), "-f", "json").returncode == 1
    script = textwrap.dedent(f"""
        import sys
        from reviewer_audit.cli import main
        sys.argv = ["reviewer-audit", "audit-review", {str(SEED_002)!r}, "-f", "json", "--cache-dir", {str(cache)!r}, "-o", {str(tmp_path / "o.json")!r}]
        try:
            main()
        except SystemExit:
            pass
        print(sorted(m for m in ("libcst", "hydra", "omegaconf", "reviewer_audit.rules", "reviewer_audit.program.runs") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    assert json.loads((tmp_path / "o.json").read_text())["timings_ms"].get("cached") == 1.0
