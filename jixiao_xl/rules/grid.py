"""The rules of one indicator row (R-S1, R-S2, R-S4, R-S5, R-V1–R-V7, R-R1–R-R5, R-C1–R-C5, R-W1).

Each check takes the sheet under check and one :class:`~.rows.IndicatorRow` and yields the findings of one
rule family; :data:`GRID_CHECKS` run on every filled row of a project or department grid, and
:data:`PROJECT_ROW_CHECKS` add the cost and weight checks that need the project's budget and settings.
:func:`row_findings` runs them row by row (a row with only 一级/二级 is one R-S4).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from ..findings import Finding
from ..taxonomy import DIRECTION, FRAMEWORK_NAMES, FRAMEWORKS, MONEY_UNITS, OPERATORS, QUANTITATIVE_OPERATORS, parent_of
from ..values import Note, split_indicator_value, to_money_unit
from .context import INDICATOR_FIELD_NAMES, CheckedSheet
from .rows import (
    ALL_LEVEL1,
    ALL_LEVEL2,
    CATEGORY_HOME,
    OTHER_COST_L2,
    IndicatorRow,
    as_kind,
    as_text,
    canonical_level1,
    canonical_level2,
    compact,
    is_known_unit,
    is_negative,
    is_negative_row,
    is_quantity,
    is_rate,
    is_rate_name,
    is_satisfaction,
    is_total_cost,
    looks_like_cost,
    looks_like_quantity,
    mentions_satisfaction,
    plain_number,
    said_by,
)

RowCheck = Callable[[CheckedSheet, IndicatorRow], Iterable[Finding]]


def _check_levels(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-S1: 一级 in the framework, 二级 under its 一级; variants are accepted with an info note."""
    framework = FRAMEWORKS[ctx.config.framework]
    if not row.level1:
        parent = parent_of(ctx.config.framework, row.level2)
        hint = f"（二级指标“{row.level2}”属于“{parent}”）" if parent else ""
        yield ctx.at("R-S1", row, "level1", f"{row.label}的一级指标为空{hint}；请从下拉列表选择一级指标。",
                     expected=parent or _options(framework))
    elif row.level1 not in framework:
        yield ctx.at("R-S1", row, "level1",
                     f"{row.label}的一级指标“{row.raw_level1}”不在{FRAMEWORK_NAMES[ctx.config.framework]}中；"
                     f"请改为{_options(framework)}之一。", expected=_options(framework))
    elif row.level2 not in framework[row.level1]:
        yield _level2_finding(ctx, row, framework)
    else:
        yield from _normalised_levels(ctx, row)


def _options(names: Iterable[str]) -> str:
    """“产出指标”、“效益指标”、“满意度指标”: the names a message offers."""
    return "、".join(f"“{name}”" for name in names)


def _level2_finding(ctx: CheckedSheet, row: IndicatorRow, framework: Mapping[str, tuple[str, ...]]) -> Finding:
    """R-S1 for a blank 二级 or one that does not belong to its 一级."""
    options = "、".join(f"“{name}”" for name in framework[row.level1])
    if not row.level2:
        message = f"{row.label}的二级指标为空；请从“{row.level1}”下的{options}中选择。"
        return ctx.at("R-S1", row, "level2", message, expected=options)
    parent = parent_of(ctx.config.framework, row.level2)
    if parent:
        hint = f"，它属于“{parent}”"
    elif row.level2 in framework:
        hint = f"，在{FRAMEWORK_NAMES[ctx.config.framework]}中“{row.level2}”是一级指标"
    else:
        hint = ""
    message = f"{row.label}的二级指标“{row.raw_level2}”不属于一级指标“{row.level1}”{hint}；请改为{options}之一。"
    return ctx.at("R-S1", row, "level2", message, expected=options)


def _normalised_levels(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-S1 info: a variant name (环境效益指标) was read as its canonical name (生态效益指标)."""
    for key, raw, canonical in (("level1", row.raw_level1, row.level1), ("level2", row.raw_level2, row.level2)):
        if compact(raw) != canonical:
            message = (f"{row.label}的{INDICATOR_FIELD_NAMES[key]}“{raw}”已按指标体系的标准名称读作“{canonical}”；"
                       f"今后请从下拉列表选择标准名称。")
            yield ctx.at("R-S1", row, key, message, expected=canonical, severity="info")


def _check_required(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-S2: name, operator and value are present, and the operator is one of the six."""
    if not row.name:
        yield ctx.at("R-S2", row, "name", f"{row.label}没有填写三级指标名称；请填写具体的考核内容。",
                     expected="非空")
    if row.operator not in OPERATORS:
        yield _operator_finding(ctx, row)
    if not as_text(row.value):
        kind = "定性描述，如“明显提升”" if row.operator == "定性" else "目标值（数字）"
        yield ctx.at("R-S2", row, "value", f"{row.label}的指标值为空；请填写{kind}。", expected="非空")


def _operator_finding(ctx: CheckedSheet, row: IndicatorRow) -> Finding:
    """R-S2 for a blank or unrecognised 指标性质 (the raw cell text tells which)."""
    where = ctx.locations.get(row.path("operator"))
    written = (where.raw if where is not None else "") or row.operator
    options = " ".join(OPERATORS)
    if written:
        message = f"{row.label}的指标性质“{written}”无法识别；请从下拉列表选择 {options} 之一。"
    else:
        message = f"{row.label}没有选择指标性质；请先从下拉列表选择 {options} 之一，再填写指标值。"
    return ctx.at("R-S2", row, "operator", message, expected=options)


def _check_numeric(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-V1: a quantitative operator needs a number, with at most 3 decimals."""
    if row.operator not in QUANTITATIVE_OPERATORS or not as_text(row.value):
        return
    if row.number is None:
        if "R-V3" in _row_note_rules(ctx, row):
            return  # a placeholder: R-V3 already says what to do
        yield ctx.at("R-V1", row, "value",
                     f"{row.label}的指标性质为“{row.operator}”（定量），指标值“{as_text(row.value)}”却不是数值；"
                     f"请只填写数字，或把指标性质改为“定性”。", expected="数值")
    elif row.number.normalize().as_tuple().exponent < -3:  # type: ignore[operator]
        yield ctx.at("R-V1", row, "value",
                     f"{row.label}的指标值 {plain_number(row.number)} 超过 3 位小数；请至多保留 3 位小数。",
                     expected="至多 3 位小数")


def _check_unit(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-V2: quantitative rows need a unit, 定性 rows none; units off the list are flagged."""
    if row.operator in QUANTITATIVE_OPERATORS and not row.unit:
        yield ctx.at("R-V2", row, "unit",
                     f"{row.label}是定量指标（{row.shown}），没有填写度量单位；请从下拉列表选择度量单位，如 %、个、万元。",
                     expected="度量单位")
    elif row.operator == "定性" and row.unit:
        yield ctx.at("R-V2", row, "unit",
                     f"{row.label}是定性指标，不应填写度量单位“{row.unit}”；请清空度量单位。",
                     expected="空", severity="warning")
    elif row.unit and not is_known_unit(row.unit):
        yield ctx.at("R-V2", row, "unit",
                     f"{row.label}的度量单位“{row.unit}”不在常用单位表中；请核对是否写错，常用单位见下拉列表。",
                     expected="常用单位", severity="warning")


# The value rules the reader's notes belong to, with what a finding adds to its notes ("": the note already
# says what to do). Notes of other codes (R-S2, an unknown 指标性质) are reported from the cell itself.
_NOTE_FIXES = {
    "R-V3": "",
    "R-V4": "指标值只填数字，符号选在指标性质列，单位选在度量单位列",
    "R-V5": "请核对指标值和度量单位，改成一致",
    "R-V6": "",
}
_DERIVED_NOTE_RULES = ("R-V3", "R-V6")


def _row_notes(ctx: CheckedSheet, row: IndicatorRow) -> list[tuple[str, Note]]:
    """(path, note) of the row: the reader's notes, else placeholders/several targets found in a text value."""
    prefix = row.path("")
    found = [(path, note) for path, notes in ctx.notes.items() if path.startswith(prefix) for note in notes]
    if found or not isinstance(row.value, str):
        return found
    parsed = split_indicator_value(row.value)
    return [(row.path("value"), note) for note in parsed.notes if note.code in _DERIVED_NOTE_RULES]


def _row_note_rules(ctx: CheckedSheet, row: IndicatorRow) -> set[str]:
    """The rule codes of the row's notes."""
    return {note.code for _, note in _row_notes(ctx, row)}


def _check_notes(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-V3/R-V4/R-V5/R-V6 from the notes made while splitting the value: one finding per rule and cell
    ("≥90%" has both a symbol and a unit in it: one R-V4 that says both)."""
    grouped: dict[tuple[str, str], list[Note]] = {}
    for path, note in _row_notes(ctx, row):
        if note.code in _NOTE_FIXES:
            grouped.setdefault((path, note.code), []).append(note)
    for (path, code), notes in grouped.items():
        fix = f"；{_NOTE_FIXES[code]}" if _NOTE_FIXES[code] else ""
        key = path.rsplit(".", 1)[-1]
        yield ctx.finding(code, f"{row.label}：{'；'.join(notes)}{fix}。", path, value=row.text(key))


def _check_qualitative(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-V7 (per row): satisfaction, quantity and rate indicators should be quantified."""
    if row.operator != "定性":
        return
    if is_satisfaction(row):
        kind, example, test = "满意度指标", "≥90%", mentions_satisfaction
    elif is_quantity(row):
        kind, example, test = "数量指标", "≥30 个", looks_like_quantity
    elif is_rate(row):
        kind, example, test = "比率类指标", "≤5%" if is_negative_row(row) else "≥95%", is_rate_name
    else:
        return
    who = as_kind(row, kind, test) if said_by(row, test) == "description" or \
        (kind != "比率类指标" and row.level2 not in CATEGORY_HOME[kind]) else f"{row.label}是{kind}"
    yield ctx.at("R-V7", row, "operator",
                 f"{who}，却用了定性（“{as_text(row.value)}”）；请改为定量，如“{example}”。",
                 expected="定量")


def _check_percent_range(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-R1: a percentage (unit %, or a rate name without another unit) lies in [0, 100]."""
    number = row.number
    if number is None or row.operator not in QUANTITATIVE_OPERATORS:
        return
    if not (row.unit == "%" or (row.unit == "" and is_rate(row))):
        return
    if number < 0:
        problem = "百分比不能为负数"
    elif number > 100:
        problem = "百分比不能超过 100"
    else:
        return
    yield ctx.at("R-R1", row, "value",
                 f"{row.label}的指标值为 {plain_number(number)}%，{problem}；请改为 0～100 之间的数（如 100% 写 100）。",
                 expected="0～100")


def _check_satisfaction(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-R2: satisfaction uses ≥ (or ＞), unit %, and a target of 80–100."""
    if not is_satisfaction(row) or row.operator not in QUANTITATIVE_OPERATORS:
        return
    who = as_kind(row, "满意度指标", mentions_satisfaction)
    if row.operator not in ("≥", "＞"):
        meaning = {"正向": "越高越好", "反向": "越低越好", "等于": "必须恰好等于"}[DIRECTION[row.operator]]
        yield ctx.at("R-R2", row, "operator",
                     f"{who}的指标性质为“{row.operator}”（{row.shown}），“{row.operator}”表示{meaning}；"
                     f"满意度应写成“≥”，请把指标性质改为“≥”，如 ≥90%。", expected="≥")
    if row.unit and row.unit != "%":
        yield ctx.at("R-R2", row, "unit",
                     f"{who}的度量单位为“{row.unit}”；满意度以百分比计，请把度量单位改为 %。",
                     expected="%")
    if row.number is not None and row.unit in ("", "%") and row.number < 80:
        yield ctx.at("R-R2", row, "value",
                     f"{who}的目标值 {plain_number(row.number)}% 偏低，满意度目标一般在 80%～100% 之间；"
                     f"请核对后改为 80～100 之间的数。", expected="80～100")


def _check_negative(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-R3: negative-outcome indicators (故障率, 破损率 …) use ≤ or ＜ (＝0 is accepted)."""
    if not is_negative_row(row) or row.operator not in QUANTITATIVE_OPERATORS:
        return
    if row.operator in ("≤", "＜") or (row.operator == "＝" and row.number == 0):
        return
    shown = f"（绩效指标描述为“{row.description}”）" if said_by(row, is_negative) == "description" else ""
    yield ctx.at("R-R3", row, "operator",
                 f"{row.label}{shown}是越低越好的负向指标，指标性质却是“{row.operator}”（{row.shown}）；"
                 f"请把指标性质改为“≤”，并填写可以接受的上限，如 ≤2%。", expected="≤ 或 ＜")


def _check_count_unit(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-R4: a 数量指标 uses a count or physical unit, not %."""
    if row.unit != "%" or not is_quantity(row):
        return
    if "覆盖" in row.name:
        message = (f"{as_kind(row, '数量指标', looks_like_quantity)}用百分比表示（{row.shown}），含义不清；如考核覆盖的数量，请改用个、人、户等单位；"
                   f"如考核覆盖比例，请把它放到质量指标下。")
    else:
        message = (f"{as_kind(row, '数量指标', looks_like_quantity)}的度量单位是 %（{row.shown}）；数量指标应使用个、台、人次等计数或实物单位，"
                   f"请改为实际数量和单位，如“≥60 台”。")
    yield ctx.at("R-R4", row, "unit", message, expected="计数或实物单位")


_YEAR = re.compile(
    r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})"
    r"(?:\s*年|\s*[.\-/／]\s*[0-9]{1,2}(?![0-9])|(?:0[1-9]|1[0-2])(?:[0-3][0-9])?(?![0-9])"
    r"|(?=\s*[-—–~～至到]\s*(?:19|20)[0-9]{2}))"
)


def _years(text: str) -> list[int]:
    """The years of the dates written in ``text`` ("2023.07-2024.01" → [2023, 2024], "202001" → [2020])."""
    return [int(match["y"]) for match in _YEAR.finditer(text)]


def _check_dates(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-R5: dates in a 时效指标 value fall inside the budget year (the forms carry no 项目期)."""
    if row.level2 != "时效指标" or isinstance(row.value, Decimal):
        return
    where = ctx.locations.get(row.path("value"))
    text = (where.raw if where is not None else "") or as_text(row.value)
    outside = sorted({year for year in _years(text) if year != ctx.config.year})
    if outside:
        years = "、".join(f"{year} 年" for year in outside)
        yield ctx.at("R-R5", row, "value",
                     f"时效指标“{row.name}”的指标值“{text}”含有 {years}，不在预算年度 {ctx.config.year} 年内；"
                     f"请把完成时间改在 {ctx.config.year} 年之内，如“{ctx.config.year}年12月底前”。",
                     expected=f"{ctx.config.year} 年内")


def _check_generic_name(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-S5: a 三级 name that only repeats its 二级 or names a category."""
    if not row.name:
        return
    name = compact(row.name)
    if name in (compact(row.raw_level2), row.level2) or canonical_level2(name) in ALL_LEVEL2 \
            or canonical_level1(name) in ALL_LEVEL1:
        yield ctx.at("R-S5", row, "name",
                     f"三级指标名称“{row.name}”只是指标类别的名称，过于笼统；请写具体的考核内容，如“培训人次”“设备故障率”。",
                     expected="具体的考核内容")


# Cost rows (project sheets only: they need the project's budget).


def _budget_text(ctx: CheckedSheet) -> str:
    return f"{as_text(ctx.budget)} {ctx.config.money_unit}"


def _cost_in_budget_unit(ctx: CheckedSheet, row: IndicatorRow) -> Decimal | None:
    """A money-valued cost in the batch's money unit, or None when it is not a money amount."""
    if row.number is None or row.unit not in MONEY_UNITS:
        return None
    return to_money_unit(row.number, row.unit, ctx.config.money_unit)


def _check_cost_cap(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-C1: a total-cost indicator in 万元/元 is at most the project's budget."""
    amount = _cost_in_budget_unit(ctx, row) if is_total_cost(row) else None
    if amount is None or ctx.budget is None or amount <= ctx.budget:
        return
    shown = f"{plain_number(row.number)} {row.unit}"  # type: ignore[arg-type]
    if row.unit != ctx.config.money_unit:
        shown += f"（合 {plain_number(amount)} {ctx.config.money_unit}）"
    fix_operator = "" if row.operator in ("≤", "＜") else "并将指标性质改为“≤”"
    yield ctx.at("R-C1", row, "value",
                 f"{as_kind(row, '成本指标', looks_like_cost)}为 {shown}，高于项目预算数 {_budget_text(ctx)}；成本指标不应超过预算数，"
                 f"请改为不超过 {_budget_text(ctx)}{fix_operator}。", expected=f"≤ {_budget_text(ctx)}")


def _check_cost_operator(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-C2: cost indicators use ≤ or ＜; ＝ only when the amount equals the budget."""
    if not is_total_cost(row) or row.operator not in QUANTITATIVE_OPERATORS or row.operator in ("≤", "＜"):
        return
    amount = _cost_in_budget_unit(ctx, row)
    if row.operator == "＝" and amount is not None and amount == ctx.budget:
        return
    yield ctx.at("R-C2", row, "operator",
                 f"{as_kind(row, '成本指标', looks_like_cost)}的指标性质为“{row.operator}”（{row.shown}）；成本是不应超出的上限，"
                 f"应使用“≤”（只有等于预算数时可用“＝”），请把指标性质改为“≤”。", expected="≤")


_COST_BASES = ("预算支出标准", "计划标准")


def _check_cost_basis(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-C3: the basis of a cost value is 预算支出标准 or 计划标准."""
    if not is_total_cost(row) or any(basis in row.basis for basis in _COST_BASES):
        return
    written = f"为“{row.basis}”" if row.basis else "为空"
    yield ctx.at("R-C3", row, "basis",
                 f"{as_kind(row, '成本指标', looks_like_cost)}的指标值确定依据{written}；成本指标应依据“预算支出标准”或“计划标准”确定，"
                 f"请从下拉列表选择其一，文件依据可写在绩效指标描述中。", expected="预算支出标准 或 计划标准")


def _check_social_cost(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-C4: 社会成本/生态环境成本 rows with ≥ or ＞ are suspicious (usually 定性)."""
    if row.level2 not in OTHER_COST_L2 or row.operator not in ("≥", "＞"):
        return
    yield ctx.at("R-C4", row, "operator",
                 f"{row.level2}“{row.name}”的指标性质为“{row.operator}”（{row.shown}），成本越高越好不合常理；"
                 f"这类指标一般为定性（如“减少”），请改为“定性”或用“≤”设上限。", expected="定性 或 ≤")


def _check_cost_percent(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-C5: a cost indicator is money or a unit cost, not a percentage."""
    if not (is_total_cost(row) or row.level2 in OTHER_COST_L2) or row.unit != "%":
        return
    yield ctx.at("R-C5", row, "unit",
                 f"{as_kind(row, '成本指标', looks_like_cost)}用百分比表示（{row.shown}）；成本指标应是金额或单位成本，"
                 f"请改用万元、元或元/人等单位填写。", expected="万元、元或单位成本")


def _check_weight(ctx: CheckedSheet, row: IndicatorRow) -> Iterator[Finding]:
    """R-W1: when weights are used, every 三级 weight is filled and > 0."""
    if ctx.config.weight_total is None:
        return
    if row.weight is None:
        where = ctx.locations.get(row.path("weight"))
        if where is not None and where.raw.strip():
            return  # text that is not a number: the reader (P-NUMBER) or the master check (M-NUMBER) says so
        yield ctx.at("R-W1", row, "weight", f"{row.label}没有填写权重；请填写大于 0 的权重。", expected="> 0")
    elif row.weight <= 0:
        yield ctx.at("R-W1", row, "weight",
                     f"{row.label}的权重为 {plain_number(row.weight)}，权重必须大于 0；请改为大于 0 的数。", expected="> 0")


GRID_CHECKS: tuple[RowCheck, ...] = (
    _check_levels, _check_required, _check_generic_name, _check_numeric, _check_unit, _check_notes,
    _check_qualitative, _check_percent_range, _check_satisfaction, _check_negative, _check_count_unit,
    _check_dates,
)
PROJECT_ROW_CHECKS: tuple[RowCheck, ...] = GRID_CHECKS + (
    _check_cost_cap, _check_cost_operator, _check_cost_basis, _check_social_cost, _check_cost_percent,
    _check_weight,
)


def row_findings(ctx: CheckedSheet, rows: Sequence[IndicatorRow], checks: Sequence[RowCheck]) -> Iterator[Finding]:
    """Every row check on every filled row; rows with only 一级/二级 get R-S4; blank rows are skipped."""
    for row in rows:
        if row.has_content:
            for check in checks:
                yield from check(ctx, row)
        elif row.raw_level1 or row.raw_level2:
            yield ctx.at("R-S4", row, "level2" if row.raw_level2 else "level1",
                         f"“{row.raw_level2 or row.raw_level1}”这一行没有填写三级指标；"
                         f"请填写三级指标的名称、指标性质和指标值，或清空这一行。", expected="三级指标")
