"""An indicator row under check (project or department), and what it measures.

:func:`indicator_row` reads an :class:`~jixiao_xl.model.Indicator` or
:class:`~jixiao_xl.model.DeptIndicator` into an :class:`IndicatorRow`: levels as canonical names, the
operator normalised, numeric text read as a Decimal. The predicates below (:func:`is_satisfaction`,
:func:`is_total_cost`, :func:`is_quantity`, :func:`is_rate`, :func:`is_negative_row`) say what a row
measures from its 二级, its 三级 name or its 绩效指标描述, whatever 二级 it is filed under; the grid rules
(:mod:`.grid`) and the per-project rules (:mod:`.project`) use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Callable

from ..model import DeptIndicator, Indicator
from ..taxonomy import (
    FRAMEWORKS,
    MONEY_UNITS,
    canonical_level1,
    canonical_level2,
    canonical_unit,
    compact,
    is_cost_level2,
    is_known_unit,
)
from ..values import normalise_operator, parse_number

# Every row of every file folds the same few spellings (产出指标, ≥, %): remember each answer per process.
canonical_level1, canonical_level2, canonical_unit, compact, is_known_unit, normalise_operator = (
    lru_cache(maxsize=16384)(fold) for fold in (canonical_level1, canonical_level2, canonical_unit, compact,
                                                  is_known_unit, normalise_operator))


SATISFACTION_L1, SATISFACTION_L2 = "满意度指标", "服务对象满意度指标"
EFFECT_L1 = "效益指标"
ALL_LEVEL1 = frozenset(l1 for fw in FRAMEWORKS.values() for l1 in fw)
ALL_LEVEL2 = frozenset(l2 for fw in FRAMEWORKS.values() for l2s in fw.values() for l2 in l2s)
TOTAL_COST_L2 = frozenset(l2 for l2 in ALL_LEVEL2 if any(is_cost_level2(fw, l2) for fw in FRAMEWORKS))
OTHER_COST_L2 = frozenset({"社会成本指标", "生态环境成本指标"})


@dataclass(frozen=True)
class IndicatorRow:
    """An indicator row (project or department) with its levels read as canonical names."""

    prefix: str
    index: int
    raw_level1: str
    raw_level2: str
    level1: str
    level2: str
    name: str
    operator: str
    value: Decimal | str | None
    unit: str
    basis: str
    weight: Decimal | None
    description: str = ""

    def path(self, field_key: str) -> str:
        """The location path of one of the row's fields (``ind3.value``)."""
        return f"{self.prefix}{self.index}.{field_key}"

    def text(self, field_key: str) -> str:
        """A field as text, for a finding's value."""
        raw = {"level1": self.raw_level1, "level2": self.raw_level2}.get(field_key)
        return raw if raw is not None else as_text(getattr(self, field_key))

    @property
    def number(self) -> Decimal | None:
        """The value when it is a number."""
        return self.value if isinstance(self.value, Decimal) else None

    @property
    def label(self) -> str:
        """How messages name the row: 三级指标“名称”, or its position when it has no name."""
        return f"三级指标“{self.name}”" if self.name else f"第 {self.index + 1} 个指标"

    @property
    def has_content(self) -> bool:
        """True when anything beyond the 一级/二级 is filled in."""
        return any((self.name, self.operator, as_text(self.value), self.unit, self.basis, self.weight is not None))

    @property
    def shown(self) -> str:
        """Operator, value and unit as a person would write them ("≥90%", "≤6 万元")."""
        return _shown(self.operator, self.value, self.unit)


def as_text(value: object) -> str:
    """A model value as text: Decimals in plain notation as given ("5.00"), None as ""."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


def plain_number(number: Decimal) -> str:
    """A Decimal without trailing zeros and never in exponent notation (100, 7.9)."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _shown(operator: str, value: object, unit: str) -> str:
    """"≥90%", "≤6 万元", "定性“良好”"."""
    if operator == "定性":
        return f"定性“{as_text(value)}”"
    number = plain_number(value) if isinstance(value, Decimal) else as_text(value)
    gap = "" if unit in ("", "%") else " "
    return f"{operator}{number}{gap}{unit}"


def _effective_levels(level1: str, level2: str) -> tuple[str, str]:
    """Canonical 一级/二级; satisfaction filed as a 二级 of 效益 (older forms) moves to 满意度指标."""
    l1, l2 = canonical_level1(level1), canonical_level2(level2)
    if l1 == EFFECT_L1 and l2 == SATISFACTION_L2:
        l1 = SATISFACTION_L1
    return l1, l2


def _as_value(value: Decimal | str | None) -> Decimal | str | None:
    """The value, with numeric text ("30") read as a Decimal."""
    if isinstance(value, str):
        try:
            number = parse_number(value)
        except ValueError:
            return value.strip()
        return value.strip() if number is None else number
    return value


def indicator_row(prefix: str, index: int, ind: Indicator | DeptIndicator) -> IndicatorRow:
    """One indicator as a row under check."""
    level1, level2 = _effective_levels(ind.level1, ind.level2)
    operator = (ind.operator or "").strip()
    return IndicatorRow(
        prefix=prefix, index=index, raw_level1=(ind.level1 or "").strip(), raw_level2=(ind.level2 or "").strip(),
        level1=level1, level2=level2, name=(ind.name or "").strip(),
        operator=normalise_operator(operator) or operator, value=_as_value(ind.value),
        unit=canonical_unit(ind.unit or ""), basis=(ind.basis or "").strip(),
        weight=ind.weight if isinstance(ind, Indicator) else None,
        description=(getattr(ind, "description", "") or "").strip(),
    )


# What an indicator says it measures, whatever 二级 it is filed under (domain.md §1d: the category rules
# are about the measure, and the 三级 name is sometimes a goal while the 绩效指标描述 names the measure).
_SATISFACTION_WORDS = ("满意度", "满意率")
_COST_WORDS = ("成本",)
_QUANTITY_ENDINGS = ("数量", "人数", "次数", "个数", "户数", "台数", "件数", "套数", "人次")


def said_by(row: IndicatorRow, test: Callable[[str], bool]) -> str:
    """Which text shows the measure: "name", "description" (the 绩效指标描述), or "" when neither does."""
    if row.name and test(row.name):
        return "name"
    if row.description and test(row.description):
        return "description"
    return ""


def mentions_satisfaction(text: str) -> bool:
    return any(word in text for word in _SATISFACTION_WORDS)


def is_satisfaction(row: IndicatorRow) -> bool:
    """Satisfaction: filed under 服务对象满意度指标, or a 三级 name or 绩效指标描述 that states …满意度/…满意率."""
    return row.level2 == SATISFACTION_L2 or bool(said_by(row, mentions_satisfaction))


def looks_like_cost(text: str) -> bool:
    return any(word in text for word in _COST_WORDS)


def is_total_cost(row: IndicatorRow) -> bool:
    """A total cost: filed under 成本指标 (2015) / 经济成本指标 (2021), or a money amount whose name or
    绩效指标描述 says 成本, wherever it is filed."""
    if row.level2 in TOTAL_COST_L2:
        return True
    return row.unit in MONEY_UNITS and bool(said_by(row, looks_like_cost))


def looks_like_quantity(text: str) -> bool:
    return text.endswith(_QUANTITY_ENDINGS)


def is_quantity(row: IndicatorRow) -> bool:
    """A count: filed under 数量指标, or a name or 绩效指标描述 ending in 数量/人数/次数 …."""
    return row.level2 == "数量指标" or bool(said_by(row, looks_like_quantity))


def is_rate(row: IndicatorRow) -> bool:
    """A ratio (…率, …比例, …满意度) by its name or its 绩效指标描述."""
    return bool(said_by(row, is_rate_name))


def is_negative_row(row: IndicatorRow) -> bool:
    """A lower-is-better rate (故障率, 破损率 …) by its name or its 绩效指标描述."""
    return bool(said_by(row, is_negative))


CATEGORY_HOME = {"满意度指标": (SATISFACTION_L2,), "成本指标": tuple(sorted(TOTAL_COST_L2)), "数量指标": ("数量指标",)}


def as_kind(row: IndicatorRow, kind: str, test: Callable[[str], bool] | None = None) -> str:
    """How a message names a row of category ``kind``: 满意度指标“名称” when it is filed there and named so;
    otherwise the row, where it is filed and which text makes it look like one, e.g.
    三级指标“持续提高稳定性”（填在“效益指标/可持续影响指标”下，绩效指标描述为“电话及网络运行的满意率”，属满意度指标）."""
    if row.level2 in CATEGORY_HOME.get(kind, ()):
        return f"{kind}“{row.name}”"
    said = said_by(row, test) if test is not None else ""
    filed = "/".join(part for part in (row.raw_level1, row.raw_level2) if part) or "未填一级、二级指标"
    shown = f"，绩效指标描述为“{row.description}”" if said == "description" else ""
    return f"{row.label}（填在“{filed}”下{shown}，属{kind}）"


def is_rate_name(name: str) -> bool:
    """Names of ratios that must lie in [0, 100]: …率, …比例, …满意度."""
    return name.endswith(("率", "比例", "满意度"))


_NEGATIVE_WORDS = (
    "事故率", "故障率", "投诉率", "差错率", "出错率", "失误率", "损失率", "发生率", "超支率", "结余率", "破损率",
    "损坏率", "不合格率", "停机率", "返工率", "流失率", "缺陷率", "违约率", "逾期率", "误差率", "失败率",
)


_NEGATIVE = re.compile("|".join(map(re.escape, _NEGATIVE_WORDS)))


def is_negative(name: str) -> bool:
    """Negative-outcome indicators (lower is better): 故障率, 破损率, 投诉率 …."""
    return _NEGATIVE.search(name) is not None

