"""The yearly documents (Lag 2023:196): pages, editing with optimistic locking, PDFs, bad input and who may see them."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from

YEAR = 2025
SITUATION = f"/yearly/{YEAR}/lagesbild"
PLAN = f"/yearly/{YEAR}/atgardsplan"
EDIT_SITUATION = f"/yearly/{YEAR}/situation/edit"
EDIT_PLAN = f"/yearly/{YEAR}/action_plan/edit"
ALL_GETS = ["/yearly/", SITUATION, PLAN, SITUATION + ".pdf", PLAN + ".pdf", EDIT_SITUATION, EDIT_PLAN]


def events(db, action):
    from app.audit.models import AuditEvent

    return db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


@pytest.fixture()
def year_data(incidents, processes, factory):
    """An area with a burst of graffiti in 2025-W10 (a hotspot), a process with a late milestone, an intervention.

    One background report a week in 2025-W02..W09 gives the hotspot rule the 8 weeks of history it needs."""
    incidents.history(datetime(YEAR, 3, 3, 10, tzinfo=timezone.utc))
    area = incidents.area(name="Tallbackens centrum")
    category = incidents.category(name_sv="Klotter", name_en="Graffiti")
    quiet = incidents.category(name_sv="Nedskräpning", name_en="Littering")
    for day in range(5):
        incidents.report(area=area, category=category, occurred_at=datetime(YEAR, 3, 3 + day, 10, tzinfo=timezone.utc))
    incidents.report(area=area, category=quiet, occurred_at=datetime(YEAR, 8, 12, 10, tzinfo=timezone.utc))
    incidents.report(area=area, category=quiet, occurred_at=datetime(YEAR, 8, 12, 10, tzinfo=timezone.utc),
                     status="new")
    housing = factory.agency(name="Bostadsbolaget Test", kind="housing")
    process = processes.process(name="Trygg i Tallbacken", agencies=[housing], areas=[area], categories=[category],
                                start=date(YEAR, 1, 15), end=date(YEAR + 1, 6, 30), goal="Färre klotter i centrum.")
    processes.milestone(process, agency=housing, title="Belysning utredd", due=date(YEAR, 4, 1), status="planned")
    processes.milestone(process, agency=housing, title="Klotterplan klar", due=date(YEAR, 2, 1), status="done")
    processes.milestone(process, agency=housing, title="Nästa års delmål", due=date(YEAR + 1, 2, 1))
    intervention = processes.intervention(agency=housing, areas=[area], categories=[category],
                                          start=date(YEAR, 3, 10), end=date(YEAR, 5, 31), kind="cleaning",
                                          title="Snabbsanering av klotter", process=process)
    processes.intervention(agency=housing, areas=[area], start=date(YEAR + 1, 1, 1), title="Nästa års insats")
    return {"area": area, "category": category, "process": process, "intervention": intervention}


@pytest.mark.parametrize("role,kind", [("process_leader", "social_services"), ("analyst", "police")])
def test_both_documents_render_the_year_for_readers(client, login_as, year_data, role, kind):
    login_as(role, kind=kind)
    page = client.get(SITUATION)
    assert page.status_code == 200
    text = page.text
    assert "Lägesbild 2025" in text and "Utkast" in text
    assert "Tallbackens centrum" in text and "Klotter" in text
    assert 'class="kpi">14<' in text  # 6 + 8 background accepted reports; the new one does not count
    hotspots = text.split('id="h-hotspots"', 1)[1].split("</section>", 1)[0]
    assert "Tallbackens centrum" in hotspots and "Klotter" in hotspots and "Nedskräpning" not in hotspots
    assert "Sammanfattning" in text and "Fortsatt arbete" in text
    assert 'class="chart map"' in text and 'class="chart trend"' in text
    assert 'style="' not in text.split("<main", 1)[1]

    plan = client.get(PLAN)
    assert plan.status_code == 200
    # The åtgärdsplan lists the processes the reader may see: all for the process leader; for an analyst
    # whose agency takes no part, none of them (the same gate as the process pages), but every intervention.
    assert "Snabbsanering av klotter" in plan.text and "Städning" in plan.text
    if role == "process_leader":
        assert "Trygg i Tallbacken" in plan.text and "Färre klotter i centrum." in plan.text
        assert "1 klara, 1 försenade, 0 öppna (av 2)" in plan.text
        assert "Belysning utredd" in plan.text  # the late milestone is listed
        assert "Du ser bara de processer" not in plan.text
    else:
        assert "Trygg i Tallbacken" not in plan.text and "Färre klotter i centrum." not in plan.text
        assert "Belysning utredd" not in plan.text
        assert "Du ser bara de processer" in plan.text
    assert "Nästa års insats" not in plan.text

    index = client.get("/yearly/")
    assert index.status_code == 200
    assert f"/yearly/{YEAR}/lagesbild" in index.text and f"/yearly/{YEAR}/atgardsplan" in index.text


def test_year_hotspots_apply_the_weekly_rule(app, db, year_data):
    from app.processes.yearly import year_hotspots

    with app.app_context():
        found = year_hotspots(YEAR)
    assert [(h["area_id"], h["category_id"], h["weeks"], h["week_numbers"]) for h in found] == [
        (year_data["area"].id, year_data["category"].id, 1, ["10"])]


def test_year_hotspots_use_the_calendar_year_and_name_a_week_of_the_next_iso_year(app, db, incidents):
    """2026-W01 runs Mon 29 Dec 2025 .. Sun 4 Jan 2026: tested whole in both years, counted by calendar day."""
    from app.processes.yearly import year_hotspots, year_weeks

    assert year_weeks(2025)[0] == (2025, 1) and year_weeks(2025)[-1] == (2026, 1)
    assert year_weeks(2027)[0] == (2026, 53) and year_weeks(2027)[-1] == (2027, 52)
    incidents.history(datetime(2025, 12, 29, 10, tzinfo=timezone.utc))
    area = incidents.area(name="Årsskiftet")
    category = incidents.category(name_sv="Brand", name_en="Fire")
    for day in (datetime(2025, 12, 29), datetime(2025, 12, 30), datetime(2025, 12, 31),
                datetime(2026, 1, 1), datetime(2026, 1, 2)):
        incidents.report(area=area, category=category, occurred_at=day.replace(hour=10, tzinfo=timezone.utc))
    with app.app_context():
        old, new = year_hotspots(2025), year_hotspots(2026)
    assert [(h["area_id"], h["week_numbers"], h["max_count"], h["year_count"]) for h in old] == [
        (area.id, ["1 (2026)"], 5, 3)]
    assert [(h["area_id"], h["week_numbers"], h["max_count"], h["year_count"]) for h in new] == [
        (area.id, ["1"], 5, 2)]


def _edit(client, path, **texts):
    page = client.get(path)
    assert page.status_code == 200
    version = page.text.split('name="version" type="hidden" value="', 1)[1].split('"', 1)[0]
    return page, {"csrf_token": csrf_from(page.text), "version": version, **texts}


def test_edit_saves_the_sections_and_audits_without_text(client, db, login_as, year_data):
    from app.processes.models import YearlyDocument

    login_as("process_leader")
    _page, data = _edit(client, EDIT_SITUATION, summary="Klottret ökade under våren.", next="Fortsätt EST-arbetet.")
    resp = client.post(EDIT_SITUATION, data=data)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(SITUATION)
    document = db.scalars(select(YearlyDocument).where(YearlyDocument.year == YEAR)).one()
    assert json.loads(document.sections)["summary"] == "Klottret ökade under våren."
    assert document.kind.value == "situation" and document.version == 1
    [event] = events(db, "yearly.update")
    assert json.loads(event.detail) == {"year": str(YEAR), "kind": "situation", "sections": "summary,next"}
    assert event.object_type == "yearly_document" and event.object_id == f"{YEAR}-situation"
    shown = client.get(SITUATION).text
    assert "Klottret ökade under våren." in shown and "Fortsätt EST-arbetet." in shown
    # The second save starts from version 1.
    _page, data = _edit(client, EDIT_SITUATION, summary="Ny sammanfattning.")
    assert data["version"] == "1"
    assert client.post(EDIT_SITUATION, data=data).status_code == 302
    assert "Ny sammanfattning." in client.get(SITUATION).text


def test_a_stale_version_is_409_and_saves_nothing(client, db, login_as, year_data):
    from app.processes.models import YearlyDocument

    login_as("process_leader")
    _page, first = _edit(client, EDIT_PLAN, introduction="Första texten.")
    _page, second = _edit(client, EDIT_PLAN, introduction="Andra texten.")
    assert client.post(EDIT_PLAN, data=first).status_code == 302
    resp = client.post(EDIT_PLAN, data=second)
    assert resp.status_code == 409
    assert "har ändrats av någon annan" in resp.text
    assert "Andra texten." in resp.text  # what was typed is kept so it can be copied
    document = db.scalars(select(YearlyDocument).where(YearlyDocument.year == YEAR)).one()
    assert json.loads(document.sections)["introduction"] == "Första texten."
    assert len(events(db, "yearly.update")) == 1


def test_too_long_text_is_400_and_keeps_the_input(client, db, login_as, year_data):
    from app.processes.models import YearlyDocument

    login_as("process_leader")
    _page, data = _edit(client, EDIT_PLAN, introduction="Kort.", priorities="x" * 20_001)
    resp = client.post(EDIT_PLAN, data=data)
    assert resp.status_code == 400
    assert "Texten får vara högst 20 000 tecken." in resp.text
    assert "Kort." in resp.text
    assert db.scalars(select(YearlyDocument)).all() == []
    assert events(db, "yearly.update") == []


def test_missing_csrf_is_400_and_saves_nothing(client, db, login_as, year_data):
    from app.processes.models import YearlyDocument

    login_as("process_leader")
    assert client.post(EDIT_PLAN, data={"version": "0", "introduction": "Text."}).status_code == 400
    assert db.scalars(select(YearlyDocument)).all() == []


@pytest.mark.parametrize("path", ["/yearly/2025/budget/edit", "/yearly/1999/lagesbild", "/yearly/1999/atgardsplan.pdf",
                                  "/yearly/99999/lagesbild.pdf", "/yearly/99999999999/atgardsplan",
                                  "/yearly/1999/situation/edit", "/yearly/-1/lagesbild"])
def test_unknown_kind_or_year_is_404(client, login_as, path):
    login_as("process_leader")
    resp = client.get(path)
    assert resp.status_code == 404


def test_year_after_next_is_404_with_a_message(client, login_as):
    from app.processes.dates import local_today

    login_as("process_leader")
    too_late = local_today().year + 2
    resp = client.get(f"/yearly/{too_late}/lagesbild")
    assert resp.status_code == 404 and "Årsdokument finns för åren 2000" in resp.text
    assert client.get(f"/yearly/{too_late - 1}/atgardsplan").status_code == 200


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    # Whitespace collapsed: table cells and narrow columns wrap differently per language.
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def test_pdfs_are_drafts_with_the_text_and_the_areas_and_are_audited(client, db, login_as, year_data):
    login_as("process_leader")
    _page, data = _edit(client, EDIT_SITUATION, summary="Sammanfattningen av året.")
    assert client.post(EDIT_SITUATION, data=data).status_code == 302
    _page, data = _edit(client, EDIT_PLAN, priorities="Prioritera centrum.")
    assert client.post(EDIT_PLAN, data=data).status_code == 302

    resp = client.get(SITUATION + ".pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert resp.headers["Content-Type"] == "application/pdf"
    text = _pdf_text(resp.data)
    assert "Sammanfattningen av året." in text and "Tallbackens centrum" in text and "UTKAST" in text

    resp = client.get(PLAN + ".pdf?lang=en")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    text = _pdf_text(resp.data)
    assert "Prioritera centrum." in text and "Tallbackens centrum" in text and "Trygg i Tallbacken" in text
    exports = events(db, "yearly.export")
    assert len(exports) == 2
    assert {json.loads(e.detail)["kind"] for e in exports} == {"situation", "action_plan"}


@pytest.mark.parametrize("role,kind", [("reporter", "youth"), ("admin", "social_services"),
                                       ("auditor", "social_services"), ("partner", "police"),
                                       ("coordinator", "social_services")])
def test_roles_without_yearly_permissions_get_403_everywhere(client, db, login_as, year_data, role, kind):
    from app.processes.models import YearlyDocument

    login_as(role, kind=kind)
    for path in ALL_GETS:
        assert client.get(path).status_code == 403, path
    for path in (EDIT_SITUATION, EDIT_PLAN):
        assert client.post(path, data={"version": "0", "summary": "x"}).status_code in (400, 403), path
    assert db.scalars(select(YearlyDocument)).all() == []


def test_analysts_read_but_cannot_edit(client, db, login_as, year_data):
    login_as("analyst", kind="police")
    assert client.get(SITUATION).status_code == 200
    assert "Redigera texten" not in client.get(SITUATION).text
    assert client.get(EDIT_SITUATION).status_code == 403
    assert client.get(EDIT_PLAN).status_code == 403


def test_an_analyst_of_a_participating_agency_sees_that_process_in_the_action_plan(client, login_as, year_data):
    login_as("analyst", agency=year_data["process"].agencies[0])
    plan = client.get(PLAN)
    assert plan.status_code == 200
    assert "Trygg i Tallbacken" in plan.text and "Belysning utredd" in plan.text
    pdf = client.get(PLAN + ".pdf")
    assert pdf.status_code == 200 and "Trygg i Tallbacken" in _pdf_text(pdf.data)
