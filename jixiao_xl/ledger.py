"""The ledger: every import, kept forever in one SQLite file (DESIGN §1, §9).

An import is recorded in two steps, each its own transaction:

1. :meth:`Ledger.record_received` writes the file's identity (sha256, name, size, kind) *before* anything
   is parsed, so even a file that crashes the reader leaves a trace (status ``received``);
2. :meth:`Ledger.complete` fills in what was read — the submission as JSON and its consolidation
   :class:`Digest`, every finding, the status ``parsed`` or ``failed`` — and supersedes the unit's earlier
   accepted return, all in one transaction:
   the row's completion and its findings appear together or not at all.

:meth:`Ledger.record` does both. Re-importing identical bytes is a no-op (``duplicate``); a row left at
``received`` by a crash is completed by the next import of the same file. Rows are never deleted (a
trigger refuses it); a newer return of a unit points the older one at itself through ``superseded_by``.

Which import counts for a unit is decided by :mod:`.counting` alone: every "accepted" query
(:meth:`Ledger.latest_by_unit`, :meth:`Ledger.accepted_returns` …) goes through :meth:`Ledger.counted_ids`.
``superseded_by`` records what each import replaced when it came in; an issued workbook returned unfilled
(``receipts.blank``) replaces nothing and never counts, nor does a return saved before the counted one
(``receipts.saved_at``, the file's own save time when credible; it gets an L-OLDER finding for the bureau).
``receipts`` also links every import to its copy under 原件/, and ``runs``/``run_files`` record each import run and whether its reports were completed.

The schema is versioned with ``PRAGMA user_version``; :data:`MIGRATIONS` are applied forward, one
transaction each, when a ledger is opened. Writers take the write lock up front (``BEGIN IMMEDIATE``) and
wait up to 30 s for each other, so several processes can import into one ledger at once; a writer that has
to wait says so on stderr, and one that gives up names the processes that have the ledger open.

Commands that only read (``status``, ``consolidate``) use :meth:`Ledger.open_readonly`: SQLite's ``mode=ro``,
no folder or file created, no migration, no write lock (so they never wait for an import). A file that is
not a jixiao-xl ledger is refused from its header before SQLite touches it. Rows a hand edit left
inconsistent — an unknown status, a supersede cycle, an undecodable digest, a dropped table — become L-LEDGER
findings (:meth:`Ledger.inconsistencies`, :meth:`Ledger.accepted_returns`), never crashes or silent states.
"""

from __future__ import annotations

import decimal
import json
import os
import sqlite3
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

from . import catalogue
from .counting import Candidate, counted_by_unit, counted_return, credible_saved_at, displaces, is_older_copy
from .errors import InputError, JixiaoError, sqlite_fault
from .findings import COLUMNS, SEVERITIES, Finding
from .model import Indicator
from .safety import display_name, raw_name
from .serve.schema import SERVE_TABLES
from .submission import Footer, Submission, submission_from_dict, submission_json

BUSY_TIMEOUT_MS = 30_000
# A writer that has not got the write lock after this long tells the user it is waiting.
BUSY_NOTICE_MS = 1_000
STATUSES = ("received", "parsed", "failed")
SQLITE_MAGIC = b"SQLite format 3\x00"

_SOURCE = "本工具约定"
RULE_DUPLICATE = catalogue.define(
    "L-DUPLICATE", "info", "相同文件已导入过，本次跳过",
    "无需处理；如需重新核对，请修改后另存为新文件再导入", _SOURCE)
RULE_SUPERSEDED = catalogue.define(
    "L-SUPERSEDED", "info", "该单位的新报送替代了旧版本",
    "无需处理；旧版本仍保留在台账中，汇总只使用最新一次报送", _SOURCE)
RULE_OLDER = catalogue.define(
    "L-OLDER", "info", "该文件保存时间早于单位已计入的报送，未替代它",
    "多为重发的旧邮件或另存的旧稿，无需处理；如核实后确应以该文件为准，用 jixiao-xl review 单位编码 --pass --import 导入编号 审核通过",
    "本工具约定", audience="bureau")


_CHECK_SOURCE = "本工具约定"
_CHECK_FIX = "台账可能被手工修改过或已损坏；请恢复台账的备份，或把台账文件交给维护人员检查"
RULE_LEDGER_STATUS = catalogue.define(
    "L-LEDGER-STATUS", "error", "台账中的导入状态无法识别", _CHECK_FIX, _CHECK_SOURCE, audience="bureau")
RULE_LEDGER_SUPERSEDE = catalogue.define(
    "L-LEDGER-SUPERSEDE", "error", "台账中的替代关系不一致（循环或指向不存在的导入）", _CHECK_FIX, _CHECK_SOURCE,
    audience="bureau")
RULE_LEDGER_DIGEST = catalogue.define(
    "L-LEDGER-DIGEST", "error", "台账中某次导入的汇总摘要无法读取", _CHECK_FIX, _CHECK_SOURCE, audience="bureau")
RULE_LEDGER_DIGEST_REBUILT = catalogue.define(
    "L-LEDGER-DIGEST-REBUILT", "warning", "台账中某次导入的汇总摘要已损坏，已从完整报送数据重建", _CHECK_FIX,
    _CHECK_SOURCE, audience="bureau")
RULE_LEDGER_TABLE = catalogue.define(
    "L-LEDGER-TABLE", "warning", "台账缺少数据表", _CHECK_FIX, _CHECK_SOURCE, audience="bureau")


class LedgerError(InputError):
    """A ledger that cannot be used at all; ``str()`` is one Chinese sentence with the fix."""


class LedgerBusy(LedgerError):
    """Another program held the ledger's write lock for longer than we wait."""


# ---------------------------------------------------------------------------------------------------------
# Schema

_FINDING_COLUMNS_SQL = ",\n".join(
    f"    {name} TEXT NOT NULL DEFAULT ''" for name in COLUMNS if name not in ("rule", "severity", "message"))

_V1 = f"""
CREATE TABLE imports (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256           TEXT NOT NULL UNIQUE,
    file_name        TEXT NOT NULL,
    original_path    TEXT NOT NULL,
    size             INTEGER NOT NULL,
    kind             TEXT NOT NULL DEFAULT '',
    received_at      TEXT NOT NULL,
    unit_code        TEXT NOT NULL DEFAULT '',
    template_version TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'parsed', 'failed')),
    submission_json  TEXT,
    superseded_by    INTEGER REFERENCES imports (id)
);
CREATE TABLE findings (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    import_id INTEGER NOT NULL REFERENCES imports (id),
    rule      TEXT NOT NULL,
    severity  TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
    message   TEXT NOT NULL,
{_FINDING_COLUMNS_SQL}
);
"""

# v2: the unit's name and the completion time on the row (backfilled from the stored submissions), indexes
# for the per-unit queries, and a trigger that refuses to delete any import or finding.
_V2 = """
ALTER TABLE imports ADD COLUMN unit_name TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN completed_at TEXT;
UPDATE imports
   SET unit_name = COALESCE(json_extract(submission_json, '$.unit_name'), '')
 WHERE submission_json IS NOT NULL AND json_valid(submission_json);
CREATE INDEX imports_by_unit ON imports (unit_code, status, superseded_by);
CREATE INDEX findings_by_import ON findings (import_id);
CREATE TRIGGER imports_never_deleted BEFORE DELETE ON imports
BEGIN
    SELECT RAISE(ABORT, 'jixiao-xl ledger: imports are never deleted');
END;
CREATE TRIGGER findings_never_deleted BEFORE DELETE ON findings
BEGIN
    SELECT RAISE(ABORT, 'jixiao-xl ledger: findings are never deleted');
END;
"""

# v3: a digest of each submission — the money, the plan, the cells they came from and the indicators'
# levels — so that consolidating a province's returns reads kilobytes per unit instead of the whole form.
# Rows imported before v3 keep a NULL digest and are read in full.
_V3 = """
ALTER TABLE imports ADD COLUMN digest_json TEXT;
"""


# v4: digests move to their own table, in consolidation's own compact shape (:class:`Digest`, a tenth of
# the v3 size). A column added to ``imports`` lies behind ``submission_json`` in every row, so reading it
# walked the whole submission's overflow pages; a table of its own is read in kilobytes. The v3 column is
# left as it is (rewriting the rows would rewrite every submission) and is no longer read or written.
_V4 = """
CREATE TABLE digests (
    import_id   INTEGER PRIMARY KEY REFERENCES imports (id),
    digest_json TEXT NOT NULL
);
"""


def _v4_digest_table(db: sqlite3.Connection) -> None:
    """v4: create the digests table and fill it from the v3 digests (slimmed submissions). Imports without
    a v3 digest are digested from the full submission when read. A v3 digest has no department sheet, so its
    contact is left out (None): :meth:`Ledger.contacts` reads it from the submission."""
    for statement in split_script(_V4):
        db.execute(statement)
    rows = db.execute("SELECT id, digest_json FROM imports WHERE digest_json IS NOT NULL ORDER BY id")
    while batch := rows.fetchmany(500):
        db.executemany("INSERT INTO digests (import_id, digest_json) VALUES (?, ?)",
                       [(import_id, _digest_json(replace(digest(submission_from_dict(json.loads(text), False)),
                                                         contact=None)))
                        for import_id, text in batch])


# The path of a return as the file system's bytes: a name that is not UTF-8 is stored as text in a readable
# form (GB18030 or with replacement characters), which cannot give the original back. NULL for older rows.
_ORIGINAL_PATH_BYTES = """
ALTER TABLE imports ADD COLUMN original_path_bytes BLOB;
"""

# Issued workbooks and the templates they were made from: every workbook generate writes (one row per unit
# and run, never deleted), and the bytes of every template used, content-addressed by their sha256, so a
# return is read and sent back with the template its unit got even after the template file moved or changed.
_ISSUED = """
CREATE TABLE issued (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_code             TEXT NOT NULL,
    unit_name             TEXT NOT NULL,
    file_name             TEXT NOT NULL,
    file_path             TEXT NOT NULL,
    sha256                TEXT NOT NULL,
    template_id           TEXT NOT NULL,
    template_version      TEXT NOT NULL,
    template_sha256       TEXT NOT NULL REFERENCES template_blobs (sha256),
    dept_template_id      TEXT NOT NULL,
    dept_template_version TEXT NOT NULL,
    dept_template_sha256  TEXT NOT NULL REFERENCES template_blobs (sha256),
    master_fingerprint    TEXT NOT NULL,
    generated_at          TEXT NOT NULL,
    forced                INTEGER NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
    recorded_at           TEXT NOT NULL
);
CREATE TABLE template_blobs (
    sha256      TEXT PRIMARY KEY,
    file_name   TEXT NOT NULL,
    template_id TEXT NOT NULL,
    version     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    content     BLOB NOT NULL,
    stored_at   TEXT NOT NULL
);
CREATE INDEX issued_by_unit ON issued (unit_code, id);
CREATE INDEX issued_by_sha256 ON issued (sha256);
CREATE TRIGGER issued_never_deleted BEFORE DELETE ON issued
BEGIN
    SELECT RAISE(ABORT, 'jixiao-xl ledger: issued workbooks are never deleted');
END;
CREATE TRIGGER template_blobs_never_deleted BEFORE DELETE ON template_blobs
BEGIN
    SELECT RAISE(ABORT, 'jixiao-xl ledger: templates are never deleted');
END;
"""

# Received files and import runs (issue 13, 18): ``receipts`` links each import to its copy under 原件/
# (content-addressed, "" when the file was over the size limit and not copied) and says whether it was an
# issued workbook returned unfilled (not a submission) and when the file itself was last saved; ``runs`` and
# ``run_files`` record every import run, the files it met (duplicates of earlier imports included, so a
# rerun knows them) and whether its reports were completed. Separate tables, not columns of ``imports``:
# a column added there lies behind ``submission_json`` and reading it walks the submission's overflow pages.
_RECEIPTS_AND_RUNS = """
CREATE TABLE receipts (
    import_id INTEGER PRIMARY KEY REFERENCES imports (id),
    original  TEXT NOT NULL DEFAULT '',
    blank     INTEGER NOT NULL DEFAULT 0,
    saved_at  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    reported_at TEXT,
    paths_json  TEXT NOT NULL DEFAULT '[]',
    out_dir     TEXT NOT NULL DEFAULT '',
    host        TEXT NOT NULL DEFAULT '',
    pid         INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE run_files (
    run_id    INTEGER NOT NULL REFERENCES runs (id),
    path      TEXT NOT NULL,
    import_id INTEGER NOT NULL REFERENCES imports (id),
    duplicate INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, path)
);
CREATE INDEX run_files_by_import ON run_files (import_id);
CREATE TRIGGER runs_never_deleted BEFORE DELETE ON runs
BEGIN
    SELECT RAISE(ABORT, 'jixiao-xl ledger: runs are never deleted');
END;
"""


# The site's tables (``jixiao-xl serve``): unit links, staff, API tokens, uploads and 审核 decisions.
_SERVE = SERVE_TABLES

# Runs by output folder: whether a folder already holds some run's outputs is one indexed lookup
# (:meth:`Ledger.folder_has_run`), however many runs the year has had (the site makes one per upload).
_RUNS_BY_FOLDER = "CREATE INDEX IF NOT EXISTS runs_by_out_dir ON runs (out_dir);"

# A migration is an SQL script, or a function run inside the migration's transaction.
MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (_V1, _V2, _V3, _v4_digest_table,
                                                                      _ORIGINAL_PATH_BYTES, _ISSUED, _RECEIPTS_AND_RUNS,
                                                                      _SERVE, _RUNS_BY_FOLDER)
SCHEMA_VERSION = len(MIGRATIONS)
# The version that added the digests table (older ledgers are consolidated from the full submissions).
DIGESTS_VERSION = MIGRATIONS.index(_v4_digest_table) + 1


def split_script(script: str) -> list[str]:
    """The statements of an SQL script, each complete (trigger bodies stay whole)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]!r}")
    return statements


# ---------------------------------------------------------------------------------------------------------
# Rows and results


@dataclass(frozen=True)
class ImportRow:
    """One import as the ledger keeps it (the submission itself is loaded by :meth:`Ledger.submission_of`)."""

    id: int
    sha256: str
    file_name: str
    original_path: str
    size: int
    kind: str
    received_at: str
    unit_code: str
    unit_name: str
    template_version: str
    status: str
    superseded_by: int | None
    completed_at: str | None

    @property
    def accepted(self) -> bool:
        """True for a parsed import that no later return of its unit has superseded (an unfilled blank is
        never superseded but never counts either: ask :meth:`Ledger.counted_ids` which import counts)."""
        return self.status == "parsed" and self.superseded_by is None


@dataclass(frozen=True)
class RunRow:
    """One import run: when it started and finished, what it read, where its outputs went, and when its
    reports were completed (None: never — an interrupted run, rebuilt by the next import or ``report``)."""

    id: int
    started_at: str
    finished_at: str | None
    reported_at: str | None
    paths: tuple[str, ...]
    out_dir: str
    host: str
    pid: int


@dataclass(frozen=True)
class RunFile:
    """A file an import run met: its path, its import, and whether it was a duplicate of an import already
    reported (then the run names it only as a duplicate)."""

    path: str
    import_id: int
    duplicate: bool


@dataclass(frozen=True)
class Received:
    """The outcome of :meth:`Ledger.record_received`."""

    import_id: int
    duplicate: bool
    resumed: bool = False


@dataclass(frozen=True)
class RecordResult:
    """The outcome of recording one import.

    ``duplicate`` is True when the same bytes were already imported (nothing changed); ``superseded`` lists
    the earlier imports of the unit that this one replaced; ``notes`` are the L- findings (info) that tell
    the user so, for the import report.
    """

    import_id: int
    duplicate: bool
    superseded: list[int] = field(default_factory=list)
    notes: tuple[Finding, ...] = ()


_RUN_COLUMNS = ("id", "started_at", "finished_at", "reported_at", "paths_json", "out_dir", "host", "pid")
_SELECT_RUNS = f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs"


def _run_row(values: Sequence) -> RunRow:
    run_id, started, finished, reported, paths, out_dir, host, pid = values
    try:
        listed = tuple(str(p) for p in json.loads(paths))
    except (ValueError, TypeError):
        listed = ()
    return RunRow(run_id, started, finished, reported, listed, out_dir, host, int(pid or 0))


_ROW_COLUMNS = ("id", "sha256", "file_name", "original_path", "size", "kind", "received_at", "unit_code",
                "unit_name", "template_version", "status", "superseded_by", "completed_at")
_SELECT_ROWS = f"SELECT {', '.join(_ROW_COLUMNS)} FROM imports"


IndicatorTally = tuple[tuple[str, str, str, int], ...]
ExtraFields = tuple[tuple[str, str, str], ...]


@dataclass(frozen=True, slots=True)
class DigestProject:
    """One project of a :class:`Digest`: code, name, the sheet it was read from, and its numbers.

    ``paths`` names each number (``budget``, ``fiscal``, ``other``, ``plan.<节点>``); ``values`` holds them
    (None when blank) and ``cells`` the cell each was read from: ``B4`` on the project's sheet, ``表名!B4``
    on another, "" when the form did not have the field. ``extras`` holds the sheet's extra fields (a template's
    ``{{ extra.<名称> }}``) as (名称, value, cell), in the order the template declares them.
    """

    code: str
    name: str
    sheet: str
    paths: tuple[str, ...]
    values: tuple[Decimal | None, ...]
    cells: tuple[str, ...]
    extras: ExtraFields = ()

    def number(self, path: str) -> tuple[Decimal | None, str]:
        """The value at ``path`` and its cell; (None, "") when the project has no such number."""
        if path not in self.paths:
            return None, ""
        k = self.paths.index(path)
        return self.values[k], self.cells[k]


@dataclass(frozen=True)
class Digest:
    """What consolidation needs of one return: the unit's name as returned, every project's numbers and
    their cells, and the indicators counted by (一级, 二级, 指标性质) in the order first seen (indicator rows
    left entirely blank are not counted). Texts and indicator values are left out; of the department sheet only
    its extra fields are kept (cells as ``表名!B4``). ``contact`` is the person to call (:attr:`Submission.contact`);
    ``contact`` None means a digest stored before contacts were digested (see :meth:`Ledger.contacts`)."""

    unit_name: str
    projects: tuple[DigestProject, ...]
    indicators: IndicatorTally = ()
    dept_extras: ExtraFields = ()
    contact: Footer | None = None


@dataclass(frozen=True)
class AcceptedReturn:
    """An accepted import (see :meth:`Ledger.latest_by_unit`) as consolidation reads it."""

    id: int
    unit_code: str
    file_name: str
    sha256: str
    digest: Digest

    @property
    def unit_name(self) -> str:
        """The unit's name as the return gives it."""
        return self.digest.unit_name


@dataclass(frozen=True)
class IssuedRow:
    """One workbook generate issued (see :meth:`Ledger.record_issued`).

    ``template_*`` name the project-form template and ``dept_template_*`` the department-form template the
    workbook was made from; their ``*_sha256`` are keys of the stored template bytes (:meth:`Ledger.template_blob`).
    ``forced``: issued although the master check found errors. ``id`` and ``recorded_at`` are the ledger's.
    """

    unit_code: str
    unit_name: str
    file_name: str
    file_path: str
    sha256: str
    template_id: str
    template_version: str
    template_sha256: str
    dept_template_id: str
    dept_template_version: str
    dept_template_sha256: str
    master_fingerprint: str
    generated_at: str
    forced: bool = False
    id: int = 0
    recorded_at: str = ""


_ISSUED_COLUMNS = tuple(name for name in IssuedRow.__dataclass_fields__)
_SELECT_ISSUED = f"SELECT {', '.join(_ISSUED_COLUMNS)} FROM issued"


def _issued_row(values: Sequence) -> IssuedRow:
    row = IssuedRow(*values)
    return replace(row, forced=bool(row.forced))


@dataclass(frozen=True)
class TemplateBlob:
    """A template file as generate used it: its bytes, and the identity it gave the forms made from it."""

    sha256: str
    file_name: str
    template_id: str
    version: str
    kind: str
    content: bytes


def tally_indicators(indicators: Iterable[Indicator]) -> IndicatorTally:
    """How many filled indicators there are of each (一级, 二级, 指标性质), in the order first seen."""
    counts: dict[tuple[str, str, str], int] = {}
    for i in indicators:
        if i.level1 or i.level2 or i.name:
            key = (i.level1, i.level2, i.operator)
            counts[key] = counts.get(key, 0) + 1
    return tuple((*key, n) for key, n in counts.items())


def _cell_of(rp, path: str) -> str:
    where = rp.locations.get(path)
    if where is None:
        return ""
    return where.cell if where.sheet == rp.sheet else f"{where.sheet}!{where.cell}"


def _extra_fields(sheet, qualify: bool) -> ExtraFields:
    """A sheet's extra fields as (名称, value, cell); the cell as ``表名!B4`` when ``qualify``."""
    fields = []
    for name, value in sheet.extras.items():
        where = sheet.locations.get(f"extra.{name}")
        if where is None:
            cell = ""
        elif qualify or where.sheet != sheet.sheet:
            cell = f"{where.sheet}!{where.cell}"
        else:
            cell = where.cell
        fields.append((name, value, cell))
    return tuple(fields)


def _digest_project(rp) -> DigestProject:
    p = rp.project
    numbers = [("budget", p.budget), ("fiscal", p.fiscal), ("other", p.other),
               *((f"plan.{point.node}", point.amount) for point in p.plan)]
    return DigestProject(p.code, p.name, rp.sheet, tuple(path for path, _ in numbers),
                         tuple(value for _, value in numbers), tuple(_cell_of(rp, path) for path, _ in numbers),
                         _extra_fields(rp, qualify=False))


def digest(sub: Submission) -> Digest:
    """The consolidation digest of a submission (see :class:`Digest`)."""
    return Digest(sub.unit_name, tuple(_digest_project(rp) for rp in sub.projects),
                  tally_indicators(i for rp in sub.projects for i in rp.project.indicators),
                  _extra_fields(sub.dept, qualify=True) if sub.dept is not None else (), sub.contact)


def _digest_json(d: Digest) -> str:
    projects = [{"code": p.code, "name": p.name, "sheet": p.sheet, "paths": p.paths,
                 "values": [None if value is None else str(value) for value in p.values], "cells": p.cells,
                 **({"extras": p.extras} if p.extras else {})}
                for p in d.projects]
    document = {"unit_name": d.unit_name, "projects": projects, "indicators": d.indicators}
    if d.dept_extras:
        document["dept_extras"] = d.dept_extras
    if d.contact is not None:
        document["contact"] = asdict(d.contact)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _decimals(texts: list[str | None]) -> tuple[Decimal | None, ...]:
    if None in texts:
        return tuple(None if text is None else Decimal(text) for text in texts)
    return tuple(map(Decimal, texts))


def _digest_from_json(text: str) -> Digest:
    data = json.loads(text)
    # Every project repeats the same few paths, cells and sheet names; one copy of each saves memory.
    projects = tuple(
        DigestProject(p["code"], p["name"], sys.intern(p["sheet"]), tuple(map(sys.intern, p["paths"])),
                      _decimals(p["values"]), tuple(map(sys.intern, p["cells"])),
                      tuple(map(tuple, p.get("extras", ()))))
        for p in data["projects"])
    contact = data.get("contact")
    return Digest(data["unit_name"], projects, tuple(map(tuple, data["indicators"])),
                  tuple(map(tuple, data.get("dept_extras", ()))), None if contact is None else Footer(**contact))


class Encoded(NamedTuple):
    """A submission as the ledger stores it: the whole submission and its consolidation digest, as JSON."""

    payload: str
    digest: str


def encode(sub: Submission) -> Encoded:
    """The JSON texts :meth:`Ledger.complete` stores for ``sub`` (workers call this so the parent need not)."""
    return Encoded(submission_json(sub), _digest_json(digest(sub)))


class Batch:
    """An open group of recordings (see :meth:`Ledger.batch`)."""

    def __init__(self, ledger: "Ledger", max_records: int, max_seconds: float) -> None:
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


def _row(values: Sequence) -> ImportRow:
    return ImportRow(*values)


def now_iso() -> str:
    """The current local time as ISO 8601 with its UTC offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _iso(value: datetime | str | None) -> str:
    if value is None:
        return now_iso()
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def display_time(iso: str) -> str:
    """An ISO timestamp as people read it: ``2024-05-01 10:30``."""
    return iso[:16].replace("T", " ")


def local_time(iso: str) -> str:
    """An ISO timestamp with its zone as people here read it, in this computer's time, to the second:
    ``2024-05-01 18:30:05`` (the text itself when it is not a timestamp)."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


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
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") in targets for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def _command_line(pid: str, limit: int = 80) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            text = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "命令行未知"
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------------------
# Ledger


class Ledger:
    """An open ledger file. Use :meth:`open`, preferably as a context manager."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._batched = False

    # -- opening --------------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> "Ledger":
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
    def open_readonly(cls, path: str | Path) -> "Ledger":
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
        missing = [name for name in _ROW_COLUMNS if name not in columns]
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

    def __enter__(self) -> "Ledger":
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

    # -- recording ------------------------------------------------------------------------------------

    def record_received(self, sha256: str, path: str | Path, size: int, kind: str,
                        received_at: datetime | str | None = None, shown: str | None = None) -> Received:
        """Write the "received" row of a file before it is parsed (its own transaction).

        The path is stored as text in its readable form (``shown``, else :func:`safety.display_name`) and as
        the file system's bytes (``original_path_bytes``), whatever encoding the name was written in.
        Returns the existing import when the same bytes were seen before: ``duplicate`` when that import was
        completed, ``resumed`` when it was left at ``received`` (a crash) and should be completed now.
        """
        shown = display_name(path) if shown is None else shown
        with self._transaction() as db:
            existing = db.execute("SELECT id, status FROM imports WHERE sha256 = ?", (sha256,)).fetchone()
            if existing is not None:
                resumed = existing[1] == "received"
                return Received(existing[0], duplicate=not resumed, resumed=resumed)
            cursor = db.execute(
                "INSERT INTO imports (sha256, file_name, original_path, size, kind, received_at, original_path_bytes)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sha256, Path(shown).name, shown, int(size), str(kind), _iso(received_at), raw_name(path)))
            return Received(int(cursor.lastrowid), duplicate=False)

    def complete(self, import_id: int, sub: Submission, findings: Iterable[Finding], status: str,
                 encoded: "Encoded | None" = None, blank: bool = False) -> RecordResult:
        """Fill in a received import: submission, findings, status and supersession, in one transaction.

        An import that is already complete is left alone and reported as a duplicate. ``encoded`` is
        :func:`encode` of ``sub`` when a worker process has already done it. ``blank`` marks an issued
        workbook returned unfilled: not a submission, so it supersedes nothing (see :mod:`.counting`).

        The file's own save time is kept in ``receipts.saved_at`` when it is credible
        (:func:`.counting.credible_saved_at`, judged here once, against the workbook issued to the unit and
        the clock at receipt, so that a later generate or the passing days never change what counts). A
        return that does not displace the unit's counted one (an older copy, or the counted one was passed)
        supersedes nothing and is itself marked superseded by it; when it is an older copy, an L-OLDER
        finding for the bureau is recorded with it.
        """
        if status not in ("parsed", "failed"):
            raise ValueError(f"completion status must be parsed or failed, not {status!r}")
        payload, summary = encoded if encoded is not None else encode(sub)
        with self._transaction() as db:
            row = self._get(import_id)
            if row is None:
                raise LedgerError(f"台账中没有第 {import_id} 号导入。")
            if row.status != "received":
                return RecordResult(import_id, duplicate=True, notes=(self._duplicate_note(row),))
            db.execute(
                "UPDATE imports SET unit_code = ?, unit_name = ?, template_version = ?, status = ?,"
                " submission_json = ?, completed_at = ? WHERE id = ?",
                (sub.unit_code, sub.unit_name, sub.template_version, status, payload, now_iso(), import_id))
            db.execute("INSERT INTO digests (import_id, digest_json) VALUES (?, ?)", (import_id, summary))
            if blank:
                self._mark_blank(import_id)
            counts = status == "parsed" and sub.unit_code and not blank
            newcomer = Candidate(import_id, sub.unit_code, status, blank, self._saved_at(sub) if counts else "")
            kept = self._kept_over(newcomer) if counts else None
            older = (self._older_note(newcomer, kept, sub),) if kept and is_older_copy(newcomer, kept) else ()
            self._insert_findings(import_id, [*findings, *older])
            self._record_saved_at(import_id, newcomer.saved_at)
            if kept is not None:
                db.execute("UPDATE imports SET superseded_by = ? WHERE id = ?", (kept.import_id, import_id))
            superseded = self._supersede(import_id, sub.unit_code) if counts and kept is None else []
        notes = older + tuple(self._superseded_note(old, sub) for old in superseded)
        return RecordResult(import_id, duplicate=False, superseded=[old.id for old in superseded], notes=notes)

    def record(self, sub: Submission, original_path: str | Path, size: int, findings: Iterable[Finding],
               received_at: datetime | str | None = None) -> RecordResult:
        """Record one import: :meth:`record_received`, then :meth:`complete` (``failed`` when unreadable)."""
        findings = list(findings)
        received = self.record_received(sub.sha256, original_path, size, sub.kind, received_at)
        if received.duplicate:
            return RecordResult(received.import_id, duplicate=True,
                                notes=(self._duplicate_note(self._get(received.import_id)),))
        return self.complete(received.import_id, sub, findings, "parsed" if sub.readable else "failed")

    def _insert_findings(self, import_id: int, findings: Iterable[Finding]) -> None:
        names = ", ".join(COLUMNS)
        marks = ", ".join("?" for _ in COLUMNS)
        self._db.executemany(
            f"INSERT INTO findings (import_id, {names}) VALUES (?, {marks})",
            [(import_id, *(_text(getattr(f, name)) for name in COLUMNS)) for f in findings])

    def _supersede(self, import_id: int, unit_code: str) -> list[ImportRow]:
        """Point the unit's earlier accepted imports at ``import_id``; or, when a later return of the unit was
        completed first (a resumed crash), point ``import_id`` at that one. Returns the rows superseded by
        ``import_id``."""
        accepted = ("unit_code = ? AND status = 'parsed' AND superseded_by IS NULL AND id != ?"
                    " AND id NOT IN (SELECT import_id FROM receipts WHERE blank = 1)")
        later = self._db.execute(f"SELECT max(id) FROM imports WHERE {accepted} AND id > ?",
                                 (unit_code, import_id, import_id)).fetchone()[0]
        if later is not None:
            self._db.execute("UPDATE imports SET superseded_by = ? WHERE id = ?", (later, import_id))
            return []
        older = [_row(r) for r in self._db.execute(f"{_SELECT_ROWS} WHERE {accepted} ORDER BY id",
                                                   (unit_code, import_id))]
        self._db.executemany("UPDATE imports SET superseded_by = ? WHERE id = ?",
                             [(import_id, old.id) for old in older])
        return older

    def _saved_at(self, sub: Submission) -> str:
        """The return's own save time when credible against the workbook last issued to its unit, else ""."""
        values = self._db.execute("SELECT generated_at FROM issued WHERE unit_code = ? ORDER BY id DESC LIMIT 1",
                                  (sub.unit_code,)).fetchone()
        try:
            issued_at = datetime.fromisoformat(values[0]) if values else None
        except ValueError:  # a hand-edited row: judged as if nothing had been issued
            issued_at = None
        return credible_saved_at(sub.saved_at, issued_at, datetime.now().astimezone())

    def _kept_over(self, newcomer: Candidate) -> Candidate | None:
        """The unit's counted return among the imports before ``newcomer`` when ``newcomer`` does not displace
        it (:func:`.counting.displaces`); None when ``newcomer`` takes its place."""
        decisions = self.review_decisions()
        earlier = [c for c in self.candidates(newcomer.unit_code) if c.import_id < newcomer.import_id]
        counted = counted_return(earlier, decisions)
        if counted is None or displaces(newcomer, counted, decisions):
            return None
        return counted

    def _record_saved_at(self, import_id: int, saved_at: str) -> None:
        if saved_at:
            self._db.execute("INSERT INTO receipts (import_id, saved_at) VALUES (?, ?)"
                             " ON CONFLICT (import_id) DO UPDATE SET saved_at = excluded.saved_at", (import_id, saved_at))

    def _older_note(self, newcomer: Candidate, kept: Candidate, sub: Submission) -> Finding:
        counted = self._get(kept.import_id)
        name = counted.file_name if counted is not None else ""
        message = (f"本文件保存于 {local_time(newcomer.saved_at)}，早于该单位已计入的报送（第 {kept.import_id} 号导入，{name}，"
                   f"保存于 {local_time(kept.saved_at)}），多为重发的旧邮件或另存的旧稿，因此未替代已计入的报送，"
                   "状态、核对报告和汇总仍以后者为准。如核实后确应以本文件为准，请运行 "
                   f"jixiao-xl review {sub.unit_code} --pass --import {newcomer.import_id} 审核通过，本文件即计入。")
        return Finding(RULE_OLDER.code, RULE_OLDER.severity, message, file=sub.file, sha256=sub.sha256,
                       unit_code=sub.unit_code, field="saved_at", value=newcomer.saved_at, expected=kept.saved_at)

    def _duplicate_note(self, row: ImportRow | None) -> Finding:
        when = f"（第 {row.id} 号导入，{row.file_name}，{display_time(row.received_at)}）" if row else ""
        return Finding(RULE_DUPLICATE.code, RULE_DUPLICATE.severity, f"相同文件已导入过{when}，本次跳过。",
                       file=row.file_name if row else "", sha256=row.sha256 if row else "",
                       unit_code=row.unit_code if row else "")

    def _superseded_note(self, old: ImportRow, sub: Submission) -> Finding:
        message = (f"该单位的新报送替代了 {display_time(old.received_at)} 的旧版本（第 {old.id} 号导入，{old.file_name}）；"
                   "旧版本仍保留在台账中，汇总只使用本次报送。")
        return Finding(RULE_SUPERSEDED.code, RULE_SUPERSEDED.severity, message, file=sub.file, sha256=sub.sha256,
                       unit_code=sub.unit_code, value=old.file_name, expected=old.sha256)

    # -- issued workbooks and their templates ---------------------------------------------------------

    def store_template(self, blob: TemplateBlob) -> str:
        """Keep a template's bytes (once per sha256: the same bytes are stored once); returns the sha256."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO template_blobs (sha256, file_name, template_id, version, kind, content, stored_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (blob.sha256, blob.file_name, blob.template_id, blob.version, blob.kind, blob.content, now_iso()))
        return blob.sha256

    def template_blob(self, sha256: str) -> TemplateBlob | None:
        """The stored template with these bytes, or None."""
        if not self.has_table("issued"):
            return None
        values = self._db.execute(
            "SELECT sha256, file_name, template_id, version, kind, content FROM template_blobs WHERE sha256 = ?",
            (sha256,)).fetchone()
        return TemplateBlob(*values[:5], bytes(values[5])) if values else None

    def template_blobs(self) -> list[TemplateBlob]:
        """Every stored template, oldest first."""
        if not self.has_table("issued"):  # read-only, before an import upgraded an older ledger
            return []
        rows = self._db.execute(
            "SELECT sha256, file_name, template_id, version, kind, content FROM template_blobs ORDER BY rowid")
        return [TemplateBlob(*values[:5], bytes(values[5])) for values in rows]

    def record_issued(self, row: IssuedRow) -> int:
        """Record one issued workbook (its templates must be stored first, :meth:`store_template`); returns its id.

        Inside :meth:`batch` the rows of one generate run share a few transactions.
        """
        columns = [name for name in _ISSUED_COLUMNS if name != "id"]
        values = [getattr(row, name) for name in columns]
        values[columns.index("forced")] = int(bool(row.forced))
        values[columns.index("recorded_at")] = row.recorded_at or now_iso()
        with self._transaction() as db:
            cursor = db.execute(f"INSERT INTO issued ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                                values)
        return int(cursor.lastrowid)

    def issued_latest(self) -> dict[str, IssuedRow]:
        """The workbook last issued to each unit, by unit code."""
        if not self.has_table("issued"):  # read-only, before an import upgraded an older ledger
            return {}
        rows = self._db.execute(
            f"{_SELECT_ISSUED} WHERE id IN (SELECT max(id) FROM issued GROUP BY unit_code) ORDER BY id")
        return {row.unit_code: row for row in map(_issued_row, rows)}

    def issued_units(self) -> dict[str, str]:
        """The unit of every workbook ever issued, by its sha256 (a blank returned with the same bytes is
        recognised and attributed to its unit)."""
        if not self.has_table("issued"):  # read-only, before an import upgraded an older ledger
            return {}
        return {sha256: unit_code for sha256, unit_code in
                self._db.execute("SELECT sha256, unit_code FROM issued ORDER BY id")}

    def issued_by_sha256(self, sha256: str) -> IssuedRow | None:
        """The latest issued workbook with exactly these bytes, or None."""
        if not self.has_table("issued"):
            return None
        values = self._db.execute(f"{_SELECT_ISSUED} WHERE sha256 = ? ORDER BY id DESC LIMIT 1", (sha256,)).fetchone()
        return _issued_row(values) if values else None

    # -- queries --------------------------------------------------------------------------------------

    def _get(self, import_id: int) -> ImportRow | None:
        values = self._db.execute(f"{_SELECT_ROWS} WHERE id = ?", (import_id,)).fetchone()
        return _row(values) if values else None

    def get(self, import_id: int) -> ImportRow | None:
        """One import by id, or None."""
        return self._get(import_id)

    def by_sha256(self, sha256: str) -> ImportRow | None:
        """The import of the file with this sha256, or None."""
        values = self._db.execute(f"{_SELECT_ROWS} WHERE sha256 = ?", (sha256,)).fetchone()
        return _row(values) if values else None

    def candidates(self, unit_code: str | None = None) -> list[Candidate]:
        """What :mod:`.counting` needs of every import that names a unit (only ``unit_code``'s when given), in
        import order (a ledger opened read-only before an import upgraded it has no receipts: none of its
        imports is a blank, none has a known save time)."""
        unit = " AND i.unit_code = ?" if unit_code is not None else ""
        parameters = (unit_code,) if unit_code is not None else ()
        if not self.has_table("receipts"):
            rows = self._db.execute(f"SELECT id, unit_code, status, 0, '' FROM imports AS i WHERE unit_code != ''{unit}"
                                    " ORDER BY id", parameters)
            return [Candidate(*values) for values in rows]
        rows = self._db.execute(
            "SELECT i.id, i.unit_code, i.status, COALESCE(r.blank, 0), COALESCE(r.saved_at, '')"
            f" FROM imports AS i LEFT JOIN receipts AS r ON r.import_id = i.id WHERE i.unit_code != ''{unit}"
            " ORDER BY i.id", parameters)
        return [Candidate(import_id, code, status, bool(blank), saved_at)
                for import_id, code, status, blank, saved_at in rows]

    def counted_ids(self) -> dict[str, int]:
        """单位编码 → the import that counts for the unit (:func:`.counting.counted_return`), in import order
        of the counted imports. Every "accepted" query below goes through it."""
        counted = counted_by_unit(self.candidates(), self.review_decisions())
        return {c.unit_code: c.import_id for c in sorted(counted.values(), key=lambda c: c.import_id)}

    def review_decisions(self) -> dict[int, str]:
        """Import id → the bureau's last 审核 decision on it (通过 or 退回), which :func:`.counting.counted_return`
        weighs: a passed return keeps counting until a later one is passed too."""
        from .serve.store import decisions_by_import

        return decisions_by_import(self)

    def _counted_json(self) -> str:
        """The counted import ids as a JSON array, for ``id IN (SELECT value FROM json_each(?))``."""
        return json.dumps(sorted(self.counted_ids().values()))

    def latest_by_unit(self) -> dict[str, ImportRow]:
        """The import that counts (:meth:`counted_ids`) of every unit that has one."""
        rows = self._db.execute(f"{_SELECT_ROWS} WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                                (self._counted_json(),))
        return {row.unit_code: row for row in map(_row, rows)}

    def accepted_unit_codes(self) -> list[str]:
        """The units of :meth:`latest_by_unit`, in the same order, without reading the rows themselves.

        ``unit_name`` and ``completed_at`` lie behind ``submission_json`` in every row, so reading whole rows
        walks each stored submission's overflow pages; the code alone comes from the start of the row.
        """
        return list(self.counted_ids())

    def history(self, unit_code: str | None = None) -> list[ImportRow]:
        """Every import (any status), oldest first; only one unit's when ``unit_code`` is given."""
        if unit_code is None:
            rows = self._db.execute(f"{_SELECT_ROWS} ORDER BY id")
        else:
            rows = self._db.execute(f"{_SELECT_ROWS} WHERE unit_code = ? ORDER BY id", (unit_code,))
        return [_row(r) for r in rows]

    def return_counts(self) -> dict[str, int]:
        """How many parsed returns each unit has sent (superseded ones included, unfilled blanks not)."""
        rows = self._db.execute(
            "SELECT unit_code, count(*) FROM imports WHERE status = 'parsed' AND unit_code != ''"
            " AND id NOT IN (SELECT import_id FROM receipts WHERE blank = 1) GROUP BY unit_code")
        return {code: int(n) for code, n in rows}

    def findings_of(self, import_id: int) -> list[Finding]:
        """The findings stored with an import, in the order they were recorded."""
        rows = self._db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM findings WHERE import_id = ? ORDER BY id", (import_id,))
        return [Finding(**dict(zip(COLUMNS, values))) for values in rows]

    def submission_of(self, import_id: int, indicator_locations: bool = True) -> Submission:
        """The submission stored with a completed import (see submission_from_dict for the flag)."""
        return submission_from_dict(json.loads(self.submission_json_of(import_id)), indicator_locations)

    def submission_json_of(self, import_id: int) -> str:
        """The stored JSON text of a completed import's submission, undecoded (:meth:`submission_of` decodes it)."""
        values = self._db.execute("SELECT submission_json FROM imports WHERE id = ?", (import_id,)).fetchone()
        if values is None:
            raise LedgerError(f"台账中没有第 {import_id} 号导入。")
        if values[0] is None:
            raise LedgerError(f"第 {import_id} 号导入尚未完成解析（可能上次导入中断），请重新导入该文件。")
        return values[0]

    def digest_of(self, import_id: int) -> Digest:
        """The consolidation digest of a completed import (computed from the full submission when it has none)."""
        values = self._db.execute("SELECT digest_json FROM digests WHERE import_id = ?", (import_id,)).fetchone()
        if values is None:
            return digest(self.submission_of(import_id, indicator_locations=False))
        return _digest_from_json(values[0])

    def accepted_returns(self, problems: list[Finding] | None = None) -> Iterator[AcceptedReturn]:
        """Every accepted import (as :meth:`latest_by_unit` picks them), oldest first, with its digest: one
        query for all of them, decoded one at a time.

        A digest that cannot be decoded is rebuilt from the stored submission; when that fails too, the
        import is left out. Either way an L-LEDGER-DIGEST finding naming the import is appended to
        ``problems`` (when given; otherwise the decoding error is raised).
        """
        digests = "d.digest_json" if self.has_table("digests") else "NULL"
        join = " LEFT JOIN digests AS d ON d.import_id = i.id" if digests != "NULL" else ""
        rows = self._db.execute(
            f"SELECT i.id, i.unit_code, i.file_name, i.sha256, {digests} FROM imports AS i{join}"
            " WHERE i.id IN (SELECT value FROM json_each(?)) ORDER BY i.id", (self._counted_json(),))
        for import_id, unit_code, file_name, sha256, text in rows:
            try:
                found = self._stored_digest(import_id, text, problems, file_name, unit_code)
            except _UNDECODABLE as exc:
                if problems is None:
                    raise
                problems.append(_digest_problem(import_id, file_name, unit_code, exc, recovered=False))
                continue
            yield AcceptedReturn(import_id, unit_code, file_name, sha256, found)

    def contacts(self, import_ids: Iterable[int]) -> dict[int, Footer]:
        """The person to call (填表人, 联系电话, 填报日期) of each of these imports (the counted ones, as a rule),
        by import id, in one query.

        The contact is read out of each digest by SQLite (no digest is decoded here: 20,000 units are one
        query). An import whose digest predates contacts, or is damaged, has it taken from its stored
        submission; an import whose submission cannot be read either gets an empty contact (consolidation
        reports the damage as L-LEDGER-DIGEST).
        """
        wanted = sorted(set(import_ids))
        if not self.has_table("digests"):
            return {import_id: self._contact_from_submission(import_id) for import_id in wanted}
        rows = self._db.execute(
            "SELECT c.value, json_type(d.j, '$.contact'), json_extract(d.j, '$.contact.filler'),"
            " json_extract(d.j, '$.contact.phone'), json_extract(d.j, '$.contact.date'),"
            " json_extract(d.j, '$.contact.date_raw')"
            " FROM json_each(?) AS c LEFT JOIN (SELECT import_id,"
            " CASE WHEN json_valid(digest_json) THEN digest_json END AS j FROM digests) AS d ON d.import_id = c.value",
            (json.dumps(wanted),))
        found = {}
        for import_id, kind, *texts in rows:
            if kind == "object":
                found[import_id] = Footer(*(str(text or "") for text in texts))
            else:
                found[import_id] = self._contact_from_submission(import_id)
        return found

    def _contact_from_submission(self, import_id: int) -> Footer:
        """The contact of an import read from its whole stored submission (empty when that cannot be read)."""
        try:
            return self.submission_of(import_id, indicator_locations=False).contact
        except _UNDECODABLE:
            return Footer()

    def _stored_digest(self, import_id: int, text: str | None, problems: list[Finding] | None, file_name: str,
                       unit_code: str) -> Digest:
        """The digest stored as ``text``; rebuilt from the submission when there is none or it is damaged."""
        if text is None:
            return digest(self.submission_of(import_id, indicator_locations=False))
        try:
            return _digest_from_json(text)
        except _UNDECODABLE as exc:
            if problems is None:
                raise
            rebuilt = digest(self.submission_of(import_id, indicator_locations=False))
            problems.append(_digest_problem(import_id, file_name, unit_code, exc, recovered=True))
            return rebuilt

    def inconsistencies(self) -> list[Finding]:
        """L-LEDGER findings for rows no import could have written: a missing digests table, a status the
        tool does not know, and units whose returns supersede each other in a cycle or point at an import
        that does not exist (the unit would otherwise silently have no accepted return)."""
        problems = []
        if self.schema_version >= DIGESTS_VERSION and not self.has_table("digests"):
            problems.append(Finding(
                RULE_LEDGER_TABLE.code, RULE_LEDGER_TABLE.severity,
                f"台账 {self.path} 缺少汇总摘要表（digests），汇总改为从各次导入的完整报送数据读取，结果不受影响但较慢。"
                f"{RULE_LEDGER_TABLE.fix}。", file=str(self.path), field="digests"))
        rows = self._db.execute("SELECT id, file_name, unit_code, status, superseded_by FROM imports ORDER BY id")
        chain: dict[int, tuple[str, str, str, int | None]] = {}
        for import_id, file_name, unit_code, status, superseded_by in rows:
            chain[import_id] = (file_name, unit_code, status, superseded_by)
            if status not in STATUSES:
                problems.append(_status_problem(import_id, file_name, unit_code, status))
        problems += _supersede_problems(chain)
        return problems

    def accepted_open_counts(self) -> dict[int, dict[str, int]]:
        """:meth:`open_counts` of every accepted import, by import id, in one query (imports without findings
        are left out)."""
        rows = self._db.execute(
            "SELECT f.import_id, f.severity, count(*) FROM findings AS f"
            " WHERE f.import_id IN (SELECT value FROM json_each(?)) GROUP BY f.import_id, f.severity",
            (self._counted_json(),))
        counts: dict[int, dict[str, int]] = {}
        for import_id, severity, n in rows:
            counts.setdefault(import_id, {severity: 0 for severity in SEVERITIES})[severity] = int(n)
        return counts

    def open_counts(self, import_id: int) -> dict[str, int]:
        """How many findings of each severity an import has (all three severities always present)."""
        counts = {severity: 0 for severity in SEVERITIES}
        rows = self._db.execute(
            "SELECT severity, count(*) FROM findings WHERE import_id = ? GROUP BY severity", (import_id,))
        for severity, n in rows:
            counts[severity] = int(n)
        return counts

    def integrity_ok(self) -> bool:
        """True when SQLite's own integrity check passes."""
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # -- received files and runs -------------------------------------------------------------------------

    def record_original(self, import_id: int, original: str) -> None:
        """Link an import to its copy under 原件/ (a path relative to that folder; "" when not copied)."""
        with self._transaction() as db:
            db.execute("INSERT INTO receipts (import_id, original) VALUES (?, ?)"
                       " ON CONFLICT (import_id) DO UPDATE SET original = excluded.original"
                       " WHERE excluded.original != ''", (import_id, original))

    def _mark_blank(self, import_id: int) -> None:
        self._db.execute("INSERT INTO receipts (import_id, blank) VALUES (?, 1)"
                         " ON CONFLICT (import_id) DO UPDATE SET blank = 1", (import_id,))

    def original_of(self, import_id: int) -> str:
        """The import's copy under 原件/ (relative path), or "" when none was kept."""
        values = self._db.execute("SELECT original FROM receipts WHERE import_id = ?", (import_id,)).fetchone()
        return values[0] if values else ""

    def is_blank(self, import_id: int) -> bool:
        """True when the import was an issued workbook returned unfilled (not a submission)."""
        values = self._db.execute("SELECT blank FROM receipts WHERE import_id = ?", (import_id,)).fetchone()
        return bool(values and values[0])

    def start_run(self, paths: Sequence[str | Path], host: str = "", pid: int = 0) -> RunRow:
        """Record the start of an import run (its output folder is set by :meth:`set_run_folder`)."""
        with self._transaction() as db:
            cursor = db.execute("INSERT INTO runs (started_at, paths_json, host, pid) VALUES (?, ?, ?, ?)",
                                (now_iso(), json.dumps([str(p) for p in paths], ensure_ascii=False), host, pid))
            run_id = int(cursor.lastrowid)
        found = self.run(run_id)
        assert found is not None
        return found

    def set_run_folder(self, run_id: int, out_dir: str | Path) -> None:
        """Record where the run writes its outputs."""
        with self._transaction() as db:
            db.execute("UPDATE runs SET out_dir = ? WHERE id = ?", (str(out_dir), run_id))

    def add_run_file(self, run_id: int, path: str | Path, import_id: int, duplicate: bool) -> None:
        """Record that the run met a file (once per path; joins an open :meth:`batch`)."""
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO run_files (run_id, path, import_id, duplicate) VALUES (?, ?, ?, ?)",
                       (run_id, str(path), import_id, int(duplicate)))

    def finish_run(self, run_id: int) -> None:
        """Record that every file of the run is in the ledger."""
        with self._transaction() as db:
            db.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (now_iso(), run_id))

    def mark_reported(self, run_id: int) -> None:
        """Record that the run's reports, 退回修改 and follow-ups are all written."""
        with self._transaction() as db:
            db.execute("UPDATE runs SET reported_at = ? WHERE id = ?", (now_iso(), run_id))

    def run(self, run_id: int) -> RunRow | None:
        """One run by id, or None."""
        values = self._db.execute(f"{_SELECT_RUNS} WHERE id = ?", (run_id,)).fetchone()
        return _run_row(values) if values else None

    def runs(self) -> list[RunRow]:
        """Every run, oldest first."""
        return [_run_row(values) for values in self._db.execute(f"{_SELECT_RUNS} ORDER BY id")]

    def folder_has_run(self, spellings: Iterable[str]) -> bool:
        """True when some run recorded one of ``spellings`` (the same folder written several ways) as its
        output folder: one lookup in the ``runs_by_out_dir`` index."""
        names = sorted({str(name) for name in spellings if str(name)})
        if not names:
            return False
        marks = ", ".join("?" * len(names))
        return self._db.execute(f"SELECT 1 FROM runs WHERE out_dir IN ({marks}) LIMIT 1", names).fetchone() is not None

    def run_files(self, run_id: int) -> list[RunFile]:
        """The files a run met, in the order it met them."""
        rows = self._db.execute("SELECT path, import_id, duplicate FROM run_files WHERE run_id = ? ORDER BY rowid",
                                (run_id,))
        return [RunFile(path, import_id, bool(duplicate)) for path, import_id, duplicate in rows]

    def reported(self, import_id: int) -> bool:
        """True when some run has reported this import in full — or when no run ever listed it (imported
        before runs were recorded, or by :meth:`record`)."""
        listed, done = self._db.execute(
            "SELECT count(*), coalesce(sum(r.reported_at IS NOT NULL), 0) FROM run_files AS f"
            " JOIN runs AS r ON r.id = f.run_id WHERE f.import_id = ? AND f.duplicate = 0", (import_id,)).fetchone()
        return listed == 0 or done > 0


def _text(value: object) -> str:
    return "" if value is None else str(value)


# What a damaged digest or submission text raises when decoded.
_UNDECODABLE = (ValueError, KeyError, TypeError, IndexError, AttributeError, decimal.InvalidOperation, LedgerError)


def _digest_problem(import_id: int, file_name: str, unit_code: str, exc: BaseException, recovered: bool) -> Finding:
    rule = RULE_LEDGER_DIGEST_REBUILT if recovered else RULE_LEDGER_DIGEST
    outcome = ("已改从该次导入的完整报送数据读取，汇总结果不受影响" if recovered
               else "完整报送数据也无法读取，该单位按未报送处理（使用主数据数值）")
    return Finding(rule.code, rule.severity,
                   f"台账中第 {import_id} 号导入（{file_name}）的汇总摘要已损坏（{type(exc).__name__}），{outcome}。"
                   f"{rule.fix}。", file=file_name, unit_code=unit_code, field="digest_json", value=str(import_id))


def _status_problem(import_id: int, file_name: str, unit_code: str, status: object) -> Finding:
    return Finding(RULE_LEDGER_STATUS.code, RULE_LEDGER_STATUS.severity,
                   f"台账中第 {import_id} 号导入（{file_name}）的状态为“{status}”，本工具无法识别，"
                   f"该导入未计入报送状态和汇总。{RULE_LEDGER_STATUS.fix}。",
                   file=file_name, unit_code=unit_code, field="status", value=str(status),
                   expected="、".join(STATUSES))


def _supersede_problems(chain: dict[int, tuple[str, str, str, int | None]]) -> list[Finding]:
    """One L-LEDGER-SUPERSEDE finding per unit whose parsed returns all lead, through ``superseded_by``, into
    a cycle or to an import that does not exist."""
    units: dict[str, list[int]] = {}
    for import_id, (_file, unit_code, status, superseded_by) in chain.items():
        if status == "parsed" and unit_code:
            units.setdefault(unit_code, []).append(import_id)
    problems = []
    for unit_code, ids in units.items():
        if any(chain[i][3] is None for i in ids):
            continue  # the unit has an accepted return
        ends = {_chain_end(chain, i) for i in ids}
        broken = sorted(end for end in ends if end is not None)
        if not broken:
            continue  # every chain ends at an import that is not parsed (e.g. failed): a state, not an error
        newest = max(ids)
        cause = "的替代关系构成循环" if any(b in chain for b in broken) else f"被标为由不存在的第 {broken[0]} 号导入替代"
        problems.append(Finding(
            RULE_LEDGER_SUPERSEDE.code, RULE_LEDGER_SUPERSEDE.severity,
            f"台账中单位 {unit_code} 的报送（第 {'、'.join(map(str, sorted(ids)))} 号导入）{cause}，"
            f"无法确定最新一次报送，该单位未计入报送状态和汇总。{RULE_LEDGER_SUPERSEDE.fix}。",
            file=chain[newest][0], unit_code=unit_code, field="superseded_by", value=str(newest)))
    return problems


def _chain_end(chain: dict[int, tuple[str, str, str, int | None]], start: int) -> int | None:
    """Follow ``superseded_by`` from ``start``: None when it ends at a row that is not parsed, else the id
    where it went wrong (an id seen twice: a cycle; an id not in the ledger: a dangling reference)."""
    seen = set()
    current: int | None = start
    while current is not None:
        if current in seen or current not in chain:
            return current
        seen.add(current)
        _file, _unit, status, superseded_by = chain[current]
        if status != "parsed":
            return None
        current = superseded_by
    return None
