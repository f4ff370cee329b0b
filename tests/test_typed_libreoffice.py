"""Nothing a unit types is lost: every input cell of the issued workbook is typed into through LibreOffice,
and a few places the form has no field (below the grid, an added column, a locked cell and a label once the
protection is removed, the 填报说明 sheet); then `read --json` and `import` must give every typed value back —
in the read result, in the ledger's submission, and in the 退回修改 workbook (each input on its own sheet,
the rest on its 其他填写内容 sheet with its cell).
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.cell.cell import MergedCell

from jixiao_xl.cli import cli
from jixiao_xl.ledger import Ledger
from lo import requires_libreoffice
from test_typed import issue

pytestmark = [requires_libreoffice, pytest.mark.libreoffice]

FILE = "435001-巨鹿县行政审批局本级.xlsx"
PASSWORD = "jixiao"
P1, DEPT, GUIDE = "1.光纤租赁和短信机费用", "部门整体绩效目标", "填报说明"
# Fields whose cells take a number; every other input takes text.
NUMERIC = (".amount", ".value", ".weight", ".goal_seq")
# (sheet, cell, text): typed where the issued form has no field; the sheets are unprotected first.
ELSEWHERE = [
    (P1, "A24", "表尾下方的说明"),           # below the footer (row 21)
    (P1, "J12", "新增列中的备注"),           # a column the template does not have (it ends at I)
    (P1, "F6", "锁定空白处的填写"),           # a locked, blank cell of the 支出计划 block
    (P1, "C4", "其中：财政拨款"),             # a locked label changed
    (DEPT, "A30", "部门表下方的说明"),
    (GUIDE, "C3", "填报说明旁的留言"),
]


def typed_value(path: str, n: int):
    """What is typed into the input cell of field ``path``: a distinct number or text per cell."""
    if path.endswith(".footer.date"):
        return f"2025年3月{n % 28 + 1}日"
    if path.endswith(NUMERIC):
        return 1000 + n
    return f"填写{n:04d}号"


def input_cells(issued: Path) -> list[tuple[str, str, object]]:
    """(sheet, cell, value) for every unlocked cell of every visible sheet, valued by its field in _meta."""
    wb = openpyxl.load_workbook(issued)
    meta = wb["_meta"]
    field_of = {}
    for path, ref in meta.iter_rows(min_col=1, max_col=2, values_only=True):
        if isinstance(ref, str) and "!" in ref and "*" not in str(path):
            sheet, _, cell = ref.rpartition("!")
            field_of[(sheet.strip("'"), cell)] = path
        elif isinstance(ref, str) and "*" in str(path):  # a grid column: sheet!F11:F20, row k is path k
            sheet, _, cells = ref.rpartition("!")
            first, last = cells.split(":")
            column = "".join(ch for ch in first if ch.isalpha())
            for k, row in enumerate(range(int(first[len(column):]), int(last[len(column):]) + 1), start=1):
                field_of[(sheet.strip("'"), f"{column}{row}")] = path.replace("*", f"{k:02d}")
    typed = []
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell, MergedCell) or cell.protection.locked is not False:
                    continue
                path = field_of[(ws.title, cell.coordinate)]
                typed.append((ws.title, cell.coordinate, typed_value(path, len(typed))))
    return typed


@pytest.fixture(scope="module")
def cycle(libreoffice, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("typed")
    runner = CliRunner()
    assert runner.invoke(cli, ["master", "init", "--sample", str(root / "master.xlsx")]).exit_code == 0
    typed = input_cells(issue(root, root / "master.xlsx"))
    work = root / "work"
    work.mkdir()
    shutil.copyfile(root / "issued" / FILE, work / FILE)
    actions = [{"op": "open", "path": work / FILE}]
    actions += [{"op": "set_value", "sheet": s, "cell": c, "value": v} for s, c, v in typed]
    actions += [{"op": "unprotect", "sheet": s, "password": PASSWORD} for s in (P1, DEPT, GUIDE)]
    actions += [{"op": "set_value", "sheet": s, "cell": c, "value": v} for s, c, v in ELSEWHERE]
    (root / "returns").mkdir()
    actions.append({"op": "save_as", "path": root / "returns" / FILE})
    results = libreoffice.run(actions)
    refused = [(a.get("sheet"), a.get("cell"), r) for a, r in zip(actions, results) if not r.get("ok", True)]
    assert not refused, refused
    read = runner.invoke(cli, ["read", str(root / "returns" / FILE), "--json", str(root / "read.json")])
    assert read.exit_code == 0, read.output
    imported = runner.invoke(cli, ["import", str(root / "returns"), "--master", str(root / "master.xlsx"), "--out",
                                   str(root / "out"), "--ledger", str(root / "ledger.sqlite"), "--jobs", "1"])
    assert imported.exit_code == 1, imported.output
    return {"root": root, "typed": typed, "read": json.loads((root / "read.json").read_text(encoding="utf-8"))}


def texts_in(node) -> set[str]:
    """Every string and number anywhere in a JSON tree, as text (a 序号 is a number there)."""
    if isinstance(node, dict):
        return set().union(*(texts_in(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(texts_in(v) for v in node)) if node else set()
    return {shown(node)} if isinstance(node, (str, int, float)) and not isinstance(node, bool) else set()


def shown(value) -> str:
    """A typed value as a cell's text reads back (101.0 → "101")."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def as_iso(text: str) -> str:
    year, rest = text.split("年")
    month, rest = rest.split("月")
    return date(int(year), int(month), int(rest.rstrip("日"))).isoformat()


def sendback_values(path: Path) -> dict[str, set[str]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: {shown(c.value) for row in ws.iter_rows() for c in row if c.value is not None}
            for ws in wb.worksheets}


def test_every_input_cell_was_typed(cycle):
    typed = cycle["typed"]
    sheets = {sheet for sheet, _, _ in typed}
    assert sheets == {P1, DEPT} | {s for s in sheets if s[0].isdigit()} and len(sheets) == 7
    assert len(typed) > 500  # 6 projects of ~100 inputs each, and the department sheet


def test_every_typed_value_is_in_the_read_result(cycle):
    found = texts_in(cycle["read"])
    missing = [(s, c, v) for s, c, v in cycle["typed"] if shown(v) not in found]
    assert missing == []
    dates = {as_iso(v) for _, _, v in cycle["typed"] if isinstance(v, str) and v.startswith("2025年")}
    assert dates <= found  # 填报日期 also normalised to ISO
    listed = {(o["sheet"], o["cell"], o["text"]) for o in cycle["read"]["submissions"][0]["other_content"]}
    assert set(ELSEWHERE) <= listed


def test_the_footer_is_read_with_the_date_normalised(cycle):
    [report] = cycle["read"]["submissions"]
    first = report["projects"][0]["fields"]
    typed = {cell: value for sheet, cell, value in cycle["typed"] if sheet == P1}
    assert first["footer.filler"]["value"] == typed["B21"] and first["footer.filler"]["cell"] == f"{P1}!B21"
    assert first["footer.phone"]["value"] == typed["E21"]
    assert first["footer.date"] == {"value": as_iso(typed["H21"]), "raw": typed["H21"], "cell": f"{P1}!H21",
                                    "found_by": "name"}
    assert report["contact"] == {"filler": typed["B21"], "phone": typed["E21"], "date": as_iso(typed["H21"]),
                                 "date_raw": typed["H21"]}
    assert report["department"]["fields"]["footer.filler"]["value"].startswith("填写")


def test_the_ledger_keeps_the_footer_and_the_other_content(cycle):
    with Ledger.open(cycle["root"] / "ledger.sqlite") as ledger:
        [row] = ledger.latest_by_unit().values()
        sub = ledger.submission_of(row.id)
    typed = {cell: value for sheet, cell, value in cycle["typed"] if sheet == P1}
    assert sub.contact.filler == typed["B21"] and sub.contact.date == as_iso(typed["H21"])
    assert set(ELSEWHERE) <= {(o.sheet, o.cell, o.text) for o in sub.other_content}
    assert sub.dept.footer is not None and sub.dept.footer.filler.startswith("填写")


def test_every_typed_value_is_in_the_sendback_workbook(cycle):
    sendback = sendback_values(cycle["root"] / "out" / "退回修改" / FILE)
    missing = []
    for sheet, cell, value in cycle["typed"]:
        expected = as_iso(value) if isinstance(value, str) and value.startswith("2025年") else shown(value)
        if expected not in sendback[sheet]:
            missing.append((sheet, cell, value))
    assert missing == []


def test_content_typed_where_the_form_has_no_field_is_listed_in_the_sendback(cycle):
    wb = openpyxl.load_workbook(cycle["root"] / "out" / "退回修改" / FILE)
    assert "其他填写内容" in wb.sheetnames
    rows = list(wb["其他填写内容"].iter_rows(min_row=3, values_only=True))
    listed = {(sheet, cell, text): note for _n, sheet, cell, text, note in rows}
    assert set(ELSEWHERE) <= set(listed)
    assert listed[(P1, "J12", "新增列中的备注")].startswith("填在表格右侧模板没有的 J 列")
    assert listed[(P1, "A24", "表尾下方的说明")].startswith("填在表格下方")
    assert listed[(P1, "F6", "锁定空白处的填写")].startswith("填在表格中锁定")
    assert listed[(GUIDE, "C3", "填报说明旁的留言")].startswith("填在“填报说明”工作表上")
