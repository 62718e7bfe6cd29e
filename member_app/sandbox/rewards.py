"""The rewards side of the sandbox: perks and their categories, transactions (point history and
redemptions), vouchers and user vouchers, and the routes of the two Rewards Program Rules views
and the perks' pictures (both in `rewards_rules.py`). Seed data: `rewards_seed.py`.

Reference sections: Perk, Perk Category, Transaction, Voucher, User Voucher, Earning Rules,
Redeeming Rules. Choices where it is silent are listed in the sandbox README.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import AUTHORIZATION_ERROR, ApiError, invalid_request
from .resources import (
    ALL_METHODS,
    Context,
    Field,
    Filter,
    Resource,
    ScopeRule,
    iso,
    read_json,
    resource_routes,
    uri,
)
from .rewards_rules import (
    LIVE_VOUCHER_STATUSES,
    display_key,
    earning,
    perk_picture,
    picture_url,
    redeeming,
    refusal,
    voucher_status,
)
from .rewards_seed import seed_rewards
from .store import AccessToken, Perk, PerkCategory, Store, Transaction, Voucher

__all__ = ["routes", "seed_rewards"]

CUSTOMER_INFO = ScopeRule(any_of=("ADMIN_CUSTOMER_INFO", "USER_CUSTOMER_INFO"))
# Reference, Transaction POST: PUBLIC, one of the three "do" scopes, one of the two "info" scopes.
POST_DO = ScopeRule(any_of=("ADMIN_CUSTOMER_GRANT_POINTS", "ADMIN_CUSTOMER_REDEEM", "USER_REDEEM"))
POST_INFO = ScopeRule(all_of=(), any_of=("ADMIN_CUSTOMER_INFO", "USER_CUSTOMER_INFO"))
# Parameters the reference documents for POST /v2/transactions/. Those that only matter to
# admin grants or new users are accepted and ignored; anything else is refused (a typo such as
# "trans_source" must not silently lose the duplicate protection).
# fmt: off
POST_PARAMS = frozenset((
    "business", "location", "external_location_id", "perk", "quantity", "trans_source_id",
    "transaction_dt", "user", "user_email", "first_name", "last_name", "birthday",
    "external_member_id", "external_system_id", "send_email", "can_receive_emails",
    "voucher_start_as_used", "voucher_start_as_unused", "limit_to_once_per_calendar_day",
))
# fmt: on
TXN_DT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def _date(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def _admin_of(token: AccessToken, store: Store, business_id: int) -> bool:
    return business_id in store.staff_businesses(token.user_id, roles=("ADMIN",))


# --- serializers ---------------------------------------------------------------------------------


def serialize_perk(perk: Perk, ctx: Context) -> dict[str, Any]:
    limited = perk.redemption_limit_interval != "NO_REDEMPTION_LIMIT"
    data: dict[str, Any] = {
        "admin_flagged_as_invisible_to_customers": perk.admin_flagged_as_invisible_to_customers,
        "business": uri("businesses", perk.business_id),
        "category": uri("perk-categories", perk.category_id),
        "classification": perk.classification,
        "completes_referral": perk.completes_referral,
        "description": perk.description,
        "eligible_at_all_locations": perk.location_ids is None,
        "end_date": _date(perk.end_date),
        "external_coupon_code": perk.external_coupon_code,
        "external_reward_url": perk.external_reward_url,
        "fine_print": perk.fine_print,
        "initial_voucher_status": perk.initial_voucher_status,
        "must_redeem_at_home_location": perk.must_redeem_at_home_location,
        "perk_id": perk.perk_id,
        "picture_card": picture_url(perk, ctx.base_url),
        "points": perk.points,
        "redemption_instructions": perk.redemption_instructions,
        "redemption_limit_count": perk.redemption_limit_count if limited else None,
        "redemption_limit_interval": perk.redemption_limit_interval if limited else None,
        "redemption_limit_interval_count": perk.redemption_limit_interval_count
        if limited
        else None,
        "required_level": uri("levels", perk.required_level_id),
        "resource_uri": uri("perks", perk.perk_id),
        "start_date": _date(perk.start_date),
        "status": perk.status,
        "title": perk.title,
        "type": perk.type,
        "valid_customer_attributes": [],
    }
    if perk.location_ids is not None:  # "won't be included" when eligible at all locations
        data["eligible_locations"] = [uri("locations", k) for k in perk.location_ids]
    return data


def serialize_category(cat: PerkCategory, ctx: Context) -> dict[str, Any]:
    perks = sorted(
        (p for p in ctx.store.perks.values() if p.category_id == cat.category_id),
        key=lambda p: display_key(p, ctx.store),
    )
    return {
        "business": uri("businesses", cat.business_id),
        "category_id": cat.category_id,
        "category_name": cat.category_name,
        "created_dt": iso(cat.created_dt),
        "display_order": cat.display_order,
        "last_mod_dt": iso(cat.last_mod_dt),
        "perks": [uri("perks", p.perk_id) for p in perks],
        "resource_uri": uri("perk-categories", cat.category_id),
    }


def serialize_transaction(txn: Transaction, ctx: Context) -> dict[str, Any]:
    data: dict[str, Any] = {
        "business": uri("businesses", txn.business_id),
        "classification": txn.classification,
        "location": uri("locations", txn.location_id),
        "perk": uri("perks", txn.perk_id),
        "points": txn.points,
        "quantity": txn.quantity,
        "resource_uri": uri("transactions", txn.transaction_id),
        "title": txn.title,
        "trans_source_id": txn.trans_source_id,
        "transaction_dt": iso(txn.transaction_dt),
        "transaction_id": txn.transaction_id,
        "transaction_reference": uri("transactions", txn.transaction_reference_id),
        "transaction_status": txn.transaction_status,
        "user": uri("users", txn.user_id),
    }
    if txn.voucher_id is not None:  # "will only appear if the transaction actually has a voucher"
        data["voucher"] = uri("vouchers", txn.voucher_id)
    return data


def serialize_voucher(voucher: Voucher, ctx: Context) -> dict[str, Any]:
    return {
        "business": uri("businesses", voucher.business_id),
        "created_datetime": iso(voucher.created_datetime),
        "expiration_date": _date(voucher.expiration_date),
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
        "expiration_date": _date(voucher.expiration_date),
        "external_coupon_code": voucher.external_coupon_code,
        "location": uri("locations", voucher.location_id),
        "network_reward_url": voucher.network_reward_url,
        "perk": uri("perks", voucher.perk_id),
        "perk_description": perk.description if perk else "",
        "perk_fine_print": perk.fine_print if perk else "",
        "picture_card": picture_url(perk, ctx.base_url) if perk else None,
        "point_cost": voucher.point_cost,
        "promotion_fine_print": voucher.promotion_fine_print,
        "reward_url": voucher.reward_url,
        "status": voucher_status(voucher, ctx.store),
        "title": voucher.title,
        "user": uri("users", voucher.user_id),
        "voucher_id": voucher.voucher_id,
    }


# --- visibility, required filters, order ---------------------------------------------------------


def transaction_visible(txn: Transaction, token: AccessToken, store: Store) -> bool:
    """Reference, Transaction: your own with USER_CUSTOMER_INFO; with ADMIN_CUSTOMER_INFO,
    those of businesses where you are an administrator."""
    if "USER_CUSTOMER_INFO" in token.scopes and txn.user_id == token.user_id:
        return True
    return "ADMIN_CUSTOMER_INFO" in token.scopes and _admin_of(token, store, txn.business_id)


def transaction_filters(filters: Sequence[Filter], token: AccessToken) -> None:
    """Reference, Transaction (NOTE): an ADMIN_CUSTOMER_INFO list needs a user filter; with
    USER_CUSTOMER_INFO the list is already the member's own."""
    if "USER_CUSTOMER_INFO" in token.scopes:
        return
    if not any(f.field in {"user", "user__emails__email"} for f in filters):
        raise invalid_request(
            "required", "Transactions must be filtered by user or user__emails__email."
        )


def newest_first(rows: list[Any], store: Store) -> list[Any]:
    return sorted(rows, key=lambda t: (t.transaction_dt, t.transaction_id), reverse=True)


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


def category_filters(filters: Sequence[Filter]) -> None:
    """Reference, Perk Category, Required Filters: a business filter, and never business__in."""
    if any(f.field == "business" and f.op == "in" for f in filters):
        raise invalid_request(
            "invalid_filter", "An IN query on business is not allowed here.", "business__in"
        )
    if not any(f.field == "business" for f in filters):
        raise invalid_request("required", "Perk categories must be filtered by business.")


# --- POST /v2/transactions/: a member redeems ----------------------------------------------------


def _uri_id(body: dict[str, Any], name: str, collection: str) -> int | None:
    raw = body.get(name)
    if raw is None:
        return None
    match = re.fullmatch(rf"/v2/{collection}/(\d+)/", raw) if isinstance(raw, str) else None
    if match is None:
        raise invalid_request(
            "invalid", f"{name} must be a URI such as /v2/{collection}/123/.", name
        )
    return int(match.group(1))


def _quantity(body: dict[str, Any]) -> int:
    raw = body.get("quantity")
    if raw is None:
        raise invalid_request("required", "quantity is required.", "quantity")
    if (
        isinstance(raw, bool)
        or not isinstance(raw, int | str)
        or not re.fullmatch(r"-?\d+", str(raw).strip())
    ):
        raise invalid_request("invalid", "quantity must be a whole number.", "quantity")
    value = int(raw)
    if value < 1:
        raise invalid_request("invalid", "A redemption's quantity must be at least 1.", "quantity")
    return value


def _transaction_dt(body: dict[str, Any], now: datetime) -> datetime:
    raw = body.get("transaction_dt")
    if raw is None:
        return now
    for fmt in TXN_DT_FORMATS:
        try:
            value = datetime.strptime(str(raw), fmt).replace(tzinfo=UTC)
            break
        except ValueError:
            continue
    else:
        raise invalid_request(
            "invalid", "transaction_dt must be 'YYYY-MM-DD[ HH:MM[:SS]]' in UTC.", "transaction_dt"
        )
    if value > now or value < now - timedelta(days=365):
        raise invalid_request(
            "invalid",
            "transaction_dt may not be in the future or more than 1 year in the past.",
            "transaction_dt",
        )
    return value


def _location(body: dict[str, Any], store: Store, business_id: int) -> int:
    loc_id = _uri_id(body, "location", "locations")
    external = body.get("external_location_id")
    if (loc_id is None) == (external is None):
        raise invalid_request(
            "required", "Send either location or external_location_id (not both).", "location"
        )
    if loc_id is None:
        wanted = str(external).strip().lower()
        found = [
            k
            for k, loc in store.locations.items()
            if loc.business_id == business_id and loc.external_location_id.lower() == wanted
        ]
        if not found:
            raise invalid_request(
                "invalid", "No location of this business has that id.", "external_location_id"
            )
        return found[0]
    loc = store.locations.get(loc_id)
    if loc is None or loc.business_id != business_id:
        raise invalid_request("invalid", "That location is not at this business.", "location")
    return loc_id


def _forbidden(message: str) -> ApiError:
    return ApiError(403, AUTHORIZATION_ERROR, "insufficient_scope", message)


def _check_user(body: dict[str, Any], token: AccessToken, store: Store) -> None:
    """With USER_REDEEM a member redeems "for only the user associated with the bearer token"."""
    if body.get("user") is not None and body.get("user_email") is not None:
        raise invalid_request("invalid", "Send user or user_email, not both.", "user")
    user_id = _uri_id(body, "user", "users")
    if user_id is not None and user_id != token.user_id:
        raise _forbidden("With USER_REDEEM you may only redeem for yourself.")
    email = body.get("user_email")
    me = store.users.get(token.user_id)
    if email is not None and (me is None or str(email).strip().lower() != me.email.lower()):
        raise _forbidden("With USER_REDEEM you may only redeem for yourself.")


def _duplicate(txn: Transaction, token: AccessToken, store: Store) -> ApiError:
    where = (
        f" ({uri('transactions', txn.transaction_id)})"
        if transaction_visible(txn, token, store)
        else ""
    )
    return invalid_request(
        "pv_txn_duplicate_trans_source_id",
        f"A transaction with this trans_source_id already exists at this business{where}; "
        "nothing was spent. Find it with GET /v2/transactions/?trans_source_id=….",
        "trans_source_id",
    )


async def create_transaction(request: Request, ctx: Context) -> Response:
    """POST /v2/transactions/: the member spends points on a REDEEM perk and gets a voucher."""
    store, token = ctx.store, ctx.token
    ScopeRule().check(token)
    POST_DO.check(token)
    POST_INFO.check(token)
    if "USER_REDEEM" not in token.scopes:
        raise ApiError(
            501,
            "invalid_request_error",
            "method_not_implemented",
            "The sandbox creates only member redemptions (USER_REDEEM); admin transactions "
            "are not implemented.",
        )
    body = await read_json(request)
    for key in body:
        if key not in POST_PARAMS:
            raise invalid_request("invalid_field", f"{key!r} is not a transaction parameter.", key)
    business_id = _uri_id(body, "business", "businesses")
    if business_id is None or business_id not in store.businesses:
        raise invalid_request("required", "business must name a business.", "business")
    location_id = _location(body, store, business_id)
    perk_id = _uri_id(body, "perk", "perks")
    perk = store.perks.get(perk_id) if perk_id is not None else None
    if perk is None or perk.business_id != business_id:
        raise invalid_request("invalid", "perk must name a perk of this business.", "perk")
    quantity = _quantity(body)
    source = body.get("trans_source_id") or ""
    if not isinstance(source, str) or len(source) > 128:
        raise invalid_request(
            "invalid", "trans_source_id must be text of at most 128 characters.", "trans_source_id"
        )
    start_as_used = body.get("voucher_start_as_used", False)
    if not isinstance(start_as_used, bool):
        raise invalid_request("invalid", "Must be true or false.", "voucher_start_as_used")
    _check_user(body, token, store)
    if perk.classification != "REDEEM":
        raise _forbidden("USER_REDEEM creates REDEEM transactions only.")
    now = store.now()
    when = _transaction_dt(body, now)
    # trans_source_id is unique per business: a repeat never spends again.
    if source:
        for txn in store.transactions.values():
            if txn.business_id == business_id and txn.trans_source_id == source:
                raise _duplicate(txn, token, store)
    problem = refusal(store, token.user_id, perk, location_id, quantity)
    if problem is not None:
        raise problem
    conn = next(
        c
        for c in store.connections.values()
        if c.user_id == token.user_id and c.business_id == business_id
    )
    cost = perk.points * quantity
    conn.point_balance -= cost
    conn.last_transaction_dt = max(conn.last_transaction_dt or when, when)
    txn_id = max(store.transactions, default=0) + 1
    voucher_id = max(store.vouchers, default=0) + 1
    days = perk.voucher_expiration_days
    store.vouchers[voucher_id] = Voucher(
        voucher_id,
        business_id,
        token.user_id,
        perk.perk_id,
        txn_id,
        location_id,
        perk.title,
        cost,
        "USED" if start_as_used else perk.initial_voucher_status,
        when,
        expiration_date=when.date() + timedelta(days=days) if days else None,
        details=perk.redemption_instructions,
        external_coupon_code=perk.external_coupon_code,
        reward_url=perk.external_reward_url if perk.type == "EXTERNAL_REWARD" else None,
    )
    txn = Transaction(
        txn_id,
        business_id,
        token.user_id,
        perk.perk_id,
        location_id,
        perk.title,
        "REDEEM",
        perk.points,
        quantity,
        when,
        trans_source_id=source,
        voucher_id=voucher_id,
    )
    store.transactions[txn_id] = txn
    return JSONResponse(serialize_transaction(txn, ctx), status_code=201)


# --- PATCH /v2/user-vouchers/{id}/: the member marks a voucher used ------------------------------


async def mark_used(request: Request, ctx: Context, voucher: Voucher) -> Response:
    """Reference, User Voucher: USER_CUSTOMER_INFO may PATCH a voucher's status to USED."""
    ScopeRule(all_of=("USER_CUSTOMER_INFO",)).check(ctx.token)
    body = await read_json(request)
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
    return JSONResponse(serialize_user_voucher(voucher, ctx), status_code=202)


# --- resources -----------------------------------------------------------------------------------


def _perk_of(store: Store, perk_id: int) -> Perk | None:
    return store.perks.get(perk_id)


def _email_of(store: Store, user_id: int) -> str | None:
    user = store.users.get(user_id)
    return user.email if user else None


PERKS = Resource(
    "perks",
    "perks",
    lambda s: s.perks,
    serialize_perk,
    fields={
        "perk_id": Field(lambda p, s: p.perk_id),
        "business": Field(lambda p, s: p.business_id),
        "classification": Field(lambda p, s: p.classification, "str"),
        "type": Field(lambda p, s: p.type, "str"),
        "status": Field(lambda p, s: p.status, "str"),
        "points": Field(lambda p, s: p.points),
        "category": Field(lambda p, s: p.category_id),
        "required_level": Field(lambda p, s: p.required_level_id),
        "admin_flagged_as_invisible_to_customers": Field(
            lambda p, s: p.admin_flagged_as_invisible_to_customers, "bool"
        ),
    },
)
PERK_CATEGORIES = Resource(
    "perk-categories",
    "perk categories",
    lambda s: s.perk_categories,
    serialize_category,
    fields={
        "category_id": Field(lambda c, s: c.category_id),
        "business": Field(lambda c, s: c.business_id),
    },
    check_filters=category_filters,
)
_business = Field(lambda t, s: t.business_id)
TRANSACTIONS = Resource(
    "transactions",
    "transactions",
    lambda s: s.transactions,
    serialize_transaction,
    CUSTOMER_INFO,
    {
        "transaction_id": Field(lambda t, s: t.transaction_id),
        "business": _business,
        "biz": _business,  # the reference's Filtering examples write ?biz=889
        "location": Field(lambda t, s: t.location_id),
        "perk": Field(lambda t, s: t.perk_id),
        "perk__classification": Field(
            lambda t, s: p.classification if (p := _perk_of(s, t.perk_id)) else None, "str"
        ),
        "perk__type": Field(lambda t, s: p.type if (p := _perk_of(s, t.perk_id)) else None, "str"),
        "classification": Field(lambda t, s: t.classification, "str"),
        "user": Field(lambda t, s: t.user_id, "user"),
        "user__emails__email": Field(lambda t, s: _email_of(s, t.user_id), "str"),
        "transaction_dt": Field(lambda t, s: t.transaction_dt, "datetime"),
        "transaction_status": Field(lambda t, s: t.transaction_status, "str"),
        "trans_source_id": Field(lambda t, s: t.trans_source_id or None, "str"),
        "voucher": Field(lambda t, s: t.voucher_id),
        "points": Field(lambda t, s: t.points),
    },
    visible=transaction_visible,
    create=create_transaction,
    order=newest_first,
    check_token_filters=transaction_filters,
)
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
        "user__emails__email": Field(lambda v, s: _email_of(s, v.user_id), "str"),
        "perk": Field(lambda v, s: v.perk_id),
        "location": Field(lambda v, s: v.location_id),
        "transaction": Field(lambda v, s: v.transaction_id),
        "created_datetime": Field(lambda v, s: v.created_datetime, "datetime"),
    },
    visible=voucher_visible,
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


RESOURCES = [PERKS, PERK_CATEGORIES, TRANSACTIONS, VOUCHERS, USER_VOUCHERS]

routes = [
    *resource_routes(RESOURCES),
    Route("/v2/earning/", earning, methods=ALL_METHODS),
    Route("/v2/redeeming/", redeeming, methods=ALL_METHODS),
    Route("/media/perks/{perk_id:int}.svg", perk_picture),
]
