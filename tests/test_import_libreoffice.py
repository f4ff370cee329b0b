"""`jixiao-xl import` on returns saved by LibreOffice: all four reports, 退回修改, the seed's defects at
their cells, a tampered budget caught, exit 1 with errors and 0 on a clean return."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from lo import convert, requires_libreoffice
from test_import import UNIT_FILE, _fix_everything

pytestmark = [requires_libreoffice, pytest.mark.libreoffice]


@pytest.fixture(scope="module")
def issued(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lo-import")
    runner = CliRunner()
    assert runner.invoke(cli, ["master", "init", "--sample", str(root / "master.xlsx")]).exit_code == 0
    assert runner.invoke(cli, ["generate", "--master", str(root / "master.xlsx"), "--out", str(root / "issued"),
                               "--jobs", "1"]).exit_code == 0
    return root


def saved_by_libreoffice(root: Path, name: str, fmt: str, edit=None) -> Path:
    """The issued workbook (optionally edited first) converted by LibreOffice into folder ``name``."""
    source = root / f"{name}-source" / UNIT_FILE
    source.parent.mkdir()
    if edit is None:
        shutil.copyfile(root / "issued" / UNIT_FILE, source)
    else:
        wb = openpyxl.load_workbook(root / "issued" / UNIT_FILE)
        edit(wb)
        wb.save(source)
    folder = root / name
    convert(source, fmt, folder)
    return folder


def run_import(root: Path, folder: Path, out: str):
    result = CliRunner().invoke(cli, ["import", str(folder), "--master", str(root / "master.xlsx"), "--out",
                                      str(root / out), "--ledger", str(root / f"{out}.sqlite"), "--jobs", "2"])
    findings = json.loads((root / out / "findings.json").read_text(encoding="utf-8"))
    return result, findings


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_seed_defects_in_a_libreoffice_return(issued, fmt):
    folder = saved_by_libreoffice(issued, f"unchanged-{fmt}", fmt)
    result, findings = run_import(issued, folder, f"r-{fmt}")
    assert result.exit_code == 1, result.output
    found = {(f["rule"], f["sheet"], f["cell"]) for f in findings}
    assert {("R-C1", "5.政务外网费用", "F14"), ("R-F5", "3.统一着装经费", "E7"),
            ("R-R3", "3.统一着装经费", "E12")} <= found
    assert not any(f["rule"].startswith(("I-", "X-TAMPER", "P-NOT")) for f in findings)
    for report in ("report.xlsx", "report.html", "findings.json", "findings.csv"):
        assert (issued / f"r-{fmt}" / report).is_file()
    sendback = openpyxl.load_workbook(issued / f"r-{fmt}" / "退回修改" / UNIT_FILE)
    assert "问题清单" in sendback.sheetnames and sendback["5.政务外网费用"]["F14"].comment is not None


def test_budget_tampered_in_libreoffice_is_caught(issued):
    def tamper(wb):
        ws = wb["3.统一着装经费"]
        ws.protection.sheet = False
        ws["B4"] = 9.5

    folder = saved_by_libreoffice(issued, "tampered", "xlsx", tamper)
    result, findings = run_import(issued, folder, "r-tampered")
    assert result.exit_code == 1
    tampered = [(f["sheet"], f["cell"], f["value"], f["expected"]) for f in findings if f["rule"] == "X-TAMPER"]
    assert tampered == [("3.统一着装经费", "B4", "9.50", "9.00")]
    # LibreOffice recalculated the department sheet's totals from the edited budget: still the one edit,
    # so neither R-F1 (funds) nor R-F2 (totals) tells the unit to change something else.
    assert not [f for f in findings if f["rule"] in ("R-F1", "R-F2")]


def test_a_clean_libreoffice_return_exits_0(issued):
    folder = saved_by_libreoffice(issued, "clean", "xlsx", _fix_everything)
    result, findings = run_import(issued, folder, "r-clean")
    assert [f for f in findings if f["severity"] == "error"] == []
    assert result.exit_code == 0, result.output
