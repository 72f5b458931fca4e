"""Incidents that arrive in bulk: CSV imports (preview, confirm, background run) and the JSON API.

- ``csvfile``: encoding, delimiter and header mapping of an uploaded file.
- ``rows``: validation of one incident, shared by the CSV import and the API.
- ``analysis``: a whole file → valid, invalid and duplicate rows.
- ``service``: the import job's life (create, confirm, cancel, status).
- ``runner``: the confirmed import, in one transaction, with progress.
- ``api``: incidents posted to /api/v1/incidents.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.labels import register_action_labels

#: Labels for the audit log's action names used here (registered for the audit pages, app/labels.py).
AUDIT_LABELS = register_action_labels({
    "import.previewed": _l("Import förhandsgranskad"),
    "import.confirmed": _l("Import bekräftad"),
    "import.cancelled": _l("Import avbruten"),
    "import.finished": _l("Import klar"),
    "report.export": _l("Händelserapporter exporterade"),
    "api_token.created": _l("API-nyckel skapad"),
    "api_token.revoked": _l("API-nyckel återkallad"),
    "api.incidents": _l("API: händelser mottagna"),
    "api.overview": _l("API: lägesbild hämtad"),
    "api.unauthorized": _l("API: ogiltig nyckel"),
})
