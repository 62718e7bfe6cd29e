"""Signing in with Perkville (PKCE) and out again, including every way the callback can fail."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.web.sealing import Sealer

from .forms import parse_form
from .helpers import APP_URL, FakeClock, SignIn, path_of, session_of, visible_text


def member_tokens(sandbox: Starlette) -> list[str]:
    return [t.token for t in sandbox.state.store.tokens.values() if t.user_id == 1001]


def test_landing_page_invites_the_member_to_sign_in(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "Sign in with Perkville" in text
    assert "never see your Perkville password" in text


def test_sign_in_starts_pkce_s256_with_the_configured_redirect_uri(
    sign_in: SignIn, settings: Settings
) -> None:
    query = parse_qs(urlsplit(sign_in.start()).query)
    assert query["client_id"] == ["member-app-demo"]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == [settings.redirect_uri]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["scope"] == ["PUBLIC USER_CUSTOMER_INFO USER_REDEEM USER_REFERRAL"]
    assert len(query["state"][0]) >= 20
    assert "client_secret" not in query
    # Perkville's pages in the member's language, if it speaks it (OpenID Connect).
    assert query["ui_locales"] == ["en"]


def test_member_signs_in_and_sees_their_points(sign_in: SignIn, client: TestClient) -> None:
    assert sign_in().headers["location"] == "/"
    text = visible_text(client.get("/").text)
    assert "Hi, Maya" in text
    assert "1,250 points" in text


def test_cookie_never_reveals_a_working_token(
    sign_in: SignIn, client: TestClient, settings: Settings, sandbox: Starlette
) -> None:
    sign_in()
    (token,) = member_tokens(sandbox)
    raw_cookie = client.cookies.get(settings.session_cookie) or ""
    session = session_of(client, settings)
    assert token not in raw_cookie
    assert token not in json.dumps(session)
    # It is there, sealed: only the app's key opens it.
    assert Sealer(settings.secret_key).open(session["tok"]) == token
    assert Sealer("another-secret-" + "x" * 40).open(session["tok"]) is None


def test_sign_in_rotates_the_session(
    sign_in: SignIn, client: TestClient, settings: Settings
) -> None:
    sign_in()
    first = session_of(client, settings)
    sign_in()
    second = session_of(client, settings)
    assert first["sid"] != second["sid"]
    assert first["csrf"] != second["csrf"]
    # Nothing from the sign-in in flight (Authlib's state) survives into the session.
    assert not [key for key in second if key.startswith("_state_")]


def test_cookie_stays_well_under_4kb_even_mid_sign_in(
    sign_in: SignIn, client: TestClient, settings: Settings
) -> None:
    sign_in()
    signed_in = len(client.cookies.get(settings.session_cookie) or "")
    sign_in.start()  # a second sign-in in flight on top of a full session
    mid_flight = len(client.cookies.get(settings.session_cookie) or "")
    assert signed_in < 1000
    assert mid_flight < 2500


def test_deny_leads_to_a_friendly_page_with_try_again(sign_in: SignIn) -> None:
    response = sign_in.finish(sign_in.at_perkville(sign_in.start(), decision="deny"))
    assert response.status_code == 400
    text = visible_text(response.text)
    assert "You didn't allow access" in text
    assert "Try again" in text
    assert 'href="/signin"' in response.text


def test_sign_in_from_a_second_tab_does_not_dead_end_the_first(
    sign_in: SignIn, client: TestClient
) -> None:
    first_tab = sign_in.start()
    second_tab = sign_in.start()  # replaces the first tab's pending state
    callback = sign_in.at_perkville(first_tab)
    response = sign_in.finish(callback)
    # The first tab's state is gone: the app restarts sign-in once instead of failing...
    assert response.status_code == 303
    assert response.headers["location"].endswith("/signin")
    restart = sign_in.start(path_of(response.headers["location"]))
    # ...and Perkville remembers the consent, so it comes straight back with a code.
    finished = sign_in.finish(sign_in.at_perkville(restart))
    assert finished.status_code == 303
    assert "1,250 points" in visible_text(client.get("/").text)
    assert second_tab  # the second tab's flow was started too


def test_unknown_state_twice_in_a_row_shows_the_expired_page(client: TestClient) -> None:
    first = client.get("/auth/callback?code=abc&state=nope")
    assert first.status_code == 303
    second = client.get("/auth/callback?code=abc&state=nope-again")
    assert second.status_code == 400
    assert "Your sign-in expired" in visible_text(second.text)


def test_replayed_code_is_refused_and_revokes_the_first_token(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    callback = sign_in.at_perkville(sign_in.start())
    sign_in.finish(callback)
    assert len(member_tokens(sandbox)) == 1
    # An attacker replays the same code under a fresh sign-in's state.
    fresh_state = parse_qs(urlsplit(sign_in.start()).query)["state"][0]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    response = client.get(f"/auth/callback?code={code}&state={fresh_state}")
    assert response.status_code == 400
    assert "We couldn't sign you in" in visible_text(response.text)
    assert member_tokens(sandbox) == []


def test_expired_code_is_refused(sign_in: SignIn, sandbox: Starlette) -> None:
    callback = sign_in.at_perkville(sign_in.start())
    store = sandbox.state.store
    later = store.now() + timedelta(minutes=5, seconds=1)
    store.clock = lambda: later
    response = sign_in.finish(callback)
    assert response.status_code == 400
    assert "We couldn't sign you in" in visible_text(response.text)


def test_error_description_is_never_reflected(client: TestClient, sign_in: SignIn) -> None:
    state = parse_qs(urlsplit(sign_in.start()).query)["state"][0]
    response = client.get(
        f"/auth/callback?error=server_error&error_description=%3Cscript%3Ealert(1)%3C/script%3E"
        f"&state={state}"
    )
    assert response.status_code == 400
    assert "<script>" not in response.text
    assert "alert(1)" not in response.text


def test_perkville_unreachable_at_the_token_step(sandbox: Starlette, clock: FakeClock) -> None:
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens there
    settings = Settings(
        secret_key="k" * 40,
        client_id="member-app-demo",
        business_id=4,
        public_url=APP_URL,
        api_url=dead,
        signin_url=dead,
        upstream_timeout_seconds=2,
    )
    with TestClient(create_app(settings, clock=clock), follow_redirects=False) as client:
        location = client.get("/signin").headers["location"]
        state = parse_qs(urlsplit(location).query)["state"][0]
        response = client.get(f"/auth/callback?code=whatever&state={state}")
    assert response.status_code == 502
    assert "Perkville isn't answering" in visible_text(response.text)
    assert 'href="/signin"' in response.text


def test_sign_out_needs_the_form_token_and_clears_the_session(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    home = client.get("/")
    refused = client.post("/signout", data={"csrf": "forged"})
    assert refused.status_code == 403
    assert "1,250 points" in visible_text(client.get("/").text)

    csrf = parse_form(home.text).fields["csrf"]
    response = client.post("/signout", data={"csrf": csrf})
    assert response.status_code == 303
    landing = client.get(response.headers["location"])
    assert "You're signed out" in visible_text(landing.text)
    assert "1,250" not in client.get("/").text


def test_sign_out_is_never_a_get(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    assert client.get("/signout").status_code == 405
    assert "1,250 points" in visible_text(client.get("/").text)


@pytest.mark.parametrize(
    "next_param",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_return_address_after_sign_in_stays_on_this_site(sign_in: SignIn, next_param: str) -> None:
    authorize = sign_in.start(f"/signin?next={next_param}")
    response = sign_in.finish(sign_in.at_perkville(authorize))
    assert response.headers["location"] == "/"


def test_sign_in_returns_to_the_page_the_member_asked_for(sign_in: SignIn) -> None:
    response = sign_in.finish(sign_in.at_perkville(sign_in.start("/signin?next=/?from=test")))
    assert response.headers["location"] == "/?from=test"


def test_sign_in_started_on_another_host_name_moves_to_the_public_url(app: Starlette) -> None:
    with TestClient(app, base_url="http://localhost", follow_redirects=False) as other:
        response = other.get("/signin?next=/")
    assert response.status_code == 307
    assert response.headers["location"] == f"{APP_URL}/signin?next=/"
