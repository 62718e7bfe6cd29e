"""Rewards and redeeming: what the member can get, why not, and never spending twice."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from starlette.applications import Starlette
from starlette.testclient import TestClient

from .forms import parse_form
from .helpers import SignIn, balance, redeem_links, visible_text


def test_signed_out_visitor_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    response = client.get("/rewards")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Frewards"


def test_rewards_page_says_why_a_reward_cannot_be_redeemed(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    response = client.get("/rewards")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "You have 1,250 points." in text
    assert redeem_links(response.text), "no affordable reward offered"
    assert re.search(r"You need [\d,]+ more points\.", text)
    assert "Unlocks at Gold level." in text
    assert "You've reached the limit for this reward" in text


def test_redeem_confirmation_shows_balance_before_and_after(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    link = redeem_links(client.get("/rewards").text)[0]
    page = client.get(link)
    text = visible_text(page.text)
    cost = int(re.search(r"Cost ([\d,]+) points", text).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert "Your balance now 1,250 points" in text
    assert f"After redeeming {1250 - cost:,} points" in text
    assert "Location" in text
    assert "Redeem for" in text


def test_redeeming_spends_exactly_once_and_shows_the_voucher(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    link = redeem_links(client.get("/rewards").text)[0]
    form = parse_form(client.get(link).text)
    before = balance(sandbox)

    first = client.post(link, data=form.fields)
    assert first.status_code == 303
    voucher_url = first.headers["location"]
    assert re.fullmatch(r"/vouchers/\d+\?redeemed=1", voucher_url)
    cost = before - balance(sandbox)
    assert cost > 0

    # A double click, and a back-button resubmit of the same confirmation: same voucher.
    second = client.post(link, data=form.fields)
    assert second.status_code == 303
    assert second.headers["location"].split("?")[0] == voucher_url.split("?")[0]
    back = client.get(link)
    assert "You redeemed this a moment ago" in visible_text(back.text)
    third = client.post(link, data=form.fields)
    assert third.headers["location"].split("?")[0] == voucher_url.split("?")[0]
    assert balance(sandbox) == before - cost

    voucher = client.get(voucher_url)
    assert "Redeemed! Here is your voucher." in visible_text(voucher.text)


def test_simultaneous_double_click_reaches_perkville_once(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    """Two submissions in flight at once both miss the session's record of the outcome, so
    both reach Perkville with the same trans_source_id: the second is a duplicate there and
    leads to the voucher the first made."""
    sign_in()
    link = redeem_links(client.get("/rewards").text)[0]
    form = parse_form(client.get(link).text)
    before = balance(sandbox)
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: client.post(link, data=form.fields), range(2)))
    locations = {a.headers["location"].split("?")[0] for a in answers}
    assert [a.status_code for a in answers] == [303, 303]
    assert len(locations) == 1
    spent = before - balance(sandbox)
    assert spent == _cost_of(sandbox, int(link.split("/")[2]))


def _cost_of(sandbox: Starlette, perk_id: int) -> int:
    return int(sandbox.state.store.perks[perk_id].points)


def test_redeem_again_is_a_deliberate_new_redemption(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    link = redeem_links(client.get("/rewards").text)[0]
    client.post(link, data=parse_form(client.get(link).text).fields)
    after_first = balance(sandbox)
    again = client.get(f"{link}?again=1")
    form = parse_form(again.text)
    response = client.post(link, data=form.fields)
    assert response.status_code in {303, 400}
    if response.status_code == 303:  # allowed by the reward's limits: spent again, once
        assert balance(sandbox) < after_first


def test_refusal_is_explained_and_spends_nothing(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    """The page offers no button for a reward the member cannot afford; a crafted POST is
    refused upstream and explained in plain words."""
    sign_in()
    expensive = _perk_needing_more_points(sandbox)
    confirm = client.get(f"/rewards/{expensive}/redeem")
    assert "Redeem for" not in visible_text(confirm.text)
    assert "more points" in visible_text(confirm.text)
    csrf = parse_form(confirm.text).fields["csrf"]
    before = balance(sandbox)
    response = client.post(f"/rewards/{expensive}/redeem", data={"csrf": csrf, "attempt": "A" * 22})
    assert response.status_code == 400
    assert "You don't have enough points to redeem this reward." in visible_text(response.text)
    assert balance(sandbox) == before


def _perk_needing_more_points(sandbox: Starlette) -> int:
    perks = vars(sandbox.state.store).get("perks", {})
    for perk in perks.values():
        if (
            getattr(perk, "classification", "") == "REDEEM"
            and getattr(perk, "points", 0) > 1250
            and not getattr(perk, "required_level_id", None)
        ):
            return int(perk.perk_id)
    raise AssertionError("the seed has no too-expensive reward")


def test_redeem_without_the_form_token_changes_nothing(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    link = redeem_links(client.get("/rewards").text)[0]
    fields = parse_form(client.get(link).text).fields
    before = balance(sandbox)
    response = client.post(link, data={"attempt": fields["attempt"], "csrf": "forged"})
    assert response.status_code == 403
    assert balance(sandbox) == before


def test_unknown_reward_is_a_friendly_404(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    for path in ("/rewards/999999/redeem", "/rewards/abc/redeem"):
        response = client.get(path)
        assert response.status_code == 404
        assert "This reward isn't available" in visible_text(response.text)


def test_malformed_attempt_is_refused_without_spending(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    link = redeem_links(client.get("/rewards").text)[0]
    csrf = parse_form(client.get(link).text).fields["csrf"]
    before = balance(sandbox)
    response = client.post(link, data={"csrf": csrf, "attempt": "<script>"})
    assert response.status_code == 400
    assert "no longer valid" in visible_text(response.text)
    assert balance(sandbox) == before
