"""`jixiao-xl import` end to end: the seed's defects at their cells, a clean return, tampering, reports."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.ledger import Ledger

UNIT_FILE = "435001-巨鹿县行政审批局本级.xlsx"


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    root = tmp_path_factory.mktemp("cycle")
    runner = CliRunner()
    assert runner.invoke(cli, ["master", "init", "--sample", str(root / "master.xlsx")]).exit_code == 0
    result = runner.invoke(cli, ["generate", "--master", str(root / "master.xlsx"), "--out", str(root / "issued"),
                                 "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return root


def run_import(root: Path, returns: Path, name: str):
    return CliRunner().invoke(cli, ["import", str(returns), "--master", str(root / "master.xlsx"), "--out",
                                    str(root / name), "--ledger", str(root / f"{name}.sqlite"), "--jobs", "1"])


def returned(root: Path, folder: str, edit=None) -> Path:
    target = root / folder
    target.mkdir(exist_ok=True)
    wb = openpyxl.load_workbook(root / "issued" / UNIT_FILE)
    if edit:
        edit(wb)
    wb.save(target / UNIT_FILE)
    return target


def findings_of(root: Path, name: str) -> list[dict]:
    return json.loads((root / name / "findings.json").read_text(encoding="utf-8"))


def test_seed_defects_found_at_their_cells(cycle):
    result = run_import(cycle, returned(cycle, "unchanged"), "r1")
    assert result.exit_code == 1, result.output
    found = {(f["rule"], f["sheet"], f["cell"]) for f in findings_of(cycle, "r1")}
    expected = {
        ("R-C1", "5.政务外网费用", "F14"),            # cost indicator 7.9 万元 above its 5.00 budget
        ("R-F5", "3.统一着装经费", "E7"),             # the plan never reaches the budget
        ("R-R3", "3.统一着装经费", "E12"),            # ≥ on a damage rate
        ("R-R2", "1.光纤租赁和短信机费用", "E15"),     # ≤100% on a satisfaction rate
        ("R-R4", "2.软件正版化设备保养维护费用", "G11"),  # a quantity in %
    }
    assert expected <= found
    cost_operator = {(f["sheet"], f["cell"]) for f in findings_of(cycle, "r1") if f["rule"] == "R-C2"}
    assert {("5.政务外网费用", "E14"), ("3.统一着装经费", "E14"), ("2.软件正版化设备保养维护费用", "E14")} <= cost_operator
    errors = [f for f in findings_of(cycle, "r1") if f["severity"] == "error"]
    assert {f["rule"] for f in errors} == {"R-C1", "R-F5"}
    assert "report.html" in result.output and "退回修改" in result.output


def _fix_everything(wb) -> None:
    for ws in wb.worksheets[1:7]:
        ws["B9"] = "按计划完成项目任务，提升政务服务水平"
        ws["E14"] = "≤"
        ws["H14"] = "预算支出标准"
        for row in range(11, 18):
            name = str(ws.cell(row, 3).value or "")
            if "满意" in name or "满意" in str(ws.cell(row, 4).value or ""):
                ws.cell(row, 5).value = "≥"
                ws.cell(row, 6).value = 90
    uniform = wb["3.统一着装经费"]
    uniform["E7"] = 9
    uniform["E12"], uniform["F12"] = "≤", 2
    wb["5.政务外网费用"]["F14"] = 5
    wb["5.政务外网费用"]["C16"] = "政务专网运行的稳定性"
    software = wb["2.软件正版化设备保养维护费用"]
    software["F11"], software["G11"] = 60, "台"
    dept = wb["部门整体绩效目标"]
    for row in range(7, 20):
        if dept.cell(row, 7).value == "＝" and "满意" in str(dept.cell(row, 6).value or ""):
            dept.cell(row, 7).value = "≥"
    dept["G12"], dept["H12"], dept["I12"] = "≤", 1, "%"
    dept["F18"] = "服务对象对窗口服务的满意度"


def test_a_correct_return_has_no_errors(cycle):
    result = run_import(cycle, returned(cycle, "fixed", _fix_everything), "r2")
    errors = [f for f in findings_of(cycle, "r2") if f["severity"] == "error"]
    assert errors == [], errors
    assert result.exit_code == 0, result.output


def test_tampered_budget_is_caught(cycle):
    def tamper(wb):
        ws = wb["3.统一着装经费"]
        ws.protection.sheet = False
        ws["B4"] = 9.5

    result = run_import(cycle, returned(cycle, "tampered", tamper), "r3")
    assert result.exit_code == 1
    tamper_findings = [f for f in findings_of(cycle, "r3") if f["rule"] == "X-TAMPER"]
    assert [(f["sheet"], f["cell"], f["value"], f["expected"]) for f in tamper_findings] == [
        ("3.统一着装经费", "B4", "9.50", "9.00")]
    assert any(f["rule"] == "P-PROTECTION-REMOVED" for f in findings_of(cycle, "r3"))


def test_reports_hold_every_finding(cycle):
    run_import(cycle, returned(cycle, "unchanged"), "r4")
    findings = findings_of(cycle, "r4")
    html = (cycle / "r4" / "report.html").read_text(encoding="utf-8")
    sheet = openpyxl.load_workbook(cycle / "r4" / "report.xlsx")["问题清单"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(findings)
    for f in findings:
        assert f["rule"] in html
        assert any(r[7] == f["rule"] and r[5] == (f["cell"] or None) for r in rows), f
    csv_text = (cycle / "r4" / "findings.csv").read_bytes()
    assert csv_text.startswith(b"\xef\xbb\xbf")
    sendback = openpyxl.load_workbook(cycle / "r4" / "退回修改" / UNIT_FILE)
    assert "问题清单" in sendback.sheetnames
    assert sendback["5.政务外网费用"]["F14"].comment is not None


def test_reimport_is_a_noop_and_returns_are_untouched(cycle):
    folder = returned(cycle, "twice")
    before = (folder / UNIT_FILE).read_bytes()
    run_import(cycle, folder, "r5")
    first = (cycle / "r5" / "findings.json").read_bytes()
    second = run_import(cycle, folder, "r5")
    assert "未重复导入" in second.output
    # The second run writes into a folder of its own: the first run's reports are never overwritten.
    assert (cycle / "r5" / "findings.json").read_bytes() == first
    [own] = [p.name for p in (cycle / "r5").iterdir() if p.is_dir() and p.name.endswith("-第2次")]
    assert [f["rule"] for f in findings_of(cycle, f"r5/{own}")].count("L-DUPLICATE") == 1
    with Ledger.open(cycle / "r5.sqlite") as ledger:
        assert len(ledger.history()) == 1
    assert (folder / UNIT_FILE).read_bytes() == before


def test_a_folder_an_earlier_run_recorded_is_never_reused_under_another_name(cycle):
    folder = returned(cycle, "spelled")
    first = run_import(cycle, folder, "r8")
    assert first.exit_code == 1, first.output
    for name in ("findings.json", "findings.csv", "report.xlsx", "report.html"):
        (cycle / "r8" / name).unlink()  # only the ledger still knows the folder was used
    (cycle / "r8-link").symlink_to(cycle / "r8")
    again = CliRunner().invoke(cli, ["import", str(returned(cycle, "spelled2", edit=lambda wb: wb.worksheets[1].cell(21, 2, "李四"))),
                                     "--master", str(cycle / "master.xlsx"), "--out", str(cycle / "r8-link"),
                                     "--ledger", str(cycle / "r8.sqlite"), "--jobs", "1"])
    assert again.exit_code == 1, again.output
    [own] = [p for p in (cycle / "r8").iterdir() if p.is_dir() and p.name.endswith("-第2次")]
    assert (own / "findings.json").is_file() and not (cycle / "r8" / "findings.json").exists()
    with Ledger.open(cycle / "r8.sqlite") as ledger:
        assert [run.out_dir for run in ledger.runs()] == [str((cycle / "r8").resolve()), str(own.resolve())]


def test_output_inside_the_returns_folder_is_refused(cycle):
    folder = returned(cycle, "inside")
    result = CliRunner().invoke(cli, ["import", str(folder), "--master", str(cycle / "master.xlsx"),
                                      "--out", str(folder / "核对"), "--ledger", str(cycle / "x.sqlite")])
    assert result.exit_code == 2 and "报回文件所在的文件夹" in result.output
    assert not (folder / "核对").exists()


def test_status_and_consolidate_after_import(cycle):
    run_import(cycle, returned(cycle, "unchanged"), "r6")
    runner = CliRunner()
    status = runner.invoke(cli, ["status", "--master", str(cycle / "master.xlsx"), "--ledger", str(cycle / "r6.sqlite"),
                                 "--manifest", str(cycle / "issued" / "manifest.csv"), "--json"])
    assert status.exit_code == 0
    units = json.loads(status.output)["units"]
    assert units[0]["code"] == "435001" and units[0]["state"] == "已报送有错误"
    out = cycle / "汇总.xlsx"
    result = runner.invoke(cli, ["consolidate", "--master", str(cycle / "master.xlsx"), "--ledger",
                                 str(cycle / "r6.sqlite"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "预算数合计 60.00 万元" in result.output
    total = openpyxl.load_workbook(out)["总表"]
    assert any(row[0] == "合计" for row in total.iter_rows(values_only=True))


def test_a_sendback_that_cannot_be_rendered_becomes_a_finding(cycle, monkeypatch):
    # The 退回修改 workbooks are rendered in the isolated workers (forked, so they see this patch); a render
    # that fails must not take the import down, and must be reported against the unit's file.
    import jixiao_xl.checking as checking

    def broken(*args, **kwargs):
        raise RuntimeError("render failed")

    monkeypatch.setattr(checking, "write_sendbacks", broken)
    result = run_import(cycle, returned(cycle, "unchanged-broken-sendback"), "r-broken")
    assert result.exit_code == 1, result.output
    notes = [f for f in findings_of(cycle, "r-broken") if f["rule"] == "G-SENDBACK"]
    assert [(n["unit_code"], Path(n["file"]).name, n["severity"]) for n in notes] == [("435001", UNIT_FILE, "warning")]
    assert not (cycle / "r-broken" / "退回修改").exists() or not list((cycle / "r-broken" / "退回修改").iterdir())


def test_stale_temporaries_of_a_killed_run_are_swept(cycle):
    import os
    import time

    out = cycle / "r7"
    (out / "退回修改").mkdir(parents=True)
    stale, fresh = out / ".tmp-old.xlsx", out / "退回修改" / ".tmp-new.xlsx"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    run_import(cycle, returned(cycle, "unchanged"), "r7")
    assert not stale.exists() and fresh.exists()


def test_a_few_hundred_files_in_parallel_match_serial(tmp_path):
    from dataclasses import replace as _replace

    from jixiao_xl.generate import GenerateOptions, generate
    from jixiao_xl.importer import ImportOptions
    from jixiao_xl.importer import run_import as import_files
    from jixiao_xl.master import load_sample
    from jixiao_xl.model import Unit

    sample = load_sample()
    units = tuple(Unit(code=f"{700000 + i}", name=f"测试单位{i}") for i in range(240))
    projects = tuple(_replace(sample.projects[i % 6], unit_code=u.code, code=f"{u.code}P1") for i, u in enumerate(units))
    master = _replace(sample, units=units, projects=projects, dept_goals=(), dept_indicators=())
    generate(master, None, GenerateOptions(out_dir=tmp_path / "returns", jobs=2))
    for extra in (tmp_path / "returns").glob("*.txt"):
        extra.unlink()
    (tmp_path / "returns" / "manifest.csv").unlink()
    runs = {}
    for jobs in (1, 2):
        result = import_files(master, ImportOptions(paths=(tmp_path / "returns",), out_dir=tmp_path / f"out{jobs}",
                                                    ledger_path=tmp_path / f"l{jobs}.sqlite", jobs=jobs, sendbacks=False))
        assert result.files == 240 and len(result.submissions) == 240
        findings = json.loads((tmp_path / f"out{jobs}" / "findings.json").read_text(encoding="utf-8"))
        runs[jobs] = findings
        with Ledger.open(tmp_path / f"l{jobs}.sqlite") as ledger:
            history = ledger.history()
            assert len(history) == 240 and all(row.status == "parsed" for row in history)
            assert all(ledger.findings_of(row.id) for row in history)
    assert runs[1] == runs[2]
    assert {f["file"] for f in runs[2] if f["file"]} == {str(p) for p in (tmp_path / "returns").glob("*.xlsx")}
