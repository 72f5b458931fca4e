"""Fictitious demo participants and their cases. Every name, number, address and text is invented.

Personal identity numbers use made-up dates and pass the Luhn check (one is
a coordination number, day + 60); phone numbers are from the range PTS
reserves for fiction (070-174 06 05 to 070-174 06 99).

Each participant gets one case, one per phase (referral, assessment, active,
follow-up, closed), with a team, consents (one expiring within two weeks, one
withdrawn), threat assessments (one reassessment overdue), a plan in both
parts (items overdue, done, and assigned to the demo partner agencies),
follow-ups, approved plan versions, notes and a meeting. Dates are counted
back from today, so the demo always looks current. Loading twice adds nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.admin.models import Agency
from app.cases import service
from app.cases.models import (
    Case,
    CaseMeeting,
    CaseNote,
    CaseOutcome,
    CasePhase,
    CaseTeamMember,
    CaseTransition,
    Consent,
    ConsentMethod,
    Participant,
    PlanArea,
    PlanFollowUp,
    PlanItem,
    PlanItemStatus,
    PlanPart,
    PlanVersion,
    ProtectedIdentity,
    ReferralSource,
    ThreatAssessment,
    ThreatLevel,
    today_local,
)
from app.cases.retention import start_of_day_utc
from app.db import db

DEMO_PARTICIPANTS = [
    {
        "first_name": "Elvin", "last_name": "Låtsasson", "personal_number": "19980314-9815",
        "date_of_birth": date(1998, 3, 14), "phone": "070-174 06 21", "email": "elvin.latsasson@example.org",
        "street_address": "Påhittade vägen 12", "postal_code": "199 91", "city": "Norrvik",
        "protected_identity": ProtectedIdentity.CONFIDENTIALITY_MARKING,
        "notes": "Fiktiv demoperson. Hänvisad av frivården.",
    },
    {
        "first_name": "Novalie", "last_name": "Exempeldotter", "personal_number": "20011102-9823",
        "date_of_birth": date(2001, 11, 2), "phone": "070-174 06 34", "email": "novalie.exempeldotter@example.org",
        "street_address": "Exempelgränd 3 lgh 1102", "postal_code": "199 92", "city": "Norrvik",
        "protected_identity": ProtectedIdentity.PROTECTED_REGISTRATION,
        "notes": "Fiktiv demoperson. Skyddat boende sedan i våras.",
    },
    {
        "first_name": "Tindrana", "last_name": "Påhittsson", "personal_number": "19940621-9833",
        "date_of_birth": date(1994, 6, 21), "phone": "070-174 06 47", "email": "tindrana.pahittsson@example.org",
        "street_address": "Låtsastorget 7", "postal_code": "199 93", "city": "Norrvik",
        "protected_identity": ProtectedIdentity.NONE,
        "notes": "Fiktiv demoperson. Uppföljningsfas.",
    },
    {
        "first_name": "Malkolm", "last_name": "Fiktivsson", "personal_number": "20030990-9844",
        "date_of_birth": date(2003, 9, 30), "phone": "070-174 06 58", "email": "malkolm.fiktivsson@example.org",
        "street_address": "Fiktivstigen 21", "postal_code": "199 94", "city": "Norrvik",
        "protected_identity": ProtectedIdentity.ASSUMED_IDENTITY,
        "notes": "Fiktiv demoperson med samordningsnummer.",
    },
    {
        "first_name": "Ludvig", "last_name": "Diktbäck", "personal_number": "19960809-9850",
        "date_of_birth": date(1996, 8, 9), "phone": "070-174 06 69", "email": "ludvig.diktback@example.org",
        "street_address": "Sagovägen 5", "postal_code": "199 95", "city": "Norrvik",
        "protected_identity": ProtectedIdentity.NONE,
        "notes": "Fiktiv demoperson. Avslutat ärende.",
    },
]

SOCIAL = "Socialtjänsten Norrvik (fiktiv)"
POLICE = "Polisen lokalpolisområde Norrvik (fiktiv)"
PROBATION = "Kriminalvården frivård (fiktiv)"
HOUSING = "Bostadsbolaget Norrvikshem (fiktivt)"
EMPLOYMENT = "Arbetsförmedlingen (fiktiv)"
HEALTH = "Vårdcentralen Norrvik (fiktiv)"
NGO = "Föreningen Vägen ut (fiktiv)"
#: The demo users who act on the cases (see app.demo.DEMO_USERS).
COORDINATOR = "samordnare@norrvik.example.org"
POLICE_OFFICER = "polis@norrvik.example.org"
HOUSING_OFFICER = "bostad@norrvik.example.org"

P, S = PlanPart.PROTECTION, PlanPart.SUPPORT
PLANNED, IN_PROGRESS, DONE = PlanItemStatus.PLANNED, PlanItemStatus.IN_PROGRESS, PlanItemStatus.DONE


@dataclass
class _Demo:
    """Builds one demo case; days are counted back from today (negative = in the future)."""

    case: Case
    agencies: dict[str, Agency]
    users: dict[str, object]
    today: date
    items: list[PlanItem] = field(default_factory=list)

    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    def at(self, days_ago: int, hour: int = 10):
        return start_of_day_utc(self.day(days_ago)) + timedelta(hours=hour)

    def record(self, model, **values):
        """A record of the case, encrypted with the participant's key so erasing them shreds it."""
        obj = model(data_key=self.case.participant.data_key, **values)
        db.session.add(obj)
        return obj

    def history(self, *steps: tuple[CasePhase, int]) -> None:
        previous = None
        coordinator = self.users[COORDINATOR]
        for phase, days_ago in steps:
            db.session.add(CaseTransition(case=self.case, from_phase=previous, to_phase=phase, at=self.at(days_ago),
                                          by_id=coordinator.id))
            previous = phase
        self.case.phase, self.case.phase_changed_at = previous, self.at(steps[-1][1])

    def team(self, days_ago: int, *names: str) -> None:
        officers = {self.users[e].agency_id: self.users[e] for e in (COORDINATOR, POLICE_OFFICER, HOUSING_OFFICER)}
        for name in (SOCIAL, *names):
            agency = self.agencies[name]
            officer = officers.get(agency.id)
            db.session.add(CaseTeamMember(case=self.case, agency_id=agency.id, officer_id=officer and officer.id,
                                          added_by_id=self.users[COORDINATOR].id, created_at=self.at(days_ago)))

    def consent(self, name: str, kinds: str, given_ago: int, valid_days: int, withdrawn_ago: int | None = None):
        consent = self.record(Consent, case=self.case, agency_id=self.agencies[name].id, given_on=self.day(given_ago),
                              valid_until=self.day(given_ago - valid_days), method=ConsentMethod.WRITTEN,
                              recorded_by_id=self.users[COORDINATOR].id)
        consent.kind_set = kinds.split()
        consent.documentation = "Fiktivt: undertecknad samtyckesblankett, skannad till akten."
        if withdrawn_ago is not None:
            consent.withdrawn_at = self.at(withdrawn_ago)
            consent.withdrawn_by_id = self.users[COORDINATOR].id

    def assessment(self, name: str, level: ThreatLevel, days_ago: int, review_ago: int, narrative: str) -> None:
        assessment = self.record(ThreatAssessment, case=self.case, assessed_on=self.day(days_ago),
                                 agency_id=self.agencies[name].id, next_review_on=self.day(review_ago),
                                 recorded_by_id=self.users[COORDINATOR].id)
        assessment.level, assessment.narrative = level, narrative

    def meeting(self, days_ago: int, names: tuple[str, ...], minutes: str) -> CaseMeeting:
        meeting = self.record(CaseMeeting, case=self.case, held_on=self.day(days_ago),
                              agency_ids=",".join(str(self.agencies[n].id) for n in (SOCIAL, *names)),
                              recorded_by_id=self.users[COORDINATOR].id)
        meeting.minutes = minutes
        return meeting

    def item(self, part: PlanPart, area: PlanArea, name: str, goal: str, start_ago: int, due_ago: int,
             status: PlanItemStatus = PLANNED, done_ago: int | None = None, officer: str | None = None,
             meeting: CaseMeeting | None = None) -> PlanItem:
        item = self.record(PlanItem, case=self.case, part=part, area=area, responsible_agency_id=self.agencies[name].id,
                           officer_id=officer and self.users[officer].id, start_on=self.day(start_ago),
                           due_on=self.day(due_ago), status=status,
                           completed_on=self.day(done_ago) if done_ago is not None else None,
                           meeting_id=meeting and meeting.id, created_by_id=self.users[COORDINATOR].id,
                           created_at=self.at(start_ago))
        item.goal = goal
        self.items.append(item)
        return item

    def followup(self, item: PlanItem, days_ago: int, author: str, text: str) -> None:
        user = self.users[author]
        self.record(PlanFollowUp, item=item, written_at=self.at(days_ago, 14), author_id=user.id,
                    author_agency_id=user.agency_id).text = text

    def note(self, days_ago: int, text: str) -> None:
        self.record(CaseNote, case=self.case, written_at=self.at(days_ago, 15),
                    author_id=self.users[COORDINATOR].id).text = text

    def approve(self, number: int, days_ago: int, changes: str) -> None:
        """An approved plan version with the items as they stand (goals included: the snapshot is encrypted)."""
        from app.cases.plan import snapshot_items

        db.session.flush()
        snapshot = snapshot_items(self.case)
        version = self.record(PlanVersion, case=self.case, number=number, approved_at=self.at(days_ago, 16),
                              approved_by_id=self.users[COORDINATOR].id, participant_agreed_on=self.day(days_ago))
        version.snapshot, version.changes = json.dumps(snapshot, ensure_ascii=False), changes


def _referral(d: _Demo) -> None:
    """Elvin: referred by probation last week."""
    d.history((CasePhase.REFERRAL, 6))
    d.team(6, PROBATION)
    d.consent(PROBATION, "identity contact", 5, 365)
    d.note(5, "Fiktivt: första samtal med frivården, personen vill lämna sitt nätverk. Möte bokat nästa vecka.")


def _assessment(d: _Demo) -> None:
    """Malkolm: in assessment; the police consent runs out within two weeks and the reassessment is overdue."""
    d.history((CasePhase.REFERRAL, 35), (CasePhase.ASSESSMENT, 28))
    d.team(35, POLICE)
    d.consent(POLICE, "identity threat_assessment protection_plan", 28, 38)
    d.assessment(POLICE, ThreatLevel.HIGH, 30, 3,
                 "Fiktivt: hot från tidigare umgänge efter avhoppet. Ny bedömning efter flytten.")
    item = d.item(P, PlanArea.SECURITY_MEASURE, POLICE, "Trygghetssamtal och kontaktväg vid hot", 27, -14,
                  IN_PROGRESS, officer=POLICE_OFFICER)
    d.item(P, PlanArea.PROTECTED_PERSONAL_DATA, SOCIAL, "Ansöka om sekretessmarkering", 27, -7)
    d.followup(item, 10, POLICE_OFFICER, "Fiktivt: trygghetssamtal genomfört, larmtelefon utlämnad.")
    d.note(28, "Fiktivt: utredning inledd. Personen har samordningsnummer; identitet styrkt via Migrationsverket.")
    d.note(12, "Fiktivt: samtal om boende och sysselsättning inför planen.")


def _active(d: _Demo) -> None:
    """Novalie: active for half a year, with the fullest plan; the employment consent was withdrawn."""
    d.history((CasePhase.REFERRAL, 220), (CasePhase.ASSESSMENT, 210), (CasePhase.ACTIVE, 180))
    d.team(210, POLICE, HOUSING, EMPLOYMENT, HEALTH, NGO)
    d.consent(POLICE, "identity threat_assessment protection_plan", 180, 365)
    d.consent(HOUSING, "contact protection_plan support_plan", 180, 330)
    d.consent(EMPLOYMENT, "support_plan", 150, 365, withdrawn_ago=12)
    d.consent(NGO, "support_plan", 90, 180)
    d.consent(HEALTH, "support_plan", 60, 300)
    d.assessment(POLICE, ThreatLevel.ACUTE, 205, 175, "Fiktivt: konkret hot efter avhoppet, akut flytt behövs.")
    d.assessment(POLICE, ThreatLevel.ELEVATED, 40, -50, "Fiktivt: hotet avtagande sedan flytten, fortsatt förhöjt.")
    d.item(P, PlanArea.RELOCATION, HOUSING, "Flytt till skyddat boende i annan kommundel", 205, 175, DONE, 178,
           officer=HOUSING_OFFICER)
    d.item(P, PlanArea.PROTECTED_PERSONAL_DATA, SOCIAL, "Skyddad folkbokföring beviljad", 205, 160, DONE, 165)
    d.item(S, PlanArea.MENTOR, NGO, "Mentor från Föreningen Vägen ut, träff varje vecka", 175, 60, DONE, 62)
    d.approve(1, 172, "Fiktivt: första planen, skydd och boende.")
    meeting = d.meeting(40, (POLICE, HOUSING, NGO),
                        "Fiktivt: genomgång av planen. Beslut om eget kontrakt, praktik och samtalsterapi.")
    security = d.item(P, PlanArea.SECURITY_MEASURE, POLICE, "Regelbundna trygghetssamtal", 175, -30, IN_PROGRESS,
                      officer=POLICE_OFFICER)
    housing = d.item(S, PlanArea.HOUSING, HOUSING, "Eget förstahandskontrakt efter prövotid", 40, 9,
                     officer=HOUSING_OFFICER, meeting=meeting)
    d.item(S, PlanArea.EMPLOYMENT, EMPLOYMENT, "Praktikplats inom lager och logistik", 40, -60, IN_PROGRESS,
           meeting=meeting)
    debt = d.item(S, PlanArea.ECONOMY_DEBT, SOCIAL, "Kontakt med budget- och skuldrådgivningen", 60, 20, IN_PROGRESS)
    d.item(S, PlanArea.THERAPY, HEALTH, "Samtalsterapi med traumafokus", 40, -45, meeting=meeting)
    d.approve(2, 38, "Fiktivt: lade till eget kontrakt, praktik och samtalsterapi efter ärendemötet.")
    d.followup(security, 20, POLICE_OFFICER, "Fiktivt: inga nya incidenter sedan förra samtalet.")
    d.followup(housing, 15, HOUSING_OFFICER, "Fiktivt: kontraktet försenat, ny visning bokad.")
    d.followup(debt, 25, COORDINATOR, "Fiktivt: första mötet med skuldrådgivningen hållet.")
    d.note(180, "Fiktivt: planen fastställd tillsammans med personen. Flytten genomförd.")
    d.note(40, "Fiktivt: ärendemöte hållet, se protokoll.")
    d.note(12, "Fiktivt: personen har återkallat samtycket till Arbetsförmedlingen; praktiken pausas.")


def _follow_up(d: _Demo) -> None:
    """Tindrana: tapering off after a year in the programme."""
    d.history((CasePhase.REFERRAL, 420), (CasePhase.ASSESSMENT, 410), (CasePhase.ACTIVE, 380),
              (CasePhase.FOLLOW_UP, 45))
    d.team(410, HOUSING, PROBATION)
    d.consent(HOUSING, "contact support_plan", 380, 480)
    d.consent(PROBATION, "identity support_plan", 380, 410)
    d.assessment(SOCIAL, ThreatLevel.LOW, 50, -130, "Fiktivt: ingen känd hotbild längre.")
    d.item(S, PlanArea.HOUSING, HOUSING, "Bostad med eget kontrakt", 380, 300, DONE, 305, officer=HOUSING_OFFICER)
    d.item(S, PlanArea.ADDICTION_TREATMENT, PROBATION, "Återfallsprevention hos frivården", 380, 200, DONE, 210)
    d.approve(1, 378, "Fiktivt: första planen.")
    studies = d.item(S, PlanArea.EDUCATION, SOCIAL, "Komvux: gymnasiebehörighet", 200, -90, IN_PROGRESS)
    d.item(S, PlanArea.LEISURE, SOCIAL, "Fritidsaktivitet med nytt umgänge", 45, 5)
    d.followup(studies, 30, COORDINATOR, "Fiktivt: två kurser klara, två kvar.")
    d.note(45, "Fiktivt: övergång till uppföljning; kontakt varannan vecka.")


def _closed(d: _Demo) -> None:
    """Ludvig: programme completed and closed ten weeks ago (kept until the retention period has passed)."""
    d.history((CasePhase.REFERRAL, 640), (CasePhase.ASSESSMENT, 630), (CasePhase.ACTIVE, 600),
              (CasePhase.FOLLOW_UP, 250), (CasePhase.CLOSED, 70))
    d.case.outcome, d.case.closed_at = CaseOutcome.COMPLETED, d.at(70)
    d.case.closure_reason = "Fiktivt: programmet genomfört, egen bostad och arbete."
    d.team(630, POLICE, EMPLOYMENT)
    d.consent(POLICE, "identity threat_assessment", 600, 530)
    d.assessment(POLICE, ThreatLevel.LOW, 260, 80, "Fiktivt: ingen aktuell hotbild.")
    d.item(P, PlanArea.SECURITY_MEASURE, POLICE, "Trygghetssamtal", 600, 400, DONE, 410, officer=POLICE_OFFICER)
    d.item(S, PlanArea.EMPLOYMENT, EMPLOYMENT, "Anställning med stöd", 590, 260, DONE, 270)
    d.approve(1, 598, "Fiktivt: första planen.")
    d.note(70, "Fiktivt: avslutningssamtal hållet, ärendet avslutas.")


#: Personal number -> (referral source, days since referral, builder).
DEMO_CASES = {
    "19980314-9815": (ReferralSource.PROBATION, 6, _referral),
    "20030990-9844": (ReferralSource.POLICE, 35, _assessment),
    "20011102-9823": (ReferralSource.SOCIAL_SERVICES, 220, _active),
    "19940621-9833": (ReferralSource.SELF, 420, _follow_up),
    "19960809-9850": (ReferralSource.NGO, 640, _closed),
}


def _participant(fields: dict) -> Participant:
    found = service.find_participants_by_personal_number(fields["personal_number"])
    return found[0] if found else service.create_participant(**fields)


def load_demo_cases(agencies: dict[str, Agency], users: dict[str, object]) -> int:
    """Create the demo participants and cases that do not exist yet; returns how many cases were added."""
    today = today_local()
    added = 0
    for fields in DEMO_PARTICIPANTS:
        participant = _participant(fields)
        if participant.case is not None:
            continue
        source, days_ago, build = DEMO_CASES[fields["personal_number"]]
        referred_on = today - timedelta(days=days_ago)
        case = Case(data_key=participant.data_key, code=service.next_case_code(referred_on.year),
                    participant=participant, coordinator_id=users[COORDINATOR].id, referral_source=source,
                    referred_on=referred_on)
        case.referral_reason = "Fiktiv demohänvisning: personen vill lämna en kriminell miljö."
        db.session.add(case)
        build(_Demo(case, agencies, users, today))
        db.session.flush()
        added += 1
    return added
