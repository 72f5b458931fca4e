"""API tokens: created and revoked by administrators, shown once, stored as a SHA-256 hash.

A token reads ``lots_<prefix>_<secret>``: the prefix (12 hex digits) is public
and finds the row; the secret (``secrets.token_urlsafe(32)``, 256 bits) is
compared by hash in constant time. A fast hash is enough for a random 256-bit
secret (there is nothing to guess from it), and it keeps every API call cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.db import as_utc, db, utcnow
from app.overview.models import ApiToken
from app.overview.service import ReportError
from app.security import audit

SCOPES = ("incidents:write", "overview:read")
TOKEN_FORMAT = re.compile(r"lots_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
#: last_used_at is written at most this often per token (it is shown to admins, not a log).
LAST_USED_RESOLUTION = timedelta(minutes=1)
SORTS = {
    "name": ApiToken.name, "-name": ApiToken.name.desc(),
    "created": ApiToken.created_at, "-created": ApiToken.created_at.desc(),
    "used": ApiToken.last_used_at, "-used": ApiToken.last_used_at.desc(),
}


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def create_token(*, name: str, organisation_id: int, scopes: list[str], by) -> tuple[ApiToken, str]:
    """A new token and its full text, which is shown once and never stored."""
    chosen = [s for s in SCOPES if s in set(scopes)]
    if not chosen or set(scopes) - set(SCOPES):
        raise ReportError(str(_l("Välj minst en giltig behörighet.")))
    name = name.strip()
    if not name or len(name) > 120:
        raise ReportError(str(_l("Ange ett namn (högst 120 tecken).")))
    prefix = secrets.token_hex(6)
    while db.session.scalar(select(ApiToken.id).where(ApiToken.prefix == prefix)) is not None:
        prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(prefix=prefix, secret_hash=hash_secret(secret), name=name, organisation_id=organisation_id,
                     scopes=",".join(chosen), created_at=utcnow(), created_by_id=by.id)
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", object_type="api_token", object_id=token.id,
                 detail={"prefix": prefix, "organisation": organisation_id, "scopes": token.scopes})
    return token, f"lots_{prefix}_{secret}"


def revoke_token(token: ApiToken, *, by) -> None:
    """Revoke a token: every later call with it is refused (401)."""
    if token.revoked_at is not None:
        raise ReportError(str(_l("Nyckeln är redan återkallad.")))
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record("api_token.revoked", object_type="api_token", object_id=token.id, detail={"prefix": token.prefix})


def parse_token(header: str | None) -> tuple[str, str] | None:
    """(prefix, secret) from an ``Authorization: Bearer lots_<prefix>_<secret>`` header, or None."""
    if not header or not header.startswith("Bearer "):
        return None
    match = TOKEN_FORMAT.fullmatch(header[len("Bearer "):].strip())
    return (match.group(1), match.group(2)) if match else None


def authenticate(prefix: str, secret: str) -> tuple[ApiToken | None, str]:
    """(token, "ok") for a live token with this secret, else (None, "unknown" | "revoked")."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    # Compare even when the prefix is unknown, so the timing does not tell the two apart.
    expected = token.secret_hash if token is not None else "0" * 64
    if not hmac.compare_digest(expected, hash_secret(secret)) or token is None:
        return None, "unknown"
    if token.revoked_at is not None:
        return None, "revoked"
    now = utcnow()
    if token.last_used_at is None or now - as_utc(token.last_used_at) > LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token, "ok"




def list_tokens(*, q: str = "", sort: str = "-created", page: int = 1, per_page: int = 25):
    """Tokens (never their secrets), searchable by name or prefix, sorted and paginated."""
    stmt = select(ApiToken)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(or_(ApiToken.name.ilike(f"%{escaped}%", escape="\\"),
                              ApiToken.prefix.ilike(f"%{escaped}%", escape="\\")))
    stmt = stmt.order_by(SORTS.get(sort, SORTS["-created"]), ApiToken.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)
