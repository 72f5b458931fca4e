"""Forms for case documents (app/documents): upload one or several files, replace, remove, reclassify."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.documents.labels import KIND_LABELS
from app.documents.service import MAX_REASON, MAX_TITLE
from app.forms import LocalDateField

TOO_LONG = _l("Texten är för lång.")
STRIP_LABEL = _l("Ta bort metadata ur PDF-filer (författare, program, XMP): de namnger ofta den som skannade")


class DocumentUploadForm(FlaskForm):
    target = SelectField(_l("Bifoga till"), validate_choice=True)
    kind = SelectField(_l("Sorts uppgifter"), validate_choice=True)
    files = MultipleFileField(_l("Filer"), validators=[FileRequired(_l("Välj minst en fil."))])
    title = StringField(_l("Titel"), validators=[Optional(), Length(max=MAX_TITLE, message=TOO_LONG)])
    document_date = LocalDateField(_l("Dokumentets datum"), validators=[Optional()])
    strip_metadata = BooleanField(STRIP_LABEL, default=True)


class DocumentReplaceForm(FlaskForm):
    file = FileField(_l("Ny version"), validators=[FileRequired(_l("Välj en fil."))])
    strip_metadata = BooleanField(STRIP_LABEL, default=True)


class DocumentRemoveForm(FlaskForm):
    reason = TextAreaField(_l("Varför tas dokumentet bort?"), validators=[
        DataRequired(_l("Ange varför dokumentet tas bort.")), Length(max=MAX_REASON, message=TOO_LONG)])
    confirmed = BooleanField(_l("Ja, ta bort dokumentet"),
                             validators=[DataRequired(_l("Bekräfta åtgärden genom att kryssa i rutan."))])


class DocumentKindForm(FlaskForm):
    kind = SelectField(_l("Ny sort"), choices=[(k.value, label) for k, label in KIND_LABELS.items()],
                       validate_choice=True)
    confirmed = BooleanField(_l("Ja, flytta dokumentet: vem som får se det ändras"),
                             validators=[DataRequired(_l("Bekräfta åtgärden genom att kryssa i rutan."))])


class DocumentStripForm(FlaskForm):
    confirmed = BooleanField(_l("Ja, ta bort metadata ur den lagrade filen"),
                             validators=[DataRequired(_l("Bekräfta åtgärden genom att kryssa i rutan."))])
