"""`jixiao-xl demo` through the CLI: a year's workspace, two import rounds agreeing with `status`, a blank issued
workbook that is not a submission, a tampered budget that is not summed, and the published documents
(issue 13 item 9, issue 17 item 5)."""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.ledger import Ledger
from jixiao_xl.master import load_master
from jixiao_xl.workspace import FOLDERS, load_workspace

SEED, TAMPERED, BLANK = "435001", "435002", "435003"
BLANK_FILE = "435003-巨鹿县公共资源交易中心（演示）.xlsx"
TAMPERED_FILE = "435002-巨鹿县政务服务中心（演示）.xlsx"
CORRECTED_FILE = "435002-修改后.xlsx"


def invoke(*args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo run once: (its workspace folder, its output)."""
    root = tmp_path_factory.mktemp("demo") / "演示"
    result = invoke("demo", "--out", root)
    assert result.exit_code == 0, result.output
    return root, result.output


def run_folders(root: Path) -> list[Path]:
    """The import runs' folders under 核对/, in run order."""
    runs = [p for p in (root / "核对").iterdir() if p.is_dir()]
    return sorted(runs, key=lambda p: int(p.name.split("第")[1].rstrip("次")))


def findings(folder: Path) -> list[dict]:
    return json.loads((folder / "findings.json").read_text(encoding="utf-8"))


def status_units(root: Path) -> dict[str, dict]:
    result = invoke("--workspace", root, "status", "--json")
    assert result.exit_code == 0, result.output
    return {unit["code"]: unit for unit in json.loads(result.output)["units"]}


def overview_states(report: Path) -> dict[str, tuple]:
    """The unit part of a report's 概览: 单位编码 → (状态, 错误, 警告)."""
    rows = list(openpyxl.load_workbook(report, read_only=True)["概览"].iter_rows(values_only=True))
    assert rows[0][0] == "各单位当前状态（与 jixiao-xl status 一致）"
    states = {}
    for row in rows[2:]:
        if row[0] == "合计":
            break
        states[row[0]] = (row[2], row[5], row[6])
    return states


def sheet_rows(path: Path, sheet: str) -> list[tuple]:
    return list(openpyxl.load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True))


def as_decimal(value) -> Decimal:
    return Decimal(str(value))


def test_the_demo_is_a_workspace_with_its_configuration_and_folders(demo):
    root, _ = demo
    workspace = load_workspace(root)
    assert (root / "jixiao.toml").is_file() and (root / "主数据.xlsx").is_file() and (root / "ledger.sqlite").is_file()
    assert [folder.name for folder in workspace.folders()] == [name for name, _ in FOLDERS.values()]
    assert all(folder.is_dir() for folder in workspace.folders())
    assert workspace.deadline == "2022年1月20日" and workspace.year == 2022
    master = load_master(workspace.master)
    assert [unit.code for unit in master.units] == [SEED, TAMPERED, BLANK]
    manifest = (root / "下发" / "manifest.csv").read_text(encoding="utf-8-sig")
    assert all(code in manifest for code in (SEED, TAMPERED, BLANK))
    assert "是" not in [line.rsplit(",", 1)[-1] for line in manifest.splitlines()[1:]]  # issued without --force
    with Ledger.open_readonly(root / "ledger.sqlite") as ledger:
        assert set(ledger.issued_latest()) == {SEED, TAMPERED, BLANK}


def test_two_rounds_each_in_its_own_run_folder_and_every_file_kept(demo):
    root, output = demo
    first, second = run_folders(root)
    for folder in (first, second):
        assert {"report.xlsx", "report.html", "findings.json", "findings.csv"} <= {p.name for p in folder.iterdir()}
    round_one_files = {Path(f["file"]).name for f in findings(first)}
    assert TAMPERED_FILE in round_one_files and CORRECTED_FILE not in round_one_files  # round 1's report untouched
    assert CORRECTED_FILE in {Path(f["file"]).name for f in findings(second)}
    assert len(list((root / "原件").rglob("*.*"))) == 4  # four distinct files received over the two rounds
    assert f"核对/{first.name}/" in output and f"核对/{second.name}/" in output


def test_the_blank_workbook_is_reported_to_the_bureau_and_the_unit_stays_awaiting(demo):
    root, output = demo
    first, _ = run_folders(root)
    blanks = [f for f in findings(first) if f["rule"] == "X-BLANK"]
    assert [(f["unit_code"], Path(f["file"]).name) for f in blanks] == [(BLANK, BLANK_FILE)]
    assert (root / "收件" / BLANK_FILE).read_bytes() == next((root / "下发").glob(f"{BLANK}-*.xlsx")).read_bytes()
    units = status_units(root)
    assert units[BLANK]["state"] == "待报送" and units[BLANK]["returns"] == 0
    assert f"{BLANK_FILE}：未填写的下发表（X-BLANK）" in output and f"{BLANK} 仍为“待报送”" in output
    assert not list((first / "退回修改").glob(f"{BLANK}*"))  # nothing is sent back to the unit for it


def test_the_edited_budget_is_one_x_tamper_at_its_cell(demo):
    root, output = demo
    first, _ = run_folders(root)
    mine = [f for f in findings(first) if Path(f["file"]).name == TAMPERED_FILE]
    tampers = [f for f in mine if f["rule"] == "X-TAMPER"]
    assert [(f["sheet"], f["cell"], f["value"], f["expected"]) for f in tampers] == \
        [("1.光纤租赁和短信机费用", "B4", "8.00", "6.00")]
    assert [f for f in mine if f["cell"] == "B4"] == tampers
    assert not [f for f in mine if f["rule"] == "R-F5"]
    assert "X-TAMPER（该单元格只有这一条问题）" in output


def test_each_rounds_report_overview_agrees_with_status(demo):
    root, output = demo
    first, second = run_folders(root)
    units = status_units(root)
    assert overview_states(second / "report.xlsx") == {
        code: (unit["state"], unit["errors"], unit["warnings"]) for code, unit in units.items()}
    assert {code: state for code, (state, _, _) in overview_states(first / "report.xlsx").items()} == \
        {SEED: "已报送有错误", TAMPERED: "已报送有错误", BLANK: "待报送"}
    assert units[TAMPERED]["return_file"] == CORRECTED_FILE and units[TAMPERED]["returns"] == 2
    assert output.count("的“概览”与 status 逐个单位比对：状态和错误、警告数全部一致（3 个单位）") == 2


def test_consolidation_sums_the_issued_budgets_and_lists_the_edit(demo):
    root, output = demo
    master = load_master(root / "主数据.xlsx")
    expected = {unit.code: master.unit_budget(unit.code) for unit in master.units}
    for name in ("汇总表-第一轮后.xlsx", "汇总表.xlsx"):
        rows = sheet_rows(root / "汇总" / name, "总表")
        column = rows[0].index("预算数")
        assert {row[0]: as_decimal(row[column]) for row in rows[1:-1]} == expected
        assert rows[-1][0] == "合计" and as_decimal(rows[-1][column]) == sum(expected.values())
    edits = [row for row in sheet_rows(root / "汇总" / "汇总表-第一轮后.xlsx", "核对") if row[6] == "X-TAMPER"]
    assert [(row[0], row[11], row[12], as_decimal(row[13]), as_decimal(row[14])) for row in edits] == \
        [(TAMPERED, "预算数", "1.光纤租赁和短信机费用!B4", Decimal(8), Decimal(6))]
    assert not [row for row in sheet_rows(root / "汇总" / "汇总表.xlsx", "核对") if row[6] == "X-TAMPER"]
    total = f"{sum(expected.values()):.2f}"
    assert output.count(f"预算数合计 {total} 万元，等于主数据合计 {total} 万元") == 2


def test_the_seed_unit_is_published_in_three_formats(demo):
    root, output = demo
    stem = root / "公开" / "435001-巨鹿县行政审批局本级-2022年绩效目标公开"
    docx, pdf, html = (stem.with_suffix(f".{fmt}") for fmt in ("docx", "pdf", "html"))
    assert pdf.read_bytes().startswith(b"%PDF")
    assert zipfile.is_zipfile(docx) and "word/document.xml" in zipfile.ZipFile(docx).namelist()
    assert "巨鹿县行政审批局本级" in html.read_text(encoding="utf-8")
    assert "按 --force 照样公开" in output  # its return still has errors, and the demo says so
    assert all(f"公开/{path.name}" in output for path in (docx, pdf, html))


def test_the_output_ends_with_the_next_commands_and_where_things_are(demo):
    root, output = demo
    lines = output.rstrip("\n").splitlines()
    assert f"cd {root} && jixiao-xl status" in output and "jixiao-xl serve" in output
    where = next(k for k, line in enumerate(lines) if line.startswith("10. 文件在哪里"))
    assert [line.split()[0] for line in lines[where + 1:]] == ["下发/", "收件/", "原件/", "核对/", "汇总/", "公开/",
                                                               "主数据.xlsx、jixiao.toml、ledger.sqlite"]
    numbers = [line.split(".")[0] for line in lines if line[:1].isdigit()]
    assert numbers == [str(n) for n in range(1, 11)]


def test_the_commands_it_suggests_work_inside_the_workspace(demo, monkeypatch):
    root, _ = demo
    monkeypatch.chdir(root / "核对")  # a subfolder: the workspace is found as git finds a repository
    result = invoke("status")
    assert result.exit_code == 0, result.output
    assert "共 3 个单位：未下发 0，待报送 1，已报送有错误 2" in result.output


def test_the_demo_reruns_in_its_own_folder_and_refuses_anyone_elses(tmp_path):
    first = invoke("demo", "--out", tmp_path / "demo")
    assert first.exit_code == 0, first.output
    again = invoke("demo", "--out", tmp_path / "demo")
    assert again.exit_code == 0, again.output
    assert len(run_folders(tmp_path / "demo")) == 2
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("x")
    refused = invoke("demo", "--out", tmp_path / "mine")
    assert refused.exit_code == 2 and "演示不会覆盖它们" in refused.output
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["keep.txt"]


def test_the_demo_reads_each_overview_through_the_reader_as_openpyxl_reads_it(demo):
    from jixiao_xl.demo import overview_states as demo_overview_states

    for run in run_folders(demo[0]):
        assert demo_overview_states(run / "report.xlsx") == overview_states(run / "report.xlsx")


def test_edit_workbook_types_into_a_copy_and_leaves_the_issued_form_alone(demo, tmp_path):
    from jixiao_xl.template import edit_workbook

    issued = demo[0] / "下发" / TAMPERED_FILE
    before = issued.read_bytes()
    target = edit_workbook(issued, tmp_path / "typed.xlsx", {1: {"B4": 8, "B21": "李明"}, "填报说明": {"A1": "已阅"}},
                           unprotect=[1])
    assert target == tmp_path / "typed.xlsx" and issued.read_bytes() == before
    book = openpyxl.load_workbook(target)
    assert book.worksheets[1]["B4"].value == 8 and book.worksheets[1]["B21"].value == "李明"
    assert book["填报说明"]["A1"].value == "已阅"
    assert not book.worksheets[1].protection.sheet and book.worksheets[2].protection.sheet
