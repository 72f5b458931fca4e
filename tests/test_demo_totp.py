"""A demo that needs no phone: in development `demo load` sets up TOTP for the demo users and prints each key,
and `demo code EMAIL` prints the current code; production and test refuse both (issue: the case as users use it)."""

import re

import pyotp
import pytest
from sqlalchemy import select

from app.security.models import User


@pytest.fixture()
def development(app, monkeypatch):
    import functools

    import app.demo as demo

    monkeypatch.setitem(app.config, "LOTS_ENV", "development")
    # The users are what matters here; the two years of incident reports are the demo tests' (and slow).
    monkeypatch.setattr(demo, "load_demo", functools.partial(demo.load_demo, incidents=False))
    return app


def test_demo_load_in_development_enrols_totp_and_prints_keys_that_oathtool_accepts(development, db):
    runner = development.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    keys = dict(re.findall(r"^\s+(\S+@norrvik\.example\.org)\s+.*?\s([A-Z2-7]{16,})$", result.output, re.M))
    assert "samordnare@norrvik.example.org" in keys and len(keys) >= 8
    user = db.scalar(select(User).where(User.email == "samordnare@norrvik.example.org"))
    assert user.tf_primary_method == "authenticator" and user.tf_totp_secret
    code = runner.invoke(args=["demo", "code", "samordnare@norrvik.example.org"])
    assert code.exit_code == 0
    import time

    totp = pyotp.TOTP(keys["samordnare@norrvik.example.org"])
    assert code.output.strip() in {totp.at(time.time() + 30 * step) for step in (-1, 0, 1)}
    # Loading again keeps the keys: the evaluator's authenticator keeps working.
    again = runner.invoke(args=["demo", "load"])
    assert keys["samordnare@norrvik.example.org"] in again.output


@pytest.mark.parametrize("env", ["production", "test"])
def test_demo_code_is_refused_outside_development(app, db, monkeypatch, env):
    monkeypatch.setitem(app.config, "LOTS_ENV", env)
    result = app.test_cli_runner().invoke(args=["demo", "code", "samordnare@norrvik.example.org"])
    assert result.exit_code != 0 and "development" in result.output


def test_demo_load_is_refused_in_production(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOTS_ENV", "production")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "production" in result.output


def test_demo_code_only_for_demo_users(development, db, factory):
    other = factory.user()
    result = development.test_cli_runner().invoke(args=["demo", "code", other.email])
    assert result.exit_code != 0
