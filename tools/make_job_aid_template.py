"""Write the default job-aid template, templates/job-aid.docx, with python-docx.

The template is a Word document HR can open and edit: real styles (Title, Heading 1 and 2,
a table style whose bold header row repeats on every page) and docxtpl tags for the data.
It is generated from this script so that it can be reviewed as code and rebuilt exactly:
the same script always writes the same bytes.

    python tools/make_job_aid_template.py [OUTPUT]

The page is US Letter with a text block of 6.7 x 9.4 inches, which also fits on A4 with
margins of about 20 mm, so the document prints well on either paper.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_TAB_ALIGNMENT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Inches, Pt, RGBColor
from docx.styles.style import BaseStyle, ParagraphStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from jobdefs.documents.ooxml import ZIP_EPOCH, core_properties, repack

OUTPUT = Path(__file__).resolve().parent.parent / "templates" / "job-aid.docx"

FONT = "Arial"  # metric-compatible with Liberation Sans, so Word and LibreOffice agree
TEXT_WIDTH = 6.7  # inches
BLACK = RGBColor(0, 0, 0)
DARK = RGBColor(0x40, 0x40, 0x40)
HEADER_FILL = "D9D9D9"  # a light grey that stays legible on a black-and-white printer
LABEL_FILL = "F2F2F2"
ARROW = " \u2192 "

DATA_TABLE = "Job Aid Table"
FACTS_TABLE = "Job Aid Facts"
SIGN_TABLE = "Job Aid Sign-off"


# -- styles ---------------------------------------------------------------------------


def set_fonts(element: Any, size: float | None = None) -> None:
    """Give an rPr one explicit font for every script, dropping theme fonts."""
    rpr = element.get_or_add_rPr()
    for old in rpr.findall(qn("w:rFonts")):
        rpr.remove(old)
    fonts = parse_xml(
        f'<w:rFonts {nsdecls("w")} w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" '
        f'w:cs="{FONT}"/>'
    )
    rpr.insert(0, fonts)  # rFonts comes first in a style's run properties
    if size is not None:
        for tag in ("w:sz", "w:szCs"):
            for old in rpr.findall(qn(tag)):
                rpr.remove(old)
        size_element = f'w:val="{round(size * 2)}"'
        rpr.insert_element_before(
            parse_xml(f"<w:sz {nsdecls('w')} {size_element}/>"), "w:szCs", *AFTER_SZ_CS
        )
        # szCs sizes right-to-left and other complex-script text, e.g. Arabic.
        rpr.insert_element_before(
            parse_xml(f"<w:szCs {nsdecls('w')} {size_element}/>"), *AFTER_SZ_CS
        )


# Word reads a file whose properties are out of the schema's order as damaged, so each
# element is put before the ones that must follow it.
AFTER_SZ_CS = (
    "w:highlight",
    "w:u",
    "w:effect",
    "w:bdr",
    "w:shd",
    "w:fitText",
    "w:vertAlign",
    "w:rtl",
    "w:cs",
    "w:em",
    "w:lang",
    "w:eastAsianLayout",
    "w:specVanish",
    "w:oMath",
)
AFTER_PBDR = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def border(style: BaseStyle, side: str, size: int, space: int) -> None:
    """A black paragraph border on one side (a rule under a heading, a bar beside a chain)."""
    ppr = style.element.get_or_add_pPr()
    remove(ppr, "w:pBdr")
    ppr.insert_element_before(
        parse_xml(
            f'<w:pBdr {nsdecls("w")}><w:{side} w:val="single" w:sz="{size}" '
            f'w:space="{space}" w:color="000000"/></w:pBdr>'
        ),
        *AFTER_PBDR,
    )


def remove(element: Any, *tags: str) -> None:
    for tag in tags:
        for old in element.findall(qn(tag)):
            element.remove(old)


def paragraph_style(
    document: DocumentObject,
    name: str,
    *,
    size: float,
    bold: bool = False,
    italic: bool = False,
    color: RGBColor = BLACK,
    before: float = 0,
    after: float = 6,
    keep_with_next: bool = False,
    base: str | None = "Normal",
) -> ParagraphStyle:
    styles = document.styles
    if name in [s.name for s in styles]:
        style = styles[name]
    else:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.quick_style = True
    assert isinstance(style, ParagraphStyle)
    if base is not None:
        style.base_style = styles[base]
    font = style.font
    font.size = Pt(size)
    font.bold = bold
    font.italic = italic
    font.color.rgb = color
    set_fonts(style.element, size)
    fmt = style.paragraph_format
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    fmt.keep_with_next = keep_with_next
    return style


def table_style(document: DocumentObject, name: str, xml: str) -> None:
    style_id = name.replace(" ", "").replace("-", "")
    element = parse_xml(
        f'<w:style {nsdecls("w")} w:type="table" w:customStyle="1" w:styleId="{style_id}">'
        f'<w:name w:val="{name}"/><w:basedOn w:val="TableNormal"/>'
        f'<w:uiPriority w:val="59"/><w:qFormat/>{xml}</w:style>'
    )
    document.styles.element.append(element)


def define_styles(document: DocumentObject) -> None:
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    remove(rpr_default, "w:rFonts")
    rpr_default.insert(
        0,
        parse_xml(
            f'<w:rFonts {nsdecls("w")} w:ascii="{FONT}" w:hAnsi="{FONT}" '
            f'w:eastAsia="{FONT}" w:cs="{FONT}"/>'
        ),
    )

    normal = paragraph_style(document, "Normal", size=10.5, after=6, base=None)
    normal.paragraph_format.line_spacing = 1.1
    normal.paragraph_format.widow_control = True

    title = paragraph_style(document, "Title", size=24, bold=True, after=4, keep_with_next=True)
    remove(title.element.get_or_add_pPr(), "w:pBdr")
    remove(title.element.get_or_add_rPr(), "w:spacing", "w:kern")

    subtitle = paragraph_style(
        document, "Subtitle", size=10, bold=True, color=DARK, after=2, keep_with_next=True
    )
    remove(subtitle.element.get_or_add_pPr(), "w:numPr")
    subtitle.font.all_caps = True

    heading1 = paragraph_style(
        document, "Heading 1", size=14, bold=True, before=18, after=8, keep_with_next=True
    )
    border(heading1, "bottom", size=8, space=2)
    heading2 = paragraph_style(
        document, "Heading 2", size=11.5, bold=True, before=12, after=4, keep_with_next=True
    )
    heading2.paragraph_format.keep_together = True

    paragraph_style(
        document, "Intro", size=10.5, italic=True, color=DARK, after=8, keep_with_next=True
    )
    paragraph_style(document, "Product Description", size=10.5, after=6, keep_with_next=True)
    paragraph_style(document, "Table Text", size=9.5, after=0)
    paragraph_style(document, "Table Heading", size=9.5, bold=True, after=0, keep_with_next=True)
    paragraph_style(document, "Table Note", size=8.5, color=DARK, after=0)
    paragraph_style(
        document, "Line Label", size=10.5, bold=True, before=6, after=2, keep_with_next=True
    )
    chain = paragraph_style(document, "Line Chain", size=10.5, after=6)
    chain.paragraph_format.keep_together = True
    chain.paragraph_format.left_indent = Inches(0.2)
    border(chain, "left", size=18, space=8)
    bullet = paragraph_style(document, "List Bullet", size=10.5, after=3)
    bullet.paragraph_format.keep_together = True
    last = paragraph_style(
        document, "Last Question", size=10.5, after=3, keep_with_next=True, base="List Bullet"
    )
    last.paragraph_format.keep_together = True

    for name in ("Header", "Footer"):
        style = paragraph_style(document, name, size=8.5, color=DARK, after=0)
        tabs = style.paragraph_format.tab_stops
        remove(style.element.get_or_add_pPr(), "w:tabs")
        tabs.add_tab_stop(Inches(TEXT_WIDTH), WD_TAB_ALIGNMENT.RIGHT)
    border(document.styles["Header"], "bottom", size=4, space=4)

    cell_margins = (
        '<w:tblCellMar><w:top w:w="57" w:type="dxa"/><w:left w:w="100" w:type="dxa"/>'
        '<w:bottom w:w="57" w:type="dxa"/><w:right w:w="100" w:type="dxa"/></w:tblCellMar>'
    )
    table_style(
        document,
        DATA_TABLE,
        '<w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
        '<w:rPr><w:sz w:val="19"/><w:szCs w:val="19"/></w:rPr>'
        "<w:tblPr><w:tblBorders>"
        '<w:top w:val="single" w:sz="8" w:space="0" w:color="000000"/>'
        '<w:left w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        '<w:bottom w:val="single" w:sz="8" w:space="0" w:color="000000"/>'
        '<w:right w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        '<w:insideH w:val="single" w:sz="4" w:space="0" w:color="7F7F7F"/>'
        '<w:insideV w:val="single" w:sz="4" w:space="0" w:color="7F7F7F"/>'
        f"</w:tblBorders>{cell_margins}</w:tblPr>"
        '<w:tblStylePr w:type="firstRow"><w:pPr><w:keepNext/></w:pPr>'
        "<w:rPr><w:b/><w:bCs/></w:rPr><w:tblPr/>"
        "<w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>"
        f'<w:tcPr><w:tcBorders><w:bottom w:val="single" w:sz="8" w:space="0" '
        f'w:color="000000"/></w:tcBorders>'
        f'<w:shd w:val="clear" w:color="auto" w:fill="{HEADER_FILL}"/></w:tcPr>'
        "</w:tblStylePr>",
    )
    table_style(
        document,
        FACTS_TABLE,
        '<w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
        "<w:tblPr><w:tblBorders>"
        '<w:top w:val="single" w:sz="8" w:space="0" w:color="000000"/>'
        '<w:bottom w:val="single" w:sz="8" w:space="0" w:color="000000"/>'
        '<w:insideH w:val="single" w:sz="4" w:space="0" w:color="BFBFBF"/>'
        f"</w:tblBorders>{cell_margins}</w:tblPr>"
        '<w:tblStylePr w:type="firstCol"><w:rPr><w:b/><w:bCs/></w:rPr><w:tblPr/>'
        f'<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{LABEL_FILL}"/></w:tcPr>'
        "</w:tblStylePr>",
    )
    table_style(
        document,
        SIGN_TABLE,
        '<w:pPr><w:keepNext/><w:spacing w:before="0" w:after="0"/></w:pPr>'
        '<w:tblPr><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="60" w:type="dxa"/>'
        '<w:bottom w:w="40" w:type="dxa"/><w:right w:w="60" w:type="dxa"/></w:tblCellMar>'
        "</w:tblPr>",
    )


# -- building blocks ------------------------------------------------------------------


def add_paragraph(
    container: DocumentObject | _Cell, text: str = "", style: str | None = None
) -> Paragraph:
    paragraph: Paragraph = container.add_paragraph(style=style)
    if text:
        paragraph.add_run(text)
    return paragraph


def tag(document: DocumentObject, text: str) -> None:
    """A paragraph holding only a docxtpl {%p ... %} tag; it never reaches the output."""
    add_paragraph(document, text)


def set_cell(cell: _Cell, text: str, style: str = "Table Text", bold: bool = False) -> Paragraph:
    paragraph: Paragraph = cell.paragraphs[0]
    paragraph.style = style
    if text:
        paragraph.add_run(text).bold = bold or None
    return paragraph


def shade(cell: _Cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    remove(tcpr, "w:shd")
    tcpr.append(parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="{fill}"/>'))


def row_properties(row_element: Any, *children: str) -> None:
    trpr = row_element.get_or_add_trPr()
    for child in children:
        trpr.append(parse_xml(f"<w:{child} {nsdecls('w')}/>"))


@dataclass(frozen=True)
class Grid:
    """A table and its column widths, which every new row's cells are given."""

    table: Table
    widths: Sequence[float]


def new_table(
    document: DocumentObject, widths: Sequence[float], style: str, look: str, indent: int = 100
) -> Grid:
    """A fixed-layout table whose borders line up with the text margins.

    `indent` is the style's left cell margin (twips): Word puts the table's left border that
    far to the left of the indent, so indenting by it puts the border on the margin.
    """
    assert abs(sum(widths) - TEXT_WIDTH) < 0.01, widths
    table = document.add_table(rows=0, cols=len(widths))
    table.style = document.styles[style]
    table.autofit = False
    tblpr = table._tbl.tblPr
    style_element = tblpr.find(qn("w:tblStyle"))
    for child in list(tblpr):
        if child is not style_element:
            tblpr.remove(child)
    # In the order the schema requires: Word refuses a file whose table properties are not.
    tblpr.append(
        parse_xml(f'<w:tblW {nsdecls("w")} w:w="{round(TEXT_WIDTH * 1440)}" w:type="dxa"/>')
    )
    tblpr.append(parse_xml(f'<w:tblInd {nsdecls("w")} w:w="{indent}" w:type="dxa"/>'))
    tblpr.append(parse_xml(f'<w:tblLayout {nsdecls("w")} w:type="fixed"/>'))
    tblpr.append(parse_xml(f"<w:tblLook {nsdecls('w')} {look}/>"))
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Inches(width)
    return Grid(table, widths)


def add_row(grid: Grid, *texts: str, style: str = "Table Text") -> list[_Cell]:
    row = grid.table.add_row()  # type: ignore[no-untyped-call]
    for cell, width, text in zip(row.cells, grid.widths, texts, strict=False):
        cell.width = Inches(width)
        set_cell(cell, text, style)
    row_properties(row._tr, "cantSplit")
    return list(row.cells)


def header_row(grid: Grid, *titles: str) -> None:
    """The bold, shaded header row, repeated at the top of every page the table runs onto.

    The table style already says so; the same formatting is also given directly so that
    programs that ignore table styles' conditional formatting still show it.
    """
    row = grid.table.add_row()  # type: ignore[no-untyped-call]
    for cell, width, title in zip(row.cells, grid.widths, titles, strict=True):
        cell.width = Inches(width)
        set_cell(cell, title, "Table Heading", bold=True)
        shade(cell, HEADER_FILL)
    row_properties(row._tr, "cantSplit", "tblHeader")


def loop_rows(
    grid: Grid,
    opening: str,
    cells: Sequence[str],
    closing: str = "{%tr endfor %}",
    notes: Sequence[str] = (),
) -> list[_Cell]:
    """A docxtpl row loop: a tag row, the repeated row, and a closing tag row."""
    add_row(grid, opening)
    row = add_row(grid, *cells)
    for cell, note in zip(row, notes, strict=False):
        if note:
            add_paragraph(cell, note, "Table Note")
    add_row(grid, closing)
    return row


def field(paragraph: Paragraph, instruction: str, placeholder: str) -> None:
    """A Word field (PAGE, NUMPAGES); Word and LibreOffice fill in the number."""
    run = paragraph.add_run()
    run._r.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="begin"/>'))
    run = paragraph.add_run()
    run._r.append(
        parse_xml(f'<w:instrText {nsdecls("w")} xml:space="preserve"> {instruction} </w:instrText>')
    )
    run = paragraph.add_run()
    run._r.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="separate"/>'))
    paragraph.add_run(placeholder)
    run = paragraph.add_run()
    run._r.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="end"/>'))


# -- the document ---------------------------------------------------------------------


def page_setup(document: DocumentObject) -> None:
    section = document.sections[0]
    section.page_width = Inches(8.5)
    section.page_height = Inches(11)
    section.left_margin = section.right_margin = Inches((8.5 - TEXT_WIDTH) / 2)
    section.top_margin = Inches(0.85)
    section.bottom_margin = Inches(0.75)
    section.header_distance = Inches(0.4)
    section.footer_distance = Inches(0.4)

    header = section.header.paragraphs[0]
    header.style = document.styles["Header"]
    header.add_run("{{ organization.name }}")
    header.add_run("\tJob aid: {{ role.title }}")

    footer = section.footer.paragraphs[0]
    footer.style = document.styles["Footer"]
    footer.add_run(
        "Source: {{ role.file }}{% if role.revision %} \u00b7 revision "
        "{{ role.revision }}{% endif %}{% if role.reviewed %} \u00b7 reviewed "
        "{{ role.reviewed }}{% endif %}\tPage "
    )
    field(footer, "PAGE", "1")
    footer.add_run(" of ")
    field(footer, "NUMPAGES", "1")


def title_block(document: DocumentObject) -> None:
    add_paragraph(
        document,
        "{#p This is the jobdefs job-aid template. Change its wording, styles and layout "
        "freely in Word and keep the tags; every variable is listed in docs/templates.md. "
        "This note is left out of every job aid. #}",
    )
    add_paragraph(document, "Job aid", "Subtitle")
    add_paragraph(document, "{{ role.title }}", "Title")
    facts = new_table(
        document,
        (1.6, 5.1),
        FACTS_TABLE,
        'w:val="0080" w:firstRow="0" w:lastRow="0" w:firstColumn="1" '
        'w:lastColumn="0" w:noHBand="1" w:noVBand="1"',
    )
    fact_rows = [
        ("Organization", "{{ organization.name }}", ""),
        ("Department", "{{ role.department }}", ""),
        ("Reports to", "{{ role.reports_to }}", "role.reports_to"),
        ("Revision", "{{ role.revision }}", "role.revision"),
        ("Last reviewed", "{{ role.reviewed }}", "role.reviewed"),
    ]
    for label, value, condition in fact_rows:
        if condition:
            add_row(facts, f"{{%tr if {condition} %}}")
        label_cell, _ = add_row(facts, label, value)
        label_cell.paragraphs[0].runs[0].bold = True
        shade(label_cell, LABEL_FILL)
        if condition:
            add_row(facts, "{%tr endif %}")


def why_section(document: DocumentObject) -> None:
    add_paragraph(document, "Why this job exists", "Heading 1")
    table = new_table(
        document,
        (1.6, 5.1),
        FACTS_TABLE,
        'w:val="0080" w:firstRow="0" w:lastRow="0" w:firstColumn="1" '
        'w:lastColumn="0" w:noHBand="1" w:noVBand="1"',
    )
    add_row(table, "{%tr if organization.mission %}")
    cells = add_row(table, "Our mission", "{{ organization.mission }}")
    cells[0].paragraphs[0].runs[0].bold = True
    shade(cells[0], LABEL_FILL)
    add_row(table, "{%tr endif %}")
    cells = add_row(table, "Your part in it", "{{ role.purpose }}")
    cells[0].paragraphs[0].runs[0].bold = True
    shade(cells[0], LABEL_FILL)


DATA_LOOK = (
    'w:val="0420" w:firstRow="1" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
    'w:noHBand="1" w:noVBand="1"'
)


def products_section(document: DocumentObject) -> None:
    add_paragraph(document, "What you produce and why it matters", "Heading 1")
    add_paragraph(
        document,
        "Each thing you make is for someone. For each one: who receives it, what they need "
        "from it, and the standard that tells you it was good enough.",
        "Intro",
    )
    tag(document, "{%p for product in products %}")
    add_paragraph(document, "{{ product.name }}", "Heading 2")
    tag(document, "{%p if product.description %}")
    add_paragraph(document, "{{ product.description }}", "Product Description")
    tag(document, "{%p endif %}")
    table = new_table(document, (1.7, 2.9, 2.1), DATA_TABLE, DATA_LOOK)
    header_row(table, "Customer", "What they need from it", "Standard")
    loop_rows(
        table,
        "{%tr for customer in product.customers %}",
        ("{{ customer.title }}", "{{ customer.need }}", "{{ customer.standard or '\u2014' }}"),
        notes=("{{ customer.department }}",),
    )
    tag(document, "{%p endfor %}")


def handoffs_section(document: DocumentObject) -> None:
    tag(document, "{%p if has_handoffs %}")
    add_paragraph(document, "Your hand-offs", "Heading 1")

    tag(document, "{%p if has_suppliers %}")
    add_paragraph(document, "Who supplies you", "Heading 2")
    add_paragraph(
        document,
        "What colleagues hand you, and what they think you need. If that is wrong, tell them.",
        "Intro",
    )
    table = new_table(document, (1.6, 1.4, 2.0, 1.7), DATA_TABLE, DATA_LOOK)
    header_row(table, "From", "What they hand you", "What they think you need", "Their standard")
    loop_rows(
        table,
        "{%tr for supplier in suppliers %}",
        (
            "{{ supplier.title }}",
            "{{ supplier.product }}",
            "{{ supplier.need }}",
            "{{ supplier.standard or '\u2014' }}",
        ),
        notes=("{{ supplier.department }}",),
    )
    tag(document, "{%p endif %}")

    tag(document, "{%p if has_customers %}")
    add_paragraph(document, "Whom you supply", "Heading 2")
    table = new_table(document, (2.4, 4.3), DATA_TABLE, DATA_LOOK)
    header_row(table, "Customer", "What you hand them")
    loop_rows(
        table,
        "{%tr for customer in customers %}",
        ("{{ customer.title }}", "{{ customer.products_text }}"),
        notes=("{{ customer.department }}",),
    )
    tag(document, "{%p endif %}")

    tag(document, "{%p if has_gaps %}")
    add_paragraph(document, "Open gaps", "Heading 2")
    add_paragraph(
        document,
        "You count on these, but the colleague you expect them from does not list them as "
        "something they hand to you. Until you agree, nobody is sure it will arrive: raise "
        "each one with your manager.",
        "Intro",
    )
    tag(document, "{%p for gap in gaps %}")
    gap = add_paragraph(document, "", "List Bullet")
    gap.add_run("{{ gap.product }}").bold = True
    gap.add_run(
        ", expected from {{ gap.supplier }}{% if gap.instead %}. What their role file "
        "lists for you: {{ gap.instead }}{% endif %}"
    )
    tag(document, "{%p endfor %}")
    tag(document, "{%p endif %}")
    tag(document, "{%p endif %}")


def line_of_sight_section(document: DocumentObject) -> None:
    """The chain to the first external customer in full, then the others by distance."""
    add_paragraph(document, "Where your work leads", "Heading 1")
    tag(document, "{%p if has_lines_of_sight %}")
    add_paragraph(
        document,
        "Follow your work from hand to hand until it reaches someone outside "
        "{{ organization.name }}. Every link in the chain has to hold.",
        "Intro",
    )
    label = add_paragraph(document, "", "Line Label")
    label.add_run("{{ line_of_sight.customer }}")
    label.add_run(": {{ line_of_sight.distance }}").bold = False
    chain = add_paragraph(document, "", "Line Chain")
    chain.add_run("{% for step in line_of_sight.steps %}{{ step.role }}").bold = True
    chain.add_run(ARROW)
    chain.add_run("{{ step.product }}").italic = True
    chain.add_run(ARROW + "{% endfor %}")
    chain.add_run("{{ line_of_sight.customer }}").bold = True
    tag(document, "{%p if has_other_lines_of_sight %}")
    add_paragraph(document, "Your work also reaches", "Line Label")
    tag(document, "{%p for line in other_lines_of_sight %}")
    other = add_paragraph(document, "", "List Bullet")
    other.add_run("{{ line.customer }}").bold = True
    other.add_run(": {{ line.distance }}")
    tag(document, "{%p endfor %}")
    tag(document, "{%p endif %}")
    tag(document, "{%p else %}")
    add_paragraph(document, "{{ no_line_of_sight }}")
    tag(document, "{%p endif %}")


def moments_section(document: DocumentObject) -> None:
    tag(document, "{%p if has_moments_of_truth %}")
    add_paragraph(document, "Moments of truth", "Heading 1")
    add_paragraph(
        document,
        "The moments when the people you serve make up their minds about us, and what to do "
        "in each.",
        "Intro",
    )
    table = new_table(document, (2.1, 4.6), DATA_TABLE, DATA_LOOK)
    header_row(table, "The moment", "What to do")
    loop_rows(
        table,
        "{%tr for moment in moments_of_truth %}",
        ("{{ moment.moment }}", "{{ moment.practice }}"),
    )
    tag(document, "{%p endif %}")


def journeys_section(document: DocumentObject) -> None:
    tag(document, "{%p if has_journeys %}")
    add_paragraph(document, "Your part in the patient's journey", "Heading 1")
    add_paragraph(
        document,
        "The paths patients live through the hospital, from arrival to going home, and the "
        "steps of each that are yours:",
        "Intro",
    )
    tag(document, "{%p for journey in journeys %}")
    item = add_paragraph(document, "", "List Bullet")
    item.add_run("{{ journey.title }}").bold = True
    item.add_run(": {{ journey.label }} {{ journey.steps }} of {{ journey.of }}")
    tag(document, "{%p endfor %}")
    tag(document, "{%p endif %}")


def feedback_section(document: DocumentObject) -> None:
    """The feedback questions, and the latest survey figures when the build has a scorecard.

    Without a scorecard (`scorecard.found` is false) the section is exactly the questions.
    """
    tag(document, "{%p if has_feedback_questions or scorecard.found %}")
    add_paragraph(document, "How to know you are doing well", "Heading 1")
    tag(document, "{%p if has_feedback_questions %}")
    add_paragraph(
        document,
        "Ask the people you serve, now and then, and listen to the answer:",
        "Intro",
    )
    # The last question stays on the page of what follows it, so the sign-off block never
    # stands alone on a page.
    tag(document, "{%p for item in feedback %}")
    tag(document, "{%p if loop.last %}")
    question(add_paragraph(document, "", "Last Question"))
    tag(document, "{%p else %}")
    question(add_paragraph(document, "", "List Bullet"))
    tag(document, "{%p endif %}")
    tag(document, "{%p endfor %}")
    tag(document, "{%p endif %}")
    tag(document, "{%p if scorecard.found %}")
    add_paragraph(document, "What your customers said", "Heading 2")
    add_paragraph(
        document,
        "Customer survey {{ scorecard.round }}: {{ scorecard.summary }}.",
        "Product Description",
    )
    table = new_table(document, (2.5, 1.2, 0.9, 0.9, 1.2), DATA_TABLE, DATA_LOOK)
    header_row(
        table,
        "What you hand over",
        "Answers",
        "Need met",
        "Rating",
        "{% if scorecard.baseline_round %}Since {{ scorecard.baseline_round }}"
        "{% else %}Change{% endif %}",
    )
    loop_rows(
        table,
        "{%tr for result in scorecard.handoffs %}",
        (
            "{{ result.product }}",
            "{{ result.answered }}",
            "{{ result.share_met }}",
            "{{ result.mean_rating }}",
            "{{ result.change or '\u2014' }}",
        ),
        notes=(
            "to {{ result.customer }}{% if result.changed %} (changed since the survey){% endif %}",
        ),
    )
    add_paragraph(
        document,
        "Need met counts Met as 1, Partly met as \u00bd and Not met as 0. Ratings run from "
        "1 (poor) to 5 (excellent).",
        "Table Note",
    ).paragraph_format.keep_with_next = True
    tag(document, "{%p endif %}")
    tag(document, "{%p endif %}")


def question(paragraph: Paragraph) -> None:
    """A feedback question, after the name of the customer it asks when it names one."""
    paragraph.add_run("{% if item.asks %}{{ item.asks }}: {% endif %}").bold = True
    paragraph.add_run("{{ item.question }}")


def sign_off(document: DocumentObject) -> None:
    """Two signature lines with room to sign above them and a caption below."""
    add_paragraph(document, "Sign-off", "Heading 1")
    add_paragraph(
        document,
        "We have gone through this job aid together. It describes the job as it is done today.",
    ).paragraph_format.keep_with_next = True
    grid = new_table(
        document,
        (4.2, 0.5, 2.0),
        SIGN_TABLE,
        'w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" '
        'w:lastColumn="0" w:noHBand="1" w:noVBand="1"',
        indent=60,
    )
    line = (
        f'<w:tcBorders {nsdecls("w")}><w:bottom w:val="single" w:sz="6" w:space="0" '
        'w:color="000000"/></w:tcBorders>'
    )
    captions = (
        ("Employee", ", name and signature"),
        (
            "Manager",
            "{% if role.reports_to %} ({{ role.reports_to }}){% endif %}, name and signature",
        ),
    )
    for who, rest in captions:
        space = add_row(grid, "", "", "")
        for index in (0, 2):
            space[index]._tc.get_or_add_tcPr().append(parse_xml(line))
        grid.table.rows[-1]._tr.get_or_add_trPr().append(
            parse_xml(
                f'<w:trHeight {nsdecls("w")} w:val="{round(0.55 * 1440)}" w:hRule="atLeast"/>'
            )
        )
        caption = add_row(grid, "", "", "Date", style="Table Note")
        paragraph = caption[0].paragraphs[0]
        paragraph.add_run(who).bold = True
        paragraph.add_run(rest)
        for cell in (*space, *caption):
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True
    add_paragraph(document, "")


def trim(document: DocumentObject) -> None:
    """Drop what python-docx's starting document carries and a job aid never uses.

    Every job aid copies the template's parts, so a stray 400 KB styles-with-effects part, a
    generic thumbnail (which would stand in as every job aid's preview) or a style that no
    paragraph uses costs in every file written.
    """
    unwanted = (
        "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects",
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml",
        "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail",
    )
    for owner in (document.part, document.part.package):
        for rel_id, rel in list(owner.rels.items()):
            if rel.reltype in unwanted:
                owner.rels.pop(rel_id)
    settings = document.settings.element
    remove(settings, "w:savePreviewPicture", "w:rsids")

    styles = document.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in styles.findall(qn("w:style"))}
    wanted = {sid for sid, s in by_id.items() if s.get(qn("w:default")) == "1"}
    wanted |= {"ListNumber", "Heading3", "TableGrid", "Hyperlink"}
    roots = [document.element]
    for section in document.sections:
        roots += [section.header._element, section.footer._element]
    for root in roots:
        for tag in ("w:pStyle", "w:rStyle", "w:tblStyle"):
            wanted |= {e.get(qn("w:val")) for e in root.iter(qn(tag))}
    queue = list(wanted)
    while queue:
        style = by_id.get(queue.pop())
        if style is None:
            continue
        for tag in ("w:basedOn", "w:link", "w:next"):
            for ref in style.findall(qn(tag)):
                value = ref.get(qn("w:val"))
                if value not in wanted:
                    wanted.add(value)
                    queue.append(value)
    for sid, style in by_id.items():
        if sid not in wanted:
            styles.remove(style)


def build() -> bytes:
    document = Document()
    define_styles(document)
    page_setup(document)
    body = document.element.body
    for paragraph in list(body.iterchildren(qn("w:p"))):
        body.remove(paragraph)
    title_block(document)
    why_section(document)
    products_section(document)
    handoffs_section(document)
    line_of_sight_section(document)
    moments_section(document)
    journeys_section(document)
    feedback_section(document)
    sign_off(document)
    trim(document)
    properties = document.core_properties
    properties.title = "Job aid"
    buffer = io.BytesIO()
    document.save(buffer)
    # python-docx stamps the clock into the zip entries and core properties; pin both so the
    # same script always writes the same file.
    return repack(
        buffer.getvalue(),
        ZIP_EPOCH,
        {"docProps/core.xml": core_properties("Job aid", ZIP_EPOCH)},
    )


def main(argv: Sequence[str] = sys.argv[1:]) -> None:
    output = Path(argv[0]) if argv else OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(build())
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
