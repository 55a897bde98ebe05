"""The briefing as a Word document (python-docx): title, headings, tables, embedded charts."""

from __future__ import annotations

import io
import re
from dataclasses import replace

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import CharacterStyle
from docx.text.run import Run

from briefing.figures import Briefing
from briefing.layout import Block, blocks
from core.display_text import displayable

# Fonts of Chinese government documents; Word on Windows has them, LibreOffice substitutes a CJK
# font it has (Noto CJK on Debian), so the text is never boxes either way.
BODY_FONT = "宋体"
HEADING_FONT = "黑体"
TITLE_FONT = "方正小标宋简体"


def _font(run_or_style: Run | CharacterStyle, name: str, size: float | None = None, bold: bool | None = None) -> None:
    font = run_or_style.font
    font.name = name
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    element = run_or_style.element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)  # python-docx sets only the Latin font name


TABLE_WIDTH_CM = 16.0


def _widths(header: list[str], rows: list[list[str]]) -> list[float]:
    """Column widths (cm) in proportion to each column's longest text, within bounds, so a title
    column is not squeezed into the width of a count."""
    def width(text: str) -> int:  # a CJK character is about twice as wide as a digit
        return sum(1 if ord(ch) < 0x2E80 else 2 for ch in text)

    longest = [max([width(header[i]), *(width(r[i]) for r in rows)]) for i in range(len(header))]
    weights = [min(max(n, 6), 40) for n in longest]
    return [TABLE_WIDTH_CM * w / sum(weights) for w in weights]


def _table(doc: DocxDocument, header: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = _widths(header, rows)
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(text), HEADING_FONT, 9, True)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(text), BODY_FONT, 9)
    for row in table.rows:  # Word reads the cell widths, LibreOffice the column widths: set both
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)


def render_docx(b: Briefing, charts: dict[str, bytes]) -> bytes:
    """The DOCX file's bytes."""
    return render_blocks_docx(b.title, blocks(b), charts)


# Characters XML 1.0 cannot carry (python-docx refuses them) beyond the controls ``displayable``
# already drops: lone surrogates and the two non-characters.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """The text as a Word document may show it: without the characters that reorder or hide the
    text around them (a U+202E in a crawled title would make Word show it reversed, as the HTML
    renderer prevents with the same ``displayable``) and without those XML cannot hold (dropped,
    not replaced)."""
    return _NOT_XML.sub("", displayable(text))


def _safe(block: Block) -> Block:
    return replace(block, text=xml_safe(block.text), header=[xml_safe(h) for h in block.header],
                   rows=[[xml_safe(c) for c in row] for row in block.rows],
                   url=xml_safe(block.url) if block.url else block.url,
                   ref=xml_safe(block.ref) if block.ref else block.ref)


def render_blocks_docx(title: str, laid_out: list[Block], charts: dict[str, bytes]) -> bytes:
    """Any document laid out as blocks (a briefing, a special report) as DOCX bytes."""
    laid_out = [_safe(b) for b in laid_out]
    title = xml_safe(title)
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)
    _font(doc.styles["Normal"], BODY_FONT, 11)
    for level in (1, 2):
        _font(doc.styles[f"Heading {level}"], HEADING_FONT, 14 if level == 1 else 12, True)
        doc.styles[f"Heading {level}"].font.color.rgb = RGBColor(0, 0, 0)
    for block in laid_out:
        if block.kind == "title":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p.add_run(block.text), TITLE_FONT, 20, True)
        elif block.kind == "subtitle":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p.add_run(block.text), BODY_FONT, 10)
        elif block.kind in ("h1", "h2"):
            doc.add_heading(block.text, level=1 if block.kind == "h1" else 2)
        elif block.kind == "note":
            p = doc.add_paragraph()
            run = p.add_run("【提示】" + block.text)
            _font(run, HEADING_FONT, 10.5, True)
            run.font.color.rgb = RGBColor(0xA0, 0x1C, 0x1C)
        elif block.kind == "p":
            doc.add_paragraph(block.text)
        elif block.kind == "blank":  # a space left for the officer to write in
            for _ in range(block.lines):
                doc.add_paragraph("")
        elif block.kind == "table":
            cap = doc.add_paragraph()
            cap.paragraph_format.space_before = Pt(10)
            cap.paragraph_format.keep_with_next = True
            _font(cap.add_run(block.text), HEADING_FONT, 10, True)
            _table(doc, block.header, block.rows)
        elif block.kind == "chart":
            png = charts.get(block.chart or "")
            if png:
                doc.add_picture(io.BytesIO(png), width=Cm(15.5))
                doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif block.kind == "quote":
            p = doc.add_paragraph()
            p.paragraph_format.left_indent = Cm(0.8)
            _font(p.add_run(f"“{block.text}”"), BODY_FONT, 10.5)
            _font(p.add_run(f"（{block.ref}）"), BODY_FONT, 9)
        elif block.kind == "link":
            p = doc.add_paragraph()
            p.paragraph_format.left_indent = Cm(0.8)
            _font(p.add_run(f"{block.ref}　{block.text}"), BODY_FONT, 9)
            if block.url:
                _font(p.add_run(f"　{block.url}"), BODY_FONT, 8)
    buf = io.BytesIO()
    doc.core_properties.title = title
    doc.core_properties.author = "ecowatch"
    doc.save(buf)
    return buf.getvalue()
