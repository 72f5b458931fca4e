"""Publishing freezes a week: versions never change when reports are corrected afterwards."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from

WEEK = "/overview/2026/20"
MONDAY = datetime(2026, 5, 11, 10, tzinfo=timezone.utc)  # 2026-W20


def main_of(html: str) -> str:
    """The page body without the per-request CSRF tokens and flashed messages."""
    body = html.split('<main id="main">', 1)[1].split("</main>", 1)[0]
    body = re.sub(r'<div class="alert alert-success" role="status">[^<]*</div>', "", body)
    return re.sub(r'name="csrf_token"[^>]*>', "", body)


@pytest.fixture()
def week(incidents):
    a, b = incidents.area(name="Centrum"), incidents.area(name="Väster")
    k1 = incidents.category(name_sv="Klotter", name_en="Graffiti")
    k2 = incidents.category(name_sv="Brand", name_en="Fire")
    reports = [incidents.report(area=a, category=k1, occurred_at=MONDAY) for _ in range(3)]
    reports.append(incidents.report(area=b, category=k2, occurred_at=MONDAY))
    pending = incidents.report(area=b, category=k1, occurred_at=MONDAY, status="new")
    return {"a": a, "b": b, "k1": k1, "k2": k2, "reports": reports, "pending": pending}


def publish(client):
    page = client.get(WEEK + "/publish")
    return client.post(WEEK + "/publish", data={"csrf_token": csrf_from(page.text), "confirmed": "y"})


def test_published_version_never_changes_after_corrections(client, db, login_as, week):
    from app.overview.models import PublishedWeek, ReportStatus

    login_as("analyst", kind="police")
    page = client.get(WEEK)
    client.post(WEEK + "/note", data={"csrf_token": csrf_from(page.text), "analysis": "Lugn vecka.", "focus": "Torget."})
    assert publish(client).status_code == 302
    version = db.scalars(select(PublishedWeek)).one()
    stored = (version.snapshot, version.report_versions, version.change_summary)
    before = main_of(client.get(WEEK + "/versions/1").text)
    assert "Lugn vecka." in before and "Torget." in before
    assert len(json.loads(version.report_versions)) == 4
    pdf_before = client.get(WEEK + ".pdf?version=1")
    assert pdf_before.status_code == 200

    # Corrections after publishing: accept the pending one, reject one, reclassify one, edit the draft.
    week["pending"].status = ReportStatus.ACCEPTED
    week["reports"][0].status = ReportStatus.REJECTED
    week["reports"][1].category_id = week["k2"].id
    db.flush()
    client.post(WEEK + "/note", data={"csrf_token": csrf_from(page.text), "analysis": "Omskriven.", "focus": ""})

    db.expire_all()
    assert (version.snapshot, version.report_versions, version.change_summary) == stored
    after = main_of(client.get(WEEK + "/versions/1").text)
    assert after == before
    assert "Omskriven." not in after

    live = client.get(WEEK).text
    assert "Ändrad sedan publicering" in live
    assert "1 rapporter tillagda, 1 borttagna, 1 ändrade" in live


def test_republishing_creates_the_next_version_with_a_change_summary(client, db, login_as, week):
    from app.overview.models import PublishedWeek, ReportStatus

    login_as("analyst", kind="police")
    assert publish(client).status_code == 302
    first = main_of(client.get(WEEK + "/versions/1").text)
    week["reports"][0].status = ReportStatus.REJECTED
    week["reports"][1].area_id = week["b"].id
    db.flush()

    resp = publish(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(WEEK + "/versions/2")
    versions = db.scalars(select(PublishedWeek).order_by(PublishedWeek.number)).all()
    assert [v.number for v in versions] == [1, 2]
    summary = json.loads(versions[1].change_summary)
    assert summary["previous"] == 1
    assert summary["reports"] == {"added": 0, "removed": 1, "changed": 1}
    changed = {(c["what"], c.get("name") or c.get("name_sv")): (c.get("old"), c.get("new")) for c in summary["figures"]}
    assert changed[("total", None)] == (4, 3)
    assert changed[("category", "Klotter")] == (3, 2)
    assert changed[("area", "Centrum")] == (3, 1)
    assert changed[("area", "Väster")] == (1, 2)

    page = client.get(WEEK + "/versions/2").text
    assert "Ändringar mot version 1" in page and "Totalt: 4 → 3" in page
    assert "Ändrad sedan publicering" not in client.get(WEEK).text
    # Version 1 is still there, as it was, with a pointer to the newer one.
    old = main_of(client.get(WEEK + "/versions/1").text)
    assert 'class="kpi">4<' in old and "Det finns en nyare version (2)" in old
    figures = lambda html: html.split('aria-labelledby="h-summary"', 1)[1].split('aria-labelledby="h-versions"')[0]  # noqa: E731
    assert figures(old) == figures(first)


def test_publish_week_service_freezes_report_versions(app, db, week):
    from app.overview import publishing

    with app.test_request_context():
        version = publishing.publish_week(2026, 20, by=None)
    pairs = json.loads(version.report_versions)
    assert sorted(pairs) == sorted([str(r.id), r.version] for r in week["reports"])
    snapshot = json.loads(version.snapshot)
    assert snapshot["figures"]["total"]["count"] == 4
    assert {s["area_id"] for s in snapshot["shapes"]} == {week["a"].id, week["b"].id}
    assert all(s["polygon"] for s in snapshot["shapes"])
