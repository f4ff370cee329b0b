"""What a unit types is kept, through the CLI: a department indicator without a 序号, the footer (填表人, 联系电话,
填报日期 in any common date form), extra fields a template declares with ``{{ extra.<名称> }}``, and content
typed where the form has no field — in the `read` JSON, the ledger and the 退回修改 workbook.
(The same typed into every input cell through LibreOffice: test_typed_libreoffice.py.)
"""

from __future__ import annotations

import csv
import datetime
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.ledger import Ledger
from jixiao_xl.master import sample_dir
from jixiao_xl.read import read_file, submission_report
from jixiao_xl.template import DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, builtin_template, load_spec

FILE = "435001-巨鹿县行政审批局本级.xlsx"
P1, DEPT = "1.光纤租赁和短信机费用", "部门整体绩效目标"


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def issue(root: Path, master: Path, *template_args) -> Path:
    result = invoke("generate", "--master", master, "--out", root / "issued", "--jobs", "1", *template_args)
    assert result.exit_code == 0, result.output
    return root / "issued" / FILE


def return_edited(root: Path, issued: Path, edit, folder: str = "returns") -> Path:
    """The issued workbook as the unit sends it back after ``edit(workbook)``."""
    target = root / folder
    target.mkdir(exist_ok=True)
    wb = openpyxl.load_workbook(issued)
    edit(wb)
    wb.save(target / FILE)
    return target / FILE


def read_json(root: Path, path: Path) -> dict:
    result = invoke("read", path, "--json", root / "read.json")
    assert result.exit_code == 0, result.output
    [report] = json.loads((root / "read.json").read_text(encoding="utf-8"))["submissions"]
    return report


def import_returns(root: Path, master: Path, returns: Path, *template_args):
    result = invoke("import", returns, "--master", master, "--out", root / "out", "--ledger", root / "ledger.sqlite",
                    "--jobs", "1", *template_args)
    assert result.exit_code in (0, 1), result.output
    return openpyxl.load_workbook(root / "out" / "退回修改" / FILE)


def stored_submission(root: Path):
    with Ledger.open(root / "ledger.sqlite") as ledger:
        [row] = ledger.latest_by_unit().values()
        return ledger.submission_of(row.id)


@pytest.fixture
def sample_master(tmp_path) -> Path:
    master = tmp_path / "master.xlsx"
    assert invoke("master", "init", "--sample", master).exit_code == 0
    return master


# -------------------------------------------------------------------------------------------------
# A department indicator typed without a 序号


@pytest.fixture
def master_without_goals(tmp_path) -> Path:
    """The sample as CSV, without any 分项 for the unit: its department grid is spare rows only."""
    folder = tmp_path / "master"
    shutil.copytree(sample_dir(), folder)
    for name in ("部门整体目标.csv", "部门整体指标.csv"):
        with (folder / name).open(encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle))
        with (folder / name).open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerow(header)
    return folder


def test_a_department_indicator_without_a_seq_is_kept_everywhere(tmp_path, master_without_goals):
    issued = issue(tmp_path, master_without_goals)
    ws = openpyxl.load_workbook(issued)[DEPT]
    row = ws.max_row - 4  # the first of the three spare rows above the footer (and the 工作保障措施 row below it)
    assert ws.cell(row + 3, 1).value == "填表人" and ws.cell(row, 1).value is None

    def type_row(wb):
        for col, value in zip("DEFGHIJ", ("产出指标", "数量指标", "办件量", "≥", 5000, "件", "历史标准")):
            wb[DEPT][f"{col}{row}"] = value

    returned = return_edited(tmp_path, issued, type_row)
    report = read_json(tmp_path, returned)
    [indicator] = report["department"]["indicators"]
    assert indicator["seq"] is None and indicator["name"]["value"] == "办件量"
    assert indicator["value"]["value"] == "5000" and indicator["name"]["cell"] == f"{DEPT}!F{row}"
    [seq] = [f for f in report["findings"] if f["rule"] == "P-DEPT-SEQ"]
    assert seq["cell"] == f"A{row}" and "已按原样读入" in seq["message"]
    sendback = import_returns(tmp_path, master_without_goals, returned.parent)[DEPT]
    rows = [[c.value for c in r] for r in sendback.iter_rows()]
    [kept] = [r for r in rows if "办件量" in r]
    assert kept[3:10] == ["产出指标", "数量指标", "办件量", "≥", 5000, "件", "历史标准"] and kept[0] is None
    seq_cell = sendback.cell(rows.index(kept) + 1, 1)
    assert seq_cell.fill.fgColor.rgb.endswith("FF9999") and "P-DEPT-SEQ" in seq_cell.comment.text
    assert stored_submission(tmp_path).dept.indicators[0].seq is None


# -------------------------------------------------------------------------------------------------
# The footer


@pytest.mark.parametrize("typed, iso", [
    (datetime.datetime(2025, 3, 15), "2025-03-15"),
    ("2025/3/5", "2025-03-05"),
    ("2025年3月15日", "2025-03-15"),
    ("20250315", "2025-03-15"),
    ("2025.03.15", "2025-03-15"),
])
def test_the_footer_is_read_kept_and_sent_back_with_the_date_normalised(tmp_path, sample_master, typed, iso):
    issued = issue(tmp_path, sample_master)

    def footer(wb):
        ws = wb[P1]
        ws["B21"], ws["E21"], ws["H21"] = "张三", "0319-1234567", typed

    report = read_json(tmp_path, return_edited(tmp_path, issued, footer))
    fields = report["projects"][0]["fields"]
    assert (fields["footer.filler"]["value"], fields["footer.phone"]["value"]) == ("张三", "0319-1234567")
    assert fields["footer.date"]["value"] == iso and fields["footer.date"]["cell"] == f"{P1}!H21"
    assert report["contact"]["filler"] == "张三" and report["contact"]["date"] == iso
    sendback = import_returns(tmp_path, sample_master, tmp_path / "returns")[P1]
    assert (sendback["B21"].value, sendback["E21"].value, sendback["H21"].value) == ("张三", "0319-1234567", iso)
    contact = stored_submission(tmp_path).contact
    assert (contact.filler, contact.phone, contact.date) == ("张三", "0319-1234567", iso)


def test_a_footer_date_that_is_no_date_is_kept_as_typed_with_a_note(tmp_path, sample_master):
    issued = issue(tmp_path, sample_master)
    report = read_json(tmp_path, return_edited(tmp_path, issued, lambda wb: wb[P1].__setitem__("H21", "下周一")))
    assert report["projects"][0]["fields"]["footer.date"]["value"] == "下周一"
    [note] = [f for f in report["findings"] if f["rule"] == "P-DATE"]
    assert (note["severity"], note["cell"]) == ("info", "H21")
    assert import_returns(tmp_path, sample_master, tmp_path / "returns")[P1]["H21"].value == "下周一"


# -------------------------------------------------------------------------------------------------
# Content typed where the form has no field


def test_a_row_with_only_levels_and_an_added_sheet_are_listed_as_other_content(tmp_path, sample_master):
    issued = issue(tmp_path, sample_master)

    def edit(wb):
        wb[P1]["A18"] = "产出指标"  # a spare row: only the 一级 chosen
        wb.create_sheet("备注")["B2"] = "请联系王五"

    report = read_json(tmp_path, return_edited(tmp_path, issued, edit))
    listed = {(o["sheet"], o["cell"], o["text"]): o["note"] for o in report["other_content"]}
    assert listed[(P1, "A18", "产出指标")].startswith("这一行只有一级/二级指标")
    assert listed[("备注", "B2", "请联系王五")] == "填在单位自行添加的工作表中"
    assert len(listed) == 2  # nothing the form itself holds
    sheet = import_returns(tmp_path, sample_master, tmp_path / "returns")["其他填写内容"]
    assert sheet["A1"].value.startswith("以下内容填写在表格中没有填写项的位置")
    assert [c.value for c in sheet[2]] == ["序号", "工作表", "单元格", "填写内容", "说明"]
    rows = {row[1:4] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert {(P1, "A18", "产出指标"), ("备注", "B2", "请联系王五")} == rows
    assert {(o.sheet, o.cell) for o in stored_submission(tmp_path).other_content} == {(P1, "A18"), ("备注", "B2")}


def test_an_untouched_form_has_no_other_content(tmp_path, sample_master):
    issued = issue(tmp_path, sample_master)
    assert read_json(tmp_path, issued)["other_content"] == []


def test_an_untouched_form_is_accounted_for_without_its_names(tmp_path, sample_master, monkeypatch):
    # Every cell of an untouched form (the 分项 序号 of the department grid included) is accounted for by the
    # template and what the reader took, so the ~700 defined names are never parsed for the scan.
    from jixiao_xl import unbound

    def refuse(*args):
        raise AssertionError("an untouched form made the other-content scan parse the defined names")

    monkeypatch.setattr(unbound, "_bound_cells", refuse)
    sub = read_file(issue(tmp_path, sample_master))
    assert sub.readable and sub.other_content == ()


def test_an_untouched_skeleton_grid_is_not_other_content(tmp_path, master_without_goals):
    folder = master_without_goals
    with (folder / "绩效指标.csv").open(encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle))
    with (folder / "绩效指标.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerow(header)  # no indicators: every project form gets the framework skeleton
    issued = issue(tmp_path, folder)
    assert openpyxl.load_workbook(issued)[P1]["B12"].value == "质量指标"
    assert read_json(tmp_path, issued)["other_content"] == []


# -------------------------------------------------------------------------------------------------
# Extra fields declared by a template


@pytest.fixture
def templates(tmp_path) -> tuple[Path, Path]:
    """The shipped templates with a 项目负责人 row (an extra field) and a 备注 label beside a blank cell."""
    project = openpyxl.load_workbook(builtin_template(PROJECT_TEMPLATE))
    ws = project.active
    ws["A13"], ws["B13"] = "项目负责人", "{{ extra.项目负责人 }}"
    ws["D13"] = "备注"
    dept = openpyxl.load_workbook(builtin_template(DEPARTMENT_TEMPLATE))
    dept.active["A10"], dept.active["B10"] = "绩效联系人", "{{ extra.绩效联系人 }}"
    paths = tmp_path / "项目表.xlsx", tmp_path / "部门表.xlsx"
    project.save(paths[0])
    dept.save(paths[1])
    return paths


def test_template_check_warns_about_a_label_beside_a_blank_locked_cell(templates):
    result = invoke("template", "check", templates[0])
    assert result.exit_code == 0, result.output
    assert "T-LOCKED-BESIDE-LABEL" in result.output and "E13" in result.output
    assert "{{ extra.备注 }}" in result.output


def test_an_unknown_field_says_how_extra_fields_are_written(tmp_path):
    wb = openpyxl.load_workbook(builtin_template(PROJECT_TEMPLATE))
    wb.active["B13"] = "{{ project.manager }}"
    wb.save(tmp_path / "t.xlsx")
    result = invoke("template", "check", tmp_path / "t.xlsx")
    assert result.exit_code == 1
    assert "未知字段 “project.manager”" in result.output and "{{ extra.项目负责人 }}" in result.output


def test_an_extra_field_in_the_indicator_row_is_refused(tmp_path):
    wb = openpyxl.load_workbook(builtin_template(PROJECT_TEMPLATE))
    wb.active["J11"] = "{{ extra.备注 }}"
    wb.save(tmp_path / "t.xlsx")
    result = invoke("template", "check", tmp_path / "t.xlsx")
    assert result.exit_code == 1 and "T-EXTRA-IN-ROW" in result.output and "J11" in result.output


def test_extra_fields_are_inputs_read_back_kept_and_sent_back(tmp_path, sample_master, templates):
    args = ("--template", templates[0], "--dept-template", templates[1])
    issued = issue(tmp_path, sample_master, *args)
    form = openpyxl.load_workbook(issued)
    cell = form[P1]["B22"]  # row 13 of the template, below a grid of 10 rows
    assert form[P1]["A22"].value == "项目负责人"
    assert cell.protection.locked is False and cell.fill.fgColor.rgb.endswith("FFF2CC")
    assert f"'{P1}'!$B$22" in form.defined_names["JX_P01_EXTRA_U9879U76EEU8D1FU8D23U4EBA"].attr_text
    assert form[P1]["E22"].protection.locked is not False  # beside the 备注 label: not a field, locked

    def fill_extras(wb):
        wb[P1]["B22"] = "李四"
        wb[DEPT]["B24"] = "王五"

    returned = return_edited(tmp_path, issued, fill_extras)
    # `read` has no --template yet (the template recorded at generate time is being wired in): read in-process.
    report = submission_report(read_file(returned, specs=(load_spec(templates[0]), load_spec(templates[1]))))
    assert report["projects"][0]["fields"]["extra.项目负责人"] == {
        "value": "李四", "raw": "李四", "cell": f"{P1}!B22", "found_by": "name"}
    assert report["department"]["fields"]["extra.绩效联系人"]["value"] == "王五"
    assert report["other_content"] == []
    sendback = import_returns(tmp_path, sample_master, returned.parent, *args)
    assert sendback[P1]["B22"].value == "李四" and sendback[DEPT]["B24"].value == "王五"
    stored = stored_submission(tmp_path)
    assert stored.projects[0].extras == {"项目负责人": "李四"} and stored.dept.extras == {"绩效联系人": "王五"}


def test_template_check_lists_the_extra_fields_of_a_clean_template(templates):
    result = invoke("template", "check", templates[1])
    assert result.exit_code == 0, result.output
    assert "检查通过" in result.output and "附加填写项 1 个：绩效联系人" in result.output


def test_a_submission_keeps_footer_extras_and_other_content_through_json_and_reads_older_json():
    from jixiao_xl.model import Project
    from jixiao_xl.submission import (Footer, OtherContent, ReturnedProject, Submission, submission_from_dict,
                                      submission_to_dict)

    project = ReturnedProject("p01", P1, Project("435001", "P1", "项目", None), footer=Footer("张三", "123", "2025-03-15",
                              "2025年3月15日"), extras={"项目负责人": "李四"})
    sub = Submission("f.xlsx", "0" * 64, "xlsx", projects=(project,),
                     other_content=(OtherContent(P1, "J12", "备注", "填在表格右侧"),))
    plain = json.loads(json.dumps(submission_to_dict(sub), ensure_ascii=False))
    assert submission_from_dict(plain) == sub
    assert submission_from_dict(plain).contact == Footer("张三", "123", "2025-03-15", "2025年3月15日")
    for key in ("footer", "extras"):
        del plain["projects"][0][key]
    del plain["other_content"]  # as the ledger holds a submission stored before these existed
    older = submission_from_dict(plain)
    assert older.projects[0].footer is None and older.other_content == () and older.contact == Footer()
