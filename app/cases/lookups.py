"""Look-ups by personal identity number (search and intake): limited, and watched by the auditor.

With the check digit fixed there are about 1,000 numbers per birth date, so an unlimited look-up would tell
anyone allowed to search whether a given person is in the exit programme. Flask-Limiter counts look-ups per
user (``LOTS_PERSON_LOOKUP_RATE_LIMIT``) and per client address (``LOTS_PERSON_LOOKUP_IP_RATE_LIMIT``), in the
limiter's storage (Redis when several workers run). A refused look-up writes ``participant.search_limited``;
a look-up that hits a case the user does not coordinate is audited with ``foreign=1``. Both are listed on the
auditor's start page (``auditor_lookup_events``).
"""

from __future__ import annotations

from flask import current_app
from flask_login import current_user
from sqlalchemy import or_, select

from app.audit.models import AuditEvent
from app.db import db

DEFAULT_USER_LIMIT = "10 per minute;30 per hour;100 per day"
DEFAULT_IP_LIMIT = "30 per minute;200 per hour"


def person_lookup_limit() -> str:
    return current_app.config.get("LOTS_PERSON_LOOKUP_RATE_LIMIT", DEFAULT_USER_LIMIT)


def person_lookup_ip_limit() -> str:
    return current_app.config.get("LOTS_PERSON_LOOKUP_IP_RATE_LIMIT", DEFAULT_IP_LIMIT)


def person_lookup_key() -> str:
    """Per user: one counter however many sessions or addresses the user has."""
    return f"person-lookup:user:{current_user.id}"


def limit_person_lookups(view):
    """One count per user and one per address for every look-up route (search and intake POSTs alike), so
    that switching from one form to the other does not give a fresh allowance."""
    from flask_limiter.util import get_remote_address

    from app.extensions import limiter

    view = limiter.shared_limit(person_lookup_limit, "person-lookup", key_func=person_lookup_key,
                                methods=["POST"], on_breach=lookup_limit_breached)(view)
    return limiter.shared_limit(person_lookup_ip_limit, "person-lookup-ip", key_func=get_remote_address,
                                methods=["POST"], on_breach=lookup_limit_breached)(view)


def lookup_limit_breached(limit) -> None:
    """Flask-Limiter's on_breach: one audit event per refused look-up (the 429 page follows)."""
    from app.security import audit

    audit.record("participant.search_limited", outcome="denied", rule=f"rate limit: {limit.limit}"[:200],
                 detail={"limit": str(limit.limit).replace(" ", "_")[:100]})


def auditor_lookup_events(limit: int = 50) -> list:
    """Look-ups that hit a case the user does not coordinate, and refused (over-limit) look-ups, newest first:
    rows of (event, user name, agency name). Staff names are not the participant's personal data."""
    from app.admin.models import Agency
    from app.security.models import User

    return list(db.session.execute(
        select(AuditEvent, User.full_name.label("user_name"), Agency.name.label("agency_name"))
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .outerjoin(Agency, Agency.id == AuditEvent.actor_agency_id)
        .where(or_(AuditEvent.action == "participant.search_limited",
                   (AuditEvent.action == "participant.search") & AuditEvent.detail.contains('"foreign":"1"')))
        .order_by(AuditEvent.id.desc()).limit(limit)))
