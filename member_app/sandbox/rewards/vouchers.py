"""Vouchers (reference: Voucher, User Voucher): what a redemption gives the member, as staff
see it (`/v2/vouchers/`) and as the member sees it (`/v2/user-vouchers/`, which the member may
PATCH to mark a voucher used, 202; staff PATCH `/v2/vouchers/{id}/` the same way, 202)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from starlette.requests import Request

from .. import bodies
from ..errors import invalid_request
from ..media import perk_picture_url
from ..records import Voucher
from ..resources import (
    Context,
    Field,
    Filter,
    Resource,
    ScopeRule,
    Written,
    iso,
    iso_date,
    resource_routes,
    uri,
)
from ..store import AccessToken, Store
from .transactions import location_of

# Vouchers a member can still use (or is waiting on) come first in the user-voucher list.
LIVE_VOUCHER_STATUSES = ("UNUSED", "ISSUED", "PROCESSING")


def voucher_status(voucher: Voucher, store: Store) -> str:
    """An UNUSED voucher past its expiration date reads as EXPIRED."""
    expired = voucher.expiration_date is not None and voucher.expiration_date < store.today()
    return "EXPIRED" if voucher.status == "UNUSED" and expired else voucher.status


def serialize_voucher(voucher: Voucher, ctx: Context) -> dict[str, Any]:
    return {
        "business": uri("businesses", voucher.business_id),
        "created_datetime": iso(voucher.created_datetime),
        "expiration_date": iso_date(voucher.expiration_date),
        "external_coupon_code": voucher.external_coupon_code,
        "location": uri("locations", voucher.location_id),
        "marketplace_business": None,
        "network_reward_url": voucher.network_reward_url,
        "perk": uri("perks", voucher.perk_id),
        "point_cost": voucher.point_cost,
        "resource_uri": uri("vouchers", voucher.voucher_id),
        "status": voucher_status(voucher, ctx.store),
        "transaction": uri("transactions", voucher.transaction_id),
        "user": uri("users", voucher.user_id),
        "voucher_id": voucher.voucher_id,
    }


def serialize_user_voucher(voucher: Voucher, ctx: Context) -> dict[str, Any]:
    perk = ctx.store.perks.get(voucher.perk_id)
    return {
        "business": uri("businesses", voucher.business_id),
        "created_datetime": iso(voucher.created_datetime),
        "details": voucher.details,
        "expiration_date": iso_date(voucher.expiration_date),
        "external_coupon_code": voucher.external_coupon_code,
        "location": uri("locations", voucher.location_id),
        "network_reward_url": voucher.network_reward_url,
        "perk": uri("perks", voucher.perk_id),
        "perk_description": perk.description if perk else "",
        "perk_fine_print": perk.fine_print if perk else "",
        "picture_card": perk_picture_url(perk, ctx.base_url) if perk else None,
        "point_cost": voucher.point_cost,
        "promotion_fine_print": voucher.promotion_fine_print,
        "reward_url": voucher.reward_url,
        "status": voucher_status(voucher, ctx.store),
        "title": voucher.title,
        "user": uri("users", voucher.user_id),
        "voucher_id": voucher.voucher_id,
    }


def voucher_visible(voucher: Voucher, token: AccessToken, store: Store) -> bool:
    """Reference, Voucher: your own with USER_CUSTOMER_INFO; with ADMIN_CUSTOMER_REDEEM, those
    of businesses where you are staff."""
    if "USER_CUSTOMER_INFO" in token.scopes and voucher.user_id == token.user_id:
        return True
    return "ADMIN_CUSTOMER_REDEEM" in token.scopes and voucher.business_id in (
        store.staff_businesses(token.user_id)
    )


def user_voucher_filters(filters: Sequence[Filter]) -> None:
    """Reference, User Voucher: business is "Required if not filtering by voucher_id"."""
    if not any(f.field in {"business", "voucher_id"} for f in filters):
        raise invalid_request("required", "User vouchers must be filtered by business.", "business")


def voucher_display_order(rows: list[Any], store: Store) -> list[Any]:
    """Vouchers the member can still use (UNUSED, ISSUED, PROCESSING) first, newest first
    within each group."""

    def key(v: Voucher) -> tuple[bool, float, int]:
        live = voucher_status(v, store) in LIVE_VOUCHER_STATUSES
        return (not live, -v.created_datetime.timestamp(), -v.voucher_id)

    return sorted(rows, key=key)


async def mark_used(request: Request, ctx: Context, voucher: Voucher) -> Written:
    """Reference, User Voucher: USER_CUSTOMER_INFO may PATCH a voucher's status to USED."""
    ScopeRule(all_of=("USER_CUSTOMER_INFO",)).check(ctx.token)
    body = await bodies.read_json(request)
    for key in body:
        if key != "status":
            raise invalid_request("invalid_field", "A member may change only the status.", key)
    if body.get("status") != "USED":
        raise invalid_request("invalid", "A member may only set the status to USED.", "status")
    current = voucher_status(voucher, ctx.store)
    if current != "UNUSED":
        raise invalid_request(
            "pv_voucher_not_unused",
            f"Only an UNUSED voucher can be marked as used; this one is {current}.",
            "status",
        )
    voucher.status = "USED"
    return 202, serialize_user_voucher(voucher, ctx)


# Reference, Voucher PATCH: "Valid values are 'USED', 'UNUSED', 'EXPIRED'".
STAFF_STATUSES = ("USED", "UNUSED", "EXPIRED")


async def staff_patch(request: Request, ctx: Context, voucher: Voucher) -> Written:
    """Reference, Voucher PATCH (PUBLIC, ADMIN_CUSTOMER_REDEEM): staff change a voucher's
    status, expiration date or location; 202 with the voucher."""
    store = ctx.store
    ScopeRule(all_of=("PUBLIC", "ADMIN_CUSTOMER_REDEEM")).check(ctx.token)
    if voucher.business_id not in store.staff_businesses(ctx.token.user_id):
        raise invalid_request("invalid", "This voucher is not at your business.", "voucher_id")
    body = await bodies.read_json(request)
    bodies.only(body, ("status", "expiration_date", "location", "external_location_id"))
    status = body.get("status")
    if status is not None and status not in STAFF_STATUSES:
        raise invalid_request("invalid", "status must be USED, UNUSED or EXPIRED.", "status")
    expires = body.get("expiration_date")
    if expires is not None:
        try:
            voucher.expiration_date = date.fromisoformat(str(expires))
        except ValueError:
            raise invalid_request(
                "invalid", "expiration_date must be YYYY-MM-DD.", "expiration_date"
            ) from None
    if body.get("location") is not None or body.get("external_location_id") is not None:
        voucher.location_id = location_of(body, store, voucher.business_id)
    if status is not None:
        voucher.status = status
    return 202, serialize_voucher(voucher, ctx)


_voucher_fields = {
    "voucher_id": Field(lambda v, s: v.voucher_id),
    "business": Field(lambda v, s: v.business_id),
    "status": Field(lambda v, s: voucher_status(v, s), "str"),
}
VOUCHERS = Resource(
    "vouchers",
    "vouchers",
    lambda s: s.vouchers,
    serialize_voucher,
    ScopeRule(any_of=("ADMIN_CUSTOMER_REDEEM", "USER_CUSTOMER_INFO")),
    {
        **_voucher_fields,
        "user": Field(lambda v, s: v.user_id, "user"),
        "user__emails__email": Field(lambda v, s: s.email_of(v.user_id), "str"),
        "perk": Field(lambda v, s: v.perk_id),
        "location": Field(lambda v, s: v.location_id),
        "transaction": Field(lambda v, s: v.transaction_id),
        "created_datetime": Field(lambda v, s: v.created_datetime, "datetime"),
    },
    visible=voucher_visible,
    update=staff_patch,
)
USER_VOUCHERS = Resource(
    "user-vouchers",
    "user vouchers",
    lambda s: s.vouchers,
    serialize_user_voucher,
    ScopeRule(all_of=("USER_CUSTOMER_INFO",)),
    _voucher_fields,
    # Ownership only (the scope is checked by GET and by the PATCH handler), so a PATCH without
    # USER_CUSTOMER_INFO on your own voucher is a 403 and someone else's voucher a 404.
    visible=lambda v, token, store: v.user_id == token.user_id,
    check_filters=user_voucher_filters,
    update=mark_used,
    order=voucher_display_order,
)

routes = resource_routes([VOUCHERS, USER_VOUCHERS])
