"""The rule catalogue is complete and citable (issue 14 item 5).

The catalogue is compared, in a fresh process (so nothing an earlier test imported helps), with every code
the package source can emit: each string literal shaped like a code (``R-W3``, ``I-ZIP-PATH``) in the
package. Codes are always written as literals (``define("R-W3", …)``, ``Finding("L-DUPLICATE", …)``, a rule
table's keys); none is assembled from parts, which the scan checks too (no f-string starts with a code
prefix).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import jixiao_xl
from jixiao_xl.catalogue import PUBLIC_SOURCES, SOURCE_TOOL
from jixiao_xl.cli import cli

PACKAGE = Path(jixiao_xl.__file__).resolve().parent
CODE = re.compile(r"^[A-Z]-[A-Z0-9-]+$")
CODE_PREFIX = re.compile(r"^[A-Z]-")

# Deliberate exceptions: none. A code-shaped literal that is not a finding code would be listed here with
# the reason; every code the catalogue lists appears as a literal somewhere in the package.
NOT_FINDING_CODES: frozenset[str] = frozenset()


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _literals_in_source() -> dict[str, list[str]]:
    """Every code-shaped string literal of the package, with where it is written."""
    found: dict[str, list[str]] = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
                found.setdefault(node.value, []).append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def _catalogue_in_a_fresh_process() -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "jixiao_xl", "rules", "--json"], capture_output=True, check=True,
                          cwd=PACKAGE.parent)
    return json.loads(done.stdout.decode("utf-8"))


def test_the_catalogue_lists_every_code_the_source_can_emit_and_nothing_else():
    listed = {rule["code"] for rule in _catalogue_in_a_fresh_process()}
    in_source = set(_literals_in_source()) - NOT_FINDING_CODES
    assert in_source - listed == set(), {code: _literals_in_source()[code] for code in in_source - listed}
    assert listed - in_source == set()
    assert {"G-SENDBACK", "X-OTHER-UNIT", "T-CODE", "L-NOT-KEPT", "X-BLANK", "G-NOTICE"} <= listed


def test_no_code_is_assembled_from_parts():
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                assert not (isinstance(first, ast.Constant) and CODE_PREFIX.match(str(first.value))
                            and len(node.values) > 1), f"{path}:{node.lineno}"


def test_every_rule_cites_a_public_document_or_the_tools_convention():
    for rule in _catalogue_in_a_fresh_process():
        source = rule["source"]
        assert source, rule["code"]
        assert not re.search(r"DESIGN|domain\.md|README|peers\.md|\[[SOK]\d*\]", source), (rule["code"], source)
        assert source.startswith(PUBLIC_SOURCES + (SOURCE_TOOL,)), (rule["code"], source)


def test_the_domain_rules_name_the_documents_they_come_from():
    by_code = {rule["code"]: rule["source"] for rule in _catalogue_in_a_fresh_process()}
    assert by_code["R-S1"].startswith("财预〔2015〕88号") and "财预〔2021〕101号" in by_code["R-S1"]
    assert by_code["R-C3"].startswith("财预〔2021〕101号")
    assert by_code["R-W4"].startswith("财预〔2020〕10号") and "产出 50%" in by_code["R-W4"]
    assert by_code["X-IND-CHANGED"].startswith("财预〔2015〕88号") and "一般不予调整" in by_code["X-IND-CHANGED"]
    assert by_code["I-ZIPBOMB"] == by_code["L-DUPLICATE"] == by_code["T-SYNTAX"] == "本工具约定"


def test_rules_json_and_text_agree_through_the_cli():
    listed = json.loads(CliRunner().invoke(cli, ["rules", "--json"]).output)
    text = CliRunner().invoke(cli, ["rules"]).output
    assert [r["code"] for r in listed] == re.findall(r"^([A-Z]-[A-Z0-9-]+)\t", text, flags=re.M)
    g_sendback = next(r for r in listed if r["code"] == "G-SENDBACK")
    assert g_sendback["category"] == "表格生成" and g_sendback["severity"] == "warning"
    assert "依据：本工具约定" in text and "依据：财预〔2021〕101号" in text
