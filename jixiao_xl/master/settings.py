"""The 设置 sheet and the small cell parsers that the builder and the check share.

Each setting has a parser, a default and the hint a finding shows; a value that cannot be understood
falls back to its default when building and becomes an M-SETTING finding when checking.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from .. import taxonomy
from ..model import DEFAULT_PLAN_NODES, DEFAULT_SPARE_ROWS, Settings
from ..values import as_money, parse_number
from .format import SETTING_KEY_SYNONYMS
from .tables import Row, Table

_NODE_SEPARATORS = re.compile(r"[,，、;；]")

_OPERATOR_LOOKUP = {
    taxonomy.compact(spelling): canonical
    for canonical, spellings in taxonomy.OPERATOR_SYNONYMS.items()
    for spelling in (canonical, *spellings)
}


def canonical_operator(text: str) -> str:
    """The 指标性质 for a cell ('>=' → '≥', '＞' stays '＞'); unknown text comes back stripped."""
    return _OPERATOR_LOOKUP.get(taxonomy.compact(text), text.strip())


def _to_int(text: str) -> int:
    number = parse_number(text)
    if number is None or number != number.to_integral_value():
        raise ValueError(f"not an integer: {text!r}")
    return int(number)


def money_of(text: str) -> Decimal | None:
    """A money cell as Decimal; None when blank or not a number (the checks report it)."""
    try:
        return as_money(parse_number(text))
    except ValueError:
        return None


def _parse_year(text: str) -> int:
    year = _to_int(text.removesuffix("年"))
    if not 2000 <= year <= 2100:
        raise ValueError(f"year out of range: {year}")
    return year


def _parse_money_unit(text: str) -> str:
    key = taxonomy.compact(text).removeprefix("单位:").removeprefix("金额单位:")
    if key not in taxonomy.MONEY_UNITS:
        raise ValueError(f"unknown money unit: {text!r}")
    return key


def _parse_framework(text: str) -> str:
    numbers = set(re.findall(r"\d+", taxonomy.compact(text)))
    matches = {fw for fw, marks in (("2015", {"2015", "88"}), ("2021", {"2021", "101"})) if numbers & marks}
    if len(matches) != 1:
        raise ValueError(f"unknown framework: {text!r}")
    return matches.pop()


def split_nodes(text: str) -> list[str]:
    """The 支出计划节点 written in one cell, split at commas, 、 or semicolons (duplicates kept)."""
    return [node for node in (taxonomy.compact(p) for p in _NODE_SEPARATORS.split(text)) if node]


def _parse_nodes(text: str) -> tuple[str, ...]:
    nodes = split_nodes(text)
    if not nodes:
        raise ValueError("no plan nodes")
    return tuple(dict.fromkeys(nodes))


def _parse_weight_total(text: str) -> Decimal | None:
    total = parse_number(text)
    if total is not None and total <= 0:
        raise ValueError(f"weight total not positive: {text!r}")
    return total


def _parse_spare_rows(text: str) -> int:
    rows = _to_int(text)
    if not 0 <= rows <= 100:
        raise ValueError(f"spare rows out of range: {text!r}")
    return rows


def default_year() -> int:
    """The default 预算年度 of a new master: next calendar year (budgets are prepared a year ahead)."""
    return _dt.date.today().year + 1


@dataclass(frozen=True)
class _SettingSpec:
    parse: Callable[[str], object]
    default: Callable[[], object]
    hint: str


SETTING_SPECS: dict[str, _SettingSpec] = {
    "预算年度": _SettingSpec(_parse_year, default_year, "请填写 4 位年份，例如 2026"),
    "金额单位": _SettingSpec(_parse_money_unit, lambda: "万元", "请填写 万元 或 元"),
    "指标体系": _SettingSpec(_parse_framework, lambda: "2015",
                         "请填写 2015（财预〔2015〕88号框架）或 2021（财预〔2021〕101号框架）"),
    "支出计划节点": _SettingSpec(_parse_nodes, lambda: DEFAULT_PLAN_NODES,
                           "请用逗号分隔各节点，例如 3月底,6月底,10月底,12月底，节点不要重复"),
    "权重合计": _SettingSpec(_parse_weight_total, lambda: None, "请填写大于 0 的数字（如 90 或 100），不使用权重时留空"),
    "备用指标行数": _SettingSpec(_parse_spare_rows, lambda: DEFAULT_SPARE_ROWS, "请填写 0 到 100 之间的整数"),
    "主管部门名称": _SettingSpec(str.strip, lambda: "", ""),
}
# Blank means "use the default" for these; 预算年度 must be filled in.
_BLANK_IS_DEFAULT = ("金额单位", "指标体系", "支出计划节点", "权重合计", "备用指标行数", "主管部门名称")


def setting_hint(key: str) -> str:
    """What a valid value of setting ``key`` looks like, as a finding and the master's dropdown say it."""
    return SETTING_SPECS[key].hint


def _setting_key(text: str) -> str:
    key = taxonomy.compact(text)
    return SETTING_KEY_SYNONYMS.get(key, key)


def setting_rows(table: Table | None) -> dict[str, list[Row]]:
    """The rows of 设置 by canonical key (a list, so that duplicates can be reported)."""
    found: dict[str, list[Row]] = {}
    for row in table.rows if table else ():
        key = _setting_key(row.get("项目"))
        if key in SETTING_SPECS:
            found.setdefault(key, []).append(row)
    return found


def setting_value(key: str, text: str) -> object:
    """The parsed value of one setting; raises ValueError when it cannot be understood."""
    spec = SETTING_SPECS[key]
    if not text and key in _BLANK_IS_DEFAULT:
        return spec.default()
    if not text:
        raise ValueError(f"{key} is blank")
    return spec.parse(text)


def settings_of(table: Table | None) -> Settings:
    """The settings of a 设置 table; a missing or unreadable value gives its default (the check reports it)."""
    values = {}
    rows = setting_rows(table)
    for key, spec in SETTING_SPECS.items():
        text = rows[key][0].get("值") if key in rows else ""
        try:
            values[key] = setting_value(key, text) if key in rows else spec.default()
        except ValueError:
            values[key] = spec.default()
    return Settings(
        year=values["预算年度"],
        money_unit=values["金额单位"],
        framework=values["指标体系"],
        plan_nodes=values["支出计划节点"],
        weight_total=values["权重合计"],
        spare_rows=values["备用指标行数"],
        department_name=values["主管部门名称"],
    )


def row_seq(row: Row) -> int | None:
    """The 序号 of a department row, or None when it is not an integer."""
    return seq_of(row.get("序号"))


def seq_of(text: str) -> int | None:
    """A 序号 cell as an integer, or None when it is not one."""
    try:
        return _to_int(text)
    except ValueError:
        return None
