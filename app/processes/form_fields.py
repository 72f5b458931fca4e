"""Field helpers shared by the process-domain forms (processes, meetings, interventions)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField
from wtforms.validators import InputRequired, Regexp

TOO_LONG = _l("Högst %(max)d tecken.")
CHOOSE = _l("Välj ett alternativ i listan.")

#: A missing or garbled hidden version field (the form was not the one this page sent).
VERSION_MESSAGE = _l("Formuläret saknar uppgift om vilken version du ändrar. Ladda om sidan och gör om ändringen. "
                     "Inget har sparats.")


def safe_id(value):
    """A select value as an id: '' → None, anything that is not a whole number → -1 (never an id, never a choice)."""
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return -1


def strip(value):
    return value.strip() if isinstance(value, str) else value


def select(label, **kwargs) -> SelectField:
    """A select whose invalid value gets the Swedish "choose in the list" message."""
    return SelectField(label, invalid_choice_message=CHOOSE, invalid_value_message=CHOOSE, **kwargs)


def version_field() -> HiddenField:
    """The version the form was opened at (optimistic locking)."""
    return HiddenField(validators=[InputRequired(VERSION_MESSAGE), Regexp(r"^\d{1,9}$", message=VERSION_MESSAGE)])


def show_hidden_errors(form, status: int) -> int:
    """Put a refused form's hidden-field error (the version) above the form, where it can be seen; returns status.

    A hidden field has no place on the page to show its error, so a refused form with no form-level message
    gets the version message, or a general one.
    """
    if status == 400 and form.errors and not form.form_errors:
        hidden = form.errors.get("version")
        form.form_errors.append(hidden[0] if hidden else _("Rätta de markerade uppgifterna. Inget har sparats."))
    return status
