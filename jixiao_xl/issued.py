"""What the bureau issues and the forms lock, apart from what the units fill: the one place that says which.

A generated form locks the unit's identity and, on every project sheet, the project's 项目编码, 项目名称,
预算数, 财政资金 and 其他资金 (DESIGN §5); everything else — purpose, annual goal, spending plan, indicators,
department goals — is the unit's to fill, even where the master pre-fills it. Three stages depend on that
split and read it from here:

- ``generate`` refuses to issue a master whose issued data has errors (:func:`is_issued_data` on the
  master check's findings), while findings in what the units fill are only summarised;
- the rules run on a return with its locked values taken from the master (:func:`issued_project`), so an
  edited budget is one X-TAMPER and never an R-F1/R-F5 telling the unit to change its plan;
- consolidation sums the master's figures for the locked fields and the return's for the rest.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from .findings import Finding
from .master.format import field_columns
from .model import Project

_UNIT_COLUMNS, _PROJECT_COLUMNS = field_columns("单位"), field_columns("项目")
# The locked fields of a project sheet: model field → the Chinese name (the master's 项目 column).
LOCKED_PROJECT_FIELDS: Mapping[str, str] = {
    name: _PROJECT_COLUMNS[name] for name in ("code", "name", "budget", "fiscal", "other")
}
LOCKED_TEXT_FIELDS = ("code", "name")
LOCKED_MONEY_FIELDS = ("budget", "fiscal", "other")
# The department sheet's totals (locked formulas over the project sheets): location path → project field.
LOCKED_DEPT_TOTALS = (("unit.budget", "budget"), ("unit.fiscal", "fiscal"), ("unit.other", "other"))

# The master's cells that end up locked in the forms, by sheet; None: the whole sheet (设置 fixes the year,
# money unit, framework and plan nodes every form is built with).
ISSUED_MASTER_COLUMNS: Mapping[str, frozenset[str] | None] = {
    "设置": None,
    "单位": frozenset({_UNIT_COLUMNS["code"], _UNIT_COLUMNS["name"]}),
    "项目": frozenset({_PROJECT_COLUMNS["unit_code"], *LOCKED_PROJECT_FIELDS.values()}),
}


# The fund split a master may leave blank (older masters did; the 说明 sheet now asks for 0): a blank one locks
# nothing, so a finding at it (R-F1: neither is filled in) is reported but does not stop the forms.
OPTIONAL_ISSUED_FIELDS = frozenset({_PROJECT_COLUMNS["fiscal"], _PROJECT_COLUMNS["other"]})


def is_issued_data(finding: Finding) -> bool:
    """True when a master finding concerns what the forms lock (the bureau's own data), False when it
    concerns what the units will fill. A finding placed on no sheet (an unreadable master) counts as
    issued: nothing can be issued from it."""
    if not finding.sheet:
        return True
    if finding.sheet not in ISSUED_MASTER_COLUMNS:
        return False
    if finding.field in OPTIONAL_ISSUED_FIELDS and not finding.value:
        return False
    columns = ISSUED_MASTER_COLUMNS[finding.sheet]
    return columns is None or not finding.field or finding.field in columns


def issued_project(returned: Project, issued: Project) -> Project:
    """The returned project with its locked fields as issued (the master's), the unit's entries kept."""
    return replace(returned, unit_code=issued.unit_code, **{name: getattr(issued, name) for name in LOCKED_PROJECT_FIELDS})

