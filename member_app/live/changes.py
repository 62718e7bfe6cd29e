"""What a live update says: a member's points moved, and perhaps their level, as the poller
found it, as replicas pass it on, and as the member's browser gets it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..perkville import Level


@dataclass(frozen=True, slots=True)
class Change:
    """A member's points moved."""

    user_id: int
    balance: int
    earned: int  # lifetime earned points
    # Points since the balance this app last saw for them; None when it saw none (the page
    # then compares with the balance it shows).
    delta: int | None
    title: str  # Perkville's name for the latest transaction's perk ("" when not known)
    level: Level | None  # the level they are at now, when the program has levels
    level_up: bool  # a higher level than the one this app last saw them at

    def message(self) -> dict[str, Any]:
        """For the other replicas (bus.py)."""
        level = self.level
        return {
            "u": self.user_id,
            "b": self.balance,
            "e": self.earned,
            "d": self.delta,
            "t": self.title,
            "l": None
            if level is None
            else [level.level_id, level.name, level.point_floor, level.badge_url],
            "up": self.level_up,
        }

    @classmethod
    def from_message(cls, data: object) -> Change | None:
        """A change another replica published, or None when it is not one."""
        if not isinstance(data, dict):
            return None
        user_id, balance, earned = data.get("u"), data.get("b"), data.get("e")
        delta, title, level = data.get("d"), data.get("t"), data.get("l")
        if not all(isinstance(v, int) for v in (user_id, balance, earned)):
            return None
        assert isinstance(user_id, int) and isinstance(balance, int) and isinstance(earned, int)
        return cls(
            user_id=user_id,
            balance=balance,
            earned=earned,
            delta=delta if isinstance(delta, int) else None,
            title=title if isinstance(title, str) else "",
            level=_level(level),
            level_up=data.get("up") is True,
        )

    def event(self) -> dict[str, Any]:
        """What the member's page gets: their own numbers, never their id or anyone else's."""
        level = self.level
        return {
            "balance": self.balance,
            "earned": self.earned,
            "delta": self.delta,
            "title": self.title,
            "level": None
            if level is None
            else {"id": level.level_id, "name": level.name, "floor": level.point_floor},
            "level_up": self.level_up,
        }


def _level(value: object) -> Level | None:
    if not isinstance(value, list) or len(value) != 4:
        return None
    level_id, name, floor, badge = value
    if not isinstance(level_id, int) or not isinstance(name, str) or not isinstance(floor, int):
        return None
    return Level(level_id, name, floor, badge if isinstance(badge, str) else None)


def level_reached(levels: list[Level], earned: int) -> Level | None:
    """The highest level whose floor the lifetime points reach (levels lowest first)."""
    reached = [level for level in levels if level.point_floor <= earned]
    return reached[-1] if reached else None


def higher(now: Level | None, before: Level | None) -> bool:
    """Whether `now` is a higher level than `before`."""
    if now is None:
        return False
    return before is None or now.point_floor > before.point_floor
