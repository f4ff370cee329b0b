"""A pool of long-lived isolated workers: each serves file after file under the limits of :func:`.run_isolated`.

Starting a child per file costs more than reading a small form, so each worker serves many. The pool is an
``Executor`` whose futures always resolve: to an :class:`~.isolated.Isolated` for every task (one hostile file
cannot take the batch down), or to :class:`~.isolated.WorkerStartError` when no worker can be started at all,
never to a wait without end.
"""

from __future__ import annotations

import collections
import os
import queue
import threading
from concurrent.futures import Executor, Future
from multiprocessing.reduction import ForkingPickler
from typing import Any, Callable

from ..intake.codes import Limits
from .isolated import (REAP_SECONDS, START_LOCK, Isolated, WorkerStartError, answer, await_outcome, died_finding,
                       prepare_child, reap, send_answer, start_child)
from .lifetime import WorkersStopped, stopping as workers_stopped
from .memory import limit_memory
from .start import mp_context


class IsolatedPool(Executor):
    """Parse untrusted files in long-lived worker processes, each under the same limits as run_isolated.

    A task that overruns ``limits.timeout_seconds`` gets its worker killed; a worker that dies (memory
    limit, native crash) or reports MemoryError is replaced. Every future resolves to an
    :class:`Isolated` — never an exception — so one hostile file cannot take the batch down; only when no
    worker can be started at all does a future hold :class:`WorkerStartError`.
    ``initializer(*initargs)`` runs once in each worker (the shared read-only inputs of a batch).
    """

    def __init__(self, workers: int, limits: Limits = Limits(), initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = ()) -> None:
        self._limits = limits
        self._context = mp_context()  # here, so that a start method this system lacks is the caller's error
        self._initializer, self._initargs = initializer, initargs
        self._queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._supervise, daemon=True) for _ in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        self._queue.put((future, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    def _supervise(self) -> None:
        _Feeder(self).run()

    def _spawn(self) -> tuple[Any, Any]:
        if workers_stopped():
            raise WorkersStopped
        with START_LOCK:
            parent_end, child_end = self._context.Pipe(duplex=True)
            process = self._context.Process(target=_pool_worker_main, daemon=True,
                                      args=(child_end, self._initializer, self._initargs, self._limits.memory_bytes,
                                            os.getpid()))
            try:
                start_child(process)
            finally:
                child_end.close()
        return parent_end, process

    def _run(self, worker: tuple[Any, Any], fn: Callable[..., Any], args: tuple, kwargs: dict) -> Isolated:
        connection, process = worker
        try:
            connection.send((fn, args, kwargs))
        except (OSError, ValueError):
            process.join(REAP_SECONDS)
            return Isolated(False, None, died_finding(process.exitcode, self._limits))
        return await_outcome(connection, process, self._limits)


# Tasks waiting in a worker's pipe, the one it works on included. Two keep it busy while the parent unpacks
# an answer; only small tasks are queued, so a task can never fill the pipe while the worker writes an answer.
_IN_FLIGHT = 2
_PIPELINE_BYTES = 16 * 1024


class _Feeder:
    """One supervisor thread of an :class:`IsolatedPool`: its worker and the tasks sent to it, oldest first.

    The worker answers tasks in order and stops after a failed one, so when a task fails (timeout, death,
    memory, an exception) the tasks queued behind it never ran: they are sent again to a fresh worker.
    """

    def __init__(self, pool: IsolatedPool) -> None:
        self.pool = pool
        self.worker: tuple[Any, Any] | None = None
        self.sent: collections.deque = collections.deque()
        self.resend: collections.deque = collections.deque()
        self.stopping = False

    def run(self) -> None:
        try:
            while not workers_stopped():
                self._fill()
                if not self.sent:
                    if self.stopping and not self.resend:
                        return
                    continue
                self._collect_oldest()
            self._abandon()
        except WorkersStopped:
            self._abandon()
        finally:
            if self.worker is not None:
                _retire(self.worker)

    def _abandon(self) -> None:
        """The command is being stopped (SIGTERM, Ctrl-C): fail what was sent instead of starting workers."""
        for item in (*self.sent, *self.resend):
            if not item[0].done():
                item[0].set_exception(WorkersStopped())
        self.sent.clear()
        self.resend.clear()

    def _fill(self) -> None:
        while len(self.sent) < _IN_FLIGHT:
            item = self._next(block=not self.sent)
            if item is None:
                return
            payload = _pickled_task(item)
            if payload is None or len(payload) > _PIPELINE_BYTES:
                if self.sent:
                    self.resend.appendleft(item)  # sent alone once the worker is idle
                    return
                if self._has_worker(item):
                    item[0].set_result(self._run_alone(item))
                continue
            if not self._has_worker(item):
                continue
            self.sent.append(item)
            if not _send_bytes(self.worker[0], payload):
                return  # the worker is gone: waiting for the answer reports why

    def _has_worker(self, item: tuple) -> bool:
        """Start a worker if there is none; when none can be started, ``item`` fails with the reason (and the
        next task tries again), so that no caller waits for an answer that will never come."""
        if self.worker is None:
            try:
                self.worker = self.pool._spawn()
            except (WorkerStartError, OSError) as exc:  # OSError: no pipe (out of file descriptors)
                item[0].set_exception(exc)
                return False
        return True

    def _collect_oldest(self) -> None:
        future = self.sent[0][0]
        outcome = await_outcome(self.worker[0], self.worker[1], self.pool._limits)
        self.sent.popleft()
        if not outcome.ok:
            self._retire()
            self.resend.extendleft(reversed(self.sent))
            self.sent.clear()
        future.set_result(outcome)

    def _next(self, block: bool) -> tuple | None:
        """The next task (one to send again first); None when there is none now, or there will be none."""
        if self.resend:
            return self.resend.popleft()
        while not self.stopping:
            try:
                item = self.pool._queue.get(block=block)
            except queue.Empty:
                return None
            if item is None:
                self.stopping = True
            elif item[0].set_running_or_notify_cancel():
                return item
        return None

    def _run_alone(self, item: tuple) -> Isolated:
        """Send a large (or unpicklable) task on its own to the idle worker and wait for its answer."""
        _future, fn, args, kwargs = item
        outcome = self.pool._run(self.worker, fn, args, kwargs)
        if not outcome.ok:
            self._retire()
        return outcome

    def _retire(self) -> None:
        if self.worker is not None:
            _retire(self.worker)
            self.worker = None


def _pickled_task(item: tuple) -> bytes | None:
    _future, fn, args, kwargs = item
    try:
        return bytes(ForkingPickler.dumps((fn, args, kwargs)))
    except Exception:  # noqa: BLE001 - sent alone through connection.send, which reports it
        return None


def _send_bytes(connection: Any, payload: bytes) -> bool:
    """Send a pickled task; False when the worker is gone (its death is reported by the wait that follows)."""
    try:
        connection.send_bytes(payload)
        return True
    except (OSError, ValueError):
        return False


def _retire(worker: tuple[Any, Any]) -> None:
    """Stop a worker (politely when it is idle, by force otherwise) and release its resources."""
    connection, process = worker
    try:
        connection.send(None)
    except (OSError, ValueError):
        pass
    connection.close()
    process.join(0.5)
    reap(process)


def _pool_worker_main(connection: Any, initializer: Callable[..., None] | None, initargs: tuple[Any, ...],
                      memory_bytes: int, parent_pid: int) -> None:
    """A pool worker: set up once, then answer ``(status, ...)`` for each task until told to stop."""
    prepare_child(parent_pid)
    if initializer is not None:
        initializer(*initargs)
    limit_memory(memory_bytes)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        fn, args, kwargs = task
        message = answer(fn, args, kwargs)
        send_answer(connection, message)
        if message[0] != "ok":
            return  # the heap may be damaged: the supervisor starts a fresh worker
