"""Checks a file passes before any parser sees it.

Every check runs on the raw bytes, before python-docx, odfpy or
html.parser: a hostile file is refused by what it is, never by what a
parser does with it. Each refusal is an :class:`ImportRefused` with a
sentence for people.

* size: at most ``IMPORT_MAX_BYTES`` (settings, read by the caller);
* format: sniffed from the bytes, the name's extension only choosing
  between the text formats (HTML, Markdown); an old binary ``.doc`` or an
  encrypted Office file (an OLE compound file, not a zip) is named as such;
* zip bombs (:func:`check_zip`): the members' declared sizes must add up
  to at most ``max_expanded`` bytes, no member may claim a compression
  ratio over :data:`MAX_RATIO` (past :data:`RATIO_FLOOR` bytes), and then
  every member is actually inflated through a bounded reader, so a zip
  that lies about its sizes is caught by what it really expands to;
* macros: ``vbaProject.bin`` anywhere, a macro-enabled content type
  (``.docm``/``.dotm``), or an ODF ``Basic/`` or ``Scripts/`` directory;
* XML entity expansion: no XML member may hold a document type
  declaration (``<!DOCTYPE``/``<!ENTITY``): OOXML and ODF never need one,
  so a billion-laughs file is refused before lxml or expat reads it.
"""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from pathlib import PurePosixPath

from office.importers.errors import ImportRefused

__all__ = [
    "MAX_MEMBERS",
    "MAX_RATIO",
    "RATIO_FLOOR",
    "check_size",
    "check_zip",
    "sniff",
]

#: Refuse members that claim to inflate more than this many times...
MAX_RATIO = 100
#: ...once they are at least this large (tiny XML parts compress well).
RATIO_FLOOR = 1024 * 1024
#: More members than any real document has.
MAX_MEMBERS = 10_000
_CHUNK = 64 * 1024

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_MACRO_TYPES = (
    b"macroEnabled",  # application/vnd.ms-word.document.macroEnabled.main+xml, .dotm, .docm
    b"vbaProject",
)
_TEXT_FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdown": "markdown",
    ".txt": "markdown",
}
_OFFICE_EXTENSIONS = {".docx", ".docm", ".dotx", ".dotm", ".odt", ".ott"}
_OLD_FORMATS = {
    ".doc": "Word 97–2003 (.doc) files",
    ".rtf": "RTF files",
    ".pages": "Pages files",
    ".wpd": "WordPerfect files",
}
SUPPORTED = "DOCX, ODT, HTML or Markdown"


def check_size(data: bytes, max_bytes: int) -> None:
    """Refuse a file larger than ``max_bytes``."""
    if len(data) > max_bytes:
        raise ImportRefused(
            "too_large",
            f"The file is {_mb(len(data))}; files of at most {_mb(max_bytes)} can be imported.",
        )
    if not data:
        raise ImportRefused("bad_file", "The file is empty.")


def _mb(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def sniff(data: bytes, filename: str) -> str:
    """Return ``docx``, ``odt``, ``html`` or ``markdown`` for the file.

    :raises ImportRefused: ``unsupported_format`` for anything else,
        ``bad_file`` for an office file that is not one.
    """
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if data.startswith(_OLE):
        if suffix in _OFFICE_EXTENSIONS:
            raise ImportRefused(
                "bad_file",
                "The file is password-protected (encrypted). Remove the password in your "
                "office program, save it again and import that copy.",
            )
        raise ImportRefused(
            "unsupported_format",
            "This is an old binary Office file (such as a Word 97–2003 .doc). Save it as "
            f".docx or .odt and import that; {SUPPORTED} files can be imported.",
        )
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _sniff_zip(data)
    if suffix in _OFFICE_EXTENSIONS:
        raise ImportRefused("bad_file", f"The file is not a valid {suffix[1:].upper()} file.")
    if suffix in _OLD_FORMATS:
        raise ImportRefused(
            "unsupported_format",
            f"{_OLD_FORMATS[suffix]} can’t be imported; save it as .docx or .odt first.",
        )
    if suffix in _TEXT_FORMATS:
        return _TEXT_FORMATS[suffix]
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    raise ImportRefused(
        "unsupported_format",
        f"“{filename or 'This file'}” is not a format that can be imported; {SUPPORTED} files can.",
    )


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100].strip()
                if mimetype in (
                    b"application/vnd.oasis.opendocument.text",
                    b"application/vnd.oasis.opendocument.text-template",
                ):
                    return "odt"
                raise ImportRefused(
                    "unsupported_format",
                    "Only text documents can be imported, not spreadsheets or "
                    f"presentations; {SUPPORTED} files can.",
                )
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return "docx"
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise ImportRefused("bad_file", "The file is damaged: it is not a readable zip.") from None
    raise ImportRefused(
        "unsupported_format",
        f"This zip file is not a text document; {SUPPORTED} files can be imported.",
    )


def check_zip(data: bytes, *, max_expanded: int) -> None:
    """Refuse a zip bomb, a macro-enabled document or an XML entity bomb.

    Reads every member through a bounded reader: at most ``max_expanded``
    bytes are ever inflated, whatever the zip's headers claim.
    """
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise ImportRefused("bad_file", "The file is damaged: it is not a readable zip.") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise ImportRefused("zip_bomb", f"The file holds over {MAX_MEMBERS} parts.")
        declared = sum(member.file_size for member in members)
        if declared > max_expanded:
            raise _bomb(max_expanded)
        for member in members:
            if member.file_size >= RATIO_FLOOR and member.file_size > MAX_RATIO * max(
                member.compress_size, 1
            ):
                raise _bomb(max_expanded)
            if member.flag_bits & 0x1:
                raise ImportRefused(
                    "bad_file",
                    "The file is password-protected (encrypted). Remove the password and "
                    "import it again.",
                )
        _check_macros(archive, members)
        _inflate_all(archive, members, max_expanded)


def _bomb(limit: int) -> ImportRefused:
    return ImportRefused(
        "zip_bomb",
        f"The file expands to more than {_mb(limit)} when unpacked, or claims a compression "
        "ratio no real document has; it was not opened.",
    )


def _check_macros(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    for member in members:
        name = member.filename.replace("\\", "/")
        lower = name.lower()
        top = lower.split("/", 1)[0]
        if (
            lower.endswith("vbaproject.bin")
            or lower.endswith("vbadata.xml")
            or (top in ("basic", "scripts") and "/" in lower)
        ):
            raise _macros()
    if "[Content_Types].xml" in archive.namelist():
        types = _read_bounded(archive, archive.getinfo("[Content_Types].xml"), 1024 * 1024)
        if any(marker in types for marker in _MACRO_TYPES):
            raise _macros()


def _macros() -> ImportRefused:
    return ImportRefused(
        "macros",
        "The file contains macros, which are never imported. Save it without macros "
        "(as .docx or .odt) and import that copy.",
    )


def _read_bounded(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    out = bytearray()
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                out += chunk
                if len(out) > limit:
                    raise _bomb(limit)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise ImportRefused("bad_file", f"The file is damaged: {exc}.") from None
    return bytes(out)


def _inflate_all(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], max_expanded: int
) -> None:
    """Inflate every member once, counting real bytes; refuse DTDs in XML parts."""
    total = 0
    for member in members:
        xml = member.filename.lower().endswith((".xml", ".rels")) or member.filename in (
            "mimetype",
        )
        head = b""
        try:
            with archive.open(member) as stream:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > max_expanded:
                        raise _bomb(max_expanded)
                    if xml:
                        # A DTD comes before the root element: the part's
                        # first bytes, or (to be sure) anywhere in it.
                        if _DTD.search(head[-16:] + chunk):
                            raise ImportRefused(
                                "bad_file",
                                "The file’s XML declares entities (a document type "
                                "definition), which office documents never need; it was "
                                "not opened.",
                            )
                        head = chunk
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise ImportRefused("bad_file", f"The file is damaged: {exc}.") from None
