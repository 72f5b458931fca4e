"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_FORM = re.compile(r"^([0-9]{2})?([0-9]{6})([-+]?)([0-9]{4})$")
#: Dashes a keyboard, a word processor or a phone may give for "-", and the fullwidth plus.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"
_PLUSES = "\ufe62\uff0b"


def ascii_form(value: str) -> str:
    """The number with every script's decimal digits as ASCII (fullwidth, Arabic-Indic, ...), dashes as "-"
    and fullwidth plus as "+", and the surrounding blanks removed: what is validated and blind-indexed.

    Only decimal digits (Unicode category Nd) are converted: a superscript "²" stays what it is, and is refused.
    """
    out = []
    for char in value.strip():
        if unicodedata.category(char) == "Nd":
            out.append(str(unicodedata.digit(char)))
        elif char in _DASHES:
            out.append("-")
        elif char in _PLUSES:
            out.append("+")
        else:
            out.append(char)
    return "".join(out)


class InvalidPersonalNumber(ValueError):
    """Not a valid personal identity number. The message never repeats the input."""

    def __init__(self, reason: str = "not a valid Swedish personal identity number"):
        super().__init__(reason)


def luhn_valid(digits: str) -> bool:
    """The Luhn check over the ten digits YYMMDDNNNC."""
    total = 0
    for i, char in enumerate(digits):
        n = int(char) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def normalise_personal_number(value: str, *, today: date | None = None) -> str:
    """The 12-digit form YYYYMMDDNNNC of a personal identity or coordination number.

    Accepts YYYYMMDDNNNC, YYYYMMDD-NNNC, YYMMDD-NNNC, YYMMDDNNNC, and YYMMDD+NNNC or YYYYMMDD+NNNC for a person
    100 years old or more, in any script's digits (see ``ascii_form``). A ten-digit number with "-" or no
    separator is always read as a birth less than 100 years ago. Checks the date (day + 60 for coordination
    numbers), the Luhn digit, and that the serial number (the three digits after the date) is not 000.
    Blanks around the separator are ignored; a blank as the separator is refused, as in the published test
    numbers.
    """
    if not isinstance(value, str):
        raise InvalidPersonalNumber()
    # Blanks around the separator are forgiven ("870412 - 9819"); a blank as the separator is not a valid form.
    match = _FORM.match(re.sub(r"\s*([-+])\s*", r"\1", ascii_form(value)))
    if not match:
        raise InvalidPersonalNumber()
    century, yymmdd, separator, serial = match.groups()
    today = today or date.today()
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if century:
        year = int(century + yymmdd[:2])
    else:
        yy = int(yymmdd[:2])
        year = today.year - ((today.year - yy) % 100)
        if separator == "+":
            year -= 100
    try:
        born = date(year, month, day - 60 if day > 60 else day)
    except ValueError:
        raise InvalidPersonalNumber() from None
    if not century and separator != "+" and born > today:
        year -= 100
        born = born.replace(year=year) if not (born.month == 2 and born.day == 29) else date(year, 3, 1)
    if born > today:
        raise InvalidPersonalNumber()
    if separator == "+" and _age(born, today) < 100:
        raise InvalidPersonalNumber()  # "+" marks a person 100 years old or more
    if serial[:3] == "000":
        raise InvalidPersonalNumber("the serial number of a personal identity number is never 000")
    if not luhn_valid(yymmdd + serial):
        raise InvalidPersonalNumber("the check digit of the personal identity number is wrong")
    return f"{year:04d}{yymmdd[2:]}{serial}"


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
