"""Every route of the process domain (found in app.url_map) against the roles the policy gives nothing,
and against an officer whose agency takes no part.

Walking the url_map means a new page is covered here the day it is added.
"""

from __future__ import annotations


import pytest
from flask import url_for

from tests.conftest import csrf_from, sign_in

PREFIXES = ("processes.", "meetings.", "interventions.", "yearly.")

#: Pages an officer of a non-participating agency may still open: lists filtered to what they may
#: see, and interventions (area-level, shown on the weekly overview to every collaborating officer).
OUTSIDER_ALLOWED = {"processes.index", "processes.due", "meetings.index", "meetings.est_current",
                    "interventions.index", "interventions.detail"}


class Routes:
    def __init__(self, app, db, factory, processes, incidents):
        police, housing = factory.agency(kind="police"), factory.agency(kind="housing")
        area, category = incidents.area(), incidents.category()
        self.process = processes.process(agencies=[police], areas=[area], categories=[category])
        milestone = processes.milestone(self.process, agency=police)
        meeting = processes.meeting(self.process, attendees=[police])
        action = processes.action_item(meeting, agency=police)
        est = processes.meeting(kind="est", iso_year=2026, iso_week=10, title="EST v10", attendees=[police])
        intervention = processes.intervention(agency=police, areas=[area], categories=[category])
        self.police, self.housing = police, housing
        values = {"process_id": self.process.id, "milestone_id": milestone.id, "meeting_id": meeting.id,
                  "action_id": action.id, "intervention_id": intervention.id, "year": 2026, "week": 10,
                  "kind": "situation"}
        self.est = est
        self.urls = []
        with app.test_request_context():
            for rule in app.url_map.iter_rules():
                if rule.endpoint.startswith(PREFIXES):
                    missing = set(rule.arguments) - set(values)
                    assert not missing, f"{rule.endpoint}: add values for {missing}"
                    path = url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
                    self.urls += [(rule.endpoint, method, path) for method in sorted(rule.methods & {"GET", "POST"})]
        assert len(self.urls) > 20, self.urls


@pytest.fixture()
def routes(app, db, factory, processes, incidents):
    return Routes(app, db, factory, processes, incidents)


def _answers(client, user, routes):
    sign_in(client, user)
    token = csrf_from(client.get("/").text)
    return {(endpoint, method): getattr(client, method.lower())(path, data={"csrf_token": token}).status_code
            for endpoint, method, path in routes.urls}


@pytest.mark.parametrize("role", ["reporter", "admin", "auditor"])
def test_roles_without_process_rights_are_refused_everywhere(client, factory, routes, role):
    user = factory.user(roles=(role,), kind="other")
    answers = _answers(client, user, routes)
    wrong = {key: code for key, code in answers.items() if code != 403}
    assert not wrong, f"{role} must get 403 on every process route: {wrong}"


@pytest.mark.parametrize("role", ["partner", "coordinator"])
def test_an_officer_of_an_agency_outside_the_process_sees_nothing_of_it(client, factory, routes, role):
    user = factory.user(roles=(role,), agency=routes.housing)
    sign_in(client, user)
    # The lists open, but show nothing of the process.
    for endpoint in ("processes.index", "processes.due", "meetings.index"):
        with client.application.test_request_context():
            path = url_for(endpoint)
        page = client.get(path)
        assert page.status_code == 200, endpoint
        assert routes.process.name not in page.text, endpoint
    token = csrf_from(client.get("/").text)
    answers = {(endpoint, method): getattr(client, method.lower())(path, data={"csrf_token": token}).status_code
               for endpoint, method, path in routes.urls}
    wrong = {key: code for key, code in answers.items()
             if key[0] not in OUTSIDER_ALLOWED and code not in (403, 404)}
    assert not wrong, f"{role} outside the process must be refused: {wrong}"


def test_a_participating_partner_opens_the_process_but_cannot_manage_it(client, factory, routes):
    user = factory.user(roles=("partner",), agency=routes.police)
    sign_in(client, user)
    with client.application.test_request_context():
        detail = url_for("processes.detail", process_id=routes.process.id)
        edit = url_for("processes.edit", process_id=routes.process.id)
    assert client.get(detail).status_code == 200
    assert client.get(edit).status_code == 403
