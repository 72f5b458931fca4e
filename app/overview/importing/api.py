"""Incidents posted to the JSON API: one object or {"incidents": [...]}, all or nothing, idempotent by id."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.db import db, utcnow
from app.overview.importing.rows import MESSAGES, MESSAGES_EN, Lookup, build_incident
from app.overview.models import IncidentReport, ReportRevision, ReportSource, ReportStatus, Setting
from app.overview.reporting.filing import plain_value, same_instant
from app.overview.service import local_week, new_report

MAX_BATCH = 500
FIELDS = ("id", "occurred_at", "occurred_until", "area", "category", "setting", "place", "latitude", "longitude",
          "description")


class ApiProblem(Exception):
    """A request the client must correct: HTTP status, a stable code, English and Swedish messages."""

    def __init__(self, status: int, code: str, message_en: str, message_sv: str, **extra: Any):
        super().__init__(code)
        self.status, self.code, self.message_en, self.message_sv, self.extra = status, code, message_en, message_sv, extra


def _sv(code: str) -> str:
    with force_locale("sv"):
        return str(MESSAGES.get(code, code))


def _item_error(name: str, code: str) -> dict:
    if code == "unknown_field":
        return {"field": name, "code": code, "message": "Unknown field.", "message_sv": "Okänt fält."}
    return {"field": "id" if name == "external_id" else name, "code": code,
            "message": MESSAGES_EN.get(code, code), "message_sv": _sv(code)}


def read_items(payload: Any) -> list:
    """The incidents of a request body; ApiProblem for a body of the wrong shape or size."""
    if isinstance(payload, dict) and "incidents" in payload:
        items = payload["incidents"]
        if not isinstance(items, list) or set(payload) != {"incidents"}:
            raise ApiProblem(400, "bad_request", 'Expected {"incidents": [...]} with a list of incident objects.',
                             'Förväntade {"incidents": [...]} med en lista av händelser.')
        if not items:
            raise ApiProblem(400, "empty_batch", "The batch is empty.", "Listan med händelser är tom.")
        if len(items) > MAX_BATCH:
            raise ApiProblem(413, "batch_too_large", f"At most {MAX_BATCH} incidents per request.",
                             f"Högst {MAX_BATCH} händelser per anrop.", max_batch=MAX_BATCH)
        return items
    if isinstance(payload, dict):
        return [payload]
    raise ApiProblem(400, "bad_request", 'Expected an incident object or {"incidents": [...]}.',
                     'Förväntade en händelse eller {"incidents": [...]}.')


def receive_incidents(items: list, organisation_id: int) -> tuple[int, dict]:
    """Validate every item, then store the new ones (status new, source api) as the organisation's reports.

    An id the organisation already sent, with the same content, returns the stored report's status and
    changes nothing. With changed content it updates the report while no analyst has reviewed it (status
    new: a revision "corrected_by_sender" names the changed fields, never the texts), and otherwise the
    whole call is refused with ApiProblem 409 "already_reviewed" naming those ids: nothing is stored, and
    the sender asks the analyst to correct the report. Any invalid item → ApiProblem 422 listing every
    item's errors; nothing is stored.
    """
    lookup = Lookup(by_name=False)
    now = utcnow()
    problems, incidents, seen = [], [], set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append({"index": index, "errors": [_item_error("", "bad_type")]})
            continue
        values = {("external_id" if key == "id" else key): value for key, value in item.items()}
        incident, errors = build_incident(values, lookup, now, api=True, default_setting=None)
        errors += [(key, "unknown_field") for key in item if key not in FIELDS]
        if incident is not None and incident.external_id in seen:
            errors.append(("external_id", "duplicate_in_batch"))
        if errors:
            sender_id = item.get("id")
            if isinstance(sender_id, bool) or not isinstance(sender_id, (str, int)):
                sender_id = None
            problems.append({"index": index, "id": sender_id, "errors": [_item_error(n, c) for n, c in errors]})
            continue
        seen.add(incident.external_id)
        incidents.append(incident)
    if problems:
        raise ApiProblem(422, "invalid_incidents", "Some incidents are invalid; nothing was stored.",
                         "Några händelser är ogiltiga; inget har sparats.", items=problems)

    existing = {report.external_id: report for report in db.session.scalars(
        select(IncidentReport).where(IncidentReport.organisation_id == organisation_id,
                                     IncidentReport.external_id.in_([i.external_id for i in incidents])))}
    reviewed = [{"id": i.external_id, "report_id": str(existing[i.external_id].id),
                 "status": existing[i.external_id].status.value}
                for i in incidents if i.external_id in existing
                and existing[i.external_id].status != ReportStatus.NEW and _changed(existing[i.external_id], i)]
    if reviewed:
        raise ApiProblem(409, "already_reviewed",
                         "Some reports have been reviewed and cannot be changed through the API; nothing was "
                         "stored. Ask the analyst to correct them.",
                         "Några rapporter är redan granskade och kan inte ändras via API:et; inget har sparats. "
                         "Be analytikern att rätta dem.", items=reviewed)
    results, created, updated = [], [], []
    savepoint = db.session.begin_nested()
    try:
        for incident in incidents:
            found = existing.get(incident.external_id)
            if found is not None and _changed(found, incident):
                _update(found, incident)
                updated.append(found)
            if found is None:
                found = new_report(
                    occurred_at=incident.occurred_at, occurred_until=incident.occurred_until,
                    area_id=incident.area_id, category_id=incident.category_id, setting=incident.setting,
                    description=incident.description, organisation_id=organisation_id, place=incident.place,
                    latitude=incident.latitude, longitude=incident.longitude, source=ReportSource.API,
                    external_id=incident.external_id, fingerprint=incident.fingerprint, status=ReportStatus.NEW)
                db.session.add(found)
                created.append(found)
            results.append((incident.external_id, found, found in created))
        db.session.flush()
        savepoint.commit()
    except (IntegrityError, StaleDataError):  # the same ids stored or updated by a concurrent call
        savepoint.rollback()
        raise ApiProblem(409, "conflict", "Another request stored some of these ids at the same time; send again.",
                         "Ett annat anrop sparade några av dessa id samtidigt; skicka igen.") from None
    body = {
        "created": len(created),
        "existing": len(results) - len(created) - len(updated),
        "updated": len(updated),
        "results": [{"id": ext, "report_id": str(report.id), "status": report.status.value, "created": new,
                     "updated": report in updated}
                    for ext, report, new in results],
    }
    return (201 if created else 200), body



def _plain_changes(report: IncidentReport, incident) -> dict[str, list]:
    """{field: [stored, sent]} of the plain fields that differ (the texts are compared only on update)."""
    sent = {"occurred_at": incident.occurred_at, "occurred_until": incident.occurred_until,
            "area_id": incident.area_id, "category_id": incident.category_id, "setting": Setting(incident.setting),
            "latitude": incident.latitude, "longitude": incident.longitude}
    changes = {}
    for name, value in sent.items():
        old = getattr(report, name)
        if not (same_instant(old, value) if name.startswith("occurred") else old == value):
            changes[name] = [plain_value(old), plain_value(value)]
    return changes


def _changed(report: IncidentReport, incident) -> bool:
    """True when the content sent differs from the stored report: the fingerprint covers time, area,
    category, place and description; the plain fields are compared one by one."""
    return report.fingerprint != incident.fingerprint or bool(_plain_changes(report, incident))


def _update(report: IncidentReport, incident) -> None:
    """Apply a sender's correction to an unreviewed report, with a revision naming the changed fields."""
    changes = _plain_changes(report, incident)
    for name in changes:
        setattr(report, name, getattr(incident, name) if name != "setting" else Setting(incident.setting))
    if "occurred_at" in changes:
        report.local_date, report.iso_year, report.iso_week = local_week(incident.occurred_at)
    # The texts are re-encrypted with the row's key (as a reporter's correction); named, never their text.
    if (incident.place or None) != report.place:
        report.place = incident.place or None
        changes["place"] = [None, None]
    if (incident.description or None) != report.description:
        report.description = incident.description or None
        changes["description"] = [None, None]
    report.fingerprint = incident.fingerprint
    db.session.add(ReportRevision(report_id=report.id, by_id=None, action="corrected_by_sender",
                                  changes=json.dumps(changes, ensure_ascii=False)))
