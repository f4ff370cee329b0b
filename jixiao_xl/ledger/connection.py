"""Opening a ledger safely, and its transactions (DESIGN §1, §9).

:meth:`LedgerFile.open` refuses a file that is not a jixiao-xl ledger before writing anything to it, creates
folders and file when needed and applies the :data:`.schema.MIGRATIONS` the file has not seen.
:meth:`LedgerFile.open_readonly` is for the commands that only read: SQLite's ``mode=ro``, the header checked
before SQLite touches the file, no migration, no write lock. Writers take the write lock up front
(``BEGIN IMMEDIATE``) and wait up to :data:`BUSY_TIMEOUT_MS` for each other; one that has to wait says so on
stderr, and one that gives up names the processes that have the ledger open (:func:`ledger_holders`).
SQLite's failures become :class:`LedgerError` sentences with the fix.

Everything that reads :data:`BUSY_TIMEOUT_MS` and :data:`BUSY_NOTICE_MS` lives in this module, so a test that
shortens the wait patches them here.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TypeVar

from ..errors import InputError, JixiaoError, sqlite_fault
from .rows import ROW_COLUMNS
from .schema import MIGRATIONS, SCHEMA_VERSION, split_script

BUSY_TIMEOUT_MS = 30_000
# A writer that has not got the write lock after this long tells the user it is waiting.
BUSY_NOTICE_MS = 1_000
SQLITE_MAGIC = b"SQLite format 3\x00"


_Opened = TypeVar("_Opened", bound="LedgerFile")


class LedgerError(InputError):
    """A ledger that cannot be used at all; ``str()`` is one Chinese sentence with the fix."""


class LedgerBusy(LedgerError):
    """Another program held the ledger's write lock for longer than we wait."""


# ---------------------------------------------------------------------------------------------------------
# Opening read-only, and who has a ledger open


def _refuse_foreign(path: Path) -> None:
    """Before a write: refuse an existing file that is not a ledger, leaving it untouched — not SQLite, or a
    database with tables but none of ours. A new or empty file, a blank database (a ledger whose creation
    was interrupted) and a ledger of any version pass (migrations upgrade it, or refuse a newer one)."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    with open(path, "rb") as handle:
        if not handle.read(100).startswith(SQLITE_MAGIC):
            _check_header(path)  # raises: not SQLite
    connection = _connect_readonly(path)
    try:
        tables = {name for name, in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        connection.close()
    if tables and "imports" not in tables:
        raise LedgerError(f"{path} 不是可用的 jixiao-xl 台账文件（其他程序的数据库），已原样保留、未作任何修改；"
                          "请用 --ledger 指定 jixiao-xl import 写出的台账文件，或指定一个新文件名。")


def _check_header(path: Path) -> None:
    """Refuse, from the first 100 bytes and without opening it in SQLite, a file that is not our ledger."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        raise LedgerError(f"找不到台账 {path}。请确认 --ledger 路径是否正确；"
                          "还没有导入过报回的表格时，请先运行 jixiao-xl import。") from None
    except IsADirectoryError:
        raise LedgerError(f"台账路径 {path} 是一个文件夹；请用 --ledger 指定台账文件（.sqlite）。") from None
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise LedgerError(f"{path} 不是可用的 jixiao-xl 台账文件（不是 SQLite 数据库），已原样保留、未作任何修改；"
                          "请用 --ledger 指定 jixiao-xl import 写出的台账文件。")
    version = int.from_bytes(header[60:64], "big", signed=True)
    if version == 0:
        raise LedgerError(f"{path} 不是可用的 jixiao-xl 台账文件（其他程序的数据库或空台账），已原样保留、未作任何修改；"
                          "请用 --ledger 指定 jixiao-xl import 写出的台账文件。")
    if not 0 < version <= SCHEMA_VERSION:
        raise LedgerError(f"台账 {path} 由更新版本的 jixiao-xl 创建（结构版本 {version}），"
                          "请升级 jixiao-xl 后再使用。")


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A ``mode=ro`` connection; ``immutable`` when the folder is read-only and nobody is writing (no -wal).

    Reading a WAL database needs its shared-memory file; in a folder we may not write, SQLite cannot create
    it, but a ledger without a -wal file has everything in the main file and nobody can be writing to it.
    """
    uri = path.resolve().as_uri()
    try:
        connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None,
                                     timeout=BUSY_TIMEOUT_MS / 1000)
        connection.execute("PRAGMA query_only = ON")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return connection
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
            raise sqlite_fault(exc, path) or LedgerError(
                f"{path} 不是可用的 jixiao-xl 台账文件（{exc}）；请指定正确的 --ledger 路径。") from exc
        if Path(f"{path}-wal").exists():
            raise sqlite_fault(exc, path) or LedgerError(f"无法读取台账 {path}（{exc}）。") from exc
    try:
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise LedgerError(f"无法读取台账 {path}（{exc}）；请确认当前用户可以读取该文件。") from exc


def ledger_holders(path: Path) -> list[str]:
    """The other processes that have the ledger (or its -wal file) open, as "进程 PID（命令行）" (Linux; else [])."""
    try:
        targets = {os.path.realpath(path), os.path.realpath(f"{path}-wal")}
        pids = [name for name in os.listdir("/proc") if name.isdigit() and int(name) != os.getpid()]
    except OSError:
        return []
    holders = []
    for pid in pids:
        if _has_open(pid, targets):
            holders.append(f"进程 {pid}（{_command_line(pid)}）")
    return holders


def _has_open(pid: str, targets: set[str]) -> bool:
    """True when process ``pid`` has one of ``targets`` open (False when we may not look)."""
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") in targets for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def _command_line(pid: str, limit: int = 80) -> str:
    """Process ``pid``'s command line, cut to ``limit`` characters, for a message."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            text = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "命令行未知"
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------------------
# The open file and its batches


class Batch:
    """An open group of recordings (see :meth:`LedgerFile.batch`)."""

    def __init__(self, ledger: LedgerFile, max_records: int, max_seconds: float) -> None:
        self._ledger, self._max_records, self._max_seconds = ledger, max_records, max_seconds
        self._records, self._started = 0, 0.0

    def begin(self) -> None:
        """Open a group; its transaction (and the write lock) starts at the group's first recording, so a
        batch waiting for workers before anything is recorded never keeps other writers out."""
        self._ledger._batched = True
        self._records, self._started = 0, time.monotonic()

    def commit(self) -> None:
        self._ledger._batched = False
        if self._ledger._db.in_transaction:
            with self._ledger._faults():
                self._ledger._db.execute("COMMIT")

    def rollback(self) -> None:
        self._ledger._batched = False
        if self._ledger._db.in_transaction:
            self._ledger._db.execute("ROLLBACK")

    def done(self) -> None:
        """Count one recording; commit the group and open the next when it is full or old enough."""
        self._records += 1
        if self._records >= self._max_records or time.monotonic() - self._started >= self._max_seconds:
            self.commit()
            self.begin()


class LedgerFile:
    """An open ledger file: opening, migrating, transactions and batches. :class:`~jixiao_xl.ledger.Ledger`
    adds what is recorded and read; open one with :meth:`open`, preferably as a context manager."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._batched = False

    # -- opening --------------------------------------------------------------------------------------

    @classmethod
    def open(cls: type[_Opened], path: str | Path) -> _Opened:
        """Open (creating folders and file when needed) and migrate the ledger at ``path``."""
        path = Path(path)
        _refuse_foreign(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise sqlite_fault(exc, path) or LedgerError(f"无法打开台账文件 {path}（{exc}）；请确认路径可写。") from exc
        ledger = cls(connection, path)
        try:
            with ledger._faults():
                ledger._configure()
                ledger._migrate()
        except BaseException:
            connection.close()
            raise
        return ledger

    @classmethod
    def open_readonly(cls: type[_Opened], path: str | Path) -> _Opened:
        """Open an existing ledger for reading only: nothing is created, migrated or locked for writing.

        A missing file, a file that is not a jixiao-xl ledger (checked from its header before SQLite opens
        it, so another application's database is left byte for byte as it was) and a ledger of a newer
        version are refused with a :class:`LedgerError`; an older one is read if its tables allow it.
        """
        path = Path(path)
        _check_header(path)
        ledger = cls(_connect_readonly(path), path)
        try:
            with ledger._faults():
                ledger._check_readable()
        except BaseException:
            ledger.close()
            raise
        return ledger

    def _check_readable(self) -> None:
        """Refuse a database without our imports table; ask for an upgrade when its columns are too old."""
        columns = self._columns("imports")
        if not columns:
            raise LedgerError(f"{self.path} 不是可用的 jixiao-xl 台账文件（没有导入记录表），已原样保留、未作任何修改；"
                              "请用 --ledger 指定 jixiao-xl import 写出的台账文件。")
        missing = [name for name in ROW_COLUMNS if name not in columns]
        if missing:
            raise LedgerError(f"台账 {self.path} 是旧版本的结构（版本 {self.schema_version}），本命令无法直接读取；"
                              "请先用当前版本的 jixiao-xl import 导入一次（会自动升级台账），再运行本命令。")

    def _columns(self, table: str) -> set[str]:
        return {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}

    def has_table(self, table: str) -> bool:
        """True when the ledger file has ``table``."""
        found = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        return found.fetchone() is not None

    @contextmanager
    def _faults(self) -> Iterator[None]:
        """Turn SQLite's failures into plain answers: busy, read-only, full disk, or not a ledger at all."""
        try:
            yield
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
            if type(exc) not in (sqlite3.OperationalError, sqlite3.DatabaseError):
                raise  # a constraint or a programming error is this program's fault, not the system's
            raise self._fault(exc) from exc

    def _fault(self, exc: sqlite3.Error) -> JixiaoError:
        fault = sqlite_fault(exc, self.path)
        if fault is not None:
            return fault
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return self._busy_error()
        if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            return LedgerError(f"{self.path} 不是可用的 jixiao-xl 台账文件（{exc}）；请指定正确的 --ledger 路径，"
                               "或恢复台账的备份。")
        return LedgerError(f"读写台账 {self.path} 时出错（{exc}）；台账中已提交的记录不受影响。"
                           "请确认台账文件完好后重新运行；如仍出错，请把台账交给维护人员检查。")

    def _busy_error(self) -> LedgerBusy:
        holders = ledger_holders(self.path)
        who = f"（正在使用它的程序：{'；'.join(holders)}）" if holders else ""
        return LedgerBusy(
            f"台账 {self.path} 正被另一个程序写入{who}，等待 {BUSY_TIMEOUT_MS // 1000} 秒后仍未释放。"
            "台账本身完好，已写入的记录都是完整的；请等该程序结束后重新运行同一命令，未完成的部分会补上。")

    def _begin_immediate(self) -> None:
        """Take the write lock; after a short wait say on stderr that we are waiting, then wait the rest."""
        with self._faults():
            self._db.execute(f"PRAGMA busy_timeout = {min(BUSY_NOTICE_MS, BUSY_TIMEOUT_MS)}")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:
                    raise
            finally:
                self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            print(f"台账 {self.path} 正被另一个程序使用，正在等待（最多 {BUSY_TIMEOUT_MS // 1000} 秒）…",
                  file=sys.stderr, flush=True)
            self._db.execute(f"PRAGMA busy_timeout = {max(0, BUSY_TIMEOUT_MS - BUSY_NOTICE_MS)}")
            try:
                self._db.execute("BEGIN IMMEDIATE")
            finally:
                self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    def _configure(self) -> None:
        self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._set_wal()
        self._db.execute("PRAGMA synchronous = FULL")

    def _set_wal(self) -> None:
        """Switch to WAL; a brand-new file opened by two processes at once may need a retry."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        if str(mode).lower() != "wal":
            raise LedgerError(f"台账文件 {self.path} 无法使用 WAL 日志模式；请把台账放在本地磁盘上。")

    def _migrate(self) -> None:
        """Apply every migration the file has not seen, each in its own transaction."""
        for version, migration in enumerate(MIGRATIONS, start=1):
            with self._transaction():
                current = self.schema_version
                if current > SCHEMA_VERSION:
                    raise LedgerError(f"台账文件 {self.path} 由更新版本的 jixiao-xl 创建（结构版本 {current}），"
                                      "请升级 jixiao-xl 后再使用。")
                if current >= version:
                    continue
                if callable(migration):
                    migration(self._db)
                else:
                    for statement in split_script(migration):
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {version}")

    @property
    def schema_version(self) -> int:
        """The schema version stored in the file (``PRAGMA user_version``)."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close the connection (safe to call twice)."""
        self._db.close()

    def __enter__(self: _Opened) -> _Opened:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the write lock from the start (waits for other writers).

        Inside :meth:`batch` it joins the batch's transaction instead.
        """
        if self._batched:
            if not self._db.in_transaction:
                self._begin_immediate()  # the batch's group starts with its first recording
            with self._faults():
                yield self._db
            return
        self._begin_immediate()
        try:
            with self._faults():
                yield self._db
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        with self._faults():
            self._db.execute("COMMIT")

    @contextmanager
    def batch(self, max_records: int = 64, max_seconds: float = 2.0) -> Iterator["Batch"]:
        """Group recordings into a few transactions: one disk flush per group instead of one per file.

        Call :meth:`Batch.done` after each recording; the group is committed once it holds ``max_records``
        recordings or is ``max_seconds`` old (so other writers never wait long), and at the end. A crash
        loses at most the open group, which is all-or-nothing: its files stay "received" and the next
        import completes them.
        """
        if self._batched:
            raise LedgerError("台账批量写入不能嵌套。")
        group = Batch(self, max_records, max_seconds)
        group.begin()
        try:
            yield group
        except BaseException:
            group.rollback()
            raise
        group.commit()
