"""Participants and cases: register a referral, find by personal identity number, phases, team, erase.

Every change writes one audit event naming the case code (never a name or
number). Errors the user must correct are raised as CaseError with a
translated message; the caller shows it and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.admin.models import Agency
from app.cases.models import (
    OPEN_ITEM_STATUSES,
    PHASE_TRANSITIONS,
    Case,
    CaseNote,
    CaseOutcome,
    CasePhase,
    CaseTeamMember,
    CaseTransition,
    Consent,
    EmergencyAccess,
    Participant,
    PlanItem,
    ReferralSource,
    ThreatAssessment,
    today_local,
)
from app.db import db, utcnow
from app.security import audit
from app.security.crypto.service import destroy_data_key
from app.security.models import Role, User


class CaseError(ValueError):
    """A request the user must correct; the message is user-facing and contains no personal data."""


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


def cases_of(participant: Participant) -> list[Case]:
    return list(db.session.scalars(select(Case).where(Case.participant_id == participant.id).order_by(Case.code)))


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


def reopen_case(case: Case, coordinator) -> Case:
    """Reopen a closed case into assessment; the reopening coordinator takes it over."""
    if case.phase != CasePhase.CLOSED:
        raise CaseError(_l("Ärendet är redan öppet."))
    if case.participant.erased_at is not None:
        raise CaseError(_l("Ärendet är gallrat och kan inte återöppnas."))
    previous = case.phase
    case.phase = CasePhase.ASSESSMENT
    case.phase_changed_at = utcnow()
    case.coordinator_id = coordinator.id
    case.outcome = None
    case.closed_at = None
    db.session.add(CaseTransition(case=case, from_phase=previous, to_phase=CasePhase.ASSESSMENT, by_id=coordinator.id))
    if coordinator.agency_id and coordinator.agency_id not in case.team_agency_ids:
        db.session.add(CaseTeamMember(case=case, agency_id=coordinator.agency_id, officer_id=coordinator.id,
                                      added_by_id=coordinator.id))
    db.session.flush()
    audit.record("case.reopened", obj=case, actor=coordinator)
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
        return reopen_case(case, actor)
    previous = case.phase
    case.phase = to_phase
    case.phase_changed_at = utcnow()
    if to_phase == CasePhase.CLOSED:
        case.outcome = CaseOutcome(outcome)
        case.closure_reason = closure_reason.strip()
        case.closed_at = utcnow()
    db.session.add(CaseTransition(case=case, from_phase=previous, to_phase=to_phase, by_id=actor.id))
    db.session.flush()
    audit.record("case.phase_changed", obj=case, actor=actor,
                 field_sets=["case.referral"] if to_phase == CasePhase.CLOSED else (),
                 detail={"from": previous.value, "to": to_phase.value})
    return case


def add_team_member(case: Case, agency: Agency, actor, officer=None) -> CaseTeamMember:
    """Add an agency (optionally a named officer of it) to the case team."""
    if agency is None or not agency.active:
        raise CaseError(_l("Okänd eller inaktiv myndighet."))
    if officer is not None and officer.agency_id != agency.id:
        raise CaseError(_l("Handläggaren tillhör inte den valda myndigheten."))
    for member in case.team:
        if member.removed_at is None and member.agency_id == agency.id and member.officer_id == (officer.id if officer else None):
            raise CaseError(_l("Myndigheten finns redan i teamet."))
    member = CaseTeamMember(case=case, agency_id=agency.id, officer_id=officer.id if officer else None,
                            added_by_id=actor.id)
    db.session.add(member)
    db.session.flush()
    audit.record("case.team_changed", obj=case, actor=actor, detail={"added_agency": agency.id})
    return member


def remove_team_member(case: Case, member: CaseTeamMember, actor) -> None:
    """Take a member off the team (kept as history). The coordinator's own agency cannot be removed."""
    if member.case_id != case.id or member.removed_at is not None:
        raise CaseError(_l("Teammedlemmen finns inte."))
    if member.officer_id == case.coordinator_id:
        raise CaseError(_l("Samordnaren kan inte tas bort från teamet."))
    member.removed_at = utcnow()
    member.removed_by_id = actor.id
    db.session.flush()
    audit.record("case.team_changed", obj=case, actor=actor, detail={"removed_agency": member.agency_id})


def count_by_phase(stmt) -> dict[CasePhase, int]:
    """Counts per phase of the cases a (visibility-filtered) SELECT returns."""
    sub = stmt.subquery()
    rows = db.session.execute(select(sub.c.phase, func.count()).group_by(sub.c.phase))
    return {CasePhase(phase): count for phase, count in rows}


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


# ------------------------------------------------------------------ lists, the case page, history


@dataclass
class CaseFilters:
    """What the case list is narrowed by (all optional)."""

    code: str | None = None
    phase: CasePhase | None = None
    coordinator_id: int | None = None
    agency_id: int | None = None
    #: "overdue" (plan items past their due date) or "reassessment" (threat reassessment due).
    due: str | None = None


CASE_SORTS = {"code": Case.code, "phase": Case.phase, "referred": Case.referred_on, "coordinator": User.full_name}


def _counted_items(user):
    """Plan items a list may count for this user: all in the cases they coordinate, else their agency's own."""
    return or_(Case.coordinator_id == user.id, PlanItem.responsible_agency_id == user.agency_id)


def _overdue(on: date):
    return and_(PlanItem.status.in_(OPEN_ITEM_STATUSES), PlanItem.due_on < on, Case.phase != CasePhase.CLOSED)


def reassessment_due_clause(on: date):
    """SQL: the latest threat assessment of an open case has its reassessment date today or earlier."""
    latest = (
        select(ThreatAssessment.next_review_on)
        .where(ThreatAssessment.case_id == Case.id)
        .order_by(ThreatAssessment.assessed_on.desc(), ThreatAssessment.created_at.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )
    return and_(Case.phase != CasePhase.CLOSED, latest <= on)


def search_cases(visible, user, filters: CaseFilters, sort: str, page: int, per_page: int):
    """Filter, sort and paginate a visibility-filtered SELECT of cases (see access.visible_cases_query).

    Due work is judged only on what the user may see: overdue plan items of their own agency (all items in
    the cases they coordinate), and reassessments only in the cases they coordinate.
    """
    today = today_local()
    stmt = visible.join(User, Case.coordinator_id == User.id)
    if filters.code:
        stmt = stmt.where(or_(Case.code == filters.code, Case.code.startswith(filters.code, autoescape=True)))
    if filters.phase:
        stmt = stmt.where(Case.phase == filters.phase)
    if filters.coordinator_id:
        stmt = stmt.where(Case.coordinator_id == filters.coordinator_id)
    if filters.agency_id:
        stmt = stmt.where(exists().where(CaseTeamMember.case_id == Case.id, CaseTeamMember.removed_at.is_(None),
                                         CaseTeamMember.agency_id == filters.agency_id))
    if filters.due == "overdue":
        stmt = stmt.where(exists().where(PlanItem.case_id == Case.id, _overdue(today), _counted_items(user)))
    elif filters.due == "reassessment":
        stmt = stmt.where(Case.coordinator_id == user.id, reassessment_due_clause(today))
    column = CASE_SORTS.get(sort.lstrip("-"), Case.referred_on)
    stmt = stmt.order_by(column.desc() if sort.startswith("-") else column, Case.code)
    stmt = stmt.options(lazyload(Case.participant), selectinload(Case.team), joinedload(Case.coordinator))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def overdue_counts(cases: list[Case], user) -> dict[Any, int]:
    """Overdue plan items per case, counted as in search_cases (only what the user may see)."""
    if not cases:
        return {}
    rows = db.session.execute(
        select(PlanItem.case_id, func.count())
        .join(Case, PlanItem.case_id == Case.id)
        .where(PlanItem.case_id.in_([c.id for c in cases]), _overdue(today_local()), _counted_items(user))
        .group_by(PlanItem.case_id)
    )
    return dict(rows.all())


def coordinator_choices() -> list[tuple[int, str]]:
    stmt = (select(User.id, User.full_name).join(User.roles).where(Role.name == "coordinator", User.active.is_(True))
            .order_by(User.full_name, User.id))
    return [(row.id, row.full_name) for row in db.session.execute(stmt)]


def officer_choices() -> list[tuple[int, str]]:
    """Active staff who can be named on a case team, as "Name (Agency)"."""
    from app.admin.models import Agency

    stmt = (select(User.id, User.full_name, Agency.name).join(Agency, User.agency_id == Agency.id)
            .where(User.active.is_(True), Agency.active.is_(True),
                   User.roles.any(Role.name.in_(("coordinator", "partner"))))
            .order_by(Agency.name, User.full_name, User.id))
    return [(user_id, f"{name} ({agency})") for user_id, name, agency in db.session.execute(stmt)]


def load_case_page(case: Case) -> Case:
    """Load everything the case page shows in a few queries (instead of one per relationship and row)."""
    stmt = (
        select(Case).where(Case.id == case.id).execution_options(populate_existing=True)
        .options(
            joinedload(Case.coordinator),
            selectinload(Case.team).options(joinedload(CaseTeamMember.agency), joinedload(CaseTeamMember.officer)),
            selectinload(Case.consents).joinedload(Consent.agency),
            selectinload(Case.assessments).joinedload(ThreatAssessment.agency),
            selectinload(Case.plan_items).joinedload(PlanItem.responsible_agency),
            selectinload(Case.emergency_accesses).joinedload(EmergencyAccess.user),
        )
    )
    case = db.session.scalars(stmt).unique().one()
    # The participant's side of the one-to-one is known: spare the policy conditions a query for it.
    set_committed_value(case.participant, "case", case)
    return case


def latest_notes(case: Case, limit: int = 50) -> list[CaseNote]:
    """The newest case notes, newest first."""
    stmt = (select(CaseNote).where(CaseNote.case_id == case.id).options(joinedload(CaseNote.author))
            .order_by(CaseNote.written_at.desc()).limit(limit))
    return list(db.session.scalars(stmt).unique())


@dataclass
class HistoryEntry:
    at: datetime
    #: "phase", "team_added" or "team_removed"
    kind: str
    by: str | None
    from_phase: CasePhase | None = None
    to_phase: CasePhase | None = None
    agency: str | None = None
    officer: str | None = None


def case_history(case: Case) -> list[HistoryEntry]:
    """Phase changes and team changes of a case, oldest first."""
    members = list(db.session.scalars(
        select(CaseTeamMember).where(CaseTeamMember.case_id == case.id)
        .options(joinedload(CaseTeamMember.agency), joinedload(CaseTeamMember.officer))))
    transitions = list(db.session.scalars(
        select(CaseTransition).where(CaseTransition.case_id == case.id).options(joinedload(CaseTransition.by))))
    actor_ids = {m.added_by_id for m in members} | {m.removed_by_id for m in members}
    actor_ids.discard(None)
    names = dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(actor_ids))).tuples().all()) \
        if actor_ids else {}
    entries = [HistoryEntry(t.at, "phase", t.by.full_name if t.by else None, t.from_phase, t.to_phase)
               for t in transitions]
    for m in members:
        officer = m.officer.full_name if m.officer else None
        entries.append(HistoryEntry(m.created_at, "team_added", names.get(m.added_by_id), agency=m.agency.name,
                                    officer=officer))
        if m.removed_at is not None:
            entries.append(HistoryEntry(m.removed_at, "team_removed", names.get(m.removed_by_id),
                                        agency=m.agency.name, officer=officer))
    return sorted(entries, key=lambda e: _aware(e.at))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
