"""Named conditions that policy lines may reference.

A policy never contains code: it names one of these functions, and the
enforcer calls it with the request context. Each is unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Context:
    """What a condition may look at: the acting user, the object, and the field set asked for.

    ``route_level`` is True when a route is entered before its object is
    loaded; object conditions then answer "possibly" (True) and the view
    must call authorize() again with the object.
    """

    user: Any
    obj: Any = None
    fieldset: str | None = None
    route_level: bool = False
    extra: dict = field(default_factory=dict)


CONDITIONS: dict[str, Callable[[Context], bool]] = {}


def condition(name: str):
    def register(fn: Callable[[Context], bool]):
        CONDITIONS[name] = fn
        return fn

    return register


@condition("always")
def always(ctx: Context) -> bool:
    """Granted without further condition."""
    return True


def _case_of(obj: Any) -> Any:
    """The case an object belongs to: the object itself if it is a case."""
    return getattr(obj, "case", None) or obj


@condition("same_agency")
def same_agency(ctx: Context) -> bool:
    """The object belongs to the user's own agency."""
    if ctx.obj is None:
        return ctx.route_level
    return getattr(ctx.obj, "agency_id", None) == ctx.user.agency_id


@condition("coordinates_case")
def coordinates_case(ctx: Context) -> bool:
    """The user is the coordinator assigned to the case."""
    if ctx.obj is None:
        return ctx.route_level
    case = _case_of(ctx.obj)
    return getattr(case, "coordinator_id", None) == ctx.user.id


@condition("on_case_team")
def on_case_team(ctx: Context) -> bool:
    """The user's agency is on the case team."""
    if ctx.obj is None:
        return ctx.route_level
    case = _case_of(ctx.obj)
    return ctx.user.agency_id in set(getattr(case, "team_agency_ids", ()) or ())


@condition("consent_covers")
def consent_covers(ctx: Context) -> bool:
    """The user's agency is on the team AND a current consent covers it for this field set.

    The case answers ``consent_covers(agency_id, fieldset)`` from its consents,
    evaluated at the time of the request, so a withdrawal takes effect at once.
    """
    if ctx.obj is None:
        return ctx.route_level
    if not on_case_team(ctx):
        return False
    case = _case_of(ctx.obj)
    check = getattr(case, "consent_covers", None)
    # A plan item is covered by the consent kind of its part (protection or support plan).
    scope = getattr(ctx.obj, "consent_fieldset", None) or ctx.fieldset
    return bool(check and scope and check(ctx.user.agency_id, scope))


@condition("any_consent")
def any_consent(ctx: Context) -> bool:
    """The user's agency is on the case team and holds a consent valid today (of any kind): a partner that
    works with the person by consent sees the case's context (referral date and source, team, phase history).
    """
    if ctx.obj is None:
        return ctx.route_level
    if not on_case_team(ctx):
        return False
    case = _case_of(ctx.obj)
    current = getattr(case, "current_consents", None)
    return bool(current and current(ctx.user.agency_id))


@condition("assigned_to_agency")
def assigned_to_agency(ctx: Context) -> bool:
    """The object (e.g. a plan item) is assigned to the user's agency, on a case whose team includes it."""
    if ctx.obj is None:
        return ctx.route_level
    return getattr(ctx.obj, "responsible_agency_id", None) == ctx.user.agency_id and on_case_team(ctx)


@condition("emergency_access")
def emergency_access(ctx: Context) -> bool:
    """The user's agency is on the team and the user has an active emergency access (break the glass) to the case.

    It never covers the support part of the plan: emergency access is for
    protection-relevant information only. Which field sets it opens is
    decided by the policy lines that name this condition.
    """
    if ctx.obj is None:
        return ctx.route_level
    if not on_case_team(ctx):
        return False
    if getattr(ctx.obj, "consent_fieldset", None) in ("plan.support", "document.support_plan"):
        return False  # a support-plan item, or a document of the support plan
    case = _case_of(ctx.obj)
    check = getattr(case, "active_emergency", None)
    return bool(check and check(ctx.user.id))


@condition("reopen_proof")
def reopen_proof(ctx: Context) -> bool:
    """The user typed this closed case's participant's personal identity number in an intake a few minutes
    ago: a live, unused reopen proof binds this user to this case (app/cases/reopening.py)."""
    if ctx.obj is None:
        return ctx.route_level
    from app.cases.reopening import holds_proof

    return holds_proof(ctx.user, _case_of(ctx.obj))


@condition("own_report")
def own_report(ctx: Context) -> bool:
    """The user filed the report."""
    if ctx.obj is None:
        return ctx.route_level
    return getattr(ctx.obj, "reporter_id", None) == ctx.user.id


@condition("accepted_report")
def accepted_report(ctx: Context) -> bool:
    """The incident report has been accepted in review (only accepted reports count in the overview)."""
    if ctx.obj is None:
        return ctx.route_level
    status = getattr(ctx.obj, "status", None)
    return getattr(status, "value", status) == "accepted"


@condition("process_participant")
def process_participant(ctx: Context) -> bool:
    """The user's agency takes part in the process (or, for a meeting, attends it or takes part in its process)."""
    if ctx.obj is None:
        return ctx.route_level
    return ctx.user.agency_id in set(getattr(ctx.obj, "participant_agency_ids", ()) or ())


@condition("owning_agency")
def owning_agency(ctx: Context) -> bool:
    """The object (a milestone or an action item) is owned by the user's agency, which takes part in its process."""
    if ctx.obj is None:
        return ctx.route_level
    return getattr(ctx.obj, "agency_id", None) == ctx.user.agency_id and process_participant(ctx)


@condition("est_meeting")
def est_meeting(ctx: Context) -> bool:
    """The meeting is a weekly EST meeting (the analysts are its members)."""
    if ctx.obj is None:
        return ctx.route_level
    kind = getattr(ctx.obj, "kind", None)
    return getattr(kind, "value", kind) == "est"


def evaluate(name: str, ctx: Context) -> bool:
    """Evaluate a named condition; unknown names never grant anything."""
    fn = CONDITIONS.get(name)
    return bool(fn and fn(ctx))
