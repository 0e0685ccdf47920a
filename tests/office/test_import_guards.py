"""Hostile and broken files: each is refused with its code and a sentence, before parsing.

Zip bombs (declared sizes, compression ratio, sizes that lie), macros
(``vbaProject.bin``, a macro-enabled content type, ODF Basic), an XML
billion-laughs in ``document.xml``, damaged and encrypted files, formats
that are not text documents, and content over the document length limit.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable

import pytest

from office.importers import ImportRefused, convert
from office.importers.guards import check_zip
from tests.office.import_helpers import MemoryImages, fixture_bytes

MB = 1024 * 1024


def refused(data: bytes, name: str, **limits: int) -> ImportRefused:
    images = MemoryImages()
    with pytest.raises(ImportRefused) as caught:
        convert(data, name, store_image=images, **limits)  # type: ignore[arg-type]  # only int limits
    assert images.by_src == {}, "a refused file stored images"
    assert caught.value.message.endswith(".")
    return caught.value


def rezip(
    name: str, change: Callable[[str, bytes], bytes | None], extra: dict[str, bytes]
) -> bytes:
    """Return fixture ``name`` with members changed (None drops one) and ``extra`` added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(fixture_bytes(name))) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = change(info.filename, source.read(info))
            if data is not None:
                target.writestr(info.filename, data)
        for member, data in extra.items():
            target.writestr(member, data)
    return out.getvalue()


def keep(member: str, data: bytes) -> bytes:
    return data


def test_a_zip_bomb_by_ratio_is_refused_before_parsing() -> None:
    # 8 MB of zeros deflate to about 8 KB: a ratio of ~1000.
    bomb = rezip("report.docx", keep, {"word/media/zeros.bin": bytes(8 * MB)})
    assert len(bomb) < 100 * 1024
    assert refused(bomb, "bomb.docx").code == "zip_bomb"


def test_members_declaring_more_than_the_expanded_limit_are_refused() -> None:
    big = rezip("report.odt", keep, {"Pictures/noise.bin": bytes(range(256)) * 8192})
    error = refused(big, "big.odt", max_expanded=1 * MB)
    assert error.code == "zip_bomb"
    assert "1 MB" in error.message


def _lie_about_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite ``member``'s uncompressed size in its local and central headers."""
    raw = bytearray(data)
    name = member.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = 0
        while (at := raw.find(signature, at)) != -1:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if raw[name_at : name_at + len(name)] == name:
                struct.pack_into("<I", raw, at + offset, size)
            at += 4
    return bytes(raw)


def test_a_zip_lying_about_its_sizes_is_caught_by_the_bounded_reader() -> None:
    liar = rezip("report.docx", keep, {"word/media/zeros.bin": bytes(2 * MB)})
    liar = _lie_about_size(liar, "word/media/zeros.bin", 10)
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:
        assert archive.getinfo("word/media/zeros.bin").file_size == 10  # the lie took
    error = refused(liar, "liar.docx")
    assert error.code in ("zip_bomb", "bad_file")


@pytest.mark.parametrize(
    ("name", "member", "data"),
    [
        ("report.docx", "word/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro"),
        ("report.odt", "Basic/Standard/Module1.xml", b"<module/>"),
        ("report.odt", "Scripts/python/evil.py", b"import os"),
    ],
    ids=["docx-vbaProject", "odt-basic", "odt-scripts"],
)
def test_files_with_macros_are_refused(name: str, member: str, data: bytes) -> None:
    error = refused(rezip(name, keep, {member: data}), name)
    assert error.code == "macros"
    assert "macros" in error.message


def test_a_macro_enabled_content_type_is_refused_whatever_the_name() -> None:
    def docm(member: str, data: bytes) -> bytes:
        if member == "[Content_Types].xml":
            return data.replace(
                b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                b"application/vnd.ms-word.document.macroEnabled.main+xml",
            )
        return data

    assert refused(rezip("report.docx", docm, {}), "renamed.docx").code == "macros"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"""


@pytest.mark.parametrize(
    ("name", "member"), [("report.docx", "word/document.xml"), ("report.odt", "content.xml")]
)
def test_an_xml_entity_bomb_is_refused_before_any_parser(name: str, member: str) -> None:
    def laughs(m: str, data: bytes) -> bytes:
        return BILLION_LAUGHS if m == member else data

    error = refused(rezip(name, laughs, {}), name)
    assert error.code == "bad_file"
    assert "entities" in error.message


@pytest.mark.parametrize("name", ["report.docx", "report.odt"])
def test_a_damaged_file_is_refused(name: str) -> None:
    data = fixture_bytes(name)
    assert refused(data[: len(data) // 2], name).code == "bad_file"


def test_a_damaged_member_is_refused() -> None:
    def garble(member: str, data: bytes) -> bytes:
        return b"<w:document><unclosed" if member == "word/document.xml" else data

    assert refused(rezip("report.docx", garble, {}), "x.docx").code == "bad_file"


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


def test_an_encrypted_office_file_is_named_as_such() -> None:
    error = refused(OLE, "secret.docx")
    assert error.code == "bad_file"
    assert "password" in error.message


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (OLE, "old.doc", ".doc"),
        (b"%PDF-1.7\n...", "paper.pdf", "DOCX, ODT, HTML or Markdown"),
        (b"{\\rtf1 hello}", "letter.rtf", "RTF"),
        (b"\x89PNG\r\n\x1a\n", "picture.png", "DOCX, ODT, HTML or Markdown"),
    ],
    ids=["doc", "pdf", "rtf", "png"],
)
def test_formats_that_cannot_be_imported_say_which_can(data: bytes, name: str, says: str) -> None:
    error = refused(data, name)
    assert error.code == "unsupported_format"
    assert says in error.message


def test_a_spreadsheet_is_not_a_text_document() -> None:
    def spreadsheet(member: str, data: bytes) -> bytes:
        if member == "mimetype":
            return b"application/vnd.oasis.opendocument.spreadsheet"
        return data

    error = refused(rezip("report.odt", spreadsheet, {}), "sheet.ods")
    assert error.code == "unsupported_format"
    assert "spreadsheets" in error.message


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    error = refused(fixture_bytes("report.odt"), "report.odt", max_bytes=4096)
    assert error.code == "too_large"
    assert "4 KB" in error.message


def test_an_empty_file_is_refused() -> None:
    assert refused(b"", "empty.md").code == "bad_file"


@pytest.mark.parametrize("name", ["report.docx", "report.odt"])
def test_content_over_the_length_limit_is_refused(name: str) -> None:
    error = refused(fixture_bytes(name), name, max_length=100)
    assert error.code == "too_long"
    assert "100" in error.message


def test_a_huge_text_file_stops_at_the_limit_without_building_it_all() -> None:
    text = ("word " * 200_000).encode()  # 1 MB of text, one paragraph
    assert refused(text, "long.md", max_length=10_000).code == "too_long"


def test_check_zip_accepts_the_real_fixtures() -> None:
    for name in ("report.docx", "report.odt"):
        check_zip(fixture_bytes(name), max_expanded=10 * MB)


def test_a_damaged_odt_part_is_refused_never_half_read_or_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """odfpy prints a part it cannot parse and goes on: the import must refuse first."""

    def damage(member: str, data: bytes) -> bytes:
        return (
            data.replace(b"</office:styles>", b"</office:style>")
            if member == "styles.xml"
            else data
        )

    error = refused(rezip("report.odt", damage, {}), "report.odt")
    assert error.code == "bad_file"
    assert "styles.xml" in error.message
    out = capsys.readouterr()
    assert "SAX FAILED" not in out.out and "office:document-styles" not in out.out


def test_content_nested_thousands_deep_is_refused_or_bounded() -> None:
    def deep(member: str, data: bytes) -> bytes:
        if member != "content.xml":
            return data
        nested = b"<text:span>" * 3_000 + b"deep" + b"</text:span>" * 3_000
        return data.replace(b"Centered closing line.", nested)

    with pytest.raises(ImportRefused) as caught:
        convert(rezip("report.odt", deep, {}), "deep.odt", store_image=MemoryImages())
    assert caught.value.code == "bad_file"
    assert "too deeply" in caught.value.message
    # HTML's mapper is not recursive: past MAX_DEPTH open elements, more add nothing.
    html = b"<b>" * 5_000 + b"x" + b"</b>" * 5_000
    assert convert(html, "deep.html", store_image=MemoryImages()).delta == [
        {"insert": "x", "attributes": {"bold": True}},
        {"insert": "\n"},
    ]


@pytest.mark.parametrize("name", ["report.docx", "report.odt", "html", "md"])
def test_randomly_damaged_files_are_imported_or_refused_never_crash(name: str) -> None:
    """Seeded byte mutations of the main XML part (or the text): ImportRefused or a result."""
    import random

    seed = random.randrange(1_000_000)
    print(f"seed {seed}")  # a failure names its seed
    rng = random.Random(seed)
    sources = {
        "report.docx": ("word/document.xml", b""),
        "report.odt": ("content.xml", b""),
        "html": ("", b"<h1>T</h1><ul><li>a<ol><li>b</li></ol></li></ul><table><tr><td>c"),
        "md": ("", b"# T\n\n- [ ] a\n  1. b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n"),
    }
    member, text = sources[name]

    def mutate(data: bytes) -> bytes:
        raw = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            if not raw:
                break
            at = rng.randrange(len(raw))
            if rng.random() < 0.5:
                raw[at] = rng.randrange(256)
            else:
                del raw[at : at + rng.randint(1, 30)]
        return bytes(raw)

    for _ in range(25):
        if member:
            data = rezip(name, lambda m, d: mutate(d) if m == member else d, {})
            filename = name
        else:
            data, filename = mutate(text), f"x.{name}"
        try:
            convert(data, filename, store_image=MemoryImages())
        except ImportRefused as error:
            assert error.code in ("bad_file", "unsupported_format", "too_long")


def test_a_damaged_list_level_is_refused_or_read_never_a_server_error() -> None:
    """A list style whose level is not a number (seed 116 of the mutation test) reads as 1."""
    data = rezip(
        "report.odt",
        lambda m, d: (
            d.replace(b'text:level="1"', b'text:level="m"', 1) if m == "content.xml" else d
        ),
        {},
    )
    assert b'text:level="m"' in zipfile.ZipFile(io.BytesIO(data)).read("content.xml")
    assert convert(data, "report.odt", store_image=MemoryImages()).delta


def test_an_import_leaves_odfpys_namespace_table_as_it_found_it() -> None:
    """An ODT declaring namespaces odfpy does not know must not change later ODT exports.

    odfpy keeps one namespace table per process and adds every namespace a
    loaded file uses to it; every ODT written afterwards would declare them
    too (a damaged one made every later export of the worker unreadable).
    """
    from odf import namespaces
    from odf.element import Element

    from documents.export import export_document

    before, declared = dict(namespaces.nsdict), dict(Element.namespaces)
    odd = b'<zz:mark xmlns:zz="urn:x-collabdocs-test:odd:1">odd</zz:mark>'

    def add_namespace(member: str, data: bytes) -> bytes:
        if member != "content.xml":
            return data
        start = data.index(b"<text:p")
        at = data.index(b">", start) + 1
        return data[:at] + odd + data[at:]

    convert(rezip("report.odt", add_namespace, {}), "odd.odt", store_image=MemoryImages())
    assert namespaces.nsdict == before and Element.namespaces == declared
    exported = export_document([{"insert": "Plain\n"}], fmt="odt", title="After")
    content = zipfile.ZipFile(io.BytesIO(exported)).read("content.xml")
    assert b"urn:x-collabdocs-test:odd:1" not in content
