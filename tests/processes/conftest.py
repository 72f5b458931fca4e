"""Factories for processes, milestones, meetings, action items and interventions."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from tests.overview.conftest import incidents  # noqa: F401  (areas, categories, reports)


class ProcessFactory:
    def __init__(self, app, session, factory):
        self.app = app
        self.session = session
        self.factory = factory

    def process(self, *, name=None, agencies=(), owner=None, owner_agency=None, type="est_area",
                status="active", start=None, end=None, areas=(), categories=(), goal="Tryggare centrum."):
        from app.processes.models import Process, ProcessStatus, ProcessType

        process = Process(name=name or f"Process {uuid.uuid4().hex[:6]}", type=ProcessType(type),
                          status=ProcessStatus(status), owner=owner,
                          owner_agency_id=(owner_agency or (owner.agency if owner else None) or
                                           self.factory.agency(kind="other")).id,
                          goal=goal, start_date=start or date.today() - timedelta(days=60), end_date=end)
        process.agencies = list(agencies)
        process.areas = list(areas)
        process.categories = list(categories)
        self.session.add(process)
        self.session.flush()
        return process

    def milestone(self, process, *, agency=None, title=None, due=None, status="planned", depends_on=(),
                  responsible=None):
        from app.processes.models import Milestone, WorkStatus

        agency = agency or (process.agencies[0] if process.agencies else process.owner_agency)
        milestone = Milestone(process=process, title=title or f"Delmål {uuid.uuid4().hex[:6]}",
                              agency_id=agency.id, due_date=due or date.today() + timedelta(days=7),
                              status=WorkStatus(status), responsible=responsible)
        milestone.depends_on = list(depends_on)
        self.session.add(milestone)
        self.session.flush()
        return milestone

    def meeting(self, process=None, *, kind="process", title="Styrgruppsmöte", held_on=None, attendees=(),
                minutes="Protokoll.", decisions="", iso_year=None, iso_week=None):
        from app.processes.models import Meeting, MeetingKind

        with self.app.app_context():
            meeting = Meeting(kind=MeetingKind(kind), process=process, title=title, held_on=held_on or date.today(),
                              iso_year=iso_year, iso_week=iso_week)
            meeting.attendees = list(attendees)
            meeting.minutes = minutes
            meeting.decisions = decisions
            self.session.add(meeting)
            self.session.flush()
            return meeting

    def action_item(self, meeting, *, agency, title=None, due=None, status="planned"):
        from app.processes.models import ActionItem, WorkStatus

        item = ActionItem(meeting=meeting, title=title or f"Åtgärd {uuid.uuid4().hex[:6]}", agency_id=agency.id,
                          due_date=due or date.today() + timedelta(days=7), status=WorkStatus(status))
        self.session.add(item)
        self.session.flush()
        return item

    def intervention(self, *, agency, areas=(), categories=(), start=None, end=None, kind="extra_patrols",
                     title=None, process=None):
        from app.processes.models import Intervention, InterventionKind

        intervention = Intervention(title=title or f"Insats {uuid.uuid4().hex[:6]}", kind=InterventionKind(kind),
                                    agency_id=agency.id, start_date=start or date.today() - timedelta(days=30),
                                    end_date=end, process=process, description="")
        intervention.areas = list(areas)
        intervention.categories = list(categories)
        self.session.add(intervention)
        self.session.flush()
        return intervention


@pytest.fixture()
def processes(app, db, factory):
    return ProcessFactory(app, db, factory)
