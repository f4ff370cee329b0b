"""What every part of reading a return shares: the P- codes, the per-file context, a located cell.

The P- codes are the reading findings (DESIGN §6); a file is never refused for them, they tell the unit what
the reader had to work around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from .. import taxonomy, values
from ..catalogue import define
from ..findings import Finding
from ..unbound import SheetRead
from ..workbook import WorkbookData, col_letter

P_NOT_FORM = define("P-NOT-FORM", "error", "不是下发的绩效目标表", "请使用主管部门下发的工作簿填写后报送，不要另建表格。", "本工具约定")
P_NO_META = define("P-NO-META", "info", "隐藏的 _meta 工作表已丢失", "已按单元格名称和表头文字定位，无需处理；如有疑问请使用下发的原文件填写。",
                   "本工具约定")
P_NAMES = define("P-NAMES-LOST", "info", "单元格名称已丢失", "已按表头文字和模板位置读取；请核对读取结果。", "本工具约定")
P_MOVED = define("P-MOVED", "info", "字段位置与下发时不同", "已按表头文字找到该字段，请确认没有误改表格结构。", "本工具约定")
P_ROWS = define("P-ROWS-CHANGED", "info", "指标区行数与下发时不同", "已读取表头与“填表人”之间的全部行；以后请使用预留的空白行，不要插入或删除行。",
                "本工具约定")
P_NUMBER = define("P-NUMBER", "error", "金额或数值不是数字", "请只填写数字（如 6.00），单位已在表头注明。", "本工具约定")
P_FORMULA = define("P-FORMULA", "warning", "填写单元格中是公式", "请直接填写数值或文字，不要填写公式。", "本工具约定")
P_FILLDOWN = define("P-FILLDOWN", "info", "一级/二级指标为空，已沿用上一行", "如属于其他一级/二级指标，请在该行选择正确的指标。", "本工具约定")
P_PROTECTION = define("P-PROTECTION-REMOVED", "warning", "工作表保护已被取消", "锁定的下发数据仍会逐项核对；请勿修改锁定内容。", "本工具约定")
P_SHEET = define("P-SHEET-RENAMED", "info", "工作表名称已改动", "已按单元格名称找到该项目，请勿改动工作表名称。", "本工具约定")
P_SEQ = define("P-DEPT-SEQ", "error", "部门整体指标未注明所属分项", "在“序号”列填写该指标所属分项绩效目标的序号。", "本工具约定")
P_UNIT = define("P-UNIT-UNKNOWN", "warning", "无法确定报送单位", "请使用下发的工作簿填写；文件中应有单位编码。", "本工具约定")
P_MEASURES = define("P-MEASURES", "info", "工作保障措施无法按序号分条", "每条措施单独一段，以 1、2、3 顺序编号（如“1、措施名称。措施内容”）。",
                    "本工具约定")
P_DATE = define("P-DATE", "info", "填报日期无法识别为日期", "填报日期请写成 2025-03-15 或 2025年3月15日 这样的日期。", "本工具约定")

# The same few 一级/二级 names and units recur in every grid row: fold each spelling once per process.
canonical_level1 = lru_cache(maxsize=4096)(taxonomy.canonical_level1)
canonical_level2 = lru_cache(maxsize=4096)(taxonomy.canonical_level2)
canonical_unit = lru_cache(maxsize=4096)(taxonomy.canonical_unit)
# … and the same few values (95.0, "≥", "%"). typed: True and 1 are equal keys but do not read the same.
split_value = lru_cache(maxsize=4096, typed=True)(values.split_indicator_value)

FOOTER_FIELDS = ("footer.filler", "footer.phone", "footer.date")
PROJECT_SCALARS = ("project.code", "project.name", "project.budget", "project.fiscal", "project.other",
                   "project.purpose", "project.annual_goal", "footer.filler", "footer.phone", "footer.date")
MONEY_FIELDS = {"budget", "fiscal", "other"}
DEPT_SHEET_NAME = "部门整体绩效目标"


@dataclass
class Context:
    """Per-file reading state shared by the locate helpers."""

    data: WorkbookData
    file: str
    sha256: str
    money_unit: str
    findings: list[Finding] = field(default_factory=list)
    sheets: list[SheetRead] = field(default_factory=list)  # what each form sheet gave, for unbound.other_content

    def add(self, rule, message: str, **where) -> None:
        """Record a finding of ``rule`` in this file (``where``: sheet, cell, field, value …)."""
        self.findings.append(Finding(rule.code, rule.severity, message, file=self.file, sha256=self.sha256, **where))


@dataclass(frozen=True)
class Spot:
    """A located cell (zero-based) and how it was found: name, meta, label or template."""

    row: int
    col: int
    found_by: str


# The Chinese name of a field, as findings show it.
FIELD_ZH = {"code": "项目编码", "name": "项目名称", "budget": "预算数", "fiscal": "财政资金", "other": "其他资金",
            "purpose": "预算规模及资金用途", "annual_goal": "年度绩效目标", "footer.filler": "填表人",
            "footer.phone": "联系电话", "footer.date": "填报日期"}


def note_formula(ctx: Context, sheet_name: str, spot: Spot, field_name: str) -> None:
    """P-FORMULA when the cell holds a formula (its computed value is what was read)."""
    if (spot.row, spot.col) in ctx.data.formulas(sheet_name):
        cell = col_letter(spot.col) + str(spot.row + 1)
        ctx.add(P_FORMULA, f"{cell} 填写的是公式，已按其计算结果读取；请直接填写数值或文字。", sheet=sheet_name, cell=cell,
                field=FIELD_ZH.get(field_name, field_name))
