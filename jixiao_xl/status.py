"""Who has returned, who is outstanding, and how many problems are still open (``jixiao-xl status``).

Status joins three sources: the master (which units exist), the manifest written by ``generate`` (which
workbook was sent to each unit, with its sha256) and the ledger (the latest accepted return of each unit
and its findings). Each unit gets one of five states, in Chinese, as shown to users. Which return counts
and what state it gives are decided by :mod:`.counting` alone; the import report's 概览 calls
:func:`unit_status` too, so it always agrees with ``status``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Iterable, Mapping, Sequence

from .counting import AWAITING, NOT_SENT, RETURNED_ERRORS, RETURNED_OK, RETURNED_WARNINGS, STATES  # noqa: F401
from .counting import state_counts, unit_state
from .xlsx.sheetwriter import display_width
from .ledger import ImportRow, Ledger, display_time
from .ledger.reviews import review_states
from .findings import Finding
from .submission import Footer
from .model import Master


@dataclass(frozen=True)
class UnitStatus:
    """One unit's place in the cycle."""

    code: str
    name: str
    sent: bool
    sent_file: str
    sent_sha256: str
    returned: bool
    return_file: str
    received_at: str
    import_id: int | None
    returns: int
    errors: int
    warnings: int
    state: str
    in_master: bool = True
    review: str = ""  # 审核 of the counted return: 待审核, 通过 or 退回 (empty without a return)
    review_reason: str = ""
    # The person to call about the counted return: 填表人, 联系电话 and 填报日期 (ISO when it reads as a date,
    # else as typed), as the return gives them (Submission.contact); empty when not filled in.
    contact_name: str = ""
    contact_phone: str = ""
    filled_on: str = ""

    @property
    def contact(self) -> str:
        """填表人 and 联系电话 in one short text ("" when neither was filled in)."""
        return " ".join(part for part in (self.contact_name, self.contact_phone) if part)


def return_state(errors: int, warnings: int) -> str:
    """The state of a returned unit from the open findings of the return that counts."""
    return unit_state(True, True, errors, warnings)


def _manifest_by_unit(manifest_rows: Iterable[Mapping[str, str]]) -> dict[str, Mapping[str, str]]:
    """The manifest rows keyed by 单位编码 (the last row wins when a unit appears twice)."""
    return {str(row.get("单位编码", "")).strip(): row for row in manifest_rows if str(row.get("单位编码", "")).strip()}


_NO_FINDINGS = {"error": 0, "warning": 0, "info": 0}


def _one(code: str, name: str, sent_row: Mapping[str, str] | None, latest: ImportRow | None, returns: int,
         counts: Mapping[str, int], in_master: bool, contact: Footer | None) -> UnitStatus:
    contact = contact or Footer()
    sent = sent_row is not None and bool(str(sent_row.get("文件", "")).strip())
    return UnitStatus(
        code=code, name=name, sent=sent,
        sent_file=str(sent_row.get("文件", "")) if sent_row else "",
        sent_sha256=str(sent_row.get("sha256", "")) if sent_row else "",
        returned=latest is not None,
        return_file=latest.file_name if latest else "",
        received_at=latest.received_at if latest else "",
        import_id=latest.id if latest else None,
        returns=returns, errors=counts["error"], warnings=counts["warning"],
        state=unit_state(sent, latest is not None, counts["error"], counts["warning"]), in_master=in_master,
        contact_name=contact.filler, contact_phone=contact.phone, filled_on=contact.date or contact.date_raw)


def _issued_by_unit(ledger: Ledger) -> dict[str, Mapping[str, str]]:
    """What the ledger says was issued to each unit (generate records every workbook), as manifest rows."""
    return {code: {"单位编码": code, "文件": row.file_name, "sha256": row.sha256}
            for code, row in ledger.issued_latest().items()}


def unit_status(master: Master, ledger: Ledger, manifest_rows: Iterable[Mapping[str, str]]) -> list[UnitStatus]:
    """The status of every unit of the master, in master order, then any unit known only to the ledger.

    A unit was sent its form when the ledger recorded the workbook generate issued to it, or (workbooks issued
    before the ledger kept them) when the manifest lists it."""
    sent = {**_manifest_by_unit(manifest_rows), **_issued_by_unit(ledger)}
    latest = ledger.latest_by_unit()
    counts = ledger.return_counts()
    open_counts = ledger.accepted_open_counts()  # one query for every unit, not one per unit
    contacts = ledger.contacts(row.id for row in latest.values())

    def one(code: str, name: str, in_master: bool) -> UnitStatus:
        counted = latest.get(code)
        return _one(code, name, sent.get(code), counted, counts.get(code, 0),
                    open_counts.get(counted.id, _NO_FINDINGS) if counted else _NO_FINDINGS, in_master,
                    contacts.get(counted.id) if counted else None)

    rows = [one(u.code, u.name, True) for u in master.units]
    known = {u.code for u in master.units}
    rows += [one(code, latest[code].unit_name, False) for code in sorted(set(latest) - known)]
    return _with_reviews(rows, ledger)


def _with_reviews(rows: list[UnitStatus], ledger: Ledger) -> list[UnitStatus]:
    """The rows with the 审核 of each unit's counted return (the site's and ``jixiao-xl review``'s decisions)."""
    reviews = review_states(ledger, {row.code: row.import_id for row in rows})
    return [replace(row, review=reviews[row.code].state, review_reason=reviews[row.code].reason) for row in rows]


# ---------------------------------------------------------------------------------------------------------
# Rendering

_HEADERS = ("单位编码", "单位名称", "状态", "下发文件", "报送文件", "报送时间", "导入编号", "报送次数", "错误", "警告",
            "填表人及电话")


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (right-aligned when ``right``)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def _cells(row: UnitStatus) -> tuple[str, ...]:
    name = row.name if row.in_master else f"{row.name}（主数据中无此单位）"
    return (row.code, name, row.state, row.sent_file or "-", row.return_file or "-",
            display_time(row.received_at) if row.received_at else "-",
            str(row.import_id) if row.import_id is not None else "-",
            str(row.returns), str(row.errors), str(row.warnings), row.contact or "-")


def summary(rows: Sequence[UnitStatus]) -> dict[str, int]:
    """How many units are in each state (every state present, in :data:`STATES` order)."""
    return state_counts([row.state for row in rows])


def render_status_table(rows: Sequence[UnitStatus]) -> str:
    """A plain-text table of the statuses, columns aligned for Chinese text, with a summary line."""
    table = [_HEADERS, *(_cells(r) for r in rows)]
    widths = [max(display_width(line[i]) for line in table) for i in range(len(_HEADERS))]
    numeric = {_HEADERS.index(h) for h in ("导入编号", "报送次数", "错误", "警告")}
    lines = ["  ".join(pad(cell, widths[i], i in numeric) for i, cell in enumerate(line)).rstrip()
             for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts = summary(rows)
    lines.append("")
    lines.append(f"共 {len(rows)} 个单位：" + "，".join(f"{state} {n}" for state, n in counts.items()))
    decided = [row for row in rows if row.review and row.review != "待审核"]
    if decided:
        lines.append("审核：" + "；".join(f"{row.code} {row.review}" + (f"（{row.review_reason}）" if row.review_reason else "")
                                       for row in decided))
    return "\n".join(lines) + "\n"


def status_json(rows: Sequence[UnitStatus], findings: Sequence[Finding] = ()) -> dict:
    """The statuses as a JSON-ready document: ``{"units": [...], "summary": {state: count}, "total": n,
    "findings": [...]}`` (the ledger's own problems, :meth:`.Ledger.inconsistencies`, in the contract's columns)."""
    return {"units": [asdict(r) for r in rows], "summary": summary(rows), "total": len(rows),
            "findings": [finding.as_row() for finding in findings]}


def status_document(master: Master, ledger: Ledger, manifest_rows: Iterable[Mapping[str, str]]) -> dict:
    """What ``status --json`` prints and the site's ``/api/status`` answers: one function, so they agree."""
    return status_json(unit_status(master, ledger, manifest_rows), ledger.inconsistencies())
