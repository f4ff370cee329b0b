"""Printed pages a person reads: report.xlsx, the 问题清单 of 退回修改 and 汇总表, rendered to PDF by LibreOffice.

Each table prints on landscape A4, one page wide (every column header on every page of the table, the
header row repeated), with every message whole; the charts of 汇总表 print on pages of their own.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.report import HEADERS_ZH
from lo import convert, require_tool, requires_libreoffice
from test_import import UNIT_FILE

pytestmark = [requires_libreoffice, pytest.mark.libreoffice]

SENDBACK_HEADERS = ("序号", "严重程度", "工作表", "单元格", "项目编码", "规则", "问题及修改方法", "填报值", "应为")
LONG_NOTE = "这是一段很长的说明文字，" * 12


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_pages(pdf: Path) -> list[str]:
    """The text of every page of ``pdf``, in drawing order (LibreOffice draws cell by cell, so a wrapped cell's lines stay together)."""
    done = subprocess.run([require_tool("pdftotext"), "-raw", str(pdf), "-"], capture_output=True, check=True)
    return done.stdout.decode().split("\f")[:-1]


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    done = subprocess.run([require_tool("pdfinfo"), "-f", "1", "-l", "999", str(pdf)], capture_output=True, check=True)
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", done.stdout.decode())]


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> Path:
    """The sample generated, its return filled with a long text and a tampered budget, imported, consolidated."""
    root = tmp_path_factory.mktemp("print")
    runner = CliRunner()
    master = root / "master.xlsx"
    assert runner.invoke(cli, ["master", "init", "--sample", str(master)]).exit_code == 0
    assert runner.invoke(cli, ["generate", "--master", str(master), "--out", str(root / "issued"),
                               "--jobs", "1"]).exit_code == 0
    wb = openpyxl.load_workbook(root / "issued" / UNIT_FILE)
    ws = wb["3.统一着装经费"]
    ws["E7"] = 9
    ws["F12"] = "不超过" + LONG_NOTE  # a value the reader cannot parse: its finding quotes it in full
    (root / "returns").mkdir()
    wb.save(root / "returns" / UNIT_FILE)
    result = runner.invoke(cli, ["import", str(root / "returns"), "--master", str(master), "--out", str(root / "核对"),
                                 "--ledger", str(root / "ledger.sqlite"), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    result = runner.invoke(cli, ["consolidate", "--master", str(master), "--ledger", str(root / "ledger.sqlite"),
                                 "--out", str(root / "汇总" / "汇总表.xlsx")])
    assert result.exit_code in (0, 1), result.output
    return root


def only(paths) -> Path:
    found = list(paths)
    assert len(found) == 1, found
    return found[0]


def table_pages(pages: list[str], header: str) -> list[str]:
    return [page for page in pages if header in squeeze(page)]


def test_report_prints_every_table_one_landscape_page_wide(cycle, tmp_path):
    pdf = convert(only(cycle.glob("核对/**/report.xlsx")), "pdf", tmp_path)
    assert all(width > height for width, height in page_sizes(pdf))  # every page landscape
    assert all(abs(width - 841.9) < 2 and abs(height - 595.3) < 2 for width, height in page_sizes(pdf))  # A4
    pages = pdf_pages(pdf)
    listing = table_pages(pages, HEADERS_ZH["message"])
    assert listing, "no page of 问题清单 found"
    for page in listing:  # every column on the same page as the message: the table is not split by columns
        text = squeeze(page)
        assert all(title in text for title in HEADERS_ZH.values()), page[:400]
    assert squeeze(LONG_NOTE) in squeeze("".join(pages))  # the long value is printed whole


def test_sendback_problem_list_prints_one_landscape_page_wide_with_whole_messages(cycle, tmp_path):
    workbook = only(cycle.glob("核对/**/退回修改/*.xlsx"))
    problems = openpyxl.load_workbook(workbook, read_only=True)["问题清单"]
    messages = [row[6] for row in problems.iter_rows(min_row=2, values_only=True) if row[6]]
    assert messages
    pdf = convert(workbook, "pdf", tmp_path)
    pages = pdf_pages(pdf)
    sizes = page_sizes(pdf)
    listing = [n for n, page in enumerate(pages) if all(title in squeeze(page) for title in SENDBACK_HEADERS)]
    assert listing, "no page of 问题清单 carries every column header"
    assert all(sizes[n][0] > sizes[n][1] for n in listing)
    printed = squeeze("".join(pages[n] for n in listing))
    for message in messages:
        assert squeeze(message) in printed, message
    # No page of the list lacks its header row: pages between the first and last are all headed.
    assert listing == list(range(listing[0], listing[-1] + 1))


def test_consolidation_tables_one_page_wide_and_charts_on_their_own_pages(cycle, tmp_path):
    workbook = only(cycle.glob("汇总/汇总表.xlsx"))
    pdf = convert(workbook, "pdf", tmp_path)
    pages = pdf_pages(pdf)
    detail_headers = [squeeze(str(cell.value)) for cell in
                      next(openpyxl.load_workbook(workbook, read_only=True)["明细"].iter_rows(max_row=1))]
    detail = [page for page in pages if detail_headers[0] in squeeze(page)
              and all(header in squeeze(page) for header in detail_headers)]
    missing = [[h for h in detail_headers if h not in squeeze(page)] for page in pages]
    assert detail, f"明细 is split across pages by columns: {missing}"
    assert all(width > height for width, height in page_sizes(pdf))
    assert len(pages) >= 7  # five tables and two chart sheets, each starting a page of its own
