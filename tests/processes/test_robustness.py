"""Bad input never gives a 500 on the process and meeting pages, and a refused change saves nothing.

As a process leader (who may use every route), every POST route of the ``processes`` and ``meetings``
blueprints found in app.url_map is fetched for its CSRF token and the values a browser would send, then
posted once per field with that one field replaced by junk and once with every field junk. An answer
must be below 500; an answer that is not a redirect (a refusal) must leave the process tables, their
link tables, the week notes and the audit trail exactly as they were. Multi-selects get non-numbers,
out-of-range ids and duplicates; single fields are sent twice. GET routes get junk query arguments and
unknown or malformed ids in the path answer 404. Runs on SQLite and, with LOTS_TEST_DATABASE_URL, on
PostgreSQL (where out-of-range integers and over-long strings reach the driver).

processes.due and processes.report_pdf have robustness tests of their own (test_due.py, test_report_pdf.py).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.overview.models import WeekNote
from app.processes import meeting_common as meeting_service
from app.processes import service as process_service
from app.processes.models import (ActionItem, Meeting, Milestone, Process, meeting_agency, milestone_dependency,
                                  process_agency)
from tests.conftest import csrf_from
from tests.junk import junk_requests
from tests.overview.test_robustness import _FormFields

PREFIXES = ("processes.", "meetings.")
#: Covered by their own helpers' tests.
SKIP = {"processes.due", "processes.report_pdf"}
#: Delete routes are posted in their own test (a ticked box with any value deletes, as it should).
DELETES = {"processes.delete", "processes.milestone_delete", "meetings.delete"}

HUGE = "99999999999999999999"
JUNK = [
    "",
    "abc",
    "-1",
    "0",
    HUGE,
    "1e9",
    "x" * 10_000,
    "y" * 301,  # over String(200) and String(300): PostgreSQL would refuse it (DataError)
    "2026-02-30",
    "9999-12-31",
    "a\x00b",
]
JUNK_IDS = ["empty", "abc", "minus1", "zero", "huge", "1e9", "10k", "301", "feb30", "y9999", "nul"]


# ------------------------------------------------------------------ helpers


def snapshot(db) -> dict:
    """Everything a refused post must leave alone: rows and versions of the process tables, the link tables,
    the week notes (an EST meeting's focus) and the number of audit events."""
    state = {model.__name__: db.execute(select(model.id, model.version).order_by(model.id)).all()
             for model in (Process, Milestone, Meeting, ActionItem)}
    for table in (process_agency, milestone_dependency, meeting_agency):
        state[table.name] = sorted(tuple(str(v) for v in row) for row in db.execute(select(table)).all())
    state["week_note"] = db.execute(select(WeekNote.id, WeekNote.focus, WeekNote.analysis)
                                    .order_by(WeekNote.id)).all()
    state["audit"] = db.scalar(select(func.count(AuditEvent.id)))
    return state


def _path(url: str) -> str:
    return url.split("?")[0]


class _Fields(_FormFields):
    """The overview tests' form parser, keeping every ticked checkbox of a multi-select (name → list)."""

    def __init__(self, action: str, page: str):
        super().__init__(action, page)
        self.ticked: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        a = dict(attrs)
        if self.inside and tag == "input" and a.get("type") == "checkbox" and "checked" in a:
            self.ticked.setdefault(a["name"], []).append(a.get("value", "y"))

    def handle_data(self, data):
        if self._textarea and not self.fields[self._textarea]:
            data = data.removeprefix("\r\n").removeprefix("\n")  # as a browser: the newline after <textarea>
        super().handle_data(data)


def form_fields(html: str, action: str, page: str) -> tuple[dict, list[str]]:
    parser = _Fields(action, page)
    parser.feed(html)
    names = [n for n in dict.fromkeys(parser.names) if n != "csrf_token"]
    return {**parser.fields, **parser.ticked}, names


class Page:
    """A form page as a browser holds it: its token and the values it would submit."""

    def __init__(self, client, page_url: str, post_url: str):
        self.client, self.page_url, self.post_url = client, page_url, post_url
        self.reload()

    def reload(self) -> None:
        resp = self.client.get(self.page_url)
        assert resp.status_code == 200, (self.page_url, resp.status_code)
        self.token = csrf_from(resp.text)
        self.fields, self.names = form_fields(resp.text, _path(self.post_url), _path(self.page_url))
        assert self.names, f"no fields found for {self.post_url}"

    def post(self, changes: dict):
        return self.client.post(self.post_url, data={**self.fields, **changes, "csrf_token": self.token})


def post_junk(client, db, page_url: str, post_url: str, junk: str, snapshot=snapshot) -> None:
    """Each field junk in turn, then all of them: < 500 always; a refusal changes nothing (per ``snapshot``)."""
    page = Page(client, page_url, post_url)
    before = snapshot(db)
    variants = [{name: junk} for name in page.names] + [{name: junk for name in page.names}]
    for i, variant in enumerate(variants):
        resp = page.post(variant)
        what = f"POST {post_url} {sorted(variant)[:3]}={junk[:20]!r}"
        assert resp.status_code < 500, f"{what}: {resp.status_code}"
        if resp.status_code == 302:
            # The junk was a valid value for that field (a goal of "0"): saved. Start again from a fresh page.
            assert i < len(variants) - 1, f"{what}: every field junk was accepted"
            page.reload()
            before = snapshot(db)
            continue
        assert resp.status_code in (400, 404, 409), f"{what}: {resp.status_code}"
        assert snapshot(db) == before, f"{what}: a refused post changed the database"


class World:
    """One process with two milestones (b waits for a), a meeting with an action item, an EST meeting."""

    def __init__(self, app, db, factory, processes, incidents, login_as):
        self.police, self.school = factory.agency(kind="police"), factory.agency(kind="school")
        self.leader = login_as("process_leader", kind="other")
        self.area = incidents.area(name="Robusta torget")
        self.category = incidents.category(name_sv="Skadegörelse robust", name_en="Vandalism robust")
        self.officer = factory.user(roles=("partner",), agency=self.police)
        self.process = processes.process(agencies=[self.police, self.school], owner=self.leader,
                                         owner_agency=self.leader.agency, areas=[self.area],
                                         categories=[self.category])
        self.a = processes.milestone(self.process, agency=self.police, title="Kartlägg", due=date(2026, 3, 1),
                                     responsible=self.officer)
        self.b = processes.milestone(self.process, agency=self.police, title="Belys", due=date(2026, 3, 10),
                                     depends_on=[self.a])
        self.c = processes.milestone(self.process, agency=self.school, title="Samla", due=date(2026, 2, 1))
        self.other_process = processes.process(agencies=[self.police], owner=self.leader,
                                               owner_agency=self.leader.agency)
        self.other_milestone = processes.milestone(self.other_process, agency=self.police)
        self.meeting = processes.meeting(self.process, attendees=[self.police], minutes="Hemligt protokoll.")
        self.item = processes.action_item(self.meeting, agency=self.police)
        self.est = processes.meeting(kind="est", iso_year=2026, iso_week=10, title="EST v10",
                                     attendees=[self.police])
        self.values = {"process_id": self.process.id, "milestone_id": self.a.id, "meeting_id": self.est.id,
                       "action_id": self.item.id, "year": 2026, "week": 11}
        self.app = app

    def url(self, endpoint: str, **values) -> str:
        with self.app.test_request_context():
            return url_for(endpoint, **values)

    def routes(self, method: str) -> list[str]:
        """The endpoints of the two blueprints answering ``method`` (walked, so a new route is covered)."""
        found = sorted({rule.endpoint for rule in self.app.url_map.iter_rules()
                        if rule.endpoint.startswith(PREFIXES) and method in rule.methods
                        and rule.endpoint not in SKIP})
        assert found
        return found

    def post_target(self, endpoint: str) -> tuple[str, str]:
        """(page holding the form, URL it posts to) for a POST endpoint."""
        p, m = self.process.id, self.a.id
        pages = {
            "processes.new": "processes.new",
            "processes.edit": "processes.edit",
            "processes.milestone_new": "processes.milestone_new",
            "processes.milestone_edit": "processes.milestone_edit",
            "processes.milestone_status": "processes.milestone_status",
            "processes.delete": "processes.edit",
            "processes.milestone_delete": "processes.milestone_edit",
            "meetings.new": "meetings.new",
            "meetings.edit": "meetings.edit",
            "meetings.delete": "meetings.delete",
            "meetings.action_new": "meetings.action_new",
            "meetings.decision_new": "meetings.decision_new",
            "meetings.action_edit": "meetings.action_edit",
            "meetings.action_status": "meetings.action_status",
            "meetings.est_open": "meetings.est",
        }
        assert endpoint in pages, f"{endpoint}: a new POST route; add it to post_target"
        args = {"process_id": p, "milestone_id": m, "meeting_id": self.est.id, "action_id": self.item.id,
                "year": 2026, "week": 11}
        if endpoint == "meetings.new":
            url = self.url("meetings.new", process_id=p)
            return url, url
        with self.app.test_request_context():
            rule = next(r for r in self.app.url_map.iter_rules() if r.endpoint == endpoint)
            values = {name: args[name] for name in rule.arguments}
            return url_for(pages[endpoint], **values), url_for(endpoint, **values)


@pytest.fixture()
def world(app, db, factory, processes, incidents, login_as):
    return World(app, db, factory, processes, incidents, login_as)


# ------------------------------------------------------------------ every POST form, every field


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_every_post_form_takes_junk_without_500_and_saves_nothing_when_refused(client, db, world, junk):
    posted = []
    for endpoint in world.routes("POST"):
        if endpoint in DELETES or endpoint == "meetings.est_open":
            continue
        page_url, post_url = world.post_target(endpoint)
        post_junk(client, db, page_url, post_url, junk)
        if endpoint in ("meetings.edit", "meetings.action_new", "meetings.decision_new"):
            # The process meeting too (the EST meeting has the focus field, this one does not).
            post_junk(client, db, *[u.replace(str(world.est.id), str(world.meeting.id))
                                    for u in (page_url, post_url)], junk)
        posted.append(endpoint)
    assert len(posted) >= 10, posted


@pytest.mark.parametrize("junk", ["", "abc", HUGE, "a\x00b", "x" * 10_000])
def test_opening_an_est_meeting_with_junk_is_refused_or_idempotent(client, db, world, junk):
    page_url, post_url = world.post_target("meetings.est_open")
    token = csrf_from(client.get(page_url).text)
    before = snapshot(db)
    resp = client.post(post_url, data={"csrf_token": junk})  # a junk token: nothing opens
    assert resp.status_code in (302, 400) and snapshot(db) == before
    resp = client.post(post_url, data={"csrf_token": token, "year": junk, "week": junk, "process_id": junk})
    assert resp.status_code in (302, 400), resp.status_code
    if "\x00" not in junk:  # extra fields are ignored: the week comes from the path
        assert db.scalar(select(func.count()).select_from(Meeting).where(
            Meeting.iso_year == 2026, Meeting.iso_week == 11)) == 1
        assert client.post(post_url, data={"csrf_token": token}).status_code == 302  # a double click: same one
        assert db.scalar(select(func.count()).select_from(Meeting).where(
            Meeting.iso_year == 2026, Meeting.iso_week == 11)) == 1


# ------------------------------------------------------------------ deletes


@pytest.mark.parametrize("confirmed", [None, "", "false", "abc", HUGE, "a\x00b"])
def test_delete_routes_take_junk_confirmations(client, db, world, processes, confirmed):
    spare = processes.milestone(world.process, agency=world.police, title="Extra")
    spare_meeting = processes.meeting(world.process, attendees=[world.police])
    targets = {
        "processes.delete": (world.url("processes.edit", process_id=world.process.id),
                             world.url("processes.delete", process_id=world.process.id)),
        "processes.milestone_delete": (
            world.url("processes.milestone_edit", process_id=world.process.id, milestone_id=spare.id),
            world.url("processes.milestone_delete", process_id=world.process.id, milestone_id=spare.id)),
        "meetings.delete": (world.url("meetings.delete", meeting_id=spare_meeting.id),
                            world.url("meetings.delete", meeting_id=spare_meeting.id)),
    }
    assert set(targets) == DELETES & set(world.routes("POST"))
    truthy = confirmed not in (None, "", "false") and "\x00" not in confirmed
    for endpoint, (page_url, post_url) in targets.items():
        token = csrf_from(client.get(page_url).text)
        before = snapshot(db)
        data = {"csrf_token": token, **({} if confirmed is None else {"confirmed": confirmed})}
        resp = client.post(post_url, data=data)
        assert resp.status_code < 500, (endpoint, resp.status_code)
        if not truthy or endpoint == "processes.delete":
            # Unconfirmed: nothing is removed. The process has meetings, so it is never removed here.
            assert resp.status_code in (302, 400), (endpoint, resp.status_code)
            assert snapshot(db) == before, endpoint
    assert db.get(Process, world.process.id) is not None
    db.expire_all()
    assert (db.get(Milestone, spare.id) is None) == truthy
    assert (db.get(Meeting, spare_meeting.id) is None) == truthy


# ------------------------------------------------------------------ multi-selects and repeated fields


def _form(client, world, endpoint):
    page_url, post_url = world.post_target(endpoint)
    return Page(client, page_url, post_url)


@pytest.mark.parametrize("bad", [["abc"], [HUGE], ["-1"], ["0"], ["1e9"], ["1.5"], [" "], ["2147483648"],
                                 ["999999999"]], ids=str)
def test_multi_selects_refuse_ids_that_are_not_known_ids(client, db, world, bad):
    cases = [
        ("processes.new", "agency_ids"), ("processes.new", "area_ids"), ("processes.new", "category_ids"),
        ("processes.edit", "agency_ids"), ("processes.edit", "area_ids"), ("processes.edit", "category_ids"),
        ("processes.milestone_new", "depends_on_ids"), ("processes.milestone_edit", "depends_on_ids"),
        ("meetings.new", "attendees"), ("meetings.edit", "attendees"),
    ]
    for endpoint, name in cases:
        page = _form(client, world, endpoint)
        before = snapshot(db)
        known = [str(world.police.id)] if name in ("agency_ids", "attendees") else []
        if name == "depends_on_ids":
            known = [str(world.c.id)]
        changes = {name: known + bad}
        if endpoint.endswith("_new") or endpoint == "processes.new":
            changes.update(_valid_new(world, endpoint))
        resp = page.post(changes)
        assert resp.status_code == 400, (endpoint, name, bad, resp.status_code)
        assert snapshot(db) == before, (endpoint, name, bad)
        assert "alert" in resp.text or "errors" in resp.text, (endpoint, name)


def _valid_new(world, endpoint) -> dict:
    if endpoint == "processes.new":
        return {"name": "Ny robust process", "type": "sspf", "status": "planned", "start_date": "2026-01-01"}
    if endpoint == "processes.milestone_new":
        return {"title": "Nytt robust delmål", "agency_id": str(world.police.id), "due_date": "2026-05-01",
                "status": "planned"}
    if endpoint == "meetings.new":
        return {"title": "Robust möte", "held_on": "2026-03-03"}
    return {}


def test_duplicate_ids_in_multi_selects_are_saved_once(client, db, world):
    police = str(world.police.id)
    resp = _form(client, world, "processes.new").post({
        **_valid_new(world, "processes.new"), "agency_ids": [police, police], "area_ids": [str(world.area.id)] * 2})
    assert resp.status_code == 302, resp.text[:2000]
    created = db.scalar(select(Process).where(Process.name == "Ny robust process"))
    assert [a.id for a in created.agencies] == [world.police.id] and [a.id for a in created.areas] == [world.area.id]
    resp = _form(client, world, "processes.milestone_edit").post({"depends_on_ids": [str(world.c.id)] * 3})
    assert resp.status_code == 302, resp.text[:2000]
    db.expire_all()
    assert [d.id for d in world.a.depends_on] == [world.c.id]
    resp = _form(client, world, "meetings.edit").post({"attendees": [police, police]})
    assert resp.status_code == 302, resp.text[:2000]
    db.expire_all()
    assert [a.id for a in world.est.attendees] == [world.police.id]


@pytest.mark.parametrize("endpoint", ["processes.edit", "processes.milestone_edit", "processes.milestone_status",
                                      "meetings.edit", "meetings.action_edit", "meetings.action_status"])
def test_repeated_fields_never_500_and_a_stale_second_version_is_not_used(client, db, world, endpoint):
    page = _form(client, world, endpoint)
    for name in page.names:
        before = snapshot(db)
        current = page.fields.get(name, "")
        resp = page.post({name: ["zzz-unknown", current]})
        assert resp.status_code < 500, (endpoint, name, resp.status_code)
        if resp.status_code != 302:
            assert snapshot(db) == before, (endpoint, name)
        else:
            page.reload()
    # Only the first of two versions counts: an old one first is a conflict, whatever follows.
    before = snapshot(db)
    resp = page.post({"version": ["0", page.fields["version"]]})
    assert resp.status_code == 409 and snapshot(db) == before, resp.status_code


# ------------------------------------------------------------------ unknown enum values and lengths


@pytest.mark.parametrize("endpoint,field,value,message", [
    ("processes.new", "type", "zzz", "Välj ett alternativ i listan"),
    ("processes.new", "status", "late", "Välj ett alternativ i listan"),
    ("processes.new", "name", "n" * 201, "Högst 200 tecken"),
    ("processes.new", "goal", "g" * 5001, "Högst 5000 tecken"),
    ("processes.new", "owner_id", HUGE, "processledare"),
    ("processes.new", "owner_id", "abc", "processledare"),
    ("processes.new", "owner_agency_id", "2147483648", "inaktiv myndighet"),
    ("processes.new", "end_date", "2025-12-31", "Slutdatum kan inte ligga före startdatum"),
    ("processes.new", "start_date", "9999-12-31", "Ange ett datum mellan år"),
    ("processes.milestone_new", "title", "t" * 201, "Högst 200 tecken"),
    ("processes.milestone_new", "status", "late", "Välj ett alternativ i listan"),
    ("processes.milestone_new", "agency_id", HUGE, "Okänd myndighet"),
    ("processes.milestone_new", "responsible_id", "-1", "handläggare"),
    ("processes.milestone_new", "completion_note", "c" * 5001, "Högst 5000 tecken"),
    ("processes.milestone_status", "status", "late", "Välj ett alternativ i listan"),
    ("processes.milestone_status", "completion_note", "c" * 5001, "Högst 5000 tecken"),
    ("meetings.new", "title", "t" * 201, "Högst 200 tecken"),
    ("meetings.new", "held_on", "2026-13-01", "ÅÅÅÅ-MM-DD"),
    ("meetings.new", "minutes", "m" * 20_001, "Högst 20000 tecken"),
    ("meetings.edit", "focus", "f" * 20_001, "Högst 20000 tecken"),
    ("meetings.action_new", "title", "t" * 301, "Högst 300 tecken"),
    ("meetings.action_new", "agency_id", HUGE, "Välj ett alternativ i listan"),
    ("meetings.action_new", "responsible_id", "abc", "Välj ett alternativ i listan"),
    ("meetings.action_new", "status", "late", "Välj ett alternativ i listan"),
    ("meetings.action_status", "completion_note", "c" * 5001, "Högst 5000 tecken"),
    ("meetings.action_status", "status", "zzz", "Välj ett alternativ i listan"),
])
def test_bad_values_are_form_errors_in_swedish_and_the_input_is_kept(client, db, world, endpoint, field, value,
                                                                      message):
    page = _form(client, world, endpoint)
    before = snapshot(db)
    changes = {**_valid_new(world, endpoint), field: value}
    resp = page.post(changes)
    assert resp.status_code == 400, (resp.status_code, resp.text[:1500])
    assert message in resp.text, re.findall(r'<li>([^<]*)</li>', resp.text)
    assert snapshot(db) == before
    # What was typed is still there to correct (text fields), and so is the rest of the form.
    if field in ("name", "title"):
        assert f'value="{value}"' in resp.text
    elif field in ("goal", "minutes", "focus", "completion_note"):
        assert value in resp.text
    for name, typed in changes.items():
        if name in ("name", "title") and name != field:
            assert f'value="{typed}"' in resp.text, name


# ------------------------------------------------------------------ GET routes: junk query arguments


GET_PARAMS = ["sort", "page", "per_page", "status", "type", "agency", "kind", "q", "process_id", "year", "week",
              "version"]
GET_JUNK = ["", "abc", "-1", "-name", HUGE, "1e9", "100000", "x" * 10_000, "a\x00b", "%", "\\"]


@pytest.mark.parametrize("junk", GET_JUNK, ids=[f"g{i}" for i in range(len(GET_JUNK))])
def test_get_routes_take_junk_query_arguments(client, db, world, junk):
    """Every GET page: all arguments junk at once, then each argument the page reads on its own (tests/junk.py)."""
    for endpoint in world.routes("GET"):
        with world.app.test_request_context():
            rule = next(r for r in world.app.url_map.iter_rules() if r.endpoint == endpoint)
        values = {name: world.values[name] for name in rule.arguments}
        urls = [world.url(endpoint, **values)]
        if endpoint == "meetings.est":  # week 10 is open (a redirect to the meeting), week 11 is a proposal
            urls.append(world.url(endpoint, year=2026, week=10))
        if endpoint in ("meetings.detail", "meetings.edit", "meetings.delete", "meetings.action_new",
                        "meetings.decision_new"):
            urls.append(world.url(endpoint, meeting_id=world.meeting.id))  # a process meeting as well
        for url in urls:
            for what, resp in junk_requests(client, url, GET_PARAMS, junk):
                assert resp.status_code < 500, f"GET {url}?{what}={junk[:20]!r}: {resp.status_code}"


@pytest.mark.parametrize("query,expected", [
    ({"process_id": "abc"}, 404), ({"process_id": "99999999999"}, 404), ({"process_id": HUGE}, 404),
    ({"process_id": "-1"}, 404), ({"kind": "zzz"}, 400), ({"q": "q" * 101}, 400), ({"page": "-1"}, 200),
    ({"page": "abc"}, 200), ({"per_page": "100000"}, 200), ({"sort": "zzz"}, 200), ({"sort": "-" * 500}, 200),
])
def test_meeting_list_answers_junk_filters_clearly(client, db, world, query, expected):
    assert client.get("/meetings/", query_string=query).status_code == expected


@pytest.mark.parametrize("query,expected", [
    ({"status": "zzz"}, 400), ({"type": "zzz"}, 400), ({"agency": "abc"}, 400), ({"agency": HUGE}, 400),
    ({"q": "q" * 101}, 400), ({"page": "-1"}, 200), ({"page": "abc"}, 200), ({"per_page": "100000"}, 200),
    ({"sort": "zzz"}, 200), ({"sort": "-late"}, 200), ({"q": "%"}, 200), ({"page": HUGE}, 200),
])
def test_process_list_answers_junk_filters_clearly(client, db, world, query, expected):
    resp = client.get("/processes/", query_string=query)
    assert resp.status_code == expected
    if expected == 400:
        assert "Filtret kunde inte användas" in resp.text


def test_a_percent_sign_in_the_search_matches_literally(client, db, world, processes):
    processes.process(name="100% trygghet", agencies=[world.police], owner=world.leader,
                      owner_agency=world.leader.agency)
    resp = client.get("/processes/", query_string={"q": "%"})
    assert resp.status_code == 200 and "100% trygghet" in resp.text and world.process.name not in resp.text


# ------------------------------------------------------------------ ids in the path


def test_unknown_and_malformed_ids_in_the_path_are_404(client, db, world):
    p, a = world.process.id, world.a.id
    other = world.other_milestone.id
    gets = [
        "/processes/99999999999", f"/processes/{HUGE}", "/processes/0", "/processes/-1", "/processes/abc",
        "/processes/2147483648", f"/processes/{HUGE}/edit", "/processes/99999999999/milestones/new",
        f"/processes/{p}/milestones/99999999999/edit", f"/processes/{p}/milestones/{HUGE}/status",
        f"/processes/{p}/milestones/{other}/edit", f"/processes/{p}/milestones/{other}/status",
        f"/processes/{world.other_process.id}/milestones/{a}/edit",
        "/meetings/not-a-uuid", "/meetings/00000000-0000-0000-0000-000000000000", f"/meetings/{uuid.uuid4()}",
        "/meetings/" + "x" * 5000, "/meetings/not-a-uuid/edit", "/meetings/not-a-uuid/delete",
        f"/meetings/{uuid.uuid4()}/actions/new", "/meetings/1/actions/new",
        "/meetings/actions/99999999999/status", f"/meetings/actions/{HUGE}/edit", "/meetings/actions/0/status",
        "/meetings/actions/abc/status", "/meetings/est/2026/54", "/meetings/est/2021/53", "/meetings/est/0/1",
        f"/meetings/est/{HUGE}/1", f"/meetings/est/2026/{HUGE}",
        "/meetings/new?process_id=99999999999", f"/meetings/new?process_id={HUGE}", "/meetings/new?process_id=abc",
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    token = csrf_from(client.get("/processes/new").text)
    posts = [
        "/processes/99999999999/edit", "/processes/99999999999/delete", f"/processes/{HUGE}/milestones/new",
        f"/processes/{p}/milestones/99999999999/edit", f"/processes/{p}/milestones/{HUGE}/status",
        f"/processes/{p}/milestones/99999999999/delete", f"/processes/{p}/milestones/{other}/delete",
        f"/processes/{p}/milestones/{other}/status",
        "/meetings/not-a-uuid/edit", f"/meetings/{uuid.uuid4()}/delete", "/meetings/not-a-uuid/actions/new",
        "/meetings/actions/99999999999/status", f"/meetings/actions/{HUGE}/edit",
        f"/meetings/est/{HUGE}/1/open", "/meetings/est/2026/54/open", "/meetings/new?process_id=99999999999",
    ]
    before = snapshot(db)
    for url in posts:
        resp = client.post(url, data={"csrf_token": token, "confirmed": "y", "status": "done", "version": "1",
                                      "title": "X", "name": "X"})
        assert resp.status_code == 404, (url, resp.status_code)
    assert snapshot(db) == before


# ------------------------------------------------------------------ a concurrent writer


@pytest.mark.parametrize("endpoint,model,target,changes", [
    ("processes.edit", Process, "process", {"name": "Samtidigt namn"}),
    ("processes.milestone_edit", Milestone, "a", {"title": "Samtidig rubrik", "due_date": "2026-04-01"}),
    ("processes.milestone_status", Milestone, "a", {"status": "in_progress"}),
    ("meetings.edit", Meeting, "est", {"title": "Samtidigt möte"}),
    ("meetings.action_edit", ActionItem, "item", {"title": "Samtidig åtgärd"}),
    ("meetings.action_status", ActionItem, "item", {"status": "in_progress"}),
])
def test_a_write_that_lands_between_load_and_save_is_409_not_500(client, db, world, monkeypatch, endpoint, model,
                                                                  target, changes):
    """Someone else saves after this request checked the version but before it writes (the flush finds the row
    at a newer version): the answer is the clear 409, and nothing of this request is saved."""
    page = _form(client, world, endpoint)
    module, name = ((meeting_service, "check_version") if endpoint.startswith("meetings.")
                    else (process_service, "_check_version"))
    original = getattr(module, name)

    def racing(obj, *args, **kwargs):
        original(obj, *args, **kwargs)
        table = model.__table__  # Core, so the session's copy keeps the version it loaded
        db.execute(update(table).where(table.c.id == obj.id).values(version=table.c.version + 1))

    monkeypatch.setattr(module, name, racing)
    resp = page.post(changes)
    assert resp.status_code == 409, (resp.status_code, resp.text[:1500])
    assert "ändrats av någon annan" in resp.text
    db.expire_all()
    row = db.get(model, getattr(world, target).id)
    for name, value in changes.items():
        stored = getattr(row, name)
        assert str(getattr(stored, "value", stored)) != value, name


# ------------------------------------------------------------------ dates at the edges


@pytest.mark.parametrize("value", ["1900-01-01", "2199-12-31"])
def test_dates_at_the_edge_of_the_accepted_range_are_saved(client, db, world, value):
    resp = _form(client, world, "processes.milestone_new").post(
        {**_valid_new(world, "processes.milestone_new"), "due_date": value})
    assert resp.status_code == 302, resp.text[:1500]
    assert db.scalar(select(Milestone.due_date).where(Milestone.title == "Nytt robust delmål")) == \
        date.fromisoformat(value)
    # The process page (its timeline spans the whole range) and the list still answer.
    assert client.get(world.url("processes.detail", process_id=world.process.id)).status_code == 200
    assert client.get("/processes/", query_string={"sort": "-late"}).status_code == 200


def test_a_dependency_on_another_process_s_milestone_is_refused(client, db, world):
    other = str(world.other_milestone.id)
    for endpoint in ("processes.milestone_new", "processes.milestone_edit"):
        before = snapshot(db)
        resp = _form(client, world, endpoint).post({**_valid_new(world, endpoint), "depends_on_ids": [other]})
        assert resp.status_code == 400 and "samma process" in resp.text, endpoint
        assert snapshot(db) == before, endpoint


def test_long_text_at_the_limit_is_saved_on_both_engines(client, db, world):
    """200 characters fill a String(200) column exactly, also with characters outside the BMP."""
    for title in ("ä" * 200, "😀" * 200):
        page = _form(client, world, "processes.milestone_edit")
        assert page.post({"title": title, "due_date": (date(2026, 3, 1) + timedelta(days=1)).isoformat()}
                         ).status_code == 302
        db.expire_all()
        assert world.a.title == title


@pytest.mark.parametrize("version", ["", "abc", "-1", HUGE, "1e9"])
def test_a_garbled_version_field_is_a_clear_swedish_400(client, db, world, version):
    for endpoint in ("processes.edit", "processes.milestone_edit", "processes.milestone_status", "meetings.edit",
                     "meetings.action_edit", "meetings.action_status"):
        page = _form(client, world, endpoint)
        before = snapshot(db)
        resp = page.post({"version": version})
        assert resp.status_code == 400, (endpoint, resp.status_code)
        assert "saknar uppgift om vilken version" in resp.text, endpoint
        assert snapshot(db) == before, endpoint


@pytest.mark.parametrize("junk", ["", "abc", HUGE, "x" * 10_000, "done"])
def test_the_owning_agency_s_status_forms_take_junk_too(app, db, world, junk):
    """An officer of the owning agency has two POST routes here: a milestone's and an action item's status."""
    from tests.conftest import sign_in

    client = app.test_client()  # a browser of its own (the leader is logged in on the fixture's)
    sign_in(client, world.officer)
    for endpoint in ("processes.milestone_status", "meetings.action_status"):
        page_url, post_url = world.post_target(endpoint)
        post_junk(client, db, page_url, post_url, junk)
    # Milestone a waits for nothing, so "done" may be saved; b waits for a and may not be done before it.
    b_url = world.url("processes.milestone_status", process_id=world.process.id, milestone_id=world.b.id)
    page = Page(client, b_url, b_url)
    before = snapshot(db)
    db.expire_all()
    a_done = world.a.status.value == "done"
    resp = page.post({"status": "done"})
    assert resp.status_code == (302 if a_done else 400)
    if not a_done:
        assert "kan inte markeras klart" in resp.text and snapshot(db) == before
