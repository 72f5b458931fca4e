"""One registry of the labels every domain gives its audit actions, for the audit pages.

Each domain registers its own (``register_action_labels`` where its labels are defined); the audit pages read
``action_label`` and ``action_labels`` and import no domain. A label registered twice for one action with a
different text is a programming error.
"""

from __future__ import annotations

from typing import Any, Mapping

_ACTIONS: dict[str, Any] = {}


def register_action_labels(labels: Mapping[str, Any]) -> Mapping[str, Any]:
    for action, label in labels.items():
        known = _ACTIONS.get(action)
        if known is not None and str(known) != str(label) and known is not label:
            raise ValueError(f"audit action {action!r} has two labels")
        _ACTIONS[action] = label
    return labels


def action_labels() -> dict[str, Any]:
    """action → label (lazy text) of every registered action."""
    return dict(_ACTIONS)


def action_label(action: str) -> str:
    return str(_ACTIONS.get(action, action))
