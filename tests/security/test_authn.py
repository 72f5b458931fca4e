"""Login, two-factor, lockout, rate limits and session lifetimes."""

from datetime import timedelta


from app.db import utcnow
from tests.conftest import PASSWORD, csrf_from, login, totp_now

GENERIC = "Fel e-postadress eller lösenord"


def _post_login(client, email, password, **environ):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
        environ_base=environ,
    )


def _logged_in(client) -> bool:
    resp = client.get("/")
    return resp.status_code == 200


def test_password_is_hashed_with_argon2id(factory):
    user = factory.user()
    assert user.password.startswith("$argon2id$")


def test_wrong_password_and_unknown_email_get_the_same_generic_message(client, factory):
    user = factory.user()
    wrong = _post_login(client, user.email, "not the password at all")
    unknown = _post_login(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 200
    assert GENERIC in wrong.text and GENERIC in unknown.text
    assert "nobody@example.org" not in unknown.text.replace('value="nobody@example.org"', "")
    assert not _logged_in(client)


def test_invalid_email_address_gets_the_generic_message_and_no_500(client):
    resp = _post_login(client, "not-an-email", "whatever")
    assert resp.status_code == 200
    assert GENERIC in resp.text


def test_overlong_login_fields_are_refused_without_error(client):
    resp = _post_login(client, "a" * 5000 + "@example.org", "p" * 10000)
    assert resp.status_code in (200, 400)
    assert not _logged_in(client)


def test_password_alone_does_not_log_in_when_mfa_is_required(client, factory):
    user = factory.user()
    resp = _post_login(client, user.email, PASSWORD)
    assert resp.status_code == 302 and "/tf-validate" in resp.headers["Location"]
    assert not _logged_in(client)


def test_user_without_authenticator_must_enrol_before_getting_in(client, factory):
    user = factory.user(mfa=False)
    resp = _post_login(client, user.email, PASSWORD)
    assert resp.status_code == 302 and "/tf-setup" in resp.headers["Location"]
    assert not _logged_in(client)


def test_wrong_totp_code_is_refused(client, factory):
    user = factory.user()
    resp = login(client, user, code="000000" if totp_now(user) != "000000" else "111111")
    assert resp.status_code == 200
    assert not _logged_in(client)


def test_reused_totp_code_is_refused(client, factory, db):
    user = factory.user()
    code = totp_now(user)
    assert login(client, user, code=code).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    assert not _logged_in(client)
    resp = login(client, user, code=code)
    assert resp.status_code == 200, "a TOTP code must not work twice"
    assert not _logged_in(client)


def test_account_locks_after_repeated_failures_even_for_the_right_password(app, client, factory, db):
    user = factory.user()
    for _ in range(app.config["LOTS_LOGIN_MAX_FAILURES"]):
        _post_login(client, user.email, "wrong password 123")
    db.refresh(user)
    assert user.locked_until is not None
    resp = _post_login(client, user.email, PASSWORD)
    assert resp.status_code == 200 and GENERIC in resp.text
    assert not _logged_in(client)


def test_lock_expires(app, client, factory, db):
    user = factory.user()
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.flush()
    assert login(client, user).status_code == 302


def test_login_post_without_csrf_token_is_rejected_and_counts_nothing(client, factory, db):
    user = factory.user()
    resp = client.post("/login", data={"email": user.email, "password": "wrong"})
    assert resp.status_code == 400
    db.refresh(user)
    assert user.failed_login_count == 0


def test_login_is_rate_limited_per_ip(app, client, factory):
    user = factory.user()
    limit = int(app.config["LOTS_LOGIN_RATE_LIMIT"].split()[0])
    responses = [_post_login(client, user.email, "wrong") for _ in range(limit + 1)]
    assert [r.status_code for r in responses[:limit]] == [200] * limit
    assert responses[-1].status_code == 429
    assert "För många försök" in responses[-1].text


def test_login_is_rate_limited_per_account_across_ips(app, client, factory):
    user = factory.user()
    limit = int(app.config["LOTS_LOGIN_RATE_LIMIT"].split()[0])
    codes = [
        _post_login(client, user.email, "wrong", REMOTE_ADDR=f"10.0.{i // 250}.{i % 250 + 1}").status_code
        for i in range(limit + 1)
    ]
    assert codes[-1] == 429


def test_logout_ends_every_session_of_the_user(app, factory):
    user = factory.user()
    first, second = app.test_client(), app.test_client()
    assert login(first, user, code=totp_now(user)).status_code == 302
    assert login(second, user, code=totp_now(user, 1)).status_code == 302
    assert _logged_in(first) and _logged_in(second)
    first.post("/logout", data={"csrf_token": csrf_from(first.get("/").text)})
    assert not _logged_in(first)
    assert not _logged_in(second)


def test_logout_requires_post(client, login_as):
    login_as("coordinator")
    assert client.get("/logout").status_code == 405
    assert _logged_in(client)


def test_password_change_ends_other_sessions(app, factory):
    user = factory.user()
    first, second = app.test_client(), app.test_client()
    assert login(first, user, code=totp_now(user)).status_code == 302
    assert login(second, user, code=totp_now(user, 1)).status_code == 302
    page = first.get("/change")
    resp = first.post(
        "/change",
        data={
            "password": PASSWORD,
            "new_password": "a new long passphrase 42",
            "new_password_confirm": "a new long passphrase 42",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert resp.status_code == 302, resp.text[:300]
    assert not _logged_in(second)


def test_too_short_new_password_is_refused_with_a_message(client, login_as, db):
    user = login_as("coordinator")
    before = user.password
    page = client.get("/change")
    resp = client.post(
        "/change",
        data={"password": PASSWORD, "new_password": "short", "new_password_confirm": "short",
              "csrf_token": csrf_from(page.text)},
    )
    assert resp.status_code in (200, 400)
    assert 'class="errors"' in resp.text
    db.refresh(user)
    assert user.password == before


def test_idle_session_expires(app, client, login_as):
    login_as("coordinator")
    with client.session_transaction() as sess:
        sess["lots_seen_at"] -= app.config["LOTS_SESSION_IDLE"].total_seconds() + 5
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert not _logged_in(client)


def test_absolute_session_lifetime_expires_even_when_active(app, client, login_as):
    login_as("coordinator")
    with client.session_transaction() as sess:
        sess["lots_login_at"] -= app.config["LOTS_SESSION_MAX"].total_seconds() + 5
    resp = client.get("/")
    assert resp.status_code == 302
    assert not _logged_in(client)


def test_deactivated_user_loses_session_immediately(app, client, login_as, db):
    from app.admin.service import deactivate_user

    user = login_as("coordinator")
    with app.app_context():
        deactivate_user(user)
    assert not _logged_in(client)


def test_fresh_login_required_redirects_to_reauthentication_when_stale(app, factory):
    import time

    from flask_login import login_user
    from flask_security.utils import set_request_attr

    from app.security.authn import fresh_login_required

    user = factory.user()
    view = fresh_login_required(lambda: "revealed")
    with app.test_request_context("/sensitive"):
        login_user(user)
        set_request_attr("fs_paa", time.time() - 3600)
        stale = view()
        assert stale.status_code == 302 and "/verify" in stale.headers["Location"]
    with app.test_request_context("/sensitive"):
        login_user(user)
        set_request_attr("fs_paa", time.time())
        assert view() == "revealed"


def test_session_cookie_is_httponly_and_samesite_strict(client, factory):
    user = factory.user()
    resp = login(client, user)
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("lots_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_failed_login_count_resets_after_success(client, factory, db):
    user = factory.user()
    _post_login(client, user.email, "wrong")
    db.refresh(user)
    assert user.failed_login_count == 1
    assert login(client, user).status_code == 302
    db.refresh(user)
    assert user.failed_login_count == 0




def test_two_factor_rescue_offers_recovery_codes_only_and_never_fails(client, factory, db):
    user = factory.user()
    user.mf_recovery_codes = ["abcd-efgh-ijkl"]
    db.flush()
    page = client.get("/login")
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    page = client.get("/tf-validate")
    # "Lost your authenticator?" leads straight to logging in with a recovery code.
    assert 'href="/mf-recovery"' in page.text and "Har du tappat bort din autentiseringsapp?" in page.text
    assert 'value="help"' not in page.text
    token = csrf_from(page.text)
    forged = client.post("/tf-rescue", data={"help_setup": "help", "csrf_token": token})
    assert forged.status_code < 500
    recovery = client.post("/tf-rescue", data={"help_setup": "recovery_code", "csrf_token": token})
    assert recovery.status_code == 302 and "/mf-recovery" in recovery.headers["Location"]


def test_a_lockout_at_re_authentication_ends_the_sessions_already_open(app, db, factory):
    """Pentest finding 7: wrong passwords at /verify locked the account but left its open sessions working."""
    from tests.conftest import sign_in

    user = factory.user()
    guesser, other = app.test_client(), app.test_client()
    sign_in(guesser, user)
    sign_in(other, user)
    assert _logged_in(guesser) and _logged_in(other)
    for _ in range(app.config["LOTS_LOGIN_MAX_FAILURES"]):
        page = guesser.get("/verify")
        if page.status_code != 200:
            break
        guesser.post("/verify", data={"password": "not the password", "csrf_token": csrf_from(page.text)})
    db.refresh(user)
    assert user.locked_until is not None, "the account is locked"
    assert not _logged_in(other), "the other open session ended"
    assert not _logged_in(guesser)


def test_a_recovery_code_logs_in_once(client, factory, db):
    from flask_security import hash_password  # noqa: F401 - the factory's password is PASSWORD

    user = factory.user()
    page = client.get("/login")
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    with client.application.app_context():
        from app.extensions import security

        codes = security.mf_recovery_codes_util.create_recovery_codes(user)
    db.flush()
    page = client.get("/mf-recovery")
    assert page.status_code == 200 and "reservkod" in page.text.lower()
    resp = client.post("/mf-recovery", data={"code": codes[0], "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302
    assert _logged_in(client)


def test_the_security_pages_say_what_is_confirmed_and_show_an_oathtool_key(app, client, factory, db):
    from tests.conftest import sign_in

    user = factory.user()
    sign_in(client, user)
    with client.session_transaction() as sess:
        sess["fs_paa"] -= 3600
    page = client.get("/verify", query_string={"next": "/cases/AV-2026-001/plan.pdf"})
    assert "exportera genomförandeplanen som PDF" in page.text
    assert 'autocomplete="current-password"' in page.text
    fresh = factory.user(mfa=False)
    other = app.test_client()
    login_page = other.get("/login")
    other.post("/login", data={"email": fresh.email, "password": PASSWORD, "csrf_token": csrf_from(login_page.text)})
    setup = other.get("/tf-setup")
    assert 'type="hidden" name="setup" value="authenticator"' in setup.text  # the only method, chosen
    chosen = other.post("/tf-setup", data={"setup": "authenticator", "csrf_token": csrf_from(setup.text)})
    import re

    key = re.search(r'<code id="totp-key">([A-Z2-7]+)</code>', chosen.text).group(1)
    assert f"oathtool --totp -b {key}" in chosen.text and len(key) >= 16


def test_a_download_after_re_authentication_lands_back_on_the_page_with_a_link_to_the_file(client, factory, db):
    from tests.conftest import sign_in

    coordinator = factory.user(roles=("coordinator",), kind="social_services")
    case = factory.case(coordinator)
    sign_in(client, coordinator)
    with client.session_transaction() as sess:
        sess["fs_paa"] -= 3600
    plan_url = f"/cases/{case.code}/plan"
    to_verify = client.get(plan_url + ".pdf", headers={"Referer": "http://localhost" + plan_url})
    assert to_verify.status_code == 302 and "/verify" in to_verify.headers["Location"]
    verify = client.get(to_verify.headers["Location"])
    assert "exportera genomförandeplanen som PDF" in verify.text
    done = client.post(to_verify.headers["Location"], data={"password": PASSWORD,
                                                             "csrf_token": csrf_from(verify.text)})
    assert done.status_code == 302
    back = done.headers["Location"]
    assert back.split("?")[0].endswith(plan_url), back  # back where the user was, not on the password page
    page = client.get(back)
    assert "Lösenordet är bekräftat." in page.text and f'href="{plan_url}.pdf"' in page.text
    assert 'name="password"' not in page.text
    assert client.get(plan_url + ".pdf").headers["Content-Type"] == "application/pdf"


def test_the_download_banner_links_only_to_local_paths(client, factory):
    from tests.conftest import sign_in

    sign_in(client, factory.user())
    for bad in ("https://evil.example/x.pdf", "//evil.example/x.pdf", "/\\\\evil"):
        assert "Hämta filen" not in client.get("/", query_string={"download": bad}).text, bad


def test_the_language_belongs_to_the_user_and_survives_logout(app, client, factory, db):
    from tests.conftest import login

    user = factory.user()
    assert login(client, user).status_code == 302
    token = csrf_from(client.get("/").text)
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    db.refresh(user)
    assert user.language == "en"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    assert '<html lang="en">' in client.get("/login").text, "this browser keeps the choice after logout"
    elsewhere = app.test_client()  # another browser, no cookie: the user's own choice applies after login
    assert login(elsewhere, user, code=totp_now(user, 1)).status_code == 302
    assert '<html lang="en">' in elsewhere.get("/").text


def test_enrolling_the_authenticator_leads_to_the_recovery_codes(app, factory):
    import re

    import pyotp

    fresh = factory.user(mfa=False)
    client = app.test_client()
    page = client.get("/login")
    client.post("/login", data={"email": fresh.email, "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    setup = client.get("/tf-setup")
    chosen = client.post("/tf-setup", data={"setup": "authenticator", "csrf_token": csrf_from(setup.text)})
    key = re.search(r'<code id="totp-key">([A-Z2-7]+)</code>', chosen.text).group(1)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', chosen.text.split(
        'name="two_factor_verify_code_form"')[1]).group(1)
    done = client.post("/tf-validate", data={"code": pyotp.TOTP(key).now(), "csrf_token": token})
    assert done.status_code == 302
    start = client.get(done.headers["Location"])
    assert start.status_code == 302 and start.headers["Location"].endswith("/mf-recovery-codes")
    codes_page = client.get("/mf-recovery-codes")
    made = client.post("/mf-recovery-codes", data={"generate_new_codes": "y", "csrf_token": csrf_from(codes_page.text)})
    assert made.status_code == 200 and "Jag har sparat reservkoderna" in made.text
    assert len(re.findall(r"<li><code>[^<]+</code></li>", made.text)) >= 5
    assert client.get("/").status_code == 200  # asked once: the start page opens afterwards


def test_a_password_with_swedish_letters_logs_in(app, client, factory, db):
    """Found walking the browser: an account created with å, ä or ö in its password could never log in
    (Flask-Security normalises the typed password to NFKD; the stored hash was of the raw text)."""
    from app.admin import service as admin_service

    password = "Blåbärssylt på smörgåsen 7"
    with app.app_context():
        user = admin_service.create_user(f"svensk-{factory.agency().id}@example.org", "Åsa Öberg",
                                         factory.agency(), ["coordinator"], password)
    page = client.get("/login")
    resp = client.post("/login", data={"email": user.email, "password": password,
                                       "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302 and "tf-setup" in resp.headers["Location"], resp.status_code
