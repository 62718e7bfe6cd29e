"""CSRF on /resume: the action an identified member kept runs only on a POST carrying the new
session's token and the sign-in's proof; a GET, no token, another session's token or no proof
spends nothing."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings

from ..forms import parse_form
from ..helpers import RESUME, STEP_UP, SignIn, balance, csrf_of, identify

REWARD = "/rewards/201/redeem"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, signin_flow="identify")


def kept_redemption(client: TestClient, sandbox_client: TestClient, sign_in: SignIn) -> str:
    """Identified, the member asks to redeem; after the PKCE sign-in it waits at /resume.
    Returns the address the sign-in landed on (with its proof)."""
    identify(client, sandbox_client)
    step_up = client.post(REWARD, data=parse_form(client.get(REWARD).text).fields)
    assert STEP_UP.fullmatch(step_up.headers["location"])
    landed = sign_in.finish(sign_in.at_perkville(sign_in.start(step_up.headers["location"])))
    assert RESUME.fullmatch(landed.headers["location"])
    return str(landed.headers["location"])


def test_resume_acts_only_on_a_post_with_this_sessions_token(
    client: TestClient,
    sandbox_client: TestClient,
    sandbox: Starlette,
    sign_in: SignIn,
    other_browser: SignIn,
) -> None:
    # Another member's session, whose token an attacker holds.
    other_browser.finish(other_browser.at_perkville(other_browser.start("/signin?pkce=1")))
    attackers_token = csrf_of(other_browser.client)
    resume = kept_redemption(client, sandbox_client, sign_in)
    proof = resume.split("proof=")[1]
    before = balance(sandbox)

    for _ in range(2):  # a GET (prefetch, link preview) never acts
        assert client.get(resume).status_code == 200
    assert client.post("/resume", data={"proof": proof}).status_code == 403
    forged = {"proof": proof, "csrf": attackers_token}
    assert client.post("/resume", data=forged).status_code == 403
    # The session's own token without the proof: any page could send that far.
    csrf = csrf_of(client)
    assert client.post("/resume", data={"csrf": csrf}).headers["location"] == "/"
    assert balance(sandbox) == before

    page = client.get(resume)
    done = client.post("/resume", data=parse_form(page.text).fields)
    assert done.status_code == 303
    assert balance(sandbox) == before - 150
