"""app/documents/inspect.py: type from the content, structural checks, zip bombs, names, PDF metadata, previews.

Every file is built here (tmp_path); nothing from outside the test is read. No database, no request.
"""

from __future__ import annotations

import io
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from app.documents import inspect
from app.documents.inspect import (ALLOWED, DOCX, JPEG, ODT, PDF, PNG, TEXT, Inspection, UploadRefused,
                                   clean_filename, pdf_metadata, render_preview, sniff, strip_pdf_metadata)

pytestmark = pytest.mark.engine_independent

MB = 1024 * 1024
LIMIT = 20 * MB
SECRET = "Hemligt-Namn-Åsa-Lindqvist"  # a stand-in for personal data in a file: never in a message

# ------------------------------------------------------------------ builders

XMP = b"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<dc:creator><rdf:Seq><rdf:li>Anna Andersson</rdf:li></rdf:Seq></dc:creator>
<xmp:CreatorTool>SkanStation 9</xmp:CreatorTool>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def make_pdf(pages: int = 3, *, info: dict[str, str] | None = None, xmp: bool = False,
             page_xmp: bool = False, catalog_extra: bytes = b"") -> bytes:
    """A small valid PDF written by hand: A4 pages with the text "Sida N", optional Info and XMP."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    xmp_ref = add(b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(XMP) + XMP
                  + b"\nendstream") if (xmp or page_xmp) else None
    kids = []
    for number in range(1, pages + 1):
        text = b"BT /F1 24 Tf 72 720 Td (Sida %d av samtycket) Tj ET" % number
        content = add(b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream")
        extra = b" /Metadata %d 0 R" % xmp_ref if page_xmp else b""
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                        b"/Resources << /Font << /F1 %d 0 R >> >>%s >>" % (tree, content, font, extra)))
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), pages)
    catalog_xmp = b" /Metadata %d 0 R" % xmp_ref if xmp else b""
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R%s %s >>" % (tree, catalog_xmp, catalog_extra)
    info_ref = None
    if info:
        entries = b" ".join(b"/%s (%s)" % (k.encode(), v.encode("latin-1")) for k, v in info.items())
        info_ref = add(b"<< " + entries + b" >>")

    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer_info = b" /Info %d 0 R" % info_ref if info_ref else b""
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, catalog, trailer_info, xref)
    return bytes(out)


INFO = {"Author": "Anna Andersson", "Creator": "Microsoft Word", "Producer": "SkanStation 9",
        "Title": "Samtycke", "CreationDate": "D:20240131120500+01'00'"}


def image_bytes(fmt: str, size=(64, 48), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height, with a tiny IDAT (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
            + chunk(b"IEND", b""))


CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                 '2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override '
                 'PartName="/word/document.xml" ContentType="%s"/></Types>')
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCUMENT_XML = ('<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                '2006/main"><w:body><w:p><w:r><w:t>Samtycke</w:t></w:r></w:p></w:body></w:document>')


def make_docx(*, main: str = DOCX_MAIN, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES % main)
        zf.writestr("word/document.xml", DOCUMENT_XML)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


def make_odt(*, mimetype: str = ODT, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", '<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:'
                                   'tc:opendocument:xmlns:office:1.0"/>')
        zf.writestr("META-INF/manifest.xml", "<manifest/>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


def raw_zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP written by hand: (name, raw deflate data, declared uncompressed size, CRC) per entry, so that a
    test can declare any size."""
    out, central = bytearray(), bytearray()
    for name, data, size, crc in entries:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0)
        out += encoded + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), size,
                               len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + end)


def deflated_zeros(megabytes: int) -> tuple[bytes, int]:
    """Raw deflate data of ``megabytes`` MiB of zeros and its CRC, made from one compressed MiB repeated (a
    full flush makes each block independent), so a 200 MB bomb costs milliseconds and ~200 KB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    zeros = bytes(MB)
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    return block * megabytes + b"\x03\x00", crc


def docx_with_document(data: bytes, size: int, crc: int) -> bytes:
    types = (CONTENT_TYPES % DOCX_MAIN).encode()
    types_raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = types_raw.compress(types) + types_raw.flush()
    return raw_zip([("[Content_Types].xml", packed, len(types), zlib.crc32(types)),
                    ("word/document.xml", data, size, crc)])


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path_or_file, **kwargs) -> UploadRefused:
    kwargs.setdefault("max_bytes", LIMIT)
    with pytest.raises(UploadRefused) as caught:
        sniff(path_or_file, **kwargs)
    return caught.value


# ------------------------------------------------------------------ allowed types


def test_allowed_types_have_swedish_labels():
    assert set(ALLOWED) == {PDF, PNG, JPEG, TEXT, DOCX, ODT}
    assert str(ALLOWED[PDF]) == "PDF" and str(ALLOWED[DOCX]) == "Word-dokument (DOCX)"
    assert str(ALLOWED[ODT]) == "OpenDocument-text (ODT)" and str(ALLOWED[TEXT]) == "Textfil"


def test_a_pdf_is_a_pdf_with_pages_and_metadata(tmp_path):
    data = make_pdf(3, info=INFO, xmp=True)
    found = sniff(write(tmp_path, "samtycke.pdf", data), max_bytes=LIMIT)
    assert isinstance(found, Inspection)
    assert (found.media_type, found.label, found.size, found.is_pdf, found.page_count) == (PDF, "PDF", len(data),
                                                                                          True, 3)
    assert found.has_metadata and not found.signed
    assert found.metadata["Author"] == "Anna Andersson"
    assert found.metadata["Creator"] == "Microsoft Word"
    assert found.metadata["CreationDate"] == "2024-01-31 12:05:00 +01:00"
    assert found.metadata["XMP"] == "ja"
    assert found.metadata["XMP dc:creator"] == "Anna Andersson"
    assert found.metadata["XMP xmp:CreatorTool"] == "SkanStation 9"
    assert len(found.sha256) == 64 and found.extension == ".pdf"


def test_a_signed_pdf_says_so(tmp_path):
    # Stripping rewrites the file, so the coordinator should know the signature would no longer verify.
    signed = make_pdf(1, catalog_extra=b"/AcroForm << /Fields [] /SigFlags 3 >>")
    assert sniff(write(tmp_path, "s.pdf", signed), max_bytes=LIMIT).signed
    form = make_pdf(1, catalog_extra=b"/AcroForm << /Fields [] >>")
    assert not sniff(write(tmp_path, "f.pdf", form), max_bytes=LIMIT).signed


def test_a_pdf_without_metadata_has_none(tmp_path):
    found = sniff(write(tmp_path, "a.pdf", make_pdf(1)), max_bytes=LIMIT)
    assert found.metadata == {} and not found.has_metadata and found.page_count == 1


def test_a_pdf_named_txt_is_a_pdf_and_its_name_is_fixed(tmp_path):
    found = sniff(write(tmp_path, "anteckning.txt", make_pdf(1)), max_bytes=LIMIT, claimed_name="anteckning.txt",
                  claimed_type="text/plain")
    assert found.media_type == PDF
    assert clean_filename("anteckning.txt", found.media_type) == "anteckning.pdf"


@pytest.mark.parametrize("fmt, media_type, label", [("PNG", PNG, "PNG-bild"), ("JPEG", JPEG, "JPEG-bild")])
def test_images(tmp_path, fmt, media_type, label):
    found = sniff(write(tmp_path, "bild", image_bytes(fmt)), max_bytes=LIMIT)
    assert (found.media_type, found.label, found.is_pdf, found.page_count, found.metadata) == (
        media_type, label, False, None, {})


def test_a_png_named_pdf_is_a_png(tmp_path):
    found = sniff(write(tmp_path, "x.pdf", image_bytes("PNG")), max_bytes=LIMIT, claimed_name="x.pdf")
    assert found.media_type == PNG
    assert clean_filename("x.pdf", found.media_type) == "x.png"


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_plain_text_in_utf8_or_windows_1252(tmp_path, encoding):
    text = "Möte på socialkontoret, Åsa och Örjan närvarande.\nNästa steg: boende.\n"
    found = sniff(write(tmp_path, "t.txt", text.encode(encoding)), max_bytes=LIMIT)
    assert (found.media_type, found.label) == (TEXT, "Textfil")


def test_prose_libmagic_takes_for_code_is_still_text(tmp_path):
    # libmagic calls this "text/x-c" (the #include line): served as text/plain, it is just text.
    data = b"#include <stdio.h>\nint main(void) { return 0; }\n"
    assert sniff(write(tmp_path, "t.txt", data), max_bytes=LIMIT).media_type == TEXT


def test_docx(tmp_path):
    found = sniff(write(tmp_path, "plan.docx", make_docx()), max_bytes=LIMIT)
    assert (found.media_type, found.label, found.extension) == (DOCX, "Word-dokument (DOCX)", ".docx")


def test_docx_with_an_embedded_spreadsheet_is_fine(tmp_path):
    # Word embeds OOXML objects as .xlsx parts: ZIPs by content, never opened, not refused by name.
    data = make_docx(extra={"word/embeddings/Microsoft_Excel_Worksheet.xlsx": b"PK\x03\x04 not opened"})
    assert sniff(write(tmp_path, "plan.docx", data), max_bytes=LIMIT).media_type == DOCX


def test_odt(tmp_path):
    found = sniff(write(tmp_path, "plan.odt", make_odt()), max_bytes=LIMIT)
    assert (found.media_type, found.label) == (ODT, "OpenDocument-text (ODT)")


def test_a_file_object_is_read_from_its_start_and_left_where_it_was(tmp_path):
    stream = io.BytesIO(make_pdf(2))
    stream.seek(7)
    assert sniff(stream, max_bytes=LIMIT).page_count == 2
    assert stream.tell() == 7


def test_a_stream_that_cannot_seek_is_spooled(tmp_path):
    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, buffer):
            chunk = self._data.read(len(buffer))
            buffer[:len(chunk)] = chunk
            return len(chunk)

    assert sniff(Pipe(make_docx()), max_bytes=LIMIT).media_type == DOCX
    assert refused(Pipe(b"x" * 5000), max_bytes=1000).code == "too_large"


def test_the_same_content_has_the_same_hash(tmp_path):
    data = make_pdf(1)
    a = sniff(write(tmp_path, "a.pdf", data), max_bytes=LIMIT)
    b = sniff(io.BytesIO(data), max_bytes=LIMIT, claimed_name="other.pdf")
    c = sniff(write(tmp_path, "c.pdf", make_pdf(2)), max_bytes=LIMIT)
    assert a.sha256 == b.sha256 != c.sha256


# ------------------------------------------------------------------ refused


def test_empty_file(tmp_path):
    caught = refused(write(tmp_path, "tom.pdf", b""), claimed_name="tom.pdf")
    assert caught.code == "empty" and str(caught) == "Filen är tom."


def test_oversized_file_names_the_limit(tmp_path):
    caught = refused(write(tmp_path, "stor.txt", b"a" * (2 * MB + 1)), max_bytes=2 * MB)
    assert caught.code == "too_large"
    assert "2 MB" in str(caught)
    assert refused(write(tmp_path, "s.txt", b"a" * 1001), max_bytes=1000).code == "too_large"
    assert sniff(write(tmp_path, "ok.txt", b"a" * 1000), max_bytes=1000).size == 1000


def test_html_named_pdf_is_not_a_pdf(tmp_path):
    html = f"<!DOCTYPE html><html><body><script>alert(1)</script>{SECRET}</body></html>".encode()
    caught = refused(write(tmp_path, "beslut.pdf", html), claimed_name="beslut.pdf", claimed_type=PDF)
    assert caught.code == "not_a_pdf" and caught.media_type == "text/html"
    assert "PDF" in str(caught) and SECRET not in str(caught) and "beslut" not in str(caught)


def test_html_by_its_own_name_is_a_type_not_allowed(tmp_path):
    caught = refused(write(tmp_path, "sida.html", b"<html><body><p>hej</p></body></html>"))
    assert caught.code == "type_not_allowed"
    for label in ("PDF", "PNG-bild", "JPEG-bild", "Textfil", "Word-dokument (DOCX)", "OpenDocument-text (ODT)"):
        assert label in str(caught)


def test_the_browser_claim_alone_makes_a_refusal_say_not_a_pdf(tmp_path):
    assert refused(write(tmp_path, "x", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"), claimed_type=PDF).code == "not_a_pdf"


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_pdf(tmp_path, cut):
    data = make_pdf(3, info=INFO)
    assert refused(write(tmp_path, "t.pdf", data[:int(len(data) * cut)])).code == "not_a_pdf"


def test_garbage_behind_a_pdf_header(tmp_path):
    assert refused(write(tmp_path, "g.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")).code == "not_a_pdf"


def test_encrypted_pdf_is_refused_clearly(tmp_path):
    writer = PdfWriter()
    writer.append(io.BytesIO(make_pdf(1)))
    writer.encrypt("hemligt", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    caught = refused(write(tmp_path, "krypterad.pdf", buffer.getvalue()))
    assert caught.code == "encrypted" and "krypterad" in str(caught)


@pytest.mark.parametrize("name, data, detected", [
    ("bild.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00"
                 b"\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", "image/gif"),
    ("bild.svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
     "image/svg+xml"),
    ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200), "application/x-dosexec"),
    ("skript.sh", b"#!/bin/sh\nrm -rf /\n", "text/x-shellscript"),
    ("data.json", b'{"namn": "x", "lista": [1, 2, 3]}', "application/json"),
])
def test_other_types_are_not_allowed(tmp_path, name, data, detected):
    caught = refused(write(tmp_path, name, data), claimed_name=name)
    assert caught.code == "type_not_allowed" and caught.media_type == detected
    assert "Tillåtna typer: PDF" in str(caught)


def test_a_plain_zip_is_not_allowed(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("a.txt", "hej")
    assert refused(write(tmp_path, "arkiv.zip", buffer.getvalue())).code == "type_not_allowed"
    assert refused(write(tmp_path, "arkiv.pdf", buffer.getvalue()), claimed_name="arkiv.pdf").code == "not_a_pdf"


@pytest.mark.parametrize("main", [
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",  # an XLSX
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",  # a DOTX
])
def test_other_office_packages_are_not_docx(tmp_path, main):
    assert refused(write(tmp_path, "x.docx", make_docx(main=main))).code == "type_not_allowed"


@pytest.mark.parametrize("mimetype", ["application/vnd.oasis.opendocument.spreadsheet",
                                      "application/vnd.oasis.opendocument.text-template"])
def test_other_opendocument_types_are_not_odt(tmp_path, mimetype):
    assert refused(write(tmp_path, "x.odt", make_odt(mimetype=mimetype))).code == "type_not_allowed"


def test_bad_image(tmp_path):
    data = image_bytes("PNG", (300, 300))
    assert refused(write(tmp_path, "t.png", data[:len(data) // 2])).code == "bad_image"
    jpeg = image_bytes("JPEG", (300, 300))
    assert refused(write(tmp_path, "t.jpg", jpeg[:len(jpeg) // 2])).code == "bad_image"


def test_an_image_decompression_bomb_is_refused_from_its_header(tmp_path):
    caught = refused(write(tmp_path, "bomb.png", png_header_only(20_000, 20_000)))
    assert caught.code == "bad_image" and "megapixlar" in str(caught)
    huge = refused(write(tmp_path, "bomb2.png", png_header_only(100_000, 100_000)))  # past Pillow's own limit
    assert huge.code == "bad_image"


def test_text_with_a_nul_byte_past_the_sniffed_part(tmp_path):
    data = b"Vanlig text. " * 40_000 + b"\x00" + b"mer text"
    caught = refused(write(tmp_path, "t.txt", data))
    assert caught.code == "bad_text" and "UTF-8" in str(caught)


def test_text_that_is_neither_utf8_nor_windows_1252(tmp_path):
    # 0x81 and 0x8d are undefined in Windows-1252 and invalid UTF-8.
    assert refused(write(tmp_path, "t.txt", b"Protokoll \x81\x8d fr\xe5n m\xf6tet och mer text\n")).code == "bad_text"


def test_docx_zip_bomb_by_declared_size(tmp_path):
    data, crc = deflated_zeros(200)
    path = write(tmp_path, "bomb.docx", docx_with_document(data, 200 * MB, crc))
    assert path.stat().st_size < 300_000
    caught = refused(path, claimed_name="bomb.docx")
    assert caught.code == "zip_bomb" and "100 MB" in str(caught)


def test_docx_zip_bomb_by_ratio(tmp_path):
    data, crc = deflated_zeros(20)  # 20 MB within the total, but ~1000:1
    assert refused(write(tmp_path, "r.docx", docx_with_document(data, 20 * MB, crc))).code == "zip_bomb"


def test_docx_with_a_lying_header_is_caught_while_inflating(tmp_path):
    # Declares 1000 bytes (so below every declared limit) but inflates to 5 MB.
    data, crc = deflated_zeros(5)
    caught = refused(write(tmp_path, "lie.docx", docx_with_document(data, 1000, crc)))
    assert caught.code == "zip_bomb"


def test_docx_whose_crc_does_not_match_is_damaged(tmp_path):
    data, crc = deflated_zeros(1)
    assert refused(write(tmp_path, "crc.docx", docx_with_document(data, MB, crc ^ 1))).code == "bad_archive"


def test_docx_with_too_many_entries(tmp_path):
    extra = {f"word/media/p{i}.xml": b"<x/>" for i in range(inspect.MAX_ENTRIES)}
    assert refused(write(tmp_path, "many.docx", make_docx(extra=extra))).code == "zip_bomb"


def test_docx_with_macros(tmp_path):
    caught = refused(write(tmp_path, "m.docx", make_docx(extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"})))
    assert caught.code == "macros" and "makron" in str(caught)
    docm = make_docx(main="application/vnd.ms-word.document.macroEnabled.main+xml")
    assert refused(write(tmp_path, "m.docm", docm)).code == "macros"


def test_odt_with_basic_macros(tmp_path):
    data = make_odt(extra={"Basic/Standard/Module1.xml": b"<script/>"})
    assert refused(write(tmp_path, "m.odt", data)).code == "macros"


def test_docx_with_a_zip_inside(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("a.txt", "x")
    caught = refused(write(tmp_path, "n.docx", make_docx(extra={"word/embeddings/arkiv.zip": inner.getvalue()})))
    assert caught.code == "nested_archive"


def test_docx_with_a_program_inside(tmp_path):
    data = make_docx(extra={"word/embeddings/setup.exe": b"MZ" + bytes(100)})
    assert refused(write(tmp_path, "p.docx", data)).code == "embedded_program"


def test_damaged_and_ambiguous_archives(tmp_path):
    data = make_docx()
    assert refused(write(tmp_path, "cut.docx", data[:len(data) - 30])).code == "bad_archive"
    assert refused(write(tmp_path, "junk.docx", b"PK\x03\x04" + bytes(range(256)) * 4)).code == "bad_archive"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("[Content_Types].xml", CONTENT_TYPES % DOCX_MAIN)
        zf.writestr("word/document.xml", DOCUMENT_XML)
        zf.writestr("word/document.xml", "<other/>")
    assert refused(write(tmp_path, "dup.docx", buffer.getvalue())).code == "bad_archive"


@pytest.mark.parametrize("data, max_bytes, code", [
    (b"", LIMIT, "empty"),
    (SECRET.encode() * 100, 1000, "too_large"),
    (f"<html>{SECRET}</html>".encode(), LIMIT, "not_a_pdf"),
    (SECRET.encode() + b"\x00\x01\x02", LIMIT, "not_a_pdf"),
    (f"%PDF-1.7 {SECRET} %%EOF".encode(), LIMIT, "not_a_pdf"),
    (make_docx(extra={"word/vbaProject.bin": SECRET.encode()}), LIMIT, "macros"),
    (f"{SECRET} text".encode() + b"\x00" * 3, LIMIT, "not_a_pdf"),
])
def test_messages_carry_no_content_or_name(tmp_path, data, max_bytes, code):
    caught = refused(write(tmp_path, "f.pdf", data), max_bytes=max_bytes, claimed_name=f"{SECRET}.pdf")
    assert caught.code == code
    for shown in (str(caught), repr(caught), str(caught.args)):
        assert SECRET not in shown


# ------------------------------------------------------------------ names


@pytest.mark.parametrize("name, media_type, expected", [
    ("../../etc/passwd.pdf", PDF, "passwd.pdf"),
    ("C:\\Users\\anna\\Desktop\\samtycke.pdf", PDF, "samtycke.pdf"),
    ("rapport.exe", PDF, "rapport.pdf"),
    ("rapport", PDF, "rapport.pdf"),
    ("", PDF, "dokument.pdf"),
    (None, DOCX, "dokument.docx"),
    ("...", PDF, "dokument.pdf"),
    (".pdf", PDF, "dokument.pdf"),
    (".bashrc", TEXT, "bashrc.txt"),
    ("Beslut   om\tinsats.PDF", PDF, "Beslut om insats.pdf"),
    ("foto.JPEG", JPEG, "foto.jpeg"),
    ("foto.png", JPEG, "foto.jpg"),
    ("lista.csv", TEXT, "lista.csv"),
    ("plan v2.1", ODT, "plan v2.1.odt"),
    ("Åsa Öberg – hyresavtal.docx", DOCX, "Åsa Öberg – hyresavtal.docx"),
    ("A\u030asa.pdf", PDF, "Åsa.pdf"),  # macOS spells å as a + ring: one character after NFC
    ("fil\x00namn\x1b[31m.pdf", PDF, "filnamn[31m.pdf"),
    ("bild\u202egnp.exe", PNG, "bildgnp.png"),  # a right-to-left override hiding ".exe"
    ('a<b>c:d"e|f?g*h.txt', TEXT, "a_b_c_d_e_f_g_h.txt"),
    ("CON.pdf", PDF, "_CON.pdf"),
    ("lpt1", TEXT, "_lpt1.txt"),
    ("slut. . .", PDF, "slut.pdf"),
])
def test_clean_filename(name, media_type, expected):
    assert clean_filename(name, media_type) == expected


def test_clean_filename_is_at_most_120_characters():
    cleaned = clean_filename("ö" * 300 + ".pdf", PDF)
    assert len(cleaned) == 120 and cleaned.endswith("ö.pdf")
    assert "/" not in clean_filename("a/" * 100, PDF) and "\\" not in clean_filename("a\\" * 100, PDF)


# ------------------------------------------------------------------ PDF metadata


def test_pdf_metadata_reads_info_and_xmp(tmp_path):
    path = write(tmp_path, "m.pdf", make_pdf(1, info={**INFO, "Keywords": "samtycke, polis", "Subject": "Beslut"},
                                            xmp=True))
    found = pdf_metadata(path)
    assert {k: found[k] for k in ("Author", "Creator", "Producer", "Title", "Subject", "Keywords")} == {
        "Author": "Anna Andersson", "Creator": "Microsoft Word", "Producer": "SkanStation 9", "Title": "Samtycke",
        "Subject": "Beslut", "Keywords": "samtycke, polis"}
    assert found["XMP"] == "ja"
    assert all(isinstance(v, str) for v in found.values())


def test_pdf_metadata_of_something_else_is_refused(tmp_path):
    with pytest.raises(UploadRefused) as caught:
        pdf_metadata(write(tmp_path, "x.pdf", b"<html></html>"))
    assert caught.value.code == "not_a_pdf"


def test_strip_pdf_metadata_removes_info_and_xmp_and_keeps_the_text(tmp_path):
    src = write(tmp_path, "in.pdf", make_pdf(3, info=INFO, xmp=True, page_xmp=True))
    dst = tmp_path / "out.pdf"
    strip_pdf_metadata(src, dst)

    before, after = PdfReader(src), PdfReader(dst)
    assert before.metadata["/Author"] == "Anna Andersson" and before.xmp_metadata is not None
    assert after.metadata is None or not {"/Author", "/Creator", "/Producer", "/Title"} & set(after.metadata)
    assert after.xmp_metadata is None and "/Metadata" not in after.trailer["/Root"]
    assert all("/Metadata" not in page for page in after.pages)
    assert [p.extract_text() for p in after.pages] == [p.extract_text() for p in before.pages]
    assert "Sida 2 av samtycket" in after.pages[1].extract_text()
    raw = dst.read_bytes()
    assert b"Anna Andersson" not in raw and b"SkanStation" not in raw and b"xmpmeta" not in raw

    again = sniff(dst, max_bytes=LIMIT)
    assert again.page_count == 3 and again.metadata == {} and not again.has_metadata
    assert not list(tmp_path.glob("*.part"))


def test_strip_refuses_an_encrypted_pdf(tmp_path):
    writer = PdfWriter()
    writer.append(io.BytesIO(make_pdf(1)))
    writer.encrypt("x", algorithm="AES-128")
    with (tmp_path / "e.pdf").open("wb") as f:
        writer.write(f)
    with pytest.raises(UploadRefused) as caught:
        strip_pdf_metadata(tmp_path / "e.pdf", tmp_path / "out.pdf")
    assert caught.value.code == "encrypted" and not (tmp_path / "out.pdf").exists()


# ------------------------------------------------------------------ previews


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


def test_pdf_preview_renders_the_first_pages(tmp_path):
    previews = render_preview(write(tmp_path, "p.pdf", make_pdf(3)), PDF, pages=2, width=900)
    assert len(previews) == 2
    for data in previews:
        width, height = png_size(data)
        assert width == 900 and abs(height - round(900 * 842 / 595)) <= 2


def test_pdf_preview_of_one_page(tmp_path):
    previews = render_preview(write(tmp_path, "p.pdf", make_pdf(1)), PDF, width=300)
    assert len(previews) == 1 and png_size(previews[0])[0] == 300


def test_pdf_preview_runs_pdftoppm_without_a_shell_and_removes_its_directory(tmp_path, monkeypatch):
    seen = {}
    real_run = subprocess.run

    def spy(command, **kwargs):
        seen.update(command=command, **kwargs)
        return real_run(command, **kwargs)

    monkeypatch.setattr(inspect.subprocess, "run", spy)
    assert len(render_preview(write(tmp_path, "p.pdf", make_pdf(2)), PDF)) == 2
    assert isinstance(seen["command"], list) and not seen.get("shell")
    assert "pdftoppm" in " ".join(seen["command"]) and seen["timeout"] == inspect.PREVIEW_TIMEOUT
    assert {"-f", "1", "-l", "2", "-png"} <= set(seen["command"])
    assert not Path(seen["cwd"]).exists()


def test_pdf_preview_timeout_or_failure_gives_no_preview(tmp_path, monkeypatch):
    path = write(tmp_path, "p.pdf", make_pdf(1))
    directories = []

    def timeout(command, **kwargs):
        directories.append(kwargs["cwd"])
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(inspect.subprocess, "run", timeout)
    assert render_preview(path, PDF) == []
    assert directories and not Path(directories[0]).exists()
    monkeypatch.undo()
    assert render_preview(write(tmp_path, "bad.pdf", b"%PDF-1.7 nothing here"), PDF) == []
    assert render_preview(tmp_path / "missing.pdf", PDF) == []


def test_image_preview_is_downscaled_upright_png_without_metadata(tmp_path):
    image = Image.new("RGB", (1600, 1200), (10, 120, 200))
    exif = image.getexif()
    exif[0x013B] = SECRET  # Artist
    exif[0x0112] = 6  # Orientation: rotate 90° to show
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    assert SECRET.encode("utf-8") in buffer.getvalue() or b"Hemligt" in buffer.getvalue()

    [preview] = render_preview(write(tmp_path, "foto.jpg", buffer.getvalue()), JPEG, width=900)
    assert png_size(preview) == (900, 1200)  # upright 1200 × 1600, scaled to 900 wide
    assert b"Hemligt" not in preview and b"eXIf" not in preview and b"tEXt" not in preview
    with Image.open(io.BytesIO(preview)) as shown:
        assert shown.format == "PNG" and not shown.getexif() and "exif" not in shown.info


def test_image_preview_never_upscales_and_keeps_transparency(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGBA", (120, 80), (0, 0, 0, 0)).save(buffer, format="PNG")
    [preview] = render_preview(write(tmp_path, "liten.png", buffer.getvalue()), PNG)
    assert png_size(preview) == (120, 80)
    with Image.open(io.BytesIO(preview)) as shown:
        assert shown.mode == "RGBA"


def test_no_preview_for_other_types_or_broken_images(tmp_path):
    assert render_preview(write(tmp_path, "d.docx", make_docx()), DOCX) == []
    assert render_preview(write(tmp_path, "t.txt", b"hej"), TEXT) == []
    assert render_preview(write(tmp_path, "b.png", png_header_only(20_000, 20_000)), PNG) == []
    assert render_preview(write(tmp_path, "c.png", b"\x89PNG\r\n\x1a\nbroken"), PNG) == []


def test_a_truncated_image_is_refused_even_once_weasyprint_lets_pillow_load_truncated_images(tmp_path, monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # what importing WeasyPrint does
    data = image_bytes("PNG", (300, 300))
    assert refused(write(tmp_path, "t.png", data[:len(data) // 2])).code == "bad_image"
    jpeg = image_bytes("JPEG", (300, 300))
    assert refused(write(tmp_path, "t.jpg", jpeg[:len(jpeg) // 2])).code == "bad_image"
