"""The process conditions on plain objects: participation, owning agency, EST meetings."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.security.conditions import Context, evaluate


@dataclass
class FakeUser:
    id: int
    agency_id: int


@dataclass
class FakeThing:
    participant_agency_ids: set = field(default_factory=set)
    agency_id: int | None = None
    kind: str = "process"


def test_process_participant_needs_the_agency_among_the_participants():
    assert evaluate("process_participant", Context(user=FakeUser(1, 5), obj=FakeThing({5, 6})))
    assert not evaluate("process_participant", Context(user=FakeUser(1, 7), obj=FakeThing({5, 6})))
    assert not evaluate("process_participant", Context(user=FakeUser(1, 7), obj=object()))


def test_owning_agency_needs_ownership_and_participation():
    assert evaluate("owning_agency", Context(user=FakeUser(1, 5), obj=FakeThing({5}, agency_id=5)))
    assert not evaluate("owning_agency", Context(user=FakeUser(1, 6), obj=FakeThing({5, 6}, agency_id=5)))
    assert not evaluate("owning_agency", Context(user=FakeUser(1, 5), obj=FakeThing(set(), agency_id=5))), \
        "an agency that no longer takes part cannot update"


def test_est_meeting_only_for_est_meetings():
    assert evaluate("est_meeting", Context(user=FakeUser(1, 1), obj=FakeThing(kind="est")))
    assert not evaluate("est_meeting", Context(user=FakeUser(1, 1), obj=FakeThing(kind="process")))


def test_object_conditions_refuse_without_an_object_unless_route_level():
    for name in ("process_participant", "owning_agency", "est_meeting"):
        assert not evaluate(name, Context(user=FakeUser(1, 1), obj=None)), name
        assert evaluate(name, Context(user=FakeUser(1, 1), obj=None, route_level=True)), name
