"""What the pages show, read from the ledger by the same functions the CLI uses (``status.unit_status``,
``status.status_json``), so the site and ``jixiao-xl status`` agree by construction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .. import catalogue
from ..counting import is_submission
from ..findings import COLUMNS, Finding
from ..generate import read_manifest
from ..ledger import display_time
from ..model import Master
from ..status import UnitStatus, status_document, unit_status
from ..workspace import Workspace
from ..ledger.reviews import Review
from .store import Store

SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}


def statuses(workspace: Workspace, master: Master) -> list[UnitStatus]:
    """Every unit's status, exactly as ``jixiao-xl status`` computes it."""
    with Store.connect(workspace.ledger) as ledger:
        return unit_status(master, ledger, read_manifest(workspace.manifest))


def status_document_of(workspace: Workspace, master: Master) -> dict:
    """The document ``jixiao-xl status --json`` prints (:func:`.status.status_document`)."""
    with Store.connect(workspace.ledger) as ledger:
        return status_document(master, ledger, read_manifest(workspace.manifest))


def status_of(workspace: Workspace, master: Master, unit_code: str) -> UnitStatus | None:
    """One unit's status (None for a unit neither the master nor the ledger knows)."""
    return next((row for row in statuses(workspace, master) if row.code == unit_code), None)


def for_unit(findings: Iterable[Finding]) -> list[Finding]:
    """The findings a unit may see: those meant for the bureau only are left out (as in 退回修改)."""
    return [f for f in findings if not catalogue.for_bureau_only(f.rule)]


def finding_row(finding: Finding) -> dict[str, str]:
    """A finding in the contract's columns (DESIGN §7), as JSON answers give it."""
    return {name: "" if getattr(finding, name) is None else str(getattr(finding, name)) for name in COLUMNS}


@dataclass(frozen=True)
class CellGroup:
    """The findings of one cell."""

    cell: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class SheetGroup:
    """The findings of one sheet, cell by cell (findings about no cell first)."""

    sheet: str
    cells: tuple[CellGroup, ...]


def grouped(findings: Sequence[Finding]) -> list[SheetGroup]:
    """Findings grouped by sheet and cell, in the order the report sorts them."""
    from ..report import sort_findings

    sheets: dict[str, dict[str, list[Finding]]] = {}
    for finding in sort_findings(findings):
        sheets.setdefault(finding.sheet or "", {}).setdefault(finding.cell or "", []).append(finding)
    return [SheetGroup(sheet, tuple(CellGroup(cell, tuple(items)) for cell, items in cells.items()))
            for sheet, cells in sheets.items()]


@dataclass(frozen=True)
class UnitView:
    """Everything a unit's page shows."""

    code: str
    name: str
    status: UnitStatus | None
    review: Review
    deadline: str
    issued_file: str
    counted: list[SheetGroup]
    uploads: list
    history: list
    reviewable: tuple[int, ...] = ()


def unit_state(workspace: Workspace, master: Master, unit_code: str) -> tuple[UnitStatus | None, Review]:
    """A unit's status (as ``status`` has it) and the 审核 of its counted return: all a JSON answer shows."""
    status = status_of(workspace, master, unit_code)
    with Store.connect(workspace.ledger) as store:
        return status, store.review_of(unit_code, status.import_id if status else None)


def unit_view(workspace: Workspace, master: Master, unit_code: str, bureau: bool = False) -> UnitView:
    """A unit's page: its state, 审核, deadline, issued form, uploads and the findings of its counted return."""
    status, review = unit_state(workspace, master, unit_code)
    with Store.connect(workspace.ledger) as store:
        issued = store.issued_latest().get(unit_code)
        counted_findings = store.findings_of(status.import_id) if status and status.import_id else []
        history = store.history(unit_code) if bureau else []
        reviewable = reviewable_returns(store, unit_code) if bureau else ()
        uploads = store.uploads(unit_code)
    shown = counted_findings if bureau else for_unit(counted_findings)
    # A refused upload is nobody's return, but the bureau sees it under the unit whose link sent it.
    name = status.name if status else (master.unit(unit_code).name if _known(master, unit_code) else "")
    return UnitView(unit_code, name, status, review, workspace.deadline, issued.file_name if issued else "",
                    grouped(shown), uploads, history, reviewable)


def reviewable_returns(store: Store, unit_code: str) -> tuple[int, ...]:
    """The import ids of the unit's returns a 审核 may decide on (its submissions, see
    :func:`..counting.is_submission`), newest first: ``jixiao-xl review --import N`` on the site."""
    return tuple(sorted((c.import_id for c in store.candidates(unit_code) if is_submission(c)), reverse=True))


def _known(master: Master, unit_code: str) -> bool:
    return any(unit.code == unit_code for unit in master.units)


def issued_path(workspace: Workspace, unit_code: str) -> Path | None:
    """The workbook last issued to the unit, when it is still in 下发/."""
    with Store.connect(workspace.ledger) as ledger:
        issued = ledger.issued_latest().get(unit_code)
    if issued is None:
        return None
    path = Path(issued.file_path)
    return path if path.is_file() else None


def when(iso: str | None) -> str:
    return display_time(iso) if iso else "-"
