"""Every route of the case module, found in app.url_map, refuses the users the policy gives no case content.

Walking the url_map means a new case page is covered here the day it is added.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import url_for

from app.cases.models import EmergencyAccess
from app.db import utcnow
from tests.conftest import csrf_from, sign_in

#: Pages the auditor reviews emergency accesses on: theirs, nobody else's.
AUDITOR_ENDPOINTS = {"cases.emergency_reviews", "cases.emergency_review"}


def _a_document(app, case):
    """A stored document of the case (a small text file), so the document routes are walked with a real id."""
    import os
    import tempfile

    from app.documents import service
    from app.documents.models import AttachedTo, DocumentKind
    from app.security.models import User

    handle, path = tempfile.mkstemp()
    os.write(handle, "Fiktivt dokument\n".encode())
    os.close(handle)
    try:
        with app.test_request_context():
            prepared = service.prepare(path, filename="fiktiv.txt", claimed_type="text/plain", strip_metadata=False)
            from app.db import db as session

            return service.attach(case, session.session.get(User, case.coordinator_id), attached_to=AttachedTo.CASE,
                                  target=None, kind=DocumentKind.NOTES, title="Fiktivt", document_date=None,
                                  prepared=prepared)
    finally:
        os.unlink(path)


class Routes:
    """One case with an item, a consent, a team member and an emergency access, and the URL of every case route."""

    def __init__(self, app, db, factory):
        police = factory.agency(kind="police")
        self.case = factory.case(team=[police], consents=[(police, {"identity"}, None, None)],
                                 items=[dict(part="support", area="housing", goal="Fiktivt mål",
                                             responsible_agency=police)])
        officer = factory.user(roles=("partner",), agency=police)
        with app.app_context():
            access = EmergencyAccess(data_key=self.case.participant.data_key, case=self.case, user_id=officer.id,
                                     agency_id=police.id, started_at=utcnow(),
                                     expires_at=utcnow() + timedelta(minutes=60))
            access.reason = "Fiktivt skäl till nödåtkomst"
            db.add(access)
            db.flush()
        document = _a_document(app, self.case)
        values = {"code": self.case.code, "item_id": str(self.case.plan_items[0].id),
                  "consent_id": str(self.case.consents[0].id), "member_id": self.case.team[0].id, "number": 1,
                  "access_id": str(access.id), "link_id": 1, "token": "n0-such-reopen-proof-token",
                  "document_id": str(document.id)}
        self.urls = []
        with app.test_request_context():
            for rule in app.url_map.iter_rules():
                if rule.endpoint.startswith("cases."):
                    path = url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
                    self.urls += [(rule.endpoint, method, path) for method in sorted(rule.methods & {"GET", "POST"})]
        assert len(self.urls) > 30


@pytest.fixture()
def routes(app, db, factory):
    return Routes(app, db, factory)


def _answers(client, user, routes):
    sign_in(client, user)
    token = csrf_from(client.get("/").text)
    return {(endpoint, method): getattr(client, method.lower())(path, data={"csrf_token": token}).status_code
            for endpoint, method, path in routes.urls}


@pytest.mark.parametrize("role", ["admin", "auditor", "analyst", "process_leader", "reporter"])
def test_every_case_route_refuses_the_roles_without_case_content(client, factory, routes, role):
    answers = _answers(client, factory.user(roles=(role,)), routes)
    refused = {key for key, status in answers.items() if status == 403}
    expected_open = {key for key in answers if role == "auditor" and key[0] in AUDITOR_ENDPOINTS}
    assert set(answers) - refused == expected_open, {key: answers[key] for key in set(answers) - refused}
    assert all(answers[key] in (200, 400) for key in expected_open), {key: answers[key] for key in expected_open}


def test_every_route_of_the_case_refuses_a_partner_whose_agency_is_not_on_the_team(client, factory, routes):
    answers = _answers(client, factory.user(roles=("partner",), kind="police"), routes)
    # The list itself is open to partners (it lists nothing of this case); everything else is refused.
    assert {key for key, status in answers.items() if status != 403} == {("cases.index", "GET")}


def test_every_route_of_the_case_refuses_a_coordinator_not_on_it(client, factory, routes):
    answers = _answers(client, factory.user(roles=("coordinator",)), routes)
    own_work = {("cases.index", "GET"), ("cases.new", "GET"), ("cases.new", "POST"), ("cases.find", "POST"),
                # Reopening is open to coordinators at route level; without a proof from an intake it is 404.
                ("cases.reopen", "GET"), ("cases.reopen", "POST")}
    assert {key for key, status in answers.items() if status != 403} == own_work
    assert answers[("cases.reopen", "GET")] == answers[("cases.reopen", "POST")] == 404
