"""The ``_meta`` sheet: one module (jixiao_xl.meta) owns its layout; what the writer writes the parser reads back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jixiao_xl
from jixiao_xl import __version__
from jixiao_xl.generate import GenerateOptions, generate
from jixiao_xl.master import load_sample
from jixiao_xl.meta import (EMPTY_META, IDENTITY_KEYS, META_SHEET, Identity, Meta, MetaCell, field_map, meta_cells,
                            parse_meta, write_meta)
from jixiao_xl.read import read_meta
from jixiao_xl.workbook import open_workbook

IDENTITY = Identity(template_id="project-default", template_version="3", dept_template_id="dept-default",
                    dept_template_version="2", master_fingerprint="ab12", unit_code="435001", unit_name="巨鹿县行政审批局本级",
                    budget_year="2022", money_unit="万元", plan_nodes="3月底,6月底,9月底,12月底",
                    generated_at="2026-01-01T08:00:00", tool_version="0.1.0")
PROJECTS = [("13052922P005840107184", "1.光纤租赁和短信机费用"), ("P2", "2.统一着装")]


@dataclass(frozen=True)
class Placed:
    path: str
    sheet: str
    row: int
    col: int


PLACEMENTS = [Placed("p01.code", "S", 2, 1), Placed("p01.budget", "S", 3, 1)] + \
             [Placed(f"p01.i{k:02d}.value", "S", 9 + k, 5) for k in range(1, 11)] + \
             [Placed(f"d.r{k:02d}.goal_seq", "部门整体绩效目标", 5 + k, 0) for k in range(1, 4)]


class RecordingSheet:
    """Stands in for an xlsxwriter worksheet: keeps what was written and how the sheet was set up."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], tuple[str, object]] = {}
        self.widths: dict[int, int] = {}
        self.password, self.hidden = None, False

    def write_string(self, row: int, col: int, text: str, fmt: object = None) -> None:
        self.cells[(row, col)] = (text, fmt)

    def set_column(self, first: int, last: int, width: int) -> None:
        self.widths.update({c: width for c in range(first, last + 1)})

    def protect(self, password: str) -> None:
        self.password = password

    def very_hidden(self) -> None:
        self.hidden = True

    def rows(self) -> list[list[object]]:
        """The sheet as the reader gives it: rows of values, None where nothing was written."""
        height = max(r for r, _ in self.cells) + 1
        width = max(c for _, c in self.cells) + 1
        return [[self.cells[(r, c)][0] if (r, c) in self.cells else None for c in range(width)] for r in range(height)]


def _written() -> RecordingSheet:
    sheet = RecordingSheet()
    write_meta(sheet, meta_cells(IDENTITY, PROJECTS, field_map(PLACEMENTS)), "BOLD", "secret")
    return sheet


def test_what_is_written_reads_back_as_the_same_meta():
    meta = parse_meta(_written().rows())
    assert meta == Meta(dict(IDENTITY.rows()), [("p01", "13052922P005840107184", "1.光纤租赁和短信机费用"), ("p02", "P2", "2.统一着装")],
                        {"p01.code": "S!B3", "p01.budget": "S!B4", "p01.i*.value": "S!F11:F20",
                         "d.r*.goal_seq": "部门整体绩效目标!A7:A9"})
    assert meta.identity == IDENTITY
    assert meta.cell("p01.i03.value") == (12, 5) and meta.cell("p01.i11.value") is None
    assert meta.grid_rows("p01") == 0 and meta.column("d.r*.goal_seq") == ("部门整体绩效目标", 6, 8, 0)
    assert meta.field_cells()["d.r02.goal_seq"] == "部门整体绩效目标!A8"


def test_the_writer_lays_the_sheet_out_as_issued_workbooks_have_it():
    sheet = _written()
    rows = sheet.rows()
    assert rows[0][:2] == ["项目", "值"] and [row[0] for row in rows[1:13]] == list(IDENTITY_KEYS)
    assert rows[14] == ["project", "project_code", "sheet"] and rows[15][0] == "p01" and rows[16][0] == "p02"
    assert rows[18][:2] == ["field", "cell"] and rows[19][:2] == ["p01.code", "S!B3"]
    headings = {place for place, (_text, fmt) in sheet.cells.items() if fmt == "BOLD"}
    assert headings == {(0, 0), (0, 1), (14, 0), (14, 1), (14, 2), (18, 0), (18, 1)}
    assert sheet.widths == {0: 28, 1: 40, 2: 30} and sheet.password == "secret" and sheet.hidden


def test_cells_come_out_in_order_and_none_is_written_twice():
    cells = list(meta_cells(IDENTITY, PROJECTS, field_map(PLACEMENTS)))
    places = [(c.row, c.col) for c in cells]
    assert places == sorted(places) and len(set(places)) == len(places)
    assert cells[0] == MetaCell(0, 0, "项目", True)


def test_an_identity_row_missing_from_an_older_workbook_reads_as_blank():
    rows = [["项目", "值"], ["unit_code", "435001"], ["tool_version", "0.0.9"], [None], ["field", "cell"], ["p01.code", "S!B3"]]
    meta = parse_meta(rows)
    assert meta.identity == Identity(unit_code="435001", tool_version="0.0.9")
    assert meta.values == {"unit_code": "435001", "tool_version": "0.0.9"} and meta.projects == []
    assert parse_meta([]) == EMPTY_META and EMPTY_META.identity == Identity()


def test_only_the_meta_module_spells_the_layout():
    package = Path(jixiao_xl.__file__).parent
    literals = (f'"{META_SHEET}"', '"dept_template_id"', '"plan_nodes"', '("project", "project_code"', '"field", "cell"')
    offenders = [(path.relative_to(package).as_posix(), literal) for path in package.rglob("*.py")
                 if path.name != "meta.py" for literal in literals if literal in path.read_text(encoding="utf-8")]
    assert offenders == []


def test_a_generated_workbook_reads_back_the_identity_it_was_made_with(tmp_path):
    master = load_sample()
    [first, *_] = generate(master, None, GenerateOptions(out_dir=tmp_path))
    meta = read_meta(open_workbook(tmp_path / first.file, "xlsx"))
    unit = master.units[0]
    identity = meta.identity
    assert (identity.unit_code, identity.unit_name, identity.master_fingerprint) == (unit.code, unit.name, master.fingerprint)
    assert identity.plan_nodes == ",".join(master.settings.plan_nodes) and identity.tool_version == __version__
    assert identity.template_id and identity.dept_template_id and set(meta.values) == set(IDENTITY_KEYS)
    assert [sheet for _key, _code, sheet in meta.projects] == [name for name in open_workbook(
        tmp_path / first.file, "xlsx").sheet_names if name[:1].isdigit()]
