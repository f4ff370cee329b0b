"""TableSheet writes exactly the XML xlsxwriter's cell API writes for the same cells, only faster."""

from __future__ import annotations

import zipfile
from decimal import Decimal

import pytest
import xlsxwriter

from jixiao_xl.safety import FIXED_DOCUMENT_TIME
from python_calamine import CalamineWorkbook

from jixiao_xl.xlsx.tablesheet import MAX_TEXT, TableSheet, TableWorkbook
from other_xlsxwriter import HIDE_MEMBER, fresh_import

ROWS = [
    ("435001", "巨鹿县行政审批局本级", Decimal("6.00"), 5, Decimal("33.33")),
    ("A & B <c>", "  前后空格  ", Decimal("0.10"), 0, None),
    ("_x0041_ 已像转义", "控制\x01字符\r回车\t制表\n换行", Decimal("1E+3"), True, ""),
    ("\u3000全角空格开头", "😀" * 20, Decimal("-0.5"), 12, Decimal("12345678901234.56")),
    (None, "", None, None, "文本在数字列"),
    ("长" * (MAX_TEXT + 5), "😀" * (MAX_TEXT // 2 + 3), Decimal(0), 7, 3),
]
NUMERIC = [False, False, True, True, True]


def _cell_api(ws, row: int, col: int, value: object, numeric: bool, fmt) -> None:
    """How each cell was written before TableSheet (and how xlsxwriter's API writes it)."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif numeric and isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _sheet_xml(path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/worksheets/sheet1.xml").decode()


def _write(path, bulk: bool, workbook_class=xlsxwriter.Workbook) -> None:
    workbook = workbook_class(str(path), {"constant_memory": True})
    workbook.set_properties({"created": FIXED_DOCUMENT_TIME})  # two writes a second apart must not differ
    ws = workbook.add_worksheet("表", worksheet_class=TableSheet)
    plain, money = workbook.add_format({"border": 1}), workbook.add_format({"num_format": "#,##0.00"})
    formats = [plain, plain, money, None, money]
    for col in range(5):
        ws.write_string(0, col, f"列{col}", plain)
    if bulk:
        next_row = ws.append_rows(1, ROWS[:3], formats, NUMERIC)
        next_row = ws.append_rows(next_row, iter(ROWS[3:]), formats, NUMERIC)
        assert next_row == 1 + len(ROWS)
    else:
        for r, values in enumerate(ROWS, start=1):
            for col, value in enumerate(values):
                _cell_api(ws, r, col, value, NUMERIC[col], formats[col])
    ws.write_string(len(ROWS) + 2, 0, "表后一行", plain)
    ws.autofilter(0, 0, len(ROWS), 4)
    workbook.close()


def test_bulk_rows_match_the_cell_api(tmp_path):
    _write(tmp_path / "api.xlsx", bulk=False)
    _write(tmp_path / "bulk.xlsx", bulk=True)
    assert _sheet_xml(tmp_path / "bulk.xlsx") == _sheet_xml(tmp_path / "api.xlsx")
    sheet = CalamineWorkbook.from_path(str(tmp_path / "bulk.xlsx")).get_sheet_by_name("表").to_python()
    assert sheet[2][:2] == ["A & B <c>", "  前后空格  "] and sheet[4][0] == "\u3000全角空格开头"
    assert sheet[1][2] == 6 and sheet[3][3] == "True" and sheet[5][4] == "文本在数字列"


def test_table_workbook_changes_only_the_compression(tmp_path):
    _write(tmp_path / "stock.xlsx", bulk=True)
    _write(tmp_path / "table.xlsx", bulk=True, workbook_class=TableWorkbook)
    with zipfile.ZipFile(tmp_path / "stock.xlsx") as stock, zipfile.ZipFile(tmp_path / "table.xlsx") as table:
        assert stock.namelist() == table.namelist()
        assert all(stock.read(name) == table.read(name) for name in stock.namelist())
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in table.infolist())
    assert zipfile.ZipFile is xlsxwriter.workbook.ZipFile  # put back after the write


def test_markup_in_text_stays_text(tmp_path):
    path = tmp_path / "markup.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = workbook.add_worksheet("表", worksheet_class=TableSheet)
    ws.append_rows(0, [("<r><t>x</t></r>", "=SUM(A1)")], [None, None], [False, False])
    workbook.close()
    assert CalamineWorkbook.from_path(str(path)).get_sheet_by_name("表").to_python()[0] == \
        ["<r><t>x</t></r>", "=SUM(A1)"]
    assert "<f>" not in _sheet_xml(path)


def test_rows_must_come_below_what_is_written(tmp_path):
    workbook = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"), {"constant_memory": True})
    ws = workbook.add_worksheet("表", worksheet_class=TableSheet)
    ws.write_string(3, 0, "第四行")
    with pytest.raises(ValueError, match="not below"):
        ws.append_rows(2, [("x",)], [None], [False])
    assert ws.append_rows(4, [], [None], [False]) == 4
    assert ws.append_rows(4, [("y",), (None,)], [None], [False]) == 6
    workbook.close()
    assert '<row r="6"' not in _sheet_xml(tmp_path / "x.xlsx")  # nothing to show: no row, as with the cell API
    in_memory = xlsxwriter.Workbook(str(tmp_path / "y.xlsx"))
    with pytest.raises(ValueError, match="constant_memory"):
        in_memory.add_worksheet("表", worksheet_class=TableSheet).append_rows(0, [("x",)], [None], [False])
    in_memory.close()


# Another xlsxwriter, in a fresh interpreter: ``STUB`` changes xlsxwriter as another version would, then
# tablesheet is imported for the first time and writes this file's table with append_rows.
_FRESH_IMPORT = """
import json
import xlsxwriter
exec(sys.argv[1])
from jixiao_xl.xlsx import tablesheet
import test_tablesheet
test_tablesheet._write(sys.argv[2], bulk=True, workbook_class=tablesheet.TableWorkbook)
print(json.dumps({"fast": tablesheet.FAST_PATHS, "stock": tablesheet.TableWorkbook is xlsxwriter.Workbook}))
"""

OTHER_XLSXWRITERS = {
    "an untested version": "xlsxwriter.__version__ = '3.2.9'",
    "a worksheet internal gone": HIDE_MEMBER + "from xlsxwriter.worksheet import Worksheet\nhide(Worksheet, '_write_single_row')",
    "a workbook internal gone": HIDE_MEMBER + "hide(xlsxwriter.Workbook, '_store_workbook')",
}


@pytest.mark.parametrize("stub", OTHER_XLSXWRITERS.values(), ids=OTHER_XLSXWRITERS.keys())
def test_another_xlsxwriter_gets_the_cell_api_and_the_same_sheet(stub, tmp_path):
    assert fresh_import(_FRESH_IMPORT, stub, tmp_path / "other.xlsx") == {"fast": False, "stock": True}
    _write(tmp_path / "api.xlsx", bulk=False)
    assert _sheet_xml(tmp_path / "other.xlsx") == _sheet_xml(tmp_path / "api.xlsx")
    sheet = CalamineWorkbook.from_path(str(tmp_path / "other.xlsx")).get_sheet_by_name("表").to_python()
    assert sheet[0] == ["列0", "列1", "列2", "列3", "列4"]
    assert sheet[1][:3] == ["435001", "巨鹿县行政审批局本级", 6] and sheet[2][:2] == ["A & B <c>", "  前后空格  "]
    assert sheet[3][3] == "True" and sheet[5][4] == "文本在数字列" and sheet[len(ROWS) + 2][0] == "表后一行"


def test_the_installed_xlsxwriter_keeps_the_fast_paths(tmp_path):
    assert fresh_import(_FRESH_IMPORT, "", tmp_path / "same.xlsx") == {"fast": True, "stock": False}
