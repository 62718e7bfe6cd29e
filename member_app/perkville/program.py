"""Typed views of the rewards-program resources: earning and redeeming rules, vouchers,
transactions and locations (API reference: Earning Rules, Redeeming Rules, User Voucher,
Transaction, Location)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from .models import id_from_uri, key_field, key_from_uri, web_link
from .models import text_field as _text


def _int(value: object, default: int = 0) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return default


def _date(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def api_datetime(value: object) -> datetime | None:
    """An aware datetime, or None. The reference writes every datetime in ISO 8601 with an
    explicit UTC offset ("2016-04-06T23:22:58+00:00", some with microseconds) and describes
    them as "in UTC"; a `Z` is read as +00:00 and a value without an offset as UTC, never as
    the server's local time. Pages turn them into the program's time zone
    (`MEMBER_APP_TIMEZONE`) only to show them."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _multiplier(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0


@dataclass(frozen=True, slots=True)
class Location:
    location_id: int
    name: str
    city: str
    # The front desk's address (reference, Location: address_1, address_2, state, postal_code).
    address_1: str = ""
    address_2: str = ""
    state: str = ""
    postal_code: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Location:
        return cls(
            _int(data.get("location_id")),
            _text(data, "name"),
            _text(data, "city"),
            address_1=_text(data, "address_1"),
            address_2=_text(data, "address_2"),
            state=_text(data, "state"),
            postal_code=_text(data, "postal_code"),
        )


@dataclass(frozen=True, slots=True)
class TimeBonus:
    multiplier: float
    periods: tuple[tuple[str, tuple[str, ...]], ...]  # (weekday, ("3 pm to 4 pm", ...))


@dataclass(frozen=True, slots=True)
class DateRangeBonus:
    multiplier: float
    from_date: date | None
    to_date: date | None


@dataclass(frozen=True, slots=True)
class FrequencyBonus:
    required: int
    frequency: str  # WEEKLY, MONTHLY or FROM_DATE
    bonus_points: int
    earned_count: int  # only ever non-zero in a view as the member (USER_CUSTOMER_INFO)
    start_date: date | None
    # The Frequency Bonus Perk (one bonus, listed under each rule it counts) and the perk that
    # pays it, whose eligible locations are where the bonus applies.
    bonus_id: int | None = None
    perk_id: int | None = None


@dataclass(frozen=True, slots=True)
class EarningRule:
    perk_id: int
    title: str
    description: str
    points: int
    type: str
    category: str | None
    category_order: int | None
    time_bonuses: tuple[TimeBonus, ...]
    date_range_bonuses: tuple[DateRangeBonus, ...]
    frequency_bonuses: tuple[FrequencyBonus, ...]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> EarningRule:
        category = data.get("category") if isinstance(data.get("category"), dict) else None
        return cls(
            perk_id=_int(data.get("perk_id")),
            # display_name is what members see (it differs for REFERRAL and REGISTRATION).
            title=_text(data, "display_name") or _text(data, "title"),
            description=_text(data, "description"),
            points=_int(data.get("points")),
            type=_text(data, "type") or "STANDARD",
            category=str(category.get("category_name") or "") or None if category else None,
            category_order=_int(category.get("display_order"), 0) if category else None,
            time_bonuses=tuple(
                TimeBonus(
                    _multiplier(b.get("multiplier")),
                    tuple(
                        (str(day), tuple(str(p) for p in periods))
                        for day, periods in _mapping(b.get("time_periods")).items()
                        if isinstance(periods, list)
                    ),
                )
                for b in data.get("time_bonuses") or []
                if isinstance(b, dict)
            ),
            date_range_bonuses=tuple(
                DateRangeBonus(
                    _multiplier(b.get("multiplier")),
                    _date(b.get("from_date")),
                    _date(b.get("to_date")),
                )
                for b in data.get("date_range_bonuses") or []
                if isinstance(b, dict)
            ),
            frequency_bonuses=tuple(
                FrequencyBonus(
                    _int(b.get("required_to_earn")),
                    _text(b, "frequency"),
                    _int(b.get("bonus_points")),
                    _int(b.get("earned_count")),
                    _date(b.get("start_date")),
                    bonus_id=_int(b.get("frequency_bonus_perk_id"), 0) or None,
                    perk_id=_int(b.get("perk_id"), 0) or None,
                )
                for b in data.get("frequency_bonuses") or []
                if isinstance(b, dict)
            ),
        )


@dataclass(frozen=True, slots=True)
class Reward:
    perk_id: int
    title: str
    description: str
    points: int
    type: str
    picture_url: str | None
    fine_print: str
    instructions: str
    must_redeem_at_home_location: bool
    required_level_id: int | None
    has_met_limit: bool
    redemptions_remaining: int | None
    next_redemption: date | None
    limit_interval: str
    start_date: date | None
    end_date: date | None
    external_reward_url: str | None
    can_redeem: bool | None  # newer field; None when Perkville does not send it
    loc_id: int | None
    # The limit itself (reference, Redeeming Rules): `limit_count` times in `limit_span`
    # intervals; what the member has left is in the user fields above, which only a view as
    # the member carries.
    limit_count: int | None = None
    limit_span: int | None = None
    # valid_customer_attributes: the member must hold one of these values (their names).
    customer_attributes: tuple[str, ...] = ()

    @property
    def is_external(self) -> bool:
        return self.type == "EXTERNAL_REWARD"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Reward:
        limits = data.get("user_redemption_limit_info")
        limits = limits if isinstance(limits, dict) else {}
        can_redeem = data.get("can_redeem")
        remaining = limits.get("redemptions_remaining")
        attributes = data.get("valid_customer_attributes")
        return cls(
            perk_id=_int(data.get("perk_id")),
            title=_text(data, "title"),
            description=_text(data, "description"),
            points=_int(data.get("points")),
            type=_text(data, "type") or "STANDARD",
            picture_url=_text(data, "picture_card") or None,
            fine_print=_text(data, "fine_print"),
            instructions=_text(data, "redemption_instructions"),
            must_redeem_at_home_location=bool(data.get("must_redeem_at_home_location")),
            required_level_id=id_from_uri(data.get("required_level")),
            has_met_limit=bool(limits.get("has_met_limit")),
            redemptions_remaining=_int(remaining) if remaining is not None else None,
            next_redemption=_date(limits.get("next_redemption_opportunity")),
            limit_interval=_text(data, "redemption_limit_interval") or "NO_REDEMPTION_LIMIT",
            # The reference's field list says start_date/end_date, its example from/to_date.
            start_date=_date(data.get("start_date") or data.get("from_date")),
            end_date=_date(data.get("end_date") or data.get("to_date")),
            external_reward_url=web_link(data.get("external_reward_url")),
            can_redeem=can_redeem if isinstance(can_redeem, bool) else None,
            loc_id=_int(data.get("loc_id"), 0) or None,
            limit_count=_int(data.get("redemption_limit_count"), 0) or None,
            limit_span=_int(data.get("redemption_limit_interval_count"), 0) or None,
            customer_attributes=tuple(
                _text(a, "custom_attribute_value_display_name") if isinstance(a, dict) else ""
                for a in (attributes if isinstance(attributes, list) else [])
            ),
        )


@dataclass(frozen=True, slots=True)
class Voucher:
    voucher_id: str
    title: str
    details: str
    status: str
    created: datetime | None
    expiration_date: date | None
    point_cost: int
    location_id: int | None
    perk_id: int | None
    external_coupon_code: str | None
    reward_url: str | None
    perk_description: str
    perk_fine_print: str
    promotion_fine_print: str

    @property
    def code(self) -> str:
        """What the member shows: the business's coupon code when there is one
        (reference, User Voucher: display it instead of the voucher code)."""
        return self.external_coupon_code or self.voucher_id

    @property
    def can_mark_used(self) -> bool:
        return self.status == "UNUSED"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Voucher:
        return cls(
            # Typed "string" in the reference (the "Voucher Code"), integers in its examples:
            # either, as text; "" when it can't be put in the app's URLs.
            voucher_id=key_field(data.get("voucher_id")),
            title=_text(data, "title"),
            details=_text(data, "details"),
            status=_text(data, "status") or "UNKNOWN",
            created=api_datetime(data.get("created_datetime")),
            expiration_date=_date(data.get("expiration_date")),
            point_cost=_int(data.get("point_cost")),
            location_id=id_from_uri(data.get("location")),
            perk_id=id_from_uri(data.get("perk")),
            external_coupon_code=_text(data, "external_coupon_code") or None,
            reward_url=web_link(data.get("reward_url")) or web_link(data.get("network_reward_url")),
            perk_description=_text(data, "perk_description"),
            perk_fine_print=_text(data, "perk_fine_print"),
            promotion_fine_print=_text(data, "promotion_fine_print"),
        )


@dataclass(frozen=True, slots=True)
class Transaction:
    transaction_id: int
    title: str
    points: int
    quantity: int
    classification: str
    status: str
    when: datetime | None
    location_id: int | None
    voucher_id: str | None
    trans_source_id: str
    perk_id: int | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Transaction:
        return cls(
            transaction_id=_int(data.get("transaction_id")),
            title=_text(data, "title"),
            points=_int(data.get("points")),
            quantity=_int(data.get("quantity"), 1),
            classification=_text(data, "classification"),
            status=_text(data, "transaction_status") or "ACTIVE",
            when=api_datetime(data.get("transaction_dt")),
            location_id=id_from_uri(data.get("location")),
            voucher_id=key_from_uri(data.get("voucher")),
            trans_source_id=_text(data, "trans_source_id"),
            perk_id=id_from_uri(data.get("perk")),
        )


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: the items, and whether more come after them (known by asking for
    one more than shown: the reference's lists carry no count)."""

    offset: int
    limit: int
    items: tuple[Any, ...]
    has_more: bool

    @property
    def next_offset(self) -> int:
        """Where the next page starts."""
        return self.offset + len(self.items)
