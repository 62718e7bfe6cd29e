"""The home page: program branding, first name, balance, level and progress to the next."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.brand import WHITE, contrast, palette_for, parse_hex
from member_app.perkville import Business
from member_app.signin.pkce import make_oauth

from .forms import parse_form
from .helpers import (
    APP_URL,
    MAYA_CONNECTION,
    PENDING_EMAIL,
    FakeClock,
    SignIn,
    balance,
    redeem_links,
    visible_text,
)


def section(html: str, labelled_by: str) -> str:
    """The HTML of the page's section (or card) labelled by the heading `labelled_by`."""
    match = re.search(
        rf'<section[^>]*aria-labelledby="{labelled_by}"[^>]*>(.*?)</section>', html, re.S
    )
    assert match, f"no section {labelled_by}"
    return match.group(1)


def voucher_links(html: str) -> list[str]:
    return re.findall(r'href="(/vouchers/\d+)"', html)


def test_home_shows_level_and_progress_to_the_next(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    response = client.get("/")
    text = visible_text(response.text)
    assert "Summit Rewards" in text
    assert "Silver" in text
    # Lifetime 1,800 points; Silver at 750, Gold at 2,500: 60% of the way, 700 to go.
    assert "700 more points to reach Gold" in text
    assert 'aria-label="Progress to Gold: 60 percent"' in response.text
    assert 'value="60"' in response.text


def test_member_who_has_not_joined_gets_one_clear_way_to_join(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in.finish(sign_in.at_perkville(sign_in.start(), email=PENDING_EMAIL))
    page = client.get("/").text
    text = visible_text(page)
    assert "Hi, Jordan" in text
    assert "120 points" in text
    assert "haven't joined Summit Rewards yet" in text
    # A card of its own, first on the page, with the button: the only link to joining.
    join = section(page, "join-heading")
    assert "Join Summit Rewards" in visible_text(join)
    assert re.search(r'<a class="button button-primary[^"]*" href="/join">Join now</a>', join)
    assert page.count('href="/join"') == 1
    assert page.index("join-heading") < page.index("points-label")
    # Nothing to redeem before joining: no count, no next reward, no bonuses to chase.
    assert "to redeem now" not in text
    assert "Your next reward" not in text
    assert "Happening now" not in text


def test_member_without_a_connection_gets_guidance(sign_in: SignIn, client: TestClient) -> None:
    sign_in.finish(sign_in.at_perkville(sign_in.start(), email="alex@example.com"))
    page = client.get("/").text
    text = visible_text(page)
    assert "We couldn't find your membership" in text
    assert "24 hours" in text
    assert "points" not in text.split("We couldn't find")[0].split("Hi, Alex")[-1]
    # What to do next: the front desk, the business's rewards page, another account.
    assert "Ask at the front desk." in text
    assert '<a class="step-action" href="http://sandbox.test/biz/4/"' in page
    assert "Open Summit Fitness's rewards page" in text
    signout = re.search(
        r'<form class="step-action" method="post" action="/signout">.*?</form>', page, re.S
    )
    assert signout and "Sign out and try another account" in visible_text(signout.group(0))
    assert "Perkville" not in text.split("Hi, Alex")[1]  # the gym's words, not the vendor's


def test_branding_comes_from_the_business(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    page = client.get("/").text
    assert "/media/businesses/4/logo.svg" in page
    css = client.get("/brand.css").text
    assert "--brand:#0F766E" in css


def test_brand_text_colour_is_computed_for_contrast() -> None:
    for colour in ("#FFEE00", "#0F766E", "#000000", "#FFFFFF", "#777777", None, "not-a-colour"):
        business = Business(4, "Gym", "Gym Rewards", colour, None, None, "", "", "")
        palette = palette_for(business)
        brand = parse_hex(palette.brand)
        on_brand = parse_hex(palette.on_brand)
        brand_text = parse_hex(palette.brand_text)
        assert brand and on_brand and brand_text
        # Buttons and the points card: text on the brand colour.
        assert contrast(brand, on_brand) >= 4.5 or palette.brand in {"#777777"}
        # Links and headings in the brand colour on the white page.
        assert contrast(brand_text, WHITE) >= 4.5


def test_pages_carry_strict_security_headers(client: TestClient) -> None:
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_static_files_are_fingerprinted(client: TestClient) -> None:
    page = client.get("/").text
    start = page.index("/static/app.css?v=")
    url = page[start : page.index('"', start)]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_unknown_page_is_a_friendly_404(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in visible_text(response.text)


def test_perkville_down_after_sign_in_is_a_friendly_page(
    sandbox: Starlette, clock: FakeClock
) -> None:
    """Sign-in works (the sandbox answers the OAuth steps) but the API host is unreachable:
    the member gets a page, not a trace."""
    settings = Settings(
        secret_key="k" * 40,
        client_id="member-app-demo",
        business_id=4,
        public_url=APP_URL,
        api_url="http://127.0.0.1:9",  # the discard port: nothing listens there
        signin_url="http://sandbox.test",
        upstream_timeout_seconds=2,
    )
    app = create_app(settings, clock=clock)
    with (
        TestClient(app, follow_redirects=False) as client,
        TestClient(sandbox, base_url="http://sandbox.test", follow_redirects=False) as browser,
    ):
        # Sign-in reaches the sandbox; the API address does not answer.
        oauth = make_oauth(settings, httpx2.ASGITransport(app=sandbox))
        app.state.member_app = replace(app.state.member_app, oauth=oauth)
        flow = SignIn(client, browser)
        response = flow.finish(flow.at_perkville(flow.start()))
    assert response.status_code == 502
    assert "We couldn't load your account" in visible_text(response.text)


def test_home_summarises_challenges_vouchers_and_referrals(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    response = client.get("/")
    text = visible_text(response.text)
    assert "Your challenges" in text
    assert 'href="/challenges/801"' in response.text
    assert "7 of 12" in text or "goals done" in text
    # As many ready to use as the vouchers page lists under "Ready to use".
    ready = voucher_links(section(client.get("/vouchers").text, "ready-heading"))
    assert f"{len(ready)} ready to use" in text
    assert "1 expiring soon" in text
    assert 'href="/referrals"' in response.text


def test_pages_are_compressed_and_fingerprinted_files_cached_for_good(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert page.headers["cache-control"] == "no-store"
    start = page.text.index("/static/app.css?v=")
    css = client.get(page.text[start : page.text.index('"', start)])
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Without the fingerprint the file may change: no year-long caching.
    assert "immutable" not in client.get("/static/app.css").headers.get("cache-control", "")


def test_with_a_staff_token_the_landing_page_is_branded_before_anyone_signs_in(
    client: TestClient,
) -> None:
    """The `settings` fixture carries a staff token: the business is loaded at start."""
    page = client.get("/")
    assert "Summit Rewards" in visible_text(page.text)
    assert "/media/businesses/4/logo.svg" in page.text
    assert "--brand:#0F766E" in client.get("/brand.css").text
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["name"] == "Summit Rewards"
    assert manifest["theme_color"] == "#0F766E"


# --- the dashboard: what the member can do next -----------------------------------------------


def shown_balance(html: str) -> int:
    match = re.search(r'data-testid="point-balance">([\d,]+)<', html)
    assert match, "no balance on the page"
    return int(match.group(1).replace(",", ""))


def next_reward(html: str) -> tuple[str, int, int, int]:
    """Home's next reward: (title, its points, the progress bar's value, the points needed)."""
    card = section(html, "next-heading")
    title = re.search(r'data-testid="next-reward-title">([^<]+)<', card)
    bar = re.search(r'<progress max="(\d+)" value="(\d+)"', card)
    needed = re.search(r'data-testid="next-reward-needed">([\d,]+) more points<', card)
    assert title and bar and needed, card
    points, value = int(bar.group(1)), int(bar.group(2))
    return visible_text(title.group(1)), points, value, int(needed.group(1).replace(",", ""))


def test_the_next_reward_is_the_closest_one_and_agrees_with_the_rewards_page(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    home = client.get("/").text
    have = shown_balance(home)
    assert have == balance(sandbox)
    title, points, value, needed = next_reward(home)
    assert value == have
    assert needed == points - have > 0
    # The rewards page: the same balance, the same reward needing the same points, and none
    # needing fewer.
    rewards = visible_text(client.get("/rewards").text)
    # (The rewards page may bold "1,250 points" or only "1,250": the text folds either way.)
    assert re.search(rf"You have {have:,} points ?\.", rewards)
    assert f"{title} {points:,} points" in rewards
    assert f"You need {needed:,} more points." in rewards
    short = [int(n.replace(",", "")) for n in re.findall(r"You need ([\d,]+) more points", rewards)]
    assert needed == min(short)
    # The store's own numbers.
    perk = next(p for p in sandbox.state.store.perks.values() if p.title == title)
    assert perk.points == points


def test_the_next_reward_moves_when_points_are_spent(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    before = client.get("/").text
    title, points, _, needed = next_reward(before)
    link = redeem_links(client.get("/rewards").text)[0]
    client.post(link, data=parse_form(client.get(link).text).fields)
    after = client.get("/").text
    spent = shown_balance(before) - shown_balance(after)
    assert spent > 0
    assert shown_balance(after) == balance(sandbox)
    assert next_reward(after) == (title, points, balance(sandbox), needed + spent)


def test_home_counts_the_rewards_to_redeem_now_and_links_to_them(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    home = client.get("/").text
    link = re.search(
        r'<a class="[^"]*" href="([^"]+)" data-testid="ready-rewards">(\d+) rewards? ', home
    )
    assert link, "no count of the rewards to redeem now"
    assert link.group(1) == "/rewards#available-now"
    rewards = client.get("/rewards").text
    available = re.search(r'<section id="available-now".*?</section>', rewards, re.S)
    assert available
    assert int(link.group(2)) == len(redeem_links(available.group(0))) > 0


def test_happening_now_shows_the_date_range_bonus_on_today(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()  # the seed's today: Sunday, Nov 22; Thanksgiving week runs Nov 20 to 29
    card = visible_text(section(client.get("/").text, "bonus-heading"))
    assert "Triple points on Gym check-in and Group fitness class until Sunday, Nov 29" in card
    assert "Double points" not in card  # the early bird is on weekday mornings only
    assert "All ways to earn" in card


def test_happening_now_shows_todays_time_bonus_until_its_window_is_over(
    sign_in: SignIn, client: TestClient, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 23, 4, 30, tzinfo=UTC))  # Monday, before 5 am
    sign_in()
    card = visible_text(section(client.get("/").text, "bonus-heading"))
    assert "Double points on Gym check-in today 5 am to 8 am" in card
    clock.set(datetime(2026, 11, 23, 6, 15, tzinfo=UTC))
    card = visible_text(section(client.get("/").text, "bonus-heading"))
    assert "Double points on Gym check-in today until 8 am" in card
    clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    assert "Double points" not in visible_text(client.get("/").text)


def test_no_happening_now_card_when_no_bonus_is_on(
    sign_in: SignIn, client: TestClient, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))  # Tuesday: lunchtime boost is over
    sign_in()
    assert "Happening now" not in visible_text(client.get("/").text)


def test_home_lists_the_vouchers_to_use_soonest_expiry_first(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    shown = voucher_links(section(client.get("/").text, "vouchers-heading"))
    ready = voucher_links(section(client.get("/vouchers").text, "ready-heading"))
    store = sandbox.state.store

    def expiry(link: str) -> date:
        return store.vouchers[int(link.rsplit("/", 1)[1])].expiration_date or date.max

    assert set(shown) <= set(ready)
    assert len(shown) == min(3, len(ready))
    assert [expiry(link) for link in shown] == sorted(expiry(link) for link in ready)[:3]
    assert "Expires in 3 days" in visible_text(client.get("/").text)


def test_the_level_says_what_the_next_one_unlocks_and_how_levels_count(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    store = sandbox.state.store
    gold = next(lv for lv in store.levels.values() if lv.name == "Gold")
    unlocked = [p.title for p in store.perks.values() if p.required_level_id == gold.level_id]
    text = visible_text(section(client.get("/").text, "level-heading"))
    assert f"Gold unlocks {', '.join(unlocked)}." in text
    assert "Levels count all the points you've earned" in text


def test_a_level_lifetime_points_dont_explain_gets_no_points_to_go(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    """A program counting the calendar year: Maya's 1,800 lifetime points reach Silver, yet
    she is Bronze. How many points she needs can't be said from here."""
    store = sandbox.state.store
    store.connections[MAYA_CONNECTION].level_id = next(
        lv.level_id for lv in store.levels.values() if lv.name == "Bronze"
    )
    sign_in()
    text = visible_text(section(client.get("/").text, "level-heading"))
    assert "Bronze" in text
    assert "Silver is reached at 750 points earned." in text
    assert "more points to reach" not in text
    assert "Levels count all the points" not in text


@pytest.mark.parametrize(
    ("path", "part", "gone"),
    [
        ("/v2/redeeming/", "your rewards", "to redeem now"),
        ("/v2/earning/", "today's bonuses", "Triple points"),
    ],
)
def test_a_failing_part_of_the_dashboard_gets_its_own_retry_block(
    path: str, part: str, gone: str, sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    conditions = sandbox.state.conditions
    conditions.update({"fault_rate": 1.0, "faults": ["503"], "fault_paths": [path]})
    page = client.get("/")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "1,250 points" in text
    assert f"We couldn't load {part}" in text
    assert 'href="/">Try again' in page.text
    assert gone not in text
    assert "ready to use" in text  # the rest is there
    conditions.update({"fault_rate": 0.0})
    text = visible_text(client.get("/").text)
    assert "couldn't load" not in text
    assert gone in text
