"""Every generated workbook is opened by real LibreOffice: print, protection, dropdowns, live checks, names.

The workbook is generated once from the bundled sample (巨鹿县行政审批局本级, six projects). One LibreOffice
serves every UNO check (the session-scoped ``libreoffice`` fixture); read-only checks share one open copy,
checks that change the workbook open their own copy.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zipfile
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

from jixiao_xl.fill import Placement
from jixiao_xl.generate import GenerateOptions, generate
from jixiao_xl.master import load_sample
from jixiao_xl.read import read_meta
from jixiao_xl.workbook import open_workbook
from lo import convert, require_tool, requires_libreoffice

pytestmark = [requires_libreoffice, pytest.mark.libreoffice]

PASSWORD = "jixiao"
GUIDE, DEPT, LISTS, META = "填报说明", "部门整体绩效目标", "_lists", "_meta"
PROJECT_SHEETS = [
    "1.光纤租赁和短信机费用",
    "2.软件正版化设备保养维护费用",
    "3.统一着装经费",
    "4.政务服务办公费（2+2+3 服务体系）",
    "5.政务外网费用",
    "6.政务网络信息建设维护费用",
]
P1, P3 = PROJECT_SHEETS[0], PROJECT_SHEETS[2]
ALL_SHEETS = [GUIDE, *PROJECT_SHEETS, DEPT, LISTS, META]


# -------------------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture(scope="module")
def master():
    return load_sample()


@pytest.fixture(scope="module")
def workbook(master, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generated") / "out"
    issued = generate(master, None, GenerateOptions(out_dir=out))
    assert [i.file for i in issued] == ["435001-巨鹿县行政审批局本级.xlsx"]
    return out / issued[0].file


class OpenCopy:
    """A private copy of the workbook kept open in LibreOffice; ``run`` acts on it."""

    def __init__(self, libreoffice, path: Path):
        self.libreoffice, self.path = libreoffice, path

    def run(self, *actions: dict) -> list:
        return self.libreoffice.run([{"op": "attach", "path": self.path}, *actions])[1:]

    def one(self, action: dict):
        return self.run(action)[0]


@pytest.fixture(scope="module")
def view(libreoffice, workbook, tmp_path_factory):
    """The workbook as LibreOffice loaded it, for checks that change nothing."""
    path = tmp_path_factory.mktemp("view") / workbook.name
    shutil.copyfile(workbook, path)
    libreoffice.run([{"op": "open", "path": path, "keep": True}])
    yield OpenCopy(libreoffice, path)
    libreoffice.run([{"op": "attach", "path": path}, {"op": "close"}])


def fresh(workbook: Path, tmp_path: Path) -> dict:
    """An 'open' action on a new copy of the workbook (closed again when the run ends)."""
    path = tmp_path / workbook.name
    shutil.copyfile(workbook, path)
    return {"op": "open", "path": path}


def get(sheet: str, cell: str) -> dict:
    return {"op": "get", "sheet": sheet, "cell": cell}


def type_in(sheet: str, cell: str, value, via: str = "api") -> dict:
    return {"op": "set_value", "sheet": sheet, "cell": cell, "value": value, "via": via}


def level2_offered(sheet: str, level1_cell: str, level2: str) -> dict:
    """How often ``level2`` appears in the 二级 list the cascade offers for the 一级 in ``level1_cell``."""
    # The UNO formula API takes English function names and ";" between arguments ("," gives Err:508).
    formula = f'=COUNTIF(INDIRECT(VLOOKUP({level1_cell};JXL_L2MAP;2;0));"{level2}")'
    return {"op": "eval", "sheet": sheet, "formula": formula}


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -------------------------------------------------------------------------------------------------
# Print


@pytest.fixture(scope="module")
def pdf(workbook, tmp_path_factory) -> Path:
    return convert(workbook, "pdf", tmp_path_factory.mktemp("pdf"))


def pdf_text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    done = subprocess.run([require_tool("pdftotext"), *pages, str(pdf), "-"], capture_output=True, check=True)
    return done.stdout.decode()


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path.name} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_pdf_prints_guide_six_projects_and_department_on_nine_pages(pdf, master, tmp_path):
    pdftoppm = require_tool("pdftoppm")
    subprocess.run([pdftoppm, "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True, capture_output=True)
    pngs = sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1]))
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True).stdout.decode()
        assert int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1)) == 9
    assert len(pngs) == 9, ("填报说明 + 6 project sheets, one page each, + 部门整体绩效目标 on two (its 工作保障措施 row "
                            "below the grid); hidden sheets not printed")

    sizes = [png_size(p) for p in pngs]
    assert sizes[0][0] < sizes[0][1], "填报说明 prints portrait"
    assert all(w > h for w, h in sizes[1:]), "project and department sheets print landscape"
    for png in pngs:
        assert png.stat().st_size > 5_000, f"{png.name} is (nearly) blank"

    assert "填报说明" in pdf_text(pdf, 1)
    projects = master.projects_of("435001")
    for page, project in enumerate(projects, start=2):
        text = squeeze(pdf_text(pdf, page))
        assert "项目支出绩效目标表" in text
        assert project.code in text and squeeze(project.name) in text, f"page {page} should be {project.name}"
    assert "部门整体支出绩效目标表" in pdf_text(pdf, 8)
    assert "部门整体支出绩效目标表" in pdf_text(pdf, 9) and "工作保障措施" in squeeze(pdf_text(pdf, 9))  # title rows repeat


def test_pdf_guide_is_legible(pdf, workbook):
    printed = squeeze(pdf_text(pdf))
    lines = [c.value for c in openpyxl.load_workbook(workbook)[GUIDE]["A"] if c.value]
    missing = [line for line in lines if squeeze(line) not in printed]
    assert not missing, f"{len(missing)} of {len(lines)} guide lines are not fully printed: {missing[:2]}"


def test_form_rows_are_high_enough_for_their_text(view):
    layouts = view.run(*({"op": "print_layout", "sheet": s} for s in (*PROJECT_SHEETS, DEPT)))
    for sheet, layout in zip((*PROJECT_SHEETS, DEPT), layouts):
        assert layout["landscape"] and layout["scale_to_pages_x"] == 1, f"{sheet} is fitted to one page width"
        short = [r["row"] for r in layout["rows"] if r["optimal_height"] > r["height"] + 50]  # 0.5 mm slack
        assert not short, f"rows {short} of {sheet} are too low for their text"


# -------------------------------------------------------------------------------------------------
# Sheets, protection, locking


def test_sheets_as_libreoffice_sees_them(view):
    results = view.run({"op": "sheet_names"}, *({"op": "sheet_visibility", "sheet": s} for s in ALL_SHEETS))
    assert results[0] == ALL_SHEETS
    visible = dict(zip(ALL_SHEETS, results[1:]))
    assert visible == {s: s not in (LISTS, META) for s in ALL_SHEETS}, "_lists and _meta must stay hidden"


def test_forms_are_protected_and_only_inputs_unlocked(view):
    actions, expect = [], []
    for sheet in (GUIDE, *PROJECT_SHEETS, DEPT):
        actions.append({"op": "is_protected", "sheet": sheet})
        expect.append((sheet, "protected", True))
    for sheet in PROJECT_SHEETS:
        for cell, locked in (("B3", True), ("B4", True), ("H4", True), ("G7", True), ("B8", True), ("A10", True),
                             ("B5", False), ("B7", False), ("E7", False), ("B9", False), ("A11", False),
                             ("C11", False), ("F11", False), ("H17", False), ("A18", False), ("G20", False),
                             ("A21", True)):
            actions.append({"op": "cell_locked", "sheet": sheet, "cell": cell})
            expect.append((sheet, cell, locked))
    results = view.run(*actions)
    wrong = [(s, c, want, got) for (s, c, want), got in zip(expect, results) if got != want]
    assert not wrong, f"(sheet, cell, expected, LibreOffice says): {wrong}"


def test_typing_into_a_locked_cell_fails(view, master):
    code = master.projects_of("435001")[2].code
    api, ui, after = view.run(type_in(P3, "B3", "X"), type_in(P3, "B3", "X", via="ui"), get(P3, "B3"))
    assert api["ok"] is False and "locked" in api["error"]
    assert ui["ok"] is False, "LibreOffice itself must refuse typing into the 项目编码"
    assert after["string"] == code


def test_structure_cannot_be_changed_on_protected_sheets(workbook, libreoffice, tmp_path):
    insert, names, unprotect_wrong = libreoffice.run([
        fresh(workbook, tmp_path),
        {"op": "insert_rows", "sheet": P1, "row": 15, "allow_error": True},
        {"op": "named_ranges"},
        {"op": "unprotect", "sheet": P1, "password": "wrong", "allow_error": True},
    ])[1:]
    assert insert["ok"] is False
    assert names["JX_P01_I07_LEVEL1"].endswith(".$A$17")
    assert unprotect_wrong["ok"] is False


# -------------------------------------------------------------------------------------------------
# Dropdowns


def test_indicator_dropdowns_on_every_project_sheet(view):
    cells = {"A11": "JXL_LEVEL1", "B11": None, "E11": "JXL_OPERATORS", "A20": "JXL_LEVEL1", "B20": None,
             "E20": "JXL_OPERATORS"}
    actions = [{"op": "validation", "sheet": s, "cell": c} for s in PROJECT_SHEETS for c in cells]
    results = iter(view.run(*actions))
    for sheet in PROJECT_SHEETS:
        for cell, source in cells.items():
            v = next(results)
            assert v["type"] == "LIST" and v["show_list"], (sheet, cell, v)
            if source:
                assert v["formula1"] == source, (sheet, cell, v)
            else:  # the 二级 list follows the 一级 of its row; under a merged 一级, the merge's anchor A11
                anchor = r"\$A\$11" if cell == "B11" else r"\$A(17|\$18|18)"
                assert re.fullmatch(rf"INDIRECT\(VLOOKUP\({anchor}[;,]JXL_L2MAP[;,]2[;,](0|FALSE)\)\)", v["formula1"]), v
            assert v["error_style"] == "STOP", (sheet, cell, v)
    footer = view.one({"op": "validation", "sheet": P1, "cell": "A21"})
    assert footer["type"] == "ANY", "the dropdowns stop above the footer"


def test_plan_amounts_are_validated_against_the_budget(view):
    v = view.one({"op": "validation", "sheet": P3, "cell": "E7"})
    assert (v["type"], v["operator"], float(v["formula1"]), float(v["formula2"])) == ("DECIMAL", "BETWEEN", 0, 9)


def test_level2_cascade_follows_level1(workbook, libreoffice, tmp_path):
    results = libreoffice.run([
        fresh(workbook, tmp_path),
        type_in(P3, "A18", "效益指标"),  # a spare row: unlocked, so no need to unprotect
        level2_offered(P3, "A18", "社会效益指标"),
        level2_offered(P3, "A18", "数量指标"),
        type_in(P3, "A18", "产出指标"),
        level2_offered(P3, "A18", "数量指标"),
        level2_offered(P3, "A18", "社会效益指标"),
        {"op": "eval", "sheet": P3, "formula": "=ROWS(JXL_LEVEL1)"},
        {"op": "invalid_cells", "sheet": P3},
    ])[1:]
    typed, benefit_social, benefit_count, typed2, output_count, output_social, level1s, invalid = results
    assert typed["ok"] and typed2["ok"]
    assert (benefit_social["value"], benefit_count["value"]) == (1, 0)
    assert (output_count["value"], output_social["value"]) == (1, 0)
    assert level1s["value"] == 3
    assert "A18" not in invalid and all(not c.startswith(("A", "E", "G")) for c in invalid), invalid


def test_level2_cascade_on_merged_level1_rows(workbook, libreoffice, tmp_path):
    # LibreOffice's own "Mark Invalid Data" evaluates each cell's real list source, whatever the fix looks like.
    invalid = libreoffice.run([fresh(workbook, tmp_path), {"op": "invalid_cells", "sheet": P1}])[1]
    assert not [c for c in invalid if c.startswith("B")], f"pre-filled 二级 rejected by their own dropdown: {invalid}"


# -------------------------------------------------------------------------------------------------
# Live checks


def test_live_checks_recalculate_as_departments_type(workbook, libreoffice, tmp_path):
    results = libreoffice.run([
        fresh(workbook, tmp_path),
        {"op": "calculate_all"},
        get(P3, "G7"), get(P3, "G8"), get(P1, "G7"), get(P1, "G8"), get(P1, "H4"), get(P3, "E8"),
        type_in(P3, "E7", 9),  # 12月底 of 统一着装经费: unlocked, typed without unprotecting
        {"op": "calculate_all"},
        get(P3, "G7"), get(P3, "G8"), get(P3, "E8"),
        type_in(P3, "C7", 1),  # 6月底 below 3月底 (2.25): the plan decreases
        {"op": "calculate_all"},
        get(P3, "G7"), get(P3, "G8"),
    ])[1:]
    (_, g7, g8, p1_g7, p1_g8, p1_h4, e8, typed, _, g7_full, g8_full, e8_full, typed2, _,
     g7_decreasing, g8_decreasing) = results

    assert g7["string"].startswith("✗") and ("少" in g7["string"] or "未填写" in g7["string"]), g7
    assert g8["string"].startswith("✓"), g8
    assert e8["string"] == "", "no percentage without an amount"
    assert p1_g7["string"].startswith("✓") and p1_g8["string"].startswith("✓"), (p1_g7, p1_g8)
    assert p1_h4["string"].startswith("✓"), p1_h4

    assert typed["ok"] and typed2["ok"]
    assert g7_full["string"].startswith("✓"), g7_full
    assert g8_full["string"].startswith("✓"), g8_full
    assert e8_full["value"] == pytest.approx(1.0)
    assert g7_decreasing["string"].startswith("✓"), "the 12月底 total is still right"
    assert g8_decreasing["string"].startswith("✗") and "减少" in g8_decreasing["string"], g8_decreasing


# -------------------------------------------------------------------------------------------------
# Defined names


def defined_names(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Workbook-scoped names as (sheet, range) pairs: quoting of sheet names does not matter."""
    wb = openpyxl.load_workbook(path)
    return {name: list(dn.destinations) for name, dn in wb.defined_names.items()}


def test_defined_names_survive_a_libreoffice_save(workbook, libreoffice, tmp_path):
    saved = tmp_path / "saved" / "roundtrip.xlsx"
    libreoffice.run([fresh(workbook, tmp_path), {"op": "save_as", "path": saved, "format": "xlsx"}])
    before, after = defined_names(workbook), defined_names(saved)
    assert after["JX_P01_BUDGET"] == [(P1, "$B$4")]
    assert after["JXL_L2MAP"] == [(LISTS, "$A$2:$B$4")]
    lost = sorted(set(before) - set(after))
    # Names defined twice are ambiguous to begin with (see test_every_bound_cell_has_a_name_of_its_own).
    twice = {name for name, count in Counter(raw_defined_names(workbook)).items() if count > 1}
    moved = sorted(n for n in set(before) & set(after) if after[n] != before[n] and n not in twice)
    assert not lost and not moved, f"lost {lost[:5]}, moved {moved[:5]}"

    wb = openpyxl.load_workbook(saved)
    for sheet in (*PROJECT_SHEETS, DEPT):
        assert wb[sheet].protection.sheet, f"{sheet} lost its protection"
    assert wb[P1]["B3"].protection.locked and not wb[P1]["B7"].protection.locked
    # LibreOffice has no "very hidden": it writes the helper sheets back as merely hidden.
    assert {wb[s].sheet_state for s in (LISTS, META)} <= {"hidden", "veryHidden"}


def raw_defined_names(path: Path) -> list[str]:
    """Every <definedName> of the package as written (openpyxl silently keeps one of duplicates)."""
    with zipfile.ZipFile(path) as package:
        root = ElementTree.fromstring(package.read("xl/workbook.xml"))
    # Built-in names such as _xlnm.Print_Titles are defined once per sheet (localSheetId), legitimately.
    return [e.get("name") for e in root.iter() if e.tag.endswith("}definedName") and e.get("localSheetId") is None]


def lo_target(content: str) -> tuple[str, str]:
    """LibreOffice's "$'3.统一着装经费'.$E$7" → ('3.统一着装经费', 'E7')."""
    match = re.fullmatch(r"\$?'?(.*?)'?\.\$?([A-Z]+)\$?(\d+)", content)
    assert match, content
    return match.group(1), match.group(2) + match.group(3)


def test_every_bound_cell_has_a_name_of_its_own(view, workbook):
    raw = raw_defined_names(workbook)
    # The compact field map expanded cell by cell; a cell's JX_ name is derived from its path.
    fields = read_meta(open_workbook(workbook, "xlsx")).field_cells()
    assert len(fields) > 800
    expected = {Placement(path, "", 0, 0).name: ref for path, ref in fields.items()}
    assert len(expected) == len(fields), "two field paths give one name"
    names = view.one({"op": "named_ranges"})
    wrong = [(name, ref, names.get(name)) for name, ref in expected.items()
             if name not in names or lo_target(names[name]) != tuple(ref.rsplit("!", 1))]
    duplicated = sorted(n for n, c in Counter(raw).items() if c > 1)
    assert not duplicated, f"defined more than once: {duplicated[:3]} …"
    assert not wrong, f"(name, _meta cell, LibreOffice): {wrong[:3]}"


def test_defined_names_follow_inserted_rows(workbook, libreoffice, tmp_path):
    results = libreoffice.run([
        fresh(workbook, tmp_path),
        {"op": "named_ranges"},
        {"op": "unprotect", "sheet": P1, "password": PASSWORD},
        {"op": "insert_rows", "sheet": P1, "row": 15, "count": 1},
        {"op": "named_ranges"},
        {"op": "is_protected", "sheet": P1},
    ])[1:]
    before, _, _, after, protected = results
    sheet = f"$'{P1}'"
    assert before["JX_P01_I07_LEVEL1"] == f"{sheet}.$A$17"
    assert after["JX_P01_I07_LEVEL1"] == f"{sheet}.$A$18"
    assert after["JX_P01_I04_LEVEL1"] == before["JX_P01_I04_LEVEL1"] == f"{sheet}.$A$14", "rows above stay put"
    assert after["JX_P01_BUDGET"] == f"{sheet}.$B$4"
    assert after["JX_P01_GRID"] == f"{sheet}.$A$10:$I$21", "the grid name grows with the inserted row"
    assert not protected
