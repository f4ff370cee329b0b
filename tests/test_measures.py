"""三、工作保障措施 on the department form: issued from the master, read back, kept, sent back and published."""

from __future__ import annotations

import json

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.master import load_sample
from jixiao_xl.measures import measures_text, parse_measures
from jixiao_xl.model import DeptMeasure
from jixiao_xl.submission import submission_from_dict
from test_import import UNIT_FILE, _fix_everything, cycle, returned, run_import  # noqa: F401 (cycle is a fixture)

UNIT = "435001"
SHEET = "部门整体绩效目标"
LABEL = "三、工作保障措施（每条一段：序号、措施名称、措施内容）"
EDITED = "（1）强化预算执行，严格支出管理。按月通报支出进度。\n完善全方位监督制度。邀请 20 名社会监督员，每季度开一次座谈会。"


def measures_cell(wb):
    [(sheet, ref)] = list(wb.defined_names["JX_D_MEASURES"].destinations)
    return wb[sheet][ref.replace("$", "")]


# ---------------------------------------------------------------------------------------------------------
# the text and its items


def test_the_text_numbers_each_measure_and_joins_name_and_content():
    text = measures_text(load_sample().measures_of(UNIT))
    lines = text.split("\n")
    assert len(lines) == 3
    assert lines[0].startswith("1、强化预算执行，严格支出管理。强化财政预算执行，在保障机关工作正常运转的前提下")
    assert lines[1].startswith("2、完善全方位监督制度。从社会监督") and "16 名社会监督员" in lines[1]
    assert lines[2].startswith("3、实行每日工作总结法。由局班子成员")


def test_the_sample_text_reads_back_as_the_masters_measures():
    measures = load_sample().measures_of(UNIT)
    parsed, followed = parse_measures(measures_text(measures), UNIT)
    assert followed and parsed == measures


@pytest.mark.parametrize("text, expected", [
    ("1、甲。内容甲\n2、乙。内容乙", [(1, "甲", "内容甲"), (2, "乙", "内容乙")]),
    ("1.甲。内容甲\n2. 乙", [(1, "甲", "内容甲"), (2, "乙", "")]),
    ("（1）甲。内容甲\n(2)乙。内容乙", [(1, "甲", "内容甲"), (2, "乙", "内容乙")]),
    ("加强领导。成立专班。\n\n3、乙。内容乙\n丙。", [(1, "加强领导", "成立专班。"), (3, "乙", "内容乙"), (4, "丙", "")]),
    ("1.5 万元用于培训。其余用于宣传", [(1, "1.5 万元用于培训", "其余用于宣传")]),
    ("   \n", []),
])
def test_numbered_paragraphs_are_parsed(text, expected):
    parsed, followed = parse_measures(text)
    assert followed
    assert [(m.seq, m.title, m.text) for m in parsed] == expected


def test_numbers_that_repeat_keep_the_text_as_one_measure():
    parsed, followed = parse_measures("2、甲。内容\n1、乙。内容")
    assert not followed
    assert parsed == (DeptMeasure("", 1, "2、甲。内容\n1、乙。内容"),)


# ---------------------------------------------------------------------------------------------------------
# through the CLI


def test_generate_writes_the_measures_as_an_input(cycle):
    wb = openpyxl.load_workbook(cycle / "issued" / UNIT_FILE)
    cell = measures_cell(wb)
    assert cell.parent.title == SHEET
    assert cell.value == measures_text(load_sample().measures_of(UNIT))
    assert cell.protection.locked is False
    assert cell.fill.fgColor.rgb == "FFFFF2CC"
    assert cell.parent.cell(cell.row, 1).value == LABEL
    assert cell.alignment.wrap_text


def _edit_measures(wb) -> None:
    _fix_everything(wb)
    measures_cell(wb).value = EDITED


def test_edited_measures_are_read_kept_sent_back_and_published(cycle, tmp_path):
    folder = returned(cycle, "measures-in", _edit_measures)
    runner = CliRunner()
    read = runner.invoke(cli, ["read", str(folder / UNIT_FILE), "--json", str(tmp_path / "read.json")])
    assert read.exit_code == 0, read.output
    department = json.loads((tmp_path / "read.json").read_text(encoding="utf-8"))["submissions"][0]["department"]
    assert department["measures"]["raw"] == EDITED and department["measures"]["found_by"] == "name"
    assert department["measures"]["items"] == [
        {"seq": 1, "title": "强化预算执行，严格支出管理", "text": "按月通报支出进度。"},
        {"seq": 2, "title": "完善全方位监督制度", "text": "邀请 20 名社会监督员，每季度开一次座谈会。"}]

    # a warning keeps the return in 退回修改, which must carry the unit's own text
    def edit(wb) -> None:
        _edit_measures(wb)
        wb["3.统一着装经费"]["E7"] = 1

    imported = run_import(cycle, returned(cycle, "measures-back", edit), "measures")
    assert imported.exit_code == 1, imported.output
    [sendback] = (cycle / "measures" / "退回修改").iterdir()
    cell = measures_cell(openpyxl.load_workbook(sendback))
    assert cell.value == EDITED
    assert cell.parent.row_dimensions[cell.row].height < 161  # as the template drew it (160): the text fits

    ledger = cycle / "measures.sqlite"
    published = CliRunner().invoke(cli, ["publish", "--master", str(cycle / "master.xlsx"), "--ledger", str(ledger),
                                         "--out", str(tmp_path / "公开"), "--format", "html", "--force"])
    assert published.exit_code == 0, published.output
    html = next((tmp_path / "公开").glob("*.html")).read_text(encoding="utf-8")
    assert "<h3>1、强化预算执行，严格支出管理</h3>" in html and "按月通报支出进度。" in html
    assert "<h3>2、完善全方位监督制度</h3>" in html and "每季度开一次座谈会" in html
    assert "实行每日工作总结法" not in html and "16 名社会监督员" not in html


def test_a_long_text_makes_its_row_taller(cycle):
    long_text = EDITED + "\n3、加强业务培训。" + "每月组织一次业务培训，" * 80

    def edit(wb) -> None:
        _fix_everything(wb)
        wb["3.统一着装经费"]["E7"] = 1  # a problem, so that a 退回修改 is written
        measures_cell(wb).value = long_text

    run_import(cycle, returned(cycle, "long-in", edit), "long")
    [sendback] = (cycle / "long" / "退回修改").iterdir()
    cell = measures_cell(openpyxl.load_workbook(sendback))
    assert cell.value == long_text
    assert cell.parent.row_dimensions[cell.row].height > 200


def test_unordered_numbers_are_an_info_finding_and_the_text_is_kept(cycle, tmp_path):
    def edit(wb) -> None:
        _fix_everything(wb)
        measures_cell(wb).value = "2、甲。内容\n1、乙。内容"

    result = run_import(cycle, returned(cycle, "unordered-in", edit), "unordered")
    found = json.loads((cycle / "unordered" / "findings.json").read_text(encoding="utf-8"))
    [finding] = [f for f in found if f["rule"] == "P-MEASURES"]
    assert finding["severity"] == "info" and finding["sheet"] == SHEET, result.output
    assert "序号有重复或前后颠倒" in finding["message"]
    assert finding["cell"] == measures_cell(openpyxl.load_workbook(cycle / "issued" / UNIT_FILE)).coordinate


def test_an_unchanged_text_is_untouched_and_an_edited_one_is_a_return(cycle, tmp_path):
    manifest = cycle / "issued" / "manifest.csv"

    def resave(wb) -> None:
        wb.properties.creator = "someone"  # saved again: not the issued bytes

    def only_measures(wb) -> None:
        measures_cell(wb).value = EDITED

    for folder, edit, blank in (("same-in", resave, True), ("edited-in", only_measures, False)):
        result = CliRunner().invoke(cli, [
            "import", str(returned(cycle, folder, edit)), "--master", str(cycle / "master.xlsx"), "--out",
            str(tmp_path / folder), "--ledger", str(tmp_path / f"{folder}.sqlite"), "--manifest", str(manifest),
            "--jobs", "1"])
        rules = {f["rule"] for f in json.loads((tmp_path / folder / "findings.json").read_text(encoding="utf-8"))}
        assert ("X-BLANK" in rules) is blank, (folder, result.output)


def test_a_submission_stored_before_the_field_has_no_measures():
    stored = {"file": "a.xlsx", "sha256": "", "kind": "xlsx", "unit_code": UNIT, "unit_name": "", "template_id": "",
              "template_version": "", "master_fingerprint": "", "producer": "", "projects": [], "findings": [],
              "dept": {"sheet": SHEET, "overall_goal": "目标", "goals": [], "indicators": [], "locations": {},
                       "notes": {}}}
    sub = submission_from_dict(stored)
    assert sub.dept.measures == () and sub.dept.where("measures") is None
