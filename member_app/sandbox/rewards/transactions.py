"""Transactions (reference: Transaction): the member's point history, and redeeming.

`POST /v2/transactions/` (201) is a member redeeming: it spends points on a REDEEM perk, if the
redemption rules allow it (redeeming.py), and makes a voucher. A `trans_source_id` seen before
at the business is refused as a duplicate, and nothing is spent twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request

from .. import bodies
from ..errors import AUTHORIZATION_ERROR, ApiError, invalid_request
from ..records import Perk, Transaction, Voucher
from ..resources import (
    CUSTOMER_INFO,
    Context,
    Field,
    Filter,
    Resource,
    ScopeRule,
    Written,
    customer_visible,
    iso,
    resource_routes,
    uri,
)
from ..store import AccessToken, Store
from .redeeming import refusal

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


def transaction_visible(txn: Transaction, token: AccessToken, store: Store) -> bool:
    """Reference, Transaction: your own with USER_CUSTOMER_INFO; with ADMIN_CUSTOMER_INFO,
    those of businesses where you are an administrator."""
    return customer_visible(txn.business_id, txn.user_id, token, store)


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


# --- POST /v2/transactions/: a member redeems ----------------------------------------------------


def uri_id(body: dict[str, Any], name: str, collection: str) -> int | None:
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


def transaction_dt_of(body: dict[str, Any], now: datetime) -> datetime:
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


def location_of(body: dict[str, Any], store: Store, business_id: int) -> int:
    loc_id = uri_id(body, "location", "locations")
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


def forbidden(message: str) -> ApiError:
    return ApiError(403, AUTHORIZATION_ERROR, "insufficient_scope", message)


def _check_user(body: dict[str, Any], token: AccessToken, store: Store) -> None:
    """With USER_REDEEM a member redeems "for only the user associated with the bearer token"."""
    if body.get("user") is not None and body.get("user_email") is not None:
        raise invalid_request("invalid", "Send user or user_email, not both.", "user")
    user_id = uri_id(body, "user", "users")
    if user_id is not None and user_id != token.user_id:
        raise forbidden("With USER_REDEEM you may only redeem for yourself.")
    email = body.get("user_email")
    me = store.users.get(token.user_id)
    if email is not None and (me is None or str(email).strip().lower() != me.email.lower()):
        raise forbidden("With USER_REDEEM you may only redeem for yourself.")


def duplicate_error(txn: Transaction, token: AccessToken, store: Store) -> ApiError:
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


async def create_transaction(request: Request, ctx: Context) -> Written:
    """POST /v2/transactions/ with USER_REDEEM: the member spends points on a REDEEM perk and
    gets a voucher (staff tokens: admin_transactions.py)."""
    store, token = ctx.store, ctx.token
    ScopeRule().check(token)
    POST_DO.check(token)
    POST_INFO.check(token)
    body = await bodies.read_json(request)
    for key in body:
        if key not in POST_PARAMS:
            raise invalid_request("invalid_field", f"{key!r} is not a transaction parameter.", key)
    business_id = uri_id(body, "business", "businesses")
    if business_id is None or business_id not in store.businesses:
        raise invalid_request("required", "business must name a business.", "business")
    location_id = location_of(body, store, business_id)
    perk_id = uri_id(body, "perk", "perks")
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
        raise forbidden("USER_REDEEM creates REDEEM transactions only.")
    now = store.now()
    when = transaction_dt_of(body, now)
    # trans_source_id is unique per business: a repeat never spends again.
    if source:
        for txn in store.transactions.values():
            if txn.business_id == business_id and txn.trans_source_id == source:
                raise duplicate_error(txn, token, store)
    problem = refusal(store, token.user_id, perk, location_id, quantity)
    if problem is not None:
        raise problem
    status = "USED" if start_as_used else perk.initial_voucher_status
    txn = spend(store, token.user_id, perk, location_id, quantity, when, source, status)
    return 201, serialize_transaction(txn, ctx)


def spend(
    store: Store,
    user_id: int,
    perk: Perk,
    location_id: int,
    quantity: int,
    when: datetime,
    source: str,
    voucher_status: str,
) -> Transaction:
    """Spend the member's points on a REDEEM perk (the rules already checked): the
    transaction, its voucher, the balance and the connection balance's last_mod_dt."""
    business_id = perk.business_id
    conn = next(
        c
        for c in store.connections.values()
        if c.user_id == user_id and c.business_id == business_id
    )
    cost = perk.points * quantity
    conn.point_balance -= cost
    conn.last_transaction_dt = max(conn.last_transaction_dt or when, when)
    conn.balance_mod_dt = store.now()
    txn_id = max(store.transactions, default=0) + 1
    voucher_id = max(store.vouchers, default=0) + 1
    days = perk.voucher_expiration_days
    store.vouchers[voucher_id] = Voucher(
        voucher_id,
        business_id,
        user_id,
        perk.perk_id,
        txn_id,
        location_id,
        perk.title,
        cost,
        voucher_status,
        when,
        expiration_date=store.local(when).date() + timedelta(days=days) if days else None,
        details=perk.redemption_instructions,
        external_coupon_code=perk.external_coupon_code,
        reward_url=perk.external_reward_url if perk.type == "EXTERNAL_REWARD" else None,
    )
    txn = Transaction(
        txn_id,
        business_id,
        user_id,
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
    return txn


# --- the resource --------------------------------------------------------------------------------


def _perk_of(store: Store, perk_id: int) -> Perk | None:
    return store.perks.get(perk_id)


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
        "user__emails__email": Field(lambda t, s: s.email_of(t.user_id), "str"),
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

routes = resource_routes([TRANSACTIONS])
