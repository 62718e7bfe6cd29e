"""The session cookie under attack: tampered, signed with another key, kept past its time,
and read by anyone who copies it (the token inside must never show)."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app

from ..helpers import APP_URL, MAYA, SANDBOX_URL, FakeClock, SignIn, session_of, visible_text
from ..pages_to_check import MEMBER_PAGES

EXPIRED = "signed out after a while without activity"


def assert_signed_out(client: TestClient) -> None:
    page = visible_text(client.get("/").text)
    assert "Sign in with Perkville" in page
    assert "1,250" not in page
    assert client.get("/vouchers").status_code == 303


def replace_cookie(client: TestClient, name: str, value: str) -> None:
    client.cookies.clear()  # `set` alone would add a second cookie beside the app's own
    client.cookies.set(name, value)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def test_flipped_signature_is_a_signed_out_visit(
    sign_in: SignIn, client: TestClient, settings: Settings
) -> None:
    sign_in()
    payload, stamp, signature = (client.cookies.get(settings.session_cookie) or "").split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    replace_cookie(client, settings.session_cookie, f"{payload}.{stamp}.{flipped}")
    assert_signed_out(client)


def test_edited_payload_with_the_old_signature_is_refused(
    sign_in: SignIn, client: TestClient, settings: Settings
) -> None:
    """Maya edits her cookie to say she is Jordan: the signature no longer matches."""
    sign_in()
    _, stamp, signature = (client.cookies.get(settings.session_cookie) or "").split(".")
    session = session_of(client, settings)
    assert session["uid"] == MAYA
    forged = b64(json.dumps({**session, "uid": 1003, "name": "Jordan"}).encode())
    replace_cookie(client, settings.session_cookie, f"{forged}.{stamp}.{signature}")
    assert_signed_out(client)


def test_unsigned_or_garbage_cookies_are_a_signed_out_visit(
    client: TestClient, settings: Settings
) -> None:
    for value in ("", "x", "a.b.c", b64(json.dumps({"uid": MAYA}).encode()), "%FF%FE" * 50):
        replace_cookie(client, settings.session_cookie, value)
        response = client.get("/")
        assert response.status_code == 200
        assert "Sign in with Perkville" in visible_text(response.text)


@pytest.fixture
def other_key_app(settings: Settings, sandbox: Starlette, clock: FakeClock) -> Iterator[SignIn]:
    """The same app run with another secret key (another deployment, or the key rotated)."""
    other = dataclasses.replace(settings, secret_key="another-secret-" + "x" * 40)
    app = create_app(other, perkville_transport=httpx2.ASGITransport(app=sandbox), clock=clock)
    with (
        TestClient(app, base_url=APP_URL, follow_redirects=False) as client,
        TestClient(sandbox, base_url=SANDBOX_URL, follow_redirects=False) as at_perkville,
    ):
        yield SignIn(client, at_perkville)


def test_cookie_from_another_secret_key_is_a_signed_out_visit(
    other_key_app: SignIn, client: TestClient, settings: Settings
) -> None:
    other_key_app()
    cookie = other_key_app.client.cookies.get(settings.session_cookie)
    assert cookie
    assert "1,250 points" in visible_text(other_key_app.client.get("/").text)  # valid there
    replace_cookie(client, settings.session_cookie, cookie)
    assert_signed_out(client)


def test_idle_session_is_signed_out_with_the_expired_message(
    sign_in: SignIn, client: TestClient, clock: FakeClock, settings: Settings
) -> None:
    sign_in()
    kept = client.cookies.get(settings.session_cookie) or ""
    clock.advance(settings.session_idle_seconds + 1)
    assert EXPIRED in visible_text(client.get("/").text)
    assert_signed_out(client)
    # A copy of the cookie kept from before is no better: the time is in the signed payload.
    replace_cookie(client, settings.session_cookie, kept)
    assert client.get("/vouchers").status_code == 303


def test_absolute_limit_signs_out_even_a_busy_member(
    sign_in: SignIn, client: TestClient, clock: FakeClock, settings: Settings
) -> None:
    sign_in()
    step = settings.session_idle_seconds - 60
    elapsed = 0
    while elapsed + step <= settings.session_max_seconds:
        clock.advance(step)
        elapsed += step
        assert client.get("/keepalive").status_code == 204  # busy all along
    clock.advance(step)
    assert EXPIRED in visible_text(client.get("/").text)
    assert_signed_out(client)


def _tokens(sandbox: Starlette) -> list[str]:
    store = sandbox.state.store
    return [t.token for t in store.tokens.values() if t.user_id == MAYA]


def _cookie_texts(client: TestClient, settings: Settings, set_cookies: list[str]) -> list[str]:
    """Every cookie the browser holds or was sent, raw and with its payload decoded."""
    texts = [*set_cookies, *(f"{k}={v}" for k, v in client.cookies.items())]
    texts.append(json.dumps(session_of(client, settings)))
    return texts


EXTRA_PAGES = [
    "/sw/key",
    "/sw.js",
    "/manifest.webmanifest",
    "/offline",
    "/vouchers/52007/code.svg",
    "/referrals/qr.svg",
    "/brand.css",
    "/keepalive",
]


def test_upstream_token_never_reaches_the_browser(
    sign_in: SignIn, client: TestClient, settings: Settings, sandbox: Starlette
) -> None:
    landed = sign_in()
    (token,) = _tokens(sandbox)
    seen: list[str] = [landed.text]
    set_cookies: list[str] = landed.headers.get_list("set-cookie")
    for path in [*MEMBER_PAGES, *EXTRA_PAGES]:
        response = client.get(path)
        assert response.status_code < 500, path
        seen.append(response.text)
        set_cookies += response.headers.get_list("set-cookie")
        seen.extend(f"{k}: {v}" for k, v in response.headers.items())
    assert len(seen) > len(MEMBER_PAGES)
    for text in [*seen, *_cookie_texts(client, settings, set_cookies)]:
        assert token not in text
        assert b64(token.encode())[:20] not in text
