"""Extension objects, created once and initialised in create_app()."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_security import Security
from flask_wtf import CSRFProtect

from app.db import db
from app.security.totp import ReplayGuardTotp

migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
security = Security(totp_cls=ReplayGuardTotp)

__all__ = ["db", "migrate", "csrf", "babel", "limiter", "security"]
