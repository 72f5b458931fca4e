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
    assert personal_number_error("¹⁹⁹⁰⁰¹⁰¹²³³⁹")  # superscripts are not decimal digits: refused


#: The personnummer project's published test numbers (github.com/personnummer/meta, testdata/list.json),
#: read as plain facts: (long, short, separated, separated long, valid). Every form our README names.
PUBLISHED = [
    ("201509160006", "1509160006", "150916-0006", "20150916-0006", False),
    ("190905271474", "0905271474", "090527+1474", "19090527+1474", True),
    ("198707049996", "8707049996", "870704-9996", "19870704-9996", False),
    ("198211059954", "8211059954", "821105-9954", "19821105-9954", True),
    ("193901829913", "3901829913", "390182-9913", "19390182-9913", False),
    ("195705749959", "5705749959", "570574-9959", "19570574-9959", True),
    ("201211209941", "1211209941", "121120-9941", "20121120-9941", False),
    ("199012119948", "9012119948", "901211-9948", "19901211-9948", True),
    ("201210759984", "1210759984", "121075-9984", "20121075-9984", False),
    ("197306749982", "7306749982", "730674-9982", "19730674-9982", True),
    ("187912219990", "7912219990", "791221+9990", "18791221+9990", True),
    ("200012099891", "0012099891", "001209-9891", "20001209-9891", True),
    ("19090527 1474", "090527 1474", "090527 1474", "19090527 1474", False),
]


def _valid(value: str) -> bool:
    try:
        normalise_personal_number(value, today=TODAY)
    except InvalidPersonalNumber:
        return False
    return True


@pytest.mark.parametrize("long, short, separated, separated_long, valid", PUBLISHED)
def test_the_published_test_numbers_in_every_form(long, short, separated, separated_long, valid):
    for form in (long, short, separated, separated_long):
        assert _valid(form) is valid, form
    if valid:
        # The separated forms say the century ("+" = 100 years or more); they give the published long form.
        assert normalise_personal_number(separated, today=TODAY) == long.replace(" ", "")
        assert normalise_personal_number(separated_long, today=TODAY) == long


def test_digits_of_any_script_are_the_same_number_and_the_same_blind_index(app, factory):
    """`１９８１１２１８-９８７６` used to create a second case for the person registered as 19811218-9876."""
    from app.cases.service import find_participants_by_personal_number

    for typed in ("１９８１１２１８-９８７６", "١٩٨١١٢١٨-٩٨٧٦", "19811218\u22129876", "１９８１１２１８－９８７６"):
        assert normalise_personal_number(typed, today=TODAY) == "198112189876"
    person = factory.participant(personal_number="19811218-9876")
    with app.app_context():
        found = find_participants_by_personal_number("１９８１１２１８-９８７６")
    assert [p.id for p in found] == [person.id]


def _with_check(nine: str) -> str:
    """YYMMDDNNN + the Luhn digit."""
    from app.cases.identity import luhn_valid

    return nine + next(str(c) for c in range(10) if luhn_valid(nine + str(c)))


def test_serial_number_000_is_refused():
    number = _with_check("811218000")
    with pytest.raises(InvalidPersonalNumber, match="000"):
        normalise_personal_number(number, today=TODAY)


def test_plus_means_a_hundred_years_or_more_and_minus_never_does():
    ten = _with_check("121120994")
    assert normalise_personal_number(f"{ten[:6]}+{ten[6:]}", today=TODAY) == "19" + ten
    assert normalise_personal_number(f"{ten[:6]}-{ten[6:]}", today=TODAY) == "20" + ten
    # "-" (or no separator) is the latest birth not in the future: 2026-11-26 is tomorrow, so 1926 (99 years).
    tomorrow = _with_check("261126981")
    assert normalise_personal_number(f"{tomorrow[:6]}-{tomorrow[6:]}", today=TODAY) == "19" + tomorrow
    with pytest.raises(InvalidPersonalNumber):
        normalise_personal_number("19870412+9819", today=TODAY)  # "+" for someone aged 39
    with pytest.raises(InvalidPersonalNumber):
        normalise_personal_number(f"20{_with_check('301231981')}", today=TODAY)  # born in the future
