"""Load benchmark of ``jixiao-xl serve`` (not a test): 200 uploads from 20 concurrent clients on loopback.

A workspace with 20 units of 5 projects each is generated; every upload is a unit's issued workbook filled
in (fresh bytes each time). The server runs as ``jixiao-xl serve`` in its own process group; the benchmark
measures each request from its start to the findings in the answer, checks that every upload was
answered 2xx and is recorded in the ledger, and samples the resident memory of the server's whole process
group (server, import workers, isolated readers).

    python bench/serve.py [--uploads 200] [--clients 20] [--keep DIR]

Target: p95 < 2 s on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import openpyxl

from jixiao_xl.generate import GenerateOptions, generate, workbook_name
from jixiao_xl.master import load_master, load_sample, write_master
from jixiao_xl.model import Master
from jixiao_xl.serve.links import unit_links
from jixiao_xl.workspace import init_workspace, load_workspace

UNITS = 20
PROJECTS = 5


def bench_master() -> Master:
    """20 units, each with the sample unit's first five projects."""
    sample = load_sample()
    source = sample.units[0].code
    base = [p for p in sample.projects if p.unit_code == source][:PROJECTS]
    units, projects = [], []
    for n in range(1, UNITS + 1):
        code = f"4360{n:02d}"
        units.append(replace(sample.units[0], code=code, name=f"压力测试单位{n:02d}"))
        projects += [replace(p, unit_code=code, code=f"{code}BENCH{k:02d}") for k, p in enumerate(base, start=1)]
    return replace(sample, units=tuple(units), projects=tuple(projects))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def group_rss(pgid: int) -> int:
    """Resident bytes of every process in the process group ``pgid``."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            continue
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time of process ``pid`` and of its children it has reaped (the server's import workers)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def filled(issued: Path, n: int) -> bytes:
    wb = openpyxl.load_workbook(issued)
    wb.worksheets[1]["B21"] = f"联系人{n}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--keep", type=Path, default=None, help="build the workspace here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="jixiao-serve-bench-")) / "ws"
    port = free_port()
    workspace = init_workspace(root).workspace
    write_master(workspace.master, bench_master())
    config = workspace.config_path.read_text("utf-8").replace('base_url = ""', f'base_url = "http://127.0.0.1:{port}"')
    workspace.config_path.write_text(config, "utf-8")
    workspace = load_workspace(root)
    master = load_master(workspace.master)
    generate(master, workspace.master, GenerateOptions(out_dir=workspace.issued, jobs=2, ledger_path=workspace.ledger))
    links = unit_links(workspace, [u.code for u in master.units])
    codes = [u.code for u in master.units]
    print(f"准备 {args.uploads} 份报表（{UNITS} 个单位，每份 {PROJECTS} 个项目）…", flush=True)
    payloads = [(codes[n % len(codes)], filled(workspace.issued / workbook_name(master.unit(codes[n % len(codes)])), n))
                for n in range(args.uploads)]

    server = subprocess.Popen([sys.executable, "-m", "jixiao_xl", "--workspace", str(root), "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    peak, sampling = [0], threading.Event()

    def sample_memory() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], group_rss(server.pid))
            time.sleep(0.05)

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        idle = group_rss(server.pid)
        cpu_before = cpu_seconds(server.pid)
        sampler = threading.Thread(target=sample_memory, daemon=True)
        sampler.start()
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        queue = list(enumerate(payloads))

        def client() -> None:
            with httpx.Client(timeout=300) as http:
                while True:
                    with lock:
                        if not queue:
                            return
                        n, (code, data) = queue.pop()
                    started = time.perf_counter()
                    response = http.post(links[code], files={"file": (f"{code}.xlsx", data)},
                                         headers={"Accept": "application/json"})
                    elapsed = time.perf_counter() - started
                    ok = response.status_code == 200 and "findings" in response.json()
                    with lock:
                        latencies.append(elapsed)
                        if not ok:
                            failures.append(f"{n}: {response.status_code}")

        began = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        sampling.set()
        time.sleep(0.5)  # the last workers exit and are reaped
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)

    with sqlite3.connect(root / "ledger.sqlite") as db:
        recorded = {sha for sha, in db.execute("SELECT sha256 FROM imports WHERE status = 'parsed'")}
    missing = [n for n, (_code, data) in enumerate(payloads) if hashlib.sha256(data).hexdigest() not in recorded]
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
    print(f"上传 {len(latencies)} 份，{args.clients} 个并发客户端，CPU {os.cpu_count()} 核，用时 {wall:.1f} s"
          f"（{len(latencies) / wall:.1f} 份/秒）")
    print(f"延迟 p50 {p50:.2f} s，p95 {p95:.2f} s，最长 {latencies[-1]:.2f} s（目标 p95 < 2 s）")
    print(f"服务器进程组内存：空闲 {idle / 2**20:.0f} MiB，峰值 {peak[0] / 2**20:.0f} MiB")
    # Independent of what else the machine runs: what the server and its workers spent on the uploads.
    print(f"服务器 CPU 用时（含导入子进程）{cpu:.1f} s，每份 {1000 * cpu / max(1, len(latencies)):.0f} ms；"
          f"同时的系统负载 {os.getloadavg()[0]:.1f}")
    print(f"失败的请求 {len(failures)} 个；台账中缺少的上传 {len(missing)} 份")
    return 0 if not failures and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
