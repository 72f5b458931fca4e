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
from flask import abort, current_app, g, has_request_context
from flask_login import current_user

from app.security.conditions import CONDITIONS, Context, evaluate
from app.security.permissions import POLICY_ROLES, Permission

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"

#: Endpoints reachable without a declared permission. Each says why.
PUBLIC_ENDPOINTS: dict[str, str] = {
    "static": "stylesheets and scripts, no data",
    "security.static": "Flask-Security's own static files, no data",
    "main.healthz": "load-balancer health check, no data",
    "main.set_language": "stores the chosen UI language in the session",
    "security.login": "the login form",
    "security.logout": "ends the session",
    "security.two_factor_token_validation": "second login step; Flask-Security checks the half-logged-in state",
    "security.two_factor_rescue": "second login step; Flask-Security checks the half-logged-in state",
    "security.tf_select": "second login step; Flask-Security checks the half-logged-in state",
    "security.mf_recovery": "recovery code during login; Flask-Security checks the half-logged-in state",
    "security.two_factor_setup": "MFA enrolment; Flask-Security requires a login or the half-logged-in state",
    "security.two_factor_setup_validate": "MFA enrolment; Flask-Security requires the setup state",
    "security.mf_recovery_codes": "own recovery codes; Flask-Security requires a fresh login",
    "security.change_password": "own password; Flask-Security requires a login",
    "security.verify": "re-authentication; Flask-Security requires a login",
    "api.openapi": "the API's OpenAPI description: no data, and API clients read it before they have a token",
}


def _unproxied(user: Any) -> Any:
    """The user object behind flask_login's current_user proxy (each proxy access costs a lookup)."""
    get = getattr(user, "_get_current_object", None)
    return get() if get is not None else user


class PolicyError(RuntimeError):
    """The files in policies/ name something the application does not know."""


FIELDSET_READ = "fieldset.read:"
FIELDSET_WRITE = "fieldset.write:"
MATRIX_FIELDS = ["role", "agency_kind", "permission", "fieldset", "condition", "effect"]


def _read_fieldsets(path: Path) -> dict[str, list[tuple[str, str]]]:
    """fieldsets.csv → {fieldset: [(model, attribute), ...]}."""
    fieldsets: dict[str, list[tuple[str, str]]] = {}
    with path.open(newline="") as handle:
        for row in csv.reader(line for line in handle if line.strip() and not line.lstrip().startswith("#")):
            if len(row) != 3:
                raise PolicyError(f"{path.name}: expected 'fieldset, model, attribute', got {row!r}")
            name, model, attribute = (cell.strip() for cell in row)
            fieldsets.setdefault(name, []).append((model, attribute))
    return fieldsets


def _line(role: str, kind: str, perm: str, cond: str, effect: str) -> str:
    return f"p, {role}, {kind}, {perm}, {cond}, {effect}"


# ------------------------------------------------------------------ the decisions of this request
#
# authorize() and the field-set reads note the policy line that decided, per permission, in flask.g. The audit
# event of the request names that line (app.security.audit.record), so the log says what actually decided
# (the line that allowed a plan item, not a re-evaluation on the case; the emergency-access line for what
# an emergency access opened), even if the condition no longer holds when the event is written (a reopen
# proof spent by the reopening itself). Nothing outlives the request: g is per request.


def note_decision(permission: str, line: str, obj: Any = None, *, route_level: bool = False) -> None:
    if not has_request_context():
        return
    decisions = g.setdefault("lots_decisions", {})
    previous = decisions.get(permission)
    # An object-level decision is kept over the route-level one of the same permission.
    if previous is None or route_level is False or previous[2]:
        decisions[permission] = (line, obj, route_level)


def noted_decision(permission: str) -> tuple[str, Any] | None:
    """(line, object) of this request's decision on ``permission``, if one was noted."""
    if not has_request_context():
        return None
    found = g.get("lots_decisions", {}).get(permission)
    return (found[0], found[1]) if found else None


def noted_fieldset_lines() -> dict[str, str]:
    """field set → the line that opened it, for the field sets read in this request."""
    if not has_request_context():
        return {}
    return {perm[len(FIELDSET_READ):]: line for perm, (line, _obj, _route) in g.get("lots_decisions", {}).items()
            if perm.startswith(FIELDSET_READ)}


class Gate:
    """Loads the policy once and answers permission questions."""

    def __init__(self, policy_dir: Path = POLICY_DIR):
        self.policy_dir = policy_dir
        self.enforcer = casbin.Enforcer(str(policy_dir / "model.conf"), str(policy_dir / "policy.csv"))
        self.enforcer.add_function("holds", self._holds)
        #: (role, permission) → [(agency kind, condition, is_allow)]: the same rules, indexed.
        self._index: dict[tuple[str, str], list[tuple[str, str, bool]]] = {}
        for role, kind, perm, cond, eft in self.rules():
            self._index.setdefault((role, perm), []).append((kind, cond, eft == "allow"))
        fieldset_file = policy_dir / "fieldsets.csv"
        self.fieldsets = _read_fieldsets(fieldset_file) if fieldset_file.exists() else {}
        #: (model name, attribute) → field set
        self.field_to_set = {field: name for name, fields in self.fieldsets.items() for field in fields}
        #: model name → the field sets that have fields on it
        self.sets_by_model: dict[str, list[str]] = {}
        for name, fields in self.fieldsets.items():
            for model in dict.fromkeys(m for m, _ in fields):
                self.sets_by_model.setdefault(model, []).append(name)
        self.validate()

    @staticmethod
    def _holds(cond: str, ctx: Context) -> bool:
        return evaluate(cond, ctx)

    def rules(self) -> list[list[str]]:
        return [list(rule) for rule in self.enforcer.get_policy()]

    def _known_permission(self, perm: str) -> bool:
        for prefix in (FIELDSET_READ, FIELDSET_WRITE):
            if perm.startswith(prefix):
                return perm[len(prefix):] in self.fieldsets
        return perm in {p.value for p in Permission}

    def validate(self) -> None:
        """Refuse policies that name unknown roles, kinds, permissions, field sets or conditions."""
        from app.admin.models import AgencyKind

        kinds = {k.value for k in AgencyKind} | {"*"}
        errors = []
        for number, rule in enumerate(self.rules(), start=1):
            if len(rule) != 5:
                errors.append(f"rule {number}: expected role, kind, permission, condition, effect")
                continue
            role, kind, perm, cond, eft = rule
            if role not in POLICY_ROLES:
                errors.append(f"rule {number}: unknown role {role!r}")
            if kind not in kinds:
                errors.append(f"rule {number}: unknown agency kind {kind!r}")
            if not self._known_permission(perm):
                errors.append(f"rule {number}: unknown permission or field set {perm!r}")
            if cond not in CONDITIONS:
                errors.append(f"rule {number}: unknown condition {cond!r}")
            if eft not in ("allow", "deny"):
                errors.append(f"rule {number}: effect must be allow or deny, not {eft!r}")
        if errors:
            raise PolicyError("Invalid policy in policies/:\n" + "\n".join(errors))

    def validate_models(self, model_base) -> None:
        """Every field set must name existing model attributes (checked once all models are imported)."""
        classes = {mapper.class_.__name__: mapper.class_ for mapper in model_base.registry.mappers}
        errors = [
            f"field set {name}: unknown field {model}.{attribute}"
            for name, fields in self.fieldsets.items()
            for model, attribute in fields
            if model not in classes or not hasattr(classes[model], attribute)
        ]
        if errors:
            raise PolicyError("Invalid field sets in policies/fieldsets.csv:\n" + "\n".join(errors))
        from app.cases import consent_kinds

        try:
            consent_kinds.validate(set(self.fieldsets))
        except consent_kinds.ConsentKindsError as exc:
            raise PolicyError(str(exc)) from None

    def allowing_conditions(self, user: Any, permission: Permission | str) -> set[str]:
        """The conditions under which this user may hold a permission, for filtering lists in SQL.

        Empty if nothing allows it or an unconditional deny applies. A list query
        built from these must still be checked object by object with decide().
        """
        user = _unproxied(user)
        if user is None or not getattr(user, "is_authenticated", False) or not user.active:
            return set()
        kind = user.agency.kind.value if user.agency else ""
        perm = str(permission)
        allow: set[str] = set()
        for role in user.role_names:
            for rule_kind, cond, is_allow in self._index.get((role, perm), ()):
                if rule_kind not in ("*", kind):
                    continue
                if not is_allow and cond == "always":
                    return set()
                if is_allow:
                    allow.add(cond)
        return allow

    def decide(self, user: Any, permission: Permission | str, obj: Any = None, *, route_level: bool = False,
               fieldset: str | None = None) -> bool:
        """May this user exercise this permission (on this object)?"""
        return self.decision(user, permission, obj, route_level=route_level, fieldset=fieldset)[0]

    def decision(self, user: Any, permission: Permission | str, obj: Any = None, *, route_level: bool = False,
                 fieldset: str | None = None) -> tuple[bool, str]:
        """(allowed, the policy line that decided it, or "default-deny"): what the audit log records."""
        user = _unproxied(user)
        if user is None or not getattr(user, "is_authenticated", False) or not user.active:
            return False, "default-deny"
        perm = str(permission)
        kind = user.agency.kind.value if user.agency else ""
        ctx = Context(user=user, obj=obj, fieldset=fieldset, route_level=route_level)
        deny_line = None
        for role in user.role_names:
            allowed, line = self._enforce(role, kind, perm, ctx)
            if allowed:
                return True, line
            if line is not None and deny_line is None:
                deny_line = line
        return False, deny_line or "default-deny"

    def _enforce(self, role: str, kind: str, perm: str, ctx: Context) -> tuple[bool, str | None]:
        """What ``self.enforcer.enforce(role, kind, perm, ctx)`` answers, without scanning every line, and the
        line that decided: a matching deny line, else the first matching allow line (None if neither).

        Same model (policies/model.conf): a line matches on role, kind ("*" = any),
        permission and its condition; allowed if some allow line matches and no deny
        line does. Only the lines of this role and permission are looked at, and
        allow conditions stop being evaluated once one holds. A test checks it
        against pycasbin on every rule.
        """
        first_allow = None
        for rule_kind, cond, allow in self._index.get((role, perm), ()):
            if rule_kind != "*" and rule_kind != kind:
                continue
            if allow and first_allow is not None:
                continue
            if evaluate(cond, ctx):
                if not allow:
                    return False, _line(role, rule_kind, perm, cond, "deny")
                first_allow = _line(role, rule_kind, perm, cond, "allow")
        return first_allow is not None, first_allow

    def explain(self, user: Any, permission: Permission | str, obj: Any = None, *, route_level: bool = False,
                fieldset: str | None = None) -> str:
        """The policy line behind decide()'s answer, for the audit log; "default-deny" if none matched."""
        return self.decision(user, permission, obj, route_level=route_level, fieldset=fieldset)[1]

    def readable_fieldsets(self, user: Any, obj: Any) -> set[str]:
        """The field sets of this object the user may read now (each grant is noted for the audit event)."""
        user = _unproxied(user)
        model = type(obj).__name__
        readable = set()
        for name in self.sets_by_model.get(model, ()):
            allowed, line = self.decision(user, FIELDSET_READ + name, obj, fieldset=name)
            if allowed:
                readable.add(name)
                note_decision(FIELDSET_READ + name, line, obj)
        return readable

    def fieldset_of(self, obj: Any, attribute: str) -> str | None:
        return self.field_to_set.get((type(obj).__name__, attribute))

    def redact(self, user: Any, obj: Any) -> tuple[dict[str, Any], set[str]]:
        """Only the permitted fields of obj, plus the field-set names they came from."""
        allowed = self.readable_fieldsets(user, obj)
        model = type(obj).__name__
        values = {
            attribute: getattr(obj, attribute)
            for name in sorted(allowed)
            for owner, attribute in self.fieldsets[name]
            if owner == model
        }
        return values, allowed

    def check_write(self, user: Any, obj: Any, attributes: list[str]) -> None:
        """Refuse (403) a write that touches any field outside the user's write grants."""
        for attribute in attributes:
            name = self.fieldset_of(obj, attribute)
            if name is None or not self.decide(user, FIELDSET_WRITE + name, obj, fieldset=name):
                g.lots_denied_permission = FIELDSET_WRITE + (name or attribute)
                from app.security.audit import record_denial

                record_denial(FIELDSET_WRITE + (name or "unknown"), obj, fieldset=name)
                abort(403)

    def matrix(self) -> list[dict[str, str]]:
        """The access matrix, rendered from the policy so it never drifts."""
        rows = []
        for role, kind, perm, cond, eft in self.rules():
            fieldset = ""
            for prefix in (FIELDSET_READ, FIELDSET_WRITE):
                if perm.startswith(prefix):
                    perm, fieldset = prefix.rstrip(":"), perm[len(prefix):]
            rows.append(
                {"role": role, "agency_kind": kind, "permission": perm, "fieldset": fieldset,
                 "condition": cond, "effect": eft}
            )
        return sorted(rows, key=lambda r: tuple(r.values()))

    def write_matrix(self, out) -> None:
        writer = csv.DictWriter(out, fieldnames=MATRIX_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.matrix())


def gate() -> Gate:
    return current_app.extensions["lots_gate"]


def can(permission: Permission | str, obj: Any = None, *, route_level: bool = False) -> bool:
    """Template and view helper: may the current user do this?"""
    return gate().decide(current_user, permission, obj, route_level=route_level)


def authorize(permission: Permission | str, obj: Any = None, *, route_level: bool = False) -> None:
    """Abort with 403 unless the policy allows the current user this permission (the deciding line is noted)."""
    allowed, line = gate().decision(current_user, permission, obj, route_level=route_level)
    if not allowed:
        g.lots_denied_permission = str(permission)
        # Logged before the 403; the request boundary commits it (status < 500).
        from app.security.audit import record_denial

        record_denial(permission, obj, route_level=route_level, rule=line)
        abort(403)
    note_decision(str(permission), line, obj, route_level=route_level)


def requires(permission: Permission) -> Callable:
    """Declare a route's permission: login required, then the policy gate."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            g.lots_route_permission = str(permission)
            authorize(permission, route_level=True)
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

