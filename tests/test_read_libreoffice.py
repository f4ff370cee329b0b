"""Returns filled in and saved by real LibreOffice read back exactly, in every format it saves.

A person opens the generated workbook in LibreOffice, types into the unlocked cells of 3.统一着装经费 (the
12月底 amount, the 年度绩效目标, a new indicator in spare row 18, the fixed 破损率 row) and the 填表人 of
sheets 1 and 3, then saves: as xlsx, as xls, as ods, and after the structural changes a department
might make (a row inserted into the grid, _meta deleted, the sheet renamed, a spare row deleted, the
locked 预算数 changed). Every variant must come back with the values typed, and ``found_by`` must say how
each was found. One LibreOffice session makes every variant (the session-scoped ``libreoffice``).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from jixiao_xl.generate import GenerateOptions, generate
from jixiao_xl.master import load_sample
from jixiao_xl.model import Indicator
from jixiao_xl.read import read_file
from jixiao_xl.workbook import open_workbook
from lo import requires_libreoffice

pytestmark = [requires_libreoffice, pytest.mark.libreoffice]

PASSWORD = "jixiao"
FILE = "435001-巨鹿县行政审批局本级.xlsx"
P1, P3 = "1.光纤租赁和短信机费用", "3.统一着装经费"
RENAMED = "服装经费"
CODE = "13052922P005840107184"
FIELDS = ("level1", "level2", "name", "description", "operator", "value", "unit", "basis", "weight")
COLUMNS = dict(zip(FIELDS, "ABCDEFGHI"))
SCALARS = ("code", "name", "budget", "fiscal", "other", "purpose", "annual_goal")
SCALAR_CELLS = {"code": "B3", "name": "F3", "budget": "B4", "fiscal": "D4", "other": "F4", "purpose": "B5",
                "annual_goal": "B9"}
PLAN_CELLS = {"3月底": "B7", "6月底": "C7", "10月底": "D7", "12月底": "E7"}
FOOTER_CELLS = {"footer.filler": "B", "footer.phone": "E", "footer.date": "H"}

ANNUAL_GOAL = "完成50套服装采购"
ADDED = Indicator(level1="效益指标", level2="社会效益指标", name="窗口形象提升", description="群众对窗口形象的评价",
                  operator="≥", value=Decimal("95"), unit="%", basis="调查问卷")
INSERTED = Indicator(level1="产出指标", level2="数量指标", name="新增指标", operator="≥", value=Decimal("10"), unit="个")


def type_in(sheet: str, cell: str, value) -> dict:
    return {"op": "set_value", "sheet": sheet, "cell": cell, "value": value}


# What the person types: only unlocked input cells, so nothing needs unprotecting.
TYPING = [
    type_in(P3, "E7", 9),
    type_in(P3, "B9", ANNUAL_GOAL),
    *(type_in(P3, f"{col}18", value) for col, value in
      zip("ABCDEFGH", ("效益指标", "社会效益指标", "窗口形象提升", "群众对窗口形象的评价", "≥", 95, "%", "调查问卷"))),
    type_in(P3, "F12", 2),  # the 服装质量破损率 defect: ≥98% becomes ≤2%
    type_in(P3, "E12", "≤"),
    type_in(P1, "B21", "张三"),
    type_in(P3, "B21", "李四"),  # a footer on sheet 3 too, so that moving it with an inserted row shows
]
UNPROTECT = {"op": "unprotect", "sheet": P3, "password": PASSWORD}


# -------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def master():
    return load_sample()


@pytest.fixture(scope="module")
def issued(master, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("issued")
    generate(master, None, GenerateOptions(out_dir=out))
    assert (out / FILE).exists()
    return out / FILE


@pytest.fixture(scope="module")
def variants(libreoffice, issued, tmp_path_factory) -> dict:
    """Every variant saved by LibreOffice, by name, plus what LibreOffice answered along the way."""
    work = tmp_path_factory.mktemp("lo")
    source = work / FILE
    shutil.copyfile(issued, source)
    out = work / "saved"

    def session(*steps: dict) -> list:
        """Open the issued workbook, type as a person would, then ``steps``; the document closes at the end."""
        results = libreoffice.run([{"op": "open", "path": source}, *TYPING, *steps])
        typed = results[1:1 + len(TYPING)]
        refused = [(a["sheet"], a["cell"], r) for a, r in zip(TYPING, typed) if not r.get("ok")]
        assert not refused, f"LibreOffice refused typing into unlocked cells: {refused}"
        return results[1 + len(TYPING):]

    def save(name: str) -> dict:
        return {"op": "save_as", "path": out / name}

    answers = {}
    session(save("resaved.xlsx"), save("resaved.xls"), save("resaved.ods"))
    session(UNPROTECT, {"op": "insert_rows", "sheet": P3, "row": 15},
            *(type_in(P3, f"{col}15", value) for col, value in
              zip("ABCEFG", ("产出指标", "数量指标", "新增指标", "≥", 10, "个"))),
            save("inserted.xlsx"))
    session({"op": "remove_sheet", "sheet": "_meta"}, save("nometa.xlsx"))
    answers["renamed_names"] = session({"op": "rename_sheet", "old": P3, "new": RENAMED}, {"op": "named_ranges"},
                                       save("renamed.xlsx"))[1]
    session(UNPROTECT, {"op": "delete_rows", "sheet": P3, "row": 19}, save("deleted.ods"))
    answers["locked_budget"], _, answers["tampered"], _ = session(
        type_in(P3, "B4", 9.5), UNPROTECT, type_in(P3, "B4", 9.5), save("tampered.xlsx"))
    return {"dir": out, **answers}


@pytest.fixture(scope="module")
def read(variants):
    """``read(name)``: the Submission of one saved variant (each file is read once)."""
    cache = {}

    def reader(name: str):
        if name not in cache:
            cache[name] = read_file(variants["dir"] / name)
        return cache[name]

    return reader


# -------------------------------------------------------------------------------------------------
# Helpers


def expected_indicators(master, inserted: bool = False) -> list[Indicator]:
    """The master's seven indicators with the 破损率 row fixed, the one typed into the spare row last."""
    issued = list(master.projects_of("435001")[2].indicators)
    assert issued[1].name == "服装质量破损率" and (issued[1].operator, issued[1].value) == ("≥", Decimal("98"))
    issued[1] = replace(issued[1], operator="≤", value=Decimal("2"))
    if inserted:
        issued.insert(4, INSERTED)
    return [*issued, ADDED]


def uniform(sub, sheet: str = P3):
    rp = sub.project(CODE)
    assert rp is not None, f"{CODE} not read from {sub.file}: {[f.rule for f in sub.findings]}"
    assert rp.sheet == sheet
    return rp


def assert_typed_values(rp, master, inserted: bool = False) -> None:
    """The values typed and the master's untouched values, exactly (Decimals compare by value: 9 == 9.00)."""
    project = rp.project
    issued = master.projects_of("435001")[2]
    assert (project.code, project.name, project.budget, project.fiscal, project.other, project.purpose) == (
        CODE, issued.name, Decimal("9"), Decimal("9"), None, issued.purpose)
    assert project.annual_goal == ANNUAL_GOAL
    assert [(p.node, p.amount) for p in project.plan] == [
        ("3月底", Decimal("2.25")), ("6月底", Decimal("4.5")), ("10月底", Decimal("6.75")), ("12月底", Decimal("9"))]
    assert project.plan_amount("12月底") == Decimal("9") and rp.where("plan.12月底").raw == "9"
    assert list(project.indicators) == expected_indicators(master, inserted)
    fixed = rp.where("ind1.value"), rp.where("ind1.operator")
    assert [(loc.cell, loc.raw) for loc in fixed] == [("F12", "2"), ("E12", "≤")]
    assert rp.where("footer.filler").raw == "李四"


def found_by(rp, paths) -> dict[str, str]:
    return {path: rp.where(path).found_by for path in paths}


def indicator_paths(k: int) -> list[str]:
    return [f"ind{k}.{field}" for field in FIELDS]


def cells(rp, paths) -> dict[str, str]:
    return {path: rp.where(path).cell for path in paths}


def grid_cells(k: int, row: int) -> dict[str, str]:
    return {f"ind{k}.{field}": f"{COLUMNS[field]}{row}" for field in FIELDS}


def rules(sub) -> list[tuple[str, str, str]]:
    return sorted((f.rule, f.severity, f.sheet) for f in sub.findings)


def lo_cell(content: str) -> tuple[str, str]:
    """LibreOffice's "$'3.统一着装经费'.$B$4" (quotes optional) → ('3.统一着装经费', 'B4')."""
    match = re.fullmatch(r"\$?'?(.*?)'?\.\$?([A-Z]+)\$?(\d+)", content)
    assert match, content
    return match.group(1), match.group(2) + match.group(3)


# -------------------------------------------------------------------------------------------------
# 1–3: the same typing saved as xlsx, xls and ods


def test_resaved_xlsx_reads_back_every_typed_value_by_name(read, master):
    sub = read("resaved.xlsx")
    assert (sub.kind, sub.unit_code, sub.unit_name) == ("xlsx", "435001", "巨鹿县行政审批局本级")
    assert sub.producer.startswith("LibreOffice")
    rp = uniform(sub)
    assert_typed_values(rp, master)
    paths = [*SCALARS, *(f"plan.{n}" for n in PLAN_CELLS), *FOOTER_CELLS,
             *(p for k in range(8) for p in indicator_paths(k))]
    assert set(found_by(rp, paths).values()) == {"name"}, "every bound cell keeps its JX_ name through LibreOffice"
    assert cells(rp, paths[:len(SCALARS)]) == SCALAR_CELLS
    assert cells(rp, indicator_paths(7)) == grid_cells(7, 18)
    assert rp.where("ind7.level1").raw == "效益指标" and rp.where("ind7.value").raw == "95"
    p1 = sub.project(master.projects_of("435001")[0].code)
    assert (p1.sheet, p1.where("footer.filler").cell, p1.where("footer.filler").raw) == (P1, "B21", "张三")
    # LibreOffice writes <sheetProtection sheet="true">: still protected, so no P-PROTECTION-REMOVED.
    assert rules(sub) == []


def test_xls_has_no_names_so_fields_come_from_meta_and_the_grid_from_its_labels(read, master):
    sub = read("resaved.xls")
    assert (sub.kind, sub.unit_code, sub.unit_name) == ("xls", "435001", "巨鹿县行政审批局本级")
    rp = uniform(sub)
    assert_typed_values(rp, master)
    # Defined names are not read from xls: every scalar comes from the _meta field map (its label checked) …
    scalars = [*SCALARS, *(f"plan.{n}" for n in PLAN_CELLS), *FOOTER_CELLS]
    assert set(found_by(rp, scalars).values()) == {"meta"}
    assert cells(rp, SCALARS) == SCALAR_CELLS and rp.where("plan.12月底").cell == "E7"
    # … and the indicator grid by its header labels, cell by cell.
    grid = [p for k in range(8) for p in indicator_paths(k)]
    assert set(found_by(rp, grid).values()) == {"label"}
    assert cells(rp, indicator_paths(7)) == grid_cells(7, 18)
    assert rp.where("ind2.level1").raw == "产出指标", "a covered cell of the merged 一级 shows its anchor"
    p1 = sub.project(master.projects_of("435001")[0].code)
    assert (p1.where("footer.filler").raw, p1.where("footer.filler").found_by) == ("张三", "meta")
    assert rules(sub) == [], "xls: no names to lose, protection is not checked"


def test_ods_reads_back_every_typed_value_by_its_named_range(read, master):
    sub = read("resaved.ods")
    assert (sub.kind, sub.unit_code) == ("ods", "435001")
    rp = uniform(sub)
    assert_typed_values(rp, master)
    paths = [*SCALARS, *(f"plan.{n}" for n in PLAN_CELLS), *FOOTER_CELLS,
             *(p for k in range(8) for p in indicator_paths(k))]
    assert set(found_by(rp, paths).values()) == {"name"}
    assert cells(rp, SCALARS) == SCALAR_CELLS and cells(rp, indicator_paths(7)) == grid_cells(7, 18)
    # The merged 一级 A11:A14 is read from the ods package (calamine gives no ods merges): no fill-down.
    assert [rp.where(f"ind{k}.level1").raw for k in range(4)] == ["产出指标"] * 4
    p1 = sub.project(master.projects_of("435001")[0].code)
    assert (p1.where("footer.filler").raw, p1.where("footer.filler").found_by) == ("张三", "name")
    assert rules(sub) == []


# -------------------------------------------------------------------------------------------------
# 4–7: structural changes a department might make in LibreOffice


def test_row_inserted_into_the_grid(read, master):
    sub = read("inserted.xlsx")
    rp = uniform(sub)
    assert_typed_values(rp, master, inserted=True)
    assert [i.name for i in rp.project.indicators][3:6] == ["专项服装活动经费", "新增指标", "提高整体形象"]
    # Rows above keep their cells, rows below moved one down with their names; all found by name.
    for k in range(4):
        assert cells(rp, indicator_paths(k)) == grid_cells(k, 11 + k)
        assert set(found_by(rp, indicator_paths(k)).values()) == {"name"}
    for k in range(5, 9):
        assert cells(rp, indicator_paths(k)) == grid_cells(k, 11 + k)
        assert set(found_by(rp, indicator_paths(k)).values()) == {"name"}
    # The inserted row has no names: found between the header and 填表人, by the header's labels.
    assert cells(rp, indicator_paths(4)) == grid_cells(4, 15)
    assert set(found_by(rp, indicator_paths(4)).values()) == {"label"}
    assert rp.where("ind4.name").raw == "新增指标" and rp.where("ind4.value").raw == "10"
    footer = rp.where("footer.filler")
    assert (footer.cell, footer.found_by, footer.raw) == ("B22", "name", "李四")
    assert rules(sub) == [("P-PROTECTION-REMOVED", "warning", P3), ("P-ROWS-CHANGED", "info", P3)]
    changed = next(f for f in sub.findings if f.rule == "P-ROWS-CHANGED")
    assert (changed.project_code, changed.unit_code) == (CODE, "435001")
    assert "10 行" in changed.message and "11 行" in changed.message


def test_meta_sheet_removed(read, variants, master):
    path = variants["dir"] / "nometa.xlsx"
    assert open_workbook(path, "xlsx").properties["jixiao_unit"] == "435001", "LibreOffice keeps custom properties"
    sub = read("nometa.xlsx")
    assert sub.unit_code == "435001" and sub.template_id == "项目支出绩效目标表"
    rp = uniform(sub)
    assert_typed_values(rp, master)
    assert set(found_by(rp, [*SCALARS, "plan.12月底", *indicator_paths(7)]).values()) == {"name"}
    assert [(f.rule, f.sheet) for f in sub.findings] == [("P-NO-META", "_meta")]


def test_sheet_renamed_in_libreoffice(read, variants, master):
    names = variants["renamed_names"]
    assert lo_cell(names["JX_P03_BUDGET"]) == (RENAMED, "B4"), "LibreOffice moves the names with the sheet"
    sub = read("renamed.xlsx")
    rp = uniform(sub, sheet=RENAMED)
    assert_typed_values(rp, master)
    paths = [*SCALARS, *(f"plan.{n}" for n in PLAN_CELLS), *FOOTER_CELLS,
             *(p for k in range(8) for p in indicator_paths(k))]
    assert set(found_by(rp, paths).values()) == {"name"}
    assert {loc.sheet for loc in rp.locations.values()} == {RENAMED}
    assert [(f.rule, f.sheet) for f in sub.findings] == [("P-SHEET-RENAMED", RENAMED)]
    assert P3 in sub.findings[0].message and sub.findings[0].project_code == CODE


def test_spare_row_deleted_and_saved_as_ods(read, master):
    sub = read("deleted.ods")
    rp = uniform(sub)
    assert_typed_values(rp, master)
    assert cells(rp, indicator_paths(7)) == grid_cells(7, 18)
    paths = [*SCALARS, *(f"plan.{n}" for n in PLAN_CELLS), *FOOTER_CELLS,
             *(p for k in range(8) for p in indicator_paths(k))]
    assert set(found_by(rp, paths).values()) == {"name"}
    footer = rp.where("footer.filler")
    assert (footer.cell, footer.raw) == ("B20", "李四")
    assert rules(sub) == [("P-PROTECTION-REMOVED", "warning", P3), ("P-ROWS-CHANGED", "info", P3)]
    assert "10 行" in next(f.message for f in sub.findings if f.rule == "P-ROWS-CHANGED")


def test_tampered_budget_is_read_as_written(read, variants):
    assert variants["locked_budget"]["ok"] is False, "预算数 is locked while the sheet is protected"
    assert variants["tampered"] == {"ok": True}
    sub = read("tampered.xlsx")
    rp = uniform(sub)
    budget = rp.where("budget")
    assert rp.project.budget == Decimal("9.5")
    assert (budget.cell, budget.found_by, budget.raw) == ("B4", "name", "9.5")
    assert rp.project.fiscal == Decimal("9"), "only the budget was changed"
    # Reading reports only what it saw; reconciliation against the master catches the changed amount.
    assert rules(sub) == [("P-PROTECTION-REMOVED", "warning", P3)]
