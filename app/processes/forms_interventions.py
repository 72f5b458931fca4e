"""Forms of the interventions pages: the intervention itself, the list filters and the evaluation parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import LocalDateField
from app.processes.form_fields import TOO_LONG
from app.processes.form_fields import safe_id as _int_or_none
from app.processes.form_fields import strip as _strip
from app.processes.form_fields import version_field
from app.processes import evaluation as ev
from app.processes.labels import INTERVENTION_KIND_LABELS

MAX_TITLE = 200
MAX_DESCRIPTION = 5000
UNKNOWN_CHOICE = _l("Ett av de valda alternativen finns inte (längre). Välj i listan.")

KIND_CHOICES = [(kind.value, label) for kind, label in INTERVENTION_KIND_LABELS.items()]


class IdSelectField(SelectField):
    """A select of ids with a Swedish message for a value that is not (or no longer) a choice."""

    def pre_validate(self, form):
        if self.data is None and any(v in ("", None) for v, *_ in self.choices):
            return
        if self.data not in {v for v, *_ in self.choices}:
            raise ValidationError(UNKNOWN_CHOICE)


class IdCheckboxField(SelectMultipleField):
    """Checkboxes of ids; a value that is no whole number or no choice is refused with a Swedish message."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist):
        # Something that is no whole number becomes -1: never a choice, so pre_validate refuses it.
        self.data = [_int_or_none(value) for value in valuelist if value not in (None, "")]

    def pre_validate(self, form):
        allowed = {v for v, *_ in self.choices}
        if any(v not in allowed for v in self.data or ()):
            raise ValidationError(UNKNOWN_CHOICE)


class InterventionForm(FlaskForm):
    """Create or edit an intervention (POST, with CSRF and the version it was loaded at)."""

    title = StringField(_l("Rubrik"), filters=[_strip],
                        validators=[DataRequired(_l("Ange en rubrik.")), Length(max=MAX_TITLE, message=TOO_LONG)])
    kind = SelectField(_l("Typ av insats"), choices=KIND_CHOICES,
                       validators=[DataRequired(_l("Välj typ av insats."))])
    description = TextAreaField(_l("Beskrivning"), filters=[_strip],
                                validators=[Optional(), Length(max=MAX_DESCRIPTION, message=TOO_LONG)])
    agency_id = IdSelectField(_l("Ansvarig myndighet"), coerce=_int_or_none,
                              validators=[DataRequired(_l("Välj ansvarig myndighet."))])
    process_id = IdSelectField(_l("Hör till process"), coerce=_int_or_none, validators=[Optional()])
    start_date = LocalDateField(_l("Startdatum"), validators=[DataRequired(_l("Ange startdatum."))])
    end_date = LocalDateField(_l("Slutdatum"), validators=[Optional()])
    area_ids = IdCheckboxField(_l("Områden som insatsen riktar sig mot"),
                               validators=[DataRequired(_l("Välj minst ett område."))])
    category_ids = IdCheckboxField(_l("Händelsekategorier som insatsen ska påverka"),
                                   validators=[DataRequired(_l("Välj minst en kategori."))])
    version = version_field()

    def set_choices(self, *, agencies, processes, areas, categories) -> None:
        self.agency_id.choices = [("", _l("Välj myndighet")), *agencies]
        self.process_id.choices = [("", _l("Ingen process")), *processes]
        self.area_ids.choices = list(areas)
        self.category_ids.choices = list(categories)

    def validate_end_date(self, field_):
        if field_.data and self.start_date.data and field_.data < self.start_date.data:
            raise ValidationError(_l("Slutdatum kan inte ligga före startdatum."))

    def values(self) -> dict[str, Any]:
        return {"title": self.title.data, "kind": self.kind.data, "description": self.description.data or "",
                "agency_id": self.agency_id.data, "process_id": self.process_id.data,
                "start_date": self.start_date.data, "end_date": self.end_date.data,
                "area_ids": list(self.area_ids.data), "category_ids": list(self.category_ids.data)}


class _GetForm(FlaskForm):
    class Meta:
        csrf = False


STATE_CHOICES = [("", _l("Alla")), ("active", _l("Pågår nu")), ("planned", _l("Planerade")),
                 ("ended", _l("Avslutade"))]


class InterventionFilterForm(_GetForm):
    """Filters of the intervention list (GET: nothing changes, no CSRF token)."""

    q = StringField(_l("Sök i rubrik"), filters=[_strip],
                    validators=[Optional(), Length(max=100, message=TOO_LONG)])
    kind = SelectField(_l("Typ av insats"), choices=[("", _l("Alla")), *KIND_CHOICES], default="")
    area = IdSelectField(_l("Område"), coerce=_int_or_none, default=None)
    state = SelectField(_l("Läge"), choices=STATE_CHOICES, default="")

    def set_areas(self, areas) -> None:
        self.area.choices = [("", _l("Alla")), *areas]


# ------------------------------------------------------------------ evaluation parameters


@dataclass
class EvaluationParams:
    weeks_before: int = ev.WEEKS_BEFORE_DEFAULT
    weeks_after: int = ev.WEEKS_AFTER_DEFAULT
    #: None: the default (every active area not targeted).
    comparison_ids: list[int] | None = None
    errors: list[Any] = field(default_factory=list)

    def query_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"weeks_before": self.weeks_before, "weeks_after": self.weeks_after}
        if self.comparison_ids is not None:
            args["area"] = self.comparison_ids
        return args


def _bounded(raw: str | None, default: int, low: int, high: int, message) -> tuple[int, Any | None]:
    if raw is None or raw.strip() == "":
        return default, None
    try:
        value = int(raw.strip())
    except ValueError:
        return default, message
    if not low <= value <= high:
        return default, message
    return value, None


def parse_evaluation_args(args, *, targeted: set[int], known_areas: set[int]) -> EvaluationParams:
    """The page's query arguments; each invalid one gives a message and its default (never an error page)."""
    params = EvaluationParams()
    params.weeks_before, error = _bounded(
        args.get("weeks_before"), ev.WEEKS_BEFORE_DEFAULT, ev.WEEKS_BEFORE_MIN, ev.WEEKS_BEFORE_MAX,
        _l("Veckor före ska vara ett heltal mellan %(low)s och %(high)s. Standardvärdet %(default)s används.",
           low=ev.WEEKS_BEFORE_MIN, high=ev.WEEKS_BEFORE_MAX, default=ev.WEEKS_BEFORE_DEFAULT))
    if error:
        params.errors.append(error)
    params.weeks_after, error = _bounded(
        args.get("weeks_after"), ev.WEEKS_AFTER_DEFAULT, ev.WEEKS_AFTER_MIN, ev.WEEKS_AFTER_MAX,
        _l("Veckor efter ska vara ett heltal mellan %(low)s och %(high)s. Standardvärdet %(default)s används.",
           low=ev.WEEKS_AFTER_MIN, high=ev.WEEKS_AFTER_MAX, default=ev.WEEKS_AFTER_DEFAULT))
    if error:
        params.errors.append(error)
    raw_areas = [value for value in args.getlist("area") if value.strip() != ""]
    if raw_areas:
        ids: list[int] = []
        bad = False
        for value in raw_areas[:500]:
            try:
                ident = int(value.strip())
            except ValueError:
                bad = True
                continue
            if ident not in known_areas or ident in targeted:
                bad = True
            elif ident not in ids:
                ids.append(ident)
        if bad or len(raw_areas) > 500:
            params.errors.append(_l("Jämförelseområdena kunde inte användas (okänt område eller ett område som "
                                    "insatsen själv riktar sig mot). Alla övriga aktiva områden används."))
        else:
            params.comparison_ids = ids
    return params
