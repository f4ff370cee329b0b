"""Running a parser of untrusted bytes in a child process, under a memory limit and a wall-clock timeout.

:func:`run_isolated` starts one child for one call; :class:`~.pool.IsolatedPool` keeps children that serve
call after call under the same limits. Both speak the same protocol: the child answers ``("ok", value)``,
``("memory",)`` or ``("error", exception type name)``, and the parent turns anything else (no answer in
time, a child that died) into a finding of the intake's codes.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import threading
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import SystemFault
from ..findings import Finding
from ..intake.codes import Limits, corrupt_finding, memory_finding, timeout_finding
from .lifetime import WorkersStopped, bind_to_parent, stopping as workers_stopped
from .memory import EXIT_MEMORY, limit_memory, over_limit
from .start import START_METHOD_ENV, mp_context, start_method

# Seconds to wait for a child to exit after it has answered, or after it was killed.
REAP_SECONDS = 5.0
# Signals that mean "killed for memory": SIGKILL from the OOM killer, SIGABRT from a native allocator
# (Rust, as in python-calamine, aborts when an allocation fails under RLIMIT_AS).
_MEMORY_SIGNALS = {getattr(signal, "SIGKILL", 9), getattr(signal, "SIGABRT", 6)}
# Held from creating a child's pipe until the parent has closed the child's end, so that a child forked
# concurrently by another thread never inherits that end (which would hide the first child's death).
START_LOCK = threading.Lock()


class WorkerStartError(SystemFault):
    """A worker process could not be started at all (the system refused, or the start method cannot work here)."""


@dataclass(frozen=True)
class Isolated:
    """The outcome of :func:`run_isolated`: ``value`` when ``ok``, else a ``finding`` saying why not.

    The finding has no file attached; attribute it with :meth:`Finding.with_source`.
    """

    ok: bool
    value: Any
    finding: Finding | None


def run_isolated(func: Callable[..., Any], *args: Any, limits: Limits = Limits(), **kwargs: Any) -> Isolated:
    """Call ``func(*args, **kwargs)`` in a child process under a memory limit and a wall-clock timeout.

    ``func`` must be a top-level (picklable) function and its result picklable. The child is started with
    the package's start method (:func:`.start.start_method`) and limits itself to the memory it holds at
    start plus ``limits.memory_bytes`` (:mod:`.memory`; an absolute limit would starve every child of a
    parent that already maps a lot, e.g. after importing pandas). Outcomes: the value; I-TIMEOUT (the child
    is killed after ``limits.timeout_seconds``); I-MEMORY (``MemoryError``, the memory watch, or the child
    killed by SIGKILL/SIGABRT, as the OOM killer and native allocators do); I-CORRUPT for any other
    exception (its type name in the finding's ``value``) or a child that died without answering.
    The parent never waits longer than the timeout plus a few seconds, and reaps the child every time.
    """
    if workers_stopped():
        raise WorkersStopped
    context = mp_context()
    with START_LOCK:
        receiver, sender = context.Pipe(duplex=False)
        child_args = (sender, func, args, kwargs, limits.memory_bytes, os.getpid())
        process = context.Process(target=_child_main, args=child_args, daemon=True)
        try:
            start_child(process)
        finally:
            sender.close()
    try:
        return await_outcome(receiver, process, limits)
    finally:
        receiver.close()
        reap(process)


def start_child(process: Any) -> None:
    """Start ``process``; :class:`WorkerStartError` when the system cannot start it."""
    try:
        process.start()
    except Exception as exc:  # noqa: BLE001 - fork refused, a pickling error under spawn, no main-module guard
        raise WorkerStartError(
            f"无法启动读取文件的工作进程（启动方式 {start_method()}，{type(exc).__name__}: {exc}）。"
            f"如本系统不支持 fork，请设置环境变量 {START_METHOD_ENV}=spawn 后重试；"
            "如反复出现，请把 --debug 输出发给维护人员。") from exc


def await_outcome(receiver: Any, process: Any, limits: Limits) -> Isolated:
    """Wait for the child's answer (or its death) at most ``limits.timeout_seconds``."""
    if not receiver.poll(limits.timeout_seconds):
        process.kill()
        return Isolated(False, None, timeout_finding(limits))
    try:
        message = receiver.recv()
    except (EOFError, OSError):
        process.join(REAP_SECONDS)
        return Isolated(False, None, died_finding(process.exitcode, limits))
    except Exception as exc:  # noqa: BLE001 - an answer the parent cannot unpickle
        return Isolated(False, None, corrupt_finding(type(exc).__name__))
    return _outcome_from_message(message, limits)


def _outcome_from_message(message: tuple[Any, ...], limits: Limits) -> Isolated:
    """Turn the child's ``(status, ...)`` message into an :class:`Isolated`."""
    status = message[0]
    if status == "ok":
        return Isolated(True, message[1], None)
    if status == "memory":
        return Isolated(False, None, memory_finding(limits))
    return Isolated(False, None, corrupt_finding(message[1]))


def died_finding(exitcode: int | None, limits: Limits) -> Finding:
    """The finding for a child that died without answering: I-MEMORY if killed as for memory (or by its memory
    watch), else I-CORRUPT."""
    if exitcode == EXIT_MEMORY or (exitcode is not None and exitcode < 0 and -exitcode in _MEMORY_SIGNALS):
        return memory_finding(limits)
    return corrupt_finding(f"exitcode={exitcode}", f"读取进程异常退出，退出码 {exitcode}")


def reap(process: Any) -> None:
    """Make sure the child is gone and its resources released (no zombie, no open descriptors)."""
    if getattr(process, "_popen", None) is None:
        return  # never started
    process.join(REAP_SECONDS)
    if process.is_alive():
        process.kill()
        process.join(REAP_SECONDS)
    if not process.is_alive():
        process.close()


def prepare_child(parent_pid: int) -> None:
    """What every isolated child does first: die with its parent, leave Ctrl-C to it, keep its stderr quiet."""
    bind_to_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it reaps us
    _silence_stderr()


def _child_main(
    sender: Any, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], memory_bytes: int,
    parent_pid: int,
) -> None:
    """Child process body: limit memory, run ``func``, send one ``(status, ...)`` message."""
    prepare_child(parent_pid)
    try:
        limit_memory(memory_bytes)
        message = answer(func, args, kwargs)
    except MemoryError:
        message = ("memory",)
    try:
        send_answer(sender, message)
    finally:
        sender.close()


def answer(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Run ``func`` and describe the outcome as a ``(status, ...)`` message (``("memory",)`` also when the
    memory watch finds that the call went over the limit)."""
    try:
        value = func(*args, **kwargs)
    except MemoryError:
        return ("memory",)
    except BaseException as exc:  # noqa: BLE001 - report everything, including SystemExit
        return ("error", type(exc).__name__)
    return ("memory",) if over_limit() else ("ok", value)


def send_answer(connection: Any, message: tuple[Any, ...]) -> None:
    """Send ``message``; if it cannot be pickled or sent, send why instead."""
    try:
        connection.send(message)
    except MemoryError:
        connection.send(("memory",))
    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
        connection.send(("error", type(exc).__name__))


def _silence_stderr() -> None:
    """Point the child's file descriptor 2 at the null device and turn off faulthandler.

    Native parsers write to it directly when they fail: Rust prints "memory allocation of N bytes
    failed" (and a stack backtrace under RUST_BACKTRACE) before aborting, and a panic prints its
    message; faulthandler (PYTHONFAULTHANDLER, pytest) dumps every thread's stack on the abort. Those
    would reach the user's terminal; the parent reports the outcome as a finding instead.
    """
    faulthandler.disable()
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(devnull, 2)
    except OSError:
        pass
    finally:
        os.close(devnull)
