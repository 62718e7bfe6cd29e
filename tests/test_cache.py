"""Caching Perkville's answers: public data once for everyone, a member's own data
briefly for their session, dropped the moment they act; never anyone else's."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Iterator

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.cache import Cache, Entry, MemoryBackend

from .forms import parse_form
from .helpers import (
    APP_URL,
    MAYA_CONNECTION,
    FakeClock,
    SignIn,
    csrf_of,
    redeem_links,
    visible_text,
)

JOINED, OPEN = 801, 802  # challenges Maya is in, and one she may join

# The business's public resources: fetched once for every member, not once per member.
PUBLIC = ("/v2/businesses/", "/v2/levels/", "/v2/locations/", "/v2/challenges/")
PUBLIC += ("/v2/challenge-requirements/", "/v2/promotions/", "/v2/perks/")
MEMBER_PAGES = ("/", "/earn", "/rewards", "/vouchers", "/history", "/challenges", "/referrals")


class Counting(httpx2.AsyncBaseTransport):
    """The app's real transport to the sandbox, noting each upstream call's path."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)

    def public(self) -> list[str]:
        return [p for p in self.paths if p.startswith(PUBLIC)]


@pytest.fixture
def upstream(sandbox: Starlette) -> Counting:
    return Counting(httpx2.ASGITransport(app=sandbox))


def _client(settings: Settings, upstream: Counting, clock: FakeClock) -> TestClient:
    app = create_app(settings, perkville_transport=upstream, clock=clock)
    return TestClient(app, base_url=APP_URL, follow_redirects=False)


@pytest.fixture
def client(settings: Settings, upstream: Counting, clock: FakeClock) -> Iterator[TestClient]:
    """The member's browser on an app whose upstream calls are counted (replaces conftest's)."""
    with _client(settings, upstream, clock) as test_client:
        yield test_client


def _balance_shown(client: TestClient) -> str:
    match = re.search(r"([\d,]+) points", visible_text(client.get("/").text))
    assert match, "no balance on the home page"
    return match.group(1)


def test_warm_pages_fetch_only_the_members_own_data(
    sign_in: SignIn, client: TestClient, upstream: Counting, clock: FakeClock
) -> None:
    sign_in()
    for path in MEMBER_PAGES:
        assert client.get(path).status_code == 200, path
    clock.advance(60)  # the member's own data is out of date by now; the business's is not
    upstream.paths.clear()
    for path in MEMBER_PAGES:
        assert client.get(path).status_code == 200, path
    assert upstream.public() == []
    assert "/v2/connections/" in upstream.paths  # the balance is read again


def test_a_members_data_is_reused_briefly_then_read_again(
    sign_in: SignIn, client: TestClient, upstream: Counting, sandbox: Starlette, clock: FakeClock
) -> None:
    sign_in()
    assert _balance_shown(client) == "1,250"
    upstream.paths.clear()
    assert _balance_shown(client) == "1,250"
    assert upstream.paths == []  # a second look within seconds costs Perkville nothing

    # Points earned elsewhere (a check-in at the desk) show once the short cache runs out.
    sandbox.state.store.connections[MAYA_CONNECTION].point_balance = 1400
    assert _balance_shown(client) == "1,250"
    clock.advance(21)
    assert _balance_shown(client) == "1,400"


def test_a_redeem_shows_in_the_balance_at_once(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    assert _balance_shown(client) == "1,250"
    link = redeem_links(client.get("/rewards").text)[0]
    answer = client.post(link, data=parse_form(client.get(link).text).fields)
    assert answer.status_code == 303
    left = sandbox.state.store.connections[MAYA_CONNECTION].point_balance
    assert left < 1250
    assert _balance_shown(client) == f"{left:,}"
    assert f"You have {left:,} points." in visible_text(client.get("/rewards").text)


def test_marking_a_voucher_used_shows_in_the_list_at_once(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    listing = client.get("/vouchers").text
    unused = re.findall(r'href="(/vouchers/\d+)"', listing)
    target = next(v for v in unused if "Mark as used" in client.get(v).text)
    fields = parse_form(client.get(f"{target}/use").text).fields
    assert client.post(f"{target}/use", data=fields).status_code == 303
    detail = visible_text(client.get(target).text)
    assert "Mark as used" not in detail
    home = client.get("/").text
    assert f'href="{target}"' not in home  # no longer among the unused vouchers on home


def test_challenge_progress_comes_in_the_first_round_of_calls(
    sign_in: SignIn, settings: Settings, upstream: Counting, clock: FakeClock
) -> None:
    fresh = dataclasses.replace(settings, member_cache_seconds=0)  # every read reaches Perkville
    with _client(fresh, upstream, clock) as client:
        sign_in.client = client
        sign_in()
        client.get("/challenges")
        csrf = csrf_of(client, "/challenges")
        assert client.post(f"/challenges/{OPEN}/join", data={"csrf": csrf}).status_code == 303
        # The session knew only the challenge joined before: the new one's progress is read
        # in a second call, and the session learns of it.
        upstream.paths.clear()
        assert "Take 10 classes 0 of 10" in visible_text(client.get(f"/challenges/{OPEN}").text)
        assert len([p for p in upstream.paths if "requirement-summaries" in p]) == 2
        upstream.paths.clear()
        assert "Leave this challenge" in client.get(f"/challenges/{JOINED}").text
        assert len([p for p in upstream.paths if "requirement-summaries" in p]) == 1


def test_another_member_never_sees_a_cached_page_of_maya(
    sign_in: SignIn, client: TestClient, sandbox_client: TestClient
) -> None:
    sign_in()
    assert _balance_shown(client) == "1,250"
    client.post("/signout", data={"csrf": csrf_of(client, "/challenges")})
    sandbox_client.cookies.clear()  # a different person at Perkville too
    callback = sign_in.at_perkville(sign_in.start(), email="alex@example.com")
    assert sign_in.finish(callback).status_code == 303
    text = visible_text(client.get("/").text)
    assert "1,250" not in text
    assert "Maya" not in text


def test_public_data_is_shown_stale_while_it_is_refreshed(
    sign_in: SignIn, client: TestClient, sandbox: Starlette, clock: FakeClock
) -> None:
    sign_in()
    assert "Summit Rewards" in client.get("/").text
    business = sandbox.state.store.businesses[4]
    business.rewards_program_name = "Summit Stars"
    clock.advance(301)  # past five minutes: stale, still shown while Perkville is asked again
    assert "Summit Rewards" in client.get("/").text
    deadline = time.monotonic() + 5
    while "Summit Stars" not in client.get("/earn").text:
        assert time.monotonic() < deadline, "the business was never refreshed"
        time.sleep(0.02)


def test_with_the_member_cache_off_every_page_asks_for_the_members_data(
    sign_in: SignIn, settings: Settings, upstream: Counting, clock: FakeClock
) -> None:
    """MEMBER_APP_MEMBER_CACHE_SECONDS=0 (the speed bench's "fresh member data" and
    baseline runs): correct pages, the member's data read every time, public data still kept."""
    fresh = dataclasses.replace(settings, member_cache_seconds=0)
    with _client(fresh, upstream, clock) as client:
        sign_in.client = client
        sign_in()
        client.get("/rewards")
        for _ in range(2):
            upstream.paths.clear()
            text = visible_text(client.get("/rewards").text)
            assert "You have 1,250 points." in text
            assert "/v2/redeeming/" in upstream.paths
            assert upstream.public() == []


# --- the cache itself ---------------------------------------------------------------------


def test_concurrent_misses_share_one_upstream_call() -> None:
    calls = 0

    async def load() -> dict[str, object]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return {"n": calls}

    async def scenario() -> list[dict[str, object]]:
        cache = Cache(MemoryBackend())
        values = await asyncio.gather(*(cache.fetch("k", load, fresh=60) for _ in range(20)))
        values.append(await cache.fetch("k", load, fresh=60))
        await cache.aclose()
        return values

    assert asyncio.run(scenario()) == [{"n": 1}] * 21
    assert calls == 1


def test_a_failed_load_reaches_every_waiter_and_is_not_kept() -> None:
    attempts = 0

    async def load() -> dict[str, object]:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 1:
            raise RuntimeError("upstream down")
        return {"ok": True}

    async def scenario() -> tuple[list[object], dict[str, object]]:
        cache = Cache(MemoryBackend())
        first = await asyncio.gather(
            *(cache.fetch("k", load, fresh=60) for _ in range(3)), return_exceptions=True
        )
        again = await cache.fetch("k", load, fresh=60)
        await cache.aclose()
        return list(first), again

    first, again = asyncio.run(scenario())
    assert all(isinstance(e, RuntimeError) for e in first)
    assert again == {"ok": True}
    assert attempts == 2


def test_the_memory_backend_keeps_to_its_byte_budget_dropping_the_least_recently_used() -> None:
    async def scenario() -> tuple[list[bool], int]:
        backend = MemoryBackend(max_bytes=300)
        value = {"text": "x" * 80}  # about 90 bytes of JSON each
        for key in ("a", "b", "c"):
            await backend.set(key, Entry(0.0, value), 60)
        await backend.get("a")  # a is used again: b is now the oldest
        await backend.set("d", Entry(0.0, value), 60)
        await backend.set("huge", Entry(0.0, {"text": "x" * 200}), 60)  # over half: not kept
        present = [await backend.get(k) is not None for k in ("a", "b", "c", "d", "huge")]
        return present, backend.size

    present, size = asyncio.run(scenario())
    assert present == [True, False, True, True, False]
    assert size <= 300


def test_replicas_share_one_redis_cache(
    sign_in: SignIn,
    settings: Settings,
    upstream: Counting,
    clock: FakeClock,
    redis_url: str,
    sandbox: Starlette,
) -> None:
    """Two app processes behind a load balancer: same secrets, same Redis. What one fetched the
    other reads, and a member's action through one shows through the other at once."""
    shared = dataclasses.replace(settings, cache_url=redis_url)
    with _client(shared, upstream, clock) as first, _client(shared, upstream, clock) as second:
        sign_in.client = first
        sign_in()
        assert _balance_shown(first) == "1,250"
        first.get("/rewards")
        second.cookies = first.cookies
        upstream.paths.clear()
        assert _balance_shown(second) == "1,250"
        assert "You have 1,250 points." in visible_text(second.get("/rewards").text)
        assert upstream.paths == []  # all of it came from Redis

        link = redeem_links(first.get("/rewards").text)[0]
        answer = first.post(link, data=parse_form(first.get(link).text).fields)
        assert answer.status_code == 303
        second.cookies = first.cookies  # the load balancer sends the next page elsewhere
        left = sandbox.state.store.connections[MAYA_CONNECTION].point_balance
        assert _balance_shown(second) == f"{left:,}"
