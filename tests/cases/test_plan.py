"""The individual plan: items, optimistic locking, partner updates, versions and the plan PDF."""

from __future__ import annotations

import io
import time
import uuid
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent, AuditHead
from app.cases.models import CasePhase, PlanItem, PlanItemStatus, PlanVersion, today_local
from app.db import utcnow
from tests.conftest import csrf_from, sign_in

TODAY = date.today()


class Plan:
    """A case with police and housing on the team and one item each for police, housing and social services."""

    def __init__(self, app, factory):
        tag = uuid.uuid4().hex[:6]
        self.app, self.factory = app, factory
        self.social = factory.agency(kind="social_services")
        self.police = factory.agency(kind="police")
        self.housing = factory.agency(kind="housing")
        self.coordinator = factory.user(roles=("coordinator",), agency=self.social)
        self.goals = {"protection": f"Skyddsmål{tag}", "housing": f"Bostadsmål{tag}", "support": f"Stödmål{tag}"}
        self.case = factory.case(self.coordinator, team=[self.police, self.housing], items=[
            dict(part="protection", area="security_measure", goal=self.goals["protection"],
                 responsible_agency=self.police),
            dict(part="support", area="housing", goal=self.goals["housing"], responsible_agency=self.housing),
            dict(part="support", area="employment", goal=self.goals["support"], responsible_agency=self.social),
        ])
        self.code = self.case.code
        with app.app_context():
            by_goal = {item.goal: item for item in self.case.plan_items}
            self.last_name = self.case.participant.last_name
        self.items = {key: by_goal[goal] for key, goal in self.goals.items()}

    def saved(self, key: str) -> PlanItem:
        """The item as the database has it now, its goal decrypted."""
        item = self.items[key]
        with self.app.app_context():
            self.factory.session.refresh(item)
            item.goal  # noqa: B018 - decrypt while the keys are at hand
        return item

    def url(self, suffix: str = "") -> str:
        return f"/cases/{self.code}/plan{suffix}"

    def item_url(self, key: str, suffix: str = "") -> str:
        return self.url(f"/items/{self.items[key].id}{suffix}")

    def partner(self, agency):
        return self.factory.user(roles=("partner",), agency=agency)

    def consent(self, agency, kinds):
        from app.cases.models import Consent, ConsentMethod

        with self.app.app_context():
            consent = Consent(data_key=self.case.participant.data_key, case=self.case, agency_id=agency.id,
                              given_on=TODAY - timedelta(days=5), valid_until=TODAY + timedelta(days=90),
                              method=ConsentMethod.WRITTEN)
            consent.kind_set = kinds
            self.factory.session.add(consent)
            self.factory.session.flush()
            return consent


@pytest.fixture()
def plan(app, factory):
    return Plan(app, factory)


def _post(client, page_url, data, url=None):
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(url or page_url, data={**data, "csrf_token": csrf_from(page.text)})


def _followup(client, page_url, url, **fields):
    """Post the follow-up form of an item page (its fields carry the prefix "followup-")."""
    page = client.get(page_url)
    data = {f"followup-{name}": value for name, value in fields.items()}
    return client.post(url, data={**data, "followup-csrf_token": csrf_from(page.text)})


def _item_data(plan, **overrides):
    data = {"part": "support", "area": "education", "goal": "Avsluta gymnasiet",
            "responsible_agency_id": str(plan.social.id), "officer_id": "",
            "start_on": TODAY.isoformat(), "due_on": (TODAY + timedelta(days=90)).isoformat()}
    return {**data, **overrides}


def _edit_data(plan, key, **overrides):
    item = plan.saved(key)
    data = {"part": item.part.value, "area": item.area.value, "goal": item.goal,
            "responsible_agency_id": str(item.responsible_agency_id), "officer_id": str(item.officer_id or ""),
            "start_on": item.start_on.isoformat(), "due_on": item.due_on.isoformat(), "status": item.status.value,
            "version": str(item.version)}
    return {**data, **overrides}


def _events(db, action, since=0):
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.id > since)
                           .order_by(AuditEvent.id)))


def _head(db) -> int:
    return db.scalar(select(AuditHead.seq))


def _item_count(db, case) -> int:
    return db.scalar(select(func.count(PlanItem.id)).where(PlanItem.case_id == case.id))


def _pdf_text(resp) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(resp.data)).pages)


# ------------------------------------------------------------------ the coordinator's items


def test_coordinator_adds_an_item_and_its_agency_joins_the_team(client, db, factory, plan):
    school = factory.agency(kind="school")
    teacher = factory.user(roles=("partner",), agency=school)
    sign_in(client, plan.coordinator)
    before = _head(db)
    resp = _post(client, plan.url("/items/new"), _item_data(plan, responsible_agency_id=str(school.id)))
    assert resp.status_code == 302
    item = db.scalar(select(PlanItem).where(PlanItem.case_id == plan.case.id, PlanItem.responsible_agency_id == school.id))
    with plan.app.app_context():
        assert item.goal == "Avsluta gymnasiet"
    assert item.status == PlanItemStatus.PLANNED and item.version == 1
    assert school.id in plan.case.team_agency_ids
    created = _events(db, "plan_item.created", before)
    assert len(created) == 1 and created[0].object_id == plan.code
    assert "gymnasiet" not in (created[0].detail or "")
    # The school's officer now sees the case and its item; the officer may be named only from that agency.
    assert _post(client, plan.url("/items/new"), _item_data(plan, officer_id=str(teacher.id))).status_code == 400


def test_due_date_before_start_is_refused_and_nothing_is_created(client, db, plan):
    sign_in(client, plan.coordinator)
    before = _item_count(db, plan.case)
    resp = _post(client, plan.url("/items/new"),
                 _item_data(plan, start_on="2026-05-10", due_on="2026-05-01", goal="Typat mål"))
    assert resp.status_code == 400
    assert "Slutdatum kan inte ligga före startdatum." in resp.text
    assert "Typat mål" in resp.text
    assert _item_count(db, plan.case) == before


@pytest.mark.parametrize("overrides", [
    {"responsible_agency_id": "999999"},
    {"responsible_agency_id": "abc"},
    {"responsible_agency_id": ""},
    {"goal": "x" * 501},
    {"goal": ""},
    {"part": "offence"},
    {"area": "weapons"},
    {"officer_id": "999999"},
    {"due_on": "2026-02-30"},
])
def test_bad_item_input_is_refused_with_400_and_nothing_changes(client, db, plan, overrides):
    sign_in(client, plan.coordinator)
    before = _item_count(db, plan.case)
    resp = _post(client, plan.url("/items/new"), _item_data(plan, **overrides))
    assert resp.status_code == 400
    assert _item_count(db, plan.case) == before


def test_inactive_agency_is_refused_by_the_service(app, db, factory, plan):
    from app.cases import plan as service
    from app.cases.service import CaseError

    closed = factory.agency(kind="ngo", active=False)
    with app.test_request_context(), pytest.raises(CaseError):
        service.create_item(plan.case, plan.coordinator, part="support", area="mentor", goal="Mentor",
                            responsible_agency=closed, start_on=TODAY, due_on=TODAY)
    assert closed.id not in plan.case.team_agency_ids


def test_a_meeting_decision_becomes_an_item_of_that_meetings_case_only(app, db, factory, plan):
    from app.cases import plan as service
    from app.cases.models import CaseMeeting
    from app.cases.service import CaseError

    other = factory.case(plan.coordinator)
    with app.test_request_context():
        meeting = CaseMeeting(data_key=plan.case.participant.data_key, case=plan.case, held_on=TODAY)
        foreign = CaseMeeting(data_key=other.participant.data_key, case=other, held_on=TODAY)
        db.add_all([meeting, foreign])
        db.flush()
        item = service.create_item(plan.case, plan.coordinator, part="support", area="mentor", goal="Mentor",
                                   responsible_agency=plan.social, start_on=TODAY, due_on=TODAY, meeting=meeting)
        assert item.meeting_id == meeting.id
        with pytest.raises(CaseError):
            service.create_item(plan.case, plan.coordinator, part="support", area="mentor", goal="Mentor",
                                responsible_agency=plan.social, start_on=TODAY, due_on=TODAY, meeting=foreign)


def test_coordinator_edits_an_item_and_the_audit_names_only_the_fields(client, db, plan):
    sign_in(client, plan.coordinator)
    before = _head(db)
    new_due = TODAY + timedelta(days=120)
    resp = _post(client, plan.item_url("support"),
                 _edit_data(plan, "support", goal="Nytt stödmål", due_on=new_due.isoformat(), status="done"))
    assert resp.status_code == 302
    item = plan.saved("support")
    assert (item.goal, item.due_on, item.status, item.version) == ("Nytt stödmål", new_due, PlanItemStatus.DONE, 2)
    assert item.completed_on == today_local()
    [event] = _events(db, "plan_item.updated", before)
    assert '"fields":"due_on,goal,status"' in event.detail and "Nytt" not in event.detail


def test_unknown_or_foreign_item_ids_are_404(client, factory, plan):
    other = factory.case(plan.coordinator, items=[dict(goal="Annat ärende", responsible_agency=plan.social)])
    sign_in(client, plan.coordinator)
    assert client.get(plan.url("/items/not-a-uuid")).status_code == 404
    assert client.get(plan.url(f"/items/{uuid.uuid4()}")).status_code == 404
    assert client.get(plan.url(f"/items/{other.plan_items[0].id}")).status_code == 404


# ------------------------------------------------------------------ optimistic locking


def test_second_editor_with_an_old_version_gets_409_and_nothing_is_overwritten(app, client, db, plan):
    sign_in(client, plan.coordinator)
    stale_page = client.get(plan.item_url("housing"))
    assert 'name="version" type="hidden" value="1"' in stale_page.text

    other = app.test_client()
    sign_in(other, plan.partner(plan.housing))
    assert _post(other, plan.item_url("housing"), {"status": "in_progress", "version": "1"}).status_code == 302
    item = plan.saved("housing")
    assert item.version == 2

    resp = client.post(plan.item_url("housing"), data={**_edit_data(plan, "housing", goal="Mitt nya mål", version="1"),
                                                       "csrf_token": csrf_from(stale_page.text)})
    assert resp.status_code == 409
    assert "Planpunkten har ändrats av någon annan sedan du öppnade den. Ladda om och gör om ändringen." in resp.text
    assert "Mitt nya mål" in resp.text, "what the user typed is kept"
    item = plan.saved("housing")
    assert item.goal == plan.goals["housing"] and item.status == PlanItemStatus.IN_PROGRESS and item.version == 2


def test_a_stale_row_at_flush_is_a_conflict_and_saves_nothing(app, db, plan):
    from app.cases import plan as service

    item = plan.items["support"]
    # Another worker saved the item meanwhile: the row's version moved on under this session's feet.
    db.execute(update(PlanItem).where(PlanItem.id == item.id).values(version=PlanItem.version + 1)
               .execution_options(synchronize_session=False))
    with app.test_request_context(), pytest.raises(service.PlanConflict) as caught:
        service.update_item(item, plan.coordinator, expected_version=1, goal="Skrivs aldrig")
    assert "Ladda om" in str(caught.value)
    item = plan.saved("support")
    assert item.goal == plan.goals["support"] and item.version == 2


# ------------------------------------------------------------------ partners


def test_partner_updates_the_status_of_their_agencys_item(client, db, plan):
    sign_in(client, plan.partner(plan.housing))
    page = client.get(plan.item_url("housing"))
    assert page.status_code == 200 and 'name="goal"' not in page.text
    resp = client.post(plan.item_url("housing"), data={"status": "done", "version": "1",
                                                       "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302
    item = plan.saved("housing")
    assert item.status == PlanItemStatus.DONE and item.completed_on == today_local()


def test_partner_cannot_edit_another_agencys_item(client, db, plan):
    sign_in(client, plan.partner(plan.housing))
    page = client.get(plan.url())
    assert client.get(plan.item_url("protection")).status_code == 403
    resp = client.post(plan.item_url("protection"), data={"status": "done", "version": "1",
                                                          "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 403
    item = plan.saved("protection")
    assert item.status == PlanItemStatus.PLANNED and item.version == 1


@pytest.mark.parametrize("forged", [{"goal": "Förfalskat mål"}, {"due_on": "2030-01-01"},
                                    {"responsible_agency_id": "1"}])
def test_partner_posting_a_forged_field_on_their_own_item_is_refused(client, db, plan, forged):
    sign_in(client, plan.partner(plan.housing))
    before = _head(db)
    resp = _post(client, plan.item_url("housing"), {"status": "done", "version": "1", **forged})
    assert resp.status_code == 403
    item = plan.saved("housing")
    assert (item.goal, item.status, item.version) == (plan.goals["housing"], PlanItemStatus.PLANNED, 1)
    denied = _events(db, "access.denied", before)
    assert denied and denied[-1].permission.startswith("fieldset.write:")


@pytest.mark.parametrize("forged", [{"goal": "Förfalskat mål"}, {"followup-goal": "Förfalskat mål"},
                                    {"followup-responsible_agency_id": "1"}])
def test_a_forged_field_on_the_followup_form_is_refused_as_on_the_status_form(client, db, plan, forged):
    """Pentest finding 7: the follow-up form ignored a forged field (302) where the status form refused it."""
    sign_in(client, plan.partner(plan.housing))
    before = _head(db)
    page = client.get(plan.item_url("housing"))
    resp = client.post(plan.item_url("housing", "/followups"),
                       data={"followup-text": "Visning bokad", "followup-version": "1", **forged,
                             "followup-csrf_token": csrf_from(page.text)})
    assert resp.status_code == 403
    item = plan.saved("housing")
    assert (item.goal, item.version) == (plan.goals["housing"], 1) and not item.followups
    denied = _events(db, "access.denied", before)
    assert denied and denied[-1].permission.startswith("fieldset.write:")


def test_partner_adds_a_followup_with_a_status_on_own_item_only(app, client, db, plan):
    sign_in(client, plan.partner(plan.housing))
    resp = _followup(client, plan.item_url("housing"), plan.item_url("housing", "/followups"),
                     text="Visning bokad", status="in_progress", version="1")
    assert resp.status_code == 302
    item = plan.saved("housing")
    assert item.status == PlanItemStatus.IN_PROGRESS
    with app.app_context():
        assert [(f.text, f.author_agency_id) for f in item.followups] == [("Visning bokad", plan.housing.id)]
    page = client.get(plan.url())
    assert "Visning bokad" in page.text and plan.housing.name in page.text

    resp = client.post(plan.item_url("protection", "/followups"),
                       data={"followup-text": "Får inte", "followup-version": "1",
                             "followup-csrf_token": csrf_from(page.text)})
    assert resp.status_code == 403
    assert not plan.saved("protection").followups


def test_followup_with_a_status_on_a_changed_item_is_a_conflict(app, client, db, plan):
    sign_in(client, plan.coordinator)
    with app.test_request_context():
        from app.cases import plan as service

        service.update_item(plan.items["support"], plan.coordinator, expected_version=1, status="in_progress")
    resp = _followup(client, plan.item_url("support"), plan.item_url("support", "/followups"),
                     text="Klart nu", status="done", version="1")
    assert resp.status_code == 409
    assert "Ladda om och gör om ändringen." in resp.text and "Klart nu" in resp.text
    item = plan.saved("support")
    assert item.status == PlanItemStatus.IN_PROGRESS and not item.followups


def test_empty_or_overlong_followup_is_refused(client, db, plan):
    sign_in(client, plan.coordinator)
    for text in ("", "x" * 10_001):
        resp = _followup(client, plan.item_url("support"), plan.item_url("support", "/followups"),
                         text=text, version="1")
        assert resp.status_code == 400
    assert not plan.saved("support").followups


# ------------------------------------------------------------------ who sees what


def test_housing_partner_sees_only_housing_items_and_the_read_is_audited(client, db, plan):
    officer = plan.partner(plan.housing)
    sign_in(client, officer)
    before = _head(db)
    page = client.get(plan.url())
    assert page.status_code == 200
    assert plan.goals["housing"] in page.text
    assert plan.goals["protection"] not in page.text and plan.goals["support"] not in page.text
    [event] = _events(db, "plan.view", before)
    assert event.actor_user_id == officer.id and event.field_sets == "plan.items"


def test_police_with_protection_consent_sees_protection_items_until_it_is_withdrawn(app, client, db, plan):
    from app.cases import plan as service

    with app.test_request_context():
        social_protection = service.create_item(plan.case, plan.coordinator, part="protection", area="relocation",
                                                goal="Socialtjänstens skyddsmål", responsible_agency=plan.social,
                                                start_on=TODAY, due_on=TODAY + timedelta(days=30))
    sign_in(client, plan.partner(plan.police))
    assert "Socialtjänstens skyddsmål" not in client.get(plan.url()).text, "no consent: own items only"

    consent = plan.consent(plan.police, ["protection_plan"])
    page = client.get(plan.url())
    assert "Socialtjänstens skyddsmål" in page.text and plan.goals["protection"] in page.text
    assert plan.goals["housing"] not in page.text and plan.goals["support"] not in page.text
    assert f"/items/{social_protection.id}" not in page.text, "seeing an item is not editing it"

    consent.withdrawn_at = utcnow()
    db.flush()
    page = client.get(plan.url())
    assert page.status_code == 200 and "Socialtjänstens skyddsmål" not in page.text
    assert plan.goals["protection"] in page.text


def test_plan_versions_are_for_the_coordinator_only(client, plan):
    sign_in(client, plan.partner(plan.police))
    assert client.get(plan.url("/versions")).status_code == 403
    assert client.get(plan.url("/approve")).status_code == 403


@pytest.mark.parametrize("role", ["admin", "auditor", "analyst"])
def test_users_without_case_access_see_no_plan_page(client, login_as, plan, role):
    login_as(role)
    for path in ("", "/versions", "/items/new", ".pdf"):
        assert client.get(plan.url(path)).status_code == 403
    assert client.get(plan.item_url("support")).status_code == 403


# ------------------------------------------------------------------ versions


def test_approving_versions_records_changes_and_old_versions_stay_as_approved(client, db, plan):
    sign_in(client, plan.coordinator)
    agreed = (TODAY - timedelta(days=1)).isoformat()
    page = client.get(plan.url("/approve"))
    assert "Första versionen" in page.text
    resp = client.post(plan.url("/approve"), data={"participant_agreed_on": agreed, "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(plan.url("/versions/1"))

    edited = _edit_data(plan, "housing", goal="Ändrat bostadsmål", status="in_progress")
    assert _post(client, plan.item_url("housing"), edited).status_code == 302
    preview = client.get(plan.url("/approve"))
    assert "Ändrad:" in preview.text and "Ändrat bostadsmål" in preview.text
    assert client.post(plan.url("/approve"), data={"csrf_token": csrf_from(preview.text)}).status_code == 302

    versions = db.scalars(select(PlanVersion).where(PlanVersion.case_id == plan.case.id)
                          .order_by(PlanVersion.number)).all()
    assert [v.number for v in versions] == [1, 2]
    with plan.app.app_context():
        assert versions[0].changes == "Första versionen" and versions[0].participant_agreed_on.isoformat() == agreed
        assert "status Planerad → Pågår" in versions[1].changes and "mål" in versions[1].changes

    # A later edit changes neither approved version.
    assert _post(client, plan.item_url("housing"), _edit_data(plan, "housing", goal="Ännu ett mål")).status_code == 302
    old = client.get(plan.url("/versions/1"))
    assert old.status_code == 200
    assert plan.goals["housing"] in old.text and "Ännu ett mål" not in old.text
    assert "Ändrat bostadsmål" in client.get(plan.url("/versions/2")).text
    listing = client.get(plan.url("/versions"))
    assert "Första versionen" in listing.text
    assert client.get(plan.url("/versions/3")).status_code == 404
    # The plan as it stands is not version 2 any more, and says so (it used to claim "Fastställd version 2").
    plan_page = client.get(plan.url())
    assert "Utkast – ändrat sedan fastställd version 2" in plan_page.text
    assert "Fastställd version 2" not in plan_page.text.replace("fastställd version 2", "")
    assert "Ändrad:" in plan_page.text and "mål" in plan_page.text  # the list of changes


def _pdf_pages_text(data: bytes) -> list[str]:
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.pdf"
        path.write_bytes(data)
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def test_the_pdf_offers_the_approved_version_or_the_draft_each_labelled_on_every_page(client, db, plan):
    sign_in(client, plan.coordinator)
    page = client.get(plan.url("/approve"))
    assert client.post(plan.url("/approve"), data={"csrf_token": csrf_from(page.text)}).status_code == 302
    assert _post(client, plan.item_url("housing"), _edit_data(plan, "housing", goal="Utkastmål")).status_code == 302
    links = client.get(plan.url()).text
    assert "PDF av fastställd version 1" in links and "PDF av aktuellt utkast" in links
    draft = client.get(plan.url(".pdf"))
    approved = client.get(plan.url(".pdf"), query_string={"version": "1"})
    assert draft.status_code == approved.status_code == 200
    draft_pages, approved_pages = _pdf_pages_text(draft.data), _pdf_pages_text(approved.data)
    assert draft_pages and approved_pages
    assert all("Utkast – ändrat sedan fastställd version 1" in p for p in draft_pages)
    assert all("Fastställd version 1" in p and "Utkast" not in p for p in approved_pages)
    assert "Utkastmål" in "".join(draft_pages) and "Utkastmål" not in "".join(approved_pages)
    assert client.get(plan.url(".pdf"), query_string={"version": "7"}).status_code == 404


def test_a_partner_cannot_export_an_approved_version(client, db, plan):
    sign_in(client, plan.coordinator)
    page = client.get(plan.url("/approve"))
    client.post(plan.url("/approve"), data={"csrf_token": csrf_from(page.text)})
    other = client.application.test_client()
    sign_in(other, plan.partner(plan.housing))
    assert other.get(plan.url(".pdf"), query_string={"version": "1"}).status_code == 403


def test_participant_agreement_in_the_future_is_refused(client, db, plan):
    sign_in(client, plan.coordinator)
    tomorrow = (today_local() + timedelta(days=1)).isoformat()
    resp = _post(client, plan.url("/approve"), {"participant_agreed_on": tomorrow})
    assert resp.status_code == 400
    assert "kan inte ligga i framtiden" in resp.text
    assert not db.scalars(select(PlanVersion).where(PlanVersion.case_id == plan.case.id)).all()


# ------------------------------------------------------------------ the PDF


def test_plan_pdf_is_an_audited_attachment_with_the_case_code(client, db, plan):
    sign_in(client, plan.coordinator)
    before = _head(db)
    resp = client.get(plan.url(".pdf"))
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")
    assert resp.headers["Content-Disposition"] == f'attachment; filename="plan-{plan.code}.pdf"'
    text = _pdf_text(resp)
    assert plan.code in text and all(goal in text for goal in plan.goals.values())
    assert plan.last_name in text, "the coordinator may read the identity"
    [event] = _events(db, "plan.export", before)
    assert event.permission == "case:export" and set(event.field_sets.split(",")) == {"person.identity", "plan.items"}


def test_plan_pdf_asks_for_the_password_again_when_the_login_is_not_fresh(client, db, plan):
    sign_in(client, plan.coordinator)
    before = _head(db)
    with client.session_transaction() as session:
        session["fs_paa"] = time.time() - 3600
        session.pop("fs_gexp", None)
    resp = client.get(plan.url(".pdf"))
    assert resp.status_code == 302 and "/verify" in resp.headers["Location"]
    assert not _events(db, "plan.export", before)


def test_partners_pdf_omits_what_the_partner_cannot_see(client, db, plan):
    sign_in(client, plan.partner(plan.housing))
    resp = client.get(plan.url(".pdf"))
    assert resp.status_code == 200
    text = _pdf_text(resp)
    assert plan.code in text and plan.goals["housing"] in text
    assert plan.goals["protection"] not in text and plan.goals["support"] not in text
    assert plan.last_name not in text


def test_plan_pdf_of_thirty_items_renders(app, client, db, plan):
    """All 30 items reach the PDF (its time is measured by `python -m bench cases`, not asserted here)."""
    from app.cases import plan as service

    with app.test_request_context():
        for n in range(27):
            service.create_item(plan.case, plan.coordinator, part="support", area="other",
                                goal=f"Mål nummer {n} med en rimligt lång beskrivning av vad som ska uppnås",
                                responsible_agency=plan.social, start_on=TODAY, due_on=TODAY + timedelta(days=n))
    sign_in(client, plan.coordinator)
    resp = client.get(plan.url(".pdf"))
    assert resp.status_code == 200
    assert "Mål nummer 26" in _pdf_text(resp)


# ------------------------------------------------------------------ due work for the start pages


def test_items_due_for_the_coordinator_and_for_an_agency(app, db, factory, plan):
    from app.cases import plan as service

    items = plan.items
    items["protection"].due_on = TODAY - timedelta(days=3)             # overdue: listed
    items["housing"].due_on = TODAY + timedelta(days=10)               # due soon: listed
    items["support"].due_on = TODAY + timedelta(days=60)               # later: not listed
    done = factory.case(plan.coordinator, team=[plan.housing], items=[
        dict(goal="Klar", responsible_agency=plan.housing, due_on=TODAY, status=PlanItemStatus.DONE)])
    closed = factory.case(plan.coordinator, phase="closed", team=[plan.housing],
                          items=[dict(goal="Stängt", responsible_agency=plan.housing, due_on=TODAY)])
    db.flush()
    with app.app_context():
        mine = service.coordinator_items_due(plan.coordinator, TODAY)
        housing = service.agency_items_due(plan.housing.id, TODAY)
        police_far = service.agency_items_due(plan.police.id, TODAY, days=0)
    assert [i.id for i in mine] == [items["protection"].id, items["housing"].id]
    assert [i.id for i in housing] == [items["housing"].id]
    assert [i.id for i in police_far] == [items["protection"].id]
    assert items["protection"].is_overdue(TODAY) and not items["housing"].is_overdue(TODAY)
    assert done.phase == CasePhase.ACTIVE and closed.phase == CasePhase.CLOSED
