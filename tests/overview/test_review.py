"""The analysts' review: list filters, detail, accept/reject/duplicate/reclassify with history, locking, leaders."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.overview.models import ReportRevision, ReportStatus
from tests.conftest import csrf_from

SECRET = "Kalle Exempelsson sålde något vid kiosken"


@pytest.fixture()
def taxa(incidents):
    return incidents.area(name="Stationen test"), incidents.category(name_sv="Hot test", name_en="Threat test")


def _review(client, report, action, **fields):
    page = client.get(f"/reports/{report.id}")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.text), "action": action, "version": str(fields.pop("version", report.version))}
    data.update(fields)
    return client.post(f"/reports/{report.id}/review", data=data)


def _revisions(db, report):
    return db.scalars(select(ReportRevision).where(ReportRevision.report_id == report.id)
                      .order_by(ReportRevision.id)).all()


def test_analyst_reads_description_and_the_read_is_audited(client, db, login_as, taxa, incidents):
    area, category = taxa
    report = incidents.report(area=area, category=category, status="new", description=SECRET)
    analyst = login_as("analyst", kind="social_services")
    page = client.get(f"/reports/{report.id}")
    assert page.status_code == 200 and SECRET in page.text
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.view")).one()
    assert event.actor_user_id == analyst.id and event.field_sets == "incident.description"
    assert event.object_id == str(report.id) and "Kalle" not in (event.detail or "")


def test_accept_records_history_and_audit(client, db, login_as, taxa, incidents):
    area, category = taxa
    report = incidents.report(area=area, category=category, status="new")
    analyst = login_as("analyst", kind="social_services")
    resp = _review(client, report, "accept")
    assert resp.status_code == 302
    db.refresh(report)
    assert report.status == ReportStatus.ACCEPTED and report.reviewed_by_id == analyst.id
    (revision,) = _revisions(db, report)
    assert revision.action == "accepted" and json.loads(revision.changes) == {"status": ["new", "accepted"]}
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.reviewed")).one()
    assert json.loads(event.detail)["action"] == "accept"
    page = client.get(f"/reports/{report.id}")
    assert "Godkänd" in page.text and "Historik" in page.text


def test_reject_requires_a_reason(client, db, login_as, taxa, incidents):
    area, category = taxa
    report = incidents.report(area=area, category=category, status="new")
    login_as("analyst", kind="social_services")
    resp = _review(client, report, "reject", reason="  ")
    assert resp.status_code == 400 and "Ange varför rapporten avvisas" in resp.text
    db.refresh(report)
    assert report.status == ReportStatus.NEW and not _revisions(db, report)
    resp = _review(client, report, "reject", reason="Inte en trygghetshändelse.")
    assert resp.status_code == 302
    db.refresh(report)
    assert report.status == ReportStatus.REJECTED and report.reject_reason == "Inte en trygghetshändelse."
    (revision,) = _revisions(db, report)
    assert revision.action == "rejected"
    assert json.loads(revision.changes)["status"] == ["new", "rejected"]


def test_duplicate_of_self_or_unknown_is_refused(client, db, login_as, taxa, incidents):
    area, category = taxa
    report = incidents.report(area=area, category=category, status="new")
    login_as("analyst", kind="social_services")
    for target in (str(report.id), str(uuid.uuid4()), "inte-ett-id", ""):
        resp = _review(client, report, "duplicate", duplicate_of=target)
        assert resp.status_code == 400, target
    db.refresh(report)
    assert report.status == ReportStatus.NEW and report.duplicate_of_id is None and not _revisions(db, report)


def test_mark_as_duplicate_of_another_report(client, db, login_as, taxa, incidents):
    area, category = taxa
    original = incidents.report(area=area, category=category, status="accepted")
    report = incidents.report(area=area, category=category, status="new")
    login_as("analyst", kind="social_services")
    assert _review(client, report, "duplicate", duplicate_of=str(original.id)).status_code == 302
    db.refresh(report)
    assert report.status == ReportStatus.DUPLICATE and report.duplicate_of_id == original.id
    (revision,) = _revisions(db, report)
    assert json.loads(revision.changes)["duplicate_of_id"] == [None, str(original.id)]
    # the original cannot then be marked a duplicate of its own duplicate
    assert _review(client, original, "duplicate", duplicate_of=str(report.id)).status_code == 400


def test_reclassify_category_and_area_keeps_history(client, db, login_as, taxa, incidents):
    area, category = taxa
    other_area, other_category = incidents.area(name="Hamnen test"), incidents.category(name_sv="Brand test")
    report = incidents.report(area=area, category=category, status="accepted")
    login_as("analyst", kind="social_services")
    resp = _review(client, report, "reclassify", category_id=str(other_category.id), area_id=str(other_area.id))
    assert resp.status_code == 302
    db.refresh(report)
    assert (report.category_id, report.area_id) == (other_category.id, other_area.id)
    (revision,) = _revisions(db, report)
    assert revision.action == "reclassified"
    assert json.loads(revision.changes) == {"category_id": [category.id, other_category.id],
                                            "area_id": [area.id, other_area.id]}
    page = client.get(f"/reports/{report.id}")
    assert "Hamnen test" in page.text and "Stationen test" in page.text  # history names old and new
    assert _review(client, report, "reclassify", category_id="999999",
                   area_id=str(other_area.id)).status_code == 400


def test_stale_review_is_409_and_changes_nothing(client, db, login_as, taxa, incidents):
    area, category = taxa
    report = incidents.report(area=area, category=category, status="new")
    login_as("analyst", kind="social_services")
    stale = report.version
    assert _review(client, report, "accept").status_code == 302
    resp = _review(client, report, "reject", reason="Fel", version=stale)
    assert resp.status_code == 409 and "Någon annan har ändrat" in resp.text
    db.refresh(report)
    assert report.status == ReportStatus.ACCEPTED and len(_revisions(db, report)) == 1


def test_unknown_review_action_is_400(client, db, login_as, taxa, incidents):
    area, category = taxa
    report = incidents.report(area=area, category=category, status="new")
    login_as("analyst", kind="social_services")
    assert _review(client, report, "delete").status_code == 400
    db.refresh(report)
    assert report.status == ReportStatus.NEW


def test_review_list_filters_and_searches(client, db, login_as, taxa, incidents):
    area, category = taxa
    other_area = incidents.area(name="Skolparken test")
    incidents.report(area=area, category=category, status="new", place="vid kiosken")
    incidents.report(area=other_area, category=category, status="accepted", place="vid fotbollsplanen",
                     occurred_at=datetime(2026, 1, 7, 12, tzinfo=timezone.utc))
    login_as("analyst", kind="social_services")
    default = client.get("/reports/")
    assert default.status_code == 200
    assert "vid kiosken" in default.text and "vid fotbollsplanen" not in default.text  # default: new reports
    every = client.get("/reports/?status=all")
    assert "vid kiosken" in every.text and "vid fotbollsplanen" in every.text
    by_area = client.get(f"/reports/?status=all&area_id={other_area.id}")
    assert "vid fotbollsplanen" in by_area.text and "vid kiosken" not in by_area.text
    by_week = client.get("/reports/?status=all&week=2026-W02")
    assert "vid fotbollsplanen" in by_week.text and "vid kiosken" not in by_week.text
    search = client.get("/reports/?status=all&q=kiosk")
    assert "vid kiosken" in search.text and "vid fotbollsplanen" not in search.text
    sorted_page = client.get("/reports/?status=all&sort=occurred")
    assert sorted_page.text.index("vid fotbollsplanen") < sorted_page.text.index("vid kiosken")
    assert client.get("/reports/?week=2026-W99").status_code == 400
    assert client.get("/reports/?status=bogus").status_code == 400
    assert client.get("/reports/?area_id=abc").status_code == 400


def test_process_leader_sees_only_accepted_reports_and_no_descriptions(client, db, login_as, taxa, incidents):
    area, category = taxa
    accepted = incidents.report(area=area, category=category, status="accepted", place="godkänd plats",
                                description=SECRET)
    pending = incidents.report(area=area, category=category, status="new", place="ny plats", description=SECRET)
    login_as("process_leader", kind="social_services")
    listing = client.get("/reports/?status=all")
    assert listing.status_code == 200
    assert str(accepted.id) in listing.text and str(pending.id) not in listing.text
    assert "godkänd plats" not in listing.text, "the place is in the description's field set"
    assert client.get("/reports/?status=new").status_code == 400  # not a status they may filter on
    page = client.get(f"/reports/{accepted.id}")
    assert page.status_code == 200 and SECRET not in page.text and "Kalle" not in page.text
    assert 'action="/reports/' not in page.text  # no review actions
    assert client.get(f"/reports/{pending.id}").status_code == 403
    assert not db.scalars(select(AuditEvent).where(AuditEvent.action == "report.view")).all()
    page = client.get(f"/reports/{accepted.id}")
    resp = client.post(f"/reports/{accepted.id}/review",
                       data={"csrf_token": csrf_from(page.text), "action": "reject", "reason": "x",
                             "version": str(accepted.version)})
    assert resp.status_code == 403


def test_reporter_cannot_open_review_pages(client, db, login_as, taxa, incidents):
    area, category = taxa
    reporter = login_as("reporter", kind="youth")
    own = incidents.report(area=area, category=category, reporter=reporter, status="new")
    assert client.get("/reports/").status_code == 403
    assert client.get(f"/reports/{own.id}").status_code == 403


def test_after_a_decision_the_next_new_report_opens(client, db, login_as, taxa, incidents):
    area, category = taxa
    first = incidents.report(area=area, category=category, status="new",
                             occurred_at=datetime(2026, 11, 2, 18, tzinfo=timezone.utc))
    second = incidents.report(area=area, category=category, status="new",
                              occurred_at=datetime(2026, 11, 1, 18, tzinfo=timezone.utc))
    login_as("analyst", kind="social_services")
    resp = _review(client, first, "accept")
    assert resp.headers["Location"].endswith(f"/reports/{second.id}")
    resp = _review(client, second, "accept")
    assert resp.headers["Location"].endswith(f"/reports/{second.id}")  # none left: stay on the report


def test_possible_duplicates_are_offered_and_can_be_chosen(client, db, login_as, taxa, incidents):
    area, category = taxa
    original = incidents.report(area=area, category=category, status="accepted", place="vid torget",
                                occurred_at=datetime(2026, 11, 2, 18, tzinfo=timezone.utc))
    far = incidents.report(area=area, category=category, status="accepted", place="långt bort i tiden",
                           occurred_at=datetime(2026, 10, 2, 18, tzinfo=timezone.utc))
    report = incidents.report(area=area, category=category, status="new",
                              occurred_at=datetime(2026, 11, 2, 19, tzinfo=timezone.utc))
    login_as("analyst", kind="social_services")
    page = client.get(f"/reports/{report.id}")
    assert "Möjliga dubbletter" in page.text and f'value="{original.id}"' in page.text
    assert f'value="{far.id}"' not in page.text
    assert _review(client, report, "duplicate", duplicate_of=str(original.id)).status_code == 302
    db.refresh(report)
    assert report.duplicate_of_id == original.id


def test_review_list_sorts_by_area_name_and_counts_waiting_reports(client, db, login_as, incidents):
    category = incidents.category()
    zeta, alfa = incidents.area(name="Zeta test"), incidents.area(name="Alfa test")
    incidents.report(area=zeta, category=category, status="new", place="på zeta")
    incidents.report(area=alfa, category=category, status="accepted", place="på alfa")
    login_as("analyst", kind="social_services")
    page = client.get("/reports/?status=all&sort=area")
    assert page.status_code == 200 and page.text.index("på alfa") < page.text.index("på zeta")
    page = client.get("/reports/?status=all&sort=-area")
    assert page.text.index("på zeta") < page.text.index("på alfa")
    assert "1 rapport väntar på granskning" in page.text
    assert client.get("/reports/?status=all&sort=category").status_code == 200
    assert client.get("/reports/?status=all&sort=nonsense").status_code == 200
