"""One handbook: every job aid bound into a single Word document, for orientation.

The handbook is made from the same compiled template as the job aids. Each role's job aid
is rendered to XML (not to a .docx) and its body becomes a section of one document.xml,
with that role's own header and footer, so the handbook looks exactly like the job aids
and reuses the template's styles. Before it come a cover (the organization and its
mission) and the contents: every role by department, linked to its job aid, each line
ending in a page reference. LibreOffice fills the page numbers in as it lays out the pages
(and so the PDF has them); Word fills them in when it opens the file, since the settings ask
it to update fields. Word's Protected View updates nothing, so a line under the contents
says how to fill them in there.

What must stay unique in one document is made unique: bookmark names and ids, drawing
ids, footnote ids and the header and footer parts of each section.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from jobdefs.documents.ooxml import ZIP_EPOCH, Part, core_properties, write_package
from jobdefs.documents.word_template import JobAidTemplate, part_path
from jobdefs.model import Organization
from jobdefs.text import count

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_HEADER_FOOTER = frozenset(f"{_R}/{kind}" for kind in ("header", "footer"))
_FOOTNOTES = f"{_R}/footnotes"
_ROLE_BOOKMARK = "jobdefs_role_{}"
_DEPARTMENT_BOOKMARK = "jobdefs_department_{}"
# Under the contents of the .docx: the page numbers are fields, and a viewer that updates
# no fields (Word's Protected View) shows none until someone asks for them.
CONTENTS_NOTE = (
    "Page numbers missing? Word fills them in when the document is opened for editing: in "
    "Protected View, choose Enable Editing, then press Ctrl+A and F9."
)
# Settings that must come after w:updateFields in settings.xml (the schema's order).
_AFTER_UPDATE_FIELDS = (
    "hdrShapeDefaults",
    "footnotePr",
    "endnotePr",
    "compat",
    "docVars",
    "rsids",
    "mathPr",
    "attachedSchema",
    "themeFontLang",
    "clrSchemeMapping",
    "doNotIncludeSubdocsInStats",
    "doNotAutoCompressPictures",
    "forceUpgrade",
    "captions",
    "readModeInkLockDown",
    "smartTagType",
    "schemaLibrary",
    "shapeDefaults",
    "doNotEmbedSmartTags",
    "decimalSymbol",
    "listSeparator",
)


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


@dataclass(frozen=True)
class Handbook:
    """The handbook for Word, and (when asked for) the same for LibreOffice to print."""

    docx: bytes  # the contents end with a line that says how to fill in the page numbers
    printable: bytes | None = None  # the same without that line, to print


def render_handbook(
    organization: Organization,
    template: JobAidTemplate,
    contexts: Mapping[str, Mapping[str, Any]],
    moment: datetime.datetime = ZIP_EPOCH,
    printable: bool = False,
) -> Handbook:
    """handbook.docx: a cover, the contents, then every role's job aid by department.

    `contexts` holds each role's job-aid context (as `job_aid.job_aid_context` makes it); a
    role without one is left out. With `printable`, also the variant to convert to PDF.
    """
    return _Binder(organization, template, moment).bind(contexts, printable)


class _Binder:
    def __init__(
        self, organization: Organization, template: JobAidTemplate, moment: datetime.datetime
    ) -> None:
        from lxml import etree

        self.etree = etree
        self.organization = organization
        self.template = template
        self.moment = moment
        self.parts: dict[str, bytes] = dict(template.source_parts)
        self.body_name = template.body_part
        self.folder = str(PurePosixPath(self.body_name).parent)
        self.rels_name = f"{self.folder}/_rels/{PurePosixPath(self.body_name).name}.rels"
        self.relations = self._relations()
        self.bookmark_ids = iter(range(1, 10_000_000))
        self.footnote_ids: Iterator[int] = iter(())
        self.footnotes: Any = None  # the first role's footnotes part, which all others join
        self.footnotes_name = next(
            (
                target
                for kind, target in self.relations.values()
                if kind == _FOOTNOTES and target in self.parts
            ),
            "",
        )
        self.added: dict[str, bytes] = {}  # new parts: each section's header and footer
        self.new_relations: list[tuple[str, str, str]] = []  # (id, type, target)

    # -- the whole document ---------------------------------------------------------------

    def bind(self, contexts: Mapping[str, Mapping[str, Any]], printable: bool) -> Handbook:
        etree = self.etree
        groups = [
            (department, [role for role in roles if role.id in contexts])
            for department, roles in self.organization.roles_by_department()
        ]
        groups = [(department, roles) for department, roles in groups if roles]
        if not groups:
            raise ValueError("a handbook needs at least one role")
        document: Any = None
        sections: list[tuple[list[Any], Any]] = []
        entries: list[tuple[str, str, str]] = []  # the contents: (style, text, bookmark)
        index = 0
        for number, (department, roles) in enumerate(groups):
            heading = self._department_heading(department, number)
            entries.append(("TOC1", department, _DEPARTMENT_BOOKMARK.format(number)))
            for role in roles:
                rendered = self.template.render_xml(contexts[role.id])
                tree = etree.fromstring(rendered[self.body_name].encode("utf-8"))
                if document is None:
                    document = tree
                role_body = tree.find(_w("body"))
                children = list(role_body)
                section = None
                if children and children[-1].tag == _w("sectPr"):
                    section = children.pop()
                if index == 0:  # the first job aid's headers and footers keep their parts
                    for name, xml in rendered.items():
                        if name != self.body_name:
                            self.added[name] = xml.encode("utf-8")
                self._make_unique(role_body, rendered, index)
                self._remap_headers(children, section, rendered, index)
                bookmark = _ROLE_BOOKMARK.format(index)
                start, end = self._bookmark(bookmark)
                first = next((p for child in children for p in child.iter(_w("p"))), None)
                if first is None:
                    first = _element("p")
                    children.insert(0, first)
                _insert_in_paragraph(first, [start, end])
                if heading is not None:
                    children.insert(0, heading)
                    heading = None
                sections.append((children, section))
                entries.append(("TOC2", role.title, bookmark))
                index += 1

        body = document.find(_w("body"))
        for child in list(body):
            body.remove(child)
        cover = self._cover(len(entries) - len(groups), len(groups))
        contents = _contents(entries)
        note = _paragraph("JobdefsHandbookContentsNote", CONTENTS_NOTE)
        for element in [*cover, *contents, note]:
            body.append(element)
        last_section = sections[-1][1]
        if last_section is not None:
            _end_section(body, note, _without_headers(last_section))
        for position, (children, section) in enumerate(sections):
            for child in children:
                body.append(child)
            if section is None:  # a template without page settings: a page break will do
                if position < len(sections) - 1:
                    _sub(_sub(_sub(body, "p"), "r"), "br").set(_w("type"), "page")
                continue
            if position == len(sections) - 1:
                body.append(section)
            else:
                _end_section(body, children[-1] if children else None, section)
        for number, drawing in enumerate(body.iter(f"{{{_WP}}}docPr"), 1001):
            drawing.set("id", str(number))  # pictures repeat in every job aid
        parts = self._parts()
        docx = self._package(parts, document)
        if not printable:
            return Handbook(docx)
        # On paper the numbers are there: the line about filling them in would be noise.
        section_properties = note.find(f"{_w('pPr')}/{_w('sectPr')}")
        if section_properties is not None:
            contents[-1].find(_w("pPr")).append(section_properties)
        body.remove(note)
        return Handbook(docx, self._package(parts, document))

    def _package(self, parts: Mapping[str, bytes], document: Any) -> bytes:
        data = _xml(document)
        every = {**parts, self.body_name: data}
        return write_package(
            (Part.of(name, content) for name, content in every.items()), self.moment
        )

    def _parts(self) -> dict[str, bytes]:
        """Every part but the main document, as the handbook needs them."""
        parts = dict(self.parts)
        if self.footnotes is not None:
            parts[self.footnotes_name] = _xml(self.footnotes)
        parts.update(self.added)
        if self.rels_name in parts:
            parts[self.rels_name] = self._rels_with_new()
        parts["[Content_Types].xml"] = self._content_types()
        styles = self._styles_name()
        if styles in parts:
            parts[styles] = self._styles(parts[styles])
        settings = self._settings_name()
        if settings in parts:
            parts[settings] = self._settings(parts[settings])
        if "docProps/core.xml" in parts:
            title = f"{self.organization.name}: job aids"
            parts["docProps/core.xml"] = core_properties(title, self.moment, subject="Handbook")
        return parts

    # -- cover and contents -----------------------------------------------------------------

    def _cover(self, roles: int, departments: int) -> list[Any]:
        organization = self.organization
        elements = [
            _paragraph("JobdefsHandbookTitle", organization.name),
            _paragraph("JobdefsHandbookSubtitle", "Job aids for every role"),
        ]
        if organization.mission:
            elements.append(_paragraph("JobdefsHandbookMission", organization.mission))
        elements.append(
            _paragraph(
                "JobdefsHandbookNote",
                f"{count(roles, 'role')} in {count(departments, 'department')}: what each "
                "one makes, for whom, and what they need from it.",
            )
        )
        page_break = _paragraph("", "")
        _sub(_sub(page_break, "r"), "br").set(_w("type"), "page")
        elements.append(page_break)
        elements.append(_paragraph("JobdefsHandbookContents", "Contents"))
        return elements

    def _department_heading(self, department: str, number: int) -> Any:
        heading = _paragraph("JobdefsHandbookDepartment", "")
        start, end = self._bookmark(_DEPARTMENT_BOOKMARK.format(number))
        heading.append(start)
        run = _sub(heading, "r")
        text = _sub(run, "t")
        text.text = department
        heading.append(end)
        return heading

    def _bookmark(self, name: str) -> tuple[Any, Any]:
        identifier = str(next(self.bookmark_ids))
        start = _element("bookmarkStart")
        start.set(_w("id"), identifier)
        start.set(_w("name"), name)
        end = _element("bookmarkEnd")
        end.set(_w("id"), identifier)
        return start, end

    # -- what must be unique --------------------------------------------------------------

    def _make_unique(self, role_body: Any, rendered: Mapping[str, str], index: int) -> None:
        """Bookmarks, footnotes, comments and paragraph ids of one role's body.

        Each kind is looked for in the text first: most templates have none of them.
        """
        xml = rendered[self.body_name]
        renamed: dict[str, str] = {}
        if "bookmarkStart" in xml:
            ids: dict[str, str] = {}
            for element in role_body.iter(_w("bookmarkStart"), _w("bookmarkEnd")):
                old = element.get(_w("id"), "")
                if old not in ids:
                    ids[old] = str(next(self.bookmark_ids))
                element.set(_w("id"), ids[old])
                name = element.get(_w("name"))
                if name is not None and index:
                    renamed[name] = f"{name[:30]}_{index}"
                    element.set(_w("name"), renamed[name])
        if renamed:
            for link in role_body.iter(_w("hyperlink")):
                anchor = link.get(_w("anchor"))
                if anchor in renamed:
                    link.set(_w("anchor"), renamed[anchor])
            for instruction in role_body.iter(_w("instrText")):
                words = (instruction.text or "").split()
                refers = len(words) > 1 and words[0] in ("REF", "PAGEREF", "NOTEREF")
                if refers and words[1] in renamed:
                    instruction.text = (instruction.text or "").replace(
                        words[1], renamed[words[1]], 1
                    )
        if "paraId" in xml or "textId" in xml:  # Word's paragraph ids, unique per document
            for element in role_body.iter():
                for attribute in (f"{{{_W14}}}paraId", f"{{{_W14}}}textId"):
                    if attribute in element.attrib:
                        del element.attrib[attribute]
        if index and "comment" in xml:  # the template's comments stay with the first job aid
            for tag in ("commentRangeStart", "commentRangeEnd", "commentReference"):
                for element in list(role_body.iter(_w(tag))):
                    element.getparent().remove(element)
        if self.footnotes_name in rendered and (index == 0 or "footnoteReference" in xml):
            self._join_footnotes(role_body, rendered[self.footnotes_name], index)

    def _join_footnotes(self, role_body: Any, xml: str, index: int) -> None:
        notes = self.etree.fromstring(xml.encode("utf-8"))
        if index == 0 or self.footnotes is None:
            self.footnotes = notes
            numbers = [int(n.get(_w("id"), "0")) for n in notes.iter(_w("footnote"))]
            self.footnote_ids = iter(range(max(numbers, default=0) + 1, 10_000_000))
            return
        mapping: dict[str, str] = {}
        for note in notes.findall(_w("footnote")):
            if note.get(_w("type")) not in (None, "normal"):
                continue  # separators, shared with the first job aid's
            old = note.get(_w("id"), "")
            mapping[old] = str(next(self.footnote_ids))
            note.set(_w("id"), mapping[old])
            self.footnotes.append(note)
        for reference in role_body.iter(_w("footnoteReference")):
            old = reference.get(_w("id"), "")
            if old in mapping:
                reference.set(_w("id"), mapping[old])

    def _remap_headers(
        self, children: list[Any], section: Any, rendered: Mapping[str, str], index: int
    ) -> None:
        """Give this role's sections headers and footers of their own, rendered for it."""
        sections = [s for child in children for s in child.iter(_w("sectPr"))]
        if section is not None:
            sections.append(section)
        for properties in sections:
            for reference in properties:
                if reference.tag not in (_w("headerReference"), _w("footerReference")):
                    continue
                old = reference.get(f"{{{_R}}}id", "")
                if old not in self.relations:
                    continue
                kind, target = self.relations[old]
                content = rendered.get(target)
                if content is None:
                    continue
                if index == 0:
                    self.added[target] = content.encode("utf-8")
                    continue
                path = PurePosixPath(target)
                copy_name = str(path.with_name(f"{path.stem}-{index}{path.suffix}"))
                identifier = f"{old}h{index}"
                if copy_name not in self.added:
                    self.added[copy_name] = content.encode("utf-8")
                    rels = f"{path.parent}/_rels/{path.name}.rels"
                    if rels in self.parts:
                        self.added[f"{path.parent}/_rels/{path.stem}-{index}{path.suffix}.rels"] = (
                            self.parts[rels]
                        )
                    self.new_relations.append((identifier, kind, _relative(self.folder, copy_name)))
                reference.set(f"{{{_R}}}id", identifier)

    # -- package parts ----------------------------------------------------------------------

    def _relations(self) -> dict[str, tuple[str, str]]:
        """The main part's relationships: id -> (type, part name)."""
        if self.rels_name not in self.parts:
            return {}
        root = self.etree.fromstring(self.parts[self.rels_name])
        found = {}
        for relation in root.iter(f"{{{_RELS}}}Relationship"):
            if relation.get("TargetMode") == "External":
                continue
            target = part_path(self.folder, relation.get("Target", ""))
            found[relation.get("Id", "")] = (relation.get("Type", ""), target)
        return found

    def _rels_with_new(self) -> bytes:
        etree = self.etree
        root = etree.fromstring(self.parts[self.rels_name])
        for identifier, kind, target in self.new_relations:
            relation = etree.SubElement(root, f"{{{_RELS}}}Relationship")
            relation.set("Id", identifier)
            relation.set("Type", kind)
            relation.set("Target", target)
        return _xml(root)

    def _content_types(self) -> bytes:
        etree = self.etree
        root = etree.fromstring(self.parts["[Content_Types].xml"])
        overrides = {o.get("PartName"): o for o in root.iter(f"{{{_TYPES}}}Override")}
        for name in sorted(self.added):
            if name.endswith(".rels") or f"/{name}" in overrides:
                continue
            path = PurePosixPath(name)
            original = f"/{path.parent}/{path.stem.rsplit('-', 1)[0]}{path.suffix}"
            if original in overrides:
                override = etree.SubElement(root, f"{{{_TYPES}}}Override")
                override.set("PartName", f"/{name}")
                override.set("ContentType", overrides[original].get("ContentType", ""))
        return _xml(root)

    def _named(self, kind: str, default: str) -> str:
        return next(
            (target for t, target in self.relations.values() if t == f"{_R}/{kind}"), default
        )

    def _styles_name(self) -> str:
        return self._named("styles", f"{self.folder}/styles.xml")

    def _settings_name(self) -> str:
        return self._named("settings", f"{self.folder}/settings.xml")

    def _styles(self, data: bytes) -> bytes:
        """The template's styles, plus the handbook's own where the template has none."""
        etree = self.etree
        root = etree.fromstring(data)
        present = {s.get(_w("styleId")) for s in root.iter(_w("style"))}
        width = _text_width(self.etree.fromstring(self.parts[self.body_name]))
        declarations = f'xmlns:w="{_W}"'
        for identifier, xml in _handbook_styles(width).items():
            if identifier not in present:
                root.append(etree.fromstring(xml.replace("<w:style ", f"<w:style {declarations} ")))
        return _xml(root)

    def _settings(self, data: bytes) -> bytes:
        """Ask Word to update fields on opening, so the contents get their page numbers."""
        etree = self.etree
        root = etree.fromstring(data)
        if root.find(_w("updateFields")) is None:
            update = _element("updateFields")
            update.set(_w("val"), "true")
            later = next(
                (c for c in root if etree.QName(c).localname in _AFTER_UPDATE_FIELDS), None
            )
            if later is not None:
                later.addprevious(update)
            else:
                root.append(update)
        return _xml(root)


# -- small XML builders ---------------------------------------------------------------------


def _xml(root: Any) -> bytes:
    from lxml import etree

    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return data


def _element(tag: str) -> Any:
    from lxml import etree

    return etree.Element(_w(tag), nsmap={"w": _W})


def _sub(parent: Any, tag: str) -> Any:
    from lxml import etree

    return etree.SubElement(parent, _w(tag))


def _paragraph(style: str, text: str) -> Any:
    paragraph = _element("p")
    if style:
        properties = _sub(paragraph, "pPr")
        _sub(properties, "pStyle").set(_w("val"), style)
    if text:
        run = _sub(paragraph, "r")
        element = _sub(run, "t")
        element.text = text
        element.set(_XML_SPACE, "preserve")
    return paragraph


def _insert_in_paragraph(
    paragraph: Any, elements: Sequence[Any], after_properties: bool = True
) -> None:
    position = 0
    if after_properties and len(paragraph) and paragraph[0].tag == _w("pPr"):
        position = 1
    for offset, element in enumerate(elements):
        paragraph.insert(position + offset, element)


def _field_runs(instruction: str) -> list[Any]:
    """begin, instruction, separate and end runs of a complex field."""
    runs = []
    for kind in ("begin", "instruction", "separate", "end"):
        run = _element("r")
        if kind == "instruction":
            text = _sub(run, "instrText")
            text.text = instruction
            text.set(_XML_SPACE, "preserve")
        else:
            _sub(run, "fldChar").set(_w("fldCharType"), kind)
        runs.append(run)
    return runs


def _contents(entries: Sequence[tuple[str, str, str]]) -> list[Any]:
    """The contents, one linked line per department and role, each ending in a tab and a
    page reference (its number left for Word or LibreOffice to fill in)."""
    lines = []
    for style, text, bookmark in entries:
        line = _paragraph(style, "")
        link = _sub(line, "hyperlink")
        link.set(_w("anchor"), bookmark)
        link.set(_w("history"), "1")
        run = _sub(link, "r")
        element = _sub(run, "t")
        element.text = text
        element.set(_XML_SPACE, "preserve")
        _sub(_sub(link, "r"), "tab")
        begin, instruction, separate, end = _field_runs(f" PAGEREF {bookmark} \\h ")
        for part in (begin, instruction, separate):
            link.append(part)
        _sub(_sub(link, "r"), "t").text = ""
        link.append(end)
        lines.append(line)
    return lines


def _without_headers(section: Any) -> Any:
    """A copy of a section's properties with no header or footer: the cover's."""
    plain = copy.deepcopy(section)
    for child in list(plain):
        if child.tag in (_w("headerReference"), _w("footerReference"), _w("titlePg")):
            plain.remove(child)
    return plain


def _end_section(body: Any, last: Any, section: Any) -> None:
    """End a section after `last`, the last element added to `body`: on it, if it is a
    paragraph, else on a new one (a section ends with a paragraph)."""
    if last is None or last.tag != _w("p") or last.find(f"{_w('pPr')}/{_w('sectPr')}") is not None:
        last = _sub(body, "p")
    properties = last.find(_w("pPr"))
    if properties is None:
        properties = _element("pPr")
        last.insert(0, properties)
    change = properties.find(_w("pPrChange"))
    if change is not None:
        change.addprevious(section)
    else:
        properties.append(section)


def _text_width(document: Any) -> int:
    """The width between the margins, in twentieths of a point."""
    section = document.find(f"{_w('body')}/{_w('sectPr')}")
    try:
        size = section.find(_w("pgSz"))
        margins = section.find(_w("pgMar"))
        width = (
            int(size.get(_w("w"))) - int(margins.get(_w("left"))) - int(margins.get(_w("right")))
        )
    except (AttributeError, TypeError, ValueError):
        return 9360  # 6.5 inches
    return max(width, 1440)


def _handbook_styles(width: int) -> dict[str, str]:
    def paragraph(identifier: str, name: str, properties: str, run: str) -> str:
        return (
            f'<w:style w:type="paragraph" w:customStyle="1" w:styleId="{identifier}">'
            f'<w:name w:val="{name}"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/>'
            f"<w:qFormat/><w:pPr>{properties}</w:pPr><w:rPr>{run}</w:rPr></w:style>"
        )

    tabs = f'<w:tabs><w:tab w:val="right" w:leader="dot" w:pos="{width}"/></w:tabs>'
    return {
        "JobdefsHandbookTitle": paragraph(
            "JobdefsHandbookTitle",
            "Handbook Title",
            '<w:keepNext/><w:spacing w:before="2880" w:after="240"/>',
            '<w:b/><w:bCs/><w:sz w:val="64"/><w:szCs w:val="64"/>',
        ),
        "JobdefsHandbookSubtitle": paragraph(
            "JobdefsHandbookSubtitle",
            "Handbook Subtitle",
            '<w:pBdr><w:bottom w:val="single" w:sz="12" w:space="8" w:color="000000"/></w:pBdr>'
            '<w:spacing w:before="0" w:after="480"/>',
            '<w:caps/><w:color w:val="404040"/><w:sz w:val="28"/><w:szCs w:val="28"/>',
        ),
        "JobdefsHandbookMission": paragraph(
            "JobdefsHandbookMission",
            "Handbook Mission",
            '<w:spacing w:before="0" w:after="480" w:line="300" w:lineRule="auto"/>',
            '<w:i/><w:iCs/><w:sz w:val="28"/><w:szCs w:val="28"/>',
        ),
        "JobdefsHandbookNote": paragraph(
            "JobdefsHandbookNote",
            "Handbook Note",
            '<w:spacing w:before="0" w:after="120"/>',
            '<w:color w:val="404040"/>',
        ),
        "JobdefsHandbookContents": paragraph(
            "JobdefsHandbookContents",
            "Handbook Contents Heading",
            '<w:keepNext/><w:spacing w:before="0" w:after="240"/>',
            '<w:b/><w:bCs/><w:sz w:val="36"/><w:szCs w:val="36"/>',
        ),
        "JobdefsHandbookContentsNote": paragraph(
            "JobdefsHandbookContentsNote",
            "Handbook Contents Note",
            '<w:spacing w:before="360" w:after="0"/>',
            '<w:i/><w:iCs/><w:color w:val="404040"/><w:sz w:val="18"/><w:szCs w:val="18"/>',
        ),
        "JobdefsHandbookDepartment": paragraph(
            "JobdefsHandbookDepartment",
            "Handbook Department",
            '<w:keepNext/><w:shd w:val="clear" w:color="auto" w:fill="D9D9D9"/>'
            '<w:spacing w:before="0" w:after="240"/><w:outlineLvl w:val="0"/>',
            '<w:b/><w:bCs/><w:caps/><w:sz w:val="24"/><w:szCs w:val="24"/>',
        ),
        "TOC1": paragraph(
            "TOC1",
            "toc 1",
            f'<w:keepNext/>{tabs}<w:spacing w:before="200" w:after="60"/>',
            "<w:b/><w:bCs/>",
        ),
        "TOC2": paragraph(
            "TOC2",
            "toc 2",
            f'{tabs}<w:spacing w:before="0" w:after="40"/><w:ind w:left="360"/>',
            "",
        ),
    }


def _relative(folder: str, name: str) -> str:
    prefix = f"{folder}/" if folder else ""
    return name[len(prefix) :] if name.startswith(prefix) else f"/{name}"
