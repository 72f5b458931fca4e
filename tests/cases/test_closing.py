"""Closing a case: a warning about what it leaves behind, then a read-only plan, team and consents (notes may
still be written), running emergency accesses ended, and an erased case answering 410."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.cases.models import CaseNote, CasePhase, Consent, EmergencyAccess, PlanItem
from app.db import utcnow
from tests.conftest import csrf_from, sign_in


@pytest.fixture()
def world(app, db, factory):
    police = factory.agency(kind="police")
    coordinator = factory.user(roles=("coordinator",), kind="social_services")
    partner = factory.user(roles=("partner",), agency=police)
    case = factory.case(coordinator, team=[police], consents=[(police, {"identity"}, None, None)],
                        items=[dict(part="support", area="housing", goal="Fiktivt mål", responsible_agency=police)])
    with app.app_context():
        access = EmergencyAccess(data_key=case.participant.data_key, case=case, user_id=partner.id,
                                 agency_id=police.id, started_at=utcnow(), expires_at=utcnow() + timedelta(minutes=60))
        access.reason = "Fiktivt akut skäl till nödåtkomst."
        db.add(access)
        db.flush()
    return {"case": case, "coordinator": coordinator, "police": police, "access": access}


def _post(client, page_url, url=None, **data):
    page = client.get(page_url)
    return client.post(url or page_url, data={**data, "csrf_token": csrf_from(page.text)})


def _close(client, code):
    return _post(client, f"/cases/{code}/phase", to_phase="closed", outcome="completed",
                 closure_reason="Fiktivt: programmet klart.", confirmed="y")


def test_the_phase_page_warns_about_open_items_current_consents_and_running_emergency_access(client, world):
    case = world["case"]
    sign_in(client, world["coordinator"])
    page = client.get(f"/cases/{case.code}/phase").text
    assert "1 planpunkt är inte klar" in page and "1 samtycke gäller fortfarande" in page
    assert "1 nödåtkomst pågår" in page


def test_after_closing_plan_team_and_consents_are_read_only_but_notes_can_be_written(app, client, db, world,
                                                                                     factory):
    case = world["case"]
    sign_in(client, world["coordinator"])
    assert _close(client, case.code).status_code == 302
    db.refresh(case)
    assert case.phase == CasePhase.CLOSED
    db.refresh(world["access"])
    assert not world["access"].is_active(), "closing ended the running emergency access"

    items = db.scalar(select(func.count()).select_from(PlanItem))
    new_item = _post(client, f"/cases/{case.code}/plan/items/new", part="support", area="housing", goal="Nytt",
                     responsible_agency_id=str(world["police"].id), start_on=date.today().isoformat(),
                     due_on=(date.today() + timedelta(days=9)).isoformat())
    assert new_item.status_code == 400 and "Ärendet är avslutat" in new_item.text
    assert db.scalar(select(func.count()).select_from(PlanItem)) == items
    team = _post(client, f"/cases/{case.code}/team", agency_id=str(factory.agency(kind="housing").id))
    assert team.status_code == 400 and "Ärendet är avslutat" in team.text
    consents = db.scalar(select(func.count()).select_from(Consent))
    consent = case.consents[0]
    withdraw = _post(client, f"/cases/{case.code}/consents", f"/cases/{case.code}/consents/{consent.id}/withdraw",
                     confirmed="y")
    assert withdraw.status_code == 302  # back to the consents, with the refusal as a message
    assert "Ärendet är avslutat" in client.get(withdraw.headers["Location"]).text
    db.refresh(consent)
    assert consent.withdrawn_at is None and db.scalar(select(func.count()).select_from(Consent)) == consents
    note = _post(client, f"/cases/{case.code}/notes", text="Fiktivt: uppföljande samtal efter avslut.")
    assert note.status_code == 302
    assert db.scalar(select(func.count()).select_from(CaseNote).where(CaseNote.case_id == case.id)) == 1
    # The phase page of a closed case offers no reopening: that goes through an intake.
    page = client.get(f"/cases/{case.code}/phase")
    assert page.status_code == 200 and "ny aktualisering" in page.text and 'name="to_phase"' not in page.text
    assert _post(client, f"/cases/{case.code}/phase", to_phase="assessment").status_code == 400
    db.refresh(case)
    assert case.phase == CasePhase.CLOSED


def test_an_erased_case_answers_410(app, client, db, factory, monkeypatch):
    coordinator = factory.user(roles=("coordinator",), kind="social_services")
    case = factory.case(coordinator, phase="closed")
    case.closed_at = datetime.now(timezone.utc) - timedelta(days=4000)
    code = case.code
    db.commit()
    monkeypatch.setitem(app.config, "LOTS_RETENTION_DAYS", 30)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["retention", "run", "--yes"])
    assert result.exit_code == 0 and f"erased {code}" in result.output
    sign_in(client, coordinator)
    for url in (f"/cases/{code}", f"/cases/{code}/plan", f"/cases/{code}/history"):
        resp = client.get(url)
        assert resp.status_code == 410, (url, resp.status_code)
        assert "gallrat" in resp.text.lower() or "raderat" in resp.text.lower()
    assert client.get("/cases/AV-1999-999").status_code == 404  # a code that never existed stays 404


def test_no_emergency_access_opens_on_a_closed_case(app, db, world):
    from app.cases.emergency import start_emergency
    from app.cases.service import CaseError

    case = world["case"]
    case.phase = CasePhase.CLOSED
    db.flush()
    partner = db.get(EmergencyAccess, world["access"].id).user
    world["access"].expires_at = utcnow() - timedelta(minutes=1)
    db.flush()
    with app.test_request_context(), pytest.raises(CaseError, match="avslutat"):
        start_emergency(case, partner, "Fiktivt nytt akut skäl till nödåtkomst.")
