"""Bench members: K extra, fully set-up members of the demo gym for load and soak runs.

`bench-{i}@example.com` (i = 1..K), password `perkville-demo` (the demo member's). Each has,
modelled on Maya (gym.py, rewards.py, challenges.py, referrals.py):

* an ACTIVE Connection to business 4, home location 11 (Downtown), Gold level;
* an EARN history (join bonus, check-ins, classes, training, a welcome point adjustment) of
  3200 + 10 x (i mod 5) points, and two REDEEM transactions with their UNUSED vouchers (a
  Free smoothie, 150, and a Protein bar, 50), so the balance is 3000 + 10 x (i mod 5) and the
  ledger (GET /_sandbox/ledger) is consistent;
* the November Check-In Challenge (801) joined, with a summary for each requirement
  (check-ins: i mod 12 of 12; classes: i mod 3 of 2, capped, completed at 2);
* one SENT referral to `bench-{i}-friend@example.net`.

Ids are a function of i (see `bench_ids`), so a run can name them without asking the API.
Every record is built directly (no Ledger, no bonus rules): the earn times (2 to 4 pm on the
gym's clocks, October days) fall outside every seeded time and date-range bonus, so no bonus
line is owed.
Deterministic, and well under a millisecond per member (1000 in about 40 ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..records import (
    ChallengeConnection,
    ChallengeRequirementSummary,
    Connection,
    Referral,
    Transaction,
    User,
    Voucher,
)
from ..store import USER_SCOPES, Client, Store
from .challenges import CHALLENGE_JOINED
from .gym import DEMO_BUSINESS_ID, MEMBER_PASSWORD, local

MAX_MEMBERS = 1000
BENCH_CLIENT_ID = "member-app-bench"
BENCH_CLIENT_SECRET = "bench-secret"  # noqa: S105 - a published sandbox credential
BENCH_CHALLENGE_ID = CHALLENGE_JOINED  # the November Check-In Challenge
BENCH_REWARDS = (201, 202)  # Free smoothie (150), Protein bar (50)
_CHECK_IN, _CLASS, _TRAINING, _JOIN, _ADJUSTMENT = 101, 102, 103, 106, 109
_GOLD = 23
_CHECKIN_REQUIREMENT, _CLASS_REQUIREMENT = 901, 902
_START = local("2026-10-01 14:00")


def bench_email(i: int) -> str:
    return f"bench-{i}@example.com"


@dataclass(frozen=True)
class BenchIds:
    """Where bench member i's records live (ranges no other seed uses)."""

    user_id: int
    connection_id: int
    voucher_ids: tuple[int, int]
    challenge_connection_id: int
    summary_ids: tuple[int, int]
    referral_id: int
    first_transaction_id: int


def bench_ids(i: int) -> BenchIds:
    return BenchIds(
        user_id=100_000 + i,
        connection_id=300_000 + i,
        voucher_ids=(600_000 + 2 * i, 600_000 + 2 * i + 1),
        challenge_connection_id=800_000 + i,
        summary_ids=(900_000 + 2 * i, 900_000 + 2 * i + 1),
        referral_id=700_000 + i,
        # 20 slots per member; 18 are used.
        first_transaction_id=1_000_000 + 20 * i,
    )


def bench_balance(i: int) -> int:
    return 3000 + 10 * (i % 5)


def _member(store: Store, i: int, home: int) -> None:
    ids = bench_ids(i)
    uid = ids.user_id
    joined = local("2026-09-01 14:00")
    store.users[uid] = User(
        uid, "Bench", f"Member {i}", bench_email(i), MEMBER_PASSWORD, "", None, joined
    )
    next_id = ids.first_transaction_id
    earned = 0
    last = joined

    def add(perk_id: int, when: datetime, *, quantity: int = 1, title: str | None = None) -> int:
        nonlocal next_id, earned, last
        perk = store.perks[perk_id]
        txn = Transaction(
            next_id, DEMO_BUSINESS_ID, uid, perk_id, home, title or perk.title,
            perk.classification, perk.points, quantity, when,
        )  # fmt: skip
        store.transactions[next_id] = txn
        next_id += 1
        if perk.classification == "EARN":
            earned += perk.points * quantity
        last = max(last, when)
        return txn.transaction_id

    add(_JOIN, joined, title=store.perks[_JOIN].display_name)
    for n in range(8):
        add(_CHECK_IN, _START + timedelta(days=3 * n))
    for n in range(4):
        add(_CLASS, _START + timedelta(days=5 * n, hours=1))
    for n in range(2):
        add(_TRAINING, _START + timedelta(days=10 * n + 2, hours=2))
    rewards_cost = sum(store.perks[p].points for p in BENCH_REWARDS)
    # The adjustment perk is worth 1 point a unit: the quantity tops the history up exactly.
    top_up = bench_balance(i) + rewards_cost - earned
    add(_ADJUSTMENT, _START + timedelta(days=25), quantity=top_up, title="Welcome points")
    for n, (perk_id, voucher_id) in enumerate(zip(BENCH_REWARDS, ids.voucher_ids, strict=True)):
        when = local(f"2026-11-{10 + 3 * n} 17:00")
        txn_id = add(perk_id, when)
        perk = store.perks[perk_id]
        days = perk.voucher_expiration_days
        store.transactions[txn_id].voucher_id = voucher_id
        store.vouchers[voucher_id] = Voucher(
            voucher_id, DEMO_BUSINESS_ID, uid, perk_id, txn_id, home, perk.title, perk.points,
            "UNUSED", when,
            expiration_date=store.local(when).date() + timedelta(days=days) if days else None,
            details=perk.redemption_instructions,
        )  # fmt: skip
    store.connections[ids.connection_id] = Connection(
        ids.connection_id, uid, DEMO_BUSINESS_ID, "ACTIVE",
        point_balance=bench_balance(i), lifetime_earned_points=earned, level_id=_GOLD,
        home_location_id=home, last_visited_location_id=home,
        external_membership_status="ACTIVE", external_membership_type="Monthly Unlimited",
        external_join_dt=joined, rewards_program_join_dt=joined, last_mod_dt=last,
        last_transaction_dt=last,
    )  # fmt: skip
    _challenge(store, i, ids)
    store.referrals[ids.referral_id] = Referral(
        ids.referral_id, DEMO_BUSINESS_ID, uid, f"bench-{i}-friend@example.net", "SENT",
        local("2026-11-18 12:00"), local("2026-11-18 12:00"),
        source="LOGGED_IN", location_id=home, to_first_name="Friend",
    )  # fmt: skip


def _challenge(store: Store, i: int, ids: BenchIds) -> None:
    joined = local("2026-11-02 08:00")
    updated = local("2026-11-20 08:00")
    store.challenge_connections[ids.challenge_connection_id] = ChallengeConnection(
        ids.challenge_connection_id, BENCH_CHALLENGE_ID, ids.connection_id, DEMO_BUSINESS_ID,
        "ACTIVE", joined, updated, join_dt=joined,
    )  # fmt: skip
    progress = (
        (_CHECKIN_REQUIREMENT, i % 12),
        (_CLASS_REQUIREMENT, i % 3),
    )
    for summary_id, (requirement_id, count) in zip(ids.summary_ids, progress, strict=True):
        required = store.challenge_requirements[requirement_id].required_quantity
        done = count >= required
        store.challenge_summaries[summary_id] = ChallengeRequirementSummary(
            summary_id, ids.challenge_connection_id, requirement_id, joined, updated,
            earned_quantity=min(count, required), completed_requirement=done,
            completed_dt=updated if done else None,
        )  # fmt: skip


def seed_bench(store: Store, members: int) -> None:
    """Add `members` bench members (0..MAX_MEMBERS) to a demo store, plus the bench client (a
    confidential client allowed the password grant with the member scopes, so a load tool
    can buy member tokens without driving the sign-in pages)."""
    if not 0 <= members <= MAX_MEMBERS:
        raise ValueError(f"members must be from 0 to {MAX_MEMBERS}")
    if members == 0:
        return
    home = min(
        loc.location_id for loc in store.locations.values() if loc.business_id == DEMO_BUSINESS_ID
    )
    for i in range(1, members + 1):
        _member(store, i, home)
    store.clients[BENCH_CLIENT_ID] = Client(
        BENCH_CLIENT_ID,
        "Summit Fitness bench runner",
        [],
        USER_SCOPES,
        frozenset({"password"}),
        secret=BENCH_CLIENT_SECRET,
    )
