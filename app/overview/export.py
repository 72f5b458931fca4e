"""CSV export of incident reports for Excel (Swedish settings: UTF-8 with BOM, ``;``).

The rows are the review list's (same filters, same policy narrowing in SQL,
and the gate's object-level answer for every row). Descriptions are a
column only for users the policy lets read them, and each row's text only if
the gate allows it for that row. Cells that a spreadsheet would run as a
formula are neutralised. The export is streamed, so a large one does not sit
in memory; the audit event is written before the first byte.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, tuple_

from app.admin.models import Agency
from app.db import db
from app.overview.models import Area, Category, IncidentReport, ReportSource, ReportStatus, Setting
from app.overview.reporting.queries import ReportFilter, may_read_places, parse_week, review_query
from app.security.authz import FIELDSET_READ, gate
from app.security.permissions import Permission
from app.web import local_datetime

DESCRIPTION = "incident.description"
#: A spreadsheet treats a cell starting with one of these as a formula (or, with tab/CR, may shift it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000


def neutralise(value: Any) -> str:
    """Text for a CSV cell that a spreadsheet shows as text: a leading formula character gets a single quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@dataclass
class ExportRequest:
    filters: ReportFilter
    week_from: tuple[int, int] | None = None
    week_to: tuple[int, int] | None = None

    def audit_detail(self) -> dict[str, str]:
        f = self.filters
        detail = {"status": f.status or "all"}
        for key, value in (("category", f.category_id), ("area", f.area_id), ("organisation", f.organisation_id),
                           ("source", f.source)):
            if value:
                detail[key] = str(value)
        for key, week in (("week", f.week), ("week_from", self.week_from), ("week_to", self.week_to)):
            if week:
                detail[key] = f"{week[0]}-W{week[1]:02d}"
        return detail


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    number = int(value)
    if number <= 0 or number > 2**31 - 1:  # not an id a database integer holds
        raise ValueError(value)
    return number


def parse_request(args) -> ExportRequest:
    """The review list's filters from query arguments, plus a week range; ValueError on anything invalid."""
    status = (args.get("status") or "all").strip()
    if status != "all":
        ReportStatus(status)
    source = (args.get("source") or "").strip() or None
    if source:
        ReportSource(source)
    q = (args.get("q") or "").strip()
    if len(q) > 100:
        raise ValueError("q")
    filters = ReportFilter(status=status, category_id=_int(args.get("category_id")),
                           area_id=_int(args.get("area_id")), week=parse_week(args.get("week")),
                           organisation_id=_int(args.get("organisation_id")), source=source, q=q)
    request = ExportRequest(filters, parse_week(args.get("week_from")), parse_week(args.get("week_to")))
    if request.week_from and request.week_to and request.week_from > request.week_to:
        raise ValueError("week range")
    return request


def export_query(user, request: ExportRequest):
    """The readable reports matching the filters, oldest incident first."""
    stmt = review_query(user, request.filters).order_by(None)
    week = tuple_(IncidentReport.iso_year, IncidentReport.iso_week)
    if request.week_from:
        stmt = stmt.where(week >= tuple_(*request.week_from))
    if request.week_to:
        stmt = stmt.where(week <= tuple_(*request.week_to))
    return stmt.order_by(IncidentReport.occurred_at, IncidentReport.id)


def count_rows(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def may_read_descriptions(user) -> bool:
    """Whether the description and place columns are offered at all (each row is still checked)."""
    return may_read_places(user)


def _headers(with_description: bool) -> list[str]:
    headers = [_("Lots-id"), _("Externt id"), _("Tidpunkt"), _("Tidpunkt till"), _("Vecka"), _("Område"),
               _("Kategori"), _("Miljö"), _("Plats"), _("Latitud"), _("Longitud"), _("Status"), _("Organisation"),
               _("Källa")]
    if with_description:
        headers.append(_("Beskrivning"))
    return headers


def _number(value: float | None, english: bool) -> str:
    if value is None:
        return ""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if english else text.replace(".", ",")


def stream_csv(user_id: int, stmt, *, with_description: bool, english: bool) -> Iterator[str]:
    """The CSV text in pieces: BOM and header first, then BATCH rows at a time.

    It runs while the response streams, after the request's session was committed and removed, so it works in
    the session it runs in: the user is loaded again by id (every row is still decided for that user).
    """
    from app.security.models import User

    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return
    decide = gate().decide
    areas = dict(db.session.execute(select(Area.id, Area.name)).all())
    categories = {cid: (en if english else sv) for cid, sv, en in
                  db.session.execute(select(Category.id, Category.name_sv, Category.name_en))}
    organisations = dict(db.session.execute(select(Agency.id, Agency.name)).all())
    settings = {Setting.PUBLIC: _("offentlig"), Setting.SEMI_PUBLIC: _("halvoffentlig")} if not english else \
        {Setting.PUBLIC: "public", Setting.SEMI_PUBLIC: "semi_public"}
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(_headers(with_description))
    pending = 0
    for report in db.session.scalars(stmt.execution_options(yield_per=BATCH)):
        if not decide(user, Permission.REPORT_READ, report):
            continue
        row = [
            str(report.id), neutralise(report.external_id), local_datetime(report.occurred_at),
            local_datetime(report.occurred_until), f"{report.iso_year}-W{report.iso_week:02d}",
            neutralise(areas.get(report.area_id)), neutralise(categories.get(report.category_id)),
            settings.get(report.setting, ""), "", _number(report.latitude, english),
            _number(report.longitude, english), report.status.value, neutralise(organisations.get(report.organisation_id)),
            report.source.value,
        ]
        if with_description:
            readable = decide(user, FIELDSET_READ + DESCRIPTION, report, fieldset=DESCRIPTION)
            row[8] = neutralise(report.place) if readable else ""  # the place is in the description's field set
            row.append(neutralise(report.description) if readable else "")
        writer.writerow(row)
        report.forget_plaintext()
        pending += 1
        if pending >= BATCH:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()
