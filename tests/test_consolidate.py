"""Consolidation and status: exact totals, sources of every number, reconciliation, outputs and charts."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import zipfile
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from jixiao_xl.status import unit_status
from jixiao_xl.consolidate import (
    MASTER_ORIGIN,
    PLAN_CHART,
    SHEETS,
    SUMMARY_CHART,
    consolidate,
    exact_sum,
    percent,
    write_consolidation,
)
from jixiao_xl.errors import InputError
from jixiao_xl.findings import Finding
from jixiao_xl.ledger import Ledger
from jixiao_xl.master import load_sample
from jixiao_xl.model import Master, PlanPoint, Unit
from jixiao_xl.status import STATES, render_status_table, status_json, unit_status
from jixiao_xl.xlsx.sheetwriter import display_width
from test_ledger import make_submission, sample_findings

D = Decimal


@pytest.fixture(scope="module")
def sample() -> Master:
    return load_sample()


def _copy_unit(master: Master, code: str, name: str, prefix: str, count: int, budgets: list[str]) -> tuple:
    """A new unit whose projects are the sample's first ``count`` projects with new codes and budgets."""
    unit = Unit(code, name, "435")
    projects = []
    for k, (project, budget) in enumerate(zip(master.projects[:count], budgets)):
        amount = D(budget)
        plan = tuple(PlanPoint(p.node, amount if p.node == "12月底" else None) for p in project.plan)
        projects.append(dataclasses.replace(project, unit_code=code, code=f"{prefix}{k:03d}", budget=amount,
                                            fiscal=amount, other=None, plan=plan))
    return unit, tuple(projects)


@pytest.fixture(scope="module")
def three_units(sample) -> Master:
    """435001 (the sample, 60.00), 435002 (0.10 + 0.20 — not exact in binary floating point), 435003 (16.00)."""
    unit2, projects2 = _copy_unit(sample, "435002", "巨鹿县政务服务中心", "P2-", 2, ["0.10", "0.20"])
    unit3, projects3 = _copy_unit(sample, "435003", "=HYPERLINK(\"http://x\")便民服务站", "P3-", 2, ["6.00", "10.00"])
    return dataclasses.replace(sample, units=(*sample.units, unit2, unit3),
                               projects=(*sample.projects, *projects2, *projects3))


@pytest.fixture()
def ledger(tmp_path):
    with Ledger.open(tmp_path / "ledger.sqlite") as opened:
        yield opened


def _total(c, table: str, column: str):
    t = c.table(table)
    return t.totals[-1][t.index(column)]


# ---------------------------------------------------------------------------------------------------------
# Totals


def test_exact_helpers():
    assert exact_sum([D("0.10"), D("0.20"), None]) == D("0.30")
    assert str(exact_sum([D("1E+30"), D("0.01")])) == "1000000000000000000000000000000.01"
    assert percent(D("1"), D("3")) == D("33.33") and percent(D("1"), D("0")) is None


def test_sample_total_is_exact(sample, ledger):
    sub = make_submission(sample, "435001")
    ledger.record(sub, "/in/435001.xlsx", 100, [])
    c = consolidate(sample, ledger)
    assert c.grand_total == D("60.00") and str(c.grand_total) == "60.00"
    assert _total(c, "总表", "预算数") == D("60.00") and str(_total(c, "总表", "预算数")) == "60.00"
    assert _total(c, "总表", "财政资金") == D("60.00")
    assert _total(c, "明细", "预算数") == D("60.00")
    assert c.findings == ()
    (row,) = c.table("总表").records()
    assert row["来源"] == "报送" and row["来源文件"] == "435001.xlsx" and row["项目数"] == 6
    assert row["报送状态"] == "已报送通过"
    plan = c.table("支出计划").records()[0]
    assert plan["3月底"] == D("15.00") and plan["3月底占预算数%"] == D("25.00")
    assert plan["12月底"] == D("51.00") and plan["空白节点数"] == 1  # 统一着装经费 left 12月底 blank


def test_unreturned_sample_uses_master_values(sample, ledger):
    c = consolidate(sample, ledger)
    assert c.grand_total == D("60.00")
    (row,) = c.table("总表").records()
    # The state status gives the unit: nothing issued through this ledger, nothing returned.
    assert row["来源"] == MASTER_ORIGIN and row["报送状态"] == "未下发"
    assert [r.state for r in unit_status(sample, ledger, [])] == ["未下发"]
    detail = c.table("明细").records()
    assert {r["来源文件"] for r in detail} == {"主数据"} and {r["工作表"] for r in detail} == {"主数据"}
    assert {r["预算数-单元格"] for r in detail} == {"—"} and detail[0]["导入编号"] is None


def test_three_units_with_and_without_unreturned(three_units, ledger):
    ledger.record(make_submission(three_units, "435001"), "/in/1.xlsx", 1, [])
    ledger.record(make_submission(three_units, "435002"), "/in/2.xlsx", 1, [])
    with_all = consolidate(three_units, ledger)
    assert [u["单位编码"] for u in with_all.table("总表").records()] == ["435001", "435002", "435003"]
    assert with_all.grand_total == D("76.30")
    assert _total(with_all, "总表", "预算数") == D("76.30")
    assert with_all.table("总表").records()[2]["来源"] == MASTER_ORIGIN
    assert _total(with_all, "支出计划", "12月底") == D("67.30")

    returned_only = consolidate(three_units, ledger, include_unreturned=False)
    assert [u["单位编码"] for u in returned_only.table("总表").records()] == ["435001", "435002"]
    assert returned_only.grand_total == D("60.30") and str(returned_only.grand_total) == "60.30"
    assert _total(returned_only, "明细", "预算数") == D("60.30")
    assert len(returned_only.table("明细").rows) == 8
    checks = {r["单位编码"]: r["结果"] for r in returned_only.table("核对").records()}
    assert checks == {"435001": "一致", "435002": "一致", "435003": "未报送（未计入汇总）"}


def test_detail_rows_carry_their_source(sample, ledger):
    sub = make_submission(sample, "435001")
    result = ledger.record(sub, "/in/435001.xlsx", 1, [])
    first = consolidate(sample, ledger).table("明细").records()[0]
    assert first["来源文件"] == "435001.xlsx" and first["导入编号"] == result.import_id
    assert first["预算数"] == D("6.00")
    assert (first["工作表"], first["预算数-单元格"], first["财政资金-单元格"]) == ("1.光纤租赁和短信机费用", "B4", "B5")
    assert first["支出计划-6月底"] == D("3.00") and first["支出计划-6月底-单元格"] == "C6"
    # One 工作表 column per project (all its numbers are on its sheet), then each number beside its cell.
    assert list(first)[6:12] == ["导入编号", "工作表", "预算数", "预算数-单元格", "财政资金", "财政资金-单元格"]


def test_detail_cells_when_the_form_lacks_a_field_or_a_node(sample, ledger):
    sub = make_submission(sample, "435001")
    first = sub.projects[0]
    # The reader found 财政资金 without recording where, and this form has no 3月底 column at all.
    locations = {path: loc for path, loc in first.locations.items() if path != "fiscal"}
    project = dataclasses.replace(first.project, plan=tuple(p for p in first.project.plan if p.node != "3月底"))
    sub = dataclasses.replace(sub, projects=(dataclasses.replace(first, project=project, locations=locations),
                                             *sub.projects[1:]))
    ledger.record(sub, "/in/435001.xlsx", 1, [])
    row = consolidate(sample, ledger).table("明细").records()[0]
    assert (row["财政资金"], row["财政资金-单元格"]) == (D("6.00"), "（位置未知）")
    assert (row["支出计划-3月底"], row["支出计划-3月底-单元格"]) == (None, "")
    assert (row["支出计划-6月底"], row["支出计划-6月底-单元格"]) == (D("3.00"), "C6")


def test_indicator_counts_and_shares(sample, ledger):
    c = consolidate(sample, ledger)
    table = c.table("绩效指标")
    rows = table.records()
    subtotal = next(r for r in rows if r["一级指标"] == "小计")
    indicators = [i for p in sample.projects for i in p.indicators]
    assert subtotal["指标数"] == len(indicators)
    assert subtotal["定量"] + subtotal["定性"] + subtotal["未填指标性质"] == len(indicators)
    assert subtotal["定性"] == sum(1 for i in indicators if i.operator == "定性")
    assert rows[0]["一级指标"] == "产出指标" and rows[0]["二级指标"] == "数量指标"
    assert sum(r["指标数"] for r in rows if r["一级指标"] != "小计") == len(indicators)


def test_total_mismatch_is_an_error_on_the_check_sheet(sample, ledger, tmp_path):
    full = make_submission(sample, "435001")
    sub = dataclasses.replace(full, projects=full.projects[1:])  # the 6.00 project's sheet is missing
    ledger.record(sub, "/in/435001.xlsx", 1, [])
    c = consolidate(sample, ledger)
    (finding,) = c.findings
    assert (finding.rule, finding.severity, finding.unit_code) == ("L-TOTAL-MISMATCH", "error", "435001")
    assert (finding.value, finding.expected) == ("54.00", "60.00")
    check = c.table("核对").records()[0]
    assert check["结果"] == "不一致" and check["差额"] == D("-6.00") and check["规则"] == "L-TOTAL-MISMATCH"
    out = write_consolidation(c, tmp_path / "汇总表.xlsx")
    sheet = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("核对").to_python()
    assert sheet[1][5] == "不一致" and sheet[1][6] == "L-TOTAL-MISMATCH" and "54.00" in sheet[1][8]


def test_an_edited_locked_budget_is_summed_as_issued_and_shown_on_the_check_sheet(sample, ledger, tmp_path):
    code = sample.projects[0].code
    sub = make_submission(sample, "435001", budgets={code: D("6.50")})
    ledger.record(sub, "/in/435001.xlsx", 1, [])
    c = consolidate(sample, ledger)
    assert c.findings == () and c.grand_total == D("60.00")
    unit_row, edit = c.table("核对").records()
    assert (unit_row["结果"], unit_row["报送预算数"], unit_row["差额"]) == ("一致", D("60.00"), D("0.00"))
    sheet = sub.projects[0].sheet
    assert (edit["规则"], edit["项目编码"], edit["字段"], edit["单元格"], edit["表内填报"], edit["下发数"]) == (
        "X-TAMPER", code, "预算数", f"{sheet}!B4", D("6.50"), D("6.00"))
    assert "6.50" in edit["说明"] and "6.00" in edit["说明"]
    detail = c.table("明细").records()[0]
    assert detail["预算数"] == D("6.00") and detail["预算数-单元格"] == "主数据（表内 B4 填报 6.50）"
    assert c.table("核对").totals[0][5] == "1 项需处理"
    out = write_consolidation(c, tmp_path / "汇总表.xlsx")
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("核对").to_python()
    assert rows[0][-5:] == ["项目编码", "字段", "单元格", "表内填报", "下发数"]
    assert rows[2][-3:] == [f"{sheet}!B4", 6.5, 6.0]


def test_latest_return_is_used(sample, ledger):
    code = sample.projects[0].code
    ledger.record(make_submission(sample, "435001", "v1", budgets={code: D("7.00")}), "/in/v1.xlsx", 1, [])
    ledger.record(make_submission(sample, "435001", "v2"), "/in/v2.xlsx", 1, [])
    c = consolidate(sample, ledger)
    assert c.grand_total == D("60.00") and c.findings == ()
    assert c.table("总表").records()[0]["来源文件"].endswith("v2.xlsx")


def test_unknown_unit_in_ledger_is_reported(sample, ledger):
    stranger = dataclasses.replace(make_submission(sample, "435001", "x"), unit_code="999999", unit_name="外单位")
    ledger.record(stranger, "/in/x.xlsx", 1, [])
    c = consolidate(sample, ledger)
    assert [f.rule for f in c.findings] == ["L-UNKNOWN-UNIT"]
    assert c.grand_total == D("60.00")  # the sample unit from the master, the stranger left out


# ---------------------------------------------------------------------------------------------------------
# Outputs


def test_xlsx_sheets_charts_and_identical_bytes(three_units, ledger, tmp_path):
    ledger.record(make_submission(three_units, "435001"), "/in/1.xlsx", 1, [])
    c = consolidate(three_units, ledger)
    first = write_consolidation(c, tmp_path / "a" / "汇总表.xlsx")
    second = write_consolidation(consolidate(three_units, ledger), tmp_path / "b" / "汇总表.xlsx")
    assert first.read_bytes() == second.read_bytes()
    assert not list(first.parent.glob(".tmp-*"))
    with zipfile.ZipFile(first) as zf:
        names = zf.namelist()
        assert "xl/charts/chart1.xml" in names and "xl/charts/chart2.xml" in names
        chart1 = zf.read("xl/charts/chart1.xml").decode()
        chart2 = zf.read("xl/charts/chart2.xml").decode()
        sheets = [zf.read(n).decode() for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
        # Written in constant-memory mode: strings are inline in the sheets, not in a shared-strings part.
        strings = "".join(sheets) + (zf.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in names else "")
    assert "总表!" in chart1 and "各单位预算数" in chart1
    assert "支出计划!" in chart2 and "累计支出计划与预算" in chart2
    assert not any("<f>" in s for s in sheets)  # no formulas at all, user text included
    assert "=HYPERLINK" in strings
    book = CalamineWorkbook.from_path(str(first))
    assert book.sheet_names == [*SHEETS, SUMMARY_CHART, PLAN_CHART]  # each chart on its own sheet, last
    summary = book.get_sheet_by_name("总表").to_python()
    assert summary[0][:8] == ["单位编码", "单位名称", "预算数", "财政资金", "其他资金", "项目数", "报送状态", "未解决错误数"]
    assert summary[1][0] == "435001" and summary[4][2] == pytest.approx(76.30)
    assert 'pane' in sheets[0] and "autoFilter" in sheets[0] and "#,##0.00" in zf_styles(first)


def zf_styles(path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/styles.xml").decode()


def test_csv_folder(three_units, ledger, tmp_path):
    folder = write_consolidation(consolidate(three_units, ledger), tmp_path / "out" / "汇总表.csv", fmt="csv")
    assert folder == tmp_path / "out" / "汇总表"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{name}.csv" for name in SHEETS)
    raw = (folder / "总表.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["单位编码", "单位名称", "预算数"]
    assert rows[3][1].startswith("'=HYPERLINK")  # neutralised
    assert rows[-1][0] == "合计" and rows[-1][2] == "76.30"


def test_json_document(three_units, ledger, tmp_path):
    ledger.record(make_submission(three_units, "435002", budgets={"P2-000": D("0.15")}), "/in/2.xlsx", 1, [])
    path = write_consolidation(consolidate(three_units, ledger), tmp_path / "汇总表.json", fmt="json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert set(doc["tables"]) == set(SHEETS)
    assert doc["预算数总计"] == "76.30" and doc["金额单位"] == "万元"  # the edited 0.15 is not summed
    assert doc["tables"]["总表"]["totals"][0]["预算数"] == "76.30"
    assert doc["tables"]["总表"]["rows"][1]["预算数"] == "0.30"
    assert doc["findings"] == []
    [edit] = [row for row in doc["tables"]["核对"]["rows"] if row["规则"] == "X-TAMPER"]
    assert (edit["项目编码"], edit["表内填报"], edit["下发数"]) == ("P2-000", "0.15", "0.10")


def test_unknown_format_is_refused(sample, ledger, tmp_path):
    with pytest.raises(InputError):
        write_consolidation(consolidate(sample, ledger), tmp_path / "x.pdf", fmt="pdf")


# ---------------------------------------------------------------------------------------------------------
# Status


def _five_units(sample: Master) -> Master:
    units = [Unit(f"43500{k}", name, "435") for k, name in
             enumerate(("甲局", "乙中心", "丙站", "丁所", "戊办"), start=1)]
    projects = [dataclasses.replace(p, unit_code=u.code, code=f"{u.code}-{i}")
                for u in units for i, p in enumerate(sample.projects[:2])]
    return dataclasses.replace(sample, units=tuple(units), projects=tuple(projects))


def test_status_states(sample, ledger):
    master = _five_units(sample)
    manifest = [{"单位编码": u.code, "单位名称": u.name, "文件": f"{u.code}-{u.name}.xlsx", "sha256": "ab" * 32}
                for u in master.units[:4]]
    def findings(sub, *severities):
        return [Finding("R-T", s, "问题", unit_code=sub.unit_code) for s in severities]

    for code, severities in (("435001", ("error", "warning")), ("435002", ("warning", "info")), ("435003", ("info",))):
        sub = make_submission(master, code)
        ledger.record(sub, f"/in/{code}.xlsx", 1, findings(sub, *severities))
    again = make_submission(master, "435003", "v2")
    ledger.record(again, "/in/435003-v2.xlsx", 1, [])

    rows = unit_status(master, ledger, manifest)
    assert [r.state for r in rows] == ["已报送有错误", "已报送有警告", "已报送通过", "待报送", "未下发"]
    assert (rows[0].errors, rows[0].warnings) == (1, 1)
    assert rows[2].returns == 2 and rows[2].return_file == "435003-v2.xlsx"
    assert rows[3].sent and rows[3].sent_file == "435004-丁所.xlsx" and not rows[3].returned
    assert not rows[4].sent and rows[4].import_id is None

    text = render_status_table(rows)
    lines = text.splitlines()
    assert lines[0].startswith("单位编码") and "已报送有错误" in text and "未下发" in text
    state_column = display_width(lines[0].split("状态")[0])
    for line in lines[2:7]:  # every state starts in the same terminal column
        assert any(display_width(line[:i]) == state_column and line[i:].startswith(s) for s in STATES
                   for i in range(len(line)))
    assert lines[-1].startswith("共 5 个单位")

    doc = status_json(rows)
    assert doc["total"] == 5 and doc["summary"]["待报送"] == 1
    assert doc["units"][0]["state"] == "已报送有错误"
    json.dumps(doc, ensure_ascii=False)


def test_consolidation_reports_open_errors(sample, ledger):
    sub = make_submission(sample, "435001")
    ledger.record(sub, "/in/a.xlsx", 1, sample_findings(sub, 4))
    (row,) = consolidate(sample, ledger).table("总表").records()
    assert row["未解决错误数"] == 2 and row["报送状态"] == "已报送有错误"


def test_a_project_the_master_does_not_have_counts_as_returned(sample, ledger):
    sub = make_submission(sample, "435001")
    extra = dataclasses.replace(sub.projects[0], project=dataclasses.replace(
        sub.projects[0].project, code="X-NEW", name="新增项目", budget=D("1.00"), fiscal=D("1.00")))
    ledger.record(dataclasses.replace(sub, projects=(*sub.projects, extra)), "/in/435001.xlsx", 1, [])
    c = consolidate(sample, ledger)
    assert c.grand_total == D("61.00") and [f.rule for f in c.findings] == ["L-TOTAL-MISMATCH"]
    assert not [row for row in c.table("核对").records() if row["规则"] == "X-TAMPER"]
    [detail] = [row for row in c.table("明细").records() if row["项目编码"] == "X-NEW"]
    assert detail["预算数"] == D("1.00") and detail["预算数-单元格"] == "B4"
