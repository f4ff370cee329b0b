"""A worker's memory is limited where ``RLIMIT_AS`` does not exist (macOS refuses it, Windows has no
``resource``): ``JIXIAO_MEMORY_WATCH=poll`` takes that path on Linux, and a file that needs more than the
limit still becomes I-MEMORY for that file, in one-off children and in the pool alike."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
import xlsxwriter

from jixiao_xl.intake import Limits, MiB
from jixiao_xl.read import read_file
from jixiao_xl.runtime import EXIT_MEMORY, IsolatedPool, run_isolated
from jixiao_xl.runtime.isolated import died_finding
from jixiao_xl.workbook import open_workbook

SMALL = Limits(memory_bytes=16 * MiB, timeout_seconds=30)
AMPLE = Limits(memory_bytes=1024 * MiB, timeout_seconds=30)


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A workbook of 20,000 rows of text: a 1.5 MB file whose reading takes well over 16 MiB."""
    path = tmp_path_factory.mktemp("memory") / "大表.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("1.项目")
    for row in range(20000):
        sheet.write_row(row, 0, [f"第{row}行第{column}列的文字内容" for column in range(12)])
    workbook.close()
    return path


@pytest.fixture
def polled(monkeypatch):
    """Workers watch their resident size instead of setting RLIMIT_AS (they inherit the environment)."""
    monkeypatch.setenv("JIXIAO_MEMORY_WATCH", "poll")


def address_space_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_AS)[0]


def cells(path: str) -> int:
    """Read every sheet of a workbook (in a worker)."""
    workbook = open_workbook(Path(path), "xlsx")
    return sum(len(workbook.sheet(name).rows) for name in workbook.sheet_names)


def test_the_watch_replaces_rlimit_as(polled):
    assert run_isolated(address_space_limit).value == resource.RLIM_INFINITY


def test_rlimit_as_is_set_where_it_exists():
    assert run_isolated(address_space_limit).value != resource.RLIM_INFINITY


def test_a_file_over_the_limit_is_i_memory_for_that_file(big, polled):
    sub = read_file(big, limits=SMALL)
    assert [(f.rule, f.file, f.severity) for f in sub.findings] == [("I-MEMORY", str(big), "error")]
    assert "16.0 MB" in sub.findings[0].message


def test_the_same_file_within_the_limit_is_read(big, polled):
    sub = read_file(big, limits=AMPLE)
    assert "I-MEMORY" not in {f.rule for f in sub.findings}


def test_the_pool_replaces_a_worker_its_watch_stopped(big, polled):
    pool = IsolatedPool(1, SMALL)
    try:
        over, small = pool.submit(cells, str(big)), pool.submit(len, "数据")
        assert over.result().finding.rule == "I-MEMORY"
        assert small.result().value == 2  # the next task runs in a fresh worker
    finally:
        pool.shutdown()


def test_a_watched_exit_is_i_memory():
    assert died_finding(EXIT_MEMORY, SMALL).rule == "I-MEMORY"
    assert died_finding(1, SMALL).rule == "I-CORRUPT"
