"""The cross-process page of what is late or due, and the status report PDF (routes on processes_bp)."""

from __future__ import annotations

from app.processes.views import processes_bp as bp  # noqa: F401
