"""The tamper-evident audit log.

Every event is written by :func:`record`, inside the caller's transaction, and
chained to the one before it: ``hmac = HMAC-SHA256(key, content + prev_hmac)``
with a key from ``LOTS_AUDIT_KEY`` that never enters the database. Writers lock
the one-row ``audit_head`` (``UPDATE ... RETURNING``: a row lock on PostgreSQL,
the write lock on SQLite) before they append, so any number of workers keep one
unbroken chain. There is no API to change or delete an event, and the migration
adds triggers that refuse both.

If the event cannot be written, :func:`record` raises and the request fails. A read
(:func:`audited_read`) settles and checks its event first, then produces the response
(the render, a PDF) while no lock is held, then appends the event; the request commits
right after. So the head lock is held for the insert and the commit only, and if the
append fails the response is discarded: the data is not shown.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from flask import current_app, has_request_context
from sqlalchemy import insert, select, update

from app.audit.models import GENESIS_HMAC, AuditEvent, AuditHead, AuditOutcome
from app.db import db, utcnow

T = TypeVar("T")

#: Bumped if the canonical form of an event ever changes; part of every HMAC.
FORMAT_VERSION = 1
_KEY_LABEL = b"lots-audit-chain-v1"
_CURRENT = object()

# Checked with fullmatch.
_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*")
_OBJECT_TYPE = re.compile(r"[a-z][a-z0-9_]*")
#: Pseudonymous ids only: no spaces and no "@", so names and e-mail addresses do not fit.
_OBJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_FIELD_SET = re.compile(r"[a-z][a-z0-9_]*\.[a-z0-9_]+")
_PERMISSION = re.compile(r"[a-z_.]+:[a-z_.]+")
_DETAIL_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_DETAIL_VALUE = re.compile(r"[A-Za-z0-9_.:,+-]{0,100}")
MAX_PURPOSE = 500

_events = AuditEvent.__table__
_head = AuditHead.__table__


class AuditError(RuntimeError):
    """The audit event could not be written; the action it describes must not go ahead."""


# ------------------------------------------------------------------ the chain


def audit_key() -> bytes:
    """The chain key, derived from LOTS_AUDIT_KEY (configuration, never the database)."""
    secret = current_app.config.get("LOTS_AUDIT_KEY")
    if not secret or len(secret) < 32:
        raise AuditError("LOTS_AUDIT_KEY is missing or shorter than 32 characters")
    return derive_key(secret)


def derive_key(secret: str) -> bytes:
    """Separate the chain key from any other use of the same secret."""
    return _hmac.digest(secret.encode(), _KEY_LABEL, hashlib.sha256)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_encode = json.JSONEncoder(separators=(",", ":")).encode


def canonical_time(value: datetime) -> int:
    """Microseconds since 1970-01-01 UTC: one exact number whichever database stored the time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - _EPOCH) // _MICROSECOND


class ChainMac:
    """HMAC-SHA256 with the key schedule done once (verify computes a million of these)."""

    def __init__(self, key: bytes):
        self._keyed = _hmac.new(key, digestmod=hashlib.sha256)

    def __call__(self, values: Iterable, prev_hmac: str) -> str:
        """The HMAC over the canonical JSON of an event's content followed by the previous HMAC.

        ``values`` is (id, occurred_at as canonical_time, actor_user_id, actor_agency_id,
        action, object_type, object_id, field_sets, permission, purpose, rule, outcome, detail).
        """
        mac = self._keyed.copy()
        mac.update(_encode([FORMAT_VERSION, *values, prev_hmac]).encode())
        return mac.hexdigest()


def event_mac(key: bytes, values: tuple, prev_hmac: str) -> str:
    """One event's HMAC (see ChainMac)."""
    return ChainMac(key)(values, prev_hmac)


# ------------------------------------------------------------------ writing


def _actor(actor: Any):
    if actor is not _CURRENT:
        return actor
    if not has_request_context():
        return None
    from flask_login import current_user

    return current_user if getattr(current_user, "is_authenticated", False) else None


def _check(value: str | None, pattern: re.Pattern, max_len: int, what: str) -> str | None:
    if value is None:
        return None
    value = str(value)
    if len(value) > max_len or not pattern.fullmatch(value):
        raise AuditError(f"invalid audit {what}")
    return value


def _field_sets(names: Iterable[str]) -> str:
    names = sorted({str(n) for n in names})
    for name in names:
        _check(name, _FIELD_SET, 64, "field set name")
    joined = ",".join(names)
    if len(joined) > 500:
        raise AuditError("too many field sets in one audit event")
    return joined


def _detail(detail: Mapping[str, Any] | None) -> str | None:
    if not detail:
        return None
    clean = {}
    for key, value in detail.items():
        _check(key, _DETAIL_KEY, 32, "detail key")
        clean[key] = _check("" if value is None else str(value), _DETAIL_VALUE, 100, "detail value")
    text = json.dumps(clean, sort_keys=True, separators=(",", ":"))
    if len(text) > 300:
        raise AuditError("audit detail too long")
    return text


def record(action: str, *, session: Any = None, **event: Any) -> int:
    """Append one event to the chain in the current transaction and return its id.

    ``event`` takes ``_prepare``'s keywords (object_type, object_id, field_sets, purpose, rule, permission,
    outcome, actor, detail, obj). ``actor`` defaults to the signed-in user (None outside a request, e.g. the
    CLI). The permission and the rule default to what decided in this request (see ``_decided_by``): every
    event names both. ``object_id`` must be a pseudonymous id (case code, UUID, number), never a name;
    given ``obj`` instead, its ``audit_ref`` is used (and the policy rule is explained for that object).
    Raises AuditError (or the database's error) when the event cannot be written.
    """
    return _append(session if session is not None else db.session, *_prepare(action, **event))


def _prepare(
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    field_sets: Iterable[str] = (),
    purpose: str | None = None,
    rule: str | None = None,
    permission: Any = None,
    outcome: AuditOutcome | str = AuditOutcome.ALLOWED,
    actor: Any = _CURRENT,
    detail: Mapping[str, Any] | None = None,
    obj: Any = None,
) -> tuple[bytes, dict[str, Any]]:
    """(key, content) of an event, checked: everything record() does before it takes the head lock."""
    key = audit_key()
    user = _actor(actor)
    field_sets = list(field_sets)
    outcome = AuditOutcome(outcome).value
    if obj is not None and object_type is None and object_id is None:
        object_type, object_id = audit_ref(obj)
    permission, rule, detail = _decided_by(action, user, permission, rule, obj, field_sets, detail)
    if purpose is not None:
        purpose = str(purpose).strip()
        if len(purpose) > MAX_PURPOSE:
            raise AuditError("audit purpose too long")
    return key, {
        "actor_user_id": getattr(user, "id", None),
        "actor_agency_id": getattr(user, "agency_id", None),
        "action": _check(action, _ACTION, 64, "action"),
        "object_type": _check(object_type, _OBJECT_TYPE, 32, "object type"),
        "object_id": _check(object_id, _OBJECT_ID, 64, "object id"),
        "field_sets": _field_sets(field_sets),
        "permission": _check(permission, _PERMISSION, 64, "permission"),
        "purpose": purpose or None,
        "rule": (rule or None) and str(rule)[:200],
        "outcome": outcome,
        "detail": _detail(detail),
    }


def _append(session: Any, key: bytes, content: Mapping[str, Any]) -> int:
    """Link a prepared event to the chain: lock the head, insert, move the head. Returns the event's id."""
    # Lock the head first: from here until commit no other writer can append.
    head = session.execute(
        update(_head).where(_head.c.id == 1).values(seq=_head.c.seq + 1).returning(_head.c.seq, _head.c.last_hmac)
    ).one_or_none()
    if head is None:
        raise AuditError("audit_head row is missing; run `flask --app wsgi db upgrade`")
    seq, prev_hmac = head
    occurred_at = utcnow()
    mac = event_mac(key, (seq, canonical_time(occurred_at), *content.values()), prev_hmac)
    session.execute(insert(_events).values(id=seq, occurred_at=occurred_at, prev_hmac=prev_hmac, hmac=mac, **content))
    session.execute(update(_head).where(_head.c.id == 1).values(last_hmac=mac))
    return seq


def _decided_by(action: str, user: Any, permission: Any, rule: str | None, obj: Any, field_sets: Iterable[str],
               detail: Mapping[str, Any] | None) -> tuple[str, str, Mapping[str, Any] | None]:
    """The permission and the rule that decided, for every event (tests/security/test_audit_rules.py checks it).

    In a request: the permission given, else the route's declared one; the rule is the policy line that decided
    it in this request (noted by authorize() and the field-set reads), else the line the gate gives now. When
    an emergency access opened a field set the event covers, the event names that field-set grant and its
    emergency-access line, and the access. Public endpoints (login) name their entry in PUBLIC_ENDPOINTS; the
    command line names the command; anything else is a job of the application itself ("system").
    """
    from app.security.authz import FIELDSET_READ, PUBLIC_ENDPOINTS, noted_decision, noted_fieldset_lines

    permission = str(permission) if permission is not None else None
    if has_request_context():
        from flask import g, request

        permission = permission or g.get("lots_route_permission")
        sets = {str(name) for name in field_sets}
        emergency = {name: line for name, line in noted_fieldset_lines().items()
                     if name in sets and ", emergency_access, " in line}
        if emergency and rule is None:
            name = sorted(emergency)[0]
            permission, rule = FIELDSET_READ + name, emergency[name]
            access = _active_emergency(obj, user)
            if access is not None:
                detail = {**(detail or {}), "emergency": str(access.id)}
        if permission is None and request.endpoint in PUBLIC_ENDPOINTS:
            permission = f"public:{request.endpoint}"
            rule = rule or f"public: {PUBLIC_ENDPOINTS[request.endpoint]}"
        if permission and rule is None:
            noted = noted_decision(permission)
            if noted is not None:
                rule = noted[0]
            elif user is not None:
                rule = explain(user, permission, obj)
    elif user is not None and permission and rule is None:
        rule = explain(user, permission, obj)
    elif user is None:
        # No request and no user: no policy decision was made. Who acted is the operator at the command line
        # (its command is the "permission"), or the application itself (a background job).
        command = _cli_command()
        if command:
            permission = "cli:" + command
            rule = f"cli: flask {command.replace('.', ' ')} (an operator with shell access to the server)"
        else:
            permission, rule = None, None
    if not permission:
        permission = "system:" + action.split(".")[0]
        rule = rule or "system: a job of the application, outside any request or command"
    return permission, rule or "default-deny", detail


def _active_emergency(obj: Any, user: Any):
    case = getattr(obj, "case", None) or obj
    check = getattr(case, "active_emergency", None)
    return check(user.id) if check is not None and user is not None else None


def _cli_command() -> str | None:
    """The running `flask` subcommand as "group.command" (e.g. "retention.run"), or None."""
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    cleaned = [re.sub(r"[^a-z_]", "_", n.lower()) for n in reversed(names) if n]
    return ".".join(cleaned)[:50] or None


def audited_read(action: str, produce: Callable[[], T], **event: Any) -> T:
    """Produce the response of a read, then append its event; if the event cannot be written, the response
    is discarded and the error raised (the data is not shown).

    The event is settled and checked first, as things stand before anything is produced: the key, the
    values, the permission and the policy line that allowed the read (a render that decides more does not
    change them); an invalid event produces nothing. Then ``produce()`` runs (the render, a PDF) with no
    lock held, then the request's own changes are flushed, and only then is the head locked and the event
    inserted. The caller returns the response and the request commits (app.web), so the head lock is held
    for the insert and the commit, not the render. A streamed body (the CSV export) starts after the commit.
    """
    session = event.pop("session", None)
    session = session if session is not None else db.session
    key, content = _prepare(action, **event)
    produced = produce()
    try:
        session.flush()  # before the lock: the commit then has only the event's own rows to write
        _append(session, key, content)
    except BaseException:
        _discard(produced)
        raise
    return produced


def _discard(produced: Any) -> None:
    """Close a response that must not be sent (its spooled file, its stream), or each part of a (body, status)."""
    for part in produced if isinstance(produced, tuple) else (produced,):
        close = getattr(part, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001 - the audit error is the one to report
                pass


# ------------------------------------------------------------------ policy context


def audit_ref(obj: Any) -> tuple[str | None, str | None]:
    """(object_type, object_id) for an object: its ``audit_ref`` if it has one, else table and id."""
    if obj is None:
        return None, None
    ref = getattr(obj, "audit_ref", None)
    if ref is not None:
        return ref() if callable(ref) else ref
    table = getattr(obj, "__tablename__", None)
    ident = getattr(obj, "id", None)
    if table:
        return table[:32], None if ident is None else str(ident)
    return None, None


def explain(user: Any, permission: Any, obj: Any = None, **context: Any) -> str:
    """The policy line behind the gate's answer for this user, or ``default-deny``."""
    from app.security.authz import gate

    return gate().explain(user, permission, obj, **context)


def record_denial(permission: Any, obj: Any = None, *, rule: str | None = None, **context: Any) -> None:
    """Log a refusal by the policy gate (called by authorize() and check_write() before the 403)."""
    user = _actor(_CURRENT)
    object_type, object_id = audit_ref(obj)
    record(
        "access.denied",
        object_type=object_type,
        object_id=object_id,
        field_sets=[context["fieldset"]] if context.get("fieldset") else (),
        permission=permission,
        rule=rule or explain(user, permission, obj, **context),
        outcome=AuditOutcome.DENIED,
        actor=user,
    )


def auth_hook(action: str, user: Any, detail: Mapping[str, Any]) -> None:
    """Login succeeded / failed (with the factor) / logout, from app.security.authn."""
    record(
        action,
        object_type="user",
        object_id=None if user is None else user.id,
        actor=user,
        outcome=AuditOutcome.FAILED if action == "login.failed" else AuditOutcome.ALLOWED,
        detail=detail,
    )


# ------------------------------------------------------------------ verification


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    head_seq: int
    head_hmac: str
    first_bad_id: int | None = None
    problem: str | None = None


#: The columns verify reads, in HMAC order. The time is turned into canonical_time by the
#: database itself, so no datetime objects are built for a million rows.
_VERIFY_SQL = (
    "SELECT id, {time}, actor_user_id, actor_agency_id, action, object_type, object_id, field_sets, "
    "permission, purpose, rule, outcome, detail, prev_hmac, hmac FROM audit_event ORDER BY id"
)
_TIME_SQL = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM occurred_at) * 1000000 AS BIGINT)",
    # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC) on SQLite. strftime() gets the whole
    # seconds only: it rounds fractions to milliseconds, so .9995 s and up would become the next second.
    "sqlite": (
        "CAST(strftime('%s', substr(occurred_at, 1, 19)) AS INTEGER) * 1000000"
        " + CAST(substr(occurred_at, 21, 6) AS INTEGER)"
    ),
}


def stream_events(connection, batch: int = 20_000) -> Iterator[tuple]:
    """Every event as a plain tuple in id order, through a server-side cursor on PostgreSQL.

    Goes below SQLAlchemy's result layer on purpose: verify's cost should be the
    HMACs, not building a million Row objects.
    """
    dialect = connection.dialect.name
    if dialect not in _TIME_SQL:
        raise AuditError(f"audit verification does not support {dialect}")
    sql = _VERIFY_SQL.format(time=_TIME_SQL[dialect])
    raw = connection.connection.driver_connection
    if dialect == "postgresql":
        cursor = raw.cursor(name=f"lots_audit_verify_{secrets.token_hex(4)}")
        cursor.itersize = batch
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def verify_chain(connection, key: bytes, *, batch: int = 20_000, anchors: Mapping[int, str] | None = None) -> VerifyResult:
    """Check the whole chain in id order; stop at the first event that was altered, removed or moved.

    The head is read first, so events appended while this runs are checked too
    but never reported as missing. ``anchors`` maps event ids to HMACs noted
    earlier outside the database (they catch a rewritten tail of the log).
    """
    head = connection.execute(select(_head.c.seq, _head.c.last_hmac).where(_head.c.id == 1)).one_or_none()
    if head is None:
        return VerifyResult(False, 0, 0, "", None, "the chain head row (audit_head) is missing")
    head_seq, head_hmac = head
    anchors = {int(k): v.lower() for k, v in (anchors or {}).items()}
    keyed, encode = _hmac.new(key, digestmod=hashlib.sha256), _encode
    expected, prev, mac_at_head, checked = 1, GENESIS_HMAC, None, 0
    events = stream_events(connection, batch)

    def fail(event_id: int, problem: str) -> VerifyResult:
        events.close()
        return VerifyResult(False, checked, head_seq, head_hmac, event_id, problem)

    for row in events:
        event_id = row[0]
        if event_id != expected:
            if event_id > expected:
                return fail(expected, f"event {expected} is missing (the next event is {event_id})")
            return fail(event_id, f"event {event_id} is out of order")
        if row[13] != prev:
            return fail(event_id, f"event {event_id} does not link to event {event_id - 1}")
        mac = row[14]
        # Inlined ChainMac.__call__: this line runs once per event.
        computed = keyed.copy()
        computed.update(encode([FORMAT_VERSION, *row[:13], prev]).encode())
        if computed.hexdigest() != mac:
            return fail(event_id, f"event {event_id} was altered (its HMAC does not match its content)")
        if event_id == head_seq:
            mac_at_head = mac
        if anchors and event_id in anchors and not _hmac.compare_digest(mac, anchors[event_id]):
            return fail(event_id, f"event {event_id} differs from the anchor noted earlier")
        prev = mac
        expected += 1
        checked += 1

    last = expected - 1
    if last < head_seq:
        return VerifyResult(
            False, checked, head_seq, head_hmac, last + 1, f"events {last + 1}..{head_seq} are missing at the end of the log"
        )
    expected_head_hmac = mac_at_head if head_seq else GENESIS_HMAC
    if head_hmac != expected_head_hmac:
        return VerifyResult(False, checked, head_seq, head_hmac, head_seq or None, "the chain head does not match the log")
    beyond = [i for i in anchors if i > last]
    if beyond:
        return VerifyResult(
            False, checked, head_seq, head_hmac, last + 1,
            f"events {last + 1}..{max(beyond)} are missing: an anchor was noted for event {max(beyond)}",
        )
    return VerifyResult(True, checked, head_seq, head_hmac)


def init_app(app) -> None:
    app.extensions["lots_audit_hook"] = auth_hook
