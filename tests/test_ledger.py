"""The ledger: idempotent imports, supersession, exact round trips, migrations, concurrency and crashes."""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import os
import signal
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pytest

from jixiao_xl.fill import sheet_names_for
from jixiao_xl.findings import Finding
from jixiao_xl.digest import digest
from jixiao_xl.ledger import SCHEMA_VERSION, Ledger, LedgerError
from jixiao_xl.master import load_sample
from jixiao_xl.model import Indicator, Master, Project
from jixiao_xl.submission import Location, ReturnedProject, Submission

# ---------------------------------------------------------------------------------------------------------
# Helpers shared with test_consolidate.py


def project_locations(sheet: str, project: Project) -> dict[str, Location]:
    """Where a form would hold each value: budget B4, fiscal B5, other D5, plan in row 6, indicators from row 10."""
    locations = {
        "code": Location(sheet, "B2", "name", project.code),
        "name": Location(sheet, "D2", "name", project.name),
        "budget": Location(sheet, "B4", "name", str(project.budget or "")),
        "fiscal": Location(sheet, "B5", "name", str(project.fiscal or "")),
        "other": Location(sheet, "D5", "name", str(project.other or "")),
    }
    for column, point in zip("BCDEFGH", project.plan):
        locations[f"plan.{point.node}"] = Location(sheet, f"{column}6", "meta", str(point.amount or ""))
    for k, indicator in enumerate(project.indicators):
        locations[f"ind{k}.name"] = Location(sheet, f"C{10 + k}", "template", indicator.name)
    return locations


def make_submission(master: Master, unit_code: str, tag: str = "v1", budgets: dict[str, Decimal] | None = None,
                    file: str | None = None) -> Submission:
    """A submission as the reader would produce it for ``unit_code``, returning the master's values.

    ``budgets`` overrides some projects' 预算数 (by 项目编码); ``tag`` makes the bytes (sha256) distinct.
    """
    unit = master.unit(unit_code)
    projects = master.projects_of(unit_code)
    budgets = budgets or {}
    returned = []
    for sheet, project in zip(sheet_names_for(projects), projects):
        if project.code in budgets:
            project = dataclasses.replace(project, budget=budgets[project.code])
        returned.append(ReturnedProject(project.code, sheet, project, project_locations(sheet, project)))
    name = file or f"{unit_code}-{unit.name if unit else unit_code}-{tag}.xlsx"
    return Submission(file=name, sha256=hashlib.sha256(f"{unit_code}/{tag}".encode()).hexdigest(), kind="xlsx",
                      unit_code=unit_code, unit_name=unit.name if unit else "", template_id="项目支出绩效目标表",
                      template_version="1", master_fingerprint=master.fingerprint, producer="Microsoft Excel",
                      projects=tuple(returned))


def sample_findings(sub: Submission, n: int = 3) -> list[Finding]:
    """``n`` findings of the three severities, located on the first project sheet."""
    severities = ("error", "warning", "info")
    return [Finding(f"R-T{i}", severities[i % 3], f"第 {i} 个问题：=SUM(A1) 请改正", file=sub.file, sha256=sub.sha256,
                    unit_code=sub.unit_code, project_code=sub.projects[0].project.code, sheet=sub.projects[0].sheet,
                    cell=f"B{4 + i}", field="budget", value=f"{i}.00", expected="6.00", found_by="name")
            for i in range(n)]


@pytest.fixture(scope="module")
def master() -> Master:
    return load_sample()


@pytest.fixture()
def ledger(tmp_path):
    with Ledger.open(tmp_path / "sub" / "ledger.sqlite") as opened:
        yield opened


# ---------------------------------------------------------------------------------------------------------
# Recording


def test_open_creates_folders_and_sets_schema(tmp_path):
    path = tmp_path / "a" / "b" / "ledger.sqlite"
    with Ledger.open(path) as ledger:
        assert ledger.schema_version == SCHEMA_VERSION
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()


def test_same_bytes_twice_is_a_duplicate(ledger, master):
    sub = make_submission(master, "435001")
    first = ledger.record(sub, "/in/a.xlsx", 1234, sample_findings(sub))
    second = ledger.record(sub, "/in/copy-of-a.xlsx", 1234, sample_findings(sub, 5))
    assert not first.duplicate and second.duplicate
    assert second.import_id == first.import_id and second.superseded == []
    assert [n.rule for n in second.notes] == ["L-DUPLICATE"]
    assert second.notes[0].message.startswith("相同文件已导入过")
    assert len(ledger.history()) == 1
    assert ledger.history()[0].original_path == "/in/a.xlsx"
    assert len(ledger.findings_of(first.import_id)) == 3


def test_later_return_supersedes_without_deleting(ledger, master):
    old = make_submission(master, "435001", "v1")
    new = make_submission(master, "435001", "v2")
    first = ledger.record(old, "/in/v1.xlsx", 10, [], received_at="2024-05-01T10:30:00+08:00")
    second = ledger.record(new, "/in/v2.xlsx", 11, [], received_at="2024-05-02T09:00:00+08:00")
    assert second.superseded == [first.import_id]
    assert second.notes[0].rule == "L-SUPERSEDED"
    assert "2024-05-01 10:30" in second.notes[0].message
    history = ledger.history("435001")
    assert [r.id for r in history] == [first.import_id, second.import_id]
    assert history[0].superseded_by == second.import_id and not history[0].accepted
    assert history[1].superseded_by is None and history[1].accepted
    assert ledger.latest_by_unit()["435001"].id == second.import_id
    assert ledger.submission_of(first.import_id) == old  # the old return is still there
    assert ledger.return_counts() == {"435001": 2}


def test_the_counted_returns_follow_every_write_to_the_ledger(ledger, master, tmp_path):
    """counted_ids is kept between questions, but never past a change: one made through this connection, a
    review decided, or an import committed by another process's connection."""
    first = ledger.record(make_submission(master, "435001", "v1"), "/in/v1.xlsx", 10, [])
    assert ledger.counted_ids() == {"435001": first.import_id}
    second = ledger.record(make_submission(master, "435001", "v2"), "/in/v2.xlsx", 11, [])
    assert ledger.counted_ids() == {"435001": second.import_id}
    ledger.decide("435001", first.import_id, "pass", "", "张三")  # a passed return counts until a later one is
    assert ledger.counted_ids() == {"435001": first.import_id}
    with Ledger.open(ledger.path) as other:  # another process's connection: a third return, passed
        third = other.record(make_submission(master, "435001", "v3"), "/in/v3.xlsx", 12, [])
        other.decide("435001", third.import_id, "pass", "", "李四")
    assert ledger.counted_ids() == {"435001": third.import_id}
    assert ledger.latest_by_unit()["435001"].id == third.import_id


def test_unreadable_file_is_failed_and_supersedes_nothing(ledger, master):
    good = ledger.record(make_submission(master, "435001"), "/in/good.xlsx", 10, [])
    broken = Submission(file="broken.xlsx", sha256="0" * 64, kind="xlsx", unit_code="435001")
    result = ledger.record(broken, "/in/broken.xlsx", 3, [Finding("I-CORRUPT", "error", "文件已损坏")])
    assert result.superseded == []
    assert ledger.get(result.import_id).status == "failed"
    assert ledger.latest_by_unit()["435001"].id == good.import_id


def test_accepted_unit_codes_are_the_units_of_latest_by_unit(ledger, master):
    ledger.record(make_submission(master, "435001", "v1"), "/in/v1.xlsx", 10, [])
    ledger.record(make_submission(master, "435001", "v2"), "/in/v2.xlsx", 11, [])
    ledger.record(Submission(file="x.xlsx", sha256="1" * 64, kind="xlsx", unit_code="435002"), "/in/x.xlsx", 3,
                  [Finding("I-CORRUPT", "error", "文件已损坏")])
    ledger.record(make_submission(master, "435001", "v3", file="other.xlsx"), "/in/v3.xlsx", 12, [])
    assert ledger.accepted_unit_codes() == list(ledger.latest_by_unit()) == ["435001"]


def test_findings_are_stored_and_read_back_equal(ledger, master):
    sub = make_submission(master, "435001")
    findings = sample_findings(sub, 7)
    result = ledger.record(sub, "/in/a.xlsx", 1, findings)
    assert ledger.findings_of(result.import_id) == findings
    assert ledger.open_counts(result.import_id) == {"error": 3, "warning": 2, "info": 2}


def test_submission_json_round_trip(ledger, master):
    sub = make_submission(master, "435001", budgets={master.projects[0].code: Decimal("6.000")})
    result = ledger.record(sub, "/in/a.xlsx", 1, [])
    back = ledger.submission_of(result.import_id)
    assert back == sub
    assert back.projects[0].project.budget == Decimal("6.000") and str(back.projects[0].project.budget) == "6.000"
    assert back.projects[0].where("budget") == Location("1.光纤租赁和短信机费用", "B4", "name", "6.000")


def test_submission_json_of_is_the_stored_text(ledger, master):
    from jixiao_xl.submission import submission_json

    sub = make_submission(master, "435001")
    result = ledger.record(sub, "/in/a.xlsx", 1, [])
    assert ledger.submission_json_of(result.import_id) == submission_json(sub)
    received = ledger.record_received("f" * 64, "/in/b.xlsx", 1, "xlsx")
    with pytest.raises(LedgerError, match="尚未完成解析"):
        ledger.submission_json_of(received.import_id)
    with pytest.raises(LedgerError, match="没有第 999 号导入"):
        ledger.submission_json_of(999)


def test_submission_json_is_the_plain_dict_dumped(master):
    """The ledger's fast encoder writes exactly what dumping submission_to_dict writes, odd values included."""
    import json
    import types

    from jixiao_xl.findings import Finding
    from jixiao_xl.model import DeptGoal, DeptIndicator
    from jixiao_xl.submission import ReturnedDept, submission_json, submission_to_dict

    sub = make_submission(master, "435001")
    first = sub.projects[0]
    odd = dataclasses.replace(first.project, budget=Decimal("1E+3"), fiscal=None, indicators=(
        Indicator("产出指标", "数量指标", "名称\"引号\n换行", operator="≥", value=Decimal("-0.50"), weight=Decimal("10")),
        Indicator("", "", "定性", operator="定性", value="好", weight=None),
    ))
    locations = types.MappingProxyType({**first.locations, "ind0.name": Location(first.sheet, "C10", "label", "\u0007")})
    projects = (dataclasses.replace(first, project=odd, locations=locations, notes={"ind0.value": ("改写", "单位")}),
                *sub.projects[1:])
    dept = ReturnedDept("部门整体绩效目标", "总体目标", (DeptGoal("435001", 1, "分项", "内容"),),
                        (DeptIndicator("435001", 1, "产出指标", "质量指标", "合格率", "≥", Decimal("95"), "%"),),
                        {"overall_goal": Location("部门整体绩效目标", "B4", "meta", "总体目标")}, {})
    sub = dataclasses.replace(sub, projects=projects, dept=dept,
                              findings=(Finding("P-NUMBER", "error", "不是数字", file=sub.file, value="x"),))
    assert submission_json(sub) == json.dumps(submission_to_dict(sub), ensure_ascii=False, separators=(",", ":"))


def test_rows_are_never_deleted(ledger, master):
    ledger.record(make_submission(master, "435001"), "/in/a.xlsx", 1, [])
    with pytest.raises(sqlite3.IntegrityError):
        ledger._db.execute("DELETE FROM imports")


def test_received_row_is_completed_by_a_rerun(ledger, master):
    sub = make_submission(master, "435001")
    received = ledger.record_received(sub.sha256, "/in/a.xlsx", 99, "xlsx")
    assert ledger.get(received.import_id).status == "received"
    assert ledger.latest_by_unit() == {}
    with pytest.raises(LedgerError):
        ledger.submission_of(received.import_id)
    again = ledger.record(sub, "/in/a.xlsx", 99, sample_findings(sub))
    assert again.import_id == received.import_id and not again.duplicate
    assert ledger.get(received.import_id).status == "parsed"
    assert len(ledger.findings_of(received.import_id)) == 3
    assert ledger.record(sub, "/in/a.xlsx", 99, []).duplicate


def _committed_rows(path: Path) -> int:
    other = sqlite3.connect(path)  # a second connection sees only what was committed
    try:
        return other.execute("SELECT count(*) FROM imports").fetchone()[0]
    finally:
        other.close()


def test_batch_commits_in_groups_and_at_the_end(ledger, master):
    subs = [make_submission(master, "435001", f"v{i}") for i in range(5)]
    with ledger.batch(max_records=2, max_seconds=3600) as batch:
        for n, sub in enumerate(subs, start=1):
            ledger.record(sub, f"/in/{n}.xlsx", n, sample_findings(sub, 1))
            batch.done()
            assert _committed_rows(ledger.path) == n - n % 2  # a group of two is committed as it fills
    assert _committed_rows(ledger.path) == 5
    assert [r.accepted for r in ledger.history("435001")] == [False] * 4 + [True]


def test_a_failed_batch_leaves_its_open_group_unwritten(ledger, master):
    subs = [make_submission(master, "435001", f"v{i}") for i in range(3)]
    with pytest.raises(RuntimeError):
        with ledger.batch(max_records=2, max_seconds=3600) as batch:
            for n, sub in enumerate(subs, start=1):
                ledger.record(sub, f"/in/{n}.xlsx", n, [])
                batch.done()
            raise RuntimeError("crash")
    assert [r.file_name for r in ledger.history()] == ["1.xlsx", "2.xlsx"]  # the committed group only
    with pytest.raises(LedgerError):
        with ledger.batch() as batch:
            with ledger.batch():
                pass
    ledger.record(subs[2], "/in/3.xlsx", 3, [])  # the ledger is usable again after both failures
    assert len(ledger.history()) == 3


def test_a_batch_takes_the_write_lock_only_at_its_first_recording(ledger, master):
    other = sqlite3.connect(ledger.path, timeout=0, isolation_level=None)  # never waits for the lock
    try:
        with ledger.batch() as batch:
            other.execute("BEGIN IMMEDIATE")  # nothing recorded yet: another writer gets the lock at once
            other.execute("COMMIT")
            ledger.record(make_submission(master, "435001"), "/in/a.xlsx", 1, [])
            batch.done()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")  # the group holds it until it commits
        other.execute("BEGIN IMMEDIATE")
        other.execute("COMMIT")
    finally:
        other.close()
    assert _committed_rows(ledger.path) == 1


def test_a_run_folder_is_found_by_either_spelling(ledger, tmp_path):
    folder = tmp_path / "核对" / "a"
    folder.mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "核对")
    run = ledger.start_run(["/in"])
    ledger.set_run_folder(run.id, str(link / "a"))  # as older ledgers hold it: absolute, not resolved
    assert ledger.folder_has_run([str(link / "a"), str(folder)])
    assert not ledger.folder_has_run([str(tmp_path / "核对" / "b")])
    assert not ledger.folder_has_run([])
    with sqlite3.connect(ledger.path) as raw:
        plan = " ".join(row[-1] for row in raw.execute("EXPLAIN QUERY PLAN SELECT 1 FROM runs WHERE out_dir IN (?, ?)",
                                                         ("x", "y")))
    assert "runs_by_out_dir" in plan


def test_complete_stores_a_worker_encoded_submission(ledger, master):
    from jixiao_xl.digest import encode

    sub = make_submission(master, "435001")
    received = ledger.record_received(sub.sha256, "/in/a.xlsx", 1, "xlsx")
    ledger.complete(received.import_id, sub, [], "parsed", encode(sub))
    assert ledger.submission_of(received.import_id) == sub
    assert ledger.digest_of(received.import_id) == digest(sub)


def test_resumed_older_import_does_not_replace_a_newer_one(ledger, master):
    old = make_submission(master, "435001", "old")
    stuck = ledger.record_received(old.sha256, "/in/old.xlsx", 1, "xlsx")  # crashed before completion
    newer = ledger.record(make_submission(master, "435001", "new"), "/in/new.xlsx", 1, [])
    resumed = ledger.record(old, "/in/old.xlsx", 1, [])
    assert resumed.import_id == stuck.import_id and resumed.superseded == []
    assert ledger.latest_by_unit()["435001"].id == newer.import_id
    assert ledger.get(stuck.import_id).superseded_by == newer.import_id


# ---------------------------------------------------------------------------------------------------------
# Schema


_V1_BY_HAND = """
CREATE TABLE imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT NOT NULL UNIQUE, file_name TEXT NOT NULL,
    original_path TEXT NOT NULL, size INTEGER NOT NULL, kind TEXT NOT NULL DEFAULT '', received_at TEXT NOT NULL,
    unit_code TEXT NOT NULL DEFAULT '', template_version TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'parsed', 'failed')),
    submission_json TEXT, superseded_by INTEGER REFERENCES imports (id));
CREATE TABLE findings (
    id INTEGER PRIMARY KEY AUTOINCREMENT, import_id INTEGER NOT NULL REFERENCES imports (id),
    rule TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL,
    file TEXT NOT NULL DEFAULT '', sha256 TEXT NOT NULL DEFAULT '', unit_code TEXT NOT NULL DEFAULT '',
    project_code TEXT NOT NULL DEFAULT '', sheet TEXT NOT NULL DEFAULT '', cell TEXT NOT NULL DEFAULT '',
    field TEXT NOT NULL DEFAULT '', value TEXT NOT NULL DEFAULT '', expected TEXT NOT NULL DEFAULT '',
    found_by TEXT NOT NULL DEFAULT '');
PRAGMA user_version = 1;
"""


def test_migration_from_version_1(tmp_path, master):
    import json

    from jixiao_xl.submission import submission_to_dict

    sub = make_submission(master, "435001")
    path = tmp_path / "old.sqlite"
    raw = sqlite3.connect(path)
    raw.executescript(_V1_BY_HAND)
    raw.execute("INSERT INTO imports (sha256, file_name, original_path, size, kind, received_at, unit_code,"
                " template_version, status, submission_json) VALUES (?, 'a.xlsx', '/in/a.xlsx', 5, 'xlsx',"
                " '2024-01-01T08:00:00+08:00', '435001', '1', 'parsed', ?)",
                (sub.sha256, json.dumps(submission_to_dict(sub), ensure_ascii=False)))
    raw.execute("INSERT INTO findings (import_id, rule, severity, message) VALUES (1, 'R-X', 'warning', '旧问题')")
    raw.commit()
    raw.close()

    with Ledger.open(path) as ledger:
        assert ledger.schema_version == SCHEMA_VERSION
        row = ledger.latest_by_unit()["435001"]
        assert row.unit_name == "巨鹿县行政审批局本级"  # backfilled by the v2 migration
        assert ledger.submission_of(row.id) == sub
        assert ledger.open_counts(row.id)["warning"] == 1
        newer = ledger.record(make_submission(master, "435001", "v2"), "/in/b.xlsx", 6, [])
        assert newer.superseded == [row.id]
    with Ledger.open(path) as ledger:  # opening again applies nothing twice
        assert ledger.schema_version == SCHEMA_VERSION and len(ledger.history()) == 2


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(LedgerError, match="更新版本"):
        Ledger.open(path)


def test_not_a_database_is_refused(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(LedgerError, match="不是可用的 jixiao-xl 台账文件"):
        Ledger.open(path)


# ---------------------------------------------------------------------------------------------------------
# Concurrency and crashes (child processes)


def _import_many(path: str, worker: int, count: int) -> None:
    master = load_sample()
    with Ledger.open(path) as ledger:
        for i in range(count):
            sub = make_submission(master, "435001", f"w{worker}-{i}")
            ledger.record(sub, f"/in/w{worker}-{i}.xlsx", i, sample_findings(sub, 1 + i % 4))


def test_two_processes_import_concurrently(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_import_many, args=(path, w, 20)) for w in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
    assert [p.exitcode for p in workers] == [0, 0]
    with Ledger.open(path) as ledger:
        rows = ledger.history()
        assert len(rows) == 40 and {r.status for r in rows} == {"parsed"}
        assert [r for r in rows if r.accepted] == [rows[-1]]  # exactly one accepted: the last one recorded
        assert all(r.superseded_by is not None for r in rows[:-1])
        for row in rows:
            index = int(row.file_name.split("-")[1].split(".")[0])
            assert len(ledger.findings_of(row.id)) == 1 + index % 4
        assert ledger.integrity_ok()


def _import_forever(path: str) -> None:
    master = load_sample()
    with Ledger.open(path) as ledger:
        for i in range(100_000):
            sub = make_submission(master, "435001", f"k{i}")
            ledger.record(sub, f"/in/k-{i}.xlsx", i, sample_findings(sub, 20 + i % 30))


def _stop_after_received(path: str, ready) -> None:
    master = load_sample()
    with Ledger.open(path) as ledger:
        sub = make_submission(master, "435001", "stuck")
        ledger.record_received(sub.sha256, "/in/stuck.xlsx", 1, "xlsx")
        ready.set()
        time.sleep(60)


def _wait_for_rows(path: str, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Path(path).exists():
            with Ledger.open(path) as ledger:
                if len(ledger.history()) >= at_least:
                    return
        time.sleep(0.05)
    raise AssertionError("the child process recorded nothing")


def test_killed_import_loop_leaves_a_consistent_ledger(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_import_forever, args=(path,))
    child.start()
    try:
        _wait_for_rows(path, 15)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.join(30)
    assert child.exitcode == -signal.SIGKILL
    master = load_sample()
    with Ledger.open(path) as ledger:
        assert ledger.integrity_ok()
        rows = ledger.history()
        pending = [r for r in rows if r.status == "received"]
        assert len(pending) <= 1 and all(r.id == rows[-1].id for r in pending)
        for row in rows:
            if row.status == "parsed":
                i = int(row.file_name.split("-")[1].split(".")[0])
                assert len(ledger.findings_of(row.id)) == 20 + i % 30
            else:
                assert ledger.findings_of(row.id) == []
        assert len(ledger.latest_by_unit()) == 1
        for row in pending:  # a re-run completes what the crash interrupted
            i = int(row.file_name.split("-")[1].split(".")[0])
            sub = make_submission(master, "435001", f"k{i}")
            result = ledger.record(sub, row.original_path, i, sample_findings(sub, 2))
            assert result.import_id == row.id and not result.duplicate
            assert ledger.get(row.id).status == "parsed" and len(ledger.findings_of(row.id)) == 2


def test_kill_between_received_and_complete(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=_stop_after_received, args=(path, ready))
    child.start()
    try:
        assert ready.wait(60)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.join(30)
    master = load_sample()
    sub = make_submission(master, "435001", "stuck")
    with Ledger.open(path) as ledger:
        (row,) = ledger.history()
        assert row.status == "received" and row.unit_code == ""
        result = ledger.record(sub, "/in/stuck.xlsx", 1, sample_findings(sub))
        assert result.import_id == row.id and not result.duplicate
        assert ledger.submission_of(row.id) == sub
        assert ledger.findings_of(row.id) == sample_findings(sub)


def test_digest_keeps_what_consolidation_needs(ledger, master):
    sub = make_submission(master, "435001")
    result = ledger.record(sub, "/returns/a.xlsx", 1000, sample_findings(sub))
    slim = ledger.digest_of(result.import_id)
    assert slim == digest(sub)
    assert [p.code for p in slim.projects] == [rp.project.code for rp in sub.projects]
    first, returned = slim.projects[0], sub.projects[0]
    assert first.sheet == returned.sheet and first.name == returned.project.name
    assert first.paths == ("budget", "fiscal", "other", *(f"plan.{p.node}" for p in returned.project.plan))
    assert first.number("budget") == (returned.project.budget, "B4")
    assert first.number("other") == (None, "D5")  # blank, but the form had the cell
    assert first.number("plan.13月底") == (None, "")  # no such number
    assert [first.number(f"plan.{p.node}") for p in returned.project.plan] == \
        [(p.amount, f"{column}6") for column, p in zip("BCDEFGH", returned.project.plan)]
    assert str(first.number("budget")[0]) == "6.00"  # exact, trailing zeros kept
    assert slim.unit_name == sub.unit_name
    indicators = [i for rp in sub.projects for i in rp.project.indicators]
    assert sum(n for *_, n in slim.indicators) == len(indicators)
    assert slim.indicators[0] == (indicators[0].level1, indicators[0].level2, indicators[0].operator,
                                  sum(1 for i in indicators if (i.level1, i.level2, i.operator) ==
                                      (indicators[0].level1, indicators[0].level2, indicators[0].operator)))


def test_digest_names_another_sheet_and_skips_blank_indicator_rows(master):
    sub = make_submission(master, "435001")
    rp = sub.projects[0]
    moved = {**rp.locations, "budget": Location("别的表", "C9", "label", "6.00")}
    project = dataclasses.replace(rp.project, indicators=(*rp.project.indicators, Indicator("", "", "")))
    sub = dataclasses.replace(sub, projects=(dataclasses.replace(rp, project=project, locations=moved),
                                             *sub.projects[1:]))
    slim = digest(sub)
    assert slim.projects[0].number("budget") == (rp.project.budget, "别的表!C9")
    assert sum(n for *_, n in slim.indicators) == sum(len(p.project.indicators) for p in sub.projects) - 1


def test_accepted_returns_and_counts_in_one_pass(ledger, master):
    first = make_submission(master, "435001", "v1")
    ledger.record(first, "/in/a.xlsx", 1, sample_findings(first, 2))
    second = make_submission(master, "435001", "v2")
    newer = ledger.record(second, "/in/b.xlsx", 1, sample_findings(second, 4))
    (accepted,) = list(ledger.accepted_returns())
    assert accepted.id == newer.import_id and accepted.digest == digest(second)
    assert (accepted.unit_code, accepted.unit_name, accepted.file_name) == ("435001", second.unit_name, "b.xlsx")
    assert ledger.accepted_open_counts() == {newer.import_id: ledger.open_counts(newer.import_id)}


def test_rows_without_a_digest_are_read_in_full(ledger, master):
    sub = make_submission(master, "435001")
    result = ledger.record(sub, "/returns/b.xlsx", 1000, [])
    ledger._db.execute("DROP TABLE digests")  # as if imported before digests were kept
    ledger._db.execute("CREATE TABLE digests (import_id INTEGER PRIMARY KEY, digest_json TEXT NOT NULL)")
    assert ledger.digest_of(result.import_id) == digest(sub)
    assert [accepted.digest for accepted in ledger.accepted_returns()] == [digest(sub)]


def test_migration_to_version_4_moves_v3_digests_to_their_table(tmp_path, master):
    import json

    from jixiao_xl.ledger import MIGRATIONS, split_script
    from jixiao_xl.submission import submission_to_dict

    sub = make_submission(master, "435001")
    path = tmp_path / "v3.sqlite"
    raw = sqlite3.connect(path)
    raw.executescript(_V1_BY_HAND)
    for script in MIGRATIONS[1:3]:
        for statement in split_script(script):
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 3")
    v3_digest = json.dumps(submission_to_dict(dataclasses.replace(sub, dept=None, findings=())), ensure_ascii=False)
    raw.execute("INSERT INTO imports (sha256, file_name, original_path, size, kind, received_at, unit_code,"
                " status, submission_json, digest_json) VALUES (?, 'a.xlsx', '/in/a.xlsx', 5, 'xlsx',"
                " '2024-01-01T08:00:00+08:00', '435001', 'parsed', ?, ?)",
                (sub.sha256, json.dumps(submission_to_dict(sub), ensure_ascii=False), v3_digest))
    raw.commit()
    raw.close()

    with Ledger.open(path) as ledger:
        assert ledger.schema_version == SCHEMA_VERSION
        stored = json.loads(ledger._db.execute("SELECT digest_json FROM digests WHERE import_id = 1").fetchone()[0])
        assert set(stored) == {"unit_name", "projects", "indicators"}
        assert ledger.digest_of(1) == dataclasses.replace(digest(sub), contact=None)  # v3 kept no contact
        assert ledger.contacts([1]) == {1: sub.contact}  # read from the submission instead
        assert ledger.submission_of(1) == sub  # the submission itself is untouched
