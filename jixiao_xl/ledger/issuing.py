"""Issued workbooks and the templates they were made from: every workbook generate writes (one row per unit
and run, never deleted) and the bytes of every template used, content-addressed by their sha256, so a return
is read and sent back with the template its unit got even after the template file moved or changed."""

from __future__ import annotations

from .connection import LedgerFile
from .rows import ISSUED_COLUMNS, SELECT_ISSUED, IssuedRow, TemplateBlob, issued_row
from .times import now_iso


class Issuing(LedgerFile):
    """The ``issued`` and ``template_blobs`` tables (absent from a ledger opened read-only before an import
    upgraded it: then nothing was issued)."""

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
        columns = [name for name in ISSUED_COLUMNS if name != "id"]
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
            f"{SELECT_ISSUED} WHERE id IN (SELECT max(id) FROM issued GROUP BY unit_code) ORDER BY id")
        return {row.unit_code: row for row in map(issued_row, rows)}

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
        values = self._db.execute(f"{SELECT_ISSUED} WHERE sha256 = ? ORDER BY id DESC LIMIT 1", (sha256,)).fetchone()
        return issued_row(values) if values else None

    # -- queries --------------------------------------------------------------------------------------
