"""Browser fixtures: a live Lots server on its own database, one Chromium per session.

The server runs the real application (migrations, demo data) in a daemon
thread. It never shares a database with the rest of the suite: SQLite gets a
fresh file in a temporary directory; with LOTS_TEST_DATABASE_URL (PostgreSQL)
a copy of that (migrated) database named "<name>_browser_<worker>" is created
and dropped at the end.

Chromium is Debian's /usr/bin/chromium and axe-core comes from npm. If either
is missing the tests FAIL (never skip), so CI cannot pass without them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

#: An extra account for the phone test, so no demo user logs in twice
#: (a TOTP code is accepted once per 30 s step per user).
PHONE_USER = ("rapportor-mobil@norrvik.example.org", "Mona Mobil", "Fritidsgården Ljuset (fiktiv)", ["reporter"])
#: And one for the phone test of the analyst's and process leader's pages (week, period, year, timeline, evaluation).
PHONE_ANALYST = ("analytiker-mobil@norrvik.example.org", "Mats Mobil", "Förebyggande enheten Norrvik (fiktiv)",
                 ["analyst", "process_leader"])
#: And for the import journey: an analyst who imports, and a reporter who must not reach the import.
IMPORT_ANALYST = ("analytiker-import@norrvik.example.org", "Ivar Import", "Förebyggande enheten Norrvik (fiktiv)",
                  ["analyst"])
IMPORT_REPORTER = ("rapportor-import@norrvik.example.org", "Rut Rapportör", "Fritidsgården Ljuset (fiktiv)",
                   ["reporter"])
EXTRA_USERS = (PHONE_USER, PHONE_ANALYST, IMPORT_ANALYST, IMPORT_REPORTER)


@dataclass
class LiveServer:
    url: str
    app: object
    #: e-mail -> (password, base32 TOTP key held by the test)
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: endpoint name -> path, resolved from the app's URL map
    paths: dict[str, str] = field(default_factory=dict)
    phone_user: str = PHONE_USER[0]
    phone_analyst: str = PHONE_ANALYST[0]


def _require_browser_tools() -> None:
    problems = []
    if not CHROMIUM.exists():
        problems.append(f"{CHROMIUM} is missing: install Debian's chromium (make browser-deps).")
    if not AXE_JS.exists():
        problems.append(f"{AXE_JS} is missing: run `npm install` in {ROOT} (make browser-deps).")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright Python package is missing: pip install -e '.[dev]'.")
    if problems:
        pytest.fail("Browser tests cannot run: " + " ".join(problems), pytrace=False)


# ------------------------------------------------------------------ database

def _browser_database_url(tmp: Path):
    """Return (SQLAlchemy URL, cleanup callable) for a database of our own."""
    base = os.environ.get("LOTS_TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp / 'browser.db'}", lambda: None
    from tests.conftest import worker_database

    return worker_database(base, "browser_" + os.environ.get("PYTEST_XDIST_WORKER", "main"))


def _prepare_data(app) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Migrate, load the demo data and give every account a TOTP key of the test's own."""
    from flask import url_for
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app.admin import service as admin_service
    from app.admin.models import Agency
    from app.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
    from app.extensions import db
    from app.security.models import User

    from app.overview import demo as incident_demo

    accounts: dict[str, tuple[str, str]] = {}
    # The demo's incident reports at an eighth of their volume (as tests/overview/test_incident_demo.py):
    # the same pages, areas, categories, patterns and published week, for a quarter of the set-up time.
    # The pages' speed at full volume is the benchmarks' job (bench/), not the browser's.
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(incident_demo, "DEMO_AREAS",
                      [spec[:3] + (max(2, spec[3] // 8),) + spec[4:] for spec in incident_demo.DEMO_AREAS])
        upgrade()
        load_demo()
        for email, name, agency_name, roles in EXTRA_USERS:
            agency = db.session.scalar(select(Agency).where(Agency.name == agency_name))
            admin_service.create_user(email, name, agency, roles, DEMO_PASSWORD)
        totp_factory = app.extensions["security"]._totp_factory
        for email in [u[0] for u in DEMO_USERS] + [u[0] for u in EXTRA_USERS]:
            user = db.session.scalar(select(User).where(User.email == email))
            key = pyotp.random_base32()
            user.tf_totp_secret = totp_factory._totp(key=key, format="base32").to_json(encrypt=True)
            user.tf_primary_method = "authenticator"
            user.mf_recovery_codes = ["fiktiv-reservkod-1", "fiktiv-reservkod-2"]  # saved at enrolment
            accounts[email] = (DEMO_PASSWORD, key)
        db.session.commit()
    with app.test_request_context():
        paths = {
            "login": url_for("security.login"),
            "tf_validate": url_for("security.two_factor_token_validation"),
            "change_password": url_for("security.change_password"),
            "index": url_for("main.index"),
        }
    return accounts, paths


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="session")
def live_server():
    """The real app on 127.0.0.1 with a free port, served from a daemon thread."""
    from werkzeug.serving import make_server

    from app import create_app
    from app.extensions import db

    tmp = Path(tempfile.mkdtemp(prefix="lots-browser-"))
    url, drop_database = _browser_database_url(tmp)
    app = create_app(
        {
            "ENV": "test",
            "SQLALCHEMY_DATABASE_URI": url,
            "LOTS_KEY_FILE": str(tmp / "master-keys.json"),
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    server = None
    try:
        accounts, paths = _prepare_data(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="lots-live-server", daemon=True)
        thread.start()
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, accounts=accounts, paths=paths)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        with app.app_context():
            db.engine.dispose()
        drop_database()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session."""
    _require_browser_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_js() -> Path:
    _require_browser_tools()
    return AXE_JS


# ------------------------------------------------------------------ helpers

class PageErrors:
    """Collects console errors and uncaught exceptions of one page."""

    def __init__(self, page):
        self.items: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.items.append(f"uncaught exception: {exc}"))

    def _console(self, msg) -> None:
        if msg.type == "error":
            where = msg.location.get("url", "") if msg.location else ""
            self.items.append(f"console error: {msg.text}" + (f" ({where})" if where else ""))

    def take(self) -> list[str]:
        items, self.items = self.items, []
        return items


def totp_code(key: str) -> str:
    """The current code, never one from the last two seconds of its step (a browser round trip later the
    server, which accepts no neighbouring step, would be in the next one)."""
    import time

    if 30 - time.time() % 30 < 2.0:
        time.sleep(30 - time.time() % 30 + 0.05)
    return pyotp.TOTP(key).now()


def log_in(page, server: LiveServer, email: str, check_page=None) -> None:
    """Log in through the real forms: e-mail and password, then the TOTP code.

    check_page(page), if given, runs on the login page and on the TOTP page.
    """
    from app.extensions import limiter

    password, key = server.accounts[email]
    # Every browser login comes from 127.0.0.1, where in real use each person has their
    # own address: clear the per-address login counters, as the client fixture does.
    limiter.reset()
    page.goto(server.url + server.paths["login"])
    if check_page:
        check_page(page)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form[name=login_user_form] [type=submit]")
    assert server.paths["tf_validate"] in page.url, f"{email}: password step did not lead to the TOTP step ({page.url})"
    if check_page:
        check_page(page)
    page.fill("input[name=code]", totp_code(key))
    with page.expect_navigation():
        page.click("form[name=two_factor_verify_code_form] [type=submit]")
    assert page.url.rstrip("/") == server.url + server.paths["index"].rstrip("/"), (
        f"{email}: login did not reach the start page, ended at {page.url}"
    )
    # The nav only renders for signed-in users: a cheap proof the session works.
    page.wait_for_selector("nav.mainnav", state="attached", timeout=5000)


def horizontal_overflow(page) -> tuple[int, int]:
    return page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")

