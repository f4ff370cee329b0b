"""Reconciliation: what the units returned, checked against the master their forms were issued from.

Three entry points:

- :func:`reconcile_submission` compares one return with the master: which unit it is, whether it was made
  from this batch's template and master, whether a locked (下发) value was changed (domain.md R-F3/R-F4),
  whether project sheets are missing, extra or duplicated, and — as information only — how the unit changed
  the pre-filled indicators and department goals (domain.md R-G3: approved goals are generally not adjusted).
- :func:`reconcile_batch` looks across all returns of a batch: the same unit twice, the same project in two
  units' files, identical files under two names, and (on request) the units that returned nothing.
- :func:`issued_view` gives the return with its locked values as issued, for the rules: an edited locked
  cell is one X-TAMPER here and nothing else there (DESIGN §10: issued values come from the master).

None of them raises on odd data: blank budgets, empty codes and projects without indicators are
compared as they are. Values in a :class:`~jixiao_xl.submission.Submission` are already in the master's
金额单位, so money is compared as exact Decimals.

Decisions worth knowing:

- Every code has one severity in the catalogue, so "the master changed since the form was issued" is its
  own info code, ``X-MASTER-CHANGED``, beside ``X-VERSION`` (warning, other template).
- An identity the return does not carry (empty template id, version or fingerprint) is not compared here;
  reading reports a lost ``_meta`` on its own.
- A unit that is missing or unknown stops the comparison: without the unit there is nothing to compare to.
- Indicator and department-goal changes are reported only where the master pre-filled something; when the
  master left a grid empty, filling it is the unit's job, not a change.

The rooms: :mod:`.codes` (the X- codes) and :mod:`.compare` (how values are shown and compared);
:mod:`.identity` (which unit, which template and master), :mod:`.matching` (which sheet is which project),
:mod:`.locked` (X-TAMPER and the issued view), :mod:`.filled` (the unit's changes to pre-filled indicators and
goals) for one return, put together by :func:`reconcile_submission`; :mod:`.batch` across the returns.
"""

from __future__ import annotations

from ..findings import Finding
from ..model import Master, Unit
from ..submission import Submission
from .batch import outstanding_findings, reconcile_batch, same_file_finding
from .codes import RULES
from .compare import same_money
from .filled import dept_findings, indicator_findings
from .identity import find_unit, identity_findings, unit_name_findings
from .locked import issued_view, one_finding_per_edit, tamper_findings
from .matching import ProjectPairing, match_projects, pair_projects, sheet_findings

__all__ = ["RULES", "ProjectPairing", "issued_view", "one_finding_per_edit", "outstanding_findings", "pair_projects",
           "reconcile_batch", "reconcile_submission", "same_file_finding", "same_money"]


def reconcile_submission(sub: Submission, master: Master,
                         expected_template: tuple[str, str] | None = None) -> list[Finding]:
    """Findings of one return against the master (identity, tampering, project sheets, indicator changes).

    ``expected_template`` is the (template id, version) this master's batch was issued with; when given, a
    return made from another template gets X-VERSION. A file that could not be read as one of our forms gets
    nothing here: its reading findings already say why.
    """
    if not sub.readable:
        return []
    findings = identity_findings(sub, master, expected_template)
    unit, unit_findings = find_unit(sub, master)
    findings += unit_findings
    if unit is None:
        return findings
    findings += unit_name_findings(sub, unit)
    findings += _project_findings(sub, master, unit)
    findings += dept_findings(sub, master, unit)
    return findings


def _project_findings(sub: Submission, master: Master, unit: Unit) -> list[Finding]:
    """Tampering, missing/extra/duplicate sheets and indicator changes for the unit's projects."""
    matching = match_projects(sub, master, unit)
    findings = []
    for rp, issued in matching.pairs:
        findings += tamper_findings(sub, rp, issued)
        findings += indicator_findings(sub, rp, issued)
    findings += sheet_findings(sub, master, unit, matching)
    return findings
