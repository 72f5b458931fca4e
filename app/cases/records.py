"""Case records: consents (samtycke), threat assessments (hotbild), case notes and case meetings.

Every function validates everything before it writes, then writes one audit
event naming the case code and the field sets written (never their values).
A CaseError leaves the database unchanged: the request boundary commits even
a 400 response, so nothing may be added before the last check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from app.admin.models import Agency
from app.cases.forms import MAX_SHORT_TEXT, MAX_TEXT
from app.cases.models import (
    Case,
    CaseMeeting,
    CaseNote,
    CasePhase,
    Consent,
    ConsentKind,
    ConsentMethod,
    ThreatAssessment,
    ThreatLevel,
    today_local,
)
from app.cases.consent_kinds import receivable_kinds
from app.cases.labels import CONSENT_KIND_LABELS
from app.cases.service import CaseError, active_agency, clean_text, require_open
from app.db import db, utcnow
from app.security import audit

#: Most decision rows one meeting form takes.
MAX_DECISIONS = 5


class DecisionError(CaseError):
    """A meeting decision that cannot become a plan item; ``row`` is its 0-based position."""

    def __init__(self, row: int, message):
        super().__init__(message)
        self.row = row


def _not_in_future(day: date, message) -> None:
    if day > today_local():
        raise CaseError(message)


# ------------------------------------------------------------------ consents


def consent_status(consent: Consent, today: date | None = None, warning_days: int | None = None) -> str:
    """withdrawn / expired / not_yet_valid / expiring / current, as shown on the consent list."""
    today = today or today_local()
    if warning_days is None:
        warning_days = current_app.config.get("LOTS_CONSENT_WARNING_DAYS", 14)
    if consent.withdrawn_at is not None:
        return "withdrawn"
    if consent.valid_until < today:
        return "expired"
    if consent.given_on > today:
        return "not_yet_valid"
    if consent.valid_until <= today + timedelta(days=warning_days):
        return "expiring"
    return "current"


def record_consent(case: Case, actor, *, agency: Agency | int | None, kinds: Iterable[str | ConsentKind],
                   given_on: date, valid_until: date, method: ConsentMethod | str,
                   documentation: str | None) -> Consent:
    """Record a consent letting one agency on the case team receive some kinds of information for a period."""
    require_open(case)
    agency = active_agency(agency)
    if agency.id not in case.team_agency_ids:
        raise CaseError(_l("Myndigheten ingår inte i ärendets team. Lägg till den i teamet först."))
    try:
        kind_set = {ConsentKind(k) for k in kinds}
        method = ConsentMethod(method)
    except ValueError:
        raise CaseError(_l("Okänt slag av uppgifter eller okänt sätt att lämna samtycke.")) from None
    if not kind_set:
        raise CaseError(_l("Välj minst ett slag av uppgifter som samtycket gäller."))
    receivable = receivable_kinds(agency.kind.value)
    if not kind_set & set(receivable):
        raise CaseError(_l(
            "%(agency)s kan enligt policyn inte ta emot något av det valda, så samtycket skulle inte öppna något. "
            "Den myndigheten kan ta emot: %(kinds)s.", agency=agency.name,
            kinds=", ".join(str(CONSENT_KIND_LABELS[k]) for k in receivable) or _l("ingenting")))
    documentation = clean_text(documentation, MAX_SHORT_TEXT)
    _not_in_future(given_on, _l("Samtycket kan inte vara lämnat i framtiden."))
    if valid_until < given_on:
        raise CaseError(_l("Giltighetstiden kan inte sluta före det datum samtycket lämnades."))
    consent = Consent(data_key=case.participant.data_key, case=case, agency_id=agency.id, given_on=given_on,
                      valid_until=valid_until, method=method, recorded_by_id=actor.id)
    consent.kind_set = kind_set
    consent.documentation = documentation
    db.session.add(consent)
    db.session.flush()
    audit.record("consent.recorded", obj=case, actor=actor, field_sets=["case.consent"],
                 detail={"agency": agency.id, "kinds": consent.kinds, "consent": str(consent.id)})
    return consent


def withdraw_consent(case: Case, consent: Consent, actor) -> Consent:
    """Withdraw a consent. Access that relied on it ends with the next request (consents are checked per request)."""
    require_open(case)
    if consent.case_id != case.id:
        raise CaseError(_l("Samtycket finns inte."))
    if consent.withdrawn_at is not None:
        raise CaseError(_l("Samtycket är redan återkallat."))
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_id = actor.id
    db.session.flush()
    audit.record("consent.withdrawn", obj=case, actor=actor,
                 detail={"agency": consent.agency_id, "kinds": consent.kinds, "consent": str(consent.id)})
    return consent


def consents_expiring(cases: Select | None = None, today: date | None = None, days: int | None = None) -> list[Consent]:
    """Consents valid today that end within ``days`` (LOTS_CONSENT_WARNING_DAYS), soonest first.

    ``cases`` narrows them to a SELECT of cases (e.g. ``visible_cases_query(user)``); None means all cases.
    """
    today = today or today_local()
    if days is None:
        days = current_app.config.get("LOTS_CONSENT_WARNING_DAYS", 14)
    stmt = (
        select(Consent)
        .join(Case, Consent.case_id == Case.id)
        .where(Consent.withdrawn_at.is_(None), Consent.given_on <= today, Consent.valid_until >= today,
               Consent.valid_until <= today + timedelta(days=days), Case.phase != CasePhase.CLOSED)
        .options(joinedload(Consent.case), joinedload(Consent.agency))
        .order_by(Consent.valid_until, Case.code)
    )
    if cases is not None:
        stmt = stmt.where(Consent.case_id.in_(cases.with_only_columns(Case.id)))
    return list(db.session.scalars(stmt).unique())


# ------------------------------------------------------------------ threat assessments


def record_assessment(case: Case, actor, *, assessed_on: date, agency: Agency | int | None, level: ThreatLevel | str,
                      narrative: str, next_review_on: date) -> ThreatAssessment:
    """Record a threat and risk assessment with the date of the next reassessment."""
    agency = active_agency(agency)
    try:
        level = ThreatLevel(level)
    except ValueError:
        raise CaseError(_l("Okänd hotnivå.")) from None
    _not_in_future(assessed_on, _l("Bedömningsdatumet kan inte ligga i framtiden."))
    if next_review_on <= assessed_on:
        raise CaseError(_l("Nästa omprövning måste ligga efter bedömningsdatumet."))
    narrative = clean_text(narrative, MAX_TEXT, _l("Beskriv hotbilden."))
    assessment = ThreatAssessment(data_key=case.participant.data_key, case=case, assessed_on=assessed_on,
                                  agency_id=agency.id, next_review_on=next_review_on, recorded_by_id=actor.id)
    assessment.level = level
    assessment.narrative = narrative
    db.session.add(assessment)
    db.session.flush()
    audit.record("assessment.recorded", obj=case, actor=actor, field_sets=["case.threat"],
                 detail={"agency": agency.id})
    return assessment


def is_review_overdue(next_review_on: date, today: date | None = None) -> bool:
    """A reassessment is overdue once its date has passed."""
    return next_review_on < (today or today_local())


@dataclass(frozen=True)
class ReviewDue:
    case: Case
    next_review_on: date
    overdue: bool


def reassessments_due(cases: Select | None = None, today: date | None = None, within_days: int = 0) -> list[ReviewDue]:
    """Open cases whose latest assessment is due for reassessment by ``today + within_days``, most urgent first.

    ``overdue`` is True when the reassessment date has already passed. ``cases``
    narrows them to a SELECT of cases (e.g. ``visible_cases_query(user)``).
    """
    today = today or today_local()
    latest = (
        select(ThreatAssessment.case_id, ThreatAssessment.next_review_on,
               func.row_number().over(partition_by=ThreatAssessment.case_id,
                                      order_by=(ThreatAssessment.assessed_on.desc(),
                                                ThreatAssessment.created_at.desc())).label("rank"))
        .subquery()
    )
    stmt = (
        select(Case, latest.c.next_review_on)
        .join(latest, latest.c.case_id == Case.id)
        .where(latest.c.rank == 1, latest.c.next_review_on <= today + timedelta(days=within_days),
               Case.phase != CasePhase.CLOSED)
        .order_by(latest.c.next_review_on, Case.code)
    )
    if cases is not None:
        stmt = stmt.where(Case.id.in_(cases.with_only_columns(Case.id)))
    return [ReviewDue(case, due, is_review_overdue(due, today)) for case, due in db.session.execute(stmt)]


# ------------------------------------------------------------------ case notes


def write_note(case: Case, actor, text: str) -> CaseNote:
    """Write a case note (journalanteckning). Notes are never edited; a correction is a new note."""
    text = clean_text(text, MAX_TEXT, _l("Skriv anteckningen."))
    note = CaseNote(data_key=case.participant.data_key, case=case, author_id=actor.id, written_at=utcnow())
    note.text = text
    db.session.add(note)
    db.session.flush()
    audit.record("note.written", obj=case, actor=actor, field_sets=["case.notes"])
    return note


def notes_page(case: Case, page: int, per_page: int):
    """One page of the case's notes, newest first."""
    stmt = (select(CaseNote).where(CaseNote.case_id == case.id)
            .options(joinedload(CaseNote.author))
            .order_by(CaseNote.written_at.desc(), CaseNote.id))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


# ------------------------------------------------------------------ case meetings


def record_meeting(case: Case, actor, *, held_on: date, agencies: Iterable[Agency | int], minutes: str,
                   decisions: Iterable[dict] = ()) -> CaseMeeting:
    """Record a case meeting; each decision becomes a plan item starting on the meeting date.

    A decision is a dict of app.cases.plan.create_item's arguments: part, area,
    goal, responsible_agency, due_on. All or nothing: if any decision is refused
    (DecisionError naming its row), nothing at all is stored.
    """
    from app.cases.plan import create_item

    agencies = list(dict.fromkeys(active_agency(a) for a in agencies))
    if not agencies:
        raise CaseError(_l("Välj minst en myndighet som deltog."))
    _not_in_future(held_on, _l("Mötet kan inte ha hållits i framtiden."))
    minutes = clean_text(minutes, MAX_TEXT, _l("Skriv mötesanteckningar."))
    decisions = list(decisions)
    if len(decisions) > MAX_DECISIONS:
        raise CaseError(_l("Högst %(num)d beslut per möte.", num=MAX_DECISIONS))
    with db.session.begin_nested():  # a refused decision rolls back the meeting and the items before it
        meeting = CaseMeeting(data_key=case.participant.data_key, case=case, held_on=held_on,
                              agency_ids=",".join(str(a.id) for a in agencies), recorded_by_id=actor.id)
        meeting.minutes = minutes
        db.session.add(meeting)
        db.session.flush()
        for row, decision in enumerate(decisions):
            try:
                create_item(case, actor, **decision, officer=None, start_on=held_on, meeting=meeting)
            except CaseError as exc:
                raise DecisionError(row, exc.args[0]) from None
        audit.record("meeting.recorded", obj=case, actor=actor, field_sets=["case.meetings"],
                     detail={"agencies": len(agencies), "decisions": len(decisions)})
    return meeting


def agencies_by_id(ids: Iterable[int]) -> dict[int, Agency]:
    """The agencies with these ids (for showing a meeting's participants)."""
    ids = set(ids)
    if not ids:
        return {}
    return {a.id: a for a in db.session.scalars(select(Agency).where(Agency.id.in_(ids)))}


def team_agencies(case: Case) -> list[Agency]:
    """The active agencies on the case's current team, by name."""
    agencies = {m.agency_id: m.agency for m in case.team if m.removed_at is None and m.agency.active}
    return sorted(agencies.values(), key=lambda a: a.name)


def consent_reach(case: Case, today: date | None = None) -> list[tuple[Agency, list[ConsentKind], list[ConsentKind]]]:
    """Per team agency: what its current consents actually open for it (the kinds the policy lets its agency
    kind receive), and the consented kinds that open nothing for it. For "Polisen ser: identitet, hotbild"."""
    agencies = agencies_by_id(case.team_agency_ids)
    out = []
    for agency_id, agency in sorted(agencies.items(), key=lambda pair: pair[1].name):
        consented = set()
        for consent in case.current_consents(agency_id, today):
            consented |= consent.kind_set
        if not consented:
            continue
        receivable = receivable_kinds(agency.kind.value)
        opens = [kind for kind in ConsentKind if kind in consented and kind in receivable]
        idle = [kind for kind in ConsentKind if kind in consented and kind not in receivable]
        out.append((agency, opens, idle))
    return out
