"""No worker outlives the main process.

Every worker (the plain pools' and the isolated ones') calls :func:`bind_to_parent` first: on Linux the kernel
sends it SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), and everywhere a watchdog thread exits it once
its parent pid changes (the parent died and the worker was re-parented). :func:`stop_workers` is the main
process's side: the signal handlers of the command line call it before unwinding.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time

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

    Call it first thing in a worker. The death signal is tied to the thread that started the worker, which
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


def process_running(pid: int) -> bool:
    """True when a process with this id is running on this machine (another import still at work).

    POSIX asks with signal 0; on Windows ``os.kill(pid, 0)`` would send that process a Ctrl-C instead, so the
    process is opened and its exit code read.
    """
    if pid <= 0:
        return False
    if os.name == "nt":  # pragma: no cover - Windows only
        return _windows_process_running(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, but belongs to another user
        return True
    return True


def _windows_process_running(pid: int) -> bool:  # pragma: no cover - Windows only
    import ctypes

    query_limited_information, still_active, access_denied = 0x1000, 259, 5
    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return kernel32.GetLastError() == access_denied  # it exists, but may not be looked at
    try:
        code = ctypes.c_ulong()
        return not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value == still_active
    finally:
        kernel32.CloseHandle(handle)
