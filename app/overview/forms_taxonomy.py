"""Forms of the area and category pages (administrators)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

_TOO_LONG = _l("Högst %(max)d tecken.")
_CODE = Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Koden får bara innehålla bokstäverna a–z, siffror, - och _."))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class WholeNumberField(IntegerField):
    """An integer with a Swedish message when it does not parse."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("Ange ett heltal."))) from exc


class AreaForm(FlaskForm):
    name = StringField(_l("Namn"), filters=[_strip],
                       validators=[DataRequired(_l("Ange ett namn.")), Length(max=120, message=_TOO_LONG)])
    code = StringField(_l("Kod"), filters=[_strip],
                       validators=[DataRequired(_l("Ange en kod.")), Length(max=40, message=_TOO_LONG), _CODE])
    polygon = TextAreaField(_l("Polygon (JSON)"), filters=[_strip],
                            validators=[Optional(), Length(max=20000, message=_TOO_LONG)],
                            render_kw={"rows": 6, "spellcheck": "false"})
    active = BooleanField(_l("Aktivt (kan väljas i rapportformuläret)"), default=True)


class CategoryForm(FlaskForm):
    code = StringField(_l("Kod"), filters=[_strip],
                       validators=[DataRequired(_l("Ange en kod.")), Length(max=40, message=_TOO_LONG), _CODE])
    name_sv = StringField(_l("Namn på svenska"), filters=[_strip],
                          validators=[DataRequired(_l("Ange ett svenskt namn.")), Length(max=120, message=_TOO_LONG)])
    name_en = StringField(_l("Namn på engelska"), filters=[_strip],
                          validators=[DataRequired(_l("Ange ett engelskt namn.")), Length(max=120, message=_TOO_LONG)])
    sort_order = WholeNumberField(_l("Ordning"), default=0, validators=[
        Optional(), NumberRange(min=0, max=100000, message=_l("Ange ett tal mellan 0 och 100000."))])
    active = BooleanField(_l("Aktiv (kan väljas i rapportformuläret)"), default=True)


_PROPERTY = [Optional(), Length(max=60, message=_TOO_LONG)]


class AreaImportForm(FlaskForm):
    """Upload of a GeoJSON file of areas: only previewed, nothing changes yet."""

    file = FileField(_l("GeoJSON-fil"), validators=[FileRequired(_l("Välj en GeoJSON-fil."))])
    name_property = StringField(_l("Egenskap med namnet (valfritt)"), filters=[_strip], validators=_PROPERTY)
    code_property = StringField(_l("Egenskap med koden (valfritt)"), filters=[_strip], validators=_PROPERTY)


class AreaImportConfirmForm(FlaskForm):
    """Confirming (or re-reading with other properties) a staged GeoJSON file."""

    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    name_property = StringField(_l("Egenskap med namnet"), filters=[_strip], validators=_PROPERTY)
    code_property = StringField(_l("Egenskap med koden"), filters=[_strip], validators=_PROPERTY)
