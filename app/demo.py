"""Demo data: fictitious agencies, one user per role and a few exit cases. Every name is invented."""

from __future__ import annotations

from sqlalchemy import select

from app.admin import service as admin_service
from app.admin.models import Agency, AgencyKind
from app.cases.demo import load_demo_cases
from app.extensions import db
from app.security.models import User

DEMO_PASSWORD = "demo-lots-2026"  # development/demo only; refused on a production config

DEMO_AGENCIES = [
    ("Socialtjänsten Norrvik (fiktiv)", AgencyKind.SOCIAL_SERVICES),
    ("Förebyggande enheten Norrvik (fiktiv)", AgencyKind.SOCIAL_SERVICES),
    ("Polisen lokalpolisområde Norrvik (fiktiv)", AgencyKind.POLICE),
    ("Kriminalvården frivård (fiktiv)", AgencyKind.PROBATION),
    ("Norrviksskolan (fiktiv)", AgencyKind.SCHOOL),
    ("Fritidsgården Ljuset (fiktiv)", AgencyKind.YOUTH),
    ("Bostadsbolaget Norrvikshem (fiktivt)", AgencyKind.HOUSING),
    ("Arbetsförmedlingen (fiktiv)", AgencyKind.EMPLOYMENT),
    ("Vårdcentralen Norrvik (fiktiv)", AgencyKind.HEALTH),
    ("Trygghetsbevakning AB (fiktivt)", AgencyKind.SECURITY_COMPANY),
    ("Föreningen Vägen ut (fiktiv)", AgencyKind.NGO),
    ("Kommunens IT-avdelning (fiktiv)", AgencyKind.OTHER),
]

#: (e-mail, name, agency, roles)
DEMO_USERS = [
    ("samordnare@norrvik.example.org", "Sara Samordnare", "Socialtjänsten Norrvik (fiktiv)", ["coordinator"]),
    ("polis@norrvik.example.org", "Per Polis", "Polisen lokalpolisområde Norrvik (fiktiv)", ["partner"]),
    ("bostad@norrvik.example.org", "Bo Bostad", "Bostadsbolaget Norrvikshem (fiktivt)", ["partner"]),
    ("processledare@norrvik.example.org", "Pia Processledare", "Förebyggande enheten Norrvik (fiktiv)", ["process_leader"]),
    ("rapportor@norrvik.example.org", "Rami Rapportör", "Fritidsgården Ljuset (fiktiv)", ["reporter"]),
    ("analytiker@norrvik.example.org", "Anna Analytiker", "Förebyggande enheten Norrvik (fiktiv)", ["analyst"]),
    ("admin@norrvik.example.org", "Adam Administratör", "Kommunens IT-avdelning (fiktiv)", ["admin"]),
    ("granskare@norrvik.example.org", "Greta Granskare", "Kommunens IT-avdelning (fiktiv)", ["auditor"]),
]


def load_demo(*, incidents: bool = True) -> list[tuple[str, str]]:
    """Create the demo agencies, users, cases, processes (with meetings and interventions) and (unless
    ``incidents`` is False) two years of incident reports with the last complete week published, where missing;
    return (e-mail, roles) rows."""
    agencies = {a.name: a for a in db.session.scalars(select(Agency))}
    for name, kind in DEMO_AGENCIES:
        if name not in agencies:
            agencies[name] = admin_service.create_agency(name, kind)
    users = {u.email: u for u in db.session.scalars(select(User))}
    for email, full_name, agency_name, roles in DEMO_USERS:
        if email not in users:
            users[email] = admin_service.create_user(email, full_name, agencies[agency_name], roles, DEMO_PASSWORD)
    load_demo_cases(agencies, users)
    from app.overview.demo import load_demo_incidents

    from app.processes.demo import load_demo_processes

    if incidents:
        load_demo_incidents(agencies=agencies, users=users)
    # Processes before publishing, so the published week freezes the interventions and processes active in it.
    load_demo_processes(agencies, users)
    if incidents:
        _publish_demo_week(users.get("analytiker@norrvik.example.org"))
    db.session.commit()
    return [(email, ", ".join(roles)) for email, _n, _a, roles in DEMO_USERS]


def _publish_demo_week(analyst) -> None:
    """The last complete ISO week (the one the overview and the EST meeting open on), published once
    (version 1) with the analysts' analysis and focus areas; the running week stays a live draft."""
    from app.overview import publishing
    from app.overview.figures import shift_week
    from app.processes import demo as process_demo

    # The same "today" as the demo processes (and their EST meeting of last week).
    iso = process_demo.local_today().isocalendar()
    year, week = shift_week(iso.year, iso.week, -1)
    if publishing.latest(year, week) is not None:
        return
    if publishing.get_note(year, week) is None:  # app.processes.demo writes it with the EST meeting
        publishing.save_note(
            year, week, by=analyst,
            analysis="Fiktiv demoanalys: klotter i Kvarnbacken och skadegörelse i Tallåsen ökade under veckan.",
            focus="Kvarnbacken (klotter) och Tallåsen.",
        )
    publishing.publish_week(year, week, by=analyst)


def _demo_user(email: str):
    if email not in {u[0] for u in DEMO_USERS}:
        return None
    return db.session.scalar(select(User).where(User.email == email))


def enrol_demo_totp() -> dict[str, str]:
    """Development only: give every demo user a TOTP authenticator (kept if it has one); e-mail -> base32 key.

    The keys are the demo's, printed so that an evaluator needs no phone (``oathtool --totp -b KEY``, or
    ``flask demo code EMAIL``). The CLI refuses this outside development.
    """
    from flask import current_app

    factory = current_app.extensions["security"]._totp_factory
    keys = {}
    for email, *_rest in DEMO_USERS:
        user = _demo_user(email)
        if user is None:
            continue
        if user.tf_totp_secret and user.tf_primary_method == "authenticator":
            keys[email] = factory._totp.from_source(user.tf_totp_secret).base32_key
            continue
        totp = factory._totp.new()
        user.tf_totp_secret = totp.to_json(encrypt=True)
        user.tf_primary_method = "authenticator"
        keys[email] = totp.base32_key
    db.session.flush()
    return keys


def demo_totp_code(email: str) -> str | None:
    """The current TOTP code of a demo user with an authenticator, or None."""
    from flask import current_app

    user = _demo_user(email)
    if user is None or not user.tf_totp_secret:
        return None
    factory = current_app.extensions["security"]._totp_factory
    return factory._totp.from_source(user.tf_totp_secret).generate().token
