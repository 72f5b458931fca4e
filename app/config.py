"""Settings from the environment (prefix ``LOTS_``).

No secret has a default outside the development and test configurations:
those generate local secrets into ``instance/``; production refuses to start
and names every missing variable.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

PREFIX = "LOTS_"
ENVIRONMENTS = ("development", "test", "production")
ALL_ROLES = ("coordinator", "partner", "process_leader", "reporter", "analyst", "admin", "auditor")

#: Secrets that production must be given; development/test generate them.
REQUIRED_SECRETS = ("SECRET_KEY", "PASSWORD_SALT", "TOTP_SECRET", "AUDIT_KEY")


class ConfigError(RuntimeError):
    """The configuration is incomplete or invalid; the message says what to set."""


def env(name: str, default: str | None = None) -> str | None:
    """Read one LOTS_-prefixed environment variable."""
    value = os.environ.get(PREFIX + name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name} must be a whole number, got {raw!r}") from exc


def _local_secrets(instance_path: Path) -> dict[str, str]:
    """Development/test only: load or create instance/dev-secrets.json (mode 0600 from the start).

    Written to a temporary file and renamed into place, so processes starting at the same time (parallel
    test workers) never read half a file; a process that loses the race adopts the winner's secrets.
    """
    path = instance_path / "dev-secrets.json"
    data: dict[str, str] = {}
    existed = path.exists()
    if existed:
        data = json.loads(path.read_text())
    if all(name in data for name in REQUIRED_SECRETS):
        return data
    for name in REQUIRED_SECRETS:
        data.setdefault(name, secrets.token_urlsafe(48))
    instance_path.mkdir(parents=True, exist_ok=True)
    tmp = instance_path / f".dev-secrets.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(data, indent=2))
    if not existed and path.exists():  # another process created it meanwhile: keep theirs
        tmp.unlink()
        return _local_secrets(instance_path)
    os.replace(tmp, path)
    return json.loads(path.read_text())


SMTP_SECURITY = ("starttls", "ssl", "none")


def _mail_settings(environment: str, instance_path: Path) -> dict:
    """SMTP and outbox settings. The SMTP password is a secret: no default, and a user name needs it.

    The test configuration never talks to a mail server: it always writes to the outbox.
    """
    local = environment in ("development", "test")
    security = (env("SMTP_SECURITY", "starttls") or "").lower()
    if security not in SMTP_SECURITY:
        raise ConfigError(f"{PREFIX}SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, got {security!r}")
    username, password = env("SMTP_USERNAME"), env("SMTP_PASSWORD")
    if username and not password:
        raise ConfigError(f"{PREFIX}SMTP_USERNAME is set but {PREFIX}SMTP_PASSWORD is missing")
    if username and security == "none" and not local:
        # The SMTP login would send the password in clear text.
        raise ConfigError(f"{PREFIX}SMTP_SECURITY=none cannot be used with {PREFIX}SMTP_USERNAME outside "
                          "development: use starttls or ssl")
    outbox = env("MAIL_OUTBOX") or (str(instance_path / "outbox") if local else None)
    return {
        "LOTS_SMTP_HOST": None if environment == "test" else env("SMTP_HOST"),
        "LOTS_SMTP_PORT": _int("SMTP_PORT", 465 if security == "ssl" else 587),
        "LOTS_SMTP_USERNAME": username,
        "LOTS_SMTP_PASSWORD": password,
        "LOTS_SMTP_SECURITY": security,
        "LOTS_SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 30),
        "LOTS_MAIL_FROM": env("MAIL_FROM", "Lots <lots@localhost>" if local else None),
        "LOTS_MAIL_OUTBOX": outbox,
        "LOTS_BASE_URL": (env("BASE_URL", "http://localhost:5000" if local else None) or "").rstrip("/") or None,
    }


def load_config(instance_path: str | Path, overrides: dict | None = None) -> dict:
    """Build the Flask config mapping for the environment named by LOTS_ENV."""
    instance_path = Path(instance_path)
    overrides = dict(overrides or {})
    environment = overrides.pop("ENV", None) or env("ENV", "production")
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"{PREFIX}ENV must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    local = environment in ("development", "test")

    values: dict[str, str | None] = {name: env(name) for name in REQUIRED_SECRETS}
    if local:
        generated = _local_secrets(instance_path)
        values = {k: v or generated[k] for k, v in values.items()}
    database_url = env("DATABASE_URL")
    key_file = env("KEY_FILE")
    if local:
        database_url = database_url or f"sqlite:///{instance_path / 'lots.db'}"
        key_file = key_file or str(instance_path / "master-keys.json")

    missing = [PREFIX + k for k, v in values.items() if not v]
    if not database_url:
        missing.append(PREFIX + "DATABASE_URL")
    if not key_file:
        missing.append(PREFIX + "KEY_FILE")
    if missing and not overrides.get("TESTING"):
        raise ConfigError("Production configuration is missing: " + ", ".join(missing))

    idle = _int("SESSION_IDLE_MINUTES", 20)
    absolute = _int("SESSION_MAX_HOURS", 8)
    mfa_roles_raw = env("MFA_REQUIRED_ROLES", "all")
    mfa_roles = ALL_ROLES if mfa_roles_raw == "all" else tuple(
        r.strip() for r in mfa_roles_raw.split(",") if r.strip()
    )
    unknown_roles = set(mfa_roles) - set(ALL_ROLES)
    if unknown_roles:
        raise ConfigError(f"{PREFIX}MFA_REQUIRED_ROLES names unknown roles: {', '.join(sorted(unknown_roles))}")
    secure_cookies = not local or env("SECURE_COOKIES") == "1"
    ratelimit_storage = env("RATELIMIT_STORAGE_URL", "memory://")
    workers = _int("WORKERS", 0)  # set by gunicorn.conf.py from --workers; 0 = not known
    if environment == "production" and ratelimit_storage.startswith("memory") and workers != 1:
        # With memory:// each worker process counts on its own: two workers allow twice the login attempts.
        raise ConfigError(
            f"{PREFIX}RATELIMIT_STORAGE_URL must name a storage the workers share (redis://host:6379/0) in "
            f"production; memory:// counts per process. Only a single worker process may use memory:// "
            f"({PREFIX}WORKERS=1; gunicorn.conf.py sets {PREFIX}WORKERS from --workers)."
        )
    mail = _mail_settings(environment, instance_path)

    config = {
        "LOTS_ENV": environment,
        "SECRET_KEY": values["SECRET_KEY"],
        "LOTS_AUDIT_KEY": values["AUDIT_KEY"],
        "LOTS_KEY_FILE": key_file,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # hide_parameters: SQL errors and logs must never carry personal data (or ciphertexts) as bound values.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "LOTS_SESSION_IDLE": timedelta(minutes=idle),
        "LOTS_SESSION_MAX": timedelta(hours=absolute),
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=idle),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "SESSION_COOKIE_NAME": "lots_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "LOTS_MFA_REQUIRED_ROLES": mfa_roles,
        "LOTS_LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOTS_LOCKOUT_MINUTES": _int("LOCKOUT_MINUTES", 15),
        "RATELIMIT_STORAGE_URI": ratelimit_storage,
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOTS_LOGIN_RATE_LIMIT": env("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        "LOTS_LANGUAGES": ("sv", "en"),
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 50) * 1024 * 1024,
        "LOTS_PAGE_SIZE": 25,
        # Exit-programme cases
        "LOTS_RETENTION_DAYS": _int("RETENTION_DAYS", 5 * 365),
        "LOTS_EMERGENCY_MINUTES": _int("EMERGENCY_MINUTES", 60),
        "LOTS_EMERGENCY_REPEAT_HOURS": _int("EMERGENCY_REPEAT_HOURS", 24),
        "LOTS_CONSENT_WARNING_DAYS": _int("CONSENT_WARNING_DAYS", 14),
        "LOTS_CASE_CODE_PREFIX": env("CASE_CODE_PREFIX", "AV"),
        "LOTS_REOPEN_PROOF_MINUTES": _int("REOPEN_PROOF_MINUTES", 10),
        # Case documents: the largest file, and where the encrypted chunks are kept (app/documents/storage.py)
        "LOTS_DOCUMENT_MAX_MB": _int("DOCUMENT_MAX_MB", 25),
        "LOTS_DOCUMENT_STORE": env("DOCUMENT_STORE", "database"),
        # Look-ups by personal identity number (search and intake): per user, and per client address.
        "LOTS_PERSON_LOOKUP_RATE_LIMIT": env("PERSON_LOOKUP_RATE_LIMIT", "10 per minute;30 per hour;100 per day"),
        "LOTS_PERSON_LOOKUP_IP_RATE_LIMIT": env("PERSON_LOOKUP_IP_RATE_LIMIT", "30 per minute;200 per hour"),
        # Incident reports: CSV import and the JSON API
        "LOTS_IMPORT_MAX_ROWS": _int("IMPORT_MAX_ROWS", 200_000),
        "LOTS_IMPORT_STALE_MINUTES": _int("IMPORT_STALE_MINUTES", 30),
        "LOTS_API_MAX_BODY": _int("API_MAX_BODY", 2 * 1024 * 1024),
        "LOTS_API_RATE_LIMIT": env("API_RATE_LIMIT", "300 per minute"),
        "LOTS_API_IP_RATE_LIMIT": env("API_IP_RATE_LIMIT", "1200 per minute"),
        # Mail (the daily digest): SMTP when LOTS_SMTP_HOST is set, else the outbox folder in development/test
        **mail,
        # Flask-Security-Too
        "SECURITY_PASSWORD_SALT": values["PASSWORD_SALT"],
        "SECURITY_PASSWORD_HASH": "argon2",
        "SECURITY_PASSWORD_LENGTH_MIN": 12,
        "SECURITY_TOTP_SECRETS": {"1": values["TOTP_SECRET"]},
        "SECURITY_TOTP_ISSUER": "Lots",
        "SECURITY_TWO_FACTOR": True,
        "SECURITY_TWO_FACTOR_ENABLED_METHODS": ["authenticator"],
        "SECURITY_TWO_FACTOR_ALWAYS_VALIDATE": True,
        "SECURITY_TWO_FACTOR_AUTHENTICATOR_VALIDITY": 60,
        "SECURITY_TWO_FACTOR_RESCUE_EMAIL": False,
        "SECURITY_MULTI_FACTOR_RECOVERY_CODES": True,
        "SECURITY_MULTI_FACTOR_RECOVERY_CODES_N": 8,
        "SECURITY_RETURN_GENERIC_RESPONSES": True,
        "SECURITY_REGISTERABLE": False,
        "SECURITY_RECOVERABLE": False,
        "SECURITY_CONFIRMABLE": False,
        "SECURITY_CHANGEABLE": True,
        "SECURITY_SEND_PASSWORD_CHANGE_EMAIL": False,
        "SECURITY_TRACKABLE": True,
        "SECURITY_API_ENABLED_METHODS": ["session"],
        "SECURITY_DEFAULT_REMEMBER_ME": False,
        "SECURITY_FRESHNESS": timedelta(minutes=_int("FRESHNESS_MINUTES", 5)),
        "SECURITY_FRESHNESS_GRACE_PERIOD": timedelta(seconds=0),
        "SECURITY_FRESHNESS_ALLOW_AUTH_TOKEN": False,
        "SECURITY_POST_LOGIN_VIEW": "/",
        "SECURITY_POST_LOGOUT_VIEW": "/login",
        "SECURITY_LOGOUT_METHODS": ["POST"],
        "SECURITY_I18N_DIRNAME": ["builtin", str(Path(__file__).parent / "translations")],
        "SECURITY_FLASH_MESSAGES": True,
        "SECURITY_USE_REGISTER_V2": True,
        # Never look up mail servers while someone logs in.
        "SECURITY_EMAIL_VALIDATOR_ARGS": {"check_deliverability": False},
    }
    if environment == "test":
        config.update(
            {
                "TESTING": True,
                "LOTS_LOGIN_RATE_LIMIT": env("LOGIN_RATE_LIMIT", "30 per minute"),
                # Cheap argon2id parameters: the tests hash many passwords.
                "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {"argon2__memory_cost": 64, "argon2__rounds": 1},
                # Cheap encryption of TOTP secrets (2 PBKDF2 rounds instead of 2**14), for the same reason.
                "LOTS_TOTP_ENCRYPT_COST": 1,
            }
        )
    config.update(overrides)
    return config
