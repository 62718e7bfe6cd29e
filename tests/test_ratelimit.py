"""Rate limits: sign-in starts, redeems and referrals, per session and per address;
over a limit the member gets a plain page that says how long to wait, and nothing changes."""

from __future__ import annotations

import dataclasses
import re
import secrets

from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.ratelimit import LIMITS

from .forms import parse_form
from .helpers import APP_URL, FakeClock, SignIn, balance, redeem_links, visible_text


def _allowed(action: str, which: int) -> int:
    return int(LIMITS[action][which].split("/")[0])


def test_too_many_sign_in_starts_from_one_address_are_slowed_down(client: TestClient) -> None:
    for _ in range(_allowed("signin", 1)):
        assert client.get("/signin").status_code == 302
    refused = client.get("/signin")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    text = visible_text(refused.text)
    assert "Please try again in a minute." in text
    assert "Nothing was changed." in text


def test_redeeming_is_limited_per_session_and_the_refused_one_spends_nothing(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    link = redeem_links(client.get("/rewards").text)[0]
    csrf = parse_form(client.get(link).text).fields["csrf"]

    def redeem() -> int:
        # A new confirmation each time (as "Redeem again" makes); Perkville may refuse some for
        # points or limits, which still counts as a try.
        attempt = secrets.token_urlsafe(16)
        return client.post(link, data={"csrf": csrf, "attempt": attempt}).status_code

    assert {redeem() for _ in range(_allowed("redeem", 0))} <= {303, 400}
    before = balance(sandbox)
    refused = client.post(link, data={"csrf": csrf, "attempt": secrets.token_urlsafe(16)})
    assert refused.status_code == 429
    assert balance(sandbox) == before
    assert "Please wait a moment" in visible_text(refused.text)


def test_referrals_are_limited_per_session(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    store = sandbox.state.store
    for i in range(_allowed("refer", 0)):
        fields = parse_form(client.get("/referrals").text).fields
        answer = client.post("/referrals", data={**fields, "email": f"friend{i}@example.org"})
        assert answer.status_code == 303, answer.text
    sent = len(store.referrals)
    fields = parse_form(client.get("/referrals").text).fields
    refused = client.post("/referrals", data={**fields, "email": "one-more@example.org"})
    assert refused.status_code == 429
    assert len(store.referrals) == sent
    assert not any(r.to_email == "one-more@example.org" for r in store.referrals.values())


def test_replicas_count_together_through_redis(
    settings: Settings, sandbox: Starlette, clock: FakeClock, redis_url: str
) -> None:
    import httpx2

    shared = dataclasses.replace(settings, cache_url=redis_url)
    transport = httpx2.ASGITransport(app=sandbox)
    apps = [create_app(shared, perkville_transport=transport, clock=clock) for _ in range(2)]
    # A fresh address, so no earlier test's count in the shared Redis applies.
    address = f"203.0.113.{re.sub(r'[^0-9]', '', str(id(apps)))[-2:]}"
    with (
        TestClient(apps[0], base_url=APP_URL, client=(address, 1), follow_redirects=False) as first,
        TestClient(
            apps[1], base_url=APP_URL, client=(address, 2), follow_redirects=False
        ) as second,
    ):
        allowed = _allowed("signin", 1)
        statuses = [(first if i % 2 else second).get("/signin").status_code for i in range(allowed)]
        assert set(statuses) == {302}
        assert first.get("/signin").status_code == 429
        assert second.get("/signin").status_code == 429
