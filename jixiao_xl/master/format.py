"""The master's layout (DESIGN §3): its sheets, their columns, the header synonyms and the 设置 keys.

This is the one list of the master's column names: the reader maps headers onto it, the builder unpacks
rows in its order, the writer lays the blank master out from it, and the precheck and :mod:`jixiao_xl.issued`
locate model values at their master cells through :data:`MODEL_FIELDS`.
"""

from __future__ import annotations

from typing import Iterable

from ..errors import InputError
from .. import taxonomy
from ..model import DEFAULT_PLAN_NODES

SHEETS = ("设置", "单位", "项目", "绩效指标", "部门整体目标", "部门整体指标", "保障措施")
OPTIONAL_SHEETS = ("部门整体目标", "部门整体指标", "保障措施")
REQUIRED_SHEETS = tuple(s for s in SHEETS if s not in OPTIONAL_SHEETS)

PLAN_PREFIX = "支出计划-"
_PROJECT_BASE = ("单位编码", "项目编码", "项目名称", "预算数", "财政资金", "其他资金", "预算规模及资金用途", "年度绩效目标")


def plan_header(node: str) -> str:
    """The 项目 column title of one 支出计划节点 ('12月底' → '支出计划-12月底')."""
    return PLAN_PREFIX + node


def project_columns(nodes: Iterable[str] = DEFAULT_PLAN_NODES) -> tuple[str, ...]:
    """The 项目 headers for a given list of 支出计划节点."""
    return _PROJECT_BASE + tuple(plan_header(n) for n in nodes)


def columns_for(sheet: str, nodes: Iterable[str] = DEFAULT_PLAN_NODES) -> tuple[str, ...]:
    """The headers of ``sheet`` in order; the 项目 sheet depends on the 支出计划节点."""
    return project_columns(nodes) if sheet == "项目" else COLUMNS[sheet]


COLUMNS: dict[str, tuple[str, ...]] = {
    "设置": ("项目", "值"),
    "单位": ("单位编码", "单位名称", "主管部门编码", "联系人", "联系电话"),
    "项目": project_columns(),
    "绩效指标": ("项目编码", "一级指标", "二级指标", "三级指标", "绩效指标描述", "指标性质", "指标值", "度量单位",
             "指标值确定依据", "权重"),
    "部门整体目标": ("单位编码", "序号", "分项名称", "绩效目标"),
    "部门整体指标": ("单位编码", "序号", "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位",
               "指标值确定依据"),
    "保障措施": ("单位编码", "序号", "措施名称", "措施内容"),
}

# Columns whose absence makes the sheet unusable (the 项目 plan columns are added from 设置).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "设置": ("项目", "值"),
    "单位": ("单位编码", "单位名称"),
    "项目": ("单位编码", "项目编码", "项目名称", "预算数"),
    "绩效指标": ("项目编码", "一级指标", "二级指标", "三级指标", "指标性质", "指标值"),
    "部门整体目标": ("单位编码", "序号", "绩效目标"),
    "部门整体指标": ("单位编码", "序号", "一级指标", "二级指标", "三级指标", "指标性质", "指标值"),
    "保障措施": ("单位编码", "序号", "措施名称"),
}

SETTING_KEYS = ("预算年度", "金额单位", "指标体系", "支出计划节点", "权重合计", "备用指标行数", "主管部门名称")

# The model field (jixiao_xl.model) each column becomes, in the order of COLUMNS (the 项目 sheet's plan columns
# follow its fields); 项目编码 on 绩效指标 is the indicator's owner, not a field of Indicator.
MODEL_FIELDS: dict[str, tuple[str, ...]] = {
    "单位": ("code", "name", "parent_code", "contact", "phone"),
    "项目": ("unit_code", "code", "name", "budget", "fiscal", "other", "purpose", "annual_goal"),
    "绩效指标": ("project_code", "level1", "level2", "name", "description", "operator", "value", "unit", "basis",
             "weight"),
    "部门整体目标": ("unit_code", "seq", "name", "goal"),
    "部门整体指标": ("unit_code", "seq", "level1", "level2", "name", "operator", "value", "unit", "basis"),
    "保障措施": ("unit_code", "seq", "title", "text"),
}


def field_columns(sheet: str) -> dict[str, str]:
    """Model field → the master's column title on ``sheet`` ('budget' → '预算数' on 项目)."""
    return dict(zip(MODEL_FIELDS[sheet], COLUMNS[sheet]))

# Header variants seen in local forms → the master's header; applied only where the target belongs.
HEADER_SYNONYMS = {
    "项目代码": "项目编码", "项目编号": "项目编码",
    "单位代码": "单位编码", "单位编号": "单位编码", "预算单位编码": "单位编码", "预算单位代码": "单位编码",
    "预算单位": "单位名称", "预算单位名称": "单位名称",
    "主管部门代码": "主管部门编码", "主管部门编号": "主管部门编码",
    "联系方式": "联系电话", "电话": "联系电话",
    "资金总额": "预算数", "年度资金总额": "预算数", "预算金额": "预算数", "预算申报数": "预算数",
    "财政拨款": "财政资金", "其中:财政资金": "财政资金", "其中:财政拨款": "财政资金",
    "预算规模及用途": "预算规模及资金用途", "资金用途": "预算规模及资金用途",
    "年度目标": "年度绩效目标", "本年度绩效目标": "年度绩效目标", "绩效目标": "年度绩效目标",
    "指标名称": "三级指标",
    "指标描述": "绩效指标描述", "指标解释": "绩效指标描述", "指标说明": "绩效指标描述",
    "计算符号": "指标性质", "运算符号": "指标性质",
    "目标值": "指标值", "指标目标值": "指标值", "年度指标值": "指标值",
    "计量单位": "度量单位",
    "指标值设定依据": "指标值确定依据", "绩效标准": "指标值确定依据", "参考值确定依据": "指标值确定依据",
    "分值": "权重", "权重分值": "权重",
    "目标序号": "序号",
    "目标名称": "分项名称", "分项目标名称": "分项名称",
    "分项绩效目标": "绩效目标", "目标内容": "绩效目标",
}
SETTINGS_HEADER_SYNONYMS = {"设置项": "项目", "参数": "项目", "名称": "项目", "取值": "值", "设置值": "值", "内容": "值"}
SETTING_KEY_SYNONYMS = {
    "年度": "预算年度", "预算年份": "预算年度",
    "单位": "金额单位", "金额": "金额单位",
    "框架": "指标体系", "指标框架": "指标体系",
    "节点": "支出计划节点", "支出计划": "支出计划节点",
    "权重总分": "权重合计", "权重总计": "权重合计",
    "备用行数": "备用指标行数",
    "主管部门": "主管部门名称",
}
_PLAN_PREFIXES = ("资金支出计划", "支出计划")


class MasterError(InputError):
    """A master that cannot be loaded at all; ``str()`` is one Chinese sentence with the fix."""


def canonical_header(sheet: str, text: str) -> str:
    """The master's header for a header cell of ``sheet`` (synonyms mapped); other text comes back stripped."""
    key = taxonomy.compact(text)
    if not key:
        return ""
    if sheet == "项目":
        plan = _plan_header_of(key)
        if plan:
            return plan
    expected = COLUMNS[sheet]
    if key in expected:
        return key
    synonyms = SETTINGS_HEADER_SYNONYMS if sheet == "设置" else HEADER_SYNONYMS
    target = synonyms.get(key)
    return target if target in expected else text.strip()


def _plan_header_of(key: str) -> str:
    for prefix in _PLAN_PREFIXES:
        if key.startswith(prefix):
            node = key[len(prefix):].strip("-_:()（）—–")
            return plan_header(node) if node else ""
    return ""


def column_letter(index: int) -> str:
    """The spreadsheet letters of a 0-based column index (0 → 'A', 26 → 'AA')."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
