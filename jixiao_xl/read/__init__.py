"""Read a returned workbook into a :class:`~jixiao_xl.submission.Submission` (DESIGN §6).

Every field is located by, in order: its ``JX_`` defined name, the ``_meta`` field map, a label anchor
(the cell right of 项目编码, the row of 支出计划节点, the indicator header and the 填表人 footer), and finally
the template's own coordinates. Each value keeps its raw text, its cell and how it was found. The
indicator grid is read from its header row to its footer, whatever its length. Problems in reading
become findings with P- codes; nothing here raises for a bad file.

The rooms, in the order a file goes through them:

* :mod:`.book` — the whole file: intake, isolation, identity and ``_meta`` (parsed by :mod:`jixiao_xl.meta`),
  which sheets are project sheets;
* :mod:`.locate` — one field's cell: name, ``_meta``, label, template;
* :mod:`.project` and :mod:`.dept` — the two forms, both reading their indicators through :mod:`.grid`;
* :mod:`.context` — the P- codes and the per-file state they share;
* :mod:`.summary` — the ``read`` command's JSON.
"""

from ..meta import Meta
from .book import (default_specs, read_file, read_intake, read_meta, read_workbook, recorded_templates, replace_unit,
                   unreadable)
from .context import (DEPT_SHEET_NAME, FOOTER_FIELDS, MONEY_FIELDS, P_DATE, P_FILLDOWN, P_FORMULA, P_MEASURES, P_MOVED,
                      P_NAMES, P_NO_META, P_NOT_FORM, P_NUMBER, P_PROTECTION, P_ROWS, P_SEQ, P_SHEET, P_UNIT,
                      PROJECT_SCALARS)
from .summary import submission_report

__all__ = [
    "DEPT_SHEET_NAME", "FOOTER_FIELDS", "MONEY_FIELDS", "Meta", "P_DATE", "P_FILLDOWN", "P_FORMULA", "P_MEASURES",
    "P_MOVED", "P_NAMES", "P_NO_META", "P_NOT_FORM", "P_NUMBER", "P_PROTECTION", "P_ROWS", "P_SEQ", "P_SHEET", "P_UNIT",
    "PROJECT_SCALARS", "default_specs", "read_file", "read_intake", "read_meta", "read_workbook", "recorded_templates",
    "replace_unit", "submission_report", "unreadable",
]
