"""Named permissions. Only the files in policies/ grant them."""

from __future__ import annotations

import enum


class Permission(str, enum.Enum):
    HOME_VIEW = "home:view"
    AGENCY_MANAGE = "agency:manage"
    USER_MANAGE = "user:manage"
    AUDIT_READ = "audit:read"
    AUDIT_EXPORT = "audit:export"
    # Exit-programme cases
    CASE_LIST = "case:list"
    CASE_CREATE = "case:create"
    CASE_VIEW = "case:view"
    CASE_MANAGE = "case:manage"
    CASE_EXPORT = "case:export"
    CASE_EMERGENCY = "case:emergency"
    CASE_REOPEN = "case:reopen"
    CASE_DETAILS = "case:details"
    PLAN_ITEM_UPDATE = "plan_item:update"
    PARTICIPANT_SEARCH = "participant:search"
    EMERGENCY_REVIEW = "emergency:review"
    # Incident reports and the weekly overview
    REPORT_CREATE = "report:create"
    REPORT_OWN = "report:own"
    REPORT_CORRECT = "report:correct"
    REPORT_READ = "report:read"
    REPORT_REVIEW = "report:review"
    REPORT_IMPORT = "report:import"
    OVERVIEW_READ = "overview:read"
    OVERVIEW_EDIT = "overview:edit"
    OVERVIEW_PUBLISH = "overview:publish"
    OVERVIEW_PUBLISHED = "overview:published"
    TAXONOMY_MANAGE = "taxonomy:manage"
    API_TOKEN_MANAGE = "api_token:manage"
    # Cross-agency processes, meetings, interventions, yearly documents
    PROCESS_LIST = "process:list"
    PROCESS_VIEW = "process:view"
    PROCESS_MANAGE = "process:manage"
    PROCESS_EXPORT = "process:export"
    MILESTONE_UPDATE = "milestone:update"
    MEETING_VIEW = "meeting:view"
    #: A milestone's or action item's title in the daily digest mail (otherwise the mail names its process).
    DIGEST_TITLES = "digest:titles"
    INTERVENTION_READ = "intervention:read"
    INTERVENTION_MANAGE = "intervention:manage"
    EVALUATION_READ = "evaluation:read"
    YEARLY_READ = "yearly:read"
    YEARLY_EDIT = "yearly:edit"
    # Granted to API tokens (principal role "api_client"); a token's scopes narrow them further.
    API_INCIDENTS_WRITE = "api:incidents_write"
    API_OVERVIEW_READ = "api:overview_read"

    def __str__(self) -> str:
        return self.value


ROLES = ("coordinator", "partner", "process_leader", "reporter", "analyst", "admin", "auditor")
#: Not a user role: the principal an API token acts as (see app/overview/api).
API_ROLE = "api_client"
POLICY_ROLES = ROLES + (API_ROLE,)

