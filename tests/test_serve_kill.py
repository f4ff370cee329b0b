"""kill -9 the site during uploads, start it again: every upload that got a 2xx is in the ledger (and in
原件/ when the import keeps copies there), and nothing is left half-recorded.

The server (``jixiao-xl serve``, its import workers and their readers: one process group) is killed with
SIGKILL while several clients upload at once, in a few rounds; after each restart the uploads a crash left
"received" are imported when the server starts.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")

from serve_helpers import SAMPLE, SiteFiles, filled, free_port, make_site  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")]

ROUNDS = 3
CLIENTS = 4
UPLOADS_BEFORE_KILL = 5


def start(site: SiteFiles, port: int) -> subprocess.Popen:
    """``jixiao-xl serve`` in its own process group; returns once it answers."""
    process = subprocess.Popen([sys.executable, "-m", "jixiao_xl", "--workspace", str(site.root), "serve", "--port",
                                str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("the server did not start")


def uploads_until_killed(site: SiteFiles, port: int, process: subprocess.Popen) -> list[str]:
    """Upload from several clients until :data:`UPLOADS_BEFORE_KILL` got answers, then SIGKILL the server
    mid-flight; returns the sha256 of every upload answered with a 2xx."""
    acknowledged: list[str] = []
    lock = threading.Lock()
    url = site.links[SAMPLE].replace(site.links[SAMPLE].split("/u/")[0], f"http://127.0.0.1:{port}")
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            data = filled(site, SAMPLE)
            try:
                response = httpx.post(url, files={"file": ("r.xlsx", data)}, headers={"Accept": "application/json"},
                                      timeout=120)
            except httpx.HTTPError:
                return
            if 200 <= response.status_code < 300:
                with lock:
                    acknowledged.append(hashlib.sha256(data).hexdigest())
                    if len(acknowledged) >= UPLOADS_BEFORE_KILL:
                        stop.set()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    stop.wait(timeout=300)
    os.killpg(process.pid, signal.SIGKILL)  # the others are in flight now
    process.wait()
    for thread in threads:
        thread.join(timeout=120)
    with lock:
        return list(acknowledged)


def test_kill_during_uploads_loses_nothing_that_was_acknowledged(tmp_path):
    site = make_site(tmp_path / "w")
    port = free_port()
    acknowledged: list[str] = []
    for _ in range(ROUNDS):
        process = start(site, port)
        acknowledged += uploads_until_killed(site, port, process)
    process = start(site, port)  # the last restart completes what the last kill interrupted
    try:
        assert len(acknowledged) >= ROUNDS * UPLOADS_BEFORE_KILL
        with sqlite3.connect(site.root / "ledger.sqlite") as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            imports = dict(db.execute("SELECT sha256, status FROM imports"))
            uploads = db.execute("SELECT sha256, status, import_id FROM serve_uploads").fetchall()
        for digest in acknowledged:
            assert imports.get(digest) == "parsed", digest
        assert "received" not in imports.values()  # none half-recorded
        assert all(status == "done" for _sha, status, _id in uploads)
        assert {sha for sha, _status, _id in uploads} >= set(acknowledged)
        originals = site.root / "原件"
        kept = {hashlib.sha256(p.read_bytes()).hexdigest() for p in originals.rglob("*") if p.is_file()}
        if kept:  # the import keeps a copy of every received file there (content-addressed)
            assert set(acknowledged) <= kept
        for digest in acknowledged:
            stored = next(p for p in (site.root / "收件").iterdir() if hashlib.sha256(p.read_bytes()).hexdigest() == digest)
            assert Path(stored).name.startswith("网上报送-")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
