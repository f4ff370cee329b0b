"""审核: the bureau's decisions on returns (``jixiao-xl review``, the site's 审核), kept in ``serve_reviews``.

A decision is part of the year's one truth: :mod:`jixiao_xl.counting` weighs it when it picks the return that
counts (:meth:`.imports.ImportQueries.review_decisions`), and every view shows a unit's 审核 from
:func:`review_states`. The table is created by the site's migration (:mod:`.site_schema`); a ledger opened
read-only before that migration simply has no decisions.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..counting import PASSED, SENT_BACK
from .connection import LedgerFile
from .times import now_iso

PASS, RETURN = "pass", "return"
REVIEW_PENDING, REVIEW_PASSED, REVIEW_RETURNED = "待审核", PASSED, SENT_BACK
DECISION_NAMES = {PASS: REVIEW_PASSED, RETURN: REVIEW_RETURNED}


@dataclass(frozen=True)
class Review:
    """A unit's 审核 as it stands: ``state`` is 待审核, 通过 or 退回 (empty when there is nothing to review)."""

    state: str
    reason: str = ""
    reviewer: str = ""
    decided_at: str = ""
    import_id: int | None = None


class Reviews(LedgerFile):
    """The ``serve_reviews`` table."""

    def decide(self, unit_code: str, import_id: int, decision: str, reason: str, reviewer: str) -> None:
        """Record a 审核 decision on the unit's return ``import_id``."""
        if decision not in DECISION_NAMES:
            raise ValueError(f"decision must be pass or return, not {decision!r}")
        with self._transaction() as db:
            db.execute("INSERT INTO serve_reviews (unit_code, import_id, decision, reason, reviewer, decided_at)"
                       " VALUES (?, ?, ?, ?, ?, ?)", (unit_code, import_id, decision, reason, reviewer, now_iso()))

    def reviews(self, unit_code: str) -> list[tuple[int, str, str, str, str]]:
        """Every decision on the unit, newest first: (import_id, decision, reason, reviewer, decided_at)."""
        return list(self._db.execute("SELECT import_id, decision, reason, reviewer, decided_at FROM serve_reviews"
                                     " WHERE unit_code = ? ORDER BY id DESC", (unit_code,)))

    def review_of(self, unit_code: str, counted_import_id: int | None) -> Review:
        """The 审核 state of a unit whose counted return is ``counted_import_id`` (see :func:`review_states`)."""
        return review_states(self, {unit_code: counted_import_id})[unit_code]


def review_states(ledger: LedgerFile, counted: dict[str, int | None]) -> dict[str, Review]:
    """The one answer to "where is this unit's 审核", for many units at once (unit code → its counted import
    id), in one query: none without a counted return; 待审核 until the bureau decides on that very return (a
    new return after 退回 is pending again); else the last decision, its reason, who and when."""
    latest: dict[str, tuple] = {}
    rows = _rows_if_migrated(ledger, "SELECT unit_code, import_id, decision, reason, reviewer, decided_at"
                                     " FROM serve_reviews ORDER BY id")
    for unit_code, *decision in rows:
        latest[unit_code] = tuple(decision)
    states = {}
    for code, import_id in counted.items():
        found = latest.get(code)
        if import_id is None:
            states[code] = Review("")
        elif found is None or found[0] != import_id:
            states[code] = Review(REVIEW_PENDING, import_id=import_id)
        else:
            states[code] = Review(DECISION_NAMES[found[1]], found[2], found[3], found[4], import_id)
    return states


def decisions_by_import(ledger: LedgerFile) -> dict[int, str]:
    """Import id → the last 审核 decision on it, named as :mod:`jixiao_xl.counting` names them (通过, 退回)."""
    rows = _rows_if_migrated(ledger, "SELECT import_id, decision FROM serve_reviews ORDER BY id")
    return {int(import_id): DECISION_NAMES[decision] for import_id, decision in rows}


def _rows_if_migrated(ledger: LedgerFile, query: str) -> list[tuple]:
    """The rows of ``query`` on ``serve_reviews``; none when the ledger predates it (opened read-only)."""
    if not ledger.has_table("serve_reviews"):
        return []
    return ledger._db.execute(query).fetchall()  # noqa: SLF001 - a helper of the ledger's own mixin
