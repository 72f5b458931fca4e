"""Forms for agencies and user accounts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.admin.models import AgencyKind
from app.security.permissions import ROLES

AGENCY_KIND_LABELS = {
    AgencyKind.SOCIAL_SERVICES: _l("Socialtjänst"),
    AgencyKind.POLICE: _l("Polis"),
    AgencyKind.PROBATION: _l("Kriminalvård"),
    AgencyKind.SCHOOL: _l("Skola"),
    AgencyKind.YOUTH: _l("Fritid/ungdom"),
    AgencyKind.HOUSING: _l("Bostadsbolag"),
    AgencyKind.EMPLOYMENT: _l("Arbetsförmedling"),
    AgencyKind.HEALTH: _l("Hälso- och sjukvård"),
    AgencyKind.SECURITY_COMPANY: _l("Bevakningsföretag"),
    AgencyKind.NGO: _l("Idéburen organisation"),
    AgencyKind.OTHER: _l("Övrigt"),
}

ROLE_LABELS = {
    "coordinator": _l("Avhopparsamordnare"),
    "partner": _l("Handläggare partnermyndighet"),
    "process_leader": _l("Processledare"),
    "reporter": _l("Rapportör"),
    "analyst": _l("Analytiker / EST"),
    "admin": _l("Administratör"),
    "auditor": _l("Granskare / dataskyddsombud"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AgencyForm(FlaskForm):
    name = StringField(_l("Namn"), validators=[DataRequired(_l("Ange ett namn.")), Length(max=120)])
    kind = SelectField(
        _l("Typ av verksamhet"),
        choices=[(k.value, label) for k, label in AGENCY_KIND_LABELS.items()],
        validators=[DataRequired()],
    )
    active = BooleanField(_l("Aktiv"), default=True)


class UserForm(FlaskForm):
    email = EmailField(
        _l("E-postadress"),
        validators=[DataRequired(_l("Ange en e-postadress.")), Email(_l("Ogiltig e-postadress.")), Length(max=255)],
    )
    full_name = StringField(_l("Namn"), validators=[DataRequired(_l("Ange ett namn.")), Length(max=120)])
    agency_id = SelectField(_l("Myndighet"), coerce=int, validate_choice=True)
    roles = MultiCheckboxField(
        _l("Roller"),
        choices=[(r, ROLE_LABELS[r]) for r in ROLES],
        validators=[DataRequired(_l("Välj minst en roll."))],
    )


class NewUserForm(UserForm):
    password = PasswordField(
        _l("Startlösenord"),
        validators=[
            DataRequired(_l("Ange ett lösenord.")),
            Length(min=12, max=128, message=_l("Lösenordet ska vara 12–128 tecken.")),
        ],
    )
    password_confirm = PasswordField(
        _l("Upprepa lösenordet"), validators=[EqualTo("password", _l("Lösenorden stämmer inte överens."))]
    )


class ConfirmForm(FlaskForm):
    """A button-only form; its CSRF token proves the request came from our page."""


class DestructiveConfirmForm(FlaskForm):
    """A destructive action needs an explicit tick in addition to the button."""

    confirmed = BooleanField(validators=[DataRequired(_l("Bekräfta åtgärden genom att kryssa i rutan."))])
