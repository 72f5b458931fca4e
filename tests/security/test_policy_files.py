"""policies/: the committed matrix, field sets and the named conditions."""

import io
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.exceptions import Forbidden

from app.security.authz import POLICY_DIR, Gate, PolicyError
from app.security.conditions import Context, evaluate


@pytest.mark.engine_independent
def test_committed_matrix_matches_the_policy(app):
    out = io.StringIO()
    app.extensions["lots_gate"].write_matrix(out)
    expected = (POLICY_DIR / "expected-matrix.csv").read_text()
    assert out.getvalue() == expected, (
        "policies/expected-matrix.csv is out of date: regenerate it with "
        "`flask --app wsgi policies check > policies/expected-matrix.csv` and review the diff"
    )


@pytest.mark.engine_independent
def test_policies_check_cli_prints_the_matrix(app):
    from app.cli import policies_check

    result = app.test_cli_runner().invoke(policies_check)
    assert result.exit_code == 0
    assert result.output == (POLICY_DIR / "expected-matrix.csv").read_text()


def _copy_policies(tmp_path: Path, policy_lines=None, fieldset_lines=None) -> Path:
    for name in ("model.conf", "policy.csv", "fieldsets.csv"):
        (tmp_path / name).write_text((POLICY_DIR / name).read_text())
    if policy_lines is not None:
        (tmp_path / "policy.csv").write_text("\n".join(policy_lines) + "\n")
    if fieldset_lines is not None:
        (tmp_path / "fieldsets.csv").write_text("\n".join(fieldset_lines) + "\n")
    return tmp_path


def test_unknown_field_set_in_a_policy_is_refused(app, tmp_path):
    with app.app_context(), pytest.raises(PolicyError, match="unknown permission or field set"):
        Gate(_copy_policies(tmp_path, ["p, coordinator, *, fieldset.read:person.shoe_size, always, allow"]))


def test_field_set_naming_an_unknown_model_field_is_refused(app, tmp_path):
    from app.extensions import db

    with app.app_context():
        lines = (POLICY_DIR / "fieldsets.csv").read_text().splitlines() + ["person.identity, Participant, shoe_size"]
        gate = Gate(_copy_policies(tmp_path, fieldset_lines=lines))
        with pytest.raises(PolicyError, match="Participant.shoe_size"):
            gate.validate_models(db.Model)


# ----------------------------------------------------------- conditions on fakes

@dataclass
class FakeUser:
    id: int
    agency_id: int


@dataclass
class FakeCase:
    coordinator_id: int
    team_agency_ids: list
    consents: dict = field(default_factory=dict)  # agency_id -> set of field sets

    def consent_covers(self, agency_id, fieldset):
        return fieldset in self.consents.get(agency_id, set())


@dataclass
class FakeItem:
    case: FakeCase
    responsible_agency_id: int


def test_coordinates_case_only_for_the_assigned_coordinator():
    case = FakeCase(coordinator_id=7, team_agency_ids=[1])
    assert evaluate("coordinates_case", Context(user=FakeUser(7, 1), obj=case))
    assert not evaluate("coordinates_case", Context(user=FakeUser(8, 1), obj=case))


def test_consent_covers_needs_team_membership_and_a_covering_consent():
    case = FakeCase(coordinator_id=1, team_agency_ids=[2, 3], consents={2: {"person.identity"}, 4: {"person.identity"}})
    assert evaluate("consent_covers", Context(user=FakeUser(10, 2), obj=case, fieldset="person.identity"))
    assert not evaluate("consent_covers", Context(user=FakeUser(10, 2), obj=case, fieldset="person.contact"))
    assert not evaluate("consent_covers", Context(user=FakeUser(10, 3), obj=case, fieldset="person.identity"))
    assert not evaluate("consent_covers", Context(user=FakeUser(10, 4), obj=case, fieldset="person.identity")), \
        "consent without team membership grants nothing"


def test_object_conditions_refuse_without_an_object_unless_route_level():
    user = FakeUser(1, 1)
    for name in ("coordinates_case", "on_case_team", "consent_covers", "assigned_to_agency", "own_report", "same_agency"):
        assert not evaluate(name, Context(user=user, obj=None)), name
        assert evaluate(name, Context(user=user, obj=None, route_level=True)), name


def test_assigned_to_agency_checks_item_agency_and_team():
    case = FakeCase(coordinator_id=1, team_agency_ids=[5])
    assert evaluate("assigned_to_agency", Context(user=FakeUser(2, 5), obj=FakeItem(case, 5)))
    assert not evaluate("assigned_to_agency", Context(user=FakeUser(2, 5), obj=FakeItem(case, 6)))
    off_team = FakeCase(coordinator_id=1, team_agency_ids=[])
    assert not evaluate("assigned_to_agency", Context(user=FakeUser(2, 5), obj=FakeItem(off_team, 5)))


def test_own_report():
    class Report:
        reporter_id = 3

    assert evaluate("own_report", Context(user=FakeUser(3, 1), obj=Report()))
    assert not evaluate("own_report", Context(user=FakeUser(4, 1), obj=Report()))


# -------------------------------------------------- field sets with the real policy

class FakeParticipant:
    """Named like the model so the field-set map applies; plain attributes."""

    def __init__(self, case):
        self.case = case
        self.first_name, self.last_name = "Fiktiv", "Person"
        self.personal_number, self.date_of_birth = "199001011239", None
        self.phone, self.email = "070-0000000", "fiktiv@example.org"
        self.street_address, self.postal_code, self.city = "Påhittade vägen 1", "19100", "Norrvik"
        self.protected_identity, self.notes = "none", "anteckning"


FakeParticipant.__name__ = "Participant"


def _person(case):
    return FakeParticipant(case)


def test_coordinator_reads_everything_of_own_case_and_nothing_of_others(app, factory):
    with app.test_request_context():
        gate = app.extensions["lots_gate"]
        coordinator = factory.user(roles=("coordinator",), kind="social_services")
        own = _person(FakeCase(coordinator_id=coordinator.id, team_agency_ids=[coordinator.agency_id]))
        other = _person(FakeCase(coordinator_id=-1, team_agency_ids=[coordinator.agency_id]))
        values, sets = gate.redact(coordinator, own)
        assert "person.protected_address" in sets and values["street_address"] == "Påhittade vägen 1"
        assert gate.redact(coordinator, other) == ({}, set())


def test_police_partner_sees_only_consented_sets_and_never_the_address(app, factory):
    with app.test_request_context():
        gate = app.extensions["lots_gate"]
        officer = factory.user(roles=("partner",), kind="police")
        all_sets = {"person.identity", "person.contact", "person.protected_address", "person.notes"}
        case = FakeCase(coordinator_id=1, team_agency_ids=[officer.agency_id], consents={officer.agency_id: all_sets})
        values, sets = gate.redact(officer, _person(case))
        assert sets == {"person.identity", "person.contact"}
        assert "street_address" not in values and "notes" not in values
        case.consents = {}
        assert gate.redact(officer, _person(case)) == ({}, set()), "without consent: nothing about the person"


@pytest.mark.parametrize("role", ["admin", "auditor", "analyst", "process_leader", "reporter"])
def test_roles_without_case_access_see_no_personal_field(app, factory, role):
    with app.test_request_context():
        gate = app.extensions["lots_gate"]
        user = factory.user(roles=(role,), kind="social_services")
        case = FakeCase(coordinator_id=user.id, team_agency_ids=[user.agency_id],
                        consents={user.agency_id: {"person.identity"}})
        assert gate.readable_fieldsets(user, _person(case)) == set()


def test_write_outside_the_grant_is_refused(app, factory):
    with app.test_request_context():
        gate = app.extensions["lots_gate"]
        officer = factory.user(roles=("partner",), kind="police")
        case = FakeCase(coordinator_id=1, team_agency_ids=[officer.agency_id],
                        consents={officer.agency_id: {"person.identity"}})
        with pytest.raises(Forbidden):
            gate.check_write(officer, _person(case), ["first_name"])
        coordinator = factory.user(roles=("coordinator",), kind="social_services")
        own = _person(FakeCase(coordinator_id=coordinator.id, team_agency_ids=[]))
        gate.check_write(coordinator, own, ["first_name", "street_address"])
        with pytest.raises(Forbidden):
            gate.check_write(coordinator, own, ["not_a_personal_field_in_any_set"])


# ----------------------------------------------------------- case conditions


@dataclass
class FakeEmergencyCase(FakeCase):
    active_users: set = field(default_factory=set)

    def active_emergency(self, user_id):
        return user_id in self.active_users


@dataclass
class FakePlanItem:
    case: FakeCase
    responsible_agency_id: int
    part: str = "protection"

    @property
    def consent_fieldset(self):
        return f"plan.{self.part}"


def test_emergency_access_needs_team_and_an_active_access_and_never_opens_the_support_plan():
    case = FakeEmergencyCase(coordinator_id=1, team_agency_ids=[2], active_users={10})
    assert evaluate("emergency_access", Context(user=FakeUser(10, 2), obj=case, fieldset="person.identity"))
    assert not evaluate("emergency_access", Context(user=FakeUser(11, 2), obj=case)), "another user's access"
    off_team = FakeEmergencyCase(coordinator_id=1, team_agency_ids=[], active_users={10})
    assert not evaluate("emergency_access", Context(user=FakeUser(10, 2), obj=off_team))
    assert evaluate("emergency_access", Context(user=FakeUser(10, 2), obj=FakePlanItem(case, 3, "protection")))
    assert not evaluate("emergency_access", Context(user=FakeUser(10, 2), obj=FakePlanItem(case, 3, "support")))
    assert not evaluate("emergency_access", Context(user=FakeUser(10, 2), obj=None))


def test_consent_covers_a_plan_item_by_its_part():
    case = FakeCase(coordinator_id=1, team_agency_ids=[2], consents={2: {"plan.protection"}})
    user = FakeUser(10, 2)
    assert evaluate("consent_covers", Context(user=user, obj=FakePlanItem(case, 3, "protection"), fieldset="plan.items"))
    assert not evaluate("consent_covers", Context(user=user, obj=FakePlanItem(case, 3, "support"), fieldset="plan.items"))


def test_consent_kinds_file_maps_only_known_field_sets(app):
    from app.cases.consent_kinds import PLAN_SCOPES, load

    gate = app.extensions["lots_gate"]
    assert set(load()) <= set(gate.fieldsets) | set(PLAN_SCOPES)
    assert "person.protected_address" not in load(), "no consent may ever open the protected address"
    assert "case.notes" not in load()


def test_allowing_conditions_follow_the_policy(app, factory):
    gate = app.extensions["lots_gate"]
    with app.test_request_context():
        coordinator = factory.user(roles=("coordinator",), kind="social_services")
        partner = factory.user(roles=("partner",), kind="police")
        admin = factory.user(roles=("admin",), kind="other")
        assert gate.allowing_conditions(coordinator, "case:view") == {"coordinates_case"}
        assert gate.allowing_conditions(partner, "case:view") == {"on_case_team"}
        assert gate.allowing_conditions(admin, "case:view") == set()
        assert gate.allowing_conditions(admin, "fieldset.read:person.identity") == set(), "a deny always wins"


@pytest.mark.engine_independent
@pytest.mark.parametrize("seed,rounds", [(4, 4), (7, 3)])
def test_the_indexed_gate_and_its_explanation_match_pycasbin(app, monkeypatch, seed, rounds):
    """Gate._enforce is an index over the same rules: for every role, kind and permission, and many random
    outcomes of the conditions, it must answer as pycasbin's enforce_ex() does, and name as the deciding line
    a rule of the policy with pycasbin's effect (the line the audit log records)."""
    import random

    from app.admin.models import AgencyKind
    from app.security import authz
    from app.security.conditions import CONDITIONS
    from app.security.permissions import POLICY_ROLES

    gate = app.extensions["lots_gate"]
    perms = sorted({rule[2] for rule in gate.rules()})
    rules = {tuple(r) for r in gate.rules()}
    # Every kind a rule names, one no rule names, and none: the index must treat them as pycasbin does.
    kinds = sorted({rule[1] for rule in gate.rules()} - {"*"}) + [AgencyKind.YOUTH.value, ""]
    rng = random.Random(seed)
    for _round in range(rounds):
        outcome = {name: rng.random() < 0.5 for name in CONDITIONS}
        monkeypatch.setattr(authz, "evaluate", lambda name, ctx, outcome=outcome: outcome.get(name, False))
        ctx = Context(user=FakeUser(1, 1))
        for role in POLICY_ROLES:
            for kind in kinds:
                for perm in perms:
                    allowed, line = gate._enforce(role, kind, perm, ctx)
                    expected_allowed, expected_line = gate.enforcer.enforce_ex(role, kind, perm, ctx)
                    assert allowed == expected_allowed, (role, kind, perm, outcome)
                    if line or expected_line:
                        parts = tuple(line.removeprefix("p, ").split(", "))
                        assert parts in rules, line
                        assert parts[-1] == (expected_line[-1] if expected_line else parts[-1])
                        assert parts[-1] == ("allow" if allowed else "deny")
