"""TOTP with replay protection (Flask-Security leaves it to the application).

A code is accepted once: its time step must be later than the last step this user logged in with. The
check and the update are one conditional UPDATE (``... WHERE last_counter IS NULL OR last_counter < step``),
so of two requests racing with the same code only one changes the row; the other matches no row and is
refused. On PostgreSQL the second UPDATE waits for the first one's row lock and then re-reads the row; on
SQLite writers are serialised by ``BEGIN IMMEDIATE``.
"""

from flask_security import Totp
from passlib.exc import TokenError
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value

from app.db import db


def claim_time_step(user, counter: int) -> bool:
    """Record ``counter`` as the user's last TOTP step if it is later than the stored one; False if not."""
    from app.security.models import User

    result = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.tf_totp_last_counter.is_(None), User.tf_totp_last_counter < counter))
        .values(tf_totp_last_counter=counter)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(user, "tf_totp_last_counter", counter)
    return True


class ReplayGuardTotp(Totp):
    """Refuse a code from a time step that was already used by this user, atomically."""

    def get_last_counter(self, user):
        return user.tf_totp_last_counter

    def set_last_counter(self, user, tmatch):  # pragma: no cover - verify_totp below claims the step itself
        if not claim_time_step(user, tmatch.counter):
            raise TokenError("TOTP time step already used")

    def verify_totp(self, token, totp_secret, user, window=0) -> bool:
        try:
            tmatch = self._totp.verify(token, totp_secret, window=window, last_counter=self.get_last_counter(user))
        except TokenError:
            return False
        return claim_time_step(user, tmatch.counter)
