"""Forms of the case module, one module per part (see app/cases/views/__init__.py).

Shared pieces live here: choice lists from the labels, and date validators.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

#: Longest free text accepted anywhere in a case (notes, narratives, goals ...).
MAX_TEXT = 10_000
MAX_SHORT_TEXT = 500


def choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


class NotBefore:
    """The date must not be before the date in another field of the form (e.g. due ≥ start)."""

    def __init__(self, other: str, message=None):
        self.other = other
        self.message = message or _l("Datumet kan inte ligga före startdatumet.")

    def __call__(self, form, field):
        other = form[self.other].data
        if field.data and other and field.data < other:
            raise ValidationError(self.message)
