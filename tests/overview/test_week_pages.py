"""The week page, analysis, publishing confirmation, PDFs and the period view: who sees what, bad input."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from

WEEK = "/overview/2026/20"
MONDAY = datetime(2026, 5, 11, 10, tzinfo=timezone.utc)  # 2026-W20


def events(db, action, user=None):
    from app.audit.models import AuditEvent

    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if user is not None:
        stmt = stmt.where(AuditEvent.actor_user_id == user.id)
    return db.scalars(stmt).all()


@pytest.fixture()
def week_data(incidents):
    area = incidents.area(name="Centrum Norr")
    category = incidents.category(name_sv="Klotter", name_en="Graffiti")
    for _ in range(3):
        incidents.report(area=area, category=category, occurred_at=MONDAY)
    incidents.report(area=area, category=category, occurred_at=MONDAY, status="new")
    return area, category


def publish(client, path=WEEK):
    page = client.get(path + "/publish")
    assert page.status_code == 200
    return client.post(path + "/publish", data={"csrf_token": csrf_from(page.text), "confirmed": "y"})


@pytest.mark.parametrize("role,kind", [("reporter", "youth"), ("admin", "social_services"),
                                       ("auditor", "social_services")])
def test_roles_without_overview_permissions_get_403_everywhere(client, login_as, role, kind, week_data):
    login_as(role, kind=kind)
    for path in ("/overview/", WEEK, WEEK + ".pdf", WEEK + "/versions/1", WEEK + "/publish",
                 "/overview/period?preset=2026", "/overview/period.pdf?preset=2026"):
        assert client.get(path).status_code == 403, path
    assert client.post(WEEK + "/note", data={}).status_code in (400, 403)


@pytest.mark.parametrize("role", ["analyst", "process_leader"])
def test_readers_see_live_figures_map_trends_and_the_hotspot_rule(client, login_as, week_data, role):
    login_as(role, kind="police" if role == "analyst" else "social_services")
    page = client.get(WEEK)
    assert page.status_code == 200
    text = page.text
    assert "Lägesbild vecka 20, 2026" in text
    assert "Centrum Norr" in text and "Klotter" in text
    assert 'class="chart map"' in text and 'fill-rule="evenodd"' in text and 'role="img"' in text
    assert 'class="chart trend"' in text
    assert "Poissonfördelat" in text and "minst 3" in text and "Benjamini–Hochbergs metod på nivån 0,05" in text
    assert "de 12 föregående veckorna som har data" in text
    # The cell has no history at all: the page says why nothing is flagged.
    assert "För kort historik:" in text and "bara 0 av de 12 föregående veckorna har data" in text
    assert "Veckan är inte publicerad" in text
    assert 'class="kpi">3<' in text  # the new report is not counted
    assert 'style="' not in text.split("<main", 1)[1]  # CSP: no inline styles


def test_index_opens_the_last_complete_week_the_meeting_discusses(client, login_as):
    from app.overview.figures import current_week, shift_week

    login_as("partner", kind="police")
    resp = client.get("/overview/")
    year, week = shift_week(*current_week(), -1)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/overview/{year}/{week}")


@pytest.mark.parametrize("path", ["/overview/2026/54", "/overview/2025/53", "/overview/2026/0",
                                  "/overview/2026/54.pdf", "/overview/2025/53/versions/1"])
def test_weeks_that_do_not_exist_are_404_with_a_message(client, login_as, path):
    login_as("analyst", kind="police")
    resp = client.get(path)
    assert resp.status_code == 404
    if not path.endswith(".pdf"):
        assert "finns inte" in resp.text


def test_week_53_exists_in_2026(client, login_as):
    login_as("analyst", kind="police")
    resp = client.get("/overview/2026/53")
    assert resp.status_code == 200
    assert "vecka 53 jämförs med vecka 52" in resp.text


def test_partner_sees_not_published_then_only_the_published_version(client, app, factory, incidents, week_data):
    from tests.conftest import login, sign_in

    area, category = week_data
    partner = factory.user(roles=("partner",), kind="police")
    analyst_client = app.test_client()
    login(analyst_client, factory.user(roles=("analyst",), kind="police"))
    sign_in(client, partner)
    page = client.get(WEEK)
    assert page.status_code == 200 and "inte publicerad ännu" in page.text
    assert "Centrum Norr" not in page.text
    assert client.get(WEEK + ".pdf").status_code == 404

    assert publish(analyst_client).status_code == 302
    incidents.report(area=area, category=category, occurred_at=MONDAY)  # after publication
    assert 'class="kpi">4<' in analyst_client.get(WEEK).text

    page = client.get(WEEK)
    assert "Publicerad version 1" in page.text and 'class="kpi">3<' in page.text
    assert 'name="analysis"' not in page.text and "Ändrad sedan publicering" not in page.text
    assert client.get(WEEK + "/versions/1").status_code == 200
    assert client.get(WEEK + "/versions/2").status_code == 404
    assert client.get(WEEK + "/publish").status_code == 403
    pdf = client.get(WEEK + ".pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    (event,) = events(incidents.session, "overview.export", partner)
    assert event.object_id == "2026-W20" and "version" in (event.detail or "")


def test_note_is_saved_audited_and_shown(client, db, login_as, week_data):
    user = login_as("process_leader", kind="social_services")
    page = client.get(WEEK)
    resp = client.post(WEEK + "/note", data={"csrf_token": csrf_from(page.text), "analysis": "Fler klotter nära torget.",
                                             "focus": "Belysning vid gångtunneln."})
    assert resp.status_code == 302
    text = client.get(WEEK).text
    assert "Fler klotter nära torget." in text and "Belysning vid gångtunneln." in text
    (event,) = events(db, "overview.note_changed", user)
    assert event.object_id == "2026-W20" and "torget" not in (event.detail or "")


def test_too_long_note_is_400_and_keeps_the_text(client, db, login_as, week_data):
    from app.overview.models import WeekNote

    login_as("analyst", kind="police")
    page = client.get(WEEK)
    resp = client.post(WEEK + "/note", data={"csrf_token": csrf_from(page.text), "analysis": "x" * 20_001,
                                             "focus": "Behåll detta"})
    assert resp.status_code == 400 and "Behåll detta" in resp.text
    assert db.scalars(select(WeekNote)).all() == []


def test_partner_cannot_edit_the_note(client, login_as, week_data):
    login_as("partner", kind="police")
    page = client.get("/")
    assert client.post(WEEK + "/note", data={"csrf_token": csrf_from(page.text), "analysis": "x"}).status_code == 403


def test_publishing_needs_the_confirmation_tick(client, db, login_as, week_data):
    from app.overview.models import PublishedWeek

    user = login_as("analyst", kind="police")
    page = client.get(WEEK + "/publish")
    assert page.status_code == 200 and "Publicera version 1" in page.text
    resp = client.post(WEEK + "/publish", data={"csrf_token": csrf_from(page.text)})
    assert resp.status_code == 400 and "Bekräfta publiceringen" in resp.text
    assert db.scalars(select(PublishedWeek)).all() == []
    resp = client.post(WEEK + "/publish", data={"csrf_token": csrf_from(page.text), "confirmed": "y"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(WEEK + "/versions/1")
    assert [v.number for v in db.scalars(select(PublishedWeek))] == [1]
    assert len(events(db, "overview.publish", user)) == 1


def test_process_leader_cannot_publish(client, login_as, week_data):
    login_as("process_leader", kind="social_services")
    assert client.get(WEEK + "/publish").status_code == 403
    page = client.get(WEEK)
    assert client.post(WEEK + "/publish", data={"csrf_token": csrf_from(page.text), "confirmed": "y"}).status_code == 403


@pytest.mark.parametrize("lang,phrase", [("sv", "Klotter"), ("en", "Graffiti")])
def test_week_pdf_is_a_pdf_of_two_to_four_pages_and_audited(client, db, login_as, week_data, lang, phrase):
    from io import BytesIO

    from pypdf import PdfReader

    user = login_as("analyst", kind="police")
    resp = client.get(WEEK + f".pdf?lang={lang}")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(BytesIO(resp.data))
    assert 2 <= len(reader.pages) <= 4
    text = "".join(p.extract_text() for p in reader.pages)
    assert phrase in text and "Centrum Norr" in text
    (event,) = events(db, "overview.export", user)
    assert event.object_type == "week" and event.object_id == "2026-W20"


@pytest.mark.parametrize("query", ["start=2026-13-01&end=2026-12-31", "start=2026-02-01&end=2026-01-01",
                                   "start=2025-01-01&end=2026-01-02", "preset=q5-2026", "preset=kvartal",
                                   "start=2026-01-01", "start=0001-01-01&end=0001-01-02"])
def test_bad_period_input_is_400_with_a_message(client, login_as, query):
    login_as("analyst", kind="police")
    resp = client.get("/overview/period?" + query)
    assert resp.status_code == 400 and 'class="alert alert-error"' in resp.text
    assert client.get("/overview/period.pdf?" + query).status_code == 400


def test_period_view_and_pdf(client, db, login_as, week_data):
    user = login_as("process_leader", kind="social_services")
    assert client.get("/overview/period").status_code == 200
    resp = client.get("/overview/period?preset=q2-2026")
    assert resp.status_code == 200
    assert "2026-04-01 – 2026-06-30 (91 dagar)" in resp.text and "Centrum Norr" in resp.text
    assert 'class="kpi">3<' in resp.text
    pdf = client.get("/overview/period.pdf?start=2026-04-01&end=2026-06-30&lang=en")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    (event,) = events(db, "overview.export", user)
    assert event.object_type == "period"


def test_partner_cannot_see_periods(client, login_as):
    login_as("partner", kind="police")
    assert client.get("/overview/period?preset=2026").status_code == 403


def test_exit_programme_figures_are_shown_exactly_as_given(client, login_as, monkeypatch, week_data):
    from datetime import date

    import app.cases.figures as case_figures

    calls = []

    def fake(start, end, **kwargs):
        calls.append((start, end))
        f = case_figures.Figure
        return case_figures.ExitFigures(
            start=start, end=end, as_of=end, new_referrals=f("<5", True), open_cases=f("..", True),
            cases_by_phase={"active": f("<5", True), "assessment": f("7", False)},
            items_completed=f("0", False), items_overdue=f("12", False), by_agency=())

    monkeypatch.setattr(case_figures, "exit_programme_figures", fake)
    login_as("analyst", kind="police")
    text = client.get(WEEK).text
    # Week 20 of 2026 (11–17 May): the last complete calendar quarter before it, Q1, never the week itself.
    assert calls == [(date(2026, 1, 1), date(2026, 3, 31))]
    assert "Kvartal 1 2026 (2026-01-01 – 2026-03-31)" in text
    section = text.split('id="h-exit"', 1)[1]
    assert "&lt;5" in section and ".." in section and ">12<" in section and ">7<" in section


@pytest.mark.parametrize("role,kind", [("coordinator", "social_services"), ("partner", "housing")])
def test_published_only_roles_see_no_live_figures_and_no_draft(client, login_as, week_data, role, kind):
    login_as(role, kind=kind)
    page = client.get(WEEK)
    assert page.status_code == 200
    assert "inte publicerad ännu" in page.text
    assert "Centrum Norr" not in page.text and 'name="analysis"' not in page.text
    assert client.get("/overview/period?preset=2026").status_code == 403


def test_the_running_week_says_so_and_links_to_its_est_meeting(client, login_as):
    from app.overview.figures import current_week

    login_as("analyst", kind="social_services")
    year, week = current_week()
    page = client.get(f"/overview/{year}/{week}").text
    assert "Pågående vecka, t.o.m." in page and "mot snittet" in page  # the labels stay; the figures are "–"
    assert f'href="/meetings/est/{year}/{week}"' in page
