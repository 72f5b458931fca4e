"""Forms of the meeting pages: a meeting, an action item, its status, deleting, and the meeting list filter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import LocalDateField
from app.processes.form_fields import CHOOSE, TOO_LONG
from app.processes.form_fields import safe_id as to_id
from app.processes.form_fields import select as _select
from app.processes.form_fields import version_field as _version_field
from app.processes.labels import WORK_STATUS_LABELS
from app.processes.meeting_common import MAX_DECISION, MAX_ITEM_TITLE, MAX_NOTE, MAX_TEXT, MAX_TITLE



class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        if self.data:
            known = {value for value, _label in self.choices}
            if any(value not in known for value in self.data):
                raise ValidationError(CHOOSE)


def _status_field():
    return _select(_l("Status"), choices=[(s.value, label) for s, label in WORK_STATUS_LABELS.items()])


class MeetingForm(FlaskForm):
    title = StringField(_l("Rubrik"), validators=[DataRequired(_l("Ange en rubrik.")),
                                                  Length(max=MAX_TITLE, message=TOO_LONG)])
    held_on = LocalDateField(_l("Datum"), validators=[DataRequired(_l("Ange mötets datum."))])
    attendees = MultiCheckboxField(_l("Deltagande myndigheter"), coerce=to_id)
    minutes = TextAreaField(_l("Protokoll"), validators=[Optional(), Length(max=MAX_TEXT, message=TOO_LONG)])
    decisions = TextAreaField(_l("Beslut (ett per rad)"),
                              validators=[Optional(), Length(max=MAX_TEXT, message=TOO_LONG)])

    def set_agencies(self, agencies) -> None:
        self.attendees.choices = [(a.id, a.name) for a in agencies]


class MeetingEditForm(MeetingForm):
    focus = TextAreaField(_l("Fokusområden"), validators=[Optional(), Length(max=MAX_TEXT, message=TOO_LONG)])
    version = _version_field()


class ActionItemForm(FlaskForm):
    title = StringField(_l("Åtgärd"), validators=[DataRequired(_l("Ange vad som ska göras.")),
                                                  Length(max=MAX_ITEM_TITLE, message=TOO_LONG)])
    agency_id = _select(_l("Ansvarig myndighet"), coerce=to_id,
                        validators=[InputRequired(_l("Välj en myndighet."))])
    responsible_id = _select(_l("Ansvarig person (valfritt)"), coerce=to_id)
    due_date = LocalDateField(_l("Klart senast"), validators=[DataRequired(_l("Ange ett datum."))])
    status = _status_field()

    def set_choices(self, agencies, people) -> None:
        self.agency_id.choices = [("", _l("Välj myndighet"))] + [(a.id, a.name) for a in agencies]
        self.responsible_id.choices = [("", _l("Ingen namngiven person"))] + [(uid, label) for uid, label, _a in people]

    def validate_agency_id(self, field):
        if field.data is None:
            raise ValidationError(_l("Välj en myndighet."))


class ActionItemEditForm(ActionItemForm):
    version = _version_field()


class DecisionForm(FlaskForm):
    """A decision of the meeting and, in the same step, the action item it becomes."""

    decision = TextAreaField(_l("Beslut"), validators=[DataRequired(_l("Skriv beslutet.")),
                                                       Length(max=MAX_DECISION, message=TOO_LONG)])
    make_action = BooleanField(_l("Beslutet blir en åtgärdspunkt"))
    title = StringField(_l("Åtgärd"), validators=[Optional(), Length(max=MAX_ITEM_TITLE, message=TOO_LONG)])
    agency_id = _select(_l("Ansvarig myndighet"), coerce=to_id)
    responsible_id = _select(_l("Ansvarig person (valfritt)"), coerce=to_id)
    due_date = LocalDateField(_l("Klart senast"), validators=[Optional()])
    version = _version_field()

    def set_choices(self, agencies, people) -> None:
        self.agency_id.choices = [("", _l("Välj myndighet"))] + [(a.id, a.name) for a in agencies]
        self.responsible_id.choices = [("", _l("Ingen namngiven person"))] + [(uid, label) for uid, label, _a in people]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.make_action.data:
            return valid
        # An action item needs what it is, who owns it and when it is due; asked for only when it is wanted.
        for field, message in ((self.title, _l("Ange vad som ska göras.")),
                               (self.agency_id, _l("Välj den myndighet som ansvarar för åtgärden.")),
                               (self.due_date, _l("Ange när åtgärden ska vara klar (ÅÅÅÅ-MM-DD)."))):
            if field.data in (None, "") and not field.errors:
                field.errors = [*field.errors, message]
                valid = False
        return valid


class ActionStatusForm(FlaskForm):
    """What the owning agency may change: the status and the completion note, nothing else."""

    status = _status_field()
    completion_note = TextAreaField(_l("Kommentar när punkten är klar (valfritt)"),
                                    validators=[Optional(), Length(max=MAX_NOTE, message=TOO_LONG)])
    version = _version_field()


class DeleteForm(FlaskForm):
    confirmed = BooleanField(_l("Jag vill ta bort mötet, dess protokoll och åtgärdspunkter. Det går inte att ångra."),
                             validators=[DataRequired(_l("Bekräfta borttagningen genom att kryssa i rutan."))])


class OpenEstForm(FlaskForm):
    """A button-only form; the CSRF token proves the request came from our page."""


class MeetingFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Sök på rubrik"), validators=[Optional(), Length(max=100, message=TOO_LONG)])
    kind = _select(_l("Typ av möte"), validators=[Optional()])

    def set_kinds(self, labels) -> None:
        self.kind.choices = [("", _l("Alla"))] + [(k.value, label) for k, label in labels.items()]
