"""User-facing labels of report statuses, settings, sources, history actions and audit actions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.overview.models import ReportSource, ReportStatus, Setting
from app.labels import register_action_labels

STATUS_LABELS = {
    ReportStatus.NEW: _l("Ny"),
    ReportStatus.ACCEPTED: _l("Godkänd"),
    ReportStatus.REJECTED: _l("Avvisad"),
    ReportStatus.DUPLICATE: _l("Dubblett"),
}

SETTING_LABELS = {
    Setting.PUBLIC: _l("Offentlig miljö"),
    Setting.SEMI_PUBLIC: _l("Halvoffentlig miljö"),
}

SETTING_HINTS = {
    Setting.PUBLIC: _l("t.ex. gata, torg, park, busshållplats"),
    Setting.SEMI_PUBLIC: _l("t.ex. skolgård, trapphus, köpcentrum, fritidsgård"),
}

SOURCE_LABELS = {
    ReportSource.FORM: _l("Formulär"),
    ReportSource.IMPORT: _l("Import"),
    ReportSource.API: _l("API"),
}

#: ReportRevision.action → label for the history.
HISTORY_LABELS = {
    "created": _l("Rapporterad"),
    "corrected": _l("Rättad av rapportören"),
    "corrected_by_sender": _l("Rättad av avsändaren (API)"),
    "accepted": _l("Godkänd"),
    "rejected": _l("Avvisad"),
    "duplicate": _l("Markerad som dubblett"),
    "reclassified": _l("Kategori eller område ändrat"),
}

#: Field names in the history.
FIELD_LABELS = {
    "status": _l("Status"),
    "reject_reason": _l("Skäl för avvisning"),
    "duplicate_of_id": _l("Dubblett av"),
    "category_id": _l("Kategori"),
    "area_id": _l("Område"),
    "occurred_at": _l("Tidpunkt"),
    "occurred_until": _l("Till"),
    "setting": _l("Miljö"),
    "place": _l("Plats"),
    "latitude": _l("Latitud"),
    "longitude": _l("Longitud"),
    "description": _l("Beskrivning"),
}

#: Audit actions written by reporting, review and the area/category pages (for app/audit/service.py).
REPORT_ACTION_LABELS = register_action_labels({
    "report.created": _l("Händelserapport inlämnad"),
    "report.corrected": _l("Händelserapport rättad"),
    "report.view": _l("Händelserapport läst"),
    "report.reviewed": _l("Händelserapport granskad"),
    "taxonomy.changed": _l("Område eller kategori ändrad"),
})
