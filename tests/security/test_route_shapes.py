"""Every route that names an object (a case code, an id, a token) is gated by a permission that checks it.

Pentest finding 1: /cases/<code>/reopen loaded the case under case:create, which every coordinator holds
unconditionally, so the case-level denial logged just before it stopped nothing. This test walks the URL map:
for a route whose arguments name an object, every policy line that grants its permission must carry an
object condition (anything but ``always``), unless the pair (permission, role) is listed below with the
reason why that role may reach every such object.
"""

from __future__ import annotations

import re

from app.security.authz import PUBLIC_ENDPOINTS, route_permission

#: Route arguments that name one object.
OBJECT_ARGUMENT = re.compile(r"^(code|token|number|.*_id)$")

#: (permission, role) → why this role may open every object of the kind (granted "always" on purpose).
EVERY_OBJECT = {
    ("agency:manage", "admin"): "administrators keep every agency (names and kinds only)",
    ("user:manage", "admin"): "administrators keep every user account (no case content)",
    ("taxonomy:manage", "admin"): "administrators keep every area and category",
    ("api_token:manage", "admin"): "administrators issue and revoke every API token",
    ("emergency:review", "auditor"): "the auditor reviews every emergency access (reason only, no case content)",
    ("report:import", "analyst"): "analysts run and follow every CSV import",
    ("report:read", "analyst"): "analysts read every incident report (their review work)",
    ("report:review", "analyst"): "analysts review every incident report",
    ("overview:published", "analyst"): "a published week version is area-level figures, for every reader",
    ("overview:published", "coordinator"): "a published week version is area-level figures, for every reader",
    ("overview:published", "partner"): "a published week version is area-level figures, for every reader",
    ("overview:published", "process_leader"): "a published week version is area-level figures, for every reader",
    ("process:view", "process_leader"): "process leaders run every process",
    ("process:manage", "process_leader"): "process leaders run every process",
    ("process:export", "process_leader"): "process leaders run every process",
    ("milestone:update", "process_leader"): "process leaders run every process",
    ("meeting:view", "process_leader"): "process leaders run every meeting, the EST meeting included",
    ("intervention:read", "analyst"): "interventions are area-level and shown on the weekly overview",
    ("intervention:read", "coordinator"): "interventions are area-level and shown on the weekly overview",
    ("intervention:read", "partner"): "interventions are area-level and shown on the weekly overview",
    ("intervention:read", "process_leader"): "interventions are area-level and shown on the weekly overview",
    ("intervention:manage", "process_leader"): "process leaders keep every intervention",
    ("evaluation:read", "analyst"): "an evaluation is area-level figures",
    ("evaluation:read", "process_leader"): "an evaluation is area-level figures",
}


def _object_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        if any(OBJECT_ARGUMENT.match(name) for name in rule.arguments):
            yield rule


def test_routes_naming_an_object_are_gated_by_a_permission_with_an_object_condition(app):
    gate = app.extensions["lots_gate"]
    problems, seen = [], set()
    routes = list(_object_routes(app))
    assert any(r.endpoint == "cases.reopen" for r in routes) and len(routes) > 40
    for rule in routes:
        permission = route_permission(app, rule.endpoint)
        assert permission, f"{rule.endpoint} declares no permission"
        for role, _kind, perm, condition, effect in gate.rules():
            if perm != permission or effect != "allow":
                continue
            if condition == "always":
                if (perm, role) in EVERY_OBJECT:
                    seen.add((perm, role))
                else:
                    problems.append(f"{rule.endpoint} ({rule.rule}): {role} holds {perm} on every object")
    assert not problems, "\n".join(problems)
    assert set(EVERY_OBJECT) == seen, f"listed but no longer needed: {set(EVERY_OBJECT) - seen}"


def test_the_walk_would_have_caught_the_reopen_takeover(app):
    """The old reopen route loaded the case under case:create, granted to coordinators unconditionally."""
    gate = app.extensions["lots_gate"]
    old = [(role, cond) for role, _k, perm, cond, eft in gate.rules() if perm == "case:create" and eft == "allow"]
    assert ("coordinator", "always") in old and ("case:create", "coordinator") not in EVERY_OBJECT
