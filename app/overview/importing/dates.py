"""Dates and times as municipalities' systems export them, read as Europe/Stockholm local time.

Accepted (with or without a time ``HH:MM``, ``HH:MM:SS`` or ``HH.MM`` after a space or ``T``):

- ``yyyy-mm-dd`` (ISO 8601, also with an offset such as ``+01:00`` or ``Z``);
- ``dd/mm/yyyy`` (day first, as in Swedish and most European exports);
- ``d.m.yyyy``;
- ``d mmm yyyy`` with a Swedish month name or abbreviation: ``3 mars 2026``, ``3 mar 2026``, ``3 mar. 2026``.

A date without a time is "time unknown": the instant stored is local noon of that day, so that its date and
week are right, and the report carries ``time_unknown`` — it is never silently midnight. A local time in
the hour that occurs twice when summer time ends (the last Sunday of October, 02:00–02:59) is
``ambiguous``: it is read as the first occurrence (summer time) and flagged. A local time in the hour that
does not exist when summer time begins is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")

MONTHS = {
    "jan": 1, "januari": 1, "feb": 2, "febr": 2, "februari": 2, "mar": 3, "mars": 3, "apr": 4, "april": 4,
    "maj": 5, "jun": 6, "juni": 6, "jul": 7, "juli": 7, "aug": 8, "augusti": 8, "sep": 9, "sept": 9,
    "september": 9, "okt": 10, "oktober": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}

_TIME = r"(?:[ T]+(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?::(?P<s>\d{2}))?)?"
_FORMATS = [
    re.compile(r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})" + _TIME + r"$"),
    re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})" + _TIME + r"$"),
    re.compile(r"^(?P<d>\d{1,2})\.? +(?P<name>[a-zåäö]+)\.? +(?P<y>\d{4})" + _TIME + r"$"),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})" + _TIME + r"$"),
]


@dataclass(frozen=True)
class LocalTime:
    at: datetime  #: UTC
    time_unknown: bool = False
    ambiguous: bool = False


def parse_local(text: str) -> LocalTime:
    """One exported date and time (see the module docstring). Raises ValueError("bad_datetime")."""
    text = " ".join(text.strip().split()).casefold()
    for pattern in _FORMATS:
        match = pattern.match(text)
        if match:
            return _from_parts(match)
    try:  # ISO 8601 with seconds, fractions or an offset
        value = datetime.fromisoformat(text.upper())
    except ValueError:
        raise ValueError("bad_datetime") from None
    if value.tzinfo is not None:
        return LocalTime(_utc(value))
    return _local(value.date(), value.time().replace(microsecond=0) if value.microsecond else value.time())


def _from_parts(match: re.Match) -> LocalTime:
    parts = match.groupdict()
    month = MONTHS.get(parts["name"]) if parts.get("name") else int(parts["m"])
    if month is None:
        raise ValueError("bad_datetime")
    try:
        day = date(int(parts["y"]), month, int(parts["d"]))
        if parts["h"] is None:
            return _local(day, None)
        clock = time(int(parts["h"]), int(parts["mi"]), int(parts["s"] or 0))
    except ValueError:
        raise ValueError("bad_datetime") from None
    return _local(day, clock)


def _local(day: date, clock: time | None) -> LocalTime:
    if clock is None:
        return LocalTime(_utc(datetime.combine(day, time(12, 0), tzinfo=STOCKHOLM)), time_unknown=True)
    first = datetime.combine(day, clock, tzinfo=STOCKHOLM)
    second = first.replace(fold=1)
    if first.utcoffset() != second.utcoffset():
        if first.utcoffset() > second.utcoffset():  # the repeated hour in October: first occurrence, flagged
            return LocalTime(_utc(first), ambiguous=True)
        raise ValueError("bad_datetime")  # the hour skipped in March does not exist
    return LocalTime(_utc(first))


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("bad_datetime") from None
