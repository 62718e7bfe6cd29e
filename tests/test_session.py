"""Idle and absolute session timeouts, enforced by the app whatever the cookie says."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings

from .helpers import FakeClock, SignIn, visible_text


def test_idle_session_ends(
    sign_in: SignIn, client: TestClient, clock: FakeClock, settings: Settings
) -> None:
    sign_in()
    clock.advance(settings.session_idle_seconds - 5)
    assert "1,250 points" in visible_text(client.get("/").text)  # still active
    clock.advance(settings.session_idle_seconds + 1)
    page = visible_text(client.get("/").text)
    assert "1,250" not in page
    assert "signed out after a while without activity" in page
    # The cleared session is what the browser keeps: the next visit is signed out too.
    assert "Sign in with Perkville" in visible_text(client.get("/").text)


def test_absolute_limit_ends_even_an_active_session(
    sign_in: SignIn, client: TestClient, clock: FakeClock, settings: Settings
) -> None:
    sign_in()
    step = settings.session_idle_seconds // 2
    elapsed = 0
    while elapsed + step <= settings.session_max_seconds:
        clock.advance(step)
        elapsed += step
        assert "1,250 points" in visible_text(client.get("/").text)
    clock.advance(step)
    assert "signed out after a while" in visible_text(client.get("/").text)


def test_quiet_reads_do_not_rewrite_the_cookie(
    sign_in: SignIn, client: TestClient, clock: FakeClock
) -> None:
    sign_in()
    # The first visit to a page notes what the next one can fetch at once (its location, the
    # member's challenges): one write, then quiet.
    for path in ("/", "/rewards"):
        client.get(path)
    clock.advance(1)
    for path in ("/", "/rewards", "/earn", "/challenges", "/vouchers"):
        assert "set-cookie" not in client.get(path).headers, path
    clock.advance(120)  # past the resolution of the last-seen stamp: written once
    assert "set-cookie" in client.get("/").headers
    assert "set-cookie" not in client.get("/").headers


def test_tampered_cookie_is_a_signed_out_visit(
    sign_in: SignIn, client: TestClient, settings: Settings
) -> None:
    sign_in()
    value = client.cookies.get(settings.session_cookie) or ""
    tampered = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    client.cookies.clear()
    client.cookies.set(settings.session_cookie, tampered)
    page = visible_text(client.get("/").text)
    assert "Sign in with Perkville" in page


def test_revoked_token_sends_the_member_to_sign_in_and_back(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    sandbox.state.store.tokens.clear()  # Perkville revokes the app's token
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2F"
