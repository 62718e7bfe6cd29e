"""The Identify User Flow in the app (identify.py), identified read-only sessions, and the
step-up to the PKCE sign-in that finishes the action the member started (stepup.py)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings
from member_app.settings import SettingsError

from .conftest import APP_URL, SANDBOX_URL, FakeClock, SignIn, parse_form, path_of, visible_text
from .sandbox_helpers import MEMBER_EMAIL, MEMBER_PASSWORD, sign_in

MAYA = 1001
PENDING_EMAIL = "pending@example.com"
NOT_RECOGNISED = "We couldn't recognise you automatically"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, signin_flow="identify")


def balance(sandbox: Starlette) -> int:
    store = sandbox.state.store
    return int(next(c for c in store.connections.values() if c.user_id == MAYA).point_balance)


def signed_in_at_perkville(sandbox_client: TestClient, email: str = MEMBER_EMAIL) -> None:
    response = sign_in(sandbox_client, "/login/?next=/", email, MEMBER_PASSWORD)
    assert response.status_code == 303, response.text


def identify_link(client: TestClient, path: str = "/signin/identify") -> str:
    """The app asks Perkville for an identify token and sends the browser to the business."""
    response = client.get(path)
    assert response.status_code == 302, response.text
    location = str(response.headers["location"])
    assert re.fullmatch(rf"{SANDBOX_URL}/biz/4/identify\?token=[A-Za-z0-9]+", location)
    return location


def at_perkville(sandbox_client: TestClient, link: str) -> str:
    """The sandbox recognises its signed-in member; returns the app callback URL."""
    response = sandbox_client.get(path_of(link))
    assert response.status_code == 302, response.text
    callback = str(response.headers["location"])
    assert callback.startswith(f"{APP_URL}/auth/identify/callback?code=")
    return callback


def identify(client: TestClient, sandbox_client: TestClient, email: str = MEMBER_EMAIL) -> None:
    signed_in_at_perkville(sandbox_client, email)
    response = client.get(path_of(at_perkville(sandbox_client, identify_link(client))))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"


def test_identify_needs_an_admin_token() -> None:
    with pytest.raises(SettingsError, match="MEMBER_APP_SIGNIN_FLOW=identify needs"):
        Settings(secret_key="s" * 40, client_id="c", business_id=4, signin_flow="identify")
    with pytest.raises(SettingsError, match="must be pkce or identify"):
        Settings(secret_key="s" * 40, client_id="c", business_id=4, signin_flow="magic")
    with pytest.raises(SettingsError, match="not for MEMBER_APP_MODE=kiosk"):
        Settings(
            secret_key="s" * 40,
            client_id="c",
            business_id=4,
            admin_token="t",
            mode="kiosk",
            signin_flow="identify",
        )
    env = {
        "MEMBER_APP_SECRET_KEY": "s" * 40,
        "PERKVILLE_CLIENT_ID": "c",
        "PERKVILLE_BUSINESS_ID": "4",
        "PERKVILLE_ADMIN_TOKEN": "t",
        "MEMBER_APP_SIGNIN_FLOW": "identify",
    }
    assert Settings.from_env(env).signin_flow == "identify"


def test_landing_sign_in_starts_with_identify(client: TestClient) -> None:
    response = client.get("/signin?next=/history")
    assert response.status_code == 307
    assert response.headers["location"] == "/signin/identify?next=/history"
    # `?pkce=1` is the way to the ordinary sign-in.
    pkce = client.get("/signin?pkce=1")
    assert pkce.headers["location"].startswith(f"{SANDBOX_URL}/api/authorize/")


def test_member_signed_in_at_perkville_sees_balance_with_no_prompt(
    client: TestClient, sandbox_client: TestClient
) -> None:
    identify(client, sandbox_client)
    text = visible_text(client.get("/").text)
    assert "1,250" in text
    assert "Maya" in text
    history = client.get("/history")
    assert history.status_code == 200
    assert "Early bird" in visible_text(history.text) or "Gym check-in" in visible_text(
        history.text
    )
    vouchers = client.get("/vouchers")
    assert vouchers.status_code == 200
    assert "/vouchers/52005" in vouchers.text
    assert "52006" not in vouchers.text
    for page in ("/rewards", "/earn", "/challenges", "/referrals", "/more"):
        assert client.get(page).status_code == 200, page
    # The session holds no token: the admin token is never in the member's cookie either.
    assert client.get("/vouchers/52005").status_code == 200


def test_replayed_callback_is_a_friendly_page(
    client: TestClient, sandbox_client: TestClient
) -> None:
    signed_in_at_perkville(sandbox_client)
    callback = at_perkville(sandbox_client, identify_link(client))
    assert client.get(path_of(callback)).status_code == 303
    client.cookies.clear()
    replay = client.get(path_of(callback))
    assert replay.status_code == 400
    text = visible_text(replay.text)
    assert NOT_RECOGNISED in text
    assert "Sign in with Perkville" in text
    assert 'href="/signin?pkce=1"' in replay.text
    # Still signed out.
    assert client.get("/rewards").status_code == 303


def test_replayed_state_in_the_same_session_is_refused(
    client: TestClient, sandbox_client: TestClient
) -> None:
    signed_in_at_perkville(sandbox_client)
    callback = at_perkville(sandbox_client, identify_link(client))
    identify_link(client)  # a newer state replaces this one
    assert NOT_RECOGNISED in visible_text(client.get(path_of(callback)).text)


def test_expired_identify_token_never_identifies(
    client: TestClient, sandbox_client: TestClient, clock: FakeClock
) -> None:
    signed_in_at_perkville(sandbox_client)
    link = identify_link(client)
    clock.advance(31 * 60)
    response = sandbox_client.get(path_of(link))
    assert response.status_code == 303
    assert response.headers["location"] == "/biz/4/?identify_error=1"
    page = sandbox_client.get(response.headers["location"])
    assert "We couldn't confirm who you are" in visible_text(page.text)
    assert client.get("/history").status_code == 303


def test_expired_code_is_a_friendly_page(
    client: TestClient, sandbox_client: TestClient, clock: FakeClock
) -> None:
    signed_in_at_perkville(sandbox_client)
    callback = at_perkville(sandbox_client, identify_link(client))
    clock.advance(31)
    response = client.get(path_of(callback))
    assert response.status_code == 400
    assert NOT_RECOGNISED in visible_text(response.text)
    assert client.get("/history").status_code == 303


def test_identified_member_cannot_see_anyone_elses_voucher(
    client: TestClient, sandbox_client: TestClient
) -> None:
    identify(client, sandbox_client)
    assert client.get("/vouchers/52006").status_code == 404  # Alex's, at Harbor Yoga
    assert client.get("/vouchers/52006/code.svg").status_code == 404


def test_identified_member_cannot_see_a_fellow_members_voucher(
    client: TestClient, sandbox_client: TestClient
) -> None:
    """The staff token could read Maya's voucher; the app must not show it to another member."""
    identify(client, sandbox_client, PENDING_EMAIL)
    assert client.get("/vouchers/52005").status_code == 404
    assert "52005" not in client.get("/vouchers").text


def test_redeem_steps_up_to_pkce_and_completes_the_same_redemption_once(
    client: TestClient, sandbox_client: TestClient, sandbox: Starlette, sign_in: SignIn
) -> None:
    identify(client, sandbox_client)
    before = balance(sandbox)
    link = "/rewards/201/redeem"
    form = parse_form(client.get(link).text)
    assert form.fields["attempt"]
    step_up = client.post(link, data=form.fields)
    assert step_up.status_code == 303
    assert step_up.headers["location"] == "/signin?pkce=1&next=%2Fresume"
    assert balance(sandbox) == before  # nothing spent yet

    callback = sign_in.at_perkville(sign_in.start(step_up.headers["location"]))
    landed = sign_in.finish(callback)
    assert landed.status_code == 303
    assert landed.headers["location"] == "/resume"
    done = client.get("/resume")
    assert done.status_code == 303
    assert re.fullmatch(r"/vouchers/\d+\?redeemed=1", done.headers["location"])
    cost = before - balance(sandbox)
    assert cost == 150
    voucher = client.get(done.headers["location"])
    assert "Redeemed! Here is your voucher." in visible_text(voucher.text)
    # Single use: /resume again does nothing; replaying the old form is the same voucher.
    assert client.get("/resume").headers["location"] == "/"
    form_again = {**form.fields, "csrf": parse_form(client.get(link).text).fields["csrf"]}
    again = client.post(link, data=form_again)
    assert again.headers["location"].split("?")[0] == done.headers["location"].split("?")[0]
    assert balance(sandbox) == before - cost


def test_referral_input_is_kept_across_the_step_up(
    client: TestClient, sandbox_client: TestClient, sandbox: Starlette, sign_in: SignIn
) -> None:
    identify(client, sandbox_client)
    csrf = parse_form(client.get("/referrals").text).fields["csrf"]
    fields = {"email": "robin@example.net", "first_name": "Robin", "note": "Spin with me!"}
    step_up = client.post("/referrals", data={"csrf": csrf, **fields})
    assert step_up.headers["location"] == "/signin?pkce=1&next=%2Fresume"
    sign_in.finish(sign_in.at_perkville(sign_in.start(step_up.headers["location"])))
    done = client.get("/resume")
    assert done.status_code == 303
    created = next(
        r for r in sandbox.state.store.referrals.values() if r.to_email == "robin@example.net"
    )
    assert (created.to_first_name, created.referral_content) == ("Robin", "Spin with me!")


def test_forged_or_oversized_actions_are_not_kept(
    client: TestClient, sandbox_client: TestClient
) -> None:
    identify(client, sandbox_client)
    csrf = parse_form(client.get("/referrals").text).fields["csrf"]
    big = client.post("/referrals", data={"csrf": csrf, "note": "x" * 3000})
    assert big.headers["location"] == "/signin?pkce=1&next=%2Freferrals"
    forged = client.post("/referrals", data={"email": "a@example.net"})
    assert forged.status_code == 403  # no CSRF token: refused before any step-up


def test_step_up_redirect_is_allowed_by_the_csp(client: TestClient) -> None:
    """Chromium applies form-action to a form's redirects: the step-up goes to Perkville."""
    csp = client.get("/more").headers["content-security-policy"]
    assert f"form-action 'self' {SANDBOX_URL};" in csp
