"""One truth about every unit over a year of imports (issue 13, issue 18 item 3), through the CLI.

A bureau of five units (甲局 … 戊办) issues its forms and imports returns in rounds. Every view — status,
the 概览 of each run's report, 退回修改, 退回通知, 催报 — agrees on which return counts and on each unit's
state; blank issued forms are reported to the bureau and count for nothing; every received file is kept
in 原件/ and the reports rebuild from the ledger alone; an interrupted import is reported in full by its
rerun.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl import checking, importer
from jixiao_xl.cli import cli
from jixiao_xl.ledger import Ledger
from jixiao_xl.master import load_sample, write_master
from jixiao_xl.model import Unit

NAMES = {"435001": "甲局", "435002": "乙中心", "435003": "丙站", "435004": "丁所", "435005": "戊办"}
A, B, C, D, E = NAMES


def invoke(*args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def bureau(tmp_path_factory) -> Path:
    """A master of five units (two sample projects each, a contact and a phone each) and their issued forms."""
    root = tmp_path_factory.mktemp("bureau")
    sample = load_sample()
    units = tuple(Unit(code, name, "435", contact=f"联系人{code[-1]}", phone=f"0319-555000{code[-1]}")
                  for code, name in NAMES.items())
    projects = tuple(dataclasses.replace(p, unit_code=u.code, code=f"{u.code}-{k}")
                     for u in units for k, p in enumerate(sample.projects[:2]))
    write_master(root / "master.xlsx", dataclasses.replace(sample, units=units, projects=projects))
    result = invoke("generate", "--master", root / "master.xlsx", "--out", root / "issued", "--jobs", 1)
    assert result.exit_code == 0, result.output
    return root


def issued(root: Path, code: str) -> Path:
    [path] = (root / "issued").glob(f"{code}-*.xlsx")
    return path


def filled(root: Path, code: str, folder: Path, name: str, purpose: str) -> Path:
    """The unit's issued form with its first project's 资金用途 filled in (a real return), saved as ``name``."""
    wb = openpyxl.load_workbook(issued(root, code))
    sheet, cell = wb.defined_names["JX_P01_PURPOSE"].attr_text.split("!")
    wb[sheet.strip("'")][cell.replace("$", "")] = purpose
    folder.mkdir(parents=True, exist_ok=True)
    wb.save(folder / name)
    return folder / name


def resaved(root: Path, code: str, folder: Path, name: str) -> Path:
    """The unit's issued form opened and saved again, nothing filled: other bytes, no input changed."""
    wb = openpyxl.load_workbook(issued(root, code))
    folder.mkdir(parents=True, exist_ok=True)
    wb.save(folder / name)
    return folder / name


def status_states(root: Path, ledger: Path) -> dict[str, dict]:
    result = invoke("status", "--master", root / "master.xlsx", "--ledger", ledger, "--manifest",
                    root / "issued" / "manifest.csv", "--json")
    assert result.exit_code == 0, result.output
    return {u["code"]: u for u in json.loads(result.output)["units"]}


def overview_states(report: Path) -> dict[str, tuple]:
    """概览's unit part: 单位编码 → (状态, 报送文件, 错误, 警告)."""
    rows = list(openpyxl.load_workbook(report)["概览"].iter_rows(values_only=True))
    assert rows[0][0] == "各单位当前状态（与 jixiao-xl status 一致）"
    assert rows[1][:3] == ("单位编码", "单位名称", "状态")
    states = {}
    for row in rows[2:]:
        if row[0] == "合计":
            break
        states[row[0]] = (row[2], row[3] or "", row[5], row[6])
    return states


def file_rows(report: Path) -> dict[str, str]:
    """概览's file part: 文件 → 状态."""
    rows = list(openpyxl.load_workbook(report)["概览"].iter_rows(values_only=True))
    start = next(k for k, row in enumerate(rows) if row[0] == "本次核对的文件") + 2
    return {row[2]: row[6] for row in rows[start:] if row[0] != "合计" and row[2]}


def run_folders(out: Path) -> list[Path]:
    return sorted((p for p in out.iterdir() if p.is_dir()), key=lambda p: int(p.name.split("第")[1].rstrip("次")))


def findings(folder: Path) -> list[dict]:
    return json.loads((folder / "findings.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------------------
# Two rounds


@pytest.fixture(scope="module")
def two_rounds(bureau, tmp_path_factory):
    """Round 1: 甲局 and 乙中心 return. Round 2: 乙中心 corrected, 丙站 returns; 丁所 and 戊办 never do.
    Run from the bureau's folder with the default --out, so each run gets its own folder under output/核对/."""
    root = tmp_path_factory.mktemp("rounds")
    first, second = root / "mail1", root / "mail2"
    filled(bureau, A, first, "甲局报送.xlsx", "甲局第一次填写")
    filled(bureau, B, first, "乙中心报送.xlsx", "乙中心第一次填写")
    filled(bureau, B, second, "乙中心更正.xlsx", "乙中心更正后的资金用途")
    filled(bureau, C, second, "丙站报送.xlsx", "丙站填写")
    ledger = root / "ledger.sqlite"
    common = ("--master", bureau / "master.xlsx", "--ledger", ledger, "--manifest", bureau / "issued" / "manifest.csv",
              "--originals", root / "原件", "--deadline", "2026年12月20日", "--jobs", 1)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        one = invoke("import", first, *common)
        out = root / "output" / "核对"
        [round1] = run_folders(out)
        report1 = (round1 / "report.xlsx").read_bytes()
        two = invoke("import", second, *common)
    finally:
        os.chdir(cwd)
    return root, ledger, out, one, two, report1


def test_each_round_has_its_own_folder_and_nothing_is_overwritten(two_rounds):
    root, ledger, out, one, two, report1 = two_rounds
    assert one.exit_code == 1 and two.exit_code == 1, one.output + two.output
    round1, round2 = run_folders(out)
    assert round1.name.endswith("-第1次") and round2.name.endswith("-第2次")
    assert f"output/核对/{round2.name}/report.xlsx" in two.output
    assert (round1 / "report.xlsx").read_bytes() == report1
    assert set(file_rows(round1 / "report.xlsx")) == {str(root / "mail1" / "甲局报送.xlsx"),
                                                        str(root / "mail1" / "乙中心报送.xlsx")}
    assert set(file_rows(round2 / "report.xlsx")) == {str(root / "mail2" / "乙中心更正.xlsx"),
                                                        str(root / "mail2" / "丙站报送.xlsx")}
    with Ledger.open(ledger) as opened:
        runs = opened.runs()
    assert [r.reported_at is not None for r in runs] == [True, True]
    assert [Path(r.out_dir) for r in runs] == [round1, round2]


def test_round_two_overview_states_equal_status(two_rounds, bureau):
    root, ledger, out, _one, _two, _report1 = two_rounds
    status = status_states(bureau, ledger)
    round2 = run_folders(out)[1]
    overview = overview_states(round2 / "report.xlsx")
    assert set(overview) == set(NAMES) == set(status)
    for code, unit in status.items():
        assert overview[code] == (unit["state"], unit["return_file"], unit["errors"], unit["warnings"]), code
    # 甲局 returned in round one: still returned; 丁所 and 戊办 never did: awaiting, not "有警告".
    assert status[A]["state"].startswith("已报送") and status[A]["return_file"] == "甲局报送.xlsx"
    assert status[B]["return_file"] == "乙中心更正.xlsx" and status[B]["returns"] == 2
    assert {status[D]["state"], status[E]["state"]} == {"待报送"}
    html = (round2 / "report.html").read_text(encoding="utf-8")
    assert "各单位当前状态（与 jixiao-xl status 一致）" in html and "待报送 2" in html


def test_sendbacks_of_each_round_are_separate(two_rounds):
    _root, _ledger, out, _one, _two, _report1 = two_rounds
    round1, round2 = run_folders(out)
    assert sorted(p.name for p in (round1 / "退回修改").iterdir()) == ["435001-甲局.xlsx", "435002-乙中心.xlsx"]
    assert sorted(p.name for p in (round2 / "退回修改").iterdir()) == ["435002-乙中心.xlsx", "435003-丙站.xlsx"]
    purpose = openpyxl.load_workbook(round2 / "退回修改" / "435002-乙中心.xlsx")
    sheet, cell = purpose.defined_names["JX_P01_PURPOSE"].attr_text.split("!")
    assert purpose[sheet.strip("'")][cell.replace("$", "")].value == "乙中心更正后的资金用途"


def test_notices_and_reminder_list(two_rounds, bureau):
    root, _ledger, out, _one, two, _report1 = two_rounds
    round2 = run_folders(out)[1]
    notice = (round2 / "退回通知" / "435003-丙站-退回通知.txt").read_bytes()
    assert notice.startswith(b"\xef\xbb\xbf") and b"\r\n" in notice
    text = notice.decode("utf-8-sig")
    assert text.startswith("关于修改")
    assert "丙站：" in text and "丙站报送.xlsx" in text and "2026年12月20日 前" in text
    errors = [f for f in findings(round2) if f["unit_code"] == C and f["severity"] == "error" and f["cell"]]
    assert errors
    for f in errors:
        assert f"工作表“{f['sheet']}”{f['cell']} 单元格：{f['message']}" in text
    assert "X-BLANK" not in text and "X-UNIT-NO-RETURN" not in text
    assert sorted(p.name for p in (round2 / "退回通知").iterdir()) == ["435002-乙中心-退回通知.txt",
                                                                       "435003-丙站-退回通知.txt"]
    rows = list(openpyxl.load_workbook(round2 / "催报.xlsx")["催报"].iter_rows(values_only=True))
    assert rows[0] == ("序号", "单位编码", "单位名称", "状态", "联系人", "联系电话", "报送截止时间", "下发文件")
    assert rows[1] == (1, D, "丁所", "待报送", "联系人4", "0319-5550004", "2026年12月20日", "435004-丁所.xlsx")
    assert rows[2] == (2, E, "戊办", "待报送", "联系人5", "0319-5550005", "2026年12月20日", "435005-戊办.xlsx")
    assert rows[4][0] == "共 2 个单位未报送。"


def test_originals_hold_every_received_file(two_rounds):
    root, ledger, _out, _one, _two, _report1 = two_rounds
    received = sorted((root / "mail1").iterdir()) + sorted((root / "mail2").iterdir())
    with Ledger.open(ledger) as opened:
        for path in received:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            kept = root / "原件" / digest[:2] / f"{digest}.xlsx"
            assert kept.read_bytes() == path.read_bytes()
            row = opened.by_sha256(digest)
            assert opened.original_of(row.id) == f"{digest[:2]}/{digest}.xlsx"


def test_report_rebuilds_after_the_returns_are_deleted(two_rounds, bureau, tmp_path):
    root, ledger, out, _one, _two, _report1 = two_rounds
    copy = tmp_path / "ledger.sqlite"
    shutil.copy(ledger, copy)
    moved = tmp_path / "mail-gone"
    shutil.copytree(root / "mail1", moved)
    shutil.rmtree(root / "mail1")
    try:
        result = invoke("report", "--run", 1, "--out", tmp_path / "again", "--master", bureau / "master.xlsx",
                        "--ledger", copy, "--manifest", bureau / "issued" / "manifest.csv", "--jobs", 1)
    finally:
        shutil.copytree(moved, root / "mail1")
    assert result.exit_code == 1, result.output
    original = run_folders(out)[0]
    key = lambda f: (f["file"], f["rule"], f["sheet"], f["cell"], f["message"])  # noqa: E731
    # The run's own files are reported as they were (the outstanding units' findings follow today's state).
    own = lambda fs: sorted(key(f) for f in fs if f["file"])  # noqa: E731
    assert own(findings(tmp_path / "again")) == own(findings(original))
    # 甲局's round-one return still counts and gets its 退回修改; 乙中心's does not (superseded in round two).
    assert sorted(p.name for p in (tmp_path / "again" / "退回修改").iterdir()) == ["435001-甲局.xlsx"]


def test_report_of_the_current_state_without_import(two_rounds, bureau, tmp_path):
    root, ledger, _out, _one, _two, _report1 = two_rounds
    result = invoke("report", "--out", tmp_path / "now", "--master", bureau / "master.xlsx", "--ledger", ledger,
                    "--manifest", bureau / "issued" / "manifest.csv", "--jobs", 1)
    assert result.exit_code == 1, result.output
    [folder] = list((tmp_path / "now").iterdir())
    assert folder.name.endswith("-当前状态")
    status = status_states(bureau, ledger)
    overview = overview_states(folder / "report.xlsx")
    assert {code: state[0] for code, state in overview.items()} == {code: u["state"] for code, u in status.items()}
    assert set(file_rows(folder / "report.xlsx")) == {str(root / "mail1" / "甲局报送.xlsx"),
                                                        str(root / "mail2" / "乙中心更正.xlsx"),
                                                        str(root / "mail2" / "丙站报送.xlsx")}
    assert sorted(p.name for p in (folder / "退回修改").iterdir()) == ["435001-甲局.xlsx", "435002-乙中心.xlsx",
                                                                      "435003-丙站.xlsx"]
    missing = invoke("report", "--ledger", tmp_path / "nowhere.sqlite", "--master", bureau / "master.xlsx")
    assert missing.exit_code == 2 and "找不到台账" in missing.output
    assert not (tmp_path / "nowhere.sqlite").exists()


# ---------------------------------------------------------------------------------------------------------
# Blank issued forms in the inbox


def test_issued_blanks_are_reported_to_the_bureau_and_never_count(bureau, tmp_path):
    inbox = tmp_path / "inbox"
    filled(bureau, A, inbox / "a", "甲局报送.xlsx", "甲局填写")
    filled(bureau, B, inbox / "a", "乙中心报送.xlsx", "乙中心填写")
    resaved(bureau, C, inbox / "b", "丙站-未填.xlsx")
    (inbox / "z").mkdir()
    for code in NAMES:  # the issued blanks, byte for byte, read after the real returns (戊办's renamed)
        shutil.copy(issued(bureau, code), inbox / "z" / ("附件.xlsx" if code == E else issued(bureau, code).name))
    ledger = tmp_path / "ledger.sqlite"
    result = invoke("import", inbox, "--master", bureau / "master.xlsx", "--out", tmp_path / "out", "--ledger", ledger,
                    "--manifest", bureau / "issued" / "manifest.csv", "--jobs", 1)
    assert result.exit_code == 1, result.output
    assert "其中 6 个文件是未填写的下发表，不算报送" in result.output
    found = findings(tmp_path / "out")
    blanks = {f["file"]: f for f in found if f["rule"] == "X-BLANK"}
    assert set(blanks) == {str(inbox / "b" / "丙站-未填.xlsx"), *(str(p) for p in (inbox / "z").iterdir())}
    assert "与下发的文件逐字节相同" in blanks[str(issued_copy(inbox, A))]["message"]
    assert "所有填报单元格与下发时预填的内容相同" in blanks[str(inbox / "b" / "丙站-未填.xlsx")]["message"]
    assert blanks[str(issued_copy(inbox, A))]["unit_code"] == A
    assert blanks[str(inbox / "z" / "附件.xlsx")]["unit_code"] == E  # named by the manifest
    blank_files = set(blanks)
    # A blank file has no other finding: no rules were run on it.
    assert {f["rule"] for f in found if f["file"] in blank_files} == {"X-BLANK"}
    status = status_states(bureau, ledger)
    assert status[A]["return_file"] == "甲局报送.xlsx" and status[A]["returns"] == 1
    assert status[B]["return_file"] == "乙中心报送.xlsx" and status[B]["returns"] == 1
    assert {status[code]["state"] for code in (C, D, E)} == {"待报送"}
    assert sorted(p.name for p in (tmp_path / "out" / "退回修改").iterdir()) == ["435001-甲局.xlsx", "435002-乙中心.xlsx"]
    assert not any(p.name.startswith("435003") for p in (tmp_path / "out" / "退回通知").iterdir())
    rows = file_rows(tmp_path / "out" / "report.xlsx")
    assert rows[str(issued_copy(inbox, C))] == "未填写的下发表，不算报送"
    assert "无法读取" not in result.output
    # Later blanks of units that have returned (opened and saved again, nothing filled) change nothing.
    later = tmp_path / "later"
    resaved(bureau, A, later, "甲局-空白.xlsx")
    resaved(bureau, B, later, "乙中心-空白.xlsx")
    again = invoke("import", later, "--master", bureau / "master.xlsx", "--out", tmp_path / "out2", "--ledger", ledger,
                   "--manifest", bureau / "issued" / "manifest.csv", "--jobs", 1)
    assert again.exit_code == 0, again.output
    assert status_states(bureau, ledger) == status
    assert not (tmp_path / "out2" / "退回修改").exists()
    assert {f["rule"] for f in findings(tmp_path / "out2") if f["file"]} == {"X-BLANK"}
    # consolidate uses the same counting: the blanks' units come from the master, 甲局 from its return.
    consolidated = invoke("consolidate", "--master", bureau / "master.xlsx", "--ledger", ledger, "--out",
                          tmp_path / "汇总.json", "--format", "json")
    assert consolidated.exit_code in (0, 1), consolidated.output
    document = json.loads((tmp_path / "汇总.json").read_text(encoding="utf-8"))
    text = json.dumps(document, ensure_ascii=False)
    assert "甲局报送.xlsx" in text and "丙站-未填.xlsx" not in text and "435003-丙站.xlsx" not in text


def issued_copy(inbox: Path, code: str) -> Path:
    [path] = (inbox / "z").glob(f"{code}-*.xlsx")
    return path


def test_without_a_manifest_an_unchanged_form_is_a_return(bureau, tmp_path):
    """Blanks are recognised against what was issued; told nothing about it, import reads the form as before."""
    inbox = tmp_path / "inbox"
    resaved(bureau, C, inbox, "丙站.xlsx")
    ledger = tmp_path / "ledger.sqlite"
    result = invoke("import", inbox, "--master", bureau / "master.xlsx", "--out", tmp_path / "out", "--ledger", ledger,
                    "--jobs", 1)
    assert result.exit_code == 1
    assert "X-BLANK" not in {f["rule"] for f in findings(tmp_path / "out")}


# ---------------------------------------------------------------------------------------------------------
# Interrupted imports


def test_rerun_of_an_import_that_failed_in_the_report_step_reports_everything(bureau, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    filled(bureau, A, inbox, "甲局报送.xlsx", "甲局填写")
    filled(bureau, B, inbox, "乙中心报送.xlsx", "乙中心填写")
    out, ledger = tmp_path / "out", tmp_path / "ledger.sqlite"
    command = ("import", inbox, "--master", bureau / "master.xlsx", "--out", out, "--ledger", ledger, "--jobs", 1)
    real = importer.write_reports

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(importer, "write_reports", disk_full)
    failed = invoke(*command)
    assert failed.exit_code == 2 and not (out / "findings.json").exists()
    with Ledger.open(ledger) as opened:
        [run] = opened.runs()
        assert run.finished_at is not None and run.reported_at is None
    monkeypatch.setattr(importer, "write_reports", real)

    again = invoke(*command)
    assert again.exit_code == 1, again.output
    assert "核对文件 2 个，涉及单位 2 个" in again.output
    assert "第 1 次导入的核对报告上次未完成，已根据台账补做" in again.output
    # The interrupted run's own folder is completed, 退回修改 included …
    assert {f["file"] for f in findings(out) if f["file"]} == {str(p) for p in inbox.iterdir()}
    assert sorted(p.name for p in (out / "退回修改").iterdir()) == ["435001-甲局.xlsx", "435002-乙中心.xlsx"]
    # … and the rerun reports every file in full in a folder of its own (not "核对文件 0 个").
    [rerun] = [p for p in out.iterdir() if p.is_dir() and p.name.endswith("-第2次")]
    rules = {(f["file"], f["rule"]) for f in findings(rerun)}
    assert all((str(p), "L-DUPLICATE") not in rules for p in inbox.iterdir())
    assert {file for file, _ in rules if file} == {str(p) for p in inbox.iterdir()}
    assert sorted(p.name for p in (rerun / "退回修改").iterdir()) == ["435001-甲局.xlsx", "435002-乙中心.xlsx"]
    third = invoke(*command)
    assert third.exit_code == 0 and "核对文件 0 个" in third.output and "未重复导入" in third.output
    with Ledger.open(ledger) as opened:
        assert all(run.reported_at is not None for run in opened.runs())


_STALLED = """
import sys, time
from pathlib import Path
from jixiao_xl import importer

def stalled(*args, **kwargs):
    Path(sys.argv[1]).write_text("in the report step")
    time.sleep(120)

importer.write_reports = stalled
from jixiao_xl.cli import main
main(sys.argv[2:])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")
def test_rerun_after_sigterm_in_the_report_step(bureau, tmp_path):
    inbox = tmp_path / "inbox"
    filled(bureau, A, inbox, "甲局报送.xlsx", "甲局填写")
    out, ledger, flag = tmp_path / "out", tmp_path / "ledger.sqlite", tmp_path / "flag"
    args = ["import", str(inbox), "--master", str(bureau / "master.xlsx"), "--out", str(out), "--ledger", str(ledger),
            "--jobs", "1"]
    # Its own session, so that the test can clean up whatever the killed run leaves behind.
    process = subprocess.Popen([sys.executable, "-c", _STALLED, str(flag), *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(1200):
            if flag.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert flag.exists()
        process.send_signal(signal.SIGTERM)  # the main process only
        assert process.wait(timeout=60) == 143  # SIGTERM: the workers stopped, exit 128 + 15
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    assert not (out / "findings.json").exists()
    again = invoke(*args)
    assert again.exit_code == 0, again.output  # 甲局's return has warnings only
    assert "核对文件 1 个，涉及单位 1 个" in again.output
    assert {f["file"] for f in findings(out) if f["file"]} == {str(inbox / "甲局报送.xlsx")}
    assert (out / "退回修改" / "435001-甲局.xlsx").exists()


def test_a_failing_sendback_is_a_finding_and_the_run_goes_on(bureau, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    filled(bureau, A, inbox, "甲局报送.xlsx", "甲局填写")
    filled(bureau, B, inbox, "乙中心报送.xlsx", "乙中心填写")
    real = checking.write_sendbacks

    def broken_for_b(out_dir, master, submissions, *args, **kwargs):
        if submissions[0].unit_code == B:
            raise ValueError("模拟的渲染失败")
        return real(out_dir, master, submissions, *args, **kwargs)

    monkeypatch.setattr(checking, "write_sendbacks", broken_for_b)  # the forked workers inherit it
    out = tmp_path / "out"
    result = invoke("import", inbox, "--master", bureau / "master.xlsx", "--out", out, "--ledger",
                    tmp_path / "ledger.sqlite", "--jobs", 1)
    assert result.exit_code == 1, result.output
    assert [p.name for p in (out / "退回修改").iterdir()] == ["435001-甲局.xlsx"]
    [failure] = [f for f in findings(out) if f["rule"] == "G-SENDBACK"]
    assert failure["unit_code"] == B and failure["file"] == str(inbox / "乙中心报送.xlsx")
    assert "未能为该单位生成退回修改表" in failure["message"]
    assert (out / "report.xlsx").exists() and (out / "催报.xlsx").exists()
    with Ledger.open(tmp_path / "ledger.sqlite") as opened:
        assert opened.runs()[0].reported_at is not None


def test_a_failing_report_sheet_or_notice_is_a_finding_and_the_run_goes_on(bureau, tmp_path, monkeypatch):
    from jixiao_xl import followup
    from jixiao_xl.report import excel as report

    inbox = tmp_path / "inbox"
    filled(bureau, A, inbox, "甲局报送.xlsx", "甲局填写")
    filled(bureau, B, inbox, "乙中心报送.xlsx", "乙中心填写")
    real_names, real_notice = report.unit_sheet_names, followup.render_notice

    def bad_name_for_a(units):
        names = real_names(units)
        names[A] = "甲局[不能作表名]"
        return names

    def failing_notice_for_b(master, unit, *args, **kwargs):
        if unit.code == B:
            raise RuntimeError("模拟的通知失败")
        return real_notice(master, unit, *args, **kwargs)

    monkeypatch.setattr(report, "unit_sheet_names", bad_name_for_a)
    monkeypatch.setattr(followup, "render_notice", failing_notice_for_b)
    out = tmp_path / "out"
    result = invoke("import", inbox, "--master", bureau / "master.xlsx", "--out", out, "--ledger",
                    tmp_path / "ledger.sqlite", "--jobs", 1)
    assert result.exit_code in (0, 1), result.output
    found = findings(out)
    [sheet] = [f for f in found if f["rule"] == "G-REPORT"]
    assert sheet["unit_code"] == A and "核对报告分表" in sheet["message"]
    [notice] = [f for f in found if f["rule"] == "G-NOTICE"]
    assert notice["unit_code"] == B and "模拟的通知失败" in notice["message"]
    book = openpyxl.load_workbook(out / "report.xlsx")
    assert any(name.startswith("435002") for name in book.sheetnames)
    assert not any(name.startswith("435001") for name in book.sheetnames)
    assert [p.name for p in (out / "退回通知").iterdir()] == ["435001-甲局-退回通知.txt"]
    assert sorted(p.name for p in (out / "退回修改").iterdir()) == ["435001-甲局.xlsx", "435002-乙中心.xlsx"]


def test_originals_inside_the_returns_folder_are_refused(bureau, tmp_path):
    inbox = tmp_path / "inbox"
    filled(bureau, A, inbox, "甲局报送.xlsx", "甲局填写")
    result = invoke("import", inbox, "--master", bureau / "master.xlsx", "--out", tmp_path / "out", "--ledger",
                    tmp_path / "ledger.sqlite", "--originals", inbox / "原件")
    assert result.exit_code == 2 and "原件文件夹" in result.output
    assert not (inbox / "原件").exists() and not (tmp_path / "ledger.sqlite").exists()
