"""The X- codes of reconciliation, registered in the catalogue, and the findings made of them."""

from __future__ import annotations

from .. import catalogue
from ..findings import Finding
from ..model import Master
from ..submission import Location, Submission, locate
from .compare import code_text


_IDENTITY = catalogue.SOURCE_TOOL
_LOCKED = catalogue.SOURCE_TOOL  # issued values are locked by the tool; the units must not change them
_GOALS = f"{catalogue.SOURCE_88}：绩效目标确定后一般不予调整，确需调整的按预算调整流程报批"
NOTE_G3 = "（仅作提示：已批准的绩效目标一般不作调整，确需调整的按预算调整程序办理。）"


def _define(code: str, severity: str, title: str, fix: str, source: str, audience: str = "unit") -> catalogue.Rule:
    """Register one reconciliation rule in the catalogue."""
    return catalogue.define(code, severity, title, fix, source, audience)


RULES = {
    rule.code: rule
    for rule in (
        _define("X-UNIT-MISSING", "error", "表格中没有单位编码，无法确定是哪个单位的表",
                "使用主管部门下发的本单位表格填报，不要新建表格或把内容复制到其他表格中。", _IDENTITY),
        _define("X-UNIT-UNKNOWN", "error", "单位编码不在主数据中",
                "使用主管部门下发的本单位表格填报；如单位编码确有变化，请联系主管部门更新主数据。", _IDENTITY),
        # For the bureau: the return is read with the template it records when the ledger keeps it, so the
        # unit has nothing to correct; whether to re-issue the current form is the bureau's call.
        _define("X-VERSION", "warning", "报回表格的模板与下发给该单位的不一致",
                "与该单位确认是否填报了往年或其他批次的表格；如需要，把本批次下发给该单位的表格重新发给它。", _IDENTITY,
                audience="bureau"),
        _define("X-MASTER-CHANGED", "info", "下发表格后主数据已更新",
                "单位无需处理；核对以当前主数据为准，如下发值有差异，由主管部门确认是否重新下发表格。", _IDENTITY),
        _define("X-TAMPER", "error", "锁定的下发内容被修改",
                "把项目编码、项目名称、预算数、财政资金、其他资金或单位名称恢复为下发值；如需调整，请联系主管部门。",
                _LOCKED),
        _define("X-PROJECT-MISSING", "error", "缺少下发项目的工作表",
                "使用下发的表格，补回该项目的工作表后重新提交；不要删除工作表。", _LOCKED),
        _define("X-PROJECT-EXTRA", "error", "表格中有不属于本单位的项目",
                "删除该工作表；如需新增项目，请联系主管部门更新主数据后重新下发表格。", _LOCKED),
        _define("X-PROJECT-DUP", "error", "同一项目编码在一个文件中出现多次",
                "每个项目只保留一张工作表，删除重复的工作表。", _LOCKED),
        _define("X-IND-ADDED", "info", "新增了绩效指标",
                "无需处理；如属调整已批准的绩效目标，按预算调整程序办理。", _GOALS),
        _define("X-IND-REMOVED", "info", "删除了下发的预填绩效指标",
                "确认删除无误；如属调整已批准的绩效目标，按预算调整程序办理。", _GOALS),
        _define("X-IND-CHANGED", "info", "修改了下发的预填绩效指标",
                "确认修改无误；如属调整已批准的绩效目标，按预算调整程序办理。", _GOALS),
        _define("X-DEPT-MISSING", "error", "缺少部门整体绩效目标表",
                "使用下发的表格，补回“部门整体绩效目标”工作表并填写后重新提交；不要删除工作表。", _LOCKED),
        _define("X-DEPT-CHANGED", "info", "部门整体绩效目标与下发内容不同",
                "确认修改无误；如属调整已批准的绩效目标，按预算调整程序办理。", _GOALS),
        _define("X-DUP-UNIT", "warning", "同一单位在本批次中提交了多个不同的文件",
                "与该单位确认以哪个文件为准；台账以较新的导入为准，较旧的文件保留不删。", _IDENTITY),
        _define("X-DUP-PROJECT", "error", "同一项目出现在不同单位的文件中",
                "项目只能由主数据中所属的单位填报；从其他单位的文件中删除该项目。", _IDENTITY),
        _define("X-SAME-FILE", "info", "内容完全相同的文件以不同文件名重复提交",
                "无需处理，只按一份文件导入。", _IDENTITY),
        _define("X-UNIT-NO-RETURN", "warning", "单位尚未报送",
                "请催报该单位。", _IDENTITY),
    )
}


def make_finding(code: str, message: str, where: Location | None = None, **fields: str) -> Finding:
    """A finding of ``code`` with the catalogue's severity, located at ``where`` when known."""
    return Finding(rule=code, severity=RULES[code].severity, message=message, **locate(fields, where))


def finding_about(sub: Submission, code: str, message: str, where: Location | None = None, **fields: str) -> Finding:
    """A finding about one submission: file, sha256 and unit code come from ``sub``."""
    return make_finding(code, message, where, file=sub.file, sha256=sub.sha256, unit_code=code_text(sub.unit_code),
                        **fields)


def unit_label(master: Master, code: str) -> str:
    """'名称（编码 X）' for a unit of the master, or '编码 X' when it is not there."""
    unit = master.unit(code)
    return f"“{unit.name}”（编码 {code}）" if unit is not None else f"编码 {code}"
