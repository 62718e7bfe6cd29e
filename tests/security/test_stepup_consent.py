"""Step-up: the action an identified (read-only) member kept waits only for the PKCE sign-in
started for it. A refused consent, an unrelated sign-in, a stale action or a /resume without
the sign-in's proof never spends the member's points."""

from __future__ import annotations

import dataclasses

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings

from ..forms import parse_form
from ..helpers import (
    RESUME,
    STEP_UP,
    FakeClock,
    SignIn,
    balance,
    csrf_of,
    identify,
    visible_text,
)

REWARD = "/rewards/201/redeem"  # a free smoothie, 150 points: Maya can afford it
COST = 150


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, signin_flow="identify")


def ask_to_redeem(client: TestClient, sandbox_client: TestClient) -> str:
    """Identified, the member confirms a redemption: it is kept, and the answer is the
    address of the PKCE sign-in started for it (with its ticket)."""
    identify(client, sandbox_client)
    step_up = client.post(REWARD, data=parse_form(client.get(REWARD).text).fields)
    assert step_up.status_code == 303, step_up.text
    location = str(step_up.headers["location"])
    assert location.startswith("/signin?pkce=1"), location
    assert STEP_UP.fullmatch(location), location
    return location


def signed_in_with_pkce(sign_in: SignIn, start: str = "/signin?pkce=1") -> str:
    """Sign in with PKCE (Allow), from `start`; returns where the callback sends the member."""
    landed = sign_in.finish(sign_in.at_perkville(sign_in.start(start)))
    assert landed.status_code == 303, landed.text
    return str(landed.headers["location"])


def goes_home(answer: httpx2.Response) -> None:
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/"


def nothing_to_resume(client: TestClient) -> None:
    """Neither a navigation to /resume nor a POST with the session's own token (and a made-up
    proof) runs anything: both only go home."""
    goes_home(client.get("/resume"))
    csrf = csrf_of(client)
    goes_home(client.post("/resume", data={"csrf": csrf}))
    goes_home(client.post("/resume", data={"csrf": csrf, "proof": "A" * 22}))


def test_denied_consent_drops_the_kept_action_for_good(
    client: TestClient, sandbox_client: TestClient, sandbox: Starlette, sign_in: SignIn
) -> None:
    before = balance(sandbox)
    step_up = ask_to_redeem(client, sandbox_client)
    # The member changes their mind: Deny on Perkville's consent page.
    denied = sign_in.finish(sign_in.at_perkville(sign_in.start(step_up), decision="deny"))
    assert denied.status_code == 400
    assert "You didn't allow access" in visible_text(denied.text)
    # Later they sign in for another reason: they land home, the redemption never runs.
    assert signed_in_with_pkce(sign_in) == "/"
    nothing_to_resume(client)
    assert balance(sandbox) == before


def test_resume_without_the_sign_ins_proof_spends_nothing(
    client: TestClient, sandbox_client: TestClient, sandbox: Starlette, sign_in: SignIn
) -> None:
    before = balance(sandbox)
    step_up = ask_to_redeem(client, sandbox_client)
    landed = signed_in_with_pkce(sign_in, step_up)
    assert landed.startswith("/resume"), landed
    assert RESUME.fullmatch(landed), landed
    # A link or a page elsewhere can send the browser to /resume, or post the session's own
    # token (say, after stealing it from a page): without the proof, nothing happens.
    goes_home(client.get("/resume"))
    goes_home(client.post("/resume", data={"csrf": csrf_of(client)}))
    assert balance(sandbox) == before
    # The kept action was still there: the member's own /resume page (with its proof) runs it.
    page = client.get(landed)
    assert page.status_code == 200
    done = client.post("/resume", data=parse_form(page.text).fields)
    assert done.status_code == 303
    assert done.headers["location"].startswith("/vouchers/")
    assert balance(sandbox) == before - COST


def test_a_kept_action_older_than_five_minutes_is_forgotten(
    client: TestClient,
    sandbox_client: TestClient,
    sandbox: Starlette,
    sign_in: SignIn,
    clock: FakeClock,
) -> None:
    before = balance(sandbox)
    step_up = ask_to_redeem(client, sandbox_client)
    clock.advance(301)  # the member came back to it more than five minutes later
    assert signed_in_with_pkce(sign_in, step_up) == "/"
    nothing_to_resume(client)
    assert balance(sandbox) == before


def test_a_sign_in_started_without_the_ticket_drops_the_kept_action(
    client: TestClient, sandbox_client: TestClient, sandbox: Starlette, sign_in: SignIn
) -> None:
    before = balance(sandbox)
    step_up = ask_to_redeem(client, sandbox_client)
    # Another sign-in starts meanwhile (a link from another site to /signin?pkce=1, which
    # Perkville completes with no prompt once the app is allowed), and the member signs in.
    assert signed_in_with_pkce(sign_in) == "/"
    nothing_to_resume(client)
    # Even the sign-in carrying the ticket finds nothing left to run.
    assert signed_in_with_pkce(sign_in, step_up) == "/"
    nothing_to_resume(client)
    assert balance(sandbox) == before
