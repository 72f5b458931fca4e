"""Retention: closed cases past LOTS_RETENTION_DAYS are listed, then erased with --yes (crypto-shredded and deleted)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases import retention
from app.cases.models import (
    STOCKHOLM,
    Case,
    CaseMeeting,
    CaseNote,
    CasePhase,
    CaseTeamMember,
    CaseTransition,
    Consent,
    EmergencyAccess,
    Participant,
    PlanFollowUp,
    PlanItem,
    PlanVersion,
    ThreatAssessment,
    ThreatLevel,
)
from app.security.crypto.errors import KeyDestroyedError
from app.security.crypto.models import DataKey

DAYS = 30

CASE_TABLES = (CaseTeamMember, CaseTransition, Consent, ThreatAssessment, CaseMeeting, PlanItem, PlanVersion,
               CaseNote, EmergencyAccess)


@pytest.fixture()
def ctx(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOTS_RETENTION_DAYS", DAYS)
    with app.app_context():
        yield


def closed_case(factory, db, closed_at: datetime, **kwargs) -> Case:
    """A closed case with a row in every table that hangs off a case."""
    agency = factory.agency(kind="police")
    case = factory.case(phase="closed", team=[agency], consents=[(agency, ["identity"], None, None)],
                        items=[dict(part="support", area="housing", responsible_agency=agency, goal="Fiktivt mål")],
                        **kwargs)
    key = case.participant.data_key
    case.closed_at = closed_at
    item = case.plan_items[0]
    meeting = CaseMeeting(data_key=key, case=case, held_on=date(2026, 2, 1), minutes="Fiktivt protokoll")
    item.meeting_id = meeting.id
    assessment = ThreatAssessment(data_key=key, case=case, assessed_on=date(2026, 2, 1), agency_id=agency.id,
                                  next_review_on=date(2026, 5, 1))
    assessment.level = ThreatLevel.HIGH
    assessment.narrative = "Fiktiv hotbild"
    db.add_all([
        meeting, assessment,
        PlanFollowUp(data_key=key, item=item, text="Fiktiv uppföljning"),
        PlanVersion(data_key=key, case=case, number=1, snapshot="[]", changes="Första versionen"),
        CaseNote(data_key=key, case=case, text="Fiktiv anteckning"),
        CaseTransition(case=case, from_phase=CasePhase.ACTIVE, to_phase=CasePhase.CLOSED, at=closed_at),
        EmergencyAccess(data_key=key, case=case, user_id=case.coordinator_id, reason="Fiktivt skäl",
                        expires_at=closed_at),
    ])
    db.flush()
    return case


def local(year, month, day, hour, minute) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM).astimezone(timezone.utc)


def rows_of(db, case_id, item_ids) -> int:
    count = sum(db.scalar(select(func.count()).select_from(model).where(model.case_id == case_id))
                for model in CASE_TABLES)
    count += db.scalar(select(func.count()).select_from(PlanFollowUp).where(PlanFollowUp.item_id.in_(item_ids)))
    return count + db.scalar(select(func.count()).select_from(Case).where(Case.id == case_id))


def run(app, *args):
    return app.test_cli_runner().invoke(args=["retention", "run", *args])


def test_candidates_are_closed_cases_whose_stockholm_closing_date_is_a_full_period_back(ctx, factory, db):
    today = date(2026, 6, 15)  # boundary: closed on 2026-05-16 (today - 30 days) or earlier
    last_day = closed_case(factory, db, local(2026, 5, 16, 23, 30))  # 21:30 UTC
    next_day = closed_case(factory, db, local(2026, 5, 17, 0, 10))  # 22:10 UTC on the 16th, but the 17th locally
    older = closed_case(factory, db, local(2025, 1, 2, 12, 0))
    open_case = factory.case(phase="active")
    open_case.closed_at = local(2024, 1, 1, 12, 0)  # stale value on an open (reopened) case: never erased
    db.flush()

    codes = [c.code for c in retention.retention_candidates(today)]
    assert codes == [older.code, last_day.code]
    assert next_day.code in [c.code for c in retention.retention_candidates(today + timedelta(days=1))]
    assert retention.retention_candidates(today, days=400) == [older]
    assert open_case not in retention.retention_candidates(date(2030, 1, 1))


def test_without_yes_the_cases_are_listed_by_code_and_date_and_nothing_changes(app, ctx, factory, db):
    case = closed_case(factory, db, datetime.now(timezone.utc) - timedelta(days=DAYS + 5))
    recent = closed_case(factory, db, datetime.now(timezone.utc) - timedelta(days=DAYS - 5))
    first_name, code, case_id = case.participant.first_name, case.code, case.id
    db.commit()
    events_before = db.scalar(select(func.count()).select_from(AuditEvent))

    result = run(app)

    assert result.exit_code == 0, result.output
    assert code in result.output and recent.code not in result.output
    assert retention.closed_on(db.get(Case, case_id)).isoformat() in result.output
    assert first_name not in result.output
    assert "--yes" in result.output
    assert db.get(Case, case_id) is not None
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == events_before


def test_erasing_deletes_every_row_shreds_the_key_and_audits_the_code_only(app, ctx, factory, db):
    case = closed_case(factory, db, datetime.now(timezone.utc) - timedelta(days=DAYS + 1))
    keep = closed_case(factory, db, datetime.now(timezone.utc) - timedelta(days=DAYS - 1))
    person = case.participant
    secrets = [person.first_name, person.last_name, person.personal_number, person.personal_number[2:],
               person.phone, person.email, person.street_address, str(person.id), person.id.hex]
    code, case_id, participant_id, key_id = case.code, case.id, person.id, person.data_key_id
    item_ids = [i.id for i in case.plan_items]
    closed = retention.closed_on(case)
    assert rows_of(db, case_id, item_ids) == 12  # the case and a row in each table below it
    db.commit()

    result = run(app, "--yes")

    assert result.exit_code == 0, result.output
    assert f"erased {code}" in result.output
    db.expire_all()
    assert rows_of(db, case_id, item_ids) == 0
    assert db.get(Participant, participant_id) is None
    key = db.get(DataKey, key_id)
    assert key.destroyed_at is not None and key.wrapped_key is None
    with pytest.raises(KeyDestroyedError):  # a ciphertext kept in a backup can never be decrypted
        key.aead()
    assert db.get(Case, keep.id).participant.first_name  # the case still within retention is untouched

    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.erased")).one()
    assert (event.object_type, event.object_id, event.actor_user_id) == ("case", code, None)
    assert event.detail == f'{{"closed_on":"{closed.isoformat()}"}}'
    every_audit_row = " ".join(
        " ".join(str(v) for v in row) for row in db.execute(select(AuditEvent.__table__)).all()
    ).lower()
    for secret in secrets:
        assert secret.lower() not in every_audit_row

    again = run(app, "--yes")
    assert again.exit_code == 0 and "No closed case" in again.output
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.erased")) == 1


def test_one_failing_case_is_reported_and_rolled_back_while_the_others_are_erased(app, ctx, factory, db, monkeypatch):
    failing = closed_case(factory, db, datetime.now(timezone.utc) - timedelta(days=DAYS + 10))
    other = closed_case(factory, db, datetime.now(timezone.utc) - timedelta(days=DAYS + 2))
    failing_id, failing_key, other_id = failing.id, failing.participant.data_key_id, other.id
    failing_code, other_code = failing.code, other.code
    db.commit()
    real = retention.destroy_data_key

    def destroy(data_key):
        if data_key.id == failing_key:
            raise RuntimeError("disk full")
        real(data_key)

    monkeypatch.setattr(retention, "destroy_data_key", destroy)
    result = run(app, "--yes")

    assert result.exit_code == 1
    assert f"FAILED {failing_code}: RuntimeError" in result.output
    assert "Erased 1 of 2" in result.output
    db.expire_all()
    assert db.get(Case, other_id) is None
    kept = db.get(Case, failing_id)
    assert kept is not None and kept.participant.first_name and kept.notes
    assert db.get(DataKey, failing_key).destroyed_at is None
    erased = db.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "case.erased")).all()
    assert erased == [other_code]


def test_erase_case_refuses_an_open_case(ctx, factory, db):
    case = factory.case(phase="follow_up")
    with pytest.raises(ValueError):
        retention.erase_case(case)
    assert db.get(Case, case.id) is not None
