"""One TOTP code logs in once, even when several logins send it at the same instant.

The pentest logged in 2 of 4 parallel sessions with one code on PostgreSQL with two gunicorn workers: the
last-used time step was read, checked and written without a lock. Here several browsers (test clients in
threads, each request on its own database connection) reach the TOTP step, then send the same code at once,
against an app on a database of its own with committed data. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
import time

import pyotp
from sqlalchemy import select

from tests.conftest import PASSWORD, csrf_from, separate_app

SESSIONS = 6


def _user(app):
    from flask_security import hash_password

    from app.admin.models import Agency, AgencyKind
    from app.extensions import db, security
    from app.security.models import Role, User

    key = pyotp.random_base32()
    with app.app_context():
        agency = Agency(name="Myndighet TOTP", kind=AgencyKind.SOCIAL_SERVICES)
        user = User(email="totp-race@example.org", full_name="Test Användare", password=hash_password(PASSWORD),
                    active=True, fs_uniquifier="totp-race-user", agency=agency,
                    roles=list(db.session.scalars(select(Role).where(Role.name == "coordinator"))))
        user.tf_totp_secret = security._totp_factory._totp(key=key, format="base32").to_json(encrypt=True)
        user.tf_primary_method = "authenticator"
        user.mf_recovery_codes = ["fiktiv-reservkod-1"]  # enrolled: codes saved
        db.session.add(user)
        db.session.commit()
    return key


def _to_totp_step(app):
    """A browser of its own, past the password step; returns (client, CSRF token of the TOTP form)."""
    client = app.test_client()
    page = client.get("/login")
    resp = client.post("/login", data={"email": "totp-race@example.org", "password": PASSWORD,
                                       "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302 and "tf-validate" in resp.headers["Location"], resp.status_code
    return client, csrf_from(client.get(resp.headers["Location"]).text)


def test_one_code_sent_by_parallel_logins_is_accepted_once():
    from app.extensions import limiter

    with separate_app("totp") as app:
        key = _user(app)
        limiter.reset()
        # More than one login with one code is the defect, always. None at all says nothing about the guard
        # (a code drawn as its step ends, or a loaded machine's SQLite refusing every writer): that attempt is
        # made once more, with new sessions and the next step's code.
        for attempt in range(2):
            answers = _race(app, key, fresh_step=attempt > 0)
            assert sum(answers) <= 1, f"{sum(answers)} of {SESSIONS} parallel logins got in with one code"
            if sum(answers) == 1:
                break
        assert sum(answers) == 1, f"{sum(answers)} of {SESSIONS} parallel logins got in with one code"


def _race(app, key, *, fresh_step: bool) -> list[int]:
    browsers = [_to_totp_step(app) for _ in range(SESSIONS)]
    # The code must still be the current one when the requests arrive: a code made in the last seconds of
    # its 30-second step could reach the server in the next step, and no login would get in.
    left = 30 - time.time() % 30
    if fresh_step or left < 10:
        time.sleep(left + 0.5)
    code = pyotp.TOTP(key).now()
    start = threading.Barrier(SESSIONS)
    answers: list[int] = []
    lock = threading.Lock()

    def send(client, token):
        start.wait()
        resp = client.post("/tf-validate", data={"code": code, "csrf_token": token})
        signed_in = resp.status_code == 302 and "tf-validate" not in resp.headers.get("Location", "") \
            and client.get("/").status_code == 200
        with lock:
            answers.append(1 if signed_in else 0)

    threads = [threading.Thread(target=send, args=b) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == SESSIONS
    return answers
