"""The process models: participants, the EST week constraint, and lateness derived in Swedish time."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from app.processes.dates import is_due_soon, is_late, local_today
from app.processes.models import WorkStatus


def test_participants_include_the_owning_agency_and_milestones_inherit_them(processes, factory):
    police, housing, owner = factory.agency(kind="police"), factory.agency(kind="housing"), factory.agency(kind="other")
    process = processes.process(agencies=[police, housing], owner_agency=owner)
    milestone = processes.milestone(process, agency=police)
    assert process.participant_agency_ids == {police.id, housing.id, owner.id}
    assert milestone.participant_agency_ids == process.participant_agency_ids


def test_meeting_participants_are_attendees_and_process_agencies(processes, factory):
    police, school = factory.agency(kind="police"), factory.agency(kind="school")
    process = processes.process(agencies=[police])
    meeting = processes.meeting(process, attendees=[school])
    assert {police.id, school.id} <= meeting.participant_agency_ids
    item = processes.action_item(meeting, agency=school)
    assert school.id in item.participant_agency_ids


def test_one_est_meeting_per_week(processes, db):
    processes.meeting(kind="est", iso_year=2026, iso_week=48, title="EST v48")
    with pytest.raises(IntegrityError):
        with db.begin_nested():
            processes.meeting(kind="est", iso_year=2026, iso_week=48, title="EST v48 igen")


def test_minutes_are_encrypted_at_rest(processes, db):
    from sqlalchemy import text

    meeting = processes.meeting(minutes="Hemligt protokoll om Kalle")
    raws = [bytes(row[0]) for row in db.execute(text("SELECT minutes_ct FROM meeting"))]
    assert raws and all(b"Kalle" not in raw for raw in raws)


def test_local_today_is_the_swedish_day_around_midnight():
    # 23:30 UTC on 24 Nov is 00:30 on 25 Nov in Stockholm (CET, UTC+1).
    assert local_today(datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc)) == date(2026, 11, 25)
    assert local_today(datetime(2026, 11, 24, 22, 59, tzinfo=timezone.utc)) == date(2026, 11, 24)
    # Summer time (CEST, UTC+2): 22:30 UTC on 30 June is already 1 July.
    assert local_today(datetime(2026, 6, 30, 22, 30, tzinfo=timezone.utc)) == date(2026, 7, 1)
    assert local_today(datetime(2026, 6, 30, 21, 59, tzinfo=timezone.utc)) == date(2026, 6, 30)


def test_late_is_derived_from_the_due_date_in_swedish_time():
    due = date(2026, 11, 24)
    before_midnight = local_today(datetime(2026, 11, 24, 22, 59, tzinfo=timezone.utc))
    after_midnight = local_today(datetime(2026, 11, 24, 23, 1, tzinfo=timezone.utc))
    assert not is_late(WorkStatus.PLANNED, due, before_midnight)
    assert is_late(WorkStatus.PLANNED, due, after_midnight)
    assert is_late(WorkStatus.IN_PROGRESS, due, after_midnight)
    assert not is_late(WorkStatus.DONE, due, after_midnight)
    assert not is_late(WorkStatus.CANCELLED, due, after_midnight)


def test_due_soon_window():
    today = date(2026, 11, 25)
    assert is_due_soon(WorkStatus.PLANNED, today, today)
    assert is_due_soon(WorkStatus.PLANNED, date(2026, 12, 9), today)
    assert not is_due_soon(WorkStatus.PLANNED, date(2026, 12, 10), today)
    assert not is_due_soon(WorkStatus.PLANNED, date(2026, 11, 24), today)
    assert not is_due_soon(WorkStatus.DONE, today, today)
