"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer)."""

from __future__ import annotations

import re
from datetime import date

_FORM = re.compile(r"^(\d{2})?(\d{6})([-+]?)(\d{4})$")


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

    Accepts YYMMDD-NNNC, YYMMDD+NNNC (100 years or older), YYMMDDNNNC,
    YYYYMMDDNNNC and YYYYMMDD-NNNC, with spaces ignored. Checks the date
    (day + 60 for coordination numbers) and the Luhn digit.
    """
    if not isinstance(value, str):
        raise InvalidPersonalNumber()
    match = _FORM.match(re.sub(r"\s", "", value))
    if not match:
        raise InvalidPersonalNumber()
    century, yymmdd, separator, serial = match.groups()
    today = today or date.today()
    if century:
        if separator == "+":
            raise InvalidPersonalNumber()
        year = int(century + yymmdd[:2])
    else:
        yy = int(yymmdd[:2])
        year = today.year - ((today.year - yy) % 100)
        if separator == "+":
            year -= 100
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    try:
        born = date(year, month, day - 60 if day > 60 else day)
    except ValueError:
        raise InvalidPersonalNumber() from None
    if not century and separator != "+" and born > today:
        year -= 100
    if not luhn_valid(yymmdd + serial):
        raise InvalidPersonalNumber("the check digit of the personal identity number is wrong")
    return f"{year:04d}{yymmdd[2:]}{serial}"
