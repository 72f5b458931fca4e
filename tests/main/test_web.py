"""Page shell: health check, headers, error pages, language switch."""

from tests.conftest import csrf_from


def test_healthz_reports_database_without_secrets(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json == {"status": "ok", "database": "ok"}


def test_security_headers_on_every_response(client):
    for url in ("/login", "/healthz", "/no-such-page"):
        resp = client.get(url)
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    resp = client.get("/login", base_url="https://localhost")
    assert "Strict-Transport-Security" not in resp.headers or "max-age" in resp.headers["Strict-Transport-Security"]


def test_authenticated_pages_are_not_cached(client, login_as):
    login_as("coordinator")
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_404_page_is_friendly_and_leaks_nothing(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert "Sidan finns inte" in resp.text
    assert "Traceback" not in resp.text and "werkzeug" not in resp.text.lower()


def test_403_page_for_forbidden(client, login_as):
    login_as("reporter")
    resp = client.get("/admin/users")
    assert resp.status_code == 403
    assert "Åtkomst nekad" in resp.text


def test_unhandled_error_gives_generic_500(app, client, login_as, monkeypatch):
    login_as("admin")
    from app.admin import service

    def boom(*a, **k):
        raise RuntimeError("personnummer 19900101-1234 leaked?")

    monkeypatch.setattr(service, "list_users", boom)
    resp = client.get("/admin/users")
    assert resp.status_code == 500
    assert "19900101" not in resp.text and "Något gick fel" in resp.text


def test_language_switch_to_english_and_back(client):
    page = client.get("/login")
    assert "Logga in" in page.text
    client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": csrf_from(page.text)})
    page = client.get("/login")
    assert '<html lang="en">' in page.text
    client.post("/language", data={"lang": "sv", "next": "/login", "csrf_token": csrf_from(page.text)})
    assert '<html lang="sv">' in client.get("/login").text


def test_language_switch_rejects_unknown_language_and_open_redirect(client):
    page = client.get("/login")
    resp = client.post("/language", data={"lang": "xx", "next": "https://evil.example/", "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302
    assert resp.headers["Location"] in ("/", "http://localhost/")
    assert '<html lang="sv">' in client.get("/login").text


def test_dates_are_rendered_in_stockholm_time(app):
    from datetime import datetime, timezone

    from app.web import local_datetime

    with app.test_request_context():
        summer = local_datetime(datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc))
        winter = local_datetime(datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc))
    assert summer == "2026-07-01 12:00"
    assert winter == "2026-01-01 11:00"


def test_the_numeric_date_patterns_agree_with_babel_in_both_languages(app):
    """The fast path of local_datetime writes what Babel writes, across the DST changes, naive values as UTC."""
    from datetime import datetime, timedelta, timezone

    from flask import session
    from flask_babel import format_datetime, refresh

    from app.web import _NUMERIC_PATTERNS, local_date, local_datetime

    moments = [datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc) + timedelta(minutes=29 * n) for n in range(12)]
    moments += [datetime(2026, 10, 25, 0, 15, tzinfo=timezone.utc) + timedelta(minutes=37 * n) for n in range(10)]
    moments += [datetime(1999, 12, 31, 23, 59, 59), datetime(2026, 11, 26, 12, 0, 7)]
    for lang in ("sv", "en"):
        with app.test_request_context():
            session["lang"] = lang
            refresh()
            for moment in moments:
                aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
                for pattern in _NUMERIC_PATTERNS:
                    assert local_datetime(moment, pattern) == format_datetime(aware, pattern), (lang, moment, pattern)
                assert local_date(moment) == format_datetime(aware, "yyyy-MM-dd")
            assert local_datetime(moments[0], "d MMM yyyy") == format_datetime(moments[0], "d MMM yyyy")


def test_a_deeply_nested_json_body_is_never_a_server_error(client):
    body = "[" * 5000 + "]" * 5000
    for path in ("/", "/api/v1/incidents", "/cases/"):
        resp = client.post(path, data=body, content_type="application/json")
        assert resp.status_code < 500, (path, resp.status_code)
