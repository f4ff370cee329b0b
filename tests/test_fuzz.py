"""Fuzzing returned workbooks: whatever a file holds, reading it gives a Submission, never an exception.

Hypothesis mutates a real generated return — cell values through openpyxl, zip parts removed, entries
truncated or corrupted, random bytes inserted into sheet XML, the file itself cut or scribbled on — and
each mutant goes through what `import` does with it: ``read_file`` (isolated, under a time limit), the
rules, the reconciliation, the ledger's JSON round trip and, for a readable return with problems, the
退回修改 workbook. Nothing may raise; an unreadable file must say why; every call stays in the time limit.
"""

from __future__ import annotations

import io
import json
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile_corpus import members, rezip, sheet_part
from jixiao_xl import catalogue
from jixiao_xl.findings import has_errors
from jixiao_xl.generate import GenerateOptions, generate
from jixiao_xl.intake import Limits
from jixiao_xl.master import load_sample
from jixiao_xl.read import read_file
from jixiao_xl.reconcile import reconcile_submission
from jixiao_xl.rules import RuleConfig, check_submission
from jixiao_xl.sendback import write_sendbacks
from jixiao_xl.submission import Submission, submission_from_dict, submission_json, submission_to_dict
from jixiao_xl.template import DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, builtin_template, load_spec

LIMITS = Limits(timeout_seconds=20)
# A read may take the timeout, plus the time to start the child and reap it.
TIME_BOUND = LIMITS.timeout_seconds + 10
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FAST_FUZZ = settings(FUZZ, max_examples=30)

MASTER = load_sample()
SPECS = (load_spec(builtin_template(PROJECT_TEMPLATE)), load_spec(builtin_template(DEPARTMENT_TEMPLATE)))
CONFIG = RuleConfig.from_settings(MASTER.settings, None)
FORM_SHEETS = ("1.光纤租赁和短信机费用", "3.统一着装经费", "5.政务外网费用", "部门整体绩效目标", "_meta")


def _issued() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        issued = generate(MASTER, None, GenerateOptions(out_dir=Path(folder)))
        return (Path(folder) / issued[0].file).read_bytes()


BASE = _issued()
PARTS = list(members(BASE))
SHEET_PARTS = [sheet_part(BASE, name) for name in FORM_SHEETS]


def process(data: bytes, name: str = "报回.xlsx") -> Submission:
    """Do with ``data`` what `import` does with a returned file; fail the test on any exception."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        started = time.monotonic()
        sub = read_file(path, MASTER.settings.money_unit, SPECS, limits=LIMITS)
        assert time.monotonic() - started < TIME_BOUND
        assert isinstance(sub, Submission)
        assert path.read_bytes() == data  # the returned file is never modified
        findings = list(sub.findings)
        if sub.readable:
            findings += check_submission(sub, CONFIG)
            findings += reconcile_submission(sub, MASTER, (SPECS[0].template_id, SPECS[0].version))
        else:
            assert has_errors(sub.findings), sub.findings  # a file that cannot be read says why
        for f in findings:
            assert f.file == str(path)
            catalogue.get(f.rule)  # every code is in the catalogue
        # What the ledger stores must survive its JSON round trip, and its fast encoder must write the same text.
        plain = json.dumps(submission_to_dict(sub), ensure_ascii=False, separators=(",", ":"))
        assert submission_json(sub) == plain
        submission_from_dict(json.loads(plain))
        if sub.readable and sub.unit_code == "435001" and findings:
            write_sendbacks(Path(folder) / "退回修改", MASTER, [sub], findings, *SPECS)
        return sub


# --------------------------------------------------------------------------------------------------
# Cell values through openpyxl

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60)
CELL_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31)),
    _TEXT,
    st.sampled_from(["=1/0", "=A1", "=SUM(B4:B5)", "≥95%", "＝", "五十", "1e400", "NaN", "-0", "9" * 40, "１２３．５",
                     "≤ 5 万元", "定性", "#REF!", "<script>", "=HYPERLINK(\"x\")", "\u202e", "10,000.5"]),
)
EDITS = st.lists(st.tuples(st.sampled_from(FORM_SHEETS), st.integers(1, 25), st.integers(1, 10), CELL_VALUES),
                 min_size=1, max_size=12)


def _edit_cells(edits) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(BASE))
    for sheet, row, col, value in edits:
        ws = wb[sheet]
        if sheet != "_meta":
            ws.protection.sheet = False
        cell = ws.cell(row, col)
        if type(cell).__name__ == "MergedCell":
            continue  # openpyxl cannot write into a covered cell; Excel would not let a person do it either
        cell.value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@FUZZ
@given(edits=EDITS)
def test_cell_values(edits):
    process(_edit_cells(edits))


# --------------------------------------------------------------------------------------------------
# Package damage


@FAST_FUZZ
@given(drop=st.sets(st.sampled_from(PARTS), min_size=1, max_size=6))
def test_removed_parts(drop):
    process(rezip(BASE, lambda name, content: None if name in drop else content))


DAMAGE = st.sampled_from(["truncate", "flip", "random", "empty", "garbage-xml"])


def _damage(content: bytes, how: str, where: float, data: bytes) -> bytes:
    cut = int(len(content) * where)
    if how == "truncate":
        return content[:cut]
    if how == "flip":
        flipped = bytearray(content)
        for k, byte in enumerate(data or b"\xff"):
            flipped[(cut + 97 * k) % max(len(flipped), 1)] ^= byte or 0xFF
        return bytes(flipped)
    if how == "random":
        return data
    if how == "empty":
        return b""
    return content[:cut] + b"<x><y></x>" + data + content[cut:]


@FAST_FUZZ
@given(part=st.sampled_from(PARTS), how=DAMAGE, where=st.floats(0, 1), data=st.binary(max_size=64))
def test_corrupted_entries(part, how, where, data):
    process(rezip(BASE, lambda name, content: _damage(content, how, where, data) if name == part else content))


@FAST_FUZZ
@given(part=st.sampled_from(SHEET_PARTS), where=st.floats(0, 1), data=st.binary(min_size=1, max_size=48))
def test_bytes_inserted_into_sheet_xml(part, where, data):
    def insert(name: str, content: bytes) -> bytes:
        if name != part:
            return content
        cut = int(len(content) * where)
        return content[:cut] + data + content[cut:]

    process(rezip(BASE, insert))


@FAST_FUZZ
@given(where=st.floats(0, 1), data=st.binary(max_size=32), how=st.sampled_from(["truncate", "overwrite", "insert"]))
def test_the_file_itself_damaged(where, data, how):
    cut = int(len(BASE) * where)
    if how == "truncate":
        mutant = BASE[:cut]
    elif how == "overwrite":
        mutant = BASE[:cut] + data + BASE[cut + len(data):]
    else:
        mutant = BASE[:cut] + data + BASE[cut:]
    process(mutant)


def test_the_base_return_is_read_cleanly():
    sub = process(BASE)
    assert sub.readable and sub.unit_code == "435001" and len(sub.projects) == 6
    with zipfile.ZipFile(io.BytesIO(BASE)) as zf:
        assert zf.testzip() is None


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 1e-308, 10**30,
                                   "1e400", "9" * 400, "1e-999999999"])
def test_extreme_numbers_in_every_number_cell(value):
    """Each extreme value in every amount, plan and indicator-value cell of a sheet at once."""
    def edit(wb):
        ws = wb["3.统一着装经费"]
        ws.protection.sheet = False
        for ref in ("B4", "D4", "F4", "B7", "C7", "D7", "E7", "F11", "F12", "I11"):
            ws[ref] = value
            if isinstance(value, str):
                ws[ref].data_type = "s"

    wb = openpyxl.load_workbook(io.BytesIO(BASE))
    edit(wb)
    out = io.BytesIO()
    wb.save(out)
    sub = process(out.getvalue())
    assert sub.readable
