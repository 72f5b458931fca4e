"""Fixtures: app, a database session rolled back per test, client, login_as and factories.

The suite runs on SQLite by default and on PostgreSQL when
LOTS_TEST_DATABASE_URL points at one (`make test` does both).
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pyotp
import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from app import create_app
from app.extensions import db as _db

TEST_DB_URL = os.environ.get("LOTS_TEST_DATABASE_URL")
PASSWORD = "correct horse battery staple"


def _test_config(tmp: Path, url: str) -> dict:
    return {
        "ENV": "test",
        "SQLALCHEMY_DATABASE_URI": url,
        "LOTS_KEY_FILE": str(tmp / "master-keys.json"),
        "RATELIMIT_STORAGE_URI": "memory://",
        # Imports run in the request under test (the background thread has tests of its own).
        "LOTS_IMPORT_SYNC": True,
    }


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _admin_dsn(url) -> str:
    return url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


def worker_database(url: str, suffix: str):
    """A PostgreSQL database of this test process's own, copied from the database ``url`` names.

    ``url``'s database is the template: scripts/test.sh migrates it once (its migration check), and each
    parallel worker (pytest-xdist) gets ``<name>_<suffix>`` with CREATE DATABASE ... TEMPLATE, instead of
    migrating again. Returns (URL of the copy, a callable that drops it).
    """
    import time

    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{suffix}"
    admin = _admin_dsn(base)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for attempt in range(20):
            try:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{base.database}"')
                break
            except psycopg.errors.ObjectInUse:  # another worker is copying the template this instant
                time.sleep(0.25 * (attempt + 1))
        else:
            raise RuntimeError(f"could not copy the template database {base.database}")

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def app():
    tmp = Path(tempfile.mkdtemp(prefix="lots-test-"))
    url = TEST_DB_URL or f"sqlite:///{tmp / 'test.db'}"
    drop = None
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url.startswith("postgresql"):
        if worker:
            url, drop = worker_database(url, worker)
        else:
            _reset_postgres(url)
    app = create_app(_test_config(tmp, url))
    with app.app_context():
        upgrade()  # a no-op on a copy of the migrated template
    yield app
    with app.app_context():
        _db.engine.dispose()
    if drop:
        drop()


@contextmanager
def separate_app(name: str):
    """A second app on an empty, migrated database of its own, for tests that need committed data seen by
    several connections at once (concurrent requests, a real HTTP server). Never use it with the ``db`` or
    ``client`` fixtures: those share one uncommitted connection."""
    import psycopg
    from sqlalchemy.engine import make_url

    tmp = Path(tempfile.mkdtemp(prefix=f"lots-{name}-"))
    url = TEST_DB_URL or f"sqlite:///{tmp / (name + '.db')}"
    drop = None
    if url.startswith("postgresql"):
        base = make_url(url)
        db_name = f"{base.database}_{name}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
        admin = _admin_dsn(base)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db_name}"')
        url = base.set(database=db_name).render_as_string(hide_password=False)

        def drop():
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    other = create_app(_test_config(tmp, url))
    with other.app_context():
        upgrade()
    try:
        yield other
    finally:
        with other.app_context():
            _db.session.remove()
            _db.engine.dispose()
        if drop:
            drop()


class _TestScopedSession(scoped_session):
    """One session per test, shared by the test and every request it makes.

    Flask-SQLAlchemy removes the session when an app context ends; here that
    is a no-op so the test keeps its objects, and the real removal happens
    when the test's outer transaction is rolled back.
    """

    def remove(self):
        pass


@pytest.fixture()
def db(app, request):
    """A session inside a transaction that is rolled back after the test.

    No app context stays pushed during the test: each request gets its own,
    as in production (so flask.g does not leak between requests).
    """
    with app.app_context():
        connection = _db.engine.connect()
    outer = connection.begin()
    session = _TestScopedSession(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint", class_=Session),
        scopefunc=lambda: "test",
    )
    original = _db.session
    _db.session = session
    from app.audit.models import AuditEvent, AuditHead

    first_event = (session.scalar(select(AuditHead.seq)) or 0) + 1
    try:
        yield session
        if request.node.get_closest_marker("audit_rules_unchecked") is None:
            # Every event this test wrote names the permission and rule that decided it (tests/audit_rules.py).
            from tests.audit_rules import event_problems

            events = session.scalars(select(AuditEvent).where(AuditEvent.id >= first_event)).all()
            problems = [p for event in events for p in event_problems(event)]
            assert not problems, "audit events without the permission and rule that decided them:\n" + "\n".join(
                problems)
    finally:
        session.registry().close()
        outer.rollback()
        connection.close()
        _db.session = original


@pytest.fixture()
def client(app, db):
    from app.extensions import limiter

    limiter.reset()
    # Not used as a context manager: a preserved request context would leak
    # flask.g (and the logged-in user) into the next client's requests.
    return app.test_client()


# ---------------------------------------------------------------- factories

class Factory:
    """Builds agencies, users and participants with valid defaults."""

    def __init__(self, app, session):
        self.app = app
        self.session = session

    def agency(self, name=None, kind="social_services", active=True):
        from app.admin.models import Agency, AgencyKind

        agency = Agency(name=name or f"Myndighet {uuid.uuid4().hex[:8]}", kind=AgencyKind(kind), active=active)
        self.session.add(agency)
        self.session.flush()
        return agency

    def user(self, roles=("coordinator",), agency=None, kind="social_services", email=None, password=PASSWORD,
             mfa=True, active=True):
        with self.app.app_context():
            return self._user(roles, agency, kind, email, password, mfa, active)

    def _user(self, roles, agency, kind, email, password, mfa, active):
        from flask_security import hash_password
        from sqlalchemy import select

        from app.extensions import security
        from app.security.models import Role, User

        agency = agency or self.agency(kind=kind)
        role_objs = list(self.session.scalars(select(Role).where(Role.name.in_(roles))))
        assert len(role_objs) == len(roles), f"unknown role in {roles}"
        user = User(
            email=email or f"user-{uuid.uuid4().hex[:10]}@example.org",
            full_name="Test Användare",
            password=hash_password(password),
            active=active,
            fs_uniquifier=uuid.uuid4().hex,
            agency=agency,
            roles=role_objs,
        )
        user.totp_key = None
        if mfa:
            key = pyotp.random_base32()
            totp = security._totp_factory._totp(key=key, format="base32")
            user.tf_totp_secret = totp.to_json(encrypt=True)
            user.tf_primary_method = "authenticator"
            user.totp_key = key
            # An enrolled user has saved recovery codes (else the start page first asks them to create some).
            user.mf_recovery_codes = [f"fiktiv-{uuid.uuid4().hex[:4]}-{n}" for n in range(3)]
        self.session.add(user)
        self.session.flush()
        return user

    def participant(self, **fields):
        """A participant with invented, valid personal data; ``fields`` override it."""
        from datetime import date

        from app.cases.models import Participant, ProtectedIdentity

        with self.app.app_context():
            values = {
                "first_name": "Testa",
                "last_name": f"Påhittsson-{uuid.uuid4().hex[:6]}",
                "personal_number": fake_personal_number(),
                "date_of_birth": date(1999, 1, 31),
                "phone": "070-174 06 99",
                "email": "testa@example.org",
                "street_address": "Testvägen 1",
                "postal_code": "199 99",
                "city": "Norrvik",
                "protected_identity": ProtectedIdentity.NONE,
                "notes": "Fiktiv testperson.",
                **fields,
            }
            participant = Participant(**values)
            self.session.add(participant)
            self.session.flush()
            return participant

    def case(self, coordinator=None, *, participant=None, phase=None, team=(), consents=(), items=(), code=None):
        """A case coordinated by ``coordinator`` (a new coordinator if None).

        ``team``: agencies added to the team. ``consents``: (agency, kinds, given_on, valid_until) tuples.
        ``items``: dicts for PlanItem (part, area, goal, responsible_agency, due_on ...).
        """
        from datetime import date, timedelta

        from app.cases.models import (Case, CasePhase, CaseTeamMember, Consent, ConsentMethod, PlanArea,
                                      PlanItem, PlanPart, ReferralSource)

        coordinator = coordinator or self.user(roles=("coordinator",))
        participant = participant or self.participant()
        with self.app.app_context():
            case = Case(
                data_key=participant.data_key,
                code=code or f"AV-2026-T{uuid.uuid4().hex[:6].upper()}",
                participant=participant,
                coordinator_id=coordinator.id,
                phase=CasePhase(phase or "active"),
                referral_source=ReferralSource.POLICE,
                referred_on=date(2026, 1, 15),
            )
            case.referral_reason = "Fiktiv hänvisning."
            self.session.add(case)
            self.session.add(CaseTeamMember(case=case, agency_id=coordinator.agency_id, officer_id=coordinator.id))
            for agency in team:
                self.session.add(CaseTeamMember(case=case, agency_id=agency.id))
            today = date.today()
            for agency, kinds, given_on, valid_until in consents:
                consent = Consent(data_key=participant.data_key, case=case, agency_id=agency.id,
                                  given_on=given_on or today - timedelta(days=10),
                                  valid_until=valid_until or today + timedelta(days=180),
                                  method=ConsentMethod.WRITTEN)
                consent.kind_set = kinds
                self.session.add(consent)
            for spec in items:
                spec = dict(spec)
                agency = spec.pop("responsible_agency")
                item = PlanItem(data_key=participant.data_key, case=case,
                                part=PlanPart(spec.pop("part", "support")), area=PlanArea(spec.pop("area", "housing")),
                                responsible_agency_id=agency.id,
                                start_on=spec.pop("start_on", today - timedelta(days=30)),
                                due_on=spec.pop("due_on", today + timedelta(days=30)), **spec)
                self.session.add(item)
            self.session.flush()
            self.session.refresh(case)
            return case


def fake_personal_number() -> str:
    """A random, invented 12-digit personal identity number that passes the Luhn check."""
    import random

    from app.cases.identity import luhn_valid

    base = f"{random.randint(50, 99):02d}{random.randint(1, 12):02d}{random.randint(1, 28):02d}{random.randint(900, 999)}"
    check = next(str(c) for c in range(10) if luhn_valid(base + str(c)))
    return "19" + base + check


@pytest.fixture()
def factory(app, db):
    return Factory(app, db)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in page"
    return match.group(1)


def totp_now(user, offset_steps: int = 0) -> str:
    """The user's code for now (or ``offset_steps`` steps away). A code made in the last second of its
    30-second step could reach the server in the next one (the server accepts no neighbouring step), so
    such a code waits for the next step first."""
    import time

    if 30 - time.time() % 30 < 1.0:
        time.sleep(30 - time.time() % 30 + 0.05)
    return pyotp.TOTP(user.totp_key).at(time.time() + 30 * offset_steps)


def login(client, user, password=PASSWORD, code=None):
    """Log in through the real forms: password, then TOTP."""
    page = client.get("/login")
    resp = client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": csrf_from(page.text)}
    )
    if resp.status_code == 302 and "tf-validate" in resp.headers.get("Location", ""):
        page = client.get(resp.headers["Location"])
        resp = client.post(
            "/tf-validate",
            data={"code": code or totp_now(user), "csrf_token": csrf_from(page.text)},
        )
    return resp


def sign_in(client, user) -> None:
    """Log ``user`` in without the login forms, for tests about what a signed-in user gets.

    Flask-Security's own ``login_user`` (password and TOTP as the factors) runs in a
    request like the client's (same address and browser, so session protection
    accepts it): the session, the login audit event and the lifetime stamps are the
    ones a real login makes, committed as at the end of the login request. The forms themselves (password, TOTP, lockout, rate
    limits, replay) are tested through ``login()`` in tests/security and in Chromium.
    """
    from flask import session
    from flask_login import current_user
    from flask_security import login_user

    app = client.application
    with app.test_request_context("/", environ_base=dict(client.environ_base)):
        assert login_user(user, authn_via=["password", "authenticator"])
        assert current_user.is_authenticated and current_user.id == user.id
        _db.session.commit()  # as the login request's boundary does (the login event, the user's counters)
        data = dict(session)
    with client.session_transaction() as sess:
        sess.clear()
        sess.update(data)


@pytest.fixture()
def login_as(client, factory):
    """Create a user with the given role(s) and sign them in (``sign_in``); returns the user."""

    def _login_as(*roles, kind="social_services", **kwargs):
        user = factory.user(roles=roles or ("coordinator",), kind=kind, **kwargs)
        sign_in(client, user)
        return user

    return _login_as
