"""Forms for the CSV import and for API tokens (administrators)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

SCOPE_LABELS = {
    "incidents:write": _l("Skicka händelser (incidents:write)"),
    "overview:read": _l("Läsa lägesbildens siffror (overview:read)"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ImportUploadForm(FlaskForm):
    file = FileField(_l("CSV-fil"), validators=[FileRequired(_l("Välj en CSV-fil."))])
    organisation_id = SelectField(_l("Rapporterande organisation"), coerce=int, validate_choice=True)


class ImportConfirmForm(FlaskForm):
    accept = BooleanField(_l("Markera som godkända (redan granskade i källsystemet)"))


class ImportCancelForm(FlaskForm):
    """Discarding an upload needs an explicit tick (the file is destroyed and must be uploaded again)."""

    confirmed = BooleanField(_l("Ja, radera den uppladdade filen"),
                             validators=[DataRequired(_l("Bekräfta åtgärden genom att kryssa i rutan."))])


def category_map_form(unknown: list, choices: list[tuple[str, str]], formdata=None):
    """One select per unrecognised source category (``unknown`` = [[name, rows], ...]): one of ours, or none.

    The fields are ``map_0``, ``map_1``, ... in the review's order; a value that is not one of ``choices``
    (a forged or stale id) is a field error.
    """

    class CategoryMapForm(FlaskForm):
        pass

    options = [("", str(_l("– lämna raderna som fel –")))] + choices
    for index, (name, _rows) in enumerate(unknown):
        setattr(CategoryMapForm, f"map_{index}", SelectField(name, choices=options, default="", validate_choice=True))
    form = CategoryMapForm(formdata=formdata) if formdata is not None else CategoryMapForm()
    form.sources = [(getattr(form, f"map_{i}"), name, rows) for i, (name, rows) in enumerate(unknown)]
    return form


class ForgetAliasForm(FlaskForm):
    confirmed = BooleanField(_l("Ja, glöm mappningen"),
                             validators=[DataRequired(_l("Bekräfta åtgärden genom att kryssa i rutan."))])


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Namn"), validators=[DataRequired(_l("Ange ett namn.")), Length(max=120)])
    organisation_id = SelectField(_l("Organisation"), coerce=int, validate_choice=True)
    scopes = MultiCheckboxField(_l("Behörigheter"), choices=list(SCOPE_LABELS.items()),
                                validators=[DataRequired(_l("Välj minst en behörighet."))])


class RevokeTokenForm(FlaskForm):
    confirmed = BooleanField(_l("Ja, återkalla nyckeln"),
                             validators=[DataRequired(_l("Bekräfta åtgärden genom att kryssa i rutan."))])
