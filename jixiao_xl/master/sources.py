"""Where a master's rows come from: an .xlsx/.xls/.ods workbook (through the reader), a CSV folder or a JSON file.

Each source hands out every sheet once, as a stream of rows of raw cell values from spreadsheet row 1 on;
:mod:`.tables` finds the header and turns the rows into text. A source that cannot be opened at all raises
:class:`~jixiao_xl.master.format.MasterError` with one Chinese sentence saying what to do.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
import io
import json
from pathlib import Path
from typing import Callable, Iterator, Mapping

from .. import taxonomy
from ..workbook import ValueBook
from .format import REQUIRED_SHEETS, SHEETS, MasterError

_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


class Source:
    """The sheets of one master file, each handed out once as a stream of rows of raw cell values.

    A workbook sheet is parsed only when its rows are asked for and released once they have been read:
    at province scale the 绩效指标 grid alone is hundreds of MB, so only one grid may be alive at a time.
    ``texts`` (:class:`CellTexts`) is shared by every sheet of the file, so equal texts are one object.
    """

    def __init__(self, sheets: Mapping[str, Callable[[], Iterator[list]]]) -> None:
        self._sheets = dict(sheets)
        self.texts = CellTexts()

    @property
    def sheets(self) -> tuple[str, ...]:
        """The canonical names of the sheets present, in file order."""
        return tuple(self._sheets)

    def missing(self) -> tuple[str, ...]:
        """The required sheets that are absent."""
        return tuple(s for s in REQUIRED_SHEETS if s not in self._sheets)

    def rows(self, sheet: str) -> Iterator[list]:
        """The rows of ``sheet`` from spreadsheet row 1 on (none when the sheet is absent)."""
        opener = self._sheets.get(sheet)
        return opener() if opener else iter(())


def open_source(path: Path) -> Source:
    """The source at ``path``: a CSV folder, a workbook or a JSON file; :class:`MasterError` when it is none."""
    if not path.exists():
        raise MasterError(
            f"找不到主数据文件 {path}；请检查路径，或先运行 jixiao-xl master init {path} 生成空白主数据。"
        )
    if path.is_dir():
        return _csv_folder_source(path)
    kind = _file_kind(path)
    if kind == "workbook":
        return _workbook_source(path)
    if kind == "json":
        return _json_source(path)
    if kind == "csv":
        raise MasterError(
            f"{path} 是单个 CSV 文件；CSV 格式的主数据应是一个文件夹，内含 设置.csv、单位.csv、项目.csv、绩效指标.csv 等，"
            "请改为指定该文件夹。"
        )
    raise MasterError(
        f"无法识别主数据文件 {path} 的类型；请使用 .xlsx 工作簿、CSV 文件夹或 .json 文件（可运行 jixiao-xl master init 生成模板）。"
    )


def _file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _WORKBOOK_SUFFIXES:
        return "workbook"
    if suffix in (".json", ".csv"):
        return suffix[1:]
    # No telling suffix: sniff the first bytes (zip → workbook, '{' → JSON).
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise MasterError(f"无法打开主数据文件 {path}（{exc.strerror}）；请确认文件存在且有读取权限。") from exc
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        return "workbook"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "json"
    return "other"


def _sheet_name(text: str) -> str | None:
    key = taxonomy.compact(text)
    return next((s for s in SHEETS if s == key), None)


def _workbook_source(path: Path) -> Source:
    try:
        workbook = ValueBook(path)
        names: dict[str, str] = {}
        for name in workbook.sheet_names:
            sheet = _sheet_name(name)
            if sheet and sheet not in names:
                names[sheet] = name
    except Exception as exc:  # noqa: BLE001 - any reader failure on user input is a user error
        raise MasterError(_unreadable_workbook(path, exc)) from exc
    return Source({sheet: functools.partial(_workbook_rows, path, workbook, name) for sheet, name in names.items()})


def _workbook_rows(path: Path, workbook: ValueBook, name: str) -> Iterator[list]:
    """The rows of one workbook sheet from A1 (see :meth:`ValueBook.rows_from_a1`)."""
    try:
        return workbook.rows_from_a1(name)
    except Exception as exc:  # noqa: BLE001 - any reader failure on user input is a user error
        raise MasterError(_unreadable_workbook(path, exc)) from exc


def _unreadable_workbook(path: Path, exc: Exception) -> str:
    if type(exc).__name__ == "PasswordError":
        return f"主数据工作簿 {path} 设置了打开密码；请在 Excel/WPS 中取消密码后另存为 .xlsx 再试。"
    return (
        f"无法读取主数据工作簿 {path}（文件已损坏、加密或不是 Excel 文件：{type(exc).__name__}）；"
        "请用 Excel/WPS 打开后另存为 .xlsx 再试。"
    )


def cell_text(value: object) -> str:
    """A calamine cell value as the text a user sees: 6.0 → '6', 1.5 → '1.5', dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # Excel stores every number as a double; whole numbers (incl. codes like 435001) lose the ".0".
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return str(value).strip()


class CellTexts(dict):
    """Raw cell value → its :func:`cell_text`, one ``str`` object per distinct text.

    A master repeats its codes, indicator names, units and amounts hundreds of thousands of times; this
    turns every repeat into the same object (so it is stored once) and, for a ``str`` cell seen before,
    costs one dictionary lookup. Only ``str`` keys are kept (a float is cached apart, by exact type),
    because lookups match by equality and 1.0 == True must not share a text.
    """

    def __init__(self) -> None:
        super().__init__()
        self._floats: dict[float, str] = {}

    def __missing__(self, value: object) -> str:
        if value.__class__ is float:
            known = self._floats.get(value)  # type: ignore[arg-type]
            if known is not None:
                return known
        text = cell_text(value)
        text = self.setdefault(text, text)
        if value.__class__ is str:
            self[value] = text  # the spelling with its surrounding space, if any
        elif value.__class__ is float and value == value:  # NaN never finds itself again
            self._floats[value] = text  # type: ignore[index]
        return text


def _csv_folder_source(folder: Path) -> Source:
    files: dict[str, Path] = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise MasterError(f"无法打开文件夹 {folder}（{exc.strerror}）；请确认文件夹存在且有读取权限。") from exc
    for path in entries:
        if path.is_file() and path.suffix.lower() == ".csv":
            sheet = _sheet_name(path.stem)
            if sheet and sheet not in files:
                files[sheet] = path
    if not files:
        raise MasterError(
            f"文件夹 {folder} 中没有主数据 CSV 文件（设置.csv、单位.csv、项目.csv、绩效指标.csv 等）；"
            "请放入这些文件，或改为指定 .xlsx 主数据工作簿。"
        )
    return Source({sheet: functools.partial(_csv_rows, path) for sheet, path in files.items()})


def _decode(data: bytes, path: Path) -> str:
    # UTF-8 (with or without BOM) is the format; GB18030 is what Excel on Chinese Windows saves as "CSV".
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise MasterError(f"无法识别 {path} 的文字编码；请另存为“CSV UTF-8（逗号分隔）”后再试。")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MasterError(f"无法读取 {path}（{exc.strerror}）；请确认文件存在、未被占用且有读取权限。") from exc


def _csv_rows(path: Path) -> Iterator[list]:
    text = _decode(_read_bytes(path), path)
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            yield [cell.strip() for cell in row]
    except csv.Error as exc:
        raise MasterError(f"CSV 文件 {path} 格式有误（{exc}）；请用 Excel/WPS 打开后另存为 CSV UTF-8 再试。") from exc


def _json_source(path: Path) -> Source:
    text = _decode(_read_bytes(path), path)
    try:
        # Numbers stay the text that was written, exactly like cells of a CSV file.
        data = json.loads(text, parse_float=str, parse_int=str, parse_constant=str)
    except json.JSONDecodeError as exc:
        raise MasterError(f"JSON 文件 {path} 格式有误（第 {exc.lineno} 行）；请检查括号、引号和逗号。") from exc
    if not isinstance(data, dict):
        raise MasterError(f"JSON 主数据 {path} 的最外层不是对象；请改为以工作表名（设置、单位、项目 …）为键、以行的列表为值的对象。")
    grids: dict[str, list[list[str]]] = {}
    for key, records in data.items():
        sheet = _sheet_name(str(key))
        if sheet and sheet not in grids:
            grids[sheet] = _json_grid(path, sheet, records)
    return Source({sheet: functools.partial(iter, grid) for sheet, grid in grids.items()})


def _json_grid(path: Path, sheet: str, records: object) -> list[list[str]]:
    if sheet == "设置" and isinstance(records, dict):
        records = [{"项目": k, "值": v} for k, v in records.items()]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise MasterError(f"JSON 主数据 {path} 中“{sheet}”的内容不是行的列表；请改为对象的列表，每个对象以列标题为键。")
    headers: list[str] = []
    for record in records:
        headers.extend(str(k) for k in record if str(k) not in headers)
    rows = [[_json_text(record.get(h)) for h in headers] for record in records]
    return [headers, *rows]


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()
