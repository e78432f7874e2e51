"""Deterministic zip packages for .docx and .xlsx files.

Office files are zip archives. Python's zipfile stamps the clock into every entry and
compresses every part again on every write; here each part can be compressed once and
copied raw into any number of packages, and every entry carries the same fixed time, so
the same content always gives the same bytes. A part can carry a comment in the zip's
central directory, which office applications never show: a note for whoever writes the
package next, such as what the part was made from.
"""

from __future__ import annotations

import datetime
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from jobdefs.office_files import UnsafeFile, check_package, read_regular_file

ZIP_EPOCH = datetime.datetime(1980, 1, 1)  # the earliest time a zip entry can hold


@dataclass(frozen=True)
class Part:
    """One compressed part of a package, ready to be copied into any number of zips."""

    name: str
    compressed: bytes
    crc: int
    size: int
    comment: bytes = b""

    @classmethod
    def of(cls, name: str, data: bytes, level: int = 6, comment: bytes = b"") -> Part:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        compressed = compressor.compress(data) + compressor.flush()
        return cls(name, compressed, zlib.crc32(data), len(data), comment)

    @classmethod
    def joined(cls, name: str, pieces: Iterable[Piece], comment: bytes = b"") -> Part:
        """A part whose data is that of `pieces` end to end, each still compressed alone."""
        crc, size, chunks = 0, 0, []
        for piece in pieces:
            # CRC-32 is affine: running as many zero bytes as the piece holds through the
            # CRC so far and through 0, and xor-ing both with the piece's CRC, appends it.
            zeros = bytes(piece.size)
            crc = zlib.crc32(zeros, crc) ^ zlib.crc32(zeros) ^ piece.crc
            size += piece.size
            chunks.append(piece.compressed)
        chunks.append(_LAST_BLOCK)
        return cls(name, b"".join(chunks), crc, size, comment)

    def split(self, sizes: Iterable[tuple[int, int, int]]) -> list[Piece]:
        """The pieces a joined part is made of, given each one's compressed size, CRC and size.

        Raises ValueError when they do not add up to this part.
        """
        pieces, offset = [], 0
        for stored, crc, size in sizes:
            pieces.append(Piece(self.compressed[offset : offset + stored], crc, size))
            offset += stored
        if self.compressed[offset:] != _LAST_BLOCK or sum(p.size for p in pieces) != self.size:
            raise ValueError(f"{self.name}: not made of these pieces")
        return pieces


@dataclass(frozen=True)
class Piece:
    """A stretch of a part compressed on its own: pieces join into a part (Part.joined), so
    a part can be remade by compressing only the pieces that changed."""

    compressed: bytes
    crc: int
    size: int

    @classmethod
    def of(cls, data: bytes, level: int = 6) -> Piece:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        # A sync flush ends the piece on a byte boundary and leaves the stream open; a new
        # compressor refers back to nothing before it. So the bytes follow from `data` alone.
        compressed = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        return cls(compressed, zlib.crc32(data), len(data))


# An empty final deflate block: it closes a stream of joined pieces.
_LAST_BLOCK = zlib.compressobj(6, zlib.DEFLATED, -15).flush()


def _dos_time(moment: datetime.datetime) -> tuple[int, int]:
    moment = max(moment.replace(tzinfo=None), ZIP_EPOCH)
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    date = ((moment.year - 1980) << 9) | (moment.month << 5) | moment.day
    return time, date


def write_package(parts: Iterable[Part], moment: datetime.datetime = ZIP_EPOCH) -> bytes:
    """A zip archive of `parts`, in the order given, every entry dated `moment`."""
    time, date = _dos_time(moment)
    chunks: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    count = 0
    for part in parts:
        name = part.name.encode("utf-8")
        flags = 0x800 if not part.name.isascii() else 0
        fields = (20, flags, 8, time, date, part.crc, len(part.compressed), part.size)
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, len(name), 0) + name
        directory.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                *fields,
                len(name),
                0,
                len(part.comment),
                0,
                0,
                0,
                offset,
            )
            + name
            + part.comment
        )
        chunks += (header, part.compressed)
        offset += len(header) + len(part.compressed)
        count += 1
    central = b"".join(directory)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), offset, 0)
    return b"".join(chunks) + central + end


def read_parts(data: bytes | str, checked: bool = True) -> dict[str, bytes]:
    """Every part of a package (a path or bytes), uncompressed, in archive order.

    A package from outside (a template) is checked first (jobdefs.office_files): a part that
    unpacks past the limits, a DTD, an encrypted or doubled entry raise BadZipFile, which the
    callers report as "not a Word document". `checked=False` is for the bytes jobdefs made.
    """
    import io

    if not checked:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist()}
    try:
        content = data if isinstance(data, bytes) else read_regular_file(data)
        zipfile.ZipFile(io.BytesIO(content)).close()  # not a zip: zipfile's own words
        # Badly formed XML is left to the readers of each part, which say where it is.
        with check_package(content, well_formed=False) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist()}
    except UnsafeFile as error:
        raise zipfile.BadZipFile(str(error)) from None


def stored_parts(data: bytes) -> dict[str, Part]:
    """Every part of a package as stored: still compressed, with its comment, in archive order.

    For copying parts into another package without inflating and deflating them again.
    Raises ValueError for anything but a zip of deflated, unencrypted entries, each stored
    where the central directory says and as it says.
    """
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, struct.error) as error:
        raise ValueError(f"not a zip archive: {error}") from error
    parts: dict[str, Part] = {}
    for entry in entries:
        start = entry.header_offset
        header = data[start : start + 30]
        if len(header) < 30:
            raise ValueError(f"{entry.filename}: cut short")
        signature, _, flags, method, _, _, crc, stored, size, name_length, extra_length = (
            struct.unpack("<IHHHHHIIIHH", header)
        )
        name = data[start + 30 : start + 30 + name_length]
        begin = start + 30 + name_length + extra_length
        compressed = data[begin : begin + entry.compress_size]
        # Bit 0: encrypted; bit 3: sizes after the data, which the local header then lacks.
        if (
            signature != 0x04034B50
            or flags & 0x9
            or method != zipfile.ZIP_DEFLATED
            or entry.compress_type != zipfile.ZIP_DEFLATED
            or (crc, stored, size) != (entry.CRC, entry.compress_size, entry.file_size)
            or name.decode("utf-8" if flags & 0x800 else "cp437") != entry.orig_filename
            or len(compressed) != entry.compress_size
            or entry.filename in parts
        ):
            raise ValueError(f"{entry.filename}: not stored as the central directory says")
        parts[entry.filename] = Part(entry.filename, compressed, crc, size, entry.comment)
    return parts


def repack(
    data: bytes,
    moment: datetime.datetime = ZIP_EPOCH,
    replace: Mapping[str, bytes] | None = None,
) -> bytes:
    """Rewrite a package another library wrote, with fixed entry times and some parts swapped.

    openpyxl and python-docx date every entry and the core properties with the clock.
    """
    replace = replace or {}
    parts = read_parts(data, checked=False)
    return write_package(
        (Part.of(name, replace.get(name, content)) for name, content in parts.items()), moment
    )


def core_properties(
    title: str, moment: datetime.datetime, creator: str = "jobdefs", subject: str = ""
) -> bytes:
    """docProps/core.xml with fixed dates, so the file does not change with the clock."""

    def escape(text: str) -> str:  # as html.escape(text, quote=False), without loading html
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    stamp = moment.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/'
        'dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title>"
        f"<dc:subject>{escape(subject)}</dc:subject>"
        f"<dc:creator>{escape(creator)}</dc:creator>"
        f"<cp:lastModifiedBy>{escape(creator)}</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    ).encode()
