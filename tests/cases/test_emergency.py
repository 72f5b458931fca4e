"""Emergency access (break the glass): who may start it, what it opens and for how long, and its review."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent, AuditHead
from app.cases.emergency import review_emergency, start_emergency
from app.cases.models import EmergencyAccess, ThreatAssessment, ThreatLevel
from app.cases.service import CaseError
from app.db import utcnow
from app.web import local_datetime
from tests.conftest import csrf_from, sign_in

REASON = "Hot mot personen via telefon, polisen behöver skyddsnivån nu."
PERSONAL = {"person.identity", "person.contact", "person.protected_address", "person.protection_level",
            "person.notes"}


@pytest.fixture()
def world(app, factory):
    """A case with a police partner on its team (no consent), a protection item and a support item."""
    police = factory.agency(kind="police")
    housing = factory.agency(kind="housing")
    partner = factory.user(roles=("partner",), agency=police)
    coordinator = factory.user(roles=("coordinator",))
    case = factory.case(coordinator, team=[police, housing], items=[
        dict(part="protection", area="relocation", goal="Fiktivt skyddsmål", responsible_agency=housing),
        dict(part="support", area="housing", goal="Fiktivt stödmål", responsible_agency=housing),
    ])
    with app.app_context():
        assessment = ThreatAssessment(data_key=case.participant.data_key, case=case, assessed_on=date.today(),
                                      agency_id=police.id, next_review_on=date.today() + timedelta(days=90))
        assessment.level = ThreatLevel.HIGH
        assessment.narrative = "Fiktiv hotbild."
        factory.session.add(assessment)
        factory.session.flush()
    return {"case": case, "coordinator": coordinator, "partner": partner, "police": police, "assessment": assessment}


def _gate(app):
    return app.extensions["lots_gate"]


def _readable(app, user, obj) -> set[str]:
    with app.test_request_context():
        return _gate(app).readable_fieldsets(user, obj)


def _first_event(db) -> int:
    return db.scalar(select(AuditHead.seq)) + 1


def _events(db, first: int, action: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.id >= first).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.scalars(stmt))


def _accesses(db, case) -> int:
    return db.scalar(select(func.count(EmergencyAccess.id)).where(EmergencyAccess.case_id == case.id))


def _break_glass(client, code, reason=REASON, confirmed=True):
    page = client.get(f"/cases/{code}/emergency")
    assert page.status_code == 200
    data = {"reason": reason, "csrf_token": csrf_from(page.text)}
    if confirmed:
        data["confirmed"] = "y"
    return client.post(f"/cases/{code}/emergency", data=data)


def _started(app, world):
    """An emergency access started through the service (as the partner)."""
    with app.test_request_context():
        return start_emergency(world["case"], world["partner"], REASON)


# ---------------------------------------------------------------- starting it


def test_the_page_explains_break_the_glass_before_anything_opens(client, db, world):
    sign_in(client, world["partner"])
    page = client.get(f"/cases/{world['case'].code}/emergency")
    assert page.status_code == 200
    assert "60 minuter" in page.text and "loggas" in page.text and "samordnare" in page.text
    assert 'name="reason"' in page.text and 'name="confirmed"' in page.text
    assert _accesses(db, world["case"]) == 0


def test_partner_on_the_team_breaks_the_glass_and_reads_identity_and_protection_level_but_never_the_address(
        app, db, client, world):
    case, partner = world["case"], world["partner"]
    assert not _readable(app, partner, case.participant) & PERSONAL
    sign_in(client, partner)

    resp = _break_glass(client, case.code)

    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/cases/{case.code}")
    access = db.scalar(select(EmergencyAccess).where(EmergencyAccess.case_id == case.id))
    assert access.user_id == partner.id and access.agency_id == world["police"].id
    assert access.data_key_id == case.participant.data_key_id
    assert access.reviewed_at is None
    with app.test_request_context():
        assert access.reason == REASON
        until = local_datetime(access.expires_at)
    with client.session_transaction() as session:
        assert any(until in message for _category, message in session["_flashes"])

    readable = _readable(app, partner, case.participant)
    assert {"person.identity", "person.protection_level"} <= readable
    assert "person.protected_address" not in readable and "person.contact" not in readable
    assert "case.threat" in _readable(app, partner, world["assessment"])
    protection, support = sorted(case.plan_items, key=lambda item: item.part.value)
    assert "plan.items" in _readable(app, partner, protection)
    assert "plan.items" not in _readable(app, partner, support)


def test_the_case_page_then_shows_the_name_but_never_the_address(app, client, world):
    case = world["case"]
    with app.app_context():
        name, street = case.participant.last_name, case.participant.street_address
    sign_in(client, world["partner"])
    assert name not in client.get(f"/cases/{case.code}").text
    page = client.get(_break_glass(client, case.code).headers["Location"])
    assert page.status_code == 200
    assert name in page.text and street not in page.text


def test_access_lasts_the_configured_time_and_afterwards_nothing_is_readable(app, db, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOTS_EMERGENCY_MINUTES", 15)
    case, partner = world["case"], world["partner"]
    access = _started(app, world)
    assert timedelta(minutes=14) < access.expires_at - utcnow() <= timedelta(minutes=15)
    assert "person.identity" in _readable(app, partner, case.participant)

    access.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()

    assert not _readable(app, partner, case.participant) & PERSONAL
    assert "case.threat" not in _readable(app, partner, world["assessment"])
    assert all("plan.items" not in _readable(app, partner, item) for item in case.plan_items)


def test_a_second_request_while_active_returns_the_same_access(app, db, world):
    first_event = _first_event(db)
    first = _started(app, world)
    second = _started(app, world)
    assert second.id == first.id and _accesses(db, world["case"]) == 1
    assert len(_events(db, first_event, "emergency.started")) == 1


def test_after_expiry_a_new_request_opens_a_new_access_with_a_new_reason(app, db, world):
    first = _started(app, world)
    first.expires_at = utcnow() - timedelta(minutes=1)
    db.flush()
    with app.test_request_context():
        second = start_emergency(world["case"], world["partner"], "Nytt hot i kväll, behöver identiteten igen.")
    assert second.id != first.id and second.is_active()


def test_a_repeated_use_within_the_window_needs_a_new_reason_and_is_flagged_for_the_auditor(
        app, db, client, login_as, world):
    """Pentest finding 7: emergency access could be reopened at once after it expired, any number of times."""
    case, partner = world["case"], world["partner"]
    first = _started(app, world)
    first.expires_at = utcnow() - timedelta(minutes=1)
    db.flush()
    sign_in(client, partner)
    page = client.get(f"/cases/{case.code}/emergency")
    assert "upprepad nödåtkomst" in page.text
    same = _break_glass(client, case.code, reason=REASON.upper() + "  ")
    assert same.status_code == 400 and "nytt skäl" in same.text
    assert _accesses(db, case) == 1
    first_event = _first_event(db)
    assert _break_glass(client, case.code, reason="Hotet har förnyats, samma natt.").status_code == 302
    [event] = _events(db, first_event, "emergency.started")
    assert f'"repeat_of":"{first.id}"' in event.detail
    auditor = client.application.test_client()
    sign_in(auditor, login_as("auditor", kind="other"))
    listing = auditor.get("/cases/emergency-accesses").text
    assert listing.count("Upprepad") == 1
    assert "Upprepad" in auditor.get("/").text.split('id="unreviewed"')[1].split("</section>")[0]


def test_a_new_access_after_the_window_is_not_a_repeat(app, db, world):
    first = _started(app, world)
    first.started_at = utcnow() - timedelta(hours=25)
    first.expires_at = first.started_at + timedelta(minutes=60)
    db.flush()
    with app.test_request_context():
        start_emergency(world["case"], world["partner"], REASON)  # the same reason is fine a day later


def test_starting_it_is_audited_without_the_reason(db, client, world):
    case, partner = world["case"], world["partner"]
    sign_in(client, partner)
    first = _first_event(db)
    assert _break_glass(client, case.code).status_code == 302
    access = db.scalar(select(EmergencyAccess).where(EmergencyAccess.case_id == case.id))
    [event] = _events(db, first, "emergency.started")
    assert (event.object_type, event.object_id) == ("case", case.code)
    assert event.actor_user_id == partner.id and event.field_sets == "emergency.reason"
    assert event.permission == "case:emergency" and str(access.id) in event.detail
    assert not any("Hot mot personen" in (e.detail or "") + (e.purpose or "") for e in _events(db, first))


def test_a_partner_not_on_the_team_is_refused_and_nothing_is_created(app, db, client, factory, world):
    outsider = factory.user(roles=("partner",), kind="police")
    sign_in(client, outsider)
    first = _first_event(db)
    assert client.get(f"/cases/{world['case'].code}/emergency").status_code == 403
    page = client.get("/")
    resp = client.post(f"/cases/{world['case'].code}/emergency",
                       data={"reason": REASON, "confirmed": "y", "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 403
    assert _accesses(db, world["case"]) == 0
    denied = _events(db, first, "access.denied")
    assert denied and all(e.object_id == world["case"].code for e in denied)
    assert not _readable(app, outsider, world["case"].participant) & PERSONAL


@pytest.mark.parametrize("role", ["coordinator", "admin", "auditor", "analyst", "process_leader"])
def test_other_roles_cannot_break_the_glass(client, db, login_as, world, role):
    login_as(role)
    assert client.get(f"/cases/{world['case'].code}/emergency").status_code == 403
    assert _accesses(db, world["case"]) == 0


def test_the_case_coordinator_cannot_use_the_service_either(app, db, world):
    coordinator = world["coordinator"]
    with app.test_request_context(), pytest.raises(CaseError):
        start_emergency(world["case"], coordinator, REASON)
    assert _accesses(db, world["case"]) == 0


def test_a_stale_login_is_sent_to_re_authenticate_and_nothing_is_created(db, client, world):
    sign_in(client, world["partner"])
    page = client.get(f"/cases/{world['case'].code}/emergency")
    with client.session_transaction() as session:
        session["fs_paa"] = time.time() - 3600
        session.pop("fs_gexp", None)
    url = f"/cases/{world['case'].code}/emergency"
    resp = client.post(url, data={"reason": REASON, "confirmed": "y", "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302 and "/verify" in resp.headers["Location"]
    assert client.get(url).headers["Location"].startswith("/verify")
    assert _accesses(db, world["case"]) == 0


@pytest.mark.parametrize("reason, confirmed, message", [
    ("För kort", True, "Skälet ska vara 10–2000 tecken."),
    ("          x         ", True, "Beskriv skälet med minst 10 tecken."),
    ("", True, "Ange skälet till nödåtkomsten."),
    ("x" * 2001, True, "Skälet ska vara 10–2000 tecken."),
    (REASON, False, "Bekräfta genom att kryssa i rutan."),
])
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_created(db, client, world, reason, confirmed,
                                                                           message):
    sign_in(client, world["partner"])
    first = _first_event(db)
    resp = _break_glass(client, world["case"].code, reason=reason, confirmed=confirmed)
    assert resp.status_code == 400
    assert message in resp.text
    assert _accesses(db, world["case"]) == 0
    assert not _events(db, first, "emergency.started")


def test_unknown_case_code_is_not_found(client, world):
    sign_in(client, world["partner"])
    assert client.get("/cases/AV-0000-999/emergency").status_code == 404
    assert client.get("/cases/" + "x" * 40 + "/emergency").status_code == 404


def test_an_active_access_is_shown_instead_of_the_form(app, client, world):
    access = _started(app, world)
    sign_in(client, world["partner"])
    page = client.get(f"/cases/{world['case'].code}/emergency")
    with app.test_request_context():
        until = local_datetime(access.expires_at)
    assert page.status_code == 200 and until in page.text and 'name="reason"' not in page.text


# ---------------------------------------------------------------- who is told


def test_the_coordinator_sees_it_on_the_start_page_at_once(app, db, client, world):
    _started(app, world)
    sign_in(client, world["coordinator"])
    page = client.get("/")
    section = page.text.split('id="emergencies"')[1].split("</section>")[0]
    assert world["case"].code in section and world["police"].name in section
    assert "Pågår" in section and "Ogranskad" in section
    assert "Hot mot personen" not in page.text


def test_another_coordinator_does_not_see_it(app, client, factory, world):
    _started(app, world)
    sign_in(client, factory.user(roles=("coordinator",)))
    assert world["case"].code not in client.get("/").text


# ---------------------------------------------------------------- the auditor's review


def _review_url(access) -> str:
    return f"/cases/emergency-accesses/{access.id}"


def test_auditor_sees_it_on_the_start_page_and_first_in_the_review_list(app, db, client, login_as, world):
    access = _started(app, world)
    login_as("auditor")
    first = _first_event(db)
    start = client.get("/")
    unreviewed = start.text.split('id="unreviewed"')[1].split("</section>")[0]
    assert world["case"].code in unreviewed and _review_url(access) in unreviewed
    listing = client.get("/cases/emergency-accesses")
    assert listing.status_code == 200
    assert world["case"].code in listing.text and world["police"].name in listing.text
    assert _review_url(access) in listing.text and "<strong>Ogranskad</strong>" in listing.text
    assert REASON not in start.text + listing.text
    [event] = _events(db, first, "emergency.view")
    assert event.object_id is None and event.field_sets == "" and event.permission == "emergency:review"


def test_auditor_reads_the_reason_and_closes_it_as_reviewed(app, db, client, login_as, world):
    access = _started(app, world)
    auditor = login_as("auditor")
    first = _first_event(db)
    page = client.get(_review_url(access))
    assert page.status_code == 200 and REASON in page.text
    [viewed] = _events(db, first, "emergency.view")
    assert (viewed.object_type, viewed.object_id) == ("case", world["case"].code)
    assert viewed.field_sets == "emergency.reason"
    with app.app_context():
        assert world["case"].participant.last_name not in page.text

    resp = client.post(_review_url(access), data={"note": "Skälet är rimligt, kontrollerat med polisen.",
                                                  "csrf_token": csrf_from(page.text)})

    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cases/emergency-accesses")
    assert access.reviewed_by_id == auditor.id and access.reviewed_at is not None
    with app.app_context():
        assert access.review_note == "Skälet är rimligt, kontrollerat med polisen."
    [reviewed] = _events(db, first, "emergency.reviewed")
    assert reviewed.object_id == world["case"].code and reviewed.actor_user_id == auditor.id
    assert "kontrollerat" not in (reviewed.detail or "")
    start = client.get("/").text.split('id="unreviewed"')[1].split("</section>")[0]
    assert world["case"].code not in start
    listing = client.get("/cases/emergency-accesses").text
    assert world["case"].code in listing and "<strong>Ogranskad</strong>" not in listing
    again = client.get(_review_url(access))
    assert "kontrollerat med polisen" in again.text and 'name="note"' not in again.text


def test_unreviewed_accesses_come_before_reviewed_ones(app, db, client, factory, login_as, world):
    older = _started(app, world)
    with app.test_request_context():
        review_emergency(older, factory.user(roles=("auditor",)), "Granskad.")
    other = factory.case(team=[world["police"]])
    with app.test_request_context():
        newer = start_emergency(other, world["partner"], REASON)
    newer.started_at = older.started_at - timedelta(days=1)
    db.flush()
    login_as("auditor")
    listing = client.get("/cases/emergency-accesses").text
    assert listing.index(_review_url(newer)) < listing.index(_review_url(older))


def test_a_review_needs_a_note_and_happens_only_once(app, db, client, login_as, world):
    access = _started(app, world)
    login_as("auditor")
    page = client.get(_review_url(access))
    resp = client.post(_review_url(access), data={"note": "   ", "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 400 and "Skriv en kommentar till granskningen." in resp.text
    assert access.reviewed_at is None
    resp = client.post(_review_url(access), data={"note": "x" * 2001, "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 400 and access.reviewed_at is None
    first = client.post(_review_url(access), data={"note": "Första.", "csrf_token": csrf_from(page.text)})
    assert first.status_code == 302
    resp = client.post(_review_url(access), data={"note": "Andra.", "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 400 and "Nödåtkomsten är redan granskad." in resp.text
    with app.app_context():
        assert access.review_note == "Första."


def test_unknown_or_malformed_access_ids_are_not_found(client, login_as):
    login_as("auditor")
    assert client.get("/cases/emergency-accesses/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/cases/emergency-accesses/not-a-uuid").status_code == 404
    assert client.get("/cases/emergency-accesses?page=-3").status_code == 200


@pytest.mark.parametrize("role", ["coordinator", "admin", "process_leader", "partner", "analyst", "reporter"])
def test_only_the_auditor_reaches_the_review_pages(app, db, client, login_as, world, role):
    access = _started(app, world)
    login_as(role)
    assert client.get("/cases/emergency-accesses").status_code == 403
    assert client.get(_review_url(access)).status_code == 403
    page = client.get("/")
    resp = client.post(_review_url(access), data={"note": "Försök.", "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 403 and access.reviewed_at is None


def test_the_coordinator_of_the_case_cannot_review_it(app, db, client, world):
    access = _started(app, world)
    sign_in(client, world["coordinator"])
    assert client.get(_review_url(access)).status_code == 403


def test_a_partner_without_access_finds_the_emergency_action_on_the_case_page(client, world):
    case = world["case"]
    sign_in(client, world["partner"])
    page = client.get(f"/cases/{case.code}").text
    assert f'href="/cases/{case.code}/emergency"' in page and "Begär nödåtkomst" in page
    assert "loggas" in page and "aldrig den skyddade adressen" in page


def test_while_it_runs_every_page_of_the_case_shows_a_banner_with_the_time_left(app, client, world):
    case = world["case"]
    _started(app, world)
    sign_in(client, world["partner"])
    for path in ("", "/plan", "/assessments", "/history"):
        page = client.get(f"/cases/{case.code}{path}")
        assert page.status_code == 200, path
        assert "Nödåtkomst pågår" in page.text and "60 minuter kvar" in page.text, path
    assert "Begär nödåtkomst" not in client.get(f"/cases/{case.code}").text


def test_no_banner_and_no_action_for_the_coordinator(client, world):
    sign_in(client, world["coordinator"])
    page = client.get(f"/cases/{world['case'].code}").text
    assert "Nödåtkomst pågår" not in page and "Begär nödåtkomst" not in page
