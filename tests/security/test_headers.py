"""Security headers on every kind of answer, and the session cookie's attributes."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.perkville import PerkvilleClient

from ..helpers import FakeClock, SignIn

SIGNED_OUT = ["/", "/no-such-page", "/offline", "/?signed_out=1"]
SHARED = ["/static/app.css", "/static/app.js", "/sw.js", "/manifest.webmanifest", "/brand.css"]
MEMBER = ["/", "/rewards", "/vouchers", "/vouchers/52007", "/history", "/vouchers/999999"]


def assert_hardened(path: str, headers: httpx2.Headers) -> None:
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, path
    assert "script-src 'self'" in csp, path
    assert "default-src 'self'" in csp, path
    assert headers.get("x-content-type-options") == "nosniff", path
    assert headers.get("referrer-policy") == "no-referrer", path
    permissions = headers.get("permissions-policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions, path


@pytest.mark.parametrize("path", [*SIGNED_OUT, *SHARED])
def test_signed_out_and_shared_answers_carry_the_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in {200, 404}, path
    assert_hardened(path, response.headers)


def test_member_pages_carry_the_headers_and_are_never_stored(
    sign_in: SignIn, client: TestClient
) -> None:
    landed = sign_in()
    assert_hardened("/auth/callback", landed.headers)  # a redirect, too
    for path in MEMBER:
        response = client.get(path)
        assert_hardened(path, response.headers)
        assert "no-store" in response.headers.get("cache-control", ""), path
    svg = client.get("/vouchers/52007/code.svg")
    assert_hardened("code.svg", svg.headers)
    assert "no-store" in svg.headers["cache-control"]


def test_error_pages_carry_the_headers_and_are_never_stored(
    sign_in: SignIn, client: TestClient, app: Starlette
) -> None:
    sign_in()
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert_hardened("404", missing.headers)
    assert "no-store" in missing.headers["cache-control"]
    down_client = PerkvilleClient("http://127.0.0.1:9", timeout=2)  # Perkville down
    app.state.member_app = replace(app.state.member_app, perkville=down_client)
    down = client.get("/rewards")
    assert down.status_code in {502, 503}
    assert_hardened("502", down.headers)
    assert "no-store" in down.headers["cache-control"]


def test_session_cookie_is_httponly_and_samesite_lax(
    client: TestClient, settings: Settings
) -> None:
    response = client.get("/signin")
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if settings.session_cookie in c]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes  # plain-http test setting: MEMBER_APP_SECURE_COOKIES off


@pytest.fixture
def https_client(
    settings: Settings, sandbox: Starlette, clock: FakeClock
) -> tuple[TestClient, Settings]:
    secure = dataclasses.replace(settings, public_url="https://member.test")
    app = create_app(secure, perkville_transport=httpx2.ASGITransport(app=sandbox), clock=clock)
    return TestClient(app, base_url="https://member.test", follow_redirects=False), secure


def test_on_https_the_cookie_is_secure_host_only_and_hsts_is_sent(
    https_client: tuple[TestClient, Settings],
) -> None:
    client, settings = https_client
    assert settings.cookies_secure
    with client:
        response = client.get("/signin")
    assert response.status_code == 302
    (cookie,) = response.headers.get_list("set-cookie")
    name = cookie.split("=")[0]
    attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert name.startswith("__Host-")
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= set(attributes)
    assert not [a for a in attributes if a.startswith("domain")]
    assert "max-age=31536000" in response.headers["strict-transport-security"]


def test_framing_is_refused_unless_an_origin_is_configured(
    settings: Settings, sandbox: Starlette, clock: FakeClock
) -> None:
    framed = dataclasses.replace(settings, frame_ancestors=("https://app.summit.example",))
    app = create_app(framed, perkville_transport=httpx2.ASGITransport(app=sandbox), clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        csp = client.get("/").headers["content-security-policy"]
    assert "frame-ancestors https://app.summit.example" in csp
    with pytest.raises(ValueError, match="MEMBER_APP_FRAME_ANCESTORS"):
        dataclasses.replace(settings, frame_ancestors=("javascript:alert(1)",))
