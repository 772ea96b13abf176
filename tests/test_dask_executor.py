"""`--executor dask`: audits on a Dask cluster give the same results as `--jobs` worker processes.

Run on a real local cluster (worker processes, TCP on 127.0.0.1 only). The `dask` extra is in
the test dependencies, so CI runs these; without it they skip.
"""
from __future__ import annotations

import json
import os
import sys

import pytest

pytest.importorskip("distributed", reason="the 'dask' extra is not installed (pip install -e '.[dask]')")

from reviewer_audit.corpus import dask_executor  # noqa: E402
from reviewer_audit.corpus.pool import WorkerStartError  # noqa: E402
from tests.conftest import FIXTURES, SHARED, run_cli  # noqa: E402
from tests.test_cache import same_json  # noqa: E402


def _double_or_die(item: int) -> int:
    if item == 3:
        os._exit(7)  # a native crash or an OOM kill, as far as the cluster can tell
    return item * 2


def _dead(item: int) -> int:
    return -item


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      silence_logs=50) as c:
        yield c


def test_report_on_a_local_dask_cluster_equals_worker_processes(tmp_path):
    jsonl = tmp_path / "rows.jsonl"
    dask = run_cli("report", str(FIXTURES), "--executor", "dask", "--jobs", "2", "-f", "json", "--no-cache", "-q",
                   "--jsonl", str(jsonl), timeout=300)
    procs = run_cli("report", str(FIXTURES), "--jobs", "2", "-f", "json", "--no-cache", "-q")
    assert dask.returncode == procs.returncode == 0, dask.stderr
    assert len(json.loads(dask.stdout)["rows"]) >= 3
    assert same_json(dask.stdout, procs.stdout)
    merged = run_cli("report", "--merge", str(jsonl), "-f", "json", "-q")  # offline sharding still works
    assert [r["file"] for r in json.loads(merged.stdout)["rows"]] == [r["file"] for r in json.loads(procs.stdout)["rows"]]


def test_report_through_a_scheduler_address(cluster):
    via = run_cli("report", str(FIXTURES), "--executor", "dask", "--scheduler", cluster.scheduler_address,
                  "-f", "json", "--no-cache", "-q", timeout=300)
    local = run_cli("report", str(FIXTURES), "--jobs", "1", "-f", "json", "--no-cache", "-q")
    assert via.returncode == 0, via.stderr
    assert same_json(via.stdout, local.stdout.replace('"jobs": 1', f'"jobs": {json.loads(via.stdout)["jobs"]}'))


def test_a_task_that_kills_its_worker_is_named_and_the_rest_are_done(cluster):
    out = sorted(dask_executor.start(_double_or_die, list(range(6)), 2, _dead, cluster.scheduler_address))
    assert out == sorted([0, 2, 4, -3, 8, 10])


def test_cached_rows_are_not_sent_to_the_cluster(tmp_path, cluster, monkeypatch):
    from reviewer_audit.corpus.report import collect
    from reviewer_audit.pipeline.cache import AuditCache

    cache = AuditCache(tmp_path)
    cold = collect([FIXTURES], cache=cache, executor="dask", scheduler=cluster.scheduler_address)
    monkeypatch.setattr(dask_executor, "start", lambda *a, **k: pytest.fail("a warm run started the cluster"))
    warm = collect([FIXTURES], cache=cache, executor="dask", scheduler=cluster.scheduler_address)
    assert same_json(cold.model_dump_json(), warm.model_dump_json())


def test_unreachable_scheduler_and_missing_extra_are_one_line(monkeypatch):
    monkeypatch.setenv("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "2s")
    proc = run_cli("report", str(FIXTURES), "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9", "--no-cache", "-q", timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Dask scheduler at tcp://127.0.0.1:9" in proc.stderr
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(WorkerStartError, match=r"pip install 'reviewer-audit\[dask\]'"):
        dask_executor.start(_dead, [1], 1, _dead)
    assert run_cli("report", str(FIXTURES), "--executor", "ray", "-q").returncode == 2


MIRROR = SHARED / "repos" / "airas-20251106-163904-matsuzawa.git"


@pytest.mark.skipif(not MIRROR.is_dir(), reason=f"the shared mirror is not at {MIRROR} (CI places ../shared beside the checkout)")
def test_history_on_dask_equals_worker_processes(cluster):
    via = run_cli("history", str(MIRROR), "--executor", "dask", "--scheduler", cluster.scheduler_address, "-f", "json",
                  "--no-cache", "-q", "--jobs", "2", timeout=300)
    procs = run_cli("history", str(MIRROR), "-f", "json", "--no-cache", "-q", "--jobs", "2")
    assert via.returncode == procs.returncode == 0, via.stderr
    assert same_json(via.stdout, procs.stdout)
