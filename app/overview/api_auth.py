"""Authentication and authorisation of API calls: ``Authorization: Bearer lots_<prefix>_<secret>``.

``api_requires(permission, scope=...)`` is the API's ``requires``: it declares
the route's permission (``view.lots_permission``, so the url_map walk sees
it), rate-limits per token, authenticates the token (missing, malformed,
unknown or revoked → 401 JSON), and lets the call through only if the policy
grants the permission to the token's principal (role ``api_client``, agency
= the token's organisation) AND the token carries the scope (→ 403 JSON).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import current_app, g, jsonify, request
from flask_limiter.util import get_remote_address

from app.extensions import limiter
from app.overview.models import ApiToken
from app.overview.tokens import authenticate, parse_token
from app.security import audit
from app.security.authz import gate, note_decision
from app.security.permissions import API_ROLE, Permission


@dataclass
class ApiPrincipal:
    """The identity an API token acts as: never a user, always its organisation's."""

    token: ApiToken
    id: None = None
    role_names: list[str] = field(default_factory=lambda: [API_ROLE])
    is_authenticated: bool = True

    @property
    def agency(self):
        return self.token.organisation

    @property
    def agency_id(self) -> int:
        return self.token.organisation_id

    @property
    def active(self) -> bool:
        return bool(self.token.organisation and self.token.organisation.active)

    @property
    def scopes(self) -> set[str]:
        return set(self.token.scopes.split(","))


def api_error(status: int, code: str, message_en: str, message_sv: str, **extra: Any):
    """A JSON error response in English and Swedish."""
    body = {"error": code, "message": message_en, "message_sv": message_sv, **extra}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lots-api"'
    return response


def record_call(action: str, *, outcome: str = "allowed", rule: str | None = None, **detail: Any) -> None:
    """Audit one API call (no user acts: the token's prefix and organisation say who called)."""
    principal: ApiPrincipal | None = g.get("api_principal")
    if principal is not None:
        detail = {"token": principal.token.prefix, "organisation": principal.agency_id, **detail}
    audit.record(action, actor=None, outcome=outcome, rule=rule, detail=detail)


def _rate_key() -> str:
    parsed = parse_token(request.headers.get("Authorization"))
    return f"api-token:{parsed[0]}" if parsed else f"api-ip:{get_remote_address()}"


def _token_limit() -> str:
    return current_app.config.get("LOTS_API_RATE_LIMIT", "300 per minute")


def _ip_limit() -> str:
    return current_app.config.get("LOTS_API_IP_RATE_LIMIT", "1200 per minute")


def api_requires(permission: Permission, *, scope: str) -> Callable:
    """Declare an API route's permission and token scope (see the module docstring)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            g.lots_route_permission = str(permission)
            parsed = parse_token(request.headers.get("Authorization"))
            if parsed is None:
                record_call("api.unauthorized", outcome="denied", reason="missing_or_malformed",
                            endpoint=request.endpoint, rule="api: no API token in the request")
                return api_error(401, "unauthorized", "A valid API token is required (Authorization: Bearer ...).",
                                 "En giltig API-nyckel krävs (Authorization: Bearer ...).")
            token, why = authenticate(*parsed)
            if token is None:
                record_call("api.unauthorized", outcome="denied", reason=why, prefix=parsed[0],
                            endpoint=request.endpoint, rule="api: unknown or revoked API token")
                return api_error(401, "unauthorized", "The API token is unknown or revoked.",
                                 "API-nyckeln är okänd eller återkallad.")
            principal = ApiPrincipal(token)
            g.api_principal = principal
            allowed, line = gate().decision(principal, permission)
            if not allowed or scope not in principal.scopes:
                audit.record("access.denied", permission=permission, outcome="denied", actor=None,
                             rule=line if not allowed else f"api: the token lacks the scope {scope}",
                             detail={"token": token.prefix, "scope": scope, "endpoint": request.endpoint})
                return api_error(403, "forbidden", f"This token may not do this (needs scope {scope}).",
                                 f"Den här API-nyckeln får inte göra detta (kräver behörigheten {scope}).")
            note_decision(str(permission), line)
            return view(*args, **kwargs)

        limited = limiter.limit(_token_limit, key_func=_rate_key)(wrapped)
        limited = limiter.limit(_ip_limit, key_func=get_remote_address)(limited)
        limited.lots_permission = permission  # type: ignore[attr-defined]
        limited.lots_api_scope = scope  # type: ignore[attr-defined]
        return limited

    return decorator
