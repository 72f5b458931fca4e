"""Audit events name the permission and the policy line that decided (pentest finding 5).

Besides these cases, tests/conftest.py checks every event every test writes with tests/audit_rules.py.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent, AuditHead, AuditOutcome
from app.cases.emergency import start_emergency
from tests.audit_rules import event_problems
from tests.conftest import sign_in


def _events_since(db, first: int, action: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.id >= first).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.scalars(stmt))


def _head(db) -> int:
    return db.scalar(select(AuditHead.seq)) + 1


@pytest.fixture()
def housing_item(factory):
    """A case whose team has housing (no consent), with one support item assigned to housing."""
    housing = factory.agency(kind="housing")
    officer = factory.user(roles=("partner",), agency=housing)
    case = factory.case(team=[housing], items=[dict(part="support", area="housing", goal="Fiktivt bostadsmål",
                                                    responsible_agency=housing)])
    return case, case.plan_items[0], officer


def test_a_partner_opening_their_own_plan_item_is_logged_under_the_assigned_to_agency_line(client, db,
                                                                                          housing_item):
    case, item, officer = housing_item
    sign_in(client, officer)
    first = _head(db)
    assert client.get(f"/cases/{case.code}/plan/items/{item.id}").status_code == 200
    [event] = _events_since(db, first, "plan.view")
    assert event.permission == "plan_item:update"
    assert event.rule == "p, partner, *, plan_item:update, assigned_to_agency, allow"


def test_the_plain_plan_view_is_logged_under_the_line_that_let_the_partner_see_the_case(client, db, housing_item):
    case, _item, officer = housing_item
    sign_in(client, officer)
    first = _head(db)
    assert client.get(f"/cases/{case.code}/plan").status_code == 200
    [event] = _events_since(db, first, "plan.view")
    assert event.permission == "case:view" and event.rule == "p, partner, *, case:view, on_case_team, allow"


def test_reads_under_emergency_access_name_the_emergency_line_and_the_access(app, client, db, factory):
    police = factory.agency(kind="police")
    partner = factory.user(roles=("partner",), agency=police)
    case = factory.case(team=[police])
    with app.test_request_context():
        access = start_emergency(case, partner, "Akut hot mot personen i natt, behöver identitet.")
    sign_in(client, partner)
    first = _head(db)
    assert client.get(f"/cases/{case.code}").status_code == 200
    [event] = _events_since(db, first, "case.view")
    assert "person.identity" in event.field_sets
    assert event.permission.startswith("fieldset.read:")
    assert event.rule.endswith(", emergency_access, allow"), event.rule
    assert event.rule.split(", ")[3] == event.permission
    assert f'"emergency":"{access.id}"' in event.detail


def test_a_read_without_emergency_access_names_no_access(client, db, factory):
    police = factory.agency(kind="police")
    partner = factory.user(roles=("partner",), agency=police)
    case = factory.case(team=[police], consents=[(police, {"identity"}, None, None)])
    sign_in(client, partner)
    first = _head(db)
    assert client.get(f"/cases/{case.code}").status_code == 200
    [event] = _events_since(db, first, "case.view")
    assert "emergency" not in (event.detail or "")
    assert "emergency_access" not in event.rule


def test_login_events_name_the_public_endpoint_and_cli_events_the_command(app, client, db, factory):
    from tests.conftest import login

    user = factory.user()
    first = _head(db)
    assert login(client, user).status_code == 302
    [event] = _events_since(db, first, "login.succeeded")
    assert event.permission == "public:security.two_factor_token_validation"
    assert event.rule.startswith("public: second login step")


def _event(**fields):
    values = {"id": 1, "action": "x.y", "outcome": AuditOutcome.ALLOWED, "permission": "case:view",
              "rule": "p, partner, *, case:view, on_case_team, allow"}
    values.update(fields)
    return SimpleNamespace(**values)


@pytest.mark.parametrize("fields, wrong", [
    ({}, False),
    ({"permission": None}, True),
    ({"rule": None}, True),
    ({"rule": ""}, True),
    ({"rule": "default-deny"}, True),
    ({"rule": "p, partner, *, plan_item:update, assigned_to_agency, allow"}, True),  # another permission
    ({"outcome": AuditOutcome.DENIED}, True),  # refused under an allow line
    ({"outcome": AuditOutcome.DENIED, "rule": "default-deny"}, False),
    ({"permission": "public:security.login", "rule": "public: the login form"}, False),
    ({"permission": "case:view", "rule": "public: the login form"}, True),
    ({"permission": "cli:retention.run", "rule": "cli: flask retention run"}, False),
    ({"rule": "rate limit: 10 per 1 minute"}, True),  # a rate limit only ever refuses
    ({"outcome": AuditOutcome.DENIED, "rule": "rate limit: 10 per 1 minute"}, False),
    ({"rule": "because I said so"}, True),
])
def test_the_check_refuses_events_without_the_deciding_rule(fields, wrong):
    assert bool(event_problems(_event(**fields))) is wrong


def test_the_check_runs_on_every_test(request):
    """tests/conftest.py's db fixture applies event_problems to the events of every test that uses it."""
    import inspect

    import tests.conftest as conftest

    assert "event_problems" in inspect.getsource(conftest.db)


def test_an_old_style_stored_event_would_fail_the_check():
    stored = _event(action="plan.view", permission="plan_item:update", rule="default-deny")
    assert event_problems(stored), "the pentest's event (allowed under default-deny) must fail"
