"""Swedish-first labels for the case vocabulary (English through the catalogue)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.labels import register_action_labels
from app.cases.models import (
    CaseOutcome,
    CasePhase,
    ConsentKind,
    ConsentMethod,
    PlanArea,
    PlanItemStatus,
    PlanPart,
    ProtectedIdentity,
    ReferralSource,
    ThreatLevel,
)

PHASE_LABELS = {
    CasePhase.REFERRAL: _l("Aktualisering"),
    CasePhase.ASSESSMENT: _l("Utredning"),
    CasePhase.ACTIVE: _l("Aktiv"),
    CasePhase.FOLLOW_UP: _l("Nedtrappning/uppföljning"),
    CasePhase.CLOSED: _l("Avslutat"),
}

OUTCOME_LABELS = {
    CaseOutcome.COMPLETED: _l("Genomfört program"),
    CaseOutcome.DISCONTINUED: _l("Avbrutet av deltagaren"),
    CaseOutcome.TRANSFERRED: _l("Överlämnat till annan kommun"),
    CaseOutcome.MOVED: _l("Flyttat"),
    CaseOutcome.NO_CONTACT: _l("Ingen kontakt"),
    CaseOutcome.OTHER: _l("Annat"),
}

REFERRAL_SOURCE_LABELS = {
    ReferralSource.POLICE: _l("Polisen"),
    ReferralSource.PROBATION: _l("Kriminalvården"),
    ReferralSource.SOCIAL_SERVICES: _l("Socialtjänsten"),
    ReferralSource.SCHOOL: _l("Skolan"),
    ReferralSource.NGO: _l("Idéburen organisation"),
    ReferralSource.SELF: _l("Personen själv"),
    ReferralSource.OTHER: _l("Annan"),
}

PROTECTED_IDENTITY_LABELS = {
    ProtectedIdentity.NONE: _l("Inget skydd"),
    ProtectedIdentity.CONFIDENTIALITY_MARKING: _l("Sekretessmarkering"),
    ProtectedIdentity.PROTECTED_REGISTRATION: _l("Skyddad folkbokföring"),
    ProtectedIdentity.ASSUMED_IDENTITY: _l("Fingerade personuppgifter"),
}

CONSENT_KIND_LABELS = {
    ConsentKind.IDENTITY: _l("Identitet"),
    ConsentKind.CONTACT: _l("Kontaktuppgifter"),
    ConsentKind.THREAT_ASSESSMENT: _l("Hotbild och riskbedömning"),
    ConsentKind.PROTECTION_PLAN: _l("Skyddsplan"),
    ConsentKind.SUPPORT_PLAN: _l("Stödplan"),
}

CONSENT_METHOD_LABELS = {
    ConsentMethod.WRITTEN: _l("Skriftligt"),
    ConsentMethod.ORAL: _l("Muntligt, dokumenterat"),
    ConsentMethod.DIGITAL: _l("Digitalt signerat"),
}

THREAT_LEVEL_LABELS = {
    ThreatLevel.LOW: _l("Låg"),
    ThreatLevel.ELEVATED: _l("Förhöjd"),
    ThreatLevel.HIGH: _l("Hög"),
    ThreatLevel.ACUTE: _l("Akut"),
}

PLAN_PART_LABELS = {
    PlanPart.PROTECTION: _l("Skyddsplan"),
    PlanPart.SUPPORT: _l("Stödplan"),
}

PLAN_AREA_LABELS = {
    PlanArea.HOUSING: _l("Boende"),
    PlanArea.EMPLOYMENT: _l("Arbete"),
    PlanArea.EDUCATION: _l("Utbildning"),
    PlanArea.HEALTH: _l("Hälsa"),
    PlanArea.ADDICTION_TREATMENT: _l("Missbruksbehandling"),
    PlanArea.THERAPY: _l("Terapi"),
    PlanArea.ECONOMY_DEBT: _l("Ekonomi och skulder"),
    PlanArea.FAMILY_NETWORK: _l("Familj och nätverk"),
    PlanArea.LEISURE: _l("Fritid"),
    PlanArea.LEGAL: _l("Juridik"),
    PlanArea.PROTECTED_PERSONAL_DATA: _l("Skyddade personuppgifter"),
    PlanArea.RELOCATION: _l("Omlokalisering"),
    PlanArea.SECURITY_MEASURE: _l("Säkerhetsåtgärd"),
    PlanArea.TATTOO_REMOVAL: _l("Tatueringsborttagning"),
    PlanArea.MENTOR: _l("Mentor/kontaktperson"),
    PlanArea.OTHER: _l("Övrigt"),
}

PLAN_STATUS_LABELS = {
    PlanItemStatus.PLANNED: _l("Planerad"),
    PlanItemStatus.IN_PROGRESS: _l("Pågår"),
    PlanItemStatus.DONE: _l("Klar"),
    PlanItemStatus.CANCELLED: _l("Avbruten"),
}

#: Audit actions of the case module (shown by the auditor's pages).
CASE_ACTION_LABELS = register_action_labels({
    "case.list": _l("Ärendelista visad"),
    "case.view": _l("Ärende visat"),
    "case.history.view": _l("Ärendehistorik visad"),
    "case.phase.view": _l("Fasändring öppnad"),
    "case.team.view": _l("Ärendets team visat"),
    "case.participant.view": _l("Personuppgifter öppnade för ändring"),
    "case.created": _l("Ärende registrerat"),
    "case.reopened": _l("Ärende återöppnat"),
    "case.phase_changed": _l("Ärendets fas ändrad"),
    "case.team_changed": _l("Ärendets team ändrat"),
    "case.participant_updated": _l("Personuppgifter ändrade"),
    "case.erased": _l("Ärende gallrat"),
    "case.incidents.view": _l("Kopplade händelser visade"),
    "case.incident_linked": _l("Händelse kopplad till ärendet"),
    "case.incident_unlinked": _l("Koppling till händelse borttagen"),
    "participant.search": _l("Sökning på personnummer"),
    "consent.view": _l("Samtycken visade"),
    "consent.recorded": _l("Samtycke registrerat"),
    "consent.withdrawn": _l("Samtycke återkallat"),
    "assessment.view": _l("Hotbildsbedömningar visade"),
    "assessment.recorded": _l("Hotbildsbedömning registrerad"),
    "note.view": _l("Journalanteckningar visade"),
    "note.written": _l("Journalanteckning skriven"),
    "meeting.view": _l("Ärendemöten visade"),
    "meeting.recorded": _l("Ärendemöte registrerat"),
    "plan.view": _l("Genomförandeplan visad"),
    "plan.export": _l("Genomförandeplan exporterad (PDF)"),
    "plan.approved": _l("Genomförandeplan fastställd"),
    "plan_item.created": _l("Planpunkt skapad"),
    "plan_item.updated": _l("Planpunkt ändrad"),
    "plan_item.followup_added": _l("Uppföljning av planpunkt"),
    "emergency.started": _l("Nödåtkomst påbörjad"),
    "emergency.reviewed": _l("Nödåtkomst granskad"),
    "emergency.view": _l("Nödåtkomster visade"),
    "work.view": _l("Startsida med ärendeuppgifter visad"),
})
