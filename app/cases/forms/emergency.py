"""Forms for emergency access (break the glass) and its review."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.cases.emergency import MAX_REASON, MAX_REVIEW_NOTE, MIN_REASON
from app.cases.forms import TOO_LONG


class EmergencyForm(FlaskForm):
    reason = TextAreaField(
        _l("Skäl till nödåtkomsten"),
        validators=[
            DataRequired(_l("Ange skälet till nödåtkomsten.")),
            Length(min=MIN_REASON, max=MAX_REASON, message=_l("Skälet ska vara %(min)d–%(max)d tecken.")),
        ],
    )
    confirmed = BooleanField(
        _l("Jag förstår att åtkomsten loggas, granskas och att samordnaren får veta det"),
        validators=[DataRequired(_l("Bekräfta genom att kryssa i rutan."))],
    )


class EmergencyReviewForm(FlaskForm):
    note = TextAreaField(
        _l("Granskningskommentar"),
        validators=[
            DataRequired(_l("Skriv en kommentar till granskningen.")),
            Length(max=MAX_REVIEW_NOTE, message=TOO_LONG),
        ],
    )
