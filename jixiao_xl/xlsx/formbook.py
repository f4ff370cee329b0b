"""The form workbook: xlsxwriter's workbook with faster defined names and package parts.

A form workbook holds 700-odd defined names, and app.xml lists each of them again among the titles of
parts. :class:`FormWorkbook` stores the names without re-checking one already accepted, sorts and writes
them in one go, and packages app.xml and sharedStrings.xml with writers that skip the escaping passes
plain text does not need; its sheets are :class:`~.formsheet.FormWorksheet`. Every part is identical,
byte by byte, to what stock xlsxwriter writes.

It relies on these internals: on ``Workbook``, ``defined_names``, ``_sort_defined_names``,
``_extract_named_ranges``, ``_write_defined_names`` and ``_get_packager``; the ``App`` and
``SharedStrings`` names in ``xlsxwriter.packager``, ``App._write_titles_of_parts`` and
``SharedStrings._write_sst_strings``. Import it only through :mod:`.fastxlsx`, whose guard falls back to
stock xlsxwriter when this module cannot load.
"""

from __future__ import annotations

from functools import partial

import xlsxwriter
from xlsxwriter import packager as packager_module
from xlsxwriter.app import App
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings

from .formsheet import CACHE_LIMIT, FormWorksheet
from .internals import (ATTRIBUTE_SPECIAL, DATA_SPECIAL, all_plain, captured, escaped_attribute, escaped_data,
                        require_members, standing_in, unchanged)

require_members(xlsxwriter.Workbook, ("_sort_defined_names", "_extract_named_ranges", "_write_defined_names",
                                      "_get_packager", "_escape_data", "_escape_attributes",
                                      "_escape_control_characters"))
require_members(packager_module, ("App", "SharedStrings"))
require_members(Packager, ("_write_shared_strings_file", "_write_app_file"))
require_members(App, ("_write_titles_of_parts",))
require_members(SharedStrings, ("_write_sst_strings", "_write_si"))

_global_names: set[str] = set()  # workbook-scoped names xlsxwriter accepted once, shared by all workbooks


class FormWorkbook(xlsxwriter.Workbook):
    """``xlsxwriter.Workbook`` with faster defined names, package parts and :class:`FormWorksheet` sheets."""

    worksheet_class = FormWorksheet

    def define_name(self, name: str, formula: str):
        """``Workbook.define_name``; a workbook-scoped name already accepted once is stored without re-checking."""
        if name.__class__ is str and formula.__class__ is str and name in _global_names:
            if formula.startswith("="):
                formula = formula.lstrip("=")
            self.defined_names.append([name, -1, formula, False])
            return 0
        result = super().define_name(name, formula)
        # Whether a name without "!" is accepted depends on the name alone.
        if result == 0 and name.__class__ is str and "!" not in name:
            if len(_global_names) >= CACHE_LIMIT:
                _global_names.clear()
            _global_names.add(name)
        return result

    def _sort_defined_names(self, names):
        # The key Workbook._sort_defined_names appends, sorts on and removes again; the index keeps it stable.
        keyed = [(item[0].replace("_xlnm.", "").lower() + "::" + item[2].lstrip("'").lower(), index, item)
                 for index, item in enumerate(names)]
        keyed.sort()
        names[:] = [item for _, _, item in keyed]
        return names

    def _write_defined_names(self) -> None:
        names = self.defined_names
        if not names:
            return None
        plain = all_plain([item[0] for item in names], ATTRIBUTE_SPECIAL) and \
            all_plain([item[2] for item in names], DATA_SPECIAL)
        if plain:
            escape_name = escape_range = unchanged
        else:
            escape_name, escape_range = partial(escaped_attribute, self), partial(escaped_data, self)
        out = ["<definedNames>"]
        for name, sheet_id, sheet_range, hidden in names:
            local = f' localSheetId="{escaped_attribute(self, sheet_id)}"' if sheet_id != -1 else ""
            flag = ' hidden="1"' if hidden else ""
            out.append(f'<definedName name="{escape_name(name)}"{local}{flag}>'
                       f'{escape_range(sheet_range)}</definedName>')
        out.append("</definedNames>")
        self.fh.write("".join(out))
        return None

    def _extract_named_ranges(self, defined_names):
        named_ranges = []
        for item in defined_names:
            name, index, sheet_range = item[0], item[1], item[2]
            if name == "_xlnm._FilterDatabase" or "!" not in sheet_range:
                continue
            if name.startswith("_xlnm."):
                name = sheet_range.split("!", 1)[0] + "!" + name.replace("_xlnm.", "")
            elif index != -1:
                name = sheet_range.split("!", 1)[0] + "!" + name
            named_ranges.append(name)
        return named_ranges

    def _get_packager(self):
        return _FormPackager()


class _FormApp(App):
    """app.xml with the titles of parts (a line per defined name) written in one go."""

    def _write_titles_of_parts(self) -> None:
        escape = unchanged if all_plain(self.part_names, DATA_SPECIAL) else partial(escaped_data, self)
        parts = "".join([f"<vt:lpstr>{escape(name)}</vt:lpstr>" for name in self.part_names])
        self.fh.write(f'<TitlesOfParts><vt:vector size="{len(self.part_names)}" baseType="lpstr">{parts}'
                      "</vt:vector></TitlesOfParts>")


class _FormSharedStrings(SharedStrings):
    """sharedStrings.xml with plain strings written without the escaping passes they do not need."""

    def _write_sst_strings(self) -> None:
        out = []
        for string in self.string_table.string_array:
            if DATA_SPECIAL.search(string) is not None:  # escapes, or a rich string ("<r>…")
                out.append(captured(self, self._write_si, string))
            elif string[:1].isspace() or string[-1:].isspace():
                out.append(f'<si><t xml:space="preserve">{string}</t></si>')
            else:
                out.append(f"<si><t>{string}</t></si>")
        self.fh.write("".join(out))


class _FormPackager(Packager):
    """The stock packager; app.xml and sharedStrings.xml are built by :class:`_FormApp` and
    :class:`_FormSharedStrings`, put in place of the classes the stock methods instantiate."""

    def _write_shared_strings_file(self) -> None:
        with standing_in(packager_module, "SharedStrings", _FormSharedStrings):
            super()._write_shared_strings_file()

    def _write_app_file(self) -> None:
        with standing_in(packager_module, "App", _FormApp):
            super()._write_app_file()
