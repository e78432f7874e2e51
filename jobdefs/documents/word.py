"""Model -> .docx job aids: one Word document per role, rendered from a docxtpl template.

A template is a Word file with docxtpl's Jinja tags. It is compiled once (docxtpl's tag
clean-up, then Jinja) and reused for every role: rendering a job aid renders a few XML
parts and copies every other part of the template, already compressed, into the new zip.
Role text is always data: it is escaped for XML and never read as a template.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import importlib.resources
import re
import shutil
import tempfile
import traceback
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from xml.parsers import expat

import jinja2
import jinja2.meta

from jobdefs.digests import package_root
from jobdefs.documents.ooxml import ZIP_EPOCH, Part, core_properties, read_parts, write_package
from jobdefs.documents.template_store import CleanPart, TemplateStore
from jobdefs.errors import OutputError, TemplateError
from jobdefs.model import EXTERNAL_DEPARTMENT, Organization, Role, fold_name
from jobdefs.text import did_you_mean

JOB_AID_TEMPLATE = "job-aid.docx"
ARROW = " \u2192 "

# What a template can use, as `name.field`; `name[]` is a list and `name[].field` a field
# of each of its items. docs/templates.md is generated from this; a test checks that it
# matches what job_aid_context() returns.
TEMPLATE_VARIABLES: dict[str, str] = {
    "organization.name": "The organization's name (jobdefs.yaml `organization`).",
    "organization.mission": "The organization's mission, or empty text when none is given.",
    "role.id": "The role's id: its file name without `.yaml`.",
    "role.title": "The job title.",
    "role.department": "The department the role belongs to.",
    "role.reports_to": "The title of the role this one reports to, or empty text.",
    "role.revision": "The role file's revision, or empty text.",
    "role.reviewed": "The date the role was last reviewed (YYYY-MM-DD), or empty text.",
    "role.file": "The role file, relative to the workbook, e.g. `roles/lab/phlebotomist.yaml`.",
    "role.purpose": "Why the job exists, in its customers' terms.",
    "products[]": "What the role produces, in the order of its file.",
    "products[].name": "The product's name.",
    "products[].description": "What the product is, or empty text.",
    "products[].customers[]": "Who receives the product.",
    "products[].customers[].title": "The customer: a role's title or an external customer's name.",
    "products[].customers[].kind": "`role` for a colleague, `external` for someone outside.",
    "products[].customers[].department": "The customer's department, or `External`.",
    "products[].customers[].need": "What the customer needs from the product.",
    "products[].customers[].standard": "The measurable standard to meet, or empty text.",
    "suppliers[]": "What colleagues hand this role, from their own role files.",
    "suppliers[].title": "The supplying role's title.",
    "suppliers[].department": "The supplying role's department.",
    "suppliers[].product": "The product they hand over.",
    "suppliers[].description": "What that product is, or empty text.",
    "suppliers[].need": "What the supplier understands this role needs from it.",
    "suppliers[].standard": "The standard the supplier promises, or empty text.",
    "customers[]": "Whom this role supplies, one item per customer.",
    "customers[].title": "The customer: a role's title or an external customer's name.",
    "customers[].kind": "`role` for a colleague, `external` for someone outside.",
    "customers[].department": "The customer's department, or `External`.",
    "customers[].products[]": "The names of the products handed to this customer.",
    "customers[].products_text": "The same names, one per line.",
    "gaps[]": "Open gaps: `receives` entries that the named supplier does not hand this role.",
    "gaps[].product": "The product as this role's file names it.",
    "gaps[].supplier": "The title of the role it is expected from.",
    "gaps[].supplier_department": "That role's department (empty if the role does not exist).",
    "gaps[].instead": "What that role does list for this one, comma-separated, or empty text.",
    "lines_of_sight[]": "For each external customer the role's work reaches, the shortest chain.",
    "lines_of_sight[].customer": "The external customer's name, e.g. `Patient`.",
    "lines_of_sight[].chain": "The chain as text: Role → product → Role → … → customer.",
    "lines_of_sight[].steps[]": "The chain's hand-offs, starting with this role's own.",
    "lines_of_sight[].steps[].role": "The title of the role handing the product on.",
    "lines_of_sight[].steps[].product": "The product handed on.",
    "lines_of_sight[].handoffs": "How many hand-offs the chain has (a number, 1 or more).",
    "lines_of_sight[].direct": "True when this role hands its work to the customer itself.",
    "no_line_of_sight": "A plain sentence when no chain reaches an external customer, else empty.",
    "moments_of_truth[]": "Points of contact where a customer forms an impression.",
    "moments_of_truth[].moment": "The moment.",
    "moments_of_truth[].practice": "What to do or say there.",
    "feedback_questions[]": "Questions to ask customers whether their need was met.",
    "has_suppliers": "True when `suppliers` is not empty.",
    "has_customers": "True when `customers` is not empty.",
    "has_gaps": "True when `gaps` is not empty.",
    "has_handoffs": "True when any of `suppliers`, `customers` and `gaps` is not empty.",
    "has_lines_of_sight": "True when `lines_of_sight` is not empty.",
    "has_moments_of_truth": "True when `moments_of_truth` is not empty.",
    "has_feedback_questions": "True when `feedback_questions` is not empty.",
    "scorecard.found": (
        "True when `jobdefs build --scorecard` was given answered surveys that hold answers "
        "about this role's hand-offs; False otherwise (and every other `scorecard` value is "
        "then empty text, 0 or an empty list)."
    ),
    "scorecard.round": "The survey round the figures come from, e.g. `2025-q2`, or empty text.",
    "scorecard.baseline_round": "The baseline round they are compared with, or empty text.",
    "scorecard.summary": (
        "The role's figures in one line, e.g. `75% met in 6 of 8 answers (+10 pts since "
        "round-1); mean rating 4.2 of 5`."
    ),
    "scorecard.share_met": "The share of answers that say the need is met, e.g. `75%`.",
    "scorecard.mean_rating": "The mean rating from 1 (poor) to 5 (excellent), e.g. `4.2`.",
    "scorecard.change": "The change in share met since the baseline, e.g. `+10 pts`, or empty.",
    "scorecard.responses": "How many answers came back (a number).",
    "scorecard.asked": "How many answers were asked for (a number).",
    "scorecard.handoffs[]": "One item per hand-off of this role that the surveys asked about.",
}

# The fields of each `scorecard.handoffs[]` item. They are listed apart because a job aid
# built without --scorecard has no such item to show them.
SCORECARD_HANDOFF_VARIABLES: dict[str, str] = {
    "scorecard.handoffs[].product": "The product handed over.",
    "scorecard.handoffs[].customer": "Who answered: a role's title or an external customer's name.",
    "scorecard.handoffs[].customer_department": "The customer's department, or `External`.",
    "scorecard.handoffs[].share_met": "Share met for this hand-off, e.g. `75%` (`–` if none).",
    "scorecard.handoffs[].mean_rating": "Mean rating for this hand-off, e.g. `4.0` (`–` if none).",
    "scorecard.handoffs[].change": "Change in share met since the baseline, e.g. `−5 pts`.",
    "scorecard.handoffs[].answered": "Answers received of those asked, e.g. `3 of 4`.",
    "scorecard.handoffs[].responses": "How many answers came back (a number).",
    "scorecard.handoffs[].changed": (
        "True when the need or standard changed after the survey asked about it."
    ),
    "scorecard.handoffs[].text": (
        "The hand-off's figures in one line, e.g. `Test result report → Physician: 75% met "
        "(3 of 4 answers), mean rating 4.0, +10 pts`."
    ),
}

TOP_LEVEL_VARIABLES = frozenset(re.split(r"[.\[]", name)[0] for name in TEMPLATE_VARIABLES)


def all_template_variables() -> dict[str, str]:
    """Every variable a template can use, in the order docs/templates.md lists them."""
    variables: dict[str, str] = {}
    for name, meaning in TEMPLATE_VARIABLES.items():
        variables[name] = meaning
        if name == "scorecard.handoffs[]":
            variables.update(SCORECARD_HANDOFF_VARIABLES)
    return variables


# -- the render context ---------------------------------------------------------------


def job_aid_context(
    organization: Organization, role: Role, figures: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Everything a job-aid template can show about one role, as plain data.

    `figures` is what `scorecard.role_figures` says about the role, when a scorecard is given.
    """

    def role_title(role_id: str) -> str:
        return organization.role(role_id).title if organization.has_role(role_id) else role_id

    def role_department(role_id: str) -> str:
        return organization.role(role_id).department if organization.has_role(role_id) else ""

    def external_name(external_id: str) -> str:
        external = organization.external(external_id)
        return external.name if external is not None else external_id

    products = [
        {
            "name": product.name,
            "description": product.description,
            "customers": [
                {
                    "title": (
                        role_title(customer.role)
                        if customer.role is not None
                        else external_name(customer.ref)
                    ),
                    "kind": customer.kind,
                    "department": (
                        role_department(customer.role)
                        if customer.role is not None
                        else EXTERNAL_DEPARTMENT
                    ),
                    "need": customer.need,
                    "standard": customer.standard,
                }
                for customer in product.customers
            ],
        }
        for product in role.products
    ]

    received = organization.handoffs_to(role.id)
    suppliers = [
        {
            "title": handoff.supplier.title,
            "department": handoff.supplier.department,
            "product": handoff.product,
            "description": handoff.description,
            "need": handoff.need,
            "standard": handoff.standard,
        }
        for handoff in received
    ]

    served: dict[str, dict[str, Any]] = {}
    for handoff in organization.handoffs_from(role.id):
        entry = served.setdefault(
            handoff.customer.key,
            {
                "title": handoff.customer.title,
                "kind": handoff.customer.kind,
                "department": handoff.customer.department,
                "products": [],
            },
        )
        if handoff.product not in entry["products"]:
            entry["products"].append(handoff.product)
    customers = list(served.values())
    for entry in customers:
        entry["products_text"] = "\n".join(entry["products"])

    supplied = {(h.supplier.id, fold_name(h.product)) for h in received}
    gaps = [
        {
            "product": expected.product,
            "supplier": role_title(expected.supplier),
            "supplier_department": role_department(expected.supplier),
            "instead": ", ".join(
                dict.fromkeys(h.product for h in received if h.supplier.id == expected.supplier)
            ),
        }
        for expected in role.receives
        if (expected.supplier, fold_name(expected.product)) not in supplied
    ]

    lines = []
    for sight in organization.lines_of_sight.get(role.id, ()):
        steps = [{"role": h.supplier.title, "product": h.product} for h in sight.chain]
        words = [word for step in steps for word in (step["role"], step["product"])]
        lines.append(
            {
                "customer": sight.external.name,
                "chain": ARROW.join([*words, sight.external.name]),
                "steps": steps,
                "handoffs": len(steps),
                "direct": len(steps) == 1,
            }
        )

    moments = [{"moment": m.moment, "practice": m.practice} for m in role.moments_of_truth]
    questions = list(role.feedback_questions)
    return {
        "organization": {"name": organization.name, "mission": organization.mission},
        "role": {
            "id": role.id,
            "title": role.title,
            "department": role.department,
            "reports_to": role_title(role.reports_to) if role.reports_to else "",
            "revision": role.revision,
            "reviewed": role.reviewed,
            "file": role.file,
            "purpose": role.purpose,
        },
        "products": products,
        "suppliers": suppliers,
        "customers": customers,
        "gaps": gaps,
        "lines_of_sight": lines,
        "no_line_of_sight": "" if lines else _no_line_of_sight(organization),
        "moments_of_truth": moments,
        "feedback_questions": questions,
        "has_suppliers": bool(suppliers),
        "has_customers": bool(customers),
        "has_gaps": bool(gaps),
        "has_handoffs": bool(suppliers or customers or gaps),
        "has_lines_of_sight": bool(lines),
        "has_moments_of_truth": bool(moments),
        "has_feedback_questions": bool(questions),
        "scorecard": scorecard_context(figures),
    }


def job_aid_sources(organization: Organization, role: Role) -> tuple[list[str], list[str]]:
    """What `job_aid_context` reads beyond the role itself and the organization's settings.

    The ids of the roles whose files it shows something of (suppliers, customers, the
    expected suppliers of open gaps, the manager, every role on a line of sight), and the
    shape of its lines of sight, which hand-offs far away can change. A build digests
    these instead of every context, so that knowing which job aids are out of date costs
    next to nothing; a test changes workbooks in many ways and checks that whenever a
    context changes, these do too. Keep the two functions in step.
    """
    related = {role.id}
    if role.reports_to:
        related.add(role.reports_to)
    # Every customer it hands something to is named in its own products.
    for product in role.products:
        related.update([c.role for c in product.customers if c.role is not None])
    related.update([expected.supplier for expected in role.receives])
    related.update([h.supplier.id for h in organization.handoffs_to(role.id)])
    shape = []
    for sight in organization.lines_of_sight.get(role.id, ()):
        related.update([h.supplier.id for h in sight.chain])
        # Each hand-off by what its id is made of: quicker than hashing it into the id.
        shape.append(
            "\x1f".join(
                [
                    sight.external.id,
                    *[f"{h.supplier.id}\x1e{h.product}\x1e{h.customer.key}" for h in sight.chain],
                ]
            )
        )
    return sorted(related), shape


def scorecard_context(figures: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `scorecard` a template sees: role_figures() as text, or empty values without one."""
    figures = figures or {}
    found = bool(figures.get("found"))

    def text(key: str) -> str:
        return str(figures.get(key) or "") if found else ""

    def compact(change: str) -> str:
        return change.split(" since ", 1)[0]

    handoffs = []
    for item in figures.get("handoffs", []) if found else []:
        share, rating = item["share_met_text"], item["mean_rating_text"]
        answered = f"{item['responses']} of {item['asked']}"
        change = compact(item["change_text"])
        line = f"{item['product']}{ARROW}{item['customer']}: {share} met ({answered} answers)"
        if item.get("mean_rating") is not None:
            line += f", mean rating {rating}"
        if change:
            line += f", {change}"
        handoffs.append(
            {
                "product": item["product"],
                "customer": item["customer"],
                "customer_department": item["customer_department"],
                "share_met": share,
                "mean_rating": rating,
                "change": change,
                "answered": answered,
                "responses": int(item["responses"]),
                "changed": bool(item["changed_since_survey"]),
                "text": line,
            }
        )
    return {
        "found": found,
        "round": text("round"),
        "baseline_round": text("baseline_round"),
        "summary": text("summary"),
        "share_met": text("share_met_text"),
        "mean_rating": text("mean_rating_text"),
        "change": compact(text("change_text")),
        "responses": int(figures.get("responses") or 0) if found else 0,
        "asked": int(figures.get("asked") or 0) if found else 0,
        "handoffs": handoffs,
    }


def _no_line_of_sight(organization: Organization) -> str:
    names = [external.name for external in organization.external_customers]
    if not names:
        return (
            f"{organization.name} has not yet named the people it serves from outside (such "
            "as patients), so this job aid cannot show where your work leads. Ask your "
            "manager whom your work is ultimately for."
        )
    whom = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return (
        f"No chain of hand-offs written down so far leads from your work to {whom}. Your "
        "work still matters to them: ask your manager who depends on what you produce, so "
        "the missing hand-off can be added to the role files."
    )


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
_RAW_BLOCK = re.compile(r"({%-?\s*raw\s*-?%}.*?{%-?\s*endraw\s*-?%})", re.DOTALL)
_XML_TAG = re.compile(r"<[^>]+>")
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


def template_environment(**options: Any) -> jinja2.Environment:
    """The Jinja environment job-aid templates are compiled in (`options`: e.g. a loader)."""
    return jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        **options,
    )


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's bytecode cache, for which a damaged or unwritable entry only costs time."""

    @classmethod
    def at(cls, folder: Path) -> _BytecodeCache | None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        return cls(str(folder))

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # truncated, foreign or unreadable: compile afresh
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


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
    return prolog, source


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
            bytecode_cache=_BytecodeCache.at(store.bytecode_folder) if store is not None else None,
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
        for part in self._parts.values():
            try:
                xml = part.template.render(context)
            except Exception as error:  # anything the template's own code raises, e.g. 1/0
                raise TemplateError(self._render_message(part, error)) from None
            if "\n" in xml or "\t" in xml:
                xml = _word_breaks(xml)
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
                f"{self._where(part.name, _paragraph_text(line))}: {shown}: '{word}' is not "
                "defined for a job aid (the variables are listed in docs/templates.md)"
            )
        shown = "".join(_shown(tag) + ": " for tag in tags)
        problem = (
            str(error)
            if isinstance(error, jinja2.TemplateError)
            else (f"{type(error).__name__}: {error}")
        )
        return f"{self._where(part.name, _paragraph_text(line))}: {shown}{problem}"

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


# -- finding and using templates --------------------------------------------------------


# Beside the package in a checkout, whatever the depth of this module.
_CHECKOUT_TEMPLATES = package_root().parent / "templates"


def default_template_path() -> Path:
    """The job-aid template installed with jobdefs."""
    try:
        folder = importlib.resources.files("jobdefs.templates")
        path = Path(str(folder.joinpath(JOB_AID_TEMPLATE)))
    except (ImportError, TypeError, ValueError):
        path = _CHECKOUT_TEMPLATES / JOB_AID_TEMPLATE
    if not path.is_file():
        # An editable install maps jobdefs.templates to the checkout's templates/ folder,
        # which importlib cannot always resolve without an __init__.py.
        path = _CHECKOUT_TEMPLATES / JOB_AID_TEMPLATE
    return path


def default_templates() -> list[Path]:
    """Every template installed with jobdefs: the .docx files beside the job-aid template."""
    folder = default_template_path().parent
    return sorted(
        path
        for path in folder.glob("*.docx")
        if path.is_file() and not path.name.startswith(("~$", ".", "_"))
    )


@dataclass(frozen=True)
class ExportResult:
    """What `export_templates` copied, and what it left alone because it exists."""

    created: list[Path]
    skipped: list[Path]


def export_templates(folder: Path) -> ExportResult:
    """Copy the default templates into `folder` to customize; never replace an existing file."""
    created: list[Path] = []
    skipped: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for source in default_templates():
            target = folder / source.name
            try:
                with target.open("xb") as stream:  # "x": fails if the file exists, atomically
                    stream.write(source.read_bytes())
            except FileExistsError:
                skipped.append(target)
                continue
            created.append(target)
    except OSError as error:
        raise OutputError(f"cannot copy the templates into '{folder}': {error}") from None
    return ExportResult(created, skipped)


def job_aid_template_path(templates_dir: Path | None = None) -> Path:
    """The workbook's own templates/job-aid.docx when it has one, else the default."""
    if templates_dir is not None and (templates_dir / JOB_AID_TEMPLATE).is_file():
        return templates_dir / JOB_AID_TEMPLATE
    return default_template_path()


_compiled: dict[tuple[str, int, int], JobAidTemplate] = {}


def load_job_aid_template(path: Path, name: str | None = None) -> JobAidTemplate:
    """The compiled template at `path`, compiled once per process while the file is unchanged."""
    try:
        stat = path.stat()
    except OSError as error:
        raise TemplateError(f"{name or path}: cannot read the template: {error}") from error
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _compiled:
        _compiled[key] = JobAidTemplate.from_file(path, name)
    return _compiled[key]


def render_job_aid(
    organization: Organization,
    role: Role,
    template: JobAidTemplate | None = None,
    moment: datetime.datetime = ZIP_EPOCH,
) -> bytes:
    """One role's job aid as .docx bytes (the default template unless one is given)."""
    template = template or load_job_aid_template(default_template_path())
    return template.render(job_aid_context(organization, role), moment, title=role.title)


def render_job_aids(
    organization: Organization,
    templates_dir: Path | None = None,
    only: Sequence[str] | None = None,
    moment: datetime.datetime = ZIP_EPOCH,
    root: Path | None = None,
) -> dict[str, bytes]:
    """Every role's job aid (or the roles in `only`), keyed by the path `job-aids/<id>.docx`.

    The workbook's own template in `templates_dir` overrides the default; `root` is the
    workbook folder, so that error messages name the template relative to it.
    """
    path = job_aid_template_path(templates_dir)
    name = str(path)
    if root is not None and path.is_relative_to(root):
        name = path.relative_to(root).as_posix()
    template = load_job_aid_template(path, name)
    wanted = set(only) if only is not None else None
    return {
        f"job-aids/{role.id}.docx": render_job_aid(organization, role, template, moment)
        for role in organization.roles
        if wanted is None or role.id in wanted
    }


# -- PDF --------------------------------------------------------------------------------

_INSTALL_HINT = (
    "install LibreOffice to write PDFs: 'sudo apt-get install libreoffice-writer' on "
    "Debian or Ubuntu, 'brew install --cask libreoffice' on macOS, or from "
    "https://www.libreoffice.org/download/ on Windows"
)
_SOFFICE_NAMES = ("soffice", "libreoffice")
_SOFFICE_PATHS = (
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    "C:/Program Files/LibreOffice/program/soffice.exe",
)


def find_soffice() -> str | None:
    """The LibreOffice command, or None when LibreOffice is not installed."""
    for command in _SOFFICE_NAMES:
        found = shutil.which(command)
        if found:
            return found
    return next((path for path in _SOFFICE_PATHS if Path(path).is_file()), None)


def convert_to_pdf(
    docx_paths: Sequence[Path], out_dir: Path, timeout: float | None = None
) -> list[Path]:
    """Convert Word files to PDF in `out_dir` with LibreOffice; the PDFs, in the same order."""
    import subprocess  # here: a build that writes no PDF need not load it

    if not docx_paths:
        return []
    soffice = find_soffice()
    if soffice is None:
        raise OutputError(
            f"cannot write PDFs: LibreOffice (soffice) is not installed; {_INSTALL_HINT}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = [out_dir / (Path(path).stem + ".pdf") for path in docx_paths]
    # A private profile: LibreOffice refuses to start headless while another instance
    # (the user's own, or a parallel build) holds the default one.
    with tempfile.TemporaryDirectory(prefix="jobdefs-soffice-") as profile:
        batch = 200  # keeps the command line well under every platform's limit
        for start in range(0, len(docx_paths), batch):
            chunk = [str(Path(p).resolve()) for p in docx_paths[start : start + batch]]
            command = [
                soffice,
                f"-env:UserInstallation={Path(profile).resolve().as_uri()}",
                "--headless",
                "--norestore",
                "--nologo",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir.resolve()),
                *chunk,
            ]
            try:
                result = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    timeout=timeout if timeout is not None else 60 + 5 * len(chunk),
                    check=False,
                )
            except subprocess.TimeoutExpired as error:
                raise OutputError(
                    f"LibreOffice did not finish converting to PDF within {error.timeout:.0f} "
                    "seconds; close any LibreOffice window and try again"
                ) from None
            except OSError as error:
                raise OutputError(f"cannot run LibreOffice ({soffice}): {error}") from None
            missing = [p for p in wanted[start : start + batch] if not p.is_file()]
            if result.returncode != 0 or missing:
                detail = (result.stderr or result.stdout).strip().splitlines()
                names = ", ".join(p.name for p in missing) or "the PDFs"
                raise OutputError(
                    f"LibreOffice could not write {names} (exit status {result.returncode}"
                    + (f": {detail[-1]}" if detail else "")
                    + "); open the .docx in LibreOffice to see what is wrong"
                )
    return wanted
