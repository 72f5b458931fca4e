"""Accounts and roles, in the shape Flask-Security-Too expects."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app
from flask_security import AsaList, RoleMixin, UserMixin
from flask_security.models.sqla import FsModels
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table, Text, func
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import TimestampMixin, db, utcnow

roles_users = Table(
    "roles_users",
    db.Model.metadata,
    Column("user_id", ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("role.id", ondelete="CASCADE"), primary_key=True, index=True),
)
FsModels.roles_users = roles_users
FsModels.user_table_name = "app_user"


class Role(db.Model, RoleMixin):
    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    #: Unused: permissions are granted only in policies/, never here.
    permissions: Mapped[list[str] | None] = mapped_column(MutableList.as_mutable(AsaList()))
    update_datetime: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    users = relationship("User", secondary=roles_users, back_populates="roles")


class User(TimestampMixin, db.Model, UserMixin):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    username: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: Staff display name (not a participant's data).
    full_name: Mapped[str] = mapped_column(String(120), server_default="")
    password: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Rotated to end every session of this user at once.
    fs_uniquifier: Mapped[str] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    current_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_ip: Mapped[str | None] = mapped_column(String(64))
    current_login_ip: Mapped[str | None] = mapped_column(String(64))
    login_count: Mapped[int | None] = mapped_column(Integer)
    tf_primary_method: Mapped[str | None] = mapped_column(String(64))
    #: Encrypted by Flask-Security with LOTS_TOTP_SECRET.
    tf_totp_secret: Mapped[str | None] = mapped_column(String(255))
    tf_phone_number: Mapped[str | None] = mapped_column(String(128))
    #: Last accepted TOTP time step; a code from the same or an earlier step is refused.
    tf_totp_last_counter: Mapped[int | None] = mapped_column(Integer)
    us_totp_secrets: Mapped[str | None] = mapped_column(Text)
    us_phone_number: Mapped[str | None] = mapped_column(String(128), unique=True)
    fs_webauthn_user_handle: Mapped[str | None] = mapped_column(String(64), unique=True)
    mf_recovery_codes: Mapped[list[str] | None] = mapped_column(MutableList.as_mutable(AsaList()))
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The user's own choice of UI language ("sv", "en"); None: the default. Kept across logins.
    language: Mapped[str | None] = mapped_column(String(8))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)

    agency = relationship("Agency", back_populates="users", lazy="joined")
    roles = relationship("Role", secondary=roles_users, back_populates="users", lazy="selectin")

    @property
    def role_names(self) -> list[str]:
        return sorted(role.name for role in self.roles)

    def check_tf_required(self, tf_setup_methods, tf_fresh):
        """Two-factor is required for every role the configuration names."""
        required_roles = set(current_app.config["LOTS_MFA_REQUIRED_ROLES"])
        if tf_setup_methods or required_roles.intersection(self.role_names):
            return True, tf_setup_methods
        return False, tf_setup_methods

    def check_tf_required_setup(self) -> bool:
        return bool(set(current_app.config["LOTS_MFA_REQUIRED_ROLES"]).intersection(self.role_names))

    def mfa_required(self) -> bool:
        return self.check_tf_required_setup()

    def is_locked(self, form_error=None) -> bool:
        """Locked accounts get the same generic message as a wrong password."""
        if self.locked_until and _aware(self.locked_until) > utcnow():
            if form_error is not None:
                from app.security.authn import generic_login_error

                form_error.append(generic_login_error())
            return True
        return False

    def track_failed_authn(self, auth_type: str, tfa: bool = False) -> None:
        from app.security.authn import record_failed_login

        record_failed_login(self, auth_type, tfa)
        super().track_failed_authn(auth_type, tfa)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

