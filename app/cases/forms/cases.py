"""Forms of the case pages: list filters, participant search, referral, participant, phase and team."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from app.cases.forms import (
    MAX_SHORT_TEXT,
    MAX_TEXT,
    TOO_LONG,
    blank_to_none,
    choices,
    not_in_future,
    optional_id,
)
from app.cases.identity import InvalidPersonalNumber, ascii_form, luhn_valid, normalise_personal_number
from app.cases.labels import OUTCOME_LABELS, PHASE_LABELS, PROTECTED_IDENTITY_LABELS, REFERRAL_SOURCE_LABELS
from app.cases.models import PHASE_TRANSITIONS, CasePhase, ProtectedIdentity, today_local
from app.forms import LocalDateField

#: The empty first choice of a select ("" is coerced to None).
ANY = ("", _l("Alla"))


def _text(label, max_len: int = MAX_SHORT_TEXT, required: str | None = None, field=StringField, extra=(), **kwargs):
    validators = [DataRequired(required)] if required else [Optional()]
    return field(label, filters=[blank_to_none],
                 validators=[*validators, Length(max=max_len, message=TOO_LONG), *extra], **kwargs)


def personal_number_error(value: str) -> str | None:
    """None if valid, else the message to show (never repeating the number)."""
    try:
        normalise_personal_number(value)
    except InvalidPersonalNumber:
        digits = "".join(c for c in ascii_form(value) if c in "0123456789")  # not isdigit(): "²" is one too
        if len(digits) in (10, 12) and not luhn_valid(digits[-10:]):
            return str(_l("Personnumret är inte giltigt: kontrollsiffran stämmer inte. Kontrollera siffrorna."))
        return str(_l("Personnumret är inte giltigt. Skriv det som ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN."))
    return None


def birth_date_of(personal_number: str) -> date:
    """The date of birth in a normalised (12-digit) personal or coordination number."""
    day = int(personal_number[6:8])
    return date(int(personal_number[:4]), int(personal_number[4:6]), day - 60 if day > 60 else day)


def format_personal_number(value: str | None) -> str:
    return f"{value[:8]}-{value[8:]}" if value and len(value) == 12 else (value or "")


def _valid_personal_number(form, field):
    if field.data:
        message = personal_number_error(field.data)
        if message:
            raise ValidationError(message)


class _GetForm(FlaskForm):
    class Meta:
        csrf = False


class CaseFilterForm(_GetForm):
    """Filters of the case list (GET: nothing changes, no CSRF token)."""

    code = StringField(
        _l("Ärendekod"), filters=[blank_to_none, lambda v: v.upper() if v else v],
        validators=[Optional(), Length(max=20, message=TOO_LONG),
                    Regexp(r"^[A-Z0-9-]+$", message=_l("En ärendekod har bara bokstäver, siffror och bindestreck."))],
    )
    phase = SelectField(_l("Fas"), choices=[ANY, *choices(PHASE_LABELS)], default="")
    coordinator = SelectField(_l("Samordnare"), coerce=optional_id, default=None)
    agency = SelectField(_l("Myndighet i teamet"), coerce=optional_id, default=None)
    due = SelectField(
        _l("Att göra"),
        choices=[ANY, ("overdue", _l("Försenade planpunkter")), ("reassessment", _l("Ny hotbildsbedömning behövs"))],
        default="",
    )

    def __init__(self, *args, coordinators=(), agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.coordinator.choices = [ANY, *coordinators]
        self.agency.choices = [ANY, *agencies]

    def used(self) -> list[str]:
        return [name for name in ("code", "phase", "coordinator", "agency", "due") if self[name].data]


class FindParticipantForm(FlaskForm):
    """Find a participant by exact personal identity number (POST: the number never enters a URL)."""

    personal_number = StringField(
        _l("Personnummer"), filters=[blank_to_none],
        validators=[DataRequired(_l("Ange ett personnummer.")), Length(max=20, message=TOO_LONG),
                    _valid_personal_number],
    )


class ParticipantFieldsForm(FlaskForm):
    """The participant's identity and contact details (at intake and when edited)."""

    first_name = _text(_l("Förnamn"), 100, required=_l("Ange förnamn."))
    last_name = _text(_l("Efternamn"), 100, required=_l("Ange efternamn."))
    personal_number = _text(_l("Personnummer eller samordningsnummer"), 20)
    date_of_birth = LocalDateField(
        _l("Födelsedatum"), validators=[Optional(), not_in_future(_l("Födelsedatumet kan inte ligga i framtiden."))])
    phone = _text(_l("Telefon"), 40)
    email = _text(_l("E-post"), 254, field=EmailField, extra=[Email(_l("Ogiltig e-postadress."))])
    street_address = _text(_l("Gatuadress"), 200)
    postal_code = _text(_l("Postnummer"), 20)
    city = _text(_l("Ort"), 100)
    # No default: whether the person has protected personal data is a fact the coordinator states, never assumes.
    protected_identity = SelectField(_l("Skyddade personuppgifter"),
                                     choices=[("", _l("Välj")), *choices(PROTECTED_IDENTITY_LABELS)], default="",
                                     validators=[DataRequired(_l("Ange om personen har skyddade personuppgifter."))])

    def validate_personal_number(self, field):
        _valid_personal_number(self, field)
        if field.data:
            field.data = normalise_personal_number(field.data)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.personal_number.errors or self.date_of_birth.errors:
            return False
        number, born = self.personal_number.data, self.date_of_birth.data
        if not number and not born:
            self.personal_number.errors.append(_l("Ange personnummer eller födelsedatum."))
        elif number and born and birth_date_of(number) != born:
            self.date_of_birth.errors.append(_l("Födelsedatumet stämmer inte med personnumret."))
        elif number and birth_date_of(number) > today_local():
            self.personal_number.errors.append(_l("Födelsedatumet i personnumret ligger i framtiden."))
        return ok and not (self.personal_number.errors or self.date_of_birth.errors)

    def participant_fields(self) -> dict:
        """The validated values as Participant attributes (date of birth taken from the number if not given)."""
        fields = {name: self[name].data for name in PARTICIPANT_ATTRIBUTES if name in self}
        fields["protected_identity"] = ProtectedIdentity(self.protected_identity.data)
        if fields["personal_number"] and not fields["date_of_birth"]:
            fields["date_of_birth"] = birth_date_of(fields["personal_number"])
        return fields


#: The participant attributes the forms edit, in form order.
PARTICIPANT_ATTRIBUTES = ("first_name", "last_name", "personal_number", "date_of_birth", "phone", "email",
                          "street_address", "postal_code", "city", "protected_identity", "notes")


class ReferralForm(ParticipantFieldsForm):
    """A new referral (aktualisering): the person and where the referral came from."""

    referral_source = SelectField(_l("Aktualiserad av"), choices=[("", _l("Välj vem som aktualiserade")),
                                                                  *choices(REFERRAL_SOURCE_LABELS)],
                                  default="", validators=[DataRequired(_l("Välj vem som aktualiserade ärendet."))])
    referred_on = LocalDateField(
        _l("Datum för aktualisering"), default=today_local,
        validators=[DataRequired(_l("Ange datum för aktualiseringen.")),
                    not_in_future(_l("Datumet för aktualiseringen kan inte ligga i framtiden."))])
    referral_reason = _text(_l("Skäl till aktualiseringen"), MAX_TEXT, field=TextAreaField)


class ParticipantForm(ParticipantFieldsForm):
    """Edit the participant's details."""

    notes = _text(_l("Anteckningar om personen"), MAX_TEXT, field=TextAreaField)

    @staticmethod
    def initial(values: dict) -> dict:
        """Form data from the participant's readable values (Redacted.values)."""
        data = {name: values[name] for name in PARTICIPANT_ATTRIBUTES if name in values}
        if data.get("protected_identity") is not None:
            data["protected_identity"] = data["protected_identity"].value
        data["personal_number"] = format_personal_number(data.get("personal_number"))
        return data


class PhaseForm(FlaskForm):
    """Move a case to another phase; closing needs an outcome, a reason and a confirmation."""

    to_phase = SelectField(_l("Ny fas"), validators=[DataRequired(_l("Välj en fas."))])
    outcome = SelectField(_l("Utfall (vid avslut)"), choices=[("", _l("Välj utfall")), *choices(OUTCOME_LABELS)],
                          default="")
    closure_reason = _text(_l("Skäl (vid avslut)"), MAX_TEXT, field=TextAreaField)
    confirmed = BooleanField(_l("Jag vill avsluta ärendet"))

    def __init__(self, *args, phase: CasePhase, **kwargs):
        super().__init__(*args, **kwargs)
        self.to_phase.choices = [(p.value, PHASE_LABELS[p]) for p in PHASE_TRANSITIONS[phase]]

    @property
    def closing(self) -> bool:
        return self.to_phase.data == CasePhase.CLOSED.value

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.closing:
            if not self.outcome.data:
                self.outcome.errors.append(_l("Ange utfall när ärendet avslutas."))
            if not self.closure_reason.data:
                self.closure_reason.errors.append(_l("Ange skäl när ärendet avslutas."))
            if not self.confirmed.data:
                self.confirmed.errors.append(_l("Bekräfta avslutet genom att kryssa i rutan."))
            ok = not (self.outcome.errors or self.closure_reason.errors or self.confirmed.errors)
        return ok


class TeamMemberForm(FlaskForm):
    """Add an agency, optionally with a named officer of it, to the case team."""

    agency_id = SelectField(_l("Myndighet"), coerce=optional_id,
                            validators=[DataRequired(_l("Välj en myndighet."))])
    officer_id = SelectField(_l("Namngiven handläggare (valfritt)"), coerce=optional_id, default=None)

    def __init__(self, *args, agencies=(), officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.agency_id.choices = [("", _l("Välj myndighet")), *agencies]
        self.officer_id.choices = [("", _l("Ingen namngiven handläggare")), *officers]
