"""Received files and import runs: the link from each import to its copy under 原件/, whether it was an issued
workbook returned unfilled, and every import run — what it read, where its outputs went, and whether its
reports were completed (a run left unreported is rebuilt by the next import or ``report``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

from .connection import LedgerFile
from .rows import SELECT_RUNS, RunFile, RunRow, run_row
from .times import now_iso


class Runs(LedgerFile):
    """The ``receipts``, ``runs`` and ``run_files`` tables."""

    def record_original(self, import_id: int, original: str) -> None:
        """Link an import to its copy under 原件/ (a path relative to that folder; "" when not copied)."""
        with self._transaction() as db:
            db.execute("INSERT INTO receipts (import_id, original) VALUES (?, ?)"
                       " ON CONFLICT (import_id) DO UPDATE SET original = excluded.original"
                       " WHERE excluded.original != ''", (import_id, original))

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
        values = self._db.execute(f"{SELECT_RUNS} WHERE id = ?", (run_id,)).fetchone()
        return run_row(values) if values else None

    def runs(self) -> list[RunRow]:
        """Every run, oldest first."""
        return [run_row(values) for values in self._db.execute(f"{SELECT_RUNS} ORDER BY id")]

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
