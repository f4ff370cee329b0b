"""A worker's memory limit: ``RLIMIT_AS`` where the system enforces it, a watch of the resident size elsewhere.

Linux enforces an address-space limit (``RLIMIT_AS``): an allocation past it fails, which Python reports as
``MemoryError`` and a native parser (Rust, in python-calamine) answers by aborting. macOS refuses to set that
limit and Windows has no ``resource`` module, so there a watchdog thread in the worker polls the worker's peak
resident size and ends the worker with :data:`EXIT_MEMORY` once it passes the limit; the parent turns that exit
into the same I-MEMORY finding. The peak is also checked after every task, so a parse that rose over the limit
between two polls is refused all the same. ``JIXIAO_MEMORY_WATCH=poll`` chooses the watch where ``RLIMIT_AS``
would work too (to test that path on Linux).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from typing import Callable

MEMORY_WATCH_ENV = "JIXIAO_MEMORY_WATCH"
# A worker that its memory watch stopped exits with this code (no signal exists on Windows to say so).
EXIT_MEMORY = 71
# How often the watch looks at the resident size, in seconds.
POLL_SECONDS = 0.02

_ceiling: list[int] = []  # the watched worker's resident-size ceiling in bytes (empty: not watched)


def limit_memory(memory_bytes: int) -> None:
    """Let this worker use ``memory_bytes`` more than it holds now: through ``RLIMIT_AS`` where the system
    enforces it (unless ``JIXIAO_MEMORY_WATCH=poll``), else through a watch of its resident size."""
    if os.environ.get(MEMORY_WATCH_ENV, "").strip().lower() != "poll" and _limit_address_space(memory_bytes):
        return
    _watch_resident_size(peak_resident_bytes() + memory_bytes)


def over_limit() -> bool:
    """True when the watched worker's peak resident size has passed its ceiling (never under ``RLIMIT_AS``)."""
    return bool(_ceiling) and peak_resident_bytes() > _ceiling[0]


def _limit_address_space(memory_bytes: int) -> bool:
    """Set ``RLIMIT_AS`` to the current address space plus ``memory_bytes``; False where that is impossible."""
    try:
        import resource
    except ImportError:  # Windows
        return False
    limit = address_space_bytes() + memory_bytes
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # e.g. macOS refuses RLIMIT_AS
        return False
    return True


def address_space_bytes() -> int:
    """The current process's virtual address space in bytes (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _watch_resident_size(ceiling: int) -> None:
    """Start the thread that ends this worker once its peak resident size passes ``ceiling`` bytes."""
    _ceiling[:] = [ceiling]
    threading.Thread(target=_watch, args=(ceiling,), name="jixiao-memory-watch", daemon=True).start()


def _watch(ceiling: int) -> None:
    while peak_resident_bytes() <= ceiling:
        time.sleep(POLL_SECONDS)
    os._exit(EXIT_MEMORY)


def peak_resident_bytes() -> int:
    """The most physical memory this process has held so far, in bytes."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return _peak_working_set()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS counts bytes, Linux KiB


def _peak_working_set() -> int:  # pragma: no cover - Windows only
    """Windows' peak working set of this process (GetProcessMemoryInfo), in bytes."""
    import ctypes
    from ctypes import wintypes

    class Counters(ctypes.Structure):
        _fields_ = [("cb", wintypes.DWORD), ("PageFaultCount", wintypes.DWORD),
                    *((name, ctypes.c_size_t) for name in (
                        "PeakWorkingSetSize", "WorkingSetSize", "QuotaPeakPagedPoolUsage", "QuotaPagedPoolUsage",
                        "QuotaPeakNonPagedPoolUsage", "QuotaNonPagedPoolUsage", "PagefileUsage", "PeakPagefileUsage"))]

    counters = Counters()
    counters.cb = ctypes.sizeof(counters)
    kernel32 = ctypes.WinDLL("kernel32")
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    if not kernel32.K32GetProcessMemoryInfo(kernel32.GetCurrentProcess(), ctypes.byref(counters), counters.cb):
        return 0
    return counters.PeakWorkingSetSize


def return_freed_memory() -> None:
    """Hand the heap pages freed so far back to the system.

    glibc keeps the freed pages of its heap: after a province-sized master is read (250 MB of sheet grids at
    100,000 projects) or checked, every later stage of the command would carry them, forked workers would
    start from the bigger parent and dirty those pages again, and the peak memory would show them.
    ``malloc_trim`` returns them; where it does not exist (not glibc) nothing happens.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, …)
        return None
