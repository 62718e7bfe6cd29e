"""Ways to earn, and the point history."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings
from member_app.sandbox.records import Transaction
from member_app.sandbox.seed.gym import DEMO_TIMEZONE

from .helpers import MAYA, FakeClock, SignIn, identify, make_client, visible_text
from .sandbox_helpers import bearer, member_token

PORTLAND = {"timezone": DEMO_TIMEZONE}  # the demo's MEMBER_APP_TIMEZONE

# --- ways to earn ------------------------------------------------------------------------------


def progress_lines(html: str) -> list[str]:
    """The progress bars' names, in page order ("Gym check-in: 2 of 4 this week")."""
    return re.findall(r'<progress [^>]*aria-label="([^"]+)"', html)


def perkville_counts(sandbox_client: TestClient) -> dict[str, int]:
    """What Perkville itself says of Maya's progress (the view as the member, her token)."""
    headers = bearer(member_token(sandbox_client))
    url = "/v2/earning/?business=4&view_as_user=true"
    rules = sandbox_client.get(url, headers=headers).json()["objects"]
    return {b["frequency"]: b["earned_count"] for r in rules for b in r["frequency_bonuses"]}


def test_earning_rules_show_bonuses_and_progress(
    sign_in: SignIn, client: TestClient, sandbox_client: TestClient
) -> None:
    sign_in()
    response = client.get("/earn")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "Ways to earn" in text
    assert "Double points Monday 5 am to 8 am" in text  # the early-bird window
    assert "Triple points until Nov 29, 2026" in text  # Thanksgiving week
    counts = perkville_counts(sandbox_client)
    assert counts == {"WEEKLY": 2, "MONTHLY": 9, "FROM_DATE": 3}
    assert progress_lines(response.text) == [
        f"Gym check-in: {counts['WEEKLY']} of 4 this week",
        f"Gym check-in: {counts['MONTHLY']} of 12 this month",
        f"Group fitness class: {counts['MONTHLY']} of 12 this month",
        f"Group fitness class: {counts['FROM_DATE']} of 10 since Oct 1, 2026",
    ]
    assert "+25 bonus points for 4 this week" in text
    # The monthly bonus counts check-ins and classes: said where it is shown, so it is not
    # read as the November challenge's "Check in 12 times".
    assert text.count("Each Gym check-in or Group fitness class counts.") == 2


@pytest.mark.parametrize("zone", [PORTLAND, {}], ids=["Portland", "UTC"])
def test_identified_member_sees_the_progress_of_her_own_view(
    settings: Settings,
    sandbox: Starlette,
    sandbox_client: TestClient,
    clock: FakeClock,
    zone: dict[str, str],
) -> None:
    """The staff token reads the earning rules without the member's progress (earned_count
    is 0 there): the app counts it from her transactions, which it may read."""
    own = perkville_counts(sandbox_client)
    for client, _ in make_client(settings, sandbox, clock, signin_flow="identify", **zone):
        identify(client, sandbox_client)
        response = client.get("/earn")
        assert response.status_code == 200
        assert progress_lines(response.text) == [
            f"Gym check-in: {own['WEEKLY']} of 4 this week",
            f"Gym check-in: {own['MONTHLY']} of 12 this month",
            f"Group fitness class: {own['MONTHLY']} of 12 this month",
            f"Group fitness class: {own['FROM_DATE']} of 10 since Oct 1, 2026",
        ]
        assert "0 of" not in visible_text(response.text)


def test_identified_member_progress_follows_new_earns_and_voids(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    store = sandbox.state.store
    after = max(store.transactions)

    def check_in(n: int, loc: int) -> Transaction:
        txn = Transaction(
            after + n, 4, MAYA, 101, loc, "Gym check-in", "EARN", 5, 1,
            clock.utc() - timedelta(hours=n),
        )  # fmt: skip
        store.transactions[txn.transaction_id] = txn
        return txn

    check_in(1, 11)
    check_in(2, 13)
    check_in(3, 12).transaction_status = "VOID"  # voided: does not count
    own = perkville_counts(sandbox_client)
    assert own["WEEKLY"] == 4  # two more this week
    for client, _ in make_client(settings, sandbox, clock, signin_flow="identify", **PORTLAND):
        identify(client, sandbox_client)
        text = visible_text(client.get("/earn").text)
        assert "4 of 4 this week: bonus earned" in text
        assert f"{own['MONTHLY']} of 12 this month" in text


def test_progress_that_cannot_be_read_is_not_shown(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """More of this month's history than the app reads for an identified member: it shows
    the bonuses, but no count it could not check."""
    store = sandbox.state.store
    after = max(store.transactions)
    for n in range(1, 520):
        when = clock.utc() - timedelta(minutes=n)
        txn = Transaction(after + n, 4, MAYA, 108, 11, "Workout logged", "EARN", 0, 1, when)
        store.transactions[txn.transaction_id] = txn
    for client, _ in make_client(settings, sandbox, clock, signin_flow="identify", **PORTLAND):
        identify(client, sandbox_client)
        response = client.get("/earn")
        assert response.status_code == 200
        text = visible_text(response.text)
        assert "+50 bonus points for 12 this month" in text
        assert progress_lines(response.text) == []
        assert " of 12 " not in text


# --- point history -----------------------------------------------------------------------------


def lines(html: str) -> list[str]:
    """Each history line's visible text, in page order."""
    return [visible_text(li) for li in re.findall(r"<li class=\"history-line.*?</li>", html, re.S)]


def test_history_is_paged_newest_first(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    first = client.get("/history")
    assert first.status_code == 200
    times = re.findall(r'<time datetime="([^"]+)"', first.text)
    assert len(times) >= 15
    assert times == sorted(times, reverse=True)
    more = re.search(r'<a [^>]*rel="next" href="(/history\?offset=20)"', first.text)
    assert more, "no Older link"
    assert 'rel="prev"' not in first.text  # the newest page has nothing newer
    second = client.get(more.group(1))
    later = re.findall(r'<time datetime="([^"]+)"', second.text)
    assert later and max(later) <= min(times)
    assert re.search(r'<a [^>]*rel="prev" href="/history">Newer</a>', second.text)
    assert re.search(r'<a [^>]*rel="next" href="/history\?offset=40"', second.text)


def test_history_pages_keep_the_filters_and_end(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    earned = client.get("/history?kind=earned&offset=20")
    assert 'href="/history?kind=earned"' in earned.text  # Newer
    assert 'href="/history?kind=earned&amp;offset=40"' in earned.text  # Older
    # The only page of what was redeemed (7 rewards): nothing older.
    redeemed = client.get("/history?kind=redeemed")
    assert len(lines(redeemed.text)) == 7
    assert 'rel="next"' not in redeemed.text and 'rel="prev"' not in redeemed.text
    beyond = client.get("/history?offset=400")
    assert beyond.status_code == 200
    assert "Nothing older" in visible_text(beyond.text)
    assert 'rel="prev" href="/history?offset=380"' in beyond.text


def test_history_shows_points_as_points_and_activities_as_activities(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    page = client.get("/history").text
    workout = next(line for line in lines(page) if line.startswith("Workout logged in the app"))
    assert workout == "Workout logged in the app Nov 19, 2026 · 3:10 AM 2 logged · no points"
    assert "×" not in "".join(re.findall(r'class="history-points[^"]*">(.*?)</span>', page))
    shop = next(line for line in lines(page) if line.startswith("Dollar spent at the pro shop"))
    amount = int(re.search(r"\+(\d+) points", shop).group(1))  # type: ignore[union-attr]
    assert f"{amount} × 1 point" in shop
    # Redemptions spend, with a link to their voucher named for the reward.
    guest = next(line for line in lines(page) if line.startswith("Guest pass"))
    assert guest.endswith("Voucher for Guest pass −100 points")


def test_history_times_are_the_programs(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """Perkville's UTC instants, shown on the gym's clocks (MEMBER_APP_TIMEZONE): Friday's
    early-bird visit at 7:42 am, inside its 5-8 am window."""
    for client, _ in make_client(settings, sandbox, clock, **PORTLAND):
        SignIn(client, sandbox_client)()
        page = client.get("/history").text
        assert lines(page)[:3] == [
            "Thanksgiving week triple points Nov 20, 2026 · 7:42 AM +10 points",
            "Early bird double points Nov 20, 2026 · 7:42 AM +5 points",
            "Gym check-in Nov 20, 2026 · 7:42 AM +5 points",
        ]
        assert '<time datetime="2026-11-20T07:42:00-08:00">' in page
        lunch = client.get("/history?kind=earned&from=2026-11-10&to=2026-11-10").text
        assert "Lunchtime class boost Nov 10, 2026 · 12:15 PM +15 points" in lines(lunch)


def test_history_filters_by_kind_and_dates(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    redeemed = client.get("/history?kind=redeemed")
    assert "−" in redeemed.text
    assert 'class="history-points earned"' not in redeemed.text
    window = client.get("/history?from=2026-10-01&to=2026-10-31")
    dates = re.findall(r'<time datetime="(\d{4}-\d{2}-\d{2})', window.text)
    assert dates and all("2026-10-01" <= d <= "2026-10-31" for d in dates)


def test_history_explains_bad_filters(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    response = client.get("/history?kind=everything&from=yesterday&offset=-4")
    assert response.status_code == 400
    text = visible_text(response.text)
    assert "choose all, earned or redeemed" in text
    assert "use a date like" in text
    assert "out of range" in text
    backwards = client.get("/history?from=2026-11-01&to=2026-10-01")
    assert backwards.status_code == 400
    assert "The start date is after the end date." in visible_text(backwards.text)
    for bad in ("offset=1e3", "offset=²", "offset=" + "9" * 5000, "from=2026-13-01"):
        assert client.get(f"/history?{bad}").status_code == 400, bad


def test_voided_lines_are_struck_through(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    pages = [client.get(f"/history?offset={n}").text for n in range(0, 200, 20)]
    assert any("<s>" in page and "(voided)" in page for page in pages)
