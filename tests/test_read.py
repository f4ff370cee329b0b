"""Reading returned workbooks filled with openpyxl: values, cells, found_by, and the fallbacks."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.fill import Placement
from jixiao_xl.generate import GenerateOptions, generate
from jixiao_xl.master import load_sample
from jixiao_xl.read import Meta, read_file, read_meta
from jixiao_xl.workbook import col_letter, open_workbook

UNIFORM = "3.统一着装经费"


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    out = tmp_path_factory.mktemp("issued")
    result = generate(load_sample(), None, GenerateOptions(out_dir=out))
    return out / result[0].file


def _fill(issued: Path, target: Path, edit) -> Path:
    wb = openpyxl.load_workbook(issued)
    edit(wb)
    wb.save(target)
    return target


def _typed(wb) -> None:
    ws = wb[UNIFORM]
    ws["E7"] = 9
    ws["B9"] = "完成50套服装采购，窗口人员统一着装率达到100%"
    ws["A18"] = "效益指标"
    ws["B18"] = "社会效益指标"
    ws["C18"] = "窗口形象提升"
    ws["D18"] = "群众对窗口形象的评价"
    ws["E18"] = "≥"
    ws["F18"] = "95"
    ws["G18"] = "％"
    ws["H18"] = "调查问卷"
    ws["F12"] = "≤2%"
    ws["B21"] = "张三"
    ws["E21"] = "0319-1234567"


def test_unchanged_return_reads_back_the_master(issued):
    sample = load_sample()
    sub = read_file(issued)
    assert sub.unit_code == "435001" and sub.unit_name == "巨鹿县行政审批局本级"
    assert sub.template_id == "项目支出绩效目标表" and sub.master_fingerprint == sample.fingerprint
    assert [rp.project.code for rp in sub.projects] == [p.code for p in sample.projects]
    for rp, expected in zip(sub.projects, sample.projects):
        got = rp.project
        assert (got.name, got.budget, got.fiscal, got.other) == (expected.name, expected.budget, expected.fiscal, None)
        assert [pt.amount for pt in got.plan] == [pt.amount for pt in expected.plan]
        assert got.indicators == expected.indicators
    assert sub.dept.goals[0].name == "完善“2+2+3”服务体系，创新审批模式"
    assert len(sub.dept.indicators) == 12
    assert [f.rule for f in sub.findings] == []


def test_values_typed_into_the_form(issued, tmp_path):
    sub = read_file(_fill(issued, tmp_path / "filled.xlsx", _typed))
    rp = sub.project("13052922P005840107184")
    assert rp.project.plan_amount("12月底") == Decimal("9")
    assert rp.where("plan.12月底").cell == "E7" and rp.where("plan.12月底").found_by == "name"
    assert rp.project.annual_goal == "完成50套服装采购，窗口人员统一着装率达到100%"
    added = rp.project.indicators[7]
    assert (added.level1, added.level2, added.name, added.operator, added.value, added.unit) == (
        "效益指标", "社会效益指标", "窗口形象提升", "≥", Decimal("95"), "%")
    assert rp.where("ind7.name").cell == "C18" and rp.where("ind7.unit").raw == "％"
    damaged = rp.project.indicators[1]
    assert (damaged.operator, damaged.value, damaged.unit) == ("≥", Decimal("2"), "%")  # the cell's ≥ wins
    assert any("不一致" in note for note in rp.notes["ind1.value"])
    assert rp.where("footer.filler").raw == "张三"


def test_lost_names_fall_back_to_meta(issued, tmp_path):
    def edit(wb):
        _typed(wb)
        for name in list(wb.defined_names):
            if name.startswith("JX_"):
                del wb.defined_names[name]

    sub = read_file(_fill(issued, tmp_path / "nonames.xlsx", edit))
    rp = sub.project("13052922P005840107184")
    assert rp.project.plan_amount("12月底") == Decimal("9")
    assert rp.where("plan.12月底").found_by == "meta"
    assert rp.where("budget").found_by == "meta" and rp.where("budget").cell == "B4"
    assert rp.project.indicators[7].name == "窗口形象提升"
    assert "P-NAMES-LOST" in {f.rule for f in sub.findings}


SCALARS = {"code": "B3", "name": "F3", "budget": "B4", "fiscal": "D4", "other": "F4", "purpose": "B5",
           "annual_goal": "B9", "plan.3月底": "B7", "plan.12月底": "E7", "footer.filler": "B21", "footer.phone": "E21"}


def _without_names(wb) -> None:
    for name in list(wb.defined_names):
        if name.startswith("JX_"):
            del wb.defined_names[name]


def _old_meta_layout(wb) -> None:
    """Rewrite _meta's field map as workbooks issued before the compact map had it: every cell, with its name."""
    ws = wb["_meta"]
    rows = list(ws.iter_rows(values_only=True))
    start = next(r for r, row in enumerate(rows, start=1) if row[:2] == ("field", "cell"))
    fields = Meta({}, [], {key: ref for key, ref, *_ in rows[start:] if key}).field_cells()
    ws.delete_rows(start, len(rows))
    ws.append(["field", "cell", "name"])
    for path, ref in fields.items():
        ws.append([path, ref, Placement(path, "", 0, 0).name])


@pytest.mark.parametrize("layout", ["compact", "old"])
def test_every_field_found_by_meta_at_its_cell_when_names_are_lost(issued, tmp_path, layout):
    def edit(wb):
        _typed(wb)
        _without_names(wb)
        if layout == "old":
            _old_meta_layout(wb)

    sub = read_file(_fill(issued, tmp_path / f"nonames-{layout}.xlsx", edit))
    rp = sub.project("13052922P005840107184")
    assert {path: (rp.where(path).cell, rp.where(path).found_by) for path in SCALARS} == {
        path: (cell, "meta") for path, cell in SCALARS.items()}
    # The grid is read between its header and 填表人, at the rows the field map gives for its issued rows.
    meta = read_meta(open_workbook(tmp_path / f"nonames-{layout}.xlsx", "xlsx"))
    assert meta.grid_rows("p03") == 10 and meta.grid_rows("d") > 0
    for k, indicator in enumerate(rp.project.indicators):
        for part in ("level1", "name", "value", "unit"):
            row, col = meta.cell(f"p03.i{k + 1:02d}.{part}")
            assert rp.where(f"ind{k}.{part}").cell == f"{col_letter(col)}{row + 1}"
    assert rp.where("ind7.unit").raw == "％" and rp.project.indicators[7].name == "窗口形象提升"
    dept = sub.dept
    assert (dept.where("overall_goal").cell, dept.where("overall_goal").found_by) == ("C5", "meta")
    assert {f.rule for f in sub.findings} == {"P-NAMES-LOST"}, "no P-ROWS-CHANGED: the issued row counts come from _meta"


def test_lost_meta_and_names_fall_back_to_labels(issued, tmp_path):
    def edit(wb):
        _typed(wb)
        for name in list(wb.defined_names):
            del wb.defined_names[name]
        del wb["_meta"]

    sub = read_file(_fill(issued, tmp_path / "nometa.xlsx", edit))
    assert sub.unit_code == "435001"
    rp = sub.project("13052922P005840107184")
    assert rp.where("budget").found_by == "label" and rp.project.budget == Decimal("9")
    assert rp.where("code").found_by == "label"
    assert rp.where("plan.12月底").found_by == "label" and rp.project.plan_amount("12月底") == Decimal("9")
    assert rp.where("ind7.name").found_by == "label"
    assert rp.project.indicators[7].name == "窗口形象提升"
    rules = {f.rule for f in sub.findings}
    assert {"P-NO-META", "P-NAMES-LOST"} <= rules


def test_renamed_sheet_is_found_by_label_and_meta(issued, tmp_path):
    def edit(wb):
        wb[UNIFORM].title = "服装"  # openpyxl leaves the names pointing at the old sheet name

    sub = read_file(_fill(issued, tmp_path / "renamed.xlsx", edit))
    rp = sub.project("13052922P005840107184")
    assert rp.sheet == "服装" and rp.where("budget").found_by == "meta" and rp.project.budget == Decimal("9")
    assert any(f.rule == "P-SHEET-RENAMED" and f.sheet == "服装" for f in sub.findings)


def test_text_in_money_cells_and_formulas(issued, tmp_path):
    def edit(wb):
        ws = wb[UNIFORM]
        ws["B7"] = "两万"
        ws["C7"] = "=B4/2"

    sub = read_file(_fill(issued, tmp_path / "bad.xlsx", edit))
    rp = sub.project("13052922P005840107184")
    assert rp.project.plan_amount("3月底") is None
    number = [f for f in sub.findings if f.rule == "P-NUMBER"]
    assert [(f.sheet, f.cell, f.value) for f in number] == [(UNIFORM, "B7", "两万")]
    assert any(f.rule == "P-FORMULA" and f.cell == "C7" for f in sub.findings)


def test_protection_removed_is_reported(issued, tmp_path):
    def edit(wb):
        wb[UNIFORM].protection.sheet = False

    sub = read_file(_fill(issued, tmp_path / "unprotected.xlsx", edit))
    assert [f.sheet for f in sub.findings if f.rule == "P-PROTECTION-REMOVED"] == [UNIFORM]


def test_not_a_form_and_not_a_workbook(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "随便一张表"
    wb.save(tmp_path / "other.xlsx")
    assert [f.rule for f in read_file(tmp_path / "other.xlsx").findings] == ["P-NOT-FORM"]
    (tmp_path / "empty.xlsx").write_bytes(b"")
    sub = read_file(tmp_path / "empty.xlsx")
    assert not sub.readable and [f.rule for f in sub.findings] == ["I-EMPTY"]


def test_read_command_writes_json(issued, tmp_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    _fill(issued, folder / "a.xlsx", _typed)
    (folder / "~$a.xlsx").write_bytes(b"lock")
    out = tmp_path / "read.json"
    result = CliRunner().invoke(cli, ["read", str(folder), "--json", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["files"] == 1
    project = document["submissions"][0]["projects"][2]
    assert project["fields"]["支出计划-12月底"] == {"value": "9.00", "raw": "9", "cell": f"{UNIFORM}!E7", "found_by": "name"}
    assert project["indicators"][7]["unit"] == {"value": "%", "raw": "％", "cell": f"{UNIFORM}!G18", "found_by": "name"}


def test_read_prints_a_short_summary_per_file_and_json_only_on_request(issued, tmp_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    _fill(issued, folder / "a.xlsx", _typed)
    (folder / "b.xlsx").write_bytes(b"not a workbook")
    result = CliRunner().invoke(cli, ["read", str(folder)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) < 10  # a summary, not the whole JSON
    assert lines[0] == "a.xlsx：435001 巨鹿县行政审批局本级，项目 6 个，绩效指标 43 条，部门整体指标 12 条", lines
    assert lines[1].startswith("    定位方式：定义名称 ") and "读取问题：" in lines[1]
    assert lines[2].startswith("b.xlsx：未能读取。")
    assert "{" not in result.output
    printed = CliRunner().invoke(cli, ["read", str(folder / "a.xlsx"), "--json", "-"])
    assert printed.exit_code == 0
    assert json.loads(printed.output)["submissions"][0]["unit_code"] == "435001"
