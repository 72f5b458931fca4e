"""Area interventions: create, show, edit, delete (with audit), bad input, stale versions, who may do what,
the evaluation page's parameters and its PDF export."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from app.processes.models import Intervention
from tests.conftest import csrf_from


def _events(db, action):
    return db.execute(text("SELECT * FROM audit_event WHERE action = :a ORDER BY id"), {"a": action}).mappings().all()


@pytest.fixture()
def taxa(incidents):
    return {"areas": [incidents.area(name="Norrtorget"), incidents.area(name="Söderparken"),
                      incidents.area(name="Västra hamnen")],
            "categories": [incidents.category(name_sv="Skadegörelse"), incidents.category(name_sv="Ordningsstörning")]}


def _form(client, url):
    page = client.get(url)
    assert page.status_code == 200, page.text[:300]
    return csrf_from(page.text)


def _data(token, taxa, agency, **over):
    data = {"csrf_token": token, "title": "Extra patrullering vid torget", "kind": "extra_patrols",
            "description": "Kvällspatruller fredag och lördag.", "agency_id": str(agency.id), "process_id": "",
            "start_date": "2026-03-02", "end_date": "2026-06-30",
            "area_ids": [str(taxa["areas"][0].id)], "category_ids": [str(taxa["categories"][0].id)]}
    data.update(over)
    return data


def _count(db):
    return db.scalar(select(func.count()).select_from(Intervention))


def test_process_leader_creates_shows_edits_and_deletes_an_intervention_with_audit(client, db, login_as, taxa):
    leader = login_as("process_leader")
    token = _form(client, "/interventions/new")
    resp = client.post("/interventions/new", data=_data(token, taxa, leader.agency))
    assert resp.status_code == 302, resp.text[:2000]
    intervention = db.scalars(select(Intervention)).one()
    assert intervention.title == "Extra patrullering vid torget"
    assert [a.name for a in intervention.areas] == ["Norrtorget"]
    assert intervention.end_date == date(2026, 6, 30) and intervention.agency_id == leader.agency_id
    created = _events(db, "intervention.create")
    assert len(created) == 1 and created[0]["object_id"] == str(intervention.id)
    assert "torget" not in str(created[0]["detail"])  # ids and dates only, no free text

    page = client.get(f"/interventions/{intervention.id}")
    assert page.status_code == 200 and "Norrtorget" in page.text and "Skadegörelse" in page.text

    listing = client.get("/interventions/", query_string={"q": "patrull"})
    assert listing.status_code == 200 and "Extra patrullering vid torget" in listing.text
    assert "vid torget" not in client.get("/interventions/", query_string={"q": "kamera"}).text

    token = _form(client, f"/interventions/{intervention.id}/edit")
    resp = client.post(f"/interventions/{intervention.id}/edit", data=_data(
        token, taxa, leader.agency, version=str(intervention.version), title="Patrullering, förlängd",
        area_ids=[str(taxa["areas"][0].id), str(taxa["areas"][1].id)]))
    assert resp.status_code == 302, resp.text[:2000]
    db.refresh(intervention)
    assert intervention.title == "Patrullering, förlängd" and len(intervention.areas) == 2
    updated = _events(db, "intervention.update")
    assert len(updated) == 1 and "areas" in updated[0]["detail"] and "title" in updated[0]["detail"]

    # Delete needs the confirmation tick.
    token = _form(client, f"/interventions/{intervention.id}/delete")
    refused = client.post(f"/interventions/{intervention.id}/delete", data={"csrf_token": token})
    assert refused.status_code == 400 and _count(db) == 1
    resp = client.post(f"/interventions/{intervention.id}/delete", data={"csrf_token": token, "confirmed": "y"})
    assert resp.status_code == 302 and _count(db) == 0
    assert len(_events(db, "intervention.delete")) == 1
    assert client.get(f"/interventions/{intervention.id}").status_code == 404


@pytest.mark.parametrize("change, message", [
    ({"end_date": "2026-01-01"}, "Slutdatum kan inte ligga före startdatum"),
    ({"area_ids": []}, "Välj minst ett område"),
    ({"category_ids": []}, "Välj minst en kategori"),
    ({"area_ids": ["999999"]}, "finns inte"),
    ({"area_ids": ["abc"]}, "finns inte"),
    ({"category_ids": ["2147483647"]}, "finns inte"),
    ({"agency_id": "999999"}, "finns inte"),
    ({"process_id": "999999"}, "finns inte"),
    ({"title": "x" * 201}, "Högst 200 tecken"),
    ({"title": "   "}, "Ange en rubrik"),
    ({"start_date": "2026-13-45"}, "ÅÅÅÅ-MM-DD"),
    ({"kind": "teleportation"}, "Not a valid choice"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_changes(client, db, login_as, taxa, change, message):
    leader = login_as("process_leader")
    token = _form(client, "/interventions/new")
    resp = client.post("/interventions/new", data=_data(token, taxa, leader.agency, **change))
    assert resp.status_code == 400
    assert message in resp.text or message == "Not a valid choice"
    assert _count(db) == 0
    assert _events(db, "intervention.create") == []


def test_a_process_the_user_cannot_see_is_refused_as_link(client, db, login_as, taxa, processes, factory):
    leader = login_as("process_leader")
    process = processes.process(agencies=[leader.agency])
    token = _form(client, "/interventions/new")
    assert f'value="{process.id}"' in client.get("/interventions/new").text
    resp = client.post("/interventions/new", data=_data(token, taxa, leader.agency, process_id=str(process.id)))
    assert resp.status_code == 302
    assert db.scalars(select(Intervention)).one().process_id == process.id


def test_a_stale_edit_gets_409_and_saves_nothing(client, db, login_as, taxa, processes):
    leader = login_as("process_leader")
    intervention = processes.intervention(agency=leader.agency, areas=[taxa["areas"][0]],
                                          categories=[taxa["categories"][0]], title="Original")
    token = _form(client, f"/interventions/{intervention.id}/edit")
    stale = str(intervention.version)
    first = client.post(f"/interventions/{intervention.id}/edit",
                        data=_data(token, taxa, leader.agency, version=stale, title="Först"))
    assert first.status_code == 302
    second = client.post(f"/interventions/{intervention.id}/edit",
                         data=_data(token, taxa, leader.agency, version=stale, title="Sen"))
    assert second.status_code == 409 and "ändrats av någon annan" in second.text
    db.refresh(intervention)
    assert intervention.title == "Först"
    assert len(_events(db, "intervention.update")) == 1


def test_editing_only_the_areas_moves_the_version(client, db, login_as, taxa, processes):
    leader = login_as("process_leader")
    intervention = processes.intervention(agency=leader.agency, areas=[taxa["areas"][0]],
                                          categories=[taxa["categories"][0]], title="Original",
                                          start=date(2026, 3, 2), end=date(2026, 6, 30))
    before = intervention.version
    token = _form(client, f"/interventions/{intervention.id}/edit")
    resp = client.post(f"/interventions/{intervention.id}/edit", data=_data(
        token, taxa, leader.agency, version=str(before), title="Original", description="",
        area_ids=[str(taxa["areas"][1].id)]))
    assert resp.status_code == 302
    db.refresh(intervention)
    assert intervention.version == before + 1
    again = client.post(f"/interventions/{intervention.id}/edit", data=_data(
        token, taxa, leader.agency, version=str(before), title="Original", area_ids=[str(taxa["areas"][2].id)]))
    assert again.status_code == 409


def test_list_filters_sort_and_bad_filter_values(client, db, login_as, taxa, processes):
    leader = login_as("process_leader")
    today = date.today()
    a, b = taxa["areas"][0], taxa["areas"][1]
    processes.intervention(agency=leader.agency, areas=[a], categories=taxa["categories"][:1], title="Alfa pågår",
                           start=today - timedelta(days=10))
    processes.intervention(agency=leader.agency, areas=[b], categories=taxa["categories"][:1], title="Beta planerad",
                           start=today + timedelta(days=20), kind="camera")
    processes.intervention(agency=leader.agency, areas=[a], categories=taxa["categories"][:1], title="Gamma slut",
                           start=today - timedelta(days=100), end=today - timedelta(days=50))
    def titles(**query):
        resp = client.get("/interventions/", query_string=query)
        assert resp.status_code == 200
        return [t for t in ("Alfa pågår", "Beta planerad", "Gamma slut") if t in resp.text]

    assert titles(state="active") == ["Alfa pågår"]
    assert titles(state="planned") == ["Beta planerad"]
    assert titles(state="ended") == ["Gamma slut"]
    assert titles(kind="camera") == ["Beta planerad"]
    assert titles(area=str(b.id)) == ["Beta planerad"]
    page = client.get("/interventions/", query_string={"sort": "title"}).text
    assert page.index("Alfa pågår") < page.index("Beta planerad") < page.index("Gamma slut")
    page = client.get("/interventions/", query_string={"sort": "-start"}).text
    assert page.index("Beta planerad") < page.index("Alfa pågår") < page.index("Gamma slut")
    for bad in ({"kind": "x"}, {"area": "abc"}, {"area": "99999999999"}, {"state": "soon"}, {"sort": "'; drop"},
                {"page": "-1"}, {"q": "x" * 500}):
        assert client.get("/interventions/", query_string=bad).status_code in (200, 400)


@pytest.mark.parametrize("role, kind", [("reporter", "youth"), ("admin", "other"), ("auditor", "other")])
def test_roles_without_the_permission_get_403_on_every_intervention_route(client, db, login_as, taxa, processes,
                                                                         role, kind):
    intervention = processes.intervention(agency=processes.factory.agency(), areas=taxa["areas"][:1],
                                          categories=taxa["categories"][:1])
    login_as(role, kind=kind)
    base = f"/interventions/{intervention.id}"
    for path in ("/interventions/", "/interventions/new", base, f"{base}/edit", f"{base}/delete",
                 f"{base}/evaluation", f"{base}/evaluation.pdf"):
        assert client.get(path).status_code == 403, path
    for path in ("/interventions/new", f"{base}/edit", f"{base}/delete"):
        assert client.post(path, data={}).status_code in (400, 403), path
    assert _count(db) == 1


@pytest.mark.parametrize("role, kind", [("partner", "police"), ("coordinator", "social_services")])
def test_partners_and_coordinators_read_but_cannot_manage_or_evaluate(client, db, login_as, taxa, processes,
                                                                    role, kind):
    intervention = processes.intervention(agency=processes.factory.agency(), areas=taxa["areas"][:1],
                                          categories=taxa["categories"][:1], title="Belysning i parken")
    login_as(role, kind=kind)
    base = f"/interventions/{intervention.id}"
    assert "Belysning i parken" in client.get("/interventions/").text
    detail = client.get(base)
    assert detail.status_code == 200 and "Belysning i parken" in detail.text
    assert "Utvärdera" not in detail.text and f"{base}/edit" not in detail.text
    for path in ("/interventions/new", f"{base}/edit", f"{base}/delete", f"{base}/evaluation",
                 f"{base}/evaluation.pdf"):
        assert client.get(path).status_code == 403, path


def test_analyst_may_evaluate_but_not_manage(client, db, login_as, taxa, processes):
    intervention = processes.intervention(agency=processes.factory.agency(), areas=taxa["areas"][:1],
                                          categories=taxa["categories"][:1])
    login_as("analyst", kind="police")
    base = f"/interventions/{intervention.id}"
    assert client.get(f"{base}/evaluation").status_code == 200
    assert client.get(f"{base}/edit").status_code == 403
    assert client.get("/interventions/new").status_code == 403


def test_unknown_intervention_is_404(client, db, login_as):
    login_as("process_leader")
    for path in ("/interventions/999999", "/interventions/99999999999", "/interventions/999999/evaluation",
                 "/interventions/999999/evaluation.pdf", "/interventions/999999/edit"):
        assert client.get(path).status_code == 404, path


@pytest.fixture()
def evaluated(incidents, processes, factory, taxa):
    """An intervention in area 0 that started 10 weeks ago (a Monday), with reports before and after."""
    from app.processes.dates import local_today

    today = local_today()
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=10)
    treated, comp = taxa["areas"][0], taxa["areas"][1]
    cat = taxa["categories"][0]
    for week in range(-6, 10):
        day = start + timedelta(weeks=week, days=2)
        at = datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc)
        for _ in range(4 if week < 0 else 1):
            incidents.report(area=treated, category=cat, occurred_at=at)
        for _ in range(2):
            incidents.report(area=comp, category=cat, occurred_at=at)
    return processes.intervention(agency=factory.agency(), areas=[treated], categories=[cat], start=start,
                                  title="Fältarbetare i Norrtorget")


def test_evaluation_page_shows_estimate_chart_method_and_caveats(client, db, login_as, evaluated, taxa):
    login_as("analyst", kind="police")
    resp = client.get(f"/interventions/{evaluated.id}/evaluation",
                      query_string={"weeks_before": 6, "weeks_after": 8, "area": str(taxa["areas"][1].id)})
    assert resp.status_code == 200
    page = resp.text
    # 4 → 1 a week against 2 → 2: the ratio of rate ratios is 0.25, the level falls by 3 per area and week.
    assert "Minskning med cirka 75 % mot det som jämförelseområdena ger anledning att vänta (kvot 0,25" in page
    assert "I antal: −3,0 händelser per område och vecka" in page
    assert "kvasi-Poisson" in page and "oberoende" in page
    assert "<svg" in page and 'role="img"' in page and "style=" not in page.split("<svg", 1)[1].split("</svg>")[0]
    assert "Welch" in page and "Återgång mot medelvärdet" in page and "Förflyttning" in page
    assert "Ändrad rapportering" in page and "indikation" in page


def test_evaluation_says_cannot_say_with_a_reason(client, db, login_as, processes, taxa, factory):
    login_as("process_leader")
    from app.processes.dates import local_today

    intervention = processes.intervention(agency=factory.agency(), areas=taxa["areas"][:1],
                                          categories=taxa["categories"][:1], start=local_today() - timedelta(days=3))
    page = client.get(f"/interventions/{intervention.id}/evaluation").text
    assert "Kan inte säga" in page and "hela veckor sedan insatsen startade" in page
    assert "Minskning" not in page and "Ökning" not in page


@pytest.mark.parametrize("query", [
    {"weeks_before": "abc"}, {"weeks_before": "1"}, {"weeks_before": "105"}, {"weeks_after": "0"},
    {"weeks_after": "-3"}, {"weeks_after": "1e9"}, {"weeks_before": "99999999999999999999"},
    {"area": "abc"}, {"area": "999999"}, {"area": "-1"}, {"area": ["1", "x"]},
])
def test_evaluation_bad_query_arguments_give_a_message_and_the_defaults(client, db, login_as, evaluated, taxa,
                                                                      query):
    login_as("process_leader")
    resp = client.get(f"/interventions/{evaluated.id}/evaluation", query_string=query)
    assert resp.status_code == 200
    assert 'class="alert alert-error"' in resp.text
    assert 'name="weeks_before" min="2" max="104" value="12"' in resp.text
    assert 'name="weeks_after" min="1" max="104" value="12"' in resp.text


def test_a_targeted_area_as_comparison_is_refused(client, db, login_as, evaluated, taxa):
    login_as("process_leader")
    resp = client.get(f"/interventions/{evaluated.id}/evaluation", query_string={"area": str(taxa["areas"][0].id)})
    assert resp.status_code == 200 and "Jämförelseområdena kunde inte användas" in resp.text


def test_evaluation_pdf_is_a_pdf_and_is_audited(client, db, login_as, evaluated, taxa):
    login_as("analyst", kind="police")
    resp = client.get(f"/interventions/{evaluated.id}/evaluation.pdf",
                      query_string={"weeks_before": 6, "weeks_after": 8, "area": str(taxa["areas"][1].id)})
    assert resp.status_code == 200
    assert resp.data.startswith(b"%PDF")
    assert resp.headers["Content-Type"] == "application/pdf"
    events = _events(db, "evaluation.export")
    assert len(events) == 1 and events[0]["object_id"] == str(evaluated.id)
    assert '"weeks_before":"6"' in events[0]["detail"]
