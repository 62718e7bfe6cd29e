"""Whether a reward can be redeemed now, and if not, why: joining, redemption limits, levels,
dates, the home location, points (reference, Redeeming Rules). Shared by the rewards pages and
home, so no number on one contradicts the other.

A member signed in with their own token gets their standing from Perkville's view as them
(`can_redeem`, `user_redemption_limit_info`). An identified member is seen through the staff
token, whose view has neither: their limits are counted from their own redemptions, and what
can't be known is said, so Redeem is offered as a check at sign-in, never as a promise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ..i18n import N_, _, ngettext, number
from ..i18n import day as day_text
from ..perkville import Connection, Level
from ..perkville.program import Reward, Transaction

HOME_ONLY = N_("Only at your home location.")

# What the staff token can't tell about an identified member (the view as the member would):
# said on the card, and Redeem is then a check at sign-in, not a promise.
LIMIT_UNKNOWN = N_("We can't check here how often you've redeemed it: signing in checks.")
ATTRIBUTES_UNKNOWN = N_("We can't check here whether your membership qualifies: signing in checks.")

# The periods a limit can be counted in (reference, Redeeming Rules: limit_interval).
_UNITS = frozenset({"DAY", "MONTH", "YEAR"})


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, kept within the shorter month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = (date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last))


# --- redemption limits --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limit:
    """A reward's redemption limit and the member's standing against it."""

    count: int | None  # times allowed in each period (None: Perkville didn't say)
    interval: str  # DAY, MONTH, YEAR or ALL_TIME
    span: int  # the period, in `interval`s
    remaining: int | None  # None: not known here (see LIMIT_UNKNOWN)
    next_chance: date | None = None
    next_chance_exact: bool = True  # False: at the latest then

    @property
    def reached(self) -> bool:
        return self.remaining == 0

    @property
    def rule(self) -> str:
        """ "Once a month", "2 times every 10 days", "Once per member"."""
        return _rule(self.count, self.interval, self.span)

    @property
    def left(self) -> str | None:
        """ "1 left for you this month", while some are left."""
        if not self.remaining:
            return None
        n = self.remaining
        if self.span != 1 or self.interval not in _UNITS:
            said = ngettext("%(num)s left for you", "%(num)s left for you", n)
        elif self.interval == "DAY":
            said = ngettext("%(num)s left for you this day", "%(num)s left for you this day", n)
        elif self.interval == "MONTH":
            said = ngettext("%(num)s left for you this month", "%(num)s left for you this month", n)
        else:
            said = ngettext("%(num)s left for you this year", "%(num)s left for you this year", n)
        return said % {"num": number(n)}

    @property
    def reached_reason(self) -> str:
        if self.next_chance is None:
            return _("You've reached the limit for this reward.")
        if self.next_chance_exact:
            said = _("You've reached the limit for this reward. Next chance: %(day)s.")
        else:
            said = _("You've reached the limit for this reward. Next chance: by %(day)s.")
        return said % {"day": day_text(self.next_chance)}


def _rule(count: int | None, interval: str, span: int) -> str:
    """How often a reward can be redeemed, as a whole phrase (each language words the times
    and the period its own way): by the times allowed (None: Perkville didn't say, 1, more)
    and the period (a day, every `span` days, ..., or per member, for all time)."""
    times = count or 0
    if interval not in _UNITS:
        phrases = (
            _("Limited per member"),
            _("Once per member"),
            ngettext("%(count)s time per member", "%(count)s times per member", times),
        )
    elif span == 1 and interval == "DAY":
        phrases = (
            _("Limited a day"),
            _("Once a day"),
            ngettext("%(count)s time a day", "%(count)s times a day", times),
        )
    elif span == 1 and interval == "MONTH":
        phrases = (
            _("Limited a month"),
            _("Once a month"),
            ngettext("%(count)s time a month", "%(count)s times a month", times),
        )
    elif span == 1:
        phrases = (
            _("Limited a year"),
            _("Once a year"),
            ngettext("%(count)s time a year", "%(count)s times a year", times),
        )
    # Every few days, months or years: the phrase's plural follows the period; the times
    # allowed are 2 or more in the last one.
    elif interval == "DAY":
        phrases = (
            ngettext("Limited every %(span)s day", "Limited every %(span)s days", span),
            ngettext("Once every %(span)s day", "Once every %(span)s days", span),
            ngettext(
                "%(count)s times every %(span)s day", "%(count)s times every %(span)s days", span
            ),
        )
    elif interval == "MONTH":
        phrases = (
            ngettext("Limited every %(span)s month", "Limited every %(span)s months", span),
            ngettext("Once every %(span)s month", "Once every %(span)s months", span),
            ngettext(
                "%(count)s times every %(span)s month",
                "%(count)s times every %(span)s months",
                span,
            ),
        )
    else:
        phrases = (
            ngettext("Limited every %(span)s year", "Limited every %(span)s years", span),
            ngettext("Once every %(span)s year", "Once every %(span)s years", span),
            ngettext(
                "%(count)s times every %(span)s year", "%(count)s times every %(span)s years", span
            ),
        )
    phrase = phrases[0] if count is None else phrases[1] if count == 1 else phrases[2]
    return phrase % {"count": number(times), "span": number(span)}


@dataclass(frozen=True, slots=True)
class Redemptions:
    """An identified member's redemptions, read from their point history: the staff token's
    view of the rewards carries no `user_redemption_limit_info` (reference, Redeeming Rules:
    view_as_user needs USER_CUSTOMER_INFO), so their limits are counted here."""

    used: tuple[tuple[int | None, date], ...]  # (reward, day) per unit of each ACTIVE one
    oldest: date | None  # the oldest day read
    complete: bool  # the whole history was read, not just its newest page

    @classmethod
    def of(cls, items: tuple[Transaction, ...], complete: bool, zone: ZoneInfo) -> Redemptions:
        # Reference, Transaction: a voided redemption is VOID, its reversal VOID_REF; only
        # ACTIVE ones count, once per unit of quantity.
        dated = [(t, t.when.astimezone(zone).date()) for t in items if t.when is not None]
        used = tuple(
            (t.perk_id, day)
            for t, day in dated
            if t.status == "ACTIVE" and t.classification in ("", "REDEEM")
            for _ in range(max(t.quantity, 1))
        )
        oldest = min((day for _, day in dated), default=None)
        return cls(used, oldest, complete and len(dated) == len(items))


UNREAD = Redemptions((), None, complete=False)


def _period_starts(interval: str, span: int, on: date) -> list[date | None] | None:
    """The first day a redemption still counts on, for each way the reference's "2 times in
    10 Days" can be read: a rolling period, and for one month or year also the calendar's.
    [None]: all time. None: a period this app doesn't know."""
    if interval == "ALL_TIME":
        return [None]
    if interval == "DAY":
        return [on - timedelta(days=span - 1)]
    if interval not in _UNITS:
        return None
    months = span * (12 if interval == "YEAR" else 1)
    rolling = add_months(on, -months) + timedelta(days=1)
    if span != 1:
        return [rolling]
    return [rolling, on.replace(day=1) if interval == "MONTH" else on.replace(month=1, day=1)]


def _counted_limit(reward: Reward, count: int, history: Redemptions, on: date) -> Limit:
    """The limit from the member's own redemptions of this reward in the period; unknown
    when the history read doesn't cover the period, or the readings of the period disagree."""
    span, interval = reward.limit_span or 1, reward.limit_interval
    unknown = Limit(count, interval, span, None)
    starts = _period_starts(interval, span, on)
    if starts is None:
        return unknown
    earliest = None if None in starts else min(s for s in starts if s is not None)
    covered = history.complete or (
        earliest is not None and history.oldest is not None and history.oldest < earliest
    )
    if not covered:
        return unknown
    in_reach = [(p, d) for p, d in history.used if earliest is None or d >= earliest]
    if any(p is None for p, _ in in_reach):  # a redemption of an unnamed reward: maybe this
        return unknown
    days = sorted(d for p, d in in_reach if p == reward.perk_id)
    remaining = {
        max(count - sum(1 for d in days if start is None or d >= start), 0) for start in starts
    }
    if len(remaining) != 1:
        return unknown
    left = remaining.pop()
    if left or earliest is None:
        return Limit(count, interval, span, left)
    months = span * (12 if interval == "YEAR" else 1)
    oldest_counted = days[len(days) - count]
    chances = [
        oldest_counted + timedelta(days=span)
        if interval == "DAY"
        else add_months(oldest_counted, months),
        *(add_months(s, months) for s in starts[1:] if s is not None),
    ]
    return Limit(count, interval, span, 0, max(chances), len(set(chances)) == 1)


def limit_of(reward: Reward, history: Redemptions | None, on: date) -> Limit | None:
    """The reward's limit: as Perkville says it for the member, or counted from the history
    of an identified member (`history`); None when the reward has no limit."""
    told = reward.redemptions_remaining is not None or reward.has_met_limit
    span = reward.limit_span or 1
    if told:
        left = 0 if reward.has_met_limit else reward.redemptions_remaining
        return Limit(reward.limit_count, reward.limit_interval, span, left, reward.next_redemption)
    if reward.limit_interval == "NO_REDEMPTION_LIMIT" or not reward.limit_count:
        return None
    if history is None:  # the view as the member left it out: the rule, without a count
        return Limit(reward.limit_count, reward.limit_interval, span, None)
    return _counted_limit(reward, reward.limit_count, history, on)


# --- what the member can redeem -----------------------------------------------------------------

# A card's kind: redeem it now; possibly (an identified member: the sign-in checks); needs
# points only; blocked by something else; or the member can't redeem anything here yet.
READY, MAYBE, POINTS, BLOCKED, NOT_A_MEMBER = "ready", "maybe", "points", "blocked", "member"


@dataclass(frozen=True, slots=True)
class Standing:
    """What a reward is judged on: the member's connection, the program's levels, today, the
    member's home location's name, and (identified members only) their redemptions."""

    connection: Connection | None
    levels: list[Level]
    on: date
    home_name: str | None = None
    history: Redemptions | None = None

    @property
    def balance(self) -> int:
        return self.connection.point_balance if self.connection else 0


@dataclass(frozen=True, slots=True)
class RewardCard:
    reward: Reward
    reason: str | None  # why it cannot be redeemed now; None when it can (or may)
    points_needed: int
    balance: int
    kind: str
    limit: Limit | None = None
    unsure: str | None = None  # what can't be checked here; set only for MAYBE

    @property
    def can_redeem(self) -> bool:
        return self.kind == READY

    @property
    def percent(self) -> int:
        """How far the member's balance goes towards the reward, 0 to 100."""
        return (
            min(100, round(100 * self.balance / self.reward.points)) if self.reward.points else 100
        )


def assess(reward: Reward, standing: Standing) -> RewardCard:
    """Say whether this reward can be redeemed now, and if not, why: the first reason, in the
    order the sandbox's Perkville checks them (member, dates, home location, level, limit,
    points)."""
    connection, on = standing.connection, standing.on
    balance = standing.balance
    needed = max(reward.points - balance, 0)
    levels = {lv.level_id: lv for lv in standing.levels}
    required = levels.get(reward.required_level_id) if reward.required_level_id else None
    current = levels.get(connection.level_id) if connection and connection.level_id else None
    limit = limit_of(reward, standing.history, on)

    def card(kind: str, reason: str | None = None, unsure: str | None = None) -> RewardCard:
        return RewardCard(reward, reason, needed, balance, kind, limit, unsure)

    if connection is None or not connection.joined:
        return card(NOT_A_MEMBER, _("Join the rewards program to redeem rewards."))
    if reward.start_date and reward.start_date > on:
        return card(BLOCKED, _("Available from %(day)s.") % {"day": day_text(reward.start_date)})
    if reward.end_date and reward.end_date < on:
        return card(BLOCKED, _("This reward has ended."))
    home_id = connection.home_location_id
    if reward.must_redeem_at_home_location and reward.loc_id not in {None, home_id}:
        home = standing.home_name
        if home:
            return card(
                BLOCKED, _("Only at your home location (%(location)s).") % {"location": home}
            )
        return card(BLOCKED, _(HOME_ONLY))
    if required and (current is None or current.point_floor < required.point_floor):
        return card(BLOCKED, _("Unlocks at %(level)s level.") % {"level": required.name})
    if limit and limit.reached:
        return card(BLOCKED, limit.reached_reason)
    if reward.is_external and not reward.external_reward_url:
        return card(BLOCKED, _("Ask at the front desk for this one."))
    if needed:
        more = ngettext("You need %(num)s more point.", "You need %(num)s more points.", needed)
        return card(POINTS, more % {"num": number(needed)})
    if reward.can_redeem is False:
        # The attributes are the business's own names for them, shown as Perkville gives them.
        names = ", ".join(n for n in reward.customer_attributes if n)
        if names:
            return card(BLOCKED, _("Only for members with %(attributes)s.") % {"attributes": names})
        return card(BLOCKED, _("Not available to you right now."))
    if standing.history is not None:  # the staff token's view: what it can't see is unsure
        if limit and limit.remaining is None:
            return card(MAYBE, unsure=_(LIMIT_UNKNOWN))
        if reward.customer_attributes:
            return card(MAYBE, unsure=_(ATTRIBUTES_UNKNOWN))
    return card(READY)


@dataclass(frozen=True, slots=True)
class RewardsList:
    """The rewards in the order the member reads them: those to redeem now first, in the
    program's order, then the rest by the points still needed."""

    cards: list[RewardCard]

    @property
    def available(self) -> list[RewardCard]:
        return [c for c in self.cards if c.can_redeem]

    @property
    def rest(self) -> list[RewardCard]:
        return sorted((c for c in self.cards if not c.can_redeem), key=lambda c: c.points_needed)

    @property
    def next_reward(self) -> RewardCard | None:
        """The closest reward the member can't afford yet, with nothing but points in the way."""
        short = [c for c in self.cards if c.kind == POINTS]
        return min(short, key=lambda c: (c.points_needed, c.reward.points), default=None)

    def unlocked_by(self, level: Level) -> list[Reward]:
        """The rewards reaching `level` unlocks."""
        return [c.reward for c in self.cards if c.reward.required_level_id == level.level_id]
