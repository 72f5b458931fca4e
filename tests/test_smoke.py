from tests.conftest import login


def test_login_with_password_and_totp_reaches_start_page(client, factory):
    user = factory.user(roles=("coordinator",))
    resp = login(client, user)
    assert resp.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "Välkommen" in page.text
