"""The CSV export through a real HTTP server (pentest finding 4: it always answered 500 while streaming).

The test client keeps the test's session open, so the bug did not show there: after the response started,
the request's transaction was committed and the streamed rows read objects the session no longer held. Here
the real app serves a database of its own from a werkzeug server thread, and the export is downloaded over
HTTP as a browser would after logging in through the real forms.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timezone

import pyotp
import requests
from sqlalchemy import func, select

from tests.conftest import PASSWORD, separate_app


def _seed(app) -> tuple[str, str]:
    """An analyst with a TOTP key, an area, a category and a few reports; returns (e-mail, TOTP key)."""
    from flask_security import hash_password

    from app.admin.models import Agency, AgencyKind
    from app.extensions import db, security
    from app.overview.models import Area, Category, IncidentReport, ReportStatus
    from app.overview.service import new_report
    from app.security.models import Role, User

    key = pyotp.random_base32()
    with app.app_context():
        agency = Agency(name="Kommunen export", kind=AgencyKind.SOCIAL_SERVICES)
        analyst = User(email="export-analyst@example.org", full_name="Test Analytiker",
                       password=hash_password(PASSWORD), active=True, fs_uniquifier="export-analyst", agency=agency,
                       roles=list(db.session.scalars(select(Role).where(Role.name == "analyst"))))
        analyst.tf_totp_secret = security._totp_factory._totp(key=key, format="base32").to_json(encrypt=True)
        analyst.tf_primary_method = "authenticator"
        analyst.mf_recovery_codes = ["fiktiv-reservkod-1"]  # enrolled: codes saved
        area = Area(code="exp", name="Exporttorget", polygon="[[17.9,59.4],[17.95,59.4],[17.95,59.43],[17.9,59.43]]")
        category = Category(code="exp", name_sv="Skadegörelse export", name_en="Vandalism export")
        db.session.add_all([analyst, area, category])
        db.session.flush()
        for day in range(1, 6):
            db.session.add(new_report(occurred_at=datetime(2026, 3, day, 10, tzinfo=timezone.utc), area_id=area.id,
                                      category_id=category.id, setting="public",
                                      description=f"Fiktiv beskrivning {day}", organisation_id=agency.id,
                                      reporter_id=None, status=ReportStatus.ACCEPTED))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(IncidentReport)) == 5
    return "export-analyst@example.org", key


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_the_csv_export_streams_through_a_real_server_and_is_audited_once():
    from werkzeug.serving import make_server

    from app.audit.models import AuditEvent
    from app.extensions import db, limiter

    with separate_app("export") as app:
        email, key = _seed(app)
        limiter.reset()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            browser = requests.Session()
            page = browser.get(base + "/login")
            step = browser.post(base + "/login", data={"email": email, "password": PASSWORD,
                                                      "csrf_token": _csrf(page.text)})
            assert "tf-validate" in step.url, step.url
            done = browser.post(base + "/tf-validate", data={"code": pyotp.TOTP(key).now(),
                                                            "csrf_token": _csrf(step.text)})
            assert done.status_code == 200 and done.url.rstrip("/") == base, done.url
            resp = browser.get(base + "/reports/export.csv", stream=True)
            body = b"".join(resp.iter_content(4096)).decode("utf-8-sig")
        finally:
            server.shutdown()
            server.server_close()
        assert resp.status_code == 200, body[:500]
        assert resp.headers["Content-Type"].startswith("text/csv")
        lines = [line for line in body.split("\r\n") if line]
        assert len(lines) == 6, lines  # the header and the five reports
        assert "Exporttorget" in lines[1] and "Fiktiv beskrivning 1" in body
        with app.app_context():
            events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()
            assert len(events) == 1 and events[0].outcome.value == "allowed"
            assert '"rows":"5"' in events[0].detail
