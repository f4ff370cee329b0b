"""Which return counts for a unit, and what state a unit is in: one rule each, for every view of the year.

``status``, the import report's 概览, ``consolidate`` and 退回修改 all ask these two functions, so they never
disagree (DESIGN §10). The ledger supplies one :class:`Candidate` per import of a unit, in import order;
:func:`counted_return` picks the one that counts and :func:`unit_state` names the unit's state from it.

A candidate counts only when it is a submission at all: read (``parsed``), naming its unit, and not an
issued workbook returned unfilled (``blank``). Among those the latest import counts, except that a file
whose own save time is known and older than the counted one's does not displace it (an older copy of the
form turning up later: a resent old mail, an earlier draft saved under another name). A save time is
known only when it is credible (:func:`credible_saved_at`, judged once, when the import is recorded).
``decisions`` is where a bureau's review (审核) plugs in: a return the bureau has passed (通过) is not
displaced by a later file until that file is itself passed, a later file the bureau passed counts even
when it was saved earlier, and a return the bureau sent back (退回) stays the counted one — the unit's
state says it was sent back — until the unit returns again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Mapping, Sequence

from .safety import FIXED_DOCUMENT_TIME

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


# How far in the future a file's save time may lie and still be believed (clocks and time zones disagree).
FUTURE_TOLERANCE = timedelta(days=1)


def credible_saved_at(saved_at: str, issued_at: datetime | None, received_at: datetime) -> str:
    """``saved_at`` (ISO 8601 with its zone) when a return's own save time can be believed, else "" (unknown:
    import order decides).

    Believed only when it is later than the generation time of the workbook issued to the unit
    (``issued_at``, UTC when naive; the forms are written with that time and a program that does not update
    it on saving keeps it) and at most :data:`FUTURE_TOLERANCE` after the file was received. With no issued
    workbook on record, the fixed document time of generated files (:data:`.safety.FIXED_DOCUMENT_TIME`)
    and anything before it is not believed either.
    """
    saved = _moment(saved_at)
    floor = _aware(issued_at if issued_at is not None else FIXED_DOCUMENT_TIME)
    if saved is None or saved <= floor or saved > _aware(received_at) + FUTURE_TOLERANCE:
        return ""
    return saved_at


def _aware(moment: datetime) -> datetime:
    """``moment`` with its zone; a naive one is taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _moment(iso: str) -> datetime | None:
    """An ISO 8601 time as an aware datetime (naive means UTC), or None when it is not one."""
    try:
        return _aware(datetime.fromisoformat(iso[:-1] + "+00:00" if iso.endswith("Z") else iso))
    except ValueError:
        return None


def is_older_copy(newer: Candidate, counted: Candidate) -> bool:
    """True when both save times are known and ``newer`` (imported later) was saved before ``counted``."""
    newer_saved, counted_saved = _moment(newer.saved_at), _moment(counted.saved_at)
    return newer_saved is not None and counted_saved is not None and newer_saved < counted_saved


def displaces(newer: Candidate, counted: Candidate, decisions: Mapping[int, str]) -> bool:
    """True when ``newer`` (imported after ``counted``) takes its place as the unit's return."""
    if decisions.get(newer.import_id) == PASSED:
        return True  # the bureau checked this very file and said it counts, whenever it was saved
    if decisions.get(counted.import_id) == PASSED:
        return False
    return not is_older_copy(newer, counted)  # a resent old mail changes nothing


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
