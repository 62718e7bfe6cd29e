"""Small typed views of Perkville's resources: only what the pages use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import PerkvilleMalformed

_ID_IN_URI = re.compile(r"/(\d+)/?$")
# A key the app puts in its own URLs (a voucher's id: "string" in the reference's Fields).
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_KEY_IN_URI = re.compile(r"/([A-Za-z0-9_-]{1,64})/?$")


def id_from_uri(value: object) -> int | None:
    """`"/v2/levels/22/"` → 22; resources refer to each other by URI."""
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _ID_IN_URI.search(value)
        if match:
            return int(match.group(1))
    return None


def key_from_uri(value: object) -> str | None:
    """`"/v2/vouchers/552044/"` → "552044": a record's key, digits or not (a voucher's id is
    typed "string"), or an integer as text; anything else (a key with other characters) → None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        match = _KEY_IN_URI.search(value)
        if match:
            return match.group(1)
    return None


def key_field(value: object) -> str:
    """A record's own key (a voucher's `voucher_id`), as text the app's URLs can carry; "" when
    it is missing or has other characters."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and _KEY.match(value) else ""


def whole(value: object, default: int = 0) -> int:
    """A number field as an int: missing, null or not a number → `default`."""
    if isinstance(value, bool):
        return default
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return default


def required_id(data: dict[str, Any], key: str, default: int | None = None) -> int:
    """A record's id the app cannot do without: missing or not a number is an answer the app
    can't read (PerkvilleMalformed: "We couldn't load this page"), never a crash."""
    value = whole(data.get(key), -1)
    if value >= 0:
        return value
    if default is not None:
        return default
    raise PerkvilleMalformed(f"Perkville sent a record without its {key}")


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
        found = data.get("emails")
        emails = [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []
        primary = next((e for e in emails if e.get("primary")), emails[0] if emails else {})
        return cls(
            user_id=required_id(data, "user_id"),
            first_name=text_field(data, "first_name"),
            last_name=text_field(data, "last_name"),
            email=text_field(primary, "email"),
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
    def from_api(cls, data: dict[str, Any], business_id: int | None = None) -> Business:
        """`business_id`: the id it was asked by, standing in for a missing `business_id`."""
        name = text_field(data, "name")
        return cls(
            business_id=required_id(data, "business_id", business_id),
            name=name,
            program_name=text_field(data, "rewards_program_name") or name,
            brand_color=text_field(data, "brand_color") or None,
            brand_secondary_color=text_field(data, "brand_secondary_color") or None,
            logo_url=text_field(data, "logo_url") or None,
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
            level_id=required_id(data, "level_id"),
            name=text_field(data, "name"),
            point_floor=whole(data.get("point_floor")),
            badge_url=text_field(data, "badge_url") or None,
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
            connection_id=required_id(data, "connection_id"),
            business_id=id_from_uri(data.get("business")),
            status=text_field(data, "status") or "UNKNOWN",
            point_balance=whole(data.get("point_balance")),
            lifetime_earned_points=whole(data.get("lifetime_earned_points")),
            level_id=id_from_uri(data.get("level")),
            home_location_id=id_from_uri(data.get("home_location")),
            last_visited_location_id=id_from_uri(data.get("last_visited_location")),
            referral_offer_url=web_link(data.get("referral_offer_url")) or "",
        )
