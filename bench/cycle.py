"""The whole cycle through the command line, at province scale, timed and with its memory sampled.

    python bench/cycle.py                      # 20,000 units × 5 projects × 7 indicators, --jobs 2
    python bench/cycle.py --units 400          # a smaller cycle (about a minute)

Steps, each a real ``jixiao-xl`` command in its own process (each loads the master workbook first):
``generate``, the returns (the issued workbooks copied to a folder, as if every unit sent its
form back unchanged; the synthetic master carries the seed's own mistakes, so about 40 % of the units get
findings and a 退回修改 workbook), ``import`` and ``consolidate``. ``generate`` records what it issued in a
ledger of its own here, and the import is given no manifest: an import that knows the issued bytes would
rightly take unchanged copies for forms returned unfilled (X-BLANK) and skip checking them, which would
measure nothing. The master workbook is built once and
cached in ``bench/_work/cache``; building it is not part of the cycle.

Memory: a sampler reads the proportional set size (``Pss`` in ``/proc/<pid>/smaps_rollup``) of the
command and all its descendants every 0.2 s and keeps the largest sum. Pss divides pages shared between
forked workers among them, so the sum is what the tree really occupies. Linux only.

Results: a table on stdout and the key ``cycle`` (or ``cycle-<units>``) of ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from run import CACHE, RESULTS, TARGETS, WORK, _loadavg, machine, run_step  # noqa: E402


def _children(pid: int) -> list[int]:
    # Children are listed per thread: a pool's workers may be started from a helper thread.
    found = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as handle:
                found += [int(p) for p in handle.read().split()]
        except OSError:
            continue
    return found


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += _children(current)
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler(threading.Thread):
    """Samples the summed Pss of a process and its descendants until stopped; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.peak_processes = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            pids = _tree(self.pid)
            total = sum(_pss_kb(p) for p in pids)
            if total > self.peak_kb:
                self.peak_kb, self.peak_processes = total, len(pids)
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_command(label: str, args: list[str], log: Path) -> dict:
    """Run one command, sampling its tree; returns wall seconds, exit code and peak Pss."""
    sys.stderr.write(f"  {label}: jixiao-xl {' '.join(args)}\n")
    load = _loadavg()
    start = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "jixiao_xl", *args], stdout=out, stderr=subprocess.STDOUT,
                                   cwd=ROOT)
        sampler = TreeSampler(process.pid)
        sampler.start()
        code = process.wait()
        sampler.stop()
    seconds = time.perf_counter() - start
    result = {"label": label, "seconds": round(seconds, 2), "exit_code": code, "peak_pss_mb": round(sampler.peak_kb / 1024, 1),
              "processes_at_peak": sampler.peak_processes, "load_before": load, "log": str(log)}
    sys.stderr.write(f"    {seconds:.1f} s, exit {code}, peak {result['peak_pss_mb']} MB\n")
    return result


def copy_returns(issued: Path, returns: Path) -> dict:
    """The returns: every issued workbook, copied unchanged (not timed as part of the cycle)."""
    shutil.rmtree(returns, ignore_errors=True)
    returns.mkdir(parents=True)
    files = sorted(issued.glob("*.xlsx"))
    for path in files:
        shutil.copyfile(path, returns / path.name)
    return {"files": len(files)}


def cycle(units: int, projects: int, indicators: int, jobs: int) -> dict:
    shape = {"units": units, "projects": projects, "indicators": indicators}
    master = CACHE / f"master-{units}x{projects}x{indicators}.xlsx"
    CACHE.mkdir(parents=True, exist_ok=True)
    run_step("prepare_master_file", "prepare master.xlsx (cached)", shape=shape, path=str(master))
    work = WORK / f"cycle-{units}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    issued, returns, checked = work / "下发", work / "returns", work / "核对"
    ledger, summary = work / "ledger.sqlite", work / "汇总表.xlsx"
    jobs_args = ["--jobs", str(jobs)]
    steps = [
        run_command("generate", ["generate", "--master", str(master), "--out", str(issued), "--ledger",
                                 str(work / "issued-ledger.sqlite"), *jobs_args], work / "generate.log"),
    ]
    returned = copy_returns(issued, returns)
    steps += [
        run_command("import", ["import", str(returns), "--master", str(master), "--out", str(checked),
                               "--ledger", str(ledger), "--manifest", str(work / "no-manifest.csv"), *jobs_args],
                    work / "import.log"),
        run_command("consolidate", ["consolidate", "--master", str(master), "--ledger", str(ledger), "--out",
                                    str(summary)], work / "consolidate.log"),
    ]
    total = sum(s["seconds"] for s in steps)
    peak = max(s["peak_pss_mb"] for s in steps)
    sendbacks = len(list(checked.glob("**/退回修改/*.xlsx")))  # the run writes into a folder of its own
    return {"shape": shape, "jobs": jobs, "sheets": units * projects, "returns": returned["files"],
            "sendbacks": sendbacks, "steps": steps, "total_seconds": round(total, 1), "peak_pss_mb": peak,
            "targets": {"seconds": TARGETS["cycle_seconds"], "peak_mb": TARGETS["cycle_peak_mb"]},
            "met": {"seconds": total < TARGETS["cycle_seconds"], "peak": peak < TARGETS["cycle_peak_mb"]}}


def table(result: dict) -> str:
    lines = ["| step | seconds | exit | peak Pss MB (tree) | processes |", "|---|---|---|---|---|"]
    for s in result["steps"]:
        lines.append(f"| {s['label']} | {s['seconds']:.1f} | {s['exit_code']} | {s['peak_pss_mb']:.0f} | "
                     f"{s['processes_at_peak']} |")
    lines.append(f"| **whole cycle** | **{result['total_seconds']:.1f}** | | **{result['peak_pss_mb']:.0f}** | |")
    met = result["met"]
    lines.append("")
    lines.append(f"{result['shape']['units']:,} units, {result['sheets']:,} project sheets, --jobs {result['jobs']}; "
                 f"{result['sendbacks']:,} 退回修改 workbooks. Targets: < {result['targets']['seconds']:.0f} s "
                 f"({'met' if met['seconds'] else 'not met'}), peak < {result['targets']['peak_mb']:.0f} MB "
                 f"({'met' if met['peak'] else 'not met'}).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--projects", type=int, default=5)
    parser.add_argument("--indicators", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result = cycle(args.units, args.projects, args.indicators, args.jobs)
    result["machine"] = machine()
    result["date"] = time.strftime("%Y-%m-%d %H:%M:%S")
    result["wall_seconds"] = round(time.perf_counter() - start, 1)
    key = "cycle" if args.units == 20_000 else f"cycle-{args.units}"
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous[key] = result
    RESULTS.write_text(json.dumps(previous, ensure_ascii=False, indent=1, default=str) + "\n")
    print(table(result))
    return 0 if all(s["exit_code"] in (0, 1) for s in result["steps"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
