"""Run audits in worker processes, in chunks, containing a worker that dies.

Shared by `report` (transcript files) and `history` (transcript blobs from git): `start`
submits every chunk at once and returns an iterator of results in completion order, so the
caller can do other work (read a repository's runs) while the workers audit. A worker process
that dies (segfault, os._exit, OOM kill) breaks the pool: the items of the chunks it took are
retried one process each, so the item that kills its process is named (`on_dead(item)` gives
its result) and the others are still audited.

Under the `spawn` start method (macOS, Windows) each worker imports the caller's main script
again; a script without an `if __name__ == "__main__":` guard would start a pool from inside a
worker. Such a worker says why in one line and leaves, and the parent raises `WorkerStartError`
naming the cause, instead of one traceback per worker and every item reported as a dead audit.
"""
from __future__ import annotations

import math
import sys
from typing import Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Most items per task: small chunks balance the load, large ones save pickling round trips.
MAX_CHUNK = 16


class WorkerStartError(RuntimeError):
    """Worker processes died before doing any work (see the module doc: `spawn` without a
    `__main__` guard)."""


SPAWN_HINT = ("under the 'spawn' start method (the default on macOS and Windows) every worker imports the calling "
              "script again, so the call must sit under `if __name__ == \"__main__\":`; or pass jobs=1 to audit in-process")


def _guard_bootstrap() -> None:
    """In a worker still importing its parent's main script, starting a pool would only raise
    multiprocessing's RuntimeError: say why in one line and leave; the parent sees the worker
    die before its first task."""
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        sys.stderr.write(f"reviewer-audit: a worker process cannot start: {SPAWN_HINT}\n")
        raise SystemExit(1)


def _ready() -> bool:
    return True


def chunks(items: Sequence[T], jobs: int) -> list[list[T]]:
    size = max(1, min(MAX_CHUNK, math.ceil(len(items) / (jobs * 4))))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def _run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(item) for item in chunk]


def start(fn: Callable[[T], R], items: Sequence[T], jobs: int, on_dead: Callable[[T], R], mp_context=None) -> Iterator[R]:
    """Submit `fn(item)` for every item to `jobs` processes (started with `mp_context`, default
    the platform's method) now; iterate to collect the results as they finish. `fn` must be a
    module-level function (it is pickled). `WorkerStartError` when no worker can start."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _guard_bootstrap()
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=mp_context)
    futures = {}
    pending: list = []
    try:
        try:  # one trivial task first: a worker that dies before it never started
            pool.submit(_ready).result()
        except BrokenProcessPool:
            import multiprocessing

            method = (mp_context or multiprocessing).get_start_method()
            raise WorkerStartError(f"the {jobs} worker processes died before doing any work (start method {method!r}); {SPAWN_HINT}") from None
        for chunk in chunks(items, jobs):
            try:
                futures[pool.submit(_run_chunk, fn, chunk)] = chunk
            except BrokenProcessPool:  # a worker died while the rest was being handed out
                pending.extend(chunk)
    except BaseException:
        pool.shutdown(cancel_futures=True)
        raise
    return _drain(pool, futures, fn, on_dead, pending, mp_context)


def _drain(pool, futures, fn, on_dead, pending: list, mp_context=None) -> Iterator:
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    try:
        for fut in as_completed(futures):
            try:
                results = fut.result()
            except BrokenProcessPool:
                pending.extend(futures[fut])
                continue
            yield from results
    finally:
        pool.shutdown(cancel_futures=True)
    for item in pending:
        yield isolated(fn, item, on_dead, mp_context)


def isolated(fn: Callable[[T], R], item: T, on_dead: Callable[[T], R], mp_context=None) -> R:
    """`fn(item)` in a process of its own; `on_dead(item)` if that process dies."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=mp_context) as pool:
            return pool.submit(fn, item).result()
    except BrokenProcessPool:
        return on_dead(item)
