"""Configuration: no secret has a default outside development and test."""

import pytest

from app.config import ConfigError, load_config


def _clear(monkeypatch):
    for name in ("LOTS_ENV", "LOTS_SECRET_KEY", "LOTS_PASSWORD_SALT", "LOTS_TOTP_SECRET", "LOTS_AUDIT_KEY",
                 "LOTS_DATABASE_URL", "LOTS_KEY_FILE", "LOTS_RATELIMIT_STORAGE_URL", "LOTS_WORKERS"):
        monkeypatch.delenv(name, raising=False)


def test_production_is_the_default_and_refuses_to_start_without_secrets(monkeypatch, tmp_path):
    _clear(monkeypatch)
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path)
    message = str(exc.value)
    for name in ("LOTS_SECRET_KEY", "LOTS_PASSWORD_SALT", "LOTS_TOTP_SECRET", "LOTS_AUDIT_KEY",
                 "LOTS_DATABASE_URL", "LOTS_KEY_FILE"):
        assert name in message
    assert not (tmp_path / "dev-secrets.json").exists()


def test_production_names_only_what_is_missing(monkeypatch, tmp_path):
    _clear(monkeypatch)
    for name in ("SECRET_KEY", "PASSWORD_SALT", "TOTP_SECRET", "DATABASE_URL", "KEY_FILE"):
        monkeypatch.setenv("LOTS_" + name, "x" * 40)
    with pytest.raises(ConfigError, match="LOTS_AUDIT_KEY") as exc:
        load_config(tmp_path)
    assert "LOTS_SECRET_KEY" not in str(exc.value)


def _production(monkeypatch):
    _clear(monkeypatch)
    for name in ("SECRET_KEY", "PASSWORD_SALT", "TOTP_SECRET", "AUDIT_KEY", "DATABASE_URL", "KEY_FILE"):
        monkeypatch.setenv("LOTS_" + name, "x" * 40)


def test_production_refuses_a_rate_limit_storage_each_worker_keeps_on_its_own(monkeypatch, tmp_path):
    """Pentest finding 6: with memory:// two workers allowed 20 login attempts a minute, not 10."""
    _production(monkeypatch)
    with pytest.raises(ConfigError, match="LOTS_RATELIMIT_STORAGE_URL"):
        load_config(tmp_path)  # the number of workers is not known: refused
    monkeypatch.setenv("LOTS_WORKERS", "4")
    with pytest.raises(ConfigError, match="memory:// counts per process"):
        load_config(tmp_path)
    monkeypatch.setenv("LOTS_WORKERS", "1")
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == "memory://"  # one process: its own count is all
    monkeypatch.setenv("LOTS_WORKERS", "4")
    monkeypatch.setenv("LOTS_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0")
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_gunicorn_tells_the_app_how_many_workers_run(monkeypatch):
    import importlib.util
    from pathlib import Path
    from types import SimpleNamespace

    monkeypatch.setenv("LOTS_WORKERS", "")  # restored afterwards (on_starting writes os.environ)
    spec = importlib.util.spec_from_file_location("gunicorn_conf", Path(__file__).parents[1] / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    conf.on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=3)))
    import os

    assert os.environ["LOTS_WORKERS"] == "3"


def test_production_with_all_secrets_has_secure_cookies(monkeypatch, tmp_path):
    _production(monkeypatch)
    monkeypatch.setenv("LOTS_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0")
    config = load_config(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is True
    # The cheap hashing and TOTP-secret encryption of the test configuration never reach production.
    assert "LOTS_TOTP_ENCRYPT_COST" not in config and "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS" not in config
    assert config["LOTS_MFA_REQUIRED_ROLES"] == (
        "coordinator", "partner", "process_leader", "reporter", "analyst", "admin", "auditor")


def test_development_generates_local_secrets_once(monkeypatch, tmp_path):
    _clear(monkeypatch)
    monkeypatch.setenv("LOTS_ENV", "development")
    first = load_config(tmp_path)
    second = load_config(tmp_path)
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) > 40
    assert oct((tmp_path / "dev-secrets.json").stat().st_mode)[-3:] == "600"


def test_unknown_environment_and_bad_numbers_are_refused(monkeypatch, tmp_path):
    _clear(monkeypatch)
    monkeypatch.setenv("LOTS_ENV", "staging")
    with pytest.raises(ConfigError, match="LOTS_ENV"):
        load_config(tmp_path)
    monkeypatch.setenv("LOTS_ENV", "development")
    monkeypatch.setenv("LOTS_SESSION_IDLE_MINUTES", "twenty")
    with pytest.raises(ConfigError, match="LOTS_SESSION_IDLE_MINUTES"):
        load_config(tmp_path)


def test_unknown_mfa_role_is_refused(monkeypatch, tmp_path):
    _clear(monkeypatch)
    monkeypatch.setenv("LOTS_ENV", "development")
    monkeypatch.setenv("LOTS_MFA_REQUIRED_ROLES", "coordinator,wizard")
    with pytest.raises(ConfigError, match="wizard"):
        load_config(tmp_path)


def test_demo_load_is_refused_in_production(app):
    from app.cli import demo_load

    runner = app.test_cli_runner()
    app.config["LOTS_ENV"] = "production"
    try:
        result = runner.invoke(demo_load)
    finally:
        app.config["LOTS_ENV"] = "test"
    assert result.exit_code != 0 and "refused" in result.output


def test_only_the_test_configuration_weakens_the_totp_secret_encryption(app, monkeypatch, tmp_path):
    from app.extensions import security

    assert app.config["LOTS_TOTP_ENCRYPT_COST"] == 1
    assert security.totp_factory._totp.wallet.encrypt_cost == 1
    _clear(monkeypatch)
    monkeypatch.setenv("LOTS_ENV", "development")
    assert "LOTS_TOTP_ENCRYPT_COST" not in load_config(tmp_path)  # passlib's default (2**14 rounds) applies
