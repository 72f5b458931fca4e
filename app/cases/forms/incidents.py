"""The form that links an incident report to a case by the report's id."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.cases.forms import TOO_LONG, blank_to_none


class IncidentLinkForm(FlaskForm):
    incident_id = StringField(_l("Händelsens id"), filters=[blank_to_none],
                              validators=[DataRequired(_l("Ange händelsens id.")), Length(max=100, message=TOO_LONG)])
