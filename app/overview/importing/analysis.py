"""Reading a whole CSV text into valid incidents, invalid rows and duplicates.

Used twice: for the preview (counts and the list of invalid rows) and when
the confirmed import runs (the database may have changed in between, so the
duplicates are looked up again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.db import db
from app.overview.importing.csvfile import CsvLayout, iter_rows
from app.overview.importing.rows import Incident, Lookup, build_incident, source_key
from app.overview.models import IncidentReport, Setting

#: IN lists are sent in slices of this size (SQLite allows 32,766 parameters; keep plans simple).
LOOKUP_SLICE = 900
#: A source category name longer than this is not offered for mapping (the alias column's width).
SOURCE_NAME_MAX = 120
#: Refused values quoted in the preview (one per problem), and distinct unrecognised categories offered for mapping.
MAX_REFUSED = 5000
MAX_UNKNOWN_CATEGORIES = 50
#: Longer values are quoted shortened; free text (place, description) is never quoted, only its length.
QUOTE_LIMIT = 60
FREE_TEXT = ("place", "description")


def quote(name: str, value) -> str:
    """What the preview shows of a refused cell: the value (shortened), or only the length of free text."""
    text = "" if value is None else str(value)
    if name in FREE_TEXT:
        return f"#{len(text)}"  # the template says "free text, N characters"
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT - 1] + "…"


@dataclass
class Analysis:
    #: Valid, new incidents in file order.
    fresh: list[Incident] = field(default_factory=list)
    #: (line, field, code) of every invalid row (one entry per problem).
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    invalid_rows: int = 0
    duplicates: int = 0
    #: Data rows seen (blank lines excluded).
    total: int = 0
    #: Line numbers of the first few valid rows, for the preview's sample.
    sample: list[tuple[int, Incident]] = field(default_factory=list)
    #: (line, code) of valid rows the analyst should check: "time_unknown" (a date without a time),
    #: "ambiguous_time" (a local time in the hour repeated when summer time ends).
    flags: list[tuple[int, str]] = field(default_factory=list)
    #: "line:field" -> the refused value as the preview quotes it (see quote); the first MAX_REFUSED problems.
    refused: dict[str, str] = field(default_factory=dict)
    #: The source's category names that are not ours (nor mapped yet): key -> [name as written, rows].
    unknown_categories: dict[str, list] = field(default_factory=dict)

    def review(self) -> dict:
        """The encrypted part of the preview: it quotes the file."""
        unknown = sorted(self.unknown_categories.values(), key=lambda item: (-item[1], item[0].casefold()))
        return {"refused": self.refused, "unknown_categories": unknown[:MAX_UNKNOWN_CATEGORIES],
                "unknown_category_count": len(unknown)}


def analyse(text: str, layout: CsvLayout, organisation_id: int, now: datetime, *, lookup: Lookup | None = None,
            sample_size: int = 5) -> Analysis:
    """Validate every row and drop the duplicates: of rows already stored for the organisation and of earlier rows."""
    lookup = lookup or Lookup()
    default_setting = Setting.PUBLIC
    result = Analysis()
    valid: list[Incident] = []
    for line, values in iter_rows(text, layout):
        result.total += 1
        if values is None:
            result.invalid_rows += 1
            result.errors.append((line, "", "wrong_width"))
            continue
        incident, errors = build_incident(values, lookup, now, default_setting=default_setting)
        if errors:
            result.invalid_rows += 1
            result.errors.extend((line, name, code) for name, code in errors)
            for name, code in errors:
                if len(result.refused) < MAX_REFUSED and values.get(name) not in (None, ""):
                    result.refused[f"{line}:{name}"] = quote(name, values.get(name))
                if code == "unknown_category":
                    _count_unknown(result.unknown_categories, values.get(name))
            continue
        valid.append(incident)
        if incident.time_unknown:
            result.flags.append((line, "time_unknown"))
        if incident.ambiguous:
            result.flags.append((line, "ambiguous_time"))
        if len(result.sample) < sample_size:
            result.sample.append((line, incident))

    known_ids = existing_external_ids(organisation_id, {i.external_id for i in valid if i.external_id})
    known_prints = existing_fingerprints(organisation_id, {i.fingerprint for i in valid if not i.external_id})
    seen_ids: set[str] = set()
    seen_prints: set[str] = set()
    for incident in valid:
        if incident.external_id:
            if incident.external_id in known_ids or incident.external_id in seen_ids:
                result.duplicates += 1
                continue
            seen_ids.add(incident.external_id)
        else:
            print_ = incident.fingerprint
            if print_ in known_prints or print_ in seen_prints:
                result.duplicates += 1
                continue
            seen_prints.add(print_)
        result.fresh.append(incident)
    return result


def _count_unknown(unknown: dict[str, list], value) -> None:
    name = " ".join(str(value).split())
    if not name or len(name) > SOURCE_NAME_MAX:
        return  # too long to be a category name: the column is probably mapped wrong; the errors say so
    key = source_key(name)
    if key in unknown:
        unknown[key][1] += 1
    elif len(unknown) < MAX_UNKNOWN_CATEGORIES * 4:
        unknown[key] = [name, 1]


def _existing(column, organisation_id: int, values: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(values)
    for start in range(0, len(ordered), LOOKUP_SLICE):
        part = ordered[start:start + LOOKUP_SLICE]
        found.update(db.session.scalars(
            select(column).where(IncidentReport.organisation_id == organisation_id, column.in_(part))))
    return found


def existing_external_ids(organisation_id: int, ids: set[str]) -> set[str]:
    """The sender ids of this organisation that are already stored."""
    return _existing(IncidentReport.external_id, organisation_id, ids)


def existing_fingerprints(organisation_id: int, prints: set[str]) -> set[str]:
    """The content fingerprints of this organisation's reports that are already stored."""
    return _existing(IncidentReport.fingerprint, organisation_id, prints)
