"""Run audits in worker processes, in chunks, containing a worker that dies.

Shared by `report` (transcript files) and `history` (transcript blobs from git): `start`
submits every chunk at once and returns an iterator of results in completion order, so the
caller can do other work (read a repository's runs) while the workers audit. A worker process
that dies (segfault, os._exit, OOM kill) breaks the pool: the items of the chunks it took are
retried one process each, so the item that kills its process is named (`on_dead(item)` gives
its result) and the others are still audited.
"""
from __future__ import annotations

import math
from typing import Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Most items per task: small chunks balance the load, large ones save pickling round trips.
MAX_CHUNK = 16


def chunks(items: Sequence[T], jobs: int) -> list[list[T]]:
    size = max(1, min(MAX_CHUNK, math.ceil(len(items) / (jobs * 4))))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def _run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(item) for item in chunk]


def start(fn: Callable[[T], R], items: Sequence[T], jobs: int, on_dead: Callable[[T], R]) -> Iterator[R]:
    """Submit `fn(item)` for every item to `jobs` processes now; iterate to collect the
    results as they finish. `fn` must be a module-level function (it is pickled)."""
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(_run_chunk, fn, chunk): chunk for chunk in chunks(items, jobs)}
    except BaseException:
        pool.shutdown(cancel_futures=True)
        raise
    return _drain(pool, futures, fn, on_dead)


def _drain(pool, futures, fn, on_dead) -> Iterator:
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    pending: list = []
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
        yield isolated(fn, item, on_dead)


def isolated(fn: Callable[[T], R], item: T, on_dead: Callable[[T], R]) -> R:
    """`fn(item)` in a process of its own; `on_dead(item)` if that process dies."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            return pool.submit(fn, item).result()
    except BrokenProcessPool:
        return on_dead(item)
