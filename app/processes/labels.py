"""Swedish-first labels for the process vocabulary (English through the catalogue)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.labels import register_action_labels
from app.processes.models import (InterventionKind, MeetingKind, ProcessStatus, ProcessType, WorkStatus,
                                  YearlyDocumentKind)

PROCESS_TYPE_LABELS = {
    ProcessType.EST_AREA: _l("EST-områdesarbete"),
    ProcessType.SSPF: _l("SSPF"),
    ProcessType.EXIT_DEVELOPMENT: _l("Utveckling av avhopparverksamheten"),
    ProcessType.OTHER: _l("Annan process"),
}

PROCESS_STATUS_LABELS = {
    ProcessStatus.PLANNED: _l("Planerad"),
    ProcessStatus.ACTIVE: _l("Pågående"),
    ProcessStatus.PAUSED: _l("Pausad"),
    ProcessStatus.COMPLETED: _l("Avslutad"),
    ProcessStatus.CANCELLED: _l("Avbruten"),
}

WORK_STATUS_LABELS = {
    WorkStatus.PLANNED: _l("Planerad"),
    WorkStatus.IN_PROGRESS: _l("Pågår"),
    WorkStatus.DONE: _l("Klar"),
    WorkStatus.CANCELLED: _l("Inställd"),
}

#: Shown instead of the stored status when an open item's due date has passed.
LATE_LABEL = _l("Försenad")

MEETING_KIND_LABELS = {
    MeetingKind.PROCESS: _l("Processmöte"),
    MeetingKind.EST: _l("EST-möte"),
}

INTERVENTION_KIND_LABELS = {
    InterventionKind.EXTRA_PATROLS: _l("Extra patrullering"),
    InterventionKind.LIGHTING: _l("Belysning lagad"),
    InterventionKind.FIELD_WORKERS: _l("Fältarbetare"),
    InterventionKind.YOUTH_ACTIVITIES: _l("Ungdomsaktiviteter"),
    InterventionKind.CAMERA: _l("Kamera"),
    InterventionKind.CLEANING: _l("Städning"),
    InterventionKind.OTHER: _l("Annan insats"),
}

YEARLY_KIND_LABELS = {
    YearlyDocumentKind.SITUATION: _l("Lägesbild (årlig)"),
    YearlyDocumentKind.ACTION_PLAN: _l("Åtgärdsplan"),
}

#: Audit actions of this domain (registered for the audit pages, app/labels.py).
PROCESS_ACTION_LABELS = register_action_labels({
    "process.create": _l("Process skapad"),
    "process.update": _l("Process ändrad"),
    "process.delete": _l("Process borttagen"),
    "process.export": _l("Statusrapport exporterad"),
    "milestone.create": _l("Delmål skapat"),
    "milestone.update": _l("Delmål ändrat"),
    "milestone.delete": _l("Delmål borttaget"),
    "meeting.create": _l("Möte skapat"),
    "meeting.read": _l("Mötesprotokoll läst"),
    "meeting.update": _l("Möte ändrat"),
    "meeting.delete": _l("Möte borttaget"),
    "action_item.create": _l("Åtgärdspunkt skapad"),
    "action_item.update": _l("Åtgärdspunkt ändrad"),
    "intervention.create": _l("Insats skapad"),
    "intervention.update": _l("Insats ändrad"),
    "intervention.delete": _l("Insats borttagen"),
    "evaluation.export": _l("Utvärdering exporterad"),
    "yearly.update": _l("Årsdokument ändrat"),
    "yearly.export": _l("Årsdokument exporterat"),
    "digest.send": _l("Daglig sammanställning skickad"),
})
