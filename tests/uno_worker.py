"""Drive a running LibreOffice over UNO: read a list of actions as JSON, perform them, print JSON results.

This file runs under the SYSTEM interpreter (``/usr/bin/python3``), the only one that can ``import uno``;
tests never import it. ``tests/lo.py`` starts soffice and feeds this worker; see its docstring for the
action reference. Protocol:

    /usr/bin/python3 uno_worker.py --pipe NAME [--connect-timeout S] < actions.json

stdout gets one line ``@@JXLO@@ {"results": [...]}`` on success, or
``@@JXLO@@ {"results": [...done so far...], "error": "...", "index": i, "op": "...", "traceback": "..."}``
when an action failed (unless the action carried ``"allow_error": true``, in which case its result is
``{"ok": false, "error": "..."}`` and the run goes on).

Documents opened by ``open`` are closed when the run ends unless the action says ``"keep": true``; a later
run picks a kept document up again with ``attach``. Actions without ``path`` work on the current document:
the one most recently opened or attached in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import traceback

import uno  # noqa: F401  (system interpreter only)
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

MARKER = "@@JXLO@@"

SAVE_FILTERS = {
    "xlsx": "Calc MS Excel 2007 XML",
    "xls": "MS Excel 97",
    "ods": "calc8",
    "pdf": "calc_pdf_Export",
}

# com.sun.star.sheet.CellFlags
_CLEAR_CONTENT = 1 | 2 | 4 | 16  # VALUE | DATETIME | STRING | FORMULA
# com.sun.star.table.CellContentType
_CELL_TYPES = {"EMPTY": "EMPTY", "VALUE": "VALUE", "TEXT": "TEXT", "FORMULA": "FORMULA"}
_ABSOLUTE_CELL = re.compile(r"\$?([A-Z]+)\$?(\d+)$")


class ActionError(Exception):
    """An action that cannot be carried out as asked (bad sheet name, no open document, ...)."""


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def file_url(path):
    return uno.systemPathToFileUrl(os.path.abspath(path))


def enum_name(value):
    """The name of a UNO enum value ('LIST'), or the value itself for plain numbers."""
    return getattr(value, "value", value)


class Worker:
    def __init__(self, ctx):
        self.ctx = ctx
        self.smgr = ctx.ServiceManager
        self.desktop = self.smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        self.doc = None
        self.opened = []  # documents opened in this run that must be closed at its end

    # ---------------------------------------------------------------------------------------------
    # Helpers

    def document(self):
        if self.doc is None:
            raise ActionError("no document: start the run with an 'open' or 'attach' action")
        return self.doc

    def sheet(self, name):
        sheets = self.document().Sheets
        if isinstance(name, int):
            return sheets.getByIndex(name)
        if not sheets.hasByName(name):
            raise ActionError(f"no sheet named {name!r}; sheets are {list(sheets.ElementNames)!r}")
        return sheets.getByName(name)

    def cell(self, action):
        return self.sheet(action["sheet"]).getCellRangeByName(action["cell"])

    def loaded(self, url):
        components = self.desktop.Components.createEnumeration()
        while components.hasMoreElements():
            component = components.nextElement()
            if getattr(component, "URL", None) == url:
                return component
        return None

    def close_document(self, doc):
        try:
            doc.close(True)
        except Exception:  # already closed or vetoed: dispose is the last resort
            try:
                doc.dispose()
            except Exception:
                pass

    def finish(self):
        for doc in self.opened:
            self.close_document(doc)
        self.opened = []

    @staticmethod
    def refusal(sheet, cell):
        """Why a person could not type into ``cell`` (None when they could)."""
        if sheet.isProtected() and cell.CellProtection.IsLocked:
            return "cell is locked and the sheet is protected"
        return None

    # ---------------------------------------------------------------------------------------------
    # Documents

    def op_open(self, a):
        path = a["path"]
        if not os.path.exists(path):
            raise ActionError(f"no such file: {path}")
        url = file_url(path)
        if self.loaded(url) is not None:
            raise ActionError(f"{path} is already open in LibreOffice: use 'attach', or open a copy")
        args = (prop("Hidden", True), prop("MacroExecutionMode", 0), prop("UpdateDocMode", 0),
                prop("ReadOnly", bool(a.get("read_only", False))))
        doc = self.desktop.loadComponentFromURL(url, "_blank", 0, args)
        if doc is None:
            raise ActionError(f"LibreOffice could not load {path}")
        self.doc = doc
        if not a.get("keep", False):
            self.opened.append(doc)
        return {"ok": True, "sheets": list(doc.Sheets.ElementNames)}

    def op_attach(self, a):
        doc = self.loaded(file_url(a["path"]))
        if doc is None:
            raise ActionError(f"{a['path']} is not open: 'open' it with \"keep\": true first")
        self.doc = doc
        return {"ok": True}

    def op_close(self, a):
        doc = self.document()
        self.close_document(doc)
        self.opened = [d for d in self.opened if d is not doc]
        self.doc = None
        return {"ok": True}

    def op_save_as(self, a):
        fmt = a.get("format") or os.path.splitext(a["path"])[1].lstrip(".").lower()
        if fmt not in SAVE_FILTERS:
            raise ActionError(f"unknown format {fmt!r}; use one of {sorted(SAVE_FILTERS)}")
        os.makedirs(os.path.dirname(os.path.abspath(a["path"])), exist_ok=True)
        args = (prop("FilterName", SAVE_FILTERS[fmt]), prop("Overwrite", True))
        self.document().storeToURL(file_url(a["path"]), args)
        return {"ok": True, "path": os.path.abspath(a["path"])}

    def op_save(self, a):
        """Save the document in place, in the format it was opened in (as a person pressing Ctrl+S would)."""
        self.document().store()
        return {"ok": True}

    def op_calculate_all(self, a):
        self.document().calculateAll()
        return {"ok": True}

    # ---------------------------------------------------------------------------------------------
    # Sheets

    def op_sheet_names(self, a):
        return list(self.document().Sheets.ElementNames)

    def op_is_protected(self, a):
        return bool(self.sheet(a["sheet"]).isProtected())

    def op_unprotect(self, a):
        sheet = self.sheet(a["sheet"])
        try:
            sheet.unprotect(a.get("password", ""))
        except Exception as exc:
            raise ActionError(f"cannot unprotect {a['sheet']!r} (wrong password?): {exc}") from exc
        return {"ok": True}

    def op_protect(self, a):
        self.sheet(a["sheet"]).protect(a.get("password", ""))
        return {"ok": True}

    def op_rename_sheet(self, a):
        self.sheet(a["old"]).setName(a["new"])
        return {"ok": True}

    def op_remove_sheet(self, a):
        self.sheet(a["sheet"])  # a clear error for an unknown name
        self.document().Sheets.removeByName(a["sheet"])
        return {"ok": True}

    def op_sheet_visibility(self, a):
        return bool(self.sheet(a["sheet"]).IsVisible)

    def op_insert_rows(self, a):
        sheet = self.sheet(a["sheet"])
        before = sheet.Rows.Count
        sheet.Rows.insertByIndex(int(a["row"]) - 1, int(a.get("count", 1)))
        return {"ok": True, "rows": sheet.Rows.Count, "rows_before": before}

    def op_delete_rows(self, a):
        sheet = self.sheet(a["sheet"])
        sheet.Rows.removeByIndex(int(a["row"]) - 1, int(a.get("count", 1)))
        return {"ok": True}

    def op_named_ranges(self, a):
        ranges = self.document().NamedRanges
        return {name: ranges.getByName(name).Content for name in ranges.ElementNames}

    def op_page_count(self, a):
        """Pages as printed: of one sheet when ``sheet`` is given, else of the whole document."""
        doc = self.document()
        target = self.sheet(a["sheet"]) if a.get("sheet") is not None else doc
        return int(doc.getRendererCount(target, (prop("IsPrinter", True),)))

    def op_print_layout(self, a):
        """Widths and heights in 1/100 mm: used columns and rows, each row's optimal height, the page."""
        sheet = self.sheet(a["sheet"])
        cursor = sheet.createCursor()
        cursor.gotoEndOfUsedArea(False)
        last_col, last_row = cursor.RangeAddress.EndColumn, cursor.RangeAddress.EndRow
        columns = [sheet.Columns.getByIndex(c) for c in range(last_col + 1)]
        rows = []
        for r in range(last_row + 1):
            row = sheet.Rows.getByIndex(r)
            height = row.Height
            row.OptimalHeight = True  # LibreOffice computes what the content needs
            rows.append({"row": r + 1, "height": height, "optimal_height": row.Height, "visible": bool(row.IsVisible)})
            row.Height = height
        style = self.document().StyleFamilies.getByName("PageStyles").getByName(sheet.PageStyle)
        return {
            "columns": [{"width": c.Width, "visible": bool(c.IsVisible)} for c in columns],
            "used_width": sum(c.Width for c in columns if c.IsVisible),
            "rows": rows,
            "printable_width": style.Width - style.LeftMargin - style.RightMargin,
            "printable_height": style.Height - style.TopMargin - style.BottomMargin,
            "landscape": bool(style.IsLandscape),
            "scale_to_pages_x": style.ScaleToPagesX,
            "scale_to_pages_y": style.ScaleToPagesY,
            "page_scale": style.PageScale,
        }

    def op_invalid_cells(self, a):
        """Cells whose content breaks their validation (LibreOffice's 'Mark Invalid Data'), e.g. ['B12']."""
        sheet = self.sheet(a["sheet"])
        page = sheet.DrawPage
        before = page.Count
        sheet.showInvalid()  # appends one circle per invalid cell to the draw page
        cells = []
        for i in range(before, page.Count):
            shape = page.getByIndex(i)
            anchor = getattr(shape, "Anchor", None)
            name = getattr(anchor, "AbsoluteName", "") if anchor is not None else ""
            match = _ABSOLUTE_CELL.search(name.split(".")[-1]) if name else None
            if match:
                cells.append(match.group(1) + match.group(2))
        sheet.clearArrows()
        return sorted(set(cells), key=lambda ref: (int(_ABSOLUTE_CELL.match(ref).group(2)), ref))

    # ---------------------------------------------------------------------------------------------
    # Cells

    def op_set_value(self, a):
        """Type a value as a person would: refused (ok false) on a locked cell of a protected sheet."""
        sheet, cell, value = self.sheet(a["sheet"]), self.cell(a), a.get("value")
        if a.get("via", "api") == "ui":
            return self.type_via_ui(sheet, cell, a["cell"], value)
        reason = self.refusal(sheet, cell)
        if reason:
            return {"ok": False, "error": reason}
        if value is None:
            cell.clearContents(_CLEAR_CONTENT)
        elif isinstance(value, bool):
            cell.setValue(1.0 if value else 0.0)
        elif isinstance(value, (int, float)):
            cell.setValue(float(value))
        else:
            cell.setString(str(value))
        return {"ok": True}

    def type_via_ui(self, sheet, cell, ref, value):
        """Type through the view (.uno:EnterString): LibreOffice itself decides whether the cell accepts it."""
        doc = self.document()
        controller = doc.CurrentController
        controller.setActiveSheet(sheet)
        dispatcher = self.smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", self.ctx)
        frame = controller.Frame
        dispatcher.executeDispatch(frame, ".uno:GoToCell", "", 0, (prop("ToPoint", ref),))
        text = "" if value is None else (repr(float(value)) if isinstance(value, float) else str(value))
        before = (cell.Type.value, cell.Formula)
        if value is None:  # the Delete key
            dispatcher.executeDispatch(frame, ".uno:ClearContents", "", 0, (prop("Flags", _CLEAR_CONTENT),))
        else:
            dispatcher.executeDispatch(frame, ".uno:EnterString", "", 0, (prop("StringName", text),))
        if value is None:
            taken = cell.Type.value == "EMPTY"
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            taken = cell.Type.value == "VALUE" and abs(cell.Value - float(value)) < 1e-9
        else:
            taken = cell.String == text
        if taken:
            return {"ok": True}
        unchanged = (cell.Type.value, cell.Formula) == before
        reason = self.refusal(sheet, cell) or "LibreOffice did not take the input"
        return {"ok": False, "error": f"{reason} (cell {'unchanged' if unchanged else 'changed differently'})"}

    def op_set_formula(self, a):
        """Set a formula in English API notation (English function names, ';' between arguments)."""
        sheet, cell = self.sheet(a["sheet"]), self.cell(a)
        reason = self.refusal(sheet, cell)
        if reason:
            return {"ok": False, "error": reason}
        cell.setFormula(a["formula"])
        return {"ok": True}

    @staticmethod
    def describe(cell):
        kind = enum_name(cell.Type)
        return {"string": cell.String, "value": cell.Value, "formula": cell.Formula,
                "type": _CELL_TYPES.get(kind, kind), "error": cell.getError()}

    def op_get(self, a):
        return self.describe(self.cell(a))

    def op_cell_locked(self, a):
        return bool(self.cell(a).CellProtection.IsLocked)

    def op_validation(self, a):
        v = self.cell(a).Validation
        return {
            "type": enum_name(v.Type),
            "formula1": v.getFormula1(),
            "formula2": v.getFormula2(),
            "operator": enum_name(v.getOperator()),
            "show_list": bool(v.ShowList),
            "ignore_blank": bool(v.IgnoreBlankCells),
            "show_error": bool(v.ShowErrorMessage),
            "error_style": enum_name(v.ErrorAlertStyle),
        }

    def scratch_cell(self, sheet):
        """An empty cell right of and below the used area (it leaves no trace once cleared)."""
        cursor = sheet.createCursor()
        cursor.gotoEndOfUsedArea(False)
        address = cursor.RangeAddress
        return sheet.getCellByPosition(address.EndColumn + 2, address.EndRow + 2)

    def op_eval(self, a):
        """Evaluate a formula (English API notation) in a scratch cell of ``sheet``, then clear the cell."""
        sheet = self.sheet(a["sheet"])
        cell = sheet.getCellRangeByName(a["cell"]) if a.get("cell") else self.scratch_cell(sheet)
        if cell.Type.value != "EMPTY":
            raise ActionError(f"scratch cell {a.get('cell')} is not empty")
        formula = a["formula"] if a["formula"].startswith("=") else "=" + a["formula"]
        cell.setFormula(formula)  # the API writes even on protected sheets; a person could not
        try:
            self.document().calculateAll()
            result = self.describe(cell)
        finally:
            cell.clearContents(_CLEAR_CONTENT)
        return result

    # ---------------------------------------------------------------------------------------------
    # Session

    def op_ping(self, a):
        return {"ok": True, "version": self.product_version()}

    def product_version(self):
        try:
            provider = self.smgr.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", self.ctx)
            access = provider.createInstanceWithArguments(
                "com.sun.star.configuration.ConfigurationAccess", (prop("nodepath", "/org.openoffice.Setup/Product"),))
            return access.getByName("ooSetupVersionAboutBox")
        except Exception:
            return None

    def op_close_all(self, a):
        """Close every document LibreOffice has open (kept ones included)."""
        components = self.desktop.Components.createEnumeration()
        docs = []
        while components.hasMoreElements():
            docs.append(components.nextElement())
        for doc in docs:
            self.close_document(doc)
        self.doc, self.opened = None, []
        return {"ok": True, "closed": len(docs)}

    def op_terminate(self, a):
        """Ask LibreOffice to quit (the session owner still makes sure the process is gone)."""
        self.op_close_all(a)
        try:
            self.desktop.terminate()
        except Exception:  # the bridge drops while LibreOffice exits
            pass
        return {"ok": True}


def connect(pipe, timeout):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def emit(payload):
    sys.stdout.write(MARKER + " " + json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipe", required=True)
    parser.add_argument("--connect-timeout", type=float, default=30.0)
    args = parser.parse_args()
    actions = json.loads(sys.stdin.read() or "[]")
    try:
        ctx = connect(args.pipe, args.connect_timeout)
    except Exception as exc:
        emit({"results": [], "error": f"cannot connect to LibreOffice on pipe {args.pipe}: {exc}", "index": -1,
              "op": "connect", "traceback": traceback.format_exc()})
        return 2
    worker = Worker(ctx)
    results = []
    try:
        for index, action in enumerate(actions):
            op = action.get("op")
            handler = getattr(worker, f"op_{op}", None)
            if handler is None:
                emit({"results": results, "error": f"unknown op {op!r}", "index": index, "op": op, "traceback": ""})
                return 1
            try:
                results.append(handler(action))
            except Exception as exc:
                message = f"{type(exc).__name__}: {getattr(exc, 'Message', '') or exc}"
                if action.get("allow_error"):
                    results.append({"ok": False, "error": message})
                    continue
                emit({"results": results, "error": message, "index": index, "op": op,
                      "traceback": traceback.format_exc()})
                return 1
    finally:
        if not (actions and actions[-1].get("op") == "terminate"):
            worker.finish()
    emit({"results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
