"""Forms of the plan pages: a plan item (coordinator), its status (partner), a follow-up, approving a version."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.cases.forms import (
    MAX_TEXT,
    TOO_LONG,
    NotBefore,
    choices,
    not_in_future,
    optional_id,
    select_field,
)
from app.cases.labels import PLAN_AREA_LABELS, PLAN_PART_LABELS, PLAN_STATUS_LABELS
from app.cases.plan import MAX_GOAL
from app.forms import LocalDateField

def _status_field():
    return select_field(_l("Status"), choices=choices(PLAN_STATUS_LABELS))


def _version_field():
    """The item version the form was opened at (optimistic locking)."""
    return HiddenField(validators=[InputRequired(), Regexp(r"^\d{1,9}$")])


class PlanItemForm(FlaskForm):
    """A plan item as the coordinator writes it."""

    part = select_field(_l("Del av planen"), choices=choices(PLAN_PART_LABELS))
    area = select_field(_l("Område"), choices=choices(PLAN_AREA_LABELS))
    goal = TextAreaField(_l("Mål"),
                         validators=[DataRequired(_l("Ange ett mål.")), Length(max=MAX_GOAL, message=TOO_LONG)])
    responsible_agency_id = select_field(_l("Ansvarig myndighet"), coerce=optional_id,
                                         validators=[DataRequired(_l("Välj ansvarig myndighet."))])
    officer_id = select_field(_l("Ansvarig handläggare (valfritt)"), coerce=optional_id)
    start_on = LocalDateField(_l("Startdatum"), validators=[DataRequired(_l("Ange ett startdatum."))])
    due_on = LocalDateField(
        _l("Slutdatum"),
        validators=[DataRequired(_l("Ange ett slutdatum.")),
                    NotBefore("start_on", _l("Slutdatum kan inte ligga före startdatum."))],
    )

    def set_choices(self, agencies, officers) -> None:
        self.responsible_agency_id.choices = [("", _l("Välj myndighet")), *agencies]
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
                                                         Length(max=MAX_TEXT, message=TOO_LONG)])
    status = select_field(_l("Ny status (valfritt)"), choices=[("", _l("Oförändrad"))] + choices(PLAN_STATUS_LABELS),
                         validators=[Optional()])
    version = _version_field()


class ApproveForm(FlaskForm):
    participant_agreed_on = LocalDateField(
        _l("Deltagaren godkände planen den (valfritt)"),
        validators=[Optional(), not_in_future(_l("Datumet för deltagarens godkännande kan inte ligga i framtiden."))],
    )
