"""The master workbook (``jixiao-xl master init``, ``jixiao-xl init``): six data sheets with dropdowns and a 说明 page.

The layout comes from :mod:`jixiao_xl.master.format`; identical input gives identical bytes.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from pathlib import Path

from .. import taxonomy
from ..master.format import PLAN_PREFIX, SETTING_KEYS, SHEETS, MasterError, column_letter, columns_for
from ..master.settings import default_year, setting_hint
from ..model import Indicator, Master, Project, Settings
from ..safety import atomic_target, commit_atomic

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
            self._dropdown(sheet, row_of[key], row_of[key], 1, key, False, setting_hint(key) + "。")
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
        ("项目", "预算数 / 财政资金 / 其他资金", f"金额（{unit}）。财政资金 + 其他资金 应等于预算数；两项都要填写，没有的填 0。"),
        ("项目", "预算规模及资金用途 / 年度绩效目标", "文字。"),
        ("项目", "支出计划-节点", f"截至该节点的累计支出计划金额（{unit}），不是当期金额：后一节点不小于前一节点，"
                           "最后一个节点应等于预算数。每个节点都要填写，该期间没有支出的填写与前一节点相同的累计数。"),
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
