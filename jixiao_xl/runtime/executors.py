"""One small seam for parallel work: any ``concurrent.futures.Executor`` can run the per-file tasks.

``--jobs 1`` runs inline (no processes, easy to debug); ``--jobs N`` uses a process pool, started with the
package's start method (:mod:`.start`), whose workers receive the shared, read-only inputs once through an
initializer instead of with every task. Under spawn the initializer and its arguments are pickled, so both
must be top-level functions and plain data.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, as_completed, wait
from typing import Callable, Iterable, Iterator, TypeVar

from .lifetime import bind_to_parent
from .start import mp_context

T = TypeVar("T")
R = TypeVar("R")


class InlineExecutor(Executor):
    """Runs each task at submission, in this process."""

    def __init__(self, initializer: Callable | None = None, initargs: tuple = ()) -> None:
        if initializer is not None:
            initializer(*initargs)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def make_executor(jobs: int, initializer: Callable | None = None, initargs: tuple = ()) -> Executor:
    """An executor for ``jobs`` workers (inline for one); each worker is bound to this process."""
    if jobs <= 1:
        return InlineExecutor(initializer, initargs)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=mp_context(), initializer=_start_pool_worker,
                               initargs=(os.getpid(), initializer, initargs))


def _start_pool_worker(parent_pid: int, initializer: Callable | None, initargs: tuple) -> None:
    bind_to_parent(parent_pid)
    if initializer is not None:
        initializer(*initargs)


def run_all(executor: Executor, fn: Callable[[T], R], items: Iterable[T],
            on_done: Callable[[R], None] = lambda r: None) -> Iterator[R]:
    """Submit ``fn(item)`` for every item and yield results as they finish, calling ``on_done`` for each."""
    futures = [executor.submit(fn, item) for item in items]
    for future in as_completed(futures):
        result = future.result()
        on_done(result)
        yield result


def in_window(executor: Executor, fn: Callable, items: Iterable[T], window: int,
              argument: Callable[[T], object] = lambda item: item, ordered: bool = False) -> Iterator[tuple[T, Future]]:
    """Yield ``(item, finished future)`` for ``fn(argument(item))`` over every item, with at most ``window``
    submitted and not yet yielded; in the items' order when ``ordered``, else as they finish.

    Unlike submitting everything up front, a finished result is referenced only until the caller has
    consumed it: importing 20,000 files keeps a handful of results in memory, not 20,000. ``ordered`` makes
    what the caller does with each result independent of which worker happened to finish first.
    """
    pending: dict[Future, T] = {}
    source = iter(items)
    exhausted = False
    while True:
        while not exhausted and len(pending) < max(1, window):
            item = next(source, _END)
            if item is _END:
                exhausted = True
            else:
                pending[executor.submit(fn, argument(item))] = item
        if not pending:
            return
        if ordered:
            done = [next(iter(pending))]
            wait(done)
        else:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            yield pending.pop(future), future
        del done, future


_END = object()
