"""Named permissions. Only the files in policies/ grant them."""

from __future__ import annotations

import enum


class Permission(str, enum.Enum):
    HOME_VIEW = "home:view"
    AGENCY_MANAGE = "agency:manage"
    USER_MANAGE = "user:manage"
    AUDIT_READ = "audit:read"
    AUDIT_EXPORT = "audit:export"

    def __str__(self) -> str:
        return self.value


ROLES = ("coordinator", "partner", "process_leader", "reporter", "analyst", "admin", "auditor")

