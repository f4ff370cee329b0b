"""Reading imports back: one by id or sha256, a unit's history, the import that counts for each unit (decided
by :mod:`jixiao_xl.counting` alone: every "accepted" query goes through :meth:`ImportQueries.counted_ids`), the
findings and the submission stored with an import, and how many findings of each severity it has."""

from __future__ import annotations

import json

from ..counting import Candidate, counted_by_unit
from ..findings import COLUMNS, SEVERITIES, Finding
from ..submission import Submission, submission_from_dict
from .connection import LedgerError, LedgerFile
from .reviews import decisions_by_import
from .rows import SELECT_ROWS, ImportRow, import_row


class ImportQueries(LedgerFile):
    """The queries over ``imports`` and ``findings``."""

    def _get(self, import_id: int) -> ImportRow | None:
        """One import by id, or None."""
        values = self._db.execute(f"{SELECT_ROWS} WHERE id = ?", (import_id,)).fetchone()
        return import_row(values) if values else None

    def get(self, import_id: int) -> ImportRow | None:
        """One import by id, or None."""
        return self._get(import_id)

    def by_sha256(self, sha256: str) -> ImportRow | None:
        """The import of the file with this sha256, or None."""
        values = self._db.execute(f"{SELECT_ROWS} WHERE sha256 = ?", (sha256,)).fetchone()
        return import_row(values) if values else None

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
        of the counted imports. Every "accepted" query below goes through it.

        The answer is kept until the ledger changes (a write on this connection, or a commit by another one:
        ``total_changes`` and ``PRAGMA data_version``), so the several questions one view asks scan the
        imports once."""
        version = (self._db.total_changes, self._db.execute("PRAGMA data_version").fetchone()[0])
        kept = getattr(self, "_counted_cache", None)
        if kept is not None and kept[0] == version:
            return dict(kept[1])
        counted = counted_by_unit(self.candidates(), self.review_decisions())
        ids = {c.unit_code: c.import_id for c in sorted(counted.values(), key=lambda c: c.import_id)}
        self._counted_cache = (version, ids)
        return dict(ids)

    def review_decisions(self) -> dict[int, str]:
        """Import id → the bureau's last 审核 decision on it (通过 or 退回), which :func:`.counting.counted_return`
        weighs: a passed return keeps counting until a later one is passed too."""
        return decisions_by_import(self)

    def _counted_json(self) -> str:
        """The counted import ids as a JSON array, for ``id IN (SELECT value FROM json_each(?))``."""
        return json.dumps(sorted(self.counted_ids().values()))

    def latest_by_unit(self) -> dict[str, ImportRow]:
        """The import that counts (:meth:`counted_ids`) of every unit that has one."""
        rows = self._db.execute(f"{SELECT_ROWS} WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                                (self._counted_json(),))
        return {row.unit_code: row for row in map(import_row, rows)}

    def accepted_unit_codes(self) -> list[str]:
        """The units of :meth:`latest_by_unit`, in the same order, without reading the rows themselves.

        ``unit_name`` and ``completed_at`` lie behind ``submission_json`` in every row, so reading whole rows
        walks each stored submission's overflow pages; the code alone comes from the start of the row.
        """
        return list(self.counted_ids())

    def history(self, unit_code: str | None = None) -> list[ImportRow]:
        """Every import (any status), oldest first; only one unit's when ``unit_code`` is given."""
        if unit_code is None:
            rows = self._db.execute(f"{SELECT_ROWS} ORDER BY id")
        else:
            rows = self._db.execute(f"{SELECT_ROWS} WHERE unit_code = ? ORDER BY id", (unit_code,))
        return [import_row(r) for r in rows]

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
