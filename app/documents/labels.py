"""Swedish-first labels for case documents, and their audit actions in the one registry (app/labels.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.documents.models import AttachedTo, DocumentKind
from app.labels import register_action_labels

KIND_LABELS = {
    DocumentKind.CONSENT: _l("Samtycke"),
    DocumentKind.THREAT: _l("Hotbild"),
    DocumentKind.PROTECTION_PLAN: _l("Skyddsplan"),
    DocumentKind.SUPPORT_PLAN: _l("Stödplan"),
    DocumentKind.NOTES: _l("Anteckningar och möten"),
    DocumentKind.IDENTITY: _l("Identitet"),
}

ATTACHED_LABELS = {
    AttachedTo.CASE: _l("Ärendet"),
    AttachedTo.CONSENT: _l("Samtycke"),
    AttachedTo.THREAT: _l("Hotbedömning"),
    AttachedTo.PLAN_VERSION: _l("Planversion"),
    AttachedTo.PLAN_ITEM: _l("Insats i planen"),
    AttachedTo.NOTE: _l("Journalanteckning"),
    AttachedTo.MEETING: _l("Ärendemöte"),
}

ACTION_LABELS = register_action_labels({
    "document.uploaded": _l("Dokument bifogat"),
    "document.replaced": _l("Dokument ersatt med ny version"),
    "document.removed": _l("Dokument borttaget"),
    "document.reclassified": _l("Dokument flyttat till annan sort"),
    "document.list": _l("Dokumentlista visad"),
    "document.viewed": _l("Dokument visat"),
    "document.downloaded": _l("Dokument hämtat"),
    "document.previewed": _l("Dokument förhandsvisat"),
    "document.metadata_stripped": _l("Metadata borttagen ur dokument"),
})
