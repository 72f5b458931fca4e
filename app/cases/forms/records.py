"""Forms for consents, threat assessments, case notes and case meetings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, FormField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.admin.forms import MultiCheckboxField
from app.cases.forms import (
    MAX_SHORT_TEXT,
    MAX_TEXT,
    TOO_LONG,
    NotBefore,
    choices,
    optional_id,
    select_field,
)
from app.cases.labels import (CONSENT_KIND_LABELS, CONSENT_METHOD_LABELS, PLAN_AREA_LABELS, PLAN_PART_LABELS,
                              THREAT_LEVEL_LABELS)
from app.cases.models import today_local
from app.cases.records import MAX_DECISIONS
from app.forms import LocalDateField

BLANK = [("", "–")]


def _date(label, message, **kwargs):
    return LocalDateField(label, validators=[DataRequired(message)], **kwargs)


class ConsentForm(FlaskForm):
    agency_id = select_field(_l("Mottagande myndighet"), coerce=optional_id,
                             validators=[DataRequired(_l("Välj mottagande myndighet."))])
    kinds = MultiCheckboxField(_l("Uppgifter som samtycket gäller"), choices=choices(CONSENT_KIND_LABELS),
                               validators=[DataRequired(_l("Välj minst ett slag av uppgifter."))])
    given_on = _date(_l("Lämnat den"), _l("Ange när samtycket lämnades."), default=today_local)
    valid_until = LocalDateField(_l("Giltigt till och med"), validators=[
        DataRequired(_l("Ange hur länge samtycket gäller.")),
        NotBefore("given_on", _l("Giltighetstiden kan inte sluta före det datum samtycket lämnades.")),
    ])
    method = select_field(_l("Hur samtycket lämnades"), choices=BLANK + choices(CONSENT_METHOD_LABELS), default="",
                          validators=[DataRequired(_l("Ange hur samtycket lämnades."))])
    documentation = TextAreaField(_l("Dokumentation (var och hur samtycket är dokumenterat)"),
                                  validators=[Optional(), Length(max=MAX_SHORT_TEXT, message=TOO_LONG)])


class AssessmentForm(FlaskForm):
    assessed_on = _date(_l("Bedömningsdatum"), _l("Ange bedömningsdatum."), default=today_local)
    agency_id = select_field(_l("Bedömande myndighet"), coerce=optional_id,
                             validators=[DataRequired(_l("Välj bedömande myndighet."))])
    level = select_field(_l("Hotnivå"), choices=choices(THREAT_LEVEL_LABELS))
    narrative = TextAreaField(_l("Hotbild och riskbedömning"),
                              validators=[DataRequired(_l("Beskriv hotbilden.")),
                                          Length(max=MAX_TEXT, message=TOO_LONG)])
    next_review_on = _date(_l("Nästa omprövning"), _l("Ange datum för nästa omprövning."))


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Ny journalanteckning"),
                         validators=[DataRequired(_l("Skriv anteckningen.")), Length(max=MAX_TEXT, message=TOO_LONG)])


class DecisionForm(Form):
    """One decision of a meeting; a row left completely blank is ignored, a partly filled one is an error."""

    part = select_field(_l("Del av planen"), choices=BLANK + choices(PLAN_PART_LABELS), default="")
    area = select_field(_l("Område"), choices=BLANK + choices(PLAN_AREA_LABELS), default="")
    goal = StringField(_l("Beslut/mål"), validators=[Length(max=MAX_SHORT_TEXT, message=TOO_LONG)])
    responsible_agency_id = select_field(_l("Ansvarig myndighet"), coerce=optional_id)
    due_on = LocalDateField(_l("Klart senast"), validators=[Optional()])

    def is_blank(self) -> bool:
        return not any(field.raw_data and str(field.raw_data[0]).strip() for field in self)

    def validate(self, extra_validators=None) -> bool:
        if self.is_blank():
            return True
        valid = super().validate(extra_validators)
        for field in self:
            if not field.errors and field.data in (None, ""):
                field.errors.append(_l("Fyll i hela raden eller lämna den helt tom."))
                valid = False
        return valid

    def decision(self) -> dict:
        """The row as app.cases.plan.create_item's arguments."""
        return {"part": self.part.data, "area": self.area.data, "goal": self.goal.data,
                "responsible_agency": self.responsible_agency_id.data, "due_on": self.due_on.data}


class MeetingForm(FlaskForm):
    """A meeting and up to MAX_DECISIONS decision rows (fields decision_0 ... decision_N, fixed names)."""

    held_on = _date(_l("Mötesdatum"), _l("Ange mötesdatum."), default=today_local)
    agency_ids = MultiCheckboxField(_l("Deltagande myndigheter"), coerce=int,
                                    validators=[DataRequired(_l("Välj minst en myndighet som deltog."))])
    minutes = TextAreaField(_l("Mötesanteckningar"),
                            validators=[DataRequired(_l("Skriv mötesanteckningar.")),
                                        Length(max=MAX_TEXT, message=TOO_LONG)])

    @property
    def decisions(self) -> list[DecisionForm]:
        return [self[f"decision_{index}"].form for index in range(MAX_DECISIONS)]

    def set_agency_choices(self, active: list[tuple[int, str]]) -> None:
        self.agency_ids.choices = active
        for row in self.decisions:
            row.responsible_agency_id.choices = BLANK + active

    def filled_decisions(self) -> list[tuple[int, dict]]:
        """(row index, decision) for each row that is filled in."""
        return [(index, row.decision()) for index, row in enumerate(self.decisions) if not row.is_blank()]


# Fixed field names per row: WTForms' FieldList renumbers rows when one is left out, which would
# read a later row twice.
for _index in range(MAX_DECISIONS):
    setattr(MeetingForm, f"decision_{_index}", FormField(DecisionForm))
