"""Tests for jixiao_xl.master: reading, building, checking and writing the master dataset."""

from __future__ import annotations

import csv
import datetime
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from jixiao_xl import catalogue
from jixiao_xl.issued import is_issued_data
from jixiao_xl.master import (
    COLUMNS,
    SHEETS,
    MasterError,
    build_master,
    check_master,
    check_tables,
    load_master,
    load_sample,
    read_tables,
    sample_dir,
    write_master,
)
from jixiao_xl.model import (
    DEFAULT_PLAN_NODES,
    DeptGoal,
    DeptIndicator,
    Indicator,
    Master,
    PlanPoint,
    Project,
    Settings,
    Unit,
)
from jixiao_xl.precheck import check_before_issue, check_master_with_rules

U1, U2 = "435001", "435002"
P1, P2, P3 = "13052922P00584010723X", "13052922P005840107255", "0013052922P0058401071"


def _plan(*amounts: str | None) -> tuple[PlanPoint, ...]:
    return tuple(PlanPoint(node, None if a is None else Decimal(a)) for node, a in zip(DEFAULT_PLAN_NODES, amounts))


def _indicator(level1, level2, name, operator, value, unit="", basis="计划标准", weight=None) -> Indicator:
    return Indicator(level1, level2, name, f"{name}说明", operator, value, unit, basis, weight)


def small_master() -> Master:
    """Two units, three projects, a blank plan node, a 定性 value and a Decimal sum like 0.1 + 0.2."""
    settings = Settings(year=2026, money_unit="万元", framework="2015", weight_total=Decimal("90"),
                        spare_rows=2, department_name="巨鹿县行政审批局")
    p1 = Project(U1, P1, "光纤租赁和短信机费用", Decimal("6.00"), Decimal("6"), None, "光纤租赁", "保障网络畅通",
                 _plan("1.5", "3", "4.5", "6"), (
                     _indicator("产出指标", "数量指标", "光纤数量", "≥", Decimal("30"), "个", weight=Decimal("40")),
                     _indicator("产出指标", "成本指标", "支出费用", "≤", Decimal("6"), "万元", "预算支出标准", Decimal("30")),
                     _indicator("效益指标", "社会效益指标", "服务水平", "定性", "明显提升", weight=Decimal("20")),
                 ))
    p2 = Project(U1, P2, "=软件正版化", Decimal("0.1") + Decimal("0.2"), Decimal("0.1"), Decimal("0.2"), "", "",
                 _plan(None, "0.1", "0.2", "0.3"), (
                     _indicator("满意度指标", "服务对象满意度指标", "满意率", "≥", Decimal("95"), "%",
                                weight=Decimal("90")),
                 ))
    p3 = Project(U2, P3, "统一着装经费", Decimal("9"), None, None, "", "+形象",
                 _plan("2.25", "4.5", "6.75", "9"), (
                     _indicator("产出指标", "时效指标", "完成时间", "定性", "12月底前", weight=Decimal("90")),
                 ))
    return Master(
        settings=settings,
        units=(Unit(U1, "巨鹿县行政审批局本级", "435", "张三", "0319-1234567"), Unit(U2, "巨鹿县政务服务中心")),
        projects=(p1, p2, p3),
        dept_goals=(DeptGoal(U1, 0, "", "总体绩效目标文字"), DeptGoal(U1, 1, "完善服务体系", "设置便民服务中心")),
        dept_indicators=(DeptIndicator(U1, 1, "产出指标", "质量指标", "业务处理及时率", "≥", Decimal("100"), "%",
                                       "计划标准"),),
    )


def _cell_text(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    return "" if value is None else value


def master_records(master: Master, numbers: bool) -> dict[str, list[dict[str, object]]]:
    """The master as header-keyed records; with ``numbers`` amounts are JSON numbers, else text."""
    def num(value):
        if value is None:
            return None if numbers else ""
        return float(value) if numbers else str(value)

    s = master.settings
    settings = {"预算年度": s.year, "金额单位": s.money_unit, "指标体系": s.framework,
                "支出计划节点": "，".join(s.plan_nodes), "权重合计": num(s.weight_total),
                "备用指标行数": s.spare_rows, "主管部门名称": s.department_name}
    records = {
        "设置": [{"项目": k, "值": v} for k, v in settings.items()],
        "单位": [dict(zip(COLUMNS["单位"], (u.code, u.name, u.parent_code, u.contact, u.phone))) for u in master.units],
        "项目": [],
        "绩效指标": [],
        "部门整体目标": [dict(zip(COLUMNS["部门整体目标"], (g.unit_code, g.seq, g.name, g.goal)))
                   for g in master.dept_goals],
        "部门整体指标": [dict(zip(COLUMNS["部门整体指标"], (d.unit_code, d.seq, d.level1, d.level2, d.name, d.operator,
                                                     num(d.value), d.unit, d.basis))) for d in master.dept_indicators],
    }
    for p in master.projects:
        values = (p.unit_code, p.code, p.name, num(p.budget), num(p.fiscal), num(p.other), p.purpose, p.annual_goal,
                  *(num(pt.amount) for pt in p.plan))
        records["项目"].append(dict(zip(COLUMNS["项目"], values)))
        for i in p.indicators:
            value = num(i.value) if isinstance(i.value, Decimal) else i.value
            records["绩效指标"].append(dict(zip(COLUMNS["绩效指标"], (
                p.code, i.level1, i.level2, i.name, i.description, i.operator, value, i.unit, i.basis, num(i.weight)))))
    return records


def write_csv_folder(folder: Path, records: dict[str, list[dict[str, object]]], bom: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for sheet, rows in records.items():
        headers = list(rows[0]) if rows else list(COLUMNS[sheet])
        with open(folder / f"{sheet}.csv", "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            writer.writerows([[_cell_text(row.get(h)) for h in headers] for row in rows])
    return folder


@pytest.fixture
def clean_xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "master.xlsx"
    write_master(path, small_master())
    return path


def _where(findings) -> set[tuple[str, str, str]]:
    return {(f.rule, f.sheet, f.cell) for f in findings}


# --- the empty workbook ---------------------------------------------------------------------------


def test_empty_workbook_sheets_headers_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    write_master(path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:len(SHEETS)] == list(SHEETS)
    assert SHEETS[-1] == "保障措施"
    assert set(book.sheetnames[len(SHEETS):]) == {"说明", "_lists"}
    for sheet in SHEETS:
        headers = [c.value for c in book[sheet][1]]
        assert tuple(headers) == COLUMNS[sheet], sheet
    assert COLUMNS["项目"][-4:] == ("支出计划-3月底", "支出计划-6月底", "支出计划-10月底", "支出计划-12月底")
    settings = {row[0]: row[1] for row in book["设置"].iter_rows(min_row=2, values_only=True)}
    assert settings == {
        "预算年度": datetime.date.today().year + 1,
        "金额单位": "万元",
        "指标体系": "2015",
        "支出计划节点": "3月底,6月底,10月底,12月底",
        "权重合计": None,
        "备用指标行数": 3,
        "主管部门名称": None,
    }
    assert book["_lists"].sheet_state == "hidden"
    assert book["设置"].freeze_panes == "A2"


def test_empty_workbook_validations_reference_lists(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    write_master(path)
    book = openpyxl.load_workbook(path)
    lists = book["_lists"]
    columns = {lists.cell(1, c).value: c for c in range(1, lists.max_column + 1)}

    def items(name: str) -> list[str]:
        col = columns[name]
        return [lists.cell(r, col).value for r in range(2, lists.max_row + 1) if lists.cell(r, col).value]

    assert items("一级指标") == ["产出指标", "效益指标", "满意度指标"]
    assert items("指标性质") == ["≥", "＞", "＝", "＜", "≤", "定性"]
    for sheet in ("绩效指标", "部门整体指标"):
        by_column = {}
        for dv in book[sheet].data_validations.dataValidation:
            assert "_lists" in dv.formula1 and "," not in dv.formula1  # a range on _lists, never inline
            by_column[str(dv.sqref).split(":")[0].rstrip("0123456789")] = dv
        headers = [c.value for c in book[sheet][1]]
        letter = {h: openpyxl.utils.get_column_letter(i + 1) for i, h in enumerate(headers)}
        for header in ("一级指标", "二级指标", "指标性质", "度量单位", "指标值确定依据"):
            dv = by_column[letter[header]]
            assert str(dv.sqref).endswith("5001")  # ≥ 2000 rows
        assert by_column[letter["度量单位"]].errorStyle == "warning"
        assert by_column[letter["指标性质"]].errorStyle in (None, "stop")
    setting_lists = [dv.formula1 for dv in book["设置"].data_validations.dataValidation if dv.type == "list"]
    assert len(setting_lists) == 2 and all("_lists" in f for f in setting_lists)


def test_2021_framework_lists_cost_as_level1(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    write_master(path, Master(settings=Settings(year=2026, framework="2021")))
    lists = openpyxl.load_workbook(path)["_lists"]
    assert [lists.cell(r, 1).value for r in range(2, 6)] == ["成本指标", "产出指标", "效益指标", "满意度指标"]


def test_readme_sheet_explains_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    write_master(path)
    text = "\n".join(str(v) for row in openpyxl.load_workbook(path)["说明"].iter_rows(values_only=True) for v in row if v)
    for needle in ("累计", "万元", "序号 0", "总体绩效目标", "指标性质", "支出计划节点"):
        assert needle in text


def test_identical_input_gives_identical_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_master(a, small_master())
    write_master(b, small_master())
    assert a.read_bytes() == b.read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_formula_like_text_is_written_as_text(clean_xlsx: Path) -> None:
    sheet = openpyxl.load_workbook(clean_xlsx)["项目"]
    assert sheet["C3"].value == "=软件正版化" and sheet["C3"].data_type == "s"
    assert sheet["H4"].value == "+形象" and sheet["H4"].data_type == "s"
    assert sheet["B2"].data_type == "s" and sheet["D2"].number_format == "0.00"
    assert sheet["I3"].value is None  # the blank plan node stays blank


# --- round trip and fingerprint -------------------------------------------------------------------


def test_round_trip_xlsx_csv_json_give_the_same_master(tmp_path: Path) -> None:
    original = small_master()
    xlsx = tmp_path / "master.xlsx"
    write_master(xlsx, original)
    from_xlsx = load_master(xlsx)
    assert from_xlsx == original
    assert from_xlsx.projects[1].budget == Decimal("0.3")
    assert from_xlsx.projects[1].plan[0] == PlanPoint("3月底", None)
    assert from_xlsx.projects[0].indicators[2].value == "明显提升"

    folder = write_csv_folder(tmp_path / "csv", master_records(original, numbers=False))
    json_path = tmp_path / "master.json"
    json_path.write_text(json.dumps(master_records(original, numbers=True), ensure_ascii=False), encoding="utf-8")
    from_csv, from_json = load_master(folder), load_master(json_path)
    assert from_csv == original and from_json == original
    assert from_xlsx.fingerprint == from_csv.fingerprint == from_json.fingerprint
    assert len(from_xlsx.fingerprint) == 64


def test_fingerprint_changes_with_content(clean_xlsx: Path) -> None:
    before = load_master(clean_xlsx).fingerprint
    book = openpyxl.load_workbook(clean_xlsx)
    book["项目"]["C2"] = "另一个名称"
    book.save(clean_xlsx)
    assert load_master(clean_xlsx).fingerprint != before


def test_plain_utf8_csv_without_bom(tmp_path: Path) -> None:
    folder = write_csv_folder(tmp_path / "csv", master_records(small_master(), numbers=False), bom=False)
    assert load_master(folder) == small_master()


# --- reading details -----------------------------------------------------------------------------


def test_calamine_floats_and_numeric_codes_come_back_as_typed(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    write_master(path, small_master())
    book = openpyxl.load_workbook(path)
    book["单位"]["A2"] = 435001  # a code typed as a number
    book["项目"]["A2"] = 435001
    book["项目"]["D2"] = 6.0
    book["项目"]["I2"] = 1.5
    book.save(path)
    tables = read_tables(path)
    assert tables.table("单位").rows[0].get("单位编码") == "435001"
    project = tables.table("项目").rows[0]
    assert (project.get("单位编码"), project.get("预算数"), project.get("支出计划-3月底")) == ("435001", "6", "1.5")
    master = load_master(path)
    assert master.units[0].code == U1 and master.projects[0].unit_code == U1
    assert check_master(path) == []


def test_header_synonyms_blank_rows_and_row_numbers(tmp_path: Path) -> None:
    records = master_records(small_master(), numbers=False)
    renames = {"单位编码": "单位代码", "项目编码": "项目代码", "预算数": "年度资金总额", "财政资金": "财政拨款",
               "度量单位": "计量单位", "指标值确定依据": "指标值设定依据", "指标性质": "计算符号", "权重": "分值"}
    for sheet in ("单位", "项目", "绩效指标"):
        records[sheet] = [{renames.get(k, k): v for k, v in row.items()} for row in records[sheet]]
    records["项目"].insert(1, {k: "" for k in records["项目"][0]})  # a blank row between projects
    folder = write_csv_folder(tmp_path / "csv", records)
    tables = read_tables(folder)
    projects = tables.table("项目")
    assert projects.headers[:4] == ("单位编码", "项目编码", "项目名称", "预算数")
    assert [r.number for r in projects.rows] == [2, 4, 5]
    assert projects.cell(projects.rows[1], "预算数") == "D4"
    assert build_master(tables) == small_master()


def test_title_row_above_headers_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    write_master(path, small_master())
    book = openpyxl.load_workbook(path)
    book["单位"].insert_rows(1)
    book["单位"]["A1"] = "单位清单"
    book.save(path)
    table = read_tables(path).table("单位")
    assert table.header_row == 2 and table.rows[0].number == 3
    assert load_master(path).units == small_master().units


def test_settings_parsing_variants(tmp_path: Path) -> None:
    records = master_records(small_master(), numbers=False)
    records["设置"] = [{"项目": "预算年度", "值": "2026"}, {"项目": "支出计划节点", "值": "6月底、12月底"},
                     {"项目": "指标体系", "值": "财预〔2021〕101号"}, {"项目": "权重合计", "值": ""}]
    for row in records["项目"]:
        amounts = [row.pop(f"支出计划-{n}") for n in DEFAULT_PLAN_NODES]
        row["支出计划-6月底"], row["支出计划-12月底"] = amounts[1], amounts[3]
    master = load_master(write_csv_folder(tmp_path / "csv", records))
    s = master.settings
    assert (s.year, s.framework, s.plan_nodes, s.weight_total, s.spare_rows, s.money_unit) == \
        (2026, "2021", ("6月底", "12月底"), None, 3, "万元")
    assert master.projects[0].plan == (PlanPoint("6月底", Decimal("3")), PlanPoint("12月底", Decimal("6")))


def test_bad_values_do_not_crash_build(clean_xlsx: Path) -> None:
    book = openpyxl.load_workbook(clean_xlsx)
    book["设置"]["B2"] = "明年"
    book["设置"]["B4"] = "2030"
    book["项目"]["D2"] = "六万元"
    book["绩效指标"]["G2"] = "≥30个"
    book["绩效指标"]["F3"] = ">="
    book["部门整体目标"]["B3"] = "一"
    book.save(clean_xlsx)
    master = load_master(clean_xlsx)
    assert master.settings.year == datetime.date.today().year + 1 and master.settings.framework == "2015"
    assert master.projects[0].budget is None
    assert master.projects[0].indicators[0].value == "≥30个"
    assert master.projects[0].indicators[1].operator == "≥"
    assert [g.seq for g in master.dept_goals] == [0]


# --- unreadable masters ---------------------------------------------------------------------------


def _assert_chinese_error(path: Path, *needles: str) -> None:
    with pytest.raises(MasterError) as info:
        load_master(path)
    message = str(info.value)
    assert "；" in message and any("\u4e00" <= ch <= "\u9fff" for ch in message)
    for needle in needles:
        assert needle in message
    findings = check_master(path)
    assert [f.rule for f in findings] == ["M-UNREADABLE"] and findings[0].message == message


def test_missing_path(tmp_path: Path) -> None:
    _assert_chinese_error(tmp_path / "nope.xlsx", "找不到主数据文件", "master init")


def test_folder_without_csv(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    _assert_chinese_error(tmp_path, "CSV")


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "master.txt"
    path.write_text("不是主数据", encoding="utf-8")
    _assert_chinese_error(path, "无法识别")


def test_text_file_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "master.xlsx"
    path.write_text("不是工作簿", encoding="utf-8")
    _assert_chinese_error(path, "无法读取")


def test_json_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "master.json"
    path.write_text("[1, 2]", encoding="utf-8")
    _assert_chinese_error(path, "JSON")


def test_missing_required_sheet_raises_on_load_but_is_a_finding_on_check(clean_xlsx: Path) -> None:
    book = openpyxl.load_workbook(clean_xlsx)
    del book["单位"]
    book.save(clean_xlsx)
    with pytest.raises(MasterError, match="单位"):
        load_master(clean_xlsx)
    assert ("M-MISSING-SHEET", "单位", "") in _where(check_master(clean_xlsx))


def test_json_settings_as_object_and_empty_lists(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    data = {"设置": {"预算年度": 2026, "支出计划节点": "6月底、12月底"}, "单位": [], "项目": [], "绩效指标": []}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    master = load_master(path)
    assert master.settings.plan_nodes == ("6月底", "12月底") and master.units == ()
    assert check_master(path) == []


def test_optional_sheets_may_be_missing(tmp_path: Path) -> None:
    records = master_records(small_master(), numbers=False)
    del records["部门整体目标"], records["部门整体指标"]
    folder = write_csv_folder(tmp_path / "csv", records)
    assert load_master(folder).dept_goals == ()
    assert check_master(folder) == []


# --- checks ---------------------------------------------------------------------------------------


def test_clean_master_has_no_findings(clean_xlsx: Path) -> None:
    assert check_master(clean_xlsx) == []


def _set(sheet: str, cell: str, value: object):
    def edit(book) -> None:
        book[sheet][cell] = value
    return edit


def _delete_column(sheet: str, index: int):
    def edit(book) -> None:
        book[sheet].delete_cols(index)
    return edit


def _delete_sheet(sheet: str):
    def edit(book) -> None:
        del book[sheet]
    return edit


def _both(*edits):
    def edit(book) -> None:
        for one in edits:
            one(book)
    return edit


DEFECTS = {
    "missing sheet": (_delete_sheet("项目"), ("M-MISSING-SHEET", "项目", "")),
    "missing column": (_delete_column("项目", 4), ("M-MISSING-COLUMN", "项目", "")),
    "missing plan column": (_delete_column("项目", 12), ("M-MISSING-COLUMN", "项目", "")),
    "bad year": (_set("设置", "B2", "明年"), ("M-SETTING", "设置", "B2")),
    "bad money unit": (_set("设置", "B3", "千元"), ("M-SETTING", "设置", "B3")),
    "bad framework": (_set("设置", "B4", "2030"), ("M-SETTING", "设置", "B4")),
    "duplicate node": (_set("设置", "B5", "3月底,3月底,12月底"), ("M-SETTING", "设置", "B5")),
    "bad weight total": (_set("设置", "B6", "-5"), ("M-SETTING", "设置", "B6")),
    "bad spare rows": (_set("设置", "B7", "2.5"), ("M-SETTING", "设置", "B7")),
    "duplicate unit": (_set("单位", "A3", U1), ("M-DUP-UNIT", "单位", "A3")),
    "empty unit code": (_set("单位", "A3", None), ("M-MISSING-CODE", "单位", "A3")),
    "empty unit name": (_set("单位", "B2", None), ("M-REQUIRED", "单位", "B2")),
    "unknown unit": (_set("项目", "A4", "999999"), ("M-UNKNOWN-UNIT", "项目", "A4")),
    "duplicate project": (_set("项目", "B3", P1), ("M-DUP-PROJECT", "项目", "B3")),
    "empty project code": (_set("项目", "B4", None), ("M-MISSING-CODE", "项目", "B4")),
    "empty project name": (_set("项目", "C2", None), ("M-REQUIRED", "项目", "C2")),
    "budget not a number": (_set("项目", "D2", "六万"), ("M-NUMBER", "项目", "D2")),
    "plan not a number": (_set("项目", "I2", "一半"), ("M-NUMBER", "项目", "I2")),
    "unknown project": (_set("绩效指标", "A2", "NOPE"), ("M-UNKNOWN-PROJECT", "绩效指标", "A2")),
    "empty indicator code": (_set("绩效指标", "A3", None), ("M-MISSING-CODE", "绩效指标", "A3")),
    "glued value": (_set("绩效指标", "G2", "≥30个"), ("M-NUMBER", "绩效指标", "G2")),
    "bad weight": (_set("绩效指标", "J2", "四十分"), ("M-NUMBER", "绩效指标", "J2")),
    "goal of unknown unit": (_set("部门整体目标", "A3", "999999"), ("M-UNKNOWN-UNIT", "部门整体目标", "A3")),
    "duplicate goal seq": (_set("部门整体目标", "B3", 0), ("M-GOAL-SEQ", "部门整体目标", "B3")),
    "goal seq not int": (_set("部门整体目标", "B3", "一"), ("M-NUMBER", "部门整体目标", "B3")),
    "indicator seq without goal": (_set("部门整体指标", "B2", 7), ("M-GOAL-SEQ", "部门整体指标", "B2")),
}
# What the domain rules judge on the master (jixiao-xl master check runs them through the precheck): the
# funds (R-F1), the plan (R-F5), the levels (R-S1) and the required indicator cells (R-S2).
VALUE_DEFECTS = {
    "empty budget": (_set("项目", "D2", None), ("R-F1", "项目", "D2")),
    "negative money": (_set("项目", "F2", -1), ("R-F1", "项目", "F2")),
    "funds do not add up": (_set("项目", "E3", 0.2), ("R-F1", "项目", "D3")),
    "last node blank": (_set("项目", "L4", None), ("R-F5", "项目", "L4")),
    "last node short": (_set("项目", "L2", 5), ("R-F5", "项目", "L2")),
    "last node over": (_set("项目", "L2", 7), ("R-F5", "项目", "L2")),
    "plan decreases": (_set("项目", "J2", 1), ("R-F5", "项目", "J2")),
    "node over budget": (_set("项目", "K4", 10), ("R-F5", "项目", "K4")),
    "negative plan": (_set("项目", "I3", -1), ("R-F5", "项目", "I3")),
    "level1 not in framework": (_set("绩效指标", "B2", "投入指标"), ("R-S1", "绩效指标", "B2")),
    "level2 not under level1": (_set("绩效指标", "C2", "经济效益指标"), ("R-S1", "绩效指标", "C2")),
    "empty level3": (_set("绩效指标", "D2", None), ("R-S2", "绩效指标", "D2")),
    "empty operator": (_set("绩效指标", "F3", None), ("R-S2", "绩效指标", "F3")),
    "bad operator": (_set("绩效指标", "F2", "大约"), ("R-S2", "绩效指标", "F2")),
    "dept level2 wrong": (_both(_set("部门整体指标", "C2", "效益指标"), _set("部门整体指标", "D2", "数量")),
                          ("R-S1", "部门整体指标", "D2")),
}
# Cells above: 项目 D=预算数 E=财政资金 F=其他资金 I..L=3月底..12月底; rows 2, 3, 4 = P1, P2, P3.


def _edited(path: Path, edit) -> Path:
    book = openpyxl.load_workbook(path)
    edit(book)
    book.save(path)
    return path


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_is_found_at_its_cell(clean_xlsx: Path, defect: str) -> None:
    edit, expected = DEFECTS[defect]
    findings = check_master(_edited(clean_xlsx, edit))
    assert expected in _where(findings), [(f.rule, f.sheet, f.cell, f.message) for f in findings]
    hit = next(f for f in findings if (f.rule, f.sheet, f.cell) == expected)
    assert hit.file == str(clean_xlsx)
    assert hit.severity == catalogue.get(hit.rule).severity
    assert any("\u4e00" <= ch <= "\u9fff" for ch in hit.message) and "；" in hit.message


@pytest.mark.parametrize("defect", sorted(VALUE_DEFECTS))
def test_each_value_defect_is_found_by_the_rules_at_its_master_cell(clean_xlsx: Path, defect: str) -> None:
    edit, expected = VALUE_DEFECTS[defect]
    path = _edited(clean_xlsx, edit)
    assert check_master(path) == []  # the master is well formed: its structure check finds nothing
    findings = check_master_with_rules(path)
    assert expected in _where(findings), [(f.rule, f.sheet, f.cell, f.message) for f in findings]
    hit = next(f for f in findings if (f.rule, f.sheet, f.cell) == expected)
    assert hit.file == str(clean_xlsx) and hit.severity == "error"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in hit.message) and "；" in hit.message
    assert is_issued_data(hit) == (expected[1] == "项目" and expected[2][0] in "DEF")  # money locks, plan not


def test_an_unreadable_amount_is_one_m_number_and_no_rule_finding_at_its_cell(clean_xlsx: Path) -> None:
    path = _edited(clean_xlsx, _both(_set("项目", "D2", "六万"), _set("项目", "L3", "十")))
    at = {(f.cell, f.rule) for f in check_master_with_rules(path) if f.sheet == "项目"}
    assert {("D2", "M-NUMBER"), ("L3", "M-NUMBER")} <= at
    assert not {cell for cell, rule in at if rule.startswith("R-")} & {"D2", "L3"}


def test_a_missing_column_is_one_m_missing_column_and_no_rule_finding_per_row(clean_xlsx: Path) -> None:
    path = _edited(clean_xlsx, _delete_column("项目", 12))
    findings = check_master_with_rules(path)
    assert ("M-MISSING-COLUMN", "支出计划-12月底") in {(f.rule, f.field) for f in findings}
    assert not [f for f in findings if f.rule.startswith("R-") and f.field == "支出计划-12月底"]


def test_funds_block_issuing_as_before_and_a_missing_fund_split_does_not(clean_xlsx: Path) -> None:
    # P3 has a 预算数 and neither 财政资金 nor 其他资金: the master may leave the split out (its 说明 says so).
    [split] = [f for f in check_master_with_rules(clean_xlsx) if f.rule == "R-F1"]
    assert (split.sheet, split.cell, split.field, split.value) == ("项目", "E4", "财政资金", "")
    assert not check_before_issue(clean_xlsx, load_master(clean_xlsx)).blocks
    path = _edited(clean_xlsx, _set("项目", "E3", 0.2))  # 财政资金 + 其他资金 ≠ 预算数 on P2
    check = check_before_issue(path, load_master(path))
    assert check.blocks and [(f.rule, f.cell) for f in check.issued] == [("R-F1", "D3")]
    assert ("R-F1", "E4") in [(f.rule, f.cell) for f in check.for_units]


def test_a_department_indicator_after_a_row_with_a_bad_seq_is_located_at_its_own_row(clean_xlsx: Path) -> None:
    def add_a_row_below_a_bad_seq(book) -> None:
        sheet = book["部门整体指标"]
        sheet.append([U1, 1, "投入指标", "数量指标", "办件数量", "≥", 100, "件", "计划标准"])
        sheet["B2"] = "一"  # not an integer: the model leaves this row out

    findings = check_master_with_rules(_edited(clean_xlsx, add_a_row_below_a_bad_seq))
    where = {(f.rule, f.cell) for f in findings if f.sheet == "部门整体指标"}
    assert ("M-NUMBER", "B2") in where and ("R-S1", "C3") in where
    assert not [cell for rule, cell in where if rule.startswith("R-") and cell.endswith("2")]


def test_finding_details_for_a_plan_defect(clean_xlsx: Path) -> None:
    path = _edited(clean_xlsx, _set("项目", "L2", 5))
    [finding] = [f for f in check_master_with_rules(path) if f.rule == "R-F5" and f.project_code == P1]
    assert (finding.unit_code, finding.project_code, finding.field) == (U1, P1, "支出计划-12月底")
    assert (finding.sheet, finding.cell, finding.value) == ("项目", "L2", "5")
    assert "12月底" in finding.message and "应等于预算数" in finding.message


def test_tolerated_spellings_are_read_and_the_level_aliases_noted_by_r_s1(clean_xlsx: Path) -> None:
    book = openpyxl.load_workbook(clean_xlsx)
    book["绩效指标"]["F2"] = ">="      # operator synonym
    book["绩效指标"]["B3"] = "产出"     # 一级 variant
    book["绩效指标"]["C5"] = "满意度"   # 二级 variant
    book["设置"]["B5"] = "3月底，6月底、10月底,12月底"
    book.save(clean_xlsx)
    assert check_master(clean_xlsx) == []
    notes = [f for f in check_master_with_rules(clean_xlsx) if f.rule == "R-S1"]
    assert [(f.severity, f.sheet, f.cell, f.expected) for f in notes] == [
        ("info", "绩效指标", "B3", "产出指标"),
        ("info", "绩效指标", "C5", "服务对象满意度指标"),
    ]


def test_findings_are_ordered_by_sheet_then_row(clean_xlsx: Path) -> None:
    book = openpyxl.load_workbook(clean_xlsx)
    book["部门整体指标"]["B2"] = 7
    book["绩效指标"]["A3"] = "NOPE"
    book["项目"]["L4"] = "x"
    book["项目"]["C2"] = None
    book["设置"]["B3"] = "千元"
    book.save(clean_xlsx)
    order = [(f.sheet, f.cell) for f in check_master(clean_xlsx)]
    assert order == [("设置", "B3"), ("项目", "C2"), ("项目", "L4"), ("绩效指标", "A3"), ("部门整体指标", "B2")]


def test_csv_and_json_findings_name_their_cells(tmp_path: Path) -> None:
    records = master_records(small_master(), numbers=False)
    records["项目"][1]["预算数"] = "abc"
    folder = write_csv_folder(tmp_path / "csv", records)
    assert ("M-NUMBER", "项目", "D3") in _where(check_master(folder))
    json_path = tmp_path / "m.json"
    json_path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    assert ("M-NUMBER", "项目", "D3") in _where(check_master(json_path))


def test_check_tables_never_raises_on_garbage() -> None:
    from jixiao_xl.master import Row, Table, Tables

    garbage = Table("项目", ("预算数",), {"预算数": "A"}, (Row(2, {"预算数": "x"}),))
    findings = check_tables(Tables("mem", {"项目": garbage}), file="mem")
    rules = {f.rule for f in findings}
    assert {"M-MISSING-SHEET", "M-MISSING-COLUMN", "M-NUMBER"} <= rules


def test_rule_codes_are_registered() -> None:
    codes = {r.code for r in catalogue.all_rules()}
    expected = {"M-MISSING-SHEET", "M-MISSING-COLUMN", "M-SETTING", "M-DUP-UNIT", "M-DUP-PROJECT", "M-MISSING-CODE",
                "M-UNKNOWN-UNIT", "M-UNKNOWN-PROJECT", "M-REQUIRED", "M-NUMBER", "M-GOAL-SEQ", "M-MEASURE-SEQ",
                "M-UNREADABLE"}
    assert expected <= codes
    # What the domain rules judge has no M- code of its own: funds and plan are R-F1/R-F5, levels R-S1/R-S2.
    assert not {"M-FUNDS", "M-PLAN-SHORT", "M-PLAN-DECREASE", "M-PLAN-OVER", "M-LEVEL1", "M-LEVEL2",
                "M-LEVEL-ALIAS", "M-OPERATOR"} & codes
    assert all(catalogue.get(c).title and catalogue.get(c).fix for c in expected)


# --- the bundled sample ---------------------------------------------------------------------------


def test_sample_loads_and_has_the_blank_december_plan() -> None:
    folder = sample_dir()
    assert (folder / "项目.csv").is_file()
    tables = read_tables(folder)
    projects = tables.table("项目")
    row = next(r for r in projects.rows if r.get("项目编码") == "13052922P005840107184")
    assert row.get("项目名称") == "统一着装经费"
    cell = projects.cell(row, "支出计划-12月底")
    findings = check_master_with_rules(folder)
    assert ("R-F5", "项目", cell) in _where(findings)
    short = next(f for f in findings if f.rule == "R-F5")
    assert short.project_code == "13052922P005840107184" and short.unit_code == "435001"
    # On the master the blank last node also says how much is planned so far and how much is missing.
    assert short.message == ("支出计划“12月底”没有填写；请填写截至12月底的累计支出金额（万元），最后一个节点应等于预算数 "
                             "9.00 万元（截至10月底已安排 6.75 万元，还差 2.25 万元）。")
    assert load_sample().projects[2].plan[-1].amount is None


def test_sample_round_trips_through_the_workbook(tmp_path: Path) -> None:
    sample = load_sample()
    path = tmp_path / "sample.xlsx"
    write_master(path, sample)
    again = load_master(path)
    assert again == sample and again.fingerprint == sample.fingerprint
    assert [f.rule for f in check_master(path)] == [f.rule for f in check_master(sample_dir())]


def test_projects_with_code_finds_every_holder_in_master_order() -> None:
    one = Project(U1, "P-1", "项目一", Decimal("1"))
    shared_a = Project(U1, "P-2", "项目二", Decimal("2"))
    shared_b = Project(U2, "P-2", "项目二（另一单位）", Decimal("3"))
    master = Master(Settings(year=2025), units=(Unit(U1, "甲"), Unit(U2, "乙")), projects=(shared_a, one, shared_b))
    assert master.projects_with_code("P-1") == (one,)
    assert master.projects_with_code("P-2") == (shared_a, shared_b)
    assert master.projects_with_code("P-3") == ()
    assert master.projects_with_code(" P-1") == ()  # codes are compared exactly, as the caller cleaned them


def test_a_blank_department_goal_is_one_finding_of_the_goal_rule(tmp_path: Path) -> None:
    # The goal rule (R-S7) judges a blank 绩效目标 on the master as on a return; the structure check says nothing.
    path = tmp_path / "m.xlsx"
    write_master(path, load_sample())
    book = openpyxl.load_workbook(path)
    book["部门整体目标"]["D2"] = None  # the unit's 总体绩效目标
    book.save(path)
    at_d2 = [(f.rule, f.severity) for f in check_master_with_rules(path) if (f.sheet, f.cell) == ("部门整体目标", "D2")]
    assert at_d2 == [("R-S7", "error")]
