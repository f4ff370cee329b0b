"""The domain's closed lists: indicator frameworks, operators, units, value bases and name variants.

Sources are in docs/domain.md §1b–§1c. Everything here is data plus small lookups; nothing reads files.
"""

from __future__ import annotations

import re
import unicodedata

# 一级 → 二级, per framework (domain.md §1b).
FRAMEWORKS: dict[str, dict[str, tuple[str, ...]]] = {
    "2015": {
        "产出指标": ("数量指标", "质量指标", "时效指标", "成本指标"),
        "效益指标": ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"),
        "满意度指标": ("服务对象满意度指标",),
    },
    "2021": {
        "成本指标": ("经济成本指标", "社会成本指标", "生态环境成本指标"),
        "产出指标": ("数量指标", "质量指标", "时效指标"),
        "效益指标": ("经济效益指标", "社会效益指标", "生态效益指标"),
        "满意度指标": ("服务对象满意度指标",),
    },
}
FRAMEWORK_NAMES = {"2015": "财预〔2015〕88号框架（成本在产出之下）", "2021": "财预〔2021〕101号框架（成本为一级指标）"}

# 指标性质, in the order of the MoF dictionary (1 ≥, 2 ＞, 3 ＝, 4 ＜, 5 ≤, 6 定性).
OPERATORS = ("≥", "＞", "＝", "＜", "≤", "定性")
QUANTITATIVE_OPERATORS = OPERATORS[:5]
DIRECTION = {"≥": "正向", "＞": "正向", "＝": "等于", "＜": "反向", "≤": "反向", "定性": "定性"}

# Spellings of each operator, longest first when matched as a prefix (domain.md §0.2, §1d R-V4).
OPERATOR_SYNONYMS: dict[str, tuple[str, ...]] = {
    "≥": ("≥", ">=", "＞＝", "＞=", ">＝", "≧", "大于等于", "大于或等于", "不低于", "不少于", "不小于", "以上", "至少"),
    "＞": ("＞", ">", "大于", "高于", "超过", "多于"),
    "≤": ("≤", "<=", "＜＝", "＜=", "<＝", "≦", "小于等于", "小于或等于", "不超过", "不高于", "不多于", "不大于",
          "以下", "以内", "控制在", "至多"),
    "＜": ("＜", "<", "小于", "低于", "少于"),
    "＝": ("＝", "=", "==", "等于", "达到", "达"),
    "定性": ("定性",),
}

MONEY_UNITS = ("万元", "元")
UNITS = (
    "%", "个", "人", "人次", "次", "户", "件", "份", "篇", "台", "辆", "套", "项", "所", "场", "期", "批",
    "天", "日", "月", "年", "小时", "米", "厘米", "公里", "亩", "平方米", "条", "家", "万元", "元",
    "元/人", "元/人·月", "元/台", "人/年", "分",
)
UNIT_ALIASES = {
    "％": "%", "百分比": "%", "百分之": "%", "pct": "%",
    "人·次": "人次", "人/次": "人次", "个数": "个", "平米": "平方米", "m2": "平方米", "万": "万元",
    "km": "公里", "千米": "公里", "cm": "厘米", "天数": "天",
}
COUNT_UNITS = ("个", "人", "人次", "次", "户", "件", "份", "篇", "台", "辆", "套", "项", "所", "场", "期", "批",
               "条", "家")

BASES = ("计划标准", "历史标准", "行业标准", "预算支出标准", "其他标准")
BASIS_DEFINITIONS = {
    "计划标准": "预先制定的中长期或年度规划、计划、目标等数据",
    "历史标准": "历史年度完成值或前三年平均值",
    "行业标准": "国家公布的行业标准明确的指标数据或统一的技术要求和规范",
    "预算支出标准": "用于成本指标的取值，不得超出规定的预算支出标准设置目标值",
    "其他标准": "其他来源及数据口径的参考标准",
}

# Name variants of 一级/二级 seen in published tables (domain.md §1b), keyed without the word 指标.
_LEVEL1_VARIANTS = {
    "产出": "产出指标", "项目完成": "产出指标", "产出(工作量)": "产出指标", "产出（工作量）": "产出指标",
    "效益": "效益指标", "项目效益": "效益指标", "效果": "效益指标",
    "满意度": "满意度指标", "社会公众或服务对象满意度": "满意度指标", "服务对象满意度": "满意度指标",
    "成本": "成本指标",
}
_LEVEL2_VARIANTS = {
    "数量": "数量指标", "质量": "质量指标", "时效": "时效指标", "成本": "成本指标",
    "经济效益": "经济效益指标", "社会效益": "社会效益指标", "生态效益": "生态效益指标",
    "环境效益": "生态效益指标", "生态文明效益": "生态效益指标", "可持续影响": "可持续影响指标",
    "服务对象满意度": "服务对象满意度指标", "满意度": "服务对象满意度指标",
    "社会公众或服务对象满意度": "服务对象满意度指标",
    "经济成本": "经济成本指标", "社会成本": "社会成本指标", "生态环境成本": "生态环境成本指标",
}

_SPACE = re.compile(r"\s+")


def compact(text: str) -> str:
    """NFKC-fold ``text`` and drop all white space: the key used to compare labels and names."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or ""))


def _key(name: str) -> str:
    return compact(name).replace("指标", "")


def canonical_level1(name: str) -> str:
    """The canonical 一级 name for a variant ('产出' → '产出指标'); unknown names come back compacted."""
    key = _key(name)
    if not key:
        return ""
    return _LEVEL1_VARIANTS.get(key, compact(name))


def canonical_level2(name: str) -> str:
    """The canonical 二级 name for a variant ('环境效益指标' → '生态效益指标'); unknown names come back compacted."""
    key = _key(name)
    if not key:
        return ""
    return _LEVEL2_VARIANTS.get(key, compact(name))


_KNOWN_LEVEL1 = frozenset(level1 for framework in FRAMEWORKS.values() for level1 in framework)
_KNOWN_LEVEL2 = frozenset(level2 for framework in FRAMEWORKS.values() for children in framework.values()
                          for level2 in children)


def standard_level1(name: str) -> str:
    """The framework's own spelling of a 一级 written as a known variant ('产出' → '产出指标'); any other
    text comes back exactly as written (so a form shows what the master says unless it is an alias)."""
    canonical = canonical_level1(name)
    return canonical if canonical in _KNOWN_LEVEL1 else name


def standard_level2(name: str) -> str:
    """The framework's own spelling of a 二级 written as a known variant ('数量' → '数量指标'), else ``name``."""
    canonical = canonical_level2(name)
    return canonical if canonical in _KNOWN_LEVEL2 else name


def with_standard_levels(indicator):
    """An indicator (project or department) with its 一级/二级 aliases written as the framework's names;
    the same object when nothing changes."""
    import dataclasses

    level1, level2 = standard_level1(indicator.level1), standard_level2(indicator.level2)
    if (level1, level2) == (indicator.level1, indicator.level2):
        return indicator
    return dataclasses.replace(indicator, level1=level1, level2=level2)


def level1_names(framework: str) -> tuple[str, ...]:
    """The 一级 names of a framework, in form order."""
    return tuple(FRAMEWORKS[framework])


def level2_names(framework: str, level1: str) -> tuple[str, ...]:
    """The 二级 names under ``level1`` in ``framework`` (empty when ``level1`` is not in it)."""
    return FRAMEWORKS[framework].get(level1, ())


def parent_of(framework: str, level2: str) -> str | None:
    """The 一级 that holds ``level2`` in ``framework``, or None."""
    for level1, children in FRAMEWORKS[framework].items():
        if level2 in children:
            return level1
    return None


def is_cost_level2(framework: str, level2: str) -> bool:
    """True for the 二级 that carries a total-cost indicator (成本指标 in 2015, 经济成本指标 in 2021)."""
    return level2 == ("成本指标" if framework == "2015" else "经济成本指标")


def canonical_unit(unit: str) -> str:
    """The canonical spelling of a 度量单位 ('％' → '%'); unknown units come back NFKC-folded."""
    text = compact(unit)
    if not text:
        return ""
    if text in UNITS:
        return text
    # Keys are NFKC-folded like ``text`` (㎡ and m² both fold to m2).
    return UNIT_ALIASES.get(text, UNIT_ALIASES.get(text.lower(), text))


def is_known_unit(unit: str) -> bool:
    """True when ``unit`` (after aliasing) is on the unit whitelist."""
    return canonical_unit(unit) in UNITS
