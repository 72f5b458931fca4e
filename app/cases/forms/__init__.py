"""Forms of the case module, one module per part (see app/cases/views/__init__.py).

Shared pieces live here: text limits and the "too long" message, choice lists
from the labels, the coercion of select values to ids, and date validators
(the date field itself is app.forms.LocalDateField, shared with the auditor's forms).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import ValidationError

from app.cases.models import today_local

#: Longest free text accepted anywhere in a case (notes, narratives, goals ...).
MAX_TEXT = 10_000
MAX_SHORT_TEXT = 500
TOO_LONG = _l("Högst %(max)d tecken.")
CHOOSE = _l("Välj ett alternativ i listan.")


def choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


def blank_to_none(value):
    """A form filter: surrounding white space removed, an empty value becomes None."""
    if isinstance(value, str):
        value = value.strip()
    return value or None


def optional_id(value):
    """Coerce a select value to an id: '' → None (a choice only where "none" is offered); anything that is not
    a whole number → -1, which is never a choice, so the select refuses it with its own message."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def select_field(label, **kwargs) -> SelectField:
    """A select whose refusal of an unknown or forged value says so in Swedish."""
    return SelectField(label, invalid_choice_message=CHOOSE, invalid_value_message=CHOOSE, **kwargs)


def not_in_future(message):
    """A validator: the date must not lie after today (Europe/Stockholm)."""

    def check(form, field):
        if field.data and field.data > today_local():
            raise ValidationError(message)

    return check


class NotBefore:
    """The date must not be before the date in another field of the form (e.g. due ≥ start)."""

    def __init__(self, other: str, message=None):
        self.other = other
        self.message = message or _l("Datumet kan inte ligga före startdatumet.")

    def __call__(self, form, field):
        other = form[self.other].data
        if field.data and other and field.data < other:
            raise ValidationError(self.message)
