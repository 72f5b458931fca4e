"""Which consent kind covers which field set: read from policies/consent-kinds.csv.

The file is part of the policy a data-protection officer signs off: a consent
to "threat_assessment" opens exactly the field sets listed against it here.
Plan items use ``plan.protection`` / ``plan.support`` by the part they belong to.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from app.cases.models import ConsentKind

CONSENT_KINDS_FILE = Path(__file__).resolve().parents[2] / "policies" / "consent-kinds.csv"
#: Scopes that are not field sets: a plan item's part.
PLAN_SCOPES = ("plan.protection", "plan.support")


class ConsentKindsError(RuntimeError):
    pass


@lru_cache(maxsize=None)
def load(path: Path = CONSENT_KINDS_FILE) -> dict[str, ConsentKind]:
    mapping: dict[str, ConsentKind] = {}
    with path.open(newline="") as handle:
        rows = csv.reader(line for line in handle if line.strip() and not line.lstrip().startswith("#"))
        for row in rows:
            if len(row) != 2:
                raise ConsentKindsError(f"{path.name}: expected 'scope, consent_kind', got {row!r}")
            scope, kind = (cell.strip() for cell in row)
            try:
                mapping[scope] = ConsentKind(kind)
            except ValueError:
                raise ConsentKindsError(f"{path.name}: unknown consent kind {kind!r}") from None
    return mapping


def consent_kind_for(scope: str) -> ConsentKind | None:
    """The consent kind that covers a field set (or plan part); None if no consent can cover it."""
    return load().get(scope)


def validate(known_fieldsets: set[str]) -> None:
    unknown = set(load()) - set(known_fieldsets) - set(PLAN_SCOPES)
    if unknown:
        raise ConsentKindsError(f"{CONSENT_KINDS_FILE.name} names unknown field sets: {', '.join(sorted(unknown))}")


def scopes_of(kind: ConsentKind) -> list[str]:
    """The field sets (and plan parts) a consent of this kind covers."""
    return [scope for scope, covering in load().items() if covering == kind]


def receivable_kinds(agency_kind: str, gate=None) -> list[ConsentKind]:
    """The consent kinds that open anything for a partner of this agency kind: those with a field set (or plan
    part) that some policy line grants partners of that kind under ``consent_covers``, and that no line denies
    them outright. A consent of any other kind opens nothing for that agency."""
    from app.security.authz import gate as current_gate

    rules = (gate or current_gate()).rules()

    def granted(scope: str) -> bool:
        perm = "fieldset.read:" + ("plan.items" if scope in PLAN_SCOPES else scope)
        matching = [r for r in rules if r[0] == "partner" and r[1] in ("*", agency_kind) and r[2] == perm]
        if any(cond == "always" and eft == "deny" for _r, _k, _p, cond, eft in matching):
            return False
        return any(cond == "consent_covers" and eft == "allow" for _r, _k, _p, cond, eft in matching)

    return [kind for kind in ConsentKind if any(granted(scope) for scope in scopes_of(kind))]
