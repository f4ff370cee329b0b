"""Read-only commands change nothing: `status` and `consolidate` open the ledger with SQLite's mode=ro.

A missing ledger is reported (exit 2, its path named) without creating a folder or a file; a file that is
not our ledger — another application's SQLite database, a text file — is refused byte for byte untouched;
an older ledger is read or the user is asked to upgrade it by an import; a writer holding the ledger never
blocks them. Rows a hand edit left inconsistent (an unknown status, a supersede cycle, a garbage digest, a
dropped digests table) become L-LEDGER findings naming the import, and the other units are still answered.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from jixiao_xl.cli import cli
from jixiao_xl.ledger import DIGESTS_VERSION, MIGRATIONS, SCHEMA_VERSION, split_script
from jixiao_xl.ledger import connection as ledger_module

CRASH_MARKERS = ("Traceback", "程序内部错误")


def _invoke(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> Path:
    """The demo's whole cycle: a master, a manifest and a ledger with accepted returns of two units."""
    root = tmp_path_factory.mktemp("readonly")
    result = _invoke("demo", "--out", root / "demo")
    assert result.exit_code in (0, 1), result.output
    return root / "demo"


@pytest.fixture
def copy(cycle, tmp_path) -> Path:
    """A private copy of the demo's ledger."""
    path = tmp_path / "ledger.sqlite"
    shutil.copy(cycle / "ledger.sqlite", path)
    return path


def _master(cycle: Path) -> Path:
    return cycle / "主数据.xlsx"


def status(cycle: Path, ledger: Path, *extra: str) -> Result:
    return _invoke("status", "--master", _master(cycle), "--ledger", ledger, "--manifest",
                   cycle / "下发" / "manifest.csv", *extra)


def consolidate(cycle: Path, ledger: Path, out: Path) -> Result:
    return _invoke("consolidate", "--master", _master(cycle), "--ledger", ledger, "--out", out)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _accepted(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        # The demo's round one also brought 435003's issued workbook back unfilled: a blank, never a return.
        return db.execute("SELECT i.id, i.unit_code FROM imports AS i LEFT JOIN receipts AS r ON r.import_id = i.id"
                          " WHERE i.status = 'parsed' AND i.superseded_by IS NULL AND i.unit_code != ''"
                          " AND COALESCE(r.blank, 0) = 0 ORDER BY i.id").fetchall()


def _edit(path: Path, *statements: tuple) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA ignore_check_constraints = ON")
    for statement in statements:
        db.execute(*statement)
    db.close()


def _no_crash(result: Result) -> None:
    assert not any(marker in result.output for marker in CRASH_MARKERS), result.output


# --------------------------------------------------------------------------------------------------
# Missing, foreign and old ledgers


@pytest.mark.parametrize("command", ["status", "consolidate"])
def test_a_missing_ledger_is_named_and_nothing_is_created(cycle, tmp_path, command):
    ledger = tmp_path / "typo" / "x.sqlite"
    result = status(cycle, ledger) if command == "status" else consolidate(cycle, ledger, tmp_path / "汇总.xlsx")
    assert result.exit_code == 2, result.output
    assert f"找不到台账 {ledger}" in result.output
    assert not (tmp_path / "typo").exists()
    assert not (tmp_path / "汇总.xlsx").exists()
    _no_crash(result)


def _foreign_database(path: Path, wal: bool) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO customers (name) VALUES ('张三')")
    if wal:
        db.execute("PRAGMA user_version = 3")  # another application that versions its schema too
    db.commit()
    db.close()


@pytest.mark.parametrize("kind", ["sqlite", "sqlite-versioned", "text", "empty"])
@pytest.mark.parametrize("command", ["status", "consolidate"])
def test_a_file_that_is_not_our_ledger_is_refused_untouched(cycle, tmp_path, command, kind):
    path = tmp_path / "other.db"
    if kind.startswith("sqlite"):
        _foreign_database(path, kind == "sqlite-versioned")
    elif kind == "text":
        path.write_text("单位编码,金额\n435001,12\n", encoding="utf-8")
    else:
        path.write_bytes(b"")
    before = _digest(path)
    result = status(cycle, path) if command == "status" else consolidate(cycle, path, tmp_path / "汇总.xlsx")
    assert result.exit_code == 2, result.output
    assert f"{path} 不是可用的 jixiao-xl 台账文件" in result.output and "未作任何修改" in result.output
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]  # no -wal, -shm or report
    if kind.startswith("sqlite"):
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            assert [name for name, in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == \
                ["customers"]
    _no_crash(result)


@pytest.mark.parametrize("kind", ["sqlite", "sqlite-versioned", "text"])
def test_import_refuses_a_file_that_is_not_our_ledger_untouched(cycle, tmp_path, kind):
    path = tmp_path / "other.db"
    if kind.startswith("sqlite"):
        _foreign_database(path, kind == "sqlite-versioned")
    else:
        path.write_text("单位编码,金额\n435001,12\n", encoding="utf-8")
    before = _digest(path)
    result = _invoke("import", cycle / "收件", "--master", _master(cycle), "--out", tmp_path / "核对", "--ledger", path)
    assert result.exit_code == 2, result.output
    assert f"{path} 不是可用的 jixiao-xl 台账文件" in result.output and "未作任何修改" in result.output
    assert _digest(path) == before
    assert not Path(f"{path}-wal").exists()
    _no_crash(result)


def test_a_ledger_of_a_newer_version_is_refused(cycle, copy):
    _edit(copy, (f"PRAGMA user_version = {SCHEMA_VERSION + 1}",))
    result = status(cycle, copy)
    assert result.exit_code == 2, result.output
    assert f"结构版本 {SCHEMA_VERSION + 1}" in result.output and "请升级 jixiao-xl" in result.output


def test_an_old_ledger_that_cannot_be_read_asks_for_an_import_and_is_not_migrated(cycle, tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in split_script(MIGRATIONS[0]):
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.close()
    before = _digest(path)
    for result in (status(cycle, path), consolidate(cycle, path, tmp_path / "汇总.xlsx")):
        assert result.exit_code == 2, result.output
        assert "旧版本的结构" in result.output and "jixiao-xl import" in result.output
        _no_crash(result)
    assert _digest(path) == before


def test_a_ledger_without_the_digests_table_of_a_version_before_it_is_read_from_submissions(cycle, copy, tmp_path):
    older = DIGESTS_VERSION - 1
    _edit(copy, ("DROP TABLE digests",), (f"PRAGMA user_version = {older}",))
    result = consolidate(cycle, copy, tmp_path / "汇总.xlsx")
    assert result.exit_code in (0, 1), result.output
    assert "L-LEDGER" not in result.output  # an old ledger is not an inconsistent one
    assert (tmp_path / "汇总.xlsx").exists()
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == older


def test_status_and_consolidate_do_not_migrate_write_or_switch_the_journal(cycle, copy, tmp_path):
    before = _digest(copy)
    assert status(cycle, copy).exit_code == 0
    assert consolidate(cycle, copy, tmp_path / "汇总.xlsx").exit_code in (0, 1)
    assert _digest(copy) == before


# --------------------------------------------------------------------------------------------------
# A writer holds the ledger


def test_status_and_consolidate_do_not_wait_for_a_writer(cycle, copy, tmp_path, monkeypatch):
    # Were they to take the write lock, they would now give up after a fifth of a second and exit 2.
    monkeypatch.setattr(ledger_module, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(ledger_module, "BUSY_NOTICE_MS", 100)
    writer = sqlite3.connect(copy, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO imports (sha256, file_name, original_path, size, received_at)"
                       " VALUES ('busy', 'busy.xlsx', 'busy.xlsx', 1, '2025-01-01T00:00:00+08:00')")
        shown = status(cycle, copy)
        summed = consolidate(cycle, copy, tmp_path / "汇总.xlsx")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert shown.exit_code == 0, shown.output
    assert "已报送有错误 2" in shown.output
    assert summed.exit_code in (0, 1), summed.output
    assert "汇总完成" in summed.output and "正在等待" not in shown.output + summed.output


# --------------------------------------------------------------------------------------------------
# Inconsistent rows


def _both(cycle: Path, ledger: Path, tmp_path: Path) -> tuple[Result, Result]:
    return status(cycle, ledger, "--json"), consolidate(cycle, ledger, tmp_path / "汇总.xlsx")


def _units(result: Result) -> dict[str, dict]:
    document = json.loads(result.stdout)
    return {unit["code"]: unit for unit in document["units"]}


def _rules(result: Result) -> dict[str, str]:
    return {finding["rule"]: finding["message"] for finding in json.loads(result.stdout)["findings"]}


def test_an_unknown_status_is_a_finding_and_the_other_units_are_answered(cycle, copy, tmp_path):
    (first, first_unit), (second, second_unit) = _accepted(copy)[:2]
    _edit(copy, ("UPDATE imports SET status = 'checked' WHERE id = ?", (first,)))
    shown, summed = _both(cycle, copy, tmp_path)
    assert shown.exit_code == 1, shown.output
    message = _rules(shown)["L-LEDGER-STATUS"]
    assert f"第 {first} 号导入" in message and "“checked”" in message
    assert _units(shown)[second_unit]["import_id"] == second
    assert summed.exit_code == 1, summed.output
    assert f"L-LEDGER-STATUS：台账中第 {first} 号导入" in summed.output
    _no_crash(summed)


def test_a_supersede_cycle_is_a_finding_not_a_silent_awaiting_state(cycle, copy, tmp_path):
    (first, first_unit), (second, second_unit) = _accepted(copy)[:2]
    _edit(copy, ("INSERT INTO imports (sha256, file_name, original_path, size, received_at, unit_code, status,"
                 " superseded_by) VALUES ('cycle', '再次报送.xlsx', '再次报送.xlsx', 1, '2025-01-01T00:00:00+08:00',"
                 " ?, 'parsed', ?)", (first_unit, first)))
    (extra,) = [row for row, in sqlite3.connect(copy).execute("SELECT id FROM imports WHERE sha256 = 'cycle'")]
    _edit(copy, ("UPDATE imports SET superseded_by = ? WHERE id = ?", (extra, first)))
    shown, summed = _both(cycle, copy, tmp_path)
    assert shown.exit_code == 1, shown.output
    message = _rules(shown)["L-LEDGER-SUPERSEDE"]
    assert f"单位 {first_unit}" in message and f"第 {first}、{extra} 号导入" in message and "循环" in message
    assert _units(shown)[second_unit]["import_id"] == second
    assert summed.exit_code == 1
    sheet = openpyxl.load_workbook(tmp_path / "汇总.xlsx", read_only=True)["核对"]
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True)}
    # The counted return is the latest parsed one (counting.py ignores superseded_by): here the hand-inserted row,
    # which has no stored submission, so 核对 names the broken row; status above names the cycle.
    assert rows[first_unit][5].startswith("台账记录不一致") and rows[first_unit][6] in ("L-LEDGER-SUPERSEDE",
                                                                                     "L-LEDGER-DIGEST")


def test_a_garbage_digest_is_rebuilt_from_the_submission_with_a_warning(cycle, copy, tmp_path):
    first, _unit = _accepted(copy)[0]
    healthy = consolidate(cycle, Path(cycle / "ledger.sqlite"), tmp_path / "healthy.json")
    _edit(copy, ("UPDATE digests SET digest_json = '{garbage' WHERE import_id = ?", (first,)))
    summed = _invoke("consolidate", "--master", _master(cycle), "--ledger", copy, "--out", tmp_path / "x.json",
                     "--format", "json")
    assert f"L-LEDGER-DIGEST-REBUILT：台账中第 {first} 号导入" in summed.output
    assert healthy.exit_code == summed.exit_code
    assert "预算数合计" in summed.output
    _no_crash(summed)


def test_an_unreadable_digest_and_submission_leave_the_unit_out_with_an_error(cycle, copy, tmp_path):
    (first, first_unit), (second, second_unit) = _accepted(copy)[:2]
    _edit(copy, ("UPDATE digests SET digest_json = '[1, 2' WHERE import_id = ?", (first,)),
          ("UPDATE imports SET submission_json = '{\"projects\": 7}' WHERE id = ?", (first,)))
    summed = _invoke("consolidate", "--master", _master(cycle), "--ledger", copy, "--out", tmp_path / "x.json",
                     "--format", "json")
    assert summed.exit_code == 1, summed.output
    assert f"L-LEDGER-DIGEST：台账中第 {first} 号导入" in summed.output and "按未报送处理" in summed.output
    document = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    assert "L-LEDGER-DIGEST" in json.dumps(document, ensure_ascii=False)
    _no_crash(summed)


def test_a_dropped_digests_table_is_a_warning_and_the_totals_come_from_the_submissions(cycle, copy, tmp_path):
    healthy = _invoke("consolidate", "--master", _master(cycle), "--ledger", cycle / "ledger.sqlite", "--out",
                      tmp_path / "healthy.json", "--format", "json")
    _edit(copy, ("DROP TABLE digests",))
    shown = status(cycle, copy)
    summed = _invoke("consolidate", "--master", _master(cycle), "--ledger", copy, "--out", tmp_path / "x.json",
                     "--format", "json")
    assert shown.exit_code == 0 and "L-LEDGER-TABLE" in shown.output and "digests" in shown.output
    assert "L-LEDGER-TABLE" in summed.output
    totals = [line for line in summed.output.splitlines() if line.startswith("预算数合计")]
    assert totals == [line for line in healthy.output.splitlines() if line.startswith("预算数合计")]
    _no_crash(summed)
