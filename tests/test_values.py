"""Normalising what people type (jixiao_xl.values).

The indicator-value table lists every value string printed in the seed document (巨鹿县行政审批局,
../shared/seed) and the examples of docs/domain.md §0.2, §1c and §1d (R-V1..R-V6), each with the
operator, value, unit and whether a note (a finding) is expected.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jixiao_xl.taxonomy import OPERATORS, QUANTITATIVE_OPERATORS, UNITS
from jixiao_xl.values import (
    NOTE_CODES,
    Note,
    ParsedValue,
    clean_text,
    fold,
    normalise_code,
    normalise_operator,
    parse_date,
    parse_money,
    parse_number,
    parse_percent,
    split_code_name,
    split_indicator_value,
    to_money_unit,
)

D = Decimal
NOTE, CLEAN = True, False

# --------------------------------------------------------------------------------------------------
# split_indicator_value: (text, 指标性质 cell, 度量单位 cell) → (operator, value, unit, note expected)
# --------------------------------------------------------------------------------------------------

SEED_VALUES = [
    # Part 2 of the seed: every distinct 指标值 as printed (operator and unit glued to the number).
    ("≥30 个", "", "", "≥", D("30"), "个", NOTE),
    ("≤10%", "", "", "≤", D("10"), "%", NOTE),
    ("≥90%", "", "", "≥", D("90"), "%", NOTE),
    ("≤6 万元", "", "", "≤", D("6"), "万元", NOTE),
    ("≤100%", "", "", "≤", D("100"), "%", NOTE),
    ("≤95%", "", "", "≤", D("95"), "%", NOTE),
    ("≥60%", "", "", "≥", D("60"), "%", NOTE),
    ("≥100%", "", "", "≥", D("100"), "%", NOTE),
    ("≥10 万元", "", "", "≥", D("10"), "万元", NOTE),
    ("≥99%", "", "", "≥", D("99"), "%", NOTE),
    ("≥50 套", "", "", "≥", D("50"), "套", NOTE),
    ("≥98%", "", "", "≥", D("98"), "%", NOTE),
    ("≥9 万元", "", "", "≥", D("9"), "万元", NOTE),
    ("≥5 台", "", "", "≥", D("5"), "台", NOTE),
    ("≥15 万元", "", "", "≥", D("15"), "万元", NOTE),
    ("≥14 条", "", "", "≥", D("14"), "条", NOTE),
    ("≤1%", "", "", "≤", D("1"), "%", NOTE),
    ("≥7.9 万元", "", "", "≥", D("7.9"), "万元", NOTE),
    ("≥30 台", "", "", "≥", D("30"), "台", NOTE),
    ("≥95%", "", "", "≥", D("95"), "%", NOTE),
    # Part 1 of the seed (部门整体绩效目标): values written into sentences.
    ("达到 100%", "", "", "＝", D("100"), "%", NOTE),
    ("达到 90%", "", "", "＝", D("90"), "%", NOTE),
    ("达到 95%", "", "", "＝", D("95"), "%", NOTE),
    ("达 2 万元", "", "", "＝", D("2"), "万元", NOTE),
    ("达 98%", "", "", "＝", D("98"), "%", NOTE),
    ("达到 2 年以上", "", "", "≥", D("2"), "年", NOTE),
    ("接近于 0", "", "", None, "接近于 0", "", CLEAN),
]

DOMAIN_VALUES = [
    # domain.md §0.2, §0.6, §1c, R-R2, R-V5.
    ("=300天", "", "", "＝", D("300"), "天", NOTE),
    ("10辆", "", "", None, D("10"), "辆", NOTE),
    ("1000人次以上", "", "", "≥", D("1000"), "人次", NOTE),
    ("≤65万元", "", "", "≤", D("65"), "万元", NOTE),
    ("≤ 70 万元", "", "", "≤", D("70"), "万元", NOTE),
    ("250万", "", "", None, D("250"), "万元", NOTE),
    ("%=99", "", "", "＝", D("99"), "%", NOTE),
    ("28.8万元", "", "%", None, D("28.8"), "%", NOTE),
    ("≥80M", "", "", "≥", D("80"), "M", NOTE),
    ("结余率≤5%", "", "", None, "结余率≤5%", "", CLEAN),
    ("12月底前", "", "", None, "12月底前", "", CLEAN),
    ("**月**日前", "", "", None, "**月**日前", "", NOTE),
    ("2021年1月-12月", "", "", None, "2021年1月-12月", "", CLEAN),
    ("2023.07-2024.01", "", "", None, "2023.07-2024.01", "", CLEAN),
    ("优良", "", "", None, "优良", "", CLEAN),
    ("优良", "定性", "", "定性", "优良", "", CLEAN),
    ("明显提升", "定性", "", "定性", "明显提升", "", CLEAN),
    ("减少", "定性", "", "定性", "减少", "", CLEAN),
    ("应保尽保", "", "", None, "应保尽保", "", CLEAN),
    # Operators spelled as words (R-V4).
    (">=90%", "", "", "≥", D("90"), "%", NOTE),
    ("＞＝90%", "", "", "≥", D("90"), "%", NOTE),
    ("不低于90%", "", "", "≥", D("90"), "%", NOTE),
    ("不少于3次", "", "", "≥", D("3"), "次", NOTE),
    ("95%以上", "", "", "≥", D("95"), "%", NOTE),
    ("不超过5%", "", "", "≤", D("5"), "%", NOTE),
    ("不高于3%", "", "", "≤", D("3"), "%", NOTE),
    ("控制在65万元以内", "", "", "≤", D("65"), "万元", NOTE),
    ("控制在5%内", "", "", "≤", D("5"), "%", NOTE),
    ("5%以内", "", "", "≤", D("5"), "%", NOTE),
    ("5%以下", "", "", "≤", D("5"), "%", NOTE),
    ("24小时内", "", "", "≤", D("24"), "小时", NOTE),
    ("大于80%", "", "", "＞", D("80"), "%", NOTE),
    ("小于2%", "", "", "＜", D("2"), "%", NOTE),
    ("<2%", "", "", "＜", D("2"), "%", NOTE),
    ("＞0", "", "", "＞", D("0"), "", NOTE),
    ("≧85%", "", "", "≥", D("85"), "%", NOTE),
    ("等于100%", "", "", "＝", D("100"), "%", NOTE),
    ("90%（含）以上", "", "", "≥", D("90"), "%", NOTE),
    # Widths, separators, decimals.
    ("≥ 95%", "", "", "≥", D("95"), "%", NOTE),
    ("≥９５％", "", "", "≥", D("95"), "%", NOTE),
    ("1,000", "", "", None, D("1000"), "", CLEAN),
    ("1,000人", "", "人", None, D("1000"), "人", NOTE),
    ("95.5%", "", "", None, D("95.5"), "%", NOTE),
    ("５.００", "", "万元", None, D("5.00"), "万元", CLEAN),
    ("95", "≥", "%", "≥", D("95"), "%", CLEAN),
    ("95", "≥", "％", "≥", D("95"), "%", CLEAN),
    ("95", "≥", "百分比", "≥", D("95"), "%", CLEAN),
    ("95%", "≥", "百分比", "≥", D("95"), "%", NOTE),
    ("0", "≤", "%", "≤", D("0"), "%", CLEAN),
    ("-5", "≥", "%", "≥", D("-5"), "%", CLEAN),
    ("50㎡", "", "", None, D("50"), "平方米", NOTE),
    ("3个工作日内", "", "", "≤", D("3"), "个工作日", NOTE),
    ("100余人", "", "", None, "100余人", "", CLEAN),
    # Separate cells that agree or disagree with the value (R-V4, R-V5).
    ("≥90%", "≥", "%", "≥", D("90"), "%", NOTE),
    ("≥90%", "≤", "%", "≤", D("90"), "%", NOTE),
    ("≥30个", "≥", "人", "≥", D("30"), "人", NOTE),
    ("≥90%", "定性", "", "定性", D("90"), "%", NOTE),
    ("95", "定量", "%", None, D("95"), "%", NOTE),
    # Placeholders (R-V3).
    ("XX", "", "", None, "XX", "", NOTE),
    ("xx", "≥", "%", "≥", "xx", "%", NOTE),
    ("**", "", "", None, "**", "", NOTE),
    ("**%", "", "", None, "**%", "%", NOTE),
    ("--", "", "", None, "--", "", NOTE),
    ("-", "", "", None, "-", "", NOTE),
    ("___", "", "", None, "___", "", NOTE),
    ("XX万元", "", "", None, "XX万元", "万元", NOTE),
    ("≥XX个", "", "", "≥", "≥XX个", "个", NOTE),
    # Several targets in one cell (R-V6).
    ("培训≥100人次，宣传≥50次", "", "", None, "培训≥100人次，宣传≥50次", "", NOTE),
    ("门诊1000人次以上，住院200人次以上", "", "", None, "门诊1000人次以上，住院200人次以上", "", NOTE),
    # Blank.
    ("", "", "", None, None, "", CLEAN),
    ("   ", "≥", "%", "≥", None, "%", CLEAN),
]


def _ids(rows):
    return [f"{row[0]!r}|{row[1]}|{row[2]}" for row in rows]


@pytest.mark.parametrize(
    ("text", "operator_cell", "unit_cell", "operator", "value", "unit", "noted"),
    SEED_VALUES + DOMAIN_VALUES,
    ids=_ids(SEED_VALUES + DOMAIN_VALUES),
)
def test_split_indicator_value(text, operator_cell, unit_cell, operator, value, unit, noted):
    parsed = split_indicator_value(text, operator_cell, unit_cell)
    assert parsed.raw == text
    assert parsed.operator == operator
    assert parsed.value == value
    assert type(parsed.value) is type(value)
    assert parsed.unit == unit
    assert bool(parsed.notes) is noted, parsed.notes


def test_seed_table_lists_at_least_sixty_cases():
    assert len(SEED_VALUES) + len(DOMAIN_VALUES) >= 60


def test_operator_conflict_keeps_the_cell_and_says_so():
    parsed = split_indicator_value("≥90%", "≤", "%")
    assert parsed.operator == "≤"
    assert "指标值中的符号“≥”与指标性质“≤”不一致" in parsed.notes
    assert [note.code for note in parsed.notes] == ["R-V4", "R-V4"]


def test_unit_conflict_keeps_the_cell_and_says_so():
    parsed = split_indicator_value("28.8万元", "", "%")
    assert parsed.notes == ("指标值中的单位“万元”与度量单位“%”不一致",)
    assert parsed.notes[0].code == "R-V5"


def test_agreeing_embedded_operator_and_unit_still_warn():
    parsed = split_indicator_value("≥90%", "≥", "％")
    assert parsed.notes == (
        "指标值中含有符号“≥”，符号应在指标性质列填写，指标值只填数字",
        "指标值中含有单位“%”，单位应在度量单位列填写，指标值只填数字",
    )


def test_placeholder_and_multiple_targets_map_to_their_rules():
    placeholder = split_indicator_value("XX")
    multiple = split_indicator_value("培训≥100人次，宣传≥50次")
    assert placeholder.notes == (Note("R-V3", "指标值“XX”是占位符，请填写实际的目标值"),)
    assert placeholder.notes[0].code == "R-V3" and multiple.notes[0].code == "R-V6"


def test_unknown_operator_cell_is_noted():
    parsed = split_indicator_value("95", "定量", "%")
    assert parsed.notes == ("指标性质“定量”无法识别，应为 ≥ ＞ ＝ ＜ ≤ 定性 之一",)
    assert parsed.notes[0].code == "R-S2"  # reported from the 指标性质 cell, not as a value rule


def test_self_contradicting_value_keeps_the_leading_operator():
    parsed = split_indicator_value("≥90%以下")
    assert parsed.operator == "≥"
    assert any("前后矛盾" in note for note in parsed.notes)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(95, D("95")), (D("7.9"), D("7.9")), (0.1, D("0.1")), (6.0, D("6"))],
)
def test_split_accepts_numbers(value, expected):
    parsed = split_indicator_value(value, "≥", "%")
    assert parsed == ParsedValue(clean_text(value), "≥", expected, "%", ())


def test_split_accepts_none():
    assert split_indicator_value(None) == ParsedValue("", None, None, "", ())


def test_parsed_value_is_frozen():
    parsed = split_indicator_value("≥30 个")
    with pytest.raises(AttributeError):
        parsed.operator = "≤"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# normalise_operator
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("≥", "≥"), (">=", "≥"), ("＞＝", "≥"), ("≧", "≥"), ("不低于", "≥"), ("不少于", "≥"), ("以上", "≥"),
        ("大于等于", "≥"), (" ≥ ", "≥"), ("≥（大于等于）", "≥"),
        ("≤", "≤"), ("<=", "≤"), ("＜＝", "≤"), ("不超过", "≤"), ("不高于", "≤"), ("以内", "≤"), ("以下", "≤"),
        ("控制在", "≤"), ("小于等于", "≤"),
        ("＝", "＝"), ("=", "＝"), ("达到", "＝"), ("等于", "＝"),
        ("＞", "＞"), (">", "＞"), ("大于", "＞"), ("高于", "＞"),
        ("＜", "＜"), ("<", "＜"), ("小于", "＜"), ("低于", "＜"),
        ("定性", "定性"), ("定性指标", "定性"),
        ("", None), ("   ", None), (None, None), ("定量", None), ("接近于", None), ("≥≤", None),
    ],
)
def test_normalise_operator(text, expected):
    assert normalise_operator(text) == expected


def test_normalise_operator_returns_only_canonical_operators():
    assert {normalise_operator(symbol) for symbol in OPERATORS} == set(OPERATORS)
    assert [hex(ord(symbol)) for symbol in OPERATORS[:5]] == ["0x2265", "0xff1e", "0xff1d", "0xff1c", "0x2264"]


# --------------------------------------------------------------------------------------------------
# Money and percentages
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("amount", "source", "target", "expected"),
    [
        (D("12345.67"), "元", "万元", D("1.234567")),
        (D("1.234567"), "万元", "元", D("12345.67")),
        (D("50000"), "元", "万元", D("5")),
        (D("6.00"), "万元", "元", D("60000")),
        (D("0.01"), "元", "万元", D("0.000001")),
        (D("7.9"), "万元", "万元", D("7.9")),
        (D("123456789012345678901234567.89"), "元", "万元", D("12345678901234567890123.456789")),
        (5, "万", "元", D("50000")),
    ],
)
def test_to_money_unit_is_exact(amount, source, target, expected):
    converted = to_money_unit(amount, source, target)
    assert converted == expected
    assert isinstance(converted, Decimal)
    assert to_money_unit(converted, target, source) == Decimal(amount)


def test_to_money_unit_keeps_plain_notation():
    assert str(to_money_unit(D("6.00"), "万元", "元")) == "60000"
    assert str(to_money_unit(D("12345.67"), "元", "万元")) == "1.234567"


@pytest.mark.parametrize(
    ("amount", "source", "target", "error"),
    [(0.5, "元", "万元", TypeError), (D("1"), "千元", "元", ValueError), (D("NaN"), "元", "万元", ValueError),
     (D("1"), "", "元", ValueError)],
)
def test_to_money_unit_refuses(amount, source, target, error):
    with pytest.raises(error):
        to_money_unit(amount, source, target)


@pytest.mark.parametrize(
    ("value", "cell_unit", "target", "amount", "noted"),
    [
        ("5万元", "", "万元", D("5"), False),
        ("50,000元", "", "万元", D("5"), True),
        ("50,000元", "万元", "万元", D("5"), True),
        ("５.００", "", "万元", D("5.00"), False),
        ("５.００", "万元", "元", D("50000"), True),
        ("6.00", "单位：万元", "万元", D("6.00"), False),
        ("12345.67", "金额单位:元", "万元", D("1.234567"), True),
        ("5万元", "元", "万元", D("5"), True),
        ("￥6.00", "", "万元", D("6.00"), False),
        (D("7.9"), "万元", "元", D("79000"), True),
        (15, "", "万元", D("15"), False),
        (6.0, "", "万元", D("6.0"), False),
        (None, "", "万元", None, False),
        ("  ", "元", "万元", None, False),
    ],
)
def test_parse_money(value, cell_unit, target, amount, noted):
    found, note = parse_money(value, cell_unit, target)
    assert found == amount
    assert (note is not None) is noted


def test_parse_money_note_names_the_conversion():
    assert parse_money("50,000元") == (D("5"), "金额“50,000元”已由元换算为万元：5 万元")


@pytest.mark.parametrize("value", ["五万元", "5亿元", "约5万", "5-6万元", True, "XX"])
def test_parse_money_rejects_non_numbers(value):
    with pytest.raises(ValueError):
        parse_money(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("95%", D("95")), ("95", D("95")), ("９５％", D("95")), (" 95 % ", D("95")), ("０.９５", D("0.95")),
     (0.95, D("0.95")), (95, D("95")), ("", None), (None, None)],
)
def test_parse_percent(value, expected):
    assert parse_percent(value) == expected


@pytest.mark.parametrize("value", ["%", "百分之九十五", "95%%", "高"])
def test_parse_percent_rejects_non_numbers(value):
    with pytest.raises(ValueError):
        parse_percent(value)


# --------------------------------------------------------------------------------------------------
# Codes
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (435001.0, "435001"),
        (435001, "435001"),
        (4.35001e5, "435001"),
        (D("435001"), "435001"),
        (D("4.35001E+5"), "435001"),
        ("435001", "435001"),
        ("４３５００１", "435001"),
        ("435001.0", "435001"),
        ("'435001", "435001"),
        (" 13052922P00584010723X ", "13052922P00584010723X"),
        ("13052922P00584010723\nX", "13052922P00584010723X"),
        ("001234", "001234"),
        (None, ""),
    ],
)
def test_normalise_code(value, expected):
    assert normalise_code(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123456-某某镇人民政府", ("123456", "某某镇人民政府")),
        ("[123456]某某局", ("123456", "某某局")),
        ("[435001]巨鹿县行政审批局本级", ("435001", "巨鹿县行政审批局本级")),
        ("【435001】巨鹿县行政审批局本级", ("435001", "巨鹿县行政审批局本级")),
        ("435001 巨鹿县行政审批局本级", ("435001", "巨鹿县行政审批局本级")),
        ("435001　巨鹿县行政审批局本级", ("435001", "巨鹿县行政审批局本级")),
        ("４３５００１－巨鹿县行政审批局本级", ("435001", "巨鹿县行政审批局本级")),
        ("12000022P10000210006W 某项目", ("12000022P10000210006W", "某项目")),
        ("435001", ("435001", "")),
        ("巨鹿县行政审批局本级", ("", "巨鹿县行政审批局本级")),
        ("2024-2025年工作计划", ("", "2024-2025年工作计划")),
        ("1、光纤租赁和短信机费用", ("", "1、光纤租赁和短信机费用")),
        ("", ("", "")),
    ],
)
def test_split_code_name(text, expected):
    assert split_code_name(text) == expected


def test_split_code_name_keeps_the_name_as_typed():
    assert split_code_name("[435001]ＡＢＣ局") == ("435001", "ＡＢＣ局")


# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (45292, date(2024, 1, 1)),
        (45292.75, date(2024, 1, 1)),
        (D("45292"), date(2024, 1, 1)),
        ("45292", date(2024, 1, 1)),
        (1, date(1900, 1, 1)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),
        (2958465, date(9999, 12, 31)),
        (datetime(2024, 5, 6, 7, 8), date(2024, 5, 6)),
        (date(2024, 5, 6), date(2024, 5, 6)),
        ("2024年1月1日", date(2024, 1, 1)),
        ("2024 年 12 月 31 日", date(2024, 12, 31)),
        ("2024-01-01", date(2024, 1, 1)),
        ("2024-01-01 00:00:00", date(2024, 1, 1)),
        ("2024/1/1", date(2024, 1, 1)),
        ("2024.1.1", date(2024, 1, 1)),
        ("20240101", date(2024, 1, 1)),
        ("２０２４年１月１日", date(2024, 1, 1)),
        ("２０２４－０１－０１", date(2024, 1, 1)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("serial", "expected"),
    [(0, date(1904, 1, 1)), (43830, date(2024, 1, 1)), ("43830", date(2024, 1, 1))],
)
def test_parse_date_1904_system(serial, expected):
    assert parse_date(serial, epoch1904=True) == expected


@pytest.mark.parametrize(
    "value",
    [60, 0, -1, 2958466, float("nan"), True, "2024-02-30", "2024/13/01", "12月底前", "明年", "2024-01/01",
     "59", "1e400", "20241301"],
)
def test_parse_date_rejects(value):
    with pytest.raises(ValueError):
        parse_date(value)


# --------------------------------------------------------------------------------------------------
# clean_text and the existing helpers
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (6.0, "6"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (7.9, "7.9"),
        (1e20, "100000000000000000000"),
        (435001, "435001"),
        (D("6.00"), "6.00"),
        ("  ≥30 个  ", "≥30 个"),
        ("第一行\n第二行", "第一行\n第二行"),
        ("a\tb\x00c\r\n", "abc"),
        ("\x07 优良 \x1b", "优良"),
        ("\u3000全角空格\u3000", "全角空格"),
        ("ＡＢＣ９５％", "ＡＢＣ９５％"),
    ],
)
def test_clean_text(value, expected):
    assert clean_text(value) == expected


def test_fold_and_parse_number_keep_their_behaviour():
    assert fold(" ≥９５％ ") == "≥95%"
    assert parse_number("1,234.5") == D("1234.5")
    assert parse_number(0.1) == D("0.1")
    assert parse_number("") is None
    with pytest.raises(ValueError):
        parse_number("≥30")


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

_cells = st.one_of(st.text(max_size=40), st.sampled_from(["≥", "≤", "定性", "%", "万元", "个", "XX", ""]))


@given(text=st.text(max_size=80), operator_cell=_cells, unit_cell=_cells)
def test_split_never_raises_and_keeps_raw(text, operator_cell, unit_cell):
    parsed = split_indicator_value(text, operator_cell, unit_cell)
    assert parsed.raw == text
    assert parsed.operator is None or parsed.operator in OPERATORS
    assert parsed.value is None or isinstance(parsed.value, (Decimal, str))
    assert all(isinstance(note, Note) and note and note.code in NOTE_CODES for note in parsed.notes)


@given(
    operator=st.sampled_from(QUANTITATIVE_OPERATORS),
    number=st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False),
    unit=st.sampled_from(UNITS),
    space=st.sampled_from(["", " "]),
)
def test_split_round_trips_operator_number_unit(operator, number, unit, space):
    parsed = split_indicator_value(f"{operator}{format(number, 'f')}{space}{unit}")
    assert (parsed.operator, parsed.value, parsed.unit) == (operator, number, unit)


@given(amount=st.decimals(min_value=-10**12, max_value=10**12, places=4, allow_nan=False, allow_infinity=False))
def test_money_round_trip_is_exact(amount):
    assert to_money_unit(to_money_unit(amount, "万元", "元"), "元", "万元") == amount
    assert to_money_unit(to_money_unit(amount, "元", "万元"), "万元", "元") == amount


# --------------------------------------------------------------------------------------------------
# Notes carry their rule code as data
# --------------------------------------------------------------------------------------------------

# One value that makes each kind of note, with the code it must carry.
NOTE_MAKERS = [
    (("XX", "", ""), "R-V3"),
    (("培训≥100人次，宣传≥50次", "", ""), "R-V6"),
    (("≥90", "", ""), "R-V4"),
    (("≥90", "≤", ""), "R-V4"),
    (("≥90以下", "", ""), "R-V4"),
    (("90%", "", ""), "R-V4"),
    (("28.8万元", "", "%"), "R-V5"),
    (("95", "大约", ""), "R-S2"),
]


@pytest.mark.parametrize("args, code", NOTE_MAKERS, ids=[args[0] + args[1] for args, _ in NOTE_MAKERS])
def test_each_kind_of_note_carries_its_code(args, code):
    assert code in {note.code for note in split_indicator_value(*args).notes}


def test_every_note_code_is_in_the_catalogue():
    from jixiao_xl.catalogue import all_rules

    assert NOTE_CODES == {code for _, code in NOTE_MAKERS}
    assert NOTE_CODES <= {rule.code for rule in all_rules()}


def test_the_code_does_not_come_from_the_wording():
    # A 指标性质 typed as "占位符" made a note that matching words took for R-V3 (a placeholder value).
    parsed = split_indicator_value("95", "占位符", "")
    assert [(note.code, note.text) for note in parsed.notes] == [("R-S2", "指标性质“占位符”无法识别，应为 ≥ ＞ ＝ ＜ ≤ 定性 之一")]


def test_a_note_is_its_text_wherever_it_is_shown():
    import json
    import pickle

    note = split_indicator_value("28.8万元", "", "%").notes[0]
    text = "指标值中的单位“万元”与度量单位“%”不一致"
    assert note == text and note.text == text and type(note.text) is str and hash(note) == hash(text)
    assert json.dumps([note], ensure_ascii=False) == json.dumps([text], ensure_ascii=False)
    copied = pickle.loads(pickle.dumps(note))
    assert (copied.code, copied.text) == ("R-V5", text) and repr(copied) == f"Note('R-V5', {text!r})"
    with pytest.raises(AttributeError):
        note.code = "R-V4"


def test_no_module_works_a_note_code_out_of_its_text():
    """Consumers read ``note.code``; none looks for words in a note (the bug the codes replaced)."""
    import ast
    from pathlib import Path

    import jixiao_xl

    def mentions_note(node: ast.AST) -> bool:
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
        return "note" in name.lower()

    found = []
    for path in Path(jixiao_xl.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            text_in_note = (isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant)
                            and isinstance(node.left.value, str)
                            and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
                            and any(mentions_note(c) for c in node.comparators))
            note_prefix = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                           and node.func.attr in ("startswith", "endswith") and mentions_note(node.func.value))
            if text_in_note or note_prefix or (isinstance(node, ast.Name) and node.id == "note_rule"):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
