"""Search and report forms for the auditor (GET forms: no CSRF token, nothing changes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.audit import service
from app.audit.models import AuditOutcome
from app.forms import LocalDateField

OUTCOME_LABELS = {
    AuditOutcome.ALLOWED.value: _l("Tillåten"),
    AuditOutcome.DENIED.value: _l("Nekad"),
    AuditOutcome.FAILED.value: _l("Misslyckad"),
}

#: Dates outside this range are refused (they cannot be converted between time zones).
FIRST_YEAR, LAST_YEAR = 2000, 2199

_OBJECT_ID = Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
    message=_l("Ange ett id eller en ärendekod: bokstäver, siffror, punkt, kolon och bindestreck."),
)
_OBJECT_TYPE = Regexp(r"^[a-z][a-z0-9_]*$", message=_l("Objekttypen får bara innehålla a–z, siffror och understreck."))
_TOO_LONG = _l("Högst %(max)d tecken.")


def _none_if_blank(value):
    return value.strip() if isinstance(value, str) and value.strip() else None


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("Ange ett positivt heltal."))) from exc


def _positive_id(form, field):
    # None means the text did not parse: WholeNumberField has already said so.
    if field.data is not None and not 1 <= field.data <= 2_147_483_647:
        raise ValidationError(_l("Ange ett positivt heltal."))


def _one_of_choices(form, field):
    data = "" if field.data is None else field.data
    if data not in {choice.value for choice in field.choices}:
        raise ValidationError(_l("Välj ett av alternativen i listan."))


def _optional_int(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a choice: _one_of_choices explains


class _GetForm(FlaskForm):
    class Meta:
        csrf = False


class EventSearchForm(_GetForm):
    object_type = StringField(
        _l("Objekttyp"), filters=[_none_if_blank], validators=[Optional(), Length(max=32, message=_TOO_LONG), _OBJECT_TYPE]
    )
    object_id = StringField(
        _l("Ärendekod eller objekt-id"),
        filters=[_none_if_blank],
        validators=[Optional(), Length(max=64, message=_TOO_LONG), _OBJECT_ID],
    )
    user_id = WholeNumberField(
        _l("Användar-id"),
        validators=[Optional(), _positive_id],
    )
    agency_id = SelectField(_l("Myndighet"), coerce=_optional_int, validate_choice=False, validators=[_one_of_choices])
    action = StringField(
        _l("Åtgärd"),
        filters=[_none_if_blank],
        validators=[
            Optional(),
            Length(max=64, message=_TOO_LONG),
            Regexp(r"^[a-z0-9_.]+$", message=_l("Åtgärden får bara innehålla a–z, siffror, punkt och understreck.")),
        ],
    )
    outcome = SelectField(
        _l("Utfall"),
        choices=[SelectChoice("", _l("Alla"))] + [SelectChoice(v, label) for v, label in OUTCOME_LABELS.items()],
        default="",
        validate_choice=False,
        validators=[_one_of_choices],
    )
    date_from = LocalDateField(_l("Från och med"), validators=[Optional()], first_year=FIRST_YEAR, last_year=LAST_YEAR)
    date_to = LocalDateField(_l("Till och med"), validators=[Optional()], first_year=FIRST_YEAR, last_year=LAST_YEAR)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency_id.choices = [SelectChoice("", _l("Alla"))] + [
            SelectChoice(agency_id, name) for agency_id, name in service.agency_choices()
        ]

    def validate_user_id(self, field):
        if field.data is not None and not field.errors and not service.user_exists(field.data):
            raise ValidationError(_l("Det finns inget konto med id %(id)s.", id=field.data))

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("Slutdatumet ligger före startdatumet."))

    def to_query(self) -> service.EventQuery:
        return service.EventQuery(
            object_type=self.object_type.data,
            object_id=self.object_id.data,
            user_id=self.user_id.data,
            agency_id=self.agency_id.data,
            action=self.action.data,
            outcome=self.outcome.data or None,
            first_day=self.date_from.data,
            last_day=self.date_to.data,
        )


class AccessReportForm(_GetForm):
    object_type = StringField(
        _l("Objekttyp"), filters=[_none_if_blank], validators=[Optional(), Length(max=32, message=_TOO_LONG), _OBJECT_TYPE]
    )
    object_id = StringField(
        _l("Ärendekod eller objekt-id"),
        filters=[_none_if_blank],
        validators=[DataRequired(_l("Ange ärendekoden eller objektets id.")), Length(max=64, message=_TOO_LONG), _OBJECT_ID],
    )
