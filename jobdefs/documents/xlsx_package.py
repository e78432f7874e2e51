"""An xlsx package made of its sheets, reusing what it can of the one an earlier build wrote.

openpyxl writes what the sheets' shapes say (`_openpyxl_parts`); the rows are written by the
engine (xlsx). Given the file an earlier build wrote, a workbook is not made again from
nothing. Each part of the package carries, in its zip comment, a digest of everything it is
made from, taken before it is made; a part whose digest has not changed is copied from that
file as it was stored, still compressed. Sheets are compressed in blocks of rows, and when
no sheet's columns, row count or styles changed, openpyxl is not even imported. Either way
the bytes are the same, and the same sheets and moment give the same bytes.

Every part but the core properties carries a note in its zip comment: the digest of what
it is made from, then any details, sealed by a checksum of the note and of the bytes
stored. The structure (what openpyxl writes) is made from the shape; the note of its
styles part also lists the style id of each look, so that rows can be written without
openpyxl. A sheet is compressed in pieces, its XML before the rows, each block of rows
and its XML after them, and its note lists each piece's digest, compressed size, CRC and
size: a changed block is made and compressed again, the others are copied.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import importlib.util
import io
import os
import re
import struct
import sys
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from jobdefs import digests
from jobdefs.documents import ooxml
from jobdefs.documents.sheets import FONT, FONT_FAMILY, GRID_COLOR, cell_text
from jobdefs.documents.xlsx import (
    _ALIGNMENTS,
    _LIST_LOOKS,
    _Look,
    _Sheet,
    _SheetShape,
)

_CORE = "docProps/core.xml"
_APP = "docProps/app.xml"
_STYLES = "xl/styles.xml"
_SHEET_DATA = re.compile(r"<sheetData(?:\s*/>|>.*</sheetData>)", re.S)
_COMMENT_MAX = 65_535  # the longest comment a zip entry can hold

# A fixed docProps/app.xml: openpyxl's names its own version, which would change the bytes
# of every file whenever openpyxl is upgraded.
_APP_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties"><Application>jobdefs</Application></Properties>'
)


@dataclass(frozen=True)
class _Shape:
    """Everything openpyxl writes of a workbook: when this is unchanged, so are those parts."""

    sheets: tuple[_SheetShape, ...]

    @functools.cached_property
    def looks(self) -> tuple[_Look, ...]:
        """Every look the rows may use, plain and quote-prefixed, in a fixed order.

        All are made styles of the workbook, in this order, before anything is written: so
        each one's style id follows from the shape alone, whatever the rows hold. The list
        sheets' come first, and are the same in every workbook.
        """
        bases = list(_LIST_LOOKS.values())
        for sheet in self.sheets:
            bases += sheet.looks
        return tuple(
            dict.fromkeys(look for base in bases for look in (base, base._replace(quoted=True)))
        )


def _openpyxl_parts(shape: _Shape) -> tuple[dict[str, bytes], tuple[int, ...]]:
    """The parts openpyxl writes of `shape`, its sheets without rows; and each look's style id.

    This is given nothing but the shape: the digest of the shape then says whether these
    bytes would be the same.
    """
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

    workbook = Workbook(write_only=True)
    sheets = [workbook.create_sheet(sheet.title) for sheet in shape.sheets]
    side = Side(style="thin", color=GRID_COLOR)
    grid = Border(left=side, right=side, top=side, bottom=side)
    styles: dict[_Look, Any] = {}
    ids: list[int] = []
    for look in shape.looks:
        # A cell of any sheet makes a style of the workbook; the style's id is its position
        # among the workbook's styles, which come in the order they are asked for.
        cell = Cell(sheets[0], row=1, column=1)
        cell.font = Font(
            name=FONT,
            family=FONT_FAMILY,
            sz=look.size,
            b=look.bold,
            i=look.italic,
            color=look.color,
        )
        if look.fill is not None:
            cell.fill = PatternFill(fill_type="solid", start_color=look.fill, end_color=look.fill)
        if look.align is not None:
            cell.alignment = Alignment(**_ALIGNMENTS[look.align])
        if look.grid:
            cell.border = grid
        if look.number_format is not None:
            cell.number_format = look.number_format
        cell.quotePrefix = look.quoted
        if look.unlocked:
            cell.protection = Protection(locked=False)
        ids.append(cell.style_id)
        styles[look] = cell._style
    for sheet, sheet_shape in zip(sheets, shape.sheets, strict=True):
        sheet_shape.structure(sheet, styles)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return ooxml.read_parts(buffer.getvalue()), tuple(ids)


class _Unusable(Exception):
    """The earlier package lacks a piece its notes promised: it cannot be built on."""


class _Structure(NamedTuple):
    """A package but for what every build makes: its sheets' rows and core properties.

    `parts` come in package order, each part a build makes named in its place; `ids` are
    the style ids of the shape's looks, in order; `frames` hold each sheet's XML before
    and after its rows, when openpyxl has just written them.
    """

    parts: list[ooxml.Part | str]
    ids: tuple[int, ...]
    frames: Mapping[str, tuple[str, str]]

    def frame(self, name: str) -> tuple[str, str]:
        if name not in self.frames:
            raise _Unusable(f"{name}: its rows changed and its frame is not there to reuse")
        return self.frames[name]


def _package(
    sheets: Sequence[_Sheet],
    title: str,
    moment: datetime.datetime,
    previous: bytes | None,
    subject: str = "",
) -> bytes:
    earlier = _stored(previous)
    if earlier:
        try:
            return _assemble(sheets, title, moment, earlier, subject)
        except _Unusable:
            pass  # damaged where its notes could not tell: make it all afresh
    return _assemble(sheets, title, moment, {}, subject)


def _assemble(
    sheets: Sequence[_Sheet],
    title: str,
    moment: datetime.datetime,
    earlier: Mapping[str, ooxml.Part],
    subject: str = "",
) -> bytes:
    shape = _Shape(tuple(sheet.shape for sheet in sheets))
    digest = _digest("structure", shape)
    structure = _reused_structure(earlier, shape, digest) or _new_structure(shape, digest)
    ids = dict(zip(shape.looks, structure.ids, strict=True))
    styles = _digest("styles", tuple(ids.items()))  # the same for every sheet
    by_part = {_sheet_part(number): sheet for number, sheet in enumerate(sheets, 1)}
    parts: list[ooxml.Part] = []
    for part in structure.parts:
        if isinstance(part, ooxml.Part):
            parts.append(part)
        elif part == _CORE:
            core = ooxml.core_properties(cell_text(title), moment, subject=subject)
            parts.append(ooxml.Part.of(_CORE, core))
        else:
            parts.append(_sheet(part, by_part[part], structure, ids, styles, earlier.get(part)))
    return ooxml.write_package(parts, moment)


def _sheet(
    name: str,
    sheet: _Sheet,
    structure: _Structure,
    ids: Mapping[_Look, int],
    styles: str,
    earlier: ooxml.Part | None,
) -> ooxml.Part:
    """A sheet part, copied from the earlier one as far as its digests allow. `styles` is
    the digest of the style ids `ids`."""
    blocks = sheet.blocks()
    keys = [
        _digest("head", name, sheet.shape, styles),
        *(_digest(block.write.__qualname__, block.digested, styles) for block in blocks),
        _digest("tail", name, sheet.shape, styles),
    ]
    digest = _digest("sheet", keys)
    note = None if earlier is None else _note(earlier)
    if earlier is not None and note is not None and note.partition(" ")[0] == digest:
        return earlier
    stored = {} if earlier is None or note is None else _pieces(earlier, note)
    if name in structure.frames:
        # openpyxl has just written the sheet's frame: take it from there, whatever is stored.
        stored.pop(keys[0], None)
        stored.pop(keys[-1], None)

    def make(index: int) -> str:
        if index == 0:
            return structure.frame(name)[0] + "<sheetData>"
        if index == len(blocks) + 1:
            return "</sheetData>" + structure.frame(name)[1]
        return blocks[index - 1].xml(ids)

    pieces = [
        stored.get(key) or ooxml.Piece.of(make(index).encode()) for index, key in enumerate(keys)
    ]
    listed = ";".join(
        f"{key}:{len(piece.compressed)}:{piece.crc}:{piece.size}"
        for key, piece in zip(keys, pieces, strict=True)
    )
    note = f"{digest} {listed}"
    if len(note) > _COMMENT_MAX - 16:
        note = digest  # too many pieces to list: the sheet is reused whole or not at all
    return _noted(ooxml.Part.joined(name, pieces), note)


def _pieces(part: ooxml.Part, note: str) -> dict[str, ooxml.Piece]:
    """The pieces an earlier sheet part is made of, by digest, as its note lists them."""
    listed = [entry.split(":") for entry in note.partition(" ")[2].split(";")]
    if not all(len(entry) == 4 and all(n.isdigit() for n in entry[1:]) for entry in listed):
        return {}
    try:
        pieces = part.split((int(stored), int(crc), int(size)) for _, stored, crc, size in listed)
    except ValueError:
        return {}
    return {key: piece for (key, *_), piece in zip(listed, pieces, strict=True)}


def _new_structure(shape: _Shape, digest: str) -> _Structure:
    made, ids = _openpyxl_parts(shape)
    sheets = {_sheet_part(number) for number in range(1, len(shape.sheets) + 1)}
    if not sheets | {_CORE} <= made.keys():
        raise AssertionError(f"openpyxl did not write the parts expected: {sorted(made)}")
    parts: list[ooxml.Part | str] = []
    frames: dict[str, tuple[str, str]] = {}
    for name, data in made.items():
        if name in sheets:
            xml = data.decode()
            found = _SHEET_DATA.search(xml)
            if found is None:
                raise AssertionError(f"openpyxl wrote {name} without sheetData")
            frames[name] = xml[: found.start()], xml[found.end() :]
            parts.append(name)
        elif name == _CORE:
            parts.append(name)
        else:
            note = f"{digest} {','.join(map(str, ids))}" if name == _STYLES else digest
            parts.append(_noted(ooxml.Part.of(name, _APP_XML if name == _APP else data), note))
    return _Structure(parts, ids, frames)


def _reused_structure(
    earlier: Mapping[str, ooxml.Part], shape: _Shape, digest: str
) -> _Structure | None:
    """The earlier package's structure, if it was made from this same shape."""
    made = {_CORE} | {_sheet_part(number) for number in range(1, len(shape.sheets) + 1)}
    if not made <= earlier.keys():
        return None
    parts: list[ooxml.Part | str] = []
    ids: tuple[int, ...] = ()
    for name, part in earlier.items():
        if name in made:
            parts.append(name)
            continue
        note = _note(part)
        if note is not None and name == _STYLES:
            note, _, listed = note.partition(" ")
            ids = tuple(int(n) for n in listed.split(",") if n.isdigit())
        if note != digest:
            return None
        parts.append(part)
    if len(ids) != len(shape.looks):
        return None
    return _Structure(parts, ids, {})


def _sheet_part(number: int) -> str:
    return f"xl/worksheets/sheet{number}.xml"


def _stored(previous: bytes | None) -> dict[str, ooxml.Part]:
    """The parts of an earlier package, as stored; none when it cannot be built on."""
    if previous is None or _maker() is None:
        return {}
    try:
        return ooxml.stored_parts(previous)
    except ValueError:
        return {}


def _seal(note: bytes, part: ooxml.Part) -> bytes:
    check = zlib.crc32(note + struct.pack("<II", part.crc, part.size))
    return b"%08x" % zlib.crc32(part.compressed, check)


def _noted(part: ooxml.Part, note: str) -> ooxml.Part:
    """`part` with `note` in its zip comment, sealed to the bytes stored."""
    raw = note.encode("ascii")
    return replace(part, comment=raw + b" " + _seal(raw, part))


def _note(part: ooxml.Part) -> str | None:
    """The note in a part's zip comment; None when its seal does not match what is stored."""
    raw, _, seal = part.comment.rpartition(b" ")
    if not raw or not raw.isascii() or seal != _seal(raw, part):
        return None
    return raw.decode("ascii")


def _digest(*inputs: object) -> str:
    """A digest of everything a part is made from, and of what makes it (see _maker)."""
    data = repr(inputs).encode("utf-8", "backslashreplace")
    return hashlib.blake2b(data, key=_maker() or b"", digest_size=16).hexdigest()


@functools.cache
def _maker() -> bytes | None:
    """A digest of what turns inputs into bytes: jobdefs, openpyxl, lxml, Python and zlib.

    Other versions of them may write other bytes from the same inputs, so a part is reused
    only from a package they made. Read from their files, not their modules: importing
    openpyxl takes a third of a second, which a build that reuses everything need not pay.
    None when one of them cannot be read: then nothing is reused. Of jobdefs, every module
    counts (`code_version`): the bytes are made by several, and not only in documents.
    """
    files: list[Path] = []
    spec = importlib.util.find_spec("openpyxl")
    if spec is None or not spec.submodule_search_locations:
        return None
    files.append(Path(next(iter(spec.submodule_search_locations))) / "_constants.py")
    for package in ("lxml", "et_xmlfile"):  # openpyxl writes XML with one or the other
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    hasher = hashlib.blake2b(digest_size=32)
    try:
        hasher.update(digests.code_version().encode())
        for path in files:
            hasher.update(path.read_bytes())
    except OSError:
        return None
    versions = (sys.version, zlib.ZLIB_RUNTIME_VERSION, os.environ.get("OPENPYXL_LXML"))
    hasher.update(repr(versions).encode())
    return hasher.digest()
