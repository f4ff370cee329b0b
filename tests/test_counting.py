"""The one rule for which return counts and the one for a unit's state (jixiao_xl.counting)."""

from __future__ import annotations

from jixiao_xl.counting import (AWAITING, NOT_SENT, PASSED, RETURNED_ERRORS, RETURNED_OK, RETURNED_WARNINGS,
                                Candidate, counted_by_unit, counted_return, unit_state)


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
