"""Hostile and broken returns through the real `import` command: nothing crashes, nothing is lost, nothing leaks.

The corpus (tests/hostile_corpus.py) is built from code once per module and imported twice: in-process
through click's CliRunner, and as a user would run it, ``python -m jixiao_xl import`` in a subprocess
whose peak memory is measured. Then every output — report.xlsx, findings.csv/json, report.html, the
退回修改 workbooks and the 汇总表 in all three formats — is scanned for anything that could execute or
reveal what it should not.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import unescape

import openpyxl
import pytest
from click.testing import CliRunner, Result

from hostile_corpus import (
    FORMULA_PAYLOADS,
    HTML_PAYLOADS,
    PATH_UNIT,
    SECRET_MARKERS,
    TEMPLATE_PAYLOAD,
    Corpus,
    build_corpus,
)
from jixiao_xl.cli import cli
from jixiao_xl.ledger import Ledger
from jixiao_xl.safety import FORMULA_TRIGGERS

# Peak memory allowed to the whole import (every worker and isolated reader included): generous, but far
# below what the zip bomb (2 GiB) or the far cell (17 billion cells) would take if they were inflated.
MAX_RSS_BYTES = 1.5 * 1024**3
# Formulas the tool itself writes into 退回修改 workbooks (live checks and totals): all start like this.
TOOL_FORMULA = re.compile(r"^=(IF|N)\(")
XML_QUOTES = {"&quot;": '"', "&apos;": "'"}
# A quoted sheet name inside a formula ('It''s'!A1).
QUOTED_SHEET = re.compile(r"'(?:[^']|'')*'")
# What a traceback, a Rust panic or an allocator failure looks like on a terminal.
CRASH_MARKERS = ("Traceback", "程序内部错误", "panicked", "stack backtrace", "memory allocation of", "Error:")


@dataclass
class Run:
    """One import of the corpus and what came out of it."""

    corpus: Corpus
    result: Result
    out: Path
    ledger: Path
    summary_xlsx: Path
    summary_csv: Path
    summary_json: Path
    consolidate: list[Result]
    before: dict[str, str]
    root: Path


def returned_digests(folder: Path) -> dict[str, str]:
    """sha256 of every entry of the returns folder (links followed) — what must never change."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    root = tmp_path_factory.mktemp("hostile")
    corpus = build_corpus(root / "corpus")
    before = returned_digests(corpus.returns)
    out, ledger = root / "核对", root / "ledger.sqlite"
    result = _invoke("import", corpus.returns, "--master", corpus.master, "--out", out, "--ledger", ledger,
                     "--jobs", "2")
    summary = root / "汇总" / "汇总表.xlsx"
    consolidated = [_invoke("consolidate", "--master", corpus.master, "--ledger", ledger, "--out", summary)]
    consolidated.append(_invoke("consolidate", "--master", corpus.master, "--ledger", ledger, "--out",
                                root / "汇总" / "csv", "--format", "csv"))
    consolidated.append(_invoke("consolidate", "--master", corpus.master, "--ledger", ledger, "--out",
                                root / "汇总" / "汇总表.json", "--format", "json"))
    return Run(corpus, result, out, ledger, summary, root / "汇总" / "csv", root / "汇总" / "汇总表.json",
               consolidated, before, root)


def findings(run: Run) -> list[dict]:
    return json.loads((run.out / "findings.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------
# Nothing crashes


def test_corpus_is_large_and_varied(run):
    assert len(run.corpus.cases) >= 40
    assert len({c.id for c in run.corpus.cases}) == len(run.corpus.cases)
    assert sorted(run.before) == sorted(c.file for c in run.corpus.cases)


def test_import_finishes_with_exit_code_1_and_no_traceback(run):
    result = run.result
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    for marker in CRASH_MARKERS:
        assert marker not in result.output, result.output
    assert f"核对文件 {len(run.corpus.cases) - 1} 个" in result.output  # the byte-identical copy is read once
    for consolidated in run.consolidate:
        assert consolidated.exit_code in (0, 1), consolidated.output
        assert not any(marker in consolidated.output for marker in CRASH_MARKERS), consolidated.output


def test_every_case_has_its_expected_findings(run):
    by_file: dict[str, set[str]] = {}
    for f in findings(run):
        by_file.setdefault(f["file"], set()).add(f["rule"])
    problems = []
    for case in run.corpus.cases:
        rules = by_file.get(str(run.corpus.path(case)), set())
        missing = [code for code in case.expect if code not in rules]
        if missing or (case.any_of and not rules & set(case.any_of)) or rules & set(case.forbid):
            problems.append(f"{case.id}: expected {case.expect} any of {case.any_of} without {case.forbid}, "
                            f"got {sorted(rules)}")
    assert not problems, "\n".join(problems)


def test_every_file_is_in_findings_and_in_the_ledger(run):
    files = {f["file"] for f in findings(run)}
    assert {str(run.corpus.path(c)) for c in run.corpus.cases} <= files
    with Ledger.open(run.ledger) as ledger:
        assert ledger.integrity_ok()
        history = ledger.history()
        by_sha = {row.sha256: row for row in history}
        for case in run.corpus.cases:
            digest = run.before[case.file]
            assert digest in by_sha, case.id
            row = by_sha[digest]
            if case.id == "duplicate_copy":  # read once, under the first name
                assert row.original_path == str(run.corpus.path(run.corpus.case("valid")))
                continue
            assert row.original_path == str(run.corpus.path(case)), case.id
            assert row.status != "received", case.id  # completed: parsed or failed
            assert ledger.findings_of(row.id), case.id
            if case.readable is not None:
                assert row.status == ("parsed" if case.readable else "failed"), case.id
    assert len(history) == len(run.corpus.cases) - 1


# --------------------------------------------------------------------------------------------------
# Bombs: refused without the memory they ask for, and nothing reaches the user's terminal


def test_subprocess_import_is_bounded_in_memory_and_prints_no_traceback(run, tmp_path):
    wrapper = ("import json, resource, subprocess, sys\n"
               "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
               "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "json.dump({'rc': p.returncode, 'maxrss_kb': usage.ru_maxrss,\n"
               "           'stdout': p.stdout.decode('utf-8', 'replace'), 'stderr': p.stderr.decode('utf-8', 'replace')},\n"
               "          sys.stdout)\n")
    command = [sys.executable, "-c", wrapper, sys.executable, "-m", "jixiao_xl", "import", str(run.corpus.returns),
               "--master", str(run.corpus.master), "--out", str(tmp_path / "out"), "--ledger",
               str(tmp_path / "ledger.sqlite"), "--jobs", "2"]
    env = {**os.environ, "RUST_BACKTRACE": "1"}  # the worst case: a native failure would print a backtrace
    outcome = json.loads(subprocess.run(command, capture_output=True, check=True, env=env, timeout=300).stdout)
    assert outcome["rc"] == 1, outcome
    for marker in CRASH_MARKERS:
        assert marker not in outcome["stdout"] + outcome["stderr"], outcome
    assert outcome["maxrss_kb"] * 1024 < MAX_RSS_BYTES, outcome["maxrss_kb"]
    rules: dict[str, set[str]] = {}
    for f in json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8")):
        rules.setdefault(Path(f["file"]).name, set()).add(f["rule"])
    for case_id in ("zip_bomb", "zip_bomb_lying_sizes", "zip_many_entries", "far_cell", "entity_bomb_shared_strings",
                    "entity_bomb_workbook", "too_big"):
        case = run.corpus.case(case_id)
        assert rules[case.file] & set(case.expect + case.any_of), (case_id, rules[case.file])


# --------------------------------------------------------------------------------------------------
# Nothing in any output can execute


def output_workbooks(run: Run) -> list[Path]:
    books = [run.out / "report.xlsx", run.summary_xlsx, *sorted((run.out / "退回修改").glob("*.xlsx"))]
    assert all(p.is_file() for p in books)
    return books


def _formula_elements(path: Path) -> list[str]:
    """The text of every <f> element in every sheet part, read from the package itself."""
    found = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = zf.read(name).decode("utf-8")
                found += [unescape(f, XML_QUOTES) for f in re.findall(r"<f(?:\s[^>]*)?>(.*?)</f>", xml, re.S)]
    return found


def test_no_user_text_becomes_a_formula_in_any_workbook(run):
    sendbacks = sorted((run.out / "退回修改").glob("*.xlsx"))
    assert len(sendbacks) == 2
    strings: set[str] = set()
    for path in output_workbooks(run):
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        assert path in sendbacks, (path.name, ws.title, cell.coordinate, cell.value)
                        assert TOOL_FORMULA.match(str(cell.value)), (path.name, ws.title, cell.coordinate, cell.value)
                    elif isinstance(cell.value, str):
                        strings.add(cell.value)
        for formula in _formula_elements(path):
            # Sheet names come from project names the unit typed; inside a formula they are quoted references
            # to sheets of this workbook, nothing more. What is left must hold no payload.
            for quoted in QUOTED_SHEET.findall(formula):
                assert quoted[1:-1].replace("''", "'") in wb.sheetnames, (path.name, formula)
            rest = QUOTED_SHEET.sub("SHEET", formula)
            assert not any(marker in rest for marker in ("HYPERLINK", "cmd|", "SUM(", "evil", "＝", "＋", "@")), formula
    # The payloads did reach the workbooks — as text.
    assert any(FORMULA_PAYLOADS[0] in s for s in strings)
    for payload in ("＝1+1", "＋1+1", "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"):
        assert any(payload in s for s in strings), payload


def test_the_sendback_shows_the_payloads_as_the_unit_typed_them(run):
    # The unit's last file in the batch carries the payloads, so its 退回修改 workbook is rendered from them.
    unit_files = sorted(c.file for c in run.corpus.cases if c.file[:2].isdigit() and c.file < "60")
    assert unit_files[-1] == run.corpus.case("formula_strings").file
    sendback = next(p for p in (run.out / "退回修改").glob("*.xlsx") if p.name.startswith("435001"))
    wb = openpyxl.load_workbook(sendback)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.value in FORMULA_PAYLOADS]
    assert len(cells) >= 8
    assert all(c.data_type == "s" for c in cells)


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_csv_cells_are_neutralised(run):
    texts = [(run.out / "findings.csv").read_text(encoding="utf-8-sig")]
    texts += [p.read_text(encoding="utf-8-sig") for p in sorted(run.summary_csv.glob("*.csv"))]
    assert len(texts) > 1
    for text in texts:
        for cell in _csv_cells(text):
            assert not cell.startswith(FORMULA_TRIGGERS), cell[:80]
    cells = _csv_cells(texts[0])
    assert "'" + FORMULA_PAYLOADS[0] in cells
    assert any(c.startswith("'＝") for c in cells) and any(c.startswith("'@") for c in cells)


def test_html_escapes_every_payload(run):
    html = (run.out / "report.html").read_text(encoding="utf-8")
    assert html.lower().count("<script") == 1  # the report's own inline script
    for payload in HTML_PAYLOADS:
        assert payload not in html
    assert "&lt;script&gt;alert(" in html
    assert "<img" not in html.lower()


def test_json_keeps_user_text_verbatim(run):
    values = {f["value"] for f in findings(run)}
    assert FORMULA_PAYLOADS[0] in values  # nothing lost: JSON is data, kept exactly as typed
    data = json.loads(run.summary_json.read_text(encoding="utf-8"))
    assert data


# --------------------------------------------------------------------------------------------------
# Nothing leaks, nothing escapes, nothing is changed


def _all_output_bytes(run: Run) -> list[tuple[Path, bytes]]:
    files = [p for p in run.root.rglob("*") if p.is_file() and run.corpus.root not in p.parents]
    return [(p, p.read_bytes()) for p in files]


def test_no_secret_reaches_any_output(run):
    outputs = _all_output_bytes(run)
    assert len(outputs) >= 8
    for path, data in outputs:
        for marker in SECRET_MARKERS:
            assert marker.encode() not in data, (path, marker)


def test_output_paths_stay_inside_the_output_folders(run):
    allowed = [run.out, run.root / "汇总", run.corpus.root]
    for path in run.root.rglob("*"):
        if path.is_file():
            assert any(folder in path.parents for folder in allowed) or path.name.startswith("ledger.sqlite"), path
        assert ".." not in path.relative_to(run.root).parts
    assert not Path("/tmp/jixiao-evil.txt").exists()
    unit_files = [p for p in (run.out / "退回修改").iterdir() if p.name.startswith(PATH_UNIT)]
    assert len(unit_files) == 1
    assert not set('/\\:*?"<>|') & set(unit_files[0].name) and ".." not in unit_files[0].name
    sendback = openpyxl.load_workbook(unit_files[0])
    texts = {c.value for ws in sendback.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert TEMPLATE_PAYLOAD in texts  # a name with template syntax is shown as typed, never evaluated
    leftovers = [p for p in run.root.rglob(".tmp-*")]
    assert not leftovers, leftovers
    report = openpyxl.load_workbook(run.out / "report.xlsx")
    assert all(not set('[]:*?/\\') & set(name) and len(name) <= 31 for name in report.sheetnames)


def test_returned_files_are_byte_identical_after_the_run(run):
    assert returned_digests(run.corpus.returns) == run.before


def test_output_inside_the_returns_folder_is_refused(run):
    inside = run.corpus.returns / "核对"
    result = _invoke("import", run.corpus.returns, "--master", run.corpus.master, "--out", inside, "--ledger",
                     run.root / "other.sqlite")
    assert result.exit_code == 2, result.output
    assert not inside.exists()
    result = _invoke("import", run.corpus.returns, "--master", run.corpus.master, "--out", run.root / "elsewhere",
                     "--ledger", run.corpus.returns / "ledger.sqlite")
    assert result.exit_code == 2, result.output
    assert not (run.corpus.returns / "ledger.sqlite").exists()
    assert returned_digests(run.corpus.returns) == run.before
