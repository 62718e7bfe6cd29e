"""CSRF on /resume: the action an identified member kept runs only on a POST carrying the new
session's token; a GET, no token, or another session's token spends nothing."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings

from ..conftest import SignIn, parse_form
from ..test_identify import STEP_UP, balance, identify
from .conftest import csrf_of

REWARD = "/rewards/201/redeem"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, signin_flow="identify")


def kept_redemption(client: TestClient, sandbox_client: TestClient, sign_in: SignIn) -> None:
    """Identified, the member asks to redeem; after the PKCE sign-in it waits at /resume."""
    identify(client, sandbox_client)
    step_up = client.post(REWARD, data=parse_form(client.get(REWARD).text).fields)
    assert step_up.headers["location"] == STEP_UP
    landed = sign_in.finish(sign_in.at_perkville(sign_in.start(STEP_UP)))
    assert landed.headers["location"] == "/resume"


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
    kept_redemption(client, sandbox_client, sign_in)
    before = balance(sandbox)

    for _ in range(2):  # a GET (prefetch, link preview) never acts
        assert client.get("/resume").status_code == 200
    assert client.post("/resume").status_code == 403
    assert client.post("/resume", data={"csrf": attackers_token}).status_code == 403
    assert balance(sandbox) == before

    page = client.get("/resume")
    done = client.post("/resume", data=parse_form(page.text).fields)
    assert done.status_code == 303
    assert balance(sandbox) == before - 150
