"""Case list and search, referral, the case page, phase, team, participant details and history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases.models import Case, CasePhase, CaseTeamMember, Participant, ThreatAssessment, ThreatLevel
from tests.conftest import csrf_from, fake_personal_number, sign_in

NEW = "/cases/new"


def _post(client, url, data, page_url=None):
    """POST a form with the CSRF token of the page it lives on (GET of page_url or url)."""
    page = client.get(page_url or url)
    assert page.status_code == 200, (page_url or url, page.status_code)
    return client.post(url, data={**data, "csrf_token": csrf_from(page.text)})


def _events(db, user, action=None):
    stmt = select(AuditEvent).where(AuditEvent.actor_user_id == user.id).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.scalars(stmt))


def _count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def _referral(**override):
    data = {
        "first_name": "Fiktiva", "last_name": "Registreringsson", "personal_number": "",
        "date_of_birth": "", "phone": "070-174 06 77", "email": "fiktiva@example.org",
        "street_address": "Låtsasgatan 4", "postal_code": "199 95", "city": "Norrvik",
        "protected_identity": "confidentiality_marking", "referral_source": "probation",
        "referred_on": date.today().isoformat(), "referral_reason": "Påhittat skäl till aktualisering.",
    }
    data.update(override)
    return data


@pytest.fixture()
def coordinator(factory):
    return factory.user(roles=("coordinator",), kind="social_services")


# ------------------------------------------------------------------ referral


def test_coordinator_registers_a_referral_end_to_end(app, client, db, coordinator):
    sign_in(client, coordinator)
    number = fake_personal_number()
    resp = _post(client, NEW, _referral(personal_number=f"{number[2:8]}-{number[8:]}"))
    assert resp.status_code == 302, resp.text[:2000]
    code = resp.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        case = db.scalar(select(Case).where(Case.code == code))
        assert case.phase == CasePhase.REFERRAL and case.coordinator_id == coordinator.id
        assert case.participant.personal_number == number, "stored in the normalised 12-digit form"
        assert case.participant.date_of_birth == date(int(number[:4]), int(number[4:6]), int(number[6:8]))
        assert case.referral_reason == "Påhittat skäl till aktualisering."
        assert coordinator.agency_id in case.team_agency_ids
    page = client.get(f"/cases/{code}")
    assert page.status_code == 200 and code in page.text
    # The referral says sekretessmarkering: the details are behind "Visa" (a fresh password, its own event).
    assert "Registreringsson" not in page.text and "Sekretessmarkering" in page.text
    shown = client.get(f"/cases/{code}/person")
    assert "Registreringsson" in shown.text and "Låtsasgatan 4" in shown.text
    created = _events(db, coordinator, "case.created")
    assert len(created) == 1 and created[0].object_id == code
    assert "Registreringsson" not in (created[0].detail or "") + (created[0].object_id or "")


def test_referral_with_date_of_birth_only_is_accepted(client, db, coordinator):
    sign_in(client, coordinator)
    before = _count(db, Case)
    resp = _post(client, NEW, _referral(date_of_birth="2004-02-29"))
    assert resp.status_code == 302
    assert _count(db, Case) == before + 1


# Duplicates and reopening at intake: tests/cases/test_reopen.py


@pytest.mark.parametrize("override, message", [
    ({"personal_number": "19990131-1235"}, "kontrollsiffran stämmer inte"),
    ({"personal_number": "hej"}, "Personnumret är inte giltigt"),
    ({"personal_number": "", "date_of_birth": ""}, "Ange personnummer eller födelsedatum."),
    ({"date_of_birth": (date.today() + timedelta(days=1)).isoformat()}, "kan inte ligga i framtiden"),
    ({"date_of_birth": "2001-02-30"}, "Ange ett datum som ÅÅÅÅ-MM-DD."),
    ({"referred_on": (date.today() + timedelta(days=1)).isoformat(), "date_of_birth": "2000-01-01"},
     "aktualiseringen kan inte ligga i framtiden"),
    ({"personal_number": "19990131-1234", "date_of_birth": "1999-02-01"}, "stämmer inte med personnumret"),
    ({"first_name": "x" * 101, "date_of_birth": "2000-01-01"}, "Högst 100 tecken."),
    ({"referral_reason": "x" * 10_001, "date_of_birth": "2000-01-01"}, "Högst 10000 tecken."),
    ({"email": "inte-en-adress", "date_of_birth": "2000-01-01"}, "Ogiltig e-postadress."),
    ({"protected_identity": "forged", "date_of_birth": "2000-01-01"}, None),
    ({"referral_source": "martians", "date_of_birth": "2000-01-01"}, None),
])
def test_bad_referral_input_is_refused_clearly_and_creates_nothing(client, db, coordinator, override, message):
    sign_in(client, coordinator)
    before = (_count(db, Case), _count(db, Participant))
    resp = _post(client, NEW, _referral(**override))
    assert resp.status_code == 400
    assert 'class="errors"' in resp.text
    if message:
        assert message in resp.text
    assert (_count(db, Case), _count(db, Participant)) == before


# ------------------------------------------------------------------ search by personal number


def test_find_by_personal_number_shows_codes_only_and_audits_without_the_number(client, db, factory, coordinator):
    number = fake_personal_number()
    mine = factory.case(coordinator, participant=factory.participant(personal_number=number,
                                                                     last_name="Sökbarsson"))
    sign_in(client, coordinator)
    listing = client.get("/cases/")
    assert 'action="/cases/find"' in listing.text and 'method="post"' in listing.text
    resp = client.post("/cases/find", data={"personal_number": f"{number[:8]}-{number[8:]}",
                                            "csrf_token": csrf_from(listing.text)})
    assert resp.status_code == 200
    assert f'href="/cases/{mine.code}"' in resp.text
    assert "Sökbarsson" not in resp.text and number not in resp.text
    assert "Location" not in resp.headers
    events = _events(db, coordinator, "participant.search")
    assert len(events) == 1 and events[0].object_id == mine.code and events[0].field_sets == ""
    assert number[2:8] not in (events[0].detail or "")
    assert client.get(f"/cases/find?personal_number={number}").status_code in (404, 405), "never by URL"


def test_find_shows_only_whom_to_contact_for_a_case_the_user_cannot_open(client, db, factory, coordinator):
    """Pentest finding 3: the search was an oracle for case codes and phases. A hit on a case the user does not
    coordinate says that the person has a case and whom to contact, nothing else; the auditor sees the hit."""
    number = fake_personal_number()
    other = factory.case(participant=factory.participant(personal_number=number))
    other.coordinator.full_name = "Karin Kontaktsson"
    sign_in(client, coordinator)
    resp = _post(client, "/cases/find", {"personal_number": number}, page_url="/cases/")
    assert resp.status_code == 200 and "Karin Kontaktsson" in resp.text
    assert other.code not in resp.text and f'href="/cases/{other.code}"' not in resp.text
    [event] = _events(db, coordinator, "participant.search")
    assert '"foreign":"1"' in event.detail and event.object_id == other.code


def test_find_with_invalid_number_is_400_with_a_message_and_no_search(client, db, coordinator):
    sign_in(client, coordinator)
    resp = _post(client, "/cases/find", {"personal_number": "19990131-1235"}, page_url="/cases/")
    assert resp.status_code == 400 and "kontrollsiffran stämmer inte" in resp.text
    assert not _events(db, coordinator, "participant.search")


def test_find_without_a_match_says_so(client, coordinator):
    sign_in(client, coordinator)
    resp = _post(client, "/cases/find", {"personal_number": fake_personal_number()}, page_url="/cases/")
    assert resp.status_code == 200 and "Ingen person med det personnumret" in resp.text


# ------------------------------------------------------------------ phases and history


def _phase(client, code, **data):
    return _post(client, f"/cases/{code}/phase", data)


def test_phase_changes_follow_the_allowed_transitions_and_closing_needs_outcome_reason_and_tick(app, client, db,
                                                                                                factory,
                                                                                                coordinator):
    case = factory.case(coordinator, phase="referral")
    sign_in(client, coordinator)
    refused = _phase(client, case.code, to_phase="active")
    assert refused.status_code == 400
    assert _phase(client, case.code, to_phase="assessment").status_code == 302
    db.refresh(case)
    assert case.phase == CasePhase.ASSESSMENT

    missing = _phase(client, case.code, to_phase="closed")
    assert missing.status_code == 400
    for text in ("Ange utfall när ärendet avslutas.", "Ange skäl när ärendet avslutas.", "kryssa i rutan"):
        assert text in missing.text
    unticked = _phase(client, case.code, to_phase="closed", outcome="completed", closure_reason="Klart.")
    assert unticked.status_code == 400
    assert _phase(client, case.code, to_phase="closed", outcome="martians", closure_reason="Klart.",
                  confirmed="y").status_code == 400
    db.refresh(case)
    assert case.phase == CasePhase.ASSESSMENT

    closed = _phase(client, case.code, to_phase="closed", outcome="completed", closure_reason="Programmet klart.",
                    confirmed="y")
    assert closed.status_code == 302
    db.refresh(case)
    assert case.phase == CasePhase.CLOSED and case.outcome.value == "completed" and case.closed_at
    with app.app_context():
        assert case.closure_reason == "Programmet klart."

    history = client.get(f"/cases/{case.code}/history")
    assert history.status_code == 200
    assert "Aktualisering → Utredning" in history.text and "Utredning → Avslutat" in history.text
    assert coordinator.full_name in history.text


# ------------------------------------------------------------------ team


def test_team_add_and_remove_with_confirmation_and_history(client, db, factory, coordinator):
    case = factory.case(coordinator)
    police = factory.agency(name="Polisen Fiktivstad", kind="police")
    officer = factory.user(roles=("partner",), agency=police)
    sign_in(client, coordinator)
    resp = _post(client, f"/cases/{case.code}/team", {"agency_id": police.id, "officer_id": officer.id})
    assert resp.status_code == 302
    member = db.scalar(select(CaseTeamMember).where(CaseTeamMember.case_id == case.id,
                                                    CaseTeamMember.agency_id == police.id))
    assert member.officer_id == officer.id and member.removed_at is None

    page = client.get(f"/cases/{case.code}/team")
    url = f"/cases/{case.code}/team/{member.id}/remove"
    unconfirmed = client.post(url, data={"csrf_token": csrf_from(page.text)})
    assert unconfirmed.status_code == 400 and "kryssa i rutan" in unconfirmed.text
    db.refresh(member)
    assert member.removed_at is None
    assert client.post(url, data={"csrf_token": csrf_from(page.text), "confirmed": "y"}).status_code == 302
    db.refresh(member)
    assert member.removed_at is not None and member.removed_by_id == coordinator.id

    history = client.get(f"/cases/{case.code}/history").text
    assert "Tillagd i teamet: Polisen Fiktivstad" in history and "Borttagen ur teamet: Polisen Fiktivstad" in history


@pytest.mark.parametrize("data", [{"agency_id": "999999"}, {"agency_id": "abc"}, {"agency_id": ""},
                                  {"agency_id": "OTHER_AGENCY", "officer_id": "OFFICER_OF_ANOTHER"},
                                  {"agency_id": "OTHER_AGENCY", "officer_id": "999999"}])
def test_unknown_agency_or_wrong_officer_is_400_and_changes_nothing(client, db, factory, coordinator, data):
    case = factory.case(coordinator)
    agency = factory.agency(kind="housing")
    stranger = factory.user(roles=("partner",), kind="school")
    data = {k: {"OTHER_AGENCY": agency.id, "OFFICER_OF_ANOTHER": stranger.id}.get(v, v) for k, v in data.items()}
    sign_in(client, coordinator)
    before = _count(db, CaseTeamMember)
    resp = _post(client, f"/cases/{case.code}/team", data)
    assert resp.status_code == 400 and 'class="errors"' in resp.text
    assert _count(db, CaseTeamMember) == before


def test_team_member_of_another_case_is_404(client, factory, coordinator):
    case = factory.case(coordinator)
    other = factory.case()
    sign_in(client, coordinator)
    page = client.get(f"/cases/{case.code}/team")
    member_id = other.team[0].id
    resp = client.post(f"/cases/{case.code}/team/{member_id}/remove",
                       data={"csrf_token": csrf_from(page.text), "confirmed": "y"})
    assert resp.status_code == 404


def test_the_coordinator_cannot_be_removed_from_the_team(client, db, factory, coordinator):
    case = factory.case(coordinator)
    sign_in(client, coordinator)
    own = case.team[0]
    page = client.get(f"/cases/{case.code}/team")
    resp = client.post(f"/cases/{case.code}/team/{own.id}/remove",
                       data={"csrf_token": csrf_from(page.text), "confirmed": "y"})
    assert resp.status_code == 400 and "Samordnaren kan inte tas bort" in resp.text
    db.refresh(own)
    assert own.removed_at is None


# ------------------------------------------------------------------ participant details


def test_participant_edit_writes_only_changed_fields_and_audits_their_field_sets(app, client, db, factory,
                                                                              coordinator):
    number = fake_personal_number()
    born = date(int(number[:4]), int(number[4:6]), int(number[6:8]))
    case = factory.case(coordinator, participant=factory.participant(personal_number=number, date_of_birth=born))
    sign_in(client, coordinator)
    page = client.get(f"/cases/{case.code}/participant")
    assert page.status_code == 200
    with app.app_context():
        person = case.participant
        assert person.last_name in page.text
        data = {"first_name": person.first_name, "last_name": person.last_name,
                "personal_number": person.personal_number, "date_of_birth": "", "phone": "070-174 06 88",
                "email": person.email, "street_address": person.street_address, "postal_code": person.postal_code,
                "city": person.city, "protected_identity": person.protected_identity.value, "notes": person.notes}
    resp = client.post(f"/cases/{case.code}/participant", data={**data, "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302
    with app.app_context():
        db.refresh(case.participant)
        assert case.participant.phone == "070-174 06 88"
    updated = _events(db, coordinator, "case.participant_updated")
    assert len(updated) == 1 and updated[0].field_sets == "person.contact"
    viewed = _events(db, coordinator, "case.participant.view")
    assert len(viewed) == 1 and "person.identity" in viewed[0].field_sets


def test_participant_number_of_another_person_is_refused(app, client, db, factory, coordinator):
    taken = fake_personal_number()
    factory.case(participant=factory.participant(personal_number=taken))
    case = factory.case(coordinator)
    sign_in(client, coordinator)
    with app.app_context():
        own = case.participant.personal_number
        data = {"first_name": "A", "last_name": "B", "personal_number": taken, "protected_identity": "none"}
    resp = _post(client, f"/cases/{case.code}/participant", data)
    assert resp.status_code == 400 and "tillhör en annan registrerad person" in resp.text
    with app.app_context():
        db.refresh(case.participant)
        assert case.participant.personal_number == own and case.participant.first_name == "Testa"


# ------------------------------------------------------------------ list


def test_list_filters_sorts_and_paginates(client, factory, coordinator):
    police = factory.agency(kind="police")
    cases = [factory.case(coordinator, code=f"AV-2031-{i:03d}", phase="active" if i % 2 else "assessment",
                          team=[police] if i < 5 else [],
                          items=[dict(responsible_agency=police, due_on=date.today() - timedelta(days=3))]
                          if i == 7 else [])
             for i in range(1, 31)]
    other = factory.case(code="AV-2031-999")
    sign_in(client, coordinator)
    page1 = client.get("/cases/?code=av-2031&sort=code").text
    assert "AV-2031-001" in page1 and "AV-2031-026" not in page1 and "Sida 1 av 2" in page1
    assert other.code not in page1
    page2 = client.get("/cases/?code=AV-2031&sort=code&page=2").text
    assert "AV-2031-026" in page2 and "AV-2031-030" in page2 and "AV-2031-001" not in page2
    newest_code_first = client.get("/cases/?code=AV-2031&sort=-code").text
    assert "AV-2031-030" in newest_code_first and "AV-2031-001" not in newest_code_first

    exact = client.get("/cases/?code=AV-2031-007").text
    assert "AV-2031-007" in exact and "AV-2031-001" not in exact
    active = client.get("/cases/?code=AV-2031&phase=active").text
    assert "30 ärenden" not in active and "15 ärenden" in active
    on_team = client.get(f"/cases/?agency={police.id}").text
    assert "4 ärenden" in on_team
    overdue = client.get("/cases/?due=overdue").text
    assert "1 ärende." in overdue and "AV-2031-007" in overdue
    by_coordinator = client.get(f"/cases/?coordinator={coordinator.id}&code=AV-2031-01").text
    assert "10 ärenden" in by_coordinator
    assert cases


def test_list_shows_reassessment_due_for_the_coordinators_cases(app, client, db, factory, coordinator):
    due = factory.case(coordinator, code="AV-2032-001")
    later = factory.case(coordinator, code="AV-2032-002")
    with app.app_context():
        for case, review in ((due, date.today() - timedelta(days=1)), (later, date.today() + timedelta(days=30))):
            assessment = ThreatAssessment(data_key=case.participant.data_key, case=case,
                                          agency_id=coordinator.agency_id, assessed_on=date.today() - timedelta(days=90), next_review_on=review)
            assessment.level = ThreatLevel.HIGH
            db.add(assessment)
        db.flush()
    sign_in(client, coordinator)
    text = client.get("/cases/?due=reassessment").text
    assert "AV-2032-001" in text and "AV-2032-002" not in text


@pytest.mark.parametrize("query", ["phase=martians", "agency=abc", "coordinator=999999", "code=" + "A" * 30,
                                   "code=%25%27", "due=everything"])
def test_bad_list_filters_are_400(client, coordinator, query):
    sign_in(client, coordinator)
    assert client.get(f"/cases/?{query}").status_code == 400


def test_list_read_is_audited_once_without_object_or_field_sets(client, db, factory, coordinator):
    factory.case(coordinator)
    sign_in(client, coordinator)
    assert client.get("/cases/?phase=active").status_code == 200
    events = _events(db, coordinator, "case.list")
    assert len(events) == 1
    assert events[0].object_id is None and events[0].field_sets == ""


# ------------------------------------------------------------------ who sees what


def _case_urls(code: str, member_id: int) -> list[tuple[str, str]]:
    return [("get", f"/cases/{code}"), ("get", f"/cases/{code}/history"), ("get", f"/cases/{code}/phase"),
            ("get", f"/cases/{code}/team"), ("get", f"/cases/{code}/participant"),
            ("post", f"/cases/{code}/phase"), ("post", f"/cases/{code}/team"),
            ("post", f"/cases/{code}/team/{member_id}/remove"), ("post", f"/cases/{code}/participant")]


def test_a_coordinator_not_on_the_case_gets_403_everywhere_and_does_not_see_it_listed(client, db, factory,
                                                                                       coordinator):
    case = factory.case(phase="active")
    sign_in(client, coordinator)
    token = csrf_from(client.get("/cases/").text)
    for method, url in _case_urls(case.code, case.team[0].id):
        resp = getattr(client, method)(url, data={"csrf_token": token, "confirmed": "y", "to_phase": "closed"})
        assert resp.status_code == 403, (method, url, resp.status_code)
    assert case.code not in client.get("/cases/").text
    searched = client.get(f"/cases/?code={case.code}").text
    assert f'href="/cases/{case.code}"' not in searched and "Inga ärenden matchar filtret." in searched
    db.refresh(case)
    assert case.phase == CasePhase.ACTIVE and all(m.removed_at is None for m in case.team)


@pytest.mark.parametrize("role", ["admin", "auditor", "analyst", "process_leader", "reporter"])
def test_staff_without_case_roles_get_403_on_every_case_page(client, factory, role):
    case = factory.case()
    user = factory.user(roles=(role,), kind="social_services")
    sign_in(client, user)
    token = csrf_from(client.get("/").text)
    urls = _case_urls(case.code, case.team[0].id) + [("get", "/cases/"), ("get", NEW), ("post", NEW),
                                                     ("post", "/cases/find"), ("post", "/cases/reopen/no-such-token")]
    for method, url in urls:
        resp = getattr(client, method)(url, data={"csrf_token": token, "personal_number": fake_personal_number()})
        assert resp.status_code == 403, (role, method, url, resp.status_code)


def test_partner_on_the_team_without_consent_sees_the_code_but_nothing_about_the_person(app, client, db, factory):
    police = factory.agency(kind="police")
    person = factory.participant(first_name="Hemliganamn", last_name="Doldsson", street_address="Gömdvägen 9")
    case = factory.case(participant=person, team=[police])
    officer = factory.user(roles=("partner",), agency=police)
    sign_in(client, officer)
    listing = client.get("/cases/")
    assert case.code in listing.text and 'action="/cases/find"' not in listing.text
    page = client.get(f"/cases/{case.code}")
    assert page.status_code == 200 and case.code in page.text
    for secret in ("Hemliganamn", "Doldsson", "Gömdvägen", "Fiktiv hänvisning", "070-174 06 99"):
        assert secret not in page.text
    for url in ("phase", "team", "participant"):
        assert client.get(f"/cases/{case.code}/{url}").status_code == 403
    for hidden in ("phase", "team", "participant", "consents", "assessments", "notes", "meetings", "history",
                   "incidents"):
        assert f'href="/cases/{case.code}/{hidden}"' not in page.text, f"no link to {hidden}: the partner may not use it"
    assert f'href="/cases/{case.code}/plan"' in page.text
    # Pentest finding 7: not the referral (date, source), the team or the history either.
    assert "Aktualiserad" not in page.text and 'id="team-heading"' not in page.text
    assert police.name not in page.text
    assert client.get(f"/cases/{case.code}/history").status_code == 403
    event = _events(db, officer, "case.view")[-1]
    assert not {s for s in event.field_sets.split(",") if s.startswith("person.")}


def test_partner_with_identity_consent_sees_the_name_but_not_the_address(app, client, db, factory):
    police = factory.agency(kind="police")
    person = factory.participant(first_name="Synligt", last_name="Namnsson", street_address="Gömdvägen 9")
    case = factory.case(participant=person, team=[police], consents=[(police, ["identity"], None, None)])
    officer = factory.user(roles=("partner",), agency=police)
    sign_in(client, officer)
    page = client.get(f"/cases/{case.code}")
    assert "Synligt Namnsson" in page.text and "Gömdvägen" not in page.text
    events = _events(db, officer, "case.view")
    assert len(events) == 1 and events[0].field_sets == "person.identity"


def test_case_page_read_writes_one_event_with_every_field_set_shown(app, client, db, factory, coordinator):
    police = factory.agency(kind="police")
    case = factory.case(coordinator, team=[police], consents=[(police, ["identity"], None, None)],
                        items=[dict(responsible_agency=police, goal="Fiktivt mål")])
    with app.app_context():
        assessment = ThreatAssessment(data_key=case.participant.data_key, case=case, agency_id=police.id,
                                      assessed_on=date.today(), next_review_on=date.today() + timedelta(days=9))
        assessment.level = ThreatLevel.ELEVATED
        db.add(assessment)
        db.flush()
    sign_in(client, coordinator)
    page = client.get(f"/cases/{case.code}")
    assert page.status_code == 200
    assert "Fiktivt mål" in page.text and "Förhöjd" in page.text and police.name in page.text
    for tab in ("plan", "consents", "assessments", "notes", "meetings", "history", "phase", "team", "participant"):
        assert f'href="/cases/{case.code}/{tab}"' in page.text
    events = _events(db, coordinator, "case.view")
    assert len(events) == 1 and events[0].object_id == case.code
    assert set(events[0].field_sets.split(",")) == {
        "person.identity", "person.contact", "person.protected_address", "person.protection_level",
        "person.notes", "case.referral", "case.consent", "case.threat", "plan.items"}


@pytest.mark.parametrize("path, action", [("/history", "case.history.view"), ("/phase", "case.phase.view"),
                                          ("/team", "case.team.view")])
def test_other_case_pages_write_one_event_without_personal_field_sets(client, db, factory, coordinator, path,
                                                                      action):
    case = factory.case(coordinator)
    sign_in(client, coordinator)
    assert client.get(f"/cases/{case.code}{path}").status_code == 200
    events = _events(db, coordinator)
    reads = [e for e in events if e.action == action]
    assert len(reads) == 1 and reads[0].object_id == case.code and reads[0].field_sets == ""
    assert [e.action for e in events if e.action.startswith("case.")] == [action]


def test_unknown_case_code_is_404(client, coordinator):
    sign_in(client, coordinator)
    assert client.get("/cases/AV-1999-404").status_code == 404
    assert client.get("/cases/" + "A" * 40).status_code == 404


def test_emergency_access_opens_identity_to_the_partner_and_shows_on_the_coordinators_case_page(app, client, db,
                                                                                                 factory,
                                                                                                 coordinator):
    from app.cases.models import EmergencyAccess
    from app.db import utcnow

    police = factory.agency(kind="police")
    person = factory.participant(first_name="Nödläge", last_name="Synligsson", street_address="Gömdvägen 9")
    case = factory.case(coordinator, participant=person, team=[police])
    officer = factory.user(roles=("partner",), agency=police)
    with app.app_context():
        access = EmergencyAccess(data_key=person.data_key, case=case, user_id=officer.id, agency_id=police.id,
                                 started_at=utcnow(), expires_at=utcnow() + timedelta(minutes=60))
        access.reason = "Påhittat akut hot mot personen."
        db.add(access)
        db.flush()
    sign_in(client, officer)
    page = client.get(f"/cases/{case.code}").text
    assert "Nödläge Synligsson" in page and "Gömdvägen" not in page
    assert "Påhittat akut hot" not in page, "the partner does not see the emergency panel"
    client.post("/logout", data={"csrf_token": csrf_from(page)})

    sign_in(client, coordinator)
    page = client.get(f"/cases/{case.code}").text
    assert "Pågående nödåtkomst" in page and "Påhittat akut hot mot personen." in page
    assert "emergency.reason" in _events(db, coordinator, "case.view")[-1].field_sets
