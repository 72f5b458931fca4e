"""Searching the audit log and the report "who has accessed this object".

Everything here only reads. Events are written by app.security.audit.record()
alone. Rows leave this module as plain dicts: ids, case codes, agency names and
action codes, never a participant's name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l

from sqlalchemy import Select, func, select

from app.admin.models import Agency
from app.audit.models import AuditEvent
from app.extensions import db
from app.labels import action_label, register_action_labels
from app.security.models import User
from app.web import STOCKHOLM, local_datetime

#: The most events one PDF report lists; the summary above it always covers all of them.
REPORT_LIMIT = 5000

#: Labels of the actions written outside the domains (login, accounts, the log itself). Each domain registers
#: its own in app/labels.py; the audit pages read them from there and import no domain.
ACTION_LABELS = register_action_labels({
    "login.succeeded": _l("Inloggning"),
    "login.failed": _l("Misslyckad inloggning"),
    "logout": _l("Utloggning"),
    "access.denied": _l("Nekad åtkomst"),
    "user.created": _l("Konto skapat"),
    "user.updated": _l("Konto ändrat"),
    "user.deactivated": _l("Konto inaktiverat"),
    "user.reactivated": _l("Konto aktiverat"),
    "user.mfa_reset": _l("Tvåstegsverifiering återställd"),
    "agency.created": _l("Myndighet registrerad"),
    "agency.updated": _l("Myndighet ändrad"),
    "audit.search": _l("Sökning i granskningsloggen"),
    "audit.report": _l("Åtkomstrapport visad"),
    "audit.export": _l("Åtkomstrapport exporterad"),
    "audit.subject_search": _l("Sökning på personnummer i registerutdrag"),
    "audit.subject_export": _l("Registerutdrag om åtkomst exporterat"),
})


@dataclass(frozen=True)
class EventQuery:
    """Filters for the log; days are calendar days in Europe/Stockholm, both inclusive."""

    object_type: str | None = None
    object_id: str | None = None
    user_id: int | None = None
    agency_id: int | None = None
    action: str | None = None
    outcome: str | None = None
    first_day: date | None = None
    last_day: date | None = None

    def used(self) -> str:
        """Names of the filters in use (for the audit event of the search itself)."""
        names = ("object_type", "object_id", "user_id", "agency_id", "action", "outcome", "first_day", "last_day")
        return ",".join(n for n in names if getattr(self, n) not in (None, ""))


def stockholm_day_start(day: date) -> datetime:
    """The UTC instant at which a Stockholm calendar day begins."""
    return datetime.combine(day, time.min, tzinfo=STOCKHOLM).astimezone(timezone.utc)


def _filtered(q: EventQuery) -> Select:
    stmt = select(AuditEvent)
    if q.object_id:
        stmt = stmt.where(AuditEvent.object_id == q.object_id)
    if q.object_type:
        stmt = stmt.where(AuditEvent.object_type == q.object_type)
    if q.user_id:
        stmt = stmt.where(AuditEvent.actor_user_id == q.user_id)
    if q.agency_id:
        stmt = stmt.where(AuditEvent.actor_agency_id == q.agency_id)
    if q.action:
        stmt = stmt.where(AuditEvent.action.startswith(q.action, autoescape=True))
    if q.outcome:
        stmt = stmt.where(AuditEvent.outcome == q.outcome)
    if q.first_day:
        stmt = stmt.where(AuditEvent.occurred_at >= stockholm_day_start(q.first_day))
    if q.last_day:
        stmt = stmt.where(AuditEvent.occurred_at < stockholm_day_start(q.last_day + timedelta(days=1)))
    return stmt


def search_events(q: EventQuery, page: int = 1, per_page: int = 25):
    """Events matching the filters, newest first, paginated."""
    stmt = _filtered(q).order_by(AuditEvent.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def agency_choices() -> list[tuple[int, str]]:
    """Every agency, also inactive ones: old events name them too."""
    return [(a.id, a.name) for a in db.session.scalars(select(Agency).order_by(Agency.name))]


def user_exists(user_id: int) -> bool:
    return db.session.scalar(select(User.id).where(User.id == user_id)) is not None


def _agency_names(ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(ids))).all())


def _user_names(ids) -> dict[int, str]:
    """Staff names by account id: who acted is not the participant's personal data."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())


def event_rows(events) -> list[dict]:
    """Plain rows for templates and PDFs; times already in Stockholm time; the user by name and agency, and the
    deciding rule in plain words (policies/plain-language.csv) beside its policy line."""
    from app.security.plain_rules import describe

    names = _agency_names(e.actor_agency_id for e in events)
    users = _user_names(e.actor_user_id for e in events)
    return [
        {
            "id": e.id,
            "time": local_datetime(e.occurred_at, "yyyy-MM-dd HH:mm:ss"),
            "user_id": e.actor_user_id,
            "user": users.get(e.actor_user_id, "" if e.actor_user_id is None else f"#{e.actor_user_id}"),
            "rule_text": describe(e.rule),
            "agency": names.get(e.actor_agency_id, "" if e.actor_agency_id is None else f"#{e.actor_agency_id}"),
            "action": e.action,
            "action_label": action_label(e.action),
            "object": ":".join(p for p in (e.object_type, e.object_id) if p),
            "field_sets": e.field_sets.replace(",", ", "),
            "purpose": e.purpose or "",
            "permission": e.permission or "",
            "rule": e.rule or "",
            "detail": _detail_text(e.detail),
            "outcome": e.outcome.value,
        }
        for e in events
    ]


def _detail_text(detail: str | None) -> str:
    """{"factor":"totp"} as factor=totp (the values are codes and ids by construction)."""
    if not detail:
        return ""
    try:
        return ", ".join(f"{k}={v}" for k, v in json.loads(detail).items())
    except (ValueError, AttributeError):
        return detail


def access_summary(object_id: str, object_type: str | None = None) -> list[dict]:
    """One row per account that acted on the object: agency, number of events, first and last time."""
    q = EventQuery(object_id=object_id, object_type=object_type)
    sub = _filtered(q).subquery()
    stmt = (
        select(
            sub.c.actor_user_id,
            sub.c.actor_agency_id,
            func.count().label("events"),
            func.min(sub.c.occurred_at).label("first"),
            func.max(sub.c.occurred_at).label("last"),
        )
        .group_by(sub.c.actor_user_id, sub.c.actor_agency_id)
        .order_by(func.max(sub.c.id).desc())
    )
    rows = db.session.execute(stmt).all()
    names = _agency_names(r.actor_agency_id for r in rows)
    users = _user_names(r.actor_user_id for r in rows)
    return [
        {
            "user_id": r.actor_user_id,
            "user": users.get(r.actor_user_id, "" if r.actor_user_id is None else f"#{r.actor_user_id}"),
            "agency": names.get(r.actor_agency_id, "" if r.actor_agency_id is None else f"#{r.actor_agency_id}"),
            "events": r.events,
            "first": local_datetime(_aware(r.first)),
            "last": local_datetime(_aware(r.last)),
        }
        for r in rows
    ]


def _aware(value):
    # min()/max() over a subquery comes back as text on SQLite.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value


def access_report(object_id: str, object_type: str | None, requested_by: int) -> dict:
    """Plain data for the PDF: the summary and up to REPORT_LIMIT events, newest first."""
    q = EventQuery(object_id=object_id, object_type=object_type)
    total = db.session.scalar(select(func.count()).select_from(_filtered(q).subquery()))
    events = db.session.scalars(_filtered(q).order_by(AuditEvent.id.desc()).limit(REPORT_LIMIT)).all()
    return {
        "object_type": object_type or "",
        "object_id": object_id,
        "generated_at": local_datetime(datetime.now(timezone.utc), "yyyy-MM-dd HH:mm"),
        "requested_by": requested_by,
        "summary": access_summary(object_id, object_type),
        "events": event_rows(events),
        "total": total,
        "truncated": total > len(events),
    }


# ------------------------------------------------------------------ a person's subject-access request


def subject_events_query(codes: list[str]) -> Select:
    """Every event about the person's cases (by case code), newest first."""
    return (select(AuditEvent)
            .where(AuditEvent.object_type == "case", AuditEvent.object_id.in_(codes or ["-"]))
            .order_by(AuditEvent.id.desc()))


def subject_summary(codes: list[str]) -> list[dict]:
    """Per user and agency over all the person's cases: events, first and last time."""
    sub = subject_events_query(codes).order_by(None).subquery()
    stmt = (select(sub.c.actor_user_id, sub.c.actor_agency_id, func.count().label("events"),
                   func.min(sub.c.occurred_at).label("first"), func.max(sub.c.occurred_at).label("last"))
            .group_by(sub.c.actor_user_id, sub.c.actor_agency_id).order_by(func.max(sub.c.id).desc()))
    rows = db.session.execute(stmt).all()
    names = _agency_names(r.actor_agency_id for r in rows)
    users = _user_names(r.actor_user_id for r in rows)
    return [{"user": users.get(r.actor_user_id, "–" if r.actor_user_id is None else f"#{r.actor_user_id}"),
             "agency": names.get(r.actor_agency_id, "–"), "events": r.events,
             "first": local_datetime(_aware(r.first)), "last": local_datetime(_aware(r.last))} for r in rows]


def subject_access_report(codes: list[str]) -> dict:
    """Plain data for the subject-access export (GDPR art. 15): who (name, agency) read or changed what (field
    sets in plain words) and when, on the person's cases only. No event detail: it can name other objects."""
    from app.security.plain_rules import words

    english = False
    try:
        from flask_babel import get_locale

        english = str(get_locale() or "sv").startswith("en")
    except RuntimeError:
        pass
    vocabulary = words()
    events = db.session.scalars(subject_events_query(codes).limit(REPORT_LIMIT)).all()
    total = db.session.scalar(select(func.count()).select_from(subject_events_query(codes).order_by(None)
                                                                .subquery()))
    rows = []
    for row in event_rows(events):
        sets = [s.strip() for s in row["field_sets"].split(",") if s.strip()]
        row = {k: row[k] for k in ("time", "user", "agency", "action_label", "outcome", "rule_text")}
        row["what"] = ", ".join(vocabulary.get("fieldset:" + s, (s, s))[1 if english else 0] for s in sets)
        rows.append(row)
    return {"codes": codes, "generated_at": local_datetime(datetime.now(timezone.utc), "yyyy-MM-dd HH:mm"),
            "summary": subject_summary(codes), "events": rows, "total": total, "truncated": total > len(events)}
