"""The exceptions that reach the command line, each with its exit code (DESIGN §8), and the one place where
the operating system's faults become plain Chinese answers.

Policy: raise when processing cannot continue at all (a missing master, an unusable option); record a
:class:`~jixiao_xl.findings.Finding` for anything wrong in the data. Messages are one Chinese sentence
that says what is wrong and how to fix it.

:func:`os_fault` maps an ``OSError`` by its errno (a read-only or forbidden folder, a full disk) to a
:class:`SystemFault` naming the path and what to do; :func:`sqlite_fault` does the same for SQLite's own
codes (busy, read-only, full, cannot open). A full disk also says what was finished and what was not, from
what the running command last told :func:`note_progress`.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process that SIGTERM ended


class JixiaoError(Exception):
    """An expected failure: shown to the user as its message, exits with ``exit_code``."""

    exit_code = EXIT_USAGE


class InputError(JixiaoError):
    """Input that cannot be processed at all (missing master, unreadable template...)."""


class SystemFault(JixiaoError):
    """The operating system refused a read or a write (permissions, a full disk, a busy file)."""


class Terminated(BaseException):
    """SIGTERM arrived: unwinds the command like KeyboardInterrupt does and exits with 143."""


# -- progress, for the full-disk answer ----------------------------------------------------------------

_progress = {"finished": "", "pending": "", "where": ""}


def note_progress(finished: str, pending: str, where: object = "") -> None:
    """Tell the fault answers what the running command has finished, what it is doing now (Chinese) and
    where it writes (named when an error does not carry its path, as a failed write to an open file)."""
    _progress.update(finished=finished, pending=pending, where=str(where))


def clear_progress() -> None:
    """Forget what :func:`note_progress` was told (at the start of every command)."""
    note_progress("", "")


# -- the mapping ---------------------------------------------------------------------------------------

_READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _where(exc: OSError, path: object = None) -> str:
    """The path to name: the one given, else the error's; a write's temporary file is named by its folder."""
    where = path if path is not None else exc.filename
    if not where:
        return f"文件夹 {_progress['where']}" if _progress["where"] else "目标文件夹"
    where = os.fsdecode(where) if isinstance(where, (bytes, os.PathLike)) else str(where)
    if os.path.basename(where).startswith(".tmp-"):
        return f"文件夹 {os.path.dirname(where) or '.'}"
    return where


def read_only_message(where: str) -> str:
    """The answer for a folder or file this user may not write."""
    return (f"无法写入 {where}：该位置是只读的或当前用户没有写权限。"
            "请换一个可写的文件夹（例如用 --out 或 --ledger 指定），或请管理员为该文件夹开放写权限后重新运行。")


def full_disk_message(where: str) -> str:
    """The answer for a full disk: what was finished, what was not, and that a rerun completes it."""
    finished = _progress["finished"] or "此前已写完的文件都是完整的"
    pending = _progress["pending"] or "正在写入的文件"
    return (f"磁盘空间已满，写入 {where} 失败。已完成：{finished}。未完成：{pending}（没有写出半截文件）。"
            "请清理磁盘或换一个空间充足的位置后重新运行同一命令，即可补全未完成的部分。")


def os_fault(exc: OSError, path: object = None) -> SystemFault | None:
    """The plain answer for an operating-system error, or None when its errno is not one we can explain."""
    if exc.errno in _READ_ONLY_ERRNOS:
        return SystemFault(read_only_message(_where(exc, path)))
    if exc.errno in _FULL_ERRNOS:
        return SystemFault(full_disk_message(_where(exc, path)))
    return None


def os_fault_within(exc: BaseException) -> SystemFault | None:
    """:func:`os_fault` of the first ``OSError`` in ``exc``, its causes, or its first argument (libraries
    such as xlsxwriter wrap the operating system's error in one of their own)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for candidate in (current, *current.args[:1]):
            if isinstance(candidate, OSError):
                fault = os_fault(candidate)
                if fault is not None:
                    return fault
        current = current.__cause__ or current.__context__
    return None


# Less free space than this on the ledger's disk explains an I/O error there as a full disk (SQLite reports
# a failed write to its shared-memory or journal file as SQLITE_IOERR, not SQLITE_FULL).
NEARLY_FULL_BYTES = 1024 * 1024


def _nearly_full(folder: Path) -> bool:
    try:
        usage = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
    return usage.f_bavail * usage.f_frsize < NEARLY_FULL_BYTES


def sqlite_fault(exc: sqlite3.Error, path: object) -> SystemFault | None:
    """The plain answer for SQLite's operating-system-like failures on the ledger at ``path``, or None.

    SQLITE_BUSY is left to the caller, which knows how long it waited and who holds the ledger.
    """
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code == sqlite3.SQLITE_READONLY:
        return SystemFault(read_only_message(f"台账 {path}"))
    if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and _nearly_full(Path(path).parent)):
        return SystemFault(full_disk_message(f"台账 {path}"))
    if code == sqlite3.SQLITE_CANTOPEN and Path(path).parent.is_dir() and not os.access(Path(path).parent, os.W_OK):
        return SystemFault(read_only_message(f"台账所在的文件夹 {Path(path).parent}"))
    if code == sqlite3.SQLITE_CANTOPEN:
        return SystemFault(f"无法打开台账 {path}：文件或其所在文件夹不可读写。"
                           "请确认路径正确且当前用户对该文件夹有读写权限，或用 --ledger 指定另一个位置。")
    if code == sqlite3.SQLITE_IOERR:
        return SystemFault(f"读写台账 {path} 时磁盘出错（{exc}）。请检查磁盘或网络盘是否正常，"
                           "把台账放在本地磁盘上后重新运行；台账中已提交的记录不会丢失。")
    return None
