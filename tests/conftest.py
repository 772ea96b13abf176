"""Shared test fixtures: where the repo, the fixtures and ../shared live."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SEED_000 = FIXTURES / "seed_000_glora_o3_not_ready.txt"
SEED_002 = FIXTURES / "seed_002_fwlora_o3_ready.txt"


def pytest_configure(config) -> None:
    """The results cache of every command a test runs goes to a folder of this test session
    (each xdist worker its own), never to the user's cache folder."""
    import shutil
    import tempfile

    if not os.environ.get("REVIEWER_AUDIT_TEST_CACHE"):
        folder = tempfile.mkdtemp(prefix="reviewer-audit-test-cache-")
        os.environ["REVIEWER_AUDIT_CACHE_DIR"] = os.environ["REVIEWER_AUDIT_TEST_CACHE"] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def corpus_files() -> list[Path]:
    return sorted((CORPUS / "transcripts").glob("*.txt"))


needs_corpus = pytest.mark.skipif(
    not (CORPUS / "transcripts").is_dir(),
    reason=f"the shared corpus is not at {CORPUS} (CI places ../shared beside the checkout)",
)


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed console script as a user would (a separate process)."""
    exe = Path(sys.executable).with_name("reviewer-audit")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "reviewer_audit.cli"]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)


def main_runs(files: dict[str, str], run_yaml: str):
    """The commands of `python -m src.main` for a small Hydra bundle with one run config `r1`
    under config/run/, each followed by the run model (their traces are what interpreter tests
    read)."""
    from reviewer_audit.engine import Case
    from reviewer_audit.engine.runner import context_for_case
    from reviewer_audit.program.runs import run_model

    ctx = context_for_case(Case(files=files, runs={"r1": run_yaml}, spec={"run_config_dir": "config/run"}))
    runs = [r for r in run_model(ctx).runs if r.command.module == "src/main.py"]
    assert runs
    return runs
