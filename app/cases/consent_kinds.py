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
