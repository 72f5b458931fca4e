"""Forms of the plan pages: a plan item (coordinator), its status (partner), a follow-up, approving a version."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.cases.forms import MAX_TEXT, NotBefore, choices
from app.cases.forms.cases import SwedishDateField, not_in_future
from app.cases.labels import PLAN_AREA_LABELS, PLAN_PART_LABELS, PLAN_STATUS_LABELS
from app.cases.plan import MAX_GOAL

_TOO_LONG = _l("Högst %(max)d tecken.")
_CHOOSE = _l("Välj ett alternativ i listan.")


def _id(value):
    """'' → None (a choice only where "none" is offered); anything not a whole number → -1, never a choice."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _select(label, **kwargs) -> SelectField:
    """A select whose refusal of an unknown or forged value says so in Swedish."""
    return SelectField(label, invalid_choice_message=_CHOOSE, invalid_value_message=_CHOOSE, **kwargs)


def _status_field():
    return _select(_l("Status"), choices=choices(PLAN_STATUS_LABELS))


def _version_field():
    """The item version the form was opened at (optimistic locking)."""
    return HiddenField(validators=[InputRequired(), Regexp(r"^\d{1,9}$")])


class PlanItemForm(FlaskForm):
    """A plan item as the coordinator writes it."""

    part = _select(_l("Del av planen"), choices=choices(PLAN_PART_LABELS))
    area = _select(_l("Område"), choices=choices(PLAN_AREA_LABELS))
    goal = TextAreaField(_l("Mål"), validators=[DataRequired(_l("Ange ett mål.")), Length(max=MAX_GOAL, message=_TOO_LONG)])
    responsible_agency_id = _select(_l("Ansvarig myndighet"), coerce=_id)
    officer_id = _select(_l("Ansvarig handläggare (valfritt)"), coerce=_id)
    start_on = SwedishDateField(_l("Startdatum"), validators=[DataRequired(_l("Ange ett startdatum."))])
    due_on = SwedishDateField(
        _l("Slutdatum"),
        validators=[DataRequired(_l("Ange ett slutdatum.")),
                    NotBefore("start_on", _l("Slutdatum kan inte ligga före startdatum."))],
    )

    def set_choices(self, agencies, officers) -> None:
        self.responsible_agency_id.choices = agencies
        self.officer_id.choices = [("", _l("Ingen namngiven handläggare"))] + officers


class PlanItemEditForm(PlanItemForm):
    status = _status_field()
    version = _version_field()


class PlanStatusForm(FlaskForm):
    """What a partner may change on their agency's item: the status, nothing else."""

    status = _status_field()
    version = _version_field()


class FollowUpForm(FlaskForm):
    text = TextAreaField(_l("Uppföljning"), validators=[DataRequired(_l("Skriv vad som har hänt.")),
                                                         Length(max=MAX_TEXT, message=_TOO_LONG)])
    status = _select(_l("Ny status (valfritt)"), choices=[("", _l("Oförändrad"))] + choices(PLAN_STATUS_LABELS),
                         validators=[Optional()])
    version = _version_field()


class ApproveForm(FlaskForm):
    participant_agreed_on = SwedishDateField(
        _l("Deltagaren godkände planen den (valfritt)"),
        validators=[Optional(), not_in_future(_l("Datumet för deltagarens godkännande kan inte ligga i framtiden."))],
    )
