"""Rewards and redeeming: what the member can get, why not, and never spending twice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings
from member_app.pages.eligibility import (
    LIMIT_UNKNOWN,
    UNREAD,
    Limit,
    Redemptions,
    limit_of,
)
from member_app.perkville.program import Reward, Transaction
from member_app.sandbox.rewards.perks import in_date_window, perk_at
from member_app.sandbox.rewards.redeeming import REDEEMING_VIEW_TYPES

from .forms import parse_form
from .helpers import (
    PENDING_EMAIL,
    STEP_UP,
    FakeClock,
    SignIn,
    balance,
    identify,
    make_client,
    redeem_links,
    visible_text,
)


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
    assert "Redeemed!" in visible_text(voucher.text)


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


# --- the list: what to redeem now first, the rest by the points still needed ------------------

DOWNTOWN = 11
GUEST_PASS, WATER_BOTTLE = 204, 203  # once a month (Maya used it Nov 5); once per member


def section(html: str, labelled_by: str) -> str:
    """The HTML of the page's section labelled by the heading `labelled_by` ("" if none)."""
    match = re.search(
        rf'<section[^>]*aria-labelledby="{labelled_by}"[^>]*>(.*?)</section>', html, re.S
    )
    return match.group(1) if match else ""


def cards_in(html: str) -> list[str]:
    """The reward cards (their HTML) in a part of the rewards page, in order."""
    return re.findall(r'<li class="card reward-card[^"]*">(.*?)</li>', html, re.S)


def title_of(card: str) -> str:
    match = re.search(r"<h3>(.*?)</h3>", card, re.S)
    assert match, card
    return visible_text(match.group(1))


def cost_of(card: str) -> int:
    match = re.search(r'<p class="cost">([\d,]+) points</p>', card)
    assert match, card
    return int(match.group(1).replace(",", ""))


def listed_at(sandbox: Starlette, loc_id: int) -> list[Any]:
    """The rewards the sandbox's redeeming view lists at a location (its own rules)."""
    store = sandbox.state.store
    day = store.today()
    return [
        p
        for p in store.perks.values()
        if p.business_id == 4
        and p.classification == "REDEEM"
        and p.type in REDEEMING_VIEW_TYPES
        and p.status == "ACTIVE"
        and not p.admin_flagged_as_invisible_to_customers
        and perk_at(p, loc_id)
        and in_date_window(p, day)
    ]


def test_rewards_available_now_come_first_then_by_points_still_needed(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    page = client.get("/rewards").text
    have = balance(sandbox)
    available = cards_in(section(page, "available-heading"))
    rest = cards_in(section(page, "rest-heading"))
    assert available and rest
    assert len(available) + len(rest) == len(listed_at(sandbox, DOWNTOWN))
    # Each one available now is offered, and each costs no more than the balance.
    for card in available:
        assert redeem_links(card), title_of(card)
        assert cost_of(card) <= have
    # The rest: never a Redeem button, and the closest first.
    assert not any(redeem_links(card) for card in rest)
    needed = [max(cost_of(card) - have, 0) for card in rest]
    assert needed == sorted(needed)
    assert page.index("available-heading") < page.index("rest-heading")


def test_every_reward_card_has_a_whole_picture_or_a_placeholder_of_the_same_size(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    page = client.get("/rewards").text
    cards = cards_in(page)
    without = [p.title for p in listed_at(sandbox, DOWNTOWN) if p.picture_color is None]
    assert without, "the seed has rewards without a picture"
    for card in cards:
        media = re.findall(r'<(img|div) class="reward-media[^"]*"[^>]*>', card)
        assert len(media) == 1, title_of(card)
        if title_of(card) in without:
            assert 'class="reward-media reward-placeholder"' in card
        else:
            # The picture's own size (700x400: 7:4), not a square crop.
            assert re.search(
                r'<img class="reward-media" src="[^"]+" alt="" width="700" height="400"', card
            )
    placeholders = sum("reward-placeholder" in card for card in cards)
    assert placeholders == len(without)


def test_a_reward_out_of_reach_shows_how_far_and_the_way_to_earn(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    have = balance(sandbox)
    page = client.get("/rewards").text
    short = [c for c in cards_in(page) if "more points." in visible_text(c)]
    assert short, "no reward out of reach in the seed"
    for card in short:
        cost = cost_of(card)
        assert f"You need {cost - have:,} more points." in visible_text(card)
        assert f'<progress class="reward-progress" max="{cost}" value="{have}"' in card
        assert 'href="/earn"' in card
        assert not redeem_links(card)
    # The same on its confirmation page.
    perk = next(p.perk_id for p in listed_at(sandbox, DOWNTOWN) if p.points > have)
    confirm = client.get(f"/rewards/{perk}/redeem").text
    assert 'href="/earn"' in confirm
    assert "Redeem for" not in visible_text(confirm)


def test_the_external_reward_is_redeemed_like_any_other(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    """Its link is on the voucher once the points are spent, not a way round spending them."""
    sign_in()
    page = client.get("/rewards").text
    assert "partner.example" not in page
    external = next(p for p in listed_at(sandbox, DOWNTOWN) if p.type == "EXTERNAL_REWARD")
    assert f"/rewards/{external.perk_id}/redeem" in redeem_links(page)


def test_a_member_without_a_connection_is_told_once_at_the_top(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in.finish(sign_in.at_perkville(sign_in.start(), email="alex@example.com"))
    page = client.get("/rewards").text
    text = visible_text(page)
    assert text.count("You can't redeem rewards here yet") == 1
    assert "Join the rewards program" not in text
    assert not redeem_links(page)
    assert cards_in(page), "the rewards are still shown"
    assert "left for you" not in text  # no count of what isn't theirs to use
    assert 'href="/"' in section(page, "closed-heading")  # home says what to do


def test_a_member_who_has_not_joined_gets_one_join_button(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in.finish(sign_in.at_perkville(sign_in.start(), email=PENDING_EMAIL))
    page = client.get("/rewards").text
    text = visible_text(page)
    assert text.count("Join to redeem rewards") == 1
    assert "Join the rewards program" not in text
    assert page.count('href="/join"') == 1
    assert not redeem_links(page)
    assert "You have 120 points" in text


# --- identified members: the staff token's view says nothing of their limits ----------------


@pytest.fixture
def identified(
    settings: Settings, sandbox: Starlette, clock: FakeClock, sandbox_client: TestClient
) -> Iterator[TestClient]:
    """Maya, recognised by the Identify User Flow (read-only, through the staff token)."""
    for client, _ in make_client(settings, sandbox, clock, signin_flow="identify"):
        identify(client, sandbox_client)
        yield client


def card_titled(page: str, title: str) -> str:
    return next(c for c in cards_in(page) if title_of(c) == title)


def test_an_identified_member_is_never_offered_a_reward_past_its_limit(
    identified: TestClient, sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    store = sandbox.state.store
    page = identified.get("/rewards").text
    guest = card_titled(page, store.perks[GUEST_PASS].title)
    assert "You've reached the limit for this reward." in visible_text(guest)
    assert not redeem_links(guest)
    assert f"/rewards/{GUEST_PASS}/redeem" not in redeem_links(page)
    bottle = card_titled(page, store.perks[WATER_BOTTLE].title)
    assert "1 left for you" in visible_text(bottle)  # the voided one doesn't count
    # Its confirmation says so before any sign-in is asked for.
    confirm = visible_text(identified.get(f"/rewards/{GUEST_PASS}/redeem").text)
    assert "Limit Once a month · reached" in confirm
    assert "Redeem for" not in confirm and "Sign in" not in confirm
    # The member's own view, signed in with their token, agrees.
    sign_in()
    own = client.get("/rewards").text
    assert redeem_links(own) == redeem_links(page)
    assert visible_text(client.get("/").text).count("to redeem now") == 1
    count = re.search(r"(\d+) rewards? to redeem now", visible_text(identified.get("/").text))
    assert count and f"{count.group(1)} rewards to redeem now" in visible_text(client.get("/").text)


def test_an_identified_members_confirmation_says_the_sign_in_comes_first(
    identified: TestClient,
) -> None:
    link = redeem_links(identified.get("/rewards").text)[0]
    text = visible_text(identified.get(link).text)
    assert (
        "To redeem, you'll sign in once to confirm it's you. Nothing is spent until then." in text
    )
    assert "Redeem for" in text


def test_an_unknown_limit_is_said_and_redeem_is_a_check_not_a_promise(
    identified: TestClient, sandbox: Starlette
) -> None:
    """Without the member's history the staff token can't know a limit: the card says so."""
    conditions = sandbox.state.conditions
    conditions.update({"fault_rate": 1.0, "faults": ["503"], "fault_paths": ["/v2/transactions/"]})
    page = identified.get("/rewards").text
    guest = card_titled(page, sandbox.state.store.perks[GUEST_PASS].title)
    assert LIMIT_UNKNOWN in visible_text(guest)
    assert "Check and redeem" in visible_text(guest)
    assert f"/rewards/{GUEST_PASS}/redeem" not in redeem_links(section(page, "available-heading"))
    confirm = identified.get(f"/rewards/{GUEST_PASS}/redeem")
    text = visible_text(confirm.text)
    assert LIMIT_UNKNOWN in text
    assert "Sign in to check and redeem" in text
    assert "Redeem for" not in text
    # Rewards without a limit are still offered as they are.
    assert redeem_links(section(page, "available-heading"))
    before = balance(sandbox)
    step_up = identified.post(f"/rewards/{GUEST_PASS}/redeem", data=parse_form(confirm.text).fields)
    assert STEP_UP.fullmatch(step_up.headers["location"])
    assert balance(sandbox) == before


# --- counting a limit from the member's own redemptions (eligibility.limit_of) ----------------

ZONE = ZoneInfo("UTC")
TODAY = date(2026, 11, 22)


def _reward(**limit: Any) -> Reward:
    return Reward.from_api({"perk_id": GUEST_PASS, "title": "Guest pass", "points": 100, **limit})


def _redeemed(*days: str, perk: int | None = GUEST_PASS, status: str = "ACTIVE") -> Redemptions:
    """The whole history: these redemptions and no others."""
    return Redemptions.of(tuple(_lines(*days, perk=perk, status=status)), True, ZONE)


def _lines(*days: str, perk: int | None = GUEST_PASS, status: str = "ACTIVE") -> list[Transaction]:
    return [
        Transaction.from_api(
            {
                "perk": f"/v2/perks/{perk}/" if perk else None,
                "classification": "REDEEM",
                "transaction_status": status,
                "transaction_dt": f"{day}T12:00:00+00:00",
            }
        )
        for day in days
    ]


MONTHLY = {"redemption_limit_interval": "MONTH", "redemption_limit_count": 1,
           "redemption_limit_interval_count": 1}  # fmt: skip


def test_a_limit_counts_the_members_redemptions_in_its_period() -> None:
    limit = limit_of(_reward(**MONTHLY), _redeemed("2026-11-05"), TODAY)
    assert limit and limit.reached
    # A rolling month ends Dec 5, a calendar month Dec 1: "by" the later one.
    assert limit.reached_reason.endswith("Next chance: by Dec 5, 2026.")
    clear = limit_of(_reward(**MONTHLY), _redeemed("2026-09-30"), TODAY)
    assert clear and clear.remaining == 1 and clear.left == "1 left for you this month"
    voided = _redeemed("2026-11-05", status="VOID")
    assert limit_of(_reward(**MONTHLY), voided, TODAY) == Limit(1, "MONTH", 1, 1)
    other = _redeemed("2026-11-05", perk=202)
    assert limit_of(_reward(**MONTHLY), other, TODAY) == Limit(1, "MONTH", 1, 1)


def test_a_limit_is_unknown_when_the_history_read_cannot_say() -> None:
    monthly = _reward(**MONTHLY)
    unknown = Limit(1, "MONTH", 1, None)
    # Only the newest page was read, and it doesn't reach back to the period's start.
    partial = Redemptions.of(tuple(_lines("2026-11-20", perk=202)), False, ZONE)
    assert limit_of(monthly, partial, TODAY) == unknown
    # ... unless it does: then what it holds is the whole period.
    reaching = _lines("2026-11-20") + _lines("2026-09-01", perk=202)
    counted = limit_of(monthly, Redemptions.of(tuple(reaching), False, ZONE), TODAY)
    assert counted == Limit(1, "MONTH", 1, 0, date(2026, 12, 20), next_chance_exact=False)
    # A redemption that doesn't name its reward might be this one.
    assert limit_of(monthly, _redeemed("2026-11-10", perk=None), TODAY) == unknown
    # Redeemed Oct 28: within a rolling month, not within this calendar month: can't be said.
    assert limit_of(monthly, _redeemed("2026-10-28"), TODAY) == unknown
    # Nothing read at all.
    assert limit_of(monthly, UNREAD, TODAY) == unknown
    # Once per member: only the whole history can say.
    once = _reward(redemption_limit_interval="ALL_TIME", redemption_limit_count=1)
    assert limit_of(once, partial, TODAY) == Limit(1, "ALL_TIME", 1, None)
    assert limit_of(once, _redeemed(), TODAY) == Limit(1, "ALL_TIME", 1, 1)
    assert limit_of(once, _redeemed("2025-01-01"), TODAY) == Limit(1, "ALL_TIME", 1, 0)


def test_a_limit_perkville_states_for_the_member_is_taken_as_stated() -> None:
    told = _reward(
        **MONTHLY,
        user_redemption_limit_info={
            "has_met_limit": True,
            "redemptions_remaining": 0,
            "next_redemption_opportunity": "2026-12-05",
        },
    )
    limit = limit_of(told, None, TODAY)
    assert limit == Limit(1, "MONTH", 1, 0, date(2026, 12, 5))
    assert limit.reached_reason.endswith("Next chance: Dec 5, 2026.")
    assert limit_of(_reward(), None, TODAY) is None  # no limit at all


def test_a_limit_in_days_is_a_rolling_period() -> None:
    days = _reward(
        redemption_limit_interval="DAY",
        redemption_limit_count=2,
        redemption_limit_interval_count=10,
    )
    counted = limit_of(days, _redeemed("2026-11-13", "2026-11-20"), TODAY)
    assert counted == Limit(2, "DAY", 10, 0, date(2026, 11, 23))
    assert counted.rule == "2 times every 10 days"
    assert limit_of(days, _redeemed("2026-11-12", "2026-11-20"), TODAY) == Limit(2, "DAY", 10, 1)
