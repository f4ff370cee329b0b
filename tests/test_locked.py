"""Locked means locked, and a bad master is not issued (issue 13, items 5 and 6), through the CLI.

A return whose locked 预算数 was edited gives one X-TAMPER at that cell and no R-F1/R-F5 about it, and
consolidation sums the master's figure, showing the edited one beside it on 核对. ``generate`` refuses a
master whose issued data (units, codes, names, budgets, fund sources) has errors, unless ``--force``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.generate import MANIFEST_COLUMNS
from jixiao_xl.ledger import Ledger
from jixiao_xl.master import load_sample, write_master
from jixiao_xl.model import PlanPoint, Unit

UNIT = "435009"
PROJECT = "435009001"


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def master_with_a_500_project():
    """The sample plus one unit whose single project has 预算数 500 (财政资金 400, 其他资金 100)."""
    sample = load_sample()
    plan = tuple(PlanPoint(node, Decimal(amount))
                 for node, amount in zip(sample.settings.plan_nodes, ("100", "250", "400", "500")))
    project = replace(sample.projects[0], unit_code=UNIT, code=PROJECT, name="测试中心运行经费", budget=Decimal("500"),
                      fiscal=Decimal("400"), other=Decimal("100"), plan=plan)
    unit = Unit(UNIT, "巨鹿县测试中心", "435")
    return replace(sample, units=sample.units + (unit,), projects=sample.projects + (project,))


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    root = tmp_path_factory.mktemp("locked")
    write_master(root / "master.xlsx", master_with_a_500_project())
    result = invoke("generate", "--master", root / "master.xlsx", "--out", root / "issued", "--jobs", "1")
    assert result.exit_code == 0, result.output
    return root


def unit_workbook(root: Path) -> Path:
    return next((root / "issued").glob(f"{UNIT}-*.xlsx"))


def returned(root: Path, folder: str, budget=None) -> Path:
    """The unit's issued workbook, saved into ``folder`` with its 预算数 (B4 of the project sheet) typed over."""
    target = root / folder
    target.mkdir()
    source = unit_workbook(root)
    wb = openpyxl.load_workbook(source)
    if budget is not None:
        wb.worksheets[1]["B4"] = budget
    wb.save(target / source.name)
    return target


def imported(root: Path, folder: Path, name: str) -> list[dict]:
    result = invoke("import", folder, "--master", root / "master.xlsx", "--out", root / name,
                    "--ledger", root / f"{name}.sqlite", "--jobs", "1")
    assert result.exit_code in (0, 1), result.output
    return json.loads((root / name / "findings.json").read_text(encoding="utf-8"))


def about_the_project(findings: list[dict]) -> set[tuple]:
    return {(f["rule"], f["sheet"], f["cell"], f["field"]) for f in findings if f["project_code"] == PROJECT}


def test_an_edited_budget_is_one_tamper_finding_and_nothing_else(issued):
    clean = imported(issued, returned(issued, "clean"), "r-clean")
    tampered = imported(issued, returned(issued, "tampered", budget=150), "r-tampered")
    sheet = openpyxl.load_workbook(unit_workbook(issued)).worksheets[1].title
    added = about_the_project(tampered) - about_the_project(clean)
    assert added == {("X-TAMPER", sheet, "B4", "budget")}
    assert [f["rule"] for f in tampered if (f["sheet"], f["cell"]) == (sheet, "B4")] == ["X-TAMPER"]
    assert about_the_project(clean) <= about_the_project(tampered)
    [tamper] = [f for f in tampered if f["rule"] == "X-TAMPER"]
    assert (tamper["value"], tamper["expected"]) == ("150.00", "500.00")
    assert not [f for f in tampered if f["project_code"] == PROJECT and f["rule"] in ("R-F1", "R-F5")]


def test_text_typed_over_a_locked_budget_is_one_finding_that_says_what_was_typed(issued):
    tampered = imported(issued, returned(issued, "typed", budget="一百五十"), "r-typed")
    sheet = openpyxl.load_workbook(unit_workbook(issued)).worksheets[1].title
    [tamper] = [f for f in tampered if (f["sheet"], f["cell"]) == (sheet, "B4")]
    assert tamper["rule"] == "X-TAMPER" and "被改为 一百五十" in tamper["message"] and "恢复为 500.00" in tamper["message"]


def rows_of(sheet) -> list[dict]:
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row)) for row in values[1:]]


def test_consolidation_sums_the_issued_budget_and_shows_the_edit_beside_it(issued):
    imported(issued, returned(issued, "to-sum", budget=150), "r-sum")
    out = issued / "汇总表.xlsx"
    result = invoke("consolidate", "--master", issued / "master.xlsx", "--ledger", issued / "r-sum.sqlite",
                    "--out", out)
    master_total = sum(p.budget for p in master_with_a_500_project().projects)
    assert f"预算数合计 {master_total:.2f}" in result.output, result.output
    assert "1 处锁定的下发数被改动，已按主数据的下发数汇总" in result.output
    book = openpyxl.load_workbook(out)
    summary = {row["单位编码"]: row for row in rows_of(book["总表"])}
    assert (summary[UNIT]["预算数"], summary[UNIT]["财政资金"], summary[UNIT]["其他资金"]) == (500, 400, 100)
    for row in summary.values():
        if row["财政资金"] is not None:
            assert row["财政资金"] <= row["预算数"]
    checks = rows_of(book["核对"])
    [unit_row] = [r for r in checks if r["单位编码"] == UNIT and r["报送预算数"] is not None]
    assert (unit_row["报送预算数"], unit_row["结果"]) == (500, "一致")
    [edit] = [r for r in checks if r["规则"] == "X-TAMPER"]
    sheet = openpyxl.load_workbook(unit_workbook(issued)).worksheets[1].title
    assert (edit["单位编码"], edit["项目编码"], edit["字段"], edit["单元格"], edit["表内填报"], edit["下发数"]) == (
        UNIT, PROJECT, "预算数", f"{sheet}!B4", 150, 500)
    assert "150" in edit["说明"] and "500" in edit["说明"]
    detail = [r for r in rows_of(book["明细"]) if r["项目编码"] == PROJECT]
    assert detail[0]["预算数"] == 500 and "B4" in detail[0]["预算数-单元格"]


# ---------------------------------------------------------------------------------------------------------
# A bad master is not issued


def sample_master(root: Path, edit=None) -> Path:
    """The bundled sample as master.xlsx, with ``edit(项目 sheet)`` applied (row 2 is the first project)."""
    path = root / "master.xlsx"
    assert invoke("master", "init", "--sample", path).exit_code == 0
    if edit is not None:
        wb = openpyxl.load_workbook(path)
        edit(wb["项目"])
        wb.save(path)
    return path


def blank_budget(ws) -> None:
    assert ws["D1"].value == "预算数"
    ws["D3"] = None


def duplicated_code(ws) -> None:
    assert ws["B1"].value == "项目编码"
    ws["B5"] = ws["B4"].value


def manifest_rows(folder: Path) -> list[dict]:
    with open(folder / "manifest.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("edit, place, rule", [(blank_budget, "项目!D3", "R-F1"),
                                               (duplicated_code, "项目!B5", "M-DUP-PROJECT")])
def test_a_master_with_errors_in_issued_data_is_not_issued(tmp_path, edit, place, rule):
    master = sample_master(tmp_path, edit)
    out = tmp_path / "issued"
    result = invoke("generate", "--master", master, "--out", out, "--jobs", "1")
    assert result.exit_code == 1, result.output
    assert f"[错误] {place} {rule}：" in result.output
    assert "未生成任何文件" in result.output and "--force" in result.output
    assert not out.exists() and not (tmp_path / "ledger.sqlite").exists()
    out.mkdir()
    assert invoke("generate", "--master", master, "--out", out, "--jobs", "1").exit_code == 1
    assert list(out.iterdir()) == []


def test_force_issues_a_bad_master_and_the_manifest_says_so(tmp_path):
    master = sample_master(tmp_path, blank_budget)
    out = tmp_path / "issued"
    ledger = tmp_path / "ledger.sqlite"
    result = invoke("generate", "--master", master, "--out", out, "--ledger", ledger, "--jobs", "1", "--force")
    assert result.exit_code == 0, result.output
    assert "[错误] 项目!D3 R-F1：" in result.output
    assert "已按 --force 强制下发" in result.output.splitlines()[-1]
    [row] = manifest_rows(out)
    assert row["强制下发"] == "是" and row["单位编码"] == "435001"
    assert (out / row["文件"]).is_file()
    with Ledger.open(ledger) as opened:
        assert opened.issued_latest()["435001"].forced


def test_the_sample_is_issued_and_what_units_will_fix_is_summarised(tmp_path):
    master = sample_master(tmp_path)
    out = tmp_path / "issued"
    result = invoke("generate", "--master", master, "--out", out, "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "单位填报部分" in result.output and "不影响下发" in result.output
    assert "R-C1 成本指标高于项目预算数（元与万元换算后比较）：1 处" in result.output
    assert "R-F5 资金支出计划为空、为负、比上一节点少、超过预算数，或最后节点不等于预算数：1 处" in result.output
    assert "[错误]" not in result.output and "--force" not in result.output
    assert len(result.output.splitlines()) < 20  # counts by rule, not every finding
    with open(out / "manifest.csv", encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == MANIFEST_COLUMNS and header[:10] == [
        "单位编码", "单位名称", "文件", "sha256", "项目数", "预算数合计", "金额单位", "模板", "模板版本", "生成时间"]
    assert [row["强制下发"] for row in manifest_rows(out)] == ["否"]


def test_only_the_selected_units_issued_data_counts(tmp_path):
    master = master_with_a_500_project()
    broken = replace(master, projects=tuple(replace(p, budget=None) if p.code == PROJECT else p
                                            for p in master.projects))
    write_master(tmp_path / "master.xlsx", broken)
    out = tmp_path / "issued"
    whole = invoke("generate", "--master", tmp_path / "master.xlsx", "--out", out, "--jobs", "1")
    assert whole.exit_code == 1 and not out.exists()
    one = invoke("generate", "--master", tmp_path / "master.xlsx", "--out", out, "--jobs", "1", "--unit", "435001")
    assert one.exit_code == 0, one.output
    assert [row["单位编码"] for row in manifest_rows(out)] == ["435001"]


def test_the_sendback_form_holds_the_issued_budget_in_its_locked_cell(issued):
    imported(issued, returned(issued, "to-send-back", budget=150), "r-sendback")
    sendback = openpyxl.load_workbook(issued / "r-sendback" / "退回修改" / unit_workbook(issued).name)
    cell = sendback[openpyxl.load_workbook(unit_workbook(issued)).worksheets[1].title]["B4"]
    assert cell.value == 500 and cell.protection.locked
    assert "X-TAMPER" in cell.comment.text and "150" in cell.comment.text
