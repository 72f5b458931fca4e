"""Normalising Swedish personal identity numbers for the blind index."""

from datetime import date

import pytest

from app.cases.identity import InvalidPersonalNumber, normalise_personal_number

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    "given, expected",
    [
        ("19870412-9819", "198704129819"),
        ("198704129819", "198704129819"),
        ("870412-9819", "198704129819"),
        ("8704129819", "198704129819"),
        ("870412+9819", "188704129819"),
        ("011102-9823", "200111029823"),
        ("20030990-9844", "200309909844"),  # coordination number: day + 60
    ],
)
def test_accepted_forms_normalise_to_twelve_digits(given, expected):
    assert normalise_personal_number(given, today=TODAY) == expected


@pytest.mark.parametrize("bad", ["19870412-9818", "19871312-9819", "870432-9810", "abc", "", "12345", "19870412+9819"])
def test_invalid_numbers_are_refused_without_echoing_them(bad):
    with pytest.raises(InvalidPersonalNumber) as excinfo:
        normalise_personal_number(bad, today=TODAY)
    assert not bad or bad not in str(excinfo.value)


def test_superscript_digits_get_the_message_not_an_error():
    from app.cases.forms.cases import personal_number_error

    assert personal_number_error("²" * 10)
    assert personal_number_error("１９９００１０１２３３９")
