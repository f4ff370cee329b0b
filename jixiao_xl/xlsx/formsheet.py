"""The form worksheet: xlsxwriter's worksheet with memoized XML, a fast row writer and bulk puts.

Rendering a form spends most of its time in the worksheet: formula preparation (about 150 regular
expression substitutions per formula), the XML of data validations and conditional formats that repeat on
every sheet and in every unit, and the cell-by-cell XML of the sheet data. :class:`FormWorksheet` replaces
those with memoized or batched versions whose output is identical, byte by byte, to stock xlsxwriter's.

It relies on these ``Worksheet`` internals: ``_prepare_formula``, ``_write_data_validation``,
``_write_cf_rule``, ``_write_merge_cells``, ``_calculate_spans``, ``_write_rows``, ``_write_string``,
``_write_cell``, ``_check_dimensions``, the cell tuples of ``table`` (``CellStringTuple`` …),
``row_info``/``col_info``, ``merged_cells``/``table_cells``/``merge``, ``validations`` and the
shared-string table. Import it only through :mod:`.fastxlsx`, whose guard falls back to stock xlsxwriter
when this module cannot load: every private import is here, and a missing member raises AttributeError
at import time (:func:`~.internals.require_members`).
"""

from __future__ import annotations

from functools import lru_cache

from xlsxwriter.utility import xl_col_to_name, xl_range
from xlsxwriter.worksheet import (
    CellBlankTuple,
    CellDatetimeTuple,
    CellFormulaTuple,
    CellNumberTuple,
    CellRichStringTuple,
    CellStringTuple,
    Worksheet,
    convert_range_args,
)

from .cells import BLANK, NUMBER, STRING, write_cell
from .internals import captured, escaped_attribute, require_members

require_members(Worksheet, (
    "_prepare_formula", "_write_data_validation", "_write_cf_rule", "_write_merge_cells",
    "_calculate_spans", "_write_rows", "_write_string", "_write_cell", "_check_dimensions",
    "_escape_data", "_escape_attributes", "_escape_control_characters"))


# Entries per memo, cleared when full. The entries that repeat across a batch are a few hundred; the rest
# (a validation naming one project's budget) never come back, and 10,000 of them cost a worker 45 MB.
CACHE_LIMIT = 2_000
_FORMULA_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})
_SCALARS = frozenset({str, int, float, bool, type(None)})
_SQREF_OPTIONS = frozenset({"cells", "multi_range"})  # data-validation options that only make its sqref
_new_tuple = tuple.__new__  # builds a cell namedtuple without the Python-level __new__ of namedtuple
# Conditional-format rules whose XML is all _write_cf_rule does (a dataBar rule also records itself).
_PURE_CF_RULES = frozenset({"cellIs", "expression", "aboveAverage", "top10", "duplicateValues", "uniqueValues",
                            "containsText", "notContainsText", "beginsWith", "endsWith", "timePeriod",
                            "containsBlanks", "notContainsBlanks", "containsErrors", "notContainsErrors"})

# Memos shared by all workbooks of a process: every value is a pure function of its key.
_formulas: dict[tuple, str] = {}
_validations: dict[tuple, tuple[str, str]] = {}
_checked_validations: dict[tuple, dict] = {}
_cf_rules: dict[tuple, str] = {}
_column_names: dict[int, str] = {}


class _Unhashable(Exception):
    """An option value the memos cannot key on safely (the caller then lets xlsxwriter write it)."""


def _freeze(value):
    """A hashable key that tells apart every option value xlsxwriter would write differently.

    Types are part of the key (``1``, ``1.0`` and ``True`` are written differently); floats are keyed by
    their repr so that ``-0.0`` is not ``0.0``.
    """
    kind = type(value)
    if kind is float:
        return kind, repr(value)
    if kind in _SCALARS:
        return kind, value
    if kind is list or kind is tuple:
        return kind, tuple(_freeze(item) for item in value)
    if kind is dict:
        try:
            return kind, tuple(sorted((key, _freeze(item)) for key, item in value.items()))
        except TypeError:  # keys that do not sort
            raise _Unhashable from None
    raise _Unhashable


def _flat_key(options: dict, skip: frozenset = frozenset()) -> tuple:
    """:func:`_freeze` of ``options`` without the keys in ``skip``, quicker for dicts of plain values.

    Keys keep their insertion order: the same options built in another order only miss the memo.
    """
    key = []
    for name, value in options.items():
        if name in skip:
            continue
        kind = value.__class__
        if kind is float:
            value = repr(value)
        elif kind not in _SCALARS:
            value = _freeze(value)
        key.append((name, kind, value))
    return tuple(key)


def _remember(memo: dict, key, value) -> None:
    if len(memo) >= CACHE_LIMIT:
        memo.clear()
    memo[key] = value


_cell_range = lru_cache(maxsize=65536)(xl_range)  # only for ranges already checked to be inside the sheet


def _cell_name(row: int, col: int) -> str:
    """``xl_rowcol_to_cell(row, col)`` for a cell inside the sheet."""
    return (_column_names.get(col) or _column_name(col)) + str(row + 1)


def _column_name(col: int) -> str:
    name = _column_names.get(col)
    if name is None:
        name = _column_names[col] = xl_col_to_name(col)
    return name


class FormWorksheet(Worksheet):
    """A worksheet with memoized formula/validation/conditional-format XML, a fast row writer and bulk puts."""

    # Bulk API -------------------------------------------------------------------------------------------

    def put_cells(self, cells) -> None:
        """Write ``(row, col, kind, value, fmt, cached)`` cells, in order, as the ``write_*`` methods would.

        ``kind`` is :data:`BLANK` (value ignored), :data:`STRING`, :data:`NUMBER` or :data:`FORMULA` (``cached``
        is its result); strings are always strings, never formulas, numbers or URLs. Cells are stored
        directly, without the per-call argument parsing; anything unusual goes through xlsxwriter itself.
        """
        if self.constant_memory:
            for cell in cells:
                write_cell(self, *cell)
            return
        table, shared = self.table, self.str_table._get_shared_string_index
        rowmax, colmax, longest = self.xls_rowmax, self.xls_colmax, self.xls_strmax // 2
        low_row, low_col, high_row, high_col = rowmax, colmax, -1, -1
        blanks: dict[object, tuple] = {}  # one (immutable) blank tuple per format
        for row, col, kind, value, fmt, cached in cells:
            if not (0 <= row < rowmax and 0 <= col < colmax):
                write_cell(self, row, col, kind, value, fmt, cached)
                continue
            if kind == STRING and value.__class__ is str and len(value) <= longest:
                cell = _new_tuple(CellStringTuple, (shared(value), fmt))
            elif kind == BLANK:
                if fmt is None:
                    continue
                cell = blanks.get(fmt)
                if cell is None:
                    cell = blanks[fmt] = _new_tuple(CellBlankTuple, (fmt,))
            elif kind == NUMBER and value.__class__ is float and value - value == 0.0:  # not NaN or infinite
                cell = _new_tuple(CellNumberTuple, (value, fmt))
            else:
                write_cell(self, row, col, kind, value, fmt, cached)
                continue
            table[row][col] = cell
            if row < low_row:
                low_row = row
            if row > high_row:
                high_row = row
            if col < low_col:
                low_col = col
            if col > high_col:
                high_col = col
        if high_row >= 0:
            self._check_dimensions(low_row, low_col)
            self._check_dimensions(high_row, high_col)

    def put_merged(self, first_row: int, first_col: int, last_row: int, last_col: int, fmt=None) -> None:
        """Merge a range whose cells are all blank with ``fmt``: ``merge_range(..., "", fmt)`` without its overheads.

        Write the anchor's value afterwards (with :meth:`put_cells`), as with ``merge_range``.
        """
        if self.constant_memory or self.write_handlers:
            self.merge_range(first_row, first_col, last_row, last_col, "", fmt)
            return
        first_row, last_row = min(first_row, last_row), max(first_row, last_row)
        first_col, last_col = min(first_col, last_col), max(first_col, last_col)
        cells = [(row, col) for row in range(first_row, last_row + 1) for col in range(first_col, last_col + 1)]
        merged, tables = self.merged_cells, self.table_cells
        inside = 0 <= first_row and 0 <= first_col and last_row < self.xls_rowmax and last_col < self.xls_colmax
        if len(cells) < 2 or not inside or any(merged.get(cell) or tables.get(cell) for cell in cells):
            # A single cell, out of bounds or overlapping: xlsxwriter warns, refuses or raises.
            self.merge_range(first_row, first_col, last_row, last_col, "", fmt)
            return
        self._check_dimensions(first_row, first_col)
        self._check_dimensions(last_row, last_col)
        cell_range = _cell_range(first_row, first_col, last_row, last_col)
        merged.update(dict.fromkeys(cells, cell_range))
        self.merge.append([first_row, first_col, last_row, last_col])
        if fmt is not None:
            table, blank = self.table, _new_tuple(CellBlankTuple, (fmt,))
            for row, col in cells:
                table[row][col] = blank

    def write_string(self, *args, **kwargs):
        """``Worksheet.write_string``; a call with a (row, col) pair skips the A1-notation check."""
        if args and args[0].__class__ is int:
            return self._write_string(*args, **kwargs)
        return super().write_string(*args, **kwargs)

    @convert_range_args
    def data_validation(self, first_row: int, first_col: int, last_row: int, last_col: int, options=None):
        """``Worksheet.data_validation``; options of plain values seen before are not checked again."""
        if not options or any(v.__class__ not in _SCALARS for v in options.values()):
            return super().data_validation(first_row, first_col, last_row, last_col, options)
        key = (self.date_1904, self.remove_timezone, _flat_key(options))
        checked = _checked_validations.get(key)
        if checked is None:
            count = len(self.validations)
            result = super().data_validation(first_row, first_col, last_row, last_col, options)
            if result == 0 and len(self.validations) == count + 1:
                _remember(_checked_validations, key, {k: v for k, v in self.validations[-1].items() if k != "cells"})
            return result
        if self._check_dimensions(first_row, first_col, True, True) or \
                self._check_dimensions(last_row, last_col, True, True):
            return -1
        self.validations.append({**checked, "cells": [[first_row, first_col, last_row, last_col]]})
        return 0

    # Memoized internals ---------------------------------------------------------------------------------

    def _prepare_formula(self, formula, expand_future_functions=False):
        if type(formula) is not str:
            return super()._prepare_formula(formula, expand_future_functions)
        key = (formula, bool(expand_future_functions), bool(self.use_future_functions))
        prepared = _formulas.get(key)
        if prepared is None:
            prepared = super()._prepare_formula(formula, expand_future_functions)
            _remember(_formulas, key, prepared)
        return prepared

    def _write_data_validation(self, options) -> None:
        sqref = escaped_attribute(self, _sqref(options))
        try:
            key = (self.use_future_functions, _flat_key(options, _SQREF_OPTIONS))
        except _Unhashable:
            return super()._write_data_validation(options)
        parts = _validations.get(key)
        if parts is None:
            xml = captured(self, super()._write_data_validation, options)
            marker = f' sqref="{sqref}"'
            at = xml.find(' sqref="')  # the first one: attribute values before it cannot hold a quote
            if xml[at:at + len(marker)] != marker:
                self.fh.write(xml)
                return None
            parts = (xml[:at], xml[at + len(marker):])
            _remember(_validations, key, parts)
        self.fh.write(f'{parts[0]} sqref="{sqref}"{parts[1]}')
        return None

    def _write_cf_rule(self, params) -> None:
        if params.get("type") not in _PURE_CF_RULES:
            return super()._write_cf_rule(params)
        try:
            key = (self.use_future_functions, _flat_key(params))
        except _Unhashable:
            return super()._write_cf_rule(params)
        xml = _cf_rules.get(key)
        if xml is None:
            xml = captured(self, super()._write_cf_rule, params)
            _remember(_cf_rules, key, xml)
        self.fh.write(xml)
        return None

    def _write_merge_cells(self) -> None:
        if not self.merge:
            return super()._write_merge_cells()
        refs = "".join([f'<mergeCell ref="{_cell_name(r1, c1)}:{_cell_name(r2, c2)}"/>'
                        for r1, c1, r2, c2 in self.merge])
        self.fh.write(f'<mergeCells count="{len(self.merge)}">{refs}</mergeCells>')
        return None

    # Sheet data -----------------------------------------------------------------------------------------

    def _calculate_spans(self) -> None:
        rowmin, rowmax, colmin, colmax = self.dim_rowmin, self.dim_rowmax, self.dim_colmin, self.dim_colmax
        if None in (rowmin, colmin):
            return super()._calculate_spans()
        blocks: dict[int, tuple[int, int]] = {}
        for source in (self.table, self.comments):
            for row, cells in source.items():
                if not rowmin <= row <= rowmax:
                    continue
                cols = [col for col in cells if colmin <= col <= colmax]
                if cols:
                    block = row // 16
                    low, high = blocks.get(block, (colmax, colmin))
                    blocks[block] = (min(low, min(cols)), max(high, max(cols)))
        self.row_spans = {block: f"{low + 1}:{high + 1}" for block, (low, high) in blocks.items()}
        return None

    def _write_rows(self) -> None:
        rowmin, rowmax, colmin = self.dim_rowmin, self.dim_rowmax, self.dim_colmin
        if None in (rowmin, colmin):
            return super()._write_rows()
        self._calculate_spans()
        table, row_info, comments, spans = self.table, self.row_info, self.comments, self.row_spans
        rows = sorted(row for row in {*table, *row_info, *comments} if rowmin <= row <= rowmax)
        styles: dict[object, str] = {None: ""}
        out: list[str] = []
        for row in rows:
            cells = table.get(row)
            if not cells and row not in row_info and row not in comments:
                continue
            info = row_info.get(row)
            span = spans.get(row // 16)
            if cells:
                out.append(self._row_tag(row, span, info, ">"))
                self._write_row_cells(out, row, cells, info, styles)
                out.append("</row>")
            else:
                out.append(self._row_tag(row, span, info, "/>"))
        self.fh.write("".join(out))
        return None

    def _write_row_cells(self, out: list[str], row: int, cells: dict, info, styles: dict) -> None:
        """Append the ``<c>`` elements of a row to ``out``, as ``Worksheet._write_cell`` writes them.

        Cell types other than blanks, numbers, shared strings and formulas are written by xlsxwriter.
        """
        colmin, colmax, row_name = self.dim_colmin, self.dim_colmax, str(row + 1)
        row_format = info.row_format if info is not None and info.row_format else None
        for col in sorted(cells):
            if not colmin <= col <= colmax:
                continue
            cell = cells[col]
            fmt = cell.format
            if not fmt:  # the row's format, else the column's
                fmt = row_format or (self.col_info[col].column_format if col in self.col_info else None)
            style = styles.get(fmt)
            if style is None:
                style = styles[fmt] = f' s="{escaped_attribute(self, fmt._get_xf_index())}"'
            kind = cell.__class__
            ref = _column_names.get(col) or _column_name(col)
            if kind is CellStringTuple or kind is CellRichStringTuple:
                out.append(f'<c r="{ref}{row_name}"{style} t="s"><v>{cell.string}</v></c>')
            elif kind is CellBlankTuple:
                out.append(f'<c r="{ref}{row_name}"{style}/>')
            elif kind is CellNumberTuple or kind is CellDatetimeTuple:
                out.append(f'<c r="{ref}{row_name}"{style}><v>{cell.number:.16G}</v></c>')
            elif kind is CellFormulaTuple:
                out.append(self._formula_xml(ref + row_name, style, cell))
            else:
                self.fh.write("".join(out))
                out.clear()
                self._write_cell(row, col, cell)

    def _row_tag(self, row: int, span, info, end: str) -> str:
        """The ``<row>`` start (or empty, ``end="/>"``) tag, as ``Worksheet._write_row`` writes it."""
        if info is None:
            height = row_format = None
            hidden = level = collapsed = 0
        else:
            height, row_format, hidden = info.height, info.row_format, info.hidden
            level, collapsed = info.level, info.collapsed
        if height is None:
            height = self.default_row_height
        xml = f'<row r="{row + 1}"'
        xf_index = row_format._get_xf_index() if row_format else 0
        if span:
            xml += f' spans="{span}"'
        if xf_index:
            xml += f' s="{xf_index}"'
        if row_format:
            xml += ' customFormat="1"'
        custom = height != self.original_row_height or height != self.default_row_height
        if custom:
            xml += f' ht="{height * 0.75:.16g}"'
        if hidden:
            xml += ' hidden="1"'
        if custom:
            xml += ' customHeight="1"'
        if level:
            xml += f' outlineLevel="{level}"'
        if collapsed:
            xml += ' collapsed="1"'
        if self.excel_version == 2010:
            xml += ' x14ac:dyDescent="0.25"'
        return xml + end

    def _formula_xml(self, ref: str, style: str, cell) -> str:
        """The ``<c>`` element of a formula cell with its cached result."""
        value, kind = cell.value, ""
        if isinstance(value, bool):
            kind, value = ' t="b"', 1 if value else 0
        elif isinstance(value, str) and value != "":
            kind = ' t="e"' if value in _FORMULA_ERRORS else ' t="str"'
        formula, value = self._escape_data(cell.formula), self._escape_data(value)
        return f'<c r="{ref}"{style}{kind}><f>{formula}</f><v>{value}</v></c>'


def _sqref(options) -> str:
    """The ``sqref`` of a data validation, as ``Worksheet._write_data_validation`` computes it."""
    if options.get("multi_range"):
        return options["multi_range"]
    return " ".join(xl_range(min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)) for r1, c1, r2, c2 in options["cells"])

