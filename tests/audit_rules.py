"""What every audit event must say: the permission and the rule that allowed or refused it.

``event_problems`` is applied by tests/conftest.py to every event each test writes (on both engines), so a new
event that names no permission, or a rule that did not decide it, fails the test that writes it.
"""

from __future__ import annotations

#: Rules that are not policy lines, and the permission prefix each must go with (None: any permission).
NON_POLICY_RULES = {
    "public: ": "public:",  # a public endpoint (the login form), its reason from PUBLIC_ENDPOINTS
    "cli: ": "cli:",  # a command run by an operator at the server
    "system: ": "system:",  # a job of the application itself, outside any request or command
}
#: Refusals that no policy line decides: an API call without a valid token or scope, a rate limit.
REFUSAL_RULES = ("api: ", "rate limit: ")


def event_problems(event) -> list[str]:
    what = f"event {event.id} {event.action} ({event.outcome.value}, {event.permission!r}, {event.rule!r})"
    if not event.permission:
        return [f"{what}: no permission"]
    if not event.rule:
        return [f"{what}: no rule"]
    outcome = event.outcome.value
    rule = event.rule
    if rule.startswith("p, "):
        parts = rule[3:].split(", ")
        if len(parts) != 5:
            return [f"{what}: malformed policy line"]
        _role, _kind, perm, _cond, effect = parts
        problems = []
        if perm != event.permission:
            problems.append(f"{what}: the rule is about {perm}, not {event.permission}")
        if outcome == "allowed" and effect != "allow":
            problems.append(f"{what}: allowed under a deny line")
        if outcome == "denied" and effect != "deny":
            problems.append(f"{what}: denied under an allow line")
        return problems
    if rule == "default-deny":
        return [f"{what}: allowed under default-deny"] if outcome == "allowed" else []
    for prefix, permission_prefix in NON_POLICY_RULES.items():
        if rule.startswith(prefix):
            if not event.permission.startswith(permission_prefix):
                return [f"{what}: a {prefix.strip()} rule on permission {event.permission}"]
            return []
    if rule.startswith(REFUSAL_RULES):
        return [] if outcome in ("denied", "failed") else [f"{what}: {rule.split(':')[0]} rule on an allowed event"]
    return [f"{what}: not a policy line nor a known kind of rule"]
