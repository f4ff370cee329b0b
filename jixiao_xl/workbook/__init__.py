"""Raw access to a returned workbook, whatever wrote it: values, merges, names, properties, formulas.

python-calamine gives the cell values of xlsx, xls and ods (:mod:`.book`, the only module that imports it);
a small defusedxml parse of the package parts (:mod:`.xlsx`, :mod:`.ods`, :mod:`.xmlparts`) gives what
calamine does not (defined names, custom properties, the producing application, when the file itself was
last saved, which cells hold formulas, sheet protection). :mod:`.cells` holds what the reader hands out:
cell addresses, sheets, defined names, A1 syntax. Nothing here knows about 绩效目标表; :mod:`jixiao_xl.read`
does.
"""

from .book import ValueBook, WorkbookData, open_workbook
from .cells import Address, CellAddress, DefinedNames, Sheet, col_letter, parse_a1, parse_reference
from .xmlparts import document_time, parse_xml

__all__ = [
    "Address", "CellAddress", "DefinedNames", "Sheet", "ValueBook", "WorkbookData", "col_letter", "document_time",
    "open_workbook", "parse_a1", "parse_reference", "parse_xml",
]
