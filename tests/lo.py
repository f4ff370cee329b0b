"""A LibreOffice driver for tests: convert files with soffice, and act on workbooks over UNO.

Two ways in:

* :func:`convert` — ``soffice --headless --convert-to`` with a private profile; returns the new file.
* :func:`run_uno` (or the session-scoped ``libreoffice`` fixture's ``.run``) — a list of actions carried
  out in one LibreOffice that stays up for the whole test session. ``uno_worker.py`` does the work under
  the system interpreter (``/usr/bin/python3``, the only one with ``uno``); this module is plain Python.

Actions are dicts with an ``op``; results come back in the same order. Paths may be :class:`Path`.

========================  ==========================================================================
op and keys               result
========================  ==========================================================================
open {path, keep?}        {"ok", "sheets"}; the document is closed when the run ends unless keep
attach {path}             picks up a document kept open by an earlier run
save_as {path, format}    format xlsx | xls | ods | pdf (default: the path's suffix); a copy, the
                          open document stays what it was
close / close_all         closes the current / every document
calculate_all             recalculates everything (as LibreOffice does after typing)
sheet_names               ["填报说明", ...]
is_protected {sheet}      bool
unprotect / protect       {sheet, password}; a wrong password is an error
rename_sheet {old, new}   remove_sheet {sheet}   sheet_visibility {sheet} → bool
insert_rows {sheet, row, count=1}  rows inserted before 1-based ``row``; delete_rows likewise
named_ranges              {name: "$'sheet'.$B$4", ...} (LibreOffice notation)
set_value {sheet, cell, value, via="api"|"ui"}
                          "a person types": numbers as numbers, str as text, None clears.
                          {"ok": true} or {"ok": false, "error"} on a locked cell of a protected
                          sheet. via "api" uses setValue/setString and refuses such cells itself,
                          because the UNO API ignores sheet protection; via "ui" types through the
                          view (.uno:EnterString) and reports what LibreOffice did with it.
set_formula {sheet, cell, formula}  English function names, ";" between arguments
get {sheet, cell}         {"string", "value", "formula", "type": EMPTY|VALUE|TEXT|FORMULA, "error"}
cell_locked {sheet, cell} bool (CellProtection.IsLocked)
validation {sheet, cell}  {"type": LIST|DECIMAL|ANY|..., "formula1", "formula2", "operator",
                          "show_list", "ignore_blank", "show_error", "error_style"}
eval {sheet, formula, cell?}  the formula's result (as ``get``) from a scratch cell, then cleared
invalid_cells {sheet}     ["B12", ...]: cells breaking their validation ("Mark Invalid Data")
page_count {sheet?}       pages as printed, of one sheet or of the whole document
print_layout {sheet}      column widths, row heights vs optimal heights, printable page size (1/100 mm)
========================  ==========================================================================

Any action may carry ``"allow_error": true``: its failure then becomes ``{"ok": false, "error"}``
instead of aborting the run with :class:`UnoActionError`.

When LibreOffice is missing the tests skip on a developer machine but fail when ``CI`` is set.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any, Iterable

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"
WORKER = Path(__file__).with_name("uno_worker.py")
MARKER = "@@JXLO@@"
CONVERT_FILTERS = {
    "pdf": "pdf",
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "xls": "xls:MS Excel 97",
    "ods": "ods",
}


class LibreOfficeError(RuntimeError):
    """LibreOffice could not be started, did not answer, or a conversion failed."""


class UnoActionError(LibreOfficeError):
    """An action failed inside the UNO worker."""

    def __init__(self, message: str, index: int, op: str | None, results: list, detail: str = ""):
        super().__init__(f"action #{index} ({op}) failed: {message}" + (f"\n{detail}" if detail else ""))
        self.index, self.op, self.results = index, op, results


# -------------------------------------------------------------------------------------------------
# Availability


def in_ci() -> bool:
    """True when the CI variable is set (to anything but an explicit no)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _clean_env() -> dict[str, str]:
    """The environment for soffice and the system interpreter, without the test interpreter's Python paths."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP")}
    env.setdefault("HOME", tempfile.gettempdir())
    return env


@functools.lru_cache(maxsize=None)
def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@functools.lru_cache(maxsize=None)
def soffice_available() -> bool:
    """soffice is on PATH and the system interpreter can ``import uno``."""
    if soffice_path() is None or not os.access(SYSTEM_PYTHON, os.X_OK):
        return False
    try:
        probe = subprocess.run([SYSTEM_PYTHON, "-I", "-c", "import uno"], capture_output=True, timeout=30,
                               env=_clean_env())
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


MISSING = ("LibreOffice is not usable here: need soffice on PATH and python3-uno for /usr/bin/python3 "
           "(apt-get install libreoffice-calc python3-uno)")

# Skip on a developer machine without LibreOffice; in CI the tests run and fail loudly instead.
requires_libreoffice = pytest.mark.skipif(not in_ci() and not soffice_available(), reason=MISSING)


def require_libreoffice() -> None:
    """Skip the calling test when LibreOffice is missing, or fail it when running in CI."""
    if soffice_available():
        return
    if in_ci():
        pytest.fail(MISSING + " — CI must have it", pytrace=False)
    pytest.skip(MISSING)


def require_tool(name: str) -> str:
    """The path of a command-line tool (pdftoppm, pdfinfo ...): skip without it, fail in CI."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (apt-get install poppler-utils)"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


# -------------------------------------------------------------------------------------------------
# Processes


def _stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """End a process we started as the leader of its own process group, and everything it started."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    # The group may outlive its leader (soffice.bin under the oosplash launcher).
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def _profile_arg(profile: Path) -> str:
    return f"-env:UserInstallation={profile.resolve().as_uri()}"


# -------------------------------------------------------------------------------------------------
# Conversion


_convert_lock = threading.Lock()
_convert_profile: Path | None = None


def _conversion_profile() -> Path:
    """One private profile for every conversion of this test session (conversions take turns)."""
    global _convert_profile
    if _convert_profile is None:
        _convert_profile = Path(tempfile.mkdtemp(prefix="jxlo-convert-"))
        atexit.register(shutil.rmtree, _convert_profile, True)
    return _convert_profile


def convert(path: Path | str, fmt: str, outdir: Path | str, timeout: float = 180) -> Path:
    """Convert ``path`` to ``fmt`` (pdf, xlsx, xls, ods) into ``outdir`` with headless soffice; returns the file."""
    if fmt not in CONVERT_FILTERS:
        raise ValueError(f"unknown format {fmt!r}; use one of {sorted(CONVERT_FILTERS)}")
    if not soffice_available():
        raise LibreOfficeError(MISSING)
    source, outdir = Path(path).resolve(), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / f"{source.stem}.{fmt}"
    if target.resolve() == source:
        raise ValueError(f"converting {source} to {fmt} into {outdir} would overwrite it")
    target.unlink(missing_ok=True)
    with _convert_lock:
        command = [soffice_path(), "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
                   "--nolockcheck", _profile_arg(_conversion_profile()), "--convert-to", CONVERT_FILTERS[fmt],
                   "--outdir", str(outdir), str(source)]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_clean_env(),
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_group(proc, grace=2)
            raise LibreOfficeError(f"soffice --convert-to {fmt} {source.name} took more than {timeout} s") from None
        finally:
            _stop_group(proc, grace=2)
    if proc.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        raise LibreOfficeError(f"soffice --convert-to {fmt} {source.name} failed (exit {proc.returncode}):\n"
                               f"{out.decode(errors='replace')}{err.decode(errors='replace')}")
    return target


# -------------------------------------------------------------------------------------------------
# UNO session


class LibreOffice:
    """One headless soffice listening on a private pipe, with its own profile; ``run`` sends actions to it."""

    def __init__(self, startup_timeout: float = 90.0):
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.workdir: Path | None = None
        self.pipe = ""
        self.version: str | None = None
        self._lock = threading.Lock()

    # Lifecycle
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> "LibreOffice":
        if self.running:
            return self
        if not soffice_available():
            raise LibreOfficeError(MISSING)
        self.close()
        self.workdir = Path(tempfile.mkdtemp(prefix="jxlo-uno-"))
        self.pipe = f"jxlo_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        log = open(self.workdir / "soffice.log", "wb")
        command = [soffice_path(), "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
                   "--nolockcheck", _profile_arg(self.workdir / "profile"),
                   f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext"]
        try:
            # Its own process group (killed as one), in our session so that the watchdog can join it.
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=_clean_env(), preexec_fn=os.setpgrp, cwd=self.workdir)
        finally:
            log.close()
        try:
            self._watch(self.proc.pid, self.workdir, self.pipe)
            # The worker retries the connection until soffice listens (a fresh profile takes a few seconds).
            answer = self._send([{"op": "ping"}], timeout=self.startup_timeout + 30,
                                connect_timeout=self.startup_timeout)
        except BaseException:
            self.close()
            raise
        self.version = answer[0].get("version")
        return self

    @staticmethod
    def _watch(group: int, workdir: Path, pipe: str) -> None:
        """Kill soffice's process group if this test process dies without closing it (SIGKILL, crash)."""
        script = ('while kill -0 "$1" 2>/dev/null; do sleep 1; done; '
                  'rm -rf "$3" /tmp/OSL_PIPE_*_"$4"; kill -9 "-$2"')
        subprocess.Popen(["/bin/sh", "-c", script, "jxlo-watchdog", str(os.getpid()), str(group), str(workdir), pipe],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         preexec_fn=lambda: os.setpgid(0, group))  # in soffice's group: it goes with it

    def close(self) -> None:
        """Quit LibreOffice (politely, then by force) and remove its profile; safe to call twice."""
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                try:
                    self._send([{"op": "terminate"}], timeout=15, connect_timeout=5, check=False)
                except Exception:
                    pass
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
            _stop_group(proc, grace=5)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        if self.pipe:  # the listener's socket file, left behind when soffice is killed
            for stale in Path("/tmp").glob(f"OSL_PIPE_*_{self.pipe}"):
                stale.unlink(missing_ok=True)

    def __enter__(self) -> "LibreOffice":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # Actions
    def run(self, actions: Iterable[dict[str, Any]], timeout: float = 120) -> list:
        """Carry out ``actions`` in order in one UNO connection; returns one result per action.

        Raises :class:`UnoActionError` when an action fails (unless it allows errors). When LibreOffice
        does not answer within ``timeout`` it is restarted for the next call and LibreOfficeError raised.
        """
        with self._lock:
            self.start()
            try:
                return self._send(list(actions), timeout=timeout, connect_timeout=30)
            except subprocess.TimeoutExpired:
                self.close()  # a hung soffice must not poison the next test
                raise LibreOfficeError(f"LibreOffice did not finish the actions within {timeout} s") from None

    def _send(self, actions: list, timeout: float, connect_timeout: float, check: bool = True) -> list:
        payload = json.dumps(actions, ensure_ascii=False, default=_jsonable)
        command = [SYSTEM_PYTHON, "-I", str(WORKER), "--pipe", self.pipe, "--connect-timeout", str(connect_timeout)]
        done = subprocess.run(command, input=payload.encode(), capture_output=True, timeout=timeout, env=_clean_env())
        stdout, stderr = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
        answer = None
        for line in stdout.splitlines():
            if line.startswith(MARKER):
                answer = json.loads(line[len(MARKER):])
        if answer is None:
            if not check:
                return []
            raise LibreOfficeError(f"the UNO worker gave no answer (exit {done.returncode}):\n{stdout}{stderr}"
                                   f"{self._log_tail()}")
        if "error" in answer and check:
            detail = answer.get("traceback", "")
            if answer.get("op") == "connect":
                detail += self._log_tail()
            raise UnoActionError(answer["error"], answer.get("index", -1), answer.get("op"), answer.get("results", []),
                                 detail)
        return answer.get("results", [])

    def _log_tail(self) -> str:
        state = "not started" if self.proc is None else f"exit code {self.proc.poll()}"
        log = self.workdir / "soffice.log" if self.workdir else None
        text = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        return f"\n[soffice {state}] {text}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} to the UNO worker")


_default: LibreOffice | None = None
_default_lock = threading.Lock()


def session() -> LibreOffice:
    """The LibreOffice shared by this test session (started on first use, stopped at exit at the latest)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = LibreOffice()
            atexit.register(shutdown)
        return _default.start()


def shutdown() -> None:
    """Stop the shared LibreOffice, if it was started."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
            _default = None


def run_uno(actions: Iterable[dict[str, Any]], timeout: float = 120) -> list:
    """Carry out ``actions`` in the shared LibreOffice (see the module docstring for the actions)."""
    return session().run(actions, timeout=timeout)

