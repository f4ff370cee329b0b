"""The 预算公开 document as PDF (fpdf2: pure Python, embeds and subsets a TrueType CJK font).

A4 portrait; every 项目 table starts on a new page; a table longer than a page continues on the next with
its header row (一级指标 … 指标值确定依据) repeated, and a merged cell cut by the page break is printed
again, label included, on both pages. The text is real text in an embedded font subset, so it can be
selected, searched and extracted (pdftotext). The bytes depend only on the publication and the font: the
document's dates are fixed at 1 January of the budget year.

The font is a system CJK TrueType font when one is found (文泉驿, Noto CJK's TrueType builds, the Windows
and macOS fonts), else the subset shipped in ``jixiao_xl/fonts`` (LXGW WenKai, SIL OFL 1.1, GB2312).
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import COLUMNS, GRID_HEADER, Cell, ProjectTable, Publication

PAGE_MARGIN = 15.0  # mm
COLUMN_WIDTHS = (22.0, 27.0, 31.0, 40.0, 24.0, 36.0)  # mm, sums to A4 width minus the margins
LINE = 5.0  # mm per text line in a table
PAD_X, PAD_Y = 1.2, 1.4
TABLE_SIZE, TEXT_SIZE, HEADING_SIZE, TITLE_SIZE = 10, 12, 13, 16
FONT = "cjk"
SHIPPED_FONT = Path(__file__).resolve().parent.parent / "fonts" / "JixiaoKai-GB2312.ttf"
PROBE = "预算绩效目标表单位万元≥≤％"
KNOWN_FONTS = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("C:/Windows/Fonts/simsun.ttc", 0),
    ("C:/Windows/Fonts/simhei.ttf", 0),
    ("C:/Windows/Fonts/msyh.ttc", 0),
    ("/System/Library/Fonts/Supplemental/Songti.ttc", 0),
    ("/Library/Fonts/Arial Unicode.ttf", 0),
)


# ---------------------------------------------------------------------------------------------------------
# The font


@dataclass(frozen=True)
class FontChoice:
    """A TrueType font file (and its index inside a .ttc collection) that covers Chinese."""

    path: Path
    index: int = 0


def _covers_chinese(path: Path, index: int) -> bool:
    """True for a readable TrueType-outline font (fpdf2 subsets those) with glyphs for the probe text."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        font = TTFont(str(path), fontNumber=index, lazy=True)
        cmap = font.getBestCmap() or {}
        return "glyf" in font and all(ord(c) in cmap for c in PROBE)
    except (OSError, TTLibError, KeyError, ValueError, AssertionError):
        return False


def _fontconfig_candidates() -> list[tuple[str, int]]:
    """The Chinese fonts fontconfig knows of, TrueType first (none when fc-list is not installed)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        listing = subprocess.run([fc_list, ":lang=zh", "file", "index"], capture_output=True, text=True,
                                 timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in sorted(listing.splitlines()):
        path, _, rest = line.partition(":")
        index = rest.split("index=")[-1].strip() if "index=" in rest else "0"
        if path.lower().endswith((".ttf", ".ttc")):
            found.append((path.strip(), int(index) if index.isdigit() else 0))
    return found


@functools.lru_cache(maxsize=1)
def pdf_font() -> FontChoice:
    """The CJK font the PDF embeds: a known system font, else one fontconfig lists, else the shipped subset."""
    for path, index in (*KNOWN_FONTS, *_fontconfig_candidates()):
        candidate = Path(path)
        if candidate.is_file() and _covers_chinese(candidate, index):
            return FontChoice(candidate, index)
    return FontChoice(SHIPPED_FONT, 0)


def missing_characters(publication: Publication, font: FontChoice | None = None) -> str:
    """The characters of the document that the PDF font has no glyph for (shown blank in the PDF), in order."""
    from fontTools.ttLib import TTFont

    font = font or pdf_font()
    cmap = TTFont(str(font.path), fontNumber=font.index, lazy=True).getBestCmap() or {}
    missing = {c for c in document_text(publication) if not c.isspace() and ord(c) not in cmap}
    return "".join(sorted(missing))


def document_text(publication: Publication) -> str:
    """Every text the document prints (for the glyph check)."""
    parts = [publication.unit_line, publication.money_label, publication.overall_goal]
    for goal in publication.sub_goals:
        parts += [goal.name, goal.goal, goal.indicators]
    for measure in publication.measures:
        parts += [measure.title, measure.text]
    for table in publication.projects:
        parts += [table.title] + [cell.text for row in table.head_rows() for cell in row]
        parts += [text for row in grid_cells(table) for text in (cell.text for cell in row)]
    return "".join(parts) + "".join(GRID_HEADER) + "第一二三部分门整体绩效目标预算项总体分工作保障措施指标：、"


# ---------------------------------------------------------------------------------------------------------
# The document


def render_pdf(publication: Publication, font: FontChoice | None = None) -> bytes:
    """The PDF bytes of one unit's document."""
    from fpdf import FPDF

    class Document(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, size=9)
            self.cell(0, 5, str(self.page_no()), align="C")

    font = font or pdf_font()
    # fontTools reports the bitmap tables it drops while subsetting (文泉驿 has some), fpdf2 the characters the
    # font lacks, both in English on stderr; the command says the latter in Chinese (missing_characters).
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    logging.getLogger("fpdf.output").setLevel(logging.ERROR)
    pdf = Document(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(FONT, fname=str(font.path), collection_font_number=font.index)
    pdf.set_margins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
    pdf.set_auto_page_break(True, margin=PAGE_MARGIN + 5)
    fixed = _dt.datetime(publication.year, 1, 1, tzinfo=_dt.timezone.utc)
    pdf.set_creation_date(fixed)
    pdf.set_producer("jixiao-xl")
    pdf.set_creator("jixiao-xl publish")
    pdf.set_title(f"{publication.unit_name} {publication.year}年绩效目标")
    pdf.set_lang("zh-CN")
    writer = _Writer(pdf)
    if publication.has_part_one:
        writer.part_one(publication)
    if publication.projects:
        writer.part_two(publication)
    if pdf.page_no() == 0:
        pdf.add_page()
    return bytes(pdf.output())


class _Writer:
    """Lays out the two parts of the document on an FPDF."""

    def __init__(self, pdf) -> None:
        self.pdf = pdf
        self.width = pdf.w - 2 * PAGE_MARGIN
        self.bottom = pdf.h - PAGE_MARGIN - 5

    # -- text ------------------------------------------------------------------------------------------

    def centred(self, text: str, size: int, after: float = 2.0) -> None:
        self.pdf.set_font(FONT, size=size)
        self.pdf.multi_cell(self.width, size * 0.55, text, align="C", wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(after)

    def heading(self, text: str) -> None:
        self.pdf.set_font(FONT, size=HEADING_SIZE)
        if self.pdf.get_y() + 3 * LINE > self.bottom:
            self.pdf.add_page()
        self.pdf.multi_cell(self.width, 7, text, align="L", wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str) -> None:
        """A paragraph whose first line is indented by two characters (flowing text wraps to the margin)."""
        pdf = self.pdf
        pdf.set_font(FONT, size=TEXT_SIZE)
        pdf.set_x(PAGE_MARGIN + 2 * pdf.get_string_width("中"))
        pdf.write(7, text, wrapmode="CHAR")
        pdf.ln(7)

    def part_one(self, pub: Publication) -> None:
        self.pdf.add_page()
        self.centred("第一部分", TITLE_SIZE)
        self.centred("部门整体绩效目标", TITLE_SIZE, after=6)
        if pub.overall_goal:
            self.heading(pub.heading_number("overall") + "总体绩效目标")
            self.paragraph(pub.overall_goal)
        if pub.sub_goals:
            self.heading(pub.heading_number("sub") + "分项绩效目标")
            for goal in pub.sub_goals:
                self.heading(f"{goal.seq}、{goal.name}")
                self.paragraph(f"绩效目标：{goal.goal}")
                if goal.indicators:
                    self.paragraph(f"绩效指标：{goal.indicators}")
        if pub.measures:
            self.heading(pub.heading_number("measures") + "工作保障措施")
            for measure in pub.measures:
                self.heading(f"{measure.seq}、{measure.title}")
                if measure.text:
                    self.paragraph(measure.text)

    def part_two(self, pub: Publication) -> None:
        self.pdf.add_page()
        self.pdf.ln(40)
        self.centred("第二部分", TITLE_SIZE)
        self.centred("预算项目绩效目标", TITLE_SIZE)
        for table in pub.projects:
            self.project(pub, table)

    # -- one project table -----------------------------------------------------------------------------

    def project(self, pub: Publication, table: ProjectTable) -> None:
        pdf = self.pdf
        pdf.add_page()
        self.centred(table.title, HEADING_SIZE, after=1)
        pdf.set_font(FONT, size=TABLE_SIZE)
        pdf.cell(self.width / 2, LINE + 1, pub.unit_line, align="L")
        pdf.cell(self.width / 2, LINE + 1, pub.money_label, align="R", new_x="LMARGIN", new_y="NEXT")
        header = [Cell(title, label=True) for title in GRID_HEADER]
        self.rows(table.head_rows(), repeat=None)
        self.rows([header] + grid_cells(table), repeat=header)

    def rows(self, rows: list[list[Cell]], repeat: list[Cell] | None) -> None:
        """Draw rows of cells on the six columns; a page break repeats ``repeat`` (the header row) on top."""
        self.pdf.set_font(FONT, size=TABLE_SIZE)
        placed = _place(rows)
        heights = self._heights(rows, placed)
        open_spans: list[_Span] = []
        scheduled: dict[tuple[int, str], list[_Span]] = {}
        y = self.pdf.get_y()
        for r, row in enumerate(placed):
            if y + heights[r] > self.bottom and r > 0:
                for span in open_spans:
                    self._draw_span(span, y)
                self.pdf.add_page()
                self.pdf.set_xy(PAGE_MARGIN, PAGE_MARGIN)
                if repeat is not None:
                    self.rows([repeat], None)
                y = self.pdf.get_y()
                for span in open_spans:
                    span.top = y
            for span in scheduled.pop((r, "before"), []):
                self._draw_span(span, span.top + span.height)
            for cell, column, row_span in row:
                x, w = self._columns(column, cell.colspan)
                if row_span == 1:
                    self._draw_cell(cell, x, y, w, heights[r])
                elif y + sum(heights[r:r + row_span]) <= self.bottom:
                    span = _Span(cell, x, w, y, r + row_span, sum(heights[r:r + row_span]))
                    scheduled.setdefault(_reading_place(heights, r, row_span), []).append(span)
                else:
                    open_spans.append(_Span(cell, x, w, y, r + row_span))
            for span in scheduled.pop((r, "after"), []):
                self._draw_span(span, span.top + span.height)
            y += heights[r]
            for span in [s for s in open_spans if s.end == r + 1]:
                self._draw_span(span, y)
                open_spans.remove(span)
        self.pdf.set_xy(PAGE_MARGIN, y)

    def _heights(self, rows: list[list[Cell]], placed: list[list[tuple[Cell, int, int]]]) -> list[float]:
        heights = [LINE + 2 * PAD_Y] * len(rows)
        for r, row in enumerate(placed):
            for cell, column, row_span in row:
                if row_span == 1:
                    heights[r] = max(heights[r], self._needed(cell, column))
        for r, row in enumerate(placed):
            for cell, column, row_span in row:
                covered = sum(heights[r:r + row_span])
                if row_span > 1 and self._needed(cell, column) > covered:
                    heights[r + row_span - 1] += self._needed(cell, column) - covered
        return heights

    def _needed(self, cell: Cell, column: int) -> float:
        _, w = self._columns(column, cell.colspan)
        return len(self._lines(cell.text, w)) * LINE + 2 * PAD_Y

    def _columns(self, column: int, span: int) -> tuple[float, float]:
        return PAGE_MARGIN + sum(COLUMN_WIDTHS[:column]), sum(COLUMN_WIDTHS[column:column + span])

    def _lines(self, text: str, width: float) -> list[str]:
        if not text:
            return [""]
        return self.pdf.multi_cell(width - 2 * PAD_X, LINE, text, dry_run=True, output="LINES", wrapmode="CHAR")

    def _draw_cell(self, cell: Cell, x: float, y: float, w: float, h: float) -> None:
        pdf = self.pdf
        pdf.rect(x, y, w, h)
        lines = self._lines(cell.text, w)
        fitting = max(1, int((h - 2 * PAD_Y + 0.01) // LINE))
        lines = lines[:fitting]
        top = y + (h - len(lines) * LINE) / 2
        align = "L" if cell.colspan >= 3 and not cell.label else "C"
        for k, line in enumerate(lines):
            pdf.set_xy(x + PAD_X, top + k * LINE)
            pdf.cell(w - 2 * PAD_X, LINE, line, align=align)

    def _draw_span(self, span: "_Span", bottom: float) -> None:
        self._draw_cell(span.cell, span.x, span.top, span.w, bottom - span.top)


@dataclass
class _Span:
    """A cell covering several rows, drawn once its last row (or the page) ends."""

    cell: Cell
    x: float
    w: float
    top: float
    end: int
    height: float = 0.0


def _reading_place(heights: list[float], first: int, count: int) -> tuple[int, str]:
    """Where a merged cell's text goes in the page's reading order: before or after the row at its middle.

    Text extractors (and screen readers) follow the order of the page's content, so the label of a merged
    cell is written where a reader meets it: beside the row at the cell's vertical centre.
    """
    middle = sum(heights[first:first + count]) / 2
    top = 0.0
    for r in range(first, first + count):
        if middle < top + heights[r] / 2:
            return r, "before"
        if middle < top + heights[r]:
            return r, "after"
        top += heights[r]
    return first + count - 1, "after"


def _place(rows: list[list[Cell]]) -> list[list[tuple[Cell, int, int]]]:
    """Each row's cells with their first grid column and row span (columns taken by spans above skipped)."""
    taken: dict[int, int] = {}  # column → the first row no longer covered
    placed = []
    for r, row in enumerate(rows):
        column, out = 0, []
        for cell in row:
            while taken.get(column, 0) > r:
                column += 1
            span = max(1, cell.rowspan)
            out.append((cell, column, span))
            for c in range(column, min(COLUMNS, column + cell.colspan)):
                taken[c] = r + span
            column += cell.colspan
        placed.append(out)
    return placed


def grid_cells(table: ProjectTable) -> list[list[Cell]]:
    """The indicator rows as cells; the merged 一级/二级 cells appear in the first row they cover."""
    rows = []
    for row in table.rows:
        cells = []
        if row.level1_span:
            cells.append(Cell(row.level1, rowspan=row.level1_span))
        if row.level2_span:
            cells.append(Cell(row.level2, rowspan=row.level2_span))
        cells += [Cell(row.name), Cell(row.description), Cell(row.value), Cell(row.basis)]
        rows.append(cells)
    return rows
