"""Participants and cases: register a referral, find by personal identity number, phases, team, erase.

Every change writes one audit event naming the case code (never a name or
number). Errors the user must correct are raised as CaseError with a
translated message; the caller shows it and changes nothing. The read-only list,
case-page and history queries are in app.cases.queries.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.admin.models import Agency
from app.cases.models import (
    PHASE_TRANSITIONS,
    Case,
    CaseOutcome,
    CasePhase,
    CaseTeamMember,
    CaseTransition,
    Participant,
    ReferralSource,
)
from app.db import db, utcnow
from app.security import audit
from app.security.crypto.service import destroy_data_key


class CaseError(ValueError):
    """A request the user must correct; the message is user-facing and contains no personal data."""


def clean_text(value: str | None, max_len: int, missing=None) -> str | None:
    """Stripped free text (None if empty); CaseError if too long, or if empty when ``missing`` (the message)."""
    value = (value or "").strip()
    if missing is not None and not value:
        raise CaseError(missing)
    if len(value) > max_len:
        raise CaseError(_l("Högst %(max)d tecken.", max=max_len))
    return value or None


def require_open(case: Case) -> None:
    """A closed case's plan, team and consents are read-only (notes may still be written); CaseError otherwise."""
    if case.phase == CasePhase.CLOSED:
        raise CaseError(_l("Ärendet är avslutat: planen, teamet och samtyckena kan inte ändras. Ett avslutat ärende "
                           "återöppnas genom en ny aktualisering."))


def active_agency(agency: Agency | int | None) -> Agency:
    """The agency (given as such or by id) if it exists and is active; CaseError otherwise."""
    if agency is not None and not isinstance(agency, Agency):
        agency = db.session.get(Agency, agency)
    if agency is None or not agency.active:
        raise CaseError(_l("Okänd eller inaktiv myndighet."))
    from app.cases.queries import CASE_AGENCY_KINDS

    if agency.kind not in CASE_AGENCY_KINDS:
        raise CaseError(_l("%(agency)s tar inte del i ärenden och kan inte väljas.", agency=agency.name))
    return agency


# ------------------------------------------------------------------ participants


def create_participant(**fields) -> Participant:
    """Register a participant; every personal field is encrypted before it reaches the database."""
    participant = Participant(**fields)
    db.session.add(participant)
    db.session.flush()
    return participant


def find_participants_by_personal_number(number: str) -> list[Participant]:
    """Participants whose personal identity number equals ``number`` (any accepted form), via the blind index."""
    stmt = select(Participant).where(Participant.personal_number.matches(number), Participant.erased_at.is_(None))
    return list(db.session.scalars(stmt))


def cases_by_personal_number(number: str) -> list[Case]:
    """The cases of the (not erased) participants with this personal identity number, by code."""
    return sorted((p.case for p in find_participants_by_personal_number(number) if p.case is not None),
                  key=lambda case: case.code)


def erase_participant(participant: Participant) -> None:
    """Crypto-shred a participant: destroy their data key and blind-index values; the row stays as a tombstone."""
    if participant.erased_at is not None:
        return
    audit.record("participant.erase", object_type="participant", object_id=str(participant.id))
    destroy_data_key(participant.data_key)
    for field in participant.__encrypted_fields__.values():
        if field.bidx_attr:
            setattr(participant, field.bidx_attr, None)
    participant.erased_at = utcnow()
    participant.forget_plaintext()
    db.session.flush()


# ------------------------------------------------------------------ cases


def next_case_code(year: int) -> str:
    """The next free pseudonymous code for the year: PREFIX-YYYY-NNN (at least three digits)."""
    prefix = f"{current_app.config.get('LOTS_CASE_CODE_PREFIX', 'AV')}-{year}-"
    codes = db.session.scalars(select(Case.code).where(Case.code.like(prefix + "%")))
    highest = max((int(c[len(prefix):]) for c in codes if c[len(prefix):].isdigit()), default=0)
    return f"{prefix}{highest + 1:03d}"


def open_case(participant: Participant, coordinator, *, referral_source: ReferralSource, referred_on: date,
              referral_reason: str | None, actor=None) -> Case:
    """Open a case in the referral phase, with a fresh case code; the coordinator's agency joins the team."""
    actor = actor or coordinator
    for _attempt in range(5):
        code = next_case_code(referred_on.year)
        savepoint = db.session.begin_nested()
        try:
            case = Case(
                data_key=participant.data_key,
                code=code,
                participant=participant,
                coordinator_id=coordinator.id,
                phase=CasePhase.REFERRAL,
                phase_changed_at=utcnow(),
                referral_source=ReferralSource(referral_source),
                referred_on=referred_on,
            )
            case.referral_reason = referral_reason or None
            db.session.add(case)
            db.session.flush()
            savepoint.commit()
            break
        except IntegrityError:
            savepoint.rollback()
    else:  # pragma: no cover - five concurrent intakes in the same instant
        raise CaseError(_l("Kunde inte skapa ett ärendenummer. Försök igen."))
    db.session.add(CaseTransition(case=case, from_phase=None, to_phase=CasePhase.REFERRAL, by_id=actor.id))
    if coordinator.agency_id:
        db.session.add(CaseTeamMember(case=case, agency_id=coordinator.agency_id, officer_id=coordinator.id,
                                      added_by_id=actor.id))
    db.session.flush()
    audit.record("case.created", obj=case, field_sets=["person.identity", "person.contact",
                                                      "person.protected_address", "person.protection_level",
                                                      "case.referral"], actor=actor)
    return case


def register_referral(coordinator, *, participant_fields: dict, referral_source: ReferralSource, referred_on: date,
                      referral_reason: str | None) -> Case:
    """A new participant and their case. Refuses (CaseError) if the personal number is already registered:
    the caller must offer to reopen instead of duplicating."""
    number = participant_fields.get("personal_number")
    if number and find_participants_by_personal_number(number):
        raise CaseError(_l("Personen finns redan registrerad. Öppna eller återöppna det befintliga ärendet."))
    participant = create_participant(**participant_fields)
    return open_case(participant, coordinator, referral_source=referral_source, referred_on=referred_on,
                     referral_reason=referral_reason)


def reopen_case(case: Case, coordinator, proof) -> Case:
    """Reopen a closed case into assessment with a reopen proof from an intake (app/cases/reopening.py); the
    reopening coordinator takes it over, and the previous coordinator is told (their start page)."""
    from app.cases.reopening import CaseReopening, spend_proof
    from app.security.permissions import Permission

    if case.phase != CasePhase.CLOSED:
        raise CaseError(_l("Ärendet är redan öppet."))
    if case.participant.erased_at is not None:
        raise CaseError(_l("Ärendet är gallrat och kan inte återöppnas."))
    if proof is None or proof.case_id != case.id or proof.user_id != coordinator.id or not spend_proof(proof):
        raise CaseError(_l("Återöppningen har redan gjorts eller har gått ut. Registrera aktualiseringen igen."))
    previous_coordinator = case.coordinator_id
    previous = case.phase
    case.phase = CasePhase.ASSESSMENT
    case.phase_changed_at = utcnow()
    case.coordinator_id = coordinator.id
    case.outcome = None
    case.closed_at = None
    db.session.add(CaseTransition(case=case, from_phase=previous, to_phase=CasePhase.ASSESSMENT, by_id=coordinator.id))
    db.session.add(CaseReopening(case_id=case.id, previous_coordinator_id=previous_coordinator,
                                 reopened_by_id=coordinator.id))
    if coordinator.agency_id and coordinator.agency_id not in case.team_agency_ids:
        db.session.add(CaseTeamMember(case=case, agency_id=coordinator.agency_id, officer_id=coordinator.id,
                                      added_by_id=coordinator.id))
    db.session.flush()
    audit.record("case.reopened", obj=case, actor=coordinator, permission=Permission.CASE_REOPEN,
                 detail={"previous_coordinator": previous_coordinator,
                         "by_other": "1" if previous_coordinator != coordinator.id else "0"})
    return case


def change_phase(case: Case, to_phase: CasePhase, actor, *, outcome: CaseOutcome | None = None,
                 closure_reason: str | None = None) -> Case:
    """Move a case along PHASE_TRANSITIONS; closing needs an outcome and a reason. History is kept."""
    to_phase = CasePhase(to_phase)
    if to_phase == case.phase:
        raise CaseError(_l("Ärendet är redan i den fasen."))
    if to_phase not in PHASE_TRANSITIONS[case.phase]:
        raise CaseError(_l("Den fasändringen är inte tillåten."))
    if to_phase == CasePhase.CLOSED:
        if outcome is None:
            raise CaseError(_l("Ange utfall när ärendet avslutas."))
        if not (closure_reason or "").strip():
            raise CaseError(_l("Ange skäl när ärendet avslutas."))
    if case.phase == CasePhase.CLOSED:
        # Reopening needs proof from an intake (the personal identity number typed again): see reopen_case.
        raise CaseError(_l("Ett avslutat ärende återöppnas genom en ny aktualisering: registrera den med "
                           "personens personnummer."))
    previous = case.phase
    case.phase = to_phase
    case.phase_changed_at = utcnow()
    ended = []
    if to_phase == CasePhase.CLOSED:
        case.outcome = CaseOutcome(outcome)
        case.closure_reason = closure_reason.strip()
        case.closed_at = utcnow()
        # Closing ends every emergency access still running (it stays in the record for the auditor).
        for access in case.emergency_accesses:
            if access.is_active(case.closed_at):
                access.expires_at = case.closed_at
                ended.append(str(access.id))
    db.session.add(CaseTransition(case=case, from_phase=previous, to_phase=to_phase, by_id=actor.id))
    db.session.flush()
    detail = {"from": previous.value, "to": to_phase.value}
    if ended:
        detail["emergencies_ended"] = len(ended)
    audit.record("case.phase_changed", obj=case, actor=actor,
                 field_sets=["case.referral"] if to_phase == CasePhase.CLOSED else (), detail=detail)
    return case


def closing_warnings(case: Case) -> dict[str, int]:
    """What closing leaves behind, for the warning on the phase page: open plan items, current consents and
    running emergency accesses (these end when the case closes)."""
    from app.cases.models import OPEN_ITEM_STATUSES

    return {
        "open_items": sum(1 for item in case.plan_items if item.status in OPEN_ITEM_STATUSES),
        "consents": len(case.current_consents()),
        "emergencies": sum(1 for access in case.emergency_accesses if access.is_active()),
    }


def add_team_member(case: Case, agency: Agency, actor, officer=None) -> CaseTeamMember:
    """Add an agency (optionally a named officer of it) to the case team."""
    require_open(case)
    agency = active_agency(agency)
    if officer is not None and officer.agency_id != agency.id:
        raise CaseError(_l("Handläggaren tillhör inte den valda myndigheten."))
    officer_id = officer.id if officer else None
    for member in case.team:
        if member.removed_at is None and member.agency_id == agency.id and member.officer_id == officer_id:
            raise CaseError(_l("Myndigheten finns redan i teamet."))
    member = CaseTeamMember(case=case, agency_id=agency.id, officer_id=officer_id, added_by_id=actor.id)
    db.session.add(member)
    db.session.flush()
    audit.record("case.team_changed", obj=case, actor=actor, detail={"added_agency": agency.id})
    return member


def remove_team_member(case: Case, member: CaseTeamMember, actor) -> None:
    """Take a member off the team (kept as history). The coordinator's own agency cannot be removed."""
    require_open(case)
    if member.case_id != case.id or member.removed_at is not None:
        raise CaseError(_l("Teammedlemmen finns inte."))
    if member.officer_id == case.coordinator_id:
        raise CaseError(_l("Samordnaren kan inte tas bort från teamet."))
    member.removed_at = utcnow()
    member.removed_by_id = actor.id
    db.session.flush()
    audit.record("case.team_changed", obj=case, actor=actor, detail={"removed_agency": member.agency_id})


def as_local_date(value: datetime) -> date:
    from app.cases.models import STOCKHOLM

    return value.astimezone(STOCKHOLM).date()


# ------------------------------------------------------------------ the participant's details


def participant_changes(participant: Participant, values: dict[str, Any]) -> dict[str, Any]:
    """The attributes whose new value differs from the stored one (only these are checked and written)."""
    return {name: value for name, value in values.items() if getattr(participant, name) != value}


def update_participant(case: Case, changes: dict[str, Any], actor) -> set[str]:
    """Write the changed participant attributes (the caller has checked the write grants); returns the field sets."""
    from app.security.authz import gate

    participant = case.participant
    number = changes.get("personal_number")
    if number and any(p.id != participant.id for p in find_participants_by_personal_number(number)):
        raise CaseError(_l("Personnumret tillhör en annan registrerad person."))
    for name, value in changes.items():
        setattr(participant, name, value)
    sets = {gate().fieldset_of(participant, name) for name in changes} - {None}
    db.session.flush()
    audit.record("case.participant_updated", obj=case, actor=actor, field_sets=sets)
    return sets
