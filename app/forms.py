"""Form fields shared by the domains' forms."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import StopValidation, ValidationError


class LocalDateField(DateField):
    """A date typed as ÅÅÅÅ-MM-DD, with a clear Swedish message when it does not parse or lies outside
    ``first_year``–``last_year`` (such dates are typing mistakes and cannot be converted between time zones)."""

    def __init__(self, label=None, validators=None, first_year: int = 1900, last_year: int = 2199, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.first_year, self.last_year = first_year, last_year

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("Ange ett datum som ÅÅÅÅ-MM-DD."))) from exc

    def pre_validate(self, form):
        if self.process_errors and self.raw_data and str(self.raw_data[0]).strip():
            # Something was typed but is no date: keep saying so (DataRequired would say "fill it in" instead).
            raise StopValidation()
        if isinstance(self.data, date) and not self.first_year <= self.data.year <= self.last_year:
            raise ValidationError(_l("Ange ett datum mellan år %(first)d och %(last)d.", first=self.first_year,
                                     last=self.last_year))
