"""Word documents by hand: what python-docx has no API for (shading, borders, a header row
repeated on every page, rows kept whole, fixed column widths, a named font in place of the
theme's, page numbers) and a cell's text in one call.

For the documents made with python-docx rather than from a template (the journey document,
the patient question cards).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

FONT = "Arial"  # the job aids' font, metric-compatible with Liberation Sans
QUIET_COLOR = "808080"

# What XML 1.0 cannot hold; the loader refuses it in role files, this guards API callers.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def safe(text: str) -> str:
    """Text as written, minus what a .docx cannot hold at all."""
    return _NOT_XML.sub("\ufffd", text)


def paragraph(
    document: Any,
    text: str,
    *,
    bold: bool = False,
    size: float | None = None,
    color: str | None = None,
) -> None:
    from docx.shared import Pt, RGBColor

    run = document.add_paragraph().add_run(safe(text))
    run.bold = bold or None
    if size:
        run.font.size = Pt(size)
    if color:
        run.font.color.rgb = RGBColor.from_string(color)


def named_font(style: Any, size: float | None = None, color: str | None = None) -> None:
    """`style` in FONT for every script, not the theme's fonts: python-docx's default
    template names theme fonts, which LibreOffice prints in a serif face."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    if size:
        style.font.size = Pt(size)
    if color:
        style.font.color.rgb = RGBColor.from_string(color)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in list(fonts.attrib):
        del fonts.attrib[attribute]
    for script in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{script}"), FONT)


def page_lines(section: Any, left: str, right: str) -> None:
    """`left` and `right` at the top of each page of `section`, "Page N of M" at its foot."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT

    header = section.header.paragraphs[0]
    header.style.paragraph_format.tab_stops.clear_all()  # the style's centre tab
    width = section.page_width - section.left_margin - section.right_margin
    header.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    _quiet_run(header, f"{safe(left)}\t{safe(right)}")
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _quiet_run(footer, "Page ")
    _field(footer, "PAGE")
    _quiet_run(footer, " of ")
    _field(footer, "NUMPAGES")


def _quiet_run(paragraph: Any, text: str = "") -> Any:
    from docx.shared import Pt, RGBColor

    run = paragraph.add_run(text)
    run.font.size, run.font.color.rgb = Pt(8), RGBColor.from_string(QUIET_COLOR)
    return run


def _field(paragraph: Any, instruction: str) -> None:
    """A field that Word and LibreOffice fill in as they lay out the pages, a run for each
    of its parts as Word writes them."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for kind in ("begin", "instruction", "separate", "shown", "end"):
        run = _quiet_run(paragraph, "1" if kind == "shown" else "")  # "1" until filled in
        if kind == "instruction":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {instruction} "
            run._r.append(element)
        elif kind != "shown":
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
            run._r.append(element)


def cell(
    cell: Any,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: float = 8.5,
    color: str | None = None,
    fill: str | None = None,
    align: Any = None,
    extra: Sequence[str] = (),
    quiet_extra: bool = False,
) -> None:
    """Put `text` (and a line per `extra`) in `cell`, replacing what it held."""
    from docx.shared import Pt, RGBColor

    paragraphs = [cell.paragraphs[0]] + [cell.add_paragraph() for _ in extra]
    for index, (paragraph, line) in enumerate(zip(paragraphs, [text, *extra], strict=True)):
        for run in list(paragraph.runs):
            run._r.getparent().remove(run._r)
        paragraph.paragraph_format.space_after = Pt(0)
        if align is not None:
            paragraph.alignment = align
        run = paragraph.add_run(safe(line))
        run.font.size = Pt(size)
        run.bold = (bold and index == 0) or None
        run.italic = italic or None
        tint = QUIET_COLOR if index and quiet_extra else color
        if tint:
            run.font.color.rgb = RGBColor.from_string(tint)
    if fill:
        shade(cell, fill)


def shade(cell: Any, color: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = cell._tc.get_or_add_tcPr()
    for old in properties.findall(qn("w:shd")):
        properties.remove(old)
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), color)
    properties.append(shading)


def border(cell: Any, sides: Sequence[str], style: str, eighths: int, color: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    for side in sides:
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), style)
        edge.set(qn("w:sz"), str(eighths))
        edge.set(qn("w:space"), "0")
        edge.set(qn("w:color"), color)
        borders.append(edge)
    properties.append(borders)


def repeat_header(row: Any) -> None:
    """The header row again at the top of every page the table runs onto."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    properties.append(element)
    cant_split(row)


def keep_together(table: Any) -> None:
    """A band on one page where it fits: no row split, each row kept with the next."""
    rows = table.rows
    for number, row in enumerate(rows):
        cant_split(row)
        if number < len(rows) - 1:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True


def cant_split(row: Any) -> None:
    """A row prints whole, on one page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    if properties.find(qn("w:cantSplit")) is None:
        element = OxmlElement("w:cantSplit")
        element.set(qn("w:val"), "true")
        properties.append(element)


def fixed_layout(table: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)


def widths(table: Any, widths: Sequence[Any]) -> None:
    """Word reads the cells' widths, LibreOffice the columns'."""
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def trim(cell: Any) -> None:
    """A merged cell keeps one paragraph per merged cell; drop the empty ones."""
    paragraphs = cell.paragraphs
    for paragraph in paragraphs[1:]:
        if not paragraph.text:
            paragraph._p.getparent().remove(paragraph._p)
