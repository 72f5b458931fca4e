"""The tamper-evident audit log: chaining, verification, concurrency, fail-closed writes, auth hooks."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.audit.models import AuditEvent, AuditHead
from app.extensions import db as _db
from app.security import audit
from app.security.audit import AuditError, audit_key, audited_read, record, verify_chain
from tests.conftest import PASSWORD, csrf_from, login

#: These tests write and tamper with events by hand to test the log itself (the rule check is in test_audit_rules).
pytestmark = pytest.mark.audit_rules_unchecked

# ---------------------------------------------------------------- helpers


def _record_many(app, n: int, **event) -> list[int]:
    with app.app_context():
        return [record("case.read", object_type="case", object_id=f"K-{i:04d}", actor=None, **event) for i in range(n)]


def _verify(app, session, **kwargs):
    with app.app_context():
        return verify_chain(session.connection(), audit_key(), **kwargs)


@contextmanager
def _append_only_off(session):
    """Simulate someone with database rights who gets past the append-only triggers."""
    dialect = session.connection().dialect.name
    if dialect == "postgresql":
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        session.execute(text("ALTER TABLE audit_head DISABLE TRIGGER USER"))
        yield
        session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
        session.execute(text("ALTER TABLE audit_head ENABLE TRIGGER USER"))
    else:
        triggers = session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_event', 'audit_head')")
        ).all()
        for name, _sql in triggers:
            session.execute(text(f'DROP TRIGGER "{name}"'))
        yield
        for _name, sql in triggers:
            session.execute(text(sql))


def _events_since(session, first_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.id >= first_id).order_by(AuditEvent.id)))


def _next_id(session) -> int:
    return session.scalar(select(AuditHead.seq)) + 1


# ---------------------------------------------------------------- the chain


def test_chain_of_many_events_verifies(app, db):
    ids = _record_many(app, 300)
    assert ids == list(range(ids[0], ids[0] + 300)), "ids are consecutive positions in the chain"
    result = _verify(app, db)
    assert result.ok, result.problem
    assert result.head_seq == ids[-1] and result.checked >= 300


def test_each_event_links_to_the_previous_ones_hmac(app, db):
    ids = _record_many(app, 3)
    events = _events_since(db, ids[0])
    assert events[1].prev_hmac == events[0].hmac and events[2].prev_hmac == events[1].hmac
    assert db.scalar(select(AuditHead.last_hmac)) == events[2].hmac


@pytest.mark.parametrize(
    "column, value",
    [
        ("object_id", "K-9999"),
        ("actor_user_id", 4242),
        ("action", "case.update"),
        ("purpose", "efterhandskonstruktion"),
        ("occurred_at", "2020-01-01 00:00:00"),
        ("outcome", "denied"),
        ("hmac", "f" * 64),
    ],
)
def test_altering_any_field_is_detected_at_that_event(app, db, column, value):
    ids = _record_many(app, 20)
    victim = ids[7]
    with _append_only_off(db):
        db.execute(text(f"UPDATE audit_event SET {column} = :v WHERE id = :id"), {"v": value, "id": victim})
    result = _verify(app, db)
    assert not result.ok
    assert result.first_bad_id == victim, result.problem


def test_deleting_an_event_is_detected_and_names_the_missing_event(app, db):
    ids = _record_many(app, 20)
    with _append_only_off(db):
        db.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[5]})
    result = _verify(app, db)
    assert not result.ok
    assert result.first_bad_id == ids[5]
    assert f"event {ids[5]} is missing" in result.problem


def test_deleting_the_newest_events_is_detected_through_the_chain_head(app, db):
    ids = _record_many(app, 10)
    with _append_only_off(db):
        db.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": ids[-3]})
    result = _verify(app, db)
    assert not result.ok
    assert result.first_bad_id == ids[-3]


def test_swapping_two_events_is_detected_at_the_first_of_them(app, db):
    ids = _record_many(app, 20)
    a, b = ids[4], ids[9]
    with _append_only_off(db):
        db.execute(text("UPDATE audit_event SET id = -1 WHERE id = :a"), {"a": a})
        db.execute(text("UPDATE audit_event SET id = :a WHERE id = :b"), {"a": a, "b": b})
        db.execute(text("UPDATE audit_event SET id = :b WHERE id = -1"), {"b": b})
    result = _verify(app, db)
    assert not result.ok
    assert result.first_bad_id == a


def test_swapping_the_contents_of_two_neighbours_is_detected(app, db):
    ids = _record_many(app, 10)
    a, b = ids[3], ids[4]
    cols = "occurred_at, object_id"
    with _append_only_off(db):
        row_a = db.execute(text(f"SELECT {cols} FROM audit_event WHERE id = :id"), {"id": a}).one()
        row_b = db.execute(text(f"SELECT {cols} FROM audit_event WHERE id = :id"), {"id": b}).one()
        for target, row in ((a, row_b), (b, row_a)):
            db.execute(
                text("UPDATE audit_event SET occurred_at = :t, object_id = :o WHERE id = :id"),
                {"t": row[0], "o": row[1], "id": target},
            )
    result = _verify(app, db)
    assert not result.ok and result.first_bad_id == a


def test_a_forged_event_appended_without_the_key_is_detected(app, db):
    ids = _record_many(app, 3)
    last = _events_since(db, ids[-1])[0]
    forged = ids[-1] + 1
    with _append_only_off(db):
        db.execute(
            text(
                "INSERT INTO audit_event (id, occurred_at, action, field_sets, outcome, prev_hmac, hmac) "
                "VALUES (:id, :t, 'case.read', '', 'allowed', :prev, :mac)"
            ),
            {"id": forged, "t": last.occurred_at, "prev": last.hmac, "mac": "a" * 64},
        )
        db.execute(text("UPDATE audit_head SET seq = :id, last_hmac = :mac"), {"id": forged, "mac": "a" * 64})
    result = _verify(app, db)
    assert not result.ok and result.first_bad_id == forged


def test_a_different_key_fails_verification(app, db):
    _record_many(app, 2)
    with app.app_context():
        result = verify_chain(db.connection(), audit.derive_key("another key " * 4))
    assert not result.ok


def test_anchor_noted_earlier_catches_a_rewritten_log(app, db):
    ids = _record_many(app, 5)
    noted = _events_since(db, ids[2])[0].hmac
    assert _verify(app, db, anchors={ids[2]: noted}).ok
    result = _verify(app, db, anchors={ids[2]: "0" * 64})
    assert not result.ok and result.first_bad_id == ids[2]
    # Only the whole HMAC is an anchor: a prefix of the right one no longer passes (pentest finding 7).
    assert not _verify(app, db, anchors={ids[2]: noted[:32]}).ok


def test_anchor_catches_a_truncated_log_whose_head_was_rewritten_to_match(app, db):
    ids = _record_many(app, 6)
    anchor = {ids[-1]: _events_since(db, ids[-1])[0].hmac}
    with _append_only_off(db):
        db.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": ids[3]})
        db.execute(
            text("UPDATE audit_head SET seq = :id, last_hmac = (SELECT hmac FROM audit_event WHERE id = :id)"),
            {"id": ids[2]},
        )
    assert _verify(app, db).ok, "without an anchor a clean cut at the end cannot be told from a shorter log"
    result = _verify(app, db, anchors=anchor)
    assert not result.ok and result.first_bad_id == ids[3]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'x' WHERE id = :id",
        "DELETE FROM audit_event WHERE id = :id",
        "DELETE FROM audit_head",
        "UPDATE audit_head SET seq = 0",
    ],
)
def test_database_refuses_to_change_or_delete_events(app, db, statement):
    ids = _record_many(app, 1)
    with pytest.raises(DBAPIError, match="append-only|cannot be deleted|only move forward"):
        with db.begin_nested():
            db.execute(text(statement), {"id": ids[0]})


@pytest.mark.parametrize("micro", [0, 1, 499_999, 500_000, 999_499, 999_500, 999_999])
def test_database_and_python_agree_on_the_canonical_time(app, db, micro):
    """verify reads the time as the database computes it; record() hashes it as Python does."""
    when = datetime(2026, 3, 29, 0, 59, 59, micro, tzinfo=timezone.utc)
    dialect = db.connection().dialect.name
    if dialect == "sqlite":
        value, row = when.strftime("%Y-%m-%d %H:%M:%S.%f"), "SELECT :t AS occurred_at"
    else:
        value, row = when, "SELECT CAST(:t AS timestamptz) AS occurred_at"
    computed = db.execute(text(f"SELECT {audit._TIME_SQL[dialect]} FROM ({row}) AS e"), {"t": value}).scalar()
    assert computed == audit.canonical_time(when)


# ---------------------------------------------------------------- the CLI


def test_cli_verify_reports_ok_and_the_chain_head(app, db):
    ids = _record_many(app, 4)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Audit log OK" in result.output
    assert f"Chain head: event {ids[-1]}" in result.output


def test_cli_verify_exits_non_zero_naming_the_first_bad_event(app, db):
    ids = _record_many(app, 12)
    with _append_only_off(db):
        db.execute(text("UPDATE audit_event SET object_id = 'K-X' WHERE id IN (:a, :b)"), {"a": ids[6], "b": ids[9]})
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"FAILED at event {ids[6]}" in result.output


def test_cli_verify_refuses_a_malformed_anchor(app, db):
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--anchor", "12:not-hex"])
    assert result.exit_code == 2


def test_cli_verify_prints_the_whole_hmac_and_says_what_it_cannot_see_without_an_anchor(app, db):
    ids = _record_many(app, 3)
    head = _events_since(db, ids[-1])[0].hmac
    plain = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert plain.exit_code == 0, plain.output
    assert f"--anchor {ids[-1]}:{head}" in plain.output and len(head) == 64
    assert "cannot be detected" in plain.output


def test_cli_verify_requires_the_whole_hmac_as_anchor(app, db):
    ids = _record_many(app, 3)
    head = _events_since(db, ids[-1])[0].hmac
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify", "--anchor", f"{ids[-1]}:{head[:32]}"]).exit_code == 2
    anchored = runner.invoke(args=["audit", "verify", "--anchor", f"{ids[-1]}:{head}"])
    assert anchored.exit_code == 0, anchored.output
    assert "cannot be detected" not in anchored.output


# ---------------------------------------------------------------- what an event may contain


@pytest.mark.parametrize(
    "kwargs",
    [
        {"object_id": "anna.andersson@example.org"},
        {"object_id": "Anna Andersson"},
        {"object_id": "K-1\n"},
        {"object_id": "K" * 65},
        {"field_sets": ["Person identity"]},
        {"detail": {"email": "anna@example.org"}},
        {"detail": {"name": "Anna Andersson"}},
        {"action": "Case Read"},
        {"purpose": "x" * 501},
    ],
)
def test_record_refuses_values_that_could_carry_personal_data(app, db, kwargs):
    event = {"action": "case.read", "object_type": "case", **kwargs}
    with app.app_context(), pytest.raises(AuditError):
        record(event.pop("action"), actor=None, **event)


def test_record_stores_field_set_names_sorted_and_never_values(app, db):
    with app.app_context():
        event_id = record("case.read", object_type="case", object_id="K-1",
                          field_sets=["person.identity", "case.summary"], actor=None)
    assert db.get(AuditEvent, event_id).field_sets == "case.summary,person.identity"


def test_missing_audit_key_refuses_to_write(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOTS_AUDIT_KEY", "")
    with app.app_context(), pytest.raises(AuditError, match="LOTS_AUDIT_KEY"):
        record("case.read", actor=None)


# ---------------------------------------------------------------- fail closed


def test_audited_read_produces_nothing_when_the_event_cannot_be_written(app, db, monkeypatch):
    def broken_key():
        raise AuditError("key store unavailable")

    monkeypatch.setattr(audit, "audit_key", broken_key)
    produced = []
    with app.app_context(), pytest.raises(AuditError):
        audited_read("case.read", lambda: produced.append("the data"), object_type="case", object_id="K-1", actor=None)
    assert produced == []


def _break_key(monkeypatch):
    def broken():
        raise AuditError("key store unavailable")

    monkeypatch.setattr(audit, "audit_key", broken)


def _break_insert(monkeypatch):
    missing = Table("audit_event_gone", MetaData(), Column("id", Integer, primary_key=True))
    monkeypatch.setattr(audit, "_events", missing)


@pytest.mark.parametrize("breakage", [_break_key, _break_insert], ids=["key", "insert"])
def test_read_path_returns_an_error_and_no_data_when_audit_write_fails(app, db, client, login_as, monkeypatch, breakage):
    login_as("auditor")
    with app.app_context():
        record("case.read", object_type="case", object_id="K-SECRET-7", actor=None)
    breakage(monkeypatch)
    resp = client.get("/audit/access?object_id=K-SECRET-7")
    assert resp.status_code == 500
    # Only the error page: none of the report (the URL itself is echoed by the language switch).
    assert "Sammanställning" not in resp.text and "Antal händelser" not in resp.text
    assert "case.read" not in resp.text and "<table" not in resp.text


# ---------------------------------------------------------------- render, then record, then commit


def _spy_on_append(monkeypatch, order: list[str]) -> None:
    real = audit._append

    def spy(session, key, content):
        order.append("append " + content["action"])
        return real(session, key, content)

    monkeypatch.setattr(audit, "_append", spy)


def test_audited_read_produces_first_and_appends_the_event_right_after(app, db, monkeypatch):
    """The render runs before the event is written: while it runs the head is untouched (so not locked)."""
    order: list[str] = []
    _spy_on_append(monkeypatch, order)
    before = db.scalar(select(AuditHead.seq))

    def produce():
        order.append("produce")
        # Nothing of this read's event exists yet: the head has not moved and no event follows it.
        assert db.scalar(select(AuditHead.seq)) == before
        assert db.scalar(select(AuditEvent.id).where(AuditEvent.id > before)) is None
        return "the page"

    with app.app_context():
        assert audited_read("case.read", produce, object_type="case", object_id="K-1", actor=None) == "the page"
    assert order == ["produce", "append case.read"]
    assert db.scalar(select(AuditHead.seq)) == before + 1
    assert db.get(AuditEvent, before + 1).object_id == "K-1"


def test_an_invalid_event_is_refused_before_anything_is_produced(app, db):
    produced = []
    with app.app_context(), pytest.raises(AuditError, match="object id"):
        audited_read("case.read", lambda: produced.append("the data"), object_type="case",
                     object_id="Kalle Karlsson", actor=None)
    assert produced == []


class _Body:
    """A response body that notes whether it was closed (a spooled file, a stream)."""

    closed = False

    def close(self):
        self.closed = True


@pytest.mark.parametrize("as_tuple", [False, True], ids=["response", "response-and-status"])
def test_a_response_produced_before_a_failed_append_is_discarded(app, db, monkeypatch, as_tuple):
    """Invariant 3 with the render first: the append fails after produce(), so the response is closed and the
    error raised; the caller never gets the data."""
    body = _Body()
    _break_insert(monkeypatch)
    returned = []
    with app.app_context(), pytest.raises(SQLAlchemyError):
        returned.append(audited_read("case.read", lambda: (body, 200) if as_tuple else body,
                                     object_type="case", object_id="K-1", actor=None))
    assert returned == [] and body.closed


def test_the_page_is_rendered_before_its_event_and_committed_after(app, db, client, login_as, monkeypatch):
    """Through a real route: the render comes first, then the event; the request's commit makes it durable."""
    import app.audit.views as views

    login_as("auditor")
    order: list[str] = []
    _spy_on_append(monkeypatch, order)
    render = views._events_page

    def spy_render(*args, **kwargs):
        order.append("render")
        return render(*args, **kwargs)

    monkeypatch.setattr(views, "_events_page", spy_render)
    resp = client.get("/audit/events?action=case.read")
    assert resp.status_code == 200
    assert order == ["render", "append audit.search"]


def test_another_writer_appends_while_a_read_renders(app):
    """The render holds no lock: while one worker renders (a slow PDF), another appends and commits; the
    reader's event follows it in the chain, and the chain verifies."""
    with app.app_context():
        before = _db.session.scalar(select(AuditHead.seq))
        _db.session.rollback()
    rendering, written = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        def produce():
            rendering.set()
            assert written.wait(15), "the other writer waited for this render"
            return "the pdf"

        try:
            with app.app_context():
                assert audited_read("plan.export", produce, object_type="case", object_id="K-READ", actor=None) \
                    == "the pdf"
                _db.session.commit()
                _db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def writer() -> None:
        try:
            assert rendering.wait(15)
            with app.app_context():
                record("case.read", object_type="case", object_id="K-WRITE", actor=None)
                _db.session.commit()
                _db.session.remove()
            written.set()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    assert not errors, errors

    with app.app_context():
        result = verify_chain(_db.session.connection(), audit_key())
        order = _db.session.scalars(select(AuditEvent.object_id).where(AuditEvent.id > before)
                                    .order_by(AuditEvent.id)).all()
        _db.session.rollback()
    assert result.ok, result.problem
    assert order == ["K-WRITE", "K-READ"]


# ---------------------------------------------------------------- concurrent writers


def test_concurrent_writers_keep_one_valid_chain(app):
    """Threads with their own sessions and connections, each committing, as gunicorn workers would."""
    threads_n, per_thread = 8, 25
    with app.app_context():
        before = _db.session.scalar(select(AuditHead.seq))
        _db.session.rollback()
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for i in range(per_thread):
                    record("test.concurrent", object_type="test", object_id=f"T{n}-{i}", actor=None)
                    _db.session.commit()
                _db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not errors, errors

    with app.app_context():
        result = verify_chain(_db.session.connection(), audit_key())
        written = _db.session.scalars(
            select(AuditEvent.object_id).where(AuditEvent.id > before, AuditEvent.action == "test.concurrent")
        ).all()
        _db.session.rollback()
    assert result.ok, result.problem
    assert result.head_seq == before + threads_n * per_thread
    assert sorted(written) == sorted(f"T{n}-{i}" for n in range(threads_n) for i in range(per_thread))


# ---------------------------------------------------------------- login, logout, denials


def _all_text(events) -> str:
    cols = [c.name for c in AuditEvent.__table__.columns]
    return " ".join(str(getattr(e, c)) for e in events for c in cols)


def test_login_success_and_logout_are_logged_without_personal_data(app, db, client, factory):
    user = factory.user(roles=("coordinator",), email="kalle.karlsson@example.org")
    first = _next_id(db)
    assert login(client, user).status_code == 302
    page = client.get("/")
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    events = _events_since(db, first)
    actions = [e.action for e in events]
    assert "login.succeeded" in actions and "logout" in actions
    ok = next(e for e in events if e.action == "login.succeeded")
    assert ok.actor_user_id == user.id and ok.actor_agency_id == user.agency_id
    assert ok.object_type == "user" and ok.object_id == str(user.id)
    text_ = _all_text(events)
    assert "kalle.karlsson" not in text_ and "@" not in text_ and user.full_name not in text_


def test_failed_password_is_logged_with_the_factor_and_no_email(app, db, client, factory):
    user = factory.user(email="lisa.larsson@example.org")
    first = _next_id(db)
    page = client.get("/login")
    client.post("/login", data={"email": user.email, "password": "wrong password here", "csrf_token": csrf_from(page.text)})
    events = _events_since(db, first)
    failed = [e for e in events if e.action == "login.failed"]
    assert len(failed) == 1
    assert failed[0].outcome.value == "failed" and failed[0].detail == '{"factor":"password"}'
    assert failed[0].object_id == str(user.id)
    assert "@" not in _all_text(events)


def test_failed_totp_code_is_logged_as_the_second_factor(app, db, client, factory):
    user = factory.user(email="nils.nilsson@example.org")
    first = _next_id(db)
    resp = login(client, user, password=PASSWORD, code="000000")
    assert resp.status_code != 302 or "tf-validate" in resp.headers.get("Location", "")
    failed = [e for e in _events_since(db, first) if e.action == "login.failed"]
    assert failed and failed[-1].detail == '{"factor":"totp"}'
    assert "@" not in _all_text(_events_since(db, first))


def test_permission_denial_is_logged_and_committed_despite_the_403(app, db, client, login_as):
    user = login_as("coordinator")
    first = _next_id(db)
    assert client.get("/audit/events").status_code == 403
    # The request boundary committed: rolling back the test's current transaction keeps the event.
    db.rollback()
    denied = [e for e in _events_since(db, first) if e.action == "access.denied"]
    assert len(denied) == 1
    event = denied[0]
    assert event.outcome.value == "denied"
    assert event.permission == "audit:read"
    assert event.rule == "default-deny"
    assert event.actor_user_id == user.id
    assert "@" not in _all_text(denied)


def test_denial_on_an_object_names_it_by_its_pseudonymous_ref(app, db, factory):
    from flask_login import login_user
    from werkzeug.exceptions import Forbidden

    from app.security.authz import authorize
    from app.security.permissions import Permission

    class Case:
        audit_ref = ("case", "K-2026-0099")

    user = factory.user(roles=("partner",), kind="police")
    first = _next_id(db)
    with app.test_request_context():
        login_user(user)
        with pytest.raises(Forbidden):
            authorize(Permission.AUDIT_EXPORT, Case())
    [event] = _events_since(db, first)
    assert (event.action, event.object_type, event.object_id) == ("access.denied", "case", "K-2026-0099")
    assert (event.permission, event.actor_user_id, event.actor_agency_id) == ("audit:export", user.id, user.agency_id)


def test_refused_field_write_is_logged_as_a_denial(app, db, factory):
    from flask_login import login_user
    from werkzeug.exceptions import Forbidden

    class Case:
        audit_ref = ("case", "K-2026-0098")

    user = factory.user(roles=("partner",), kind="police")
    first = _next_id(db)
    with app.test_request_context():
        login_user(user)
        with pytest.raises(Forbidden):
            app.extensions["lots_gate"].check_write(user, Case(), ["no_such_field"])
    [event] = _events_since(db, first)
    assert (event.action, event.outcome.value, event.object_id) == ("access.denied", "denied", "K-2026-0098")
    assert event.permission == "fieldset.write:unknown" and event.rule == "default-deny"


def test_allowed_audited_read_names_the_policy_line_that_allowed_it(app, db, client, login_as):
    login_as("auditor")
    first = _next_id(db)
    assert client.get("/audit/events").status_code == 200
    search = [e for e in _events_since(db, first) if e.action == "audit.search"]
    assert search and search[0].rule == "p, auditor, *, audit:read, always, allow"
    assert search[0].permission == "audit:read"


def test_admin_changes_to_users_are_logged_with_ids_only(app, db, factory):
    from app.admin import service

    agency = factory.agency()
    first = _next_id(db)
    with app.test_request_context():
        user = service.create_user("olle.olsson@example.org", "Olle Olsson", agency, ["partner"], "a long password 123")
        service.update_user(user, "Olle O.", agency, ["partner", "reporter"])
        service.deactivate_user(user)
        service.reactivate_user(user)
        service.reset_mfa(user)
    events = _events_since(db, first)
    assert [e.action for e in events] == [
        "user.created", "user.updated", "user.deactivated", "user.reactivated", "user.mfa_reset"
    ]
    assert {e.object_id for e in events} == {str(user.id)}
    assert events[1].detail == '{"agency":"%d","changed":"full_name,roles","roles":"partner,reporter"}' % agency.id
    text_ = _all_text(events)
    assert "olle" not in text_.lower() and "@" not in text_
