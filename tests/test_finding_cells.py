"""One finding per cell and rule, and every finding names a cell (issue 14 item 5), through the CLI.

`master check` runs the master check and the domain rules; where both would judge one cell only one
reports (the levels, operators, funds and plan are M- codes, the indicator values R-V1/R-V3), a unit or
project listed twice is checked once, and a finding about a whole project points at the cells it sums
(R-W3, R-W4: the weight column) or at the project's 项目编码 (R-S3).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.cell import MergedCell
from click.testing import CliRunner

from jixiao_xl.cli import cli

UNIT_FILE = "435001-巨鹿县行政审批局本级.xlsx"
LINE = re.compile(r"^\[(错误|警告|提示)\] (\S*?) ?([A-Z]-[A-Z0-9-]+)：")

# Findings that truly have no cell, because the whole file or a whole sheet is the problem: a master or a
# return that cannot be opened (M-UNREADABLE, I-*), a sheet that is missing (M-MISSING-SHEET,
# X-PROJECT-MISSING, X-DEPT-MISSING), a unit that returned nothing (X-UNIT-NO-RETURN), a file that is not
# the unit's form or another batch's (P-NOT-FORM, X-UNIT-MISSING, X-VERSION), a file seen before (L-DUPLICATE,
# X-SAME-FILE) and the tool's own failures (G-*, L-LEDGER-*). None of them occurs in these runs; any other
# finding without a cell fails them.
NO_CELL = frozenset({"M-UNREADABLE", "M-MISSING-SHEET", "X-UNIT-NO-RETURN", "X-PROJECT-MISSING", "X-DEPT-MISSING"})


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def _sample(path: Path, edit=None) -> Path:
    assert invoke("master", "init", "--sample", str(path)).exit_code == 0
    if edit is not None:
        wb = openpyxl.load_workbook(path)
        edit(wb)
        wb.save(path)
    return path


def _printed(output: str) -> list[tuple[str, str, str, str]]:
    """(severity, sheet!cell, rule, line) of every finding line `master check` printed."""
    found = []
    for line in output.splitlines():
        match = LINE.match(line)
        if match:
            found.append((match[1], match[2], match[3], line))
    return found


def _broken(wb) -> None:
    """A unit and a project listed twice, a word as a value, a placeholder, a bad weight, weights that do
    not add up to 90, and a project without 满意度 indicators."""
    units, projects = wb["单位"], wb["项目"]
    units.append([c.value for c in units[2]])
    projects.append([c.value for c in projects[3]])
    wb["设置"]["B6"] = 90                      # 权重合计
    grid = wb["绩效指标"]
    for row in range(2, 9):                   # the first project: 7 × 10 = 70, not 90
        grid.cell(row, 10).value = 10
    grid["J2"] = "十分"                        # not a number: M-NUMBER, and no R-W1 "没有填写权重" beside it
    grid["G11"] = "百分百"                      # a word under ≥: R-V1 only
    grid["G13"] = "**"                         # a placeholder: R-V3 only
    grid.delete_rows(15)                      # the second project's only 满意度 indicator


def test_master_check_prints_each_finding_once_at_its_cell(tmp_path):
    result = invoke("master", "check", str(_sample(tmp_path / "m.xlsx", _broken)))
    assert result.exit_code == 1, result.output
    printed = _printed(result.output)
    assert printed, result.output
    repeated = [line for line, n in Counter(line for *_, line in printed).items() if n > 1]
    assert repeated == []
    assert [line for _, place, rule, line in printed if "!" not in place and rule not in NO_CELL] == []
    places = {(place, rule) for _, place, rule, _ in printed}
    by_place: dict[str, set[str]] = {}
    for place, rule in places:
        by_place.setdefault(place, set()).add(rule)
    assert by_place["绩效指标!G11"] == {"R-V1"}                 # not M-NUMBER as well
    assert by_place["绩效指标!G13"] == {"R-V3"}
    assert by_place["绩效指标!J2"] == {"M-NUMBER"}              # no "没有填写权重" for a weight that was typed
    assert ("绩效指标!J2:J8", "R-W3") in places                 # the weight cells the total sums
    assert ("项目!B3", "R-S3") in places                       # the project's 项目编码
    assert ("单位!A3", "M-DUP-UNIT") in places and ("项目!B8", "M-DUP-PROJECT") in places
    [total] = [line for _, place, rule, line in printed if rule == "R-W3"]
    assert "权重合计为 60，应为 90" in total                     # J2 is not a number


def test_a_sample_master_names_a_cell_for_every_finding(tmp_path):
    printed = _printed(invoke("master", "check", str(_sample(tmp_path / "m.xlsx"))).output)
    assert printed
    assert [line for _, place, _, line in printed if "!" not in place] == []


def test_errors_only_lists_only_errors_and_keeps_the_exit_code(tmp_path):
    path = _sample(tmp_path / "m.xlsx")
    full = invoke("master", "check", str(path))
    short = invoke("master", "check", "--errors-only", str(path))
    assert short.exit_code == full.exit_code == 1
    errors = [line for severity, *_, line in _printed(full.output) if severity == "错误"]
    assert [line for *_, line in _printed(short.output)] == errors
    assert "[警告]" not in short.output and "[提示]" not in short.output
    summary = full.output.strip().splitlines()[-1]
    assert summary in short.output                           # the counts still tell what was left out
    assert "另有" in short.output and "条警告和提示未列出" in short.output


def test_errors_only_on_a_master_without_errors_exits_0(tmp_path):
    def fixed(wb):
        wb["项目"]["L4"] = 9                                   # R-F5 on the master
        grid = wb["绩效指标"]
        grid["F33"], grid["G33"] = "≤", 5                    # R-C1

    result = invoke("master", "check", "--errors-only", str(_sample(tmp_path / "m.xlsx", fixed)))
    assert result.exit_code == 0, result.output
    assert _printed(result.output) == []


@pytest.fixture(scope="module")
def weighted_cycle(tmp_path_factory):
    """A weighted master (权重合计 90, every indicator 10) and its issued forms."""
    root = tmp_path_factory.mktemp("weighted")

    def weights(wb):
        wb["设置"]["B6"] = 90
        grid = wb["绩效指标"]
        for row in range(2, grid.max_row + 1):
            if grid.cell(row, 1).value:
                grid.cell(row, 10).value = 10

    _sample(root / "master.xlsx", weights)
    result = invoke("generate", "--master", str(root / "master.xlsx"), "--out", str(root / "issued"), "--jobs", "1")
    assert result.exit_code == 0, result.output
    return root


def test_an_import_names_a_cell_for_every_finding_once(weighted_cycle):
    root = weighted_cycle
    wb = openpyxl.load_workbook(root / "issued" / UNIT_FILE)
    fibre = wb["1.光纤租赁和短信机费用"]
    for column in range(1, 10):                # the 满意度 row left empty: R-S3, and the weights total 60
        fibre.cell(17, column).value = None
    fibre["I11"] = "十分"                       # P-NUMBER, not R-W1 "没有填写权重" as well
    office = wb["4.政务服务办公费（2+2+3 服务体系）"]
    for row in (16, 17):                       # two pre-filled rows deleted: one X-IND-REMOVED at 项目编码
        for column in range(1, 10):
            if not isinstance(office.cell(row, column), MergedCell):
                office.cell(row, column).value = None
    (root / "returns").mkdir()
    wb.save(root / "returns" / UNIT_FILE)
    result = invoke("import", str(root / "returns"), "--master", str(root / "master.xlsx"), "--out", str(root / "out"),
                    "--ledger", str(root / "ledger.sqlite"), "--jobs", "1")
    assert result.exit_code == 1, result.output
    findings = json.loads((root / "out" / "findings.json").read_text(encoding="utf-8"))
    assert [(f["rule"], f["sheet"]) for f in findings if not f["cell"] and f["rule"] not in NO_CELL] == []
    keys = Counter((f["file"], f["sheet"], f["cell"], f["rule"]) for f in findings)
    assert [key for key, n in keys.items() if n > 1] == []
    at = {(f["rule"], f["sheet"], f["cell"]) for f in findings}
    assert ("R-W3", "1.光纤租赁和短信机费用", "I11:I16") in at        # the weight cells it sums
    assert ("R-W3", "2.软件正版化设备保养维护费用", "I11:I17") in at   # 7 × 10 = 70, not 90
    assert ("R-S3", "1.光纤租赁和短信机费用", "B3") in at             # the project's 项目编码
    assert ("P-NUMBER", "1.光纤租赁和短信机费用", "I11") in at
    [removed] = [f for f in findings if f["rule"] == "X-IND-REMOVED" and f["sheet"].startswith("4.")]
    assert removed["cell"] == "B3" and removed["expected"].count("；") == 1
    assert ("R-W1", "1.光纤租赁和短信机费用", "I11") not in at
    sendback = openpyxl.load_workbook(root / "out" / "退回修改" / UNIT_FILE)
    comment = sendback["2.软件正版化设备保养维护费用"]["I11"].comment
    assert comment is not None and "R-W3" in comment.text        # marked at the first cell of the range
