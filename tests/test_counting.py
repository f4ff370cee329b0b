"""The one rule for which return counts and the one for a unit's state (jixiao_xl.counting)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from jixiao_xl.counting import (AWAITING, NOT_SENT, PASSED, RETURNED_ERRORS, RETURNED_OK, RETURNED_WARNINGS,
                                Candidate, counted_by_unit, counted_return, credible_saved_at, unit_state)


def test_the_latest_submission_counts_and_blanks_never_do():
    first, second = Candidate(1, "U1", "parsed"), Candidate(2, "U1", "parsed")
    blank = Candidate(3, "U1", "parsed", blank=True)
    failed = Candidate(4, "U1", "failed")
    assert counted_return([blank, second, failed, first]) == second
    assert counted_return([blank, failed]) is None
    assert counted_return([Candidate(5, "", "parsed")]) is None


def test_an_older_copy_does_not_displace_the_counted_return():
    newer = Candidate(1, "U1", "parsed", saved_at="2026-12-03T10:00:00Z")
    older = Candidate(2, "U1", "parsed", saved_at="2026-11-20T09:00:00Z")
    unknown = Candidate(3, "U1", "parsed")
    assert counted_return([newer, older]) == newer
    assert counted_return([newer, older, unknown]) == unknown


def test_an_older_copy_the_bureau_passed_counts():
    newer = Candidate(1, "U1", "parsed", saved_at="2026-12-03T10:00:00+00:00")
    older = Candidate(2, "U1", "parsed", saved_at="2026-11-20T09:00:00+00:00")
    assert counted_return([newer, older], {2: PASSED}) == older
    assert counted_return([newer, older], {1: PASSED}) == newer
    # Save times in other zones are compared as moments, not as text.
    east = Candidate(3, "U1", "parsed", saved_at="2026-12-03T17:30:00+08:00")  # 09:30 UTC: older than 10:00
    assert counted_return([newer, east]) == newer


ISSUED = datetime(2026, 11, 1, 8, 0, 0)  # naive: UTC, as the ledger's issued table holds it
RECEIVED = datetime(2026, 12, 5, 10, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("saved_at", "issued_at", "credible"), [
    ("2026-11-20T09:00:00+00:00", ISSUED, True),
    ("2026-11-01T08:00:00+00:00", ISSUED, False),   # the issued form's own time, kept by a program that saved it
    ("2026-11-01T15:59:59+08:00", ISSUED, False),   # before generation (07:59:59 UTC)
    ("2000-01-01T00:00:00+00:00", None, False),     # the fixed document time, nothing issued on record
    ("2026-11-20T09:00:00+00:00", None, True),
    ("2026-12-06T10:00:00+00:00", ISSUED, True),    # a day ahead of the clock: within tolerance
    ("2026-12-06T10:00:01+00:00", ISSUED, False),   # beyond it
    ("", ISSUED, False),
    ("not a time", ISSUED, False),
])
def test_a_save_time_is_believed_only_between_generation_and_tomorrow(saved_at, issued_at, credible):
    assert credible_saved_at(saved_at, issued_at, RECEIVED) == (saved_at if credible else "")


def test_a_passed_return_is_kept_until_a_later_one_is_passed():
    passed, later = Candidate(1, "U1", "parsed"), Candidate(2, "U1", "parsed")
    assert counted_return([passed, later], {1: PASSED}) == passed
    assert counted_return([passed, later], {1: PASSED, 2: PASSED}) == later


def test_counted_by_unit_and_states():
    candidates = [Candidate(1, "U1", "parsed"), Candidate(2, "U2", "parsed", blank=True), Candidate(3, "U1", "parsed")]
    assert counted_by_unit(candidates) == {"U1": candidates[2]}
    assert unit_state(False, False, 0, 0) == NOT_SENT
    assert unit_state(True, False, 3, 0) == AWAITING
    assert unit_state(True, True, 1, 5) == RETURNED_ERRORS
    assert unit_state(False, True, 0, 2) == RETURNED_WARNINGS
    assert unit_state(True, True, 0, 0) == RETURNED_OK
