"""The case page under load and the plan PDF, served by gunicorn, next to a bare Flask route.

    .venv/bin/python -m bench.cases [--cases 5000] [--seconds 10] [--clients 16] [--database-url URL]

Builds a database of 5,000 cases (a throw-away SQLite file in a temporary
directory, or an EMPTY scratch PostgreSQL database given by --database-url or
LOTS_BENCH_DATABASE_URL, wiped afterwards); one case has a plan of 30 items
and 50 notes. Then, with the same gunicorn setup (2 sync workers) and the
same 16 concurrent clients for --seconds each:

- baseline: a bare Flask route returning a short text (``bench.cases:bare_app()``);
- GET /cases/<code>: the full case page of the big case, as its coordinator,
  logged in through the real login form with a TOTP code.

Prints requests/s of both and the ratio (target >= 40 %), then times the plan
PDF (/cases/<code>/plan.pdf, after a fresh login; target < 1.5 s).
The clients share the machine with the server, as in any run on one host.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench import release_database

ROOT = Path(__file__).resolve().parent.parent
RATIO_TARGET = 0.40
PDF_TARGET_S = 1.5
BIG_CASE = "AV-2026-0001"
EMAIL = "bench.samordnare@example.org"
PASSWORD = secrets.token_urlsafe(16)


def bare_app():
    """The baseline: a Flask app with one route and nothing else (gunicorn "bench.cases:bare_app()")."""
    from flask import Flask

    app = Flask("bare")
    app.add_url_rule("/bare", "bare", lambda: "ok")
    return app


# ------------------------------------------------------------------ the database


def _user(agency, roles, email, password=None):
    """A user created as the admin pages create them; with TOTP enrolled when a password is given."""
    import pyotp

    from app.admin import service as admin_service
    from app.extensions import security

    user = admin_service.create_user(email, "Fiktiv Benchanvändare", agency, roles, password or secrets.token_urlsafe())
    user.totp_key = pyotp.random_base32()
    user.tf_totp_secret = security._totp_factory._totp(key=user.totp_key, format="base32").to_json(encrypt=True)
    user.tf_primary_method = "authenticator"
    user.mf_recovery_codes = ["bench-reservkod-1"]  # enrolled: the start page asks for none
    return user


def _case(db, n: int, coordinator: tuple[int, int], agency_ids: list[int], today: date):
    """Case number ``n``: a participant with every field filled, its case in one of the five phases, a team."""
    from app.cases.models import (Case, CasePhase, CaseTeamMember, CaseTransition, Participant, ProtectedIdentity,
                                  ReferralSource)

    person = Participant(
        first_name=f"Fiktiv{n}", last_name="Benchsson", personal_number="19870412-9819",
        date_of_birth=date(1987, 4, 12), phone="070-174 06 99", email="bench@example.org",
        street_address=f"Testvägen {n}", postal_code="199 99", city="Norrvik",
        protected_identity=ProtectedIdentity.NONE, notes="Fiktiv benchmarkperson.",
    )
    phase = list(CasePhase)[n % 5]
    user_id, agency_id = coordinator
    case = Case(data_key=person.data_key, code=f"AV-2026-{n:04d}", participant=person, coordinator_id=user_id,
                phase=phase, referral_source=ReferralSource.POLICE, referred_on=today - timedelta(days=n % 700))
    case.referral_reason = "Fiktiv hänvisning."
    db.session.add_all([person, case,
                        CaseTransition(case=case, from_phase=None, to_phase=CasePhase.REFERRAL, by_id=user_id),
                        CaseTeamMember(case=case, agency_id=agency_id, officer_id=user_id)])
    for team_agency in agency_ids[n % 3: n % 3 + 2]:
        db.session.add(CaseTeamMember(case=case, agency_id=team_agency))
    if phase != CasePhase.REFERRAL:
        db.session.add(CaseTransition(case=case, from_phase=CasePhase.REFERRAL, to_phase=phase, by_id=user_id))
    return case


def _fill_big_case(db, case, author_id: int, agencies: list[int], today: date) -> None:
    """30 plan items in both parts (some with follow-ups), 50 notes, consents, assessments, versions, a meeting."""
    from app.cases.models import (CaseMeeting, CaseNote, CasePhase, CaseTeamMember, Consent, ConsentMethod,
                                  PlanArea, PlanFollowUp, PlanItem, PlanItemStatus, PlanPart, PlanVersion,
                                  ThreatAssessment, ThreatLevel)

    key = case.participant.data_key
    case.phase = CasePhase.ACTIVE
    for agency in agencies:
        if agency not in case.team_agency_ids:
            db.session.add(CaseTeamMember(case=case, agency_id=agency))
        consent = Consent(data_key=key, case=case, agency_id=agency, given_on=today - timedelta(days=100),
                          valid_until=today + timedelta(days=200), method=ConsentMethod.WRITTEN)
        consent.kind_set = ["identity", "threat_assessment", "protection_plan", "support_plan"]
        consent.documentation = "Fiktiv samtyckesblankett."
        db.session.add(consent)
    for n, level in enumerate((ThreatLevel.HIGH, ThreatLevel.ELEVATED)):
        assessment = ThreatAssessment(data_key=key, case=case, assessed_on=today - timedelta(days=90 - 60 * n),
                                      agency_id=agencies[0], next_review_on=today + timedelta(days=30 * n - 5))
        assessment.level, assessment.narrative = level, "Fiktiv hotbild. " * 20
        db.session.add(assessment)
    meeting = CaseMeeting(data_key=key, case=case, held_on=today - timedelta(days=30),
                          agency_ids=",".join(str(a) for a in agencies))
    meeting.minutes = "Fiktivt protokoll. " * 40
    db.session.add(meeting)
    areas, statuses = list(PlanArea), list(PlanItemStatus)
    for n in range(30):
        item = PlanItem(data_key=key, case=case, part=PlanPart.PROTECTION if n % 3 == 0 else PlanPart.SUPPORT,
                        area=areas[n % len(areas)], responsible_agency_id=agencies[n % len(agencies)],
                        start_on=today - timedelta(days=120), due_on=today + timedelta(days=n * 7 - 60),
                        status=statuses[n % len(statuses)], meeting_id=meeting.id if n % 5 == 0 else None)
        item.goal = f"Fiktivt mål {n}: " + "beskrivning av insatsen. " * 6
        if item.status == PlanItemStatus.DONE:
            item.completed_on = today - timedelta(days=n)
        db.session.add(item)
        for m in range(n % 3):
            followup = PlanFollowUp(data_key=key, item=item, author_id=author_id)
            followup.text = f"Fiktiv uppföljning {m}. " * 8
            db.session.add(followup)
    for n in range(50):
        note = CaseNote(data_key=key, case=case, author_id=author_id)
        note.text = f"Fiktiv journalanteckning {n}. " + "Samtal om läget och nästa steg. " * 10
        db.session.add(note)
    for number in (1, 2):
        version = PlanVersion(data_key=key, case=case, number=number, approved_by_id=author_id,
                              participant_agreed_on=today - timedelta(days=60 - 30 * number))
        version.snapshot, version.changes = "[]", f"Fiktiv version {number}."
        db.session.add(version)


def build(db, cases: int) -> tuple[str, str]:
    """Fill the database; returns the bench coordinator's (e-mail, TOTP key)."""
    from app.admin import service as admin_service
    from app.admin.models import AgencyKind
    from app.cases.models import today_local

    today = today_local()
    social = admin_service.create_agency("Socialtjänsten (bench)", AgencyKind.SOCIAL_SERVICES)
    partners = [admin_service.create_agency(f"{kind.value} (bench)", kind)
                for kind in (AgencyKind.POLICE, AgencyKind.HOUSING, AgencyKind.PROBATION, AgencyKind.EMPLOYMENT,
                             AgencyKind.NGO)]
    me = _user(social, ["coordinator"], EMAIL, PASSWORD)
    users = [me] + [_user(social, ["coordinator"], f"bench.samordnare{n}@example.org") for n in range(9)]
    totp_key = me.totp_key
    db.session.flush()
    coordinators = [(u.id, u.agency_id) for u in users]
    agency_ids = [a.id for a in partners]
    db.session.commit()

    big = _case(db, 1, coordinators[0], agency_ids, today)
    _fill_big_case(db, big, coordinators[0][0], agency_ids, today)
    db.session.commit()
    for n in range(2, cases + 1):
        _case(db, n, coordinators[n % len(coordinators)], agency_ids, today)
        if n % 500 == 0:
            db.session.commit()
    db.session.commit()
    return EMAIL, totp_key


# ------------------------------------------------------------------ HTTP


class Browser:
    """Just enough of a browser: cookies, forms, no redirects followed."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie_header()}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body, headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        for header in resp.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return resp, data

    def login(self, email: str, password: str, code: str) -> None:
        """Password, then the TOTP code, through the real forms (CSRF tokens included)."""
        def csrf(path):
            _resp, page = self.request("GET", path)
            match = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
            if not match:
                raise RuntimeError(f"no CSRF token on {path}")
            return match.group(1).decode()

        resp, _ = self.request("POST", "/login", {"email": email, "password": password, "csrf_token": csrf("/login")})
        location = resp.headers.get("Location", "")
        if resp.status != 302 or "tf-validate" not in location:
            raise RuntimeError(f"login refused (status {resp.status})")
        path = urlsplit(location)._replace(scheme="", netloc="").geturl()
        resp, _ = self.request("POST", "/tf-validate", {"code": code, "csrf_token": csrf(path)})
        if resp.status != 302:
            raise RuntimeError(f"TOTP refused (status {resp.status})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(target: str, env: dict[str, str], log: Path):
    """gunicorn with 2 sync workers on a free port, its output in ``log``; yields the port, stops it afterwards."""
    port = _free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", target],
            cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"gunicorn {target} exited with {proc.returncode}:\n{tail}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {target} did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def load(port: int, path: str, cookie: str, clients: int, seconds: float) -> tuple[float, dict[int, int]]:
    """``clients`` threads GET ``path`` back to back for ``seconds`` (after 1 s of warm-up); (requests/s, statuses)."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = time.monotonic() + 1.0
    stop = start + seconds

    def client():
        mine: dict[int, int] = {}
        while (now := time.monotonic()) < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", path, headers={"Cookie": cookie})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if now >= start:
                mine[resp.status] = mine.get(resp.status, 0) + 1
        with lock:
            for status, count in mine.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(statuses.values()) / seconds, statuses


# ------------------------------------------------------------------ the runs


def _errors(log: Path) -> str:
    """The distinct error lines the server logged (the exception names only), for a run with failures."""
    lines = {line.strip() for line in log.read_text(errors="replace").splitlines()
             if re.match(r"[\w.]+(Error|Exception): ", line)}
    return "; ".join(sorted(lines)[:3]) or "none logged"


def bench_page(port: int, browser: Browser, bare_rps: float, clients: int, seconds: float, log: Path) -> bool:
    path = f"/cases/{BIG_CASE}"
    resp, page = browser.request("GET", path)
    if resp.status != 200:
        print(f"  GET {path} answered {resp.status}: the case page is not available yet; not measured.  MISSED")
        return False
    rps, statuses = load(port, path, browser.cookie_header(), clients, seconds)
    ok = set(statuses) == {200} and rps >= RATIO_TARGET * bare_rps
    print(f"  {'GET ' + path + f' ({len(page) // 1024} KiB page)':50} {rps:8.1f} req/s   statuses {statuses}")
    if set(statuses) != {200}:
        print(f"  failed requests; the server logged: {_errors(log)}")
    print(f"  case page / bare route: {rps / bare_rps:6.1%}   "
          f"target >= {RATIO_TARGET:.0%}: {'met' if ok else 'MISSED'}")
    return ok


def bench_pdf(port: int, email: str, totp_key: str) -> bool:
    import pyotp

    # The export needs a fresh login: a new session, with the next time step's code (the last one was used).
    browser = Browser(port)
    browser.login(email, PASSWORD, pyotp.TOTP(totp_key).at(time.time() + 30))
    path = f"/cases/{BIG_CASE}/plan.pdf"
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        resp, body = browser.request("GET", path)
        samples.append(time.perf_counter() - t0)
        if resp.status != 200 or not body.startswith(b"%PDF"):
            print(f"  GET {path} answered {resp.status}: the plan PDF is not available yet; not measured.  MISSED")
            return False
    median = statistics.median(samples)
    ok = median < PDF_TARGET_S
    print(f"  {'GET ' + path + f' ({len(body) // 1024} KiB)':50} {median:6.3f} s median  {max(samples):6.3f} s max"
          f"   target < {PDF_TARGET_S} s: {'met' if ok else 'MISSED'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cases", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--database-url", default=os.environ.get("LOTS_BENCH_DATABASE_URL"),
                        help="an EMPTY scratch PostgreSQL database, wiped afterwards; default: temporary SQLite")
    args = parser.parse_args(argv)

    import pyotp
    from flask_migrate import upgrade
    from sqlalchemy import inspect

    from app import create_app
    from app.db import db

    with tempfile.TemporaryDirectory(prefix="lots-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = {"LOTS_ENV": "development", "LOTS_DATABASE_URL": url, "LOTS_KEY_FILE": str(Path(tmp) / "keys.json")}
        app = create_app({"ENV": env["LOTS_ENV"], "SQLALCHEMY_DATABASE_URI": url,
                          "LOTS_KEY_FILE": env["LOTS_KEY_FILE"]})
        with app.app_context():
            if inspect(db.engine).get_table_names():
                print("The benchmark database must be empty: it is wiped afterwards.", file=sys.stderr)
                return 2
            try:
                upgrade()
                t0 = time.perf_counter()
                email, totp_key = build(db, args.cases)
                db.session.close()
                built = time.perf_counter() - t0
                print(f"Database: {db.engine.dialect.name}, {args.cases} cases built in {built:.1f} s")
                print(f"gunicorn, 2 sync workers, {args.clients} concurrent clients, {args.seconds:.0f} s per run")
                log = Path(tmp) / "gunicorn.log"
                with gunicorn("bench.cases:bare_app()", {}, log) as port:
                    bare_rps, statuses = load(port, "/bare", "", args.clients, args.seconds)
                print(f"  {'baseline: bare Flask route':50} {bare_rps:8.1f} req/s   statuses {statuses}")
                with gunicorn("wsgi:app", env, log) as port:
                    browser = Browser(port)
                    browser.login(email, PASSWORD, pyotp.TOTP(totp_key).now())
                    ok = bench_page(port, browser, bare_rps, args.clients, args.seconds, log)
                    ok = bench_pdf(port, email, totp_key) and ok
            finally:
                release_database(db)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
