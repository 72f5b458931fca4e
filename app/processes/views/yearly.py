"""Views of the yearly blueprint (see app/processes/views/__init__.py)."""

from __future__ import annotations

from app.processes.views import yearly_bp as bp  # noqa: F401
