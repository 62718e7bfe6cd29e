"""The demo gym adds up: every number the seed holds follows from the members' point history, so
no page can contradict another (member_app/sandbox/seed/).

Each invariant is counted here afresh from the transactions, on the gym's clocks (Portland),
not with the seed's own helpers: balances and lifetime points, levels, bonus lines, frequency
bonus progress, challenge progress, completed referrals and vouchers. Then the same numbers
through the API and on the app's pages.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings
from member_app.sandbox.records import ChallengeRequirementSummary, FrequencyBonus, Transaction
from member_app.sandbox.seed import DEMO_NOW, demo_store
from member_app.sandbox.store import Store

from .helpers import MAYA, FakeClock, SignIn, make_client, visible_text
from .sandbox_helpers import bearer, member_token

PORTLAND = ZoneInfo("America/Los_Angeles")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture(scope="module")
def store() -> Store:
    """The seed as it starts (read only: the tests here change nothing)."""
    seeded = demo_store()
    seeded.clock = lambda: DEMO_NOW
    return seeded


def local(moment: datetime) -> datetime:
    return moment.astimezone(PORTLAND)


def earns(store: Store, user_id: int) -> list[Transaction]:
    """The member's earns that stand (not voided), oldest first."""
    return sorted(
        (
            t
            for t in store.transactions.values()
            if t.user_id == user_id and t.classification == "EARN"
            if t.transaction_status == "ACTIVE"
        ),
        key=lambda t: (t.transaction_dt, t.transaction_id),
    )


def test_the_gym_keeps_portland_time(store: Store) -> None:
    assert store.timezone == "America/Los_Angeles"
    assert store.today() == date(2026, 11, 22)  # 10 am on Sunday there


def test_balances_are_what_was_earned_less_what_was_spent(store: Store) -> None:
    for conn in store.connections.values():
        mine = [
            t
            for t in store.transactions.values()
            if t.user_id == conn.user_id and t.business_id == conn.business_id
        ]
        earned = sum(t.points * t.quantity for t in mine if t.classification == "EARN")
        spent = sum(t.points * t.quantity for t in mine if t.classification == "REDEEM")
        assert (conn.lifetime_earned_points, conn.point_balance) == (earned, earned - spent)
        newest = max((t.transaction_dt for t in mine), default=None)
        assert conn.last_transaction_dt == newest, conn.connection_id
    maya = store.connection_of(MAYA, 4)
    assert maya is not None and (maya.point_balance, maya.lifetime_earned_points) == (1250, 1800)


def test_levels_follow_lifetime_points(store: Store) -> None:
    for conn in store.connections.values():
        floors = sorted(
            (lv.point_floor, lv.level_id)
            for lv in store.levels.values()
            if lv.business_id == conn.business_id
        )
        reached = [level for floor, level in floors if floor <= conn.lifetime_earned_points]
        assert conn.level_id == (reached[-1] if reached else None), conn.connection_id


def test_time_and_date_range_bonuses_sit_on_the_earns_they_multiply(store: Store) -> None:
    """A bonus line for every earn in a bonus window on the gym's clocks, and none other: the
    early bird's 5 to 8 am is Portland's, so its lines are at Portland's 5 to 8 am."""
    for user_id in {t.user_id for t in store.transactions.values()}:
        lines = earns(store, user_id)
        owed: Counter[tuple[int, datetime, int]] = Counter()
        for t in lines:
            when, perk = local(t.transaction_dt), store.perks[t.perk_id]
            for tb in store.time_bonuses.values():
                bonus = store.perks[tb.perk_id]
                here = bonus.location_ids is None or t.location_id in bonus.location_ids
                windows = tb.time_periods.get(WEEKDAYS[when.weekday()], [])
                if (
                    t.perk_id in tb.base_perk_ids
                    and here
                    and any(_starts(w) <= when.time() < _ends(w) for w in windows)
                ):
                    extra = int(perk.points * t.quantity * (Decimal(tb.multiplier) - 1))
                    owed[(tb.perk_id, t.transaction_dt, extra)] += 1
            for dr in store.date_range_bonuses.values():
                if t.perk_id in dr.base_perk_ids and dr.from_date <= when.date() <= dr.to_date:
                    extra = int(perk.points * t.quantity * (Decimal(dr.multiplier) - 1))
                    owed[(dr.perk_id, t.transaction_dt, extra)] += 1
        bonus_perks = set(store.time_bonuses) | set(store.date_range_bonuses)
        paid = Counter(
            (t.perk_id, t.transaction_dt, t.points * t.quantity)
            for t in lines
            if t.perk_id in bonus_perks
        )
        assert paid == owed, user_id
    early = [t for t in store.transactions.values() if t.perk_id == 121]
    assert early and all(5 <= local(t.transaction_dt).hour < 8 for t in early)


def _starts(window: str) -> time:
    return _clock(window.split(" to ")[0])


def _ends(window: str) -> time:
    return _clock(window.split(" to ")[1])


def _clock(text: str) -> time:
    hour, meridiem = text.split()
    return time(int(hour) % 12 + (12 if meridiem == "pm" else 0))


def window_of(fb: FrequencyBonus, on: date) -> date:
    """The first day of the bonus's window containing `on` (ISO weeks, months, from a date)."""
    if fb.frequency == "WEEKLY":
        start = on - timedelta(days=on.weekday())
    elif fb.frequency == "MONTHLY":
        start = on.replace(day=1)
    else:
        start = fb.start_date
    return max(start, fb.start_date)


def qualifying(store: Store, fb: FrequencyBonus, user_id: int) -> list[Transaction]:
    bonus = store.perks[fb.perk_id]
    return [
        t
        for t in earns(store, user_id)
        if t.perk_id in fb.qualifying_perk_ids
        and local(t.transaction_dt).date() >= fb.start_date
        and (bonus.location_ids is None or t.location_id in bonus.location_ids)
    ]


def test_frequency_bonuses_are_paid_once_per_window_reached(store: Store) -> None:
    for user_id in {t.user_id for t in store.transactions.values()}:
        for fb in store.frequency_bonuses.values():
            counts = Counter(
                window_of(fb, local(t.transaction_dt).date())
                for t in qualifying(store, fb, user_id)
            )
            reached = {start for start, n in counts.items() if n >= fb.required_to_earn}
            paid = [
                window_of(fb, local(t.transaction_dt).date())
                for t in earns(store, user_id)
                if t.perk_id == fb.perk_id
            ]
            assert sorted(paid) == sorted(reached), (user_id, fb.frequency_bonus_perk_id)


def this_window(store: Store, fb: FrequencyBonus, user_id: int) -> int:
    start = window_of(fb, store.today())
    return sum(1 for t in qualifying(store, fb, user_id) if local(t.transaction_dt).date() >= start)


def test_frequency_progress_is_this_windows_earns(store: Store, sandbox_client: TestClient) -> None:
    """Perkville's earned_count (the view as the member) is the count of her qualifying
    earns in the current window: 2 check-ins this week, 7 check-ins and 2 classes this month,
    3 classes since October 1."""
    expected = {
        fb.frequency_bonus_perk_id: this_window(store, fb, MAYA)
        for fb in store.frequency_bonuses.values()
    }
    assert expected == {401: 2, 402: 9, 403: 3}
    headers = bearer(member_token(sandbox_client))
    url = "/v2/earning/?business=4&view_as_user=true"
    rules = sandbox_client.get(url, headers=headers).json()["objects"]
    seen = {
        b["frequency_bonus_perk_id"]: b["earned_count"]
        for rule in rules
        for b in rule["frequency_bonuses"]
    }
    assert seen == expected


def test_challenge_progress_is_the_matching_earns_in_its_dates(store: Store) -> None:
    """Each summary counts the earns of its requirement's perk, at the challenge's locations,
    on its days (the gym's), from the moment the member joined until the challenge was done."""
    assert store.challenge_summaries
    for summary in store.challenge_summaries.values():
        cc = store.challenge_connections[summary.challenge_connection_id]
        challenge = store.challenges[cc.challenge_id]
        req = store.challenge_requirements[summary.challenge_perk_requirement_id]
        conn = store.connections[cc.connection_id]
        assert cc.join_dt is not None
        start = date.fromisoformat(challenge.start_date or "1900-01-01")
        end = date.fromisoformat(challenge.end_date or "9999-12-31")
        matching = [
            t
            for t in earns(store, conn.user_id)
            if t.perk_id == req.progress_perk_id
            and start <= local(t.transaction_dt).date() <= end
            and t.transaction_dt >= cc.join_dt
            and (cc.completed_dt is None or t.transaction_dt <= cc.completed_dt)
            and (not challenge.location_ids or t.location_id in challenge.location_ids)
        ]
        assert summary.earned_quantity == sum(t.quantity for t in matching), summary.summary_id
        done = summary.earned_quantity >= req.required_quantity
        assert summary.completed_requirement == done
        if done:
            reached = matching[req.required_quantity - 1].transaction_dt
            assert summary.completed_dt == reached
    for cc in store.challenge_connections.values():
        mine = [
            s
            for s in store.challenge_summaries.values()
            if s.challenge_connection_id == cc.challenge_connection_id
        ]
        assert cc.completed == bool(mine and all(s.completed_requirement for s in mine))
    # The November challenge: 7 of 12 check-ins, 2 of 2 classes.
    assert [(s.earned_quantity, s.completed_requirement) for s in _of(store, 851)] == [
        (7, False),
        (2, True),
    ]


def _of(store: Store, cc_id: int) -> list[ChallengeRequirementSummary]:
    summaries = sorted(store.challenge_summaries.items())
    return [s for _, s in summaries if s.challenge_connection_id == cc_id]


def test_completed_referrals_have_their_bonus_and_a_friend_who_joined(store: Store) -> None:
    referral_perks = {p.perk_id for p in store.perks.values() if p.type == "REFERRAL"}
    referral_lines = [
        t
        for t in store.transactions.values()
        if t.perk_id in referral_perks and t.classification == "EARN"
    ]
    completed = [r for r in store.referrals.values() if r.status == "COMPLETED"]
    assert completed
    for referral in completed:
        assert referral.completed_dt is not None and referral.to_user_id is not None
        friend = store.connection_of(referral.to_user_id, referral.business_id)
        assert friend is not None and friend.status == "ACTIVE"
        assert friend.rewards_program_join_dt is not None
        assert referral.created_dt <= friend.rewards_program_join_dt <= referral.completed_dt
        # The friend's first earn of a perk that completes referrals completed it...
        completing = [
            t
            for t in earns(store, referral.to_user_id)
            if store.perks[t.perk_id].completes_referral
        ]
        assert completing and completing[0].transaction_dt == referral.completed_dt
        # ...and paid the referrer the referral rule's points, then.
        paid = [
            t
            for t in referral_lines
            if t.user_id == referral.from_user_id and t.transaction_dt == referral.completed_dt
        ]
        assert [t.points for t in paid] == [
            next(p.points for p in store.perks.values() if p.perk_id in referral_perks
                 and p.classification == "EARN" and p.business_id == referral.business_id)
        ]  # fmt: skip
    # No referral points without a completed referral.
    assert len(referral_lines) == len(completed)


def test_vouchers_come_from_their_redemptions(store: Store) -> None:
    for voucher in store.vouchers.values():
        assert voucher.transaction_id is not None
        txn = store.transactions[voucher.transaction_id]
        assert (txn.classification, txn.perk_id, txn.voucher_id) == (
            "REDEEM",
            voucher.perk_id,
            voucher.voucher_id,
        )
        assert voucher.created_datetime == txn.transaction_dt
        days = store.perks[voucher.perk_id].voucher_expiration_days
        if days:
            assert voucher.expiration_date == local(txn.transaction_dt).date() + timedelta(days)
    assert store.vouchers[52005].expiration_date == date(2026, 11, 25)


# --- the same numbers on the app's pages -----------------------------------------------------


def test_pages_agree(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """What Earn, Challenges and History say of this month, in the demo's time zone: the
    monthly bonus counts November's check-ins and classes, the November challenge its
    check-ins; the history lists exactly those."""
    for client, _ in make_client(settings, sandbox, clock, timezone="America/Los_Angeles"):
        SignIn(client, sandbox_client)()
        earn = client.get("/earn").text
        monthly = re.search(r"Gym check-in: (\d+) of 12 this month", earn)
        weekly = re.search(r"Gym check-in: (\d+) of 4 this week", earn)
        assert monthly and weekly
        challenge = visible_text(client.get("/challenges/801").text)
        checkins = re.search(r"Check in 12 times .*?(\d+) of 12", challenge)
        assert checkins
        november = client.get("/history?kind=earned&from=2026-11-01&to=2026-11-30").text
        titles = Counter(
            re.sub(r"<[^>]+>", "", title).strip()
            for title in re.findall(
                r'<span class="history-title">(.*?)</span>\s*<time', november, re.S
            )
        )
        assert int(checkins.group(1)) == titles["Gym check-in"] == 7
        assert int(monthly.group(1)) == titles["Gym check-in"] + titles["Group fitness class"]
        week = client.get("/history?kind=earned&from=2026-11-16&to=2026-11-22").text
        assert int(weekly.group(1)) == week.count('<span class="history-title">Gym check-in<')
        home = visible_text(client.get("/").text)
        assert "1,250" in home
