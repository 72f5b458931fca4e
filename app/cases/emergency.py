"""Emergency access (break the glass): start it, review it, list it for review.

A partner on the case team states a reason and gets, for a limited time, what
the policy lines with the ``emergency_access`` condition open (identity,
protection level, threat picture, the protection part of the plan). The
access is an EncryptedRecord with the participant's data key, so erasing the
participant shreds the stated reason too. The coordinator and the auditor see
it on their start pages (app.cases.work); the auditor closes it as reviewed.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case as sql_case, select
from sqlalchemy.orm import joinedload

from app.admin.models import Agency
from app.cases.models import Case, EmergencyAccess
from app.cases.service import CaseError
from app.db import db, utcnow
from app.security import audit
from app.security.authz import gate
from app.security.permissions import Permission

MIN_REASON = 10
MAX_REASON = 2000
MAX_REVIEW_NOTE = 2000


def emergency_minutes() -> int:
    """How long one emergency access lasts (LOTS_EMERGENCY_MINUTES)."""
    return int(current_app.config.get("LOTS_EMERGENCY_MINUTES", 60))


def repeat_window() -> timedelta:
    """A new access by the same user to the same case within this time of the last is a repeated use
    (LOTS_EMERGENCY_REPEAT_HOURS, default 24): it needs a new reason, and the auditor sees it flagged."""
    return timedelta(hours=int(current_app.config.get("LOTS_EMERGENCY_REPEAT_HOURS", 24)))


def previous_use(case: Case, user, now=None) -> EmergencyAccess | None:
    """The user's latest emergency access to this case started within the repeat window, if any."""
    since = (now or utcnow()) - repeat_window()
    return db.session.scalar(
        select(EmergencyAccess)
        .where(EmergencyAccess.case_id == case.id, EmergencyAccess.user_id == user.id,
               EmergencyAccess.started_at >= since)
        .order_by(EmergencyAccess.started_at.desc()).limit(1))


def repeated_clause(access=EmergencyAccess):
    """SQL: this access followed another by the same user to the same case within the repeat window."""
    from sqlalchemy import exists
    from sqlalchemy.orm import aliased

    earlier = aliased(EmergencyAccess)
    window = repeat_window()
    return exists().where(earlier.case_id == access.case_id, earlier.user_id == access.user_id,
                          earlier.started_at < access.started_at,
                          earlier.started_at >= access.started_at - window)


def start_emergency(case: Case, user, reason: str) -> EmergencyAccess:
    """Open time-limited emergency access to a case for a team member; an active one is returned as it is.

    A repeated use (another access by this user to this case within the repeat window) needs a reason of its
    own, not the previous one again; its audit event says it is a repeat.
    """
    if not gate().decide(user, Permission.CASE_EMERGENCY, case):
        raise CaseError(_l("Du kan inte begära nödåtkomst till det här ärendet."))
    if not case.is_open:
        raise CaseError(_l("Ärendet är avslutat: nödåtkomst kan inte öppnas. Kontakta socialtjänsten."))
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise CaseError(_l("Beskriv skälet med minst %(count)s tecken.", count=MIN_REASON))
    if len(reason) > MAX_REASON:
        raise CaseError(_l("Skälet får vara högst %(count)s tecken.", count=MAX_REASON))
    active = case.active_emergency(user.id)
    if active is not None:
        return active
    now = utcnow()
    previous = previous_use(case, user, now)
    if previous is not None and " ".join((previous.reason or "").split()).casefold() == " ".join(
            reason.split()).casefold():
        raise CaseError(_l("Du hade nödåtkomst till ärendet nyss. En ny nödåtkomst kräver ett nytt skäl: beskriv "
                           "varför uppgifterna behövs igen."))
    minutes = emergency_minutes()
    access = EmergencyAccess(data_key=case.participant.data_key, case=case, user_id=user.id,
                             agency_id=user.agency_id, started_at=now, expires_at=now + timedelta(minutes=minutes))
    access.reason = reason
    db.session.add(access)
    db.session.flush()
    detail = {"access": access.id, "minutes": minutes}
    if previous is not None:
        detail["repeat_of"] = previous.id
    audit.record("emergency.started", obj=case, field_sets=["emergency.reason"], actor=user,
                 permission=Permission.CASE_EMERGENCY, detail=detail)
    return access


def review_emergency(access: EmergencyAccess, auditor, note: str) -> EmergencyAccess:
    """Close an emergency access as reviewed, with the auditor's note."""
    if access.reviewed_at is not None:
        raise CaseError(_l("Nödåtkomsten är redan granskad."))
    note = (note or "").strip()
    if not note:
        raise CaseError(_l("Skriv en kommentar till granskningen."))
    if len(note) > MAX_REVIEW_NOTE:
        raise CaseError(_l("Kommentaren får vara högst %(count)s tecken.", count=MAX_REVIEW_NOTE))
    gate().check_write(auditor, access, ["review_note"])
    access.reviewed_at = utcnow()
    access.reviewed_by_id = auditor.id
    access.review_note = note
    db.session.flush()
    audit.record("emergency.reviewed", obj=access.case, field_sets=["emergency.review"], actor=auditor,
                 permission=Permission.EMERGENCY_REVIEW, detail={"access": access.id})
    return access


def review_queue() -> Select:
    """Every emergency access for the auditor: unreviewed first, then reviewed; newest first within each."""
    return (
        select(EmergencyAccess)
        .options(joinedload(EmergencyAccess.case))
        .order_by(sql_case((EmergencyAccess.reviewed_at.is_(None), 0), else_=1), EmergencyAccess.started_at.desc())
    )


def review_rows(accesses) -> list[dict]:
    """Plain rows for the review list: case code, user id, agency, times, repeated use. No reason, no names."""
    ids = {a.agency_id for a in accesses if a.agency_id is not None}
    access_ids = [a.id for a in accesses]
    repeated = set(db.session.scalars(select(EmergencyAccess.id).where(EmergencyAccess.id.in_(access_ids),
                                                                       repeated_clause()))) if access_ids else set()
    names = dict(db.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(ids))).all()) if ids else {}
    now = utcnow()
    return [
        {
            "id": a.id,
            "code": a.case.code,
            "user_id": a.user_id,
            "agency": names.get(a.agency_id, ""),
            "started_at": a.started_at,
            "expires_at": a.expires_at,
            "active": a.is_active(now),
            "reviewed_at": a.reviewed_at,
            "repeated": a.id in repeated,
        }
        for a in accesses
    ]
