"""Filing reports through the form, and the reporter's own corrections until review.

One rule set (``check_incident``) serves the form's validation and the
service, so a report that passes the form can never be refused later, and
the service never trusts the form alone. A submission of several incidents
is stored all or nothing.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.db import db, utcnow
from app.overview.models import Area, Category, IncidentReport, ReportRevision, ReportSource, ReportStatus, Setting
from app.overview.service import ReportError, local_week, new_report
from app.security.audit import record
from app.security.permissions import Permission

#: Clocks on phones drift a little: "now" plus this is still not the future.
FUTURE_TOLERANCE = timedelta(minutes=5)
#: The form is for recent incidents; older ones are typing mistakes (or belong in an import).
MAX_AGE = timedelta(days=366)
MAX_PLACE = 200
MAX_DESCRIPTION = 2000
#: Incidents in one submission (the end of a long shift).
MAX_INCIDENTS = 20

CONFLICT_MESSAGE = _l("Någon annan har ändrat rapporten sedan du öppnade den. Ladda om sidan och gör om ändringen.")
LOCKED_MESSAGE = _l("Rapporten är redan granskad och kan inte längre ändras. Kontakta en analytiker om något är fel.")


class ReportConflict(ReportError):
    """The report changed since the user loaded it (optimistic locking)."""


class ReportLocked(ReportError):
    """The report has been reviewed: the reporter can no longer correct it."""


class SubmissionInvalid(ReportError):
    """Some incidents of a submission are invalid: ``errors`` is {index: {field: message}}."""

    def __init__(self, errors: dict[int, dict[str, str]]):
        super().__init__(str(_l("Rätta de markerade uppgifterna. Inget har sparats.")))
        self.errors = errors


@dataclass
class IncidentInput:
    """One incident as the reporter gave it; times are aware datetimes."""

    occurred_at: datetime | None
    area_id: int | None
    category_id: int | None
    setting: Setting | str | None
    occurred_until: datetime | None = None
    place: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    description: str | None = None

    def cleaned(self) -> IncidentInput:
        place = (self.place or "").strip() or None
        description = (self.description or "").strip() or None
        return IncidentInput(**{f.name: getattr(self, f.name) for f in fields(self)} | {
            "place": place, "description": description})


def _active_ids(model) -> set[int]:
    return set(db.session.scalars(select(model.id).where(model.active.is_(True))))


def _has_point(inp: IncidentInput) -> bool:
    return (inp.latitude is not None and inp.longitude is not None
            and -90 <= inp.latitude <= 90 and -180 <= inp.longitude <= 180)


def with_point_area(inp: IncidentInput) -> IncidentInput:
    """The incident with its area taken from its map point when it has a point but no area.

    A given area stays authoritative, even when the point lies in another area.
    """
    if inp.area_id is not None or not _has_point(inp):
        return inp
    from app.overview.geography import area_for_point

    area_id = area_for_point(inp.latitude, inp.longitude)
    return replace(inp, area_id=area_id) if area_id is not None else inp


def check_incident(inp: IncidentInput, *, now: datetime | None = None, allowed_areas: set[int] | None = None,
                   allowed_categories: set[int] | None = None) -> dict[str, str]:
    """Every problem of one incident as {field: message}; empty if it may be stored (an incident without an
    area but with a point inside an active area may: ``with_point_area`` gives it that area)."""
    now = now or utcnow()
    inp = with_point_area(inp)
    errors: dict[str, str] = {}
    start, end = inp.occurred_at, inp.occurred_until
    if start is None:
        errors["occurred_at"] = str(_l("Ange när det hände."))
    elif start > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = str(_l("Tidpunkten ligger i framtiden."))
    elif start < now - MAX_AGE:
        errors["occurred_at"] = str(_l("Tidpunkten ligger mer än ett år bakåt. Kontrollera året."))
    if end is not None:
        if end > now + FUTURE_TOLERANCE:
            errors["occurred_until"] = str(_l("Sluttiden ligger i framtiden."))
        elif start is not None and end <= start:
            errors["occurred_until"] = str(_l("Sluttiden ska vara efter starttiden."))
    areas = _active_ids(Area) if allowed_areas is None else allowed_areas
    if inp.area_id is None and _has_point(inp):
        errors["area_id"] = str(_l("Kartpunkten ligger inte inom något område. Välj ett område."))
    elif inp.area_id is None:
        errors["area_id"] = str(_l("Välj ett område."))
    elif inp.area_id not in areas:
        errors["area_id"] = str(_l("Välj ett av områdena i listan."))
    categories = _active_ids(Category) if allowed_categories is None else allowed_categories
    if inp.category_id is None:
        errors["category_id"] = str(_l("Välj en kategori."))
    elif inp.category_id not in categories:
        errors["category_id"] = str(_l("Välj en av kategorierna i listan."))
    if inp.setting not in {s.value for s in Setting} | set(Setting):
        errors["setting"] = str(_l("Välj offentlig eller halvoffentlig miljö."))
    if inp.place and len(inp.place) > MAX_PLACE:
        errors["place"] = str(_l("Högst %(max)d tecken.", max=MAX_PLACE))
    if inp.description and len(inp.description) > MAX_DESCRIPTION:
        errors["description"] = str(_l("Högst %(max)d tecken.", max=MAX_DESCRIPTION))
    if (inp.latitude is None) != (inp.longitude is None):
        errors["latitude"] = str(_l("Ange både latitud och longitud, eller ingen av dem."))
    elif inp.latitude is not None:
        if not -90 <= inp.latitude <= 90:
            errors["latitude"] = str(_l("Latitud ska vara mellan -90 och 90."))
        if not -180 <= inp.longitude <= 180:
            errors["longitude"] = str(_l("Longitud ska vara mellan -180 och 180."))
    return errors


def _audit_created(report: IncidentReport) -> None:
    record("report.created", obj=report, permission=Permission.REPORT_CREATE,
           field_sets=["incident.description"] if report.description_ct is not None else (),
           detail={"source": report.source.value, "submission": str(report.submission_id or "")})


def file_reports(inputs: list[IncidentInput], reporter) -> list[IncidentReport]:
    """Store one submission of incidents (all or none), as new reports of the reporter's agency."""
    if not inputs:
        raise ReportError(str(_l("Rapporten innehåller ingen händelse.")))
    if len(inputs) > MAX_INCIDENTS:
        raise ReportError(str(_l("Högst %(max)d händelser per rapport.", max=MAX_INCIDENTS)))
    if not reporter.agency_id:
        raise ReportError(str(_l("Ditt konto hör inte till någon organisation. Kontakta administratören.")))
    now, areas, categories = utcnow(), _active_ids(Area), _active_ids(Category)
    cleaned = [with_point_area(inp.cleaned()) for inp in inputs]
    errors = {index: problems for index, inp in enumerate(cleaned)
              if (problems := check_incident(inp, now=now, allowed_areas=areas, allowed_categories=categories))}
    if errors:
        raise SubmissionInvalid(errors)
    submission = uuid.uuid4()
    reports = []
    for inp in cleaned:
        report = new_report(
            occurred_at=inp.occurred_at.astimezone(timezone.utc),
            occurred_until=inp.occurred_until.astimezone(timezone.utc) if inp.occurred_until else None,
            area_id=inp.area_id, category_id=inp.category_id, setting=inp.setting, description=inp.description,
            place=inp.place, latitude=inp.latitude, longitude=inp.longitude, organisation_id=reporter.agency_id,
            reporter_id=reporter.id, source=ReportSource.FORM, submission_id=submission, status=ReportStatus.NEW,
        )
        db.session.add(report)
        reports.append(report)
    db.session.flush()
    for report in reports:
        _audit_created(report)
    return reports


#: The plain fields a reporter may correct, in form order.
CORRECTABLE = ("occurred_at", "occurred_until", "area_id", "category_id", "setting", "place", "latitude", "longitude")


def plain_value(value):
    """A JSON-able form of a plain field's value for the history."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="minutes")
    if isinstance(value, (Setting, ReportStatus, ReportSource)):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def same_instant(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    if a.tzinfo is None:
        a = a.replace(tzinfo=timezone.utc)
    return a == b


def check_version(report: IncidentReport, expected_version) -> None:
    """Refuse (ReportConflict) when the form was loaded from an older version of the report."""
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise ReportConflict(str(CONFLICT_MESSAGE)) from None
    if expected != report.version:
        raise ReportConflict(str(CONFLICT_MESSAGE))


def flush_or_conflict(savepoint) -> None:
    """Flush the change; a concurrent writer's newer version turns into ReportConflict with nothing saved."""
    try:
        db.session.flush()
    except StaleDataError:
        savepoint.rollback()
        raise ReportConflict(str(CONFLICT_MESSAGE)) from None
    savepoint.commit()


def correct_report(report: IncidentReport, user, inp: IncidentInput, *, expected_version) -> list[str]:
    """The reporter's correction of their own report while it is new; returns the names of changed fields."""
    if report.status != ReportStatus.NEW:
        raise ReportLocked(str(LOCKED_MESSAGE))
    check_version(report, expected_version)
    inp = with_point_area(inp.cleaned())
    allowed_areas = _active_ids(Area) | {report.area_id}
    allowed_categories = _active_ids(Category) | {report.category_id}
    problems = check_incident(inp, allowed_areas=allowed_areas, allowed_categories=allowed_categories)
    if problems:
        raise SubmissionInvalid({0: problems})
    new_values = {
        "occurred_at": inp.occurred_at.astimezone(timezone.utc),
        "occurred_until": inp.occurred_until.astimezone(timezone.utc) if inp.occurred_until else None,
        "area_id": inp.area_id, "category_id": inp.category_id, "setting": Setting(inp.setting),
        "place": inp.place, "latitude": inp.latitude, "longitude": inp.longitude,
    }
    changes = {}
    for name, value in new_values.items():
        old = getattr(report, name)
        same = same_instant(old, value) if name.startswith("occurred") else old == value
        if not same:
            changes[name] = [plain_value(old), plain_value(value)]
    if "place" in changes:
        changes["place"] = [None, None]  # encrypted like the description: named in the history, never its text
    description_changed = inp.description != report.description
    if not changes and not description_changed:
        return []
    savepoint = db.session.begin_nested()
    for name in changes:
        setattr(report, name, new_values[name])
    if "occurred_at" in changes:
        report.local_date, report.iso_year, report.iso_week = local_week(new_values["occurred_at"])
    if description_changed:
        # The month key follows the incident date only at creation; the text is re-encrypted with the row's key.
        report.description = inp.description
    flush_or_conflict(savepoint)
    history = dict(changes)
    if description_changed:
        history["description"] = [None, None]  # named, never its text
    db.session.add(ReportRevision(report_id=report.id, by_id=user.id, action="corrected",
                                  changes=json.dumps(history, ensure_ascii=False)))
    db.session.flush()
    names = sorted(history)
    record("report.corrected", obj=report, permission=Permission.REPORT_CORRECT,
           field_sets=["incident.description"] if description_changed or "place" in changes else (),
           detail={"fields": ",".join(names)})
    return names
