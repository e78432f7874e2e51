"""Page flow that a template cannot say by itself: the sign-off keeps with what precedes it.

The sign-off block (its heading, a sentence and the signature table) keeps together with
"keep with next", so when it does not fit at the foot of a page it moves to the next one,
alone. What precedes it differs from role to role (the last feedback question, the last
moment of truth, a journey, the line of sight), so no one paragraph of the template can
carry the fix: once rendered, the paragraph or table row just before the block is told to
keep with it too, and it moves along.
"""

from __future__ import annotations

import re

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
# The style id Word gives the table style "Job Aid Sign-off" of the default template.
SIGN_OFF_TABLE = "JobAidSignoff"
_MARK = f'w:val="{SIGN_OFF_TABLE}"'
_HEADING = re.compile(r"Heading\d|Title")
# Our own rendered XML: no entities to expand, nothing to fetch.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


def keep_sign_off_with_what_precedes(xml: str) -> str:
    """`xml` (a body part, without its prolog) with the sign-off kept with what precedes it.

    Unchanged when the body has no sign-off table, or nothing before it.
    """
    if _MARK not in xml:
        return xml
    body = etree.fromstring(xml.encode("utf-8"), _PARSER)
    for table in body.iter(_w("tbl")):
        style = table.find(f"{_w('tblPr')}/{_w('tblStyle')}")
        if style is not None and style.get(_w("val")) == SIGN_OFF_TABLE:
            before = _before_block(table)
            if before is None:
                return xml
            for paragraph in _last_lines(before):
                _keep_with_next(paragraph)
            return str(etree.tostring(body, encoding="unicode"))
    return xml


def _before_block(table: etree._Element) -> etree._Element | None:
    """The paragraph or table before the sign-off's heading (the block's first paragraph)."""
    element = table.getprevious()
    while element is not None:
        if element.tag == _w("p") and _is_heading(element):
            break
        element = element.getprevious()
    if element is None:  # a template without a heading over its sign-off
        element = table
    element = element.getprevious()
    while element is not None and (element.tag not in (_w("p"), _w("tbl")) or _empty(element)):
        element = element.getprevious()
    return element


def _is_heading(paragraph: etree._Element) -> bool:
    style = paragraph.find(f"{_w('pPr')}/{_w('pStyle')}")
    return style is not None and bool(_HEADING.fullmatch(style.get(_w("val"), "")))


def _empty(element: etree._Element) -> bool:
    return element.tag == _w("p") and not "".join(element.itertext()).strip()


def _last_lines(element: etree._Element) -> list[etree._Element]:
    """The paragraphs that must keep with what follows: a paragraph, or a table's last row."""
    if element.tag == _w("p"):
        return [element]
    rows = element.findall(_w("tr"))
    return list(rows[-1].iter(_w("p"))) if rows else []


def _keep_with_next(paragraph: etree._Element) -> None:
    properties = paragraph.find(_w("pPr"))
    if properties is None:
        properties = etree.Element(_w("pPr"))
        paragraph.insert(0, properties)
    if properties.find(_w("keepNext")) is not None:
        return
    # keepNext comes right after pStyle in a paragraph's properties (the schema's order).
    style = properties.find(_w("pStyle"))
    properties.insert(
        0 if style is None else properties.index(style) + 1, etree.Element(_w("keepNext"))
    )
