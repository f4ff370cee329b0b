"""kill -9 at random moments: the ledger survives, reports are whole or absent, a re-run finishes the job.

A small folder of returns (valid, tampered, truncated, CSV, a slow far-cell file) is imported again and
again into ONE ledger and ONE output folder, as a user would re-run after a crash. Before every run a
new return of the unit is added (so every run has reading, supersession and reporting to do) and the run
— the main process, its workers and their isolated readers, the whole process group — is killed with
SIGKILL after a seeded random delay scaled to a measured full run. After every kill the ledger and the
output folder are checked; at the end one run is let finish and must account for every file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from hostile_corpus import CSV_TEXT, _far_cell, _edit_budget, rezip, with_openpyxl
from jixiao_xl.generate import GenerateOptions, generate, workbook_name
from jixiao_xl.ledger import Ledger
from jixiao_xl.master import load_master, load_sample, write_master
from jixiao_xl.report import CSV_NAME, HTML_NAME, JSON_NAME, XLSX_NAME

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")

RUNS = 24
SEED = 20240501
REPORTS = (JSON_NAME, CSV_NAME, XLSX_NAME, HTML_NAME)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> tuple[Path, Path, bytes]:
    """(master, returns folder with six files, the issued workbook's bytes)."""
    root = tmp_path_factory.mktemp("kill")
    master = root / "master.xlsx"
    write_master(master, load_sample())
    issued = root / "issued"
    loaded = load_master(master)
    generate(loaded, master, GenerateOptions(out_dir=issued, jobs=1))
    base = (issued / workbook_name(loaded.units[0])).read_bytes()
    returns = root / "returns"
    returns.mkdir()
    (returns / "a-原样.xlsx").write_bytes(base)
    (returns / "b-改预算.xlsx").write_bytes(with_openpyxl(base, _edit_budget))
    (returns / "c-截断.xlsx").write_bytes(base[: len(base) // 2])
    (returns / "d-文本.xlsx").write_text(CSV_TEXT, encoding="utf-8")
    (returns / "e-远端单元格.xlsx").write_bytes(_far_cell(base))
    (returns / "f-空.xlsx").write_bytes(b"")
    return master, returns, base


def _command(master: Path, returns: Path, out: Path, ledger: Path) -> list[str]:
    return [sys.executable, "-m", "jixiao_xl", "import", str(returns), "--master", str(master), "--out", str(out),
            "--ledger", str(ledger), "--jobs", "2"]


def _start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the run's whole process group (the group we created for it), then reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate(timeout=30)


def _new_return(returns: Path, base: bytes, k: int) -> Path:
    """Another return of the unit with bytes of its own (an extra package part), valid and readable."""
    path = returns / f"g-第{k:02d}次.xlsx"
    path.write_bytes(rezip(base, add={f"docProps/jx-resubmission-{k}.xml": f"<r n='{k}'/>".encode()}))
    return path


def check_ledger(ledger_path: Path) -> None:
    """The ledger opens and is sound; every completed import has its submission and findings."""
    with Ledger.open(ledger_path) as ledger:
        assert ledger.integrity_ok()
        accepted = {}
        for row in ledger.history():
            assert row.status in ("received", "parsed", "failed")
            if row.status == "received":
                continue
            assert row.completed_at
            ledger.submission_of(row.id)  # stored and parseable
            assert ledger.findings_of(row.id), row  # every file of this inbox has at least one finding
            if row.accepted:
                assert row.unit_code not in accepted, (row, accepted)
                accepted[row.unit_code] = row.id


def check_outputs(out: Path) -> None:
    """Each run's folder (``out`` itself or a ``<时间>-第N次`` folder in it) holds only complete reports,
    催报.xlsx, 退回修改 workbooks, 退回通知 texts and .tmp-* temporaries."""
    if not out.exists():
        return
    check_run_folder(out, runs_inside=True)
    for folder in out.iterdir():
        if folder.is_dir() and folder.name.endswith("次"):
            check_run_folder(folder, runs_inside=False)


def check_run_folder(out: Path, runs_inside: bool) -> None:
    for path in out.iterdir():
        if path.name.startswith(".tmp-"):
            continue  # a temporary of a killed write: never renamed, so never taken for a report
        if path.is_dir():
            if path.name == "退回修改":
                for book in path.iterdir():
                    if not book.name.startswith(".tmp-"):
                        assert book.suffix == ".xlsx", book
                        openpyxl.load_workbook(book)
            elif path.name == "退回通知":
                assert all(p.suffix == ".txt" or p.name.startswith(".tmp-") for p in path.iterdir())
            else:
                assert runs_inside and path.name.endswith("次"), path  # another run's own folder
            continue
        assert path.name in (*REPORTS, "催报.xlsx"), path
    if (out / JSON_NAME).exists():
        assert isinstance(json.loads((out / JSON_NAME).read_text(encoding="utf-8")), list)
    if (out / CSV_NAME).exists():
        text = (out / CSV_NAME).read_bytes().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][0] == "file" and text.endswith("\r\n")
        assert all(len(row) == len(rows[0]) for row in rows)
    if (out / XLSX_NAME).exists():
        assert "问题清单" in openpyxl.load_workbook(out / XLSX_NAME).sheetnames
    if (out / HTML_NAME).exists():
        assert (out / HTML_NAME).read_text(encoding="utf-8").rstrip().endswith("</html>")


def test_kill_at_random_moments(inbox, tmp_path):
    master, returns, base = inbox
    # A full, unkilled run in a scratch place tells how long a run takes on this machine.
    started = time.monotonic()
    calibration = subprocess.run(_command(master, returns, tmp_path / "scratch", tmp_path / "scratch.sqlite"),
                                 capture_output=True, timeout=120)
    full = time.monotonic() - started
    assert calibration.returncode == 1, calibration.stderr.decode("utf-8", "replace")

    out, ledger = tmp_path / "out", tmp_path / "ledger.sqlite"
    rng = random.Random(SEED)
    killed = 0
    for k in range(RUNS):
        _new_return(returns, base, k)
        process = _start(_command(master, returns, out, ledger))
        time.sleep(rng.uniform(0.2, 1.0) * full)
        if process.poll() is None:
            killed += 1
        _kill_group(process)
        if ledger.exists():
            check_ledger(ledger)
        check_outputs(out)
    assert killed >= RUNS // 4, f"only {killed} of {RUNS} runs were still going when killed"

    final = subprocess.run(_command(master, returns, out, ledger), capture_output=True, timeout=120)
    stdout, stderr = (final.stdout.decode("utf-8", "replace"), final.stderr.decode("utf-8", "replace"))
    assert final.returncode in (0, 1), stderr
    assert "Traceback" not in stdout + stderr
    check_ledger(ledger)
    check_outputs(out)
    files = sorted(p for p in returns.iterdir())
    with Ledger.open(ledger) as opened:
        rows = opened.history()
        runs = opened.runs()
    assert all(row.status != "received" for row in rows)
    by_path = {row.original_path: row for row in rows}
    # Every run's reports are complete now (the final run rebuilt those the kills interrupted), each in
    # its own folder; the final run's report names every file.
    assert all(run.reported_at is not None for run in runs if run.out_dir)
    listed = {f["file"] for f in json.loads((Path(runs[-1].out_dir) / JSON_NAME).read_text(encoding="utf-8"))}
    for path in files:
        # Every file is in the ledger, completed; the final report names it (read now, or a duplicate of an
        # import a killed run had finished).
        assert str(path) in by_path, path
        assert str(path) in listed, path
