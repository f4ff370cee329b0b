"""The master dataset (DESIGN §3): read it, turn it into the model, check it, write it.

A master is an .xlsx workbook, a folder of CSV files (one per sheet) or one JSON file holding the same
six tables. Reading keeps every value as the text the user typed, together with its row and column, so
that :func:`check_tables` can point at the exact ``sheet!cell``. :func:`build_master` turns the tables
into the frozen model and never fails on a bad value: it keeps the text (or None) and leaves the
complaint to the checks. Only a master that cannot be read at all raises :class:`MasterError`.

:func:`load_master`, which every command runs first, builds the same model without the tables: it reads
one sheet at a time and turns each row into model objects as it streams past, so that a province-sized
master (100,000 projects, 700,000 indicators) loads in a few hundred MB.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import functools
import gc
import hashlib
import io
import itertools
import json
import operator
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from .errors import InputError
from . import catalogue, taxonomy
from .findings import Finding
from .model import (
    DEFAULT_PLAN_NODES,
    DEFAULT_SPARE_ROWS,
    DeptGoal,
    DeptIndicator,
    DeptMeasure,
    Indicator,
    Master,
    PlanPoint,
    Project,
    Settings,
    Unit,
    to_plain,
)
from .safety import atomic_target, commit_atomic
from .workbook import ValueBook
from .values import as_money, parse_number

# --------------------------------------------------------------------------------------------------
# The format (contract: DESIGN §3)
# --------------------------------------------------------------------------------------------------

SHEETS = ("设置", "单位", "项目", "绩效指标", "部门整体目标", "部门整体指标", "保障措施")
OPTIONAL_SHEETS = ("部门整体目标", "部门整体指标", "保障措施")
REQUIRED_SHEETS = tuple(s for s in SHEETS if s not in OPTIONAL_SHEETS)

PLAN_PREFIX = "支出计划-"
_PROJECT_BASE = ("单位编码", "项目编码", "项目名称", "预算数", "财政资金", "其他资金", "预算规模及资金用途", "年度绩效目标")


def plan_header(node: str) -> str:
    """The 项目 column title of one 支出计划节点 ('12月底' → '支出计划-12月底')."""
    return PLAN_PREFIX + node


def project_columns(nodes: Iterable[str] = DEFAULT_PLAN_NODES) -> tuple[str, ...]:
    """The 项目 headers for a given list of 支出计划节点."""
    return _PROJECT_BASE + tuple(plan_header(n) for n in nodes)


def columns_for(sheet: str, nodes: Iterable[str] = DEFAULT_PLAN_NODES) -> tuple[str, ...]:
    """The headers of ``sheet`` in order; the 项目 sheet depends on the 支出计划节点."""
    return project_columns(nodes) if sheet == "项目" else COLUMNS[sheet]


COLUMNS: dict[str, tuple[str, ...]] = {
    "设置": ("项目", "值"),
    "单位": ("单位编码", "单位名称", "主管部门编码", "联系人", "联系电话"),
    "项目": project_columns(),
    "绩效指标": ("项目编码", "一级指标", "二级指标", "三级指标", "绩效指标描述", "指标性质", "指标值", "度量单位",
             "指标值确定依据", "权重"),
    "部门整体目标": ("单位编码", "序号", "分项名称", "绩效目标"),
    "部门整体指标": ("单位编码", "序号", "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位",
               "指标值确定依据"),
    "保障措施": ("单位编码", "序号", "措施名称", "措施内容"),
}

# Columns whose absence makes the sheet unusable (the 项目 plan columns are added from 设置).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "设置": ("项目", "值"),
    "单位": ("单位编码", "单位名称"),
    "项目": ("单位编码", "项目编码", "项目名称", "预算数"),
    "绩效指标": ("项目编码", "一级指标", "二级指标", "三级指标", "指标性质", "指标值"),
    "部门整体目标": ("单位编码", "序号", "绩效目标"),
    "部门整体指标": ("单位编码", "序号", "一级指标", "二级指标", "三级指标", "指标性质", "指标值"),
    "保障措施": ("单位编码", "序号", "措施名称"),
}

SETTING_KEYS = ("预算年度", "金额单位", "指标体系", "支出计划节点", "权重合计", "备用指标行数", "主管部门名称")

# Header variants seen in local forms → the master's header; applied only where the target belongs.
_HEADER_SYNONYMS = {
    "项目代码": "项目编码", "项目编号": "项目编码",
    "单位代码": "单位编码", "单位编号": "单位编码", "预算单位编码": "单位编码", "预算单位代码": "单位编码",
    "预算单位": "单位名称", "预算单位名称": "单位名称",
    "主管部门代码": "主管部门编码", "主管部门编号": "主管部门编码",
    "联系方式": "联系电话", "电话": "联系电话",
    "资金总额": "预算数", "年度资金总额": "预算数", "预算金额": "预算数", "预算申报数": "预算数",
    "财政拨款": "财政资金", "其中:财政资金": "财政资金", "其中:财政拨款": "财政资金",
    "预算规模及用途": "预算规模及资金用途", "资金用途": "预算规模及资金用途",
    "年度目标": "年度绩效目标", "本年度绩效目标": "年度绩效目标", "绩效目标": "年度绩效目标",
    "指标名称": "三级指标",
    "指标描述": "绩效指标描述", "指标解释": "绩效指标描述", "指标说明": "绩效指标描述",
    "计算符号": "指标性质", "运算符号": "指标性质",
    "目标值": "指标值", "指标目标值": "指标值", "年度指标值": "指标值",
    "计量单位": "度量单位",
    "指标值设定依据": "指标值确定依据", "绩效标准": "指标值确定依据", "参考值确定依据": "指标值确定依据",
    "分值": "权重", "权重分值": "权重",
    "目标序号": "序号",
    "目标名称": "分项名称", "分项目标名称": "分项名称",
    "分项绩效目标": "绩效目标", "目标内容": "绩效目标",
}
_SETTINGS_HEADER_SYNONYMS = {"设置项": "项目", "参数": "项目", "名称": "项目", "取值": "值", "设置值": "值", "内容": "值"}
_SETTING_KEY_SYNONYMS = {
    "年度": "预算年度", "预算年份": "预算年度",
    "单位": "金额单位", "金额": "金额单位",
    "框架": "指标体系", "指标框架": "指标体系",
    "节点": "支出计划节点", "支出计划": "支出计划节点",
    "权重总分": "权重合计", "权重总计": "权重合计",
    "备用行数": "备用指标行数",
    "主管部门": "主管部门名称",
}
_PLAN_PREFIXES = ("资金支出计划", "支出计划")
_NODE_SEPARATORS = re.compile(r"[,，、;；]")
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_HEADER_SEARCH_ROWS = 10


class MasterError(InputError):
    """A master that cannot be loaded at all; ``str()`` is one Chinese sentence with the fix."""


# --------------------------------------------------------------------------------------------------
# Rule codes
# --------------------------------------------------------------------------------------------------

_SOURCE = catalogue.SOURCE_TOOL  # the master's layout is the tool's own
_LEVELS_SOURCE = f"{catalogue.SOURCE_88}、{catalogue.SOURCE_101}：绩效指标体系的一级、二级指标名称"
_RULES = {
    rule.code: rule
    for rule in (
        catalogue.define("M-UNREADABLE", "error", "主数据文件无法读取",
                         "确认路径正确，文件是 .xlsx 工作簿、CSV 文件夹或 .json 文件，且未加密、未损坏", _SOURCE),
        catalogue.define("M-MISSING-SHEET", "error", "主数据缺少工作表",
                         "按 jixiao-xl master init 生成的模板补上该工作表（CSV 文件夹则补上同名 .csv 文件）", _SOURCE),
        catalogue.define("M-MISSING-COLUMN", "error", "工作表缺少必需的列",
                         "在第 1 行补上该列标题，标题文字与 jixiao-xl master init 生成的模板一致", _SOURCE),
        catalogue.define("M-SETTING", "error", "设置值无效或缺失",
                         "在“设置”表中按说明填写该项的值", _SOURCE),
        catalogue.define("M-DUP-UNIT", "error", "单位编码重复", "每个单位只保留一行，或改正重复的编码", _SOURCE),
        catalogue.define("M-DUP-PROJECT", "error", "项目编码重复", "每个项目只保留一行，或改正重复的编码", _SOURCE),
        catalogue.define("M-MISSING-CODE", "error", "编码为空", "填写单位编码或项目编码", _SOURCE),
        catalogue.define("M-UNKNOWN-UNIT", "error", "单位编码不在“单位”表中",
                         "改正单位编码，或先在“单位”表中添加该单位", _SOURCE),
        catalogue.define("M-UNKNOWN-PROJECT", "error", "项目编码不在“项目”表中",
                         "改正项目编码，或先在“项目”表中添加该项目", _SOURCE),
        catalogue.define("M-REQUIRED", "error", "必填项为空", "填写该项", _SOURCE),
        catalogue.define("M-NUMBER", "error", "数值无法识别或为负数",
                         "只填写数字（不带单位和符号），金额不能为负数", _SOURCE),
        catalogue.define("M-FUNDS", "error", "财政资金与其他资金之和不等于预算数",
                         "改正预算数、财政资金或其他资金，使 财政资金 + 其他资金 = 预算数",
                         f"{catalogue.SOURCE_88} 附件 项目支出绩效目标申报表：资金总额 = 财政拨款 + 其他资金"),
        catalogue.define("M-PLAN-SHORT", "error", "支出计划最后节点不等于预算数",
                         "最后一个支出计划节点填写累计数，等于预算数", _SOURCE),
        catalogue.define("M-PLAN-DECREASE", "error", "累计支出计划比前一节点小",
                         "支出计划填写累计数，后一节点不小于前一节点", _SOURCE),
        catalogue.define("M-PLAN-OVER", "error", "支出计划节点超过预算数",
                         "各节点的累计支出计划不得超过预算数", _SOURCE),
        catalogue.define("M-LEVEL1", "error", "一级指标不在指标体系中",
                         "从下拉列表选择一级指标，或在“设置”中改正指标体系", _LEVELS_SOURCE),
        catalogue.define("M-LEVEL2", "error", "二级指标不属于其一级指标",
                         "从该一级指标下的二级指标中选择", _LEVELS_SOURCE),
        catalogue.define("M-LEVEL-ALIAS", "info", "一级/二级指标写的是简称或旧称，已按指标体系的标准名称读取",
                         "无需处理；生成的表格中写标准名称，建议在主数据中也改为标准名称（如“产出”改为“产出指标”）",
                         _LEVELS_SOURCE),
        catalogue.define("M-OPERATOR", "error", "指标性质无效",
                         "从下拉列表选择 ≥ ＞ ＝ ＜ ≤ 或 定性", _SOURCE),
        catalogue.define("M-GOAL-SEQ", "error", "部门整体目标序号无效",
                         "部门整体指标的序号应对应本单位“部门整体目标”中的一个序号，目标序号不要重复", _SOURCE),
        catalogue.define("M-MEASURE-SEQ", "error", "保障措施序号重复",
                         "同一单位的每条保障措施用不同的序号 1、2、3 …", _SOURCE),
    )
}

# --------------------------------------------------------------------------------------------------
# Raw tables
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One non-blank data row: its 1-based spreadsheet row number and its values by (canonical) header."""

    number: int
    values: Mapping[str, str]

    def get(self, header: str) -> str:
        """The text under ``header`` ('' when blank or when the column is missing)."""
        return self.values.get(header, "")


@dataclass(frozen=True)
class Table:
    """One sheet as read: canonical headers with their column letters, and the non-blank data rows."""

    sheet: str
    headers: tuple[str, ...]
    letters: Mapping[str, str]
    rows: tuple[Row, ...]
    header_row: int = 1
    raw_headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def has(self, header: str) -> bool:
        """True when the sheet has a column ``header``."""
        return header in self.letters

    def cell(self, row: Row, header: str) -> str:
        """The cell reference ('D5') of ``header`` in ``row``; '' when the column is missing."""
        letter = self.letters.get(header)
        return f"{letter}{row.number}" if letter else ""


@dataclass(frozen=True)
class Tables:
    """The raw tables of a master, by sheet name; sheets that are absent are simply not in ``sheets``."""

    source: str
    sheets: Mapping[str, Table]
    skipped: frozenset[str] = frozenset()  # sheets present but not read (``read_tables(only=...)``)

    def table(self, sheet: str) -> Table | None:
        """The table of ``sheet``, or None when the master has no such sheet (or it was not read)."""
        return self.sheets.get(sheet)

    def missing(self) -> tuple[str, ...]:
        """The required sheets that are absent."""
        return tuple(s for s in REQUIRED_SHEETS if s not in self.sheets and s not in self.skipped)


def read_tables(path: str | Path, *, require_sheets: bool = True, only: Iterable[str] | None = None) -> Tables:
    """Read the raw tables of a master from an .xlsx workbook, a folder of CSV files or a JSON file.

    Every value comes back as text as the user typed it (6.0 from Excel → '6'), blank rows are dropped,
    header synonyms are mapped to the master's headers. With ``only``, just those sheets are read (the
    others present are listed in :attr:`Tables.skipped`): at province scale the indicator grids are most
    of the memory. Raises :class:`MasterError` when the path cannot be read, or when a required sheet is
    missing and ``require_sheets`` is true.
    """
    path = Path(path)
    source = _open_source(path)
    wanted = set(source.sheets if only is None else only)
    sheets = {name: _read_table(name, source.rows(name), source.texts) for name in source.sheets if name in wanted}
    tables = Tables(source=str(path), sheets=sheets, skipped=frozenset(source.sheets) - frozenset(sheets))
    if require_sheets and tables.missing():
        raise MasterError(_missing_sheets_message(path, tables.missing()))
    return tables


def _missing_sheets_message(path: Path, missing: tuple[str, ...]) -> str:
    return (
        f"主数据 {path} 缺少工作表：{'、'.join(missing)}；"
        "请按 jixiao-xl master init 生成的模板补齐（CSV 文件夹则补上同名 .csv 文件）。"
    )


class _Source:
    """The sheets of one master file, each handed out once as a stream of rows of raw cell values.

    A workbook sheet is parsed only when its rows are asked for and released once they have been read:
    at province scale the 绩效指标 grid alone is hundreds of MB, so only one grid may be alive at a time.
    ``texts`` (:class:`_CellTexts`) is shared by every sheet of the file, so equal texts are one object.
    """

    def __init__(self, sheets: Mapping[str, Callable[[], Iterator[list]]]) -> None:
        self._sheets = dict(sheets)
        self.texts = _CellTexts()

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


def _open_source(path: Path) -> _Source:
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


def _workbook_source(path: Path) -> _Source:
    try:
        workbook = ValueBook(path)
        names: dict[str, str] = {}
        for name in workbook.sheet_names:
            sheet = _sheet_name(name)
            if sheet and sheet not in names:
                names[sheet] = name
    except Exception as exc:  # noqa: BLE001 - any reader failure on user input is a user error
        raise MasterError(_unreadable_workbook(path, exc)) from exc
    return _Source({sheet: functools.partial(_workbook_rows, path, workbook, name) for sheet, name in names.items()})


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


def _cell_text(value: object) -> str:
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


class _CellTexts(dict):
    """Raw cell value → its :func:`_cell_text`, one ``str`` object per distinct text.

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
        text = _cell_text(value)
        text = self.setdefault(text, text)
        if value.__class__ is str:
            self[value] = text  # the spelling with its surrounding space, if any
        elif value.__class__ is float and value == value:  # NaN never finds itself again
            self._floats[value] = text  # type: ignore[index]
        return text


def _csv_folder_source(folder: Path) -> _Source:
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
    return _Source({sheet: functools.partial(_csv_rows, path) for sheet, path in files.items()})


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


def _json_source(path: Path) -> _Source:
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
    return _Source({sheet: functools.partial(iter, grid) for sheet, grid in grids.items()})


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


def _read_table(sheet: str, rows: Iterable[list], texts: _CellTexts) -> Table:
    header_index, layout, below = _split_header(sheet, rows)
    headers = tuple(layout.columns)
    data = tuple(Row(number, dict(zip(headers, cells))) for number, cells in _data_rows(layout, below, headers, texts))
    return Table(
        sheet=sheet,
        headers=headers,
        letters={name: column_letter(col) for name, col in layout.columns.items()},
        rows=data,
        header_row=header_index + 1,
        raw_headers=layout.raw_headers,
    )


@dataclass(frozen=True)
class _Layout:
    """The columns of a sheet: canonical header → 0-based column, and each header's text as written."""

    columns: dict[str, int]
    raw_headers: dict[str, str]


def _layout(sheet: str, header: list[str]) -> _Layout:
    columns: dict[str, int] = {}
    raw_headers: dict[str, str] = {}
    for col, text in enumerate(header):
        name = _canonical_header(sheet, text)
        if name and name not in columns:
            columns[name] = col
            raw_headers[name] = text
    return _Layout(columns, raw_headers)


def _split_header(sheet: str, rows: Iterable[list]) -> tuple[int, _Layout, Iterator[tuple[int, list]]]:
    """Find the header row of a sheet read as a stream.

    Row 1 by contract; a title row or two above the headers is tolerated: the first of the top
    ``_HEADER_SEARCH_ROWS`` rows with two known headers, else the first non-blank row. Gives the header's
    0-based index, its layout, and the rows below it as (0-based index, raw cells).
    """
    known = set(COLUMNS[sheet])
    need = min(2, len(known))
    rows = iter(rows)
    top: list[tuple[list, list[str]]] = []
    for raw in itertools.islice(rows, _HEADER_SEARCH_ROWS):
        texts = [_cell_text(v) for v in raw]
        top.append((raw, texts))
        if sum(1 for text in texts if _canonical_header(sheet, text) in known) >= need:
            return _header_at(sheet, len(top) - 1, top, rows)
    first = next((i for i, (_, texts) in enumerate(top) if any(texts)), None)
    if first is not None:
        return _header_at(sheet, first, top, rows)
    for index, raw in enumerate(rows, len(top)):
        texts = [_cell_text(v) for v in raw]
        if any(texts):
            return index, _layout(sheet, texts), enumerate(rows, index + 1)
    # Nothing but blank rows: no headers and no data.
    return 0, _layout(sheet, top[0][1] if top else []), iter(())


def _header_at(sheet: str, index: int, top: list[tuple[list, list[str]]],
               rest: Iterator[list]) -> tuple[int, _Layout, Iterator[tuple[int, list]]]:
    below = [(i, raw) for i, (raw, _) in enumerate(top) if i > index]
    return index, _layout(sheet, top[index][1]), itertools.chain(below, enumerate(rest, len(top)))


def _data_rows(layout: _Layout, rows: Iterable[tuple[int, list]], fields: tuple[str, ...],
               texts: _CellTexts) -> Iterator[tuple[int, list[str]]]:
    """The non-blank data rows as (1-based row number, the texts under ``fields``).

    A row is blank when every named column is blank, whether or not it is one of ``fields``. A field
    the sheet lacks reads as ''.
    """
    columns = [layout.columns.get(field, -1) for field in fields]
    others = [col for name, col in layout.columns.items() if name not in fields]
    width = max(layout.columns.values(), default=-1) + 1
    pick = _getter(operator.itemgetter, columns) if all(col >= 0 for col in columns) else None
    text_of = texts.__getitem__
    for index, raw in rows:
        if pick is not None and len(raw) >= width:
            values = pick(raw)
        else:
            values = [raw[col] if 0 <= col < len(raw) else "" for col in columns]
        cells = list(map(text_of, values))
        if any(cells) or any(_cell_text(raw[col]) for col in others if col < len(raw)):
            yield index + 1, cells


def _canonical_header(sheet: str, text: str) -> str:
    key = taxonomy.compact(text)
    if not key:
        return ""
    if sheet == "项目":
        plan = _plan_header_of(key)
        if plan:
            return plan
    expected = COLUMNS[sheet]
    if key in expected:
        return key
    synonyms = _SETTINGS_HEADER_SYNONYMS if sheet == "设置" else _HEADER_SYNONYMS
    target = synonyms.get(key)
    return target if target in expected else text.strip()


def _plan_header_of(key: str) -> str:
    for prefix in _PLAN_PREFIXES:
        if key.startswith(prefix):
            node = key[len(prefix):].strip("-_:()（）—–")
            return plan_header(node) if node else ""
    return ""


def column_letter(index: int) -> str:
    """The spreadsheet letters of a 0-based column index (0 → 'A', 26 → 'AA')."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# --------------------------------------------------------------------------------------------------
# Small parsers shared by build and check
# --------------------------------------------------------------------------------------------------

_OPERATOR_LOOKUP = {
    taxonomy.compact(spelling): canonical
    for canonical, spellings in taxonomy.OPERATOR_SYNONYMS.items()
    for spelling in (canonical, *spellings)
}


def canonical_operator(text: str) -> str:
    """The 指标性质 for a cell ('>=' → '≥', '＞' stays '＞'); unknown text comes back stripped."""
    return _OPERATOR_LOOKUP.get(taxonomy.compact(text), text.strip())


def _to_int(text: str) -> int:
    number = parse_number(text)
    if number is None or number != number.to_integral_value():
        raise ValueError(f"not an integer: {text!r}")
    return int(number)


def _money(text: str) -> Decimal | None:
    """A money cell as Decimal; None when blank or not a number (the checks report it)."""
    try:
        return as_money(parse_number(text))
    except ValueError:
        return None


def _parse_year(text: str) -> int:
    year = _to_int(text.removesuffix("年"))
    if not 2000 <= year <= 2100:
        raise ValueError(f"year out of range: {year}")
    return year


def _parse_money_unit(text: str) -> str:
    key = taxonomy.compact(text).removeprefix("单位:").removeprefix("金额单位:")
    if key not in taxonomy.MONEY_UNITS:
        raise ValueError(f"unknown money unit: {text!r}")
    return key


def _parse_framework(text: str) -> str:
    numbers = set(re.findall(r"\d+", taxonomy.compact(text)))
    matches = {fw for fw, marks in (("2015", {"2015", "88"}), ("2021", {"2021", "101"})) if numbers & marks}
    if len(matches) != 1:
        raise ValueError(f"unknown framework: {text!r}")
    return matches.pop()


def _split_nodes(text: str) -> list[str]:
    return [node for node in (taxonomy.compact(p) for p in _NODE_SEPARATORS.split(text)) if node]


def _parse_nodes(text: str) -> tuple[str, ...]:
    nodes = _split_nodes(text)
    if not nodes:
        raise ValueError("no plan nodes")
    return tuple(dict.fromkeys(nodes))


def _parse_weight_total(text: str) -> Decimal | None:
    total = parse_number(text)
    if total is not None and total <= 0:
        raise ValueError(f"weight total not positive: {text!r}")
    return total


def _parse_spare_rows(text: str) -> int:
    rows = _to_int(text)
    if not 0 <= rows <= 100:
        raise ValueError(f"spare rows out of range: {text!r}")
    return rows


def default_year() -> int:
    """The default 预算年度 of a new master: next calendar year (budgets are prepared a year ahead)."""
    return _dt.date.today().year + 1


@dataclass(frozen=True)
class _SettingSpec:
    parse: Callable[[str], object]
    default: Callable[[], object]
    hint: str


_SETTING_SPECS: dict[str, _SettingSpec] = {
    "预算年度": _SettingSpec(_parse_year, default_year, "请填写 4 位年份，例如 2026"),
    "金额单位": _SettingSpec(_parse_money_unit, lambda: "万元", "请填写 万元 或 元"),
    "指标体系": _SettingSpec(_parse_framework, lambda: "2015",
                         "请填写 2015（财预〔2015〕88号框架）或 2021（财预〔2021〕101号框架）"),
    "支出计划节点": _SettingSpec(_parse_nodes, lambda: DEFAULT_PLAN_NODES,
                           "请用逗号分隔各节点，例如 3月底,6月底,10月底,12月底，节点不要重复"),
    "权重合计": _SettingSpec(_parse_weight_total, lambda: None, "请填写大于 0 的数字（如 90 或 100），不使用权重时留空"),
    "备用指标行数": _SettingSpec(_parse_spare_rows, lambda: DEFAULT_SPARE_ROWS, "请填写 0 到 100 之间的整数"),
    "主管部门名称": _SettingSpec(str.strip, lambda: "", ""),
}
# Blank means "use the default" for these; 预算年度 must be filled in.
_BLANK_IS_DEFAULT = ("金额单位", "指标体系", "支出计划节点", "权重合计", "备用指标行数", "主管部门名称")


def _setting_key(text: str) -> str:
    key = taxonomy.compact(text)
    return _SETTING_KEY_SYNONYMS.get(key, key)


def _setting_rows(table: Table | None) -> dict[str, list[Row]]:
    """The rows of 设置 by canonical key (a list, so that duplicates can be reported)."""
    found: dict[str, list[Row]] = {}
    for row in table.rows if table else ():
        key = _setting_key(row.get("项目"))
        if key in _SETTING_SPECS:
            found.setdefault(key, []).append(row)
    return found


def _setting_value(key: str, text: str) -> object:
    """The parsed value of one setting; raises ValueError when it cannot be understood."""
    spec = _SETTING_SPECS[key]
    if not text and key in _BLANK_IS_DEFAULT:
        return spec.default()
    if not text:
        raise ValueError(f"{key} is blank")
    return spec.parse(text)


def _settings(table: Table | None) -> Settings:
    values = {}
    rows = _setting_rows(table)
    for key, spec in _SETTING_SPECS.items():
        text = rows[key][0].get("值") if key in rows else ""
        try:
            values[key] = _setting_value(key, text) if key in rows else spec.default()
        except ValueError:
            values[key] = spec.default()
    return Settings(
        year=values["预算年度"],
        money_unit=values["金额单位"],
        framework=values["指标体系"],
        plan_nodes=values["支出计划节点"],
        weight_total=values["权重合计"],
        spare_rows=values["备用指标行数"],
        department_name=values["主管部门名称"],
    )


# --------------------------------------------------------------------------------------------------
# Building the model
# --------------------------------------------------------------------------------------------------


def build_master(tables: Tables) -> Master:
    """Turn raw tables into a :class:`~jixiao_xl.model.Master` with its fingerprint.

    Values that cannot be interpreted stay as text (指标值) or None (money, weights); rows whose 序号 is not
    an integer are left out of the department goals. Raises :class:`MasterError` only when a required
    sheet is missing.
    """
    if tables.missing():
        raise MasterError(
            f"主数据缺少工作表：{'、'.join(tables.missing())}；请按 jixiao-xl master init 生成的模板补齐。"
        )

    def rows_of(sheet: str, fields: tuple[str, ...]) -> Iterator[list[str]]:
        table = tables.table(sheet)
        return ([row.get(f) for f in fields] for row in table.rows) if table else iter(())

    return _assemble(_settings(tables.table("设置")), rows_of)


def load_master(path: str | Path) -> Master:
    """Read and build the master at ``path`` (.xlsx, CSV folder or .json); :class:`MasterError` if unreadable.

    The same master as ``build_master(read_tables(path))``, built sheet by sheet as the rows stream in,
    so that neither every grid nor every row's cells are held at once.
    """
    path = Path(path)
    source = _open_source(path)
    if source.missing():
        raise MasterError(_missing_sheets_message(path, source.missing()))
    settings = _settings(_read_table("设置", source.rows("设置"), source.texts))

    def rows_of(sheet: str, fields: tuple[str, ...]) -> Iterator[list[str]]:
        _, layout, below = _split_header(sheet, source.rows(sheet))
        return map(operator.itemgetter(1), _data_rows(layout, below, fields, source.texts))

    with _collector_paused():
        master = _assemble(settings, rows_of)
    _return_freed_memory()
    return master


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Run the block without the cyclic garbage collector, then hand what it built to the oldest generation.

    Building a province-sized master allocates millions of small objects and no reference cycles, so
    the collector would only rescan the growing master again and again (measured: a fifth of the load
    time). Switched back on, its first young collection would still walk all of them once (0.3 s at
    100,000 projects); freezing and at once unfreezing moves them to the oldest generation without that
    walk. That is skipped when someone else has frozen objects, which unfreezing would thaw.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def _return_freed_memory() -> None:
    """Hand the heap pages freed by the sheet grids back to the system.

    The reader's grids are freed by then, but glibc keeps the freed pages of its heap: 250 MB at
    100,000 projects, which every later stage of the command (and the report of its peak memory)
    would carry. ``malloc_trim`` returns them; where it does not exist (not glibc) nothing happens.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, …)
        return None


_RowsOf = Callable[[str, tuple[str, ...]], Iterable[list[str]]]


def _assemble(settings: Settings, rows_of: _RowsOf) -> Master:
    """The master from its rows: ``rows_of(sheet, fields)`` gives each non-blank row's texts under ``fields``.

    The sheets are asked for one after the other, 绩效指标 first: it is the biggest, and read while
    little else is held.
    """
    build = _Builder(settings)
    indicators = build.indicators_by_project(rows_of("绩效指标", COLUMNS["绩效指标"]))
    projects = tuple(build.project(cells, indicators) for cells in rows_of("项目", project_columns(settings.plan_nodes)))
    del indicators
    master = Master(
        settings=settings,
        units=tuple(build.unit(cells) for cells in rows_of("单位", COLUMNS["单位"])),
        projects=projects,
        dept_goals=tuple(g for g in map(build.dept_goal, rows_of("部门整体目标", COLUMNS["部门整体目标"])) if g),
        dept_indicators=tuple(
            i for i in map(build.dept_indicator, rows_of("部门整体指标", COLUMNS["部门整体指标"])) if i
        ),
        dept_measures=tuple(m for m in map(build.dept_measure, rows_of("保障措施", COLUMNS["保障措施"])) if m),
    )
    return dataclasses.replace(master, fingerprint=compute_fingerprint(master))


class _Builder:
    """Turns rows of cell texts (in the sheet's :data:`COLUMNS` order) into model objects.

    Equal texts give one shared value: a master repeats the same amounts, 指标值, 序号 and 指标性质
    spellings many times over, and parsing each once saves both the time and the memory of a
    ``Decimal`` per cell. (The model is immutable, so sharing is safe.)
    """

    def __init__(self, settings: Settings) -> None:
        self.plan_nodes = settings.plan_nodes
        self.money = _Memo(_money).__getitem__
        self.operator = _Memo(canonical_operator).__getitem__
        self.seq = _Memo(_seq_of).__getitem__
        self.number = _Memo(_number_or_text).__getitem__
        money = self.money  # not self: a memo holding its builder would be a reference cycle
        self.plan_point = _Memo(lambda key: PlanPoint(key[0], money(key[1]))).__getitem__

    def indicator_value(self, operator: str, text: str) -> Decimal | str | None:
        """A 指标值: a Decimal under a quantitative operator when numeric, else the text; None when blank."""
        if not text:
            return None
        return self.number(text) if operator in taxonomy.QUANTITATIVE_OPERATORS else text

    def unit(self, cells: list[str]) -> Unit:
        code, name, parent_code, contact, phone = cells
        return Unit(code=code, name=name, parent_code=parent_code, contact=contact, phone=phone)

    def project(self, cells: list[str], indicators: Mapping[str, list[Indicator]]) -> Project:
        unit_code, code, name, budget, fiscal, other, purpose, annual_goal, *plan = cells
        money = self.money
        return Project(
            unit_code=unit_code,
            code=code,
            name=name,
            budget=money(budget),
            fiscal=money(fiscal),
            other=money(other),
            purpose=purpose,
            annual_goal=annual_goal,
            plan=tuple(map(self.plan_point, zip(self.plan_nodes, plan))),
            indicators=tuple(indicators.get(code, ())) if code else (),
        )

    def indicators_by_project(self, rows: Iterable[list[str]]) -> dict[str, list[Indicator]]:
        grouped: dict[str, list[Indicator]] = {}
        for cells in rows:
            grouped.setdefault(cells[0], []).append(self.indicator(cells))
        return grouped

    def indicator(self, cells: list[str]) -> Indicator:
        _, level1, level2, name, description, operator_text, value, unit, basis, weight = cells
        operator = self.operator(operator_text)
        return Indicator(
            level1=level1,
            level2=level2,
            name=name,
            description=description,
            operator=operator,
            value=self.indicator_value(operator, value),
            unit=unit,
            basis=basis,
            weight=self.money(weight),
        )

    def dept_goal(self, cells: list[str]) -> DeptGoal | None:
        unit_code, seq_text, name, goal = cells
        seq = self.seq(seq_text)
        if seq is None:
            return None
        return DeptGoal(unit_code=unit_code, seq=seq, name=name, goal=goal)

    def dept_indicator(self, cells: list[str]) -> DeptIndicator | None:
        unit_code, seq_text, level1, level2, name, operator_text, value, unit, basis = cells
        seq = self.seq(seq_text)
        if seq is None:
            return None
        operator = self.operator(operator_text)
        return DeptIndicator(
            unit_code=unit_code,
            seq=seq,
            level1=level1,
            level2=level2,
            name=name,
            operator=operator,
            value=self.indicator_value(operator, value),
            unit=unit,
            basis=basis,
        )


    def dept_measure(self, cells: list[str]) -> DeptMeasure | None:
        unit_code, seq_text, title, text = cells
        seq = self.seq(seq_text)
        if seq is None:
            return None
        return DeptMeasure(unit_code=unit_code, seq=seq, title=title, text=text)


class _Memo(dict):
    """``memo[key]`` is ``func(key)``, computed on the first lookup of each distinct key."""

    def __init__(self, func: Callable[[Any], Any]) -> None:
        super().__init__()
        self._func = func

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self._func(key)
        return value


def _number_or_text(text: str) -> Decimal | str | None:
    """A quantitative 指标值: the number, or the text as written when it is not one."""
    try:
        return parse_number(text)
    except ValueError:
        return text


def _seq(row: Row) -> int | None:
    return _seq_of(row.get("序号"))


def _seq_of(text: str) -> int | None:
    try:
        return _to_int(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------
# The fingerprint
# --------------------------------------------------------------------------------------------------

_FINGERPRINT_PREFIX = "jixiao-xl master 1\n"
# Master fields added after the fingerprint was first specified: left out of it while empty, so that a
# master without them keeps the fingerprint its issued workbooks carry.
LATER_FIELDS = frozenset({"dept_measures"})
_FINGERPRINT_CHUNK = 2000  # items of a top-level list serialised (and hashed) at a time


def compute_fingerprint(master: Master) -> str:
    """The sha256 hex of a canonical serialisation of ``master`` (its own fingerprint excluded).

    The serialisation is ``json.dumps(to_plain(master) without "fingerprint" (and without the
    :data:`LATER_FIELDS` that are empty), sort_keys=True,
    ensure_ascii=False, separators=(",", ":"))`` with every Decimal written as ``{"decimal": normal form}``
    (6.00 and 6 are the same amount), so the same master in .xlsx, CSV or JSON gives the same fingerprint.
    It is produced and hashed piece by piece (:class:`_CanonicalJson`): the whole text of a province-sized
    master would be a gigabyte.
    """
    digest = hashlib.sha256(_FINGERPRINT_PREFIX.encode("utf-8"))
    for piece in _CanonicalJson().master_pieces(master):
        digest.update(piece.encode("utf-8"))
    return digest.hexdigest()


_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str


def _canonical_json(value: object) -> object:
    if isinstance(value, Decimal):
        # Tagged so that the number 30 and the text "30" stay different.
        return {"decimal": "0" if value == 0 else format(value.normalize(), "f")}
    raise TypeError(f"cannot serialise {type(value).__name__}")


class _CanonicalJson:
    """Writes model objects exactly as ``json.dumps`` writes their ``to_plain`` form (see compute_fingerprint).

    Dataclasses, tuples and lists, str, None, int and Decimal are written here; anything else goes
    through ``json.dumps`` itself. A master repeats its texts and amounts many times over, so the
    ``"field":value`` text of each distinct str and Decimal is made once per field and looked up after that.
    """

    def __init__(self) -> None:
        self._known: dict[type, tuple[_Shape, tuple[_Fragments, ...]] | None] = {}

    def master_pieces(self, master: Master) -> Iterator[str]:
        """The serialisation of ``master`` without its fingerprint, in pieces of bounded size."""
        names = [name for name in _sorted_fields(type(master))
                 if name != "fingerprint" and not (name in LATER_FIELDS and not getattr(master, name))]
        for position, name in enumerate(names):
            yield ("{" if position == 0 else ",") + _encode_str(name) + ":"
            value = getattr(master, name)
            if isinstance(value, (tuple, list)):
                yield from self._list_pieces(value)
            else:
                yield self.encode(value)
        yield "}" if names else "{}"

    def _list_pieces(self, items: tuple | list) -> Iterator[str]:
        yield "["
        for start in range(0, len(items), _FINGERPRINT_CHUNK):
            chunk = ",".join(map(self.encode, items[start:start + _FINGERPRINT_CHUNK]))
            yield chunk if start == 0 else "," + chunk
        yield "]"

    def encode(self, value: Any) -> str:
        """The canonical JSON text of one value."""
        kind = value.__class__
        if kind is tuple or kind is list:
            return "[" + ",".join(map(self.encode, value)) + "]"
        known = self._known.get(kind, _NOT_YET)
        if known is _NOT_YET:
            known = self._known[kind] = self._shape_of(kind)
        if known is not None:
            return self._object(value, *known)
        return _plain_json(value, self.encode)

    def _shape_of(self, kind: type) -> tuple[_Shape, tuple[_Fragments, ...]] | None:
        if not dataclasses.is_dataclass(kind):
            return None
        shape = _shape(kind)
        return shape, tuple(_Fragments(key) for key in shape.plain_keys)

    def _object(self, value: Any, shape: _Shape, fragments: tuple[_Fragments, ...]) -> str:
        try:
            parts = tuple(map(dict.__getitem__, fragments, shape.plain(value)))
        except TypeError:  # an unhashable value where the annotation promised a plain one
            parts = tuple(map(operator.add, shape.plain_keys, map(self.encode, shape.plain(value))))
        if shape.nested is not None:
            nested = map(operator.add, shape.nested_keys, map(self.encode, shape.nested(value)))
            parts = shape.in_key_order(parts + tuple(nested))
        return "{" + ",".join(parts) + "}"


_NOT_YET = object()


def _plain_json(value: Any, encode: Callable[[Any], str]) -> str:
    """The JSON of a value that is not a dataclass (containers inside it through ``encode``)."""
    kind = value.__class__
    if kind is str:
        return _encode_str(value)
    if value is None:
        return "null"
    if kind is Decimal:
        return '{"decimal":' + _encode_str(_canonical_json(value)["decimal"]) + "}"  # type: ignore[index]
    if kind is int:
        return int.__repr__(value)
    if isinstance(value, (tuple, list)) or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        return encode(value)
    return json.dumps(to_plain(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=_canonical_json)


def _encode_apart(value: Any) -> str:
    """A container found where a plain value was expected, written by a writer of its own.

    (Rare; a :class:`_Fragments` holding its writer's ``encode`` would make a reference cycle.)
    """
    return _CanonicalJson().encode(value)


class _Fragments(dict):
    """One field's value → its ``"field":value`` JSON text, made on first use.

    Only str and None are kept as keys, because a lookup matches by equality and Decimal("1") == 1 ==
    True must not share one text; Decimals are kept apart, by value (equal amounts have one normal form).
    """

    def __init__(self, key: str) -> None:
        super().__init__()
        self._key = key
        self._decimals: dict[Decimal, str] = {}

    def __missing__(self, value: Any) -> str:
        if value.__class__ is Decimal:
            try:
                return self._decimals[value]
            except KeyError:
                text = self._decimals[value] = self._key + _plain_json(value, _encode_apart)
                return text
            except TypeError:  # a signalling NaN cannot be hashed
                pass
        text = self._key + _plain_json(value, _encode_apart)
        if value is None or value.__class__ is str:
            self[value] = text
        return text


@dataclass(frozen=True)
class _Shape:
    """How to write one dataclass: its ``"field":value`` parts in key order, joined by commas.

    The fields annotated as plain values (str, int, Decimal, None) are fetched and looked up together;
    the others (tuples, other dataclasses) are encoded one by one and put back in key order.
    """

    plain_keys: tuple[str, ...]  # '"a":' for each plain field
    plain: Callable[[Any], tuple]
    nested_keys: tuple[str, ...]
    nested: Callable[[Any], tuple] | None
    in_key_order: Callable[[tuple], tuple]


_PLAIN_ANNOTATION = re.compile(r"^\s*(?:str|int|Decimal|None)(?:\s*\|\s*(?:str|int|Decimal|None))*\s*$")


@functools.lru_cache(maxsize=None)
def _shape(cls: type) -> _Shape:
    fields = sorted(dataclasses.fields(cls), key=lambda f: f.name)
    is_plain = [isinstance(f.type, str) and bool(_PLAIN_ANNOTATION.match(f.type)) for f in fields]
    plain = [f.name for f, p in zip(fields, is_plain) if p]
    nested = [f.name for f, p in zip(fields, is_plain) if not p]
    # (plain parts + nested parts)[position[k]] is the part of the k-th field in key order.
    position = {name: k for k, name in enumerate(plain + nested)}
    return _Shape(
        plain_keys=tuple(_encode_str(name) + ":" for name in plain),
        plain=_getter(operator.attrgetter, plain),
        nested_keys=tuple(_encode_str(name) + ":" for name in nested),
        nested=_getter(operator.attrgetter, nested) if nested else None,
        in_key_order=_getter(operator.itemgetter, [position[f.name] for f in fields]),
    )


def _getter(make: Callable, keys: list) -> Callable[[Any], tuple]:
    """``make(*keys)`` (attrgetter or itemgetter), always giving a tuple, even for no key or one key."""
    if not keys:
        return lambda value: ()
    if len(keys) == 1:
        one = make(keys[0])
        return lambda value: (one(value),)
    return make(*keys)


@functools.lru_cache(maxsize=None)
def _sorted_fields(cls: type) -> tuple[str, ...]:
    return tuple(sorted(f.name for f in dataclasses.fields(cls)))


# --------------------------------------------------------------------------------------------------
# Loading and the bundled sample
# --------------------------------------------------------------------------------------------------


def sample_dir() -> Path:
    """The folder of the bundled sample master (CSV files, one per sheet)."""
    try:
        candidate = resources.files("jixiao_xl").joinpath("sample")
        if isinstance(candidate, Path) and candidate.is_dir():
            return candidate
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - only in unusual installs
        pass
    return Path(__file__).parent / "sample"


def load_sample() -> Master:
    """The bundled sample master (the 巨鹿县行政审批局 seed document)."""
    folder = sample_dir()
    if not folder.is_dir():
        raise MasterError(f"找不到内置示例数据文件夹 {folder}；请重新安装 jixiao-xl。")
    return load_master(folder)


# --------------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------------


class _Findings:
    """Collects findings of one master, filling in the file and the rule's severity."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Finding] = []

    def add(self, rule: str, message: str, **where: str) -> None:
        self.items.append(Finding(rule=rule, severity=_RULES[rule].severity, message=message, file=self.file, **where))

    def at(self, table: Table, row: Row, header: str, rule: str, message: str, **extra: str) -> None:
        """A finding at the cell of ``header`` in ``row``; the cell's text is the finding's value."""
        extra.setdefault("value", row.get(header))
        extra.setdefault("field", header)
        self.add(rule, message, sheet=table.sheet, cell=table.cell(row, header), **extra)

    def sorted(self) -> list[Finding]:
        return sorted(self.items, key=_finding_order)


_CELL = re.compile(r"^([A-Z]+)(\d+)$")


def _finding_order(finding: Finding) -> tuple[int, int, int]:
    sheet = SHEETS.index(finding.sheet) if finding.sheet in SHEETS else -1
    match = _CELL.match(re.split(r"[:,]", finding.cell)[0])  # a range (J2:J8) sorts at its first cell
    if not match:
        return sheet, 0, 0
    column = 0
    for char in match.group(1):
        column = column * 26 + ord(char) - ord("A") + 1
    return sheet, int(match.group(2)), column


@dataclass(frozen=True)
class _Context:
    """What the row checks need to know about the rest of the master."""

    settings: Settings
    unit_codes: frozenset[str] | None
    project_units: Mapping[str, str] | None
    goal_keys: frozenset[tuple[str, int]] | None
    values_by_rules: bool = False


def check_master(path: str | Path) -> list[Finding]:
    """Every problem of the master at ``path`` as findings; an unreadable master gives one M-UNREADABLE."""
    try:
        tables = read_tables(path, require_sheets=False)
    except MasterError as exc:
        return [unreadable_finding(path, exc)]
    return check_tables(tables, file=str(path))


def unreadable_finding(path: str | Path, exc: MasterError) -> Finding:
    """The one finding of a master that cannot be read at all (M-UNREADABLE): it has no cell to point at."""
    return Finding(rule="M-UNREADABLE", severity=_RULES["M-UNREADABLE"].severity, message=str(exc), file=str(path))


def check_tables(tables: Tables, file: str = "", values_by_rules: bool = False) -> list[Finding]:
    """Every problem of a master's raw tables, ordered by sheet and row. Never raises on bad input.

    With ``values_by_rules`` the indicators' 指标值 are left to the domain rules that run next (R-V1 and
    R-V3 say more than M-NUMBER could: a placeholder, more than 3 decimals, or 定性 as the other fix).
    """
    out = _Findings(file)
    settings = _settings(tables.table("设置"))
    _check_structure(out, tables, settings)
    _check_settings(out, tables.table("设置"))
    context = dataclasses.replace(_context(tables, settings), values_by_rules=values_by_rules)
    _check_units(out, tables.table("单位"))
    _check_projects(out, tables.table("项目"), context)
    _check_indicators(out, tables.table("绩效指标"), context)
    _check_dept_goals(out, tables.table("部门整体目标"), context)
    _check_dept_indicators(out, tables.table("部门整体指标"), context)
    _check_measures(out, tables.table("保障措施"), context)
    return out.sorted()


def _context(tables: Tables, settings: Settings) -> _Context:
    units, projects, goals = tables.table("单位"), tables.table("项目"), tables.table("部门整体目标")
    goal_keys = None
    if goals is not None:
        goal_keys = frozenset((r.get("单位编码"), s) for r in goals.rows if (s := _seq(r)) is not None)
    return _Context(
        settings=settings,
        unit_codes=frozenset(r.get("单位编码") for r in units.rows) if units else None,
        project_units={r.get("项目编码"): r.get("单位编码") for r in projects.rows} if projects else None,
        goal_keys=goal_keys,
    )


def _check_structure(out: _Findings, tables: Tables, settings: Settings) -> None:
    for sheet in tables.missing():
        out.add("M-MISSING-SHEET",
                f"主数据缺少“{sheet}”工作表；请按 jixiao-xl master init 生成的模板补上（CSV 文件夹则补上 {sheet}.csv）。",
                sheet=sheet, expected=sheet)
    for sheet, table in tables.sheets.items():
        if not table.headers and not table.rows:
            continue  # an empty sheet (or an empty JSON list) carries no headers to complain about
        for header in _required_columns(sheet, settings):
            if not table.has(header):
                out.add("M-MISSING-COLUMN",
                        f"“{sheet}”工作表缺少“{header}”列；请在第 {table.header_row} 行补上该列标题。",
                        sheet=sheet, field=header, expected=header)


def _required_columns(sheet: str, settings: Settings) -> tuple[str, ...]:
    required = REQUIRED_COLUMNS[sheet]
    if sheet == "项目":
        required += tuple(plan_header(n) for n in settings.plan_nodes)
    if sheet == "绩效指标" and settings.uses_weights:
        required += ("权重",)
    return required


def _check_settings(out: _Findings, table: Table | None) -> None:
    if table is None:
        return
    rows = _setting_rows(table)
    if "预算年度" not in rows:
        out.add("M-SETTING", "“设置”表缺少“预算年度”一行；请添加一行：项目 填 预算年度，值 填 4 位年份（如 2026）。",
                sheet="设置", field="预算年度", expected="4 位年份")
    for key, found in rows.items():
        for duplicate in found[1:]:
            out.at(table, duplicate, "值", "M-SETTING",
                   f"“设置”表中“{key}”出现了多次（第 {found[0].number} 行已有）；请删除多余的一行。", field=key)
        _check_setting_value(out, table, key, found[0])


def _check_setting_value(out: _Findings, table: Table, key: str, row: Row) -> None:
    text = row.get("值")
    spec = _SETTING_SPECS[key]
    try:
        _setting_value(key, text)
    except ValueError:
        shown = f"“{text}”无法识别" if text else "为空"
        out.at(table, row, "值", "M-SETTING", f"设置“{key}”的值{shown}；{spec.hint}。", field=key, expected=spec.hint)
        return
    if key == "支出计划节点":
        nodes = _split_nodes(text)
        if len(set(nodes)) != len(nodes):
            out.at(table, row, "值", "M-SETTING", f"设置“支出计划节点”中有重复的节点；{spec.hint}。",
                   field=key, expected=spec.hint)


def _check_code(out: _Findings, table: Table, row: Row, header: str, **who: str) -> str:
    code = row.get(header)
    if not code:
        out.at(table, row, header, "M-MISSING-CODE", f"“{table.sheet}”第 {row.number} 行{header}为空；请填写{header}。", **who)
    return code


def _check_required(out: _Findings, table: Table, row: Row, headers: Iterable[str], **who: str) -> None:
    for header in headers:
        if table.has(header) and not row.get(header):
            out.at(table, row, header, "M-REQUIRED", f"“{table.sheet}”第 {row.number} 行{header}为空；请填写{header}。", **who)


def _check_unit_known(out: _Findings, table: Table, row: Row, context: _Context, **who: str) -> None:
    code = row.get("单位编码")
    if code and context.unit_codes is not None and code not in context.unit_codes:
        out.at(table, row, "单位编码", "M-UNKNOWN-UNIT",
               f"单位编码“{code}”不在“单位”表中；请改正编码，或先在“单位”表中添加该单位。", **who)


def _check_units(out: _Findings, table: Table | None) -> None:
    if table is None:
        return
    first_row: dict[str, int] = {}
    for row in table.rows:
        code = _check_code(out, table, row, "单位编码")
        who = {"unit_code": code}
        if code in first_row:
            out.at(table, row, "单位编码", "M-DUP-UNIT",
                   f"单位编码“{code}”与第 {first_row[code]} 行重复；每个单位只保留一行。", **who)
        elif code:
            first_row[code] = row.number
        _check_required(out, table, row, ("单位名称",), **who)


def _check_projects(out: _Findings, table: Table | None, context: _Context) -> None:
    if table is None:
        return
    first_row: dict[str, int] = {}
    for row in table.rows:
        code = _check_code(out, table, row, "项目编码", unit_code=row.get("单位编码"))
        who = {"unit_code": row.get("单位编码"), "project_code": code}
        if not row.get("单位编码"):
            _check_code(out, table, row, "单位编码", **who)
        _check_unit_known(out, table, row, context, **who)
        if code in first_row:
            out.at(table, row, "项目编码", "M-DUP-PROJECT",
                   f"项目编码“{code}”与第 {first_row[code]} 行重复；每个项目只保留一行。", **who)
        elif code:
            first_row[code] = row.number
        _check_required(out, table, row, ("项目名称",), **who)
        _check_project_money(out, table, row, context.settings, who)


def _check_project_money(out: _Findings, table: Table, row: Row, settings: Settings, who: dict[str, str]) -> None:
    unit = settings.money_unit
    budget = _checked_amount(out, table, row, "预算数", unit, who, required=True)
    fiscal = _checked_amount(out, table, row, "财政资金", unit, who)
    other = _checked_amount(out, table, row, "其他资金", unit, who)
    if budget is not None:
        _check_funds(out, table, row, budget, fiscal, other, unit, who)
    plan = [(node, _checked_amount(out, table, row, plan_header(node), unit, who)) for node in settings.plan_nodes]
    if budget is not None and plan and table.has(plan_header(plan[-1][0])):
        _check_plan(out, table, row, budget, plan, unit, who)


def _checked_amount(out: _Findings, table: Table, row: Row, header: str, unit: str, who: dict[str, str],
                    required: bool = False) -> Decimal | None:
    """The amount under ``header`` when it is a valid number ≥ 0; reports it and gives None otherwise."""
    text = row.get(header)
    if not text:
        if required and table.has(header):
            out.at(table, row, header, "M-REQUIRED", f"{_project_label(row)}的{header}为空；请填写金额（{unit}）。", **who)
        return None
    amount = _money(text)
    if amount is None:
        out.at(table, row, header, "M-NUMBER",
               f"{_project_label(row)}的{header}“{text}”不是数字；请只填写数字，金额单位为{unit}，不要带单位或文字。",
               expected=f"数字（{unit}）", **who)
        return None
    if amount < 0:
        out.at(table, row, header, "M-NUMBER", f"{_project_label(row)}的{header}为负数；金额不能为负数，请改正。",
               expected="≥ 0", **who)
        return None
    return amount


def _project_label(row: Row) -> str:
    name = row.get("项目名称") or row.get("项目编码")
    return f"项目“{name}”" if name else f"第 {row.number} 行项目"


def _amount_text(amount: Decimal) -> str:
    """Money as shown to users: at least two decimals (6 → '6.00', 0.125 → '0.125')."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return format(amount.normalize(), "f")
    return f"{amount:.2f}"


def _check_funds(out: _Findings, table: Table, row: Row, budget: Decimal, fiscal: Decimal | None,
                 other: Decimal | None, unit: str, who: dict[str, str]) -> None:
    texts = (row.get("财政资金"), row.get("其他资金"))
    if not any(texts) or (texts[0] and fiscal is None) or (texts[1] and other is None):
        return
    total = (fiscal or Decimal(0)) + (other or Decimal(0))
    if total == budget:
        return
    header = "财政资金" if table.has("财政资金") else "其他资金"
    out.at(table, row, header, "M-FUNDS",
           f"{_project_label(row)}的财政资金 {_amount_text(fiscal or Decimal(0))} + 其他资金 "
           f"{_amount_text(other or Decimal(0))} = {_amount_text(total)} {unit}，不等于预算数 {_amount_text(budget)} {unit}；"
           "请改正，使两者之和等于预算数。",
           value=_amount_text(total), expected=_amount_text(budget), **who)


def _check_plan(out: _Findings, table: Table, row: Row, budget: Decimal,
                plan: list[tuple[str, Decimal | None]], unit: str, who: dict[str, str]) -> None:
    label = _project_label(row)
    highest: tuple[str, Decimal] | None = None
    for index, (node, amount) in enumerate(plan):
        header = plan_header(node)
        if amount is None:
            continue
        if highest and amount < highest[1]:
            out.at(table, row, header, "M-PLAN-DECREASE",
                   f"{label}{node}累计支出计划 {_amount_text(amount)} {unit}，小于{highest[0]}的 {_amount_text(highest[1])} {unit}；"
                   f"支出计划是累计数，请改为不小于 {_amount_text(highest[1])} 的金额。",
                   expected=f"≥ {_amount_text(highest[1])}", **who)
        if index < len(plan) - 1 and amount > budget:
            out.at(table, row, header, "M-PLAN-OVER",
                   f"{label}{node}累计支出计划 {_amount_text(amount)} {unit}，超过预算数 {_amount_text(budget)} {unit}；"
                   "请改为不超过预算数的累计金额。",
                   expected=f"≤ {_amount_text(budget)}", **who)
        if highest is None or amount >= highest[1]:
            highest = (node, amount)
    _check_plan_end(out, table, row, budget, plan, unit, who)


def _check_plan_end(out: _Findings, table: Table, row: Row, budget: Decimal,
                    plan: list[tuple[str, Decimal | None]], unit: str, who: dict[str, str]) -> None:
    node, amount = plan[-1]
    header = plan_header(node)
    label = _project_label(row)
    if amount is None and row.get(header):
        return  # not a number: already reported as M-NUMBER
    if amount is None:
        message = f"{label}最后一个支出计划节点{node}为空，累计支出计划应等于预算数 {_amount_text(budget)} {unit}；" \
                  f"{_planned_so_far(plan[:-1], budget, unit)}请在{node}填写 {_amount_text(budget)}。"
    elif amount != budget:
        gap = f"少 {_amount_text(budget - amount)}" if amount < budget else f"多 {_amount_text(amount - budget)}"
        message = (f"{label}{node}累计支出计划 {_amount_text(amount)} {unit}，比预算数 {_amount_text(budget)} {unit} "
                   f"{gap} {unit}；请把{node}的累计金额改为 {_amount_text(budget)}。")
    else:
        return
    out.at(table, row, header, "M-PLAN-SHORT", message, expected=_amount_text(budget), **who)


def _planned_so_far(earlier: list[tuple[str, Decimal | None]], budget: Decimal, unit: str) -> str:
    filled = [(node, amount) for node, amount in earlier if amount is not None]
    if not filled:
        return f"目前各节点均未安排，差 {_amount_text(budget)} {unit}；"
    node, amount = filled[-1]
    if amount >= budget:
        return ""
    return f"截至{node}已安排 {_amount_text(amount)} {unit}，还差 {_amount_text(budget - amount)} {unit}；"


def _check_indicators(out: _Findings, table: Table | None, context: _Context) -> None:
    if table is None:
        return
    for row in table.rows:
        code = row.get("项目编码")
        unit = (context.project_units or {}).get(code, "")
        who = {"unit_code": unit, "project_code": code}
        if _check_code(out, table, row, "项目编码", **who) and context.project_units is not None \
                and code not in context.project_units:
            out.at(table, row, "项目编码", "M-UNKNOWN-PROJECT",
                   f"绩效指标的项目编码“{code}”不在“项目”表中；请改正编码，或先在“项目”表中添加该项目。", **who)
        _check_grid_row(out, table, row, context, who)
        _check_weight(out, table, row, who)


def _check_weight(out: _Findings, table: Table, row: Row, who: dict[str, str]) -> None:
    """M-NUMBER for a weight that is not a number; whether it is > 0 is R-W1's (when the batch uses weights)."""
    text = row.get("权重")
    if text and _money(text) is None:
        out.at(table, row, "权重", "M-NUMBER", f"权重“{text}”不是数字；请填写大于 0 的数字，不要带“分”“%”等文字。",
               expected="大于 0 的数字", **who)


def _check_grid_row(out: _Findings, table: Table, row: Row, context: _Context, who: dict[str, str]) -> None:
    """The checks shared by 绩效指标 and 部门整体指标: required fields, levels, operator, value."""
    _check_required(out, table, row, ("一级指标", "二级指标", "三级指标", "指标性质"), **who)
    _check_levels(out, table, row, context.settings.framework, who)
    operator_text = row.get("指标性质")
    if not operator_text:
        return
    operator = canonical_operator(operator_text)
    if operator not in taxonomy.OPERATORS:
        out.at(table, row, "指标性质", "M-OPERATOR",
               f"指标性质“{operator_text}”无效；请从 {' '.join(taxonomy.OPERATORS)} 中选择。",
               expected="、".join(taxonomy.OPERATORS), **who)
    elif operator in taxonomy.QUANTITATIVE_OPERATORS and not context.values_by_rules:
        _check_quantity(out, table, row, who)


def _check_quantity(out: _Findings, table: Table, row: Row, who: dict[str, str]) -> None:
    text = row.get("指标值")
    if text and _money(text) is None:
        out.at(table, row, "指标值", "M-NUMBER",
               f"定量指标“{row.get('三级指标')}”的指标值“{text}”不是数字；请只填写数字，"
               "符号填在“指标性质”列、单位填在“度量单位”列（如“≥30 个”拆为 ≥、30、个）。",
               expected="数字", **who)


def _check_levels(out: _Findings, table: Table, row: Row, framework: str, who: dict[str, str]) -> None:
    level1_text, level2_text = row.get("一级指标"), row.get("二级指标")
    if not level1_text:
        return
    level1 = taxonomy.canonical_level1(level1_text)
    names = taxonomy.level1_names(framework)
    if level1 not in names:
        out.at(table, row, "一级指标", "M-LEVEL1",
               f"一级指标“{level1_text}”不在{framework}指标体系中；请从 {'、'.join(names)} 中选择。",
               expected="、".join(names), **who)
        return
    _note_alias(out, table, row, "一级指标", level1_text, level1, who)
    level2 = taxonomy.canonical_level2(level2_text)
    children = taxonomy.level2_names(framework, level1)
    if level2_text and level2 not in children:
        owner = taxonomy.parent_of(framework, level2)
        hint = f"“{level2}”属于“{owner}”；" if owner else ""
        out.at(table, row, "二级指标", "M-LEVEL2",
               f"二级指标“{level2_text}”不属于一级指标“{level1}”；{hint}请从 {'、'.join(children)} 中选择，或改正一级指标。",
               expected="、".join(children), **who)
    elif level2_text:
        _note_alias(out, table, row, "二级指标", level2_text, level2, who)


def _note_alias(out: _Findings, table: Table, row: Row, header: str, text: str, standard: str,
                who: dict[str, str]) -> None:
    """M-LEVEL-ALIAS (info): a 一级/二级 written as a variant ('产出') that forms will show as ``standard``."""
    if taxonomy.compact(text) == standard:
        return
    out.at(table, row, header, "M-LEVEL-ALIAS",
           f"{header}“{text}”是“{standard}”的简称或旧称，已按“{standard}”读取；生成的表格中写作“{standard}”，"
           f"下拉列表才能找到其下的二级指标。建议在主数据中改为“{standard}”。", expected=standard, **who)


def _checked_seq(out: _Findings, table: Table, row: Row, who: dict[str, str]) -> int | None:
    text = row.get("序号")
    if not text:
        _check_required(out, table, row, ("序号",), **who)
        return None
    seq = _seq(row)
    if seq is None or seq < 0:
        out.at(table, row, "序号", "M-NUMBER", f"序号“{text}”不是整数；请填写 0、1、2 …（0 为总体绩效目标）。",
               expected="不小于 0 的整数", **who)
        return None
    return seq


def _check_dept_goals(out: _Findings, table: Table | None, context: _Context) -> None:
    _check_numbered_rows(out, table, context, "M-GOAL-SEQ", "部门整体目标", "绩效目标")


def _check_measures(out: _Findings, table: Table | None, context: _Context) -> None:
    _check_numbered_rows(out, table, context, "M-MEASURE-SEQ", "保障措施", "措施名称")


def _check_numbered_rows(out: _Findings, table: Table | None, context: _Context, rule: str, what: str,
                         required: str) -> None:
    """Rows numbered per unit (部门整体目标, 保障措施): known unit, an integer 序号 used once, ``required`` filled."""
    if table is None:
        return
    first_row: dict[tuple[str, int], int] = {}
    for row in table.rows:
        unit = _check_code(out, table, row, "单位编码")
        who = {"unit_code": unit}
        _check_unit_known(out, table, row, context, **who)
        seq = _checked_seq(out, table, row, who)
        key = (unit, seq)
        if seq is not None and key in first_row:
            out.at(table, row, "序号", rule,
                   f"单位“{unit}”的{what}序号 {seq} 与第 {first_row[key]} 行重复；每个序号只用一次。", **who)
        elif seq is not None:
            first_row[key] = row.number
        _check_required(out, table, row, (required,), **who)


def _check_dept_indicators(out: _Findings, table: Table | None, context: _Context) -> None:
    if table is None:
        return
    for row in table.rows:
        unit = _check_code(out, table, row, "单位编码")
        who = {"unit_code": unit}
        _check_unit_known(out, table, row, context, **who)
        seq = _checked_seq(out, table, row, who)
        if seq is not None and (unit, seq) not in (context.goal_keys or frozenset()):
            out.at(table, row, "序号", "M-GOAL-SEQ",
                   f"部门整体指标的序号 {seq} 在单位“{unit}”的“部门整体目标”中不存在；"
                   "请改为已有目标的序号，或先在“部门整体目标”中添加该目标。", **who)
        _check_grid_row(out, table, row, context, who)


# --------------------------------------------------------------------------------------------------
# Writing the workbook
# --------------------------------------------------------------------------------------------------

LISTS_SHEET = "_lists"
README_SHEET = "说明"
VALIDATION_ROWS = 5000  # data rows covered by every dropdown (row 2 .. VALIDATION_ROWS + 1)

_CODE_COLUMNS = ("单位编码", "项目编码", "主管部门编码", "联系电话")
_MONEY_COLUMNS = ("预算数", "财政资金", "其他资金")
_WIDTHS = {
    "项目": 16, "值": 36, "单位编码": 12, "单位名称": 30, "主管部门编码": 14, "联系人": 10, "联系电话": 16,
    "项目编码": 24, "项目名称": 30, "预算数": 12, "财政资金": 12, "其他资金": 12, "预算规模及资金用途": 30,
    "年度绩效目标": 50, "一级指标": 12, "二级指标": 18, "三级指标": 28, "绩效指标描述": 30, "指标性质": 9,
    "指标值": 12, "度量单位": 10, "指标值确定依据": 24, "权重": 8, "序号": 6, "分项名称": 30, "绩效目标": 60,
    "措施名称": 30, "措施内容": 60,
}


def write_master(path: str | Path, master: Master | None = None) -> None:
    """Write ``master`` as the master workbook at ``path``; with no master, an empty one with default 设置.

    Six data sheets in contract order, a 说明 sheet and a hidden ``_lists`` sheet with the dropdown
    sources. The file is written atomically and identical input gives identical bytes.
    """
    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    master = master or Master(settings=Settings(year=default_year()))
    path = Path(path)
    tmp = atomic_target(path)
    try:
        workbook = xlsxwriter.Workbook(
            str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
        )
        workbook.set_properties({"title": "绩效目标主数据", "created": _dt.datetime(master.settings.year, 1, 1)})
        _Writer(workbook, master).write()
        workbook.close()
        commit_atomic(tmp, path)
    except (OSError, FileCreateError) as exc:
        raise MasterError(
            f"无法写入 {path}（{exc.strerror or exc}）；请关闭正在打开该文件的程序，或换一个有写入权限的位置。"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)


class _Writer:
    """Lays out one master workbook with xlsxwriter."""

    def __init__(self, workbook, master: Master) -> None:
        self.book = workbook
        self.master = master
        self.settings = master.settings
        self.framework = master.settings.framework if master.settings.framework in taxonomy.FRAMEWORKS else "2015"
        self.header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "valign": "vcenter"})
        self.text = workbook.add_format({"num_format": "@"})
        self.money = workbook.add_format({"num_format": "0.00"})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.lists: dict[str, str] = {}

    def write(self) -> None:
        sheets = {name: self.book.add_worksheet(name) for name in SHEETS}
        readme = self.book.add_worksheet(README_SHEET)
        self._write_lists(self.book.add_worksheet(LISTS_SHEET))
        nodes = self.settings.plan_nodes
        for name, rows in self._rows().items():
            self._write_table(sheets[name], columns_for(name, nodes), rows)
        self._settings_validations(sheets["设置"])
        for name in ("绩效指标", "部门整体指标"):
            self._grid_validations(sheets[name], columns_for(name))
        self._money_validations(sheets["项目"], columns_for("项目", nodes))
        self._write_readme(readme)
        sheets["设置"].activate()

    def _rows(self) -> dict[str, list[list[object]]]:
        m = self.master
        return {
            "设置": _settings_rows(self.settings),
            "单位": [[u.code, u.name, u.parent_code, u.contact, u.phone] for u in m.units],
            "项目": [_project_row(p, self.settings.plan_nodes) for p in m.projects],
            "绩效指标": [[p.code, *_indicator_cells(i)] for p in m.projects for i in p.indicators],
            "部门整体目标": [[g.unit_code, g.seq, g.name, g.goal] for g in m.dept_goals],
            "部门整体指标": [[d.unit_code, d.seq, d.level1, d.level2, d.name, d.operator, d.value, d.unit, d.basis]
                       for d in m.dept_indicators],
            "保障措施": [[d.unit_code, d.seq, d.title, d.text] for d in m.dept_measures],
        }

    def _column_format(self, header: str):
        if header in _CODE_COLUMNS:
            return self.text
        if header in _MONEY_COLUMNS or header.startswith(PLAN_PREFIX):
            return self.money
        return None

    def _write_table(self, sheet, headers: tuple[str, ...], rows: list[list[object]]) -> None:
        for col, header in enumerate(headers):
            sheet.write_string(0, col, header, self.header)
            sheet.set_column(col, col, _WIDTHS.get(header, 12), self._column_format(header))
        for r, values in enumerate(rows, start=1):
            for col, value in enumerate(values):
                _write_value(sheet, r, col, value, self._column_format(headers[col]))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)

    def _write_lists(self, sheet) -> None:
        level2 = tuple(dict.fromkeys(c for cs in taxonomy.FRAMEWORKS[self.framework].values() for c in cs))
        sources = {
            "一级指标": taxonomy.level1_names(self.framework),
            "二级指标": level2,
            "指标性质": taxonomy.OPERATORS,
            "度量单位": taxonomy.UNITS,
            "指标值确定依据": taxonomy.BASES,
            "金额单位": taxonomy.MONEY_UNITS,
            "指标体系": tuple(taxonomy.FRAMEWORKS),
        }
        for col, (name, items) in enumerate(sources.items()):
            letter = column_letter(col)
            sheet.write_string(0, col, name, self.header)
            for row, item in enumerate(items, start=1):
                sheet.write_string(row, col, item)
            self.lists[name] = f"='{LISTS_SHEET}'!${letter}$2:${letter}${len(items) + 1}"
        sheet.hide()

    def _dropdown(self, sheet, first_row: int, last_row: int, col: int, source: str, warn: bool, message: str) -> None:
        sheet.data_validation(first_row, col, last_row, col, {
            "validate": "list",
            "source": self.lists[source],
            "error_type": "warning" if warn else "stop",
            "error_title": source,
            "error_message": message,
        })

    def _grid_validations(self, sheet, headers: tuple[str, ...]) -> None:
        rules = {
            "一级指标": (False, "请从下拉列表选择一级指标。"),
            "二级指标": (False, "请从下拉列表选择二级指标。"),
            "指标性质": (False, "请选择 ≥ ＞ ＝ ＜ ≤ 或 定性。"),
            "度量单位": (True, "该单位不在常用列表中，确认无误可继续。"),
            "指标值确定依据": (True, "该依据不在标准列表中，确认无误可继续。"),
        }
        for header, (warn, message) in rules.items():
            self._dropdown(sheet, 1, VALIDATION_ROWS, headers.index(header), header, warn, message)

    def _money_validations(self, sheet, headers: tuple[str, ...]) -> None:
        for col, header in enumerate(headers):
            if self._column_format(header) is self.money:
                sheet.data_validation(1, col, VALIDATION_ROWS, col, {
                    "validate": "decimal", "criteria": ">=", "value": 0,
                    "error_title": header, "error_message": f"请填写不小于 0 的数字（单位：{self.settings.money_unit}）。",
                })

    def _settings_validations(self, sheet) -> None:
        row_of = {key: index for index, key in enumerate(SETTING_KEYS, start=1)}
        for key in ("金额单位", "指标体系"):
            self._dropdown(sheet, row_of[key], row_of[key], 1, key, False, _SETTING_SPECS[key].hint + "。")
        sheet.data_validation(row_of["预算年度"], 1, row_of["预算年度"], 1, {
            "validate": "integer", "criteria": "between", "minimum": 2000, "maximum": 2100,
            "error_title": "预算年度", "error_message": "请填写 4 位年份，例如 2026。",
        })
        sheet.data_validation(row_of["备用指标行数"], 1, row_of["备用指标行数"], 1, {
            "validate": "integer", "criteria": "between", "minimum": 0, "maximum": 100,
            "error_title": "备用指标行数", "error_message": "请填写 0 到 100 之间的整数。",
        })

    def _write_readme(self, sheet) -> None:
        sheet.set_column(0, 0, 14)
        sheet.set_column(1, 1, 22)
        sheet.set_column(2, 2, 90, self.wrap)
        for col, title in enumerate(("工作表", "列", "说明")):
            sheet.write_string(0, col, title, self.header)
        for row, line in enumerate(_readme_lines(self.settings), start=1):
            for col, text in enumerate(line):
                sheet.write_string(row, col, text)
        sheet.freeze_panes(1, 0)


def _write_value(sheet, row: int, col: int, value: object, fmt) -> None:
    """Numbers as numbers, everything else as a string (never a formula, whatever it starts with)."""
    if value is None or value == "":
        return
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        sheet.write_number(row, col, float(value), fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def _settings_rows(settings: Settings) -> list[list[object]]:
    values = {
        "预算年度": settings.year,
        "金额单位": settings.money_unit,
        "指标体系": settings.framework,
        "支出计划节点": ",".join(settings.plan_nodes),
        "权重合计": settings.weight_total,
        "备用指标行数": settings.spare_rows,
        "主管部门名称": settings.department_name,
    }
    return [[key, values[key]] for key in SETTING_KEYS]


def _project_row(project: Project, nodes: tuple[str, ...]) -> list[object]:
    return [project.unit_code, project.code, project.name, project.budget, project.fiscal, project.other,
            project.purpose, project.annual_goal, *(project.plan_amount(n) for n in nodes)]


def _indicator_cells(indicator: Indicator) -> list[object]:
    i = indicator
    return [i.level1, i.level2, i.name, i.description, i.operator, i.value, i.unit, i.basis, i.weight]


def _readme_lines(settings: Settings) -> list[tuple[str, str, str]]:
    unit = settings.money_unit
    nodes = "、".join(settings.plan_nodes)
    return [
        ("（总体）", "", "本工作簿是绩效目标表的主数据：jixiao-xl 按它为每个单位生成填报表，并用它核对各单位交回的表。"
                     "各工作表第 1 行是列标题，请不要改名或删除；数据从第 2 行开始，一行一条。"),
        ("（总体）", "", f"金额单位见“设置”中的金额单位（当前为{unit}），所有金额只填数字，不带单位。"
                     "编码（单位编码、项目编码）按文本填写，前导 0 会保留。"),
        ("设置", "项目 / 值", "每行一个设置项，只改“值”列。"),
        ("设置", "预算年度", "编制预算的年度（不是填表的年度），例如 2026。"),
        ("设置", "金额单位", "万元 或 元，适用于本工作簿中的全部金额。"),
        ("设置", "指标体系", "2015 = 财预〔2015〕88号框架（成本指标是产出指标下的二级指标）；"
                         "2021 = 财预〔2021〕101号框架（成本指标是一级指标）。"),
        ("设置", "支出计划节点", f"用逗号分隔的支出计划节点，当前为：{nodes}。"
                           "“项目”表为每个节点设一列“支出计划-节点”。"),
        ("设置", "权重合计", "三级指标权重的合计（如 90 或 100）；留空表示不使用权重。"),
        ("设置", "备用指标行数", "生成的填报表中每个项目额外留出的空白指标行数，默认 3。"),
        ("设置", "主管部门名称", "主管部门全称，印在生成的表头上。"),
        ("单位", "单位编码 / 单位名称", "每个预算单位一行，单位编码不能重复。每个单位会收到一个工作簿。"),
        ("单位", "主管部门编码 / 联系人 / 联系电话", "可选。"),
        ("项目", "单位编码 / 项目编码 / 项目名称", "每个项目一行；单位编码必须在“单位”表中，项目编码不能重复。"),
        ("项目", "预算数 / 财政资金 / 其他资金", f"金额（{unit}）。填写了财政资金或其他资金时，财政资金 + 其他资金 应等于预算数。"),
        ("项目", "预算规模及资金用途 / 年度绩效目标", "文字。"),
        ("项目", "支出计划-节点", f"截至该节点的累计支出计划金额（{unit}），不是当期金额：后一节点不小于前一节点，"
                           "最后一个节点应等于预算数。未安排的节点留空。"),
        ("绩效指标", "项目编码", "指标所属的项目，必须在“项目”表中；一个项目的指标按行的先后顺序排列。"),
        ("绩效指标", "一级指标 / 二级指标", "从下拉列表选择；二级指标须属于其一级指标（见“设置”中的指标体系）。"),
        ("绩效指标", "三级指标 / 绩效指标描述", "三级指标名称（必填）及其说明。"),
        ("绩效指标", "指标性质", "≥ ＞ ＝ ＜ ≤ 为定量指标，指标值只填数字；定性指标的指标值填文字。"),
        ("绩效指标", "指标值 / 度量单位", "例如“≥30 个”填为 指标性质 ≥、指标值 30、度量单位 个。定性指标不填度量单位。"),
        ("绩效指标", "指标值确定依据", "计划标准、历史标准、行业标准、预算支出标准、其他标准，也可填写依据的文件名称。"),
        ("绩效指标", "权重", "使用权重时填写（见“设置”中的权重合计），否则留空。"),
        ("部门整体目标", "单位编码 / 序号", "部门整体绩效目标，每个目标一行。序号 0 的一行填写总体绩效目标，"
                                  "序号 1、2、3 … 为各分项绩效目标；同一单位的序号不能重复。"),
        ("部门整体目标", "分项名称 / 绩效目标", "分项目标的名称（序号 0 可留空）和目标内容。"),
        ("部门整体指标", "单位编码 / 序号", "序号对应“部门整体目标”中同一单位的目标序号，表示该指标属于哪个分项目标。"),
        ("部门整体指标", "其余各列", "与“绩效指标”表相同。"),
        ("保障措施", "单位编码 / 序号", "预算公开文本“三、工作保障措施”的各条措施，每条一行，按序号 1、2、3 … 排列；"
                              "可整表留空（不影响表格下发和核对）。"),
        ("保障措施", "措施名称 / 措施内容", "措施的标题（如“强化预算执行，严格支出管理”）和正文。"),
        (LISTS_SHEET, "", "隐藏的下拉列表来源，请不要修改。"),
    ]
