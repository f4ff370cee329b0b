"""Which return counts for a unit, and what state a unit is in: one rule each, for every view of the year.

``status``, the import report's 概览, ``consolidate`` and 退回修改 all ask these two functions, so they never
disagree (DESIGN §10). The ledger supplies one :class:`Candidate` per import of a unit, in import order;
:func:`counted_return` picks the one that counts and :func:`unit_state` names the unit's state from it.

A candidate counts only when it is a submission at all: read (``parsed``), naming its unit, and not an
issued workbook returned unfilled (``blank``). Among those the latest import counts, except that a file
whose own save time is known and older than the counted one's does not displace it. ``decisions`` is
where a bureau's review (审核) plugs in: a return the bureau has passed (通过) is not displaced by a later
file until that file is itself passed, and a return the bureau sent back (退回) stays the counted one —
the unit's state says it was sent back — until the unit returns again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

NOT_SENT = "未下发"
AWAITING = "待报送"
RETURNED_ERRORS = "已报送有错误"
RETURNED_WARNINGS = "已报送有警告"
RETURNED_OK = "已报送通过"
STATES = (NOT_SENT, AWAITING, RETURNED_ERRORS, RETURNED_WARNINGS, RETURNED_OK)

PASSED = "通过"
SENT_BACK = "退回"


@dataclass(frozen=True)
class Candidate:
    """What the rule needs to know of one import: its id (import order), unit, ledger status, whether it is
    an issued workbook returned unfilled, and the file's own save time (ISO text, "" when unknown)."""

    import_id: int
    unit_code: str
    status: str
    blank: bool = False
    saved_at: str = ""


def is_submission(candidate: Candidate) -> bool:
    """True when the import is a return at all: read, naming its unit, and not an unfilled issued workbook."""
    return candidate.status == "parsed" and bool(candidate.unit_code) and not candidate.blank


def displaces(newer: Candidate, counted: Candidate, decisions: Mapping[int, str]) -> bool:
    """True when ``newer`` (imported after ``counted``) takes its place as the unit's return."""
    if decisions.get(counted.import_id) == PASSED and decisions.get(newer.import_id) != PASSED:
        return False
    if newer.saved_at and counted.saved_at and newer.saved_at < counted.saved_at:
        return False  # an older copy of the form turning up later (a resent old mail) changes nothing
    return True


def counted_return(candidates: Iterable[Candidate], decisions: Mapping[int, str] | None = None) -> Candidate | None:
    """The import that counts among one unit's imports (any order; None when the unit has no return)."""
    decisions = decisions or {}
    counted = None
    for candidate in sorted(candidates, key=lambda c: c.import_id):
        if is_submission(candidate) and (counted is None or displaces(candidate, counted, decisions)):
            counted = candidate
    return counted


def counted_by_unit(candidates: Iterable[Candidate],
                    decisions: Mapping[int, str] | None = None) -> dict[str, Candidate]:
    """:func:`counted_return` of every unit that has one, in the order of each unit's first import."""
    by_unit: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.unit_code:
            by_unit.setdefault(candidate.unit_code, []).append(candidate)
    counted = {code: counted_return(mine, decisions) for code, mine in by_unit.items()}
    return {code: found for code, found in counted.items() if found is not None}


def unit_state(sent: bool, returned: bool, errors: int, warnings: int) -> str:
    """The state of a unit: whether its form was issued, whether a return counts, and that return's open
    errors and warnings."""
    if returned:
        if errors:
            return RETURNED_ERRORS
        if warnings:
            return RETURNED_WARNINGS
        return RETURNED_OK
    return AWAITING if sent else NOT_SENT


def state_counts(states: Sequence[str]) -> dict[str, int]:
    """How many units are in each state (every state present, in :data:`STATES` order)."""
    counts = {state: 0 for state in STATES}
    for state in states:
        counts[state] += 1
    return counts
