"""Attacks on the sign-in: a tampered state, a replayed code, a swapped PKCE verifier and a
callback carrying an error. The member is never signed in, and sees a friendly page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from ..helpers import MAYA, SignIn, path_of, visible_text

FRIENDLY = ("Your sign-in expired", "We couldn't sign you in", "You didn't allow access")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def callback_with(**params: str) -> str:
    return f"/auth/callback?{urlencode(params)}"


def assert_signed_out(client: TestClient) -> None:
    page = visible_text(client.get("/").text)
    assert "Sign in with Perkville" in page
    assert "1,250" not in page
    assert client.get("/vouchers").status_code == 303  # sent to sign in


def assert_friendly(html: str) -> None:
    text = visible_text(html)
    assert any(title in text for title in FRIENDLY), text
    assert "Try again" in text
    for trace in ("Traceback", "authlib", "Exception", 'File "'):
        assert trace not in html


def maya_tokens(sandbox: Starlette) -> int:
    return sum(1 for t in sandbox.state.store.tokens.values() if t.user_id == MAYA)


def test_tampered_state_never_signs_in(sign_in: SignIn, client: TestClient) -> None:
    callback = query_of(sign_in.at_perkville(sign_in.start()))
    tampered = callback_with(code=callback["code"], state=callback["state"][:-2] + "xx")
    first = client.get(tampered)
    # Treated like a stale tab: one restart of the sign-in, never a session.
    assert first.status_code == 303
    assert urlsplit(first.headers["location"]).path == "/signin"
    again = client.get(tampered)
    assert again.status_code == 400
    assert_friendly(again.text)
    assert_signed_out(client)


def test_callback_without_any_state_never_signs_in(sign_in: SignIn, client: TestClient) -> None:
    code = query_of(sign_in.at_perkville(sign_in.start()))["code"]
    client.get(callback_with(code=code))
    response = client.get(callback_with(code=code))
    assert response.status_code == 400
    assert_friendly(response.text)
    assert_signed_out(client)


def test_code_replayed_in_another_browser_is_refused(
    sign_in: SignIn, client: TestClient, other_browser: SignIn, sandbox: Starlette
) -> None:
    callback = sign_in.at_perkville(sign_in.start())
    assert sign_in.finish(callback).status_code == 303  # the member's own sign-in
    # An attacker who saw the callback URL replays the code under their own sign-in's state.
    attackers_state = query_of(other_browser.start())["state"]
    stolen = callback_with(code=query_of(callback)["code"], state=attackers_state)
    response = other_browser.client.get(stolen)
    assert response.status_code == 400
    assert_friendly(response.text)
    assert_signed_out(other_browser.client)
    # Perkville treats a replayed code as theft: the member's token is revoked too.
    assert maya_tokens(sandbox) == 0


def test_replaying_the_same_callback_in_the_same_browser_does_not_sign_in_again(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    callback = sign_in.at_perkville(sign_in.start())
    sign_in.finish(callback)
    csrf = client.get("/").text.split('name="csrf" value="')[1].split('"')[0]
    client.post("/signout", data={"csrf": csrf})
    assert_signed_out(client)
    first = sign_in.finish(callback)  # the state was used up: a restart at most
    assert first.status_code == 303
    assert urlsplit(first.headers["location"]).path == "/signin"
    second = sign_in.finish(callback)
    assert second.status_code == 400
    assert_friendly(second.text)
    assert_signed_out(client)


def test_code_with_a_swapped_pkce_verifier_is_refused(
    sign_in: SignIn, client: TestClient, other_browser: SignIn
) -> None:
    """Two sign-ins in flight: the first's code arrives in the second browser, whose session
    holds the second sign-in's state and verifier. The verifier does not match the code's
    challenge, so Perkville refuses the exchange."""
    first = sign_in.at_perkville(sign_in.start())
    second_state = query_of(other_browser.start())["state"]
    response = other_browser.client.get(
        callback_with(code=query_of(first)["code"], state=second_state)
    )
    assert response.status_code == 400
    assert_friendly(response.text)
    assert_signed_out(other_browser.client)
    # The code was spent on the failed exchange: the first browser is not signed in either.
    sign_in.finish(first)
    assert "Hi, Maya" not in visible_text(client.get("/").text)


@pytest.mark.parametrize(
    "error",
    [
        {"error": "access_denied"},
        {"error": "server_error"},
        {"error": "invalid_request", "error_description": "<script>alert(1)</script>"},
        {"error": "temporarily_unavailable", "error_uri": "https://evil.example/"},
        {"error": "<img src=x onerror=alert(1)>"},
    ],
)
def test_callback_with_an_error_is_a_friendly_page(
    sign_in: SignIn, client: TestClient, error: dict[str, str]
) -> None:
    state = query_of(sign_in.start())["state"]
    response = client.get(callback_with(**error, state=state))
    assert response.status_code == 400
    assert_friendly(response.text)
    assert "<script>alert" not in response.text
    assert "onerror=" not in response.text
    assert "evil.example" not in response.text
    assert_signed_out(client)


def test_error_and_code_together_never_signs_in(sign_in: SignIn, client: TestClient) -> None:
    callback = query_of(sign_in.at_perkville(sign_in.start()))
    response = client.get(callback_with(**callback, error="access_denied"))
    assert response.status_code == 400
    assert_friendly(response.text)
    assert_signed_out(client)


def test_identify_callback_with_a_forged_state_is_refused(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in.start()
    response = client.get("/auth/identify/callback?code=abc&state=forged")
    assert response.status_code == 400
    assert "Traceback" not in response.text
    assert_signed_out(client)


def test_callback_url_is_never_sent_on_as_a_referrer(sign_in: SignIn, client: TestClient) -> None:
    response = sign_in.finish(sign_in.at_perkville(sign_in.start()))
    assert response.headers["referrer-policy"] == "no-referrer"
    assert path_of(response.headers["location"]) == "/"
