"""Links from a case to incident reports about the participant's safety (a threat, violence).

A link lives on the case only: the weekly overview and the case figures never
read it, so it can never single out a report as a participant's. The case
shows plain columns of a linked report (date, area, category, status), never
its description (the coordinator is denied ``incident.description``).
"""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, select

from app.cases.models import Case, CaseIncident
from app.cases.service import CaseError
from app.db import db
from app.overview.models import Area, Category, IncidentReport
from app.security import audit


def parse_incident_id(value: str | None) -> uuid.UUID:
    """The incident id as typed or pasted (surrounding space ignored); CaseError if it is not an id."""
    try:
        return uuid.UUID((value or "").strip())
    except ValueError:
        raise CaseError(_l("Det är inget händelse-id. Kopiera id:t från händelserapportens sida.")) from None


def link_incident(case: Case, actor, incident_id: str | uuid.UUID) -> CaseIncident:
    """Link an existing incident report to the case (once); audited with the report's id only."""
    ident = incident_id if isinstance(incident_id, uuid.UUID) else parse_incident_id(incident_id)
    if db.session.scalar(select(IncidentReport.id).where(IncidentReport.id == ident)) is None:
        raise CaseError(_l("Det finns ingen händelserapport med det id:t."))
    if any(link.incident_id == ident for link in case.incident_links):
        raise CaseError(_l("Händelsen är redan kopplad till ärendet."))
    link = CaseIncident(incident_id=ident, linked_by_id=actor.id)
    case.incident_links.append(link)
    db.session.flush()
    audit.record("case.incident_linked", obj=case, actor=actor, detail={"incident": str(ident)})
    return link


def unlink_incident(case: Case, actor, link: CaseIncident) -> None:
    """Remove a link from the case (the incident report itself is untouched); audited with the report's id."""
    if link.case_id != case.id:
        raise CaseError(_l("Kopplingen finns inte."))
    incident_id = link.incident_id
    case.incident_links.remove(link)
    db.session.flush()
    audit.record("case.incident_unlinked", obj=case, actor=actor, detail={"incident": str(incident_id)})


def linked_incidents(case: Case, locale: str | None = None) -> list[Row]:
    """The case's linked reports, newest incident first: link id, incident id, local date, area, category, status."""
    category = Category.name_en if (locale or "sv").startswith("en") else Category.name_sv
    stmt = (
        select(CaseIncident.id.label("link_id"), IncidentReport.id.label("incident_id"), IncidentReport.local_date,
               IncidentReport.status, Area.name.label("area"), category.label("category"))
        .join(IncidentReport, CaseIncident.incident_id == IncidentReport.id)
        .join(Area, IncidentReport.area_id == Area.id)
        .join(Category, IncidentReport.category_id == Category.id)
        .where(CaseIncident.case_id == case.id)
        .order_by(IncidentReport.local_date.desc(), CaseIncident.id.desc())
    )
    return list(db.session.execute(stmt))
