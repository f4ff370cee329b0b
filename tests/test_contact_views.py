"""The person to call and the extra fields, shown where people look, through the CLI: a return with its footer
(填表人, 联系电话, 填报日期) and a template's extra fields (``{{ extra.<名称> }}``) filled in → ``status`` (table
and JSON) and the import report's 概览 name the person to call, and 汇总表 明细 has a column per extra field
with the typed value and its cell."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.ledger import Ledger
from test_typed import DEPT, FILE, P1, templates  # noqa: F401 - templates: the 项目负责人 / 绩效联系人 templates


def invoke(*args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def imported(tmp_path, templates) -> Path:
    """A workspace-less year: the sample issued with the custom templates, the unit's return filled in (footer
    of the first project sheet, 项目负责人 of the first project, 绩效联系人) and imported."""
    master = tmp_path / "master.xlsx"
    assert invoke("master", "init", "--sample", master).exit_code == 0
    project_template, dept_template = templates
    result = invoke("generate", "--master", master, "--out", tmp_path / "issued", "--jobs", "1",
                    "--template", project_template, "--dept-template", dept_template)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / "issued" / FILE)
    wb[P1]["B21"], wb[P1]["E21"], wb[P1]["H21"] = "张三", "0319-1234567", "2025年3月15日"
    wb[P1]["B22"] = "李四"
    wb[DEPT]["B24"] = "王五"
    (tmp_path / "returns").mkdir()
    wb.save(tmp_path / "returns" / FILE)
    result = invoke("import", tmp_path / "returns", "--master", master, "--out", tmp_path / "out",
                    "--ledger", tmp_path / "ledger.sqlite", "--manifest", tmp_path / "issued" / "manifest.csv",
                    "--jobs", "1")
    assert result.exit_code in (0, 1), result.output
    return tmp_path


def common(root: Path) -> tuple[str, ...]:
    return ("--master", root / "master.xlsx", "--ledger", root / "ledger.sqlite")


def test_status_names_the_person_to_call(imported):
    result = invoke("status", *common(imported), "--manifest", imported / "issued" / "manifest.csv", "--json")
    assert result.exit_code == 0, result.output
    [unit] = [u for u in json.loads(result.output)["units"] if u["code"] == "435001"]
    assert (unit["contact_name"], unit["contact_phone"], unit["filled_on"]) == ("张三", "0319-1234567", "2025-03-15")
    table = invoke("status", *common(imported), "--manifest", imported / "issued" / "manifest.csv")
    assert "填表人及电话" in table.output
    [line] = [line for line in table.output.splitlines() if line.startswith("435001")]
    assert line.rstrip().endswith("张三 0319-1234567")


def test_the_report_overview_names_the_person_to_call(imported):
    rows = list(openpyxl.load_workbook(imported / "out" / "report.xlsx")["概览"].iter_rows(values_only=True))
    assert rows[1][:10] == ("单位编码", "单位名称", "状态", "报送文件", "报送时间", "错误", "警告",
                            "填表人", "联系电话", "填报日期")
    unit = next(row for row in rows[2:] if row[0] == "435001")  # the unit part comes before the file part
    assert unit[7:10] == ("张三", "0319-1234567", "2025-03-15")
    html = (imported / "out" / "report.html").read_text(encoding="utf-8")
    assert "<td>张三</td><td>0319-1234567</td><td>2025-03-15</td>" in html


def test_consolidation_detail_has_a_column_per_extra_field_with_its_cell(imported):
    out = imported / "汇总表.xlsx"
    result = invoke("consolidate", *common(imported), "--out", out)
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(out)["明细"].iter_rows(values_only=True))
    header = rows[0]
    for name in ("项目负责人", "项目负责人-单元格", "绩效联系人", "绩效联系人-单元格"):
        assert name in header, header
    by_sheet = {row[header.index("工作表")]: row for row in rows[1:] if row[0] != "合计"}
    first = by_sheet[P1]
    assert (first[header.index("项目负责人")], first[header.index("项目负责人-单元格")]) == ("李四", "B22")
    # 绩效联系人 is the department sheet's: every project row of the unit shows it, with the sheet in its cell.
    assert {(row[header.index("绩效联系人")], row[header.index("绩效联系人-单元格")]) for row in by_sheet.values()} \
        == {("王五", f"{DEPT}!B24")}
    others = [row for sheet, row in by_sheet.items() if sheet != P1]
    assert others and all(not row[header.index("项目负责人")] for row in others)


def test_the_contact_of_a_digest_stored_before_contacts_comes_from_the_submission(imported):
    """A ledger whose digests predate contacts (and one whose digest is damaged) still shows the person to call."""
    import sqlite3

    with sqlite3.connect(imported / "ledger.sqlite") as db:
        [(import_id, text)] = db.execute("SELECT import_id, digest_json FROM digests").fetchall()
        older = json.loads(text)
        del older["contact"]
        db.execute("UPDATE digests SET digest_json = ? WHERE import_id = ?", (json.dumps(older), import_id))
    with Ledger.open(imported / "ledger.sqlite") as ledger:
        assert ledger.contacts([import_id])[import_id].filler == "张三"
    with sqlite3.connect(imported / "ledger.sqlite") as db:
        db.execute("UPDATE digests SET digest_json = '{broken' WHERE import_id = ?", (import_id,))
    with Ledger.open(imported / "ledger.sqlite") as ledger:
        assert ledger.contacts([import_id])[import_id].phone == "0319-1234567"


def test_the_report_lists_the_extra_fields_typed(imported):
    sheet = openpyxl.load_workbook(imported / "out" / "report.xlsx")["附加填写项"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("单位编码", "单位名称", "文件", "工作表", "项目编码", "填写项", "填写内容")
    typed = {(row[0], row[3], row[5], row[6]) for row in rows[1:]}
    assert ("435001", P1, "项目负责人", "李四") in typed
    assert ("435001", DEPT, "绩效联系人", "王五") in typed
