"""The member's latest activity with its points explained: "Where are my points?" answered with
their own history, on help and at the top of the history page.

Read from the transactions alone (the reference has no record of what was refused): the newest
activity and the bonus lines written with it (Perkville writes a bonus as its own line at the
same moment), an activity that earns no points, and what may not have arrived yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ..i18n import _, clock, ngettext, number, weekday
from ..perkville.program import Transaction


@dataclass(frozen=True, slots=True)
class Latest:
    """The newest activity: what it was, when, its points and its bonus lines, and what the
    member should know about it."""

    title: str
    when: datetime  # in the program's time zone
    points: int  # the activity's own points (points × quantity)
    bonuses: tuple[tuple[str, int], ...]  # (bonus title, points), written with it
    today: bool
    notes: tuple[str, ...]

    @property
    def total(self) -> int:
        return self.points + sum(points for _, points in self.bonuses)


def latest_activity(
    transactions: tuple[Transaction, ...], now: datetime, zone: ZoneInfo
) -> Latest | None:
    """The newest earned activity among `transactions` (newest first), or None."""
    earned = [
        t
        for t in transactions
        if t.classification != "REDEEM" and t.status == "ACTIVE" and t.when is not None
    ]
    if not earned:
        return None
    moment = earned[0].when
    assert moment is not None
    together = [t for t in earned if t.when == moment]
    # The activity is the line that isn't a bonus: the first written (lowest id) at that moment.
    together.sort(key=lambda t: t.transaction_id)
    base, extras = together[0], together[1:]
    local = moment.astimezone(zone)
    today = local.date() == now.astimezone(zone).date()
    points = base.points * base.quantity
    bonuses = tuple((t.title, t.points * t.quantity) for t in extras)
    notes: list[str] = []
    if points == 0 and not bonuses:
        notes.append(_("This activity is logged for challenges; it doesn't earn points itself."))
    if points < 0:
        notes.append(_("Points were taken back, as for a refund."))
    for title, extra in bonuses:  # the bonus's title is Perkville's
        notes.append(
            ngettext(
                "A bonus added %(num)s more: %(bonus)s.",
                "A bonus added %(num)s more: %(bonus)s.",
                abs(extra),
            )
            % {"num": number(extra), "bonus": title}
        )
    if today:
        notes.append(
            _(
                "Some activities count once a day: if you did this again today, the second "
                "time adds no points."
            )
        )
        visited = _(
            "Visited since %(time)s? Your gym's system sends visits and purchases to your "
            "rewards, usually within minutes, at most 48 hours later."
        )
    else:
        visited = _(
            "Visited since %(time)s on %(day)s? Your gym's system sends visits and purchases "
            "to your rewards, usually within minutes, at most 48 hours later."
        )
    notes.append(visited % {"time": clock(local), "day": weekday(local)})
    return Latest(base.title, local, points, bonuses, today, tuple(notes))
