"""Awarding points as a gym's own systems do (reference: Transaction POST with
ADMIN_CUSTOMER_GRANT_POINTS; "Automating your program"): a check-in at the desk, a class, a
purchase, a refund.

An award is one EARN line for the perk, plus the bonus lines the earning rules add (time and
date-range bonuses as their own lines, a frequency bonus when the count is reached), written
the way the demo gym's history was (seed/rewards.py), so the two never disagree. Then what an
earn moves: the balance and lifetime points, the level, challenge progress, and the connection
balance's `last_mod_dt` (reference, Connection Balance: "For recently modified point balances,
please use the Connection Balance resource").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..challenges import record_challenge_progress
from ..records import Connection, Perk, Transaction, User
from ..store import Store, next_id
from .earning import (
    counts_toward,
    frequency_window_start,
    in_time_bonus,
    multiplied,
)
from .perks import perk_at

# A new member made by an award gets ids from here, clear of the seed's.
FIRST_NEW_USER_ID = 5000
FIRST_NEW_CONNECTION_ID = 9000


@dataclass(frozen=True)
class Award:
    """A checked request to award one perk to one member."""

    business_id: int
    location_id: int
    perk: Perk
    quantity: int  # negative: a refund (reference: "you may post a negative quantity")
    when: datetime
    trans_source_id: str = ""


def member_for_email(
    store: Store, business_id: int, email: str, first_name: str = "", last_name: str = ""
) -> User:
    """The user with this email, or a new one (reference, Transaction POST: "If the User doesn't
    exist, we'll create a new user from the provided email, award the Transaction, and then send
    the user an invitational email"). A new user's connection is IMPORTED: a customer of the
    business who has not yet accepted the rewards program (Connection: `status`)."""
    found = store.user_by_email(email)
    if found is None:
        user_id = next_id(store.users, FIRST_NEW_USER_ID)
        found = User(user_id, first_name.strip(), last_name.strip(), email.strip(), password="")
        store.users[user_id] = found
    connection_for(store, found.user_id, business_id)
    return found


def connection_for(store: Store, user_id: int, business_id: int) -> Connection:
    """The user's connection to the business, made (IMPORTED) if they have none yet."""
    conn = store.connection_of(user_id, business_id)
    if conn is None:
        conn_id = next_id(store.connections, FIRST_NEW_CONNECTION_ID)
        lowest = min(
            (lv for lv in store.levels.values() if lv.business_id == business_id),
            key=lambda lv: lv.point_floor,
            default=None,
        )
        conn = Connection(
            conn_id,
            user_id,
            business_id,
            "IMPORTED",
            level_id=lowest.level_id if lowest and lowest.point_floor <= 0 else None,
            last_mod_dt=store.now(),
        )
        store.connections[conn_id] = conn
    return conn


def earned_today(store: Store, user_id: int, perk_id: int, when: datetime) -> bool:
    """Whether the member already earned this perk on `when`'s day, on the location's clock
    (reference, Transaction POST: `limit_to_once_per_calendar_day`, "based on the timezone of
    the location")."""
    day = store.local(when).date()
    return any(
        t.user_id == user_id
        and t.perk_id == perk_id
        and t.classification == "EARN"
        and t.transaction_status == "ACTIVE"
        and t.quantity > 0
        and store.local(t.transaction_dt).date() == day
        for t in store.transactions.values()
    )


def award(store: Store, user_id: int, request: Award) -> Transaction:
    """Write the award and its bonus lines; move the balance, level and challenges. Returns the
    perk's own line (the one the reference's answer describes)."""
    perk, loc, when = request.perk, request.location_id, request.when
    base = _line(store, user_id, perk, loc, when, perk.points, request.quantity)
    base.trans_source_id = request.trans_source_id
    lines = [base]
    if request.quantity > 0:
        lines += _rate_bonuses(store, user_id, request, base)
        lines += _frequency_bonuses(store, user_id, base)
        record_challenge_progress(
            store,
            user_id=user_id,
            business_id=request.business_id,
            perk_id=perk.perk_id,
            quantity=request.quantity,
            location_id=loc,
            when=when,
        )
    conn = connection_for(store, user_id, request.business_id)
    amount = sum(t.points * t.quantity for t in lines)
    conn.point_balance += amount
    conn.lifetime_earned_points = max(conn.lifetime_earned_points + amount, 0)
    conn.last_transaction_dt = max(conn.last_transaction_dt or when, when)
    conn.last_visited_location_id = loc
    conn.balance_mod_dt = store.now()
    relevel(store, conn)
    return base


def relevel(store: Store, conn: Connection) -> None:
    """The highest level whose floor the member's lifetime points reach (the demo program's
    levels count every point earned, as its help page says)."""
    reached = [
        lv
        for lv in store.levels.values()
        if lv.business_id == conn.business_id and lv.point_floor <= conn.lifetime_earned_points
    ]
    best = max(reached, key=lambda lv: lv.point_floor, default=None)
    level_id = best.level_id if best else None
    if level_id != conn.level_id:
        conn.level_id = level_id
        conn.last_mod_dt = store.now()


def _line(
    store: Store,
    user_id: int,
    perk: Perk,
    loc: int,
    when: datetime,
    points: int,
    quantity: int = 1,
) -> Transaction:
    txn_id = next_id(store.transactions, 1)
    txn = Transaction(
        txn_id, perk.business_id, user_id, perk.perk_id, loc, perk.title, "EARN", points,
        quantity, when,
    )  # fmt: skip
    store.transactions[txn_id] = txn
    return txn


def _rate_bonuses(
    store: Store, user_id: int, request: Award, base: Transaction
) -> list[Transaction]:
    """Time and date-range bonuses: extra points on their own line (Earning Rules:
    `time_bonuses`, `date_range_bonuses`), where the bonus perk is live at the location."""
    perk_id, loc, when = request.perk.perk_id, request.location_id, request.when
    day = store.local(when).date()
    worth = base.points * base.quantity
    lines = []
    for tb in store.time_bonuses.values():
        bonus = store.perks[tb.perk_id]
        if (
            perk_id in tb.base_perk_ids
            and bonus.status == "ACTIVE"
            and perk_at(bonus, loc)
            and in_time_bonus(tb, when, store.zone)
        ):
            lines.append(_line(store, user_id, bonus, loc, when, multiplied(worth, tb.multiplier)))
    for dr in store.date_range_bonuses.values():
        bonus = store.perks[dr.perk_id]
        if (
            perk_id in dr.base_perk_ids
            and bonus.status == "ACTIVE"
            and perk_at(bonus, loc)
            and dr.from_date <= day <= dr.to_date
        ):
            lines.append(_line(store, user_id, bonus, loc, when, multiplied(worth, dr.multiplier)))
    return lines


def _frequency_bonuses(store: Store, user_id: int, base: Transaction) -> list[Transaction]:
    """A frequency bonus is earned by the earn that reaches its count in the window (Earning
    Rules: `frequency_bonuses`, `required_to_earn`), once per window."""
    lines = []
    for fb in store.frequency_bonuses.values():
        if not counts_toward(fb, base, store) or store.perks[fb.perk_id].status != "ACTIVE":
            continue
        start = frequency_window_start(fb, base.transaction_dt, store.zone)
        count = sum(
            1
            for t in store.transactions.values()
            if t.user_id == user_id
            and start <= t.transaction_dt <= base.transaction_dt
            and counts_toward(fb, t, store)
        )
        if count == fb.required_to_earn:
            bonus = store.perks[fb.perk_id]
            lines.append(
                _line(
                    store, user_id, bonus, base.location_id or 0, base.transaction_dt, bonus.points
                )
            )
    return lines
