"""The daily digest: per user, what is newly due or late in their work, by e-mail.

What a digest may contain is deliberately narrow: the kind of thing, what it
belongs to (a process, a meeting, a case code), the date and a link. A
milestone's or action item's title is free text that could name a person by
mistake, and mail leaves the system: it is mailed only where the policy allows
it (``digest:titles``, granted to those who may see the item anyway, and
never to NGOs or security companies); otherwise the line names the process (or,
for an agency that may not know the process's name, the meeting) and the date.
Never a name, a personal identity number, a plan item's goal or any other
decrypted text. The case queries are those of the "my work" start page
(app.cases.work, app.cases.plan, app.cases.records), so the digest and the page
cannot disagree.

"New" means: not listed in the user's previous digest. Item keys carry the
state ("milestone:12:due", later "milestone:12:late"), so an item that turns
late is new again. One DigestLog per user and day; a second run the same day
sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.db import db
from app.processes import mail
from app.processes.access import visible_action_items_query, visible_milestones_query, visible_process_ids
from app.processes.dates import DUE_HORIZON_DAYS
from app.processes.models import (
    CLOSED_STATUSES,
    ActionItem,
    DigestLog,
    Meeting,
    Milestone,
    Process,
    ProcessStatus,
)
from app.security import audit
from app.security.authz import gate
from app.security.permissions import Permission

LATE, DUE_SOON = "late", "due_soon"
#: Processes in these states send no reminders.
_INACTIVE_PROCESSES = (ProcessStatus.COMPLETED, ProcessStatus.CANCELLED)


@dataclass(frozen=True)
class DigestItem:
    """One line of a digest. ``label`` and ``context`` never hold personal data; ``mail_title`` is set only where
    the policy lets this reader receive the title by mail."""

    kind: str  # milestone | action_item | plan_item | reassessment | consent
    key: str  # "milestone:12:late": what the next digest compares against
    label: str  # the kind of thing ("Delmål", "Planpunkt förfaller", ...)
    due: date
    state: str  # LATE | DUE_SOON
    link: str  # a path, made absolute with LOTS_BASE_URL in the mail
    title: str = ""  # milestone / action item title, whoever reads it (for the tests; mailed only as mail_title)
    context: str = ""  # the process name (or the meeting title), or the case code
    #: A number that identifies a milestone or action item ("process 12, delmål 34").
    ref: str = ""
    #: The title as the mail shows it: empty unless the policy grants this reader digest:titles on the item.
    mail_title: str = ""

    @property
    def late(self) -> bool:
        return self.state == LATE


def _state(due: date, today: date) -> str:
    return LATE if due < today else DUE_SOON


def _key(kind: str, ident: Any, state: str) -> str:
    return f"{kind}:{ident}:{'late' if state == LATE else 'due'}"


@contextmanager
def _locale():
    """Outside a request (the CLI) there is no session to choose a language from: the default (Swedish) applies."""
    if has_request_context():
        yield
    else:
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "sv")):
            yield


def _path(endpoint: str, fallback: str, **values: Any) -> str:
    """The path of a route, or ``fallback`` while that route does not exist."""
    try:
        return current_app.url_map.bind("localhost").build(endpoint, values)
    except Exception:  # noqa: BLE001 - werkzeug raises BuildError for an unknown endpoint
        return fallback


# ------------------------------------------------------------------ processes


def _mailed_title(user, obj, title: str, view: Permission, seen: Any) -> str:
    """The title, if this reader may see the item (``view`` on ``seen``) and the policy lets them have it by mail."""
    checks = gate()
    if checks.decide(user, Permission.DIGEST_TITLES, obj) and checks.decide(user, view, seen):
        return title
    return ""


def _milestones(user, today: date, horizon: date) -> list[DigestItem]:
    stmt = (visible_milestones_query(user)
            .join(Process, Milestone.process_id == Process.id)
            .where(or_(Milestone.agency_id == user.agency_id, Process.owner_id == user.id),
                   Milestone.status.not_in(CLOSED_STATUSES), Milestone.due_date <= horizon,
                   Process.status.not_in(_INACTIVE_PROCESSES))
            .options(joinedload(Milestone.process))
            .order_by(Milestone.due_date, Milestone.id))
    items = []
    for m in db.session.scalars(stmt).unique():
        state = _state(m.due_date, today)
        items.append(DigestItem(
            "milestone", _key("milestone", m.id, state),
            _("Delmål försenat") if state == LATE else _("Delmål förfaller"), m.due_date, state,
            _path("processes.detail", f"/processes/{m.process_id}", process_id=m.process_id) + f"#milestone-{m.id}",
            title=m.title, context=m.process.name,
            ref=_("process %(process)d, delmål %(number)d", process=m.process_id, number=m.id),
            mail_title=_mailed_title(user, m, m.title, Permission.PROCESS_VIEW, m.process)))
    return items


def _action_items(user, today: date, horizon: date) -> list[DigestItem]:
    stmt = (visible_action_items_query(user)
            .outerjoin(Process, Meeting.process_id == Process.id)
            .where(or_(ActionItem.agency_id == user.agency_id, Process.owner_id == user.id,
                       Meeting.created_by_id == user.id),
                   ActionItem.status.not_in(CLOSED_STATUSES), ActionItem.due_date <= horizon)
            .order_by(ActionItem.due_date, ActionItem.id))
    # The owning agency of an item may take no part in the meeting's process: it is not told the process's name.
    visible = set(db.session.scalars(visible_process_ids(user)))
    items = []
    for a in db.session.scalars(stmt).unique():
        state = _state(a.due_date, today)
        meeting = a.meeting
        items.append(DigestItem(
            "action_item", _key("action_item", a.id, state),
            _("Åtgärdspunkt försenad") if state == LATE else _("Åtgärdspunkt förfaller"), a.due_date, state,
            _path("meetings.detail", f"/meetings/{meeting.id}", meeting_id=meeting.id) + f"#action-{a.id}",
            title=a.title, context=meeting.process.name if meeting.process_id in visible else meeting.title,
            ref=_("åtgärdspunkt %(number)d", number=a.id),
            mail_title=_mailed_title(user, a, a.title, Permission.MEETING_VIEW, a)))
    return items


# ------------------------------------------------------------------ cases (codes and dates only)


def _case_items(user, today: date) -> list[DigestItem]:
    from app.cases import plan, records
    from app.cases.access import visible_cases_query
    from app.cases.work import DUE_WITHIN_DAYS, work_sections

    sections = work_sections(user)
    items: list[DigestItem] = []

    def plan_items(rows: Iterable) -> None:
        for item in rows:
            code = item.case.code
            state = _state(item.due_on, today)
            items.append(DigestItem(
                "plan_item", _key("plan_item", item.id, state),
                _("Planpunkt försenad") if state == LATE else _("Planpunkt förfaller"), item.due_on, state,
                _path("cases.plan", f"/cases/{code}/plan", code=code), context=code))

    if "coordinator" in sections:
        plan_items(plan.coordinator_items_due(user, today, DUE_WITHIN_DAYS))
        mine = visible_cases_query(user)
        for due in records.reassessments_due(mine, today, DUE_WITHIN_DAYS):
            code, state = due.case.code, (LATE if due.overdue else DUE_SOON)
            items.append(DigestItem(
                "reassessment", _key("reassessment", f"{due.case.id}:{due.next_review_on.isoformat()}", state),
                _("Omprövning av hotbild"), due.next_review_on, state,
                _path("cases.assessments", f"/cases/{code}/assessments", code=code), context=code))
        warning_days = int(current_app.config.get("LOTS_CONSENT_WARNING_DAYS", 14))
        for consent in records.consents_expiring(mine, today, warning_days):
            code = consent.case.code
            items.append(DigestItem(
                "consent", _key("consent", consent.id, DUE_SOON), _("Samtycke upphör"), consent.valid_until,
                DUE_SOON, _path("cases.consents", f"/cases/{code}/consents", code=code), context=code))
    if "partner" in sections:
        # An item the user also coordinates gets the same key, and digest_items keeps it once.
        plan_items(plan.agency_items_due(user.agency_id, today, DUE_WITHIN_DAYS))
    return items


def digest_items(user, today: date) -> list[DigestItem]:
    """Everything late or due within the horizon in this user's work today, late first, then by date."""
    horizon = today + timedelta(days=DUE_HORIZON_DAYS)
    with _locale():
        items = [*_milestones(user, today, horizon), *_action_items(user, today, horizon),
                 *_case_items(user, today)]
    unique = {item.key: item for item in items}
    return sorted(unique.values(), key=lambda i: (not i.late, i.due, i.kind, i.key))


# ------------------------------------------------------------------ sending


@dataclass
class DigestSummary:
    """What a run did: counts only."""

    day: date
    transport: str
    dry_run: bool = False
    users: int = 0
    sent: int = 0
    already_sent: int = 0
    nothing_new: int = 0
    failed: int = 0
    new_items: int = 0
    outbox: str | None = None
    files: list[str] = field(default_factory=list)


def previous_keys(user_id: int, today: date) -> set[str]:
    """The item keys of the user's most recent digest before ``today`` (empty if none)."""
    last = db.session.scalar(select(DigestLog.item_keys).where(DigestLog.user_id == user_id, DigestLog.sent_on < today)
                             .order_by(DigestLog.sent_on.desc()).limit(1))
    return set(json.loads(last)) if last else set()


def _already_sent(user_id: int, today: date) -> bool:
    return db.session.scalar(select(DigestLog.id).where(DigestLog.user_id == user_id, DigestLog.sent_on == today)) \
        is not None


def compose(user, today: date, new: list[DigestItem], still_open: int) -> tuple[str, str, str]:
    """(subject, text, html) of one digest, in Swedish."""
    with _locale():
        return _compose(today, new, still_open)


def _compose(today: date, new: list[DigestItem], still_open: int) -> tuple[str, str, str]:
    subject = ngettext("Lots: %(num)d ny sak att följa upp", "Lots: %(num)d nya saker att följa upp", len(new))
    base = current_app.config.get("LOTS_BASE_URL") or ""
    context = {
        "today": today, "late": [i for i in new if i.late], "due": [i for i in new if not i.late],
        "still_open": still_open, "base_url": base, "horizon": DUE_HORIZON_DAYS,
    }
    return (subject, render_template("mail/digest.txt", **context), render_template("mail/digest.html", **context))


def send_digests(today: date, dry_run: bool = False) -> DigestSummary:
    """Send each active user the new items of their work, once per day; one DigestLog and audit event per mail.

    Each user is committed on their own, so a failure for one does not
    resend or lose the others'. With ``dry_run`` nothing is written or sent.
    """
    from app.security.models import User

    if not dry_run:
        mail.check_ready()
    outbox = mail.outbox_path()
    summary = DigestSummary(day=today, transport=mail.transport(), dry_run=dry_run,
                            outbox=str(outbox) if mail.transport() == "outbox" and outbox else None)
    user_ids = list(db.session.scalars(select(User.id).where(User.active.is_(True)).order_by(User.id)))
    with mail.mailer() if not dry_run else _no_mailer() as send:
        for user_id in user_ids:
            user = db.session.get(User, user_id)
            if user is None or not user.active:
                continue
            summary.users += 1
            if _already_sent(user_id, today):
                summary.already_sent += 1
                continue
            items = digest_items(user, today)
            known = previous_keys(user_id, today)
            new = [i for i in items if i.key not in known]
            if not new:
                summary.nothing_new += 1
                continue
            summary.new_items += len(new)
            if dry_run:
                summary.sent += 1
                continue
            subject, text, html = compose(user, today, new, len(items) - len(new))
            try:
                # A savepoint per user: a failure undoes only this user's log and audit event.
                with db.session.begin_nested():
                    db.session.add(DigestLog(user_id=user_id, sent_on=today,
                                             item_keys=json.dumps(sorted(i.key for i in items))))
                    db.session.flush()  # the unique (user, day) row: a concurrent run stops here
                    audit.record("digest.send", object_type="user", object_id=user_id, actor=None,
                                 detail={"new": len(new), "open": len(items),
                                         "late": sum(1 for i in new if i.late), "day": today.isoformat()})
                    where = send(mail.build_message(user.email, subject, text, html))
            except IntegrityError:
                summary.already_sent += 1
                continue
            except Exception:  # noqa: BLE001 - one failed mail must not stop the others; the next run retries
                current_app.logger.warning("digest for user %s not sent", user_id, exc_info=False)
                summary.failed += 1
                continue
            db.session.commit()
            summary.sent += 1
            if where != "smtp":
                summary.files.append(where)
    return summary


class _no_mailer:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
