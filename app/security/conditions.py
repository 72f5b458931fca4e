"""Named conditions that policy lines may reference.

A policy never contains code: it names one of these functions, and the
enforcer calls it with the request context. Each is unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Context:
    """What a condition may look at: the acting user and the object, if any."""

    user: Any
    obj: Any = None
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


@condition("same_agency")
def same_agency(ctx: Context) -> bool:
    """The object belongs to the user's own agency (route level: not yet known, so allowed)."""
    if ctx.obj is None:
        return True
    return getattr(ctx.obj, "agency_id", None) == ctx.user.agency_id


def evaluate(name: str, ctx: Context) -> bool:
    """Evaluate a named condition; unknown names never grant anything."""
    fn = CONDITIONS.get(name)
    return bool(fn and fn(ctx))
