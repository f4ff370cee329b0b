"""The ledger's rows as Python sees them: an import, a run and the files it met, an issued workbook, a stored
template, and what recording an import answers; with the column lists their queries select."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Sequence

from ..digest import Digest
from ..findings import Finding


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


RUN_COLUMNS = ("id", "started_at", "finished_at", "reported_at", "paths_json", "out_dir", "host", "pid")
SELECT_RUNS = f"SELECT {', '.join(RUN_COLUMNS)} FROM runs"


def run_row(values: Sequence) -> RunRow:
    """A :class:`RunRow` from the values of :data:`RUN_COLUMNS` (paths the row cannot list become none)."""
    run_id, started, finished, reported, paths, out_dir, host, pid = values
    try:
        listed = tuple(str(p) for p in json.loads(paths))
    except (ValueError, TypeError):
        listed = ()
    return RunRow(run_id, started, finished, reported, listed, out_dir, host, int(pid or 0))


ROW_COLUMNS = ("id", "sha256", "file_name", "original_path", "size", "kind", "received_at", "unit_code",
               "unit_name", "template_version", "status", "superseded_by", "completed_at")
SELECT_ROWS = f"SELECT {', '.join(ROW_COLUMNS)} FROM imports"


def import_row(values: Sequence) -> ImportRow:
    """An :class:`ImportRow` from the values of :data:`ROW_COLUMNS`."""
    return ImportRow(*values)


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


ISSUED_COLUMNS = tuple(name for name in IssuedRow.__dataclass_fields__)
SELECT_ISSUED = f"SELECT {', '.join(ISSUED_COLUMNS)} FROM issued"


def issued_row(values: Sequence) -> IssuedRow:
    """An :class:`IssuedRow` from the values of :data:`ISSUED_COLUMNS` (``forced`` stored as 0/1)."""
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
