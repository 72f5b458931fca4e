"""Views of the processes blueprint (see app/processes/views/__init__.py)."""

from __future__ import annotations

from app.processes.views import processes_bp as bp  # noqa: F401
