"""Forms of the process pages: the process list filter, a process, a milestone, a milestone's status, delete.

Ids chosen in selects are coerced without raising (garbage becomes -1) and
checked by the service, which says in Swedish what is wrong (an unknown
agency, one that does not take part, an officer of another agency ...).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import LocalDateField
from app.processes.form_fields import CHOOSE, TOO_LONG, safe_id
from app.processes.form_fields import select as _select
from app.processes.form_fields import strip as _strip
from app.processes.form_fields import version_field as _version_field
from app.processes.labels import PROCESS_STATUS_LABELS, PROCESS_TYPE_LABELS, WORK_STATUS_LABELS
from app.processes.service import MAX_GOAL, MAX_NAME, MAX_NOTE, MAX_TITLE

ANY = ("", _l("Alla"))


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multi-select; any posted id reaches the service, which refuses unknown ones."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce", safe_id)
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)


def _id_select(label, **kwargs) -> SelectField:
    """A select of ids whose value the service checks (so a forged id gets the service's clear message)."""
    return SelectField(label, coerce=safe_id, validate_choice=False, **kwargs)


def _not_before(other: str, message):
    def check(form, field):
        first = form[other].data
        if field.data and first and field.data < first:
            raise ValidationError(message)

    return check


class ProcessFilterForm(FlaskForm):
    """Filters of the process list (GET: nothing changes, no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Sök på namn"), filters=[_strip], validators=[Optional(), Length(max=100, message=TOO_LONG)])
    status = _select(_l("Status"), choices=[ANY, *_choices(PROCESS_STATUS_LABELS)], default="")
    type = _select(_l("Typ"), choices=[ANY, *_choices(PROCESS_TYPE_LABELS)], default="")
    agency = SelectField(_l("Deltagande myndighet"), coerce=safe_id, default=None,
                         invalid_choice_message=CHOOSE, invalid_value_message=CHOOSE)

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.agency.choices = [ANY, *agencies]


class ProcessForm(FlaskForm):
    name = StringField(_l("Namn"), filters=[_strip], validators=[DataRequired(_l("Ange ett namn.")),
                                                                 Length(max=MAX_NAME, message=TOO_LONG)])
    type = _select(_l("Typ av process"), choices=_choices(PROCESS_TYPE_LABELS))
    status = _select(_l("Status"), choices=_choices(PROCESS_STATUS_LABELS))
    owner_id = _id_select(_l("Ägare (processledare)"))
    owner_agency_id = _id_select(_l("Ägande myndighet"))
    agency_ids = MultiCheckboxField(_l("Deltagande myndigheter"))
    goal = TextAreaField(_l("Mål"), validators=[Length(max=MAX_GOAL, message=TOO_LONG)])
    start_date = LocalDateField(_l("Startdatum"), validators=[DataRequired(_l("Ange ett startdatum."))])
    end_date = LocalDateField(_l("Slutdatum (valfritt)"), validators=[
        Optional(), _not_before("start_date", _l("Slutdatum kan inte ligga före startdatum."))])
    area_ids = MultiCheckboxField(_l("Målområden"))
    category_ids = MultiCheckboxField(_l("Händelsekategorier"))

    def set_choices(self, *, owners, agencies, areas, categories) -> None:
        self.owner_id.choices = owners
        self.owner_agency_id.choices = agencies
        self.agency_ids.choices = agencies
        self.area_ids.choices = areas
        self.category_ids.choices = categories

    def values(self) -> dict:
        return {name: self[name].data for name in ("name", "type", "status", "owner_id", "owner_agency_id",
                                                   "agency_ids", "goal", "start_date", "end_date", "area_ids",
                                                   "category_ids")}


class ProcessEditForm(ProcessForm):
    version = _version_field()


class MilestoneForm(FlaskForm):
    title = StringField(_l("Rubrik"), filters=[_strip], validators=[DataRequired(_l("Ange en rubrik.")),
                                                                    Length(max=MAX_TITLE, message=TOO_LONG)])
    agency_id = _id_select(_l("Ägande myndighet"))
    responsible_id = _id_select(_l("Ansvarig handläggare (valfritt)"))
    due_date = LocalDateField(_l("Slutdatum"), validators=[DataRequired(_l("Ange ett slutdatum."))])
    status = _select(_l("Status"), choices=_choices(WORK_STATUS_LABELS))
    depends_on_ids = MultiCheckboxField(_l("Väntar på (beroenden)"))
    completion_note = TextAreaField(_l("Kommentar vid avslut (valfritt)"),
                                    validators=[Length(max=MAX_NOTE, message=TOO_LONG)])

    def set_choices(self, *, agencies, officers, milestones) -> None:
        self.agency_id.choices = agencies
        self.responsible_id.choices = [("", _l("Ingen namngiven handläggare"))] + officers
        self.depends_on_ids.choices = milestones

    def values(self) -> dict:
        return {name: self[name].data for name in ("title", "agency_id", "responsible_id", "due_date", "status",
                                                   "depends_on_ids", "completion_note")}


class MilestoneEditForm(MilestoneForm):
    version = _version_field()


class MilestoneStatusForm(FlaskForm):
    """What the owning agency may change: the status and the completion note, nothing else."""

    status = _select(_l("Status"), choices=_choices(WORK_STATUS_LABELS))
    completion_note = TextAreaField(_l("Kommentar vid avslut (valfritt)"),
                                    validators=[Length(max=MAX_NOTE, message=TOO_LONG)])
    version = _version_field()


class DeleteForm(FlaskForm):
    """A destructive action needs an explicit tick in addition to the button."""

    confirmed = BooleanField(validators=[DataRequired(_l("Bekräfta borttagningen genom att kryssa i rutan."))])
