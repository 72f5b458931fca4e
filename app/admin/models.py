"""Agencies: the organisations whose officers use Lots."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, Enum, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import TimestampMixin, db, enum_values


class AgencyKind(str, enum.Enum):
    SOCIAL_SERVICES = "social_services"
    POLICE = "police"
    PROBATION = "probation"
    SCHOOL = "school"
    YOUTH = "youth"
    HOUSING = "housing"
    EMPLOYMENT = "employment"
    HEALTH = "health"
    SECURITY_COMPANY = "security_company"
    NGO = "ngo"
    OTHER = "other"


class Agency(TimestampMixin, db.Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: Drives the access policy: agency kinds are the policy's domains.
    kind: Mapped[AgencyKind] = mapped_column(
        Enum(AgencyKind, values_callable=enum_values, native_enum=False, length=32, name="agency_kind")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    users = relationship("User", back_populates="agency")

    def __repr__(self) -> str:
        return f"<Agency {self.id} {self.kind.value}>"
