"""Incident reports linked to a case: linking, unlinking, who sees the list, audit events, erasure.

The link is visible only on the case, to those who may open it, and never on
the weekly overview (nothing under app/overview, nor the case figures, reads it).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases import incidents, retention
from app.cases.models import CaseIncident, CasePhase
from app.cases.service import CaseError
from app.overview.models import Area, Category, IncidentReport, ReportStatus
from tests.conftest import csrf_from, sign_in

ROOT = Path(__file__).resolve().parents[2]
#: Written into the report's description; the coordinator may not read it, so no case page may show it.
MARKER = "Hemlig-beskrivning-7731"


class World:
    """A case (coordinator from social services, police on the team) and one incident report about a threat."""

    def __init__(self, app, db, factory):
        from app.overview.service import new_report

        self.app = app
        self.db = db
        self.police = factory.agency(kind="police")
        self.coordinator = factory.user(roles=("coordinator",), agency=factory.agency(kind="social_services"))
        self.officer = factory.user(roles=("partner",), agency=self.police)
        self.case = factory.case(self.coordinator, team=[self.police])
        tag = uuid.uuid4().hex[:6]
        self.area = Area(code=f"omr-{tag}", name=f"Område {tag}")
        self.category = Category(code=f"kat-{tag}", name_sv=f"Hot {tag}", name_en=f"Threat {tag}")
        db.add_all([self.area, self.category])
        db.flush()
        with app.app_context():
            self.report = new_report(
                occurred_at=datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc), area_id=self.area.id,
                category_id=self.category.id, setting="public", description=MARKER,
                organisation_id=self.police.id, status=ReportStatus.ACCEPTED)
            db.add(self.report)
            db.flush()
        self.url = f"/cases/{self.case.code}/incidents"

    def link(self, case=None) -> CaseIncident:
        with self.app.test_request_context():
            return incidents.link_incident(case or self.case, self.coordinator, str(self.report.id))

    def links(self, case=None) -> int:
        case_id = (case or self.case).id
        return self.db.scalar(select(func.count()).select_from(CaseIncident).where(CaseIncident.case_id == case_id))

    def unlink_url(self, link: CaseIncident) -> str:
        return f"{self.url}/{link.id}/unlink"


@pytest.fixture()
def world(app, db, factory):
    return World(app, db, factory)


def _token(client, url) -> str:
    return csrf_from(client.get(url).text)


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# ------------------------------------------------------------------ the coordinator


def test_coordinator_links_an_incident_and_sees_its_plain_fields_never_its_description(client, world, db):
    sign_in(client, world.coordinator)
    page = client.get(world.url)
    assert page.status_code == 200 and 'name="incident_id"' in page.text
    resp = client.post(world.url, data={"incident_id": f"  {world.report.id}  ", "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302
    link = db.scalars(select(CaseIncident).where(CaseIncident.case_id == world.case.id)).one()
    assert link.incident_id == world.report.id and link.linked_by_id == world.coordinator.id
    shown = client.get(world.url).text
    assert str(world.report.id) in shown and world.area.name in shown and world.category.name_sv in shown
    # 23:30 UTC on the 20th is 00:30 on the 21st in Stockholm: the report's local date is shown.
    assert ">2026-11-21</time>" in shown
    assert "Godkänd" in shown
    assert MARKER not in shown
    assert MARKER not in client.get(f"/cases/{world.case.code}").text


def test_link_and_unlink_write_audit_events_naming_the_case_and_only_the_incident_id(client, world, db):
    sign_in(client, world.coordinator)
    client.post(world.url, data={"incident_id": str(world.report.id), "csrf_token": _token(client, world.url)})
    link = db.scalars(select(CaseIncident).where(CaseIncident.case_id == world.case.id)).one()
    client.post(world.unlink_url(link), data={"confirmed": "y", "csrf_token": _token(client, world.url)})
    for action in ("case.incident_linked", "case.incident_unlinked"):
        (event,) = _events(db, action)
        assert event.object_type == "case" and event.object_id == world.case.code
        assert event.actor_user_id == world.coordinator.id
        assert json.loads(event.detail) == {"incident": str(world.report.id)}
    views = _events(db, "case.incidents.view")
    assert views and all(e.object_id == world.case.code and e.field_sets == "" for e in views)


def test_unlink_needs_confirmation_and_keeps_the_incident_report(client, world, db):
    link = world.link()
    sign_in(client, world.coordinator)
    resp = client.post(world.unlink_url(link), data={"csrf_token": _token(client, world.url)})
    assert resp.status_code == 400 and "Bekräfta åtgärden" in resp.text
    assert world.links() == 1
    resp = client.post(world.unlink_url(link), data={"confirmed": "y", "csrf_token": _token(client, world.url)})
    assert resp.status_code == 302
    assert world.links() == 0
    assert db.get(IncidentReport, world.report.id) is not None
    assert "Inga händelser är kopplade" in client.get(world.url).text


@pytest.mark.parametrize("value, message", [
    (str(uuid.UUID(int=12345)), "Det finns ingen händelserapport med det id:t."),
    ("inte-ett-id", "Det är inget händelse-id."),
    ("12345", "Det är inget händelse-id."),
    ("", "Ange händelsens id."),
    ("   ", "Ange händelsens id."),
    ("a" * 101, "Högst 100 tecken."),
])
def test_unknown_or_malformed_incident_id_is_refused_with_400_and_nothing_stored(client, world, value, message):
    sign_in(client, world.coordinator)
    resp = client.post(world.url, data={"incident_id": value, "csrf_token": _token(client, world.url)})
    assert resp.status_code == 400
    assert message in resp.text
    assert world.links() == 0
    assert not _events(world.db, "case.incident_linked")


def test_the_same_incident_cannot_be_linked_twice(client, world):
    world.link()
    sign_in(client, world.coordinator)
    resp = client.post(world.url, data={"incident_id": str(world.report.id), "csrf_token": _token(client, world.url)})
    assert resp.status_code == 400 and "Händelsen är redan kopplad till ärendet." in resp.text
    assert world.links() == 1


def test_one_incident_may_be_linked_to_two_cases(world, factory):
    other = factory.case(world.coordinator)
    world.link()
    world.link(other)
    assert world.links() == 1 and world.links(other) == 1


def test_service_refuses_an_unknown_id_and_a_link_of_another_case(app, world, factory):
    other = factory.case(world.coordinator)
    link = world.link(other)
    with app.test_request_context():
        with pytest.raises(CaseError):
            incidents.link_incident(world.case, world.coordinator, uuid.uuid4())
        with pytest.raises(CaseError):
            incidents.unlink_incident(world.case, world.coordinator, link)
    assert world.links(other) == 1


def test_unlinking_a_link_of_another_case_or_an_overlong_id_is_404(client, world, factory):
    other = factory.case(world.coordinator)
    link = world.link(other)
    sign_in(client, world.coordinator)
    token = _token(client, world.url)
    assert client.post(world.unlink_url(link), data={"confirmed": "y", "csrf_token": token}).status_code == 404
    assert client.post(f"{world.url}/99999999999999999999/unlink",
                       data={"confirmed": "y", "csrf_token": token}).status_code == 404
    assert world.links(other) == 1


def test_case_navigation_links_to_the_incident_page(client, world):
    sign_in(client, world.coordinator)
    page = client.get(f"/cases/{world.case.code}").text
    assert f'href="{world.url}"' in page and "Händelser" in page


# ------------------------------------------------------------------ who else


def _threat_consent(world):
    from datetime import date, timedelta

    from app.cases.models import Consent, ConsentMethod

    consent = Consent(data_key=world.case.participant.data_key, case=world.case, agency_id=world.police.id,
                      given_on=date.today() - timedelta(days=1), valid_until=date.today() + timedelta(days=30),
                      method=ConsentMethod.WRITTEN)
    consent.kind_set = {"threat_assessment"}
    world.db.add(consent)
    world.db.flush()


def test_a_partner_without_a_threat_consent_does_not_see_the_linked_incidents(client, world, db):
    """Pentest finding 7: a linked threat incident tells a partner that the person is under threat, so it is
    shown only to those who may read the threat picture."""
    world.link()
    sign_in(client, world.officer)
    assert client.get(world.url).status_code == 403
    page = client.get(f"/cases/{world.case.code}")
    assert f'href="{world.url}"' not in page.text
    denied = _events(db, "access.denied")
    assert denied and denied[-1].permission == "fieldset.read:case.threat"


def test_partner_on_the_team_sees_the_list_but_cannot_link_or_unlink(client, world, db):
    link = world.link()
    _threat_consent(world)
    sign_in(client, world.officer)
    page = client.get(world.url)
    assert page.status_code == 200
    assert str(world.report.id) in page.text and world.area.name in page.text
    assert MARKER not in page.text
    assert 'name="incident_id"' not in page.text and "/unlink" not in page.text
    token = csrf_from(client.get("/").text)
    other = _other_report(world, db)
    assert client.post(world.url, data={"incident_id": str(other.id), "csrf_token": token}).status_code == 403
    assert client.post(world.unlink_url(link), data={"confirmed": "y", "csrf_token": token}).status_code == 403
    assert world.links() == 1
    assert not _events(db, "case.incident_unlinked")


def _other_report(world, db) -> IncidentReport:
    from app.overview.service import new_report

    with world.app.app_context():
        report = new_report(occurred_at=datetime.now(timezone.utc) - timedelta(days=1), area_id=world.area.id,
                            category_id=world.category.id, setting="public", description=None,
                            organisation_id=world.police.id, status=ReportStatus.ACCEPTED)
        db.add(report)
        db.flush()
        return report


@pytest.mark.parametrize("roles, kind", [
    (("coordinator",), "social_services"),
    (("admin",), "social_services"),
    (("auditor",), "social_services"),
    (("analyst",), "police"),
    (("partner",), "police"),
])
def test_users_who_may_not_open_the_case_are_refused(client, world, factory, db, roles, kind):
    """A coordinator not on the case, admin, auditor, analyst (who may read the report) and a partner off the team."""
    link = world.link()
    sign_in(client, factory.user(roles=roles, kind=kind))
    token = csrf_from(client.get("/").text)
    page = client.get(world.url)
    assert page.status_code == 403 and str(world.report.id) not in page.text
    assert client.post(world.url, data={"incident_id": str(world.report.id), "csrf_token": token}).status_code == 403
    assert client.post(world.unlink_url(link), data={"confirmed": "y", "csrf_token": token}).status_code == 403
    assert world.links() == 1
    assert not _events(db, "case.incidents.view")


# ------------------------------------------------------------------ erasure and the overview


def test_erasing_the_case_removes_its_links_but_not_the_incident_report(app, world, db):
    world.link()
    world.case.phase = CasePhase.CLOSED
    world.case.closed_at = datetime.now(timezone.utc) - timedelta(days=400)
    db.flush()
    case_id = world.case.id
    with app.app_context():
        retention.erase_case(world.case)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(CaseIncident).where(CaseIncident.case_id == case_id)) == 0
    assert db.get(IncidentReport, world.report.id) is not None


def test_deleting_an_incident_report_removes_its_links(world, db):
    world.link()
    db.delete(world.report)
    db.flush()
    db.expire_all()
    assert world.links() == 0


def _sources(path: str) -> list[Path]:
    target = ROOT / path
    if target.is_file():
        return [target]
    return sorted(f for f in target.rglob("*") if f.suffix in (".py", ".html", ".sql"))


@pytest.mark.parametrize("path", ["app/overview", "app/cases/figures.py", "templates/overview"])
def test_the_overview_and_the_case_figures_never_read_the_links(path):
    files = _sources(path)
    assert files
    for file in files:
        text = file.read_text(encoding="utf-8").lower()
        assert "caseincident" not in text and "case_incident" not in text and "incident_links" not in text, file
