"""Run audits on a Dask cluster (`report --executor dask`, `history --executor dask`).

Why Dask (`distributed`) and not Ray: an audit is a pure-Python, CPU-bound function of a
picklable item, which is exactly a Dask task; `distributed` is pure Python (two wheels, a few
MB, no native runtime), a local cluster starts in a couple of seconds, and the same code
reaches a cluster of many machines through its scheduler's address (`dask scheduler`, or the
Kubernetes, SLURM/PBS, YARN and cloud deployments that `dask-jobqueue` and friends provide).
Ray brings a large native runtime (a ~70 MB wheel, a raylet and object store per node) for
features an audit does not use (actors, GPUs, a distributed object store).

Same contract as `corpus.pool.start`: submit every chunk now, yield results as they finish;
an item whose worker dies (Dask reschedules a task whose worker died; after
`distributed.scheduler.allowed-failures` it gives up with `KilledWorker`) is retried alone,
and `on_dead(item)` stands for the one that kills its worker again. Every worker needs
reviewer-audit installed (the same version: results carry no trace of the machine). Without
`scheduler`, a `LocalCluster` of `jobs` single-threaded worker processes, listening on
127.0.0.1 only, is started and closed around the run.
"""
from __future__ import annotations

import math
from typing import Callable, Iterator, Sequence, TypeVar

from reviewer_audit.corpus.pool import WorkerStartError

T = TypeVar("T")
R = TypeVar("R")

INSTALL_HINT = "the Dask executor needs the 'dask' extra: pip install 'reviewer-audit[dask]'"
#: Most items per task: a task's scheduling overhead is about a millisecond, an audit ~0.1 s.
MAX_CHUNK = 8


def _run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(item) for item in chunk]


def _chunks(items: Sequence[T], workers: int) -> list[list[T]]:
    size = max(1, min(MAX_CHUNK, math.ceil(len(items) / (max(1, workers) * 4))))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def start(fn: Callable[[T], R], items: Sequence[T], jobs: int, on_dead: Callable[[T], R],
          scheduler: str | None = None) -> Iterator[R]:
    """`fn(item)` for every item on a Dask cluster (see the module doc); results in completion
    order. `fn` must be picklable (a module-level function or a `functools.partial` of one)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise WorkerStartError(INSTALL_HINT) from None
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler)  # waits `distributed.comm.timeouts.connect` (30 s; DASK_ env vars set it)
        else:
            import dask

            # Dask's statistical profiler samples every worker thread's stack every 10 ms under
            # the GIL: about a tenth of a pure-Python audit's time. Nobody reads it here.
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=50)
            client = Client(cluster)
    except Exception as exc:  # noqa: BLE001 - any failure to reach or start a cluster is one line
        if cluster is not None:
            cluster.close()
        where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise WorkerStartError(f"cannot start or reach {where}: {type(exc).__name__}: {exc}") from None
    return _drain(client, cluster, fn, list(items), on_dead)


def _drain(client, cluster, fn, items: list, on_dead) -> Iterator:
    from distributed import as_completed

    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        futures = {}
        for chunk in _chunks(items, workers):
            futures[client.submit(_run_chunk, fn, chunk, pure=False)] = chunk
        retry: list = []
        for fut in as_completed(list(futures)):
            try:
                results = fut.result()
            except Exception:  # noqa: BLE001 - KilledWorker, or a worker lost with its results
                retry.extend(futures[fut])
                continue
            yield from results
        for item in retry:  # alone, so the item that kills its worker is the one named
            try:
                yield client.submit(fn, item, pure=False, retries=0).result()
            except Exception:  # noqa: BLE001
                yield on_dead(item)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
