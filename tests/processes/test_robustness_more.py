"""Bad input never gives a 500 on the intervention, evaluation, yearly-document, late/due and status-report pages,
and a refused change saves nothing.

The same approach as test_robustness.py (processes and meetings): as a process leader (who may use every route),
every POST route of the ``interventions`` and ``yearly`` blueprints found in app.url_map is fetched for its CSRF
token and the values a browser would send, then posted once per field with that field replaced by junk and once
with every field junk. An answer must be below 500; a refusal must leave interventions, their link tables, the
yearly documents and the audit trail as they were. GET routes (and processes.due, processes.report_pdf) get junk
query arguments; unknown or malformed ids in the path answer 404. The evaluation answers an honest "cannot say"
for interventions it cannot estimate. Runs on SQLite and, with LOTS_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import url_for
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.overview.models import Area, Category
from app.processes.dates import local_today
from app.processes.models import Intervention, YearlyDocument, intervention_area, intervention_category
from tests.conftest import csrf_from
from tests.junk import junk_requests
from tests.processes.test_robustness import HUGE, JUNK, JUNK_IDS, Page, post_junk

PREFIXES = ("interventions.", "yearly.")
EXTRA = ("processes.due", "processes.report_pdf")
YEAR = 2025
CANNOT_SAY = "Kan inte säga"


# ------------------------------------------------------------------ helpers


def snapshot(db) -> dict:
    """Everything a refused post must leave alone."""
    state = {"Intervention": db.execute(select(Intervention.id, Intervention.version, Intervention.title,
                                               Intervention.start_date, Intervention.end_date)
                                        .order_by(Intervention.id)).all(),
             "YearlyDocument": db.execute(select(YearlyDocument.id, YearlyDocument.version, YearlyDocument.sections)
                                          .order_by(YearlyDocument.id)).all()}
    for table in (intervention_area, intervention_category):
        state[table.name] = sorted(tuple(row) for row in db.execute(select(table)).all())
    state["audit"] = db.scalar(select(func.count(AuditEvent.id)))
    return state


def _events(db, action: str) -> int:
    return db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


class World:
    """Two areas targeted by an intervention that started ten weeks ago, one comparison area,
    a process to link, a yearly document of YEAR."""

    def __init__(self, app, db, factory, processes, incidents, login_as):
        self.app, self.db = app, db
        self.leader = login_as("process_leader", kind="other")
        self.police = factory.agency(kind="police")
        self.north = incidents.area(name="Robusta norr")
        self.south = incidents.area(name="Robusta söder")
        self.east = incidents.area(name="Robusta öster")
        self.category = incidents.category(name_sv="Skadegörelse robust", name_en="Vandalism robust")
        self.process = processes.process(agencies=[self.police], owner=self.leader,
                                         owner_agency=self.leader.agency, areas=[self.north],
                                         categories=[self.category])
        processes.milestone(self.process, agency=self.police, title="Sent delmål", due=date(2025, 1, 10))
        today = local_today()
        self.start = today - timedelta(days=today.weekday()) - timedelta(weeks=10)
        self.incidents = incidents
        self.intervention = processes.intervention(agency=self.police, areas=[self.north, self.south],
                                                   categories=[self.category], start=self.start,
                                                   process=self.process, title="Robust insats")
        self.spare = processes.intervention(agency=self.police, areas=[self.south], categories=[self.category],
                                            title="Reservinsats")
        self.document = YearlyDocument(year=YEAR, kind="situation", sections='{"summary": "Text."}')
        self.plan = YearlyDocument(year=YEAR, kind="action_plan", sections='{"introduction": "Text."}')
        db.add_all([self.document, self.plan])
        db.flush()
        self.values = {"intervention_id": self.intervention.id, "year": YEAR, "kind": "situation",
                       "process_id": self.process.id}

    def add_reports(self) -> None:
        """Three a week in the targeted north before the start, one after; one a week in the east throughout
        (only the tests that evaluate need them: reports are slow to make)."""
        for week in range(-6, 10):
            day = self.start + timedelta(weeks=week, days=2)
            at = datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc)
            for _ in range(3 if week < 0 else 1):
                self.incidents.report(area=self.north, category=self.category, occurred_at=at)
            self.incidents.report(area=self.east, category=self.category, occurred_at=at)

    def url(self, endpoint: str, **values) -> str:
        with self.app.test_request_context():
            return url_for(endpoint, **values)

    def routes(self, method: str) -> list[str]:
        found = sorted({rule.endpoint for rule in self.app.url_map.iter_rules()
                        if (rule.endpoint.startswith(PREFIXES) or rule.endpoint in EXTRA)
                        and method in rule.methods})
        assert found
        return found

    def rule_urls(self, endpoint: str) -> list[str]:
        """One URL per rule of ``endpoint`` (yearly.edit for both document kinds)."""
        with self.app.test_request_context():
            rule = next(r for r in self.app.url_map.iter_rules() if r.endpoint == endpoint)
        values = {name: self.values[name] for name in rule.arguments}
        urls = [self.url(endpoint, **values)]
        if "kind" in values:
            urls.append(self.url(endpoint, **{**values, "kind": "action_plan"}))
        return urls


@pytest.fixture()
def world(app, db, factory, processes, incidents, login_as):
    return World(app, db, factory, processes, incidents, login_as)



def post_targets(world: World, endpoint: str) -> list[tuple[str, str]]:
    """(page holding the form, URL it posts to) for a POST endpoint."""
    i = world.intervention.id
    targets = {
        "interventions.new": [(world.url("interventions.new"),) * 2],
        "interventions.edit": [(world.url("interventions.edit", intervention_id=i),) * 2],
        "interventions.delete": [(world.url("interventions.delete", intervention_id=world.spare.id),) * 2],
        "yearly.edit": [(u, u) for u in world.rule_urls("yearly.edit")],
    }
    assert endpoint in targets, f"{endpoint}: a new POST route; add it to post_targets"
    return targets[endpoint]


# ------------------------------------------------------------------ every POST form, every field


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_every_post_form_takes_junk_without_500_and_saves_nothing_when_refused(client, db, world, junk):
    posted = []
    for endpoint in world.routes("POST"):
        if endpoint == "interventions.delete":
            continue  # its own test: a ticked box with any value deletes, as it should
        for page_url, post_url in post_targets(world, endpoint):
            post_junk(client, db, page_url, post_url, junk, snapshot=snapshot)
        posted.append(endpoint)
    assert posted == ["interventions.edit", "interventions.new", "yearly.edit"]


@pytest.mark.parametrize("confirmed", [None, "", "false", "abc", HUGE])
def test_deleting_an_intervention_takes_junk_confirmations(client, db, world, confirmed):
    url = world.url("interventions.delete", intervention_id=world.spare.id)
    token = csrf_from(client.get(url).text)
    before = snapshot(db)
    data = {"csrf_token": token, **({} if confirmed is None else {"confirmed": confirmed})}
    resp = client.post(url, data=data)
    truthy = confirmed not in (None, "", "false")
    assert resp.status_code == (302 if truthy else 400), resp.status_code
    db.expire_all()
    assert (db.get(Intervention, world.spare.id) is None) == truthy
    if not truthy:
        assert snapshot(db) == before
    else:
        assert _events(db, "intervention.delete") == 1


def _valid(world) -> dict:
    return {"title": "Ny robust insats", "kind": "cleaning", "description": "", "agency_id": str(world.police.id),
            "process_id": "", "start_date": "2026-03-02", "end_date": "",
            "area_ids": [str(world.north.id)], "category_ids": [str(world.category.id)]}


@pytest.mark.parametrize("field,value", [
    ("kind", "zzz"), ("kind", "late"), ("kind", ["zzz", "cleaning"]),
    ("title", "t" * 201), ("title", "   "), ("description", "d" * 5001),
    ("agency_id", "abc"), ("agency_id", HUGE), ("agency_id", "2147483648"), ("agency_id", "-1"), ("agency_id", "1e9"),
    ("process_id", "abc"), ("process_id", HUGE), ("process_id", "99999999"),
    ("area_ids", ["abc"]), ("area_ids", [HUGE]), ("area_ids", ["2147483648"]), ("area_ids", ["-1"]),
    ("area_ids", ["1e9"]), ("area_ids", ["1.5"]), ("area_ids", []), ("category_ids", ["99999999"]),
    ("category_ids", []), ("start_date", "2026-02-30"), ("start_date", "9999-12-31"), ("start_date", "0001-01-01"),
    ("start_date", ""), ("end_date", "2026-03-01"), ("end_date", "9999-12-31"), ("end_date", "abc"),
])
def test_bad_intervention_values_are_400_with_a_message_and_save_nothing(client, db, world, field, value):
    for endpoint, url in (("new", world.url("interventions.new")),
                          ("edit", world.url("interventions.edit", intervention_id=world.intervention.id))):
        page = Page(client, url, url)
        before = snapshot(db)
        resp = page.post({**_valid(world), field: value})
        assert resp.status_code == 400, (endpoint, resp.status_code, resp.text[:500])
        assert "alert" in resp.text or "error" in resp.text
        assert snapshot(db) == before, endpoint
        if field == "title" and value.strip():
            assert f'value="{value}"' in resp.text  # what was typed is kept to correct


def test_an_inactive_area_or_category_stays_a_choice_only_where_it_already_is(client, db, world):
    """Deactivated after the intervention was made: editing keeps it; a new intervention cannot pick it."""
    world.south.active = False
    world.category.active = False
    db.flush()
    url = world.url("interventions.edit", intervention_id=world.intervention.id)
    page = Page(client, url, url)
    resp = page.post({"title": "Robust insats ändrad"})
    assert resp.status_code == 302, resp.text[:1500]
    db.expire_all()
    assert {a.id for a in world.intervention.areas} == {world.north.id, world.south.id}
    new = Page(client, world.url("interventions.new"), world.url("interventions.new"))
    before = snapshot(db)
    resp = new.post({**_valid(world), "area_ids": [str(world.south.id)]})
    assert resp.status_code == 400 and snapshot(db) == before
    resp = new.post(_valid(world))  # the category is inactive too
    assert resp.status_code == 400 and snapshot(db) == before


def test_duplicate_ids_are_saved_once_and_a_repeated_single_field_uses_the_first(client, db, world):
    url = world.url("interventions.new")
    resp = Page(client, url, url).post({**_valid(world), "area_ids": [str(world.north.id)] * 3,
                                        "category_ids": [str(world.category.id)] * 2})
    assert resp.status_code == 302, resp.text[:1500]
    created = db.scalar(select(Intervention).where(Intervention.title == "Ny robust insats"))
    assert [a.id for a in created.areas] == [world.north.id]
    assert [c.id for c in created.categories] == [world.category.id]
    edit = world.url("interventions.edit", intervention_id=world.intervention.id)
    page = Page(client, edit, edit)
    before = snapshot(db)
    resp = page.post({"title": ["Första", "Andra"], "version": ["0", page.fields["version"]]})
    assert resp.status_code == 409 and snapshot(db) == before  # the first version counts: a stale one


@pytest.mark.parametrize("version", ["", "abc", "-1", "0", HUGE, "1e9", "2"])
def test_a_garbled_or_stale_version_saves_nothing(client, db, world, version):
    for url in [world.url("interventions.edit", intervention_id=world.intervention.id),
                *world.rule_urls("yearly.edit")]:
        page = Page(client, url, url)
        before = snapshot(db)
        text_field = "title" if "interventions" in url else next(n for n in page.names if n != "version")
        assert page.fields["version"] == "1", url
        resp = page.post({"version": version, text_field: "Ändrad text"})
        if version in ("0", "2"):  # a well-formed version that is not the current one: someone saved in between
            assert resp.status_code == 409 and "ändrats av någon annan" in resp.text, (url, resp.status_code)
        else:  # the same clear 400 as on the process and meeting forms
            assert resp.status_code == 400, (url, resp.status_code)
            assert "saknar uppgift om vilken version" in resp.text, url
            assert "Ändrad text" in resp.text, url  # what was typed is kept
        assert snapshot(db) == before, url


def test_yearly_text_at_the_limit_is_saved_and_over_it_refused(client, db, world):
    url = world.url("yearly.edit", year=YEAR, kind="action_plan")
    page = Page(client, url, url)
    resp = page.post({"introduction": "å" * 20_000, "priorities": "😀" * 20_000})
    assert resp.status_code == 302, resp.text[:1500]
    db.expire_all()
    stored = json.loads(world.plan.sections)
    assert stored["introduction"] == "å" * 20_000 and stored["priorities"] == "😀" * 20_000
    page.reload()
    before = snapshot(db)
    resp = page.post({"follow_up": "x" * 20_001})
    assert resp.status_code == 400 and "högst 20 000 tecken" in resp.text and snapshot(db) == before


def test_unknown_and_malformed_ids_in_the_path_are_404(client, db, world):
    i = world.intervention.id
    gets = [
        "/interventions/99999999999", f"/interventions/{HUGE}", "/interventions/0", "/interventions/-1",
        "/interventions/abc", "/interventions/2147483648", "/interventions/1e9",
        f"/interventions/{HUGE}/edit", "/interventions/99999999999/delete", f"/interventions/{HUGE}/evaluation",
        "/interventions/2147483648/evaluation.pdf", f"/interventions/{i}/nonsense",
        "/yearly/99999/lagesbild", f"/yearly/{HUGE}/atgardsplan", "/yearly/1999/lagesbild.pdf",
        f"/yearly/{YEAR}/nonsense/edit", f"/yearly/{YEAR}/SITUATION/edit", f"/yearly/{YEAR}/situation%00/edit",
        "/yearly/99999/situation/edit", "/yearly/-1/lagesbild", "/yearly/abc/lagesbild", "/yearly/0/atgardsplan",
        f"/yearly/{local_today().year + 2}/atgardsplan.pdf",
        "/processes/99999999999/report.pdf", f"/processes/{HUGE}/report.pdf", "/processes/0/report.pdf",
        "/processes/-1/report.pdf", "/processes/abc/report.pdf", "/processes/2147483648/report.pdf",
    ]
    before_audit = db.scalar(select(func.count(AuditEvent.id)))
    for url in gets:
        assert client.get(url).status_code == 404, url
    token = csrf_from(client.get(world.url("interventions.new")).text)
    before = snapshot(db)
    assert before["audit"] == before_audit  # a 404 exports nothing
    posts = [
        "/interventions/99999999999/edit", f"/interventions/{HUGE}/edit", "/interventions/2147483648/delete",
        "/interventions/0/delete", f"/yearly/{YEAR}/nonsense/edit", "/yearly/99999/situation/edit",
        f"/yearly/{HUGE}/action_plan/edit", "/yearly/1999/situation/edit",
    ]
    for url in posts:
        resp = client.post(url, data={"csrf_token": token, "confirmed": "y", "version": "1", "title": "X",
                                      "summary": "X", "introduction": "X"})
        assert resp.status_code == 404, (url, resp.status_code)
    assert snapshot(db) == before


# ------------------------------------------------------------------ GET routes: junk query arguments


GET_PARAMS = ["sort", "page", "per_page", "q", "kind", "area", "state", "weeks_before", "weeks_after", "lang",
              "agency", "late", "version"]
GET_JUNK = ["", "abc", "-5", "0", "100000", "1e3", HUGE, "x" * 10_000, "a\x00b", "%", "²", "１２", "-start"]
#: Pages that render a PDF (slow): junk all at once only, and for a few junk values.
PDFS = {"interventions.evaluation_pdf", "yearly.situation_pdf", "yearly.action_plan_pdf", "processes.report_pdf"}
PDF_JUNK = {"abc", "-5", HUGE, "²"}


@pytest.mark.parametrize("junk", GET_JUNK, ids=[f"g{i}" for i in range(len(GET_JUNK))])
def test_get_routes_take_junk_query_arguments(client, db, world, junk):
    """Every GET page: all arguments junk at once, then each argument the page reads on its own, once and
    repeated (tests/junk.py). PDFs for a few junk values only."""
    world.add_reports()
    for endpoint in world.routes("GET"):
        pdf = endpoint in PDFS
        if pdf and junk not in PDF_JUNK:
            continue
        for url in world.rule_urls(endpoint):
            for what, resp in junk_requests(client, url, GET_PARAMS, junk, repeated=True, one_at_a_time=not pdf):
                assert resp.status_code < 500, f"GET {url}?{what}={junk[:20]!r}: {resp.status_code}"
                if pdf and resp.status_code == 200:
                    assert resp.data.startswith(b"%PDF"), url


@pytest.mark.parametrize("query", [
    {"agency": "²"}, {"agency": "¹²"}, {"agency": "٣"}, {"agency": "abc"}, {"agency": HUGE}, {"agency": "-1"},
    {"agency": "2147483648"}, {"kind": "case"}, {"kind": "MILESTONE"}, {"late": "maybe"}, {"late": "²"},
])
def test_due_page_refuses_bad_filters_with_400_and_a_message(client, db, world, query):
    resp = client.get("/processes/due", query_string=query)
    assert resp.status_code == 400, (query, resp.status_code)
    assert "ignorerades" in resp.text
    assert "Sent delmål" in resp.text  # the rest of the page is still there


@pytest.mark.parametrize("query,expected", [
    ({"weeks_before": "abc"}, "Veckor före"), ({"weeks_before": "-5"}, "Veckor före"),
    ({"weeks_before": "0"}, "Veckor före"), ({"weeks_before": "100000"}, "Veckor före"),
    ({"weeks_before": "1e3"}, "Veckor före"), ({"weeks_before": HUGE}, "Veckor före"),
    ({"weeks_after": "²"}, "Veckor efter"), ({"weeks_after": "9" * 5000}, "Veckor efter"),
    ({"area": "abc"}, "Jämförelseområdena"), ({"area": HUGE}, "Jämförelseområdena"),
    ({"area": "9" * 5000}, "Jämförelseområdena"), ({"area": "²"}, "Jämförelseområdena"),
])
def test_evaluation_bad_arguments_give_a_message_and_defaults(client, db, world, query, expected):
    resp = client.get(world.url("interventions.evaluation", intervention_id=world.intervention.id),
                      query_string=query)
    assert resp.status_code == 200, resp.status_code
    assert expected in resp.text
    assert 'name="weeks_before" min="2" max="104" value="12"' in resp.text


def test_evaluation_with_every_comparison_area_targeted_or_one_area_many_times(client, db, world):
    world.add_reports()
    url = world.url("interventions.evaluation", intervention_id=world.intervention.id)
    resp = client.get(url, query_string={"area": [str(world.north.id), str(world.south.id)]})
    assert resp.status_code == 200 and "Jämförelseområdena kunde inte användas" in resp.text
    resp = client.get(url, query_string={"area": [str(world.east.id)] * 600})
    assert resp.status_code == 200 and "Jämförelseområdena kunde inte användas" in resp.text
    resp = client.get(url, query_string={"area": [str(world.east.id)] * 3, "weeks_before": "6",
                                         "weeks_after": "8"})
    assert resp.status_code == 200 and CANNOT_SAY not in resp.text, resp.text[:3000]
    assert "Minskning" in resp.text  # 3 → 1 a week in the targeted area, flat beside it


# ------------------------------------------------------------------ the evaluation: honest "cannot say"


def _evaluation(client, world, intervention, **query):
    url = world.url("interventions.evaluation", intervention_id=intervention.id)
    resp = client.get(url, query_string=query)
    assert resp.status_code == 200, resp.status_code
    return resp.text


@pytest.mark.parametrize("case", ["no_reports", "future", "just_started", "ended_early", "all_targeted",
                                  "deactivated", "edge_1900", "edge_2199"])
def test_evaluation_says_cannot_say_instead_of_failing(client, db, world, processes, incidents, case):
    world.add_reports()
    today = local_today()
    areas, categories, start, end = [world.north], [world.category], world.start, None
    if case == "no_reports":
        categories = [incidents.category(name_sv="Aldrig rapporterad")]
    elif case == "future":
        start = today + timedelta(days=30)
    elif case == "just_started":
        start = today - timedelta(days=9)
    elif case == "ended_early":
        start, end = today - timedelta(days=16), today - timedelta(days=10)
    elif case == "all_targeted":
        areas = list(db.scalars(select(Area)))
    elif case == "edge_1900":
        start = date(1900, 1, 1)
    elif case == "edge_2199":
        start, end = date(2199, 12, 31), date(2199, 12, 31)
    intervention = processes.intervention(agency=world.police, areas=areas, categories=categories, start=start,
                                          end=end, title=f"Insats {case}")
    if case == "deactivated":
        # Every other area and the category are switched off after the fact: no comparison areas by default.
        for area in db.scalars(select(Area).where(Area.id != world.north.id)):
            area.active = False
        for category in db.scalars(select(Category)):
            category.active = False
        db.flush()
    for query in ({}, {"weeks_before": "104", "weeks_after": "104"}, {"weeks_before": "2", "weeks_after": "1"}):
        page = _evaluation(client, world, intervention, **query)
        assert CANNOT_SAY in page, (case, query)
        assert "Minskning med" not in page and "Ökning med" not in page, (case, query)
    if case in ("no_reports", "all_targeted", "edge_2199"):  # PDFs are slow: the odd ones
        resp = client.get(world.url("interventions.evaluation_pdf", intervention_id=intervention.id),
                          query_string={"weeks_before": "104", "weeks_after": "104"})
        assert resp.status_code == 200 and resp.data.startswith(b"%PDF"), case


def test_an_intervention_whose_areas_and_categories_were_deleted_still_answers(client, db, world, processes):
    """The link rows go with a removed area (ON DELETE CASCADE): no target left, an honest "cannot say"."""
    intervention = processes.intervention(agency=world.police, areas=[world.south], categories=[world.category],
                                          start=world.start, title="Insats utan mål")
    db.execute(intervention_area.delete().where(intervention_area.c.intervention_id == intervention.id))
    db.execute(intervention_category.delete().where(intervention_category.c.intervention_id == intervention.id))
    db.expire_all()
    page = _evaluation(client, world, intervention)
    assert CANNOT_SAY in page
    assert client.get(world.url("interventions.detail", intervention_id=intervention.id)).status_code == 200
    url = world.url("interventions.edit", intervention_id=intervention.id)
    page = Page(client, url, url)
    before = snapshot(db)
    resp = page.post({})  # no area, no category ticked: refused, not saved
    assert resp.status_code == 400 and snapshot(db) == before


# ------------------------------------------------------------------ lists


@pytest.mark.parametrize("query,expected", [
    ({"kind": "zzz"}, 400), ({"state": "late"}, 400), ({"area": "abc"}, 400), ({"area": HUGE}, 400),
    ({"area": "2147483648"}, 400), ({"area": "-1"}, 400), ({"q": "q" * 101}, 400),
    ({"page": "-1"}, 200), ({"page": "abc"}, 200), ({"page": HUGE}, 200), ({"per_page": "100000"}, 200),
    ({"sort": "zzz"}, 200), ({"sort": "-" * 500}, 200), ({"sort": "--title"}, 200), ({"q": "%"}, 200),
    ({"q": "_"}, 200), ({"q": "\\"}, 200),
])
def test_intervention_list_answers_junk_filters_clearly(client, db, world, query, expected):
    resp = client.get("/interventions/", query_string=query)
    assert resp.status_code == expected, (query, resp.status_code)
    if expected == 400:
        assert "Filtret kunde inte användas" in resp.text


def test_a_percent_sign_in_the_search_matches_literally(client, db, world, processes):
    processes.intervention(agency=world.police, areas=[world.north], categories=[world.category],
                           title="100% belysning")
    resp = client.get("/interventions/", query_string={"q": "%"})
    assert resp.status_code == 200 and "100% belysning" in resp.text and "Robust insats" not in resp.text


# ------------------------------------------------------------------ yearly documents and the status report


def test_yearly_documents_for_a_year_without_reports_and_for_the_current_year(client, db, world):
    this_year = local_today().year
    for year in (2000, this_year, this_year + 1):
        for path in (f"/yearly/{year}/lagesbild", f"/yearly/{year}/atgardsplan",
                     f"/yearly/{year}/situation/edit", f"/yearly/{year}/action_plan/edit"):
            assert client.get(path).status_code == 200, path
    for path in (f"/yearly/2000/lagesbild.pdf?lang=xx", f"/yearly/{this_year}/atgardsplan.pdf?lang=en"):
        resp = client.get(path)
        assert resp.status_code == 200 and resp.data.startswith(b"%PDF"), path
    page = client.get("/yearly/")
    assert page.status_code == 200 and str(this_year) in page.text
    # The first save of a year's document (version 0) works, a second "first save" is stale.
    url = "/yearly/2000/situation/edit"
    first, second = Page(client, url, url), Page(client, url, url)
    assert first.post({"summary": "Första."}).status_code == 302
    before = snapshot(db)
    resp = second.post({"summary": "Andra."})
    assert resp.status_code == 409 and "ändrats av någon annan" in resp.text and snapshot(db) == before


def test_a_malformed_stored_document_is_shown_as_empty(client, db, world):
    for stored in ("not json", "[1, 2]", '{"summary": 5, "analysis": null}', ""):
        world.document.sections = stored
        db.flush()
        assert client.get(f"/yearly/{YEAR}/lagesbild").status_code == 200, stored
        assert client.get(f"/yearly/{YEAR}/situation/edit").status_code == 200, stored


def test_status_report_of_a_process_with_odd_data(client, db, world, processes):
    """Milestones at the edges of the date range and a process with no agencies, areas or milestones."""
    processes.milestone(world.process, agency=world.police, title="Tidigt", due=date(1900, 1, 1))
    processes.milestone(world.process, agency=world.police, title="Sent", due=date(2199, 12, 31))
    empty = processes.process(owner=world.leader, owner_agency=world.leader.agency, goal="")
    before = _events(db, "process.export")
    for process in (world.process, empty):
        resp = client.get(world.url("processes.report_pdf", process_id=process.id), query_string={"lang": "xx"})
        assert resp.status_code == 200 and resp.data.startswith(b"%PDF"), process.id
    assert _events(db, "process.export") == before + 2


# ------------------------------------------------------------------ a concurrent writer


def test_an_intervention_saved_by_someone_else_between_load_and_save_is_409(client, db, world, monkeypatch):
    """The other save lands after this request checked the version but before it writes: 409, nothing of ours."""
    from app.processes import interventions as service

    url = world.url("interventions.edit", intervention_id=world.intervention.id)
    page = Page(client, url, url)
    original = service._resolve

    def racing(*args, **kwargs):
        clean = original(*args, **kwargs)
        table = Intervention.__table__  # Core, so the session's copy keeps the version it loaded
        db.execute(table.update().where(table.c.id == world.intervention.id).values(version=table.c.version + 1))
        return clean

    monkeypatch.setattr(service, "_resolve", racing)
    resp = page.post({"title": "Samtidig rubrik", "area_ids": [str(world.east.id)]})
    assert resp.status_code == 409 and "ändrats av någon annan" in resp.text, resp.status_code
    db.expire_all()
    assert world.intervention.title == "Robust insats"
    assert {a.id for a in world.intervention.areas} == {world.north.id, world.south.id}


def test_two_first_saves_of_a_yearly_document_at_once_give_409_not_500(client, db, world, monkeypatch):
    """Both opened the not-yet-created document (version 0); the other one's row appears just before ours."""
    from app.processes import yearly as service

    url = world.url("yearly.edit", year=2001, kind="situation")
    page = Page(client, url, url)
    original = service.get_document

    def racing(year, kind):
        found = original(year, kind)
        if found is None:
            db.execute(YearlyDocument.__table__.insert().values(year=year, kind=kind, sections="{}",
                                                               version=1))
        return found

    monkeypatch.setattr(service, "get_document", racing)
    resp = page.post({"summary": "Vår text."})
    assert resp.status_code == 409 and "ändrats av någon annan" in resp.text, resp.status_code
    rows = db.scalars(select(YearlyDocument).where(YearlyDocument.year == 2001)).all()
    assert [r.sections for r in rows] == ["{}"]
