"""Pools run everywhere (issue 15 §6): the parallel paths of generate, import and read give byte-identical
outputs whether their workers are forked or spawned (``JIXIAO_START_METHOD=spawn``, the default on macOS and
Windows), and under spawn nothing in the command's process forks.

Each command runs as a real process (``python -m jixiao_xl``) with ``--jobs 2``, once per start method, in two
workspaces whose paths have the same length; outputs are compared with the workspace's path taken out, xlsx
workbooks member by member.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from jixiao_xl.master import load_sample, write_master
from jixiao_xl.model import Unit

# The time written into generated workbooks and recorded for the import (the same for both runs).
EPOCH = "1700000000"
# Runs `python -m jixiao_xl` with every way of forking a child from Python removed, as on Windows.
NO_FORK = """
import os, runpy, sys
def refused(*args, **kwargs):
    raise OSError(38, "fork is not available here")
os.fork = os.forkpty = refused
sys.argv = ["jixiao-xl", *sys.argv[1:]]
runpy.run_module("jixiao_xl", run_name="__main__")
"""


def jixiao(cwd: Path, *args: str, method: str = "", no_fork: bool = False, timeout: float = 240):
    """Run the command line in ``cwd`` with the given start method ("" = the platform's default)."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "TZ": "Asia/Shanghai"}
    env.pop("JIXIAO_START_METHOD", None)
    if method:
        env["JIXIAO_START_METHOD"] = method
    command = [sys.executable, "-c", NO_FORK, *args] if no_fork else [sys.executable, "-m", "jixiao_xl", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def contents(folder: Path, root: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path, ``root`` replaced in its bytes; xlsx by member."""
    needle = str(root).encode()
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as workbook:
                for member in workbook.namelist():
                    found[f"{name}!{member}"] = workbook.read(member).replace(needle, b"<WS>")
        else:
            found[name] = path.read_bytes().replace(needle, b"<WS>")
    return found


def four_units(ws: Path) -> None:
    """Make the workspace's master the sample's with three more units, one project each."""
    sample = load_sample()
    extra = tuple(Unit(code=f"{600001 + i}", name=f"测试单位{i + 1}") for i in range(3))
    projects = tuple(replace(sample.projects[i], unit_code=u.code, code=f"{u.code}P1") for i, u in enumerate(extra))
    write_master(ws / "主数据.xlsx", replace(sample, units=sample.units + extra, projects=sample.projects + projects))


def fill_returns(ws: Path) -> None:
    """Put in 收件/ a return of every issued workbook with one cell filled in, a second return of the first
    unit (which of the two counts must not depend on which worker finishes first), and a file that is no
    workbook."""
    issued = sorted((ws / "下发").glob("*.xlsx"))
    for path in issued:
        workbook = openpyxl.load_workbook(path)
        workbook.worksheets[1]["B9"] = "按计划完成项目任务"
        workbook.save(ws / "收件" / path.name)
    workbook = openpyxl.load_workbook(issued[0])
    workbook.worksheets[1]["B9"] = "按计划完成项目任务，提升政务服务水平"
    workbook.save(ws / "收件" / f"{issued[0].stem}-改.xlsx")
    (ws / "收件" / "说明.xlsx").write_text("单位编码,说明\n435001,已报\n", encoding="utf-8")


@pytest.fixture(scope="module")
def years(tmp_path_factory):
    """The same year run under fork and under spawn: ``{method: workspace}``. Under spawn every way of forking is
    taken away from the command's process, as on Windows. The returns are made once (a saved workbook records
    when it was saved) and copied to both."""
    base = tmp_path_factory.mktemp("spawn")
    runs = {}
    for method, folder in (("fork", "fork"), ("spawn", "spwn")):  # same length: the same report column widths
        (base / folder).mkdir()
        ws = runs[method] = base / folder / "ws"
        init = jixiao(base / folder, "init", "ws", "--sample", "--year", "2022")
        assert init.returncode == 0, init.stderr
        four_units(ws)
        generated = jixiao(ws, "generate", "--jobs", "2", method=method, no_fork=method == "spawn")
        assert generated.returncode == 0, generated.stderr
    fill_returns(runs["fork"])
    for path in (runs["fork"] / "收件").iterdir():
        shutil.copyfile(path, runs["spawn"] / "收件" / path.name)
    for method, ws in runs.items():
        imported = jixiao(ws, "import", "--jobs", "2", method=method, no_fork=method == "spawn")
        assert imported.returncode == 1, imported.stderr  # the sample's returns have errors
        read = jixiao(ws, "read", "--jobs", "2", "--json", "read.json", method=method, no_fork=method == "spawn")
        assert read.returncode == 0, read.stderr
    return runs


def run_folder(ws: Path) -> Path:
    [folder] = (ws / "核对").iterdir()
    return folder


def test_generate_is_the_same_under_spawn(years):
    fork, spawn = (contents(years[m] / "下发", years[m]) for m in ("fork", "spawn"))
    assert len([name for name in fork if name.endswith("!xl/workbook.xml")]) == 4
    assert fork == spawn


def test_import_is_the_same_under_spawn(years):
    fork, spawn = (contents(run_folder(years[m]), years[m]) for m in ("fork", "spawn"))
    assert {"report.xlsx!xl/workbook.xml", "findings.json", "findings.csv"} <= set(fork)
    assert any(name.startswith("退回修改/") for name in fork)
    assert fork.keys() == spawn.keys()
    assert [name for name in fork if fork[name] != spawn[name]] == []
    rules = {finding["rule"] for finding in json.loads(fork["findings.json"])}
    assert {"I-CSV", "R-F5", "X-DUP-UNIT"} <= rules  # intake, the workers, the batch


def test_read_is_the_same_under_spawn(years):
    fork, spawn = ((years[m] / "read.json").read_bytes().replace(str(years[m]).encode(), b"<WS>")
                   for m in ("fork", "spawn"))
    assert len(json.loads(fork)["submissions"]) == 6
    assert fork == spawn


def test_fork_where_fork_is_unavailable_is_an_error_not_a_hang(years, tmp_path):
    ws = years["fork"]
    done = jixiao(ws, "import", "收件", "--out", str(tmp_path / "out"), "--ledger", str(tmp_path / "l.sqlite"),
                  "--jobs", "2", method="fork", no_fork=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "无法启动读取文件的工作进程" in done.stderr and "JIXIAO_START_METHOD=spawn" in done.stderr


def test_an_unknown_start_method_is_a_usage_error(years):
    done = jixiao(years["fork"], "read", "--jobs", "2", method="vfork", timeout=60)
    assert done.returncode == 2
    assert "JIXIAO_START_METHOD" in done.stderr and "spawn" in done.stderr


def test_what_a_batch_froze_is_given_back_for_a_long_running_process(tmp_path, monkeypatch):
    """The site imports every upload in one process: a batch that left the collector's frozen generation
    growing would keep each upload's garbage for ever (gc.freeze is for the length of a batch only)."""
    from click.testing import CliRunner

    from jixiao_xl.cli import cli

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.delenv("JIXIAO_START_METHOD", raising=False)
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(ws), "--sample"]).exit_code == 0
    monkeypatch.chdir(ws)
    frozen_before = gc.get_freeze_count()
    assert runner.invoke(cli, ["generate", "--jobs", "2"]).exit_code == 0
    assert gc.get_freeze_count() == frozen_before
    fill_returns(ws)
    imported = runner.invoke(cli, ["import", "--jobs", "2"])
    assert imported.exit_code in (0, 1), imported.output
    assert "核对文件" in imported.output
    assert gc.get_freeze_count() == frozen_before
