"""The Word template engine: a docxtpl template compiled once (docxtpl's tag clean-up,
then Jinja) and rendered for every role.

Rendering renders a few XML parts and copies every other part of the template, already
compressed, into the new zip. Role text is always data: it is escaped for XML and never
read as a template.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import traceback
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from xml.parsers import expat

import jinja2
import jinja2.meta

from jobdefs.documents.ooxml import ZIP_EPOCH, Part, core_properties, read_parts, write_package
from jobdefs.documents.page_flow import keep_sign_off_with_what_precedes
from jobdefs.documents.template_sandbox import (
    bounded,
    new_work,
    template_environment,
    with_work,
)
from jobdefs.documents.template_store import BytecodeCache, CleanPart, TemplateStore
from jobdefs.documents.template_variables import TOP_LEVEL_VARIABLES
from jobdefs.errors import TemplateError
from jobdefs.text import did_you_mean

# -- the compiled template ------------------------------------------------------------

_MAIN_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
_TEMPLATED_RELATIONS = frozenset(
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/" + kind
    for kind in ("header", "footer", "footnotes")
)
_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
_TAB = '</w:t><w:tab/><w:t xml:space="preserve">'
# A <w:t> whose text holds a newline or a tab. Template text never does: the only newlines
# in a compiled template are inside comments, so these come from the data.
_TEXT_WITH_BREAKS = re.compile(r"(<w:t(?: [^>]*)?>)([^<]*[\n\t][^<]*)(?=</w:t>)")
_DECLARATION = re.compile(r"<\?xml[^>]*\?>\s*")
# Where a template line starts: each paragraph, and each tag that stands between XML
# elements (what is left of a {%p %}, {%tr %} or {%tc %} tag), so it has a line of its own.
_LINE_START = re.compile(r"(?=<w:p[ >])|(?:(?<=>)|(?<=%}))(?={%)")
_TAG = re.compile(r"{%.*?%}|{{.*?}}", re.DOTALL)
# Quotes and ampersands as an XML writer may escape them inside a tag's text: LibreOffice
# writes ' as &apos;. docxtpl decodes only &lt; and &gt;, so the rest are decoded here.
_TAG_ENTITY = re.compile(r"&(?:apos|quot|amp|#39|#34|#x27|#x22);")
_ENTITY_TEXT = {"&apos;": "'", "&#39;": "'", "&#x27;": "'", "&quot;": '"', "&#34;": '"'}
_ENTITY_TEXT |= {"&#x22;": '"', "&amp;": "&"}
_RAW_BLOCK = re.compile(r"({%-?\s*raw\s*-?%}.*?{%-?\s*endraw\s*-?%})", re.DOTALL)
_XML_TAG = re.compile(r"<[^>]+>")
_PARAGRAPH_START = re.compile(r"<w:p[ >]")
_TABLE_CELL_TAGS = re.compile(r"{%-?\s*(?:tc\s|colspan\s|hm\s*%})")
_DOCPR_ID = re.compile(r'(<wp:docPr\b[^>]*?\bid=")\d+(")')
_BLOCK_OPENERS = frozenset(
    ("if", "for", "macro", "call", "filter", "with", "block", "autoescape", "raw", "trans")
)
# A comment that holds a newline: it renders as nothing but starts a new template line at
# every paragraph, so a line number in an error points to a paragraph.
_NEW_LINE = "{#\n#}"
# docxtpl's escapes for literal braces in a template's text.
_LITERAL_BRACES = {
    "{_{": "{{ '{{' }}",
    "}_}": "{{ '}}' }}",
    "{_%": "{{ '{%' }}",
    "%_}": "{{ '%}' }}",
}


def _mark_lines(source: str) -> str:
    """Spell docxtpl's literal braces as Jinja and start a template line at each paragraph."""
    for literal, jinja in _LITERAL_BRACES.items():
        source = source.replace(literal, jinja)
    return _LINE_START.sub(_NEW_LINE, source)


def _outside_raw_blocks(source: str, change: Callable[[str], str]) -> str:
    """Apply `change` to the template source except inside {% raw %} blocks, kept as typed."""
    pieces = _RAW_BLOCK.split(source)
    return "".join(piece if index % 2 else change(piece) for index, piece in enumerate(pieces))


def _word_breaks(xml: str) -> str:
    """Newlines and tabs in text (role text, escaped) become Word line breaks and tabs."""
    return _TEXT_WITH_BREAKS.sub(
        lambda m: m.group(1) + m.group(2).replace("\n", _BREAK).replace("\t", _TAB), xml
    )


def template_source(xml: str) -> tuple[str, str]:
    """A templated part's XML declaration and its Jinja source, as compiled.

    docxtpl's own clean-up joins tags Word split across runs, turns {%p %}, {%tr %}, {%tc %}
    and {%r %} into plain Jinja and unescapes quotes inside tags; then every paragraph starts
    a template line of its own, so a line number points to a paragraph.
    """
    from docxtpl import DocxTemplate  # heavy (python-docx, lxml): only when compiling

    declaration = _DECLARATION.match(xml)
    prolog = declaration.group(0) if declaration else ""
    source = _outside_raw_blocks(DocxTemplate(None).patch_xml(xml[len(prolog) :]), _mark_lines)
    return prolog, _outside_raw_blocks(source, _decoded_tags)


def _decoded_tags(source: str) -> str:
    """Each tag as typed: the quotes an XML writer escaped in it decoded back."""
    return _TAG.sub(
        lambda tag: _TAG_ENTITY.sub(lambda e: _ENTITY_TEXT[e.group()], tag.group()), source
    )


@dataclass(frozen=True)
class _XmlPart:
    name: str
    prolog: str  # the XML declaration, kept out of the template
    source: str  # after docxtpl's clean-up, as compiled
    template: jinja2.Template
    fix_tables: bool
    variables: frozenset[str]  # the names it uses from the context


class JobAidTemplate:
    """A Word template compiled once, ready to render any number of documents quickly.

    `name` is how error messages refer to the template (its path as the user knows it).
    `variables` restricts the top-level names the template may use; a name outside it is
    reported when the template is compiled, not when the first role happens to need it.
    """

    def __init__(
        self,
        data: bytes,
        name: str,
        variables: Iterable[str] | None = TOP_LEVEL_VARIABLES,
    ) -> None:
        self.name = name
        self._checked = False
        try:
            parts = read_parts(data)
        except (zipfile.BadZipFile, OSError) as error:
            raise TemplateError(
                f"{name}: not a Word document (.docx): {error}; save the template from Word "
                "as a .docx file"
            ) from error
        try:
            templated = templated_parts(parts)
        except ValueError as error:
            raise TemplateError(f"{name}: {error}") from None
        if not templated:
            raise TemplateError(f"{name}: not a Word document: it has no word/document.xml")
        self._body = templated[0]
        self._order = list(parts)
        self._static: dict[str, Part] = {
            part: Part.of(part, content)
            for part, content in parts.items()
            if part not in templated and part != "docProps/core.xml"
        }
        self._has_core = "docProps/core.xml" in parts
        self.source_parts: Mapping[str, bytes] = parts
        self.body_part = self._body
        self._parts = self._compile_parts({part: parts[part] for part in templated}, data)
        self.variables = frozenset().union(*(part.variables for part in self._parts.values()))
        used = self.variables
        if variables is not None:
            known = sorted(variables)
            for unknown in sorted(used - set(known)):
                where, tag, paragraph = self._find(unknown)
                raise TemplateError(
                    f"{self._where(where, paragraph)}: {tag} uses '{unknown}', which a job aid "
                    f"does not have{did_you_mean(unknown, known)} (the variables are listed in "
                    "docs/templates.md)"
                )

    @classmethod
    def from_file(cls, path: Path, name: str | None = None) -> JobAidTemplate:
        """Compile the template at `path`; `name` defaults to the path."""
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise TemplateError(f"{name or path}: cannot read the template: {error}") from error
        return cls(data, name or str(path))

    def _compile_parts(self, parts: Mapping[str, bytes], data: bytes) -> dict[str, _XmlPart]:
        """Clean up and compile each templated part, or take them from the template store
        (jobdefs.build.cache) when this very template was compiled before."""
        store = TemplateStore.open(data)
        known = store.load() if store is not None else None
        sources: dict[str, str] = {}  # by the name Jinja knows each part's source by
        self._environment = template_environment(
            loader=jinja2.FunctionLoader(sources.get),
            bytecode_cache=BytecodeCache.at(store.bytecode_folder) if store is not None else None,
        )
        cleaned = {}
        compiled = {}
        for part, xml in parts.items():
            clean = known.get(part) if known is not None else None
            if clean is None:
                clean = self._clean(part, xml.decode("utf-8"))
            # Named by its source and by the store's key (the template and the code that
            # sets Jinja up), so that Jinja's bytecode cache never gives code compiled
            # by other code.
            key = store.key if store is not None else ""
            name = hashlib.sha256((key + clean.source).encode()).hexdigest()
            sources[name] = clean.source
            try:
                template = self._environment.get_template(name)
            except jinja2.TemplateSyntaxError as error:
                raise TemplateError(syntax_message(self.name, part, clean.source, error)) from None
            cleaned[part] = clean
            compiled[part] = _XmlPart(
                part, clean.prolog, clean.source, template, clean.fix_tables, clean.variables
            )
        if store is not None and known is None:
            store.save(cleaned)
        return compiled

    def _clean(self, part: str, xml: str) -> CleanPart:
        prolog, source = template_source(xml)
        try:
            tree = self._environment.parse(source)
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(syntax_message(self.name, part, source, error)) from None
        fix_tables = bool(_TABLE_CELL_TAGS.search(_XML_TAG.sub("", xml)))
        variables = frozenset(jinja2.meta.find_undeclared_variables(tree))
        return CleanPart(prolog, source, fix_tables, variables)

    def render(
        self,
        context: Mapping[str, Any],
        moment: datetime.datetime = ZIP_EPOCH,
        title: str = "",
    ) -> bytes:
        """The .docx bytes for `context`; the same context and moment give the same bytes."""
        rendered = {
            name: Part.of(name, xml.encode("utf-8"), level=1)
            for name, xml in self.render_xml(context).items()
        }
        if self._has_core:
            rendered["docProps/core.xml"] = Part.of(
                "docProps/core.xml", core_properties(title, moment, subject="Job aid")
            )
        return write_package(
            (rendered.get(name) or self._static[name] for name in self._order), moment
        )

    def render_xml(self, context: Mapping[str, Any]) -> dict[str, str]:
        """The templated parts (body, headers, footers, footnotes) rendered for `context`."""
        rendered: dict[str, str] = {}
        context = with_work(context, new_work())  # one bound for all the job aid's parts
        for part in self._parts.values():
            try:
                xml = bounded(part.template.generate(context))
            except Exception as error:  # anything the template's own code raises, e.g. 1/0
                raise TemplateError(self._render_message(part, error)) from None
            if "\n" in xml or "\t" in xml:
                xml = _word_breaks(xml)
            if part is self._parts[self._body]:
                xml = keep_sign_off_with_what_precedes(xml)
            xml = part.prolog + xml
            if part.fix_tables:
                xml = _fix_tables(xml)
            if part is self._parts[self._body] and "<wp:docPr" in xml:
                xml = _renumber_drawings(xml)
            if not self._checked:
                self._check_xml(part, xml.encode("utf-8"))
            rendered[part.name] = xml
        self._checked = True
        return rendered

    # -- error messages ---------------------------------------------------------------

    def _where(self, part: str, paragraph: str) -> str:
        return where(self.name, part, paragraph)

    def _find(self, word: str) -> tuple[str, str, str]:
        """The first part, tag and paragraph text that mention `word`."""
        pattern = re.compile(rf"\b{re.escape(word)}\b")
        for part in self._parts.values():
            for line in part.source.split("\n"):
                for tag in _TAG.findall(line):
                    if pattern.search(tag):
                        return part.name, _shown(tag), _paragraph_text(line)
        return self._body, f"'{word}'", ""

    def _render_message(self, part: _XmlPart, error: Exception) -> str:
        lines = part.source.split("\n")
        number = _template_line(error)
        line = lines[number - 1] if number is not None and 0 < number <= len(lines) else ""
        paragraph = _paragraph_text(line)
        if line and not paragraph and number is not None:  # a tag on a line of its own
            paragraph = _paragraph_text(_paragraph_around(lines, number - 1))
        tags = _TAG.findall(line)
        missing = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", str(error))
        if missing is not None:
            word = missing.group(1) or missing.group(2)
            mentioned = [tag for tag in tags if re.search(rf"\b{re.escape(word)}\b", tag)]
            tags = mentioned or tags
            if not line:
                found_part, tag, paragraph = self._find(word)
                return (
                    f"{self._where(found_part, paragraph)}: {tag}: '{word}' is not defined for "
                    "a job aid (the variables are listed in docs/templates.md)"
                )
            shown = " ".join(_shown(tag) for tag in tags) or f"'{word}'"
            return (
                f"{self._where(part.name, paragraph)}: {shown}: '{word}' is not "
                "defined for a job aid (the variables are listed in docs/templates.md)"
            )
        shown = "".join(_shown(tag) + ": " for tag in tags)
        problem = (
            str(error)
            if isinstance(error, jinja2.TemplateError)
            else (f"{type(error).__name__}: {error}")
        )
        return f"{self._where(part.name, paragraph)}: {shown}{problem}"

    def _check_xml(self, part: _XmlPart, data: bytes) -> None:
        """The first render of each part must be well-formed XML, or Word cannot open it."""
        # Expat with namespaces, as ElementTree parses, without loading ElementTree.
        try:
            expat.ParserCreate(namespace_separator="}").Parse(data, True)
        except expat.ExpatError as error:
            raise TemplateError(
                f"{self.name} ({part.name}): the template's tags cut through Word's structure "
                f"and the result is not a valid document ({error}); put {{%p %}}, {{%tr %}} "
                "and {%tc %} tags alone in their own paragraph, row or cell"
            ) from None


def where(name: str, part: str, paragraph: str) -> str:
    """How a message names a place in a template: file, part and the paragraph's text."""
    place = f"{name} ({part})"
    return f"{place}, in the paragraph '{paragraph}'" if paragraph else place


def syntax_message(name: str, part: str, source: str, error: jinja2.TemplateSyntaxError) -> str:
    """What to tell HR about a Jinja syntax error in a compiled part's `source`."""
    lines = source.split("\n")
    line = lines[error.lineno - 1] if 0 < error.lineno <= len(lines) else ""
    problem = (error.message or "a syntax error").rstrip(".")
    tags = [_shown(tag) for tag in _TAG.findall(line)]
    if error.lineno >= len(lines) or not tags:
        unclosed = unclosed_block(source)
        if unclosed is not None:
            number, tag = unclosed
            return (
                f"{where(name, part, _paragraph_text(lines[number - 1]))}: {tag} is never "
                f"closed; add the matching end tag ({problem})"
            )
    shown = "".join(tag + ": " for tag in tags)
    return (
        f"{where(name, part, _paragraph_text(line))}: {shown}{problem}; fix the tag in Word "
        "and save the template again"
    )


def templated_parts(parts: Mapping[str, bytes]) -> list[str]:
    """The main document part first, then its headers, footers and footnotes.

    ValueError, saying what to do, when a list of relationships is not well-formed XML.
    """
    main = _targets(parts, "_rels/.rels", "", {_MAIN_DOCUMENT})
    if not main:
        return ["word/document.xml"] if "word/document.xml" in parts else []
    document = main[0]
    folder = str(PurePosixPath(document).parent)
    rels = f"{folder}/_rels/{PurePosixPath(document).name}.rels"
    return [document, *_targets(parts, rels, folder, _TEMPLATED_RELATIONS)]


_RELATIONSHIP = "http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def _targets(
    parts: Mapping[str, bytes], rels: str, folder: str, kinds: frozenset[str] | set[str]
) -> list[str]:
    if rels not in parts:
        return []
    relations: list[dict[str, str]] = []

    def start(tag: str, attributes: dict[str, str]) -> None:
        if tag == _RELATIONSHIP:
            relations.append(attributes)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    try:
        parser.Parse(parts[rels], True)
    except expat.ExpatError as error:
        raise ValueError(
            f"its part {rels} is damaged ({error}); open the template in Word "
            "and save it again as a .docx file"
        ) from None
    found = []
    for relation in relations:
        if relation.get("Type") in kinds and relation.get("TargetMode") != "External":
            path = part_path(folder, relation.get("Target", ""))
            if path in parts and path not in found:
                found.append(path)
    return found


def part_path(folder: str, target: str) -> str:
    """A relationship's target as a package part name, from the folder of its source."""
    if target.startswith("/"):
        return target.lstrip("/")
    words: list[str] = [w for w in folder.split("/") if w]
    for word in target.split("/"):
        if word == "..":
            if words:
                words.pop()
        elif word not in ("", "."):
            words.append(word)
    return "/".join(words)


def _shown(tag: str) -> str:
    return "'" + " ".join(tag.split()) + "'"


def _paragraph_text(line: str) -> str:
    line = line.removeprefix("#}").removesuffix("{#")
    text = " ".join(_TAG.sub(" ", _XML_TAG.sub("", line)).split())
    return text[:60] + "…" if len(text) > 60 else text


def _paragraph_around(lines: list[str], index: int) -> str:
    """The compiled source of the whole paragraph that line `index` is in."""
    first = index
    while first > 0 and not _PARAGRAPH_START.match(lines[first].removeprefix("#}")):
        first -= 1
    last = index
    while last + 1 < len(lines) and not _PARAGRAPH_START.match(lines[last + 1].removeprefix("#}")):
        last += 1
    return "".join(line.removeprefix("#}").removesuffix("{#") for line in lines[first : last + 1])


def _template_line(error: BaseException) -> int | None:
    """The template line a render error happened on, from Jinja's rewritten traceback."""
    number = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == "<template>":
            number = frame.lineno
    return number


def unclosed_block(source: str) -> tuple[int, str] | None:
    """The innermost block tag that is never closed, with its line number."""
    stack: list[tuple[int, str, str]] = []
    for match in _TAG.finditer(source):
        tag = match.group(0)
        words = tag.strip("{%-+ }\n").split()
        if not tag.startswith("{%") or not words:
            continue
        keyword = words[0]
        if keyword in _BLOCK_OPENERS or (keyword == "set" and "=" not in tag):
            stack.append((source.count("\n", 0, match.start()) + 1, keyword, _shown(tag)))
        elif keyword.startswith("end") and stack and stack[-1][1] == keyword[3:]:
            stack.pop()
    return (stack[-1][0], stack[-1][2]) if stack else None


def _fix_tables(xml: str) -> str:
    """docxtpl's fix for {%tc %} loops that change how many columns a table has."""
    from docxtpl import DocxTemplate
    from lxml import etree

    tree = DocxTemplate(None).fix_tables(xml)
    text: str = etree.tostring(tree, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text


def _renumber_drawings(xml: str) -> str:
    """Pictures repeated by a loop would share an id, which Word refuses; number them anew."""
    counter = iter(range(1001, 1_000_000))
    return _DOCPR_ID.sub(lambda m: f"{m.group(1)}{next(counter)}{m.group(2)}", xml)
