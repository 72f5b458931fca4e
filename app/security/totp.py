"""TOTP with replay protection (Flask-Security leaves it to the application)."""

from flask_security import Totp

from app.db import db


class ReplayGuardTotp(Totp):
    """Refuse a code from a time step that was already used by this user."""

    def get_last_counter(self, user):
        return user.tf_totp_last_counter

    def set_last_counter(self, user, tmatch):
        user.tf_totp_last_counter = tmatch.counter
        db.session.add(user)
