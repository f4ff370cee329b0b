"""The domain review rules of docs/domain.md §1d (R-S1 … R-F5), run on what a unit returned and, through
:mod:`jixiao_xl.precheck`, on the master itself.

Public API:

* :class:`RuleConfig` — what the rules need to know about the batch (framework, money unit, year, plan
  nodes, weight total), built from the master's :class:`~jixiao_xl.model.Settings` plus an optional
  ``rules.toml`` that switches rules off and changes severities;
* :func:`check_project` — one project sheet (:class:`~jixiao_xl.submission.ReturnedProject`);
* :func:`check_dept` — the 部门整体绩效目标 sheet (:class:`~jixiao_xl.submission.ReturnedDept`);
* :func:`check_submission` — both, plus the cross-project boilerplate check R-R6, attributed to the file;
* :func:`catalogue_rules` — the R- rules as registered in :mod:`jixiao_xl.catalogue`.

Each finding carries the rule code, a Chinese message that names the value, says what is wrong and how
to fix it, and the sheet/cell where the value was read (``submission.locate``).

Severity: a finding takes its rule's catalogue severity, except for the lighter variants the spec names
(R-S3 for a missing 满意度指标, R-S7 for a placeholder goal, R-V2 for 定性 with a unit or an unlisted
unit, R-R4 for 覆盖率). A ``rules.toml`` override replaces the severity of every finding of that rule;
informational notes (info, e.g. R-S1 "名称已按标准读作…") always stay info.

Rules that cannot apply to the data our forms hold are registered with a title that says so and never
emit a finding: R-W2 (no 二级/一级 weights to compare with), R-D1 (no 指标方向 column), R-F3/R-F4 (checked
against the master during reconciliation, X-TAMPER). R-R5 checks only the budget year (no 项目期), R-F2
only the department sheet's totals against the projects (no 收入性质/支出性质 split).

The package's rooms: :mod:`.catalogue` (the rules as data: code, severity, title, fix, source),
:mod:`.config` (:class:`RuleConfig` and the ``rules.toml`` it reads), :mod:`.context` (where a finding
goes), :mod:`.rows` (an indicator row and what it measures), :mod:`.grid` (the rules of one indicator row),
:mod:`.project` (the rules of a project sheet, and R-R6), :mod:`.dept` (the department sheet) and
:mod:`.funds` (R-F1 and R-F5: the Python judgement, and the live formulas and hints of the generated form).
"""

from __future__ import annotations

from dataclasses import replace

from ..findings import Finding
from ..submission import Submission
from .catalogue import catalogue_rules
from .config import FROM_MASTER, FROM_RETURN, RuleConfig, enabled_only, toml_error_position
from .context import cell_span
from .dept import check_dept
from .project import check_boilerplate, check_project, project_rows, run_project_checks

__all__ = [
    "FROM_MASTER", "FROM_RETURN", "RuleConfig", "catalogue_rules", "cell_span", "check_dept", "check_project",
    "check_submission", "toml_error_position",
]


def check_submission(sub: Submission, config: RuleConfig) -> list[Finding]:
    """All R- findings of one returned file: every project, the department sheet and R-R6 across projects.

    Each finding is attributed to the file (``file``, ``sha256``) and to ``sub.unit_code`` when known.
    On an import, ``sub`` is :func:`jixiao_xl.reconcile.issued_view` of the return: the rules that compare
    with the budget see the issued 预算数/财政资金/其他资金, and an edited locked cell is left to X-TAMPER.
    """
    rows_of = [project_rows(rp) for rp in sub.projects]
    findings = [f for rp, rows in zip(sub.projects, rows_of) for f in run_project_checks(rp, config, rows)]
    if sub.dept is not None:
        findings.extend(check_dept(sub.dept, sub.projects, config))
    findings.extend(enabled_only(check_boilerplate(sub.projects, config, rows_of), config))
    return [replace(f, file=sub.file, sha256=sub.sha256, unit_code=sub.unit_code or f.unit_code) for f in findings]
