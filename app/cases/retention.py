"""Retention (gallring): closed cases are erased once LOTS_RETENTION_DAYS have passed since they closed.

A case closed on day D (Europe/Stockholm) is kept for the whole retention
period and erased from day D + LOTS_RETENTION_DAYS on. Erasing a case:

1. writes the audit event ``case.erased`` (case code and closing date only);
2. crypto-shreds every data key its records were encrypted with (the
   participant's own key, and any other a record of the case was given), so
   a ciphertext kept anywhere (a backup, a dump) can never be read again;
3. deletes the case row; the database's ON DELETE CASCADE removes the team,
   transitions, consents, assessments, meetings, plan items and their
   follow-ups, plan versions, notes, emergency accesses and incident links
   (the incident reports themselves stay: they belong to the weekly overview);
4. deletes the participant row. Nothing else refers to it, so no tombstone is
   kept: the destroyed data key row is the only trace (counted by `keys status`).

The caller commits: the CLI erases each case in a transaction of its own.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import delete, select, union

from app.cases.models import (
    STOCKHOLM,
    Case,
    CaseMeeting,
    CaseNote,
    CasePhase,
    Consent,
    EmergencyAccess,
    Participant,
    PlanFollowUp,
    PlanItem,
    PlanVersion,
    ThreatAssessment,
)
from app.cases.service import as_local_date
from app.db import db
from app.security import audit
from app.security.crypto.models import DataKey
from app.security.crypto.service import destroy_data_key

#: Records of a case that carry a data key of their own (besides the case and the participant).
_CASE_RECORDS = (Consent, ThreatAssessment, CaseMeeting, PlanItem, PlanVersion, CaseNote, EmergencyAccess)


def start_of_day_utc(day: date) -> datetime:
    """Midnight at the start of ``day`` in Europe/Stockholm, as a UTC time (what timestamps are stored in)."""
    return datetime.combine(day, time.min, tzinfo=STOCKHOLM).astimezone(timezone.utc)


def retention_days() -> int:
    return int(current_app.config["LOTS_RETENTION_DAYS"])


def retention_candidates(today: date, days: int | None = None) -> list[Case]:
    """Closed cases whose closing date (Stockholm) is ``days`` (default: LOTS_RETENTION_DAYS) or more ago."""
    days = retention_days() if days is None else days
    # Closed on or before today - days  <=>  closed before the start of the day after it.
    boundary = start_of_day_utc(today - timedelta(days=days) + timedelta(days=1))
    stmt = (
        select(Case)
        .where(Case.phase == CasePhase.CLOSED, Case.closed_at.is_not(None), Case.closed_at < boundary)
        .order_by(Case.closed_at, Case.code)
    )
    return list(db.session.scalars(stmt))


def closed_on(case: Case) -> date:
    """The case's closing date in Europe/Stockholm."""
    return as_local_date(case.closed_at if case.closed_at.tzinfo else case.closed_at.replace(tzinfo=timezone.utc))


def _data_keys_of(case: Case) -> list[DataKey]:
    """Every live data key a record of the case (or its participant) is encrypted with."""
    ids = [select(Participant.data_key_id).where(Participant.id == case.participant_id),
           select(Case.data_key_id).where(Case.id == case.id),
           select(PlanFollowUp.data_key_id).join(PlanItem, PlanFollowUp.item_id == PlanItem.id)
           .where(PlanItem.case_id == case.id)]
    ids += [select(model.data_key_id).where(model.case_id == case.id) for model in _CASE_RECORDS]
    stmt = select(DataKey).where(DataKey.id.in_(union(*ids)), DataKey.destroyed_at.is_(None))
    return list(db.session.scalars(stmt))


def erase_case(case: Case) -> None:
    """Erase a closed case for good: audit event, crypto-shredding, then delete its rows and its participant."""
    if case.phase != CasePhase.CLOSED or case.closed_at is None:
        raise ValueError("only a closed case can be erased")
    audit.record("case.erased", obj=case, actor=None, detail={"closed_on": closed_on(case).isoformat()})
    for data_key in _data_keys_of(case):
        destroy_data_key(data_key)
    case_id, participant_id = case.id, case.participant_id
    # The documents' stored chunks are unreadable now (their data key is the participant's); delete them too.
    # Their rows go with the case (ON DELETE CASCADE).
    from app.documents.service import blob_ids_of_case
    from app.documents.storage import blob_store

    blob_store().delete_many(blob_ids_of_case(case_id))
    db.session.execute(delete(Case).where(Case.id == case_id))
    db.session.execute(delete(Participant).where(Participant.id == participant_id))
    db.session.flush()
