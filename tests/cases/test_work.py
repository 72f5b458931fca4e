"""The "my work" start pages: each role sees its own due work, as codes and dates, never personal text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent, AuditHead
from app.cases.emergency import start_emergency
from app.cases.models import PlanItemStatus, ThreatAssessment, ThreatLevel, today_local
from tests.conftest import sign_in

GOAL = "Fiktivt planmål som aldrig får synas på startsidan"


def _section(html: str, section_id: str) -> str:
    """The text of one start-page section (empty if the page has no such section)."""
    marker = f'id="{section_id}"'
    return html.split(marker, 1)[1].split("</section>", 1)[0] if marker in html else ""


def _start_page(client, user) -> str:
    sign_in(client, user)
    page = client.get("/")
    assert page.status_code == 200
    return page.text


def _item(agency, due_in: int, **extra) -> dict:
    return {"part": "support", "area": "employment", "goal": GOAL, "responsible_agency": agency,
            "due_on": today_local() + timedelta(days=due_in), **extra}


def _assessment(app, session, case, next_review_in: int) -> None:
    with app.app_context():
        assessment = ThreatAssessment(data_key=case.participant.data_key, case=case,
                                      assessed_on=today_local() - timedelta(days=90), agency_id=case.team[0].agency_id,
                                      next_review_on=today_local() + timedelta(days=next_review_in))
        assessment.level = ThreatLevel.ELEVATED
        assessment.narrative = "Fiktiv hotbild."
        session.add(assessment)
        session.flush()


def _names(app, *cases) -> list[str]:
    with app.app_context():
        return [case.participant.last_name for case in cases]


# ---------------------------------------------------------------- coordinator


def test_coordinator_sees_own_overdue_item_and_not_another_coordinators_case(app, client, factory):
    me, other = factory.user(roles=("coordinator",)), factory.user(roles=("coordinator",))
    mine = factory.case(me, items=[_item(me.agency, -3, area="housing")])
    theirs = factory.case(other, items=[_item(other.agency, -3)])
    html = _start_page(client, me)
    items = _section(html, "items-due")
    assert mine.code in items and "Boende" in items and "Försenad" in items
    assert theirs.code not in html
    assert GOAL not in html


def test_coordinator_sees_items_due_within_14_days_but_not_later_or_done(app, client, factory):
    me = factory.user(roles=("coordinator",))
    soon = factory.case(me, items=[_item(me.agency, 10)])
    later = factory.case(me, items=[_item(me.agency, 40)])
    done = factory.case(me, items=[_item(me.agency, -5, status=PlanItemStatus.DONE)])
    closed = factory.case(me, phase="closed", items=[_item(me.agency, -5)])
    items = _section(_start_page(client, me), "items-due")
    assert soon.code in items and "Försenad" not in items
    assert later.code not in items and done.code not in items and closed.code not in items


def test_coordinator_sees_cases_by_phase_with_links_to_the_list(client, factory):
    me = factory.user(roles=("coordinator",))
    for phase in ("active", "active", "assessment"):
        factory.case(me, phase=phase)
    factory.case(factory.user(roles=("coordinator",)), phase="active")
    phases = _section(_start_page(client, me), "my-cases")
    assert "/cases/?phase=active" in phases and "Aktiv: 2" in phases
    assert "/cases/?phase=assessment" in phases and "Utredning: 1" in phases
    assert "Avslutat: 0" in phases


def test_expiring_consent_appears_and_one_valid_for_60_days_does_not(app, client, factory):
    me = factory.user(roles=("coordinator",))
    police = factory.agency(kind="police")
    today = today_local()
    expiring = factory.case(me, team=[police], consents=[(police, ["identity"], today - timedelta(days=30),
                                                          today + timedelta(days=5))])
    lasting = factory.case(me, team=[police], consents=[(police, ["identity"], today - timedelta(days=30),
                                                         today + timedelta(days=60))])
    html = _start_page(client, me)
    consents = _section(html, "consents")
    assert expiring.code in consents and police.name in consents
    assert (today + timedelta(days=5)).isoformat() in consents
    assert lasting.code not in html


def test_overdue_reassessment_appears_and_a_distant_one_does_not(app, client, factory, db):
    me = factory.user(roles=("coordinator",))
    overdue = factory.case(me)
    distant = factory.case(me)
    _assessment(app, db, overdue, -3)
    _assessment(app, db, distant, 60)
    html = _start_page(client, me)
    reassessments = _section(html, "reassessments")
    assert overdue.code in reassessments and "Försenad" in reassessments
    assert (today_local() - timedelta(days=3)).isoformat() in reassessments
    assert distant.code not in html
    assert "Fiktiv hotbild" not in html


# ---------------------------------------------------------------- partner


def test_partner_sees_only_own_agencys_due_items_on_cases_whose_team_includes_it(app, client, factory):
    police, housing = factory.agency(kind="police"), factory.agency(kind="housing")
    officer = factory.user(roles=("partner",), agency=police)
    own = factory.case(team=[police], items=[_item(police, 5, area="legal")])
    overdue = factory.case(team=[police], items=[_item(police, -2)])
    other_agency = factory.case(team=[police, housing], items=[_item(housing, 5)])
    not_on_team = factory.case(team=[housing], items=[_item(police, 5)])
    far_off = factory.case(team=[police], items=[_item(police, 60)])
    html = _start_page(client, officer)
    items = _section(html, "agency-items")
    assert own.code in items and "Juridik" in items and "Planerad" in items
    assert overdue.code in items and "Försenad" in items
    for code in (other_agency.code, not_on_team.code, far_off.code):
        assert code not in html
    assert GOAL not in html
    assert not _section(html, "my-cases") and not _section(html, "unreviewed")


# ---------------------------------------------------------------- nothing personal, other roles


def test_no_start_page_shows_anything_personal(app, db, factory):
    police = factory.agency(kind="police")
    coordinator = factory.user(roles=("coordinator",))
    officer = factory.user(roles=("partner",), agency=police)
    auditor = factory.user(roles=("auditor",))
    today = today_local()
    case = factory.case(coordinator, team=[police], items=[_item(police, -1)],
                        consents=[(police, ["identity", "support_plan"], today - timedelta(days=10),
                                   today + timedelta(days=3))])
    with app.test_request_context():
        start_emergency(case, officer, "Fiktivt skäl till nödåtkomst.")
    names = _names(app, case)
    for user, section in ((coordinator, "items-due"), (officer, "agency-items"), (auditor, "unreviewed")):
        html = _start_page(app.test_client(), user)
        assert case.code in _section(html, section), section
        for text in (*names, "Testa", GOAL, "Fiktivt skäl", "070-174", "Testvägen", "Fiktiv hänvisning"):
            assert text not in html, (section, text)


def test_the_start_page_read_is_audited_without_field_sets(app, db, client, factory):
    me = factory.user(roles=("coordinator",))
    factory.case(me, items=[_item(me.agency, -1)])
    sign_in(client, me)
    first = db.scalar(select(AuditHead.seq)) + 1
    client.get("/")
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.id >= first, AuditEvent.action == "work.view")).all()
    assert event.actor_user_id == me.id and event.object_type is None and event.object_id is None
    assert event.field_sets == "" and event.detail == '{"sections":"coordinator"}'


@pytest.mark.parametrize("role", ["admin", "analyst", "process_leader", "reporter"])
def test_other_roles_get_the_unchanged_start_page_without_case_codes(app, db, client, factory, login_as, role):
    case = factory.case(items=[_item(factory.agency(), -1)])
    login_as(role)
    first = db.scalar(select(AuditHead.seq)) + 1
    html = client.get("/").text
    assert "Välkommen" in html
    assert case.code not in html
    for section in ("my-cases", "items-due", "reassessments", "consents", "emergencies", "agency-items", "unreviewed"):
        assert not _section(html, section)
    assert not db.scalars(select(AuditEvent).where(AuditEvent.id >= first, AuditEvent.action == "work.view")).all()
