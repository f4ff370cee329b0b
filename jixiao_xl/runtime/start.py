"""How worker processes are started: the start method (``JIXIAO_START_METHOD``), its context, and the garbage
collector setting that only pays off when workers are forked.

``fork`` (the default on Linux) starts a worker as a copy of this process: nothing is re-imported and the
batch's shared inputs are there already. ``spawn`` (the default on macOS and Windows, where forking a process
with threads is unsafe or impossible) starts a fresh interpreter that imports the package and receives the
shared inputs pickled. ``JIXIAO_START_METHOD=spawn`` (or ``fork``, ``forkserver``) chooses for every pool of
the package, so that the spawn path can be run and tested on Linux too. Under a method other than ``fork``
nothing in this process calls ``os.fork``: spawn runs a new interpreter (fork and exec in one step inside
the C runtime on POSIX, ``CreateProcess`` on Windows), which copies nothing of this process.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
import multiprocessing
import os
import sys
from multiprocessing.context import BaseContext
from typing import Iterator

from ..errors import InputError

START_METHOD_ENV = "JIXIAO_START_METHOD"


def start_method() -> str:
    """The start method every pool uses: ``JIXIAO_START_METHOD`` when set, else fork on Linux and spawn elsewhere.

    Read at every pool start, so a test or an embedding program can switch it through the environment.
    """
    chosen = os.environ.get(START_METHOD_ENV, "").strip().lower()
    if not chosen:
        return "fork" if sys.platform.startswith("linux") else "spawn"
    available = multiprocessing.get_all_start_methods()
    if chosen not in available:
        raise InputError(f"环境变量 {START_METHOD_ENV} 的值 {chosen!r} 无效：本系统可用的进程启动方式为 "
                         f"{'、'.join(available)}；请改为其中之一（例如 spawn），或删除该变量使用默认方式。")
    return chosen


def mp_context() -> BaseContext:
    """The multiprocessing context of :func:`start_method`."""
    return multiprocessing.get_context(start_method())


def forks() -> bool:
    """True when workers are forked from this process (they then share its memory pages until written)."""
    return start_method() == "fork"


def default_jobs() -> int:
    """The default worker count: the number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def shared_objects_frozen() -> Iterator[None]:
    """For the length of a batch, keep everything allocated so far (the master, compiled templates) out of the
    garbage collector's reach, when workers are forked; afterwards give it back.

    Those objects live as long as the batch; scanning them again on every collection is wasted time, and
    in forked workers it would also copy their pages. Enter it once the batch's shared inputs are loaded.
    Giving them back matters in a long-running process (the site imports every upload in one): what a
    batch frees only after it ends would otherwise never be collected. Spawned workers receive their own
    copies, so then nothing is frozen.
    """
    if not forks():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
