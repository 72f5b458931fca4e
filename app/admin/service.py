"""Administration of agencies and user accounts. No case content lives here."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_security import hash_password
from sqlalchemy import func, or_, select

from app.admin.models import Agency, AgencyKind
from app.extensions import db, security
from app.security.audit import record
from app.security.authn import end_all_sessions
from app.security.models import Role, User
from app.security.permissions import Permission

AGENCY_SORTS = {"name": Agency.name, "kind": Agency.kind, "-name": Agency.name.desc()}
USER_SORTS = {
    "email": User.email,
    "-email": User.email.desc(),
    "name": User.full_name,
    "-name": User.full_name.desc(),
    "agency": Agency.name,
}


class AdminError(ValueError):
    """A request the administrator must correct; the message is user-facing."""


def list_agencies(q: str = "", sort: str = "name", page: int = 1, per_page: int = 25, include_inactive=True):
    """Agencies, searchable by name, sorted and paginated."""
    stmt = select(Agency)
    if q:
        stmt = stmt.where(Agency.name.ilike(f"%{q}%"))
    if not include_inactive:
        stmt = stmt.where(Agency.active.is_(True))
    stmt = stmt.order_by(AGENCY_SORTS.get(sort, Agency.name), Agency.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def agency_choices() -> list[tuple[int, str]]:
    return [(a.id, a.name) for a in db.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.name))]


def create_agency(name: str, kind: AgencyKind) -> Agency:
    """Register a new agency."""
    _ensure_unique_agency_name(name)
    agency = Agency(name=name.strip(), kind=kind, active=True)
    db.session.add(agency)
    db.session.flush()
    record("agency.created", object_type="agency", object_id=agency.id, permission=Permission.AGENCY_MANAGE,
           detail={"kind": kind.value})
    return agency


def update_agency(agency: Agency, name: str, kind: AgencyKind, active: bool) -> Agency:
    """Rename, reclassify or (de)activate an agency."""
    _ensure_unique_agency_name(name, exclude_id=agency.id)
    changed = [f for f, old, new in (("name", agency.name, name.strip()), ("kind", agency.kind, kind),
                                     ("active", agency.active, active)) if old != new]
    agency.name, agency.kind, agency.active = name.strip(), kind, active
    db.session.flush()
    record("agency.updated", object_type="agency", object_id=agency.id, permission=Permission.AGENCY_MANAGE,
           detail={"changed": ",".join(changed), "kind": kind.value, "active": str(active).lower()})
    return agency


def _ensure_unique_agency_name(name: str, exclude_id: int | None = None) -> None:
    stmt = select(Agency.id).where(func.lower(Agency.name) == name.strip().lower())
    if exclude_id:
        stmt = stmt.where(Agency.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise AdminError(_l("Det finns redan en myndighet med det namnet."))


def list_users(q: str = "", sort: str = "email", page: int = 1, per_page: int = 25, agency_id: int | None = None):
    """User accounts, searchable by e-mail or name, sorted and paginated."""
    stmt = select(User).join(User.agency)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.email.ilike(like), User.full_name.ilike(like)))
    if agency_id:
        stmt = stmt.where(User.agency_id == agency_id)
    stmt = stmt.order_by(USER_SORTS.get(sort, User.email), User.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def roles_by_name(names: list[str]) -> list[Role]:
    roles = list(db.session.scalars(select(Role).where(Role.name.in_(names))))
    if len(roles) != len(set(names)):
        raise AdminError(_l("Okänd roll."))
    return roles


def create_user(email: str, full_name: str, agency: Agency, role_names: list[str], password: str) -> User:
    """Create an account in one agency with one or more roles."""
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise AdminError(_l("Det finns redan ett konto med den e-postadressen."))
    user = User(
        email=email,
        full_name=full_name.strip(),
        agency=agency,
        roles=roles_by_name(role_names),
        # Normalised (NFKD) as Flask-Security's login form normalises what is typed: without it a password with
        # å, ä or ö could never be used to log in.
        password=hash_password(security.password_util.normalize(password)),
        active=True,
        fs_uniquifier=uuid.uuid4().hex,
    )
    db.session.add(user)
    db.session.flush()
    record("user.created", object_type="user", object_id=user.id, permission=Permission.USER_MANAGE,
           detail={"agency": agency.id, "roles": ",".join(user.role_names)})
    return user


def update_user(user: User, full_name: str, agency: Agency, role_names: list[str]) -> User:
    """Change an account's name, agency or roles; a change of access ends its sessions."""
    roles = roles_by_name(role_names)
    changed = [
        f for f, differs in (
            ("full_name", full_name.strip() != user.full_name),
            ("agency", agency.id != user.agency_id),
            ("roles", {r.name for r in roles} != set(user.role_names)),
        ) if differs
    ]
    access_changed = "agency" in changed or "roles" in changed
    user.full_name, user.agency, user.roles = full_name.strip(), agency, roles
    if access_changed:
        end_all_sessions(user)
    db.session.flush()
    record("user.updated", object_type="user", object_id=user.id, permission=Permission.USER_MANAGE,
           detail={"changed": ",".join(changed), "agency": agency.id, "roles": ",".join(user.role_names)})
    return user


def deactivate_user(user: User) -> User:
    """Deactivate an account and end all its sessions at once."""
    user.active = False
    end_all_sessions(user)
    db.session.flush()
    record("user.deactivated", object_type="user", object_id=user.id, permission=Permission.USER_MANAGE)
    return user


def reactivate_user(user: User) -> User:
    """Allow an account to log in again."""
    user.active = True
    user.failed_login_count = 0
    user.locked_until = None
    db.session.flush()
    record("user.reactivated", object_type="user", object_id=user.id, permission=Permission.USER_MANAGE)
    return user


def reset_mfa(user: User) -> User:
    """Remove the user's authenticator so they enrol again at next login."""
    user.tf_primary_method = None
    user.tf_totp_secret = None
    user.tf_totp_last_counter = None
    user.mf_recovery_codes = None
    end_all_sessions(user)
    db.session.flush()
    record("user.mfa_reset", object_type="user", object_id=user.id, permission=Permission.USER_MANAGE)
    return user
