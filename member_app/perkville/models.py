"""Small typed views of Perkville's resources: only what the pages use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ID_IN_URI = re.compile(r"/(\d+)/?$")


def id_from_uri(value: object) -> int | None:
    """`"/v2/levels/22/"` → 22; resources refer to each other by URI."""
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _ID_IN_URI.search(value)
        if match:
            return int(match.group(1))
    return None


def text_field(data: dict[str, Any], key: str) -> str:
    """A string field, or "" when it is missing, null or not a string."""
    value = data.get(key)
    return value if isinstance(value, str) else ""


def web_link(value: object) -> str | None:
    """A link members may follow: http(s) only, so a stray `javascript:` from upstream data
    never becomes one."""
    if isinstance(value, str) and value.strip().lower().startswith(("https://", "http://")):
        return value.strip()
    return None


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    first_name: str
    last_name: str
    email: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> User:
        emails = data.get("emails") or []
        primary = next((e for e in emails if e.get("primary")), emails[0] if emails else {})
        return cls(
            user_id=int(data["user_id"]),
            first_name=text_field(data, "first_name"),
            last_name=text_field(data, "last_name"),
            email=str(primary.get("email", "")),
        )


@dataclass(frozen=True, slots=True)
class Business:
    business_id: int
    name: str
    program_name: str
    brand_color: str | None
    brand_secondary_color: str | None
    logo_url: str | None
    fine_print: str
    perkville_url: str
    app_connection_message: str
    homepage_url: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Business:
        name = text_field(data, "name")
        return cls(
            business_id=int(data["business_id"]),
            name=name,
            program_name=text_field(data, "rewards_program_name") or name,
            brand_color=data.get("brand_color") or None,
            brand_secondary_color=data.get("brand_secondary_color") or None,
            logo_url=data.get("logo_url") or None,
            fine_print=text_field(data, "fine_print"),
            perkville_url=web_link(data.get("perkville_url")) or "",
            app_connection_message=text_field(data, "app_connection_message"),
            homepage_url=web_link(data.get("homepage_url")) or "",
        )


@dataclass(frozen=True, slots=True)
class Level:
    level_id: int
    name: str
    point_floor: int
    badge_url: str | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Level:
        return cls(
            level_id=int(data["level_id"]),
            name=text_field(data, "name"),
            point_floor=int(data.get("point_floor") or 0),
            badge_url=data.get("badge_url") or None,
        )


@dataclass(frozen=True, slots=True)
class Connection:
    connection_id: int
    business_id: int | None
    status: str
    point_balance: int
    lifetime_earned_points: int
    level_id: int | None
    home_location_id: int | None
    last_visited_location_id: int | None
    referral_offer_url: str

    @property
    def joined(self) -> bool:
        # PENDING, IMPORTED and INACTIVE members have not accepted the program (reference,
        # Connection: `status`).
        return self.status == "ACTIVE"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Connection:
        return cls(
            connection_id=int(data["connection_id"]),
            business_id=id_from_uri(data.get("business")),
            status=text_field(data, "status") or "UNKNOWN",
            point_balance=int(data.get("point_balance") or 0),
            lifetime_earned_points=int(data.get("lifetime_earned_points") or 0),
            level_id=id_from_uri(data.get("level")),
            home_location_id=id_from_uri(data.get("home_location")),
            last_visited_location_id=id_from_uri(data.get("last_visited_location")),
            referral_offer_url=web_link(data.get("referral_offer_url")) or "",
        )
