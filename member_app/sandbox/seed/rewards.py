"""Summit Fitness's rewards program: earning rules and bonuses, rewards, and a year of the demo
member's point history with the vouchers it produced. Deterministic (random.Random(4), fixed
datetimes written on the gym's clocks, nothing after 2026-11-21), and balanced: each seeded
member's transactions add up to the point balance and lifetime points `gym.py` gives their
connection, and the newest is its `last_transaction_dt` (checked on every seed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..records import (
    DateRangeBonus,
    FrequencyBonus,
    Perk,
    PerkCategory,
    TimeBonus,
    Transaction,
    Voucher,
)
from ..rewards.earning import counts_toward, frequency_window_start, in_time_bonus, multiplied
from ..rewards.perks import perk_at
from ..store import Store
from .gym import DEMO_TIMEZONE, local

MAYA, JORDAN, ALEX, RILEY = 1001, 1003, 1004, 1005
SUMMIT, HARBOR = 4, 5
DOWNTOWN, RIVERSIDE, NORTHGATE = 11, 12, 13
CHECK_IN, CLASS, TRAINING, SHOP, REFERRAL, JOIN, BIRTHDAY, ACTIVITY, ADJUSTMENT = range(101, 110)
CARDIO, STRENGTH = 9103, 9104  # activities the challenges count (challenges.py)
FIRST_TRANSACTION_ID = 40001
FIRST_VOUCHER_ID = 52001
CREATED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _on(day: date, at: time) -> datetime:
    """`at` o'clock on `day` on the gym's clocks, in UTC."""
    return datetime.combine(day, at, ZoneInfo(DEMO_TIMEZONE)).astimezone(UTC)


def _categories() -> list[PerkCategory]:
    names = ["Visits", "Classes & training", "Shop", "Drinks & snacks", "Gear", "Experiences"]
    return [PerkCategory(31 + i, SUMMIT, n, i + 1, CREATED, CREATED) for i, n in enumerate(names)]


def _perks() -> list[Perk]:
    earn, redeem = "EARN", "REDEEM"
    # fmt: off
    return [
        # Earning rules (the earning view lists the first seven, categorised ones first).
        Perk(CHECK_IN, SUMMIT, earn, "STANDARD", "Gym check-in", 5, category_id=31,
             display_order=1, completes_referral=True,
             description="Check in at the front desk on every visit."),
        Perk(CLASS, SUMMIT, earn, "STANDARD", "Group fitness class", 15, category_id=32,
             display_order=1, description="Any class on the group schedule."),
        Perk(TRAINING, SUMMIT, earn, "STANDARD", "Personal training session", 30,
             category_id=32, display_order=2),
        Perk(SHOP, SUMMIT, earn, "STANDARD", "Dollar spent at the pro shop", 1, category_id=33,
             display_order=1, description="1 point for every dollar you spend at the pro shop."),
        Perk(REFERRAL, SUMMIT, earn, "REFERRAL", "Referral", 100, display_name="Refer a friend",
             display_order=1, description="When a friend you refer joins Summit Fitness."),
        Perk(JOIN, SUMMIT, earn, "REGISTRATION", "Join bonus", 50,
             display_name="Join Summit Rewards", display_order=2),
        Perk(BIRTHDAY, SUMMIT, earn, "BIRTHDAY", "Birthday bonus", 50,
             display_name="Your birthday", display_order=3),
        # Not shown as rules: an activity (0 points), bookkeeping, hidden and inactive perks.
        Perk(ACTIVITY, SUMMIT, earn, "PROGRESS_ACTIVITY", "Workout logged in the app", 0),
        Perk(ADJUSTMENT, SUMMIT, earn, "POINT_ADJUSTMENT", "Point adjustment", 1,
             admin_flagged_as_invisible_to_customers=True),
        Perk(110, SUMMIT, earn, "STANDARD", "Staff demo check-in", 5,
             admin_flagged_as_invisible_to_customers=True),
        Perk(111, SUMMIT, earn, "STANDARD", "Summer step challenge", 30, status="INACTIVE"),
        # Bonus perks: their rules are in the bonus tables; their points are the bonus.
        Perk(121, SUMMIT, earn, "TIME_BONUS", "Early bird double points", 0),
        Perk(122, SUMMIT, earn, "TIME_BONUS", "Lunchtime class boost", 0,
             location_ids=(DOWNTOWN, RIVERSIDE)),
        Perk(123, SUMMIT, earn, "DATE_RANGE_BONUS", "Thanksgiving week triple points", 0),
        Perk(124, SUMMIT, earn, "DATE_RANGE_BONUS", "New Year kickoff double points", 0),
        Perk(125, SUMMIT, earn, "DATE_RANGE_BONUS", "Summer sweat double points", 0),
        Perk(126, SUMMIT, earn, "FREQUENCY_BONUS", "Weekly warrior bonus", 25),
        Perk(127, SUMMIT, earn, "FREQUENCY_BONUS", "Monthly regular bonus", 50),
        Perk(128, SUMMIT, earn, "FREQUENCY_BONUS", "Class pack milestone", 100),
        # Rewards.
        Perk(201, SUMMIT, redeem, "STANDARD", "Free smoothie", 150, category_id=34,
             display_order=1, picture_color="#F59E0B", voucher_expiration_days=90,
             description="Any 16 oz smoothie from the juice bar.",
             fine_print="One per visit. No substitutions.",
             redemption_instructions="Show this voucher at the juice bar."),
        Perk(202, SUMMIT, redeem, "STANDARD", "Protein bar", 50, category_id=34,
             display_order=2, picture_color="#B45309", voucher_expiration_days=90,
             description="Any bar from the front-desk fridge."),
        Perk(203, SUMMIT, redeem, "STANDARD", "Summit water bottle", 300, category_id=35,
             display_order=1, picture_color="#0F766E", voucher_expiration_days=90,
             redemption_limit_interval="ALL_TIME", redemption_limit_count=1,
             description="Our 750 ml insulated bottle.", fine_print="Limit one per member."),
        Perk(208, SUMMIT, redeem, "STANDARD", "Summer tank top", 250, category_id=35,
             display_order=2, start_date=date(2026, 6, 1), end_date=date(2026, 8, 31),
             voucher_expiration_days=90),
        Perk(209, SUMMIT, redeem, "STANDARD", "Holiday gift card ($25)", 500, category_id=35,
             display_order=3, start_date=date(2026, 11, 15), end_date=date(2026, 12, 31),
             picture_color="#B91C1C", voucher_expiration_days=60,
             description="A $25 Summit Fitness gift card, for you or a friend.",
             fine_print="Available until December 31."),
        Perk(211, SUMMIT, redeem, "STANDARD", "20% off the online store", 100, category_id=35,
             display_order=4, external_coupon_code="SUMMIT20", initial_voucher_status="ISSUED",
             voucher_expiration_days=60,
             description="Use the code at checkout on shop.summit-fitness.example.",
             redemption_instructions="Enter the code at checkout."),
        Perk(204, SUMMIT, redeem, "STANDARD", "Guest pass", 100, category_id=36,
             display_order=1, picture_color="#1D4ED8", voucher_expiration_days=30,
             redemption_limit_interval="MONTH", redemption_limit_count=1,
             redemption_limit_interval_count=1,
             description="Bring a friend for a day.", fine_print="One per month."),
        Perk(206, SUMMIT, redeem, "STANDARD", "Private recovery session", 800, category_id=36,
             display_order=2, required_level_id=23, voucher_expiration_days=90,
             description="A 45-minute recovery session for Gold members."),
        Perk(205, SUMMIT, redeem, "STANDARD", "One month free membership", 2000,
             category_id=36, display_order=3, picture_color="#7C3AED",
             voucher_expiration_days=90, fine_print="Applied to your next billing cycle."),
        Perk(207, SUMMIT, redeem, "STANDARD", "Riverside sauna day pass", 100, category_id=36,
             display_order=4, location_ids=(RIVERSIDE,), must_redeem_at_home_location=True,
             voucher_expiration_days=30, description="A day in the Riverside sauna."),
        Perk(210, SUMMIT, redeem, "EXTERNAL_REWARD", "Meal-kit partner discount", 100,
             category_id=36, display_order=5, initial_voucher_status="ISSUED",
             external_reward_url="https://partner.example/summit-meal-kit",
             description="$30 off your first box from our meal-kit partner.",
             redemption_instructions="Open the reward link to claim your discount."),
        Perk(212, SUMMIT, redeem, "STANDARD", "Staff comp smoothie", 150,
             admin_flagged_as_invisible_to_customers=True),
        Perk(213, SUMMIT, redeem, "STANDARD", "Free towel service", 75, status="INACTIVE"),
        # Perks other modules name: the activities two challenges count (challenges.py; the
        # others count check-ins and classes) and the referral offers' perks (referrals.py).
        # Neither view lists them.
        Perk(CARDIO, SUMMIT, earn, "PROGRESS_ACTIVITY", "Cardio session logged", 0),
        Perk(STRENGTH, SUMMIT, earn, "PROGRESS_ACTIVITY", "Strength session logged", 0),
        Perk(9110, SUMMIT, redeem, "REFERRAL", "Free Week Pass", 0, voucher_expiration_days=30,
             redemption_instructions="Show this voucher at the front desk."),
        Perk(9111, SUMMIT, redeem, "REFERRAL", "Free Month at Northgate", 0,
             location_ids=(NORTHGATE,), voucher_expiration_days=30),
        # Harbor Yoga (someone else's program).
        Perk(501, HARBOR, earn, "STANDARD", "Yoga class", 50),
        Perk(502, HARBOR, redeem, "STANDARD", "Free mat rental", 130, location_ids=(51,),
             voucher_expiration_days=90),
    ]
    # fmt: on


def _bonuses(store: Store) -> None:
    mwf = {day: ["5 am to 8 am"] for day in ("Monday", "Wednesday", "Friday")}
    tt = {day: ["11 am to 1 pm"] for day in ("Tuesday", "Thursday")}
    store.time_bonuses = {
        121: TimeBonus(121, (CHECK_IN,), "2.00", mwf),
        122: TimeBonus(122, (CLASS,), "2.00", tt),
    }
    store.date_range_bonuses = {
        123: DateRangeBonus(123, (CHECK_IN, CLASS), "3.00", date(2026, 11, 20), date(2026, 11, 29)),
        124: DateRangeBonus(
            124, (CHECK_IN, CLASS, TRAINING), "2.00", date(2027, 1, 1), date(2027, 1, 15)
        ),
        125: DateRangeBonus(125, (CHECK_IN, CLASS), "2.00", date(2026, 7, 1), date(2026, 7, 31)),
    }
    store.frequency_bonuses = {
        401: FrequencyBonus(401, SUMMIT, 126, (CHECK_IN,), 4, "WEEKLY", date(2026, 1, 5)),
        402: FrequencyBonus(402, SUMMIT, 127, (CHECK_IN, CLASS), 12, "MONTHLY", date(2026, 1, 1)),
        403: FrequencyBonus(403, SUMMIT, 128, (CLASS,), 10, "FROM_DATE", date(2026, 10, 1)),
    }


@dataclass
class Ledger:
    """Transactions as they happen; ids are given in date order when written to the store."""

    store: Store
    entries: list[Transaction] = field(default_factory=list)
    voids: list[tuple[Transaction, Transaction]] = field(default_factory=list)
    vouchers: list[tuple[Voucher, Transaction]] = field(default_factory=list)

    def add(
        self,
        user: int,
        perk_id: int,
        loc: int | None,
        when: datetime,
        *,
        points: int | None = None,
        quantity: int = 1,
        title: str | None = None,
    ) -> Transaction:
        perk = self.store.perks[perk_id]
        txn = Transaction(
            0, perk.business_id, user, perk_id, loc, title or perk.title, perk.classification,
            perk.points if points is None else points, quantity, when,
        )  # fmt: skip
        self.entries.append(txn)
        return txn

    def earn(
        self, user: int, perk_id: int, loc: int, when: datetime, quantity: int = 1
    ) -> Transaction:
        """An earn, plus the time and date-range bonuses it qualifies for (own lines)."""
        base = self.add(user, perk_id, loc, when, quantity=quantity)
        zone, day = self.store.zone, self.store.local(when).date()
        for tb in self.store.time_bonuses.values():
            bonus_here = perk_at(self.store.perks[tb.perk_id], loc)
            if perk_id in tb.base_perk_ids and bonus_here and in_time_bonus(tb, when, zone):
                extra = multiplied(base.points * quantity, tb.multiplier)
                self.add(user, tb.perk_id, loc, when, points=extra)
        for dr in self.store.date_range_bonuses.values():
            if perk_id in dr.base_perk_ids and dr.from_date <= day <= dr.to_date:
                extra = multiplied(base.points * quantity, dr.multiplier)
                self.add(user, dr.perk_id, loc, when, points=extra)
        return base

    def void(self, txn: Transaction, when: datetime) -> None:
        """Reference, Transaction: the original becomes VOID and a VOID_REF for the negative
        amount is created; each references the other."""
        txn.transaction_status = "VOID"
        ref = self.add(
            txn.user_id, txn.perk_id, txn.location_id, when,
            points=-txn.points, quantity=txn.quantity, title=txn.title,
        )  # fmt: skip
        ref.transaction_status = "VOID_REF"
        self.voids.append((txn, ref))

    def redeem(self, user: int, perk_id: int, loc: int, when: datetime, status: str) -> Transaction:
        perk = self.store.perks[perk_id]
        txn = self.add(user, perk_id, loc, when)
        days = perk.voucher_expiration_days
        voucher = Voucher(
            0, perk.business_id, user, perk_id, None, loc, perk.title, perk.points, status, when,
            expiration_date=self.store.local(when).date() + timedelta(days=days) if days else None,
            details=perk.redemption_instructions, external_coupon_code=perk.external_coupon_code,
            reward_url=perk.external_reward_url if perk.type == "EXTERNAL_REWARD" else None,
        )  # fmt: skip
        self.vouchers.append((voucher, txn))
        return txn

    def frequency_bonuses(self) -> None:
        """Award each frequency bonus when its required count is reached in a window."""
        zone = self.store.zone
        for fb in self.store.frequency_bonuses.values():
            seen: dict[tuple[int, datetime], int] = {}
            for txn in sorted(self.entries, key=lambda t: t.transaction_dt):
                if self.store.local(txn.transaction_dt).date() < fb.start_date:
                    continue
                if not counts_toward(fb, txn, self.store):
                    continue
                key = (txn.user_id, frequency_window_start(fb, txn.transaction_dt, zone))
                seen[key] = seen.get(key, 0) + 1
                if seen[key] == fb.required_to_earn:
                    self.add(txn.user_id, fb.perk_id, txn.location_id, txn.transaction_dt)

    def write(self) -> None:
        entries = sorted(self.entries, key=lambda t: (t.transaction_dt, t.perk_id))
        for n, txn in enumerate(entries):
            txn.transaction_id = FIRST_TRANSACTION_ID + n
        for original, reversal in self.voids:
            original.transaction_reference_id = reversal.transaction_id
            reversal.transaction_reference_id = original.transaction_id
        by_date = sorted(self.vouchers, key=lambda pair: pair[1].transaction_dt)
        for n, (voucher, txn) in enumerate(by_date):
            voucher.voucher_id = FIRST_VOUCHER_ID + n
            voucher.transaction_id, txn.voucher_id = txn.transaction_id, voucher.voucher_id
            self.store.vouchers[voucher.voucher_id] = voucher
        self.store.transactions = {t.transaction_id: t for t in entries}

    def totals(self, user: int, business: int) -> tuple[int, int]:
        """(lifetime earned, balance) from the user's transactions at the business."""
        earned = spent = 0
        for t in self.entries:
            if t.user_id == user and t.business_id == business:
                amount = t.points * t.quantity
                if t.classification == "EARN":
                    earned += amount
                else:
                    spent += amount
        return earned, earned - spent


def _visit(ledger: Ledger, user: int, loc: int, text: str, *, klass: str | None = None) -> None:
    """A check-in at `text` (the gym's clock), and a group class at `klass` that day."""
    ledger.earn(user, CHECK_IN, loc, local(text))
    if klass is not None:
        ledger.earn(user, CLASS, loc, local(f"{text[:10]} {klass}"))


def _maya_year(ledger: Ledger, rng: random.Random) -> None:
    """Visits from late November 2025 to the end of September 2026, drawn at random; October
    and November are written out below, so that this month's numbers read plainly."""
    day = date(2025, 11, 23)
    while day <= date(2026, 9, 30):
        if rng.random() < 0.30:
            loc = rng.choice((DOWNTOWN, DOWNTOWN, DOWNTOWN, RIVERSIDE, NORTHGATE))
            early = day.weekday() in (0, 2, 4) and rng.random() < 0.2
            hour = rng.randint(5, 7) if early else rng.randint(9, 20)
            when = _on(day, time(hour, rng.randrange(0, 60, 5)))
            ledger.earn(MAYA, CHECK_IN, loc, when)
            roll = rng.random()
            if roll < 0.22:
                slot = rng.choice((time(12, 15), time(17, 30), time(18, 30)))
                ledger.earn(MAYA, CLASS, loc, _on(day, slot))
            elif roll < 0.25:
                ledger.earn(MAYA, TRAINING, loc, when + timedelta(minutes=10))
            if rng.random() < 0.12:
                ledger.earn(MAYA, ACTIVITY, loc, when + timedelta(hours=1), rng.randint(1, 3))
        day += timedelta(days=1)


def _maya(ledger: Ledger) -> None:
    """A year of visits, classes and rewards, ending on Friday 2026-11-20 at 7:42 am.

    The numbers the pages show follow from these lines: this week 2 check-ins (weekly bonus
    2 of 4), November 7 check-ins and 2 classes (monthly bonus 9 of 12; the November
    challenge 7 of 12 and 2 of 2), 3 classes since October 1 (class pack 3 of 10), 8 cardio
    sessions in October (the October challenge), 4 strength sessions in the summer, and Riley's
    referral completed on October 15 (+100)."""
    rng = random.Random(4)  # noqa: S311 - deterministic demo data, not a secret
    ledger.earn(MAYA, JOIN, DOWNTOWN, local("2025-09-01 10:05"))
    _maya_year(ledger, rng)
    # Special days.
    ledger.earn(MAYA, BIRTHDAY, DOWNTOWN, local("2026-04-23 08:00"))
    ledger.add(MAYA, ADJUSTMENT, DOWNTOWN, local("2026-02-20 10:00"), quantity=15,
               title="Courtesy points: pool closed for repairs")  # fmt: skip
    # Duplicate check-ins that staff voided the next morning.
    for text in ("2026-01-14 18:02", "2026-05-06 17:48"):
        duplicate = ledger.earn(MAYA, CHECK_IN, DOWNTOWN, local(text))
        ledger.void(duplicate, local(text) + timedelta(hours=15))
    # The Summer Strength Series (joined July 3): 4 of its 6 sessions.
    for text in ("2026-07-08 18:40", "2026-07-22 18:40", "2026-08-05 18:40", "2026-08-19 18:40"):
        ledger.earn(MAYA, STRENGTH, DOWNTOWN, local(text))
    # October: the Cardio Kickoff (8 sessions logged, the 8th on the 24th), 11 check-ins and a
    # class (the 12th visit of the month earns the monthly bonus), and the referral bonus when
    # Riley's first visit completed Maya's referral (referrals.py).
    october = ("02 17:10", "05 06:15", "07 17:40", "09 17:05", "13 18:20", "16 17:15",
               "20 17:30", "22 18:05", "26 09:40", "28 17:45", "30 17:20")  # fmt: skip
    for n, moment in enumerate(october):
        _visit(ledger, MAYA, DOWNTOWN, f"2026-10-{moment}", klass="18:30" if n == 7 else None)
    for moment in ("02 18:10", "06 18:10", "09 18:10", "13 18:10", "16 18:10", "20 18:10",
                   "22 18:10", "24 10:10"):  # fmt: skip
        ledger.earn(MAYA, CARDIO, DOWNTOWN, local(f"2026-10-{moment}"))
    ledger.add(MAYA, REFERRAL, RIVERSIDE, local("2026-10-15 10:05"), title="Referral: Riley C.")
    # November: 7 check-ins and 2 classes; Monday the 9th's early visit earns the early-bird
    # bonus, Tuesday's lunchtime class the class boost.
    for text in ("2026-11-03 17:35", "2026-11-05 17:15", "2026-11-09 06:10"):
        _visit(ledger, MAYA, DOWNTOWN, text)
    _visit(ledger, MAYA, DOWNTOWN, "2026-11-10 11:55", klass="12:15")
    _visit(ledger, MAYA, DOWNTOWN, "2026-11-12 18:20", klass="18:30")
    # This week: 2 of 4 weekly check-ins so far; Friday's early visit earns two bonuses.
    ledger.earn(MAYA, CHECK_IN, DOWNTOWN, local("2026-11-16 18:05"))
    ledger.earn(MAYA, ACTIVITY, DOWNTOWN, local("2026-11-18 19:10"), 2)
    ledger.earn(MAYA, CHECK_IN, RIVERSIDE, local("2026-11-20 07:42"))
    # Rewards: 550 points spent in all (the water bottle was voided and refunded).
    ledger.redeem(MAYA, 202, DOWNTOWN, local("2026-01-08 18:10"), "EXPIRED")
    ledger.redeem(MAYA, 202, DOWNTOWN, local("2026-02-10 17:55"), "USED")
    bottle = ledger.redeem(MAYA, 203, DOWNTOWN, local("2026-06-02 19:05"), "VOIDED")
    ledger.void(bottle, local("2026-06-03 09:30"))
    ledger.redeem(MAYA, 201, DOWNTOWN, local("2026-08-27 18:40"), "UNUSED")  # expires 11-25
    ledger.redeem(MAYA, 211, DOWNTOWN, local("2026-10-10 12:00"), "ISSUED")
    ledger.redeem(MAYA, 210, DOWNTOWN, local("2026-10-24 09:15"), "ISSUED")
    ledger.redeem(MAYA, 204, DOWNTOWN, local("2026-11-05 17:20"), "UNUSED")
    # Pro-shop purchases (amounts drawn after the visits, so they stay the same).
    for text in ("2026-02-21 11:30", "2026-05-30 10:45", "2026-08-15 13:10"):
        ledger.earn(MAYA, SHOP, DOWNTOWN, local(text), rng.randint(18, 64))


def _maya_balances(ledger: Ledger) -> None:
    """The last pro-shop purchase makes the year add up to the connection's 1800 points."""
    rest = 1800 - ledger.totals(MAYA, SUMMIT)[0]
    if not 1 <= rest <= 250:
        raise RuntimeError(f"the demo member's seeded year does not balance ({rest})")
    ledger.earn(MAYA, SHOP, DOWNTOWN, local("2026-11-14 12:30"), rest)


def _others(ledger: Ledger) -> None:
    """Jordan (pending, 120 points, all in October), Riley (Maya's friend: joined October 14,
    first visit the next morning, which completed Maya's referral) and Alex at Harbor Yoga
    (900 earned, 640)."""
    for n in range(3):
        ledger.earn(JORDAN, CHECK_IN, RIVERSIDE, local("2026-10-16 17:05") + timedelta(days=5 * n))
    for n in range(5):
        ledger.earn(JORDAN, CLASS, RIVERSIDE, local("2026-10-17 17:30") + timedelta(days=3 * n))
    ledger.earn(JORDAN, TRAINING, RIVERSIDE, local("2026-10-30 16:00"))
    ledger.earn(RILEY, JOIN, RIVERSIDE, local("2026-10-14 18:00"))
    ledger.earn(RILEY, CHECK_IN, RIVERSIDE, local("2026-10-15 10:05"))
    for day in ("10-22", "10-29", "11-05", "11-12", "11-19"):
        ledger.earn(RILEY, CHECK_IN, RIVERSIDE, local(f"2026-{day} 17:10"))
    for n in range(18):
        ledger.earn(ALEX, 501, 51, local("2026-03-05 18:00") + timedelta(days=12 * n))
    ledger.redeem(ALEX, 502, 51, local("2026-06-01 18:30"), "USED")
    ledger.redeem(ALEX, 502, 51, local("2026-10-01 18:30"), "UNUSED")


def seed_rewards(store: Store) -> None:
    """Seed the rewards program of the demo gym (business 4) and a little of Harbor Yoga's."""
    store.perk_categories = {c.category_id: c for c in _categories()}
    store.perks = {p.perk_id: p for p in _perks()}
    _bonuses(store)
    ledger = Ledger(store)
    _maya(ledger)
    _others(ledger)
    ledger.frequency_bonuses()
    _maya_balances(ledger)
    ledger.write()
    for conn in store.connections.values():
        totals = ledger.totals(conn.user_id, conn.business_id)
        newest = max(
            (
                t.transaction_dt
                for t in ledger.entries
                if t.user_id == conn.user_id and t.business_id == conn.business_id
            ),
            default=None,
        )
        if totals != (conn.lifetime_earned_points, conn.point_balance):
            raise RuntimeError(f"connection {conn.connection_id} does not match its ledger")
        if newest != conn.last_transaction_dt:
            raise RuntimeError(f"connection {conn.connection_id}: last_transaction_dt is {newest}")
        # The points last moved with the newest line (Connection Balance's last_mod_dt), on the
        # seed's clock rather than the machine's.
        if newest is not None:
            conn.balance_mod_dt = newest
