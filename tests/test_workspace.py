"""The year as a workspace (issue 13 items 1, 2, 7): init, discovery, commands without path flags, the issued
workbooks in the ledger, and returns read and sent back with the template their unit was issued."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl import catalogue
from jixiao_xl.cli import cli
from jixiao_xl.ledger import SCHEMA_VERSION, Ledger
from jixiao_xl.template import PROJECT_TEMPLATE, builtin_template
from jixiao_xl.workspace import find_workspace, parse_config, render_config

UNIT = "435001"
UNIT_FILE = "435001-巨鹿县行政审批局本级.xlsx"
FOLDERS = ("下发", "收件", "原件", "核对", "汇总", "公开")


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env or {"JIXIAO_WORKSPACE": ""})


@pytest.fixture
def inside(monkeypatch):
    """Run commands from a folder (like a user who changed into it)."""
    monkeypatch.delenv("JIXIAO_WORKSPACE", raising=False)

    def go(folder: Path) -> None:
        monkeypatch.chdir(folder)
    return go


# ---------------------------------------------------------------------------------------------------------
# init


def test_init_blank_writes_config_master_folders_and_ledger(tmp_path, inside):
    root = tmp_path / "2026年"
    result = invoke("init", str(root), "--year", "2026")
    assert result.exit_code == 0, result.output
    assert "已建立工作区" in result.output and "2026 年度" in result.output
    for folder in FOLDERS:
        assert (root / folder).is_dir(), folder
    assert (root / "主数据.xlsx").is_file()
    with Ledger.open(root / "ledger.sqlite") as ledger:
        assert ledger.schema_version == SCHEMA_VERSION
        assert ledger.issued_latest() == {}
    text = (root / "jixiao.toml").read_text(encoding="utf-8")
    assert "year = 2026" in text and 'master = "主数据.xlsx"' in text and "[serve]" in text
    values = parse_config(root / "jixiao.toml")
    assert values[""]["year"] == 2026
    assert values["issue"] == {"password": "jixiao", "deadline": ""}
    assert values["serve"] == {"base_url": ""}
    assert values["folders"]["inbox"] == "收件"
    settings = openpyxl.load_workbook(root / "主数据.xlsx")["设置"]
    assert any(row[1] in (2026, "2026") for row in settings.iter_rows(values_only=True) if row[0] == "预算年度")
    inside(root)
    check = invoke("master", "check")
    assert check.exit_code == 0 and "检查通过" in check.output, check.output
    assert str(root / "主数据.xlsx") in check.output


def test_init_sample_writes_the_sample_master(tmp_path):
    root = tmp_path / "ws"
    assert invoke("init", str(root), "--sample").exit_code == 0
    units = openpyxl.load_workbook(root / "主数据.xlsx")["单位"]
    assert any(UNIT in [str(v) for v in row] for row in units.iter_rows(values_only=True))
    check = invoke("master", "check", str(root / "主数据.xlsx"))
    assert check.exit_code == 1 and "R-F5" in check.output


def test_init_refuses_a_non_empty_folder_and_force_only_adds_what_is_missing(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "note.txt").write_text("mine", encoding="utf-8")
    refused = invoke("init", str(root))
    assert refused.exit_code == 2 and "不是空的" in refused.output and "--force" in refused.output
    assert sorted(p.name for p in root.iterdir()) == ["note.txt"]
    (root / "主数据.xlsx").write_bytes(b"the user's own master")
    (root / "jixiao.toml").write_text(render_config({"issue": {"deadline": "2026年3月1日"}}), encoding="utf-8")
    forced = invoke("init", str(root), "--force", "--sample")
    assert forced.exit_code == 0, forced.output
    assert (root / "主数据.xlsx").read_bytes() == b"the user's own master"
    assert parse_config(root / "jixiao.toml")["issue"]["deadline"] == "2026年3月1日"
    assert all((root / folder).is_dir() for folder in FOLDERS) and (root / "ledger.sqlite").is_file()
    assert "主数据.xlsx" not in forced.output.split("新建：")[1].splitlines()[0]
    again = invoke("init", str(root), "--force")
    assert again.exit_code == 0 and "没有需要补建的内容" in again.output


def test_config_strings_are_escaped_and_read_back(tmp_path):
    tricky = 'C:\\表格\\"新"\t版\n'
    path = tmp_path / "jixiao.toml"
    path.write_text(render_config({"issue": {"deadline": tricky}}), encoding="utf-8")
    assert parse_config(path)["issue"]["deadline"] == tricky


@pytest.mark.parametrize("old, new, message", [
    ('deadline = ""', 'deadlin = ""', "未知的设置项 issue.deadlin"),
    ('password = "jixiao"', "password = 123", "设置项 issue.password 应为文字"),
    ("[serve]", "[nonsense]", "未知的表 [nonsense]"),
])
def test_config_errors_name_the_key_and_line(tmp_path, inside, old, new, message):
    root = tmp_path / "ws"
    assert invoke("init", str(root)).exit_code == 0
    lines = (root / "jixiao.toml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines) if text.startswith(old))
    lines[line] = lines[line].replace(old, new)
    (root / "jixiao.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    inside(root)
    result = invoke("master", "check")
    assert result.exit_code == 2
    assert f"jixiao.toml 第 {line + 1} 行：{message}" in result.output, result.output


def test_a_config_that_is_not_toml_names_the_line(tmp_path, inside):
    root = tmp_path / "ws"
    assert invoke("init", str(root)).exit_code == 0
    with open(root / "jixiao.toml", "a", encoding="utf-8") as handle:
        handle.write("deadline = 2026年\n")
    inside(root)
    result = invoke("status")
    line = len((root / "jixiao.toml").read_text(encoding="utf-8").splitlines())
    assert result.exit_code == 2 and f"第 {line} 行" in result.output and "格式有误" in result.output


# ---------------------------------------------------------------------------------------------------------
# Finding the workspace


def test_discovery_from_a_subfolder_option_and_environment(tmp_path, inside):
    root = tmp_path / "ws"
    assert invoke("init", str(root), "--sample").exit_code == 0
    inside(root / "核对")
    assert find_workspace().root == root.resolve()
    found = invoke("master", "check")
    assert str(root.resolve() / "主数据.xlsx") in found.output and "R-F5" in found.output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    inside(elsewhere)
    assert find_workspace() is None
    by_option = invoke("--workspace", str(root), "master", "check")
    assert "R-F5" in by_option.output
    by_env = invoke("master", "check", env={"JIXIAO_WORKSPACE": str(root)})
    assert "R-F5" in by_env.output
    wrong = invoke("--workspace", str(elsewhere), "master", "check")
    assert wrong.exit_code == 2 and "不是 jixiao-xl 工作区" in wrong.output
    option_over_env = invoke("--workspace", str(root), "master", "check", env={"JIXIAO_WORKSPACE": str(elsewhere)})
    assert "R-F5" in option_over_env.output
    inside(root)
    env_over_cwd = invoke("master", "check", env={"JIXIAO_WORKSPACE": str(elsewhere)})
    assert env_over_cwd.exit_code == 2 and f"环境变量 JIXIAO_WORKSPACE 指定的 {elsewhere}" in env_over_cwd.output


def test_explicit_flags_win_over_the_workspace(tmp_path, inside):
    root = tmp_path / "ws"
    assert invoke("init", str(root)).exit_code == 0  # blank master: generates nothing
    sample = tmp_path / "sample.xlsx"
    assert invoke("master", "init", "--sample", str(sample)).exit_code == 0
    inside(root)
    out = tmp_path / "out" / "issued"
    result = invoke("generate", "--master", str(sample), "--out", str(out), "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert (out / UNIT_FILE).is_file() and not (root / "下发" / UNIT_FILE).exists()
    with Ledger.open(root / "ledger.sqlite") as ledger:  # the workspace's ledger: the default
        assert UNIT in ledger.issued_latest()
    other = tmp_path / "other.sqlite"
    assert invoke("generate", "--master", str(sample), "--out", str(out), "--ledger", str(other),
                  "--jobs", "1").exit_code == 0
    with Ledger.open(other) as ledger:
        assert UNIT in ledger.issued_latest()


def test_outside_a_workspace_the_master_is_found_by_its_chinese_name(tmp_path, inside):
    inside(tmp_path)
    assert invoke("master", "init", "--sample", "主数据.xlsx").exit_code == 0
    result = invoke("generate", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "output" / "下发" / UNIT_FILE).is_file()
    assert (tmp_path / "output" / "ledger.sqlite").is_file()  # beside output/下发, where import looks by default
    assert "R-F5" in invoke("master", "check").output


def test_status_and_consolidate_outside_a_workspace_never_create_a_ledger(tmp_path, inside):
    inside(tmp_path)
    assert invoke("master", "init", "--sample", "master.xlsx").exit_code == 0
    for command in (["status"], ["consolidate"], ["status", "--ledger", "elsewhere/l.sqlite"]):
        result = invoke(*command)
        assert result.exit_code == 2, result.output
        looked = command[-1] if "--ledger" in command else "output/ledger.sqlite"
        assert f"找不到台账 {looked}" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.xlsx"]


def test_import_without_paths_outside_a_workspace_is_a_usage_error(tmp_path, inside):
    inside(tmp_path)
    result = invoke("import")
    assert result.exit_code == 2 and "收件" in result.output


def test_help_describes_the_workspace_first():
    top = invoke("--help").output
    assert top.index("init") < top.index("generate") and "工作区" in top.split("选项：")[0]
    for command in (["init"], ["generate"], ["import"], ["status"], ["consolidate"], ["read"], ["master", "check"]):
        text = invoke(*command, "--help").output
        description = text.split("选项：")[0]
        assert "工作区" in description, command


# ---------------------------------------------------------------------------------------------------------
# The whole year inside a workspace, without a single path flag


def _fix_plan(wb) -> None:
    uniform = wb["3.统一着装经费"]
    uniform["E7"] = 9


def test_the_year_inside_a_workspace_needs_no_path_flags(tmp_path, inside):
    root = tmp_path / "2026"
    assert invoke("init", str(root), "--sample").exit_code == 0
    inside(root)
    generated = invoke("generate", "--jobs", "1")
    assert generated.exit_code == 0, generated.output
    issued = root / "下发" / UNIT_FILE
    assert issued.is_file() and (root / "下发" / "manifest.csv").is_file()

    waiting = invoke("status", "--json")
    assert waiting.exit_code == 0, waiting.output
    assert [(row["code"], row["state"]) for row in json.loads(waiting.output)["units"]] == [(UNIT, "待报送")]

    wb = openpyxl.load_workbook(issued)
    _fix_plan(wb)
    wb.save(root / "收件" / UNIT_FILE)
    imported = invoke("import", "--jobs", "1")
    assert imported.exit_code == 1, imported.output  # the sample keeps its seed defects (R-C1)
    [run] = (root / "核对").iterdir()  # each import writes into a folder of its own under 核对/
    assert run.name.endswith("-第1次")
    findings = json.loads((run / "findings.json").read_text(encoding="utf-8"))
    assert any(f["rule"] == "R-C1" and f["cell"] == "F14" for f in findings)
    assert (run / "退回修改" / UNIT_FILE).is_file()
    kept = [p for p in (root / "原件").rglob("*.xlsx")]  # the received file's bytes, kept under its sha256
    assert len(kept) == 1 and kept[0].read_bytes() == (root / "收件" / UNIT_FILE).read_bytes()
    assert str(root.resolve() / "ledger.sqlite") in imported.output

    status = invoke("status")
    assert status.exit_code == 0 and "已报送有错误" in status.output
    consolidated = invoke("consolidate")
    assert consolidated.exit_code == 0, consolidated.output
    assert (root / "汇总" / "汇总表.xlsx").is_file()
    assert not (root / "output").exists()


# ---------------------------------------------------------------------------------------------------------
# The ledger records every issued workbook


def test_generate_records_every_issued_workbook_and_its_templates(tmp_path, inside):
    root = tmp_path / "ws"
    assert invoke("init", str(root), "--sample").exit_code == 0
    inside(root)
    assert invoke("generate", "--jobs", "1").exit_code == 0
    issued = root / "下发" / UNIT_FILE
    with Ledger.open(root / "ledger.sqlite") as ledger:
        row = ledger.issued_latest()[UNIT]
        assert row.sha256 == hashlib.sha256(issued.read_bytes()).hexdigest()
        assert (row.unit_name, row.file_name, Path(row.file_path)) == ("巨鹿县行政审批局本级", UNIT_FILE, issued.resolve())
        assert row.template_id == "项目支出绩效目标表" and row.dept_template_id == "部门整体支出绩效目标表"
        assert row.forced is False and row.master_fingerprint and row.generated_at
        blob = ledger.template_blob(row.template_sha256)
        assert blob.content == builtin_template(PROJECT_TEMPLATE).read_bytes()
        assert blob.version == row.template_version and blob.kind == "project"
        assert ledger.template_blob(row.dept_template_sha256).kind == "department"
        assert ledger.issued_by_sha256(row.sha256) == row
        assert ledger.issued_by_sha256("0" * 64) is None
    assert invoke("generate", "--jobs", "1").exit_code == 0
    with sqlite3.connect(root / "ledger.sqlite") as db:
        assert db.execute("SELECT count(*) FROM issued").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM template_blobs").fetchone()[0] == 2  # stored once
        with pytest.raises(sqlite3.DatabaseError):
            db.execute("DELETE FROM issued")


# ---------------------------------------------------------------------------------------------------------
# A return is read and sent back with the template its unit got


CUSTOM_TITLE = "巨鹿县财政局（自定义模板）"
CUSTOM_ROW = "审核意见：由县财政局绩效科统一审核"


def _custom_template(path: Path, title: str = CUSTOM_TITLE) -> Path:
    wb = openpyxl.load_workbook(builtin_template(PROJECT_TEMPLATE))
    ws = wb.active
    ws["A1"] = "{{ year }}年度项目支出绩效目标表 " + title
    ws["A14"] = CUSTOM_ROW
    wb.save(path)
    return path


def _texts(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [str(cell) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for cell in row if cell]


def _workspace_with(tmp_path: Path, inside) -> Path:
    root = tmp_path / "ws"
    assert invoke("init", str(root), "--sample").exit_code == 0
    inside(root)
    return root


def _only_run(root: Path) -> Path:
    """The folder of the workspace's one import run (核对/<时间>-第1次/)."""
    [run] = (root / "核对").iterdir()
    return run


def test_a_custom_template_survives_its_file_and_shapes_the_sendback(tmp_path, inside):
    root = _workspace_with(tmp_path, inside)
    template = _custom_template(tmp_path / "我的项目表.xlsx")
    assert invoke("generate", "--template", str(template), "--jobs", "1").exit_code == 0
    issued = root / "下发" / UNIT_FILE
    assert any(CUSTOM_ROW in text for text in _texts(issued))
    wb = openpyxl.load_workbook(issued)
    _fix_plan(wb)
    wb.save(root / "收件" / UNIT_FILE)
    template.unlink()  # the user cleaned up: only the ledger has the template now

    result = invoke("import", "--jobs", "1")
    assert result.exit_code == 1, result.output
    run = _only_run(root)
    findings = json.loads((run / "findings.json").read_text(encoding="utf-8"))
    assert not [f for f in findings if f["rule"] == "X-VERSION"]
    assert any(f["rule"] == "R-C1" for f in findings)
    sendback = _texts(run / "退回修改" / UNIT_FILE)
    assert any(CUSTOM_TITLE in text for text in sendback)
    assert sum(CUSTOM_ROW in text for text in sendback) == 6  # one per project sheet

    read = invoke("read", "--json", str(tmp_path / "read.json"))
    assert read.exit_code == 0, read.output
    document = json.loads((tmp_path / "read.json").read_text(encoding="utf-8"))
    assert document["submissions"][0]["template_id"] == "我的项目表"
    assert len(document["submissions"][0]["projects"]) == 6


def test_a_return_of_an_older_template_version_is_reported_to_the_bureau_only(tmp_path, inside):
    root = _workspace_with(tmp_path, inside)
    template = _custom_template(tmp_path / "项目表.xlsx", "第一版")
    assert invoke("generate", "--template", str(template), "--jobs", "1").exit_code == 0
    old = openpyxl.load_workbook(root / "下发" / UNIT_FILE)
    _fix_plan(old)
    _custom_template(template, "第二版")  # the bureau revised the template and issued again
    assert invoke("generate", "--template", str(template), "--jobs", "1").exit_code == 0
    old.save(root / "收件" / UNIT_FILE)

    result = invoke("import", "--jobs", "1")
    assert result.exit_code == 1, result.output
    run = _only_run(root)
    findings = json.loads((run / "findings.json").read_text(encoding="utf-8"))
    versions = [f for f in findings if f["rule"] == "X-VERSION"]
    assert len(versions) == 1 and versions[0]["field"] == "template_version"
    assert "本批次下发给该单位的是 项目表" in versions[0]["message"]
    assert catalogue.get("X-VERSION").audience == "bureau"
    sendback = _texts(run / "退回修改" / UNIT_FILE)
    assert not any("X-VERSION" in text for text in sendback)
    assert any("R-C1" in text for text in sendback)
    assert any("第二版" in text for text in sendback)  # sent back on the form the unit was last issued


def test_without_a_ledger_record_returns_are_read_as_before(tmp_path, inside):
    inside(tmp_path)
    assert invoke("master", "init", "--sample", "master.xlsx").exit_code == 0
    template = _custom_template(tmp_path / "自定义.xlsx")
    assert invoke("generate", "--template", str(template), "--out", "issued", "--ledger", "gen.sqlite",
                  "--jobs", "1").exit_code == 0
    (tmp_path / "returns").mkdir()
    shutil.copy(tmp_path / "issued" / UNIT_FILE, tmp_path / "returns" / UNIT_FILE)
    result = invoke("import", "returns", "--out", "checked", "--ledger", "fresh.sqlite", "--jobs", "1")
    assert result.exit_code == 1, result.output
    findings = json.loads((tmp_path / "checked" / "findings.json").read_text(encoding="utf-8"))
    assert [f["rule"] for f in findings if f["rule"] == "X-VERSION"] == ["X-VERSION"]  # default template expected


def test_a_workspace_without_its_ledger_is_not_given_a_new_one(tmp_path, inside):
    root = _workspace_with(tmp_path, inside)
    (root / "ledger.sqlite").unlink()
    inside(root / "汇总")
    for command in ("status", "consolidate"):
        result = invoke(command)
        assert result.exit_code == 2, result.output
        assert f"找不到台账 {root.resolve() / 'ledger.sqlite'}（工作区 {root.resolve()}）" in result.output
    assert not (root / "ledger.sqlite").exists() and list((root / "汇总").iterdir()) == []
