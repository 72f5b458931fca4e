"""Forms of the report pages: the phone-first report form (several incidents), correction, review, list filters.

Field parsing gives Swedish messages; the rules of what may be stored live in
``app.overview.reporting.check_incident``, which every incident block runs,
so the form and the service never disagree.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import g, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FieldList, Form, FormField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from app.admin.models import Agency
from app.db import db
from app.overview import taxonomy
from app.overview.models import ReportSource, ReportStatus, Setting
from app.overview.reporting import MAX_DESCRIPTION, MAX_INCIDENTS, MAX_PLACE, IncidentInput, check_incident
from app.overview.reporting.labels import SETTING_LABELS, SOURCE_LABELS, STATUS_LABELS
from app.overview.reporting.queries import parse_week
from app.overview.reporting.review import MAX_REASON
from app.overview.service import STOCKHOLM

_TOO_LONG = _l("Högst %(max)d tecken.")
_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H.%M")


def now_local() -> datetime:
    """The current minute in Europe/Stockholm (the form's default time)."""
    return datetime.now(STOCKHOLM).replace(second=0, microsecond=0)


def as_local(value: datetime | None) -> datetime | None:
    """A stored instant (naive means UTC, as SQLite returns it) in Europe/Stockholm."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(STOCKHOLM)


#: The largest id a database integer column holds (PostgreSQL INTEGER); larger numbers are never valid ids.
MAX_ID = 2**31 - 1


def _optional_int(value):
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return -1  # never a valid id: the checks refuse it with a clear message
    return number if 0 < number <= MAX_ID else -1  # beyond a database integer: refused, not an overflow


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LocalDateTimeField(StringField):
    """Date and time in Europe/Stockholm (an <input type=datetime-local>); data is an aware datetime or None."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("type", "datetime-local")
        super().__init__(*args, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%Y-%m-%dT%H:%M") if isinstance(self.data, datetime) else ""

    def process_data(self, value):
        self.data = value if isinstance(value, datetime) else None

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        for fmt in _FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
            except ValueError:
                continue
            if 2000 <= parsed.year <= 2199:
                self.data = parsed.replace(tzinfo=STOCKHOLM)
                return
        raise ValueError(str(_l("Ange datum och tid som ÅÅÅÅ-MM-DD TT:MM.")))


def _coordinate(form, field):
    if field.data:
        try:
            float(field.data.replace(",", "."))
        except ValueError:
            raise ValidationError(_l("Ange ett tal med decimalpunkt, t.ex. 59.43.")) from None


def _float(text: str | None) -> float | None:
    return float(text.replace(",", ".")) if text else None


def _choices(key: str, produce):
    """Choices cached for the request: one query however many incident blocks the form has."""
    cache = g.setdefault("lots_report_choices", {})
    if key not in cache:
        cache[key] = produce()
    return cache[key]


def area_choices() -> list[tuple[str, str]]:
    return _choices("areas", lambda: [(str(a.id), a.name) for a in taxonomy.active_areas()])


def category_choices() -> list[tuple[str, str]]:
    locale = str(get_locale() or "sv")
    return _choices("categories:" + locale,
                    lambda: [(str(c.id), c.name(locale)) for c in taxonomy.active_categories()])


class IncidentForm(Form):
    """One incident block of the report form (no CSRF of its own: the outer form has it)."""

    occurred_at = LocalDateTimeField(_l("När hände det?"), default=now_local)
    occurred_until = LocalDateTimeField(_l("Pågick till (valfritt)"))
    area_id = SelectField(_l("Område"), coerce=_optional_int, validate_choice=False)
    place = StringField(_l("Plats (valfritt)"), filters=[_strip],
                        validators=[Optional(), Length(max=MAX_PLACE, message=_TOO_LONG)],
                        render_kw={"maxlength": MAX_PLACE, "autocomplete": "off"})
    latitude = StringField(_l("Latitud (valfritt)"), filters=[_strip], validators=[_coordinate],
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})
    longitude = StringField(_l("Longitud (valfritt)"), filters=[_strip], validators=[_coordinate],
                            render_kw={"inputmode": "decimal", "autocomplete": "off"})
    category_id = SelectField(_l("Kategori"), coerce=_optional_int, validate_choice=False)
    setting = RadioField(_l("Miljö"), choices=[(s.value, SETTING_LABELS[s]) for s in Setting],
                         default=Setting.PUBLIC.value, validate_choice=False)
    description = TextAreaField(_l("Vad hände?"), filters=[_strip],
                                validators=[Optional(), Length(max=MAX_DESCRIPTION, message=_TOO_LONG)],
                                render_kw={"rows": 4, "maxlength": MAX_DESCRIPTION})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.area_id.choices = [("", _l("Välj område"))] + area_choices()
        self.category_id.choices = [("", _l("Välj kategori"))] + category_choices()

    def offer(self, area: tuple[int, str] | None, category: tuple[int, str] | None) -> None:
        """Keep an inactive current area/category selectable when correcting an older report."""
        for field, current in ((self.area_id, area), (self.category_id, category)):
            if current and str(current[0]) not in {value for value, _label in field.choices}:
                field.choices = field.choices + [(str(current[0]), current[1])]

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        allowed_areas = {int(v) for v, _label in self.area_id.choices if v}
        allowed_categories = {int(v) for v, _label in self.category_id.choices if v}
        problems = check_incident(self.to_input(), allowed_areas=allowed_areas,
                                  allowed_categories=allowed_categories) if not self.latitude.errors \
            and not self.longitude.errors else {}
        for name, message in problems.items():
            field = self[name]
            if not field.errors:
                field.errors = list(field.errors) + [message]
        return not any(f.errors for f in self)

    def to_input(self) -> IncidentInput:
        try:
            latitude, longitude = _float(self.latitude.data), _float(self.longitude.data)
        except ValueError:
            latitude = longitude = None
        return IncidentInput(
            occurred_at=self.occurred_at.data, occurred_until=self.occurred_until.data,
            area_id=self.area_id.data, category_id=self.category_id.data, setting=self.setting.data,
            place=self.place.data, latitude=latitude, longitude=longitude, description=self.description.data,
        )


class ReportForm(FlaskForm):
    """The report form: one or more incident blocks filed together."""

    incidents = FieldList(FormField(IncidentForm), min_entries=1, max_entries=MAX_INCIDENTS)

    def submitted_blocks(self) -> int:
        """How many incident blocks the request held (the list itself stops reading at the maximum)."""
        return len({key.split("-", 2)[1] for key in request.form if key.startswith("incidents-")})


class CorrectForm(FlaskForm):
    """The reporter's correction of one of their own new reports."""

    incident = FormField(IncidentForm)
    version = HiddenField()


class ReviewForm(FlaskForm):
    """One review action on a report; the page shows one small form per action."""

    action = HiddenField()
    version = HiddenField()
    reason = TextAreaField(_l("Skäl för avvisning"), filters=[_strip],
                           validators=[Optional(), Length(max=MAX_REASON, message=_TOO_LONG)],
                           render_kw={"rows": 2, "maxlength": MAX_REASON})
    duplicate_of = StringField(_l("Dubblett av rapport (id)"), filters=[_strip],
                               validators=[Optional(), Length(max=40, message=_TOO_LONG)],
                               render_kw={"autocomplete": "off", "spellcheck": "false"})
    category_id = SelectField(_l("Kategori"), coerce=_optional_int, validate_choice=False)
    area_id = SelectField(_l("Område"), coerce=_optional_int, validate_choice=False)

    def offer(self, report, locale: str) -> None:
        """Active areas and categories, plus the report's current ones."""
        self.area_id.choices = area_choices()
        self.category_id.choices = category_choices()
        if str(report.area_id) not in {value for value, _label in self.area_id.choices}:
            self.area_id.choices = self.area_id.choices + [(str(report.area_id), report.area.name)]
        if str(report.category_id) not in {value for value, _label in self.category_id.choices}:
            self.category_id.choices = self.category_id.choices + [
                (str(report.category_id), report.category.name(locale))]


class ChoiceField(SelectField):
    """A select whose unknown values get a Swedish message."""

    def pre_validate(self, form):
        if self.data in (None, "") and self.choices and self.choices[0][0] == "":
            return
        if str(self.data) not in {str(value) for value, *_rest in self.choices}:
            raise ValidationError(_l("Välj ett av alternativen i listan."))


def _int_or_str(value):
    return _optional_int(value) if value not in (None, "") else None


class ReportFilterForm(FlaskForm):
    """Filters of the review list (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    status = ChoiceField(_l("Status"), default="all")
    category_id = ChoiceField(_l("Kategori"), coerce=_int_or_str)
    area_id = ChoiceField(_l("Område"), coerce=_int_or_str)
    week = StringField(_l("Vecka (ÅÅÅÅ-Vnn)"), filters=[_strip],
                       validators=[Optional(), Length(max=10, message=_TOO_LONG)],
                       render_kw={"placeholder": "2026-W47", "autocomplete": "off"})
    organisation_id = ChoiceField(_l("Organisation"), coerce=_int_or_str)
    source = ChoiceField(_l("Källa"))
    q = StringField(_l("Sök i platsbeskrivning"), filters=[_strip],
                    validators=[Optional(), Length(max=100, message=_TOO_LONG)])

    def offer(self, statuses: list[ReportStatus], locale: str) -> None:
        from app.overview.models import Area, Category

        everything = ("", _l("Alla"))
        self.status.choices = [("all", _l("Alla"))] + [(s.value, STATUS_LABELS[s]) for s in statuses]
        self.category_id.choices = [everything] + [
            (str(c.id), c.name(locale)) for c in db.session.scalars(
                select(Category).order_by(Category.sort_order, Category.name_sv))]
        self.area_id.choices = [everything] + [
            (str(a.id), a.name) for a in db.session.scalars(select(Area).order_by(Area.name))]
        self.organisation_id.choices = [everything] + [
            (str(a.id), a.name) for a in db.session.scalars(select(Agency).order_by(Agency.name))]
        self.source.choices = [everything] + [(s.value, SOURCE_LABELS[s]) for s in ReportSource]

    def validate_week(self, field):
        try:
            parse_week(field.data)
        except ValueError:
            raise ValidationError(_l("Ange veckan som ÅÅÅÅ-Vnn, t.ex. 2026-W47.")) from None
