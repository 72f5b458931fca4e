"""Validating one incoming incident (a CSV row or an API item) into plain, insert-ready values.

Shared by the CSV import and the JSON API so that both accept the same
things. Errors are (field, code) pairs: the code is a stable English token,
``MESSAGES`` holds the Swedish text (and ``MESSAGES_EN`` the English one for
the API). No error carries a cell's content: it may be personal data (the CSV
preview quotes refused values from its encrypted review, see analysis.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.db import db
from app.overview.models import Area, Category, ImportCategoryAlias, Setting
from app.overview.importing.dates import parse_local
from app.overview.service import local_week

MAX_PLACE = 200
MAX_DESCRIPTION = 4000
MAX_EXTERNAL_ID = 100
#: Incidents may be reported with a clock a little ahead; further in the future is an error.
FUTURE_SLACK = timedelta(days=1)
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)

MESSAGES = {
    "required": _l("Värde saknas."),
    "bad_datetime": _l("Ogiltig tidpunkt (använd t.ex. 2026-11-25 14:05, 25/11/2026 14:05, 25.11.2026 eller "
                       "25 nov 2026; en tid som inte finns när sommartiden börjar går inte heller)."),
    "no_offset": _l("Tidpunkten saknar tidszon (t.ex. +01:00 eller Z)."),
    "future": _l("Tidpunkten ligger i framtiden."),
    "too_old": _l("Tidpunkten är före år 2000."),
    "until_before_start": _l("Sluttiden är före starttiden."),
    "unknown_area": _l("Okänt område."),
    "point_outside_areas": _l("Inget område angivet och punkten ligger inte inom något område."),
    "unknown_category": _l("Okänd kategori."),
    "bad_setting": _l("Okänd miljö (offentlig eller halvoffentlig)."),
    "too_long": _l("Värdet är för långt."),
    "bad_number": _l("Ogiltigt tal."),
    "out_of_range": _l("Värdet ligger utanför tillåtet intervall."),
    "coordinates_pair": _l("Ange både latitud och longitud, eller ingen av dem."),
    "bad_type": _l("Fel datatyp."),
    "wrong_width": _l("Raden har fel antal kolumner."),
    "duplicate_in_batch": _l("Samma id förekommer flera gånger."),
    "bad_character": _l("Värdet innehåller otillåtna tecken."),
}

MESSAGES_EN = {
    "required": "A value is required.",
    "bad_datetime": "Invalid date and time (use ISO 8601, e.g. 2026-11-25T14:05:00+01:00).",
    "no_offset": "The date and time must include a UTC offset (e.g. +01:00 or Z).",
    "future": "The time lies in the future.",
    "too_old": "The time is before the year 2000.",
    "until_before_start": "occurred_until is before occurred_at.",
    "unknown_area": "Unknown area code.",
    "point_outside_areas": "No area given, and the point lies inside no area.",
    "unknown_category": "Unknown category code.",
    "bad_setting": "Unknown setting (public or semi_public).",
    "too_long": "The value is too long.",
    "bad_number": "Not a number.",
    "out_of_range": "The value is out of range.",
    "coordinates_pair": "Give both latitude and longitude, or neither.",
    "bad_type": "Wrong data type.",
    "wrong_width": "The row has the wrong number of columns.",
    "duplicate_in_batch": "The same id occurs more than once.",
    "bad_character": "The value contains a character that is not allowed (NUL).",
}

SETTING_ALIASES = {
    "public": Setting.PUBLIC, "offentlig": Setting.PUBLIC, "offentlig miljö": Setting.PUBLIC, "o": Setting.PUBLIC,
    "semi_public": Setting.SEMI_PUBLIC, "semi-public": Setting.SEMI_PUBLIC, "semi public": Setting.SEMI_PUBLIC,
    "semipublic": Setting.SEMI_PUBLIC, "halvoffentlig": Setting.SEMI_PUBLIC, "halvoffentlig miljö": Setting.SEMI_PUBLIC,
    "semioffentlig": Setting.SEMI_PUBLIC, "h": Setting.SEMI_PUBLIC,
}


def source_key(text: str) -> str:
    """The key a source's category name is remembered under (case and spacing do not matter)."""
    return _key(text)


def _key(text: str) -> str:
    """Case- and whitespace-insensitive form of a name ("Våld / bråk" == "våld/bråk")."""
    text = " ".join(text.casefold().split())
    return _SLASH.sub("/", text) if "/" in text else text


_SLASH = re.compile(r"\s*/\s*")
_lookup_key = lru_cache(maxsize=4096)(_key)


class Lookup:
    """Areas and categories by code or name (Swedish or English), loaded once per import or API call."""

    def __init__(self, *, by_name: bool = True, organisation_id: int | None = None):
        self.areas: dict[str, tuple[int, str]] = {}
        self._locator = None
        self.categories: dict[str, tuple[int, str]] = {}
        for area_id, code, name in db.session.execute(select(Area.id, Area.code, Area.name)):
            if by_name:
                self.areas.setdefault(_key(name), (area_id, code))
            self.areas[_key(code)] = (area_id, code)
        for cat_id, code, sv, en in db.session.execute(
                select(Category.id, Category.code, Category.name_sv, Category.name_en)):
            if by_name:
                self.categories.setdefault(_key(sv), (cat_id, code))
                self.categories.setdefault(_key(en), (cat_id, code))
            self.categories[_key(code)] = (cat_id, code)
        #: The source's own category names that its importer mapped to ours (ImportCategoryAlias); ours win.
        self.aliases: dict[str, tuple[int, str]] = {}
        if organisation_id is not None:
            for key, cat_id, code in db.session.execute(
                    select(ImportCategoryAlias.source_key, Category.id, Category.code)
                    .join(Category, ImportCategoryAlias.category_id == Category.id)
                    .where(ImportCategoryAlias.organisation_id == organisation_id)):
                self.aliases[key] = (cat_id, code)

    def area(self, text: str) -> tuple[int, str] | None:
        return self.areas.get(_lookup_key(text))

    def area_at(self, latitude: float, longitude: float) -> tuple[int, str] | None:
        """The active area that contains the point (geography.area_locator, built once per import or call)."""
        from app.overview.geography import area_locator

        if self._locator is None:
            self._locator = area_locator()
            self._codes = {area_id: code for area_id, code in self.areas.values()}
        area_id = self._locator.locate(latitude, longitude)
        return (area_id, self._codes[area_id]) if area_id in self._codes else None

    def category(self, text: str) -> tuple[int, str] | None:
        key = _lookup_key(text)
        return self.categories.get(key) or self.aliases.get(key)


@dataclass
class Incident:
    """A validated incident, ready to insert."""

    occurred_at: datetime
    occurred_until: datetime | None
    area_id: int
    area_code: str
    category_id: int
    category_code: str
    setting: Setting
    place: str | None
    latitude: float | None
    longitude: float | None
    description: str | None
    external_id: str | None
    #: The source gave a date without a time (stored as local noon, shown as "tid okänd").
    time_unknown: bool = False
    #: The local time lies in the hour repeated when summer time ends (read as the first occurrence).
    ambiguous: bool = False

    @property
    def week(self):
        return local_week(self.occurred_at)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the normalised time, area, category, place and description (dedupe without an id)."""
        parts = [
            self.occurred_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M"),
            self.area_code.casefold(), self.category_code.casefold(),
            _key(self.place or ""), _key(self.description or ""),
        ]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def parse_local_datetime(text: str) -> datetime:
    """A CSV time (app.overview.importing.dates: ISO 8601, dd/mm/yyyy, d.m.yyyy, d mmm yyyy, with or without
    a time) as UTC. Raises ValueError."""
    return parse_local(text).at


def parse_api_datetime(value) -> datetime:
    """An API time: ISO 8601 with an offset. Raises ValueError("no_offset") or ValueError."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("bad_datetime")
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        raise ValueError("no_offset")
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("bad_datetime") from None


def check_time(value: datetime, now: datetime) -> str | None:
    if value > now + FUTURE_SLACK:
        return "future"
    if value < EARLIEST:
        return "too_old"
    return None


def parse_number(value, low: float, high: float) -> float:
    if isinstance(value, bool):
        raise ValueError("bad_type")
    if isinstance(value, str):
        value = value.strip().replace(",", ".")
        if len(value) > 40:
            raise ValueError("bad_number")
    elif not isinstance(value, (int, float)):
        raise ValueError("bad_type")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError("out_of_range") from None
    if value != value or not low <= value <= high:
        raise ValueError("out_of_range")
    return value


def parse_setting(value) -> Setting | None:
    if isinstance(value, Setting):
        return value
    if not isinstance(value, str):
        return None
    return SETTING_ALIASES.get(_lookup_key(value))


def _text(value, limit: int, errors: list, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append((name, "bad_type"))
        return None
    value = value.strip()
    if len(value) > limit:
        errors.append((name, "too_long"))
        return None
    if "\x00" in value:
        errors.append((name, "bad_character"))
        return None
    return value or None


def build_incident(values: dict, lookup: Lookup, now: datetime, *, api: bool = False,
                   default_setting: Setting | None = Setting.PUBLIC) -> tuple[Incident | None, list[tuple[str, str]]]:
    """Validate one incident's raw values (strings from CSV, JSON values from the API) → (incident, errors)."""
    errors: list[tuple[str, str]] = []
    parse = parse_api_datetime if api else parse_local_datetime

    occurred_at = occurred_until = None
    time_unknown = ambiguous = False
    raw_at = values.get("occurred_at")
    if not api and not (raw_at or "").strip() and (values.get("date") or "").strip():
        raw_at = f"{values['date'].strip()} {(values.get('time') or '').strip()}".strip()
    if raw_at is None or (isinstance(raw_at, str) and not raw_at.strip()):
        errors.append(("occurred_at", "required"))
    else:
        try:
            if api:
                occurred_at = parse(raw_at)
            else:
                local = parse_local(raw_at)
                occurred_at, time_unknown, ambiguous = local.at, local.time_unknown, local.ambiguous
        except ValueError as exc:
            errors.append(("occurred_at", "no_offset" if str(exc) == "no_offset" else "bad_datetime"))
        else:
            problem = check_time(occurred_at, now)
            if problem:
                errors.append(("occurred_at", problem))
                occurred_at = None
    raw_until = values.get("occurred_until")
    if raw_until is not None and not (isinstance(raw_until, str) and not raw_until.strip()):
        try:
            occurred_until = parse(raw_until)
        except ValueError as exc:
            errors.append(("occurred_until", "no_offset" if str(exc) == "no_offset" else "bad_datetime"))
        else:
            if occurred_at and occurred_until < occurred_at:
                errors.append(("occurred_until", "until_before_start"))

    area = category = None
    for name, finder in (("area", lookup.area), ("category", lookup.category)):
        raw = values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if name == "area":
                area = False  # taken from the point below, if there is one
            else:
                errors.append((name, "required"))
        elif not isinstance(raw, str):
            errors.append((name, "bad_type"))
        else:
            found = finder(raw)
            if found is None:
                errors.append((name, f"unknown_{name}"))
            elif name == "area":
                area = found
            else:
                category = found

    raw_setting = values.get("setting")
    if raw_setting is None or (isinstance(raw_setting, str) and not raw_setting.strip()):
        setting = default_setting
        if setting is None:
            errors.append(("setting", "required"))
    else:
        setting = parse_setting(raw_setting)
        if setting is None:
            errors.append(("setting", "bad_setting"))

    coordinates = {}
    for name, low, high in (("latitude", -90.0, 90.0), ("longitude", -180.0, 180.0)):
        raw = values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            coordinates[name] = None
            continue
        try:
            coordinates[name] = parse_number(raw, low, high)
        except ValueError as exc:
            errors.append((name, str(exc) if str(exc) in ("bad_type", "out_of_range") else "bad_number"))
            coordinates[name] = False
    if (coordinates["latitude"] is None) != (coordinates["longitude"] is None):
        errors.append(("latitude", "coordinates_pair"))
    if area is False:  # no area given: the point's area (a given area always wins)
        point = [coordinates[k] for k in ("latitude", "longitude")]
        if any(v is None for v in point):
            errors.append(("area", "required"))
        elif all(isinstance(v, float) for v in point):
            area = lookup.area_at(*point)
            if area is None:
                errors.append(("area", "point_outside_areas"))

    place = _text(values.get("place"), MAX_PLACE, errors, "place")
    description = _text(values.get("description"), MAX_DESCRIPTION, errors, "description")
    raw_id = values.get("external_id")
    if api and isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    external_id = _text(raw_id, MAX_EXTERNAL_ID, errors, "external_id")
    if api and external_id is None and not any(f == "external_id" for f, _ in errors):
        errors.append(("external_id", "required"))

    if errors:
        return None, errors
    return Incident(
        occurred_at=occurred_at, occurred_until=occurred_until, area_id=area[0], area_code=area[1],
        category_id=category[0], category_code=category[1], setting=setting, place=place,
        latitude=coordinates["latitude"], longitude=coordinates["longitude"], description=description,
        external_id=external_id, time_unknown=time_unknown, ambiguous=ambiguous,
    ), []
