"""Dates as municipalities export them (issue 18): dd/mm/yyyy, d.m.yyyy, yyyy-mm-dd and d mmm yyyy in
Swedish, with or without a time; a date without a time is "tid okänd", never midnight; the hour repeated
when summer time ends is flagged; the hour skipped when it begins is refused."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from app.overview.importing.dates import parse_local
from tests.overview.test_import import confirm, csv_text, job_of, reports_of, sync_imports, taxonomy, upload  # noqa: F401


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.engine_independent
@pytest.mark.parametrize("text, expected", [
    ("2026-03-10 14:05", utc(2026, 3, 10, 13, 5)),
    ("2026-03-10T14:05:30", utc(2026, 3, 10, 13, 5, 30)),
    ("2026-03-10 14.05", utc(2026, 3, 10, 13, 5)),
    ("2026-03-10T14:05:00+02:00", utc(2026, 3, 10, 12, 5)),
    ("10/03/2026 14:05", utc(2026, 3, 10, 13, 5)),
    ("1/3/2026 9:05", utc(2026, 3, 1, 8, 5)),
    ("10.3.2026 14:05", utc(2026, 3, 10, 13, 5)),
    ("10 mar 2026 14:05", utc(2026, 3, 10, 13, 5)),
    ("10 mars 2026 14:05", utc(2026, 3, 10, 13, 5)),
    ("3 MAJ 2026 22:00", utc(2026, 5, 3, 20, 0)),          # summer time: UTC+2
    ("3 okt. 2026 08:15", utc(2026, 10, 3, 6, 15)),
    ("24 december 2026 18:00", utc(2026, 12, 24, 17, 0)),
])
def test_the_exported_forms_are_read_as_stockholm_time(text, expected):
    parsed = parse_local(text)
    assert parsed.at == expected and not parsed.time_unknown and not parsed.ambiguous


@pytest.mark.engine_independent
@pytest.mark.parametrize("text, day", [("2026-03-10", date(2026, 3, 10)), ("10/03/2026", date(2026, 3, 10)),
                                       ("10.3.2026", date(2026, 3, 10)), ("10 mar 2026", date(2026, 3, 10)),
                                       ("5 jul 2026", date(2026, 7, 5))])
def test_a_date_without_a_time_is_time_unknown_at_local_noon_not_midnight(text, day):
    parsed = parse_local(text)
    assert parsed.time_unknown and not parsed.ambiguous
    local = parsed.at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Stockholm"))
    assert (local.date(), local.hour, local.minute) == (day, 12, 0)


@pytest.mark.engine_independent
def test_the_repeated_hour_in_october_is_flagged_and_read_as_summer_time():
    # Summer time ends on Sunday 25 October 2026 at 03:00 CEST → 02:00 CET: 02:30 happens twice.
    parsed = parse_local("25/10/2026 02:30")
    assert parsed.ambiguous and parsed.at == utc(2026, 10, 25, 0, 30)
    assert not parse_local("25/10/2026 03:30").ambiguous
    assert not parse_local("25/10/2026 01:30").ambiguous


@pytest.mark.engine_independent
@pytest.mark.parametrize("text", ["29/03/2026 02:30",   # skipped when summer time begins
                                  "31/02/2026", "32.1.2026", "10 foo 2026", "2026-13-01 10:00", "10/03/26 14:05",
                                  "25:00 10/03/2026", "10/03/2026 24:10", "", "igår"])
def test_impossible_or_unknown_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_local(text)


def test_the_preview_flags_rows_to_check_and_the_import_keeps_time_unknown(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    org = factory.agency(kind="housing")
    t = taxonomy
    rows = [["D1", "10/03/2026 14:05", t["centrum"].code, t["klotter"].name_sv, "offentlig", "", ""],
            ["D2", "11 mars 2026", t["centrum"].code, t["klotter"].name_sv, "offentlig", "", ""],
            ["D3", "25.10.2026 02:30", t["norr"].code, t["brand"].name_sv, "offentlig", "", ""],
            ["D4", "29/03/2026 02:30", t["norr"].code, t["brand"].name_sv, "offentlig", "", ""]]
    job = job_of(db, upload(client, csv_text(t, rows).encode("utf-8"), org))
    page = client.get(f"/reports/import/{job.id}").text
    assert "Rader att kontrollera" in page and "2 rader importeras men bör kontrolleras." in page
    assert "tid okänd" in page and "inte som midnatt" in page and "två gånger när sommartiden slutar" in page
    assert "Ogiltig tidpunkt" in page  # D4: the hour that does not exist
    assert confirm(client, job).status_code == 303
    stored = {r.external_id: r for r in reports_of(db, job=job)}
    assert set(stored) == {"D1", "D2", "D3"}
    assert stored["D2"].time_unknown and not stored["D1"].time_unknown and not stored["D3"].time_unknown
    assert stored["D2"].local_date == date(2026, 3, 11)
    assert stored["D1"].occurred_at.replace(tzinfo=timezone.utc) == utc(2026, 3, 10, 13, 5)
    # The analyst's list and the report page say "tid okänd", not 12:00.
    listing = client.get("/reports/").text
    assert "2026-03-11, tid okänd" in listing
    assert "2026-03-11, tid okänd" in client.get(f"/reports/{stored['D2'].id}").text


def test_the_preview_names_areas_and_categories_not_their_codes(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    t = taxonomy
    rows = [["N1", "10/03/2026 14:05", t["centrum"].code, t["klotter"].code, "offentlig", "", ""]]
    job = job_of(db, upload(client, csv_text(t, rows).encode("utf-8"), factory.agency(kind="housing")))
    sample = client.get(f"/reports/import/{job.id}").text.split("De första giltiga raderna", 1)[1].split("</table>")[0]
    assert t["centrum"].name in sample and t["klotter"].name_sv in sample
    assert f">{t['centrum'].code}<" not in sample and f">{t['klotter'].code}<" not in sample
    assert "Importera 1 rad<" in client.get(f"/reports/import/{job.id}").text  # ngettext: 1 rad, 2 rader
