"""jixiao_xl.frames: the year as pandas DataFrames, exact to the cent and equal to the 汇总表 figures."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from jixiao_xl import frames
from jixiao_xl.cli import cli
from jixiao_xl.errors import InputError
from jixiao_xl.findings import COLUMNS
from jixiao_xl.ledger import SCHEMA_VERSION

D = Decimal
UNIT_FILE = "435001-巨鹿县行政审批局本级.xlsx"
SECOND_UNIT = ("435002", "巨鹿县政务服务中心")
# 435002's projects: 0.1 + 0.2 is not 0.3 in binary floating point, so a float anywhere shows in the totals.
SECOND_PROJECTS = (("P2-001", "便民服务大厅运行费", "0.1"), ("P2-002", "自助终端维护费", "0.2"))


def _invoke(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code in (0, 1), result.output
    return result


def _add_second_unit(path: Path) -> None:
    """Add 435002 with two projects (each with the first project's indicators) to the master workbook."""
    wb = openpyxl.load_workbook(path)
    wb["单位"].append([SECOND_UNIT[0], SECOND_UNIT[1], "435"])
    projects, indicators = wb["项目"], wb["绩效指标"]
    first_code = projects.cell(2, 2).value
    template = [row for row in indicators.iter_rows(min_row=2, values_only=True) if row[0] == first_code]
    for code, name, budget in SECOND_PROJECTS:
        amount = float(budget)
        projects.append([SECOND_UNIT[0], code, name, amount, amount, None, name, "1.目标内容 1",
                         None, None, None, amount])
        for row in template:
            indicators.append([code, *row[1:]])
    wb.save(path)


def _first_return(wb) -> None:
    """The first return of 435001: only 填表人 typed (a form returned unfilled would not be a return)."""
    wb["3.统一着装经费"]["B21"] = "王芳"


def _fix_plan_and_goal(wb) -> None:
    """The second return of 435001: 统一着装经费's plan completed and one plan node moved."""
    uniform = wb["3.统一着装经费"]
    uniform["E7"] = 9
    uniform["B7"] = 2.5


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> Path:
    """A workspace folder: a two-unit master, the issued forms, three imports into ledger.sqlite (435001's
    first return, its corrected second return, and an unreadable file), 435002 not returned, and the
    汇总表 written by `jixiao-xl consolidate` as xlsx and json."""
    root = tmp_path_factory.mktemp("year")
    master, ledger = root / "主数据.xlsx", root / "ledger.sqlite"
    _invoke("master", "init", "--sample", str(master))
    _add_second_unit(master)
    _invoke("generate", "--master", str(master), "--out", str(root / "下发"), "--jobs", "1")
    for run, edit in (("r1", _first_return), ("r2", _fix_plan_and_goal)):
        folder = root / "收件" / run
        folder.mkdir(parents=True)
        wb = openpyxl.load_workbook(root / "下发" / UNIT_FILE)
        edit(wb)
        wb.save(folder / UNIT_FILE)
        _invoke("import", str(folder), "--master", str(master), "--out", str(root / "核对" / run),
                "--ledger", str(ledger), "--jobs", "1", "--no-sendback")
    broken = root / "收件" / "r3"
    broken.mkdir()
    (broken / "损坏的报表.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    _invoke("import", str(broken), "--master", str(master), "--out", str(root / "核对" / "r3"),
            "--ledger", str(ledger), "--jobs", "1", "--no-sendback")
    for fmt, name in (("xlsx", "汇总表.xlsx"), ("json", "汇总表.json")):
        _invoke("consolidate", "--master", str(master), "--ledger", str(ledger), "--out",
                str(root / "汇总" / name), "--format", fmt)
    return root


def _sum(values) -> Decimal:
    """The exact sum of Decimals, refusing anything else."""
    total = D(0)
    for value in values:
        if value is not None:
            assert type(value) is D, value
            total += value
    return total


def _plain(value):
    """A frame cell or a workbook cell as one comparable value: blanks as None, numbers as Decimal."""
    if value is None or value is pd.NA or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, D)) or hasattr(value, "item"):
        return D(str(value.item() if hasattr(value, "item") else value))
    return value


def test_submissions_lists_every_import_with_its_state(year):
    df = frames.submissions(year)
    assert df.shape == (3, 19)
    assert df["导入编号"].tolist() == [1, 2, 3]
    assert df["计入"].tolist() == [False, True, False]
    assert df["状态"].tolist() == [frames.SUPERSEDED, frames.COUNTED, "无法读取"]
    assert df["台账状态"].tolist() == ["parsed", "parsed", "failed"]
    assert df["被替代为"].tolist() == [2, pd.NA, pd.NA]
    assert df["单位编码"].tolist() == ["435001", "435001", ""]
    assert df["文件"].tolist() == [UNIT_FILE, UNIT_FILE, "损坏的报表.xlsx"]
    assert df["错误数"].tolist() == [2, 1, 2]  # R-F5 fixed by the second return; R-C1 left
    assert df["报送状态"].tolist() == ["已报送有错误", "已报送有错误", ""]
    assert str(df["计入"].dtype) == "bool" and str(df["导入编号"].dtype) == "Int64"


def test_findings_keep_the_contract_columns_and_their_import(year):
    df = frames.findings(year)
    assert df.columns.tolist() == ["import_id", *COLUMNS]
    found = {(i, r, s, c) for i, r, s, c in zip(df["import_id"], df["rule"], df["sheet"], df["cell"])}
    assert (1, "R-F5", "3.统一着装经费", "E7") in found
    assert not any(i == 2 and r == "R-F5" for i, r, _, _ in found)
    assert (2, "R-C1", "5.政务外网费用", "F14") in found
    assert df[df["import_id"] == 3]["rule"].tolist() == ["I-ZIP-CORRUPT", "I-NOT-WORKBOOK"]
    counts = frames.submissions(year)[["错误数", "警告数", "提示数"]].to_numpy().sum()
    assert len(df) == counts


def test_projects_are_the_counted_returns_then_the_master(year):
    df = frames.projects(year)
    assert df.shape == (8, 22)
    assert df["来源"].tolist() == ["报送"] * 6 + ["主数据（未报送）"] * 2
    assert df["导入编号"].tolist() == [2] * 6 + [pd.NA] * 2
    uniform = df[df["项目名称"] == "统一着装经费"].iloc[0]
    assert (uniform["支出计划-3月底"], uniform["支出计划-12月底"]) == (D("2.50"), D("9.00"))  # the second return
    assert (uniform["工作表"], uniform["支出计划-3月底-单元格"], uniform["预算数-单元格"]) == ("3.统一着装经费", "B7", "B4")
    second = df[df["单位编码"] == SECOND_UNIT[0]]
    assert second["项目编码"].tolist() == [code for code, _, _ in SECOND_PROJECTS]
    assert second["预算数"].tolist() == [D("0.10"), D("0.20")]
    assert second["预算数-单元格"].tolist() == ["—", "—"] and second["来源文件"].tolist() == ["主数据", "主数据"]
    assert _sum(df["预算数"]) == D("60.30") and df["预算数"].sum() == D("60.30")


def test_indicators_are_counted_like_the_indicator_sheet(year):
    df = frames.indicators(year)
    assert df.shape == (56, 20)
    first = df.iloc[0]
    assert (first["三级指标"], first["指标性质"], first["指标值"], first["度量单位"]) == ("固定电话使用数量及光纤数量", "≥", D("30"), "个")
    assert df.iloc[-1]["指标值-单元格"] == "—"
    assert (first["工作表"], first["三级指标-单元格"], first["指标值-单元格"], first["导入编号"]) == (
        "1.光纤租赁和短信机费用", "C11", "F11", 2)
    sheet = frames.consolidation(year, "绩效指标", totals=False)
    subtotals = sheet[sheet["一级指标"] == "小计"].set_index("单位编码")["指标数"].to_dict()
    assert df.groupby("单位编码").size().to_dict() == subtotals
    levels = sheet[sheet["一级指标"] != "小计"].set_index(["单位编码", "一级指标", "二级指标"])["指标数"]
    assert df.groupby(["单位编码", "一级指标", "二级指标"]).size().sort_index().to_dict() == levels.sort_index().to_dict()


def _workbook_rows(path: Path, sheet: str, count: int) -> list[list]:
    rows = openpyxl.load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True)
    return [list(row) for _, row in zip(range(count), rows)]


@pytest.mark.parametrize("sheet", ["总表", "支出计划", "绩效指标", "明细", "核对"])
def test_consolidation_equals_the_written_workbook_cell_for_cell(year, sheet):
    df = frames.consolidation(year, sheet)
    written = _workbook_rows(year / "汇总" / "汇总表.xlsx", sheet, len(df) + 1)
    assert written[0] == df.columns.tolist()
    assert len(written) == len(df) + 1
    for row, got in zip(written[1:], df.itertuples(index=False)):
        assert [_plain(v) for v in got] == [_plain(v) for v in row]
    assert df.iloc[-1, 0] == "合计"


def test_consolidation_equals_the_written_json_exactly(year):
    document = json.loads((year / "汇总" / "汇总表.json").read_text(encoding="utf-8"))
    for name, table in document["tables"].items():
        df = frames.consolidation(year, name)
        expected = [*table["rows"], *table["totals"]]
        got = [{k: (str(v) if isinstance(v, D) else None if v is pd.NA else v) for k, v in record.items()}
               for record in df.astype(object).to_dict("records")]
        assert got == expected, name


def test_project_budgets_sum_to_the_grand_total(year):
    document = json.loads((year / "汇总" / "汇总表.json").read_text(encoding="utf-8"))
    projects = frames.projects(year)
    summary = frames.consolidation(year)
    detail = frames.consolidation(year, "明细")
    assert _sum(projects["预算数"]) == D(document["预算数总计"]) == summary.iloc[-1]["预算数"]
    money = ["预算数", "财政资金", "其他资金", *(f"支出计划-{node}" for node in ("3月底", "6月底", "10月底", "12月底"))]
    assert projects.columns[5:12].tolist() == money
    for column in money:
        assert _sum(projects[column]) == detail.iloc[-1][column], column
        assert projects[column].tolist() == detail[column].iloc[:-1].tolist(), column


def test_no_float_anywhere(year):
    for df in (frames.submissions(year), frames.projects(year), frames.indicators(year), frames.findings(year),
               *(frames.consolidation(year, sheet) for sheet in ("总表", "支出计划", "绩效指标", "明细", "核对"))):
        assert not any(dtype.kind == "f" for dtype in df.dtypes if hasattr(dtype, "kind")), df.dtypes
        for column in df.columns:
            assert not any(isinstance(v, float) for v in df[column].astype(object)), column
    money = frames.projects(year)["预算数"]
    assert money.dtype == object and {type(v) for v in money} == {D}


def test_only_returned_units(year):
    projects = frames.projects(year, include_unreturned=False)
    summary = frames.consolidation(year, include_unreturned=False)
    assert set(projects["单位编码"]) == {"435001"}
    assert _sum(projects["预算数"]) == summary.iloc[-1]["预算数"] == D("60.00")
    assert len(frames.indicators(year, include_unreturned=False)) == 42


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_workspace_folder_with_jixiao_toml(year, tmp_path):
    ws = tmp_path / "二〇二二年度"
    (ws / "数据").mkdir(parents=True)
    (ws / "台账").mkdir()
    (ws / "数据" / "年度主数据.xlsx").write_bytes((year / "主数据.xlsx").read_bytes())
    (ws / "台账" / "2022.sqlite").write_bytes((year / "ledger.sqlite").read_bytes())
    (ws / "jixiao.toml").write_text('[files]\nmaster = "数据/年度主数据.xlsx"\nledger = "台账/2022.sqlite"\n', encoding="utf-8")
    assert frames.projects(ws).equals(frames.projects(year))
    assert frames.consolidation(ws / "jixiao.toml", "明细").equals(frames.consolidation(year, "明细"))
    assert frames.submissions(ws)["路径"].tolist() == frames.submissions(year)["路径"].tolist()


def test_folder_with_the_command_line_defaults(year, tmp_path):
    (tmp_path / "output").mkdir()
    (tmp_path / "master.xlsx").write_bytes((year / "主数据.xlsx").read_bytes())
    (tmp_path / "output" / "ledger.sqlite").write_bytes((year / "ledger.sqlite").read_bytes())
    assert frames.indicators(tmp_path).equals(frames.indicators(year))


def test_ledger_file_with_and_without_master(year):
    ledger = year / "ledger.sqlite"
    assert frames.submissions(ledger).equals(frames.submissions(year))
    assert frames.findings(ledger).equals(frames.findings(year))
    assert frames.projects(ledger, master=year / "主数据.xlsx").equals(frames.projects(year))
    with pytest.raises(InputError, match="master="):
        frames.projects(ledger)


def test_reading_changes_nothing(year):
    before = (year / "ledger.sqlite").read_bytes()
    frames.submissions(year)
    frames.consolidation(year)
    assert (year / "ledger.sqlite").read_bytes() == before


def test_missing_ledger_is_an_input_error_and_nothing_is_created(tmp_path):
    missing = tmp_path / "台账" / "ledger.sqlite"
    with pytest.raises(InputError, match=str(missing)):
        frames.submissions(missing)
    assert not missing.parent.exists()
    ws = tmp_path / "工作区"
    ws.mkdir()
    (ws / "jixiao.toml").write_text('[files]\nledger = "年度台账.sqlite"\n', encoding="utf-8")
    with pytest.raises(InputError, match="找不到台账 .*年度台账.sqlite"):
        frames.findings(ws)
    with pytest.raises(InputError, match="找不到台账"):
        frames.projects(tmp_path)
    assert _snapshot(tmp_path) == {"工作区/jixiao.toml": '[files]\nledger = "年度台账.sqlite"\n'.encode()}


def test_a_file_that_is_not_a_ledger_is_refused_untouched(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("不是数据库", encoding="utf-8")
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    for path in (text, empty):
        with pytest.raises(InputError, match="台账"):
            frames.submissions(path)
    assert _snapshot(tmp_path) == {"empty.sqlite": b"", "notes.sqlite": "不是数据库".encode()}


def test_bad_workspace_settings_and_unknown_table(year, tmp_path):
    (tmp_path / "jixiao.toml").write_text("[files]\nledger = 3\n", encoding="utf-8")
    with pytest.raises(InputError, match="第 2 行.*files.ledger 应为文字"):
        frames.submissions(tmp_path)
    (tmp_path / "jixiao.toml").write_text("[files]\nledger = \n", encoding="utf-8")
    with pytest.raises(InputError, match="TOML"):
        frames.submissions(tmp_path)
    with pytest.raises(InputError, match="总表、支出计划、绩效指标、明细、核对"):
        frames.consolidation(year, "汇总")


def test_a_ledger_from_a_newer_version_is_refused(year, tmp_path):
    newer = tmp_path / "ledger.sqlite"
    newer.write_bytes((year / "ledger.sqlite").read_bytes())
    with sqlite3.connect(newer) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(InputError, match="更新版本"):
        frames.submissions(newer)


def test_a_workspace_made_by_init_resolves_as_the_cli_does(tmp_path):
    """`jixiao-xl init --sample`, two returns imported, the first passed (通过) by the bureau; the ledger then
    moved to a relative path of the workspace's own jixiao.toml. Every folder of the workspace gives the
    paths the CLI uses, and the counted return is the passed one, as `status` says."""
    root = tmp_path / "2022年度"
    _invoke("init", str(root), "--sample")
    _invoke("--workspace", str(root), "generate", "--jobs", "1")
    for name, edit in (("第一次.xlsx", _first_return), ("第二次.xlsx", _fix_plan_and_goal)):
        wb = openpyxl.load_workbook(root / "下发" / UNIT_FILE)
        edit(wb)
        wb.save(root / "收件" / name)
        _invoke("--workspace", str(root), "import", "--jobs", "1", "--no-sendback")
        if name == "第一次.xlsx":
            passed = CliRunner().invoke(cli, ["--workspace", str(root), "review", "435001", "--pass", "--by", "王科长"])
            assert passed.exit_code == 0, passed.output
    (root / "台账").mkdir()
    (root / "ledger.sqlite").rename(root / "台账" / "2022.sqlite")
    config = root / "jixiao.toml"
    config.write_text(config.read_text("utf-8").replace('ledger = "ledger.sqlite"', 'ledger = "台账/2022.sqlite"'), "utf-8")

    status = json.loads(CliRunner().invoke(cli, ["--workspace", str(root), "status", "--json"]).output)
    counted = [u["import_id"] for u in status["units"] if u["code"] == "435001"]
    assert counted == [1]  # the passed return keeps counting
    subs = frames.submissions(root)
    assert subs["导入编号"].tolist() == [1, 2]
    assert subs["计入"].tolist() == [True, False] and subs["状态"].tolist() == [frames.COUNTED, frames.NOT_COUNTED]
    projects = frames.projects(root)
    assert set(projects["导入编号"].dropna()) == {1}
    uniform = projects[projects["项目名称"] == "统一着装经费"].iloc[0]
    assert uniform["支出计划-3月底"] != D("2.50")  # the second return's value is not the counted one
    for where in (config, root / "核对", root / "台账"):  # the settings file, a folder inside the workspace
        assert frames.submissions(where).equals(subs)
        assert frames.projects(where).equals(projects)
    assert frames.submissions(root / "台账" / "2022.sqlite").equals(subs)


def test_settings_the_cli_refuses_are_refused(tmp_path):
    (tmp_path / "jixiao.toml").write_text('master = "主数据.xlsx"\n', encoding="utf-8")  # not under [files]
    with pytest.raises(InputError, match="未知的设置项 master"):
        frames.submissions(tmp_path)
    cli_answer = CliRunner().invoke(cli, ["--workspace", str(tmp_path), "status"])
    assert cli_answer.exit_code == 2 and "未知的设置项 master" in cli_answer.output
