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
    PLAN_ITEM_UPDATE = "plan_item:update"
    PARTICIPANT_SEARCH = "participant:search"
    EMERGENCY_REVIEW = "emergency:review"

    def __str__(self) -> str:
        return self.value


ROLES = ("coordinator", "partner", "process_leader", "reporter", "analyst", "admin", "auditor")

