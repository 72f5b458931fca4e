"""Bad input never gives a 500: junk in every form field and query parameter of the overview domain.

Each POST route is fetched first (for its CSRF token and the values a browser
would send), then posted once per field with that one field replaced by junk,
and once with every field junk. Query parameters are junked one at a time on
every GET route. Runs on SQLite and, with LOTS_TEST_DATABASE_URL, on
PostgreSQL (where NUL bytes and out-of-range integers reach the driver).
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest

from tests.conftest import csrf_from

JUNK = [
    "",
    "abc",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e309",
    "x" * 20_000,
    "2026-02-30",
    "2026-02-30T25:61",
    "a\x00b",
    "00000000-0000-0000-0000-000000000000",
    "not-a-uuid",
    "<script>alert(1)</script>",
    "=HYPERLINK(\"http://x\")",
]
JUNK_IDS = [f"j{i}" for i in range(len(JUNK))]


class _FormFields(HTMLParser):
    """The fields a browser would submit from one <form>: name → value (first option for selects)."""

    def __init__(self, action: str, page: str):
        super().__init__()
        self.action = action
        self.page = page
        self.inside = False
        self.fields: dict[str, str] = {}
        self.names: list[str] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            target = (a.get("action") or self.page).split("?")[0].split("#")[0]
            self.inside = target.endswith(self.action) and (a.get("method") or "").lower() == "post"
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            self.names.append(name)
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "y")
            else:
                self.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self.names.append(name)
            self._select = name
        elif tag == "option" and self._select:
            if self._select not in self.fields or "selected" in a:
                value = a.get("value", "")
                if value or self._select not in self.fields:
                    self.fields[self._select] = value
        elif tag == "textarea" and name:
            self.names.append(name)
            self._textarea = name
            self.fields.setdefault(name, "")

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str, action: str, page: str) -> tuple[dict[str, str], list[str]]:
    parser = _FormFields(action, page)
    parser.feed(html)
    names = [n for n in dict.fromkeys(parser.names) if n != "csrf_token"]
    return parser.fields, names


def _assert_no_500(resp, what):
    assert resp.status_code < 500, f"{what}: {resp.status_code}"


def _post_junk(client, page_url: str, post_url: str, junk: str, *, extra_names=(), files=None):
    page = client.get(page_url)
    assert page.status_code == 200, page_url
    token = csrf_from(page.text)
    fields, names = form_fields(page.text, post_url, page_url)
    names = list(dict.fromkeys(list(names) + list(extra_names)))
    assert names, f"no fields found for {post_url}"
    variants = [{name: junk} for name in names] + [{name: junk for name in names}]
    for variant in variants:
        data = {**fields, **variant, "csrf_token": token}
        if files:
            data.update({k: (io.BytesIO(v), "junk.csv") for k, v in files.items()})
            resp = client.post(post_url, data=data, content_type="multipart/form-data")
        else:
            resp = client.post(post_url, data=data)
        _assert_no_500(resp, f"POST {post_url} {sorted(variant)[:3]}")


def _get_junk(client, url: str, params: list[str], junk: str):
    for name in params:
        _assert_no_500(client.get(url, query_string={name: junk}), f"GET {url}?{name}")
    _assert_no_500(client.get(url, query_string={name: junk for name in params}), f"GET {url}?all")


@pytest.fixture()
def taxa(incidents):
    return incidents.area(name="Torget robust"), incidents.category(name_sv="Skadegörelse robust",
                                                                    name_en="Vandalism robust")


# ------------------------------------------------------------------ reporter


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_report_form_and_correction_take_junk_without_500(client, db, login_as, taxa, incidents, junk):
    from sqlalchemy import select

    from app.overview.models import IncidentReport

    area, category = taxa
    reporter = login_as("reporter", kind="youth")
    own = incidents.report(area=area, category=category, status="new", reporter=reporter)
    before = db.scalar(select(IncidentReport.version).where(IncidentReport.id == own.id))
    _post_junk(client, "/reports/new", "/reports/new", junk, extra_names=["action"])
    _post_junk(client, f"/reports/{own.id}/edit", f"/reports/{own.id}/edit", junk)
    _get_junk(client, "/reports/mine", ["page"], junk)
    for bad in (junk, str(uuid.uuid4())):
        if bad and "\x00" not in bad and "/" not in bad and len(bad) < 2000:
            _assert_no_500(client.get(f"/reports/{bad}/edit"), "GET edit junk id")
    assert db.scalar(select(IncidentReport.version).where(IncidentReport.id == own.id)) >= before


# ------------------------------------------------------------------ analyst: review, list, export


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_review_list_and_export_take_junk_without_500(client, db, login_as, taxa, incidents, junk):
    area, category = taxa
    login_as("analyst", kind="social_services")
    report = incidents.report(area=area, category=category, status="new")
    incidents.report(area=area, category=category, status="accepted")
    _post_junk(client, f"/reports/{report.id}", f"/reports/{report.id}/review", junk,
               extra_names=["action", "reason", "duplicate_of", "category_id", "area_id", "version"])
    params = ["status", "category_id", "area_id", "week", "organisation_id", "source", "q", "sort", "page"]
    _get_junk(client, "/reports/", params, junk)
    _get_junk(client, "/reports/export.csv", params + ["week_from", "week_to", "descriptions"], junk)
    _get_junk(client, f"/reports/{report.id}", ["page"], junk)


#: A well-formed id that nothing has (fixed: parallel workers must collect the same test ids).
UNKNOWN_UUID = "6f1d2b9e-4c1a-4e55-9a0b-3c8e7d2f1a40"


@pytest.mark.parametrize("bad_id", ["0", "abc", "00000000-0000-0000-0000-000000000000", "not-a-uuid",
                                    "x" * 5000, "%00", "1" * 40, UNKNOWN_UUID])
def test_unknown_and_malformed_ids_are_404_not_500(client, db, login_as, bad_id):
    login_as("analyst", kind="social_services")
    for url in (f"/reports/{bad_id}", f"/reports/import/{bad_id}", f"/reports/import/{bad_id}/status"):
        resp = client.get(url)
        assert resp.status_code == 404, url
    page = client.get("/reports/import")
    token = csrf_from(page.text)
    for url in (f"/reports/{bad_id}/review", f"/reports/import/{bad_id}/confirm", f"/reports/import/{bad_id}/cancel"):
        assert client.post(url, data={"csrf_token": token, "action": "accept", "version": "1"}).status_code == 404, url


# ------------------------------------------------------------------ analyst: import


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_import_upload_takes_junk_without_500(app, client, db, login_as, taxa, junk):
    app.config["LOTS_IMPORT_SYNC"] = True
    area, category = taxa
    login_as("analyst", kind="social_services")
    body = f"Datum/tid;Område;Kategori;Miljö;Beskrivning\n{junk};{area.code};{category.code};offentlig;{junk}\n"
    for raw in (junk.encode("utf-8", "surrogatepass"), body.encode(), body.encode("utf-16"), b"\xff\xfe\x00\x00"):
        _post_junk(client, "/reports/import", "/reports/import", junk, files={"file": raw})


def test_import_confirm_and_cancel_take_junk_without_500(app, client, db, login_as, taxa):
    app.config["LOTS_IMPORT_SYNC"] = True
    area, category = taxa
    user = login_as("analyst", kind="social_services")
    page = client.get("/reports/import")
    body = f"Datum/tid;Område;Kategori;Miljö\n2026-03-02 10:00;{area.code};{category.code};offentlig\n".encode()
    resp = client.post("/reports/import", data={"file": (io.BytesIO(body), "a.csv"), "organisation_id":
                       str(user.agency_id), "csrf_token": csrf_from(page.text)}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.text[:2000]
    job_url = resp.headers["Location"]
    job_path = re.sub(r"^https?://[^/]+", "", job_url)
    for junk in JUNK:
        _get_junk(client, job_path, ["page"], junk)
        _get_junk(client, job_path + "/status", ["page"], junk)
        token = csrf_from(client.get("/reports/import").text)
        # A cancel without a valid token is ignored (the job stays in preview); junk accept flags are refused.
        _assert_no_500(client.post(job_path + "/cancel", data={"csrf_token": junk}), "cancel junk token")
        _assert_no_500(client.post(job_path + "/confirm", data={"csrf_token": junk, "accept": junk}), "confirm")
        _assert_no_500(client.post(job_path + "/confirm", data={"csrf_token": token, "accept": junk}), "confirm")


# ------------------------------------------------------------------ overview


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_overview_pages_take_junk_without_500(client, db, login_as, taxa, incidents, junk):
    area, category = taxa
    incidents.report(area=area, category=category,
                     occurred_at=datetime(2026, 3, 4, 10, tzinfo=timezone.utc))
    login_as("analyst", kind="social_services")
    _post_junk(client, "/overview/2026/10", "/overview/2026/10/note", junk)
    _post_junk(client, "/overview/2026/10/publish", "/overview/2026/10/publish", junk, extra_names=["confirmed"])
    period = ["kind", "year", "quarter", "part", "start", "end", "from", "to", "lang", "period"]
    _get_junk(client, "/overview/period", period, junk)
    if junk in ("", "abc", "2026-02-30", "a\x00b"):  # the PDF is slow: a few junk values are enough
        _get_junk(client, "/overview/period.pdf", period, junk)
        _get_junk(client, "/overview/2026/10.pdf", ["version", "lang"], junk)
    _get_junk(client, "/overview/2026/10", ["page"], junk)


@pytest.mark.parametrize("path", ["/overview/0/1", "/overview/2026/0", "/overview/2026/54", "/overview/2021/53",
                                  "/overview/99999999999999999999/1", "/overview/2026/10/versions/0",
                                  "/overview/2026/10/versions/99999999999999999999", "/overview/2026/99.pdf",
                                  "/api/v1/overview/2026/99", "/api/v1/overview/99999999999999999999/1"])
def test_impossible_weeks_and_versions_are_4xx(client, db, login_as, path):
    login_as("analyst", kind="social_services")
    resp = client.get(path)
    assert 400 <= resp.status_code < 500, path


# ------------------------------------------------------------------ admin: taxonomy and tokens


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_taxonomy_and_token_forms_take_junk_without_500(client, db, login_as, factory, taxa, junk):
    area, category = taxa
    admin = login_as("admin", kind="other")
    _post_junk(client, "/admin/areas/new", "/admin/areas/new", junk)
    _post_junk(client, f"/admin/areas/{area.id}", f"/admin/areas/{area.id}", junk)
    _post_junk(client, "/admin/categories/new", "/admin/categories/new", junk)
    _post_junk(client, f"/admin/categories/{category.id}", f"/admin/categories/{category.id}", junk)
    _post_junk(client, "/admin/api-tokens/new", "/admin/api-tokens/new", junk)
    for url in ("/admin/areas", "/admin/categories", "/admin/api-tokens"):
        _get_junk(client, url, ["q", "sort", "page", "status", "organisation_id"], junk)
    from app.overview.models import ApiToken
    from app.overview.tokens import create_token

    with client.application.app_context():
        api_token, _secret = create_token(name="Robust", organisation_id=factory.agency(kind="police").id,
                                          scopes=["overview:read"], by=admin)
    revoke = f"/admin/api-tokens/{api_token.id}/revoke"
    if "\x00" not in junk:
        _post_junk(client, revoke, revoke, junk)
        db.refresh(api_token)
        assert api_token.revoked_at is None or junk != ""  # an unticked box never revokes
    token = csrf_from(client.get(f"/admin/areas/{area.id}").text)
    for url in (f"/admin/areas/{area.id}/delete", f"/admin/categories/{category.id}/delete"):
        _assert_no_500(client.post(url, data={"csrf_token": token, "confirmed": junk}), url)
    assert db.get(ApiToken, api_token.id) is not None
    huge = "99999999999999999999"
    for url in (f"/admin/areas/{huge}", f"/admin/categories/{huge}", f"/admin/api-tokens/{huge}/revoke",
                "/admin/areas/999999999", "/admin/categories/999999999"):
        assert client.get(url).status_code == 404, url
    token = csrf_from(client.get("/admin/areas").text)
    for url in (f"/admin/areas/{huge}/delete", f"/admin/categories/{huge}/delete", f"/admin/api-tokens/{huge}/revoke",
                "/admin/areas/999999999/delete", "/admin/categories/999999999/delete",
                "/admin/api-tokens/999999999/revoke"):
        expected = 400 if "\x00" in junk else 404  # a NUL byte is refused before anything is looked up
        assert client.post(url, data={"csrf_token": token, "confirmed": junk}).status_code == expected, url


def test_nul_bytes_are_refused_with_a_clear_400_and_nothing_saved(client, db, login_as):
    from sqlalchemy import func, select

    from app.overview.models import WeekNote

    login_as("analyst", kind="social_services")
    token = csrf_from(client.get("/overview/2026/10").text)
    resp = client.post("/overview/2026/10/note", data={"csrf_token": token, "analysis": "a\x00b", "focus": ""})
    assert resp.status_code == 400 and "NUL" in resp.text
    assert db.scalar(select(func.count()).select_from(WeekNote)) == 0
    assert client.get("/reports/", query_string={"q": "x\x00"}).status_code == 400


# ------------------------------------------------------------------ API


@pytest.mark.parametrize("body", [b"", b"{", b"null", b"[]", b"{}", b"\x00", b"[" + b"{}," * 5000 + b"{}]",
                                  b'{"occurred_at": "2026-02-30T10:00:00Z"}',
                                  b'{"occurred_at": 99999999999999999999999}',
                                  b'{"external_id": "' + b"x" * 20000 + b'"}',
                                  '{"description": "a\u0000b"}'.encode()])
def test_api_rejects_junk_with_4xx(client, db, factory, body):
    from app.overview.tokens import create_token

    agency = factory.agency(kind="police")
    admin = factory.user(roles=("admin",))
    with client.application.app_context():
        _, secret = create_token(name="robust", organisation_id=agency.id,
                                 scopes=["incidents:write", "overview:read"], by=admin)
    resp = client.post("/api/v1/incidents", data=body, headers={"Authorization": f"Bearer {secret}",
                                                               "Content-Type": "application/json"})
    assert 400 <= resp.status_code < 500, resp.text[:300]
    assert resp.is_json


def test_published_week_is_stable_for_junk_version_queries(client, db, login_as):
    """?version=junk on the PDF never falls through to the live figures for a partner."""
    login_as("partner", kind="police")
    for junk in ("abc", "-1", "0", "99999999999999999999"):
        resp = client.get("/overview/2026/10.pdf", query_string={"version": junk})
        assert resp.status_code == 404, junk


@pytest.mark.parametrize("url", ["/admin/users", "/admin/agencies", "/reports/mine", "/login"])
def test_nul_bytes_in_any_query_are_400_app_wide(client, db, login_as, url):
    """The refusal is app-wide (PostgreSQL cannot compare a NUL byte: the admin search used to answer 500)."""
    login_as("admin", "reporter", kind="other")
    resp = client.get(url, query_string={"q": "a\x00b"})
    assert resp.status_code == 400 and "NUL" in resp.text


def test_api_answers_nul_bytes_in_json_not_html(client, db):
    resp = client.post("/api/v1/incidents?x=a%00b", json={"id": "a"}, headers={"Authorization": "Bearer nonsense"})
    assert resp.status_code == 401 and resp.is_json
