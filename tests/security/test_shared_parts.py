"""What every visitor shares: the staff token's calls to Perkville, the circuit breakers, the
in-process cache and the rate limits. No one visitor, signed in or not, can wear them out for
the others or slip past them by starting a new session."""

from __future__ import annotations

import dataclasses
import secrets
from collections import Counter

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings
from member_app.cache import MEMBER_BYTES, SplitMemoryBackend
from member_app.ratelimit import LIMITS
from member_app.sandbox.conditions import Conditions

from ..forms import parse_form
from ..helpers import SignIn, balance, visible_text

REWARD = "/rewards/201/redeem"  # a free smoothie, 150 points: Maya can afford it
TOO_DEAR = "/rewards/205/redeem"  # a month free, 2,000 points: more than Maya has


def conditions(sandbox: Starlette) -> Conditions:
    found: Conditions = sandbox.state.conditions
    return found


def allowed(action: str, which: int) -> int:
    """How many of `action` a limit lets through a minute: 0 per session and member, 1 per
    address."""
    return int(LIMITS[action][which].split("/")[0])


def identify_mode(settings: Settings) -> Settings:
    return dataclasses.replace(settings, signin_flow="identify")


class TestIdentifyMode:
    """The Identify User Flow is on: each anonymous start costs a staff-token call."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return identify_mode(settings)

    def test_anonymous_identify_starts_are_rate_limited_per_address(
        self, client: TestClient, sandbox: Starlette
    ) -> None:
        per_address = allowed("signin", 1)  # 120 a minute
        asked = conditions(sandbox).by_label["api"]
        answers = Counter(
            client.get("/signin/identify").status_code for _ in range(per_address + 10)
        )
        assert answers[429] >= 10, answers
        assert answers[302] <= per_address, answers
        # Perkville's identify endpoint heard from us once per start let through, no more.
        assert conditions(sandbox).by_label["api"] - asked == answers[302]

    def test_a_failing_identify_endpoint_never_breaks_a_members_pages(
        self,
        sign_in: SignIn,
        client: TestClient,
        other_browser: SignIn,
        sandbox: Starlette,
    ) -> None:
        sign_in.finish(sign_in.at_perkville(sign_in.start("/signin?pkce=1")))
        conditions(sandbox).update(
            {"fault_rate": 1.0, "faults": ["503"], "fault_paths": ["/api/identify/"]}
        )
        # Visitors (or one attacker) keep starting the identify flow until its breaker opens:
        # the app then stops asking Perkville's identify endpoint at all.
        for _ in range(5):
            assert other_browser.client.get("/signin/identify").status_code == 502
        asked = conditions(sandbox).faults_injected["503"]
        assert other_browser.client.get("/signin/identify").status_code == 502
        assert conditions(sandbox).faults_injected["503"] == asked  # the breaker is open
        # The signed-in member's pages read other endpoints: they work as before.
        for page in ("/history", "/vouchers", "/rewards"):
            answer = client.get(page)
            assert answer.status_code == 200, page
            assert "isn't answering" not in visible_text(answer.text)


def test_dates_typed_by_a_member_never_fill_the_cache_nor_push_out_public_data(
    sign_in: SignIn, client: TestClient, app: Starlette, sandbox: Starlette
) -> None:
    sign_in()
    assert client.get("/history").status_code == 200
    assert client.get("/challenges").status_code == 200
    backend = app.state.member_app.perkville._cache._backend
    assert isinstance(backend, SplitMemoryBackend)
    member, public = backend.member.size, backend.public.size
    asked = conditions(sandbox).by_label["v2"]
    for day in range(1, 31):
        assert client.get(f"/history?from=2026-01-{day:02d}").status_code == 200
    assert backend.member.size == member  # no entry for any of the 30 dates
    assert conditions(sandbox).by_label["v2"] - asked >= 30  # each was Perkville's answer
    # The member pages through every cached page of each kind of history, then signs in
    # again (a new session, new cache entries) and does it again: more member entries than
    # their budget holds, which push out older member entries only.
    for again in (False, True):
        if again:
            sign_in()
        for kind in ("all", "earned", "redeemed"):
            for offset in range(101):
                answer = client.get(f"/history?kind={kind}&offset={offset}")
                assert answer.status_code == 200
    assert backend.member.size > MEMBER_BYTES - 64 * 1024  # the member budget is full
    assert backend.public.size == public  # the business's data is all still there


def test_signing_in_again_does_not_reset_the_redeem_limit(
    sign_in: SignIn, client: TestClient, other_browser: SignIn, sandbox: Starlette
) -> None:
    sign_in()
    before = balance(sandbox)
    # Ten tries in a minute at a reward she can't afford (Perkville refuses each: still tries).
    confirmation = parse_form(client.get(TOO_DEAR).text).fields
    for _ in range(allowed("redeem", 0)):
        tried = client.post(TOO_DEAR, data={**confirmation, "attempt": secrets.token_urlsafe(16)})
        assert tried.status_code == 400
    refused = client.post(TOO_DEAR, data={**confirmation, "attempt": secrets.token_urlsafe(16)})
    assert refused.status_code == 429
    # A fresh session for the same member, in another browser, for a reward she can afford:
    # still over the limit, nothing spent.
    other_browser()
    again = other_browser.client
    fresh = parse_form(again.get(REWARD).text).fields
    refused = again.post(REWARD, data={**fresh, "attempt": secrets.token_urlsafe(16)})
    assert refused.status_code == 429
    assert "Please wait a moment" in visible_text(refused.text)
    assert balance(sandbox) == before
