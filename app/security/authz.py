"""The policy gate: every permission decision goes through authorize().

pycasbin reads policies/model.conf and policies/policy.csv. Agency kinds are
the policy's domains; a deny line overrides any allow. There is no switch
that turns enforcement off.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import Any, Callable

import casbin
from flask import abort, current_app, g
from flask_login import current_user

from app.security.conditions import CONDITIONS, Context, evaluate
from app.security.permissions import ROLES, Permission

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"

#: Endpoints reachable without a declared permission. Each says why.
PUBLIC_ENDPOINTS: dict[str, str] = {
    "static": "stylesheets and scripts, no data",
    "main.healthz": "load-balancer health check, no data",
    "main.set_language": "stores the chosen UI language in the session",
    "security.login": "the login form",
    "security.logout": "ends the session",
    "security.two_factor_token_validation": "second login step; Flask-Security checks the half-logged-in state",
    "security.two_factor_rescue": "second login step; Flask-Security checks the half-logged-in state",
    "security.mf_recovery": "recovery code during login; Flask-Security checks the half-logged-in state",
    "security.two_factor_setup": "MFA enrolment; Flask-Security requires a login or the half-logged-in state",
    "security.two_factor_setup_validate": "MFA enrolment; Flask-Security requires the setup state",
    "security.two_factor_select": "second login step; Flask-Security checks the half-logged-in state",
    "security.two_factor_qrcode": "MFA enrolment; Flask-Security requires the setup state",
    "security.mf_recovery_codes": "own recovery codes; Flask-Security requires a fresh login",
    "security.change_password": "own password; Flask-Security requires a login",
    "security.verify": "re-authentication; Flask-Security requires a login",
    "security.tf_setup": "MFA enrolment",
    "security.tf_rescue": "MFA rescue",
}


class PolicyError(RuntimeError):
    """The files in policies/ name something the application does not know."""


class Gate:
    """Loads the policy once and answers permission questions."""

    def __init__(self, policy_dir: Path = POLICY_DIR):
        self.policy_dir = policy_dir
        self.enforcer = casbin.Enforcer(str(policy_dir / "model.conf"), str(policy_dir / "policy.csv"))
        self.enforcer.add_function("holds", self._holds)
        self.validate()

    @staticmethod
    def _holds(cond: str, ctx: Context) -> bool:
        return evaluate(cond, ctx)

    def rules(self) -> list[list[str]]:
        return [list(rule) for rule in self.enforcer.get_policy()]

    def validate(self) -> None:
        """Refuse policies that name unknown roles, kinds, permissions or conditions."""
        from app.admin.models import AgencyKind

        kinds = {k.value for k in AgencyKind} | {"*"}
        permissions = {p.value for p in Permission}
        errors = []
        for number, rule in enumerate(self.rules(), start=1):
            if len(rule) != 5:
                errors.append(f"rule {number}: expected role, kind, permission, condition, effect")
                continue
            role, kind, perm, cond, eft = rule
            if role not in ROLES:
                errors.append(f"rule {number}: unknown role {role!r}")
            if kind not in kinds:
                errors.append(f"rule {number}: unknown agency kind {kind!r}")
            if perm not in permissions:
                errors.append(f"rule {number}: unknown permission {perm!r}")
            if cond not in CONDITIONS:
                errors.append(f"rule {number}: unknown condition {cond!r}")
            if eft not in ("allow", "deny"):
                errors.append(f"rule {number}: effect must be allow or deny, not {eft!r}")
        if errors:
            raise PolicyError("Invalid policy in policies/:\n" + "\n".join(errors))

    def decide(self, user: Any, permission: Permission | str, obj: Any = None) -> bool:
        """May this user exercise this permission (on this object)?"""
        if user is None or not getattr(user, "is_authenticated", False) or not user.active:
            return False
        perm = str(permission)
        kind = user.agency.kind.value if user.agency else ""
        ctx = Context(user=user, obj=obj)
        return any(self.enforcer.enforce(role, kind, perm, ctx) for role in user.role_names)

    def matrix(self) -> list[dict[str, str]]:
        """The access matrix, rendered from the policy so it never drifts."""
        return [
            {"role": r, "agency_kind": k, "permission": p, "condition": c, "effect": e}
            for r, k, p, c, e in sorted(self.rules())
        ]

    def write_matrix(self, out) -> None:
        writer = csv.DictWriter(out, fieldnames=["role", "agency_kind", "permission", "condition", "effect"])
        writer.writeheader()
        writer.writerows(self.matrix())


def gate() -> Gate:
    return current_app.extensions["lots_gate"]


def can(permission: Permission | str, obj: Any = None) -> bool:
    """Template and view helper: may the current user do this?"""
    return gate().decide(current_user, permission, obj)


def authorize(permission: Permission | str, obj: Any = None) -> None:
    """Abort with 403 unless the policy allows the current user this permission."""
    if not can(permission, obj):
        g.lots_denied_permission = str(permission)
        abort(403)


def requires(permission: Permission) -> Callable:
    """Declare a route's permission: login required, then the policy gate."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            authorize(permission)
            return view(*args, **kwargs)

        wrapped.lots_permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorator


def public(reason: str) -> Callable:
    """Mark a view as reachable without a permission (kept in PUBLIC_ENDPOINTS too)."""

    def decorator(view: Callable) -> Callable:
        view.lots_public = reason  # type: ignore[attr-defined]
        return view

    return decorator


def init_app(app) -> None:
    app.extensions["lots_gate"] = Gate()
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["Permission"] = Permission


def route_permission(app, endpoint: str) -> str | None:
    """The permission a route declares, or None."""
    view = app.view_functions.get(endpoint)
    perm = getattr(view, "lots_permission", None)
    return str(perm) if perm else None

