"""emergency pages (see app/cases/views/__init__.py)."""

from __future__ import annotations

from app.cases.views import bp  # noqa: F401
