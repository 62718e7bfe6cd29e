"""The app against Perkville as its API reference documents it (the sandbox's `reference`
profile), and against the sandbox's default profile alike: lists without counts, no `user=me`
but where the reference writes it, refusals with a generic code, no batch agreement endpoint;
and answers shaped as the reference allows (a redemption without its voucher, a write without
a body, a 501, a bare list).

The sandbox is real in every test. Where the reference allows an answer the sandbox does not
give, `Reshaped` rewrites the sandbox's own answer on its way back, as a proxy would.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from member_app import Settings, create_app
from member_app.sandbox import create_sandbox
from member_app.sandbox.profiles import PROFILES, Profile
from member_app.sandbox.records import Challenge

from .forms import parse_form
from .helpers import (
    APP_URL,
    JORDAN_CONNECTION,
    MAYA,
    MAYA_CONNECTION,
    PENDING_EMAIL,
    FakeClock,
    SignIn,
    balance,
    identify,
    visible_text,
)

TERMS_TITLE = "Summit Rewards program terms"


# --- the sandbox in each profile, and the app's calls to it -----------------------------------


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> Profile:
    value: Profile = request.param
    return value


@pytest.fixture
def sandbox(clock: FakeClock, profile: Profile) -> Starlette:
    """The conftest's sandbox, in each profile."""
    app = create_sandbox(redirect_uris=[f"{APP_URL}/auth/callback"], profile=profile)
    app.state.store.clock = clock.utc
    return app


class Recording(httpx2.AsyncBaseTransport):
    """The app's transport to the sandbox, noting every request it carries."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, calls: list[httpx2.Request]) -> None:
        self.inner = inner
        self.calls = calls

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.calls.append(request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def calls() -> list[httpx2.Request]:
    return []


@pytest.fixture
def app(
    settings: Settings, sandbox: Starlette, clock: FakeClock, calls: list[httpx2.Request]
) -> Starlette:
    transport = Recording(httpx2.ASGITransport(app=sandbox), calls)
    return create_app(settings, perkville_transport=transport, clock=clock)


Reshape = Callable[[int, Any], tuple[int, Any]]


class Reshaped:
    """The sandbox, with its answers to one kind of request (a method, and a path or the start
    of one) rewritten on their way back (the answer's status and JSON body in, a status and a
    body out; `None` for no body at all), as a Perkville shaped otherwise would send them.
    Everything else passes untouched."""

    def __init__(self, app: ASGIApp, method: str, path: str, reshape: Reshape) -> None:
        self.app, self.method, self.path, self.reshape = app, method, path, reshape
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = scope["type"] == "http" and scope["method"] == self.method
        if not wanted or not str(scope["path"]).startswith(self.path):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        self.count += 1
        raw = b"".join(chunks)
        status, body = self.reshape(start["status"], json.loads(raw) if raw else None)
        data = b"" if body is None else json.dumps(body).encode()
        headers = [(b"content-length", str(len(data)).encode())]
        if data:
            headers.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})


@contextmanager
def app_through(
    settings: Settings, sandbox: Starlette, clock: FakeClock, upstream: ASGIApp
) -> Iterator[TestClient]:
    """A browser on an app that reaches the sandbox through `upstream` (a `Reshaped`)."""
    app = create_app(settings, perkville_transport=httpx2.ASGITransport(app=upstream), clock=clock)
    with TestClient(app, base_url=APP_URL, follow_redirects=False) as client:
        yield client


def _link(sandbox: Starlette, title: str) -> str:
    """The redeem confirmation of the reward called `title`."""
    perk = next(p.perk_id for p in sandbox.state.store.perks.values() if p.title == title)
    return f"/rewards/{perk}/redeem"


def redeem(client: TestClient, sandbox: Starlette, title: str) -> httpx2.Response:
    """Confirm and post the redemption of the reward called `title`."""
    link = _link(sandbox, title)
    form = parse_form(client.get(link).text)
    return client.post(link, data=form.fields)


def maya_vouchers(sandbox: Starlette) -> set[int]:
    return {v.voucher_id for v in sandbox.state.store.vouchers.values() if v.user_id == MAYA}


# --- paging without counts ------------------------------------------------------------------


def test_history_pages_older_and_newer_without_a_count(
    sign_in: SignIn, client: TestClient, sandbox: Starlette, calls: list[httpx2.Request]
) -> None:
    sign_in()
    store = sandbox.state.store
    shown = [
        t
        for t in store.transactions.values()
        if t.user_id == MAYA and t.business_id == 4 and t.transaction_status != "VOID_REF"
    ]
    seen: list[str] = []
    path: str | None = "/history"
    pages = 0
    while path is not None:
        page = client.get(path)
        assert page.status_code == 200
        seen += re.findall(r'<li class="history-line', page.text)
        if pages:
            assert re.search(r'rel="prev" href="/history(\?offset=\d+)?"', page.text)  # Newer
        older = re.search(r'rel="next" href="(/history\?offset=\d+)"', page.text)
        path = older.group(1) if older else None
        pages += 1
    assert pages == -(-len(shown) // 20) > 1
    assert len(seen) == len(shown)
    # Each page asks for one line more than it shows: that line says whether there are more.
    history = [c for c in calls if c.url.path == "/v2/transactions/"]
    assert {parse_qs(c.url.query.decode())["limit"][0] for c in history} == {"21"}


def test_lists_read_whole_go_on_while_pages_come_back_full(
    sign_in: SignIn, client: TestClient, sandbox: Starlette, calls: list[httpx2.Request]
) -> None:
    """Challenges are read whole. With no `next` in `meta` (the reference profile), a full page
    means there may be more, and a short one is the last."""
    store = sandbox.state.store
    for n in range(150):  # past challenges, more than one page of them
        store.challenges[9000 + n] = Challenge(
            9000 + n,
            4,
            f"Old challenge {n}",
            f"old-{n}",
            start_date="2025-01-01",
            end_date="2025-01-31",
        )
    sign_in()
    assert client.get("/challenges").status_code == 200
    reads = [
        parse_qs(c.url.query.decode())["offset"][0]
        for c in calls
        if c.url.path == "/v2/challenges/"
    ]
    assert reads == ["0", "100"]
    assert "Holiday Hustle" in visible_text(client.get("/challenges").text)


# --- no `user=me` but where the reference writes it --------------------------------------------


def test_challenges_and_home_filter_by_the_members_id(
    sign_in: SignIn, client: TestClient, calls: list[httpx2.Request]
) -> None:
    sign_in()
    home = visible_text(client.get("/").text)
    assert "Your challenges" in home and "November Check-In Challenge" in home
    page = client.get("/challenges")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "November Check-In Challenge" in text and "1 of 2 goals done" in text
    connections = [c for c in calls if c.url.path == "/v2/challenge-connections/"]
    assert connections
    for call in connections:
        assert parse_qs(call.url.query.decode())["connection__user"] == [str(MAYA)]
    # `me` only where the reference writes it: GET /v2/users/me/ (and nowhere in a filter).
    assert all("=me" not in c.url.query.decode() for c in calls)
    assert any(c.url.path == "/v2/users/me/" for c in calls)


def test_joining_a_challenge(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    detail = client.get("/challenges")
    found = re.search(r'href="/challenges/(\d+)"[^>]*>\s*Holiday Hustle', detail.text)
    challenge = found.group(1) if found else _challenge_id(detail.text, "Holiday Hustle")
    csrf = parse_form(client.get(f"/challenges/{challenge}").text).fields["csrf"]
    joined = client.post(f"/challenges/{challenge}/join", data={"csrf": csrf})
    assert joined.status_code == 303
    assert joined.headers["location"].endswith("?joined=1")
    assert "In progress" in visible_text(client.get(joined.headers["location"]).text)


def _challenge_id(html: str, name: str) -> str:
    for href, words in re.findall(r'href="/challenges/(\d+)"[^>]*>(.*?)</a>', html, re.S):
        if name in words:
            return str(href)
    raise AssertionError(f"no link to {name}")


# --- referrals: the friend ------------------------------------------------------------------


def _no_referral_emails(status: int, body: Any) -> tuple[int, Any]:
    """GET /v2/referrals/ as the reference's GET example and Fields show it: the friend as a
    user URI (`referral_to_user`), no `referral_to_email`."""
    for referral in body.get("objects", []):
        referral.pop("referral_to_email", None)
    return status, body


def test_the_referred_friend_is_named_by_email_or_as_your_friend(
    settings: Settings,
    sandbox: Starlette,
    sandbox_client: TestClient,
    clock: FakeClock,
) -> None:
    upstream = Reshaped(sandbox, "GET", "/v2/referrals/", _no_referral_emails)
    with app_through(settings, sandbox, clock, upstream) as client:
        SignIn(client, sandbox_client)()
        page = client.get("/referrals")
        assert page.status_code == 200
        text = visible_text(page.text)
        # Riley has an account, which Maya's token may not read (reference, User): "Your
        # friend"; so are the friends without one yet.
        assert "Your friend Completed Referred Oct 2, 2026 · Completed Oct 15, 2026" in text
        assert "Your friend Sent Referred Nov 18, 2026" in text
        assert "@example" not in text.split("Your referrals", 1)[1]


def test_an_identified_member_reads_the_friends_name(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """The staff token acting for an identified member may read the business's customers
    (reference, User): Riley is named."""
    upstream = Reshaped(sandbox, "GET", "/v2/referrals/", _no_referral_emails)
    identifying = dataclasses.replace(settings, signin_flow="identify")
    with app_through(identifying, sandbox, clock, upstream) as client:
        identify(client, sandbox_client)
        text = visible_text(client.get("/referrals").text)
        assert "Riley Chen Completed Referred Oct 2, 2026" in text
        assert "Your friend Sent Referred Nov 18, 2026" in text


def test_referrals_list_and_refer_a_friend(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    text = visible_text(client.get("/referrals").text)
    assert "Completed Referred Oct 2, 2026 · Completed Oct 15, 2026" in text
    form = parse_form(client.get("/referrals").text)
    sent = client.post("/referrals", data={**form.fields, "email": "robin@example.net"})
    assert sent.status_code == 303
    # An existing customer is refused (a named code, or the reference's generic one under
    # the email): said next to the email, with what to do.
    form = parse_form(client.get("/referrals").text)
    refused = client.post("/referrals", data={**form.fields, "email": PENDING_EMAIL})
    assert refused.status_code == 400
    said = visible_text(refused.text)
    assert "already a customer" in said or "may already be a member" in said


# --- joining with required agreements ---------------------------------------------------------


def test_joining_with_required_terms(
    sign_in: SignIn,
    client: TestClient,
    sandbox: Starlette,
    sandbox_client: TestClient,
    profile: str,
) -> None:
    sign_in.finish(sign_in.at_perkville(sign_in.start(), email=PENDING_EMAIL))
    csrf = parse_form(client.get("/join").text).fields["csrf"]
    answer = client.post("/join", data={"csrf": csrf, "agree-62": "yes"})
    assert answer.status_code == 303
    store = sandbox.state.store
    if profile == "default":  # the batch agreement endpoint records the terms: joined here
        assert answer.headers["location"] == "/?joined=1"
        assert store.connections[JORDAN_CONNECTION].status == "ACTIVE"
        return
    # No batch endpoint (a 404): the terms are accepted on the business's Perkville page.
    assert answer.headers["location"] == "/join?elsewhere=1"
    page = client.get(answer.headers["location"])
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Finish joining on the rewards website" in text
    assert TERMS_TITLE in text
    assert 'href="http://sandbox.test/biz/4/"' in page.text
    assert store.connections[JORDAN_CONNECTION].status == "PENDING"
    check = re.search(r'href="(/join\?elsewhere=1&amp;check=1)"', page.text)
    assert check, "no way back"
    again = client.get(check.group(1).replace("&amp;", "&"))
    assert "You haven't joined yet" in visible_text(again.text)
    # Jordan joins on the website; back in the app, checking again finds them joined.
    store.connections[JORDAN_CONNECTION].status = "ACTIVE"
    back = client.get(check.group(1).replace("&amp;", "&"))
    assert back.status_code == 303
    assert back.headers["location"] == "/"


# --- redeeming ------------------------------------------------------------------------------


def test_redeem_spends_once_and_shows_the_voucher(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    before, vouchers = balance(sandbox), maya_vouchers(sandbox)
    answer = redeem(client, sandbox, "Free smoothie")
    assert answer.status_code == 303
    assert re.fullmatch(r"/vouchers/\d+\?redeemed=1", answer.headers["location"])
    assert balance(sandbox) == before - 150
    assert len(maya_vouchers(sandbox) - vouchers) == 1
    assert "Redeemed!" in visible_text(client.get(answer.headers["location"]).text)


def test_not_enough_points_is_said_in_the_members_words(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    """The one refusal code the reference names: `pv_txn_insufficient_points`."""
    sign_in()
    link = _link(sandbox, "Free smoothie")
    form = parse_form(client.get(link).text)
    sandbox.state.store.connections[MAYA_CONNECTION].point_balance = 10  # spent elsewhere
    answer = client.post(link, data=form.fields)
    assert answer.status_code == 400
    assert "You don't have enough points to redeem this reward." in visible_text(answer.text)
    assert balance(sandbox) == 10


def test_a_refusal_with_a_code_the_app_does_not_know_says_the_likely_reason(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    """The water bottle is once per member. Confirmed in two tabs, the second tab's redemption
    is refused: the default profile names the code, the reference profile sends its generic
    `invalid`; either way the member reads why, from what the app knows of the reward."""
    sign_in()
    link = _link(sandbox, "Summit water bottle")
    first_tab = parse_form(client.get(link).text)
    second_tab = parse_form(client.get(f"{link}?again=1").text)
    assert client.post(link, data=second_tab.fields).status_code == 303
    before = balance(sandbox)
    answer = client.post(link, data=first_tab.fields)
    assert answer.status_code == 400
    text = visible_text(answer.text)
    assert "You've reached" in text and "limit for this reward" in text
    assert balance(sandbox) == before


def _lose_the_first_answer(upstream: list[Reshaped]) -> Reshape:
    def reshape(status: int, body: Any) -> tuple[int, Any]:
        if upstream[0].count == 1:  # carried out, then the answer never came back
            return 502, None
        return status, body

    return reshape


def test_a_redeem_replayed_after_a_lost_answer_spends_once(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """The replay is refused as a duplicate: a named code (default) or the reference's generic
    one under the `trans_source_id` field. The app finds the first try's transaction."""
    holder: list[Reshaped] = []
    upstream = Reshaped(sandbox, "POST", "/v2/transactions/", _lose_the_first_answer(holder))
    holder.append(upstream)
    with app_through(settings, sandbox, clock, upstream) as client:
        SignIn(client, sandbox_client)()
        before, vouchers = balance(sandbox), maya_vouchers(sandbox)
        answer = redeem(client, sandbox, "Free smoothie")
        assert upstream.count == 2
        assert answer.status_code == 303, visible_text(answer.text)
        made = maya_vouchers(sandbox) - vouchers
        assert len(made) == 1
        assert answer.headers["location"] == f"/vouchers/{made.pop()}?redeemed=1"
        assert balance(sandbox) == before - 150


def test_any_refusal_of_a_replayed_redeem_looks_the_first_try_up(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """However the replay is refused (here a bare `__all__` error), the first try may have
    spent the points: the transaction with the same trans_source_id is looked up."""
    holder: list[Reshaped] = []

    def reshape(status: int, body: Any) -> tuple[int, Any]:
        if holder[0].count == 1:
            return 502, None
        refused = {"__all__": [{"code": "invalid", "message": "Not enough points."}]}
        return 400, {"error_type": "invalid_request_error", "errors": refused}

    upstream = Reshaped(sandbox, "POST", "/v2/transactions/", reshape)
    holder.append(upstream)
    with app_through(settings, sandbox, clock, upstream) as client:
        SignIn(client, sandbox_client)()
        before = balance(sandbox)
        answer = redeem(client, sandbox, "Free smoothie")
        assert answer.status_code == 303
        assert re.fullmatch(r"/vouchers/\d+\?redeemed=1", answer.headers["location"])
        assert balance(sandbox) == before - 150


def _without_voucher(status: int, body: Any) -> tuple[int, Any]:
    body.pop("voucher", None)
    return status, body


def test_a_redemption_answered_without_its_voucher_finds_it(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """Reference, Transaction — Returns: "the voucher property will only appear if the
    transaction actually has a voucher". The transaction as Perkville lists it names it."""
    upstream = Reshaped(sandbox, "POST", "/v2/transactions/", _without_voucher)
    with app_through(settings, sandbox, clock, upstream) as client:
        SignIn(client, sandbox_client)()
        vouchers = maya_vouchers(sandbox)
        answer = redeem(client, sandbox, "Free smoothie")
        made = maya_vouchers(sandbox) - vouchers
        assert answer.headers["location"] == f"/vouchers/{made.pop()}?redeemed=1"


def test_a_redemption_with_no_voucher_anywhere_goes_to_the_vouchers(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    posted = Reshaped(sandbox, "POST", "/v2/transactions/", lambda status, body: (201, None))

    def unnamed(status: int, body: Any) -> tuple[int, Any]:
        for txn in body.get("objects", []):
            txn.pop("voucher", None)
        return status, body

    upstream = Reshaped(posted, "GET", "/v2/transactions/", unnamed)
    with app_through(settings, sandbox, clock, upstream) as client:
        SignIn(client, sandbox_client)()
        before = balance(sandbox)
        answer = redeem(client, sandbox, "Free smoothie")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/vouchers?redeemed=1"
        assert balance(sandbox) == before - 150
        page = visible_text(client.get(answer.headers["location"]).text)
        assert "Redeemed! Your new voucher is listed here" in page
        assert "points were not spent" not in page


# --- vouchers and marking one used -----------------------------------------------------------


def _voucher_links(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'href="(/vouchers/\d+)"', html)))


def test_vouchers_and_marking_one_used(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    listing = client.get("/vouchers")
    assert listing.status_code == 200
    first = _voucher_links(listing.text)[0]
    detail = client.get(first)
    assert detail.status_code == 200
    assert client.get(f"{first}/code.svg").status_code == 200
    csrf = parse_form(client.get(f"{first}/use").text).fields["csrf"]
    used = client.post(f"{first}/use", data={"csrf": csrf})
    assert used.status_code == 303
    assert used.headers["location"] == f"{first}?used=1"
    voucher_id = int(first.rsplit("/", 1)[1])
    assert sandbox.state.store.vouchers[voucher_id].status == "USED"


def test_marking_used_answered_without_a_body_is_done(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """A 2xx without a body (a 204) to a write is success: the voucher is read back."""
    upstream = Reshaped(sandbox, "PATCH", "/v2/user-vouchers/", lambda status, body: (204, None))
    with app_through(settings, sandbox, clock, upstream) as client:
        SignIn(client, sandbox_client)()
        first = _voucher_links(client.get("/vouchers").text)[0]
        csrf = parse_form(client.get(f"{first}/use").text).fields["csrf"]
        used = client.post(f"{first}/use", data={"csrf": csrf})
        assert used.status_code == 303, visible_text(used.text)
        assert used.headers["location"] == f"{first}?used=1"
        assert upstream.count == 1
        assert sandbox.state.store.vouchers[int(first.rsplit("/", 1)[1])].status == "USED"


def test_a_write_perkville_does_not_implement_is_said_not_retried(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """Reference, Handling Errors: 501 "Method Not Implemented". Not Perkville being down:
    asked once, no circuit breaker, and the page says the action isn't available here."""

    def not_implemented(status: int, body: Any) -> tuple[int, Any]:
        refused = {"__all__": [{"code": "invalid", "message": "Method not implemented."}]}
        return 501, {"error_type": "invalid_request_error", "errors": refused}

    upstream = Reshaped(sandbox, "PATCH", "/v2/user-vouchers/", not_implemented)
    with app_through(settings, sandbox, clock, upstream) as client:
        SignIn(client, sandbox_client)()
        first = _voucher_links(client.get("/vouchers").text)[0]
        csrf = parse_form(client.get(f"{first}/use").text).fields["csrf"]
        answer = client.post(f"{first}/use", data={"csrf": csrf})
        assert answer.status_code == 400
        assert "isn't available in this app" in visible_text(answer.text)
        assert upstream.count == 1
        assert client.get("/vouchers").status_code == 200  # Perkville is not "down"


def test_a_voucher_id_that_is_not_a_number_is_a_clear_page(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    for path in ("/vouchers/AB-12", "/vouchers/AB-12/use", "/vouchers/a.b"):
        page = client.get(path)
        assert page.status_code == 404
        assert "We can't find that voucher" in visible_text(page.text)


# --- odd shapes ---------------------------------------------------------------------------------


def test_the_rewards_read_from_a_bare_list_or_a_bare_rule(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """Reference, Redeeming Rules — Example Response: a bare rule object, not a list body."""
    bare_list = Reshaped(
        sandbox, "GET", "/v2/redeeming/", lambda status, body: (status, body["objects"])
    )
    with app_through(settings, sandbox, clock, bare_list) as client:
        SignIn(client, sandbox_client)()
        assert "Free smoothie" in visible_text(client.get("/rewards").text)
    first_rule = Reshaped(
        sandbox, "GET", "/v2/redeeming/", lambda status, body: (status, body["objects"][0])
    )
    with app_through(settings, sandbox, clock, first_rule) as client:
        SignIn(client, sandbox_client)()
        page = client.get("/rewards")
        assert page.status_code == 200
        assert len(re.findall(r'href="/rewards/\d+/redeem"', page.text)) <= 1


def test_a_record_without_its_id_is_a_clear_page_not_a_crash(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    def no_ids(status: int, body: Any) -> tuple[int, Any]:
        for connection in body.get("objects", []):
            connection["connection_id"] = None
        body.setdefault("meta", {})["total_count"] = None
        return status, body

    upstream = Reshaped(sandbox, "GET", "/v2/connections/", no_ids)
    with app_through(settings, sandbox, clock, upstream) as client:
        SignIn(client, sandbox_client)()
        page = client.get("/rewards")
        assert page.status_code == 502
        assert "We couldn't load this page" in visible_text(page.text)
        assert client.get("/history").status_code == 200


def test_null_counts_and_odd_meta_page_the_history(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    def odd(status: int, body: Any) -> tuple[int, Any]:
        body["meta"] = {"total_count": None, "next": None, "limit": "20"}
        return status, body

    upstream = Reshaped(sandbox, "GET", "/v2/transactions/", odd)
    with app_through(settings, sandbox, clock, upstream) as client:
        SignIn(client, sandbox_client)()
        page = client.get("/history")
        assert page.status_code == 200
        assert 'rel="next" href="/history?offset=20"' in page.text  # the extra line came


# --- the kiosk, with no sign-out page at Perkville ---------------------------------------------


def test_a_kiosk_without_a_logout_url_keeps_nothing_of_the_member(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """With no sign-out page to send the browser through, the app's sign-out still forgets
    the member here; Authlib's authorize works whether or not Perkville honours `prompt`."""
    kiosk = dataclasses.replace(settings, mode="kiosk", perkville_logout_url=None)
    with app_through(kiosk, sandbox, clock, sandbox) as client:
        sign_in = SignIn(client, sandbox_client)
        authorize = sign_in.start()
        assert parse_qs(urlsplit(authorize).query)["prompt"] == ["login"]
        assert sign_in.finish(sign_in.at_perkville(authorize)).status_code == 303
        assert "1,250" in client.get("/").text
        form = parse_form(client.get("/").text)
        done = client.post("/signout", data={"csrf": form.fields["csrf"]})
        assert done.status_code == 303
        assert done.headers["location"] == "/?signed_out=1"
        assert done.headers["clear-site-data"] == '"cache", "cookies", "storage"'
        assert "1,250" not in client.get("/").text
        assert client.get("/vouchers").status_code == 303  # signed out: to sign in


# --- an identified member (the staff token acting for them) ------------------------------------


def test_an_identified_member_browses_with_ids_in_every_filter(
    settings: Settings,
    sandbox: Starlette,
    sandbox_client: TestClient,
    clock: FakeClock,
    calls: list[httpx2.Request],
) -> None:
    identifying = dataclasses.replace(settings, signin_flow="identify")
    transport = Recording(httpx2.ASGITransport(app=sandbox), calls)
    app = create_app(identifying, perkville_transport=transport, clock=clock)
    with TestClient(app, base_url=APP_URL, follow_redirects=False) as client:
        identify(client, sandbox_client)
        for path in ("/", "/rewards", "/vouchers", "/challenges", "/history", "/earn"):
            page = client.get(path)
            assert page.status_code == 200, (path, visible_text(page.text)[:300])
        assert "November Check-In Challenge" in visible_text(client.get("/challenges").text)
    assert all("=me" not in c.url.query.decode() for c in calls)
    assert not any(c.url.path == "/v2/users/me/" for c in calls)
