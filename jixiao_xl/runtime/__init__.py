"""The worker runtime: every process the package starts, and how (issue 15 §6).

* :mod:`.start` — the start method (fork on Linux, spawn on macOS and Windows, ``JIXIAO_START_METHOD`` to
  choose) and the garbage-collector freeze that only forked workers profit from;
* :mod:`.lifetime` — workers die with the main process; :func:`stop_workers` on SIGTERM/Ctrl-C;
  :func:`process_running` (is another import still at work);
* :mod:`.executors` — plain pools (``--jobs``) for trusted work such as generate, and :func:`in_window`;
* :mod:`.memory` — a worker's memory limit: ``RLIMIT_AS``, or a watch of its resident size where that does
  not exist;
* :mod:`.isolated` and :mod:`.pool` — untrusted files are read in children under a memory limit and a
  timeout, one child per call (:func:`run_isolated`) or long-lived ones (:class:`IsolatedPool`).
"""

from .executors import InlineExecutor, in_window, make_executor, run_all
from .isolated import Isolated, WorkerStartError, run_isolated
from .lifetime import (EXIT_ORPHANED, WorkersStopped, allow_workers, bind_to_parent, process_running, stop_workers,
                       stopping)
from .memory import EXIT_MEMORY, MEMORY_WATCH_ENV, return_freed_memory
from .pool import IsolatedPool
from .start import START_METHOD_ENV, default_jobs, mp_context, shared_objects_frozen, start_method

__all__ = ["EXIT_MEMORY", "EXIT_ORPHANED", "MEMORY_WATCH_ENV", "START_METHOD_ENV", "InlineExecutor", "Isolated",
           "IsolatedPool", "WorkerStartError", "WorkersStopped", "allow_workers", "bind_to_parent", "default_jobs",
           "in_window", "make_executor", "mp_context", "process_running", "return_freed_memory", "run_all", "run_isolated",
           "shared_objects_frozen", "start_method", "stop_workers", "stopping"]
