"""Every member page's empty state, and what each shows when Perkville is down."""

from __future__ import annotations

from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app.perkville import PerkvilleClient

from .helpers import SignIn, visible_text

MEMBER_PAGES = [
    "/",
    "/earn",
    "/rewards",
    "/rewards/201/redeem",
    "/vouchers",
    "/vouchers/52005",
    "/vouchers/52005/use",
    "/history",
    "/challenges",
    "/challenges/801",
    "/referrals",
]


@pytest.mark.parametrize("path", MEMBER_PAGES)
def test_perkville_down_is_a_friendly_page_for_every_member_page(
    sign_in: SignIn, client: TestClient, app: Starlette, path: str
) -> None:
    sign_in()
    # The app's own client, pointed at an address where nothing listens (the discard port).
    app.state.member_app = replace(
        app.state.member_app, perkville=PerkvilleClient("http://127.0.0.1:9", timeout=2)
    )
    response = client.get(path)
    assert response.status_code in {502, 503}, path
    text = visible_text(response.text)
    assert "We can't reach your rewards right now" in text
    assert "Try again" in text
    assert "Traceback" not in response.text


def test_empty_states_for_a_member_with_nothing_yet(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    store = sandbox.state.store
    # Maya with no vouchers, no history and a program with no rules or rewards yet.
    store.vouchers.clear()
    store.transactions.clear()
    store.perks.clear()
    sign_in()
    assert "No vouchers yet" in visible_text(client.get("/vouchers").text)
    assert "No rewards here yet" in visible_text(client.get("/rewards").text)
    assert "Nothing to earn here yet" in visible_text(client.get("/earn").text)
    history = visible_text(client.get("/history").text)
    assert "Your points activity will show up here" in history
    home = visible_text(client.get("/").text)
    assert "No vouchers waiting" in home
