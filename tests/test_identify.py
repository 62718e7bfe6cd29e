"""The Identify User Flow in the app (identify.py), identified read-only sessions, and the
step-up to the PKCE sign-in that finishes the action the member started (stepup.py)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from httpx2 import Response
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings
from member_app.settings import SettingsError

from .forms import parse_form
from .helpers import (
    JORDAN,
    JORDAN_CONNECTION,
    MAYA_CONNECTION,
    PENDING_EMAIL,
    RESUME,
    SANDBOX_URL,
    STEP_UP,
    FakeClock,
    SignIn,
    balance,
    identify,
    identify_link,
    path_of,
    recognised_at_perkville,
    signed_in_at_perkville,
    visible_text,
)
from .sandbox_helpers import MEMBER_EMAIL

VOUCHER = 52005  # Maya's, UNUSED
HOLIDAY_HUSTLE = 802  # open for Maya to join
DOWNTOWN, RIVERSIDE = 11, 12  # Maya's home location, and another
TERMS = 62  # the program terms Jordan must accept to join
NOT_RECOGNISED = "We couldn't recognise you automatically"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, signin_flow="identify")


def finish_resume(client: TestClient, landed: Response) -> Response:
    """After the PKCE callback lands on /resume with its proof, run the kept action as the
    browser does and return the action's own answer (a 303). /resume is a page whose form (the
    CSRF token and the proof only) the script submits at once."""
    assert landed.status_code == 303, landed.text
    assert RESUME.fullmatch(landed.headers["location"]), landed.headers["location"]
    page = client.get(landed.headers["location"])
    assert page.status_code == 200, page.text
    match = re.search(r'<form[^>]*action="/resume".*?</form>', page.text, re.S)
    assert match, "no /resume form on the page"
    form = parse_form(match.group(0))
    # The kept input stays sealed in the session, not in the page.
    assert set(form.fields) == {"csrf", "proof"}
    done = client.post("/resume", data=form.fields)
    assert done.status_code == 303, done.text
    return done


def step_up_and_resume(sign_in: SignIn, step_up: Response, email: str = MEMBER_EMAIL) -> Response:
    """The action waited for the PKCE sign-in: sign in, then finish it through /resume."""
    assert step_up.status_code == 303, step_up.text
    assert STEP_UP.fullmatch(step_up.headers["location"]), step_up.headers["location"]
    callback = sign_in.at_perkville(sign_in.start(step_up.headers["location"]), email=email)
    return finish_resume(sign_in.client, sign_in.finish(callback))


def nothing_left_to_resume(client: TestClient, csrf_page: str = "/challenges") -> None:
    """The kept action ran once: /resume again, by GET or by its form, only goes home."""
    assert client.get("/resume").headers["location"] == "/"
    csrf = parse_form(client.get(csrf_page).text).fields["csrf"]
    again = client.post("/resume", data={"csrf": csrf})
    assert again.status_code == 405 or again.headers["location"] == "/"  # 405: GET-only /resume


def selected_location(html: str) -> int:
    match = re.search(r'<option value="(\d+)" selected>', html)
    assert match, "no location selected in the switcher"
    return int(match.group(1))


def test_identify_needs_an_admin_token() -> None:
    with pytest.raises(SettingsError, match="MEMBER_APP_SIGNIN_FLOW=identify needs"):
        Settings(secret_key="s" * 40, client_id="c", business_id=4, signin_flow="identify")
    with pytest.raises(SettingsError, match="must be pkce or identify"):
        Settings(secret_key="s" * 40, client_id="c", business_id=4, signin_flow="magic")
    with pytest.raises(SettingsError, match="not for MEMBER_APP_MODE=kiosk"):
        Settings(
            secret_key="s" * 40,
            client_id="c",
            business_id=4,
            admin_token="t",
            mode="kiosk",
            signin_flow="identify",
        )
    env = {
        "MEMBER_APP_SECRET_KEY": "s" * 40,
        "PERKVILLE_CLIENT_ID": "c",
        "PERKVILLE_BUSINESS_ID": "4",
        "PERKVILLE_ADMIN_TOKEN": "t",
        "MEMBER_APP_SIGNIN_FLOW": "identify",
    }
    assert Settings.from_env(env).signin_flow == "identify"


def test_landing_sign_in_starts_with_identify(client: TestClient) -> None:
    response = client.get("/signin?next=/history")
    assert response.status_code == 307
    assert response.headers["location"] == "/signin/identify?next=/history"
    # `?pkce=1` is the way to the ordinary sign-in.
    pkce = client.get("/signin?pkce=1")
    assert pkce.headers["location"].startswith(f"{SANDBOX_URL}/api/authorize/")


def test_member_signed_in_at_perkville_sees_balance_with_no_prompt(
    client: TestClient, sandbox_client: TestClient
) -> None:
    identify(client, sandbox_client)
    text = visible_text(client.get("/").text)
    assert "1,250" in text
    assert "Maya" in text
    history = client.get("/history")
    assert history.status_code == 200
    assert "Early bird" in visible_text(history.text) or "Gym check-in" in visible_text(
        history.text
    )
    vouchers = client.get("/vouchers")
    assert vouchers.status_code == 200
    assert "/vouchers/52005" in vouchers.text
    assert "52006" not in vouchers.text
    for page in ("/rewards", "/earn", "/challenges", "/referrals", "/more"):
        assert client.get(page).status_code == 200, page
    # The session holds no token: the admin token is never in the member's cookie either.
    assert client.get("/vouchers/52005").status_code == 200


def test_replayed_callback_is_a_friendly_page(
    client: TestClient, sandbox_client: TestClient
) -> None:
    signed_in_at_perkville(sandbox_client)
    callback = recognised_at_perkville(sandbox_client, identify_link(client))
    assert client.get(path_of(callback)).status_code == 303
    client.cookies.clear()
    replay = client.get(path_of(callback))
    assert replay.status_code == 400
    text = visible_text(replay.text)
    assert NOT_RECOGNISED in text
    assert "Sign in with Perkville" in text
    assert 'href="/signin?pkce=1"' in replay.text
    # Still signed out.
    assert client.get("/rewards").status_code == 303


def test_replayed_state_in_the_same_session_is_refused(
    client: TestClient, sandbox_client: TestClient
) -> None:
    signed_in_at_perkville(sandbox_client)
    callback = recognised_at_perkville(sandbox_client, identify_link(client))
    identify_link(client)  # a newer state replaces this one
    assert NOT_RECOGNISED in visible_text(client.get(path_of(callback)).text)


def test_expired_identify_token_never_identifies(
    client: TestClient, sandbox_client: TestClient, clock: FakeClock
) -> None:
    signed_in_at_perkville(sandbox_client)
    link = identify_link(client)
    clock.advance(31 * 60)
    response = sandbox_client.get(path_of(link))
    assert response.status_code == 303
    assert response.headers["location"] == "/biz/4/?identify_error=1"
    page = sandbox_client.get(response.headers["location"])
    assert "We couldn't confirm who you are" in visible_text(page.text)
    assert client.get("/history").status_code == 303


def test_expired_code_is_a_friendly_page(
    client: TestClient, sandbox_client: TestClient, clock: FakeClock
) -> None:
    signed_in_at_perkville(sandbox_client)
    callback = recognised_at_perkville(sandbox_client, identify_link(client))
    clock.advance(31)
    response = client.get(path_of(callback))
    assert response.status_code == 400
    assert NOT_RECOGNISED in visible_text(response.text)
    assert client.get("/history").status_code == 303


def test_identified_member_cannot_see_anyone_elses_voucher(
    client: TestClient, sandbox_client: TestClient
) -> None:
    identify(client, sandbox_client)
    assert client.get("/vouchers/52006").status_code == 404  # Alex's, at Harbor Yoga
    assert client.get("/vouchers/52006/code.svg").status_code == 404


def test_identified_member_cannot_see_a_fellow_members_voucher(
    client: TestClient, sandbox_client: TestClient
) -> None:
    """The staff token could read Maya's voucher; the app must not show it to another member."""
    identify(client, sandbox_client, PENDING_EMAIL)
    assert client.get("/vouchers/52005").status_code == 404
    assert "52005" not in client.get("/vouchers").text


def test_redeem_steps_up_to_pkce_and_completes_the_same_redemption_once(
    client: TestClient, sandbox_client: TestClient, sandbox: Starlette, sign_in: SignIn
) -> None:
    identify(client, sandbox_client)
    before = balance(sandbox)
    link = "/rewards/201/redeem"
    form = parse_form(client.get(link).text)
    assert form.fields["attempt"]
    step_up = client.post(link, data=form.fields)
    assert step_up.status_code == 303
    assert STEP_UP.fullmatch(step_up.headers["location"])
    assert balance(sandbox) == before  # nothing spent yet

    done = step_up_and_resume(sign_in, step_up)
    assert re.fullmatch(r"/vouchers/\d+\?redeemed=1", done.headers["location"])
    cost = before - balance(sandbox)
    assert cost == 150
    voucher = client.get(done.headers["location"])
    assert "Redeemed!" in visible_text(voucher.text)
    # Single use: /resume again does nothing; replaying the old form is the same voucher.
    assert client.get("/resume").headers["location"] == "/"
    form_again = {**form.fields, "csrf": parse_form(client.get(link).text).fields["csrf"]}
    again = client.post(link, data=form_again)
    assert again.headers["location"].split("?")[0] == done.headers["location"].split("?")[0]
    assert balance(sandbox) == before - cost


def test_referral_input_is_kept_across_the_step_up(
    client: TestClient, sandbox_client: TestClient, sandbox: Starlette, sign_in: SignIn
) -> None:
    identify(client, sandbox_client)
    csrf = parse_form(client.get("/referrals").text).fields["csrf"]
    fields = {"email": "robin@example.net", "first_name": "Robin", "note": "Spin with me!"}
    step_up = client.post("/referrals", data={"csrf": csrf, **fields})
    assert not any(
        r.to_email == "robin@example.net" for r in sandbox.state.store.referrals.values()
    )
    step_up_and_resume(sign_in, step_up)
    created = [
        r for r in sandbox.state.store.referrals.values() if r.to_email == "robin@example.net"
    ]
    assert len(created) == 1
    assert (created[0].to_first_name, created[0].referral_content) == ("Robin", "Spin with me!")
    nothing_left_to_resume(client)
    assert (
        sum(r.to_email == "robin@example.net" for r in sandbox.state.store.referrals.values()) == 1
    )


def test_marking_a_voucher_used_steps_up_then_marks_it_once(
    client: TestClient,
    sandbox_client: TestClient,
    sandbox: Starlette,
    sign_in: SignIn,
) -> None:
    identify(client, sandbox_client)
    vouchers = sandbox.state.store.vouchers
    confirm = client.get(f"/vouchers/{VOUCHER}/use")
    assert confirm.status_code == 200
    form = parse_form(confirm.text)
    step_up = client.post(f"/vouchers/{VOUCHER}/use", data=form.fields)
    assert vouchers[VOUCHER].status == "UNUSED"  # nothing done yet

    done = step_up_and_resume(sign_in, step_up)
    assert done.headers["location"] == f"/vouchers/{VOUCHER}?used=1"
    assert vouchers[VOUCHER].status == "USED"
    assert client.get(done.headers["location"]).status_code == 200
    nothing_left_to_resume(client)


def test_joining_a_challenge_steps_up_then_joins_once(
    client: TestClient,
    sandbox_client: TestClient,
    sandbox: Starlette,
    sign_in: SignIn,
) -> None:
    identify(client, sandbox_client)

    def entries() -> list[str]:
        return [
            e.join_status
            for e in sandbox.state.store.challenge_connections.values()
            if e.challenge_id == HOLIDAY_HUSTLE and e.connection_id == MAYA_CONNECTION
        ]

    page = client.get(f"/challenges/{HOLIDAY_HUSTLE}")
    assert f'action="/challenges/{HOLIDAY_HUSTLE}/join"' in page.text
    csrf = parse_form(page.text).fields["csrf"]
    step_up = client.post(f"/challenges/{HOLIDAY_HUSTLE}/join", data={"csrf": csrf})
    assert entries() == []

    done = step_up_and_resume(sign_in, step_up)
    assert done.headers["location"] == f"/challenges/{HOLIDAY_HUSTLE}?joined=1"
    assert entries() == ["ACTIVE"]
    text = visible_text(client.get(done.headers["location"]).text)
    assert "You're in! Every visit now counts towards this challenge." in text
    nothing_left_to_resume(client)


def test_choosing_a_location_steps_up_then_keeps_the_choice(
    client: TestClient, sandbox_client: TestClient, sign_in: SignIn
) -> None:
    identify(client, sandbox_client)
    page = client.get("/challenges")
    assert selected_location(page.text) == DOWNTOWN
    fields = {
        "csrf": parse_form(page.text).fields["csrf"],
        "loc_id": str(RIVERSIDE),
        "next": "/challenges",
    }
    step_up = client.post("/location", data=fields)
    assert selected_location(client.get("/challenges").text) == DOWNTOWN  # not chosen yet

    done = step_up_and_resume(sign_in, step_up)
    assert done.headers["location"] == "/challenges"  # the form's `next`, kept too
    assert selected_location(client.get(done.headers["location"]).text) == RIVERSIDE
    assert selected_location(client.get("/rewards").text) == RIVERSIDE
    nothing_left_to_resume(client)
    assert selected_location(client.get("/earn").text) == RIVERSIDE


def test_joining_the_program_steps_up_then_joins_once_with_the_terms_ticked(
    client: TestClient,
    sandbox_client: TestClient,
    sandbox: Starlette,
    sign_in: SignIn,
) -> None:
    identify(client, sandbox_client, PENDING_EMAIL)
    store = sandbox.state.store

    def accepted() -> list[int]:
        return [
            a.agreement_version_id for a in store.user_agreements.values() if a.user_id == JORDAN
        ]

    page = client.get("/join")
    assert page.status_code == 200
    assert f'name="agree-{TERMS}"' in page.text
    csrf = parse_form(page.text).fields["csrf"]
    step_up = client.post("/join", data={"csrf": csrf, f"agree-{TERMS}": "yes"})
    assert accepted() == []
    assert store.connections[JORDAN_CONNECTION].status == "PENDING"

    done = step_up_and_resume(sign_in, step_up, PENDING_EMAIL)
    assert done.headers["location"] == "/?joined=1"  # so the tick was kept: the terms are required
    assert accepted() == [TERMS]
    assert store.connections[JORDAN_CONNECTION].status == "ACTIVE"
    assert "Welcome to Summit Rewards!" in visible_text(client.get(done.headers["location"]).text)
    nothing_left_to_resume(client, "/rewards")
    assert accepted() == [TERMS]


def test_forged_or_oversized_actions_are_not_kept(
    client: TestClient, sandbox_client: TestClient
) -> None:
    identify(client, sandbox_client)
    csrf = parse_form(client.get("/referrals").text).fields["csrf"]
    big = client.post("/referrals", data={"csrf": csrf, "note": "x" * 3000})
    assert big.headers["location"] == "/signin?pkce=1&next=%2Freferrals"
    forged = client.post("/referrals", data={"email": "a@example.net"})
    assert forged.status_code == 403  # no CSRF token: refused before any step-up


def test_step_up_redirect_is_allowed_by_the_csp(client: TestClient) -> None:
    """Chromium applies form-action to a form's redirects: the step-up goes to Perkville."""
    csp = client.get("/more").headers["content-security-policy"]
    assert f"form-action 'self' {SANDBOX_URL};" in csp


def test_an_identified_members_voucher_shows_the_businesss_own_instructions(
    client: TestClient, sandbox_client: TestClient
) -> None:
    """The staff Voucher resource has no `details`: the perk's redemption_instructions stand
    in, so a member inside a gym's app reads the same words as with their own token."""
    identify(client, sandbox_client)
    page = visible_text(client.get("/vouchers/52005").text)
    assert "Show this voucher at the juice bar." in page  # 52005: a smoothie
