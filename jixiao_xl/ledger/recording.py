"""Recording an import: its receipt before anything is parsed, then what was read, in one transaction.

An import is recorded in two steps, each its own transaction:

1. :meth:`Recording.record_received` writes the file's identity (sha256, name, size, kind) *before* anything
   is parsed, so even a file that crashes the reader leaves a trace (status ``received``);
2. :meth:`Recording.complete` fills in what was read — the submission as JSON and its consolidation
   :class:`~jixiao_xl.digest.Digest`, every finding, the status ``parsed`` or ``failed`` — and supersedes the
   unit's earlier accepted return, all in one transaction: the row's completion and its findings appear
   together or not at all.

:meth:`Recording.record` does both. Re-importing identical bytes is a no-op (``duplicate``); a row left at
``received`` by a crash is completed by the next import of the same file. Which return counts is
:mod:`jixiao_xl.counting`'s decision; the L-DUPLICATE, L-SUPERSEDED and L-OLDER notes tell the user what
happened.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Iterable

from .. import catalogue
from ..counting import Candidate, counted_return, credible_saved_at, displaces, is_older_copy
from ..digest import Encoded, encode
from ..findings import COLUMNS, Finding
from ..safety import display_name, raw_name
from ..submission import Submission
from .connection import LedgerError
from .imports import ImportQueries
from .rows import SELECT_ROWS, ImportRow, Received, RecordResult, import_row
from .times import as_iso, display_time, local_time, now_iso

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


class Recording(ImportQueries):
    """Writing imports: :meth:`record_received`, :meth:`complete` and both at once, :meth:`record`."""

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
                (sha256, Path(shown).name, shown, int(size), str(kind), as_iso(received_at), raw_name(path)))
            return Received(int(cursor.lastrowid), duplicate=False)

    def complete(self, import_id: int, sub: Submission, findings: Iterable[Finding], status: str,
                 encoded: Encoded | None = None, blank: bool = False) -> RecordResult:
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
        older = [import_row(r) for r in self._db.execute(f"{SELECT_ROWS} WHERE {accepted} ORDER BY id",
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

    def _mark_blank(self, import_id: int) -> None:
        self._db.execute("INSERT INTO receipts (import_id, blank) VALUES (?, 1)"
                         " ON CONFLICT (import_id) DO UPDATE SET blank = 1", (import_id,))


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



def _text(value: object) -> str:
    """A finding's field as the findings table stores it ("" for None)."""
    return "" if value is None else str(value)
