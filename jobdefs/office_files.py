"""Office files from other people: read once from a regular file, and checked before use.

Reviewed workbooks, answered surveys and Word templates come from outside, so each is a
stranger's zip archive. The central directory states every part's size, and Python's
zipfile never unpacks more than it states, so the sizes, counts and ratios are judged there
before anything is unpacked. Then every XML part is read once with expat, with handlers that
refuse a document type declaration (the only place entities can be declared: no entity
bombs, no external entities) and that count depth, children and elements: what makes the
trees openpyxl and lxml build grow far beyond the bytes. A workbook's sheets must each be a
part of their own, or openpyxl would read one part once per sheet.

A path is opened only when it is a regular file, and read whole, once: a named pipe cannot
make a reader wait, and a file overwritten meanwhile is one snapshot or a message.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from xml.parsers import expat

from jobdefs.errors import JobdefsError

# A real 2,000-role hospital's matrix is 1.6 MB and unpacks to 12.8 MB in 14 parts, its
# largest part 9.9 MB and 462,000 XML elements; surveys and department workbooks are far
# smaller, and the default job-aid template is 30 kB. Every limit leaves a margin of about
# ten times that.
MAX_FILE_BYTES = 64 * 1024 * 1024  # read whole into memory
MAX_PARTS = 10_000  # a workbook has 2 or 3 parts a sheet; a Word file, a few per picture
MAX_PART_BYTES = 128 * 1024 * 1024  # one unpacked part
MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # all parts together
# XML that Excel and Word write compresses 5 to 20 times; a bomb, about 1,000 times.
MAX_RATIO = 100
RATIO_FROM_BYTES = 1024 * 1024  # a small part may compress well: its ratio says nothing
MAX_XML_ELEMENTS = 4_000_000  # all XML parts together: each element costs time and memory
MAX_XML_DEPTH = 256  # libxml2's own default limit; Word's nested tables stay far below it
# Rows of a sheet, cells of a row: more than any review (200,000 rows at most) and than
# Excel's 16,384 columns. openpyxl keeps every row element of a sheet, and builds every cell
# of a row before a reader can skip any.
MAX_XML_CHILDREN = 250_000
PROLOG_BYTES = 64 * 1024  # how far into a part that is not .xml to look for a DTD

_XML_NAMES = (".xml", ".rels")
_WORKBOOK_TYPES = tuple(
    f"application/vnd.{kind}.main+xml"
    for kind in (
        "openxmlformats-officedocument.spreadsheetml.sheet",
        "openxmlformats-officedocument.spreadsheetml.template",
        "ms-excel.sheet.macroEnabled",
        "ms-excel.template.macroEnabled",
    )
)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


class UnsafeFile(JobdefsError):
    """Why a file from outside is not read: the caller puts the file's name before it."""


def read_regular_file(path: Path | str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of `path`, read once; refused unless it is a regular file of `max_bytes` or less.

    A pipe, socket or device is refused from a stat, without being opened; the open itself
    does not wait (O_NONBLOCK) in case the path changes between the two.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise UnsafeFile(_NOT_REGULAR)
        descriptor = os.open(path, _READ_FLAGS | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise UnsafeFile(f"cannot read it: {error.strerror or error}") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise UnsafeFile(_NOT_REGULAR)
        if status.st_size > max_bytes:
            raise UnsafeFile(_too_large("it is", status.st_size, max_bytes))
        chunks, left = [], max_bytes + 1  # one more byte tells a file that grew meanwhile
        while left > 0 and (chunk := os.read(descriptor, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as error:
        raise UnsafeFile(f"cannot read it: {error.strerror or error}") from None
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise UnsafeFile(_too_large("it grew while it was read, past", len(data), max_bytes))
    return data


_NOT_REGULAR = "it is not a regular file (a named pipe, socket or device), so it was not opened"


def _too_large(what: str, size: int, limit: int) -> str:
    return f"{what} {size:,} bytes; an Office file is read up to {limit:,} bytes"


def check_package(data: bytes, well_formed: bool = True) -> zipfile.ZipFile:
    """The zip archive `data`, once its entries and XML parts are known to be safe to read.

    Raises UnsafeFile with the reason otherwise. With `well_formed=False` a part that is not
    well-formed XML is left to its reader (which stops where expat stopped).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
        raise UnsafeFile(f"it is not a zip package ({error})") from None
    try:
        _check_entries(entries)
        budget = _Budget()
        for entry in entries:
            if entry.filename.lower().endswith(_XML_NAMES):
                scan_xml(archive, entry.filename, budget, well_formed)
            else:
                _check_prolog(archive, entry.filename)
    except BaseException:
        archive.close()
        raise
    return archive


def check_workbook(data: bytes) -> zipfile.ZipFile:
    """As `check_package`, for an .xlsx: also every sheet is a part of its own."""
    archive = check_package(data)
    try:
        sheets = _sheet_parts(archive)
        budget = _Budget()
        for part in set(sheets.values()):
            if not part.lower().endswith(_XML_NAMES) and part in archive.NameToInfo:
                scan_xml(archive, part, budget)  # a sheet named oddly is still read as XML
        shared = [part for part, count in Counter(sheets.values()).items() if count > 1]
        if shared:
            names = [repr(name) for name, part in sheets.items() if part == shared[0]]
            raise UnsafeFile(
                f"the sheets {', '.join(names[:3])}{' and more' if len(names) > 3 else ''} "
                f"are all one part ({shared[0]}); Excel gives every sheet a part of its own"
            )
    except BaseException:
        archive.close()
        raise
    return archive


def _check_entries(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_PARTS:
        raise UnsafeFile(f"it has {len(entries):,} parts; an Office file has far fewer")
    seen: set[str] = set()
    total = 0
    for entry in entries:
        name = entry.filename
        if name.casefold() in seen:  # part names are compared without case (OPC)
            raise UnsafeFile(f"the part {name} is in it twice")
        seen.add(name.casefold())
        if entry.flag_bits & 0x41:  # 0x40: strong encryption, which also sets 0x1
            raise UnsafeFile(f"the part {name} is encrypted; save it again without a password")
        if entry.flag_bits & 0x20:
            raise UnsafeFile(f"the part {name} is stored as a patch, which Office never writes")
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeFile(
                f"the part {name} is compressed in a way Office never uses "
                f"(method {entry.compress_type})"
            )
        if entry.file_size > MAX_PART_BYTES:
            raise UnsafeFile(
                f"the part {name} unpacks to {entry.file_size:,} bytes; "
                f"a part is read up to {MAX_PART_BYTES:,} bytes"
            )
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
            raise UnsafeFile(
                f"the part {name} unpacks to {ratio:,.0f} times its size; real content "
                f"unpacks to at most about 20 times (a zip bomb?)"
            )
        total += entry.file_size
    if total > MAX_UNPACKED_BYTES:
        raise UnsafeFile(
            f"its parts unpack to {total:,} bytes; an Office file is read up to "
            f"{MAX_UNPACKED_BYTES:,} bytes"
        )


class _Budget:
    """The XML elements left to read in one package."""

    def __init__(self) -> None:
        self.elements = MAX_XML_ELEMENTS


class _Stop(Exception):
    """Raised from an expat handler: the reason is the message."""


def scan_xml(
    archive: zipfile.ZipFile, part: str, budget: _Budget | None = None, well_formed: bool = True
) -> None:
    """Read the XML part once, refusing a DTD and counting depth, children and elements."""
    budget = budget or _Budget()
    parser = _parser()
    children = [0]  # for each open element, the children seen so far

    def start(name: str, attributes: object) -> None:
        budget.elements -= 1
        children[-1] += 1
        if budget.elements < 0:
            raise _Stop(f"more than {MAX_XML_ELEMENTS:,} XML elements in all")
        if children[-1] > MAX_XML_CHILDREN:
            raise _Stop(f"an element with more than {MAX_XML_CHILDREN:,} elements in it")
        if len(children) > MAX_XML_DEPTH:
            raise _Stop(f"elements nested more than {MAX_XML_DEPTH} deep")
        children.append(0)

    def end(name: str) -> None:
        children.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        _feed(archive, part, parser, MAX_PART_BYTES)
    except _Stop as stop:
        raise UnsafeFile(f"the part {part} has {stop}") from None
    except expat.ExpatError as error:
        if well_formed:
            raise UnsafeFile(f"the part {part} is not well-formed XML ({error})") from None


def _parser(namespaces: bool = False) -> expat.XMLParserType:
    """An expat parser that stops at a document type declaration, where entities are made."""
    parser = expat.ParserCreate(namespace_separator="}" if namespaces else None)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.ExternalEntityRefHandler = _refuse_external
    return parser


def _refuse_doctype(*_: object) -> None:
    raise _Stop("a document type declaration (DTD), which Office files never have")


def _refuse_external(*_: object) -> int:
    raise _Stop("a reference to an external entity, which Office files never have")


class _RootReached(Exception):
    """The prolog is over: no DTD can follow."""


def _check_prolog(archive: zipfile.ZipFile, part: str) -> None:
    """A part not named .xml (a picture, usually) may still be read as XML: no DTD at its top."""

    def root(*_: object) -> None:
        raise _RootReached

    parser = _parser()
    parser.StartElementHandler = root
    try:
        ended = _feed(archive, part, parser, PROLOG_BYTES)
    except _Stop as stop:
        raise UnsafeFile(f"the part {part} has {stop}") from None
    except (_RootReached, expat.ExpatError):
        return  # XML past its prolog, or no XML at all
    if not ended:
        raise UnsafeFile(f"the part {part} has an XML prolog longer than {PROLOG_BYTES:,} bytes")


def _feed(archive: zipfile.ZipFile, part: str, parser: expat.XMLParserType, limit: int) -> bool:
    """Give the parser the part's first `limit` bytes; True when that was all of it."""
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(min(limit, 1 << 16)):
                parser.Parse(chunk, False)
                limit -= len(chunk)
                if limit <= 0:
                    return not stream.read(1)
            parser.Parse(b"", True)
            return True
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        ValueError,
        RuntimeError,  # encrypted, with the flag only in the local header
        NotImplementedError,  # a flag or method zipfile does not know
    ) as error:
        # A damaged stream, a wrong CRC, a part cut short: or another file's bytes, read
        # while the file was being overwritten.
        raise UnsafeFile(f"the part {part} cannot be unpacked ({error})") from None


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's name and the part openpyxl reads for it (as openpyxl finds them)."""
    types = _elements(archive, "[Content_Types].xml", "Override")
    workbook = next(
        (
            t.get("PartName", "").lstrip("/")
            for t in types
            if t.get("ContentType") in _WORKBOOK_TYPES
        ),
        "xl/workbook.xml",
    )
    folder, name = posixpath.split(workbook)
    relations = {
        r.get("Id", ""): r.get("Target", "")
        for r in _elements(archive, posixpath.join(folder, "_rels", f"{name}.rels"), "Relationship")
        if r.get("TargetMode") != "External"
    }
    parts = {}
    for sheet in _elements(archive, workbook, "sheet"):
        target = relations.get(next((v for k, v in sheet.items() if k.endswith("}id")), ""))
        if target:
            path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
            parts[sheet.get("name", "")] = posixpath.normpath(path)
    return parts


def _elements(archive: zipfile.ZipFile, part: str, local: str) -> list[dict[str, str]]:
    """The attributes of every element named `local` (any namespace) in a checked XML part."""
    if part not in archive.NameToInfo:
        return []
    found: list[dict[str, str]] = []
    parser = _parser(namespaces=True)

    def start(name: str, attributes: dict[str, str]) -> None:
        if name.rpartition("}")[2] == local:
            found.append(attributes)

    parser.StartElementHandler = start
    try:
        _feed(archive, part, parser, MAX_PART_BYTES)
    except (_Stop, expat.ExpatError) as error:  # scanned already: not reached
        raise UnsafeFile(f"the part {part} is not well-formed XML ({error})") from None
    return found
