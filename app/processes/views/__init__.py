"""Blueprints of the process domain.

- ``processes_bp`` (/processes): processes, milestones, timeline, the late/due page, status PDF.
- ``meetings_bp`` (/meetings): process meetings, the weekly EST meeting, action items.
- ``interventions_bp`` (/interventions): area interventions and their evaluation.
- ``yearly_bp`` (/yearly): the yearly lägesbild and åtgärdsplan (Lag 2023:196).
"""

from __future__ import annotations

from flask import Blueprint

processes_bp = Blueprint("processes", __name__, url_prefix="/processes")
meetings_bp = Blueprint("meetings", __name__, url_prefix="/meetings")
interventions_bp = Blueprint("interventions", __name__, url_prefix="/interventions")
yearly_bp = Blueprint("yearly", __name__, url_prefix="/yearly")


def register(app) -> None:
    from app.processes import models  # noqa: F401
    from app.processes.views import due, interventions, meetings, processes, yearly  # noqa: F401

    for bp in (processes_bp, meetings_bp, interventions_bp, yearly_bp):
        app.register_blueprint(bp)
