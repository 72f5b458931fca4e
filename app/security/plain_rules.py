"""The policy's rule lines in plain Swedish and English (policies/plain-language.csv), for people to read.

"p, partner, police, fieldset.read:person.identity, consent_covers, allow" reads as "Handläggare hos
partnermyndighet (polis) får läsa personens identitet (...) när myndigheten ingår i teamet och ett gällande
samtycke ... täcker uppgifterna". The rules that are not policy lines (public pages, commands, a job of the
application, API tokens, rate limits, default deny) get their own sentences.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

PLAIN_FILE = Path(__file__).resolve().parents[2] / "policies" / "plain-language.csv"


@lru_cache(maxsize=None)
def words(path: Path = PLAIN_FILE) -> dict[str, tuple[str, str]]:
    """key → (Swedish, English)."""
    out: dict[str, tuple[str, str]] = {}
    with path.open(newline="") as handle:
        lines = (line for line in handle if line.strip() and not line.lstrip().startswith("#"))
        for row in csv.reader(lines, delimiter=";"):
            if len(row) != 3:
                raise ValueError(f"{path.name}: expected 'key; sv; en', got {row!r}")
            key, sv, en = (cell.strip() for cell in row)
            out[key] = (sv, en)
    return out


def _word(key: str, english: bool) -> str:
    sv, en = words().get(key, (key, key))
    return en if english else sv


def _permission(perm: str, english: bool) -> str:
    for prefix in ("fieldset.read:", "fieldset.write:"):
        if perm.startswith(prefix):
            return f"{_word('permission:' + prefix.rstrip(':'), english)} {_word('fieldset:' + perm[len(prefix):], english)}"
    return _word("permission:" + perm, english)


def describe(rule: str | None) -> str:
    """One rule as a sentence in the reader's language (the words from policies/plain-language.csv)."""
    from flask_babel import gettext as _

    english = str(get_locale() or "sv").startswith("en")
    rule = (rule or "").strip()
    if rule.startswith("p, "):
        parts = [part.strip() for part in rule[3:].split(",")]
        if len(parts) == 5:
            role, kind, perm, cond, effect = parts
            who = f"{_word('role:' + role, english)} ({_word('kind:' + kind, english)})"
            what = _permission(perm, english)
            when = _word("condition:" + cond, english)
            if effect == "deny":
                return _("%(who)s får aldrig %(what)s.", who=who, what=what)
            if when:
                return _("%(who)s får %(what)s %(when)s.", who=who, what=what, when=when)
            return _("%(who)s får %(what)s.", who=who, what=what)
    if rule == "default-deny":
        return _("Ingen regel tillåter det: nekat som standard.")
    frames = {"public: ": _l("Öppen sida"), "cli: ": _l("Kommando på servern"),
              "system: ": _l("Programmets eget arbete"), "api: ": _l("API-anrop"),
              "rate limit: ": _l("För många försök")}
    for prefix, label in frames.items():
        if rule.startswith(prefix):
            return f"{label}: {rule[len(prefix):]}"
    return rule or "–"


def missing_words(gate) -> list[str]:
    """Every role, agency kind, permission, field set and condition of the policy without a plain-language line."""
    from app.admin.models import AgencyKind
    from app.security.conditions import CONDITIONS
    from app.security.permissions import POLICY_ROLES, Permission

    known = words()
    keys = [f"role:{r}" for r in POLICY_ROLES] + ["kind:*"] + [f"kind:{k.value}" for k in AgencyKind]
    keys += [f"permission:{p.value}" for p in Permission] + ["permission:fieldset.read", "permission:fieldset.write"]
    keys += [f"fieldset:{name}" for name in gate.fieldsets] + [f"condition:{c}" for c in CONDITIONS]
    return [key for key in keys if key not in known]
