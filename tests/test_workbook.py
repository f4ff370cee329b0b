"""The package-level reading of the workbook package: defined names, XML parts, formula cells and protection."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from defusedxml import EntitiesForbidden

from jixiao_xl.generate import GenerateOptions, generate
from jixiao_xl.master import load_sample
from jixiao_xl.workbook import CellAddress, DefinedNames, document_time, open_workbook, parse_a1, parse_xml
from jixiao_xl.workbook.xlsx import _formula_cells, _xlsx_defined_names

WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>'
            b'<sheet name="S" sheetId="1"/></sheets><definedNames>%s</definedNames><calcPr/></workbook>')


@pytest.fixture(scope="module")
def issued(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("issued")
    return out / generate(load_sample(), None, GenerateOptions(out_dir=out))[0].file


def _rewrite(source: Path, target: Path, part: str, edit) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item.filename)
            new.writestr(item, edit(data) if item.filename == part else data)
    return target


def test_defined_names_block_read_without_a_tree():
    block = (b'<definedName name="_xlnm.Print_Titles" localSheetId="0">S!$1:$2</definedName>'
             b'<definedName name="JX_A">\'S\'!$B$4</definedName>\n  '
             b'<definedName name="JX_R&amp;D" hidden="1">\'R&amp;D\'!$C$5</definedName>')
    rest, names = _xlsx_defined_names(WORKBOOK % block)
    assert names == {"JX_A": "'S'!$B$4", "JX_R&D": "'R&D'!$C$5"}
    assert b"definedName" not in rest and parse_xml(rest).tag.endswith("workbook")


@pytest.mark.parametrize("block", [
    b'<definedName function="false" localSheetId="0" name="x">S!$A$1</definedName>',  # LibreOffice's order
    b'<definedName name="JX_A">S!$A$1</definedName><!-- <definedName name="JX_B">S!$B$1</definedName> -->',
    b'<definedName name="JX_A"/>',
])
def test_other_layouts_of_the_names_block_are_parsed_as_xml(block):
    xml = WORKBOOK % block
    assert _xlsx_defined_names(xml) == (xml, None)


def test_names_of_any_layout_read_the_same(issued, tmp_path):
    def libreoffice_order(xml: bytes) -> bytes:
        return re.sub(rb'<definedName name="([^"]*)">', rb'<definedName hidden="false" name="\1">', xml)

    expected = dict(open_workbook(issued, "xlsx").names)
    resaved = _rewrite(issued, tmp_path / "lo.xlsx", "xl/workbook.xml", libreoffice_order)
    assert dict(open_workbook(resaved, "xlsx").names) == expected
    assert expected["JX_P03_PLAN4_AMOUNT"] == CellAddress("3.统一着装经费", 6, 4)


def test_parts_with_a_dtd_or_another_encoding_go_to_defusedxml():
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>'
    with pytest.raises(EntitiesForbidden):
        parse_xml(bomb)
    with pytest.raises(EntitiesForbidden):  # a DTD cannot hide behind UTF-16
        parse_xml('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'.encode("utf-16"))
    assert parse_xml('<?xml version="1.0" encoding="UTF-16"?><r>ok</r>'.encode("utf-16")).text == "ok"
    assert _xlsx_defined_names(bomb) == (bomb, None)


def test_formula_cells_are_the_cells_whose_element_starts_with_a_formula():
    xml = (b'<worksheet><sheetData><row r="1"><c r="A1" s="1"><f>B1*2</f><v>4</v></c><c r="B1"><v>2</v></c>'
           b'<c r="C1" t="str"><f t="shared" ref="C1:C2" si="0"/><v>x</v></c><c r="D1"/></row>'
           b'<row r="2"><c r="C2"><f t="shared" si="0"/></c><c r="AA2" t="inlineStr"><is><t>f</t></is></c></row>'
           b'</sheetData><conditionalFormatting><cfRule><formula>A1&gt;0</formula></cfRule></conditionalFormatting>'
           b'<dataValidations><dataValidation><formula1>x</formula1></dataValidation></dataValidations></worksheet>')
    assert _formula_cells(xml) == {parse_a1(ref) for ref in ("A1", "C1", "C2")}


def test_hidden_sheets_are_scanned_when_asked_about(issued, tmp_path):
    wb = openpyxl.load_workbook(issued)
    wb["_meta"]["E1"] = "=1+1"
    wb["3.统一着装经费"]["C7"] = "=B7"
    wb.save(tmp_path / "formulas.xlsx")
    data = open_workbook(tmp_path / "formulas.xlsx", "xlsx")
    assert "_meta" not in data.formula_cells, "hidden sheets are left packed until asked about"
    assert data.formulas("_meta") == {(0, 4)} and data.is_protected("_meta") and data.is_protected("_lists")
    assert (6, 2) in data.formulas("3.统一着装经费") and data.is_protected("3.统一着装经费")
    assert data.formulas("no such sheet") == set() and not data.is_protected("no such sheet")


def test_defined_names_are_parsed_when_looked_up():
    names = DefinedNames({"JX_A": "'S 1'!$C$11", "JX_B": "S2!$D$2", "JX_C": "S3!E3", "JX_GONE": "#REF!",
                          "JX_P01_CODE": "'S 1'!$B$3", "JX_P01_CODEX": "'S 1'!$B$4"})
    assert names["JX_A"] == CellAddress("S 1", 10, 2) and names["JX_GONE"] is None and names.get("nope") is None
    assert len(names) == 6 and "JX_GONE" in names
    assert names.named_columns("S 1", 10, range(5)) == {2}
    assert names.named_columns("S2", 1, (3, 4)) == {3} and names.named_columns("S3", 2, (4,)) == {4}, \
        "spellings without quotes or $ are found too"
    assert names.matching(r"JX_P.*_CODE") == ["JX_P01_CODE"]


def test_the_producer_is_read_from_the_head_of_a_plain_app_part(issued, tmp_path):
    assert open_workbook(issued, "xlsx").producer == "Microsoft Excel"

    def laughs(xml: bytes) -> bytes:
        head, sep, rest = xml.partition(b"?>")
        return head + sep + b'<!DOCTYPE p [<!ENTITY a "LibreOffice">]>' + rest.replace(b"Microsoft Excel", b"&a;")

    with pytest.raises(EntitiesForbidden):
        open_workbook(_rewrite(issued, tmp_path / "app.xlsx", "docProps/app.xml", laughs), "xlsx")


@pytest.mark.parametrize(("text", "utc"), [
    ("2026-12-05T23:30:00Z", "2026-12-05T23:30:00+00:00"),                # Excel, openpyxl, LibreOffice (xlsx)
    ("2026-12-06T07:30:00.5+08:00", "2026-12-05T23:30:00+00:00"),         # a zone: the same moment
    ("2026-12-05T18:30:00-0500", "2026-12-05T23:30:00+00:00"),
    ("2026-12-05", "2026-12-05T00:00:00+00:00"),
    ("", ""), ("昨天", ""), ("2026-02-30T10:00:00Z", ""), ("2026-12-05T10:00:00+99:00", ""),
])
def test_document_times_become_utc(text, utc):
    assert document_time(text) == utc


def test_a_document_time_without_a_zone_is_local(monkeypatch):
    """LibreOffice writes an ods dc:date without a zone, in the time of the computer that saved it."""
    import time

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert document_time("2026-12-06T07:30:00.195010943") == "2026-12-05T23:30:00+00:00"
    finally:
        monkeypatch.undo()
        time.tzset()
