"""Translations: complete English catalog, compiled catalogs in use, Swedish Flask-Security texts.

Our msgids are Swedish (the source language). The English catalog must translate every
one of them, so a new _()/_l() text without an English translation fails here:
run `make translations-update`, fill in app/translations/en/LC_MESSAGES/messages.po
and run `make translations`.

Flask-Security-Too ships no Swedish; app/translations/sv/LC_MESSAGES/flask_security.po
translates the texts our configuration shows (login, TOTP, recovery codes, change
password, reauthentication and their messages).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import PASSWORD, csrf_from, sign_in, totp_now

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
EN_MESSAGES = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
SV_MESSAGES = TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.po"
SV_SECURITY = TRANSLATIONS / "sv" / "LC_MESSAGES" / "flask_security.po"

#: Flask-Security messages (keys of SECURITY_MSG_*) a user of our configuration can see.
VISIBLE_SECURITY_MESSAGES = (
    "GENERIC_AUTHN_FAILED",
    "UNAUTHORIZED",
    "UNAUTHENTICATED",
    "REAUTHENTICATION_REQUIRED",
    "REAUTHENTICATION_SUCCESSFUL",
    "REFRESH",
    "DISABLED_ACCOUNT",
    "INVALID_CODE",
    "INVALID_PASSWORD",
    "INVALID_PASSWORD_CODE",
    "INVALID_REDIRECT",
    "INVALID_EMAIL_ADDRESS",
    "EMAIL_NOT_PROVIDED",
    "PASSWORD_NOT_PROVIDED",
    "PASSWORD_INVALID_LENGTH",
    "PASSWORD_TOO_SIMPLE",
    "PASSWORD_BREACHED",
    "PASSWORD_MISMATCH",
    "RETYPE_PASSWORD_MISMATCH",
    "PASSWORD_IS_THE_SAME",
    "PASSWORD_CHANGE",
    "ANONYMOUS_USER_REQUIRED",
    "TWO_FACTOR_INVALID_TOKEN",
    "TWO_FACTOR_LOGIN_SUCCESSFUL",
    "TWO_FACTOR_CHANGE_METHOD_SUCCESSFUL",
    "TWO_FACTOR_PERMISSION_DENIED",
    "TWO_FACTOR_METHOD_NOT_AVAILABLE",
    "TWO_FACTOR_DISABLED",
    "TWO_FACTOR_SETUP_EXPIRED",
    "NO_RECOVERY_CODES_SETUP",
    "INVALID_RECOVERY_CODE",
)


def _catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f, abort_invalid=True)


def _key(msgid) -> str:
    return msgid[0] if isinstance(msgid, (tuple, list)) else msgid


def _translated(message) -> bool:
    if isinstance(message.string, (tuple, list)):
        return all(message.string)
    return bool(message.string)


def _source_msgids() -> dict[str, str]:
    """What `make translations-update` would extract right now: msgid -> first location."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    keywords = dict(DEFAULT_KEYWORDS, _l=None, lazy_gettext=None)
    skip = {"node_modules", "instance", "__pycache__"}
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=keywords,
        directory_filter=lambda d: not (Path(d).name.startswith(".") or Path(d).name in skip),
    ):
        found.setdefault(_key(message), f"{filename}:{lineno}")
    return found


# ------------------------------------------------------------------- catalogs


def test_english_catalog_translates_every_message():
    catalog = _catalog(EN_MESSAGES)
    empty = [m.id for m in catalog if m.id and not _translated(m)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not empty, f"untranslated in {EN_MESSAGES.relative_to(ROOT)}: {empty}"
    assert not fuzzy, f"fuzzy (unchecked) in {EN_MESSAGES.relative_to(ROOT)}: {fuzzy}"


@pytest.mark.engine_independent
def test_every_text_in_the_source_is_in_both_catalogs():
    """A new _()/_l() text must be extracted and translated (make translations-update)."""
    source = _source_msgids()
    assert "Logga in" in source  # the extraction itself works
    for path in (EN_MESSAGES, SV_MESSAGES):
        known = {_key(m.id) for m in _catalog(path) if m.id}
        missing = {msgid: where for msgid, where in source.items() if msgid not in known}
        assert not missing, f"not in {path.relative_to(ROOT)} (run make translations-update): {missing}"


@pytest.mark.parametrize("path", [EN_MESSAGES, SV_MESSAGES, SV_SECURITY], ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_catalog_placeholders_are_intact_and_nothing_is_fuzzy(path):
    catalog = _catalog(path)
    problems = {m.id: [str(e) for e in m.check(catalog)] for m in catalog if m.id and _translated(m)}
    assert not {k: v for k, v in problems.items() if v}
    assert not [m.id for m in catalog if m.id and m.fuzzy and _translated(m)]


def test_swedish_catalog_keeps_the_swedish_msgids():
    """The source language is Swedish: a Swedish msgstr may only be empty or restate the msgid."""
    odd = [m.id for m in _catalog(SV_MESSAGES) if m.id and _translated(m) and m.string != m.id]
    assert not odd, f"sv/messages.po overrides Swedish source texts (change the msgid instead): {odd}"


@pytest.mark.parametrize("path", [EN_MESSAGES, SV_MESSAGES, SV_SECURITY], ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_compiled_catalog_is_up_to_date(path):
    mo_path = path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path.relative_to(ROOT)} is missing: run make translations"
    def norm(string):
        # Plural forms come back as a list from .po files and a tuple from .mo files.
        return tuple(string) if isinstance(string, (list, tuple)) else string

    def filled(string):
        return any(norm(string)) if isinstance(norm(string), tuple) else bool(string)

    with mo_path.open("rb") as f:
        # pybabel writes an untranslated plural entry as its own msgids: not a translation.
        compiled = {
            _key(m.id): norm(m.string)
            for m in read_mo(f)
            if m.id and filled(m.string) and not (isinstance(m.id, (list, tuple)) and norm(m.string) == norm(m.id))
        }
    expected = {
        _key(m.id): norm(m.string) for m in _catalog(path) if m.id and _translated(m) and not m.fuzzy and filled(m.string)
    }
    assert compiled == expected, f"{mo_path.relative_to(ROOT)} is stale: run make translations"


def test_swedish_security_catalog_covers_the_visible_messages(app):
    translated = {m.id: m.string for m in _catalog(SV_SECURITY) if m.id and _translated(m)}
    missing = []
    for key in VISIBLE_SECURITY_MESSAGES:
        text = app.config[f"SECURITY_MSG_{key}"][0]
        if text not in translated:
            missing.append(f"{key}: {text}")
    assert not missing, f"untranslated in {SV_SECURITY.relative_to(ROOT)}: {missing}"


# ------------------------------------------------------------------- in use


def _switch_language(client, lang: str):
    page = client.get("/login")
    resp = client.post("/language", data={"lang": lang, "csrf_token": csrf_from(page.text), "next": "/login"})
    assert resp.status_code == 302


def _password_step(client, user):
    page = client.get("/login")
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302, resp.text[:500]
    return resp.headers["Location"]


def test_login_page_is_swedish_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "Logga in" in page.text and "Log in" not in page.text


def test_english_catalog_is_used_after_switching_language(client):
    _switch_language(client, "en")
    page = client.get("/login")
    assert page.status_code == 200
    assert "Log in" in page.text
    assert "Logga in" not in page.text
    assert "Password" in page.text and "Lösenord" not in page.text


def test_switching_back_to_swedish(client):
    _switch_language(client, "en")
    _switch_language(client, "sv")
    page = client.get("/login")
    assert "Logga in" in page.text and "Log in" not in page.text


def test_totp_page_uses_the_swedish_security_catalog_by_default(client, factory):
    user = factory.user(mfa=True)
    location = _password_step(client, user)
    assert "/tf-validate" in location
    page = client.get(location)
    assert page.status_code == 200
    assert "Ange koden från din autentiseringsapp" in page.text
    assert "Kod (sex siffror)" in page.text
    assert "Two-Factor Authentication" not in page.text and "Enter the code" not in page.text
    assert "Please enter your authentication code" not in page.text

    wrong = "000000" if totp_now(user) != "000000" else "111111"
    resp = client.post(location, data={"code": wrong, "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 200
    assert "Ogiltig kod." in resp.text
    assert "Invalid code" not in resp.text


def test_totp_page_is_english_after_switching_language(client, factory):
    user = factory.user(mfa=True)
    _switch_language(client, "en")
    page = client.get(_password_step(client, user))
    assert "Enter the code from your authenticator app" in page.text
    assert "Ange koden" not in page.text


def test_authenticator_setup_and_qr_code_page_are_swedish(client, factory):
    user = factory.user(mfa=False)
    location = _password_step(client, user)
    assert "/tf-setup" in location
    page = client.get(location)
    assert page.status_code == 200
    assert "Ställ in tvåstegsverifiering" in page.text
    assert "Metod: autentiseringsapp" in page.text
    assert "Set up two-factor" not in page.text

    resp = client.post(location, data={"setup": "authenticator", "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 200
    assert "skanna QR-koden" in resp.text
    assert "Skriv koden som appen visar." in resp.text
    assert "scan the QR code" not in resp.text


def test_change_password_and_reauthentication_pages_are_swedish(client, factory):
    user = factory.user(mfa=True)
    sign_in(client, user)

    page = client.get("/change")
    assert page.status_code == 200
    assert "Nytt lösenord" in page.text and "New Password" not in page.text
    resp = client.post(
        "/change",
        data={
            "password": PASSWORD,
            "new_password": "kort",
            "new_password_confirm": "kort",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert resp.status_code == 200
    assert "Lösenordet måste vara minst 12 tecken." in resp.text
    assert "Password must be at least" not in resp.text

    page = client.get("/verify")
    assert page.status_code == 200
    assert "Bekräfta ditt lösenord" in page.text and "Confirm your password" not in page.text


def test_recovery_code_pages_are_swedish(client, factory):
    user = factory.user(mfa=True)
    sign_in(client, user)
    page = client.get("/mf-recovery-codes")
    assert page.status_code == 200
    assert "Reservkoder" in page.text and "Skapa mina reservkoder" in page.text
    assert "Recovery Codes" not in page.text
