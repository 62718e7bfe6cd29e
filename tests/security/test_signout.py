"""Sign-out on the server: a copy of the session cookie taken before the member signed out (or
before a kiosk let them go) is dead afterwards, on every replica, and a kiosk's idle limit
counts from the server's record of the session, not from the stamp inside whichever copy of
the cookie comes back."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app

from ..forms import parse_form
from ..helpers import APP_URL, FakeClock, SignIn, balance, csrf_of, visible_text

REWARD = "/rewards/201/redeem"  # a free smoothie, 150 points: Maya can afford it
POINTS = "1,250 points"  # Maya's balance, as her pages show it
EXPIRED = "signed out after a while without activity"


def browser_with(app: Starlette, cookie_name: str, cookie: str) -> TestClient:
    """Another browser (an attacker's) holding a copy of the member's session cookie."""
    other = TestClient(app, base_url=APP_URL, follow_redirects=False)
    other.cookies.set(cookie_name, cookie)
    return other


def replant(browser: TestClient, cookie_name: str, cookie: str) -> TestClient:
    """The attacker keeps the copy whatever the app answers (a Set-Cookie that clears it is
    just ignored): the next request carries it again."""
    browser.cookies.clear()
    browser.cookies.set(cookie_name, cookie)
    return browser


def sign_out(client: TestClient) -> None:
    """The member taps "Sign out" ("Done" on a kiosk): the page's form, with its CSRF token."""
    form = parse_form(client.get("/").text)
    assert form.action == "/signout"
    answer = client.post("/signout", data={"csrf": form.fields["csrf"]})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?signed_out=1"


def assert_refused(browser: TestClient, cookie_name: str, cookie: str) -> None:
    """The copy is a signed-out visitor: member pages send it to sign in."""
    rewards = replant(browser, cookie_name, cookie).get("/rewards")
    assert rewards.status_code == 303
    assert rewards.headers["location"].startswith("/signin?next=")
    assert POINTS not in visible_text(replant(browser, cookie_name, cookie).get("/").text)


def test_a_cookie_copied_before_sign_out_is_dead_after_it(
    sign_in: SignIn, client: TestClient, app: Starlette, sandbox: Starlette, settings: Settings
) -> None:
    sign_in()
    confirmation = parse_form(client.get(REWARD).text).fields  # its csrf and attempt id
    copied = client.cookies.get(settings.session_cookie)
    assert copied
    with browser_with(app, settings.session_cookie, copied) as attacker:
        assert POINTS in visible_text(attacker.get("/").text)  # the copy works until sign-out
        sign_out(client)
        before = balance(sandbox)
        assert_refused(attacker, settings.session_cookie, copied)
        spent = replant(attacker, settings.session_cookie, copied).post(REWARD, data=confirmation)
        assert spent.status_code == 303
        assert spent.headers["location"].startswith("/signin?next=")
    assert balance(sandbox) == before


@pytest.fixture
def kiosk_app(settings: Settings, sandbox: Starlette, clock: FakeClock) -> Starlette:
    kiosk = dataclasses.replace(settings, mode="kiosk")
    return create_app(kiosk, perkville_transport=httpx2.ASGITransport(app=sandbox), clock=clock)


@pytest.fixture
def kiosk(kiosk_app: Starlette, sandbox_client: TestClient) -> Iterator[SignIn]:
    """The kiosk's browser (and its cookies at Perkville)."""
    with TestClient(kiosk_app, base_url=APP_URL, follow_redirects=False) as client:
        yield SignIn(client, sandbox_client)


def test_a_kiosk_cookie_copied_before_done_is_dead_after_it(
    kiosk: SignIn, kiosk_app: Starlette, settings: Settings
) -> None:
    kiosk()
    copied = kiosk.client.cookies.get(settings.session_cookie)
    assert copied
    with browser_with(kiosk_app, settings.session_cookie, copied) as attacker:
        assert POINTS in visible_text(attacker.get("/").text)  # the copy works until "Done"
        sign_out(kiosk.client)  # the member taps "Done" and walks away
        assert_refused(attacker, settings.session_cookie, copied)


def test_a_kiosk_idle_limit_counts_from_the_servers_record(
    kiosk: SignIn, kiosk_app: Starlette, settings: Settings, clock: FakeClock
) -> None:
    idle = settings.kiosk_idle_seconds  # 60 seconds
    kiosk()
    assert POINTS in visible_text(kiosk.client.get("/").text)
    copied = kiosk.client.cookies.get(settings.session_cookie)  # last seen: now, t=0
    assert copied
    with browser_with(kiosk_app, settings.session_cookie, copied) as attacker:
        # The member keeps tapping the kiosk until t=45.
        for _ in range(3):
            clock.advance(15)
            assert kiosk.client.get("/keepalive").status_code == 204
        # At t=100 the copy says the session was last seen at t=0, 100 s ago. What counts is
        # the server's record: the member was last seen at t=45, 55 s ago, within the limit.
        clock.advance(100 - 45)
        assert POINTS in visible_text(attacker.get("/").text)
        # Then nobody touches it for longer than the limit: the copy is refused, and the
        # session is over for every cookie of it, the kiosk's own included.
        clock.advance(idle + 1)
        assert EXPIRED in visible_text(attacker.get("/").text)
        assert_refused(attacker, settings.session_cookie, copied)
        assert "1,250" not in visible_text(kiosk.client.get("/").text)
        assert kiosk.client.get("/rewards").status_code == 303


@pytest.fixture(params=["phone", "kiosk"])
def replicas(
    request: pytest.FixtureRequest,
    settings: Settings,
    sandbox: Starlette,
    clock: FakeClock,
    redis_url: str,
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two replicas of the app behind one load balancer: same settings, one shared Redis; on
    phones, and on kiosks (where sign-out is the Done button)."""
    shared = dataclasses.replace(settings, cache_url=redis_url, mode=request.param)
    transport = httpx2.ASGITransport(app=sandbox)
    a, b = (create_app(shared, perkville_transport=transport, clock=clock) for _ in range(2))
    with (
        TestClient(a, base_url=APP_URL, follow_redirects=False) as on_a,
        TestClient(b, base_url=APP_URL, follow_redirects=False) as on_b,
    ):
        yield on_a, on_b


def test_sign_out_on_one_replica_kills_the_copy_on_another(
    replicas: tuple[TestClient, TestClient],
    sandbox_client: TestClient,
    sandbox: Starlette,
    settings: Settings,
) -> None:
    on_a, on_b = replicas
    SignIn(on_a, sandbox_client)()
    copied = on_a.cookies.get(settings.session_cookie)
    assert copied
    on_b.cookies.set(settings.session_cookie, copied)
    assert POINTS in visible_text(on_b.get("/").text)  # replica B serves the session too
    confirmation = parse_form(on_b.get(REWARD).text).fields
    assert confirmation["csrf"] == csrf_of(on_a)
    sign_out(on_a)
    before = balance(sandbox)
    assert_refused(on_b, settings.session_cookie, copied)
    spent = replant(on_b, settings.session_cookie, copied).post(REWARD, data=confirmation)
    assert spent.headers["location"].startswith("/signin?next=")
    assert balance(sandbox) == before


@pytest.mark.parametrize("replicas", ["kiosk"], indirect=True)
def test_a_kiosk_idle_timeout_on_one_replica_kills_the_copy_on_another(
    replicas: tuple[TestClient, TestClient],
    sandbox_client: TestClient,
    settings: Settings,
    clock: FakeClock,
) -> None:
    on_a, on_b = replicas
    SignIn(on_a, sandbox_client)()
    copied = on_a.cookies.get(settings.session_cookie)
    assert copied
    # The member taps the kiosk (replica A) until t=45; the copy, on B, counts from that.
    for _ in range(3):
        clock.advance(15)
        assert on_a.get("/keepalive").status_code == 204
    clock.advance(100 - 45)
    assert POINTS in visible_text(replant(on_b, settings.session_cookie, copied).get("/").text)
    # Nobody taps for longer than the kiosk's limit: ended on A, so refused on B too.
    clock.advance(settings.kiosk_idle_seconds + 1)
    assert "1,250" not in visible_text(on_a.get("/").text)
    assert_refused(on_b, settings.session_cookie, copied)
