"""The edit form of a yearly document: one textarea per section of its kind, and the version it was opened at."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from app.processes.form_fields import version_field
from app.processes.models import YearlyDocumentKind
from app.processes.yearly import MAX_SECTION, SECTIONS


class _YearlyForm(FlaskForm):
    #: The document version the form was opened at (0: not created yet); a stale one is refused with 409,
    #: a missing or garbled one with 400.
    version = version_field()


_FORMS: dict[YearlyDocumentKind, type[_YearlyForm]] = {}


def form_class(kind: YearlyDocumentKind) -> type[_YearlyForm]:
    """The form class of a document kind (built once per kind)."""
    if kind not in _FORMS:
        fields = {
            key: TextAreaField(title, validators=[Optional(), Length(
                max=MAX_SECTION, message=_l("Texten får vara högst 20 000 tecken."))])
            for key, title in SECTIONS[kind]
        }
        _FORMS[kind] = type(f"Yearly{kind.name.title().replace('_', '')}Form", (_YearlyForm,), fields)
    return _FORMS[kind]


def section_keys(kind: YearlyDocumentKind) -> list[str]:
    return [key for key, _title in SECTIONS[kind]]
