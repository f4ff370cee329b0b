"""An older copy of a unit's form turning up later never displaces the return that counts (issue 13, "no
blank, older or tampered file changes what counts"), through the CLI.

Each return's own save time (xlsx ``dcterms:modified``, ods ``dc:date``) is recorded with its import when
it is credible: later than the generation time of the workbook issued to the unit, and not more than a day
ahead. A later import saved earlier than the counted return is recorded with an L-OLDER finding for the
bureau and counts for nothing, until the bureau passes it (``review UNIT --pass --import N``).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.ledger import Ledger

UNIT = "435001"
UNIT_FILE = "435001-巨鹿县行政审批局本级.xlsx"


def invoke(root: Path, *args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args], env={"JIXIAO_WORKSPACE": str(root)})


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A sample workspace whose forms have been issued (copied by each test)."""
    root = tmp_path_factory.mktemp("older") / "2026"
    assert invoke(root, "init", root, "--sample").exit_code == 0
    result = invoke(root, "generate", "--jobs", 1)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def workspace(generated, tmp_path) -> Path:
    root = tmp_path / "2026"
    shutil.copytree(generated, root)
    return root


def issued_at(root: Path) -> datetime:
    """The generation time of the workbook issued to the unit (naive, UTC), as the ledger holds it."""
    with Ledger.open(root / "ledger.sqlite") as ledger:
        return datetime.fromisoformat(ledger.issued_latest()[UNIT].generated_at)


def returned(root: Path, name: str, purpose: str, modified: datetime) -> Path:
    """The unit's issued form with its first project's 资金用途 filled in, saved (in a folder of its own,
    outside the workspace's inbox) with ``modified`` (UTC) as its core.xml save time."""
    wb = openpyxl.load_workbook(root / "下发" / UNIT_FILE)
    sheet, cell = wb.defined_names["JX_P01_PURPOSE"].attr_text.split("!")
    wb[sheet.strip("'")][cell.replace("$", "")] = purpose
    path = root.parent / "mail" / name / UNIT_FILE
    path.parent.mkdir(parents=True)
    wb.save(path)  # openpyxl stamps the current time: the save time is set afterwards
    set_modified(path, modified)
    return path


def set_modified(path: Path, modified: datetime) -> None:
    """Rewrite the package's ``dcterms:modified`` (as Excel writes it: UTC, with Z)."""
    with zipfile.ZipFile(path) as archive:
        parts = [(info, archive.read(info.filename)) for info in archive.infolist()]
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                data, n = re.subn(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>",
                                  data)
                assert n == 1
            archive.writestr(info, data)


def imported(root: Path, path: Path) -> int:
    """Import one return; returns its import id (the sample keeps its seed defects: exit 1)."""
    result = invoke(root, "import", path, "--jobs", 1)
    assert result.exit_code == 1, result.output
    with Ledger.open(root / "ledger.sqlite") as ledger:
        return ledger.by_sha256(hashlib.sha256(path.read_bytes()).hexdigest()).id


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def counted(root: Path) -> dict:
    result = invoke(root, "status", "--json")
    assert result.exit_code == 0, result.output
    [unit] = json.loads(result.output)["units"]
    return unit


def last_run_findings(root: Path) -> list[dict]:
    runs = sorted((root / "核对").iterdir(), key=lambda p: int(p.name.split("第")[1].rstrip("次")))
    return json.loads((runs[-1] / "findings.json").read_text(encoding="utf-8"))


def saved_at_of(root: Path, import_id: int) -> str:
    with sqlite3.connect(root / "ledger.sqlite") as db:
        row = db.execute("SELECT saved_at FROM receipts WHERE import_id = ?", (import_id,)).fetchone()
    return row[0] if row else ""


def test_an_older_copy_imported_later_does_not_displace_the_newer_return(workspace):
    base = issued_at(workspace)
    newer = returned(workspace, "newer", "第二稿：用于统一着装", base + timedelta(hours=3))
    older = returned(workspace, "older", "第一稿", base + timedelta(hours=1))
    newer_id = imported(workspace, newer)
    assert saved_at_of(workspace, newer_id) == (base + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    older_id = imported(workspace, older)

    unit = counted(workspace)
    assert (unit["import_id"], unit["returns"]) == (newer_id, 2)
    [note] = [f for f in last_run_findings(workspace) if f["rule"] == "L-OLDER"]
    assert note["severity"] == "info" and note["unit_code"] == UNIT
    assert f"第 {newer_id} 号导入，{UNIT_FILE}" in note["message"]
    assert "早于该单位已计入的报送" in note["message"] and "未替代已计入的报送" in note["message"]
    assert f"jixiao-xl review {UNIT} --pass --import {older_id}" in note["message"]
    assert (note["value"], note["expected"]) == (saved_at_of(workspace, older_id), saved_at_of(workspace, newer_id))
    with Ledger.open(workspace / "ledger.sqlite") as ledger:  # recorded with the older import, never sent back
        assert [f.rule for f in ledger.findings_of(older_id) if f.rule == "L-OLDER"] == ["L-OLDER"]
        assert ledger.get(older_id).superseded_by == newer_id and ledger.get(newer_id).superseded_by is None
    assert not any(f["rule"] == "L-SUPERSEDED" for f in last_run_findings(workspace))

    report = invoke(workspace, "report")  # the year as it stands: the newer one still counts
    assert report.exit_code in (0, 1), report.output
    assert counted(workspace)["import_id"] == newer_id


def test_the_newer_return_imported_last_counts(workspace):
    base = issued_at(workspace)
    older_id = imported(workspace, returned(workspace, "older", "第一稿", base + timedelta(hours=1)))
    newer_id = imported(workspace, returned(workspace, "newer", "第二稿", base + timedelta(hours=3)))
    assert counted(workspace)["import_id"] == newer_id != older_id
    assert not any(f["rule"] == "L-OLDER" for f in last_run_findings(workspace))
    assert any(f["rule"] == "L-SUPERSEDED" for f in last_run_findings(workspace))


@pytest.mark.parametrize("first_offset", [timedelta(0), timedelta(hours=-2)],
                         ids=["the issued form's own time", "before generation"])
def test_a_save_time_that_cannot_be_believed_leaves_import_order_to_decide(workspace, first_offset):
    """A program that keeps the issued time on saving (or a clock that is wrong) gives no save time: the later
    import counts, as it always did."""
    base = issued_at(workspace)
    credible_id = imported(workspace, returned(workspace, "first", "第一稿", base + timedelta(hours=3)))
    kept_time_id = imported(workspace, returned(workspace, "second", "第二稿", base + first_offset))
    assert saved_at_of(workspace, kept_time_id) == ""
    assert counted(workspace)["import_id"] == kept_time_id != credible_id
    assert not any(f["rule"] == "L-OLDER" for f in last_run_findings(workspace))


def test_a_save_time_far_in_the_future_is_not_believed(workspace):
    base = issued_at(workspace)
    future_id = imported(workspace, returned(workspace, "future", "第一稿", utc_now() + timedelta(days=30)))
    later_id = imported(workspace, returned(workspace, "later", "第二稿", base + timedelta(hours=1)))
    assert saved_at_of(workspace, future_id) == ""
    assert counted(workspace)["import_id"] == later_id


def test_the_bureau_passes_the_older_copy_and_it_counts(workspace):
    base = issued_at(workspace)
    newer_id = imported(workspace, returned(workspace, "newer", "第二稿", base + timedelta(hours=3)))
    older_id = imported(workspace, returned(workspace, "older", "第一稿", base + timedelta(hours=1)))
    assert counted(workspace)["import_id"] == newer_id

    passed = invoke(workspace, "review", UNIT, "--pass", "--import", older_id, "--by", "张科长")
    assert passed.exit_code == 0, passed.output
    assert f"已通过单位 {UNIT} 的报送（第 {older_id} 号导入）" in passed.output
    unit = counted(workspace)
    assert (unit["import_id"], unit["review"]) == (older_id, "通过")

    wrong = invoke(workspace, "review", UNIT, "--pass", "--import", 999)
    assert wrong.exit_code == 2
    assert "第 999 号导入不是单位 435001 的有效报送" in wrong.output


def test_read_shows_the_save_time(workspace):
    path = returned(workspace, "one", "第一稿", datetime(2026, 12, 1, 8, 30, 5))
    result = invoke(workspace, "read", path, "--json", "-", "--jobs", 1)
    assert result.exit_code == 0, result.output
    [read] = json.loads(result.output)["submissions"]
    assert read["saved_at"] == "2026-12-01T08:30:05+00:00"


def purpose_cell(path: Path) -> tuple[str, str]:
    """(sheet, A1 cell) of the first project's 资金用途 in a generated form."""
    sheet, cell = openpyxl.load_workbook(path).defined_names["JX_P01_PURPOSE"].attr_text.split("!")
    return sheet.strip("'"), cell.replace("$", "")


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_return_saved_in_libreoffice_has_its_save_time(workspace, libreoffice, fmt):
    """Typed into and saved by LibreOffice (as a person pressing Ctrl+S): the file carries the time it was
    saved, and the ledger keeps it."""
    path = workspace.parent / "mail" / "libreoffice" / UNIT_FILE
    path.parent.mkdir(parents=True)
    shutil.copyfile(workspace / "下发" / UNIT_FILE, path)
    sheet, cell = purpose_cell(path)
    saved = path.with_suffix(f".{fmt}")
    actions = [{"op": "open", "path": str(path)}, {"op": "set_value", "sheet": sheet, "cell": cell, "value": "第一稿"},
               {"op": "save"}]
    actions += [{"op": "save_as", "path": str(saved)}] if fmt != "xlsx" else []
    assert all(result["ok"] for result in libreoffice.run([*actions, {"op": "close"}]))
    import_id = imported(workspace, saved)
    moment = datetime.fromisoformat(saved_at_of(workspace, import_id)).replace(tzinfo=None)
    assert issued_at(workspace) < moment <= utc_now() + timedelta(minutes=1)


@pytest.mark.libreoffice
def test_a_libreoffice_conversion_keeps_the_issued_time_and_import_order_decides(workspace):
    """``soffice --convert-to`` writes the document time it read: the issued one, which is not believed."""
    from lo import convert, require_libreoffice

    require_libreoffice()
    source = returned(workspace, "draft", "第一稿", issued_at(workspace))
    import_id = imported(workspace, convert(source, "xlsx", workspace.parent / "mail" / "converted"))
    assert saved_at_of(workspace, import_id) == ""
    assert counted(workspace)["import_id"] == import_id
