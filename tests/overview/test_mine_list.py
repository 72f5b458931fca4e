"""The reporter's own list: search in the place text, status filter, sorting, pagination; only their own reports."""

from __future__ import annotations

from datetime import datetime, timezone


def test_own_list_searches_filters_and_sorts(client, db, login_as, incidents, factory):
    area, category = incidents.area(), incidents.category()
    me = login_as("reporter", kind="youth")
    other = factory.user(roles=("reporter",), kind="youth")
    early = incidents.report(area=area, category=category, reporter=me, status="new", place="Torget östra",
                             occurred_at=datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
    late = incidents.report(area=area, category=category, reporter=me, status="accepted", place="Stationen 100%",
                            occurred_at=datetime(2026, 3, 9, 9, tzinfo=timezone.utc))
    incidents.report(area=area, category=category, reporter=other, status="new", place="Torget västra")

    page = client.get("/reports/mine")
    assert page.status_code == 200 and "Torget västra" not in page.text
    assert page.text.index("Stationen") < page.text.index("Torget östra")  # newest incident first
    oldest_first = client.get("/reports/mine?sort=occurred").text
    assert oldest_first.index("Torget östra") < oldest_first.index("Stationen")

    found = client.get("/reports/mine?q=torget").text
    assert "Torget östra" in found and "Stationen" not in found and "Torget västra" not in found
    assert 'value="torget"' in found  # the search is kept in the form
    assert "Stationen" in client.get("/reports/mine?q=100%25").text
    assert "Stationen" not in client.get("/reports/mine?q=%25%25%25x").text  # % is literal text

    accepted = client.get("/reports/mine?status=accepted").text
    assert "Stationen" in accepted and "Torget östra" not in accepted
    nothing = client.get("/reports/mine?status=rejected")
    assert nothing.status_code == 200 and "Inga rapporter matchar sökningen." in nothing.text
    for junk in ("nonsense", "x" * 300, "-"):
        assert client.get("/reports/mine", query_string={"sort": junk, "status": junk, "q": junk}).status_code == 200
    assert early.id != late.id


def test_own_list_is_paginated(app, client, db, login_as, incidents):
    area, category = incidents.area(), incidents.category()
    me = login_as("reporter", kind="youth")
    size = app.config["LOTS_PAGE_SIZE"]
    for i in range(size + 2):
        incidents.report(area=area, category=category, reporter=me, status="new", place=f"Plats {i:03d}")
    first = client.get("/reports/mine").text
    second = client.get("/reports/mine?page=2").text
    assert "Sida 1 av 2" in first and "Sida 2 av 2" in second
    assert first.count("Plats 0") == size and second.count("Plats 0") == 2


def test_the_reporter_sees_why_a_report_was_rejected_and_another_reporter_does_not(client, db, login_as, incidents,
                                                                                  factory):
    from app.overview.models import IncidentReport

    area, category = incidents.area(), incidents.category()
    me = login_as("reporter", kind="youth")
    rejected = incidents.report(area=area, category=category, reporter=me, status="rejected", place="Parken")
    db.get(IncidentReport, rejected.id).reject_reason = "Händelsen ligger utanför kommunen."
    duplicate = incidents.report(area=area, category=category, reporter=me, status="duplicate", place="Torget")
    db.flush()

    mine = client.get("/reports/mine").text
    assert "Skäl: Händelsen ligger utanför kommunen." in mine
    page = client.get(f"/reports/{rejected.id}/edit")
    assert page.status_code == 200
    assert "Varför rapporten avvisades:" in page.text and "Händelsen ligger utanför kommunen." in page.text
    assert "räknas bara en gång" in client.get(f"/reports/{duplicate.id}/edit").text

    login_as("reporter", kind="youth")  # another reporter of the same organisation
    assert "utanför kommunen" not in client.get("/reports/mine").text
    assert client.get(f"/reports/{rejected.id}/edit").status_code in (403, 404)
