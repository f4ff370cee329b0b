"""IsolatedPool: long-lived isolated workers that survive hostile tasks."""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import time

import pytest

from jixiao_xl.intake import Limits
from jixiao_xl.runtime import IsolatedPool, WorkerStartError

_STATE: dict = {}


def remember(value: int) -> None:
    _STATE["base"] = value


def add_base(x: int) -> int:
    return _STATE["base"] + x


def worker_pid(_: int) -> int:
    import os

    return os.getpid()


def fail(_: int) -> int:
    raise ValueError("broken file")


def hang(_: int) -> int:
    time.sleep(30)
    return 0


def hog(_: int) -> int:
    return len(bytearray(3 * 1024 ** 3))


def test_results_and_initializer():
    pool = IsolatedPool(2, initializer=remember, initargs=(100,))
    try:
        outcomes = [f.result() for f in [pool.submit(add_base, i) for i in range(10)]]
    finally:
        pool.shutdown()
    assert [o.value for o in outcomes] == [100 + i for i in range(10)]
    assert all(o.ok and o.finding is None for o in outcomes)


def test_workers_are_reused():
    pool = IsolatedPool(1)
    try:
        pids = {pool.submit(worker_pid, i).result().value for i in range(8)}
    finally:
        pool.shutdown()
    assert len(pids) == 1


def test_hostile_tasks_become_findings_and_the_pool_goes_on():
    pool = IsolatedPool(2, Limits(timeout_seconds=1, memory_bytes=512 * 1024 ** 2), remember, (1,))
    try:
        futures = [pool.submit(fail, 0), pool.submit(hang, 0), pool.submit(hog, 0)]
        futures += [pool.submit(add_base, i) for i in range(4)]
        outcomes = [f.result(timeout=60) for f in futures]
    finally:
        pool.shutdown()
    assert [o.finding.rule for o in outcomes[:3]] == ["I-CORRUPT", "I-TIMEOUT", "I-MEMORY"]
    assert [o.value for o in outcomes[3:]] == [1, 2, 3, 4]
    assert multiprocessing.active_children() == []


def echo_length(data: bytes) -> int:
    return len(data)


def test_tasks_queued_behind_a_failing_one_still_run():
    # One worker gets the next task while it works on the current one; when the current one kills it,
    # the queued task has not run and must be sent again to a fresh worker, with its own result.
    pool = IsolatedPool(1, Limits(timeout_seconds=1, memory_bytes=512 * 1024 ** 2), remember, (10,))
    try:
        futures = [pool.submit(add_base, 0), pool.submit(fail, 0), pool.submit(add_base, 1), pool.submit(hang, 0),
                   pool.submit(add_base, 2), pool.submit(hog, 0), pool.submit(add_base, 3),
                   pool.submit(echo_length, b"x" * 100_000), pool.submit(add_base, 4)]
        outcomes = [f.result(timeout=60) for f in futures]
    finally:
        pool.shutdown()
    assert [o.value for o in outcomes[::2]] == [10, 11, 12, 13, 14]
    assert [o.finding.rule for o in outcomes[1:7:2]] == ["I-CORRUPT", "I-TIMEOUT", "I-MEMORY"]
    assert outcomes[7].ok and outcomes[7].value == 100_000  # too big to queue: sent alone
    assert multiprocessing.active_children() == []


def test_in_window_keeps_few_results_alive_and_yields_every_item():
    # run_import feeds 20,000 files through this: finished results must not pile up until the end.
    import gc
    import weakref
    from concurrent.futures import Future

    from jixiao_xl.runtime import InlineExecutor, in_window

    class Result:
        pass

    alive: list[weakref.ref] = []

    def make(n: int) -> Result:
        result = Result()
        result.n = n
        alive.append(weakref.ref(result))
        return result

    seen = []
    for item, future in in_window(InlineExecutor(), make, range(200), 4, argument=lambda n: n * 10):
        assert isinstance(future, Future) and future.result().n == item * 10
        seen.append(item)
        del future
        gc.collect()
        assert sum(ref() is not None for ref in alive) <= 5  # the window, plus the one being looked at
    assert sorted(seen) == list(range(200))
    pool = IsolatedPool(2, initializer=remember, initargs=(1,))
    try:
        assert sorted(f.result().value for _, f in in_window(pool, add_base, range(30), 3)) == list(range(1, 31))
    finally:
        pool.shutdown()


def test_a_worker_that_cannot_start_fails_its_tasks_instead_of_hanging(monkeypatch):
    def refuse(self):
        raise OSError(38, "fork is not available here")

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
    pool = IsolatedPool(2, initializer=remember, initargs=(1,))
    try:
        futures = [pool.submit(add_base, i) for i in range(3)]
        for future in futures:
            with pytest.raises(WorkerStartError, match="JIXIAO_START_METHOD=spawn"):
                future.result(timeout=10)
    finally:
        pool.shutdown()


def test_process_running_tells_a_live_process_from_a_finished_one():
    import os
    import subprocess
    import sys

    from jixiao_xl.runtime import process_running

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert process_running(os.getpid()) and process_running(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not process_running(child.pid)  # reaped: no such process any more
    assert not process_running(0) and not process_running(-1)
    assert process_running(1)  # init: another user's process still counts as running
