"""Joining the program: the terms to accept, the join itself, and who is sent where."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app

from .forms import parse_form
from .helpers import APP_URL, FakeClock, SignIn, visible_text

JORDAN, JORDAN_CONNECTION = 1003, 3003
TERMS, SMS = 62, 63


def status_of(sandbox: Starlette, connection_id: int = JORDAN_CONNECTION) -> str:
    return str(sandbox.state.store.connections[connection_id].status)


def accepted(sandbox: Starlette, user_id: int = JORDAN) -> set[int]:
    return {
        a.agreement_version_id
        for a in sandbox.state.store.user_agreements.values()
        if a.user_id == user_id
    }


def sign_in_as(sign_in: SignIn, email: str) -> None:
    response = sign_in.finish(sign_in.at_perkville(sign_in.start(), email=email))
    assert response.status_code == 303


@pytest.fixture
def jordan(sign_in: SignIn, client: TestClient) -> TestClient:
    """The pending member, signed in."""
    sign_in_as(sign_in, "pending@example.com")
    return client


def csrf_of(client: TestClient) -> str:
    return parse_form(client.get("/").text).fields["csrf"]


def test_pending_member_sees_the_join_page_with_the_required_terms(jordan: TestClient) -> None:
    response = jordan.get("/join")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "Join Summit Rewards" in text
    assert "Your 120 points are waiting." in text
    assert "Get 50 bonus points for joining." in text
    # Each agreement by its title, its version small, then its text: the program's words.
    assert "Summit Rewards program terms Version 2026.09 By joining Summit Rewards" in text
    assert '<legend class="agreement-kind">Summit Rewards program terms</legend>' in response.text
    assert '<p class="meta agreement-version">Version 2026.09</p>' in response.text
    assert "points and rewards have no cash value" in text
    assert '<a href="https://summit-fitness.example/rewards/rules"' in response.text
    assert re.search(
        r'<input type="checkbox" name="agree-62" value="yes"[^>]* required', response.text
    )
    # The optional one is shown, not required.
    assert "Text message offers Optional · Version 1.0 Send me occasional offers" in text
    assert re.search(r'name="agree-63"(?![^>]*required)[^>]*>', response.text)
    # No words of the service behind the program: members know their gym's rewards.
    assert "Required" not in text
    assert "Perkville" not in text


def test_an_agreement_without_a_name_is_titled_in_the_programs_words(
    jordan: TestClient, sandbox: Starlette
) -> None:
    for version in sandbox.state.store.agreement_versions.values():
        version.agreement_internal_name = ""
    text = visible_text(jordan.get("/join").text)
    assert "Summit Rewards terms Version 2026.09 By joining" in text
    assert "Optional extra Optional · Version 1.0 Send me" in text


def test_home_notice_links_to_the_join_page(jordan: TestClient) -> None:
    page = jordan.get("/").text
    assert "haven't joined Summit Rewards yet" in visible_text(page)
    assert 'href="/join">Join now</a>' in page


def test_joining_without_ticking_the_terms_is_refused(
    jordan: TestClient, sandbox: Starlette
) -> None:
    response = jordan.post("/join", data={"csrf": csrf_of(jordan), "agree-63": "yes"})
    assert response.status_code == 400
    assert "To join, tick the box to accept the program terms." in visible_text(response.text)
    assert re.search(r'name="agree-63"[^>]* checked', response.text)  # the member's tick kept
    assert status_of(sandbox) == "PENDING"
    assert accepted(sandbox) == set()


def test_ticking_the_terms_joins_and_home_welcomes(jordan: TestClient, sandbox: Starlette) -> None:
    response = jordan.post("/join", data={"csrf": csrf_of(jordan), "agree-62": "yes"})
    assert response.status_code == 303
    assert response.headers["location"] == "/?joined=1"
    assert status_of(sandbox) == "ACTIVE"
    assert accepted(sandbox) == {TERMS}  # the optional one was not ticked
    home = visible_text(jordan.get(response.headers["location"]).text)
    assert "Welcome to Summit Rewards!" in home
    assert "haven't joined" not in home
    assert "170 points" in home  # 120 waiting + the 50-point join bonus
    # Joined now: the join page sends them home, and redeeming is open.
    assert jordan.get("/join").headers["location"] == "/"
    assert jordan.get("/rewards/201/redeem").status_code == 200


def test_optional_agreement_is_recorded_when_ticked(jordan: TestClient, sandbox: Starlette) -> None:
    data = {"csrf": csrf_of(jordan), "agree-62": "yes", "agree-63": "yes"}
    assert jordan.post("/join", data=data).status_code == 303
    assert accepted(sandbox) == {TERMS, SMS}


def test_joining_needs_the_form_token(jordan: TestClient, sandbox: Starlette) -> None:
    response = jordan.post("/join", data={"agree-62": "yes"})
    assert response.status_code == 403
    assert status_of(sandbox) == "PENDING"


def test_membership_not_active_is_explained(jordan: TestClient, sandbox: Starlette) -> None:
    sandbox.state.store.connections[JORDAN_CONNECTION].external_membership_status = "INACTIVE"
    response = jordan.post("/join", data={"csrf": csrf_of(jordan), "agree-62": "yes"})
    assert response.status_code == 400
    assert "This program is for active members." in visible_text(response.text)
    assert status_of(sandbox) == "PENDING"


def test_joined_member_is_sent_home(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    response = client.get("/join")
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_member_without_a_connection_gets_the_explanation(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in_as(sign_in, "alex@example.com")
    response = client.get("/join")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "We couldn't find your membership" in text
    assert "isn't yet, and this app can't connect it for you" in text
    assert 'href="http://sandbox.test/biz/4/"' in response.text
    assert "<form" not in response.text.split("<main", 1)[1]


def test_redeem_pages_send_members_who_have_not_joined_to_join(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in_as(sign_in, "pending@example.com")
    assert client.get("/rewards").status_code == 200  # the list stays, with its reasons
    confirm = client.get("/rewards/201/redeem")
    assert confirm.status_code == 303
    assert confirm.headers["location"] == "/join"
    balance = sandbox.state.store.connections[JORDAN_CONNECTION].point_balance
    spend = client.post("/rewards/201/redeem", data={"csrf": csrf_of(client), "attempt": "A" * 22})
    assert spend.status_code == 303
    assert spend.headers["location"] == "/join"
    assert sandbox.state.store.connections[JORDAN_CONNECTION].point_balance == balance


def test_member_without_a_connection_is_sent_to_join_from_redeem(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in_as(sign_in, "alex@example.com")
    response = client.get("/rewards/201/redeem")
    assert response.headers["location"] == "/join"


@contextlib.contextmanager
def _client_with(
    settings: Settings, sandbox: Starlette, clock: FakeClock, *, admin_token: str | None
) -> Iterator[TestClient]:
    """The member's browser on an app with another staff token (or none)."""
    app = create_app(
        dataclasses.replace(settings, admin_token=admin_token),
        perkville_transport=httpx2.ASGITransport(app=sandbox),
        clock=clock,
    )
    with TestClient(app, base_url=APP_URL, follow_redirects=False) as client:
        yield client


def test_without_a_staff_token_joining_is_finished_on_perkville(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    with _client_with(settings, sandbox, clock, admin_token=None) as client:
        sign_in_as(SignIn(client, sandbox_client), "pending@example.com")
        page = client.get("/join")
        assert page.status_code == 200
        text = visible_text(page.text)
        assert "Finish joining on the rewards website" in text
        assert "Perkville" not in text
        assert 'href="http://sandbox.test/biz/4/"' in page.text
        assert 'name="agree-62"' not in page.text
        response = client.post("/join", data={"csrf": csrf_of(client), "agree-62": "yes"})
        assert response.status_code == 200
        assert status_of(sandbox) == "PENDING"


def test_a_refused_staff_token_sends_the_member_to_finish_on_the_website_not_a_sign_out(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    with _client_with(settings, sandbox, clock, admin_token="not-a-real-staff-token") as client:
        sign_in_as(SignIn(client, sandbox_client), "pending@example.com")
        response = client.post("/join", data={"csrf": csrf_of(client), "agree-62": "yes"})
        assert response.status_code == 303
        assert response.headers["location"] == "/join?elsewhere=1"
        page = client.get(response.headers["location"])
        assert page.status_code == 200
        text = visible_text(page.text)
        assert "Finish joining on the rewards website" in text
        assert "Summit Rewards program terms" in text  # the terms, by title
        assert 'href="http://sandbox.test/biz/4/"' in page.text
        assert "I've joined — check again" in text
        assert status_of(sandbox) == "PENDING"
        assert client.get("/").status_code == 200  # still signed in
