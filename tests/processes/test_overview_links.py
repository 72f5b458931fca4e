"""The weekly overview shows the interventions and processes active in each area and the milestones due that week.

Interventions show for every reader with intervention:read; processes and
milestones only for readers who may open the process. A published week keeps
what it showed; older snapshots without the activity still render.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from

WEEK = "/overview/2026/20"
MONDAY = datetime(2026, 5, 11, 10, tzinfo=timezone.utc)  # 2026-W20: 11–17 May 2026


def activity_of(html: str) -> str:
    """The "Pågående i områdena" and "Delmål" sections of a week page."""
    assert 'id="h-activity"' in html
    return html.split('id="h-activity"', 1)[1].split('id="h-trend"', 1)[0]


def area_row(html: str, area_name: str) -> str:
    """The row of the activity table for one area."""
    section = activity_of(html)
    return section.split(f'<th scope="row">{area_name}</th>', 1)[1].split("</tr>", 1)[0]


@pytest.fixture()
def week(incidents, processes, factory):
    north = incidents.area(name="Centrum Norr")
    west = incidents.area(name="Väster")
    graffiti = incidents.category(name_sv="Klotter", name_en="Graffiti")
    for _ in range(2):
        incidents.report(area=north, category=graffiti, occurred_at=MONDAY)
    incidents.report(area=west, category=graffiti, occurred_at=MONDAY)
    police = factory.agency(name="Polisen Test", kind="police")
    housing = factory.agency(name="Bostäder Test", kind="housing")
    patrols = processes.intervention(agency=police, areas=[north], categories=[graffiti], title="Extra nattpatrull",
                                     start=date(2026, 5, 1), end=date(2026, 5, 31))
    processes.intervention(agency=police, areas=[north], title="Gammal insats", start=date(2026, 4, 1),
                           end=date(2026, 5, 10))
    processes.intervention(agency=police, areas=[north], title="Kommande insats", start=date(2026, 5, 18))
    process = processes.process(name="Trygg centrumnatt", agencies=[police], areas=[north], categories=[graffiti],
                                start=date(2026, 1, 1), end=date(2026, 12, 31))
    processes.process(name="Avslutad process", agencies=[police], areas=[north], status="completed",
                      start=date(2026, 1, 1))
    processes.milestone(process, agency=police, title="Belysningen inventerad", due=date(2026, 5, 12))
    processes.milestone(process, agency=police, title="Nästa veckas delmål", due=date(2026, 5, 18))
    return {"north": north, "west": west, "police": police, "housing": housing, "patrols": patrols,
            "process": process}


def publish(app, week_no=20):
    from app.overview import publishing

    with app.app_context():
        return publishing.publish_week(2026, week_no, by=None)


def test_an_active_intervention_shows_next_to_its_area_for_an_analyst(client, login_as, week):
    login_as("analyst", kind="police")
    page = client.get(WEEK)
    assert page.status_code == 200
    row = area_row(page.text, "Centrum Norr")
    assert "Extra nattpatrull" in row and "Extra patrullering" in row and "Polisen Test" in row
    assert "2026-05-01 – 2026-05-31" in row and "Klotter" in row
    assert f'href="/interventions/{week["patrols"].id}"' in row
    # Only interventions active during the week, and only next to the areas they target.
    section = activity_of(page.text)
    assert "Gammal insats" not in section and "Kommande insats" not in section
    assert '<th scope="row">Väster</th>' not in section
    # The analyst's agency takes no part in the process: no process, no milestone.
    assert "Trygg centrumnatt" not in page.text and "Belysningen inventerad" not in page.text


def test_processes_and_milestones_show_for_the_process_leader(client, login_as, week):
    login_as("process_leader")
    page = client.get(WEEK)
    row = area_row(page.text, "Centrum Norr")
    assert "Trygg centrumnatt" in row and f'href="/processes/{week["process"].id}"' in row
    assert "Avslutad process" not in page.text
    milestones = page.text.split('id="h-milestones"', 1)[1].split("</section>", 1)[0]
    assert "Belysningen inventerad" in milestones and "Försenad" in milestones  # due Tuesday, still open on Sunday
    assert "Nästa veckas delmål" not in milestones


def test_partners_see_processes_only_where_their_agency_takes_part(app, client, login_as, week):
    publish(app)
    login_as("partner", agency=week["police"])
    page = client.get(WEEK)
    assert page.status_code == 200 and "Publicerad version 1" in page.text
    row = area_row(page.text, "Centrum Norr")
    assert "Trygg centrumnatt" in row and "Extra nattpatrull" in row
    assert "Belysningen inventerad" in page.text


def test_partners_of_other_agencies_see_no_process_or_milestone(app, client, login_as, week):
    publish(app)
    login_as("partner", agency=week["housing"])
    page = client.get(WEEK)
    assert page.status_code == 200
    row = area_row(page.text, "Centrum Norr")
    assert "Extra nattpatrull" in row  # interventions are readable by every partner
    assert "Trygg centrumnatt" not in page.text and "Belysningen inventerad" not in page.text
    pdf = client.get(WEEK + ".pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.data)
    assert "Extra nattpatrull" in text and "Trygg centrumnatt" not in text and "Belysningen inventerad" not in text


def test_publishing_freezes_the_activity(app, db, client, login_as, week):
    version = publish(app)
    week["patrols"].title = "Omdöpt patrull"
    db.flush()
    login_as("analyst", kind="police")
    frozen = client.get(f"{WEEK}/versions/{version.number}")
    assert frozen.status_code == 200
    assert "Extra nattpatrull" in activity_of(frozen.text) and "Omdöpt patrull" not in frozen.text
    assert "Omdöpt patrull" in activity_of(client.get(WEEK).text)
    assert "Extra nattpatrull" in pdf_text(client.get(f"{WEEK}.pdf?version={version.number}").data)


def test_an_old_snapshot_without_activity_still_renders(app, db, client, login_as, week):
    from app.overview import publishing
    from app.overview.models import PublishedWeek

    with app.app_context():
        snapshot = publishing.live_snapshot(2026, 20)
    snapshot.pop("activity")
    db.add(PublishedWeek(iso_year=2026, iso_week=20, number=1, snapshot=json.dumps(snapshot),
                         report_versions="[]"))
    db.flush()
    login_as("process_leader")
    page = client.get(WEEK + "/versions/1")
    assert page.status_code == 200
    assert "Inga insatser eller processer som du kan se" in activity_of(page.text)
    assert "Extra nattpatrull" not in page.text
    pdf = client.get(WEEK + ".pdf?version=1")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_week_pdf_lists_the_activity(client, login_as, week):
    login_as("process_leader")
    resp = client.get(WEEK + ".pdf?lang=sv")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    text = pdf_text(resp.data)
    assert "Pågående i områdena" in text and "Extra nattpatrull" in text and "Trygg centrumnatt" in text
    assert "Belysningen inventerad" in text


def test_week_activity_is_json_with_the_week_semantics(app, db, week):
    from app.processes.overview_links import week_activity

    with app.app_context():
        activity = week_activity(2026, 20, today=date(2026, 5, 13))
    assert json.loads(json.dumps(activity)) == activity
    assert [i["title"] for i in activity["interventions"]] == ["Extra nattpatrull"]
    assert activity["interventions"][0]["area_ids"] == [week["north"].id]
    assert [p["name"] for p in activity["processes"]] == ["Trygg centrumnatt"]
    [milestone] = activity["milestones"]
    assert milestone["title"] == "Belysningen inventerad" and milestone["process_id"] == week["process"].id
    # Assessed on Wednesday of the week: due Tuesday and open is late.
    assert milestone["late"] is True and activity["as_of"] == "2026-05-13"
    with app.app_context():
        assert week_activity(2026, 20, today=date(2026, 5, 12))["milestones"][0]["late"] is False


def test_readers_without_intervention_read_see_no_interventions(app, db, factory, week):
    from flask_login import login_user

    from app.processes.overview_links import visible_activity, week_activity

    reporter = factory.user(roles=("reporter",), kind="youth")
    with app.test_request_context():
        login_user(reporter)
        shown = visible_activity(week_activity(2026, 20), reporter)
    assert shown["interventions"] == [] and shown["processes"] == [] and shown["milestones"] == []


def test_publishing_through_the_page_stores_the_activity(client, db, login_as, week):
    """Publishing as analysts do stores the unfiltered activity in the snapshot (filtered when shown)."""
    from app.overview.models import PublishedWeek

    login_as("analyst", kind="police")
    page = client.get(WEEK + "/publish")
    resp = client.post(WEEK + "/publish", data={"csrf_token": csrf_from(page.text), "confirmed": "y"})
    assert resp.status_code == 302
    version = db.scalars(select(PublishedWeek)).one()
    stored = json.loads(version.snapshot)["activity"]
    assert [i["title"] for i in stored["interventions"]] == ["Extra nattpatrull"]
    assert [p["name"] for p in stored["processes"]] == ["Trygg centrumnatt"]
