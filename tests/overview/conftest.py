"""Factories for incident reports: areas, categories and reports with valid defaults."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest


class IncidentFactory:
    def __init__(self, app, session, factory):
        self.app = app
        self.session = session
        self.factory = factory

    def area(self, name=None, code=None, polygon=None):
        from app.overview.models import Area

        tag = uuid.uuid4().hex[:6]
        area = Area(code=code or f"omr-{tag}", name=name or f"Område {tag}",
                    polygon=json.dumps(polygon or [[17.90, 59.40], [17.95, 59.40], [17.95, 59.43], [17.90, 59.43]]))
        self.session.add(area)
        self.session.flush()
        return area

    def category(self, name_sv=None, name_en=None, code=None):
        from app.overview.models import Category

        tag = uuid.uuid4().hex[:6]
        category = Category(code=code or f"kat-{tag}", name_sv=name_sv or f"Kategori {tag}",
                            name_en=name_en or f"Category {tag}")
        self.session.add(category)
        self.session.flush()
        return category

    def report(self, *, area, category, occurred_at=None, status="accepted", organisation=None, reporter=None,
               description="Fiktiv händelse.", **fields):
        """A report; ``occurred_at`` is an aware datetime (default: now, UTC)."""
        from app.overview.models import ReportStatus
        from app.overview.service import new_report

        organisation = organisation or (reporter.agency if reporter else self.factory.agency(kind="youth"))
        with self.app.app_context():
            report = new_report(
                occurred_at=occurred_at or datetime.now(timezone.utc), area_id=area.id, category_id=category.id,
                setting=fields.pop("setting", "public"), description=description,
                organisation_id=organisation.id, reporter_id=reporter.id if reporter else None,
                status=ReportStatus(status), **fields,
            )
            self.session.add(report)
            self.session.flush()
            return report

    def history(self, before, weeks=8):
        """One report a week, in an area and category of its own, in each of the ``weeks`` ISO weeks before
        ``before``: the hotspot rule needs at least 8 weeks with data before it flags anything."""
        from datetime import timedelta

        area, category = self.area(name="Bakgrundsområdet"), self.category(name_sv="Bakgrund", name_en="Background")
        for back in range(1, weeks + 1):
            self.report(area=area, category=category, occurred_at=before - timedelta(weeks=back))
        return area, category


@pytest.fixture()
def incidents(app, db, factory):
    return IncidentFactory(app, db, factory)
