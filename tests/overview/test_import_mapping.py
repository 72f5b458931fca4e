"""Issue 18: the import preview maps a source's own categories to ours once per source, and every refused
row shows the value that was refused (free text only by its length)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.overview.models import ImportCategoryAlias, ImportJob, ImportStatus
from app.audit.models import AuditEvent
from tests.conftest import csrf_from
from tests.overview.test_import import confirm, csv_text, job_of, reports_of, sync_imports, taxonomy, upload  # noqa: F401


def _rows(t, prefix, category="Fordonsbrand", n=2):
    return [[f"{prefix}{i}", f"2026-03-1{i} 14:05", t["centrum"].code, category, "offentlig", "", ""]
            for i in range(n)]


def _map(client, job, **fields):
    page = client.get(f"/reports/import/{job.id}")
    return client.post(f"/reports/import/{job.id}/categories", data={"csrf_token": csrf_from(page.text), **fields})


def _events(db, action):
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_an_unknown_category_is_mapped_once_and_remembered_for_that_source_only(client, db, login_as, factory,
                                                                               taxonomy):
    login_as("analyst")
    t = taxonomy
    fire, other = factory.agency(kind="security_company"), factory.agency(kind="housing")
    job = job_of(db, upload(client, csv_text(t, _rows(t, "F") + _rows(t, "G", "fordonsbrand ", 1)).encode(), fire))
    page = client.get(f"/reports/import/{job.id}").text
    section = page.split('id="categories"', 1)[1].split("</section>", 1)[0]
    # Both spellings are one source category with its row count; nothing is importable yet.
    assert section.count("<label for=\"map_") == 1 and "Fordonsbrand" in section and "<td>3</td>" in section
    assert job.invalid == 3 and "Det finns inga nya giltiga rader att importera." in page

    response = _map(client, job, map_0=str(t["brand"].id))
    assert response.status_code == 303, response.text[:500]
    db.refresh(job)
    assert job.status is ImportStatus.PREVIEW and job.invalid == 0
    page = client.get(f"/reports/import/{job.id}").text
    assert "Kategorier som inte känns igen" not in page and "Importera 3 rader" in page
    alias = db.scalar(select(ImportCategoryAlias).where(ImportCategoryAlias.organisation_id == fire.id))
    assert (alias.source_name, alias.category_id) == ("Fordonsbrand", t["brand"].id)
    assert _events(db, "import.categories_mapped") == 1
    assert confirm(client, job).status_code == 303
    assert {r.category_id for r in reports_of(db, job=job)} == {t["brand"].id}

    # The next file from the same source is recognised at once; another source's is not.
    again = job_of(db, upload(client, csv_text(t, _rows(t, "H")).encode(), fire))
    assert again.invalid == 0 and "Kategorier som inte känns igen" not in client.get(f"/reports/import/{again.id}").text
    elsewhere = job_of(db, upload(client, csv_text(t, _rows(t, "H")).encode(), other))
    assert elsewhere.invalid == 2
    assert "Kategorier som inte känns igen" in client.get(f"/reports/import/{elsewhere.id}").text


def test_a_remembered_mapping_can_be_forgotten_with_a_confirmation(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    t = taxonomy
    fire = factory.agency(kind="security_company")
    job = job_of(db, upload(client, csv_text(t, _rows(t, "F")).encode(), fire))
    assert _map(client, job, map_0=str(t["brand"].id)).status_code == 303
    alias = db.scalar(select(ImportCategoryAlias).where(ImportCategoryAlias.organisation_id == fire.id))
    listing = client.get("/reports/import")
    assert "Ihågkomna kategorier" in listing.text and "Fordonsbrand" in listing.text
    token = csrf_from(listing.text)
    # Without the tick nothing changes.
    assert client.post(f"/reports/import/categories/{alias.id}/forget", data={"csrf_token": token}).status_code == 303
    assert db.get(ImportCategoryAlias, alias.id) is not None
    assert client.post(f"/reports/import/categories/{alias.id}/forget",
                       data={"csrf_token": token, "confirmed": "y"}).status_code == 303
    db.expire_all()
    assert db.get(ImportCategoryAlias, alias.id) is None
    assert _events(db, "import.category_alias_removed") == 1
    assert job_of(db, upload(client, csv_text(t, _rows(t, "K")).encode(), fire)).invalid == 2
    # An id that does not exist (any more) is a clear message, not an error page.
    gone = client.post(f"/reports/import/categories/{alias.id}/forget", data={"csrf_token": token, "confirmed": "y"},
                       follow_redirects=True)
    assert gone.status_code == 200 and "Mappningen finns inte" in gone.text


def test_bad_mapping_input_changes_nothing(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    t = taxonomy
    fire = factory.agency(kind="security_company")
    job = job_of(db, upload(client, csv_text(t, _rows(t, "F")).encode(), fire))
    before = job.mapping

    for fields in ({}, {"map_0": ""}, {"map_0": "999999"}, {"map_0": "abc"}, {"map_7": str(t["brand"].id)}):
        response = _map(client, job, **fields)
        assert response.status_code == 400, fields
        assert "Uppgifterna sparades inte" in response.text and "Fordonsbrand" in response.text
    inactive = t["brand"]
    inactive.active = False
    db.flush()
    response = _map(client, job, map_0=str(inactive.id))
    assert response.status_code == 400
    db.refresh(job)
    assert job.mapping == before
    assert db.scalar(select(func.count()).select_from(ImportCategoryAlias)) == 0
    # A stale form token changes nothing either.
    stale = client.post(f"/reports/import/{job.id}/categories", data={"csrf_token": "x", "map_0": str(t["klotter"].id)})
    assert stale.status_code == 400 and db.scalar(select(func.count()).select_from(ImportCategoryAlias)) == 0


def test_mapping_is_refused_once_the_job_is_confirmed_and_for_another_users_job(client, db, login_as, factory,
                                                                              taxonomy, app):
    t = taxonomy
    fire = factory.agency(kind="security_company")
    login_as("analyst")
    rows = _rows(t, "F") + [["OK1", "2026-03-10 10:00", t["centrum"].code, t["klotter"].code, "offentlig", "", ""]]
    job = job_of(db, upload(client, csv_text(t, rows).encode(), fire))
    page = client.get(f"/reports/import/{job.id}")
    token = csrf_from(page.text)
    assert confirm(client, job).status_code == 303
    late = client.post(f"/reports/import/{job.id}/categories", data={"csrf_token": token, "map_0": str(t["brand"].id)},
                       follow_redirects=True)
    assert late.status_code == 200 and "redan bekräftad" in late.text
    assert db.scalar(select(func.count()).select_from(ImportCategoryAlias)) == 0

    other = job_of(db, upload(client, csv_text(t, _rows(t, "Q")).encode(), fire))
    login_as("analyst")  # another analyst: someone else's upload is not found
    page = client.get("/reports/import")
    response = client.post(f"/reports/import/{other.id}/categories",
                           data={"csrf_token": csrf_from(page.text), "map_0": str(t["brand"].id)})
    assert response.status_code == 404
    assert db.scalar(select(func.count()).select_from(ImportCategoryAlias)) == 0


def test_roles_without_the_import_permission_cannot_map_or_forget(client, db, login_as, factory, taxonomy):
    for role in ("reporter", "coordinator", "process_leader", "auditor"):
        login_as(role)
        page = client.get("/")
        token = csrf_from(page.text) if "csrf_token" in page.text else ""
        assert client.post("/reports/import/categories/1/forget",
                           data={"csrf_token": token, "confirmed": "y"}).status_code == 403, role


def test_each_refused_row_shows_the_value_that_was_refused_but_never_free_text(client, db, login_as, factory,
                                                                              taxonomy):
    login_as("analyst")
    t = taxonomy
    long_place = "Hemligt namn " + "x" * 250
    rows = [["E1", "31/02/2026 14:05", t["centrum"].code, t["klotter"].code, "offentlig", "", ""],
            ["E2", "2026-03-10 14:05", "Månbasen", t["klotter"].code, "offentlig", "", ""],
            ["E3", "2026-03-10 14:05", t["centrum"].code, t["klotter"].code, "under vatten", "", ""],
            ["E4", "2026-03-10 14:05", t["centrum"].code, t["klotter"].code, "offentlig", long_place, ""],
            ["E5", "", t["centrum"].code, t["klotter"].code, "offentlig", "", ""]]
    job = job_of(db, upload(client, csv_text(t, rows).encode(), factory.agency(kind="housing")))
    table = client.get(f"/reports/import/{job.id}").text.split('id="invalid"', 1)[1].split("</table>", 1)[0]
    body = [row for row in table.split("<tr>")[2:]]
    by_line = {row.split("</td>", 1)[0].replace("<td>", "").strip(): row for row in body}
    assert "<code>31/02/2026 14:05</code>" in by_line["2"] and "Ogiltig tidpunkt" in by_line["2"]
    assert "<code>Månbasen</code>" in by_line["3"] and "Okänt område" in by_line["3"]
    assert "<code>under vatten</code>" in by_line["4"]
    assert "fritext, 263 tecken (visas inte)" in by_line["5"] and "Hemligt" not in table
    assert "tomt" in by_line["6"] and "Värde saknas" in by_line["6"]
    # The quoted values live in the job's encrypted review, not in its plain mapping JSON; reading them is audited.
    stored = db.get(ImportJob, job.id)
    assert "Månbasen" not in stored.mapping and "Månbasen".encode() not in (stored.review_ct or b"")
    assert _events(db, "import.review_read") >= 1


def test_the_review_is_destroyed_with_the_upload_when_the_job_ends(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    t = taxonomy
    rows = _rows(t, "F") + [["OK1", "2026-03-10 10:00", t["centrum"].code, t["klotter"].code, "offentlig", "", ""]]
    job = job_of(db, upload(client, csv_text(t, rows).encode(), factory.agency(kind="security_company")))
    assert job.review_ct is not None
    assert confirm(client, job).status_code == 303
    db.refresh(job)
    assert job.status is ImportStatus.DONE and job.review_ct is None and job.content_ct is None
