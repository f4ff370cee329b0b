"""The operating system's faults get plain Chinese answers naming the path and what to do.

* A folder the user may not write: the CLI runs as the unprivileged user 65534 through ``setpriv`` (the
  tests run as root, for whom chmod changes nothing) — EACCES.
* A read-only file system: a read-only bind mount in a private mount namespace (``unshare -m``) — EROFS.
* A full disk: a tiny tmpfs mounted in a private mount namespace — ENOSPC, with what was finished, what was
  not, and that a rerun completes it.
* A busy ledger: another process holds the write lock; the import says on stderr that it waits, then names
  the process that holds the ledger and says the ledger is intact — never "不是可用的台账文件".

Each case skips with its reason where the machine cannot make it (no setpriv, no mount namespaces).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from jixiao_xl.ledger import connection as ledger_module
from jixiao_xl.cli import cli
from jixiao_xl.ledger import Ledger

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
CRASH_MARKERS = ("Traceback", "程序内部错误", "不是可用的", "请发给维护人员")


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_setpriv = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv") or not _works([*NOBODY, "true"]),
    reason="needs root and setpriv to run the CLI as an unprivileged user")
needs_mounts = pytest.mark.skipif(
    not shutil.which("unshare") or not _works(["unshare", "-m", "--propagation", "private", "true"]),
    reason="needs a private mount namespace (unshare -m) to mount a read-only folder or a small tmpfs")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A folder every user may read (pytest's own is private to root) with the demo's master, returns and
    ledger; removed at the end."""
    root = Path(tempfile.mkdtemp(prefix="jixiao-os-", dir="/tmp"))
    root.chmod(0o755)
    result = CliRunner().invoke(cli, ["demo", "--out", str(root / "demo")])
    assert result.exit_code in (0, 1), result.output
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _jx(*args: object) -> list[str]:
    return [sys.executable, "-m", "jixiao_xl", *map(str, args)]


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, capture_output=True, timeout=300)
    result.stdout, result.stderr = (result.stdout.decode("utf-8", "replace"), result.stderr.decode("utf-8", "replace"))
    return result


def _in_namespace(mounts: str, command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run ``command`` after the shell lines ``mounts`` in a private mount namespace."""
    script = f'{mounts} && exec "$@"'
    return _run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", *command], cwd)


def _plain(result: subprocess.CompletedProcess) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert not any(marker in output for marker in CRASH_MARKERS), output
    return result.stderr


def _master(world: Path) -> Path:
    return world / "demo" / "主数据.xlsx"


def _returns(world: Path) -> Path:
    return world / "demo" / "收件"


@pytest.fixture
def scratch(world):
    """A folder inside ``world`` that the unprivileged user may write (for what is not under test)."""
    path = Path(tempfile.mkdtemp(dir=world))
    path.chmod(0o777)
    return path


# --------------------------------------------------------------------------------------------------
# A folder the user may not write (EACCES)


@needs_setpriv
def test_generate_into_a_folder_without_write_permission(world, scratch):
    locked = scratch / "只读"
    locked.mkdir(mode=0o755)  # root's; the unprivileged user may read it, not write it
    stderr = _plain(_run([*NOBODY, *_jx("generate", "--master", _master(world), "--out", locked / "下发")], world))
    assert f"无法写入 {locked / '下发'}" in stderr and "没有写权限" in stderr and "--out" in stderr


@needs_setpriv
def test_import_with_the_ledger_in_a_folder_without_write_permission(world, scratch):
    locked = scratch / "台账"
    locked.mkdir(mode=0o755)
    stderr = _plain(_run([*NOBODY, *_jx("import", _returns(world), "--master", _master(world), "--out",
                                        scratch / "核对", "--ledger", locked / "ledger.sqlite")], world))
    assert f"台账所在的文件夹 {locked}" in stderr and "没有写权限" in stderr and "--ledger" in stderr


@needs_setpriv
def test_status_reads_a_ledger_in_a_folder_it_may_not_write(world):
    # No -shm can be created there; a ledger nobody is writing is read as it is.
    ledger = world / "demo" / "ledger.sqlite"
    assert not Path(f"{ledger}-wal").exists()
    result = _run([*NOBODY, *_jx("status", "--master", _master(world), "--ledger", ledger, "--manifest",
                                 world / "demo" / "下发" / "manifest.csv")], world)
    assert result.returncode == 0, result.stderr
    assert "已报送有错误 2" in result.stdout


# --------------------------------------------------------------------------------------------------
# A read-only file system (EROFS)


@needs_mounts
def test_generate_and_consolidate_into_a_read_only_file_system(world, scratch):
    frozen = scratch / "只读盘"
    frozen.mkdir()
    mounts = f"mount --bind '{frozen}' '{frozen}' && mount -o remount,bind,ro '{frozen}'"
    stderr = _plain(_in_namespace(mounts, _jx("generate", "--master", _master(world), "--out", frozen / "下发"),
                                  world))
    assert f"无法写入 {frozen / '下发'}" in stderr and "只读" in stderr
    stderr = _plain(_in_namespace(mounts, _jx("consolidate", "--master", _master(world), "--ledger",
                                              world / "demo" / "ledger.sqlite", "--out", frozen / "汇总表.xlsx"),
                                  world))
    assert f"无法写入 文件夹 {frozen}" in stderr and "只读" in stderr  # the folder, not a temporary's name
    assert list(frozen.iterdir()) == []


# --------------------------------------------------------------------------------------------------
# A full disk (ENOSPC)


def _tmpfs(folder: Path, size: str) -> str:
    return f"mount -t tmpfs -o size={size},mode=0777 tmpfs '{folder}'"


@needs_mounts
def test_generate_on_a_full_disk_says_what_was_finished_and_that_a_rerun_completes_it(world, scratch):
    small = scratch / "小盘"
    small.mkdir()
    stderr = _plain(_in_namespace(_tmpfs(small, "48k"), _jx("generate", "--master", _master(world), "--out",
                                                             small / "下发", "--jobs", "1"), world))
    assert "磁盘空间已满" in stderr and f"文件夹 {small / '下发'}" in stderr
    assert "已完成：" in stderr and "个单位的工作簿" in stderr and "未完成：" in stderr and "下发清单" in stderr
    assert "重新运行同一命令" in stderr


@needs_mounts
def test_import_reports_on_a_full_disk_say_the_ledger_is_complete(world, scratch):
    small = scratch / "小盘"
    small.mkdir()
    ledger = scratch / "ledger.sqlite"
    stderr = _plain(_in_namespace(_tmpfs(small, "24k"), _jx("import", _returns(world), "--master", _master(world),
                                                             "--out", small / "核对", "--ledger", ledger), world))
    assert "磁盘空间已满" in stderr and str(small / "核对") in stderr
    files = len(list(_returns(world).iterdir()))
    assert f"已完成：全部 {files} 个文件已核对并记入台账（台账完好）" in stderr and "未完成：核对报告和退回修改表" in stderr
    with Ledger.open_readonly(ledger) as opened:
        assert opened.integrity_ok()
        assert len(opened.history()) == files


@needs_mounts
def test_a_ledger_on_a_full_disk_is_named(world, scratch):
    small = scratch / "小盘"
    small.mkdir()
    stderr = _plain(_in_namespace(_tmpfs(small, "16k"), _jx("import", _returns(world), "--master", _master(world),
                                                             "--out", scratch / "核对", "--ledger",
                                                             small / "ledger.sqlite"), world))
    assert f"磁盘空间已满，写入 台账 {small / 'ledger.sqlite'} 失败" in stderr


# --------------------------------------------------------------------------------------------------
# A busy ledger


HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""


def test_a_busy_ledger_waits_then_names_the_holder_and_says_the_ledger_is_intact(world, scratch, monkeypatch):
    ledger = scratch / "ledger.sqlite"
    shutil.copy(world / "demo" / "ledger.sqlite", ledger)
    monkeypatch.setattr(ledger_module, "BUSY_TIMEOUT_MS", 1500)
    monkeypatch.setattr(ledger_module, "BUSY_NOTICE_MS", 300)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(ledger)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        result = CliRunner().invoke(cli, ["import", str(_returns(world)), "--master", str(_master(world)), "--out",
                                          str(scratch / "核对"), "--ledger", str(ledger)])
    finally:
        holder.communicate(b"", timeout=60)
    assert result.exit_code == 2, result.output
    assert f"台账 {ledger} 正被另一个程序使用，正在等待" in result.stderr
    assert f"台账 {ledger} 正被另一个程序写入" in result.stderr and f"进程 {holder.pid}" in result.stderr
    assert "台账本身完好" in result.stderr and "重新运行同一命令" in result.stderr
    assert not any(marker in result.output for marker in CRASH_MARKERS), result.output
    with Ledger.open(ledger) as opened:
        assert opened.integrity_ok()
    rerun = CliRunner().invoke(cli, ["import", str(_returns(world)), "--master", str(_master(world)), "--out",
                                     str(scratch / "核对"), "--ledger", str(ledger)])
    assert rerun.exit_code in (0, 1), rerun.output
