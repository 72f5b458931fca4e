"""Deny by default: every route declares a permission or is on the public list."""

import re

from app.security.authz import PUBLIC_ENDPOINTS, route_permission
from app.security.permissions import Permission


def test_every_route_declares_a_known_permission_or_is_explicitly_public(app):
    undeclared = []
    known = {p.value for p in Permission}
    for rule in app.url_map.iter_rules():
        perm = route_permission(app, rule.endpoint)
        if perm is not None:
            assert perm in known, f"{rule.rule} declares unknown permission {perm}"
            continue
        if rule.endpoint not in PUBLIC_ENDPOINTS:
            undeclared.append(f"{rule.rule} ({rule.endpoint})")
    assert not undeclared, "Routes without a permission or public-list entry:\n" + "\n".join(undeclared)


def test_public_list_names_only_existing_endpoints(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    stale = [e for e in PUBLIC_ENDPOINTS if e not in endpoints]
    assert not stale, f"public list names endpoints that do not exist: {stale}"


def test_every_permission_constant_is_granted_somewhere_in_policies(app):
    granted = {rule[2] for rule in app.extensions["lots_gate"].rules() if rule[4] == "allow"}
    ungranted = [p.value for p in Permission if p.value not in granted]
    assert not ungranted, f"permissions never granted in policies/: {ungranted}"


def test_anonymous_user_is_redirected_to_login_from_every_protected_get_route(app, client):
    for rule in app.url_map.iter_rules():
        if route_permission(app, rule.endpoint) is None or "GET" not in rule.methods:
            continue
        url = re.sub(r"<[^>]+>", "1", rule.rule)
        resp = client.get(url)
        assert resp.status_code in (302, 401), f"{url} answered {resp.status_code} to an anonymous user"
        if resp.status_code == 302:
            assert "/login" in resp.headers["Location"]
