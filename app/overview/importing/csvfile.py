"""Reading an uploaded CSV file: encoding, delimiter and which column is which.

Exports from other reporting systems differ: UTF-8 with or without a byte
order mark or Windows-1252 (Excel on Swedish Windows), ``;`` or ``,``, Swedish
or English headers. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Iterator

from flask_babel import lazy_gettext as _l

from app.overview.service import ReportError

#: The fields an import understands, in the order the preview lists them.
FIELDS = ("external_id", "occurred_at", "date", "time", "occurred_until", "area", "category", "setting",
          "place", "latitude", "longitude", "description")

FIELD_LABELS = {
    "external_id": _l("Externt id"),
    "occurred_at": _l("Tidpunkt"),
    "date": _l("Datum"),
    "time": _l("Klockslag"),
    "occurred_until": _l("Tidpunkt till"),
    "area": _l("Område"),
    "category": _l("Kategori"),
    "setting": _l("Miljö"),
    "place": _l("Plats"),
    "latitude": _l("Latitud"),
    "longitude": _l("Longitud"),
    "description": _l("Beskrivning"),
}

#: Normalised header → field. Swedish and English; "id" loses to an explicit external id column.
HEADER_ALIASES = {
    "occurred_at": ["datum/tid", "datum och tid", "tidpunkt", "händelsetid", "starttid", "tid från", "från",
                    "occurred at", "occurred", "date/time", "datetime", "timestamp", "when", "start", "start time"],
    "date": ["datum", "händelsedatum", "date"],
    "time": ["tid", "klockslag", "kl", "time"],
    "occurred_until": ["till", "tid till", "sluttid", "tidpunkt till", "occurred until", "until", "end", "end time"],
    "area": ["område", "områdeskod", "omrade", "area", "area code", "district"],
    "category": ["kategori", "händelsetyp", "typ", "category", "type", "incident type"],
    "setting": ["miljö", "miljo", "offentlig miljö", "setting", "environment"],
    "place": ["plats", "platsbeskrivning", "place", "location"],
    "latitude": ["lat", "latitud", "latitude"],
    "longitude": ["lon", "long", "lng", "longitud", "longitude"],
    "description": ["beskrivning", "händelsebeskrivning", "text", "description", "details"],
    "external_id": ["extern id", "externt id", "källid", "händelse-id", "händelseid", "rapport-id", "ärendenummer",
                    "external id", "source id", "reference", "ref"],
}
_FALLBACK_ID = {"id", "nr", "löpnummer"}
_ALIAS_TO_FIELD = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}


def normalise_header(header: str) -> str:
    text = header.strip().strip('"').casefold().replace("_", " ")
    text = re.sub(r"\s*/\s*", "/", text)
    return re.sub(r"\s+", " ", text)


@dataclass
class CsvLayout:
    """What was detected about a file: encoding, delimiter, headers and their fields."""

    encoding: str
    delimiter: str
    headers: list[str]
    #: column index → field name (unmapped columns are absent)
    columns: dict[int, str] = field(default_factory=dict)

    @property
    def fields(self) -> set[str]:
        return set(self.columns.values())

    def to_json(self) -> dict:
        return {"encoding": self.encoding, "delimiter": self.delimiter,
                "columns": [[header, self.columns.get(i)] for i, header in enumerate(self.headers)]}

    @classmethod
    def from_json(cls, data: dict) -> "CsvLayout":
        headers = [h for h, _ in data["columns"]]
        columns = {i: f for i, (_, f) in enumerate(data["columns"]) if f}
        return cls(data["encoding"], data["delimiter"], headers, columns)


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-8 with or without BOM, else Windows-1252 (a superset of Latin-1's printables)."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    if _utf8(body):
        return body.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    try:
        return body.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # Five byte values are undefined in cp1252; Latin-1 maps every byte.
        return body.decode("latin-1"), "latin-1"


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff_delimiter(text: str) -> str:
    """``;``, ``,`` or tab, from the header line (csv.Sniffer first, then counting)."""
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=";,\t").delimiter
    except csv.Error:
        counts = {d: first.count(d) for d in ";,\t"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ";"


def map_headers(headers: list[str]) -> dict[int, str]:
    """Column index → field for the headers we recognise; the first column wins if two map to one field."""
    columns: dict[int, str] = {}
    taken: set[str] = set()
    fallback_id = None
    for index, header in enumerate(headers):
        name = _ALIAS_TO_FIELD.get(normalise_header(header))
        if name is None and normalise_header(header) in _FALLBACK_ID and fallback_id is None:
            fallback_id = index
        if name and name not in taken:
            columns[index] = name
            taken.add(name)
    if fallback_id is not None and "external_id" not in taken:
        columns[fallback_id] = "external_id"
    return columns


def check_required(layout: CsvLayout) -> None:
    """Refuse a file that lacks a time, an area (or a point) or a category column (the message names what is
    missing)."""
    fields = layout.fields
    missing = []
    if "occurred_at" not in fields and "date" not in fields:
        missing.append(str(_l("datum/tid")))
    if "area" not in fields and not {"latitude", "longitude"} <= set(fields):  # a point gives the area
        missing.append(str(_l("område")))
    if "category" not in fields:
        missing.append(str(_l("kategori")))
    if missing:
        raise ReportError(str(_l("Filen saknar kolumner för: %(columns)s. Rubrikraden måste ha dem (svenska eller "
                                 "engelska rubriker, t.ex. datum/tid, område, kategori).", columns=", ".join(missing))))


def read_layout(text: str) -> CsvLayout:
    """Detect the delimiter and the column mapping from the header line."""
    if not text.strip():
        raise ReportError(str(_l("Filen är tom.")))
    delimiter = sniff_delimiter(text)
    headers = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    layout = CsvLayout(encoding="", delimiter=delimiter, headers=[h.strip() for h in headers],
                       columns=map_headers(headers))
    check_required(layout)
    return layout


def iter_rows(text: str, layout: CsvLayout) -> Iterator[tuple[int, dict[str, str] | None]]:
    """(line number, {field: cell}) per data row; None instead of the dict when the row has the wrong width.

    Blank lines are skipped. Line numbers count from the header (line 1) as in
    a spreadsheet; a quoted cell spanning lines counts as its first line.
    """
    reader = csv.reader(io.StringIO(text), delimiter=layout.delimiter)
    width = len(layout.headers)
    next(reader, None)
    items = list(layout.columns.items())
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start, None
            continue
        line = start
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != width:
            yield line, None
            continue
        yield line, {name: cells[index] for index, name in items}
