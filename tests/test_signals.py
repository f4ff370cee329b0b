"""SIGTERM, SIGINT and SIGKILL sent to the main process only: no worker survives it.

`generate` (a ProcessPoolExecutor) and `import` (the isolated reader pool) are started on enough units or
files to be busy; the worker pids are read from /proc/<pid>/task/*/children while they work; then the main
process alone is signalled. The workers must go away with it (SIGTERM/SIGINT: killed by the main process
before it unwinds; SIGKILL: the parent-death signal or the workers' own watchdog), and the exit status
must be 143 for SIGTERM and 130 for SIGINT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from hostile_corpus import rezip
from jixiao_xl.cli import cli
from jixiao_xl.generate import GenerateOptions, generate, workbook_name
from jixiao_xl.master import load_master, load_sample, write_master

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads worker pids from /proc")

UNITS = 300
RETURNS = 400
# Upper bounds for waiting on processes (never asserted as durations: a slow machine only waits longer).
START_LIMIT = 120.0
GONE_LIMIT = 15.0


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, Path]:
    """(a master with UNITS extra units, a folder of RETURNS distinct returns of one unit)."""
    root = tmp_path_factory.mktemp("signals")
    sample = load_sample()
    first = sample.units[0]
    own = [p for p in sample.projects if p.unit_code == first.code]
    units, projects = list(sample.units), list(sample.projects)
    for k in range(UNITS):
        code = f"9{k:05d}"
        units.append(replace(first, code=code, name=f"信号测试单位{k}"))
        projects += [replace(p, unit_code=code, code=f"{code}P{n:02d}") for n, p in enumerate(own)]
    master = root / "master.xlsx"
    write_master(master, replace(sample, units=tuple(units), projects=tuple(projects)))
    issued = root / "issued"
    generate(load_master(master), master, GenerateOptions(out_dir=issued, jobs=1, units=(first.code,)))
    base = (issued / workbook_name(first)).read_bytes()
    returns = root / "returns"
    returns.mkdir()
    for k in range(RETURNS):
        extra = {f"docProps/jx-copy-{k}.xml": f"<r n='{k}'/>".encode()}
        (returns / f"报回-{k:03d}.xlsx").write_bytes(rezip(base, add=extra))
    return master, returns


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.update(int(p) for p in task.read_text().split())
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped has finished and does not count)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    state = next((line.split()[1] for line in status.splitlines() if line.startswith("State:")), "")
    return state not in ("Z", "X")


def _start_busy(command: list[str], workers: int, stderr: Path) -> tuple[subprocess.Popen, set[int]]:
    """Start ``command`` and wait until it has ``workers`` worker processes; returns it and their pids.

    stderr goes to a file, not a pipe: a surviving worker would hold a pipe open and hang the test."""
    with open(stderr, "wb") as sink:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sink, start_new_session=True)
    deadline = time.monotonic() + START_LIMIT
    while time.monotonic() < deadline and process.poll() is None:
        pids = _children(process.pid)
        if len(pids) >= workers:
            time.sleep(0.3)  # let them start work
            pids = _children(process.pid) | pids
            return process, pids
        time.sleep(0.05)
    process.kill()
    process.wait()
    pytest.fail(f"{command[3]} never had {workers} workers (exit {process.returncode})")


def _wait_gone(pids: set[int]) -> set[int]:
    deadline = time.monotonic() + GONE_LIMIT
    while time.monotonic() < deadline:
        alive = {pid for pid in pids if _alive(pid)}
        if not alive:
            return set()
        time.sleep(0.1)
    return {pid for pid in pids if _alive(pid)}


def _cleanup(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _generate(master: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "jixiao_xl", "generate", "--master", str(master), "--out", str(out),
            "--jobs", "2"]


def _import(master: Path, returns: Path, root: Path) -> list[str]:
    return [sys.executable, "-m", "jixiao_xl", "import", str(returns), "--master", str(master), "--out",
            str(root / "核对"), "--ledger", str(root / "ledger.sqlite"), "--jobs", "2", "--no-sendback"]


def _signal_main(process: subprocess.Popen, workers: set[int], signum: int, stderr: Path
                 ) -> tuple[int, str, set[int]]:
    """Send ``signum`` to the main process only; its exit status, stderr and the workers still alive."""
    os.kill(process.pid, signum)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    survivors = _wait_gone(workers)
    _cleanup(survivors)
    return process.returncode, stderr.read_text(encoding="utf-8", errors="replace"), survivors


@pytest.mark.parametrize("signum, code, message", [(signal.SIGTERM, 143, "已终止"), (signal.SIGINT, 130, "已中断")])
def test_generate_signal_stops_the_workers(big, tmp_path, signum, code, message):
    master, _returns = big
    process, workers = _start_busy(_generate(master, tmp_path / "out"), 2, tmp_path / "stderr")
    status, stderr, survivors = _signal_main(process, workers, signum, tmp_path / "stderr")
    assert not survivors, f"workers {sorted(survivors)} outlived the main process"
    assert status == code, stderr
    assert message in stderr and "Traceback" not in stderr


def test_import_sigterm_stops_the_workers(big, tmp_path):
    master, returns = big
    process, workers = _start_busy(_import(master, returns, tmp_path), 2, tmp_path / "stderr")
    status, stderr, survivors = _signal_main(process, workers, signal.SIGTERM, tmp_path / "stderr")
    assert not survivors, f"workers {sorted(survivors)} outlived the main process"
    assert status == 143, stderr
    assert "已终止" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("command", ["generate", "import"])
def test_sigkill_of_the_main_process_takes_the_workers_along(big, tmp_path, command):
    master, returns = big
    argv = _generate(master, tmp_path / "out") if command == "generate" else _import(master, returns, tmp_path)
    process, workers = _start_busy(argv, 2, tmp_path / "stderr")
    status, _stderr, survivors = _signal_main(process, workers, signal.SIGKILL, tmp_path / "stderr")
    assert status == -signal.SIGKILL
    assert not survivors, f"workers {sorted(survivors)} outlived the killed main process"


def test_worker_watchdog_exits_when_its_parent_goes(tmp_path):
    """Without the parent-death signal (other systems), the watchdog alone ends an orphaned worker."""
    script = tmp_path / "orphan.py"
    script.write_text(
        "import os, sys, time\n"
        "from jixiao_xl.runtime import lifetime\n"
        "lifetime._set_parent_death_signal = lambda: None  # as on a system without prctl\n"
        "parent = os.getpid()\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    lifetime.bind_to_parent(parent)\n"
        "    while True:\n"
        "        sum(range(1000))  # busy, like a worker stuck in a template\n"
        "print(child, flush=True)\n"
        "os._exit(0)\n", encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    child = int(result.stdout.strip())
    survivors = _wait_gone({child})
    _cleanup(survivors)
    assert not survivors, "the orphaned worker kept running"


def test_sigterm_handler_is_scoped_to_the_command():
    """run_cli installs its handlers for the command only and puts the previous ones back."""
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    from click.testing import CliRunner

    assert CliRunner().invoke(cli, ["rules"]).exit_code == 0
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
