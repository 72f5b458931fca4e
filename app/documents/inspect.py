"""What an uploaded file really is, before anything is stored: type from the content, structural checks, names,
PDF metadata and server-rendered previews.

Pure: no database, no request. The type is decided from the bytes (libmagic through python-magic, then a
structural check per type), never from the file name or the browser's claim; those only choose the wording of a
refusal ("named like a PDF but it is not one"). A refusal is an ``UploadRefused`` with a stable ``code`` and a
Swedish message that never repeats the file's name or content, so ``str(exc)`` can be shown next to the file.

Checks per type:

- PDF: starts with ``%PDF-``, ends with ``%%EOF`` (in its last KiB) and parses with pypdf with at least one page.
  Encrypted PDFs are refused: they cannot be checked, stripped or previewed.
- PNG/JPEG: Pillow opens it as that format, at most ``MAX_IMAGE_PIXELS`` pixels (checked from the header before
  any decoding), ``verify()`` and a full decode (JPEG in draft mode, a fraction of the memory).
- Plain text: UTF-8 (or Windows-1252) with no NUL byte anywhere.
- DOCX/ODT are ZIP archives, read in place and never extracted to disk: the end-of-central-directory record is
  read first (entry count and directory size, before zipfile builds its index), then the declared sizes (total,
  per-entry ratio), then every entry is stream-decompressed with running caps so that a lying header is caught
  (zipfile stops at the declared size and the CRC then fails). DOCX needs the WordprocessingML main part in
  ``[Content_Types].xml``; ODT a ``mimetype`` entry equal to the ODT type. Macros (``vbaProject.bin``, a
  macro-enabled content type, ODT ``Basic/`` or ``Scripts/``), archives and programs inside are refused; nested
  archives are never opened.

Previews are PNG bytes: pdftoppm (poppler-utils) in a temporary directory, without a shell, with a timeout and
resource limits; images through Pillow, downscaled, re-encoded with no metadata. A failing preview is ``[]``.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unicodedata
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, BinaryIO, Iterator

import magic
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject

log = logging.getLogger(__name__)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"

#: The allowed media types and their Swedish labels (lazy: translated when shown).
ALLOWED: dict[str, object] = {
    PDF: _l("PDF"),
    PNG: _l("PNG-bild"),
    JPEG: _l("JPEG-bild"),
    TEXT: _l("Textfil"),
    DOCX: _l("Word-dokument (DOCX)"),
    ODT: _l("OpenDocument-text (ODT)"),
}

#: The extension a cleaned name gets for each type (the first), and the others kept as the user wrote them.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: (".pdf",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
    TEXT: (".txt", ".csv"),
    DOCX: (".docx",),
    ODT: (".odt",),
}

MiB = 1024 * 1024

# ---- limits
#: Bytes given to libmagic (enough for its text and OOXML rules; the structural checks read the rest).
SNIFF_BYTES = 256 * 1024
#: Sum of the uncompressed sizes in a DOCX/ODT, declared and actually decompressed.
MAX_UNCOMPRESSED = 100 * MiB
#: Entries in a DOCX/ODT (a long letter has ~30, a report with many images a few hundred).
MAX_ENTRIES = 2000
#: Size of the ZIP central directory (2000 entries with 2 KiB names and extras would fit).
MAX_CENTRAL_DIRECTORY = 4 * MiB
#: Uncompressed/compressed ratio of one entry; only entries above RATIO_FLOOR are judged (a few KiB of
#: repetitive XML can legitimately compress better than 100:1, and their total is bounded anyway).
MAX_RATIO = 100
RATIO_FLOOR = 1 * MiB
#: What is read of [Content_Types].xml and of the ODT mimetype entry.
MAX_MANIFEST = 1 * MiB
#: Pixels of a PNG/JPEG (width × height): an A4 scan at 600 dpi is 35 M, a 48 MP phone photo fits.
MAX_IMAGE_PIXELS = 50_000_000
#: pdftoppm: wall-clock timeout, CPU seconds and address space.
PREVIEW_TIMEOUT = 20
PREVIEW_CPU_SECONDS = 20
PREVIEW_MEMORY = 1024 * MiB
#: A preview page is at most this many times as tall as it is wide (the rest is cut off).
PREVIEW_MAX_ASPECT = 3
MAX_FILENAME = 120
#: Longest metadata value kept for display.
MAX_METADATA_VALUE = 500

_READ_CHUNK = 64 * 1024

#: libmagic's guesses for ordinary prose that happens to contain programming keywords ("text/x-c" for a
#: letter with "#include"-like lines, "text/x-algol68" for Swedish prose with "begin"/"end"): accepted as text.
#: Markup and scripts (text/html, text/xml, image/svg+xml, text/x-shellscript, text/x-python, ...) are not.
_TEXT_GUESSES = frozenset({
    "text/plain", "text/csv", "text/x-c", "text/x-c++", "text/x-algol68", "text/x-pascal", "text/x-fortran",
    "text/x-asm", "text/x-java", "text/x-makefile", "text/x-diff", "text/x-tex", "text/x-bibtex",
})

#: Names inside a DOCX/ODT that are refused: archives (never opened) and programs.
_ARCHIVE_SUFFIXES = (".zip", ".7z", ".rar", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".zst", ".cab", ".arj", ".lzh",
                     ".iso")
_PROGRAM_SUFFIXES = (".exe", ".dll", ".com", ".scr", ".bat", ".cmd", ".msi", ".ps1", ".vbs", ".vbe", ".js", ".jse",
                     ".wsf", ".hta", ".jar", ".lnk", ".sh", ".elf", ".so", ".dylib", ".app")

_DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                               *(f"LPT{i}" for i in range(10)), "CONIN$", "CONOUT$"})
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')


# ------------------------------------------------------------------ results and refusals


class _AllowedList:
    """The allowed types' labels, joined when the message is shown (so in the reader's language)."""

    def __str__(self) -> str:
        return ", ".join(str(label) for label in ALLOWED.values())


class UploadRefused(ValueError):
    """A file that is not taken. ``code`` is stable (for tests, logs and the UI); ``str(exc)`` is the message.

    The message never contains the file's name or content. ``media_type`` is what the content was detected
    as, when known (a type, never content).
    """

    def __init__(self, code: str, message, *, media_type: str | None = None):
        super().__init__(code)
        self.code = code
        self.message = message
        self.media_type = media_type

    def __str__(self) -> str:
        return str(self.message)

    def __repr__(self) -> str:
        return f"UploadRefused({self.code!r})"


@dataclass(frozen=True)
class Inspection:
    """What a file was found to be. ``metadata`` is the PDF's document information for display (empty
    otherwise); ``has_metadata`` says whether there is any to strip; ``signed`` that the PDF has a digital
    signature field (stripping the metadata rewrites the file and breaks the signature)."""

    media_type: str
    label: str
    size: int
    sha256: str
    is_pdf: bool = False
    page_count: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    has_metadata: bool = False
    signed: bool = False

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.media_type][0]


def _refuse(code: str, message, media_type: str | None = None) -> UploadRefused:
    return UploadRefused(code, message, media_type=media_type)


def _not_allowed(media_type: str | None = None) -> UploadRefused:
    return _refuse("type_not_allowed", _l("Filtypen är inte tillåten. Tillåtna typer: %(types)s.",
                                          types=_AllowedList()), media_type)


def _not_a_pdf(media_type: str | None = None) -> UploadRefused:
    return _refuse("not_a_pdf", _l("Filen är inte en giltig PDF: den kan vara skadad, avkortad eller av en annan "
                                   "typ än namnet säger."), media_type)


def _encrypted_pdf() -> UploadRefused:
    return _refuse("encrypted", _l("PDF:en är krypterad eller lösenordsskyddad och kan varken granskas eller "
                                   "förhandsvisas. Ta bort skyddet och ladda upp den igen."), PDF)


def _bad_archive(media_type: str | None = None) -> UploadRefused:
    return _refuse("bad_archive", _l("Dokumentet är skadat och kan inte läsas."), media_type)


def _zip_bomb(media_type: str | None = None) -> UploadRefused:
    return _refuse("zip_bomb", _l("Dokumentet packas upp till mer än tillåtet (högst %(mb)d MB, %(entries)d delar "
                                  "och %(ratio)d gånger packad storlek per del) och tas inte emot.",
                                  mb=MAX_UNCOMPRESSED // MiB, entries=MAX_ENTRIES, ratio=MAX_RATIO), media_type)


# ------------------------------------------------------------------ reading the input


@contextmanager
def _opened(source, max_bytes: int) -> Iterator[tuple[BinaryIO, int]]:
    """The content as a seekable binary file from its start, and its size.

    A path is opened; a seekable file object is used in place (from its start, and put back where it was);
    anything else is spooled, at most ``max_bytes + 1`` bytes (enough to know it is too large).
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            yield f, os.fstat(f.fileno()).st_size
        return
    seekable = False
    try:
        seekable = source.seekable()
    except (AttributeError, ValueError, OSError):
        seekable = False
    if seekable:
        position = source.tell()
        try:
            size = source.seek(0, io.SEEK_END)
            source.seek(0)
            yield source, size
        finally:
            source.seek(position)
        return
    with tempfile.SpooledTemporaryFile(max_size=8 * MiB) as spool:
        size = 0
        while size <= max_bytes:
            chunk = source.read(min(_READ_CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        yield spool, size


def _read_at(f: BinaryIO, offset: int, length: int) -> bytes:
    f.seek(offset)
    return f.read(length)


def _sha256(f: BinaryIO) -> str:
    digest = hashlib.sha256()
    f.seek(0)
    while chunk := f.read(_READ_CHUNK * 4):
        digest.update(chunk)
    f.seek(0)
    return digest.hexdigest()


def _claims_pdf(claimed_name: str | None, claimed_type: str | None) -> bool:
    name = (claimed_name or "").strip().lower()
    return name.endswith(".pdf") or (claimed_type or "").split(";")[0].strip().lower() == PDF


# ------------------------------------------------------------------ sniff


def sniff(path_or_file, *, max_bytes: int, claimed_name: str | None = None,
          claimed_type: str | None = None) -> Inspection:
    """Inspect a file and say what it is, or raise ``UploadRefused``.

    ``path_or_file`` is a path or a binary file object (read from its start; a seekable one is left where it
    was). The type comes from the content only: ``claimed_name`` and ``claimed_type`` (the browser's) only
    decide whether a refusal says "not a PDF" (the name or claim said PDF) rather than "type not allowed".
    """
    with _opened(path_or_file, max_bytes) as (f, size):
        if size == 0:
            raise _refuse("empty", _l("Filen är tom."))
        if size > max_bytes:
            raise _refuse("too_large", _l("Filen är större än gränsen på %(mb)s MB.", mb=_megabytes(max_bytes)))
        head = _read_at(f, 0, SNIFF_BYTES)
        detected = _libmagic(head)

        try:
            if head.startswith(b"%PDF-"):
                inspection = _inspect_pdf(f, size)
            elif head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
                inspection = _inspect_zip(f, size)
            elif detected in (PNG, JPEG):
                inspection = _inspect_image(f, size, detected)
            elif detected in _TEXT_GUESSES:
                inspection = _inspect_text(f, size)
            elif detected == PDF:
                raise _not_a_pdf(detected)
            else:
                raise _not_allowed(detected)
        except UploadRefused as refused:
            if refused.code in ("type_not_allowed", "bad_text") and _claims_pdf(claimed_name, claimed_type):
                raise _not_a_pdf(refused.media_type) from None
            raise
        return _with_hash(inspection, _sha256(f))


def _with_hash(inspection: Inspection, sha256: str) -> Inspection:
    return Inspection(**{**inspection.__dict__, "sha256": sha256})


def _megabytes(n: int) -> str:
    mb = n / MiB
    return f"{mb:.0f}" if mb >= 10 or mb == int(mb) else f"{mb:.1f}".replace(".", ",")


def _libmagic(head: bytes) -> str:
    try:
        return (magic.from_buffer(head, mime=True) or "application/octet-stream").lower()
    except Exception:  # noqa: BLE001 - libmagic failing on odd input is "unknown", never a crash
        log.warning("libmagic could not classify an upload")
        return "application/octet-stream"


def _inspection(media_type: str, size: int, **kwargs) -> Inspection:
    return Inspection(media_type=media_type, label=str(ALLOWED[media_type]), size=size, sha256="", **kwargs)


# ------------------------------------------------------------------ PDF


def _open_pdf(f: BinaryIO, size: int) -> PdfReader:
    """A parsed, unencrypted PDF with at least one page, or ``not_a_pdf`` / ``encrypted``."""
    if not _read_at(f, 0, 5) == b"%PDF-" or b"%%EOF" not in _read_at(f, max(0, size - 1024), 1024):
        raise _not_a_pdf()
    f.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(f, strict=False)
            if reader.is_encrypted:
                raise _encrypted_pdf()
            if len(reader.pages) < 1:
                raise _not_a_pdf(PDF)
    except UploadRefused:
        raise
    except Exception:  # noqa: BLE001 - pypdf raises many kinds (PdfReadError, KeyError, RecursionError, ...)
        raise _not_a_pdf() from None
    return reader


def _inspect_pdf(f: BinaryIO, size: int) -> Inspection:
    reader = _open_pdf(f, size)
    try:
        page_count = len(reader.pages)
        metadata = _metadata_of(reader)
        signed = _is_signed(reader)
    except Exception:  # noqa: BLE001
        raise _not_a_pdf(PDF) from None
    return _inspection(PDF, size, is_pdf=True, page_count=page_count, metadata=metadata,
                       has_metadata=bool(metadata), signed=signed)


def _display(value) -> str:
    """A metadata value as a plain, printable, bounded string."""
    try:
        value = value.get_object()
    except AttributeError:
        pass
    if isinstance(value, (list, tuple, ArrayObject)):
        text = "; ".join(_display(v) for v in value)
    else:
        text = str(value)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = " ".join(text.split())
    return text[:MAX_METADATA_VALUE]


_PDF_DATE = re.compile(r"^D?:?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+\-])?(\d{2})?'?(\d{2})?'?")


def _pdf_date(raw: str) -> str:
    """``D:20240131120000+01'00'`` → ``2024-01-31 12:00:00 +01:00``; anything else as it was."""
    found = _PDF_DATE.match(raw.strip())
    if not found:
        return raw
    year, month, day, hour, minute, second, sign, tzh, tzm = found.groups()
    try:
        moment = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                          int(second or 0))
    except ValueError:
        return raw
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if sign in ("Z", "z"):
        text += " UTC"
    elif sign and tzh:
        text += f" {sign}{tzh}:{tzm or '00'}"
    return text


def _metadata_of(reader: PdfReader) -> dict[str, str]:
    found: dict[str, str] = {}
    info = reader.trailer.get("/Info")
    info = info.get_object() if info is not None else None
    if isinstance(info, DictionaryObject):
        for key, value in info.items():
            name = _display(str(key).lstrip("/"))[:60]
            text = _display(value)
            if not name or not text:
                continue
            found[name] = _pdf_date(text) if name in ("CreationDate", "ModDate") else text
    root = reader.trailer.get("/Root")
    root = root.get_object() if root is not None else None
    if isinstance(root, DictionaryObject) and root.get("/Metadata") is not None:
        found["XMP"] = str(_l("ja"))
        found.update(_xmp_fields(reader))
    return found


def _xmp_fields(reader: PdfReader) -> dict[str, str]:
    """The XMP fields that name people or tools, when the XMP parses (its absence is no error)."""
    out: dict[str, str] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xmp = reader.xmp_metadata
            if xmp is None:
                return out
            for name, value in (("XMP dc:creator", xmp.dc_creator), ("XMP xmp:CreatorTool", xmp.xmp_creator_tool),
                                ("XMP pdf:Producer", xmp.pdf_producer), ("XMP dc:title", xmp.dc_title)):
                if isinstance(value, dict):
                    value = list(value.values())
                text = _display(value) if value else ""
                if text:
                    out[name] = text
    except Exception:  # noqa: BLE001 - broken XMP is still XMP: "XMP: ja" is shown and it is stripped
        pass
    return out


def _is_signed(reader: PdfReader) -> bool:
    root = reader.trailer["/Root"].get_object()
    form = root.get("/AcroForm")
    form = form.get_object() if form is not None else None
    if not isinstance(form, DictionaryObject):
        return False
    try:
        if int(form.get("/SigFlags", 0)) & 1:
            return True
    except (TypeError, ValueError):
        pass
    fields = form.get("/Fields")
    fields = fields.get_object() if fields is not None else []
    for ref in list(fields)[:1000]:
        try:
            if ref.get_object().get("/FT") == "/Sig":
                return True
        except AttributeError:
            continue
    return False


@contextmanager
def _pdf_reader(path_or_file) -> Iterator[PdfReader]:
    with _opened(path_or_file, max_bytes=1 << 62) as (f, size):
        yield _open_pdf(f, size)


def pdf_metadata(path_or_file) -> dict[str, str]:
    """The PDF's document information (Author, Creator, Producer, Title, Subject, Keywords, CreationDate,
    ModDate and any other entry) as display strings, plus ``XMP: ja`` and the XMP's creator fields when an XMP
    stream is present. Empty when there is none. Raises ``UploadRefused`` for a non-PDF or an encrypted one."""
    with _pdf_reader(path_or_file) as reader:
        try:
            return _metadata_of(reader)
        except Exception:  # noqa: BLE001
            raise _not_a_pdf(PDF) from None


#: Keys removed from every dictionary of the rewritten PDF: XMP streams (catalog, pages, images, fonts) and
#: application private data (which often carries the author's name and the original file's path).
_STRIPPED_KEYS = ("/Metadata", "/PieceInfo")


def strip_pdf_metadata(src_path, dst_path) -> None:
    """Rewrite the PDF at ``src_path`` into ``dst_path`` without the document information and without XMP.

    The pages are copied into a new document, so what only the old catalog held goes too: outlines, named
    destinations, embedded files, document JavaScript and the form's field tree (filled-in values stay
    visible through their appearance on the page). A digital signature no longer verifies afterwards.
    """
    with _pdf_reader(src_path) as reader:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                writer = PdfWriter()
                for page in reader.pages:
                    writer.add_page(page)
                writer.metadata = None
                for obj in list(writer._objects):  # noqa: SLF001 - pypdf has no public iterator over objects
                    if isinstance(obj, DictionaryObject):
                        for key in _STRIPPED_KEYS:
                            obj.pop(key, None)
                writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
                tmp = Path(f"{dst_path}.part")
                try:
                    with open(tmp, "wb") as out:
                        writer.write(out)
                    os.replace(tmp, dst_path)
                finally:
                    tmp.unlink(missing_ok=True)
        except UploadRefused:
            raise
        except OSError:
            raise
        except Exception:  # noqa: BLE001
            raise _not_a_pdf(PDF) from None


# ------------------------------------------------------------------ images


def _image_too_large() -> UploadRefused:
    return _refuse("bad_image", _l("Bilden är för stor: högst %(mp)d megapixlar.",
                                   mp=MAX_IMAGE_PIXELS // 1_000_000))


def _bad_image(media_type: str) -> UploadRefused:
    return _refuse("bad_image", _l("Bilden är skadad eller avkortad och kan inte läsas."), media_type)


_PIL_FORMATS = {PNG: {"PNG"}, JPEG: {"JPEG", "MPO"}}


@contextmanager
def _checked_image(f: IO[bytes], media_type: str) -> Iterator[Image.Image]:
    """Pillow's image, of the expected format and within the pixel limit (nothing decoded yet)."""
    f.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(f, formats=sorted(_PIL_FORMATS[media_type])) as image:
                width, height = image.size
                if width <= 0 or height <= 0:
                    raise _bad_image(media_type)
                if width * height > MAX_IMAGE_PIXELS:
                    raise _image_too_large()
                yield image
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _image_too_large() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error, zlib.error, EOFError,
            IndexError, KeyError, TypeError, MemoryError):
        raise _bad_image(media_type) from None


#: The last bytes of a whole image: PNG's IEND chunk (with its CRC); JPEG's end-of-image marker.
_PNG_END = b"IEND\xaeB`\x82"
_JPEG_END = b"\xff\xd9"


def _inspect_image(f: BinaryIO, size: int, media_type: str) -> Inspection:
    # Pillow decodes a truncated image without complaint once ImageFile.LOAD_TRUNCATED_IMAGES is set, and
    # WeasyPrint sets it when it is imported (for the PDFs): so the file's end is checked here, by its bytes.
    f.seek(max(0, size - 1024))
    tail = f.read(1024)
    if (media_type == PNG and not tail.endswith(_PNG_END)) or (media_type == JPEG and _JPEG_END not in tail):
        raise _bad_image(media_type)
    with _checked_image(f, media_type) as image:
        image.verify()
    with _checked_image(f, media_type) as image:
        if media_type == JPEG:
            image.draft("RGB", (max(1, image.size[0] // 8), max(1, image.size[1] // 8)))
        image.load()
    return _inspection(media_type, size)


# ------------------------------------------------------------------ text


def _bad_text() -> UploadRefused:
    return _refuse("bad_text", _l("Textfilen kan inte läsas som text: spara den som UTF-8 och försök igen."), TEXT)


def _inspect_text(f: BinaryIO, size: int) -> Inspection:
    for encoding in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        f.seek(0)
        try:
            while chunk := f.read(_READ_CHUNK):
                if b"\x00" in chunk:
                    raise _bad_text()
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return _inspection(TEXT, size)
    raise _bad_text()


# ------------------------------------------------------------------ DOCX / ODT


def _central_directory(f: BinaryIO, size: int) -> tuple[int, int]:
    """(entries, central directory size) from the end record (ZIP64 if it says so), before zipfile's index."""
    tail_start = max(0, size - (65535 + 22))
    tail = _read_at(f, tail_start, size - tail_start)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _bad_archive()
    _sig, _disk, _cd_disk, _n_disk, entries, cd_size, _cd_offset, _comment = struct.unpack(
        "<4s4H2LH", tail[at:at + 22])
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:
        locator = tail[at - 20:at] if at >= 20 else b""
        if not locator.startswith(b"PK\x06\x07"):
            raise _bad_archive()
        (offset,) = struct.unpack("<Q", locator[8:16])
        record = _read_at(f, offset, 56)
        if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
            raise _bad_archive()
        entries, cd_size = struct.unpack("<2Q", record[32:48])
    return entries, cd_size


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    with zf.open(info) as entry:
        data = entry.read(cap + 1)
    if len(data) > cap:
        raise _bad_archive()
    return data


def _zip_kind(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> str:
    """DOCX or ODT from the package's own declaration, or ``type_not_allowed`` / ``macros``."""
    if "[Content_Types].xml" in infos:
        types = _read_capped(zf, infos["[Content_Types].xml"], MAX_MANIFEST)
        if b"macroenabled" in types.lower():
            raise _macros()
        if _DOCX_MAIN in types:
            return DOCX
        raise _not_allowed("application/zip")
    if "mimetype" in infos:
        declared = _read_capped(zf, infos["mimetype"], 256).strip()
        if declared == ODT.encode():
            return ODT
    raise _not_allowed("application/zip")


def _macros() -> UploadRefused:
    return _refuse("macros", _l("Dokument med makron tas inte emot. Spara det utan makron (som DOCX eller ODT) "
                                "och ladda upp det igen."))


def _check_entry_names(infos: list[zipfile.ZipInfo], media_type: str) -> None:
    for info in infos:
        name = info.filename.replace("\\", "/").lower()
        base = name.rsplit("/", 1)[-1]
        if base in ("vbaproject.bin", "vbadata.xml") or (
                media_type == ODT and (name.startswith("basic/") or name.startswith("scripts/"))):
            raise _macros()
        if base.endswith(_ARCHIVE_SUFFIXES):
            raise _refuse("nested_archive", _l("Dokumentet innehåller ett packat arkiv och tas inte emot."),
                          media_type)
        if base.endswith(_PROGRAM_SUFFIXES):
            raise _refuse("embedded_program", _l("Dokumentet innehåller ett program eller skript och tas inte "
                                                 "emot."), media_type)


def _inspect_zip(f: BinaryIO, size: int) -> Inspection:
    entries, cd_size = _central_directory(f, size)
    if entries > MAX_ENTRIES or cd_size > MAX_CENTRAL_DIRECTORY:
        raise _zip_bomb()
    f.seek(0)
    try:
        with zipfile.ZipFile(f) as zf:
            infos = zf.infolist()
            names = [info.filename for info in infos]
            if len(infos) > MAX_ENTRIES:
                raise _zip_bomb()
            if len(set(names)) != len(names):
                raise _bad_archive()  # two entries with one name: readers disagree on which is the document
            if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
                raise _zip_bomb()
            for info in infos:
                if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                    raise _zip_bomb()
                if info.flag_bits & 0x1:
                    raise _refuse("encrypted", _l("Dokumentet är lösenordsskyddat och kan inte granskas. Ta bort "
                                                  "skyddet och ladda upp det igen."))
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise _bad_archive()
            media_type = _zip_kind(zf, {info.filename: info for info in infos})
            _check_entry_names(infos, media_type)
            _decompress_all(f, infos, media_type)
    except UploadRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError, struct.error, KeyError):
        raise _bad_archive() from None
    return _inspection(media_type, size)


def _decompress_all(f: BinaryIO, infos: list[zipfile.ZipInfo], media_type: str) -> None:
    """Decompress every entry into nothing, from its raw bytes and with running caps, trusting no header.

    zipfile's own reader stops at the declared size, so a header that understates it would pass there while
    Word inflates the whole stream: here the stream is inflated to its end, and more output than declared is
    a zip bomb; less, a broken stream or a wrong CRC, a damaged archive.
    """
    total = 0
    for info in infos:
        if info.is_dir() and info.compress_size == 0:
            continue
        produced, crc = 0, 0
        for piece in _inflate(f, info):
            produced += len(piece)
            total += len(piece)
            crc = zlib.crc32(piece, crc)
            if produced > info.file_size or total > MAX_UNCOMPRESSED or (
                    produced > RATIO_FLOOR and produced > MAX_RATIO * max(info.compress_size, 1)):
                raise _zip_bomb(media_type)
        if produced != info.file_size or crc != info.CRC:
            raise _bad_archive(media_type)


def _inflate(f: BinaryIO, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The entry's uncompressed bytes in pieces of at most 64 KiB, from the raw data after its local header."""
    header = _read_at(f, info.header_offset, 30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _bad_archive()
    name_length, extra_length = struct.unpack("<2H", header[26:30])
    f.seek(info.header_offset + 30 + name_length + extra_length)
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    remaining = info.compress_size
    while remaining > 0:
        raw = f.read(min(_READ_CHUNK, remaining))
        if not raw:
            raise _bad_archive()
        remaining -= len(raw)
        if inflater is None:
            yield raw
            continue
        while raw:
            piece = inflater.decompress(raw, _READ_CHUNK)
            if piece:
                yield piece
            raw = inflater.unconsumed_tail
            if inflater.eof:
                break
    if inflater is not None:
        while not inflater.eof:
            piece = inflater.decompress(b"", _READ_CHUNK)
            if not piece:
                raise _bad_archive()  # the deflate stream ends before its end marker
            yield piece


# ------------------------------------------------------------------ names


def _name_char(ch: str) -> str:
    if ch.isspace():
        return " "
    category = unicodedata.category(ch)[0]
    return "" if category == "C" else " " if category == "Z" else ch


def clean_filename(name: str | None, media_type: str) -> str:
    """A display name for a file, never a path: the last part after any ``/`` or ``\\``, without control or
    format characters (bidi overrides included), leading dots, Windows-forbidden characters or reserved
    names, whitespace collapsed, at most 120 characters, and the extension of the detected type ("photo.jpeg"
    keeps ".jpeg", "rapport.exe" detected as PDF becomes "rapport.pdf"); "dokument.<ext>" when nothing is
    left."""
    extensions = EXTENSIONS.get(media_type, ("",))
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(_name_char(ch) for ch in text)
    text = _WINDOWS_FORBIDDEN.sub("_", text)
    text = " ".join(text.split())
    stem, dot, suffix = text.rpartition(".")
    if not dot:
        stem, suffix = text, ""
    extension = extensions[0]
    if suffix and ("." + suffix.lower()) in extensions:
        extension = "." + suffix.lower()
    elif suffix and not (len(suffix) <= 5 and suffix.isalnum() and any(c.isalpha() for c in suffix)):
        stem = f"{stem}.{suffix}"  # "plan v2.1": the ".1" is no extension
    stem = stem.lstrip(". ").rstrip(". ")
    if not stem:
        stem = "dokument"
    if stem.split(".")[0].strip().upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    stem = stem[:MAX_FILENAME - len(extension)].rstrip(". ")
    return (stem or "dokument") + extension


# ------------------------------------------------------------------ previews


def render_preview(path, media_type: str, *, pages: int = 2, width: int = 900) -> list[bytes]:
    """PNG bytes of the first ``pages`` pages of a PDF (pdftoppm) or of an image (Pillow), ``width`` pixels
    wide at most; ``[]`` for other types and whenever rendering fails or times out. Nothing in the document
    is run; the images carry no metadata."""
    width = max(16, min(int(width), 4000))
    pages = max(1, min(int(pages), 20))
    try:
        if media_type == PDF:
            return _pdf_preview(Path(path), pages, width)
        if media_type in (PNG, JPEG):
            return _image_preview(Path(path), media_type, width)
    except Exception as exc:  # noqa: BLE001 - a preview is optional: never an error page
        log.warning("preview failed (%s)", type(exc).__name__)
    return []


def _pdf_preview(path: Path, pages: int, width: int) -> list[bytes]:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        log.warning("pdftoppm not found: no PDF previews (install poppler-utils)")
        return []
    with open(path, "rb") as f:
        if f.read(5) != b"%PDF-":
            return []
    with tempfile.TemporaryDirectory(prefix="lots-preview-") as out:
        command = [pdftoppm, "-q", "-png", "-cropbox", "-f", "1", "-l", str(pages),
                   "-scale-to-x", str(width), "-scale-to-y", "-1",
                   "-x", "0", "-y", "0", "-W", str(width), "-H", str(width * PREVIEW_MAX_ASPECT),
                   "--", str(Path(path).resolve()), os.path.join(out, "page")]
        prlimit = shutil.which("prlimit")
        if prlimit:
            command = [prlimit, f"--as={PREVIEW_MEMORY}", f"--cpu={PREVIEW_CPU_SECONDS}", "--", *command]
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", out)}
        if "XDG_CACHE_HOME" in os.environ:
            env["XDG_CACHE_HOME"] = os.environ["XDG_CACHE_HOME"]
        try:
            done = subprocess.run(command, cwd=out, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=PREVIEW_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            log.warning("pdftoppm timed out after %ss", PREVIEW_TIMEOUT)
            return []
        if done.returncode != 0:
            log.warning("pdftoppm failed (exit %s)", done.returncode)
            return []
        numbered = []
        for name in os.listdir(out):
            found = re.fullmatch(r"page-(\d+)\.png", name)
            if found:
                numbered.append((int(found.group(1)), name))
        images = []
        for _number, name in sorted(numbered)[:pages]:
            data = Path(out, name).read_bytes()
            if data.startswith(b"\x89PNG\r\n\x1a\n"):
                images.append(data)
        return images


def _image_preview(path: Path, media_type: str, width: int) -> list[bytes]:
    with open(path, "rb") as f, _checked_image(f, media_type) as image:
        if media_type == JPEG:
            image.draft("RGB", (width, width))
        image.load()
        upright = ImageOps.exif_transpose(image)
        has_alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
        clean = upright.convert("RGBA" if has_alpha else "RGB")
        clean.thumbnail((width, width * PREVIEW_MAX_ASPECT), Image.Resampling.LANCZOS)
        clean.info = {}
        buffer = io.BytesIO()
        clean.save(buffer, format="PNG")
        return [buffer.getvalue()]
