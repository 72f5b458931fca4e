"""Forms of the weekly overview: the analysis and focus areas, publishing, and choosing a period."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.overview.figures import MAX_PERIOD_DAYS

TEXT_MAX = 20_000


class NoteForm(FlaskForm):
    """The analysts' written analysis and the focus areas decided at the EST meeting."""

    analysis = TextAreaField(_l("Analys"), validators=[Optional(), Length(max=TEXT_MAX)])
    focus = TextAreaField(_l("Fokusområden för kommande vecka"), validators=[Optional(), Length(max=TEXT_MAX)])


class PublishForm(FlaskForm):
    """Publishing freezes the week as a new numbered version: the tick box confirms it."""

    confirmed = BooleanField(_l("Jag vill publicera veckan som en ny version som inte kan ändras i efterhand"),
                             validators=[DataRequired(_l("Bekräfta publiceringen genom att kryssa i rutan."))])


class PeriodError(ValueError):
    """A period request the user must correct; the message is user-facing."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    preset: str | None = None


_QUARTER = re.compile(r"q([1-4])-(\d{4})")
_TERTIAL = re.compile(r"t([1-3])-(\d{4})")
_YEAR = re.compile(r"(\d{4})")


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def preset_period(preset: str) -> Period:
    """q1-2026..q4-2026 (quarters), t1-2026..t3-2026 (four months: Jan–Apr, May–Aug, Sep–Dec), 2026 (a year)."""
    text = preset.strip().lower()
    if m := _QUARTER.fullmatch(text):
        n, year, months = int(m[1]), int(m[2]), 3
    elif m := _TERTIAL.fullmatch(text):
        n, year, months = int(m[1]), int(m[2]), 4
    elif m := _YEAR.fullmatch(text):
        n, year, months = 1, int(m[1]), 12
    else:
        raise PeriodError(_l("Okänd period. Ange till exempel q3-2026 (kvartal), t1-2026 (tertial) eller 2026 (år)."))
    if not 1900 <= year <= 2999:
        raise PeriodError(_l("Året ligger utanför det som går att visa."))
    first = (n - 1) * months + 1
    return Period(_month_start(year, first), _month_start(year, first + months) - timedelta(days=1), text)


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise PeriodError(_l("Datum ska skrivas ÅÅÅÅ-MM-DD, till exempel 2026-07-01.")) from None


def parse_period(args) -> Period | None:
    """The period asked for in the query string; None when nothing was asked; PeriodError for bad input."""
    preset = (args.get("preset") or "").strip()
    start, end = (args.get("start") or "").strip(), (args.get("end") or "").strip()
    if preset:
        return preset_period(preset)
    if not start and not end:
        return None
    if not start or not end:
        raise PeriodError(_l("Ange både start- och slutdatum."))
    period = Period(_parse_day(start), _parse_day(end))
    if period.end < period.start:
        raise PeriodError(_l("Slutdatumet ligger före startdatumet."))
    if (period.end - period.start).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError(_l("Perioden får vara högst %(days)s dagar.", days=MAX_PERIOD_DAYS))
    if not (1900 <= period.start.year and period.end.year <= 2999):
        raise PeriodError(_l("Året ligger utanför det som går att visa."))
    return period
