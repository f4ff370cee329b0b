"""Tests for the streaming master loader and the incremental fingerprint (jixiao_xl.master, jixiao_xl.model).

``load_master`` builds the master sheet by sheet as the rows stream in; it must give exactly what
``build_master(read_tables(path))`` gives, and ``compute_fingerprint`` exactly what the original
whole-text serialisation gave (the fingerprint is embedded in every issued workbook).
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import pickle
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from jixiao_xl.workbook import ValueBook
from jixiao_xl.master import (
    build_master,
    check_master,
    LATER_FIELDS,
    compute_fingerprint,
    load_master,
    load_sample,
    read_tables,
    write_master,
)
from jixiao_xl.master.fingerprint import _canonical_json
from jixiao_xl.master.sources import _workbook_rows
from jixiao_xl.model import DeptGoal, DeptIndicator, Indicator, Master, PlanPoint, Project, Settings, Unit, to_plain
from test_master import small_master


def reference_fingerprint(master: Master) -> str:
    """The fingerprint as first specified: sha256 over one JSON text of ``to_plain(master)``."""
    data = to_plain(master)
    data.pop("fingerprint", None)
    for name in LATER_FIELDS:  # fields added later are left out while empty
        if not data[name]:
            data.pop(name)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_canonical_json)
    return hashlib.sha256(("jixiao-xl master 1\n" + text).encode("utf-8")).hexdigest()


def _loads_like_tables(path: Path) -> Master:
    """load_master(path), checked against build_master(read_tables(path)) and the reference fingerprint."""
    streamed = load_master(path)
    tabled = build_master(read_tables(path))
    assert streamed == tabled
    assert streamed.fingerprint == tabled.fingerprint == reference_fingerprint(streamed)
    return streamed


def _edited(path: Path, edit) -> Path:
    book = openpyxl.load_workbook(path)
    edit(book)
    book.save(path)
    return path


# --- reading --------------------------------------------------------------------------------------


def test_sample_fingerprint_is_the_reference_one() -> None:
    sample = load_sample()
    assert sample.fingerprint == reference_fingerprint(sample)


def test_workbook_rows_are_those_of_to_python_with_the_empty_area(tmp_path: Path) -> None:
    path = tmp_path / "offset.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("单位")
    sheet.write(2, 1, "单位编码")
    sheet.write(2, 2, "单位名称")
    sheet.write(3, 1, "435001")
    sheet.write(5, 3, 1.5)
    sheet.write_boolean(6, 2, True)
    book.add_worksheet("项目")  # no cells at all
    book.close()
    workbook = CalamineWorkbook.from_path(str(path))
    values = ValueBook(path)
    for name in ("单位", "项目"):
        expected = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        assert list(_workbook_rows(path, values, name)) == expected


def test_odd_layouts_load_like_the_tables(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    write_master(path, small_master())

    def edit(book) -> None:
        units = book["单位"]
        units.insert_rows(1, amount=11)  # the headers below the rows searched for them
        units.insert_cols(1, amount=2)  # and right of two blank columns
        units["H12"] = "备注"  # an extra column: a row with only a 备注 is not blank
        units["H15"] = "只有备注"
        projects = book["项目"]
        projects.insert_rows(1)
        projects["A1"] = "项目清单（单位：万元）"  # a title row
        projects["M2"] = "备注"
        projects["C3"] = "  前后有空格  "
        projects.insert_rows(5)  # a blank row between projects
        book["绩效指标"]["G2"] = True  # a boolean cell where a number is expected
        book["绩效指标"]["G3"] = 1.0

    master = _loads_like_tables(_edited(path, edit))
    assert [u.code for u in master.units] == ["435001", "435002", ""]
    assert master.projects[0].name == "前后有空格"
    assert master.projects[0].indicators[0].value == "TRUE"
    assert master.projects[0].indicators[1].value == Decimal("1")


def test_csv_and_json_masters_load_like_the_tables(tmp_path: Path) -> None:
    from test_master import master_records, write_csv_folder

    records = master_records(small_master(), numbers=False)
    records["项目"].insert(1, {k: "" for k in records["项目"][0]})
    folder = write_csv_folder(tmp_path / "csv", records)
    assert _loads_like_tables(folder) == small_master()
    json_path = tmp_path / "m.json"
    json_path.write_text(json.dumps(master_records(small_master(), numbers=True), ensure_ascii=False), encoding="utf-8")
    assert _loads_like_tables(json_path) == small_master()


def test_findings_of_an_odd_workbook_still_name_their_cells(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    write_master(path, small_master())

    def edit(book) -> None:
        book["项目"].insert_cols(1)
        book["项目"]["E3"] = "abc"  # 预算数 of the second project, one column to the right

    findings = check_master(_edited(path, edit))
    assert ("M-NUMBER", "项目", "E3") in {(f.rule, f.sheet, f.cell) for f in findings}


def test_missing_sheet_is_reported_before_reading(clean_xlsx_without_indicators: Path) -> None:
    from jixiao_xl.master import MasterError

    with pytest.raises(MasterError, match="绩效指标"):
        load_master(clean_xlsx_without_indicators)


@pytest.fixture
def clean_xlsx_without_indicators(tmp_path: Path) -> Path:
    path = tmp_path / "m.xlsx"
    write_master(path, small_master())
    return _edited(path, lambda book: book.remove(book["绩效指标"]))


@pytest.mark.parametrize("enabled", [True, False])
def test_load_leaves_the_garbage_collector_as_it_found_it(clean_xlsx_path: Path, enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        load_master(clean_xlsx_path)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_load_does_not_thaw_what_the_caller_froze(clean_xlsx_path: Path) -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        load_master(clean_xlsx_path)
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()


@pytest.fixture
def clean_xlsx_path(tmp_path: Path) -> Path:
    path = tmp_path / "m.xlsx"
    write_master(path, small_master())
    return path


# --- the fingerprint ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Note:
    text: str
    extra: object = None


class _Text(str):
    pass


def odd_master() -> Master:
    """Values a loaded master never holds but a hand-built one may: each must serialise as json.dumps would."""
    base = small_master()
    p = base.projects[0]
    odd_values = [1, True, 1.0, Decimal("1"), Decimal("1.000"), Decimal("-0"), Decimal("1E+2"), Decimal("NaN"),
                  _Text("文本"), "文本", "", None, [Decimal("2"), "x"], {"b": Decimal("3"), "a": [1]}, (), 2**70]
    indicators = tuple(dataclasses.replace(p.indicators[0], value=v, weight=w)
                       for v, w in zip(odd_values, reversed(odd_values)))
    projects = (
        dataclasses.replace(p, budget=1, fiscal=True, other=Decimal("1"), indicators=indicators),
        dataclasses.replace(p, code="x\"\\\n\u2028", plan=[PlanPoint("12月底", 1.5)], indicators=[]),
        dataclasses.replace(p, purpose=_Note("嵌套", extra=(Decimal("0.10"), None))),
    )
    return dataclasses.replace(
        base,
        settings=dataclasses.replace(base.settings, weight_total=Decimal("90.0")),
        projects=projects,
        dept_goals=(DeptGoal("435001", 1, "一", "目标"), DeptGoal("435001", Decimal("1"), "二", "目标")),
        dept_indicators=(DeptIndicator("435001", True, "产出指标", "数量指标", "x", "≥", 1, "个", ""),),
    )


@pytest.mark.parametrize("master", [small_master(), odd_master(), Master(Settings(year=2026))],
                         ids=["small", "odd", "empty"])
def test_fingerprint_is_the_reference_serialisation(master: Master) -> None:
    assert compute_fingerprint(master) == reference_fingerprint(master)


def test_fingerprint_of_a_master_longer_than_one_chunk() -> None:
    base = small_master()
    projects = tuple(dataclasses.replace(p, code=f"{p.code}-{k}", budget=Decimal(k) / 100)
                     for k in range(1700) for p in base.projects)
    master = dataclasses.replace(base, projects=projects)
    assert compute_fingerprint(master) == reference_fingerprint(master)


def test_signalling_nan_fails_as_the_reference_serialisation_fails() -> None:
    from decimal import InvalidOperation

    master = dataclasses.replace(small_master(), units=(Unit("1", "x", Decimal("sNaN")),))  # type: ignore[arg-type]
    for fingerprint in (reference_fingerprint, compute_fingerprint):
        with pytest.raises(InvalidOperation):
            fingerprint(master)


# --- the model with __slots__ -----------------------------------------------------------------------


@pytest.mark.parametrize("cls", [Settings, Unit, Indicator, PlanPoint, Project, DeptGoal, DeptIndicator])
def test_bulk_model_classes_have_slots(cls: type) -> None:
    assert "__slots__" in vars(cls)


def test_slotted_model_pickles_replaces_and_stays_frozen() -> None:
    master = load_sample()
    again = pickle.loads(pickle.dumps(master))
    assert again == master and again.fingerprint == master.fingerprint
    project = master.projects[0]
    assert not hasattr(project, "__dict__")
    assert dataclasses.replace(project, name="新名称").name == "新名称"
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.name = "x"  # type: ignore[misc]
    assert again.projects_of(project.unit_code)[0] == project
