"""The smaller findings: links built from the address, odd numbers, the 500 page, secrets in
reprs, what the cookie shows, a downgrade by link, the Host header, cookies on shared answers,
the metrics guard, links Perkville supplies, and framing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from member_app import Settings, create_app
from member_app.ops import redact
from member_app.perkville import Caller
from member_app.web.session import Member

from ..forms import parse_form
from ..helpers import (
    APP_URL,
    MAYA,
    RESUME,
    SANDBOX_URL,
    STEP_UP,
    FakeClock,
    SignIn,
    balance,
    identify,
    make_client,
    path_of,
    raw_get,
    session_of,
    visible_text,
)

REWARD = "/rewards/201/redeem"  # a free smoothie, 150 points: Maya can afford it
COST = 150


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


@pytest.fixture
def identify_app(settings: Settings, sandbox: Starlette, clock: FakeClock) -> Iterator[SignIn]:
    """The app with the Identify User Flow on, and the member's browser on it."""
    for client, _ in make_client(settings, sandbox, clock, signin_flow="identify"):
        with TestClient(sandbox, base_url=SANDBOX_URL, follow_redirects=False) as at_perkville:
            yield SignIn(client, at_perkville)


# --- (a) the 404 page of an address that looks like another site ---------------------------


@pytest.mark.parametrize("raw", [b"//other.site/x", b"/%2Fother.site/x", b"/%2F%2Fother.site/x"])
def test_the_404_page_of_another_sites_address_links_only_home(
    client: TestClient, raw: bytes
) -> None:
    page = raw_get(client, raw)
    assert page.status_code == 404
    html = page.body.decode()
    for href in hrefs(html):
        assert not href.startswith(("//", "/\\", "\\")), href
        assert "other.site" not in href, href
    main = re.search(r'<a class="button button-primary" href="([^"]*)"', html)
    assert main, "no main link on the 404 page"
    assert main.group(1) == "/"


# --- (b) offsets that are digits to Python but not numbers --------------------------------


def test_odd_history_offsets_are_a_400_that_says_what_is_wrong(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    for offset in ("²", "١٢", "9" * 5000):  # a superscript two, Arabic-Indic digits, 5,000 digits
        page = client.get(f"/history?offset={quote(offset)}")
        assert page.status_code == 400, offset[:10]
        text = visible_text(page.text)
        assert "That page number is out of range." in text
        assert "Traceback" not in page.text


# --- (c) the 500 page ----------------------------------------------------------------------


def test_a_500_answer_carries_the_security_headers_and_a_request_id(app: Starlette) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("a bug on our side")

    app.router.routes.append(Route("/boom", boom))  # test-only wiring: a view with a bug
    with TestClient(app, base_url=APP_URL, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
    assert answer.status_code == 500
    assert "Something went wrong on our side" in visible_text(answer.text)
    assert "RuntimeError" not in answer.text
    headers = answer.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "no-store" in headers["cache-control"]
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", headers["x-request-id"])


# --- (d) secrets in reprs and logs -----------------------------------------------------------


def test_reprs_and_redaction_never_show_secrets() -> None:
    secret_key = "session-signing-key-" + "k" * 40
    client_secret = "oauth-client-secret-4711"
    admin_token = "staff-bearer-token-0815"
    metrics_token = "metrics-" + "m" * 32
    settings = Settings(
        secret_key=secret_key,
        client_id="my-client",
        business_id=4,
        client_secret=client_secret,
        admin_token=admin_token,
        metrics_token=metrics_token,
        cache_url="redis://:hunter2@cache.internal:6379/0",
    )
    shown = repr(settings)
    assert "my-client" in shown  # the repr is still useful
    for value in (secret_key, client_secret, admin_token, metrics_token, "hunter2"):
        assert value not in shown
    member = Member(MAYA, "Maya", Caller("member-bearer-token-1234", cache_scope="sid.0"))
    assert "member-bearer-token-1234" not in repr(member)
    assert "member-bearer-token-1234" not in str(member)
    assert "abc" not in redact("token='abc'")
    assert "abc" not in redact('Caller(token="abc")')


# --- (e) what the session cookie shows --------------------------------------------------------


def test_the_cookie_shows_neither_a_kept_referral_nor_the_pkce_verifier(
    identify_app: SignIn, sandbox: Starlette, settings: Settings
) -> None:
    client, friend = identify_app.client, "robin.private@example.net"
    identify(client, identify_app.sandbox_client)
    form = parse_form(client.get("/referrals").text).fields
    step_up = client.post(
        "/referrals", data={"csrf": form["csrf"], "email": friend, "first_name": "Robin"}
    )
    assert STEP_UP.fullmatch(step_up.headers["location"])
    authorize = identify_app.start(step_up.headers["location"])  # the PKCE sign-in starts
    # Anyone holding the cookie can decode Starlette's payload: neither the friend's email nor
    # the sign-in's PKCE verifier may be readable there.
    raw_cookie = client.cookies.get(settings.session_cookie) or ""
    readable = json.dumps(session_of(client, settings))
    assert session_of(client, settings)  # the payload did decode
    for text in (readable, raw_cookie):
        for secret in (friend, quote(friend), "robin.private", "code_verifier"):
            assert secret not in text, secret
    # Both were kept, sealed: the sign-in completes and the invitation goes out.
    landed = identify_app.finish(identify_app.at_perkville(authorize))
    assert RESUME.fullmatch(landed.headers["location"])
    page = client.get(landed.headers["location"])
    assert client.post("/resume", data=parse_form(page.text).fields).status_code == 303
    assert any(r.to_email == friend for r in sandbox.state.store.referrals.values())


# --- (f) a link to /signin/identify never downgrades a full session ------------------------


def follow(browser: SignIn, response: httpx2.Response) -> httpx2.Response:
    """Follow redirects as a browser does, across the app and Perkville."""
    for _ in range(10):
        if response.status_code not in {301, 302, 303, 307, 308}:
            return response
        location = response.headers["location"]
        if location.startswith(SANDBOX_URL):
            response = browser.sandbox_client.get(path_of(location))
        else:
            response = browser.client.get(path_of(location))
    raise AssertionError("too many redirects")


def test_a_cross_site_link_to_identify_never_downgrades_a_pkce_session(
    identify_app: SignIn, sandbox: Starlette
) -> None:
    client = identify_app.client
    landed = identify_app.finish(identify_app.at_perkville(identify_app.start("/signin?pkce=1")))
    assert landed.headers["location"] == "/"
    # Another site links (or navigates a frame-less window) to the identify start.
    cross_site = {"Sec-Fetch-Site": "cross-site", "Referer": "https://other.site/"}
    arrived = follow(identify_app, client.get("/signin/identify", headers=cross_site))
    assert arrived.status_code == 200
    assert "1,250 points" in visible_text(arrived.text)
    # Still the full session: redeeming goes straight through, no step-up.
    before = balance(sandbox)
    done = client.post(REWARD, data=parse_form(client.get(REWARD).text).fields)
    assert done.status_code == 303
    assert done.headers["location"].startswith("/vouchers/")
    assert balance(sandbox) == before - COST


# --- (g) the callback's restart is built from the public URL, not the Host header ----------


def test_the_callback_restart_never_goes_to_the_host_header(client: TestClient) -> None:
    answer = client.get("/auth/callback?code=x&state=unknown", headers={"Host": "evil.example"})
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert "evil.example" not in location
    assert location.startswith(f"{APP_URL}/signin")


# --- (h) no cookie on shared, cacheable answers ------------------------------------------------


def test_static_files_and_probes_never_carry_a_cookie(
    sign_in: SignIn, client: TestClient, clock: FakeClock
) -> None:
    sign_in()
    page = client.get("/")
    match = re.search(r"/static/app\.css\?v=[A-Za-z0-9]+", page.text)
    assert match, "no fingerprinted stylesheet on the page"
    clock.advance(120)  # time for the session's last-seen stamp to be rewritten
    for path in (match.group(0), "/static/app.js", "/healthz"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "set-cookie" not in answer.headers, path
    # The session was due a new cookie: the next page gets it, the shared answers did not.
    assert "set-cookie" in client.get("/").headers


# --- (i) /metrics behind a proxy ------------------------------------------------------------


def test_metrics_refuse_a_loopback_request_a_proxy_forwarded_with_x_real_ip(
    app: Starlette,
) -> None:
    with TestClient(app, base_url=APP_URL, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 200  # this machine, nobody in between
        forwarded = local.get("/metrics", headers={"X-Real-IP": "203.0.113.9"})
    assert forwarded.status_code == 404
    assert "http_requests" not in forwarded.text


# --- (j) links Perkville supplies ------------------------------------------------------------

HOSTILE = {
    "referral_offer_url": "javascript:alert(document.cookie)//http://x",
    "perkville_url": " JaVaScRiPt:alert(1)",
}


def _rewritten(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: HOSTILE.get(k, _rewritten(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewritten(v) for v in value]
    return value


class HostilePerkville:
    """Perkville (the sandbox) as a compromised or careless upstream: every link it supplies
    in a JSON answer is a `javascript:` URL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            if any(k.lower() == b"content-type" and b"json" in v for k, v in headers):
                body = json.dumps(_rewritten(json.loads(body))).encode()
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite if scope["type"] == "http" else send)


@pytest.fixture
def hostile_app(settings: Settings, sandbox: Starlette, clock: FakeClock) -> Starlette:
    transport = httpx2.ASGITransport(app=HostilePerkville(sandbox))
    return create_app(settings, perkville_transport=transport, clock=clock)


def no_script_links(html: str) -> None:
    for href in hrefs(html):
        assert not href.strip().lower().startswith("javascript:"), href
    assert "javascript:" not in html.lower()


def test_javascript_links_from_perkville_are_never_links(
    hostile_app: Starlette, sandbox: Starlette
) -> None:
    with (
        TestClient(hostile_app, base_url=APP_URL, follow_redirects=False) as maya,
        TestClient(hostile_app, base_url=APP_URL, follow_redirects=False) as alex,
        TestClient(sandbox, base_url=SANDBOX_URL, follow_redirects=False) as maya_there,
        TestClient(sandbox, base_url=SANDBOX_URL, follow_redirects=False) as alex_there,
    ):
        SignIn(maya, maya_there)()
        referrals = maya.get("/referrals")
        assert referrals.status_code == 200
        assert "Refer a friend" in visible_text(referrals.text)
        no_script_links(referrals.text)
        assert maya.get("/referrals/qr.svg").status_code == 404  # no link, no QR code
        # A member without a membership is offered the business's Perkville page: not this one.
        signed_in = SignIn(alex, alex_there)
        signed_in.finish(signed_in.at_perkville(signed_in.start(), email="alex@example.com"))
        join = alex.get("/join")
        assert join.status_code == 200
        assert "We couldn't find your membership" in visible_text(join.text)
        no_script_links(join.text)


# --- (k) framing ------------------------------------------------------------------------------


def test_pages_refuse_framing_with_x_frame_options_too(sign_in: SignIn, client: TestClient) -> None:
    for path in ("/", "/no-such-page", "/offline"):
        assert client.get(path).headers["x-frame-options"] == "DENY", path
    sign_in()
    for path in ("/", "/rewards", "/history", REWARD):
        assert client.get(path).headers["x-frame-options"] == "DENY", path
