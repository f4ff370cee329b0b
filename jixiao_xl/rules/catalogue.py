"""The domain review rules' catalogue (docs/domain.md §1d, R-S1 … R-F5): each rule's code, severity, title,
fix and the public document it rests on (or 本工具约定), registered with :mod:`jixiao_xl.catalogue`.

This is the one list of the R- rules: :class:`~jixiao_xl.rules.config.RuleConfig` checks rule codes
against it and takes a finding's default severity from it; the checks themselves live in the sibling
modules (grid, project, dept, funds).
"""

from __future__ import annotations

from .. import catalogue


_TOOL, _88, _101, _10 = catalogue.SOURCE_TOOL, catalogue.SOURCE_88, catalogue.SOURCE_101, catalogue.SOURCE_10
_QUANTIFIED = f"{_88}：绩效指标尽量定量表述，不能以量化形式表述的可以采用定性表述"
RULES: dict[str, catalogue.Rule] = {
    rule.code: rule
    for rule in (
        # Structure
        catalogue.define(
            "R-S1", "error", "一级指标不在指标体系中，或二级指标不属于其一级指标（名称变体按标准名称读取并提示）",
            "从下拉列表选择一级指标，再选择该一级指标下的二级指标（指标体系见主数据“设置”）",
            f"{_88}、{_101}：绩效指标体系的一级、二级指标名称"),
        catalogue.define(
            "R-S2", "error", "三级指标的名称、指标性质或指标值为空，或指标性质无法识别",
            "每行三级指标都要填写名称，从下拉列表选择指标性质（≥ ＞ ＝ ＜ ≤ 定性），再填写指标值",
            f"{_88}：绩效指标应细化、量化，每项指标有明确的指标值；逐项必填为{_TOOL}"),
        catalogue.define(
            "R-S3", "error", "某个一级指标下没有三级指标（缺少满意度指标时为警告）",
            "在指标体系的每个一级指标下至少填写一个三级指标；确无直接服务对象的项目可不设满意度指标",
            f"{_88}：绩效指标包括产出、效益和满意度指标（{_101} 另设成本指标）"),
        catalogue.define(
            "R-S4", "warning", "二级指标下没有填写三级指标（只有一级、二级的空行）",
            "在该行填写三级指标的名称、指标性质和指标值，或清空这一行", f"{_TOOL}：只有一级、二级而没有三级的行不构成指标"),
        catalogue.define(
            "R-S5", "warning", "三级指标名称与二级指标相同或只是指标类别名称，过于笼统",
            "三级指标写具体的考核内容，如“培训人次”“设备故障率”", f"{_88}：绩效目标应指向明确、细化量化；笼统名称的判断为{_TOOL}"),
        catalogue.define(
            "R-S6", "warning", "同一项目中三级指标名称重复", "合并重复的指标，或改成能够区分的名称", _TOOL),
        catalogue.define(
            "R-S7", "error",
            "年度绩效目标为空（仍是模板占位文字时为警告；表中没有项目期，多年项目的中期目标无法检查）",
            "写明本年度要完成的产出和达到的效果，如“完成……，实现……”", f"{_88}：项目须设定年度绩效目标（绩效目标申报表“年度目标”栏）"),
        # Value form
        catalogue.define(
            "R-V1", "error", "定量指标（≥ ＞ ＝ ＜ ≤）的指标值不是数值，或超过 3 位小数",
            "指标值只填数字（至多 3 位小数），符号选在指标性质列、单位选在度量单位列；无法量化的改选“定性”",
            f"{_QUANTIFIED}；至多 3 位小数为{_TOOL}"),
        catalogue.define(
            "R-V2", "error", "定量指标缺少度量单位（定性指标填了单位、或单位不在常用单位表中时为警告）",
            "定量指标从下拉列表选择度量单位；定性指标的度量单位留空", f"{_TOOL}：定量指标须有度量单位才能考核，定性指标不填单位"),
        catalogue.define(
            "R-V3", "error", "指标值是占位符（含 *、_、XX 等）", "把占位符换成实际的目标值", _TOOL),
        catalogue.define(
            "R-V4", "warning", "指标值中夹带了符号或单位，或与指标性质、度量单位列不一致",
            "指标值只填数字，符号选在指标性质列，单位选在度量单位列", _TOOL),
        catalogue.define(
            "R-V5", "warning", "指标值中的单位与度量单位不一致", "核对指标值和度量单位，改成一致", _TOOL),
        catalogue.define(
            "R-V6", "warning", "一个指标值中填写了多个目标", "每个目标单列一行三级指标", f"{_88}：绩效指标应细化；一个指标只填一个目标值为{_TOOL}"),
        catalogue.define(
            "R-V7", "warning", "定性指标过多，或满意度、数量、比率类指标用了定性",
            "能量化的指标改为定量：选择 ≥、≤ 等指标性质，填写数值和度量单位", _QUANTIFIED),
        # Value range / sign
        catalogue.define(
            "R-R1", "error", "百分比或比率类指标的指标值不在 0～100 之间",
            "百分比填写 0 到 100 之间的数（95 表示 95%）", _TOOL),
        catalogue.define(
            "R-R2", "warning", "满意度指标应使用“≥”、单位为 %、目标值一般在 80～100 之间",
            "满意度指标选择“≥”，度量单位选 %，目标值填 80～100，如 ≥90%", f"{_TOOL}：满意度指标是越高越好的百分比"),
        catalogue.define(
            "R-R3", "warning", "故障率、破损率、投诉率等负向指标应使用“≤”或“＜”",
            "负向指标（越低越好）选择“≤”，填写可接受的上限，如 ≤2%", f"{_TOOL}：故障率等负向指标越低越好"),
        catalogue.define(
            "R-R4", "warning", "数量指标使用了百分比单位（覆盖率类含义不清，也给出警告）",
            "数量指标填写实际数量，单位用个、台、人次等；比例类指标放到质量指标下", _TOOL),
        catalogue.define(
            "R-R5", "warning", "时效指标中的日期不在预算年度内（表中没有项目期，只按预算年度检查）",
            "把完成时间改在预算年度之内，如“12月底前”", f"{_88}：年度绩效目标是预算资金在一个预算年度内预期达到的产出和效果"),
        catalogue.define(
            "R-R6", "warning", "多个项目的效益指标完全相同或全部为“≥95%”，疑似套用模板（每份报表只提示一次）",
            "按每个项目的实际效果分别设置效益指标和目标值", f"{_88}：绩效目标应与项目内容相关、指向明确；套用模板的判断为{_TOOL}"),
        # Cost
        catalogue.define(
            "R-C1", "error", "成本指标高于项目预算数（元与万元换算后比较）",
            "成本指标不超过预算数，指标性质选“≤”", f"{_101}：成本指标按预算支出标准设定；不超过项目预算数为{_TOOL}"),
        catalogue.define(
            "R-C2", "warning", "成本指标应使用“≤”或“＜”（等于预算数时可用“＝”）",
            "成本指标的指标性质选“≤”", f"{_101}：成本指标按预算支出标准设定，是不应超出的上限"),
        catalogue.define(
            "R-C3", "warning", "成本指标的指标值确定依据应为“预算支出标准”或“计划标准”",
            "从下拉列表选择“预算支出标准”或“计划标准”，文件依据可写在绩效指标描述中",
            f"{_101}：成本指标的指标值依据预算支出标准设定"),
        catalogue.define(
            "R-C4", "warning", "社会成本、生态环境成本指标使用了“≥”或“＞”（这类指标一般为定性，2021 指标体系）",
            "社会成本、生态环境成本指标一般选“定性”，如“减少”，或用“≤”设上限", f"{_101}：成本指标分经济成本、社会成本、生态环境成本；“≥”的判断为{_TOOL}"),
        catalogue.define(
            "R-C5", "warning", "成本指标用百分比表示", "成本指标用金额（万元、元）或单位成本（元/人等）表示",
            f"{_TOOL}：成本以金额或单位成本表示"),
        # Weights
        catalogue.define(
            "R-W1", "error", "权重为空或不大于 0（仅在主数据设置了权重合计时检查）",
            "每个三级指标填写大于 0 的权重", f"{_10} 附件 项目支出绩效自评表（各项指标赋予权重）；权重大于 0 为{_TOOL}"),
        catalogue.define(
            "R-W2", "error",
            "二级/一级指标下的三级权重合计应等于上级设置数（不检查：本系统表格只在三级指标上填权重，没有上级权重可比）",
            "", f"{_TOOL}：上级指标的权重等于其下级指标权重之和"),
        catalogue.define(
            "R-W3", "error", "全部三级指标的权重合计不等于设置的权重合计（仅在设置了权重合计时检查）",
            "调整各三级指标的权重，使合计等于主数据“设置”中的权重合计", f"{_10} 附件 项目支出绩效自评表：预算执行率 10%，其余由绩效指标分配；合计以主数据“设置”的权重合计为准"),
        catalogue.define(
            "R-W4", "warning",
            "一级指标权重分配与常用比例不符（产出 50、效益 30、满意度 10；2021 体系成本 0～20、产出 40～50；"
            "仅在权重合计为 90 时检查）",
            "按常用比例调整一级指标下的权重合计", f"{_10} 附件 项目支出绩效自评表：一级指标权重原则上为产出 50%、效益 30%、服务对象满意度 10%（预算执行率 10%）"),
        # Direction
        catalogue.define(
            "R-D1", "error", "指标方向与指标性质不一致（不检查：本系统表格没有“指标方向”列，方向由指标性质决定）",
            "", f"{_TOOL}：≥、＞ 为正向指标，≤、＜ 为反向指标"),
        # Funds
        catalogue.define(
            "R-F1", "error", "预算数不等于财政资金与其他资金之和，或金额为空、为负",
            "核对预算数、财政资金和其他资金，使 财政资金 + 其他资金 = 预算数；资金由主管部门下发，如有出入请联系主管部门",
            f"{_88} 附件 项目支出绩效目标申报表：资金总额 = 财政拨款 + 其他资金"),
        catalogue.define(
            "R-F2", "error",
            "部门整体表的资金合计不等于各项目之和（表中没有按收入性质、支出性质的分项，只核对项目预算、财政资金、其他资金合计）",
            "部门整体表的合计由程序计算，请不要改动；如有出入请联系主管部门重新下发", f"{_88} 附件 部门（单位）整体支出绩效目标申报表：金额合计"),
        catalogue.define(
            "R-F3", "error", "预算数与主数据不一致（在与主数据核对时检查，见 X-TAMPER）", "", f"{_88}：绩效目标应与预算确定的资金量相匹配；与主数据核对为{_TOOL}"),
        catalogue.define(
            "R-F4", "error", "项目名称、项目编码与主数据不一致（在与主数据核对时检查，见 X-TAMPER）", "",
            _TOOL),
        catalogue.define(
            "R-F5", "error", "资金支出计划为空、为负、比上一节点少、超过预算数，或最后节点不等于预算数",
            "各节点填写截至该节点的累计支出金额，逐期不减少，最后一个节点等于预算数", f"{_TOOL}：按本地填报要求设有资金支出计划时检查"),
    )
}


def catalogue_rules() -> list[catalogue.Rule]:
    """The R- rules of docs/domain.md §1d, in the order of the spec."""
    return list(RULES.values())
