"""What the meeting, EST and action-item services share: limits, errors, text and version checks, choices.

The services are split along their seams: app.processes.meetings (meetings of
a process: list, create, edit, delete), app.processes.est (the weekly EST
meeting: agenda, opening, focus areas) and app.processes.action_items (action
items and the decisions they come from).
"""

from __future__ import annotations

from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from app.admin.models import Agency
from app.db import db, flush_in_savepoint
from app.security.models import User

MAX_TITLE = 200
MAX_ITEM_TITLE = 300
MAX_TEXT = 20_000
MAX_NOTE = 5_000
#: One decision (a line of the meeting's decisions).
MAX_DECISION = 2_000

CONFLICT_MESSAGE = _l("Mötet har ändrats av någon annan sedan du öppnade det. Ladda om sidan och gör om ändringen.")
ITEM_CONFLICT_MESSAGE = _l("Åtgärdspunkten har ändrats av någon annan sedan du öppnade den. "
                           "Ladda om sidan och gör om ändringen.")


class MeetingError(ValueError):
    """A change the user must correct; the message is user-facing."""


class MeetingConflict(MeetingError):
    """Someone else saved the meeting or action item since this user loaded it."""


def text_value(value: str | None, max_len: int, missing=None) -> str | None:
    """Stripped text (None if empty); MeetingError when too long, or empty while required."""
    value = (value or "").strip()
    if missing is not None and not value:
        raise MeetingError(missing)
    if len(value) > max_len:
        raise MeetingError(_l("Högst %(max)d tecken.", max=max_len))
    return value or None


def check_version(obj, expected: Any, message) -> None:
    """MeetingConflict unless ``expected`` is the object's current version."""
    try:
        expected = int(expected)
    except (TypeError, ValueError):
        raise MeetingConflict(message) from None
    if expected != obj.version:
        raise MeetingConflict(message)


def flush_or_conflict(message, apply: Callable[[], None]) -> None:
    """Make the changes in a savepoint; a concurrent writer's newer version becomes a MeetingConflict."""
    flush_in_savepoint(apply, lambda: MeetingConflict(message))


def active_agencies(include: set[int] | None = None) -> list[Agency]:
    """Active agencies by name, plus those in ``include`` (e.g. today's attendees, even if inactive now)."""
    clause = Agency.active.is_(True)
    if include:
        clause = or_(clause, Agency.id.in_(include))
    return list(db.session.scalars(select(Agency).where(clause).order_by(Agency.name, Agency.id)))


def active_agencies_by_id(ids) -> list[Agency]:
    """The agencies with these ids; MeetingError if one is unknown or inactive."""
    ids = {int(i) for i in ids or ()}
    found = list(db.session.scalars(select(Agency).where(Agency.id.in_(ids), Agency.active.is_(True)))) if ids else []
    if len(found) != len(ids):
        raise MeetingError(_l("Okänd eller inaktiv myndighet."))
    return found


def active_agency(agency_id) -> Agency:
    """The active agency with this id; MeetingError otherwise."""
    agency = db.session.get(Agency, agency_id) if isinstance(agency_id, int) and 0 < agency_id < 2**31 else None
    if agency is None or not agency.active:
        raise MeetingError(_l("Okänd eller inaktiv myndighet."))
    return agency


def responsible_choices(include: int | None = None) -> list[tuple[int, str, int]]:
    """(user id, "Name (Agency)", agency id) of active users of active agencies (plus ``include``)."""
    clause = and_(User.active.is_(True), Agency.active.is_(True))
    if include:
        clause = or_(clause, User.id == include)
    rows = db.session.execute(select(User.id, User.full_name, Agency.name, Agency.id)
                              .join(Agency, User.agency_id == Agency.id).where(clause)
                              .order_by(Agency.name, User.full_name, User.id))
    return [(user_id, f"{name} ({agency})", agency_id) for user_id, name, agency, agency_id in rows]


def responsible_user(user_id, agency: Agency, current: int | None = None) -> User | None:
    """The responsible person (None if none chosen): an active user of ``agency`` (or the current one)."""
    if user_id in (None, ""):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) and 0 < user_id < 2**31 else None
    if user is None or (not user.active and user.id != current):
        raise MeetingError(_l("Okänd eller inaktiv användare."))
    if user.agency_id != agency.id:
        raise MeetingError(_l("Den ansvariga personen tillhör inte den valda myndigheten."))
    return user


def decision_lines(text: str | None) -> list[str]:
    """The decisions, one per non-empty line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
