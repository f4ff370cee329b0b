"""The ledger's tables: every migration since the first, in order, and the version they add up to.

A migration is applied once, forward, in its own transaction, when a ledger is opened for writing
(:meth:`.connection.LedgerFile.open`); ``PRAGMA user_version`` counts those applied. The DDL is kept literal
and in the order it was first released: a ledger written by any earlier version upgrades by running the
scripts after its version, so none of them may ever change.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from typing import Callable

from ..digest import digest, digest_json
from ..findings import COLUMNS
from .site_schema import SERVE_TABLES
from ..submission import submission_from_dict

# The import statuses the ``imports`` table allows (its CHECK constraint).
STATUSES = ("received", "parsed", "failed")

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


# v4: digests move to their own table, in consolidation's own compact shape
# (:class:`~jixiao_xl.digest.Digest`, a tenth of the v3 size). A column added to ``imports`` lies behind
# ``submission_json`` in every row, so reading it walked the whole submission's overflow pages; a table of its
# own is read in kilobytes. The v3 column is left as it is (rewriting the rows would rewrite every submission)
# and is no longer read or written.
_V4 = """
CREATE TABLE digests (
    import_id   INTEGER PRIMARY KEY REFERENCES imports (id),
    digest_json TEXT NOT NULL
);
"""


def _v4_digest_table(db: sqlite3.Connection) -> None:
    """v4: create the digests table and fill it from the v3 digests (slimmed submissions). Imports without
    a v3 digest are digested from the full submission when read. A v3 digest has no department sheet, so its
    contact is left out (None): :meth:`.returns.Returns.contacts` reads it from the submission."""
    for statement in split_script(_V4):
        db.execute(statement)
    rows = db.execute("SELECT id, digest_json FROM imports WHERE digest_json IS NOT NULL ORDER BY id")
    while batch := rows.fetchmany(500):
        db.executemany("INSERT INTO digests (import_id, digest_json) VALUES (?, ?)",
                       [(import_id, digest_json(replace(digest(submission_from_dict(json.loads(text), False)),
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
# (:meth:`.runs.Runs.folder_has_run`), however many runs the year has had (the site makes one per upload).
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
