"""Incident reporting: filing (form), the reporter's corrections, the analysts' review and the read paths.

- ``filing``: check_incident (the one rule set), file_reports, correct_report.
- ``review``: review_report (accept, reject, duplicate, reclassify) and report_history.
- ``queries``: own list, review list with filters (narrowed by the policy), load_report.
- ``labels``: statuses, settings, sources, history and audit-action labels.
"""

from app.overview.reporting.filing import (MAX_DESCRIPTION, MAX_INCIDENTS, MAX_PLACE, IncidentInput,
                                           ReportConflict, ReportLocked, SubmissionInvalid, check_incident,
                                           correct_report, file_reports)
from app.overview.reporting.review import ReviewInvalid, report_history, review_report

__all__ = [
    "MAX_DESCRIPTION", "MAX_INCIDENTS", "MAX_PLACE", "IncidentInput", "ReportConflict", "ReportLocked",
    "SubmissionInvalid", "check_incident", "correct_report", "file_reports", "ReviewInvalid", "report_history",
    "review_report",
]
