"""One small seam for parallel work: any ``concurrent.futures.Executor`` can run the per-file tasks.

``--jobs 1`` runs inline (no processes, easy to debug); ``--jobs N`` uses a process pool whose workers
receive the shared, read-only inputs once through an initializer instead of with every task.

No worker outlives the main process. Every worker (these pools' and :mod:`jixiao_xl.intake`'s) calls
:func:`bind_to_parent` first: on Linux the kernel sends it SIGKILL when its parent dies
(``PR_SET_PDEATHSIG``), and everywhere a watchdog thread exits it once its parent pid changes (the parent
died and the worker was re-parented). :func:`stop_workers` is the main process's side: the signal handlers
of the command line call it before unwinding.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, as_completed, wait
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_jobs() -> int:
    """The default worker count: the number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


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
    return ProcessPoolExecutor(max_workers=jobs, initializer=_start_pool_worker,
                               initargs=(os.getpid(), initializer, initargs))


def _start_pool_worker(parent_pid: int, initializer: Callable | None, initargs: tuple) -> None:
    bind_to_parent(parent_pid)
    if initializer is not None:
        initializer(*initargs)


# -- workers die with the main process ------------------------------------------------------------------

PR_SET_PDEATHSIG = 1
# How often a worker's watchdog looks at its parent pid, in seconds.
WATCH_SECONDS = 0.5
# A worker that finds itself orphaned exits with this code (it has nobody to answer to).
EXIT_ORPHANED = 70
_STOPPING = threading.Event()


class WorkersStopped(Exception):
    """A pool was asked for a worker after :func:`stop_workers` (the command is being stopped)."""


def bind_to_parent(parent_pid: int) -> None:
    """Make this worker die with ``parent_pid`` (the process that started it), however that one ends.

    Call it first thing in a worker. The death signal is tied to the thread that forked the worker, which
    in this package lives as long as the pool that owns the worker.
    """
    _set_parent_death_signal()
    if os.getppid() != parent_pid:
        os._exit(EXIT_ORPHANED)  # the parent died before the death signal was armed
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="jixiao-parent-watch", daemon=True).start()


def _set_parent_death_signal() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no libc prctl: the watchdog alone guards the worker
        pass


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_SECONDS)
    os._exit(EXIT_ORPHANED)


def stop_workers() -> None:
    """Kill every worker process this process has started, and let no pool start another.

    Called on SIGTERM/SIGINT before the command unwinds: a pool's shutdown waits for its workers' tasks, and
    a task stuck in a loop would keep it waiting for ever. :func:`allow_workers` lifts the ban.
    """
    _STOPPING.set()
    for process in multiprocessing.active_children():
        try:
            process.kill()
        except (OSError, ValueError):
            pass


def allow_workers() -> None:
    """Let pools start workers again (at the start of each command)."""
    _STOPPING.clear()


def stopping() -> bool:
    """True once :func:`stop_workers` has been called (pools then stop instead of replacing workers)."""
    return _STOPPING.is_set()


def run_all(executor: Executor, fn: Callable[[T], R], items: Iterable[T],
            on_done: Callable[[R], None] = lambda r: None) -> Iterator[R]:
    """Submit ``fn(item)`` for every item and yield results as they finish, calling ``on_done`` for each."""
    futures = [executor.submit(fn, item) for item in items]
    for future in as_completed(futures):
        result = future.result()
        on_done(result)
        yield result


def in_window(executor: Executor, fn: Callable, items: Iterable[T], window: int,
              argument: Callable[[T], object] = lambda item: item) -> Iterator[tuple[T, Future]]:
    """Yield ``(item, finished future)`` for ``fn(argument(item))`` over every item, with at most ``window``
    submitted and not yet yielded.

    Unlike submitting everything up front, a finished result is referenced only until the caller has
    consumed it: importing 20,000 files keeps a handful of results in memory, not 20,000.
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
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            yield pending.pop(future), future
        del done, future


_END = object()


def freeze_shared_objects() -> None:
    """Move everything allocated so far (the master, compiled templates) out of the garbage collector's reach.

    Those objects live as long as the process; scanning them again on every collection is wasted time, and
    in forked workers it would also copy their pages. Call it once the batch's shared inputs are loaded.
    """
    import gc

    gc.collect()
    gc.freeze()
