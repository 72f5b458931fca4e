"""The policy gate: role × permission decisions come from policies/ only."""

import pytest

from app.security.authz import Gate, PolicyError
from app.security.conditions import Context, evaluate
from app.security.permissions import Permission


@pytest.mark.parametrize(
    "role, permission, allowed",
    [
        ("admin", Permission.USER_MANAGE, True),
        ("admin", Permission.AGENCY_MANAGE, True),
        ("coordinator", Permission.USER_MANAGE, False),
        ("auditor", Permission.AGENCY_MANAGE, False),
        ("reporter", Permission.HOME_VIEW, True),
    ],
)
def test_gate_decides_from_the_policy_file(app, factory, role, permission, allowed):
    with app.test_request_context():
        user = factory.user(roles=(role,))
        assert app.extensions["lots_gate"].decide(user, permission) is allowed


def test_deactivated_user_is_denied_everything(app, factory):
    with app.test_request_context():
        user = factory.user(roles=("admin",), active=False)
        assert not app.extensions["lots_gate"].decide(user, Permission.USER_MANAGE)


def _policy_dir(tmp_path, lines):
    (tmp_path / "model.conf").write_text((Gate().policy_dir / "model.conf").read_text())
    (tmp_path / "policy.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.mark.parametrize(
    "line, message",
    [
        ("p, wizard, *, home:view, always, allow", "unknown role"),
        ("p, admin, *, home:fly, always, allow", "unknown permission"),
        ("p, admin, martians, home:view, always, allow", "unknown agency kind"),
        ("p, admin, *, home:view, eval_anything, allow", "unknown condition"),
        ("p, admin, *, home:view, always, maybe", "effect must be allow or deny"),
    ],
)
def test_policy_naming_unknown_things_is_refused(app, tmp_path, line, message):
    with app.app_context(), pytest.raises(PolicyError, match=message):
        Gate(_policy_dir(tmp_path, [line]))


def test_deny_line_overrides_allow(app, tmp_path, factory):
    lines = ["p, admin, *, user:manage, always, allow", "p, admin, police, user:manage, always, deny"]
    with app.test_request_context():
        gate = Gate(_policy_dir(tmp_path, lines))
        police_admin = factory.user(roles=("admin",), kind="police")
        social_admin = factory.user(roles=("admin",), kind="social_services")
        assert not gate.decide(police_admin, Permission.USER_MANAGE)
        assert gate.decide(social_admin, Permission.USER_MANAGE)


def test_unknown_condition_name_never_grants():
    assert evaluate("no_such_condition", Context(user=None)) is False


def test_same_agency_condition_compares_agency_ids():
    class U:
        agency_id = 1

    class O:
        def __init__(self, agency_id):
            self.agency_id = agency_id

    assert evaluate("same_agency", Context(user=U(), obj=O(1)))
    assert not evaluate("same_agency", Context(user=U(), obj=O(2)))
