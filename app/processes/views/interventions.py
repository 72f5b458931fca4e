"""Views of the interventions blueprint (see app/processes/views/__init__.py)."""

from __future__ import annotations

from app.processes.views import interventions_bp as bp  # noqa: F401
