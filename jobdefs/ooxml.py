"""Deterministic zip packages for .docx and .xlsx files.

Office files are zip archives. Python's zipfile stamps the clock into every entry and
compresses every part again on every write; here each part can be compressed once and
copied raw into any number of packages, and every entry carries the same fixed time, so
the same content always gives the same bytes.
"""

from __future__ import annotations

import datetime
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ZIP_EPOCH = datetime.datetime(1980, 1, 1)  # the earliest time a zip entry can hold


@dataclass(frozen=True)
class Part:
    """One compressed part of a package, ready to be copied into any number of zips."""

    name: str
    compressed: bytes
    crc: int
    size: int

    @classmethod
    def of(cls, name: str, data: bytes, level: int = 6) -> Part:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        compressed = compressor.compress(data) + compressor.flush()
        return cls(name, compressed, zlib.crc32(data), len(data))


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
            struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, len(name), 0, 0, 0, 0,
                        0, offset) + name
        )
        chunks += (header, part.compressed)
        offset += len(header) + len(part.compressed)
        count += 1
    central = b"".join(directory)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), offset, 0)
    return b"".join(chunks) + central + end


def read_parts(data: bytes | str) -> dict[str, bytes]:
    """Every part of a package (a path or bytes), uncompressed, in archive order."""
    import io

    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with zipfile.ZipFile(source) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def repack(
    data: bytes,
    moment: datetime.datetime = ZIP_EPOCH,
    replace: Mapping[str, bytes] | None = None,
) -> bytes:
    """Rewrite a package another library wrote, with fixed entry times and some parts swapped.

    openpyxl and python-docx date every entry and the core properties with the clock.
    """
    replace = replace or {}
    parts = read_parts(data)
    return write_package(
        (Part.of(name, replace.get(name, content)) for name, content in parts.items()), moment
    )


def core_properties(
    title: str, moment: datetime.datetime, creator: str = "jobdefs", subject: str = ""
) -> bytes:
    """docProps/core.xml with fixed dates, so the file does not change with the clock."""
    from xml.sax.saxutils import escape

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
