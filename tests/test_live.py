"""Live updates (member_app/live/): a member's open page hears of her points moving, from a
real award through the sandbox's admin API, and nobody else hears of it; the poller's cost does
not grow with watchers; Perkville failing slows the poller, never the pages; the stream ends
with the session and never keeps it alive."""

from __future__ import annotations

import dataclasses
import json
import queue
import random
import time
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import anyio
import pytest
import redis.asyncio as redis
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Message, Scope

from member_app import Settings
from member_app.live.changes import Change
from member_app.live.poller import MAX_BACKOFF_SECONDS, backoff_delay
from member_app.live.stream import MAX_STREAMS_PER_MEMBER
from member_app.perkville import Level
from member_app.sandbox.seed import DEMO_BUSINESS_ID
from member_app.settings import SettingsError

from .helpers import (
    GOOD_ENV,
    MAYA,
    FakeClock,
    SignIn,
    balance,
    csrf_of,
    identify,
    make_client,
    session_of,
    visible_text,
)
from .sandbox_helpers import admin_token, bearer

INTERVAL = 0.2  # the shortest the settings allow: tests wait for polls
RILEY_EMAIL, RILEY = "riley@example.net", 1005
CHECK_IN, CLASS, SHOP = 101, 102, 104
DOWNTOWN = 11

# --- an EventSource, in-process ---------------------------------------------------------------


class OpenStream:
    """A page's EventSource on `/live`, in-process: the app's answer read as it arrives (the
    TestClient and httpx's ASGITransport wait for a whole body, which a stream never ends)."""

    def __init__(self, client: TestClient, cookies: dict[str, str] | None = None) -> None:
        assert client.portal is not None, "use a TestClient inside `with`"
        self._portal = client.portal
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self._items: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._text = ""
        self._gone: anyio.Event = self._portal.call(anyio.Event)
        jar = cookies if cookies is not None else dict(client.cookies.items())
        self._started = queue.Queue[bool]()
        self._done: Future[None] = self._portal.start_task_soon(self._run, client.app, jar)
        assert self._started.get(timeout=5)

    async def _run(self, app: Any, cookies: dict[str, str]) -> None:
        headers = [(b"host", b"testserver"), (b"accept", b"text/event-stream")]
        if cookies:
            jar = "; ".join(f"{k}={v}" for k, v in cookies.items())
            headers.append((b"cookie", jar.encode()))
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 50000),
            "root_path": "",
            "path": "/live",
            "raw_path": b"/live",
            "query_string": b"",
            "headers": headers,
        }
        requested = False

        async def receive() -> Message:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
                self._started.put(True)
            elif message["type"] == "http.response.body":
                self._read(message.get("body", b"").decode())

        try:
            await app(scope, receive, send)
        finally:
            self._started.put(False)
            self._items.put(None)

    def _read(self, text: str) -> None:
        self._text += text
        while "\n\n" in self._text:
            block, self._text = self._text.split("\n\n", 1)
            kind, data = "message", ""
            for line in block.split("\n"):
                if line.startswith("event: "):
                    kind = line[len("event: ") :]
                elif line.startswith("data: "):
                    data += line[len("data: ") :]
                elif line.startswith(":"):
                    kind = "comment"
            if kind in {"points", "end"}:
                self._items.put((kind, json.loads(data or "{}")))

    def next(self, timeout: float = 5.0) -> tuple[str, dict[str, Any]] | None:
        """The next event (`points` or `end`), None when the stream ended first; raises
        queue.Empty when none came in time."""
        return self._items.get(timeout=timeout)

    def settle(self) -> None:
        """Wait until polling has begun, and forget what it said first: the first poll may
        pass on balances that moved just before the page opened (the page compares them with
        what it shows)."""
        time.sleep(3 * INTERVAL)
        while not self._items.empty():
            item = self._items.get()
            assert item is None or item[0] == "points", item

    def ended(self, timeout: float = 5.0) -> bool:
        """Whether `event: end` comes within `timeout` (points events before it are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            item = self._items.get(timeout=max(deadline - time.monotonic(), 0.01))
            if item is None or item[0] == "end":
                return item is not None
            if time.monotonic() > deadline:
                return False

    def quiet_for(self, seconds: float) -> bool:
        """True if no event came for `seconds`."""
        try:
            self._items.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self._portal.call(self._gone.set)
        self._done.result(timeout=10)


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, live_interval_seconds=INTERVAL)


@pytest.fixture
def live_client(
    live_settings: Settings, sandbox: Starlette, clock: FakeClock
) -> Iterator[TestClient]:
    for client, _ in make_client(live_settings, sandbox, clock):
        yield client


@pytest.fixture
def staff(sandbox_client: TestClient) -> str:
    """The front desk's staff token (the password grant), for awarding points."""
    return admin_token(sandbox_client)


def award(
    sandbox_client: TestClient,
    staff: str,
    *,
    user: int = MAYA,
    perk: int = CLASS,
    quantity: int = 1,
) -> None:
    """A check-in at the front desk: the admin EARN, as a gym's own system posts it."""
    response = sandbox_client.post(
        "/v2/transactions/",
        headers=bearer(staff),
        json={
            "business": f"/v2/businesses/{DEMO_BUSINESS_ID}/",
            "location": f"/v2/locations/{DOWNTOWN}/",
            "perk": f"/v2/perks/{perk}/",
            "quantity": quantity,
            "user": f"/v2/users/{user}/",
            "trans_source_id": f"desk-{random.getrandbits(64):x}",
        },
    )
    assert response.status_code == 201, response.text


def sandbox_calls(sandbox_client: TestClient) -> int:
    stats = sandbox_client.get("/_sandbox/stats").json()
    return int(stats["requests"])


def points(stream: OpenStream, timeout: float = 5.0) -> dict[str, Any]:
    item = stream.next(timeout)
    assert item is not None, "the stream ended"
    kind, data = item
    assert kind == "points", item
    return data


def signed_in_elsewhere(client: TestClient, sandbox: Starlette, email: str) -> dict[str, str]:
    """Another member's session on the same app (her own browser and Perkville cookies);
    the client's own cookies are left as they were."""
    mine = dict(client.cookies.items())
    client.cookies.clear()
    with TestClient(sandbox, base_url="http://sandbox.test", follow_redirects=False) as theirs:
        sign_in = SignIn(client, theirs)
        sign_in.finish(sign_in.at_perkville(sign_in.start(), email=email))
    cookies = dict(client.cookies.items())
    client.cookies.clear()
    client.cookies.update(mine)
    return cookies


# --- the member's own stream ---------------------------------------------------------------------


def test_a_members_stream_hears_of_her_award_within_a_poll(
    live_client: TestClient, sandbox_client: TestClient, sandbox: Starlette, staff: str
) -> None:
    SignIn(live_client, sandbox_client)()
    stream = OpenStream(live_client)
    try:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-store"
        assert "set-cookie" not in stream.headers  # watching is not activity
        stream.settle()
        before = balance(sandbox)
        started = time.monotonic()
        award(sandbox_client, staff, perk=CLASS)
        data = points(stream)
        assert time.monotonic() - started < 5 * INTERVAL + 1
        assert data["balance"] == balance(sandbox) > before
        assert data["title"]  # what the points were for, as Perkville names it
        assert data["level"]["name"] == "Silver"
        assert data["level_up"] is False
        assert "user_id" not in data and str(MAYA) not in json.dumps(data)
        # The next one says how many points it brought: the poller saw the balance before.
        award(sandbox_client, staff, perk=CHECK_IN)
        data2 = points(stream)
        assert data2["delta"] == balance(sandbox) - data["balance"] > 0
    finally:
        stream.close()


def test_crossing_a_level_floor_is_a_level_up(
    live_client: TestClient, sandbox_client: TestClient, staff: str
) -> None:
    SignIn(live_client, sandbox_client)()
    stream = OpenStream(live_client)
    try:
        stream.settle()
        award(sandbox_client, staff, perk=CHECK_IN)  # seen once: the poller now knows her
        assert points(stream)["level"]["name"] == "Silver"
        award(sandbox_client, staff, perk=SHOP, quantity=700)  # 1,800 + 5 + 700 > Gold's 2,500
        data = points(stream)
        assert data["level"]["name"] == "Gold"
        assert data["level_up"] is True
    finally:
        stream.close()


def test_another_members_stream_hears_nothing_of_it(
    live_client: TestClient, sandbox_client: TestClient, sandbox: Starlette, staff: str
) -> None:
    SignIn(live_client, sandbox_client)()
    riley = signed_in_elsewhere(live_client, sandbox, RILEY_EMAIL)
    mayas, rileys = OpenStream(live_client), OpenStream(live_client, riley)
    try:
        mayas.settle()
        rileys.settle()
        award(sandbox_client, staff, user=MAYA)
        assert points(mayas)["balance"] == balance(sandbox)
        assert rileys.quiet_for(5 * INTERVAL)
        award(sandbox_client, staff, user=RILEY, perk=CHECK_IN)
        assert points(rileys)["balance"] != balance(sandbox)  # hers, not Maya's
        assert mayas.quiet_for(5 * INTERVAL)
    finally:
        mayas.close()
        rileys.close()


def test_signed_out_there_is_no_stream(live_client: TestClient) -> None:
    response = live_client.get("/live")
    assert response.status_code == 401
    assert live_client.post("/live/fresh").status_code == 401


def test_fresh_data_after_a_change_needs_the_sessions_csrf_token(
    live_client: TestClient, sandbox_client: TestClient, live_settings: Settings
) -> None:
    settings = live_settings
    SignIn(live_client, sandbox_client)()
    assert live_client.post("/live/fresh").status_code == 403
    wrong = live_client.post("/live/fresh", data={"csrf": "nope"})
    assert wrong.status_code == 403
    assert "Nothing was changed" in visible_text(wrong.text)
    token = csrf_of(live_client)
    generation = session_of(live_client, settings).get("cg", 0)
    assert live_client.post("/live/fresh", data={"csrf": token}).status_code == 204
    assert session_of(live_client, settings).get("cg", 0) != generation


def test_live_updates_can_be_turned_off(
    live_settings: Settings, sandbox: Starlette, clock: FakeClock, sandbox_client: TestClient
) -> None:
    for client, _ in make_client(live_settings, sandbox, clock, live_interval_seconds=0):
        SignIn(client, sandbox_client)()
        assert client.get("/live").status_code == 204  # EventSource stops asking


# --- cost -------------------------------------------------------------------------------------


def calls_while_watching(
    client: TestClient, sandbox_client: TestClient, watchers: list[dict[str, str]]
) -> int:
    streams = [OpenStream(client, cookies) for cookies in watchers]
    try:
        time.sleep(3 * INTERVAL)  # polling has started
        before = sandbox_calls(sandbox_client)
        time.sleep(10 * INTERVAL)
        return sandbox_calls(sandbox_client) - before
    finally:
        for stream in streams:
            stream.close()


def test_the_poller_costs_the_same_for_one_watcher_and_for_many(
    live_client: TestClient, sandbox_client: TestClient, sandbox: Starlette
) -> None:
    SignIn(live_client, sandbox_client)()
    maya = dict(live_client.cookies.items())
    riley = signed_in_elsewhere(live_client, sandbox, RILEY_EMAIL)
    one = calls_while_watching(live_client, sandbox_client, [maya])
    many = calls_while_watching(live_client, sandbox_client, [maya, riley] * 6)
    assert 4 <= one <= 12  # about one call per interval
    assert abs(many - one) <= 3


def test_nobody_watching_means_no_polls(
    live_client: TestClient, sandbox_client: TestClient
) -> None:
    SignIn(live_client, sandbox_client)()
    before = sandbox_calls(sandbox_client)
    time.sleep(5 * INTERVAL)
    assert sandbox_calls(sandbox_client) == before


def test_throttling_slows_the_poller_and_never_the_pages(
    live_client: TestClient, sandbox_client: TestClient
) -> None:
    SignIn(live_client, sandbox_client)()
    conditions = {
        "fault_rate": 1.0,
        "faults": ["429"],
        "retry_after": 2,
        "fault_paths": ["/v2/connection-balances/"],
    }
    assert sandbox_client.put("/_sandbox/conditions", json=conditions).status_code == 200
    stream = OpenStream(live_client)
    try:
        time.sleep(0.5)
        before = sandbox_calls(sandbox_client)
        time.sleep(3.0)
        polls = sandbox_calls(sandbox_client) - before
        assert polls <= 2  # Retry-After: 2 is honoured (15 polls without it)
        page = live_client.get("/")
        assert page.status_code == 200
        assert "data-stale" not in page.text
    finally:
        stream.close()


def test_perkville_failing_backs_the_poller_off_and_pages_still_answer(
    live_client: TestClient, sandbox_client: TestClient
) -> None:
    SignIn(live_client, sandbox_client)()
    faults = {"fault_rate": 1.0, "faults": ["500"], "fault_paths": ["/v2/connection-balances/"]}
    sandbox_client.put("/_sandbox/conditions", json=faults)
    stream = OpenStream(live_client)
    try:
        deadline = time.monotonic() + 10
        while sandbox_client.get("/_sandbox/stats").json()["faults_injected"].get("500", 0) < 5:
            assert time.monotonic() < deadline, "the poller stopped asking"
            time.sleep(0.1)
        # Five failures in a row would have opened the pages' circuit breaker: the poller's
        # calls go around it, so home still reads Perkville.
        page = live_client.get("/")
        assert page.status_code == 200
        assert "data-stale" not in page.text and "Try again" not in page.text
    finally:
        stream.close()


def test_backoff_doubles_to_a_minute_and_honours_retry_after() -> None:
    rng = random.Random(4)  # noqa: S311 - jitter, not secrets
    delays = [backoff_delay(n, None, 3.0, rng) for n in range(1, 8)]
    assert 3.0 <= delays[0] <= 6.0
    assert all(d <= MAX_BACKOFF_SECONDS for d in delays)
    assert delays[-1] >= MAX_BACKOFF_SECONDS / 2
    assert backoff_delay(1, 120.0, 3.0, rng) == 120.0
    assert backoff_delay(1, float("inf"), 3.0, rng) == 300.0


# --- sessions -----------------------------------------------------------------------------------


@pytest.fixture
def short_idle(
    live_settings: Settings, sandbox: Starlette, clock: FakeClock
) -> Iterator[TestClient]:
    """Sessions that end after 8 idle seconds: the stream checks every 2."""
    for client, _ in make_client(live_settings, sandbox, clock, session_idle_seconds=8):
        yield client


def test_the_stream_ends_when_the_member_signs_out(
    short_idle: TestClient, sandbox_client: TestClient
) -> None:
    SignIn(short_idle, sandbox_client)()
    stream = OpenStream(short_idle)
    try:
        csrf = csrf_of(short_idle)
        assert short_idle.post("/signout", data={"csrf": csrf}).status_code == 303
        assert stream.ended(timeout=5)
    finally:
        stream.close()


def test_watching_never_keeps_a_session_alive(
    short_idle: TestClient, sandbox_client: TestClient, clock: FakeClock
) -> None:
    SignIn(short_idle, sandbox_client)()
    clock.advance(5)
    stream = OpenStream(short_idle)  # a page watching is not the member doing something
    stream.close()
    clock.advance(4)  # 9 s since her last request: over the idle limit
    assert "signed out after a while" in visible_text(short_idle.get("/").text)


def test_a_refresh_after_a_live_update_is_not_activity_either(
    short_idle: TestClient, sandbox_client: TestClient, clock: FakeClock
) -> None:
    SignIn(short_idle, sandbox_client)()
    clock.advance(5)
    refreshed = short_idle.get("/", headers={"X-Live-Refresh": "1"})
    assert refreshed.status_code == 200
    assert "set-cookie" not in refreshed.headers
    clock.advance(4)
    assert "signed out after a while" in visible_text(short_idle.get("/").text)


def test_the_stream_ends_when_the_session_times_out(
    short_idle: TestClient, sandbox_client: TestClient, clock: FakeClock
) -> None:
    SignIn(short_idle, sandbox_client)()
    stream = OpenStream(short_idle)
    try:
        clock.advance(9)
        assert stream.ended(timeout=5)
    finally:
        stream.close()


# --- without a staff token ------------------------------------------------------------------------


def test_without_a_staff_token_each_watcher_is_polled_with_her_own_token(
    live_settings: Settings,
    sandbox: Starlette,
    clock: FakeClock,
    sandbox_client: TestClient,
    staff: str,
) -> None:
    for client, _ in make_client(live_settings, sandbox, clock, admin_token=None):
        SignIn(client, sandbox_client)()
        stream = OpenStream(client)
        try:
            stream.settle()  # her first poll: what later ones compare to
            before = balance(sandbox)
            award(sandbox_client, staff, perk=CLASS)
            data = points(stream)
            assert data["balance"] == balance(sandbox)
            assert data["delta"] == balance(sandbox) - before
        finally:
            stream.close()


# --- what an update says ---------------------------------------------------------------------


def test_a_change_crosses_replicas_intact_and_tells_the_page_only_its_own_numbers() -> None:
    gold = Level(23, "Gold", 2500, None)
    change = Change(MAYA, 1265, 2515, 15, "Group fitness class", gold, True)
    assert Change.from_message(json.loads(json.dumps(change.message()))) == change
    assert Change.from_message({"u": "x"}) is None
    assert change.event() == {
        "balance": 1265,
        "earned": 2515,
        "delta": 15,
        "title": "Group fitness class",
        "level": {"id": 23, "name": "Gold", "floor": 2500},
        "level_up": True,
    }


def test_the_pages_mark_what_live_updates_change(
    live_client: TestClient, sandbox_client: TestClient
) -> None:
    SignIn(live_client, sandbox_client)()
    home = live_client.get("/").text
    assert 'data-live-balance="1250"' in home
    assert 'data-live-level="22"' in home  # Silver
    assert 'data-live="/live"' in home
    for page in ("/vouchers", "/challenges"):
        assert 'data-live="/live"' in live_client.get(page).text, page


# --- replicas ---------------------------------------------------------------------------------


def test_replicas_share_one_poller_and_every_replica_hears_the_change(
    live_settings: Settings,
    sandbox: Starlette,
    clock: FakeClock,
    sandbox_client: TestClient,
    staff: str,
    redis_url: str,
) -> None:
    shared = {"cache_url": redis_url}
    for one, _ in make_client(live_settings, sandbox, clock, **shared):
        for two, _ in make_client(live_settings, sandbox, clock, **shared):
            SignIn(one, sandbox_client)()
            cookies = dict(one.cookies.items())  # the same session, on either replica
            on_one, on_two = OpenStream(one, cookies), OpenStream(two, cookies)
            try:
                on_one.settle()
                on_two.settle()
                before = sandbox_calls(sandbox_client)
                time.sleep(10 * INTERVAL)
                assert sandbox_calls(sandbox_client) - before <= 13  # one poller, not two
                award(sandbox_client, staff)
                assert points(on_one)["balance"] == points(on_two)["balance"] == balance(sandbox)
            finally:
                on_one.close()
                on_two.close()
    _forget_live_keys(redis_url)


def _forget_live_keys(url: str) -> None:
    """The leader lock and the cursor are shared state: leave none for other tests."""

    async def forget() -> None:
        client = redis.from_url(url)
        try:
            keys = [k async for k in client.scan_iter("member-app:live:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()

    anyio.run(forget)


# --- inside a gym's app ---------------------------------------------------------------------


def test_an_identified_member_inside_a_gyms_app_gets_live_updates_too(
    live_settings: Settings,
    sandbox: Starlette,
    clock: FakeClock,
    sandbox_client: TestClient,
    staff: str,
) -> None:
    for client, _ in make_client(live_settings, sandbox, clock, signin_flow="identify"):
        identify(client, sandbox_client)
        stream = OpenStream(client)
        try:
            stream.settle()
            award(sandbox_client, staff)
            assert points(stream)["balance"] == balance(sandbox)
        finally:
            stream.close()


def test_the_interval_is_read_from_the_environment_and_checked() -> None:
    def interval(raw: str | None) -> float:
        extra = {} if raw is None else {"MEMBER_APP_LIVE_INTERVAL": raw}
        return Settings.from_env({**GOOD_ENV, **extra}).live_interval_seconds

    assert (interval(None), interval("0"), interval("5")) == (3.0, 0.0, 5.0)
    for bad in ("0.1", "61", "soon"):
        with pytest.raises(SettingsError, match="MEMBER_APP_LIVE_INTERVAL"):
            Settings.from_env({**GOOD_ENV, "MEMBER_APP_LIVE_INTERVAL": bad})
    with pytest.raises(SettingsError, match="MEMBER_APP_LIVE_MEMBER_BUDGET"):
        Settings.from_env({**GOOD_ENV, "MEMBER_APP_LIVE_MEMBER_BUDGET": "0"})


def test_one_member_cannot_hold_open_more_than_a_dozen_streams(
    live_client: TestClient, sandbox_client: TestClient
) -> None:
    """A copied cookie opening stream after stream gets 429 past the twelfth, and a freed slot
    can be used again; other members are not affected."""
    SignIn(live_client, sandbox_client)()
    maya = dict(live_client.cookies.items())
    streams = [OpenStream(live_client, maya) for _ in range(MAX_STREAMS_PER_MEMBER)]
    try:
        assert {s.status for s in streams} == {200}
        extra = OpenStream(live_client, maya)
        assert extra.status == 429
        extra.close()
        streams.pop().close()
        time.sleep(0.2)
        again = OpenStream(live_client, maya)
        assert again.status == 200
        streams.append(again)
    finally:
        for stream in streams:
            stream.close()
